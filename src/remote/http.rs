//! Terraform's http backend protocol, read side: `GET address` returns the state (200), or
//! nothing yet (204/404, which driftlock refuses: a missing state is not an empty one).
//!
//! Basic auth comes from the backend block (`username`, `password`), else the URL's user
//! information, else `TF_HTTP_USERNAME` / `TF_HTTP_PASSWORD` (as terraform's backend reads
//! them). Extra headers: `DRIFTLOCK_HTTP_HEADERS`, one `Name: value` per line.

use std::time::Duration;

use super::{secrets, url};
use crate::code;
use crate::error::InputError;

/// One GET.
#[derive(Debug, Clone)]
pub struct Request {
    /// The URL as shown (no user information, query values hidden).
    pub name: String,
    /// The URL requested (user information removed).
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub headers: Vec<(String, String)>,
}

fn env(name: &str) -> Option<String> {
    super::s3::process_env(name)
}

impl Request {
    /// A request for a URL, with credentials from the URL and the environment.
    pub fn from_url(raw: &str) -> Request {
        let (url, user, pass) = split_userinfo(raw);
        Request::new(&url, user.or_else(|| env("TF_HTTP_USERNAME")), pass.or_else(|| env("TF_HTTP_PASSWORD")))
    }

    /// A request with explicit basic-auth credentials (a backend block's).
    pub fn new(url: &str, username: Option<String>, password: Option<String>) -> Request {
        let mut headers = Vec::new();
        if let Some(h) = env("DRIFTLOCK_HTTP_HEADERS") {
            for line in h.lines() {
                if let Some((k, v)) = line.split_once(':') {
                    let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                    if !k.is_empty() {
                        secrets::register(&v);
                        headers.push((k, v));
                    }
                }
            }
        }
        if let Some(p) = &password {
            secrets::register(p);
        }
        Request { name: url::display(url), url: url.to_owned(), username, password, headers }
    }
}

/// `https://user:pass@host/p` → (`https://host/p`, user, pass), percent-decoding neither.
fn split_userinfo(raw: &str) -> (String, Option<String>, Option<String>) {
    let Some((scheme, rest)) = raw.split_once("://") else { return (raw.to_owned(), None, None) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((info, host)) => {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
                None => (info.to_owned(), None),
            };
            if let Some(p) = &p {
                secrets::register(p);
            }
            (format!("{scheme}://{host}{tail}"), Some(u), p)
        }
        None => (raw.to_owned(), None, None),
    }
}

fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(120)).build()
}

/// GETs the state.
pub async fn get(req: &Request) -> Result<Vec<u8>, InputError> {
    let name = &req.name;
    let fail = |why: String, help: &str| {
        InputError::new(&code::REMOTE_UNREADABLE, name, secrets::redact(&format!("cannot read {name}: {why}")))
            .with_help(help.to_owned())
    };
    let client = client().map_err(|e| fail(e.to_string(), "the HTTP client could not start"))?;
    let mut r = client.get(&req.url);
    if let Some(u) = &req.username {
        r = r.basic_auth(u, req.password.as_ref());
    }
    for (k, v) in &req.headers {
        r = r.header(k, v);
    }
    let resp = r.send().await.map_err(|e| {
        fail(
            error_chain(&e),
            "check the address and that the server is up; a state that cannot be read is never counted as no resources",
        )
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| fail(error_chain(&e), "the transfer broke off; run again"))?;
    if status.as_u16() == 204 || status.as_u16() == 404 || (status.is_success() && body.is_empty()) {
        return Err(fail(
            format!("the http backend holds no state there (HTTP {status})"),
            "check the address (and the workspace in it); terraform writes the state on its first apply, and a missing state is never an empty one",
        ));
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_owned();
        let help = if status.as_u16() == 401 || status.as_u16() == 403 {
            "give credentials: the backend block's username and password, or TF_HTTP_USERNAME and TF_HTTP_PASSWORD (headers: DRIFTLOCK_HTTP_HEADERS)"
        } else {
            "check the address and the server"
        };
        let why = if text.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {text}") };
        return Err(fail(why, help));
    }
    Ok(body.to_vec())
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_taken_out_of_the_url() {
        let (u, user, pass) = split_userinfo("https://ci:pa55word@state.example:8443/tf/prod?lock=1");
        assert_eq!(u, "https://state.example:8443/tf/prod?lock=1");
        assert_eq!(user.as_deref(), Some("ci"));
        assert_eq!(pass.as_deref(), Some("pa55word"));
        assert_eq!(secrets::redact("x pa55word"), "x ***");
        let (u, user, _) = split_userinfo("http://h/p@x");
        assert_eq!((u.as_str(), user), ("http://h/p@x", None));
    }
}
