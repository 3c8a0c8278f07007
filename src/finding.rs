//! Findings are data: what a check found, where, and how much it weighs. Rendering is elsewhere.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::code::{CodeInfo, Condition, Severity};
use crate::model::Locator;
use crate::source::SourceId;

/// One finding, as the JSON report carries it (fields of `driftlock/report/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable kebab-case kind (`tainted`).
    pub kind: &'static str,
    /// Stable code (`DL0101`).
    pub code: &'static str,
    pub severity: Severity,
    /// The lock's hard stop condition this finding belongs to.
    pub condition: Condition,
    pub message: String,
    /// Terraform address, when the finding is about one.
    pub address: Option<String>,
    pub resource_type: Option<String>,
    /// Canonical cloud id (ARN, asset name, ARM id), when known.
    pub cloud_id: Option<String>,
    /// The input the finding points into (path or URL).
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What to do about it.
    pub help: String,
    /// Stable across runs and machines: independent of paths, lines and order.
    pub fingerprint: String,
    /// Attribute diff (unified, sensitive values masked), for drift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The audit record behind the finding (who, when, with what), when audit logs were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// `new` or `unchanged` against the baseline report, when one was given (`--baseline`,
    /// `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::report::baseline::Status>,
    /// The configured phase whose state the finding points into, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The account (AWS account, GCP project, Azure subscription, or its name from the account
    /// map), in organisation reports (`report merge`, `--account-map`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The account's readable name, from the account map (`--account-map`, `[accounts]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Where in the input; resolved to `line`/`column` after the checks ran.
    #[serde(skip)]
    pub source: Option<SourceId>,
    #[serde(skip)]
    pub locator: Option<Locator>,
    /// Span resolved from the locator (byte offset, length).
    #[serde(skip)]
    pub span: Option<(usize, usize)>,
    /// Parts hashed into the fingerprint besides kind (lineage, address, discriminator).
    #[serde(skip)]
    pub identity: Vec<String>,
}

impl Finding {
    /// Starts a finding of `code` with its default severity.
    pub fn new(code: &'static CodeInfo, message: impl Into<String>) -> Self {
        Finding {
            kind: code.name,
            code: code.code,
            severity: code.severity,
            condition: code.condition,
            message: message.into(),
            address: None,
            resource_type: None,
            cloud_id: None,
            file: None,
            line: None,
            column: None,
            help: String::new(),
            fingerprint: String::new(),
            diff: None,
            evidence: None,
            status: None,
            phase: None,
            account: None,
            account_name: None,
            source: None,
            locator: None,
            span: None,
            identity: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn address(mut self, address: impl Into<String>, resource_type: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self.resource_type = Some(resource_type.into());
        self
    }

    /// Sets the resource type without an address (cloud-side findings).
    pub fn resource_type_only(mut self, t: impl Into<String>) -> Self {
        self.resource_type = Some(t.into());
        self
    }

    pub fn cloud_id(mut self, id: Option<String>) -> Self {
        self.cloud_id = id;
        self
    }

    pub fn at(mut self, source: SourceId, locator: Locator) -> Self {
        self.source = Some(source);
        self.locator = Some(locator);
        self
    }

    pub fn diff(mut self, diff: Option<String>) -> Self {
        self.diff = diff;
        self
    }

    /// Adds a part to the fingerprint's identity.
    pub fn identity(mut self, part: impl Into<String>) -> Self {
        self.identity.push(part.into());
        self
    }

    /// Computes the fingerprint: SHA-256 over kind, canonical id or address, and the identity
    /// parts, as 32 hex characters.
    pub fn seal(&mut self) {
        let mut h = Sha256::new();
        h.update(self.kind.as_bytes());
        for part in [self.cloud_id.as_deref(), self.address.as_deref()]
            .into_iter()
            .flatten()
            .chain(self.identity.iter().map(String::as_str))
        {
            h.update([0u8]);
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        self.fingerprint = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    }
}

/// The audit record behind a finding: the event, who made it and with what, and where the
/// record is in its log file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Evidence {
    pub event_id: String,
    pub event_name: String,
    /// RFC 3339, UTC.
    pub event_time: String,
    pub event_source: String,
    pub principal: String,
    pub principal_type: &'static str,
    /// The tool of the call, by the tool catalog's name (`None`: unknown).
    pub tool: Option<String>,
    pub tool_version: Option<String>,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    /// The log file and the 1-based line of the record.
    pub file: String,
    pub line: Option<usize>,
    #[serde(skip)]
    pub time: jiff::Timestamp,
    #[serde(skip)]
    pub source: SourceId,
    #[serde(skip)]
    pub locator: Locator,
}

impl Finding {
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence = Some(e);
        self
    }
}

/// Sorts findings deterministically: severity, code, the evidence's time and event id (audit
/// findings in the order things happened), file, line, address, cloud id, message.
pub fn sort(findings: &mut [Finding]) {
    use rayon::slice::ParallelSliceMut;
    fn when(f: &Finding) -> Option<(jiff::Timestamp, &str)> {
        f.evidence.as_ref().map(|e| (e.time, e.event_id.as_str()))
    }
    // Stable, like `sort_by`.
    findings.par_sort_by(|a, b| {
        (a.severity, a.code, when(a), &a.file, a.line, &a.address, &a.cloud_id, &a.message, &a.fingerprint).cmp(&(
            b.severity,
            b.code,
            when(b),
            &b.file,
            b.line,
            &b.address,
            &b.cloud_id,
            &b.message,
            &b.fingerprint,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code;

    #[test]
    fn fingerprint_ignores_file_and_line() {
        let mut a = Finding::new(&code::TAINTED, "x").address("aws_vpc.a", "aws_vpc").identity("lin");
        let mut b = a.clone();
        b.file = Some("other/path".into());
        b.line = Some(99);
        a.seal();
        b.seal();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 32);
        let mut c = Finding::new(&code::TAINTED, "x").address("aws_vpc.b", "aws_vpc").identity("lin");
        c.seal();
        assert_ne!(a.fingerprint, c.fingerprint);
    }
}
