//! Audit logs → judged writes (`--audit-log`).
//!
//! Formats, recognised from their first bytes (never the file name): CloudTrail log files as
//! delivered to S3 (`{"Records":[…]}`, usually gzipped), `aws cloudtrail lookup-events` output,
//! CloudTrail records delivered through EventBridge (one JSON object per line), GCP Cloud Audit
//! Logs (`gcloud logging read --format=json` and log-sink NDJSON), the Azure Activity Log
//! (`az monitor activity-log list` and diagnostic-settings exports, `{"records":[…]}` or one
//! record per line).
//!
//! Files are read as streams: the JSON arrays are walked one record at a time with a serde
//! `DeserializeSeed`, each record is judged on the spot ([`Judge`]) and dropped; what is kept
//! is the judgement ([`crate::model::AuditTrail`]). A record that is not shaped as its format
//! says is an error pointing at it (exit 2), never skipped.

pub(crate) mod azure;
pub(crate) mod cloudtrail;
pub(crate) mod digest;
pub mod events;
pub(crate) mod gcp;

use std::io::{BufRead, Read};

use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::code;
use crate::config::GovernanceRecord;
use crate::error::InputError;
use crate::model::{AuditEvent, AuditFile, AuditTrail, Judged, Locator, PrincipalType, ToolSeen, Verdict, touch_key};
use crate::source::{ReadFailure, SourceId};
use crate::tools::{Kind, ToolCatalog};

/// The window of time judged: `--since` / `--until` (inclusive). Records outside it are
/// counted, not judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<jiff::Timestamp>,
    pub until: Option<jiff::Timestamp>,
}

