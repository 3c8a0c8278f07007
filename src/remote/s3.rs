//! S3 clients: endpoints and credentials the way the AWS SDKs find them, reusable by any part
//! of driftlock that talks to AWS.
//!
//! Endpoint: the backend block's `endpoints.s3` (or `endpoint`), else `AWS_ENDPOINT_URL_S3`,
//! else `AWS_ENDPOINT_URL`; with a custom endpoint requests are path-style. Credentials, in
//! order: the backend block's keys; `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
//! (`AWS_SESSION_TOKEN`); web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`); a
//! shared profile's static keys (`AWS_PROFILE` or the block's `profile`, from
//! `~/.aws/credentials` and `~/.aws/config`); container credentials; instance metadata (IMDS).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{ClientOptions, RetryConfig};

use super::secrets;

/// What a backend block (or nothing, for a bare URL) says about reaching S3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    /// `use_path_style` / `force_path_style` in the block; custom endpoints are path-style anyway.
    pub path_style: bool,
}

/// Variable lookup, so tests can pass their own environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (empty values count as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The endpoint S3 requests go to, when it is not AWS's own.
pub fn endpoint(settings: &S3Settings, env: Env<'_>) -> Option<String> {
    settings.endpoint.clone().or_else(|| env("AWS_ENDPOINT_URL_S3")).or_else(|| env("AWS_ENDPOINT_URL"))
}

/// Static keys of a shared profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileKeys {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub region: Option<String>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Reads a profile from the shared credentials and config files. `Ok(None)` when neither
/// file names it.
pub fn profile(name: &str, env: Env<'_>) -> Result<Option<ProfileKeys>, String> {
    let creds_file =
        env("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).or_else(|| home().map(|h| h.join(".aws/credentials")));
    let config_file = env("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| home().map(|h| h.join(".aws/config")));
    let mut found = false;
    let mut keys = ProfileKeys::default();
    if let Some(f) = creds_file.filter(|f| f.is_file()) {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        if let Some(sec) = ini_sections(&text).remove(name) {
            found = true;
            keys.access_key = sec.get("aws_access_key_id").cloned();
            keys.secret_key = sec.get("aws_secret_access_key").cloned();
            keys.token = sec.get("aws_session_token").cloned();
            keys.region = sec.get("region").cloned();
        }
    }
    if let Some(f) = config_file.filter(|f| f.is_file()) {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let mut sections = ini_sections(&text);
        let section =
            if name == "default" { sections.remove("default") } else { sections.remove(&format!("profile {name}")) };
        if let Some(sec) = section {
            found = true;
            keys.access_key = keys.access_key.or_else(|| sec.get("aws_access_key_id").cloned());
            keys.secret_key = keys.secret_key.or_else(|| sec.get("aws_secret_access_key").cloned());
            keys.token = keys.token.or_else(|| sec.get("aws_session_token").cloned());
            keys.region = keys.region.or_else(|| sec.get("region").cloned());
        }
    }
    for s in [&keys.access_key, &keys.secret_key, &keys.token].into_iter().flatten() {
        secrets::register(s);
    }
    Ok(found.then_some(keys))
}

/// `[section]` → `key = value`, as the AWS shared files write them.
fn ini_sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            out.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(sec), Some((k, v))) = (&current, line.split_once('=')) {
            out.entry(sec.clone()).or_default().insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    out
}

fn retry() -> RetryConfig {
    RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(30), ..RetryConfig::default() }
}

/// Client options shared by every store: bounded timeouts, plain HTTP allowed only when the
/// endpoint is `http://`.
pub fn client_options(endpoint: Option<&str>) -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(120))
        .with_allow_http(endpoint.is_some_and(|e| e.starts_with("http://")))
}

/// Builds a client for one bucket. The error text is safe to show.
pub async fn store(bucket: &str, settings: &S3Settings) -> Result<Arc<dyn object_store::ObjectStore>, String> {
    store_with_env(bucket, settings, &process_env).await
}

