//! Remote input URLs: what they name, and how they are shown (never with credentials).

use crate::code;
use crate::error::InputError;

/// Schemes driftlock fetches.
const SCHEMES: &[&str] = &["s3://", "gs://", "azblob://", "http://", "https://"];

/// Whether an input argument names a remote object rather than a path.
pub fn is_remote(arg: &str) -> bool {
    SCHEMES.iter().any(|s| arg.len() >= s.len() && arg[..s.len()].eq_ignore_ascii_case(s))
}

/// A parsed remote input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// `s3://BUCKET/KEY`, `s3://BUCKET/PREFIX/`, `s3://BUCKET/**/*.tfstate`.
    S3 { bucket: String, key: String },
    /// `gs://BUCKET/PATH`.
    Gcs { bucket: String, key: String },
    /// `azblob://ACCOUNT/CONTAINER/PATH`.
    Azure { account: String, container: String, key: String },
    /// `http(s)://…`: Terraform's http backend (GET).
    Http { url: String },
}

impl RemoteUrl {
    pub fn parse(raw: &str) -> Result<RemoteUrl, InputError> {
        let bad = |why: &str| {
            InputError::new(&code::BAD_REMOTE_URL, display(raw), format!("{} is not a usable remote input: {why}", display(raw)))
                .with_help("write s3://BUCKET/KEY, s3://BUCKET/PREFIX/, s3://BUCKET/**/*.tfstate, gs://BUCKET/PATH, azblob://ACCOUNT/CONTAINER/PATH or http(s)://HOST/PATH")
        };
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("no scheme"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => {
                if rest.is_empty() || rest.starts_with('/') {
                    return Err(bad("no host"));
                }
                Ok(RemoteUrl::Http { url: raw.to_owned() })
            }
            "s3" | "gs" => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("no bucket"));
                }
                let (bucket, key) = (bucket.to_owned(), key.to_owned());
                Ok(if scheme.eq_ignore_ascii_case("s3") {
                    RemoteUrl::S3 { bucket, key }
                } else {
                    RemoteUrl::Gcs { bucket, key }
                })
            }
            "azblob" => {
                let mut parts = rest.splitn(3, '/');
                let account = parts.next().unwrap_or_default().to_owned();
                let container = parts.next().unwrap_or_default().to_owned();
                let key = parts.next().unwrap_or_default().to_owned();
                if account.is_empty() || container.is_empty() {
                    return Err(bad("write azblob://ACCOUNT/CONTAINER/PATH"));
                }
                Ok(RemoteUrl::Azure { account, container, key })
            }
            _ => Err(bad("unsupported scheme")),
        }
    }

    /// The key or path inside the bucket (empty for http).
    pub fn key(&self) -> &str {
        match self {
            RemoteUrl::S3 { key, .. } | RemoteUrl::Gcs { key, .. } | RemoteUrl::Azure { key, .. } => key,
            RemoteUrl::Http { .. } => "",
        }
    }

    /// `s3://BUCKET/`, the part a listed key is appended to.
    pub fn base(&self) -> String {
        match self {
            RemoteUrl::S3 { bucket, .. } => format!("s3://{bucket}/"),
            RemoteUrl::Gcs { bucket, .. } => format!("gs://{bucket}/"),
            RemoteUrl::Azure { account, container, .. } => format!("azblob://{account}/{container}/"),
            RemoteUrl::Http { url } => display(url),
        }
    }
}

/// A URL as driftlock shows it: without user information, and with query values hidden
/// (they carry tokens and signatures).
pub fn display(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else { return raw.to_owned() };
    let (authority_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match authority_path.find('/') {
        Some(i) => authority_path.split_at(i),
        None => (authority_path, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let mut out = format!("{scheme}://{host}{path}");
    if let Some(q) = query {
        let hidden: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) => format!("{k}=***"),
                None => kv.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&hidden.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_schemes() {
        assert!(is_remote("s3://b/k"));
        assert!(is_remote("S3://b/k"));
        assert!(is_remote("https://h/x"));
        assert!(!is_remote("envs/prod"));
        assert!(!is_remote("s3:/b"));
    }

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            RemoteUrl::parse("s3://b/env:/dev/k.tfstate").unwrap(),
            RemoteUrl::S3 { bucket: "b".into(), key: "env:/dev/k.tfstate".into() }
        );
        assert_eq!(RemoteUrl::parse("gs://b").unwrap(), RemoteUrl::Gcs { bucket: "b".into(), key: String::new() });
        assert_eq!(
            RemoteUrl::parse("azblob://acct/c/p/x.tfstate").unwrap(),
            RemoteUrl::Azure { account: "acct".into(), container: "c".into(), key: "p/x.tfstate".into() }
        );
        assert_eq!(RemoteUrl::parse("s3:///k").unwrap_err().code.code, "DL0803");
        assert_eq!(RemoteUrl::parse("azblob://acct").unwrap_err().code.code, "DL0803");
        assert_eq!(RemoteUrl::parse("ftp://h/x").unwrap_err().code.code, "DL0803");
    }

    #[test]
    fn display_hides_credentials() {
        assert_eq!(display("https://u:secret@h:8080/state?x=1&token=abc"), "https://h:8080/state?x=***&token=***");
        assert_eq!(display("s3://b/k"), "s3://b/k");
    }
}
