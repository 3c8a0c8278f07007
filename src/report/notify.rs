//! `--notify URL`: a short summary of the report posted to a chat webhook or any HTTP endpoint —
//! the gate, counts by kind, the new findings first, and where the full report is — as a Slack
//! incoming-webhook message, a Microsoft Teams workflow card (an Adaptive Card in the message
//! envelope the Workflows "When a Teams webhook request is received" trigger takes), or a generic
//! JSON body.
//!
//! Delivery retries with exponential backoff; a notification that still cannot be delivered is
//! reported and makes the exit status 2, since nobody would hear of a closed gate otherwise.
//! Webhook URLs carry their secret in the path or query, so only the scheme and host are ever
//! printed.

use std::fmt::Write as _;
use std::time::Duration;

use clap::ValueEnum;
use serde_json::{Value, json};

use super::baseline::Status;
use super::{Gate, Report};
use crate::code::Severity;
use crate::finding::Finding;

/// What the endpoint expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyFormat {
    /// A Slack incoming-webhook message (text and blocks)
    Slack,
    /// A Microsoft Teams workflow: an Adaptive Card in a message envelope
    Teams,
    /// A generic JSON object (`driftlock/notification/v1`)
    Json,
}

impl NotifyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyFormat::Slack => "slack",
            NotifyFormat::Teams => "teams",
            NotifyFormat::Json => "json",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "slack" => Some(NotifyFormat::Slack),
            "teams" => Some(NotifyFormat::Teams),
            "json" => Some(NotifyFormat::Json),
            _ => None,
        }
    }
}

/// How many findings a notification lists; the rest are counted.
const LISTED: usize = 10;
/// Longest message text quoted per finding, in characters.
const QUOTE: usize = 200;

/// One endpoint to post to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL requested (without driftlock's own `format` parameter).
    url: String,
    pub format: NotifyFormat,
}

impl Target {
    /// The URL as it may be printed: scheme and host only.
    pub fn display(&self) -> String {
        redact(&self.url)
    }
}

/// Scheme, host and port of a URL, the rest replaced by `…`: webhook secrets live in the path
/// and query, so nothing after the host is ever printed.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // user:password@host
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if end < rest.len() { format!("{scheme}://{host}/…") } else { format!("{scheme}://{host}") }
}

/// Reads a `--notify` URL: `?format=slack|teams|json` on the URL (removed before posting) wins
/// over `--notify-format`, which wins over what the host says (Slack's and Microsoft's webhook
/// hosts), else `json`.
pub fn target(url: &str, flag: Option<NotifyFormat>) -> Result<Target, String> {
    let shown = redact(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("--notify {shown}: not a URL (write http://… or https://…)"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("--notify {shown}: only http and https URLs can be notified"));
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut format = None;
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.strip_prefix("format=") {
            Some(v) => {
                format = Some(
                    NotifyFormat::parse(v)
                        .ok_or_else(|| format!("--notify {shown}: format={v} is not one of slack, teams, json"))?,
                );
            }
            None => kept.push(pair),
        }
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let guessed = if host.ends_with("slack.com") {
        NotifyFormat::Slack
    } else if host.ends_with(".logic.azure.com")
        || host.ends_with(".powerplatform.com")
        || host.ends_with("webhook.office.com")
    {
        NotifyFormat::Teams
    } else {
        NotifyFormat::Json
    };
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok(Target { url, format: format.or(flag).unwrap_or(guessed) })
}

/// The findings a notification lists: new ones first, then the report's order.
fn listed(report: &Report) -> Vec<&Finding> {
    let mut all: Vec<&Finding> = report.findings.iter().collect();
    all.sort_by_key(|f| f.status != Some(Status::New));
    all.truncate(LISTED);
    all
}

fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE).collect();
    if s.chars().count() > QUOTE {
        out.push('…');
    }
    out
}

fn subject(f: &Finding) -> String {
    let mut s = f.address.clone().or_else(|| f.cloud_id.clone()).unwrap_or_default();
    if let Some(a) = &f.account {
        s = if s.is_empty() { a.clone() } else { format!("{a}: {s}") };
    }
    s
}

fn count(report: &Report, s: &str) -> usize {
    report.summary.by_severity.get(s).copied().unwrap_or(0)
}

/// `gate closed: 12 errors, 0 warnings, 1 note`
fn headline(report: &Report) -> String {
    let gate = match report.gate {
        Gate::Open => "gate open",
        Gate::Closed => "gate closed",
    };
    let mut s = format!(
        "driftlock {}: {gate} — {} error(s), {} warning(s), {} note(s)",
        report.command,
        count(report, "error"),
        count(report, "warning"),
        count(report, "note")
    );
    if report.summary.input_errors > 0 {
        let _ = write!(s, ", {} input(s) could not be audited", report.summary.input_errors);
    }
    s
}