impl Window {
    pub fn contains(&self, t: jiff::Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// What every record is judged against: the governance record, the tool catalog, the window.
pub struct Judge<'a> {
    pub record: Option<&'a GovernanceRecord>,
    /// Why the break-glass principals are not authorized (their emergency document is
    /// missing), or `None` when they are.
    pub break_glass_problem: Option<String>,
    pub tools: &'static ToolCatalog,
    pub catalog: &'a Catalog,
    pub events: &'static events::EventTable,
    pub window: Window,
    /// The canonical ids (normalized by [`touch_key`]) whose latest touches are kept; `None`:
    /// all of them.
    pub interest: Option<&'a rustc_hash::FxHashSet<String>>,
}

/// The canonical ids an estate knows: every inventory resource's, and every managed
/// instance's ARN, asset name or ARM id. Audit logs keep touches of these only.
pub fn interest(estate: &crate::model::Estate, catalog: &Catalog) -> rustc_hash::FxHashSet<String> {
    use crate::model::KeyKind;
    let mut out = rustc_hash::FxHashSet::default();
    for r in &estate.inventory.resources {
        out.insert(touch_key(&r.cloud_id));
        for k in r.keys.iter().filter(|k| matches!(k.kind, KeyKind::Arn | KeyKind::Asset | KeyKind::Arm)) {
            out.insert(touch_key(&k.value));
        }
    }
    for s in &estate.states {
        for i in s.instances.iter().filter(|i| i.address.mode == crate::model::Mode::Managed) {
            if let Some(a) = i.attributes.get("arn").and_then(serde_json::Value::as_str) {
                out.insert(touch_key(a));
            }
            if let Some(e) = catalog.get(&i.address.type_) {
                for k in e.state_keys(&i.attributes) {
                    if matches!(k.kind, KeyKind::Arn | KeyKind::Asset | KeyKind::Arm) {
                        out.insert(touch_key(&k.value));
                    }
                }
            }
        }
    }
    out
}

/// What one record turned out to be.
enum Outcome {
    OutsideWindow,
    ReadOnly,
    Failed,
    SignIn,
    Service,
    Continuation,
    Write(Box<Judged>),
}

/// Event names that sign in or fetch credentials: they change nothing in the account.
const NOT_CHANGES: &[&str] = &[
    "ConsoleLogin",
    "CheckMfa",
    "SwitchRole",
    "RenewRole",
    "ExitRole",
    "GetSigninToken",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
    "GetCallerIdentity",
    "CreateToken",
    "GetRoleCredentials",
];

/// Names that read, for records that do not say (`readOnly` absent).
fn reads_by_name(name: &str) -> bool {
    let op = name.rsplit(['.', '/']).next().unwrap_or(name);
    [
        "Get",
        "List",
        "Describe",
        "Head",
        "Lookup",
        "Search",
        "Query",
        "Scan",
        "BatchGet",
        "get",
        "list",
        "search",
        "aggregatedList",
        "read",
    ]
    .iter()
    .any(|p| op.starts_with(p))
}

impl Judge<'_> {
    /// Judges one record (`tools`: recognised user agents, kept between records).
    fn judge(
        &self,
        ev: AuditEvent,
        cache: &mut rustc_hash::FxHashMap<(Option<String>, Option<String>), Vec<ToolSeen>>,
    ) -> Outcome {
        if !self.window.contains(ev.time) {
            return Outcome::OutsideWindow;
        }
        if ev.event_type.as_deref() == Some("AwsConsoleSignIn") || NOT_CHANGES.contains(&ev.name.as_str()) {
            return Outcome::SignIn;
        }
        if ev.error_code.is_some() {
            return Outcome::Failed;
        }
        if ev.read_only.unwrap_or_else(|| reads_by_name(&ev.name)) {
            return Outcome::ReadOnly;
        }
        if ev.event_type.as_deref() == Some("AwsServiceEvent")
            || ev.principal.kind().is_service()
            || ev.invoked_by.is_some()
        {
            return Outcome::Service;
        }
        if ev.operation.as_ref().is_some_and(|o| !o.first) {
            return Outcome::Continuation;
        }
        let key = (ev.user_agent.clone(), ev.app_id.clone());
        let tools = match cache.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = self.tools.recognise(ev.user_agent.as_deref(), ev.app_id.as_deref());
                // Bounded: a trail of ever-new user agents must not grow memory with records.
                if cache.len() < 4096 {
                    cache.insert(key, t.clone());
                }
                t
            }
        };
        let tool = tools.first().cloned();
        let (verdict, reason) = self.verdict(&ev, &tools);
        Outcome::Write(Box::new(Judged { event: ev, verdict, tool, tools, reason }))
    }

    fn listed(&self, patterns: &[crate::config::PrincipalPattern], ev: &AuditEvent) -> bool {
        let p = &ev.principal;
        let key = touch_key(&p.id);
        let mut ids = vec![p.id.as_str(), p.display.as_str(), key.as_str()];
        ids.extend(p.aliases.iter().map(String::as_str));
        patterns.iter().any(|pat| ids.iter().any(|id| !id.is_empty() && pat.matches(id)))
    }

    fn verdict(&self, ev: &AuditEvent, tools: &[ToolSeen]) -> (Verdict, String) {
        use Verdict::*;
        let p = &ev.principal;
        let kind = p.kind();
        let who = if p.id.is_empty() { "an unidentified principal".to_owned() } else { p.id.clone() };
        if let Some(bg) = self.record.and_then(|r| r.break_glass.as_ref()) {
            if self.listed(&bg.principals, ev) {
                return match &self.break_glass_problem {
                    None => (BreakGlass, format!("break-glass principal {who}, authorized by {}", bg.document_text)),
                    Some(problem) => (ManualIntervention, format!("break-glass principal {who} used, but {problem}")),
                };
            }
        }
        let listed = self.record.is_some_and(|r| self.listed(&r.principals, ev));
        let console_tool = tools.iter().find(|t| self.tools.is_console(t.name));
        let from_console = ev.console_session || ev.event_type.as_deref() == Some("AwsConsoleAction");
        if kind.is_person() {
            let what = match kind {
                PrincipalType::Root => "the account's root user".to_owned(),
                PrincipalType::IdentityCenter => format!("an IAM Identity Center (SSO) session, {who}"),
                PrincipalType::FederatedUser => format!("a federated user, {who}"),
                PrincipalType::GcpUser => format!("a Google user account, {who}"),
                PrincipalType::AzureUser => format!("an Azure user, {who}"),
                _ => who.clone(),
            };
            return (ManualIntervention, format!("made by a person: {what}"));
        }
        if let Some(by) = &p.delegated_by {
            return (ManualIntervention, format!("made by a person: {by}, through service account {who}"));
        }
        if from_console || console_tool.is_some() {
            let how = if from_console {
                "a console session".to_owned()
            } else {
                format!("the {}", console_tool.map_or("console", |t| t.name))
            };
            return if listed {
                (ManualIntervention, format!("pipeline principal {who} used from {how}"))
            } else {
                (ManualIntervention, format!("made from {how} by {who}"))
            };
        }
        if kind == PrincipalType::IamUser && !listed {
            return (ManualIntervention, format!("made by IAM user {who}, which is not a pipeline principal"));
        }
        if !listed {
            let what = match kind {
                PrincipalType::Unknown => "of unknown type".to_owned(),
                k => format!("({})", k.as_str()),
            };
            return (
                UndocumentedTooling,
                format!("made by {who} {what}, a principal the governance record does not name"),
            );
        }
        let Some(record) = self.record else {
            return (UndocumentedTooling, "no governance record names the tools".into());
        };
        let Some(primary) = tools.first() else {
            let ua = ev.user_agent.as_deref().filter(|u| !u.is_empty());
            return (
                UndocumentedTooling,
                match ua {
                    Some(ua) => format!("authorized principal {who} used an unknown tool (user agent `{ua}`)"),
                    None if ev.cloud == crate::model::Cloud::Azure => format!(
                        "authorized principal {who} used a tool the Azure Activity Log cannot show (it records no user agent)"
                    ),
                    None => format!("authorized principal {who} used an unknown tool (no user agent)"),
                },
            );
        };
        // The tool of the call must be in the record; so must every Terraform provider seen.
        let rule_of = |name: &str| -> Vec<&crate::config::ToolRule> {
            let mut rules: Vec<_> = record.tool(name).into_iter().collect();
            if name == "terraform" {
                rules.extend(record.tool("opentofu"));
            }
            rules
        };
        let kind_of = |name: &str| self.tools.get(name).map(|t| t.kind);
        for t in tools {
            let rules = rule_of(t.name);
            let required = t == primary || kind_of(t.name) == Some(Kind::Provider);
            if rules.is_empty() {
                if required {
                    let v = t.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
                    return (
                        UndocumentedTooling,
                        format!(
                            "authorized principal {who} used {}{v}, a tool the governance record does not name",
                            t.name
                        ),
                    );
                }
                continue;
            }
            let reqs: Vec<&semver::VersionReq> = rules.iter().filter_map(|r| r.version.as_ref()).collect();
            if reqs.len() < rules.len() {
                continue; // a rule without a version accepts any
            }
            let wanted: Vec<&str> = rules.iter().filter_map(|r| r.version_text.as_deref()).collect();
            let ambiguous = if t.name == "terraform" {
                " (Terraform or OpenTofu: a user agent cannot tell them apart)"
            } else {
                ""
            };
            let version = t.version.as_deref().filter(|v| !crate::tools::is_placeholder_version(v));
            match version.and_then(crate::tools::lenient_version) {
                Some(v) if reqs.iter().any(|r| r.matches(&v)) => {}
                Some(v) => {
                    return (
                        UndocumentedTooling,
                        format!(
                            "{} {v}{ambiguous} is outside the governance record's `{}`",
                            t.name,
                            wanted.join("` / `")
                        ),
                    );
                }
                None => {
                    let shown = t.version.as_deref().unwrap_or("no version");
                    return (
                        UndocumentedTooling,
                        format!(
                            "the version of {} cannot be verified (`{shown}`) against the governance record's `{}`",
                            t.name,
                            wanted.join("` / `")
                        ),
                    );
                }
            }
        }
        (Authorized, format!("authorized principal {who} with {}", primary.name))
    }
}

