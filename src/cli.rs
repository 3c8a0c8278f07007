//! The command line: parses arguments, runs the library, renders, and returns the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::code;
use crate::ingest::{InputArg, Role};
use crate::model::Cloud;
use crate::report::{self, exit};
use crate::scan::{Mode, ScanOptions, scan};

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
    /// The drift scan: states, plans, cloud inventories (and audit logs) against each other and the lock
    #[command(after_long_help = SCAN_EXAMPLES, after_help = AFTER_HELP)]
    Scan(ScanArgs),
    /// Pre-bootstrap check: the account must hold nothing but provider defaults
    #[command(name = "clean-account", after_long_help = CLEAN_EXAMPLES, after_help = AFTER_HELP)]
    CleanAccount(CleanAccountArgs),
    /// The governance lock: phases in order, lineage, serials, sequencing, the verification trail
    #[command(after_long_help = VERIFY_EXAMPLES, after_help = AFTER_HELP)]
    Verify(VerifyArgs),
    /// Verify a phase and, only when it passes, print the commit message and config change that lock it
    Lock(LockArgs),
    /// Write a commented starter driftlock.toml (the K sequence)
    Init(InitArgs),
    /// Review plan JSON against the lock: destroys, locked phases, out-of-phase types, drift
    #[command(name = "review-plan", after_long_help = REVIEW_EXAMPLES, after_help = AFTER_HELP)]
    ReviewPlan(ReviewPlanArgs),
    /// Explain a finding or error code (all codes when none is given)
    Explain(ExplainArgs),
    /// List the resource types compared with the cloud: their cloud type, join keys, compared attributes
    Catalog(crate::commands::catalog::CatalogArgs),
    /// Reports of earlier runs: the HTML page of a history folder, the merge of many accounts' reports
    Report(crate::commands::report::ReportArgs),
    /// Collect a cloud account's inventory live into files the cloud's CLI would write, plus a manifest
    #[command(after_long_help = crate::commands::collect::COLLECT_EXAMPLES)]
    Collect(crate::commands::collect::CollectArgs),
}

const VERIFY_EXAMPLES: &str = "\
Examples:
  driftlock init                       # writes driftlock.toml with the K sequence, commented
  driftlock verify --config driftlock.toml
  driftlock lock K.1.x --config driftlock.toml

Each phase names its state sources, authorized lineage, verified serial, status (pending,
in-progress, locked), verification commit, allowed resource types and how resources are owned
(by state, module prefix or tag). Findings: lineage-mismatch, serial-regression,
unverified-serial, sequencing-deviation, out-of-phase, unverified-lock; missing artifacts
(a phase without its state, lineage, serial or commit; no configuration) are exit 2.";

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// driftlock.toml with the phases
    #[arg(long, value_name = "FILE", default_value = "driftlock.toml")]
    pub config: PathBuf,
    /// Extra inventory exports, to see resources owned by tag (repeatable)
    #[arg(long = "inventory", value_name = "PATH|DIR")]
    pub inventories: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const REVIEW_EXAMPLES: &str = "\
Examples:
  terraform plan -out=tfplan && terraform show -json tfplan > plan.json
  driftlock review-plan plan.json --config driftlock.toml --phase K.2.x --format markdown > comment.md
  driftlock review-plan plan.json --format sarif --output driftlock.sarif
  driftlock review-plan plan.json --format github          # inline annotations in Actions