/// [`store`] with an explicit environment.
pub async fn store_with_env(
    bucket: &str,
    settings: &S3Settings,
    env: Env<'_>,
) -> Result<Arc<dyn object_store::ObjectStore>, String> {
    let endpoint = endpoint(settings, env);
    let opts = client_options(endpoint.as_deref());
    let mut b = AmazonS3Builder::new().with_bucket_name(bucket).with_retry(retry()).with_client_options(opts.clone());
    // The chain's environment part (web identity, container credentials, session token).
    for (name, key) in [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "aws_web_identity_token_file"),
        ("AWS_ROLE_ARN", "aws_role_arn"),
        ("AWS_ROLE_SESSION_NAME", "aws_role_session_name"),
        ("AWS_ENDPOINT_URL_STS", "aws_endpoint_url_sts"),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "aws_container_credentials_relative_uri"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "aws_container_credentials_full_uri"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "aws_container_authorization_token_file"),
        ("AWS_REQUEST_PAYER", "aws_request_payer"),
    ] {
        if let (Some(v), Ok(k)) = (env(name), key.parse()) {
            b = b.with_config(k, v);
        }
    }
    let mut region = settings.region.clone().or_else(|| env("AWS_REGION")).or_else(|| env("AWS_DEFAULT_REGION"));
    let (access, secret, token) = if settings.access_key.is_some() {
        (settings.access_key.clone(), settings.secret_key.clone(), settings.token.clone())
    } else if settings.profile.is_none() && env("AWS_ACCESS_KEY_ID").is_some() {
        (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"))
    } else if settings.profile.is_some() || env("AWS_WEB_IDENTITY_TOKEN_FILE").is_none() {
        let name = settings.profile.clone().or_else(|| env("AWS_PROFILE")).unwrap_or_else(|| "default".to_owned());
        match profile(&name, env)? {
            Some(p) => {
                region = region.or(p.region);
                (p.access_key, p.secret_key, p.token)
            }
            None if settings.profile.is_some() || env("AWS_PROFILE").is_some() => {
                return Err(format!(
                    "the AWS profile `{name}` is in neither the shared credentials file nor the config file"
                ));
            }
            None => (None, None, None),
        }
    } else {
        (None, None, None)
    };
    for s in [&access, &secret, &token].into_iter().flatten() {
        secrets::register(s);
    }
    if let (Some(a), Some(s)) = (&access, &secret) {
        b = b.with_access_key_id(a).with_secret_access_key(s);
        if let Some(t) = &token {
            b = b.with_token(t);
        }
    } else if access.is_some() != secret.is_some() {
        return Err("an access key id without its secret access key (or the reverse)".to_owned());
    }
    if let Some(e) = &endpoint {
        b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
    } else if settings.path_style {
        b = b.with_virtual_hosted_style_request(false);
    }
    if region.is_none() && endpoint.is_none() {
        // A bucket's region is needed to sign for it; AWS says where it lives.
        region = object_store::aws::resolve_bucket_region(bucket, &opts).await.ok();
    }
    b = b.with_region(region.unwrap_or_else(|| "us-east-1".to_owned()));
    b.build().map(|s| Arc::new(s) as Arc<dyn object_store::ObjectStore>).map_err(|e| secrets::redact(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let env = |n: &str| match n {
            "AWS_ENDPOINT_URL" => Some("http://general".to_owned()),
            "AWS_ENDPOINT_URL_S3" => Some("http://s3only".to_owned()),
            _ => None,
        };
        assert_eq!(endpoint(&S3Settings::default(), &env).as_deref(), Some("http://s3only"));
        let block = S3Settings { endpoint: Some("http://block".into()), ..S3Settings::default() };
        assert_eq!(endpoint(&block, &env).as_deref(), Some("http://block"));
        let general = |n: &str| (n == "AWS_ENDPOINT_URL").then(|| "http://general".to_owned());
        assert_eq!(endpoint(&S3Settings::default(), &general).as_deref(), Some("http://general"));
    }

    #[test]
    fn shared_profile_keys_and_region() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(&creds, "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n[ci]\naws_access_key_id=AKIACI\naws_secret_access_key=sekrit-ci\n").unwrap();
        std::fs::write(&config, "[profile ci]\nregion = eu-west-3\n").unwrap();
        let (c, k) = (creds.to_string_lossy().into_owned(), config.to_string_lossy().into_owned());
        let env = move |n: &str| match n {
            "AWS_SHARED_CREDENTIALS_FILE" => Some(c.clone()),
            "AWS_CONFIG_FILE" => Some(k.clone()),
            _ => None,
        };
        let p = profile("ci", &env).unwrap().unwrap();
        assert_eq!(p.access_key.as_deref(), Some("AKIACI"));
        assert_eq!(p.region.as_deref(), Some("eu-west-3"));
        assert!(profile("nobody", &env).unwrap().is_none());
        assert_eq!(secrets::redact("sekrit-ci"), "***");
    }
}
