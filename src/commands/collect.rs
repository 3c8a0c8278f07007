//! `driftlock collect aws`: collects the account's inventory live into a folder of files the
//! `aws` CLI would have written, plus `manifest.json`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::collect::{self, AggregatorApi, Options, ProgressMode, Regions};
use crate::report::exit;

pub const COLLECT_EXAMPLES: &str = "\
Examples:
  # every enabled region, credentials from the standard chain (environment, profile, SSO, web
  # identity, container or instance metadata)
  driftlock collect aws --out inv/
  driftlock clean-account --inventory inv/ --preset aws

  # two regions, a profile, a role assumed for the run
  driftlock collect aws --regions us-east-1,eu-west-1 --profile audit \\
      --role-arn arn:aws:iam::123456789012:role/driftlock-readonly --out inv/

  # every account and region an AWS Config aggregator sees, as well: one advanced query
  # (SelectAggregateResourceConfig, tags included), the default
  driftlock collect aws --config-aggregator org-aggregator --out inv/

  # the same aggregator where advanced query is not available: ListAggregateDiscoveredResources
  # per Config type, then BatchGetAggregateResourceConfig (no tags: tag drift is not vouched for)
  driftlock collect aws --config-aggregator org-aggregator --config-aggregator-api list --out inv/

  # the least-privilege IAM policy for exactly these calls
  driftlock collect aws --print-policy > driftlock-collect-policy.json

  # collect and scan in one step, nothing written
  driftlock scan --state envs/ --inventory 'aws://live?regions=us-east-1,eu-west-1'

  # a local AWS API (moto, LocalStack): the SDKs' endpoint variables
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 driftlock collect aws --regions us-east-1 --out inv/

Writes one file per call and region, exactly as the aws CLI prints it
(ec2-describe-vpcs.us-east-1.json, iam-list-roles.us-east-1.json, tagging-get-resources.R.json,
config-list-discovered-*.R.json, config-batch-get.R.json, s3api-list-buckets.us-east-1.json;
with an aggregator config-select-aggregate.us-east-1.json, or with --config-aggregator-api list
config-list-aggregate-discovered-*.us-east-1.json and config-batch-get-aggregate.us-east-1.json,
whose records name their own account and region),
and manifest.json: account, regions, each call's pages, records and time, and every call that
failed with the IAM action it needs. A failed call writes no file; scanning the folder is then
exit 2 (incomplete-inventory), never a pass. Exit status: 0 every call succeeded, 2 otherwise.";

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(subcommand)]
    pub cloud: CollectCloud,
}

#[derive(Debug, Subcommand)]
pub enum CollectCloud {
    /// AWS: Resource Groups Tagging API, AWS Config, and the EC2/IAM/S3 listings of the clean-account check
    #[command(after_long_help = COLLECT_EXAMPLES)]
    Aws(AwsArgs),
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// `all` (every region enabled for the account) or a comma-separated list
    #[arg(long, default_value = "all", value_name = "all|REGION,...")]
    pub regions: String,
    /// A profile of the shared config and credentials files
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// A role to assume for the collection
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Also read this AWS Config aggregator (every account and region it aggregates)
    #[arg(long, value_name = "NAME")]
    pub config_aggregator: Option<String>,
    /// How to read the aggregator: `select` (SelectAggregateResourceConfig, one advanced query,
    /// tags included; the default) or `list` (ListAggregateDiscoveredResources per Config type,
    /// then BatchGetAggregateResourceConfig: where advanced query is unavailable; no tags)
    #[arg(long, value_enum, value_name = "select|list", requires = "config_aggregator")]
    pub config_aggregator_api: Option<AggregatorApiArg>,
    /// Items per page (as the aws CLI's --page-size); every page is followed either way
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
    /// Where to write the files and manifest.json
    #[arg(long, value_name = "DIR", required_unless_present = "print_policy")]
    pub out: Option<PathBuf>,
    /// Print the least-privilege IAM policy (JSON) for the calls this collection makes, and exit
    #[arg(long)]
    pub print_policy: bool,
    /// Progress on stderr (calls done, resources found, per region): `auto` draws a bar when
    /// stderr is a terminal; `always` also writes one line per call to a file or pipe (CI logs)
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

/// `--config-aggregator-api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AggregatorApiArg {
    Select,
    List,
}

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

pub fn run(args: CollectArgs) -> i32 {
    match args.cloud {
        CollectCloud::Aws(a) => aws(a),
    }
}

fn aws(a: AwsArgs) -> i32 {
    let mut err = std::io::stderr();
    let regions = match Regions::parse(&a.regions) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "driftlock: --regions: {e}");
            return exit::NOT_AUDITED;
        }
    };
    let opts = Options {
        regions,
        profile: a.profile,
        role_arn: a.role_arn,
        aggregator: a.config_aggregator,
        aggregator_api: match a.config_aggregator_api {
            None | Some(AggregatorApiArg::Select) => AggregatorApi::Select,
            Some(AggregatorApiArg::List) => AggregatorApi::List,
        },
        page_size: a.page_size,
        progress: match (a.progress, std::io::stderr().is_terminal()) {
            (Progress::Never, _) | (Progress::Auto, false) => ProgressMode::Never,
            (Progress::Auto | Progress::Always, true) => ProgressMode::Bar,
            (Progress::Always, false) => ProgressMode::Lines,
        },
        ..Options::default()
    };
    if a.print_policy {
        let _ = std::io::stdout().write_all(collect::policy(&opts).as_bytes());
        return exit::OPEN;
    }
    let Some(out) = a.out else { return exit::NOT_AUDITED };
    let collection = match collect::collect(&opts) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "driftlock: collect aws: {e}");
            return exit::NOT_AUDITED;
        }
    };
    if let Err(e) = collection.write(&out) {
        let _ = writeln!(err, "driftlock: collect aws: {e}");
        return exit::NOT_AUDITED;
    }
    let m = &collection.manifest;
    let records: usize = m.calls.iter().map(|c| c.records).sum();
    let _ = writeln!(
        err,
        "driftlock: collected {} calls in {} region(s) of account {} ({} records, {} retries) into {}",
        m.calls.len(),
        m.regions.len(),
        m.account.as_deref().unwrap_or("?"),
        records,
        m.retries,
        out.display()
    );
    if m.errors.is_empty() {
        return exit::OPEN;
    }
    for e in &m.errors {
        // A file written with part of its records (unprocessed identifiers) is incomplete.
        let written = m.calls.iter().any(|c| c.file == e.file);
        let _ = writeln!(
            err,
            "driftlock: coverage gap: {} in {} failed ({}{}): {} {}{}",
            e.call,
            e.region,
            e.code,
            e.status.map(|s| format!(", HTTP {s}")).unwrap_or_default(),
            e.file,
            if written { "incomplete" } else { "not written" },
            if e.denied { format!("; grant {}", e.action) } else { String::new() }
        );
    }
    let _ = writeln!(
        err,
        "driftlock: {} call(s) failed; they are recorded in {}/manifest.json and any scan of the folder is exit 2 until they succeed",
        m.errors.len(),
        out.display()
    );
    exit::NOT_AUDITED
}