Without a configuration it still reviews what needs no lock: destroys and replacements (with
Terraform's action_reason), drift, incomplete or errored plans, imports, forgets and moves.
With one, the plan's phase (--phase, or the phase whose `plans` hold the file) adds
plan-touches-locked, plan-out-of-phase and sequencing-deviation.";

#[derive(Debug, Args)]
pub struct ReviewPlanArgs {
    /// Plan JSON files (`terraform show -json PLANFILE`)
    #[arg(value_name = "PLAN_JSON", required = true)]
    pub plans: Vec<PathBuf>,
    /// The phase the plans belong to
    #[arg(long, value_name = "NAME")]
    pub phase: Option<String>,
    /// driftlock.toml with the phases
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// The phase to lock (`K.1.x`)
    pub phase: String,
    /// driftlock.toml with the phases
    #[arg(long, value_name = "FILE", default_value = "driftlock.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it
    #[arg(default_value = "driftlock.toml")]
    pub path: PathBuf,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

const CLEAN_EXAMPLES: &str = "\
Examples:
  # export a fresh account (one file per call, region in the name), then check it
  for r in us-east-1 eu-west-1; do
    for c in vpcs subnets security-groups internet-gateways route-tables network-acls dhcp-options instances; do
      aws ec2 describe-$c --region $r > inv/ec2-describe-$c.$r.json
    done
  done
  aws iam list-roles > inv/iam-list-roles.json; aws iam list-users > inv/iam-list-users.json
  aws iam list-policies --scope Local > inv/iam-list-policies.json; aws s3api list-buckets > inv/s3api-list-buckets.json
  driftlock clean-account --inventory inv/ --preset aws --regions us-east-1,eu-west-1

Passes (exit 0) only when every resource is a provider default (policies/presets/) or accepted
by an [[exception]] with a reason. Each other resource is one non-clean-account finding. No
inventory, or inventories that cannot list every resource the check needs (the tagging API alone
never lists untagged resources), is exit 2: the check cannot pass by accident.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// The default VPC and its children, service-linked roles, AWS-managed KMS aliases and keys
    Aws,
    /// The default network and firewall rules, default service accounts
    Gcp,
    /// NetworkWatcherRG and network watchers, default resource groups
    Azure,
}

#[derive(Debug, Args)]
pub struct CleanAccountArgs {
    /// Inventory exports, or directories of them (repeatable)
    #[arg(long = "inventory", value_name = "PATH|DIR")]
    pub inventories: Vec<PathBuf>,
    /// Provider-default presets to accept (repeatable; default: the clouds the inventories show)
    #[arg(long = "preset", value_enum)]
    pub presets: Vec<PresetArg>,
    /// Regions that must be covered (comma-separated; default: every region the inventories mention)
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
    /// driftlock.toml: exceptions and severities
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
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

  # who changed the account since the lock, from a downloaded trail whose digests and
  # signatures are checked offline (a tampered or incomplete trail closes the gate)
  aws s3 sync s3://BUCKET/AWSLogs/123456789012/ trail/
  aws cloudtrail list-public-keys --start-time 2026-11-01 > keys.json
  driftlock scan --config driftlock.toml --audit-log trail/ --since 2026-11-20 \
    --cloudtrail-public-keys keys.json --require-complete-trail

  # a page to look at (one offline HTML file), charting every run kept in reports/
  driftlock scan --state envs/ --inventory inv/ --history reports/ --format html -o drift.html

  # remote state, straight from the backend (credentials: the AWS chain; never printed)
  driftlock scan --state s3://tf-states/prod/terraform.tfstate --state 's3://tf-states/env:/**/*.tfstate'
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 driftlock scan --state s3://tf-states/   # MinIO, moto…
  TF_HTTP_USERNAME=ci TF_HTTP_PASSWORD=… driftlock scan --state https://state.example/tf/app

  # every workspace of a root module's backend (with its -backend-config files)
  driftlock scan --backend infra/ --backend-config infra/prod.s3.tfbackend

Inputs are recognised by content (raw state v4, show -json state, plan JSON); `.gz` files are
decompressed. A remote URL that cannot be read, is denied, or lists nothing is exit 2, never
\"no resources\". Exit status is the gate:
  0  open: every input audited, no error-severity finding
  1  closed by findings
  2  could not audit: usage error, or an input missing, unreadable or invalid (fail-closed)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with snippets of the inputs, then a summary
    Human,
    /// One `driftlock/report/v1` JSON object
    Json,
    /// SARIF 2.1.0, for code-scanning upload
    Sarif,
    /// A pull request comment
    Markdown,
    /// GitHub Actions workflow commands (inline annotations)
    Github,
    /// One self-contained HTML page: summary, charts over the --history, a filterable table
    Html,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Inputs of any supported kind, recognised by content (`-` for standard input)
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// A state file, a directory to walk for *.tfstate, or a remote state URL (repeatable; `-`
    /// reads standard input): s3://BUCKET/KEY, s3://BUCKET/PREFIX/, 's3://BUCKET/**/*.tfstate',
    /// gs://BUCKET/PATH, azblob://ACCOUNT/CONTAINER/PATH, http(s)://… (Terraform's http backend)
    #[arg(long = "state", value_name = "PATH|DIR|URL")]
    pub states: Vec<PathBuf>,
    /// A root module whose backend block (s3, gcs, azurerm, http, local) names the states: every
    /// workspace's state is read (repeatable)
    #[arg(long = "backend", value_name = "DIR")]
    pub backends: Vec<PathBuf>,
    /// A partial backend configuration file, as given to `terraform init -backend-config=FILE`
    /// (repeatable; with --backend)
    #[arg(long = "backend-config", value_name = "FILE", requires = "backends")]
    pub backend_configs: Vec<PathBuf>,
    /// A plan as JSON: `terraform show -json PLANFILE` (repeatable)
    #[arg(long = "plan", value_name = "FILE")]
    pub plans: Vec<PathBuf>,
    /// A cloud inventory export, or a directory of them (repeatable): AWS tagging API, Config,
    /// Resource Explorer, EC2/IAM/S3/KMS/Logs listings; GCP Cloud Asset Inventory; Azure
    /// Resource Graph; the generic NDJSON inventory
    #[arg(long = "inventory", value_name = "PATH|DIR")]
    pub inventories: Vec<PathBuf>,
    /// Audit logs, or directories of them (repeatable): CloudTrail log files (the
    /// `AWSLogs/…/CloudTrail/REGION/YYYY/MM/DD/` layout, .gz), `aws cloudtrail lookup-events`
    /// output, EventBridge NDJSON, GCP Cloud Audit Logs, the Azure Activity Log
    #[arg(long = "audit-log", value_name = "PATH|DIR")]
    pub audit_logs: Vec<PathBuf>,
    /// Judge audit-log writes from this time on (RFC 3339 or YYYY-MM-DD, UTC; default: the lock
    /// of the first phase when the configuration has it locked, else everything)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<jiff::Timestamp>,
    /// Judge audit-log writes up to this time (RFC 3339 or YYYY-MM-DD, UTC, inclusive)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<jiff::Timestamp>,
    /// `aws cloudtrail list-public-keys` output: verify every CloudTrail digest's signature
    /// offline (digests are read from the `CloudTrail-Digest/` folders given with --audit-log)
    #[arg(long, value_name = "FILE")]
    pub cloudtrail_public_keys: Option<PathBuf>,
    /// Fail closed when the audit trail's completeness or authenticity cannot be proven (no
    /// digest files, signatures not verified): audit-trail-unverified becomes an error
    #[arg(long)]
    pub require_complete_trail: bool,
    /// AWS regions the audit logs must cover (comma-separated; added to the regions the AWS
    /// inventories show); a region without CloudTrail logs is an audit-coverage-gap
    #[arg(long = "audit-region", value_delimiter = ',', value_name = "REGION,...")]
    pub audit_regions: Vec<String>,
    /// driftlock.toml: severities, exceptions, phases, the governance record
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `2026-11-20T10:00:00Z` (any RFC 3339 offset) or `2026-11-20` (midnight UTC).
fn parse_time(s: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| format!("`{s}` is not a time: write RFC 3339 (2026-11-20T10:00:00Z) or a date (2026-11-20)"))
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub schedule: crate::commands::report::ScheduleArgs,
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
        Command::CleanAccount(args) => run_clean_account(args),
        Command::Verify(args) => run_verify(args),
        Command::ReviewPlan(args) => run_review_plan(args),
        Command::Lock(args) => run_lock(&args),
        Command::Init(args) => run_init(&args),
        Command::Explain(args) => explain(&args),
        Command::Catalog(args) => crate::commands::catalog::run(&args),
        Command::Report(args) => crate::commands::report::run(args),
        Command::Collect(args) => crate::commands::collect::run(args),
    }
}

