//! What a scheduled run does around its report, for every command that writes one: compare
//! with a baseline (`--baseline`, `--history`), name accounts (`--account-map`), keep the report
//! in the history, and tell people (`--notify`). Also `driftlock report html|merge`.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::report::baseline::{self, History};
use crate::report::{Report, exit};

/// Flags of every command that produces a report (flattened into its output options).
#[derive(Debug, Clone, Default, Args)]
pub struct ScheduleArgs {
    /// An earlier run's JSON report: mark each finding `new` or `unchanged` and list the
    /// `resolved` ones (the gate does not change)
    #[arg(long, value_name = "REPORT.json", help_heading = "Scheduled runs")]
    pub baseline: Option<PathBuf>,
    /// Keep every run's JSON report in DIR (named by time and hash) and, without --baseline,
    /// compare with the latest one
    #[arg(long, value_name = "DIR", help_heading = "Scheduled runs")]
    pub history: Option<PathBuf>,
}

/// Before rendering: the baseline comparison. A baseline that cannot be used is an input error
/// of the report (exit 2), named in every format.
pub fn prepare(args: &ScheduleArgs, outcome: &mut crate::scan::Outcome) {
    annotate_phases(outcome);
    compare_with_baseline(args, &mut outcome.report);
}

/// The configured phase of each finding whose input is one of a phase's states.
fn annotate_phases(outcome: &mut crate::scan::Outcome) {
    let Some(config) = &outcome.config else { return };
    if outcome.source_phase.is_empty() {
        return;
    }
    for f in &mut outcome.report.findings {
        if let Some(pi) = f.source.and_then(|s| outcome.source_phase.get(&s)) {
            f.phase = config.phases.get(*pi).map(|p| p.name.clone());
        }
    }
}

/// Marks findings against `--baseline`, or against the history's latest report.
pub fn compare_with_baseline(args: &ScheduleArgs, report: &mut Report) {
    let baseline = match (&args.baseline, &args.history) {
        (Some(path), _) => baseline::load(path).map(Some),
        (None, Some(dir)) => History::new(dir).latest_baseline(report.command),
        (None, None) => Ok(None),
    };
    match baseline {
        Ok(Some(b)) => baseline::compare(report, &b),
        Ok(None) => {}
        Err(e) => report.add_input_error(e),
    }
}

/// After the report was written: store it in the history. Returns the exit status, which
/// becomes 2 when the report cannot be kept.
pub fn follow_up(args: &ScheduleArgs, report: &Report, code: i32) -> i32 {
    let mut code = code;
    if let Some(dir) = &args.history {
        let json = crate::report::json::render(report);
        match History::new(dir).store(&json) {
            Ok(path) => {
                let _ = writeln!(std::io::stderr(), "driftlock: report kept in {}", crate::source::display_path(&path));
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "driftlock: cannot keep the report in the history {}: {e}",
                    crate::source::display_path(dir)
                );
                code = exit::NOT_AUDITED;
            }
        }
    }
    code
}