/// What one audit file held: its judgement, and for CloudTrail log files the file record.
#[derive(Debug, Default)]
pub struct AuditPart {
    pub trail: AuditTrail,
    pub file: Option<AuditFile>,
    /// A CloudTrail digest file (it holds no records).
    pub digest: Option<crate::model::DigestFile>,
}

/// Folds judged records of one file.
pub(crate) struct Sink<'j> {
    judge: &'j Judge<'j>,
    /// Tools by user agent and app id: a trail repeats a few user agents millions of times.
    tools: rustc_hash::FxHashMap<(Option<String>, Option<String>), Vec<ToolSeen>>,
    source: SourceId,
    trail: AuditTrail,
    first: Option<jiff::Timestamp>,
    last: Option<jiff::Timestamp>,
    region: Option<String>,
    account: Option<String>,
}

impl<'j> Sink<'j> {
    pub(crate) fn new(judge: &'j Judge<'j>, source: SourceId) -> Self {
        let mut trail = AuditTrail::default();
        trail.sources.push(source);
        Sink {
            judge,
            tools: rustc_hash::FxHashMap::default(),
            source,
            trail,
            first: None,
            last: None,
            region: None,
            account: None,
        }
    }

    /// Adds an event whose resources are already known.
    pub(crate) fn add(&mut self, ev: AuditEvent) {
        self.add_inner(ev, None);
    }

    /// Adds a CloudTrail event whose resources are resolved only when they matter: for a write
    /// that is a finding, or that may touch a resource the estate knows.
    pub(crate) fn add_with(&mut self, ev: AuditEvent, deferred: cloudtrail::Deferred) {
        self.add_inner(ev, Some(deferred));
    }

