//! What a scheduled run does around its report, for every command that writes one: compare
//! with a baseline (`--baseline`, `--history`), name accounts (`--account-map`), keep the report
//! in the history, and tell people (`--notify`). Also `driftlock report html|merge`.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::report::account::AccountMap;
use crate::report::baseline::{self, History};
use crate::report::notify::{self, NotifyFormat};
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
    /// Post a short summary (gate, counts by kind, new findings first, where the report is) to
    /// this webhook (repeatable); `?format=slack|teams|json` on the URL picks its format
    #[arg(long = "notify", value_name = "URL", help_heading = "Scheduled runs")]
    pub notify: Vec<String>,
    /// The notification's format, for URLs that do not say (default: by host, else json)
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Scheduled runs")]
    pub notify_format: Option<NotifyFormat>,
    /// Seconds one notification attempt may take
    #[arg(long, value_name = "SECS", default_value_t = 10.0, help_heading = "Scheduled runs")]
    pub notify_timeout: f64,
    /// Attempts after the first, with exponential backoff (0.5 s, 1 s, 2 s, …)
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Scheduled runs")]
    pub notify_retries: u32,
    /// Where people find the full report (a CI artifact or bucket URL), named in notifications
    /// (default: --output, else the report kept in --history)
    #[arg(long, value_name = "URL", help_heading = "Scheduled runs")]
    pub report_url: Option<String>,
    /// Names accounts (AWS account ids, GCP projects, Azure subscriptions) in the report: TOML
    /// `[accounts]` of id = name, a JSON object, or `aws organizations list-accounts` JSON
    #[arg(long, value_name = "FILE", help_heading = "Scheduled runs")]
    pub account_map: Option<PathBuf>,
}

/// Before rendering: the baseline comparison. A baseline that cannot be used is an input error
/// of the report (exit 2), named in every format.
pub fn prepare(args: &ScheduleArgs, outcome: &mut crate::scan::Outcome) {
    annotate_phases(outcome);
    annotate_accounts(args, outcome);
    compare_with_baseline(args, &mut outcome.report);
}

