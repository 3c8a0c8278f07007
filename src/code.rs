//! The catalogue of stable codes: every finding kind and every input error has one, with a
//! kebab-case name, a default severity, the lock's stop condition it belongs to, a one-line
//! summary and a long explanation (`driftlock explain CODE`).
//!
//! Codes never change meaning and are never reused. `DL00xx` are inputs that could not be
//! audited (exit 2); `DL01xx` partial execution state; `DL02xx` manual intervention; `DL03xx`
//! governance and sequencing; `DL04xx` the clean-account check; `DL05xx` plan review;
//! `DL06xx` audit trail and tooling; `DL07xx` exceptions and coverage; `DL0801`–`DL0849` remote
//! inputs that could not be read (exit 2, like `DL00xx`).

use serde::Serialize;

/// How much a finding weighs. Only `error` closes the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" | "deny" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "note" | "allow" => Some(Severity::Note),
            _ => None,
        }
    }
}

/// The execution sequencing lock's hard stop conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// A step with no locked plan, state or lock file behind it; an input that cannot be read.
    MissingGovernanceArtifacts,
    /// Resources that exist but were not created by the authorized sequence.
    PartialExecutionState,
    /// Changes made by hand.
    ManualIntervention,
    /// Changes made by tools not in the authorized record.
    UndocumentedTooling,
    /// A later phase ahead of an earlier one.
    SequencingDeviation,
    /// Anything but provider defaults before the first phase.
    NonCleanAccount,
    /// Not a stop condition: what the audit could and could not verify.
    Coverage,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::MissingGovernanceArtifacts => "missing-governance-artifacts",
            Condition::PartialExecutionState => "partial-execution-state",
            Condition::ManualIntervention => "manual-intervention",
            Condition::UndocumentedTooling => "undocumented-tooling",
            Condition::SequencingDeviation => "sequencing-deviation",
            Condition::NonCleanAccount => "non-clean-account",
            Condition::Coverage => "coverage",
        }
    }
}

/// One entry of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// `DL0101`.
    pub code: &'static str,
    /// The finding's `kind` (or the error's name): `tainted`.
    pub name: &'static str,
    /// Default severity; configuration may override it for findings.
    pub severity: Severity,
    pub condition: Condition,
    /// One line, lower-case, no trailing period.
    pub summary: &'static str,
    /// Markdown: what it finds, why it blocks, an example, how to fix.
    pub explain: &'static str,
    /// True for inputs that could not be audited (exit 2), false for findings.
    pub input_error: bool,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $ident:ident = $code:literal, $name:literal, $sev:ident, $cond:ident, $input:literal, $summary:literal; )*) => {
        $(
            $(#[$doc])*
            pub static $ident: CodeInfo = CodeInfo {
                code: $code,
                name: $name,
                severity: Severity::$sev,
                condition: Condition::$cond,
                summary: $summary,
                explain: include_str!(concat!("codes/", $code, ".md")),
                input_error: $input,
            };
        )*
        /// Every code, in code order.
        pub static ALL: &[&CodeInfo] = &[$(&$ident),*];
    };
}

