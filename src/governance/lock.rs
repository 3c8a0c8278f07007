//! `driftlock lock PHASE`: verifies the phase and, only when nothing blocks, prints what records
//! the lock — the configuration change and the commit message with its trailer. It never records
//! a lock over findings.

use std::fmt::Write as _;

use super::trail::Verified;
use crate::code::Severity;
use crate::config::PhaseStatus;
use crate::model::Mode;
use crate::report::exit;
use crate::scan::Outcome;

/// Why a lock was refused, and the exit status.
#[derive(Debug)]
pub struct Refusal {
    pub reason: String,
    pub exit: i32,
}

fn refuse(reason: impl Into<String>, exit: i32) -> Refusal {
    Refusal { reason: reason.into(), exit }
}

/// The text that records the lock, or why not.
pub fn plan(outcome: &Outcome, phase: &str) -> Result<String, Refusal> {
    let Some(config) = &outcome.config else {
        return Err(refuse("the configuration could not be read", exit::NOT_AUDITED));
    };
    let Some(pi) = config.phase(phase) else {
        let names: Vec<&str> = config.phases.iter().map(|p| p.name.as_str()).collect();
        return Err(refuse(
            format!("no phase named {phase} (the configuration has {})", names.join(", ")),
            exit::NOT_AUDITED,
        ));
    };
    let p = &config.phases[pi];
    if !outcome.report.input_errors.is_empty() {
        return Err(refuse(
            format!("{} input(s) could not be audited", outcome.report.input_errors.len()),
            exit::NOT_AUDITED,
        ));
    }
    if let Some(q) = config.phases[..pi].iter().find(|q| q.status != PhaseStatus::Locked) {
        return Err(refuse(format!("the earlier phase {} is {}, not locked", q.name, q.status.as_str()), exit::CLOSED));
    }
    let errors = outcome.report.findings.iter().filter(|f| f.severity == Severity::Error).count();
    if errors > 0 {
        return Err(refuse(
            format!("{errors} error finding(s) stand; a lock is never recorded over findings"),
            exit::CLOSED,
        ));
    }
    let states: Vec<_> =
        outcome.estate.states.iter().filter(|s| outcome.source_phase.get(&s.source) == Some(&pi)).collect();
    if states.is_empty() {
        return Err(refuse(
            format!("phase {phase} has no state to lock (set `states` in the configuration)"),
            exit::NOT_AUDITED,
        ));
    }
    let mut lineages: Vec<&str> = states.iter().filter_map(|s| s.lineage.as_deref()).collect();
    lineages.sort_unstable();
    lineages.dedup();
    let lineage = match lineages.as_slice() {
        [one] => (*one).to_owned(),
        [] => {
            return Err(refuse(
                format!("the states of {phase} carry no lineage (show -json output has none: give the raw state)"),
                exit::NOT_AUDITED,
            ));
        }
        many => {
            return Err(refuse(
                format!(
                    "the states of {phase} have {} lineages ({}); a phase locks one state lineage",
                    many.len(),
                    many.join(", ")
                ),
                exit::CLOSED,
            ));
        }
    };
    let serial = states.iter().filter_map(|s| s.serial).max().unwrap_or(0);
    let managed: usize =
        states.iter().map(|s| s.instances.iter().filter(|i| i.address.mode == Mode::Managed).count()).sum();
    let verified = Verified { phase: p.name.clone(), lineage: Some(lineage.clone()), serial: Some(serial) };
    let title = p.description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# driftlock: {phase} verified: lineage {lineage}, serial {serial}, {managed} managed resources, no error findings."
    );
    let _ = writeln!(out, "#");
    let _ = writeln!(out, "# 1. Record the lock in {} (the [[phase]] named \"{phase}\"):", config.file);
    let _ = writeln!(out, "status = \"locked\"");
    let _ = writeln!(out, "lineage = \"{lineage}\"");
    let _ = writeln!(out, "serial = {serial}");
    let _ = writeln!(out, "#");
    let _ = writeln!(out, "# 2. Commit that change with this message:");
    let _ = writeln!(out, "Lock {phase}{title}");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Verified by driftlock {version}: {managed} managed resources at serial {serial}, no error findings."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", verified.line());
    let _ = writeln!(out, "#");
    let _ = writeln!(out, "# 3. Name that commit in the phase: verified_commit = \"<git rev-parse HEAD>\"");
    Ok(out)
}