/// Each finding's account, named from `[accounts]`, the configuration's `account_map` and
/// `--account-map` (which wins). A map that cannot be read is an input error (exit 2).
fn annotate_accounts(args: &ScheduleArgs, outcome: &mut crate::scan::Outcome) {
    let mut map = AccountMap::default();
    let mut files = Vec::new();
    if let Some(config) = &outcome.config {
        map.extend(config.accounts.clone());
        files.extend(config.account_map.clone());
    }
    files.extend(args.account_map.clone());
    for f in files {
        match AccountMap::load(&f) {
            Ok(m) => map.extend(m),
            Err(e) => outcome.report.add_input_error(e),
        }
    }
    crate::report::account::annotate(outcome, &map);
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

/// After the report was written: keep it in the history, then notify. Returns the exit
/// status, which becomes 2 when the report cannot be kept or a notification cannot be
/// delivered.
pub fn follow_up(args: &ScheduleArgs, report: &Report, output: Option<&std::path::Path>, code: i32) -> i32 {
    let mut code = code;
    let mut kept = None;
    if let Some(dir) = &args.history {
        let json = crate::report::json::render(report);
        match History::new(dir).store(&json) {
            Ok(path) => {
                let _ = writeln!(std::io::stderr(), "driftlock: report kept in {}", crate::source::display_path(&path));
                kept = Some(path);
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
    let location = args
        .report_url
        .clone()
        .or_else(|| output.map(crate::source::display_path))
        .or_else(|| kept.as_deref().map(crate::source::display_path));
    if !notify_all(args, report, location.as_deref()) {
        code = exit::NOT_AUDITED;
    }
    code
}

/// Posts the summary to every `--notify` URL; false when one could not be delivered.
pub fn notify_all(args: &ScheduleArgs, report: &Report, location: Option<&str>) -> bool {
    let delivery = notify::Delivery {
        timeout: std::time::Duration::from_secs_f64(args.notify_timeout.clamp(0.1, 600.0)),
        retries: args.notify_retries,
        backoff: std::time::Duration::from_millis(500),
    };
    let mut ok = true;
    for url in &args.notify {
        let target = match notify::target(url, args.notify_format) {
            Ok(t) => t,
            Err(why) => {
                let _ = writeln!(std::io::stderr(), "driftlock: cannot notify: {why}");
                ok = false;
                continue;
            }
        };
        let body = notify::body(target.format, report, location);
        match notify::deliver(&target, &body, delivery) {
            Ok(attempts) => {
                let again = if attempts > 1 { format!(" (after {attempts} attempts)") } else { String::new() };
                let _ = writeln!(
                    std::io::stderr(),
                    "driftlock: notified {} ({}){again}",
                    target.display(),
                    target.format.as_str()
                );
            }
            Err(why) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "driftlock: could not notify {} ({}): {why}",
                    target.display(),
                    target.format.as_str()
                );
                ok = false;
            }
        }
    }
    ok
}

/// `--format html` of a run: the page, with the charts of `--history`. A history that cannot be
/// read is an input error of the report (exit 2), shown on the page without its charts.
pub fn html(args: &ScheduleArgs, report: &mut Report) -> String {
    match crate::report::html::render_run(report, args.history.as_deref()) {
        Ok(page) => page,
        Err(e) => {
            report.add_input_error(e);
            crate::report::html::render_run(report, None).unwrap_or_default()
        }
    }
}

const REPORT_EXAMPLES: &str = "\
Examples:
  # every scheduled run keeps its report; the page shows the latest with charts of them all
  driftlock scan --state envs/ --inventory inv/ --history reports/ --format json -o last.json
  driftlock report html reports/ --output drift.html

  # the page of one JSON report (a CI artifact, a report from another machine)
  driftlock report html driftlock-report.json -o driftlock-report.html

The page is one self-contained file (no network assets): gate and summary, coverage and findings
by kind over time as inline SVG, a findings table filterable by kind, severity, phase, account and
new/unchanged, each finding's diff and audit evidence; light or dark as the reader's system is.
Link a view with the fragment: drift.html#status=new&account=prod, drift.html#open=FINGERPRINT.
Exit status: 0 once the page is written (it shows the gate, it does not gate), 2 when the report
cannot be read.";

/// `driftlock report`: work on reports earlier runs wrote.
#[derive(Debug, Args)]
#[command(after_long_help = REPORT_EXAMPLES)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// The `report` subcommands; each is its own variant with its own args and `run_*` function.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write the HTML page of a history folder's latest report (charts of every run kept), or of
    /// one JSON report
    #[command(after_long_help = HTML_EXAMPLES)]
    Html(HtmlArgs),
    /// Merge per-account (or per-workspace) JSON reports into one organisation report with an
    /// account dimension, streamed in bounded memory
    #[command(after_long_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
}

const MERGE_EXAMPLES: &str = "\
Examples:
  # each scheduled job wrote reports/ACCOUNT.json; one organisation report, gated
  driftlock report merge reports/ --account-map accounts.toml --format json -o org.json
  # a job summary with a table by account
  driftlock report merge reports/*.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  # the organisation page: merge to JSON, then render it
  driftlock report merge reports/ --format json -o org.json && driftlock report html org.json -o org.html

A finding keeps its `account`; one without takes its report's: the file name without .json
(123456789012.json, prod.json), or the folder's name when the file is report.json,
driftlock.json, latest.json or a --history entry. Findings keep their report's order, reports
are read in path order. The gate is closed when any report's gate is closed; exit 2 when any
report could not audit, cannot be read or is not a driftlock report (DL0016).

Exit status: 0 open, 1 closed by findings, 2 could not audit.";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`--format json`) or folders of them (walked for *.json)
    #[arg(value_name = "REPORT|DIR", required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = crate::report::merge::MergeFormat::Human)]
    pub format: crate::report::merge::MergeFormat,
    /// Write the merged report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Names accounts: TOML `[accounts]` of id = name, a JSON object, or `aws organizations
    /// list-accounts` JSON; a report file named after a name stands for its id
    #[arg(long, value_name = "FILE")]
    pub account_map: Option<PathBuf>,
}

const HTML_EXAMPLES: &str = "\
Examples:
  driftlock report html reports/ --output drift.html           # a --history folder
  driftlock report html driftlock-report.json -o report.html   # one JSON report

Open it in any browser, offline; link a view: report.html#kind=drifted&status=new";

#[derive(Debug, Args)]
pub struct HtmlArgs {
    /// A --history folder, or one JSON report
    #[arg(value_name = "HISTORY_DIR|REPORT.json")]
    pub path: PathBuf,
    /// Write the page to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `driftlock report …`; returns the exit status.
pub fn run(args: ReportArgs) -> i32 {
    match args.command {
        ReportCommand::Html(a) => run_html(&a),
        ReportCommand::Merge(a) => run_merge(&a),
    }
}

/// Merges the reports; the exit status is the merged gate.
fn run_merge(args: &MergeArgs) -> i32 {
    use std::io::IsTerminal as _;
    let accounts = match args.account_map.as_deref().map(AccountMap::load).transpose() {
        Ok(m) => m.unwrap_or_default(),
        Err(e) => {
            render_error(&e);
            return exit::NOT_AUDITED;
        }
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let opts = crate::report::merge::MergeOptions {
        paths: args.reports.clone(),
        format: args.format,
        accounts,
        human: crate::report::human::Options { color, width: 100 },
        progress: std::io::stderr().is_terminal(),
    };
    let result = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            let code = crate::report::merge::merge(&opts, &mut w)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(code)
        }),
        None => {
            let mut out = std::io::stdout().lock();
            match crate::report::merge::merge(&opts, &mut out) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::NOT_AUDITED),
                r => r,
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let to = args.output.as_deref().map_or("standard output".to_owned(), crate::source::display_path);
            let _ = writeln!(std::io::stderr(), "driftlock: cannot write the merged report to {to}: {e}");
            exit::NOT_AUDITED
        }
    }
}

fn render_error(e: &crate::error::InputError) {
    let mut out = String::new();
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor()).with_width(100);
    let _ = handler.render_report(&mut out, &crate::error::RenderedError::new(e));
    let _ = write!(std::io::stderr(), "{out}");
}

/// Exit 0 once the page is written (it shows the report's gate; it does not gate), 2 when the
/// report cannot be read.
fn run_html(args: &HtmlArgs) -> i32 {
    let page = match crate::report::html::render_path(&args.path) {
        Ok(p) => p,
        Err(e) => {
            let mut out = String::new();
            let handler =
                miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor()).with_width(100);
            let _ = handler.render_report(&mut out, &crate::error::RenderedError::new(&e));
            let _ = write!(std::io::stderr(), "{out}");
            return exit::NOT_AUDITED;
        }
    };
    write_out(args.output.as_deref(), &page)
}

/// Writes to FILE or standard output; exit 0, or 2 when FILE cannot be written.
fn write_out(path: Option<&std::path::Path>, text: &str) -> i32 {
    match path {
        Some(p) => match std::fs::write(p, text) {
            Ok(()) => exit::OPEN,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "driftlock: cannot write {}: {e}", p.display());
                exit::NOT_AUDITED
            }
        },
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            exit::OPEN
        }
    }
}