codes! {
    /// A path that cannot be read.
    UNREADABLE = "DL0001", "input-unreadable", Error, MissingGovernanceArtifacts, true,
        "an input path cannot be read";
    /// An empty file.
    EMPTY_INPUT = "DL0002", "input-empty", Error, MissingGovernanceArtifacts, true,
        "an input file is empty";
    /// Invalid or truncated JSON.
    INVALID_JSON = "DL0003", "invalid-json", Error, MissingGovernanceArtifacts, true,
        "an input is not valid JSON (or is truncated)";
    /// Valid JSON with the wrong structure.
    UNEXPECTED_SHAPE = "DL0004", "unexpected-shape", Error, MissingGovernanceArtifacts, true,
        "an input is valid JSON but not shaped as its format requires";
    /// Content driftlock cannot identify.
    UNKNOWN_FORMAT = "DL0005", "unknown-format", Error, MissingGovernanceArtifacts, true,
        "an input's format cannot be recognised";
    /// State format version 3 or older, or newer than known.
    UNSUPPORTED_STATE_VERSION = "DL0006", "unsupported-state-version", Error, MissingGovernanceArtifacts, true,
        "a state file uses a format version driftlock does not read";
    /// OpenTofu client-side encrypted state or plan.
    ENCRYPTED_STATE = "DL0007", "encrypted-state", Error, MissingGovernanceArtifacts, true,
        "a state or plan is encrypted with OpenTofu state encryption";
    /// JSON output with an unknown `format_version` major.
    UNSUPPORTED_FORMAT_VERSION = "DL0008", "unsupported-format-version", Error, MissingGovernanceArtifacts, true,
        "a plan or show -json output has a format_version driftlock does not know";
    /// A binary plan file instead of its JSON rendering.
    BINARY_PLAN = "DL0009", "binary-plan", Error, MissingGovernanceArtifacts, true,
        "a binary plan file was given instead of `terraform show -json PLANFILE`";
    /// A file that looks like a state but is something else.
    NOT_A_STATE = "DL0010", "not-a-state", Error, MissingGovernanceArtifacts, true,
        "an input is a Terraform file that carries no state or plan (backend cache, UI stream)";
    /// Nothing to audit.
    NO_INPUTS = "DL0011", "no-inputs", Error, MissingGovernanceArtifacts, true,
        "there is nothing to audit: no input given, or a directory holds no state";
    /// Configuration that cannot be used.
    INVALID_CONFIG = "DL0012", "invalid-config", Error, MissingGovernanceArtifacts, true,
        "the driftlock configuration file is invalid";
    /// Bytes that are not UTF-8, or a broken gzip stream.
    BAD_ENCODING = "DL0013", "bad-encoding", Error, MissingGovernanceArtifacts, true,
        "an input is not UTF-8 text or its compression is broken";
    /// Inventories that cannot show what a clean-account check needs.
    INCOMPLETE_INVENTORY = "DL0014", "incomplete-inventory", Error, MissingGovernanceArtifacts, true,
        "the inventories cannot show every resource a clean-account check needs";
    /// A phase without the artifacts its status requires.
    MISSING_ARTIFACT = "DL0015", "missing-artifact", Error, MissingGovernanceArtifacts, true,
        "a phase in progress or locked lacks its state, its lineage and serial, its verification commit, or there is no configuration at all";
    /// A file given as a driftlock report (baseline, history, merge) that is not one.
    NOT_A_REPORT = "DL0016", "not-a-report", Error, MissingGovernanceArtifacts, true,
        "a file given as a driftlock report (a baseline, a history entry, a report to merge) is not a driftlock/report/v1 JSON report";
    /// An account map that cannot be used.
    INVALID_ACCOUNT_MAP = "DL0025", "invalid-account-map", Error, MissingGovernanceArtifacts, true,
        "the account map (--account-map, [accounts] in driftlock.toml) cannot be read or is not shaped as one";
    /// A finding in a report to merge that this driftlock does not know.
    UNKNOWN_FINDING = "DL0026", "unknown-finding", Error, MissingGovernanceArtifacts, true,
        "a report to merge carries a finding whose code or severity this driftlock does not know";

    /// A tainted instance.
    TAINTED = "DL0101", "tainted", Error, PartialExecutionState, false,
        "a resource instance is tainted: its create or provisioning failed half way";
    /// A deposed object.
    DEPOSED = "DL0102", "deposed", Error, PartialExecutionState, false,
        "a deposed object was left behind by a create_before_destroy replacement";
    /// errored.tfstate or a stale lock.
    INTERRUPTED_APPLY = "DL0103", "interrupted-apply", Error, PartialExecutionState, false,
        "an apply was interrupted: errored.tfstate or a stale lock-info file was left behind";
    /// A plan that errored or is incomplete.
    PLAN_INCOMPLETE = "DL0104", "plan-incomplete", Error, PartialExecutionState, false,
        "a plan errored or is incomplete, so it does not describe the whole change";

    /// In the cloud, in no authorized state.
    UNMANAGED = "DL0105", "unmanaged", Error, PartialExecutionState, false,
        "a resource exists in the cloud but in no authorized state";

    /// `resource_drift` in a plan.
    PLAN_DRIFT = "DL0201", "plan-drift", Error, ManualIntervention, false,
        "terraform saw a managed resource changed or deleted outside it";
    /// In a state, absent from an inventory that lists its type.
    MISSING = "DL0202", "missing", Error, ManualIntervention, false,
        "a managed resource is absent from an inventory that lists every resource of its type";
    /// Tags or catalog attributes differ from the cloud.
    DRIFTED = "DL0203", "drifted", Error, ManualIntervention, false,
        "a managed resource's tags or attributes differ from the cloud";

    /// A phase's state with another lineage.
    LINEAGE_MISMATCH = "DL0301", "lineage-mismatch", Error, PartialExecutionState, false,
        "a phase's state has a lineage other than the authorized one";
    /// A serial below the verified one.
    SERIAL_REGRESSION = "DL0302", "serial-regression", Error, SequencingDeviation, false,
        "a phase's state serial is lower than the verified one: a rollback not re-verified";
    /// A serial beyond the verified one on a locked phase.
    UNVERIFIED_SERIAL = "DL0303", "unverified-serial", Error, ManualIntervention, false,
        "a locked phase's state changed after the lock";
    /// A later phase ahead of an earlier one; two phases in progress.
    SEQUENCING_DEVIATION = "DL0304", "sequencing-deviation", Error, SequencingDeviation, false,
        "a phase has state or resources while an earlier phase is not locked, or two phases are in progress";
    /// A resource type not allowed in its phase.
    OUT_OF_PHASE = "DL0305", "out-of-phase", Error, SequencingDeviation, false,
        "a resource's type is not allowed in the phase that owns it";
    /// A lock whose verification commit does not verify.
    UNVERIFIED_LOCK = "DL0306", "unverified-lock", Error, MissingGovernanceArtifacts, false,
        "a locked phase's verification commit is missing from history or does not carry the matching trailer";

    /// Anything but provider defaults in an account before K.1.
    NON_CLEAN_ACCOUNT = "DL0401", "non-clean-account", Error, NonCleanAccount, false,
        "the account holds a resource that is neither a provider default nor an accepted exception";

    /// Deletes and replacements in a plan.
    PLAN_DESTROY = "DL0501", "plan-destroy", Warning, ManualIntervention, false,
        "a plan deletes or replaces a resource";
    /// A plan that changes a locked phase.
    PLAN_TOUCHES_LOCKED = "DL0502", "plan-touches-locked", Error, SequencingDeviation, false,
        "a plan changes a resource owned by a locked phase";
    /// A plan resource not allowed in the plan's phase.
    PLAN_OUT_OF_PHASE = "DL0503", "plan-out-of-phase", Error, SequencingDeviation, false,
        "a plan creates or changes a resource type the plan's phase does not allow";
    /// An import in a plan.
    PLAN_IMPORT = "DL0504", "plan-import", Note, Coverage, false,
        "a plan imports an existing object into the state";
    /// A forget in a plan.
    PLAN_FORGET = "DL0505", "plan-forget", Note, Coverage, false,
        "a plan removes a resource from the state without destroying it";
    /// A moved resource in a plan.
    PLAN_MOVED = "DL0506", "plan-moved", Note, Coverage, false,
        "a plan moves a resource to a new address";

    /// A write made by a person, or by a pipeline principal from the console.
    MANUAL_INTERVENTION = "DL0601", "manual-intervention", Error, ManualIntervention, false,
        "an audit log shows a change made by a person, or by a pipeline principal used from a console";
    /// A write by an undocumented principal or tool, or an artifact of an unlisted version.
    UNDOCUMENTED_TOOLING = "DL0602", "undocumented-tooling", Error, UndocumentedTooling, false,
        "a change was made by a principal, tool or tool version the governance record does not name";
    /// A log file or digest changed, removed or added after CloudTrail delivered it.
    AUDIT_LOG_TAMPERED = "DL0603", "audit-log-tampered", Error, MissingGovernanceArtifacts, false,
        "a CloudTrail log file or digest was altered, removed or added after delivery, or a digest's signature does not verify";
    /// Time or a region in scope the audit logs cannot cover.
    AUDIT_COVERAGE_GAP = "DL0604", "audit-coverage-gap", Error, MissingGovernanceArtifacts, false,
        "part of the window or a region in scope is covered by no CloudTrail digest or log file";
    /// Completeness or authenticity that could not be proven.
    AUDIT_TRAIL_UNVERIFIED = "DL0605", "audit-trail-unverified", Warning, Coverage, false,
        "the audit trail's completeness or authenticity could not be proven (no digest files, or signatures not verified)";

    /// A state type with no catalog entry.
    UNSUPPORTED_TYPE = "DL0701", "unsupported-type", Note, Coverage, false,
        "a state resource type has no catalog entry, so it is not compared with the cloud";
    /// An exception past its expiry date.
    EXPIRED_EXCEPTION = "DL0702", "expired-exception", Error, MissingGovernanceArtifacts, false,
        "an exception in the configuration has expired and no longer accepts anything";
    /// An exception that accepted nothing.
    UNMATCHED_EXCEPTION = "DL0703", "unmatched-exception", Warning, Coverage, false,
        "an exception in the configuration matched nothing in this run";

    /// A remote state or input that cannot be read: unreachable, denied, missing.
    REMOTE_UNREADABLE = "DL0801", "remote-unreadable", Error, MissingGovernanceArtifacts, true,
        "a remote input (s3://, gs://, azblob://, http(s)://, a backend's state) cannot be read";
    /// A remote prefix or glob that matched nothing.
    REMOTE_NO_MATCH = "DL0802", "remote-no-match", Error, MissingGovernanceArtifacts, true,
        "a remote prefix, glob or backend lists no state object";
    /// A URL driftlock cannot use.
    BAD_REMOTE_URL = "DL0803", "bad-remote-url", Error, MissingGovernanceArtifacts, true,
        "a remote input URL is malformed or of an unsupported scheme";
    /// A backend block or backend configuration driftlock cannot use.
    BAD_BACKEND = "DL0804", "bad-backend", Error, MissingGovernanceArtifacts, true,
        "a root module's backend configuration is missing, invalid or of an unsupported type";
}

