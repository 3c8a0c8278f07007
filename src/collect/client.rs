//! One signed AWS call over reqwest: credentials from the standard chain (aws-config), SigV4
//! (aws-sigv4), custom endpoints from `AWS_ENDPOINT_URL[_SERVICE]`, a per-service rate limit
//! that halves on throttling and recovers on success, and retries with exponential backoff and
//! full jitter on throttling, 5xx and transport errors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::{Mutex, Semaphore};

use super::shapes;

/// How a call failed, for the manifest.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    /// The service's error code (`AccessDenied`, `UnauthorizedOperation`), or `Transport`.
    pub(crate) code: String,
    pub(crate) status: Option<u16>,
    pub(crate) message: String,
}

impl CallError {
    pub(crate) fn denied(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "UnauthorizedAccess"
                | "AuthFailure"
                | "OptInRequired"
                | "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch"
        ) || self.status == Some(403)
    }
}

/// The retry policy.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff's ceiling; doubles each retry up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Eight attempts (or the SDKs' `AWS_MAX_ATTEMPTS`), backoff from 100 ms up to 20 s.
    fn default() -> Self {
        let max_attempts = std::env::var("AWS_MAX_ATTEMPTS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(8);
        RetryPolicy { max_attempts, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(20) }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniform delay between zero and `min(max, base × 2^retry)`.
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.base_delay.saturating_mul(1u32 << retry.min(20)).min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// A per-service request rate that halves when the service throttles and grows back by one
/// request per second on each success (the SDKs' "adaptive" mode, simplified).
struct Limiter {
    rate: f64,
    max: f64,
    next: Instant,
}

impl Limiter {
    const MIN: f64 = 0.5;

    fn new(max: f64) -> Limiter {
        Limiter { rate: max, max, next: Instant::now() }
    }
}

/// Requests per second each service starts at (and never exceeds), and how many may be in
/// flight at once.
fn service_limits(service: &str) -> (f64, usize) {
    match service {
        "ec2" => (20.0, 8),
        "iam" => (10.0, 4),
        "resourcegroupstaggingapi" => (5.0, 4),
        "config" => (8.0, 4),
        _ => (10.0, 4),
    }
}

pub(crate) struct Client {
    http: reqwest::Client,
    creds: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    pub(crate) retry: RetryPolicy,
    limits: HashMap<&'static str, (Arc<Semaphore>, Arc<Mutex<Limiter>>)>,
    /// Retries done, for the manifest.
    pub(crate) retries: std::sync::atomic::AtomicU64,
}

/// One request to make.
pub(crate) struct Request {
    pub(crate) service: &'static str,
    pub(crate) op: &'static str,
    pub(crate) region: String,
    /// Form pairs (query protocols), the JSON body (json protocol) or query pairs (S3 GET).
    pub(crate) params: Vec<(String, String)>,
    pub(crate) json: Option<serde_json::Value>,
}

const SERVICES: &[&str] = &["ec2", "iam", "s3", "sts", "resourcegroupstaggingapi", "config"];

/// The SDKs' service id in `AWS_ENDPOINT_URL_<ID>`.
fn endpoint_env(service: &str) -> &'static str {
    match service {
        "ec2" => "AWS_ENDPOINT_URL_EC2",
        "iam" => "AWS_ENDPOINT_URL_IAM",
        "s3" => "AWS_ENDPOINT_URL_S3",
        "sts" => "AWS_ENDPOINT_URL_STS",
        "resourcegroupstaggingapi" => "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
        "config" => "AWS_ENDPOINT_URL_CONFIG_SERVICE",
        _ => "AWS_ENDPOINT_URL",
    }
}

/// The endpoint of `service` in `region`: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, or
/// the public one.
pub(crate) fn endpoint(service: &str, region: &str) -> String {
    for var in [endpoint_env(service), "AWS_ENDPOINT_URL"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            return v.trim().trim_end_matches('/').to_owned();
        }
    }
    match service {
        "iam" => "https://iam.amazonaws.com".to_owned(),
        "s3" => "https://s3.amazonaws.com".to_owned(),
        "resourcegroupstaggingapi" => format!("https://tagging.{region}.amazonaws.com"),
        other => format!("https://{other}.{region}.amazonaws.com"),
    }
}

/// Whether an endpoint is a custom one (printed in the manifest; the public ones are not).
pub(crate) fn custom_endpoint() -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.trim().is_empty()).map(|v| redact_url(&v))
}

