//! The command line: parses arguments, runs the library, renders, and returns the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::code;
use crate::ingest::{InputArg, Role};
use crate::report::{self, exit};
use crate::scan::{ScanOptions, scan};

const AFTER_HELP: &str = "\
Exit status is the gate:
  0  open: every input audited, no error-severity finding
  1  closed by findings
  2  could not audit: usage error, or an input missing, unreadable or invalid (fail-closed)

Run `driftlock explain` for every finding code, `driftlock explain CODE` for one.";

/// Audits Terraform/OpenTofu state against what really exists, and closes a gate when they disagree.
#[derive(Debug, Parser)]
#[command(name = "driftlock", version, about, long_about = None, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit states and plans: tainted and deposed instances, interrupted applies, incomplete plans, drift
    #[command(after_long_help = SCAN_EXAMPLES, after_help = AFTER_HELP)]
    Scan(ScanArgs),
    /// Explain a finding or error code (all codes when none is given)
    Explain(ExplainArgs),
}

const SCAN_EXAMPLES: &str = "\
Examples:
  # every state under a directory tree (.terraform/ caches skipped), in parallel
  driftlock scan --state envs/

  # a pulled state from standard input, and a refresh-only plan showing drift
  terraform state pull | driftlock scan --state -
  terraform plan -refresh-only -out=r.tfplan && terraform show -json r.tfplan > r.json
  driftlock scan --state envs/prod --plan r.json

  # machine-readable report for CI
  driftlock scan --state envs/ --format json --output driftlock-report.json

Inputs are recognised by content (raw state v4, show -json state, plan JSON); `.gz` files are
decompressed. Exit status is the gate:
  0  open: every input audited, no error-severity finding
  1  closed by findings
  2  could not audit: usage error, or an input missing, unreadable or invalid (fail-closed)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with snippets of the inputs, then a summary
    Human,
    /// One `driftlock/report/v1` JSON object
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Inputs of any supported kind, recognised by content (`-` for standard input)
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// A state file or a directory to walk for *.tfstate (repeatable; `-` reads standard input)
    #[arg(long = "state", value_name = "PATH|DIR")]
    pub states: Vec<PathBuf>,
    /// A plan as JSON: `terraform show -json PLANFILE` (repeatable)
    #[arg(long = "plan", value_name = "FILE")]
    pub plans: Vec<PathBuf>,
    /// A cloud inventory export, or a directory of them (repeatable): AWS tagging API, Config,
    /// Resource Explorer, EC2/IAM/S3/KMS/Logs listings; GCP Cloud Asset Inventory; Azure
    /// Resource Graph; the generic NDJSON inventory
    #[arg(long = "inventory", value_name = "PATH|DIR")]
    pub inventories: Vec<PathBuf>,
    /// driftlock.toml: severities (and, later, phases, exceptions)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A code (`DL0101`) or kind (`tainted`)
    pub code: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Runs the CLI; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::NOT_AUDITED } else { exit::OPEN };
        }
    };
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Explain(args) => explain(&args),
    }
}

fn run_scan(args: ScanArgs) -> i32 {
    let mut inputs: Vec<InputArg> = Vec::new();
    inputs.extend(args.inputs.into_iter().map(|path| InputArg { path, role: Role::State }));
    inputs.extend(args.states.into_iter().map(|path| InputArg { path, role: Role::State }));
    inputs.extend(args.plans.into_iter().map(|path| InputArg { path, role: Role::Plan }));
    inputs.extend(args.inventories.into_iter().map(|path| InputArg { path, role: Role::Inventory }));
    let opts = ScanOptions { inputs, config: args.config, progress: std::io::stderr().is_terminal() };
    let outcome = scan(&opts);
    emit(&args.output, &outcome)
}

fn human_options(to_terminal: bool) -> report::human::Options {
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let width = if to_terminal { terminal_width().unwrap_or(100) } else { 100 };
    report::human::Options { color, width }
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w: &usize| *w >= 40)
}

/// Renders the outcome to stdout or `--output`, and returns the exit status.
fn emit(out: &OutputArgs, outcome: &crate::scan::Outcome) -> i32 {
    let to_terminal = out.output.is_none() && std::io::stdout().is_terminal();
    let text = match out.format {
        Format::Json => report::json::render(&outcome.report),
        Format::Human => {
            report::human::render(&outcome.report, &outcome.estate, &outcome.texts, human_options(to_terminal))
        }
    };
    let code = outcome.report.exit_code();
    match &out.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                let _ = writeln!(std::io::stderr(), "driftlock: cannot write {}: {e}", path.display());
                return exit::NOT_AUDITED;
            }
            let _ = write!(std::io::stderr(), "{}", report::human::summary_line(&outcome.report));
        }
        None => write_stdout(&text),
    }
    code
}

fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

fn explain(args: &ExplainArgs) -> i32 {
    match &args.code {
        None => {
            if args.json {
                let all: Vec<_> = code::ALL.iter().map(|c| code_json(c)).collect();
                write_stdout(&(serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"));
            } else {
                let mut s = String::new();
                for c in code::ALL {
                    s.push_str(&format!("{}  {:<28} {:<8} {}\n", c.code, c.name, c.severity.as_str(), c.summary));
                }
                write_stdout(&s);
            }
            exit::OPEN
        }
        Some(q) => match code::lookup(q) {
            Some(c) => {
                if args.json {
                    write_stdout(&(serde_json::to_string_pretty(&code_json(c)).unwrap_or_default() + "\n"));
                } else {
                    write_stdout(c.explain);
                }
                exit::OPEN
            }
            None => {
                let _ = writeln!(
                    std::io::stderr(),
                    "driftlock: unknown code or kind `{q}`; `driftlock explain` lists them all"
                );
                exit::NOT_AUDITED
            }
        },
    }
}

fn code_json(c: &code::CodeInfo) -> serde_json::Value {
    serde_json::json!({
        "code": c.code,
        "kind": c.name,
        "severity": c.severity,
        "condition": c.condition,
        "summary": c.summary,
        "input_error": c.input_error,
        "explain": c.explain,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