/// Looks a code up by its code (`DL0101`, case-insensitive) or its name (`tainted`).
pub fn lookup(query: &str) -> Option<&'static CodeInfo> {
    ALL.iter().copied().find(|c| c.code.eq_ignore_ascii_case(query) || c.name == query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for c in ALL {
            assert!(codes.insert(c.code), "duplicate code {}", c.code);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert!(c.code.len() == 6 && c.code.starts_with("DL"), "{}", c.code);
            // DL00xx and the remote inputs' DL0801–DL0849 are inputs that could not be audited.
            let input_range = c.code.starts_with("DL00") || ("DL0801"..="DL0849").contains(&c.code);
            assert_eq!(c.input_error, input_range, "{}", c.code);
            assert!(!c.summary.ends_with('.'), "{} summary ends with a period", c.code);
            assert!(c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'), "{}", c.name);
        }
    }

    #[test]
    fn every_code_has_a_full_explanation() {
        for c in ALL {
            assert!(c.explain.starts_with(&format!("# {} {}", c.code, c.name)), "{} heading", c.code);
            for section in ["## What it finds", "## Why it blocks", "## How to fix"] {
                assert!(c.explain.contains(section), "{} lacks {section}", c.code);
            }
        }
    }

    #[test]
    fn codes_are_sorted() {
        let mut sorted: Vec<_> = ALL.iter().map(|c| c.code).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, ALL.iter().map(|c| c.code).collect::<Vec<_>>());
    }

    #[test]
    fn lookup_by_code_or_name() {
        assert_eq!(lookup("dl0101").map(|c| c.name), Some("tainted"));
        assert_eq!(lookup("plan-drift").map(|c| c.code), Some("DL0201"));
        assert!(lookup("DL9999").is_none());
    }
}