/// Scheme, host and port of a URL: never its path, user or query.
pub(crate) fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "<unparseable endpoint>".to_owned(),
    }
}

impl Client {
    pub(crate) fn new(creds: SharedCredentialsProvider, retry: RetryPolicy) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("driftlock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        let limits = SERVICES
            .iter()
            .map(|s| {
                let (rate, inflight) = service_limits(s);
                (*s, (Arc::new(Semaphore::new(inflight)), Arc::new(Mutex::new(Limiter::new(rate)))))
            })
            .collect();
        Ok(Client {
            http,
            creds,
            cached: Mutex::new(None),
            retry,
            limits,
            retries: std::sync::atomic::AtomicU64::new(0),
        })
    }

    async fn credentials(&self) -> Result<Credentials, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c.expiry().is_none_or(|t| t > SystemTime::now() + Duration::from_secs(60));
            if fresh {
                return Ok(c.clone());
            }
        }
        let c = self.creds.provide_credentials().await.map_err(|e| CallError {
            code: "NoCredentials".into(),
            status: None,
            message: format!("no usable AWS credentials: {}", error_chain(&e)),
        })?;
        *cached = Some(c.clone());
        Ok(c)
    }

    /// Waits for the service's rate and a slot; returns the slot.
    async fn admit(&self, service: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let (sem, lim) = self.limits.get(service)?;
        let permit = sem.clone().acquire_owned().await.ok();
        let wait = {
            let mut l = lim.lock().await;
            let now = Instant::now();
            let at = l.next.max(now);
            l.next = at + Duration::from_secs_f64(1.0 / l.rate);
            at - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        permit
    }

    async fn feedback(&self, service: &str, throttled: bool) {
        if let Some((_, lim)) = self.limits.get(service) {
            let mut l = lim.lock().await;
            l.rate = if throttled { (l.rate / 2.0).max(Limiter::MIN) } else { (l.rate + 1.0).min(l.max) };
        }
    }

    /// Sends one request (retrying as the policy says) and parses the page.
    pub(crate) async fn call(&self, req: &Request) -> Result<shapes::Out, CallError> {
        let mut attempt = 0;
        loop {
            let permit = self.admit(req.service).await;
            let result = self.send_once(req).await;
            drop(permit);
            let retryable = match &result {
                Ok(_) => false,
                Err(e) => e.code == "Transport" || is_throttle(&e.code) || e.status.is_some_and(|s| s >= 500),
            };
            let throttled = matches!(&result, Err(e) if is_throttle(&e.code));
            self.feedback(req.service, throttled).await;
            attempt += 1;
            if !retryable || attempt >= self.retry.max_attempts {
                return result.and_then(|body| {
                    shapes::parse_response(req.service, req.op, &body).map_err(|m| CallError {
                        code: "UnreadableResponse".into(),
                        status: None,
                        message: m,
                    })
                });
            }
            self.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(self.retry.delay(attempt - 1)).await;
        }
    }

    async fn send_once(&self, req: &Request) -> Result<String, CallError> {
        let model = shapes::models().services.get(req.service).ok_or_else(|| CallError {
            code: "NoModel".into(),
            status: None,
            message: format!("no model for {}", req.service),
        })?;
        let region = match req.service {
            "iam" | "s3" => "us-east-1",
            _ => req.region.as_str(),
        };
        let base = endpoint(req.service, region);
        let transport = |e: &dyn std::fmt::Display| CallError {
            code: "Transport".into(),
            status: None,
            message: format!("{} unreachable: {e}", redact_url(&base)),
        };
        let (method, url, body, content_type, target) = match model.protocol.as_str() {
            "json" => {
                let body =
                    serde_json::to_string(req.json.as_ref().unwrap_or(&serde_json::json!({}))).unwrap_or_default();
                let target = format!("{}.{}", model.target_prefix.as_deref().unwrap_or(""), req.op);
                let ct = format!("application/x-amz-json-{}", model.json_version.as_deref().unwrap_or("1.1"));
                ("POST", format!("{base}/"), body, Some(ct), Some(target))
            }
            "rest-xml" => {
                let mut url = reqwest::Url::parse(&format!("{base}/")).map_err(|e| transport(&e))?;
                if !req.params.is_empty() {
                    url.query_pairs_mut().extend_pairs(req.params.iter());
                }
                ("GET", url.to_string(), String::new(), None, None)
            }
            _ => {
                let mut form = url_form(&[("Action", req.op), ("Version", &model.api_version)]);
                for (k, v) in &req.params {
                    form.push('&');
                    form.push_str(&url_form(&[(k, v)]));
                }
                (
                    "POST",
                    format!("{base}/"),
                    form,
                    Some("application/x-www-form-urlencoded; charset=utf-8".to_owned()),
                    None,
                )
            }
        };
        let creds = self.credentials().await?;
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(ct) = &content_type {
            headers.push(("content-type".into(), ct.clone()));
        }
        if let Some(t) = &target {
            headers.push(("x-amz-target".into(), t.clone()));
        }
        let signed =
            sign(&creds, &model.signing_name, region, method, &url, &headers, body.as_bytes(), req.service == "s3")
                .map_err(|m| CallError { code: "SigningFailed".into(), status: None, message: m })?;
        headers.extend(signed);
        let mut rb = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST),
            reqwest::Url::parse(&url).map_err(|e| transport(&e))?,
        );
        for (k, v) in &headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if method == "POST" {
            rb = rb.body(body);
        }
        let resp = rb.send().await.map_err(|e| transport(&error_chain(&e)))?;
        let status = resp.status().as_u16();
        let amzn_type = resp.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = resp.text().await.map_err(|e| transport(&error_chain(&e)))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(service_error(status, amzn_type.as_deref(), &text))
    }
}

