//! AWS CloudTrail: log files as delivered to S3 (`{"Records":[…]}`), `aws cloudtrail
//! lookup-events` output (each record a JSON *string* in `Events[].CloudTrailEvent`), and
//! records delivered through EventBridge (`detail-type: "AWS API Call via CloudTrail"`, the
//! record in `detail`, one event per line). Field reference: `../formats.md` §8.

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::events::{self, Place};
use super::{AuditFormat, Judge, RecordError, Sink};
use crate::error::InputError;
use crate::ingest::inventory::Hints;
use crate::model::{Action, AuditEvent, AuditTrail, Cloud, Locator, Principal, PrincipalType, Seg, touch_key};
use crate::source::{ReadBuffer, ReadFailure, Source, SourceId};

/// `true`, or the string `"true"` (lookup-events and `sessionCredentialFromConsole` write
/// strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn get(&self) -> Option<bool> {
        match self {
            Flag::Bool(b) => Some(*b),
            Flag::Text(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Flag::Text(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Flag::Text(_) => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issuer {
    #[serde(rename = "type")]
    type_: Option<String>,
    arn: Option<String>,
    user_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext {
    session_issuer: Option<Issuer>,
    source_identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(rename = "type")]
    type_: Option<String>,
    principal_id: Option<String>,
    arn: Option<String>,
    account_id: Option<String>,
    user_name: Option<String>,
    invoked_by: Option<String>,
    session_context: Option<SessionContext>,
}

#[derive(Debug, Deserialize)]
struct CtResource {
    #[serde(rename = "ARN")]
    arn: Option<String>,
}

/// The members of a CloudTrail record driftlock reads; the others are skipped unparsed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CtRecord {
    event_version: Option<String>,
    user_identity: Option<UserIdentity>,
    event_time: Option<String>,
    event_source: Option<String>,
    event_name: Option<String>,
    aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    user_agent: Option<String>,
    request_parameters: Option<Box<RawValue>>,
    response_elements: Option<Box<RawValue>>,
    error_code: Option<String>,
    #[serde(rename = "eventID")]
    event_id: Option<String>,
    read_only: Option<Flag>,
    resources: Option<Vec<CtResource>>,
    event_type: Option<String>,
    recipient_account_id: Option<String>,
    session_credential_from_console: Option<Flag>,
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
fn partition(region: Option<&str>, arn: Option<&str>) -> &'static str {
    let from_arn = arn.and_then(crate::catalog::arn::Arn::parse).map(|a| a.partition);
    match from_arn {
        Some("aws-cn") => "aws-cn",
        Some("aws-us-gov") => "aws-us-gov",
        Some(_) => "aws",
        None => match region {
            Some(r) if r.starts_with("cn-") => "aws-cn",
            Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
            _ => "aws",
        },
    }
}

/// `arn:aws:sts::1:assumed-role/NAME/session` → `arn:aws:iam::1:role/NAME`.
fn role_of_session(arn: &str) -> Option<String> {
    let a = crate::catalog::arn::Arn::parse(arn)?;
    let rest = a.resource.strip_prefix("assumed-role/")?;
    let name = rest.split('/').next()?;
    Some(format!("arn:{}:iam::{}:role/{name}", a.partition, a.account))
}

fn principal(u: &UserIdentity) -> Principal {
    let kind = u.type_.as_deref().unwrap_or("");
    let arn = u.arn.clone().unwrap_or_default();
    let mut p = Principal { display: arn.clone(), ..Principal::default() };
    match kind {
        "Root" => {
            p.kind = Some(PrincipalType::Root);
            p.id = arn;
        }
        "IAMUser" => {
            p.kind = Some(PrincipalType::IamUser);
            p.id = arn;
            p.aliases.extend(u.user_name.clone());
        }
        "AssumedRole" | "Role" => {
            let issuer = u.session_context.as_ref().and_then(|c| c.session_issuer.as_ref());
            let role =
                issuer.and_then(|i| i.arn.clone()).or_else(|| role_of_session(&arn)).unwrap_or_else(|| arn.clone());
            let name = issuer
                .and_then(|i| i.user_name.clone())
                .unwrap_or_else(|| role.rsplit('/').next().unwrap_or("").to_owned());
            p.kind = Some(if name.starts_with("AWSReservedSSO_") {
                PrincipalType::IdentityCenter
            } else if issuer.and_then(|i| i.type_.as_deref()) == Some("IAMUser") {
                PrincipalType::FederatedUser
            } else {
                PrincipalType::AssumedRole
            });
            p.session =
                arn.rsplit('/').next().filter(|s| !s.is_empty() && arn.contains("assumed-role/")).map(str::to_owned);
            p.id = role;
            if let Some(si) = u.session_context.as_ref().and_then(|c| c.source_identity.clone()) {
                p.aliases.push(si);
            }
        }
        "FederatedUser" => {
            p.kind = Some(PrincipalType::FederatedUser);
            p.id = arn;
        }
        "IdentityCenterUser" => {
            p.kind = Some(PrincipalType::IdentityCenter);
            p.id = u.user_name.clone().or_else(|| u.principal_id.clone()).unwrap_or_default();
        }
        "AWSService" => {
            p.kind = Some(PrincipalType::AwsService);
            p.id = u.invoked_by.clone().unwrap_or_default();
        }
        "AWSAccount" => {
            p.kind = Some(PrincipalType::AwsAccount);
            p.id = u.account_id.clone().or_else(|| u.principal_id.clone()).unwrap_or_default();
        }
        _ => {
            p.kind = Some(PrincipalType::Unknown);
            p.id = if arn.is_empty() {
                u.user_name.clone().or_else(|| u.principal_id.clone()).unwrap_or_default()
            } else {
                arn
            };
        }
    }
    if p.display.is_empty() {
        p.display = p.id.clone();
    }
    p
}

/// The event version must be 1.x (`../formats.md` §8: major exact, minor at least 0).
fn check_version(v: Option<&str>) -> Result<(), String> {
    match v {
        None => Ok(()),
        Some(v) if v.split('.').next() == Some("1") => Ok(()),
        Some(v) => Err(format!("eventVersion {v:?}: driftlock reads CloudTrail record versions 1.x")),
    }
}

/// What tying a record to resources needs, kept until the record turns out to be a write that
/// needs it: most writes of a trail are the pipeline's, authorized, and touch nothing the
/// estate knows, so their parameters are never parsed into a tree.
pub(crate) struct Deferred {
    request_parameters: Option<Box<RawValue>>,
    response_elements: Option<Box<RawValue>>,
    resources: Option<Vec<CtResource>>,
    user_arn: Option<String>,
}

impl Deferred {
    /// Fills `ev.resources`: the ids the event table finds in the parameters, and the record's
    /// `resources[].ARN`.
    pub(crate) fn resolve(self, judge: &Judge<'_>, ev: &mut AuditEvent) {
        let mut resources: Vec<(String, Action)> = Vec::new();
        let rules = judge.events.rules(&ev.source, &ev.name);
        if !rules.is_empty() {
            let parse = |r: &Option<Box<RawValue>>| -> Value {
                r.as_ref().and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or(Value::Null)
            };
            let record = serde_json::json!({
                "requestParameters": parse(&self.request_parameters),
                "responseElements": parse(&self.response_elements),
            });
            let place = Place {
                partition: partition(ev.region.as_deref(), self.user_arn.as_deref()),
                region: ev.region.as_deref(),
                account: ev.account.as_deref(),
            };
            resources = events::touched(judge.events, judge.catalog, rules, &record, &place);
        }
        let default_action = rules.first().map_or(Action::Change, |r| r.action);
        for r in self.resources.iter().flatten() {
            if let Some(a) = r.arn.as_deref().filter(|a| a.starts_with("arn:")) {
                if !resources.iter().any(|(x, _)| x == a) {
                    resources.push((a.to_owned(), default_action));
                }
            }
        }
        for r in &mut resources {
            r.0 = touch_key(&r.0);
        }
        resources.sort();
        resources.dedup();
        ev.resources = resources;
    }
}

/// Turns a record into an event (or says what is wrong with it). Its resources are left to
/// [`Deferred::resolve`], which the sink calls for the writes that need them.
fn to_event(rec: CtRecord, id: SourceId, locator: Locator, hints: &Hints) -> Result<(AuditEvent, Deferred), String> {
    check_version(rec.event_version.as_deref())?;
    let need =
        |v: Option<String>, k: &str| v.filter(|s| !s.is_empty()).ok_or_else(|| format!("the record has no `{k}`"));
    let time_text = need(rec.event_time, "eventTime")?;
    let time =
        super::timestamp(&time_text).ok_or_else(|| format!("`eventTime` {time_text:?} is not an RFC 3339 time"))?;
    let name = need(rec.event_name, "eventName")?;
    let source = need(rec.event_source, "eventSource")?;
    let event_id = need(rec.event_id, "eventID")?;
    let u = rec.user_identity.unwrap_or_default();
    let read_only = rec.read_only.as_ref().and_then(Flag::get);
    // Reads and failed calls are never judged on who made them: skip building the principal.
    let p = if read_only == Some(true) || rec.error_code.is_some() { Principal::default() } else { principal(&u) };
    let region = rec.aws_region.filter(|r| !r.is_empty()).or_else(|| hints.region.clone());
    let account = rec
        .recipient_account_id
        .filter(|a| !a.is_empty())
        .or_else(|| u.account_id.clone())
        .or_else(|| hints.account.clone());
    let deferred = Deferred {
        request_parameters: rec.request_parameters,
        response_elements: rec.response_elements,
        resources: rec.resources,
        user_arn: u.arn,
    };
    let ev = AuditEvent {
        cloud: Cloud::Aws,
        event_id,
        name,
        time,
        source,
        region,
        account,
        principal: p,
        invoked_by: u.invoked_by.filter(|s| !s.is_empty()),
        user_agent: rec.user_agent,
        app_id: None,
        source_ip: rec.source_ip_address,
        read_only,
        error_code: rec.error_code.filter(|s| !s.is_empty()),
        event_type: rec.event_type,
        console_session: rec.session_credential_from_console.as_ref().and_then(Flag::get).unwrap_or(false),
        operation: None,
        resources: Vec::new(),
        source_id: id,
        locator,
    };
    Ok((ev, deferred))
}

/// Streams the top-level object, handing the array under `key` to [`Records`].
struct Document<'a, 'j> {
    fmt: AuditFormat,
    sink: &'a mut Sink<'j>,
    error: &'a mut Option<RecordError>,
    id: SourceId,
    hints: &'a Hints,
    found: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let key_wanted = match self.fmt {
            AuditFormat::LookupEvents => "Events",
            _ => "Records",
        };
        while let Some(k) = m.next_key::<String>()? {
            if k == key_wanted {
                *self.found = true;
                m.next_value_seed(Records {
                    fmt: self.fmt,
                    sink: &mut *self.sink,
                    error: &mut *self.error,
                    id: self.id,
                    hints: self.hints,
                })?;
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Streams the records array: one record parsed, judged and dropped at a time.
struct Records<'a, 'j> {
    fmt: AuditFormat,
    sink: &'a mut Sink<'j>,
    error: &'a mut Option<RecordError>,
    id: SourceId,
    hints: &'a Hints,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

#[derive(Debug, Deserialize)]
struct LookupEvent {
    #[serde(rename = "CloudTrailEvent")]
    cloud_trail_event: Option<String>,
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut i: u32 = 0;
        loop {
            let (rec, locator) = match self.fmt {
                AuditFormat::LookupEvents => {
                    let Some(e) = seq.next_element::<LookupEvent>()? else { break };
                    let locator = Locator::new(vec![Seg::Key("Events"), Seg::Index(i)]).focus("EventName");
                    let Some(text) = e.cloud_trail_event else {
                        *self.error =
                            Some(RecordError { locator, message: format!("event {i} has no `CloudTrailEvent`") });
                        return Err(A::Error::custom("malformed record"));
                    };
                    match serde_json::from_str::<CtRecord>(&text) {
                        Ok(r) => (r, locator),
                        Err(e) => {
                            *self.error = Some(RecordError {
                                locator,
                                message: format!("event {i}: `CloudTrailEvent` is not a CloudTrail record: {e}"),
                            });
                            return Err(A::Error::custom("malformed record"));
                        }
                    }
                }
                _ => {
                    let Some(r) = seq.next_element::<CtRecord>()? else { break };
                    (r, Locator::new(vec![Seg::Key("Records"), Seg::Index(i)]).focus("eventName"))
                }
            };
            match to_event(rec, self.id, locator.clone(), self.hints) {
                Ok((ev, deferred)) => self.sink.add_with(ev, deferred),
                Err(message) => {
                    *self.error = Some(RecordError { locator, message: format!("record {i}: {message}") });
                    return Err(A::Error::custom("malformed record"));
                }
            }
            i = i.saturating_add(1);
        }
        Ok(())
    }
}

type Parsed = (AuditTrail, Option<jiff::Timestamp>, Option<jiff::Timestamp>, Option<String>, Option<String>);

/// Streams a CloudTrail log file or lookup-events output.
pub(crate) fn parse_document<R: std::io::Read>(
    fmt: AuditFormat,
    id: SourceId,
    source: &Source,
    mut reader: R,
    failure: &ReadFailure,
    judge: &Judge<'_>,
) -> Result<Parsed, InputError> {
    let name = source.name.as_str();
    let hints = Hints::from_name(name);
    let mut sink = Sink::new(judge, id);
    let mut error = None;
    let mut found = false;
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut reader);
        let r = Document { fmt, sink: &mut sink, error: &mut error, id, hints: &hints, found: &mut found }
            .deserialize(&mut de);
        r.and_then(|()| de.end())
    };
    if let Some(e) = error {
        return Err(super::record_error(name, source, &e));
    }
    if let Err(e) = result {
        if e.is_io() {
            let io = std::io::Error::other(e.to_string());
            return Err(failure.error(&io));
        }
        return Err(super::stream_error(name, source, &e));
    }
    // Read what is left (trailing whitespace) so the hash covers the whole file.
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| failure.error(&e))?;
    if !found {
        let key = if fmt == AuditFormat::LookupEvents { "Events" } else { "Records" };
        return Err(super::record_error(
            name,
            source,
            &RecordError { locator: Locator::default(), message: format!("the file has no `{key}` array") },
        ));
    }
    Ok(sink.finish())
}

/// A buffer over a reader that keeps what is not consumed yet (at most one record and a
/// chunk). `buf[pos..end]` is what was read and not consumed; the buffer is this thread's
/// [`ReadBuffer`], so the next file it reads reuses it (no page faults, no zeroing per file).
struct Window<R> {
    reader: R,
    buf: ReadBuffer,
    pos: usize,
    end: usize,
}

const CHUNK: usize = 1 << 20;

impl<R> Window<R> {
    fn new(reader: R) -> Self {
        // An ordinary buffer is kept for the next file; one grown for a giant record goes.
        let mut buf = ReadBuffer::take(4 * CHUNK);
        if buf.len() < 2 * CHUNK {
            buf.resize(2 * CHUNK, 0);
        }
        Window { reader, buf, pos: 0, end: 0 }
    }
}

impl<R: std::io::Read> Window<R> {
    /// Reads more, moving what is kept to the front; returns how far the kept bytes moved
    /// left, or `None` at the end of input.
    fn fill(&mut self) -> std::io::Result<Option<usize>> {
        let shift = self.pos;
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() - self.end < CHUNK {
            // A record longer than the buffer: grow it.
            self.buf.resize(self.end + 2 * CHUNK, 0);
        }
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        Ok((n > 0).then_some(shift))
    }

    /// The next byte that is not whitespace (not consumed).
    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            while self.pos < self.end && self.buf[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.pos < self.end {
                return Ok(Some(self.buf[self.pos]));
            }
            if self.fill()?.is_none() {
                return Ok(None);
            }
        }
    }
}

/// The fast path for delivered log files (`{"Records":[…]}` as CloudTrail writes it): records
/// are parsed from memory one at a time as the stream is read (serde says where each ends). `None`
/// when the file is not in that plain shape or a record does not parse: the caller reads it
/// again with the serde path ([`parse_document`]), which says exactly what and where.
pub(crate) fn parse_delivered<R: std::io::Read>(
    id: SourceId,
    source: &Source,
    reader: R,
    failure: &ReadFailure,
    judge: &Judge<'_>,
) -> Result<Option<Parsed>, InputError> {
    let hints = Hints::from_name(&source.name);
    let mut sink = Sink::new(judge, id);
    let mut w = Window::new(reader);
    let io = |e: std::io::Error| failure.error(&e);
    macro_rules! expect {
        ($byte:expr) => {
            if w.peek().map_err(io)? != Some($byte) {
                return Ok(None);
            }
            w.pos += 1;
        };
    }
    expect!(b'{');
    expect!(b'"');
    while w.end - w.pos < 8 {
        if w.fill().map_err(io)?.is_none() {
            return Ok(None);
        }
    }
    if &w.buf[w.pos..w.pos + 8] != b"Records\"" {
        return Ok(None);
    }
    w.pos += 8;
    expect!(b':');
    expect!(b'[');
    let mut i: u32 = 0;
    loop {
        match w.peek().map_err(io)? {
            Some(b']') => {
                w.pos += 1;
                break;
            }
            Some(b',') if i > 0 => w.pos += 1,
            Some(b'{') => {
                // Parsed straight from the buffer; serde says where the record ended. A record
                // cut by the end of the buffer is parsed again once more is read.
                let (rec, used) = loop {
                    let mut stream = serde_json::Deserializer::from_slice(&w.buf[w.pos..w.end]).into_iter::<CtRecord>();
                    match stream.next() {
                        Some(Ok(rec)) => break (rec, stream.byte_offset()),
                        Some(Err(e)) if e.is_eof() => {
                            if w.fill().map_err(io)?.is_none() {
                                return Ok(None);
                            }
                        }
                        _ => return Ok(None),
                    }
                };
                let end = w.pos + used;
                let locator = Locator::new(vec![Seg::Key("Records"), Seg::Index(i)]).focus("eventName");
                let Ok((ev, deferred)) = to_event(rec, id, locator, &hints) else { return Ok(None) };
                sink.add_with(ev, deferred);
                w.pos = end;
                i = i.saturating_add(1);
            }
            _ => return Ok(None),
        }
    }
    expect!(b'}');
    if w.peek().map_err(io)?.is_some() {
        return Ok(None);
    }
    Ok(Some(sink.finish()))
}

#[derive(Debug, Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    account: Option<String>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
}

