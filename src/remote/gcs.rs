//! GCS clients, and listing through the JSON API.
//!
//! Listings and downloads use the JSON API (`storage/v1/b/BUCKET/o`, `…/o/NAME?alt=media`),
//! which every GCS endpoint speaks — Google's own, Private Service Connect endpoints and the
//! emulators (`gcp-storage-emulator`, fake-gcs-server), which implement neither the XML listing
//! `object_store` uses nor all the headers of its XML download. `object_store` gives the
//! credential chain (service account keys, application default credentials, instance identity).
//!
//! Endpoint: the backend block's `storage_custom_endpoint`, else `STORAGE_EMULATOR_HOST` (the
//! variable Google's SDKs read), else `https://storage.googleapis.com`. Credentials: the block's
//! `access_token` or `GOOGLE_OAUTH_ACCESS_TOKEN` (a bearer token, as terraform's backend takes
//! it); the block's `credentials` (a key file's path or its JSON);
//! `GOOGLE_APPLICATION_CREDENTIALS` / `GOOGLE_SERVICE_ACCOUNT`; the instance's identity. An
//! emulator named by `STORAGE_EMULATOR_HOST` without credentials gets unsigned requests.

use std::sync::Arc;
use std::time::Duration;

use object_store::CredentialProvider;
use object_store::StaticCredentialProvider;
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder, GoogleConfigKey};

use super::object::GcsSettings;
use super::s3::{Env, client_options, process_env};
use super::secrets;

/// Google's endpoint.
pub const DEFAULT_BASE_URL: &str = "https://storage.googleapis.com";

/// A bucket's client over the JSON API, with `object_store`'s credentials.
pub struct Bucket {
    base_url: String,
    bucket: String,
    credentials: Option<Arc<dyn CredentialProvider<Credential = GcpCredential>>>,
    http: reqwest::Client,
}

/// The base URL requests go to: `storage_custom_endpoint` (which names the JSON API's path,
/// `…/storage/v1/`, dropped here), else `STORAGE_EMULATOR_HOST`, else Google's.
pub fn base_url(settings: &GcsSettings, env: Env<'_>) -> (String, bool) {
    if let Some(e) = &settings.endpoint {
        let e = e.trim_end_matches('/');
        let e = e.strip_suffix("/storage/v1/b").or_else(|| e.strip_suffix("/storage/v1")).unwrap_or(e);
        return (e.to_owned(), false);
    }
    if let Some(host) = env("STORAGE_EMULATOR_HOST") {
        let base = if host.contains("://") { host } else { format!("http://{host}") };
        return (base.trim_end_matches('/').to_owned(), true);
    }
    (DEFAULT_BASE_URL.to_owned(), false)
}

/// Builds a bucket's client. The error text is safe to show.
pub fn bucket(name: &str, settings: &GcsSettings) -> Result<Bucket, String> {
    bucket_with_env(name, settings, &process_env)
}

/// [`bucket`] with an explicit environment.
pub fn bucket_with_env(name: &str, settings: &GcsSettings, env: Env<'_>) -> Result<Bucket, String> {
    let (base, emulator) = base_url(settings, env);
    let custom = base != DEFAULT_BASE_URL;
    let opts = client_options(custom.then_some(base.as_str()));
    let mut b = GoogleCloudStorageBuilder::from_env().with_bucket_name(name).with_client_options(opts);
    if custom {
        b = b.with_config(GoogleConfigKey::BaseUrl, &base);
    }
    let token = settings.access_token.clone().or_else(|| env("GOOGLE_OAUTH_ACCESS_TOKEN"));
    let mut credentials: Option<Arc<dyn CredentialProvider<Credential = GcpCredential>>> = None;
    let mut unsigned = false;
    if let Some(t) = token {
        secrets::register(&t);
        let p: Arc<dyn CredentialProvider<Credential = GcpCredential>> =
            Arc::new(StaticCredentialProvider::new(GcpCredential { bearer: t }));
        b = b.with_credentials(p.clone());
        credentials = Some(p);
    } else if let Some(c) = &settings.credentials {
        // terraform takes a key file's path or its JSON content.
        if c.trim_start().starts_with('{') {
            secrets::register(c);
            b = b.with_service_account_key(c);
        } else {
            b = b.with_service_account_path(c);
        }
    } else if emulator
        && env("GOOGLE_APPLICATION_CREDENTIALS").is_none()
        && env("GOOGLE_SERVICE_ACCOUNT").is_none()
        && env("GOOGLE_SERVICE_ACCOUNT_PATH").is_none()
    {
        b = b.with_skip_signature(true);
        unsigned = true;
    }
    let store = b.build().map_err(|e| secrets::redact(&e.to_string()))?;
    if credentials.is_none() && !unsigned {
        credentials = Some(store.credentials().clone());
    }
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Bucket { base_url: base, bucket: name.to_owned(), credentials, http })
}