    fn add_inner(&mut self, ev: AuditEvent, deferred: Option<cloudtrail::Deferred>) {
        let c = &mut self.trail.counts;
        c.records += 1;
        self.first = Some(self.first.map_or(ev.time, |f| f.min(ev.time)));
        self.last = Some(self.last.map_or(ev.time, |l| l.max(ev.time)));
        if self.region.is_none() {
            self.region.clone_from(&ev.region);
        }
        if self.account.is_none() {
            self.account.clone_from(&ev.account);
        }
        match self.judge.judge(ev, &mut self.tools) {
            Outcome::OutsideWindow => c.outside_window += 1,
            Outcome::ReadOnly => c.read_only += 1,
            Outcome::Failed => c.failed += 1,
            Outcome::SignIn => c.sign_ins += 1,
            Outcome::Service => c.service += 1,
            Outcome::Continuation => c.continuations += 1,
            Outcome::Write(mut j) => {
                if let Some(d) = deferred {
                    let needed = matches!(j.verdict, Verdict::ManualIntervention | Verdict::UndocumentedTooling)
                        || self.judge.interest.is_none_or(|s| !s.is_empty());
                    if needed {
                        d.resolve(self.judge, &mut j.event);
                    }
                }
                c.writes += 1;
                match j.verdict {
                    Verdict::Authorized => c.authorized += 1,
                    Verdict::BreakGlass => c.break_glass += 1,
                    Verdict::ManualIntervention => c.manual_intervention += 1,
                    Verdict::UndocumentedTooling => c.undocumented_tooling += 1,
                }
                for (id, action) in &j.event.resources {
                    if self.judge.interest.is_none_or(|s| s.contains(id)) {
                        self.trail.touch(id, *action, &j);
                    }
                }
                if matches!(j.verdict, Verdict::ManualIntervention | Verdict::UndocumentedTooling) {
                    self.trail.judged.push(*j);
                }
            }
        }
    }

    pub(crate) fn finish(
        self,
    ) -> (AuditTrail, Option<jiff::Timestamp>, Option<jiff::Timestamp>, Option<String>, Option<String>) {
        let _ = self.source;
        (self.trail, self.first, self.last, self.region, self.account)
    }
}

/// The audit formats driftlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// A CloudTrail log file as delivered to S3: `{"Records":[…]}`.
    CloudTrailFile,
    /// `aws cloudtrail lookup-events`: `{"Events":[{…,"CloudTrailEvent":"<record>"}]}`.
    LookupEvents,
    /// CloudTrail records through EventBridge, one event per line.
    EventBridgeLines,
    /// `gcloud logging read --format=json`: an array of log entries.
    GcpArray,
    /// A GCP log sink export: one log entry per line.
    GcpLines,
    /// `az monitor activity-log list`: an array of events.
    AzureArray,
    /// Azure diagnostic-settings export `{"records":[…]}`.
    AzureRecords,
    /// Azure diagnostic-settings export to storage: one record per line.
    AzureLines,
    /// A CloudTrail digest file (`CloudTrail-Digest/`): hashes of log files, no records.
    CloudTrailDigest,
}

impl AuditFormat {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditFormat::CloudTrailFile => "cloudtrail",
            AuditFormat::LookupEvents => "cloudtrail-lookup-events",
            AuditFormat::EventBridgeLines => "cloudtrail-eventbridge",
            AuditFormat::GcpArray => "gcp-audit-log",
            AuditFormat::GcpLines => "gcp-audit-log-sink",
            AuditFormat::AzureArray => "azure-activity-log",
            AuditFormat::AzureRecords | AuditFormat::AzureLines => "azure-activity-log-export",
            AuditFormat::CloudTrailDigest => "cloudtrail-digest",
        }
    }
}

/// How many bytes are looked at to recognise a format.
pub const HEAD: u64 = 64 * 1024;