fn by_kind(report: &Report) -> String {
    let kinds: Vec<String> = report.summary.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if kinds.is_empty() { "no findings".to_owned() } else { kinds.join(", ") }
}

fn since(report: &Report) -> Option<String> {
    report
        .summary
        .baseline
        .as_ref()
        .map(|b| format!("{} new, {} unchanged, {} resolved", b.new, b.unchanged, b.resolved))
}

/// Slack's mrkdwn escapes only these three.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn status_tag(f: &Finding) -> &'static str {
    match f.status {
        Some(Status::New) => "new ",
        Some(Status::Unchanged) => "",
        None => "",
    }
}

fn slack(report: &Report, location: Option<&str>) -> Value {
    let icon = if report.gate == Gate::Open { ":white_check_mark:" } else { ":no_entry:" };
    let mut counts = format!("*By kind:* {}", slack_escape(&by_kind(report)));
    if let Some(s) = since(report) {
        let _ = write!(counts, "\n*Since the last run:* {s}");
    }
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": quote(&headline(report)) } }),
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": counts } }),
    ];
    let list = listed(report);
    if !list.is_empty() {
        let mut text = String::new();
        for f in &list {
            let _ = writeln!(
                text,
                "• {}`{} {}` {} — {}",
                status_tag(f),
                f.code,
                f.kind,
                slack_escape(&subject(f)),
                slack_escape(&quote(&f.message))
            );
        }
        if report.findings.len() > list.len() {
            let _ = writeln!(text, "… and {} more", report.findings.len() - list.len());
        }
        // A section's text holds 3,000 characters at most.
        let text: String = text.chars().take(2900).collect();
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }));
    }
    if let Some(loc) = location {
        let link = if loc.starts_with("http://") || loc.starts_with("https://") {
            format!("<{}|the full report>", loc.replace('|', "%7C"))
        } else {
            format!("`{}`", slack_escape(loc))
        };
        blocks.push(
            json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": format!("Full report: {link}") }] }),
        );
    }
    json!({ "text": format!("{icon} {}", headline(report)), "blocks": blocks })
}

fn teams(report: &Report, location: Option<&str>) -> Value {
    let color = if report.gate == Gate::Open { "Good" } else { "Attention" };
    let mut facts = vec![
        json!({ "title": "Gate", "value": if report.gate == Gate::Open { "open" } else { "closed" } }),
        json!({ "title": "Errors", "value": count(report, "error").to_string() }),
        json!({ "title": "Warnings", "value": count(report, "warning").to_string() }),
        json!({ "title": "Notes", "value": count(report, "note").to_string() }),
        json!({ "title": "By kind", "value": by_kind(report) }),
    ];
    if let Some(s) = since(report) {
        facts.push(json!({ "title": "Since the last run", "value": s }));
    }
    if report.summary.input_errors > 0 {
        facts.push(json!({ "title": "Not audited", "value": format!("{} input(s)", report.summary.input_errors) }));
    }
    let mut body = vec![
        json!({ "type": "TextBlock", "text": headline(report), "size": "Large", "weight": "Bolder", "color": color, "wrap": true }),
        json!({ "type": "FactSet", "facts": facts }),
    ];
    let list = listed(report);
    for f in &list {
        let attention = f.severity == Severity::Error;
        body.push(json!({
            "type": "TextBlock",
            "text": format!("{}**{} {}** {} — {}", status_tag(f), f.code, f.kind, subject(f), quote(&f.message)),
            "wrap": true,
            "spacing": "Small",
            "color": if attention { "Attention" } else { "Default" }
        }));
    }
    if report.findings.len() > list.len() {
        body.push(json!({ "type": "TextBlock", "text": format!("… and {} more", report.findings.len() - list.len()), "isSubtle": true }));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": { "width": "Full" },
        "body": body
    });
    if let Some(loc) = location {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            card["actions"] = json!([{ "type": "Action.OpenUrl", "title": "Full report", "url": loc }]);
        } else if let Some(b) = card["body"].as_array_mut() {
            b.push(
                json!({ "type": "TextBlock", "text": format!("Full report: {loc}"), "isSubtle": true, "wrap": true }),
            );
        }
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card
        }]
    })
}

fn generic(report: &Report, location: Option<&str>) -> Value {
    let list: Vec<Value> = listed(report)
        .iter()
        .map(|f| {
            json!({
                "kind": f.kind, "code": f.code, "severity": f.severity, "status": f.status,
                "message": f.message, "address": f.address, "cloud_id": f.cloud_id,
                "account": f.account, "fingerprint": f.fingerprint
            })
        })
        .collect();
    let s = &report.summary;
    json!({
        "schema": "driftlock/notification/v1",
        "command": report.command,
        "gate": report.gate,
        "text": headline(report),
        "summary": {
            "findings": s.findings,
            "by_severity": s.by_severity,
            "by_kind": s.by_kind,
            "input_errors": s.input_errors,
            "baseline": s.baseline,
        },
        "findings": list,
        "more": report.findings.len().saturating_sub(LISTED),
        "report": location,
    })
}