fn run_scan(args: ScanArgs) -> i32 {
    let mut inputs: Vec<InputArg> = Vec::new();
    inputs.extend(args.inputs.into_iter().map(|path| InputArg { path, role: Role::State }));
    inputs.extend(args.states.into_iter().map(|path| InputArg { path, role: Role::State }));
    inputs.extend(args.plans.into_iter().map(|path| InputArg { path, role: Role::Plan }));
    inputs.extend(args.inventories.into_iter().map(|path| InputArg { path, role: Role::Inventory }));
    inputs.extend(args.audit_logs.into_iter().map(|path| InputArg { path, role: Role::AuditLog }));
    let opts = ScanOptions {
        inputs,
        config: args.config,
        progress: std::io::stderr().is_terminal(),
        mode: Mode::Scan,
        since: args.since,
        until: args.until,
        // Only the human renderer quotes the inputs; other formats need positions, not texts.
        skip_texts: args.output.format != Format::Human,
        cloudtrail_public_keys: args.cloudtrail_public_keys,
        require_complete_trail: args.require_complete_trail,
        audit_regions: args.audit_regions,
        backends: args.backends,
        backend_configs: args.backend_configs,
    };
    emit_and_end(&args.output, scan(&opts))
}

/// [`emit`], then the model is left to the OS: the process ends now and takes it back at once,
/// where dropping it costs seconds of `free()` on a large estate.
fn emit_and_end(out: &OutputArgs, mut outcome: crate::scan::Outcome) -> i32 {
    let code = emit(out, &mut outcome);
    std::mem::forget(outcome);
    code
}