/// The first member name of the JSON object that starts `text` (after whitespace).
fn first_key(text: &[u8]) -> Option<&[u8]> {
    let s = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = text[s..].strip_prefix(b"{")?;
    let s = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest[s..].strip_prefix(b"\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Some(&rest[..end])
}

fn has(head: &[u8], needle: &str) -> bool {
    memchr::memmem::find(head, needle.as_bytes()).is_some()
}

fn gcp_entry(head: &[u8]) -> bool {
    has(head, "\"protoPayload\"")
        && (has(head, "google.cloud.audit.AuditLog") || has(head, "cloudaudit.googleapis.com"))
}

fn azure_entry(head: &[u8]) -> bool {
    has(head, "\"operationName\"")
        && (has(head, "\"caller\"")
            || has(head, "\"callerIpAddress\"")
            || has(head, "\"eventDataId\"")
            || has(head, "\"resourceId\""))
        && !has(head, "\"protoPayload\"")
}

/// Recognises an audit log from its first bytes.
pub fn sniff(head: &[u8]) -> Option<AuditFormat> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &head[start..];
    match body.first()? {
        b'{' => {
            match first_key(body)? {
                b"Records" => return Some(AuditFormat::CloudTrailFile),
                b"Events" if has(body, "\"CloudTrailEvent\"") || has(body, "\"EventId\"") || body.len() < 64 => {
                    return Some(AuditFormat::LookupEvents);
                }
                b"records" if azure_entry(body) || body.len() < 64 => return Some(AuditFormat::AzureRecords),
                b"awsAccountId" | b"digestStartTime" if digest::looks_like(body) => {
                    return Some(AuditFormat::CloudTrailDigest);
                }
                _ => {}
            }
            // One object per line: look at the first line.
            let line_end = memchr::memchr(b'\n', body).unwrap_or(body.len());
            let line = &body[..line_end];
            if has(line, "\"detail-type\"") && has(line, "via CloudTrail") {
                Some(AuditFormat::EventBridgeLines)
            } else if gcp_entry(line) {
                Some(AuditFormat::GcpLines)
            } else if azure_entry(line) && has(line, "\"time\"") {
                Some(AuditFormat::AzureLines)
            } else {
                None
            }
        }
        b'[' => {
            if gcp_entry(body) {
                Some(AuditFormat::GcpArray)
            } else if azure_entry(body) {
                Some(AuditFormat::AzureArray)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A reader that hashes what passes through it (SHA-256 of the uncompressed content, which
/// CloudTrail digest files list).
pub(crate) struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<R> Hashing<R> {
    pub(crate) fn new(inner: R) -> Self {
        Hashing { inner, hasher: Sha256::new() }
    }

    pub(crate) fn hex(self) -> String {
        let digest = self.hasher.finalize();
        let mut s = String::with_capacity(64);
        for b in digest.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// A problem with one record of a streamed file: where it is, and why.
#[derive(Debug, Clone)]
pub(crate) struct RecordError {
    pub(crate) locator: Locator,
    pub(crate) message: String,
}

/// Turns a record error into a pointed diagnostic: the file is read again (errors are the
/// cold path) to label the record.
pub(crate) fn record_error(name: &str, source: &crate::source::Source, e: &RecordError) -> InputError {
    let base = InputError::new(&code::UNEXPECTED_SHAPE, name, format!("{name}: {}", e.message)).with_help(
        "pass the audit log exactly as the cloud delivered or the CLI printed it; a malformed record is never skipped",
    );
    let Ok(text) = source.text() else { return base };
    let mut resolver = crate::locate::Resolver::new(&text);
    match resolver.span(&e.locator) {
        Some((off, len)) => base.with_source_text(text.as_str()).with_span(off, len, e.message.clone()),
        None => base,
    }
}

/// A serde_json error met while streaming `name`: located by the error's line and column in
/// the whole text, read again for the snippet.
pub(crate) fn stream_error(name: &str, source: &crate::source::Source, e: &serde_json::Error) -> InputError {
    match source.text() {
        Ok(text) => InputError::from_json(name, &text, 0, &text, e),
        Err(err) => err,
    }
}

/// Parses one audit file as it is read. `reader` yields the uncompressed bytes (the head
/// already read for sniffing comes first).
pub fn parse<R: BufRead>(
    fmt: AuditFormat,
    id: SourceId,
    source: &crate::source::Source,
    reader: R,
    failure: &ReadFailure,
    judge: &Judge<'_>,
) -> Result<AuditPart, InputError> {
    let name = source.name.as_str();
    match fmt {
        AuditFormat::CloudTrailFile | AuditFormat::LookupEvents => {
            let mut hashing = Hashing::new(reader);
            let fast = match fmt {
                AuditFormat::CloudTrailFile => cloudtrail::parse_delivered(id, source, &mut hashing, failure, judge)?,
                _ => None,
            };
            let ((trail, first, last, region, account), sha256) = match fast {
                Some(parsed) => (parsed, hashing.hex()),
                None => {
                    // Not the plain delivered shape, or a record to report: read it again, with
                    // serde, from the start.
                    let mut hashing = Hashing::new(source.reader()?);
                    let parsed = {
                        let buffered = std::io::BufReader::with_capacity(256 * 1024, &mut hashing);
                        cloudtrail::parse_document(fmt, id, source, buffered, failure, judge)?
                    };
                    (parsed, hashing.hex())
                }
            };
            let records = trail.counts.records;
            let file = (fmt == AuditFormat::CloudTrailFile).then(|| {
                let hints = crate::ingest::inventory::Hints::from_name(name);
                AuditFile {
                    source: id,
                    path: name.to_owned(),
                    sha256,
                    region: region.or(hints.region),
                    account: account.or(hints.account),
                    first_event: first,
                    last_event: last,
                    records,
                }
            });
            Ok(AuditPart { trail, file, digest: None })
        }
        AuditFormat::CloudTrailDigest => {
            let mut bytes = Vec::new();
            let mut reader = reader;
            reader.read_to_end(&mut bytes).map_err(|e| failure.error(&e))?;
            let d = digest::parse(id, source, &bytes)?;
            Ok(AuditPart { trail: AuditTrail::default(), file: None, digest: Some(d) })
        }
        AuditFormat::EventBridgeLines => cloudtrail::parse_eventbridge(id, source, reader, failure, judge)
            .map(|trail| AuditPart { trail, file: None, digest: None }),
        AuditFormat::GcpArray | AuditFormat::GcpLines => gcp::parse(fmt, id, source, reader, failure, judge)
            .map(|trail| AuditPart { trail, file: None, digest: None }),
        AuditFormat::AzureArray | AuditFormat::AzureRecords | AuditFormat::AzureLines => {
            azure::parse(fmt, id, source, reader, failure, judge).map(|trail| AuditPart {
                trail,
                file: None,
                digest: None,
            })
        }
    }
}

/// Reads lines of a newline-delimited audit log, calling `f` with each non-blank line and its
/// 1-based number. Invalid UTF-8 and JSON errors point at the line.
pub(crate) fn for_each_line<R: BufRead>(
    name: &str,
    mut reader: R,
    failure: &ReadFailure,
    f: &mut dyn FnMut(u32, &str) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut buf = Vec::new();
    let mut n: u32 = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(|e| failure.error(&e))? == 0 {
            return Ok(());
        }
        n = n.saturating_add(1);
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|e| {
            InputError::new(
                &code::BAD_ENCODING,
                name,
                format!("{name} line {n} is not UTF-8 text (invalid byte at byte {})", e.valid_up_to() + 1),
            )
            .with_help("audit logs are UTF-8 JSON as the cloud writes them")
        })?;
        if text.trim().is_empty() {
            continue;
        }
        f(n, text)?;
    }
}

/// A JSON error on line `n` of a newline-delimited file, with the line as its snippet.
pub(crate) fn line_json_error(name: &str, n: u32, line: &str, e: &serde_json::Error) -> InputError {
    let mut text = "\n".repeat(n.saturating_sub(1) as usize);
    let base = text.len();
    text.push_str(line);
    let mut err = InputError::from_json(name, &text, base, line, e);
    if let Some(rest) = err.message.strip_prefix(name) {
        err.message = format!("{name} line {n}{rest}");
    }
    err
}

/// A shape error on line `n` of a newline-delimited file.
pub(crate) fn line_shape_error(name: &str, n: u32, line: &str, message: &str) -> InputError {
    let mut text = "\n".repeat(n.saturating_sub(1) as usize);
    let base = text.len();
    text.push_str(line);
    InputError::new(&code::UNEXPECTED_SHAPE, name, format!("{name} line {n}: {message}"))
        .with_help("pass the audit log exactly as the cloud delivered it; a malformed record is never skipped")
        .with_source_text(text)
        .with_span(base, line.len().clamp(1, 80), message.to_owned())
}

/// Parses an RFC 3339 time as the logs write it (`2026-11-20T10:15:02Z`, with fractions or an
/// offset).
pub(crate) fn timestamp(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// A string member, or `None`.
pub(crate) fn str_of<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty())
}

/// Streams a JSON array of records — the whole document (`key: None`) or the array under a
/// top-level member — handing each record to `f` with its index. Nothing but one record is
/// held at a time.
pub(crate) fn stream_array<R: std::io::Read>(
    source: &crate::source::Source,
    mut reader: R,
    key: Option<&'static str>,
    failure: &ReadFailure,
    f: &mut dyn FnMut(u32, serde_json::Value) -> Result<(), RecordError>,
) -> Result<(), InputError> {
    use serde::de::{DeserializeSeed, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
    struct Items<'a> {
        f: &'a mut dyn FnMut(u32, serde_json::Value) -> Result<(), RecordError>,
        error: &'a mut Option<RecordError>,
    }
    impl<'de> DeserializeSeed<'de> for Items<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of audit records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0u32;
            while let Some(v) = seq.next_element::<serde_json::Value>()? {
                if let Err(e) = (self.f)(i, v) {
                    *self.error = Some(e);
                    return Err(A::Error::custom("malformed record"));
                }
                i = i.saturating_add(1);
            }
            Ok(())
        }
    }
    struct Top<'a> {
        key: &'static str,
        items: Items<'a>,
        found: &'a mut bool,
    }
    impl<'de> DeserializeSeed<'de> for Top<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an object with `{}`", self.key)
        }
        fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<(), M::Error> {
            let Top { key, items, found } = self;
            let mut items = Some(items);
            while let Some(k) = m.next_key::<String>()? {
                match (k == key, items.take()) {
                    (true, Some(it)) => {
                        *found = true;
                        m.next_value_seed(it)?;
                    }
                    (_, it) => {
                        items = it;
                        m.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }
    let name = source.name.as_str();
    let mut error = None;
    let mut found = key.is_none();
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut reader);
        let items = Items { f, error: &mut error };
        let r = match key {
            None => items.deserialize(&mut de),
            Some(key) => Top { key, items, found: &mut found }.deserialize(&mut de),
        };
        r.and_then(|()| de.end())
    };
    if let Some(e) = error {
        return Err(record_error(name, source, &e));
    }
    if let Err(e) = result {
        if e.is_io() {
            return Err(failure.error(&std::io::Error::other(e.to_string())));
        }
        return Err(stream_error(name, source, &e));
    }
    if !found {
        return Err(record_error(
            name,
            source,
            &RecordError {
                locator: Locator::default(),
                message: format!("the file has no `{}` array", key.unwrap_or("")),
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_audit_formats() {
        assert_eq!(sniff(br#"{"Records":[{"eventVersion":"1.09"}]}"#), Some(AuditFormat::CloudTrailFile));
        assert_eq!(
            sniff(b"{\n    \"Events\": [\n        {\n            \"EventId\": \"x\""),
            Some(AuditFormat::LookupEvents)
        );
        assert_eq!(
            sniff(b"{\"version\":\"0\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}\n"),
            Some(AuditFormat::EventBridgeLines)
        );
        let gcp = br#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog"},"insertId":"1"}"#;
        assert_eq!(sniff(gcp), Some(AuditFormat::GcpLines));
        assert_eq!(sniff(&[b"[", &gcp[..], b"]"].concat()), Some(AuditFormat::GcpArray));
        assert_eq!(
            sniff(br#"[{"caller":"a@b.c","eventDataId":"1","operationName":{"value":"x"}}]"#),
            Some(AuditFormat::AzureArray)
        );
        assert_eq!(
            sniff(br#"{"records":[{"time":"t","resourceId":"/x","operationName":"X","caller":"c"}]}"#),
            Some(AuditFormat::AzureRecords)
        );
        assert_eq!(sniff(br#"{"version":4,"lineage":"x"}"#), None);
        assert_eq!(
            sniff(br#"{"awsAccountId":"1","digestStartTime":"t","digestEndTime":"t","logFiles":[]}"#),
            Some(AuditFormat::CloudTrailDigest)
        );
        assert_eq!(sniff(br#"{"awsAccountId":"1","logFiles":[]}"#), None);
        assert_eq!(sniff(b"[1,2]"), None);
    }

    fn event(kind: PrincipalType, id: &str, ua: Option<&str>) -> AuditEvent {
        AuditEvent {
            cloud: crate::model::Cloud::Aws,
            event_id: "e1".into(),
            name: "CreateTags".into(),
            time: "2026-11-20T10:00:00Z".parse().unwrap(),
            source: "ec2.amazonaws.com".into(),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            principal: crate::model::Principal {
                kind: Some(kind),
                id: id.into(),
                display: id.into(),
                ..Default::default()
            },
            invoked_by: None,
            user_agent: ua.map(str::to_owned),
            app_id: None,
            source_ip: None,
            read_only: Some(false),
            error_code: None,
            event_type: Some("AwsApiCall".into()),
            console_session: false,
            operation: None,
            resources: Vec::new(),
            source_id: SourceId(0),
            locator: Locator::default(),
        }
    }

    const TF: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io) terraform-provider-aws/5.100.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.23.10 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.224.1 m/C,e";
    const CI: &str = "arn:aws:iam::123456789012:role/platform-ci-deployer";

    fn verdict(config: &str, ev: AuditEvent, problem: Option<&str>) -> (Verdict, String) {
        let c = crate::config::Config::parse("d.toml", config).unwrap();
        let judge = Judge {
            record: c.governance.as_ref(),
            break_glass_problem: problem.map(str::to_owned),
            tools: ToolCatalog::builtin(),
            catalog: Catalog::builtin(),
            events: events::EventTable::builtin(),
            window: Window::default(),
            interest: None,
        };
        match judge.judge(ev, &mut Default::default()) {
            Outcome::Write(j) => (j.verdict, j.reason),
            _ => panic!("not judged as a write"),
        }
    }

    const RECORD: &str = "[governance]\nprincipals = [\"arn:aws:iam::123456789012:role/platform-ci-*\"]\ntools = [{ name = \"terraform\", version = \">=1.11, <1.12\" }, { name = \"terraform-provider-aws\", version = \"=5.100\" }]\nbreak_glass = { principals = [\"arn:aws:iam::123456789012:role/break-glass\"], document = \"gov/emergency.md\" }\n";

    #[test]
    fn verdicts() {
        use PrincipalType::*;
        assert_eq!(verdict(RECORD, event(AssumedRole, CI, Some(TF)), None).0, Verdict::Authorized);
        // The pipeline's role from the console is a person.
        let mut console = event(AssumedRole, CI, Some(TF));
        console.console_session = true;
        let (v, why) = verdict(RECORD, console, None);
        assert_eq!(v, Verdict::ManualIntervention);
        assert!(why.contains("pipeline principal"), "{why}");
        // Unknown and missing user agents are unknown tools.
        assert_eq!(verdict(RECORD, event(AssumedRole, CI, Some("curl/8.5.0")), None).0, Verdict::UndocumentedTooling);
        assert_eq!(verdict(RECORD, event(AssumedRole, CI, None), None).0, Verdict::UndocumentedTooling);
        // A provider the record does not list; a core version nobody can read.
        let no_provider = "[governance]\nprincipals = [\"arn:aws:iam::123456789012:role/platform-ci-deployer\"]\ntools = [{ name = \"terraform\" }]\n";
        let (v, why) = verdict(no_provider, event(AssumedRole, CI, Some(TF)), None);
        assert_eq!(v, Verdict::UndocumentedTooling);
        assert!(why.contains("terraform-provider-aws 5.100.0"), "{why}");
        let compat = TF.replace("Terraform/1.11.4", "Terraform/0.11+compatible");
        let (v, why) = verdict(RECORD, event(AssumedRole, CI, Some(&compat)), None);
        assert_eq!(v, Verdict::UndocumentedTooling);
        assert!(why.contains("cannot be verified"), "{why}");
        // A record naming OpenTofu accepts the `Terraform/` token of its providers.
        let tofu = "[governance]\nprincipals = [\"arn:aws:iam::123456789012:role/platform-ci-deployer\"]\ntools = [{ name = \"opentofu\", version = \">=1.11, <1.12\" }, { name = \"terraform-provider-aws\" }]\n";
        assert_eq!(verdict(tofu, event(AssumedRole, CI, Some(TF)), None).0, Verdict::Authorized);
        // Undocumented automation; people.
        let other = "arn:aws:iam::123456789012:role/nightly-cleanup";
        assert_eq!(verdict(RECORD, event(AssumedRole, other, Some(TF)), None).0, Verdict::UndocumentedTooling);
        assert_eq!(verdict(RECORD, event(IdentityCenter, "x", Some(TF)), None).0, Verdict::ManualIntervention);
        assert_eq!(
            verdict(RECORD, event(Root, "arn:aws:iam::123456789012:root", None), None).0,
            Verdict::ManualIntervention
        );
        let mut delegated = event(GcpServiceAccount, "ci@p.iam.gserviceaccount.com", Some(TF));
        delegated.principal.delegated_by = Some("bob@example.com".into());
        assert_eq!(verdict(RECORD, delegated, None).0, Verdict::ManualIntervention);
        // Break-glass: authorized by its document, manual intervention without it.
        let bg = "arn:aws:iam::123456789012:role/break-glass";
        assert_eq!(verdict(RECORD, event(AssumedRole, bg, None), None).0, Verdict::BreakGlass);
        let (v, why) =
            verdict(RECORD, event(AssumedRole, bg, None), Some("its document gov/emergency.md does not exist"));
        assert_eq!(v, Verdict::ManualIntervention);
        assert!(why.contains("does not exist"), "{why}");
    }

    #[test]
    fn windows_are_inclusive() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let w = Window { since: Some(t("2026-11-20T00:00:00Z")), until: Some(t("2026-11-21T00:00:00Z")) };
        assert!(w.contains(t("2026-11-20T00:00:00Z")));
        assert!(w.contains(t("2026-11-21T00:00:00Z")));
        assert!(!w.contains(t("2026-11-19T23:59:59Z")));
        assert!(Window::default().contains(t("1999-01-01T00:00:00Z")));
    }

    #[test]
    fn reads_are_told_by_name_when_the_log_does_not_say() {
        assert!(reads_by_name("DescribeVpcs"));
        assert!(reads_by_name("v1.compute.instances.get"));
        assert!(reads_by_name("google.iam.admin.v1.ListServiceAccounts"));
        assert!(reads_by_name("Microsoft.Network/virtualNetworks/read"));
        assert!(!reads_by_name("v1.compute.firewalls.insert"));
        assert!(!reads_by_name("CreateTags"));
    }
}