fn is_throttle(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "RequestThrottled"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "SlowDown"
            | "EC2ThrottledException"
            | "BandwidthLimitExceeded"
            | "PriorRequestNotComplete"
            | "LimitExceededException"
    )
}

/// The error code and message of an error response, whatever the protocol.
fn service_error(status: u16, amzn_type: Option<&str>, body: &str) -> CallError {
    let clean = |s: &str| s.split(':').next().unwrap_or(s).rsplit('#').next().unwrap_or(s).trim().to_owned();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let code = v
            .get("__type")
            .or_else(|| v.get("code"))
            .and_then(|c| c.as_str())
            .map(clean)
            .or_else(|| amzn_type.map(clean))
            .unwrap_or_else(|| format!("HTTP{status}"));
        let message = v.get("message").or_else(|| v.get("Message")).and_then(|m| m.as_str()).unwrap_or("").to_owned();
        return CallError { code, status: Some(status), message };
    }
    if let Ok(doc) = roxmltree::Document::parse(body) {
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .and_then(|n| n.text())
                .map(str::to_owned)
        };
        if let Some(code) = find("Code") {
            return CallError { code, status: Some(status), message: find("Message").unwrap_or_default() };
        }
    }
    let code = amzn_type.map(clean).unwrap_or_else(|| format!("HTTP{status}"));
    let message: String = body.chars().take(200).collect();
    CallError { code, status: Some(status), message }
}

/// `application/x-www-form-urlencoded` pairs, encoded as the SDKs do (RFC 3986 unreserved
/// characters kept).
fn url_form(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// SigV4 headers for a request.
#[allow(clippy::too_many_arguments)]
fn sign(
    creds: &Credentials,
    signing_name: &str,
    region: &str,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    s3: bool,
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
    let mut settings = SigningSettings::default();
    if s3 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let identity = creds.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("cannot sign: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("cannot sign: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// An error and its sources, one line (credentials never appear in these).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_of_every_protocol() {
        let e = service_error(400, None, r#"{"__type":"com.amazonaws#ThrottlingException","message":"slow down"}"#);
        assert_eq!((e.code.as_str(), e.message.as_str()), ("ThrottlingException", "slow down"));
        assert!(is_throttle(&e.code));
        let e = service_error(
            403,
            None,
            "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>",
        );
        assert!(e.denied());
        let e = service_error(
            403,
            None,
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>m</Message></Error></Errors></Response>",
        );
        assert_eq!(e.code, "UnauthorizedOperation");
    }

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let p =
            RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        for retry in 0..10 {
            let ceiling = Duration::from_millis(100 * (1 << retry)).min(Duration::from_secs(1));
            assert!(p.delay(retry) <= ceiling);
        }
    }

    #[test]
    fn endpoints_are_redacted_to_scheme_and_host() {
        assert_eq!(redact_url("https://user:pw@example.com:8443/secret/path?sig=1"), "https://example.com:8443");
        assert_eq!(url_form(&[("Filter.1.Name", "a b/c")]), "Filter.1.Name=a%20b%2Fc");
    }
}