fn run_clean_account(args: CleanAccountArgs) -> i32 {
    let inputs = args.inventories.into_iter().map(|path| InputArg { path, role: Role::Inventory }).collect();
    let presets = args
        .presets
        .iter()
        .map(|p| match p {
            PresetArg::Aws => Cloud::Aws,
            PresetArg::Gcp => Cloud::Gcp,
            PresetArg::Azure => Cloud::Azure,
        })
        .collect();
    let mode = Mode::CleanAccount { presets, regions: args.regions };
    let opts = ScanOptions {
        inputs,
        config: args.config,
        progress: std::io::stderr().is_terminal(),
        mode,
        ..ScanOptions::default()
    };
    emit_and_end(&args.output, scan(&opts))
}

fn run_review_plan(args: ReviewPlanArgs) -> i32 {
    let inputs = args.plans.into_iter().map(|path| InputArg { path, role: Role::Plan }).collect();
    let mode = Mode::ReviewPlan { phase: args.phase };
    let opts = ScanOptions {
        inputs,
        config: args.config,
        progress: std::io::stderr().is_terminal(),
        mode,
        ..ScanOptions::default()
    };
    emit_and_end(&args.output, scan(&opts))
}

fn run_verify(args: VerifyArgs) -> i32 {
    let inputs = args.inventories.into_iter().map(|path| InputArg { path, role: Role::Inventory }).collect();
    let opts = ScanOptions {
        inputs,
        config: Some(args.config),
        progress: std::io::stderr().is_terminal(),
        mode: Mode::Verify,
        ..ScanOptions::default()
    };
    emit_and_end(&args.output, scan(&opts))
}

fn run_lock(args: &LockArgs) -> i32 {
    let opts = ScanOptions {
        inputs: Vec::new(),
        config: Some(args.config.clone()),
        progress: std::io::stderr().is_terminal(),
        mode: Mode::Verify,
        ..ScanOptions::default()
    };
    let outcome = scan(&opts);
    match crate::governance::lock::plan(&outcome, &args.phase) {
        Ok(text) => {
            write_stdout(&text);
            exit::OPEN
        }
        Err(refusal) => {
            let rendered =
                report::human::render(&outcome.report, &outcome.estate, &outcome.texts, human_options(false));
            let _ = write!(std::io::stderr(), "{rendered}");
            let _ = writeln!(std::io::stderr(), "driftlock: not locking {}: {}", args.phase, refusal.reason);
            refusal.exit
        }
    }
}

fn run_init(args: &InitArgs) -> i32 {
    if args.path.exists() && !args.force {
        let _ = writeln!(std::io::stderr(), "driftlock: {} exists; pass --force to overwrite it", args.path.display());
        return exit::NOT_AUDITED;
    }
    if let Err(e) = std::fs::write(&args.path, crate::governance::STARTER) {
        let _ = writeln!(std::io::stderr(), "driftlock: cannot write {}: {e}", args.path.display());
        return exit::NOT_AUDITED;
    }
    let _ = writeln!(
        std::io::stderr(),
        "driftlock: wrote {}; fill in each phase's states, then `driftlock verify`",
        args.path.display()
    );
    exit::OPEN
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
fn emit(out: &OutputArgs, outcome: &mut crate::scan::Outcome) -> i32 {
    crate::commands::report::prepare(&out.schedule, outcome);
    let to_terminal = out.output.is_none() && std::io::stdout().is_terminal();
    let text = match out.format {
        Format::Json => report::json::render(&outcome.report),
        Format::Sarif => report::sarif::render(&outcome.report),
        Format::Markdown => report::markdown::render(&outcome.report),
        Format::Github => report::github::render(&outcome.report),
        Format::Html => crate::commands::report::html(&out.schedule, &mut outcome.report),
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
    crate::commands::report::follow_up(&out.schedule, &outcome.report, out.output.as_deref(), code)
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
