//! The report: findings and input errors of one run, the gate, and a summary. Renderers turn
//! it into text; none of them decides anything.

pub mod account;
pub mod baseline;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod markdown;
pub mod merge;
pub mod notify;
pub mod sarif;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::code::Severity;
use crate::error::{ErrorRecord, InputError};
use crate::finding::Finding;
use crate::model::{Estate, Mode};

/// The report schema identifier; later versions only add fields.
pub const SCHEMA: &str = "driftlock/report/v1";

/// Exit statuses: the gate.
pub mod exit {
    /// The gate is open: no error-severity finding, every input audited.
    pub const OPEN: i32 = 0;
    /// The gate is closed by error-severity findings.
    pub const CLOSED: i32 = 1;
    /// Could not audit: usage error, or an input missing or invalid. Also closes the gate.
    pub const NOT_AUDITED: i32 = 2;
}

/// `open` or `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    Open,
    Closed,
}

/// What was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    pub files: usize,
    pub states: usize,
    pub plans: usize,
    /// Managed resource instances (deposed objects included) across audited states.
    pub managed_instances: usize,
    pub data_sources: usize,
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub by_kind: BTreeMap<&'static str, usize>,
    pub by_condition: BTreeMap<&'static str, usize>,
    pub input_errors: usize,
    pub inputs: Inputs,
    /// The comparison with cloud inventories, when any was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<crate::checks::join::InventorySummary>,
    /// Planned actions by phase and resource type, when plans were read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangeRow>,
    /// The clean-account check's counts (`clean-account` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean_account: Option<CleanSummary>,
    /// What the audit logs showed, when any was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSummary>,
    /// The comparison with the baseline report, when one was given (`--baseline`, `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineSummary>,
    /// Findings by account, in organisation reports (`report merge`, `--account-map`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_account: BTreeMap<String, usize>,
    /// Per account, in organisation reports (`report merge`): its name, reports, gate and counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<merge::AccountSummary>,
}

/// Counts of the audit logs read (`--audit-log`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditSummary {
    /// Audit log files read.
    pub files: usize,
    /// CloudTrail log files among them (with their SHA-256, for digest checks).
    pub cloudtrail_files: usize,
    /// The window judged (RFC 3339), when bounded.
    pub since: Option<String>,
    pub until: Option<String>,
    #[serde(flatten)]
    pub counts: crate::model::AuditCounts,
}

impl AuditSummary {
    pub fn new(estate: &Estate, window: crate::ingest::audit::Window) -> Self {
        AuditSummary {
            files: estate.audit.sources.len(),
            cloudtrail_files: estate.audit_files.len(),
            since: window.since.map(|t| t.to_string()),
            until: window.until.map(|t| t.to_string()),
            counts: estate.audit.counts,
        }
    }
}

/// Planned actions of one resource type in one phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeRow {
    pub phase: Option<String>,
    pub resource_type: String,
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub forget: usize,
    pub import: usize,
    #[serde(rename = "move")]
    pub moved: usize,
}

/// Counts of a clean-account check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanSummary {
    pub resources: usize,
    pub provider_defaults: usize,
    pub not_clean: usize,
    /// What is not clean, grouped by cloud type and region (`global` for global types).
    pub by_type_and_region: Vec<TypeRegionCount>,
}

/// One group of the clean-account summary.
#[derive(Debug, Clone, Serialize)]
pub struct TypeRegionCount {
    pub cloud_type: String,
    pub region: String,
    pub count: usize,
}

/// One run's report (`driftlock/report/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub command: &'static str,
    pub gate: Gate,
    pub findings: Vec<Finding>,
    /// Inputs that could not be audited (each also closes the gate, exit 2).
    pub errors: Vec<ErrorRecord>,
    pub summary: Summary,
    /// Things worth telling that are neither findings nor errors (a truncated export…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Findings of the baseline report that this run no longer has, when a baseline was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<baseline::PastFinding>>,
    #[serde(skip)]
    pub input_errors: Vec<InputError>,
}

impl Report {
    pub fn new(
        command: &'static str,
        estate: &Estate,
        mut findings: Vec<Finding>,
        input_errors: Vec<InputError>,
    ) -> Self {
        {
            use rayon::prelude::*;
            findings.par_iter_mut().for_each(Finding::seal);
        }
        crate::finding::sort(&mut findings);
        let mut summary = Summary { findings: findings.len(), input_errors: input_errors.len(), ..Summary::default() };
        for s in [Severity::Error, Severity::Warning, Severity::Note] {
            summary.by_severity.insert(s.as_str(), 0);
        }
        for f in &findings {
            *summary.by_severity.entry(f.severity.as_str()).or_default() += 1;
            *summary.by_kind.entry(f.kind).or_default() += 1;
            *summary.by_condition.entry(f.condition.as_str()).or_default() += 1;
        }
        let audited = estate.states.iter().filter(|s| s.format != crate::model::StateFormat::PlanPrior);
        let mut inputs = Inputs { files: estate.sources.len(), plans: estate.plans.len(), ..Inputs::default() };
        for s in audited {
            inputs.states += 1;
            for i in &s.instances {
                match i.address.mode {
                    Mode::Managed => inputs.managed_instances += 1,
                    Mode::Data => inputs.data_sources += 1,
                }
            }
        }
        summary.inputs = inputs;
        let errors = input_errors.iter().map(InputError::record).collect();
        let closed = !input_errors.is_empty() || findings.iter().any(|f| f.severity == Severity::Error);
        Report {
            schema: SCHEMA,
            command,
            gate: if closed { Gate::Closed } else { Gate::Open },
            findings,
            errors,
            summary,
            notes: estate.notes.clone(),
            resolved: None,
            input_errors,
        }
    }

    /// The exit status: 2 could not audit, 1 closed by findings, 0 open.
    pub fn exit_code(&self) -> i32 {
        if !self.input_errors.is_empty() {
            exit::NOT_AUDITED
        } else if self.gate == Gate::Closed {
            exit::CLOSED
        } else {
            exit::OPEN
        }
    }
}