/// The body posted to `target` for `report`; `location` says where the full report is.
pub fn body(format: NotifyFormat, report: &Report, location: Option<&str>) -> Value {
    match format {
        NotifyFormat::Slack => slack(report, location),
        NotifyFormat::Teams => teams(report, location),
        NotifyFormat::Json => generic(report, location),
    }
}

/// Timeouts and retries.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// For one attempt, connect to last byte.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// The wait before the first retry; doubled each time.
    pub backoff: Duration,
}

/// Why an attempt failed, and whether trying again may help.
struct Failure {
    reason: String,
    retry: bool,
    /// The server's Retry-After, when it sent one.
    after: Option<Duration>,
}

/// Posts `body`, retrying with exponential backoff. `Ok(attempts)` once delivered; the error
/// says what the last attempt met (never the URL past its host).
pub fn deliver(target: &Target, body: &Value, d: Delivery) -> Result<u32, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(d.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("driftlock/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let payload = serde_json::to_vec(body).unwrap_or_default();
    let mut wait = d.backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match agent.post(&target.url).header("Content-Type", "application/json").send(&payload[..]) {
            Ok(resp) if resp.status().is_success() => return Ok(attempt),
            Ok(resp) => {
                let code = resp.status().as_u16();
                let after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Failure {
                    reason: format!(
                        "the server answered {code} {}",
                        resp.status().canonical_reason().unwrap_or_default()
                    ),
                    retry: code >= 500 || code == 429 || code == 408,
                    after,
                }
            }
            Err(e) => {
                Failure { reason: describe(&e, d.timeout), retry: !matches!(e, ureq::Error::BadUri(_)), after: None }
            }
        };
        if !failure.retry || attempt > d.retries {
            let tries = if attempt == 1 { "1 attempt".to_owned() } else { format!("{attempt} attempts") };
            return Err(scrub(&format!("{} ({tries})", failure.reason), &target.url));
        }
        std::thread::sleep(failure.after.map_or(wait, |a| a.min(Duration::from_secs(30))));
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// A transport error in words, without the URL.
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s (timed out)", timeout.as_secs_f32()),
        ureq::Error::HostNotFound => "the host name does not resolve".to_owned(),
        ureq::Error::ConnectionFailed => "cannot connect".to_owned(),
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::BadUri(_) => "not a valid URL".to_owned(),
        ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::Rustls(_) => "the TLS handshake failed".to_owned(),
        other => format!("the request failed: {other}"),
    }
}

/// Belt and braces: whatever a library said, the URL's path and query do not get printed.
fn scrub(msg: &str, url: &str) -> String {
    let mut out = msg.replace(url, &redact(url));
    if let Some((_, rest)) = url.split_once("://") {
        if let Some(i) = rest.find(['/', '?']) {
            let secret = &rest[i..];
            if secret.len() > 1 {
                out = out.replace(secret, "/…");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_printed_without_their_secrets() {
        assert_eq!(redact("https://hooks.slack.com/services/T0/B0/XXXX"), "https://hooks.slack.com/…");
        assert_eq!(redact("https://user:pw@example.com:8443/x?sig=abc"), "https://example.com:8443/…");
        assert_eq!(redact("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(redact("hooks.slack.com/services/x"), "<not a URL>");
        assert_eq!(scrub("failed for https://h/a/b?sig=1", "https://h/a/b?sig=1"), "failed for https://h/…");
    }

    #[test]
    fn format_from_the_url_the_flag_or_the_host() {
        let t = target("https://hooks.slack.com/services/T0/B0/X", None).unwrap();
        assert_eq!(t.format, NotifyFormat::Slack);
        let t = target("https://prod-00.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=s", None)
            .unwrap();
        assert_eq!(t.format, NotifyFormat::Teams);
        assert!(t.url.ends_with("?sig=s"));
        let t = target("http://127.0.0.1:1/hook?format=teams&x=1", Some(NotifyFormat::Slack)).unwrap();
        assert_eq!((t.format, t.url.as_str()), (NotifyFormat::Teams, "http://127.0.0.1:1/hook?x=1"));
        let t = target("http://127.0.0.1:1/hook", Some(NotifyFormat::Slack)).unwrap();
        assert_eq!(t.format, NotifyFormat::Slack);
        assert_eq!(target("http://example.com/", None).unwrap().format, NotifyFormat::Json);
        assert!(target("http://h/?format=xml", None).unwrap_err().contains("format=xml"));
        assert!(target("ftp://h/secret", None).unwrap_err().contains("ftp://h/…"));
    }
}