/// An error of a listing or download, safe to show: the HTTP status and GCS's own message.
#[derive(Debug)]
pub struct GcsError {
    pub status: Option<u16>,
    pub message: String,
}

impl Bucket {
    /// Every object name under `prefix` (a folder: `a` lists `a/…`, not `ab`), all pages.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, GcsError> {
        let prefix = if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) };
        let mut names = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = reqwest::Url::parse(&format!("{}/storage/v1/b/{}/o", self.base_url, self.bucket))
                .map_err(|e| GcsError { status: None, message: format!("bad endpoint: {e}") })?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("fields", "items(name),nextPageToken");
                if !prefix.is_empty() {
                    q.append_pair("prefix", &prefix);
                }
                if let Some(t) = &page {
                    q.append_pair("pageToken", t);
                }
            }
            let (status, body) = self.request(url).await?;
            let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| GcsError {
                status: Some(status.as_u16()),
                message: format!("the listing is not GCS's JSON: {e}"),
            })?;
            for item in v.get("items").and_then(serde_json::Value::as_array).into_iter().flatten() {
                if let Some(n) = item.get("name").and_then(serde_json::Value::as_str) {
                    names.push(n.to_owned());
                }
            }
            match v.get("nextPageToken").and_then(serde_json::Value::as_str) {
                Some(t) if !t.is_empty() && page.as_deref() != Some(t) => page = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(names)
    }

    /// One object's bytes.
    pub async fn get(&self, name: &str) -> Result<Vec<u8>, GcsError> {
        let mut url = reqwest::Url::parse(&format!("{}/storage/v1/b/{}/o", self.base_url, self.bucket))
            .map_err(|e| GcsError { status: None, message: format!("bad endpoint: {e}") })?;
        url.path_segments_mut().map_err(|()| GcsError { status: None, message: "bad endpoint".to_owned() })?.push(name);
        url.query_pairs_mut().append_pair("alt", "media");
        Ok(self.request(url).await?.1)
    }

    /// A GET with the bearer token; a non-2xx answer is an error with GCS's message.
    async fn request(&self, url: reqwest::Url) -> Result<(reqwest::StatusCode, Vec<u8>), GcsError> {
        let mut req = self.http.get(url);
        if let Some(c) = &self.credentials {
            let token = c
                .get_credential()
                .await
                .map_err(|e| GcsError { status: None, message: secrets::redact(&format!("no credentials: {e}")) })?;
            req = req.bearer_auth(&token.bearer);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| GcsError { status: None, message: secrets::redact(&super::http::error_chain(&e)) })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| GcsError {
            status: Some(status.as_u16()),
            message: secrets::redact(&super::http::error_chain(&e)),
        })?;
        if !status.is_success() {
            return Err(GcsError { status: Some(status.as_u16()), message: error_message(status, &body) });
        }
        Ok((status, body.to_vec()))
    }
}

/// `HTTP 404 Not Found: The specified bucket does not exist.` from GCS's JSON error.
fn error_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(serde_json::Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_owned());
    let out = if text.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {text}") };
    secrets::redact(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let env = |n: &str| (n == "STORAGE_EMULATOR_HOST").then(|| "127.0.0.1:9023".to_owned());
        assert_eq!(base_url(&GcsSettings::default(), &env), ("http://127.0.0.1:9023".to_owned(), true));
        let block = GcsSettings { endpoint: Some("https://psc.example/storage/v1/".into()), ..GcsSettings::default() };
        assert_eq!(base_url(&block, &env), ("https://psc.example".to_owned(), false));
        assert_eq!(base_url(&GcsSettings::default(), &|_| None), (DEFAULT_BASE_URL.to_owned(), false));
    }

    #[test]
    fn json_errors_keep_the_message() {
        let body = br#"{"error":{"code":404,"message":"The specified bucket does not exist."}}"#;
        assert_eq!(
            error_message(reqwest::StatusCode::NOT_FOUND, body),
            "HTTP 404 Not Found: The specified bucket does not exist."
        );
        assert_eq!(error_message(reqwest::StatusCode::NOT_IMPLEMENTED, b""), "HTTP 501 Not Implemented");
    }
}