/// CloudTrail records delivered through EventBridge, one event per line.
pub(crate) fn parse_eventbridge<R: BufRead>(
    id: SourceId,
    source: &Source,
    reader: R,
    failure: &ReadFailure,
    judge: &Judge<'_>,
) -> Result<AuditTrail, InputError> {
    let name = source.name.as_str();
    let base_hints = Hints::from_name(name);
    let mut sink = Sink::new(judge, id);
    super::for_each_line(name, reader, failure, &mut |n, line| {
        let env: Envelope<'_> = serde_json::from_str(line).map_err(|e| super::line_json_error(name, n, line, &e))?;
        let dt = env.detail_type.as_deref().unwrap_or("");
        if !dt.ends_with("via CloudTrail") {
            return Err(super::line_shape_error(
                name,
                n,
                line,
                &format!("`detail-type` is {dt:?}, not a CloudTrail event delivered through EventBridge"),
            ));
        }
        let Some(detail) = env.detail else {
            return Err(super::line_shape_error(name, n, line, "the event has no `detail` (the CloudTrail record)"));
        };
        let rec: CtRecord = serde_json::from_str(detail.get()).map_err(|e| {
            super::line_shape_error(name, n, line, &format!("`detail` is not a CloudTrail record: {e}"))
        })?;
        let mut hints = base_hints.clone();
        if hints.account.is_none() {
            hints.account = env.account.clone();
        }
        let (ev, deferred) = to_event(rec, id, Locator::new(vec![Seg::Line(n)]).focus("detail"), &hints)
            .map_err(|m| super::line_shape_error(name, n, line, &m))?;
        sink.add_with(ev, deferred);
        Ok(())
    })?;
    Ok(sink.finish().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(json: &str) -> Principal {
        principal(&serde_json::from_str::<UserIdentity>(json).unwrap())
    }

    #[test]
    fn principals_by_identity_type() {
        let p = ident(
            r#"{"type":"AssumedRole","principalId":"AROA:ci","arn":"arn:aws:sts::123456789012:assumed-role/platform-ci-deployer/ci-run-42","accountId":"123456789012","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::123456789012:role/platform-ci-deployer","userName":"platform-ci-deployer"}}}"#,
        );
        assert_eq!(p.kind(), PrincipalType::AssumedRole);
        assert_eq!(p.id, "arn:aws:iam::123456789012:role/platform-ci-deployer");
        assert_eq!(p.session.as_deref(), Some("ci-run-42"));
        let sso = ident(
            r#"{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com"}"#,
        );
        assert_eq!(sso.kind(), PrincipalType::IdentityCenter);
        assert_eq!(sso.id, "arn:aws:iam::1:role/AWSReservedSSO_Admin_0123");
        assert_eq!(ident(r#"{"type":"Root","arn":"arn:aws:iam::1:root"}"#).kind(), PrincipalType::Root);
        let u = ident(r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice","userName":"alice"}"#);
        assert_eq!((u.kind(), u.id.as_str()), (PrincipalType::IamUser, "arn:aws:iam::1:user/alice"));
        assert_eq!(ident(r#"{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}"#).kind(), PrincipalType::AwsService);
        assert_eq!(ident("{}").kind(), PrincipalType::Unknown);
    }

    fn judge() -> Judge<'static> {
        Judge {
            record: None,
            break_glass_problem: None,
            tools: crate::tools::ToolCatalog::builtin(),
            catalog: crate::catalog::Catalog::builtin(),
            events: events::EventTable::builtin(),
            window: super::super::Window::default(),
            interest: None,
        }
    }

    #[test]
    fn the_fast_path_cuts_records_across_chunks_and_strings() {
        // Braces and escaped quotes inside strings, records across 1 MiB reads.
        let rec = |i: usize| {
            format!(
                r#"{{"eventVersion":"1.11","eventTime":"2026-11-20T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateTags","eventID":"e{i}","readOnly":false,"userAgent":"x \"}}{{ y","requestParameters":{{"resourcesSet":{{"items":[{{"resourceId":"vpc-{i}"}}]}},"pad":"{}"}},"recipientAccountId":"1","awsRegion":"us-east-1"}}"#,
                "}".repeat(300)
            )
        };
        let body = format!("{{ \"Records\" : [ {} ] }}\n", (0..5000).map(rec).collect::<Vec<_>>().join(" , "));
        assert!(body.len() > 2 * CHUNK);
        let src = Source::memory("t.json", body.clone().into_bytes());
        let j = judge();
        let failure = src.reader().unwrap().failure();
        let parsed = parse_delivered(SourceId(0), &src, body.as_bytes(), &failure, &j).unwrap().expect("fast path");
        assert_eq!(parsed.0.counts.records, 5000);
        assert_eq!(parsed.0.counts.writes, 5000);
        // Anything else goes to the serde path.
        for other in [
            r#"{"Other":1,"Records":[]}"#,
            r#"{"Records":[{"eventTime":5}]}"#,
            r#"{"Records":[]} x"#,
            r#"{"Records":["#,
        ] {
            assert!(parse_delivered(SourceId(0), &src, other.as_bytes(), &failure, &j).unwrap().is_none(), "{other}");
        }
        let empty = parse_delivered(SourceId(0), &src, &b"{\"Records\":[]}"[..], &failure, &j).unwrap().unwrap();
        assert_eq!(empty.0.counts.records, 0);
        // A record longer than the reused buffer grows it, on a thread whose buffer is warm.
        let giant = rec(1).replace(&"}".repeat(300), &"x".repeat(5 * CHUNK));
        let body = format!("{{\"Records\":[{},{giant},{}]}}", rec(0), rec(2));
        let parsed = parse_delivered(SourceId(0), &src, body.as_bytes(), &failure, &j).unwrap().expect("fast path");
        assert_eq!(parsed.0.counts.records, 3);
    }

    #[test]
    fn record_versions() {
        assert!(check_version(Some("1.11")).is_ok());
        assert!(check_version(Some("2.0")).is_err());
    }
}
