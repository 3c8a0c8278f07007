//! `driftlock collect aws`: the account's inventory collected live, written exactly as the
//! `aws` CLI writes each listing (one file per call and region, `ec2-describe-vpcs.us-east-1.json`)
//! plus `manifest.json` (account, regions, calls, times, errors), so every scan can be replayed
//! offline; or kept in memory for `scan --inventory aws://live`.
//!
//! Calls run concurrently on tokio, each service behind its own rate limit, every page
//! followed, throttling and 5xx retried with exponential backoff and full jitter. A call that
//! fails is never written as an empty listing: it is an error of the manifest naming the call,
//! the region and the IAM action it needs, and a scan of the files is exit 2 on it.

pub mod client;
pub mod shapes;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use client::RetryPolicy;
use client::{CallError, Client, Request};
use shapes::Out;

/// The key that marks a collection manifest.
pub const MANIFEST_KEY: &str = "driftlock_collect";
pub const MANIFEST_FILE: &str = "manifest.json";

/// Which regions to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Every region enabled for the account (`ec2:DescribeRegions`).
    All,
    List(Vec<String>),
}

impl Regions {
    /// `all` or a comma-separated list.
    pub fn parse(s: &str) -> Result<Regions, String> {
        if s.trim() == "all" {
            return Ok(Regions::All);
        }
        let list: Vec<String> = s.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
        if list.is_empty() {
            return Err("no region given: write `all` or a list such as us-east-1,eu-west-1".into());
        }
        if let Some(bad) = list.iter().find(|r| !crate::ingest::inventory::is_region(r)) {
            return Err(format!("`{bad}` is not an AWS region (write it as us-east-1)"));
        }
        Ok(Regions::List(list))
    }
}

/// What to collect, and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub regions: Regions,
    /// A named profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// A role to assume (with the chain's credentials) before collecting.
    pub role_arn: Option<String>,
    /// An AWS Config aggregator to read (every account and region it aggregates).
    pub aggregator: Option<String>,
    /// How the aggregator is read.
    pub aggregator_api: AggregatorApi,
    /// Items per page (the aws CLI's `--page-size`); the service's default when absent.
    pub page_size: Option<u32>,
    /// Progress on stderr.
    pub progress: ProgressMode,
    pub retry: RetryPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            regions: Regions::All,
            profile: None,
            role_arn: None,
            aggregator: None,
            aggregator_api: AggregatorApi::Select,
            page_size: None,
            progress: ProgressMode::Never,
            retry: RetryPolicy::default(),
        }
    }
}

/// How an AWS Config aggregator is read (`--config-aggregator-api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AggregatorApi {
    /// `SelectAggregateResourceConfig`: one advanced query for every resource of every account
    /// and region, tags included.
    #[default]
    Select,
    /// `ListAggregateDiscoveredResources` for each Config type driftlock asks for, then
    /// `BatchGetAggregateResourceConfig` for what was listed: for where advanced query is not
    /// available. Its configuration items carry no tags.
    List,
}

impl AggregatorApi {
    /// `select` or `list`.
    pub fn parse(s: &str) -> Result<AggregatorApi, String> {
        match s.trim() {
            "select" => Ok(AggregatorApi::Select),
            "list" => Ok(AggregatorApi::List),
            other => Err(format!("`{other}` is not an aggregator API (write select or list)")),
        }
    }

    /// The IAM actions the reading needs.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            AggregatorApi::Select => &["config:SelectAggregateResourceConfig"],
            AggregatorApi::List => {
                &["config:ListAggregateDiscoveredResources", "config:BatchGetAggregateResourceConfig"]
            }
        }
    }
}

/// One call of the plan: a service operation in a region, and the file it fills.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// botocore's service name (`ec2`, `resourcegroupstaggingapi`).
    pub service: &'static str,
    pub op: &'static str,
    /// The IAM action that allows it.
    pub action: &'static str,
    /// The file name without region and extension (`ec2-describe-vpcs`).
    pub stem: String,
    /// Fixed parameters (`Scope=Local`).
    pub params: Vec<(String, String)>,
    pub json: Option<serde_json::Value>,
}

const EC2_CALLS: &[(&str, &str, &str)] = &[
    ("DescribeVpcs", "ec2:DescribeVpcs", "ec2-describe-vpcs"),
    ("DescribeSubnets", "ec2:DescribeSubnets", "ec2-describe-subnets"),
    ("DescribeSecurityGroups", "ec2:DescribeSecurityGroups", "ec2-describe-security-groups"),
    ("DescribeInternetGateways", "ec2:DescribeInternetGateways", "ec2-describe-internet-gateways"),
    ("DescribeRouteTables", "ec2:DescribeRouteTables", "ec2-describe-route-tables"),
    ("DescribeNetworkAcls", "ec2:DescribeNetworkAcls", "ec2-describe-network-acls"),
    ("DescribeDhcpOptions", "ec2:DescribeDhcpOptions", "ec2-describe-dhcp-options"),
    ("DescribeInstances", "ec2:DescribeInstances", "ec2-describe-instances"),
];

/// The types AWS Config is asked for (those the clean-account preset requires: `policies/presets/aws.toml`),
/// and their file stems. Each costs one call per region: nothing else is asked for.
const CONFIG_TYPES: &[(&str, &str)] = &[
    ("AWS::EC2::VPC", "ec2-vpc"),
    ("AWS::EC2::Subnet", "ec2-subnet"),
    ("AWS::EC2::SecurityGroup", "ec2-security-group"),
    ("AWS::EC2::InternetGateway", "ec2-internet-gateway"),
    ("AWS::EC2::RouteTable", "ec2-route-table"),
    ("AWS::EC2::NetworkAcl", "ec2-network-acl"),
    ("AWS::EC2::DHCPOptions", "ec2-dhcp-options"),
    ("AWS::EC2::Instance", "ec2-instance"),
    ("AWS::IAM::Role", "iam-role"),
    ("AWS::IAM::User", "iam-user"),
    ("AWS::IAM::Policy", "iam-policy"),
    ("AWS::S3::Bucket", "s3"),
];

/// The region global services are called in (and their files are named with).
pub const HOME_REGION: &str = "us-east-1";

/// The regional calls, in the order they are listed in the manifest.
pub fn regional_calls() -> Vec<CallSpec> {
    let mut out: Vec<CallSpec> = EC2_CALLS
        .iter()
        .map(|(op, action, stem)| CallSpec {
            service: "ec2",
            op,
            action,
            stem: (*stem).to_owned(),
            params: Vec::new(),
            json: None,
        })
        .collect();
    out.push(CallSpec {
        service: "resourcegroupstaggingapi",
        op: "GetResources",
        action: "tag:GetResources",
        stem: "tagging-get-resources".into(),
        params: Vec::new(),
        json: Some(serde_json::json!({})),
    });
    for (t, slug) in CONFIG_TYPES {
        out.push(CallSpec {
            service: "config",
            op: "ListDiscoveredResources",
            action: "config:ListDiscoveredResources",
            stem: format!("config-list-discovered-{slug}"),
            params: Vec::new(),
            json: Some(serde_json::json!({ "resourceType": t })),
        });
    }
    out
}

/// The global calls (IAM, S3), made once.
pub fn global_calls() -> Vec<CallSpec> {
    let iam = |op: &'static str, action: &'static str, stem: &str, params: Vec<(String, String)>| CallSpec {
        service: "iam",
        op,
        action,
        stem: stem.to_owned(),
        params,
        json: None,
    };
    vec![
        iam("ListRoles", "iam:ListRoles", "iam-list-roles", Vec::new()),
        iam("ListUsers", "iam:ListUsers", "iam-list-users", Vec::new()),
        iam("ListPolicies", "iam:ListPolicies", "iam-list-policies", vec![("Scope".into(), "Local".into())]),
        CallSpec {
            service: "s3",
            op: "ListBuckets",
            action: "s3:ListAllMyBuckets",
            stem: "s3api-list-buckets".into(),
            params: Vec::new(),
            json: None,
        },
    ]
}

/// The least-privilege IAM policy for exactly the calls a collection with these options makes.
pub fn policy(opts: &Options) -> String {
    let mut actions: BTreeSet<&str> = BTreeSet::new();
    if opts.regions == Regions::All {
        actions.insert("ec2:DescribeRegions");
    }
    for c in regional_calls().iter().chain(global_calls().iter()) {
        actions.insert(c.action);
    }
    actions.insert("config:BatchGetResourceConfig");
    if opts.aggregator.is_some() {
        actions.extend(opts.aggregator_api.actions());
    }
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DriftlockCollectReadOnly",
            "Effect": "Allow",
            "Action": actions.into_iter().collect::<Vec<_>>(),
            "Resource": "*"
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One call as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallRecord {
    /// `ec2:DescribeVpcs` (the IAM action's spelling).
    pub call: String,
    pub region: String,
    pub file: String,
    pub pages: usize,
    pub records: usize,
    pub started: String,
    pub millis: u64,
}

/// A call that failed: a coverage gap.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorRecord {
    pub call: String,
    pub region: String,
    /// The file that was not written.
    pub file: String,
    /// The IAM action the call needs.
    pub action: String,
    /// The service's error code (`AccessDenied`), or `Transport`.
    pub code: String,
    pub status: Option<u16>,
    pub message: String,
    /// True when the service refused the caller (a missing permission, an opted-out region).
    pub denied: bool,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always 1: marks the file as a collection manifest.
    pub driftlock_collect: u32,
    pub tool: String,
    pub account: Option<String>,
    /// Who collected: the caller's ARN (`sts:GetCallerIdentity`), the assumed role's session
    /// with `--role-arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub partition: String,
    /// Scheme and host of a custom endpoint (`AWS_ENDPOINT_URL`), when one was used.
    pub endpoint: Option<String>,
    pub regions: Vec<String>,
    pub started: String,
    pub finished: String,
    pub calls: Vec<CallRecord>,
    pub errors: Vec<ErrorRecord>,
    /// Requests retried after throttling, a 5xx or a transport error.
    pub retries: u64,
}

/// A finished collection: the files (name, text) and the manifest.
#[derive(Debug, Clone)]
pub struct Collection {
    pub files: Vec<(String, String)>,
    pub manifest: Manifest,
}

impl Collection {
    /// Writes the files and `manifest.json` into `dir` (created when missing).
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (name, text) in &self.files {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        }
        let p = dir.join(MANIFEST_FILE);
        std::fs::write(&p, self.manifest_text()).map_err(|e| format!("cannot write {}: {e}", p.display()))
    }

    pub fn manifest_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.manifest).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn now() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Millisecond).map(|t| t.to_string()).unwrap_or_default()
}

/// The file name of a call in a region.
fn file_name(stem: &str, region: &str) -> String {
    format!("{stem}.{region}.json")
}

/// Runs a collection. Errors are what makes a collection impossible (no credentials, the
/// caller's account or the regions unknowable); a failed listing is a manifest error instead.
pub fn collect(opts: &Options) -> Result<Collection, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(run(opts))
}

async fn credentials(
    opts: &Options,
) -> Result<(aws_credential_types::provider::SharedCredentialsProvider, String), String> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    let conf = loader.load().await;
    let home = conf.region().map(|r| r.to_string()).unwrap_or_else(|| HOME_REGION.to_owned());
    let mut provider = conf.credentials_provider().ok_or_else(|| {
        "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or --profile), web identity, or run where instance or container credentials are available".to_owned()
    })?;
    if let Some(role) = &opts.role_arn {
        let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("driftlock-collect")
            .configure(&conf)
            .build()
            .await;
        provider = aws_credential_types::provider::SharedCredentialsProvider::new(assumed);
    }
    Ok((provider, home))
}

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// One plain line per finished call (stderr is a file or a pipe: CI logs).
    Lines,
    Never,
}

/// Progress on stderr: calls done and resources found, per region.
struct Progress {
    bar: indicatif::ProgressBar,
    lines: bool,
    regions: Vec<(String, AtomicUsize, AtomicUsize)>,
    records: AtomicUsize,
    done: AtomicUsize,
    total: usize,
}

impl Progress {
    fn new(mode: ProgressMode, regions: &[String], total: usize) -> Progress {
        let bar = if mode == ProgressMode::Bar {
            let b =
                indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} collecting {pos}/{len} calls {wide_msg} {elapsed}")
            {
                b.set_style(style);
            }
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut names: Vec<String> = regions.to_vec();
        names.push("global".into());
        Progress {
            bar,
            lines: mode == ProgressMode::Lines,
            regions: names.into_iter().map(|r| (r, AtomicUsize::new(0), AtomicUsize::new(0))).collect(),
            records: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            total,
        }
    }

    fn done(&self, region: &str, records: usize) {
        self.records.fetch_add(records, Ordering::Relaxed);
        if let Some((_, calls, recs)) = self.regions.iter().find(|(r, ..)| r == region) {
            calls.fetch_add(1, Ordering::Relaxed);
            recs.fetch_add(records, Ordering::Relaxed);
        }
        let per: Vec<String> = self
            .regions
            .iter()
            .map(|(r, c, n)| format!("{r} {}/{}", c.load(Ordering::Relaxed), n.load(Ordering::Relaxed)))
            .collect();
        let message = format!(
            "· {} resources · per region calls/resources: {}",
            self.records.load(Ordering::Relaxed),
            per.join(", ")
        );
        if self.lines {
            // A log gets the finished call's region only: one short line per call.
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            let (calls, recs) = self
                .regions
                .iter()
                .find(|(r, ..)| r == region)
                .map_or((0, 0), |(_, c, n)| (c.load(Ordering::Relaxed), n.load(Ordering::Relaxed)));
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "driftlock: collecting {done}/{} calls · {} resources · {region}: {calls} calls, {recs} resources",
                self.total,
                self.records.load(Ordering::Relaxed)
            );
        }
        self.bar.set_message(message);
        self.bar.inc(1);
    }
}

struct Run {
    client: Client,
    page_size: Option<u32>,
    progress: Progress,
}

/// The result of one call: its record or its error, and the CLI output.
type Outcome = Result<(CallRecord, Out), ErrorRecord>;

async fn run(opts: &Options) -> Result<Collection, String> {
    let started = now();
    let (provider, home) = credentials(opts).await?;
    let client = Client::new(provider, opts.retry)?;
    // The account: STS GetCallerIdentity, which needs no permission.
    let who = client
        .call(&Request {
            service: "sts",
            op: "GetCallerIdentity",
            region: home.clone(),
            params: Vec::new(),
            json: None,
        })
        .await
        .map_err(|e| format!("cannot tell whose account this is (sts:GetCallerIdentity: {}: {})", e.code, e.message))?;
    let account = who.get("Account").and_then(Out::as_str).map(str::to_owned);
    let identity = who.get("Arn").and_then(Out::as_str).map(str::to_owned);
    let partition = who.get("Arn").and_then(Out::as_str).and_then(|a| a.split(':').nth(1)).unwrap_or("aws").to_owned();
    let regions = match &opts.regions {
        Regions::List(l) => {
            let mut l = l.clone();
            l.sort();
            l.dedup();
            l
        }
        Regions::All => {
            let out = client
                .call(&Request { service: "ec2", op: "DescribeRegions", region: home.clone(), params: Vec::new(), json: None })
                .await
                .map_err(|e| {
                    format!(
                        "cannot list the account's enabled regions (ec2:DescribeRegions in {home}: {}: {}); grant ec2:DescribeRegions or pass --regions LIST",
                        e.code, e.message
                    )
                })?;
            let mut l: Vec<String> = out
                .get("Regions")
                .map(Out::as_list)
                .unwrap_or(&[])
                .iter()
                .filter_map(|r| r.get("RegionName").and_then(Out::as_str).map(str::to_owned))
                .collect();
            l.sort();
            l
        }
    };
    let regional = regional_calls();
    let global = global_calls();
    let aggregator_calls = match (&opts.aggregator, opts.aggregator_api) {
        (None, _) => 0,
        (Some(_), AggregatorApi::Select) => 1,
        (Some(_), AggregatorApi::List) => CONFIG_TYPES.len(),
    };
    let total = regional.len() * regions.len() + global.len() + aggregator_calls;
    let ctx =
        Arc::new(Run { client, page_size: opts.page_size, progress: Progress::new(opts.progress, &regions, total) });

    let mut tasks = tokio::task::JoinSet::new();
    for (ri, region) in regions.iter().enumerate() {
        let ctx = ctx.clone();
        let region = region.clone();
        let calls = regional.clone();
        tasks.spawn(async move { (ri, region_calls(ctx, region, calls).await) });
    }
    {
        let ctx = ctx.clone();
        let calls = global.clone();
        let aggregator = opts.aggregator.clone();
        let api = opts.aggregator_api;
        let home = HOME_REGION.to_owned();
        tasks.spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for (i, spec) in calls.into_iter().enumerate() {
                let ctx = ctx.clone();
                let home = home.clone();
                set.spawn(async move { (i, paged(&ctx, &spec, &home, "global").await) });
            }
            let mut out: Vec<(usize, Outcome)> = Vec::new();
            while let Some(r) = set.join_next().await {
                if let Ok(x) = r {
                    out.push(x);
                }
            }
            match (aggregator, api) {
                (None, _) => {}
                (Some(name), AggregatorApi::Select) => {
                    out.push((usize::MAX, select_aggregate(&ctx, &name, &home).await));
                }
                (Some(name), AggregatorApi::List) => {
                    out.extend(list_aggregate(&ctx, &name, &home).await.into_iter().map(|o| (usize::MAX, o)));
                }
            }
            out.sort_by_key(|(i, _)| *i);
            (usize::MAX, out.into_iter().map(|(_, o)| o).collect())
        });
    }
    let mut by_region: Vec<(usize, Vec<Outcome>)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(x) => by_region.push(x),
            Err(e) => return Err(format!("a collection task failed: {e}")),
        }
    }
    by_region.sort_by_key(|(i, _)| *i);
    ctx.progress.bar.finish_and_clear();
    let mut files = Vec::new();
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    for (_, outcomes) in by_region {
        for o in outcomes {
            match o {
                Ok((rec, out)) => {
                    files.push((rec.file.clone(), out.pretty()));
                    calls.push(rec);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let retries = ctx.client.retries.load(Ordering::Relaxed);
    let manifest = Manifest {
        driftlock_collect: 1,
        tool: concat!("driftlock ", env!("CARGO_PKG_VERSION")).to_owned(),
        account,
        identity,
        partition,
        endpoint: client::custom_endpoint(),
        regions,
        started,
        finished: now(),
        calls,
        errors,
        retries,
    };
    Ok(Collection { files, manifest })
}

/// The calls of one region: the listings concurrently, then Config's items for what Config
/// discovered.
async fn region_calls(ctx: Arc<Run>, region: String, calls: Vec<CallSpec>) -> Vec<Outcome> {
    let mut set = tokio::task::JoinSet::new();
    for (i, spec) in calls.into_iter().enumerate() {
        let ctx = ctx.clone();
        let region = region.clone();
        set.spawn(async move {
            let o = paged(&ctx, &spec, &region, &region).await;
            (i, spec, o)
        });
    }
    let mut out: Vec<(usize, CallSpec, Outcome)> = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(x) = r {
            out.push(x);
        }
    }
    out.sort_by_key(|(i, ..)| *i);
    let mut keys = Vec::new();
    for (_, spec, o) in &out {
        if let (Ok((_, page)), "ListDiscoveredResources") = (o, spec.op) {
            for item in page.get("resourceIdentifiers").map(Out::as_list).unwrap_or(&[]) {
                if let (Some(t), Some(id)) =
                    (item.get("resourceType").and_then(Out::as_str), item.get("resourceId").and_then(Out::as_str))
                {
                    keys.push(serde_json::json!({ "resourceType": t, "resourceId": id }));
                }
            }
        }
    }
    let mut outcomes: Vec<Outcome> = out.into_iter().map(|(_, _, o)| o).collect();
    if !keys.is_empty() {
        outcomes.extend(batch_get(&ctx, &region, keys).await);
    }
    outcomes
}

fn records_of(out: &Out, key: &str) -> usize {
    out.get(key).map_or(0, |v| v.as_list().len())
}

/// One call with every page followed, merged as the aws CLI merges them.
async fn paged(ctx: &Run, spec: &CallSpec, region: &str, progress_region: &str) -> Outcome {
    let started = now();
    let t0 = Instant::now();
    let model = shapes::models().services.get(spec.service);
    let pag = model.and_then(|m| m.operations.get(spec.op)).and_then(|o| o.paginator.clone());
    let file = file_name(&spec.stem, region);
    let fail = |e: CallError| ErrorRecord {
        call: spec.action.to_owned(),
        region: region.to_owned(),
        file: file.clone(),
        action: spec.action.to_owned(),
        denied: e.denied(),
        code: e.code,
        status: e.status,
        message: e.message,
    };
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = Request {
            service: spec.service,
            op: spec.op,
            region: region.to_owned(),
            params: spec.params.clone(),
            json: spec.json.clone(),
        };
        if let Some(p) = &pag {
            let (token_name, limit_name) = match spec.service {
                "s3" => ("continuation-token".to_owned(), Some("max-buckets".to_owned())),
                _ => (p.input_token.clone(), p.limit_key.clone()),
            };
            let limit = ctx.page_size.map(|n| match spec.service {
                "ec2" => n.clamp(5, 1000),
                "resourcegroupstaggingapi" | "config" => n.clamp(1, 100),
                _ => n.clamp(1, 1000),
            });
            let mut set = |k: String, v: String| match req.json.as_mut() {
                Some(serde_json::Value::Object(o)) => {
                    let val = v.parse::<u64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::String(v));
                    o.insert(k, val);
                }
                _ => req.params.push((k, v)),
            };
            if let (Some(l), Some(name)) = (limit, limit_name) {
                set(name, l.to_string());
            }
            if let Some(t) = &token {
                // Tokens stay strings even when they look like numbers.
                match req.json.as_mut() {
                    Some(serde_json::Value::Object(o)) => {
                        o.insert(token_name, serde_json::Value::String(t.clone()));
                    }
                    _ => req.params.push((token_name, t.clone())),
                }
            }
        }
        let page = match ctx.client.call(&req).await {
            Ok(p) => p,
            Err(e) => {
                ctx.progress.done(progress_region, 0);
                return Err(fail(e));
            }
        };
        let next = pag
            .as_ref()
            .and_then(|p| page.get(&p.output_token))
            .and_then(Out::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let more = match pag.as_ref().and_then(|p| p.more_results.as_ref()) {
            Some(flag) => page.get(flag) == Some(&Out::Bool(true)),
            None => true,
        };
        pages.push(page);
        match next {
            Some(t) if more && token.as_deref() != Some(t.as_str()) && pages.len() < 100_000 => token = Some(t),
            _ => break,
        }
    }
    let n = pages.len();
    let out = shapes::merge_pages(pag.as_ref(), pages);
    let records = pag.as_ref().map_or(0, |p| records_of(&out, &p.result_key));
    ctx.progress.done(progress_region, records);
    Ok((
        CallRecord {
            call: spec.action.to_owned(),
            region: region.to_owned(),
            file,
            pages: n,
            records,
            started,
            millis: t0.elapsed().as_millis() as u64,
        },
        out,
    ))
}

/// One of Config's batch reads: which operation, the members of its request and answer, and
/// how an entry it leaves unprocessed is asked again and named.
struct BatchRead<'a> {
    op: &'static str,
    action: &'static str,
    /// The file's stem (`config-batch-get`).
    stem: &'static str,
    /// The request's list member (`resourceKeys`).
    request_key: &'static str,
    /// Other members of every request (the aggregator's name).
    fixed: Vec<(&'static str, &'a str)>,
    /// The answer's items (`baseConfigurationItems`) and what it left unprocessed.
    items_key: &'static str,
    unprocessed_key: &'static str,
    /// What the entries are called in the gap's message (`resource keys`).
    noun: &'static str,
    /// An unprocessed entry as the next request sends it.
    retry_id: fn(&Out) -> Option<serde_json::Value>,
    /// An unprocessed entry as the gap names it.
    describe: fn(&Out) -> String,
}

/// A `ResourceKey` as a request sends it.
fn resource_key(item: &Out) -> Option<serde_json::Value> {
    let t = item.get("resourceType").and_then(Out::as_str)?;
    let id = item.get("resourceId").and_then(Out::as_str)?;
    Some(serde_json::json!({ "resourceType": t, "resourceId": id }))
}

/// `BatchGetResourceConfig` for what Config discovered in a region (100 keys a call), merged
/// into one `config-batch-get.REGION.json`.
async fn batch_get(ctx: &Run, region: &str, keys: Vec<serde_json::Value>) -> Vec<Outcome> {
    let read = BatchRead {
        op: "BatchGetResourceConfig",
        action: "config:BatchGetResourceConfig",
        stem: "config-batch-get",
        request_key: "resourceKeys",
        fixed: Vec::new(),
        items_key: "baseConfigurationItems",
        unprocessed_key: "unprocessedResourceKeys",
        noun: "resource keys",
        retry_id: resource_key,
        describe: |u| {
            let s = |k: &str| u.get(k).and_then(Out::as_str).unwrap_or("?").to_owned();
            format!("{} {}", s("resourceType"), s("resourceId"))
        },
    };
    batch_read(ctx, &read, region, keys).await
}

/// Reads `ids` with a Config batch operation (100 a call), merged into one `STEM.REGION.json`.
/// Entries the service leaves unprocessed are asked again (backing off as for throttling);
/// those still unprocessed after the retry policy's attempts stay in the file's unprocessed
/// member and are a coverage gap of the manifest: the file is written, and named incomplete.
async fn batch_read(ctx: &Run, read: &BatchRead<'_>, region: &str, ids: Vec<serde_json::Value>) -> Vec<Outcome> {
    let started = now();
    let t0 = Instant::now();
    let action = read.action;
    let file = file_name(read.stem, region);
    let mut items: Option<Vec<Out>> = None;
    let mut unprocessed: Option<Vec<Out>> = None;
    let mut pages = 0;
    let attempts = ctx.client.retry.max_attempts.max(1);
    for chunk in ids.chunks(100) {
        let mut pending: Vec<serde_json::Value> = chunk.to_vec();
        let mut attempt = 1;
        loop {
            let mut body = serde_json::Map::new();
            for (k, v) in &read.fixed {
                body.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
            }
            body.insert(read.request_key.to_owned(), serde_json::Value::Array(pending));
            let req = Request {
                service: "config",
                op: read.op,
                region: region.to_owned(),
                params: Vec::new(),
                json: Some(serde_json::Value::Object(body)),
            };
            let page = match ctx.client.call(&req).await {
                Ok(page) => page,
                Err(e) => {
                    return vec![Err(ErrorRecord {
                        call: action.into(),
                        region: region.to_owned(),
                        file,
                        action: action.into(),
                        denied: e.denied(),
                        code: e.code,
                        status: e.status,
                        message: e.message,
                    })];
                }
            };
            pages += 1;
            // What one call prints, or the pages' lists joined (a member only when a page had
            // it, as the CLI prints only what the service sent).
            if let Some(Out::List(l)) = page.get(read.items_key) {
                items.get_or_insert_with(Vec::new).extend(l.iter().cloned());
            }
            let left: &[Out] = match page.get(read.unprocessed_key) {
                Some(Out::List(l)) => {
                    unprocessed.get_or_insert_with(Vec::new);
                    l
                }
                _ => &[],
            };
            if left.is_empty() {
                break;
            }
            if attempt >= attempts {
                unprocessed.get_or_insert_with(Vec::new).extend(left.iter().cloned());
                break;
            }
            pending = left.iter().filter_map(read.retry_id).collect();
            if pending.is_empty() {
                unprocessed.get_or_insert_with(Vec::new).extend(left.iter().cloned());
                break;
            }
            ctx.client.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(ctx.client.retry.delay(attempt - 1)).await;
            attempt += 1;
        }
    }
    let records = items.as_ref().map_or(0, Vec::len);
    let left = unprocessed.as_ref().map_or(0, Vec::len);
    let gap = (left > 0).then(|| {
        let list = unprocessed.as_deref().unwrap_or(&[]);
        let mut named: Vec<String> = list.iter().take(5).map(read.describe).collect();
        if left > named.len() {
            named.push(format!("and {} more", left - named.len()));
        }
        let code: String = {
            let mut c = read.unprocessed_key.to_owned();
            if let Some(first) = c.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            c
        };
        ErrorRecord {
            call: action.into(),
            region: region.to_owned(),
            file: file.clone(),
            action: action.into(),
            denied: false,
            code,
            status: None,
            message: format!(
                "{left} of {} {} stayed unprocessed after {attempts} attempts: {}",
                ids.len(),
                read.noun,
                named.join(", ")
            ),
        }
    });
    let mut members = Vec::new();
    if let Some(items) = items {
        members.push((read.items_key.to_owned(), Out::List(items)));
    }
    if let Some(keys) = unprocessed {
        members.push((read.unprocessed_key.to_owned(), Out::List(keys)));
    }
    let record = CallRecord {
        call: action.into(),
        region: region.to_owned(),
        file,
        pages,
        records,
        started,
        millis: t0.elapsed().as_millis() as u64,
    };
    let mut out = vec![Ok((record, Out::Obj(members)))];
    out.extend(gap.map(Err));
    out
}
/// `SelectAggregateResourceConfig` over a Config aggregator: every resource of every account
/// and region the aggregator sees.
async fn select_aggregate(ctx: &Run, aggregator: &str, home: &str) -> Outcome {
    let spec = CallSpec {
        service: "config",
        op: "SelectAggregateResourceConfig",
        action: "config:SelectAggregateResourceConfig",
        stem: "config-select-aggregate".into(),
        params: Vec::new(),
        json: Some(serde_json::json!({
            "ConfigurationAggregatorName": aggregator,
            "Expression": "SELECT resourceId, resourceName, resourceType, arn, awsRegion, accountId, tags, configuration, configurationItemStatus, configurationItemCaptureTime",
        })),
    };
    paged(ctx, &spec, home, "global").await
}

/// The members of an `AggregateResourceIdentifier`, in the model's order.
const AGGREGATE_ID_MEMBERS: [&str; 5] =
    ["SourceAccountId", "SourceRegion", "ResourceId", "ResourceType", "ResourceName"];

/// An `AggregateResourceIdentifier` as a request sends it: the members the listing gave.
fn aggregate_id(item: &Out) -> Option<serde_json::Value> {
    let mut o = serde_json::Map::new();
    for k in AGGREGATE_ID_MEMBERS {
        if let Some(v) = item.get(k).and_then(Out::as_str) {
            o.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
        }
    }
    (o.contains_key("ResourceType") && o.contains_key("ResourceId")).then_some(serde_json::Value::Object(o))
}

/// The `list` reading of an aggregator: `ListAggregateDiscoveredResources` for each Config
/// type (every page), then `BatchGetAggregateResourceConfig` for every identifier listed.
async fn list_aggregate(ctx: &Run, aggregator: &str, home: &str) -> Vec<Outcome> {
    let specs: Vec<CallSpec> = CONFIG_TYPES
        .iter()
        .map(|(t, slug)| CallSpec {
            service: "config",
            op: "ListAggregateDiscoveredResources",
            action: "config:ListAggregateDiscoveredResources",
            stem: format!("config-list-aggregate-discovered-{slug}"),
            params: Vec::new(),
            json: Some(serde_json::json!({ "ConfigurationAggregatorName": aggregator, "ResourceType": t })),
        })
        .collect();
    let mut outcomes: Vec<Outcome> =
        futures::future::join_all(specs.iter().map(|spec| paged(ctx, spec, home, "global"))).await;
    let ids: Vec<serde_json::Value> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .flat_map(|(_, out)| out.get("ResourceIdentifiers").map(Out::as_list).unwrap_or(&[]))
        .filter_map(aggregate_id)
        .collect();
    if !ids.is_empty() {
        outcomes.extend(batch_get_aggregate(ctx, aggregator, home, ids).await);
    }
    outcomes
}

/// `BatchGetAggregateResourceConfig` for what the aggregator listed (100 identifiers a call),
/// merged into one `config-batch-get-aggregate.REGION.json`; unprocessed identifiers as
/// [`batch_read`] handles them.
async fn batch_get_aggregate(ctx: &Run, aggregator: &str, region: &str, ids: Vec<serde_json::Value>) -> Vec<Outcome> {
    let read = BatchRead {
        op: "BatchGetAggregateResourceConfig",
        action: "config:BatchGetAggregateResourceConfig",
        stem: "config-batch-get-aggregate",
        request_key: "ResourceIdentifiers",
        fixed: vec![("ConfigurationAggregatorName", aggregator)],
        items_key: "BaseConfigurationItems",
        unprocessed_key: "UnprocessedResourceIdentifiers",
        noun: "resource identifiers",
        retry_id: aggregate_id,
        describe: |u| {
            let s = |k: &str| u.get(k).and_then(Out::as_str).unwrap_or("?").to_owned();
            format!("{} {} ({} {})", s("ResourceType"), s("ResourceId"), s("SourceAccountId"), s("SourceRegion"))
        },
    };
    batch_read(ctx, &read, region, ids).await
}
/// `aws://live[?regions=us-east-1,eu-west-1]`: the collection's options.
pub fn parse_live_url(url: &str) -> Result<Options, String> {
    let rest = url.strip_prefix("aws://live").ok_or_else(|| format!("`{url}` is not aws://live[?regions=…]"))?;
    let mut opts = Options { progress: ProgressMode::Never, ..Options::default() };
    let query = match rest {
        "" | "/" => "",
        q => q
            .trim_start_matches('/')
            .strip_prefix('?')
            .ok_or_else(|| format!("`{url}`: write aws://live?regions=us-east-1,eu-west-1"))?,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "regions" => opts.regions = Regions::parse(v)?,
            "profile" => opts.profile = Some(v.to_owned()),
            "role_arn" | "role-arn" => opts.role_arn = Some(v.to_owned()),
            "aggregator" => opts.aggregator = Some(v.to_owned()),
            "aggregator_api" | "aggregator-api" => {
                opts.aggregator_api = AggregatorApi::parse(v).map_err(|e| format!("`{url}`: aggregator_api: {e}"))?
            }
            "page_size" | "page-size" => {
                opts.page_size = Some(v.parse().map_err(|_| format!("`{url}`: page_size must be a number"))?)
            }
            other => {
                return Err(format!(
                    "`{url}`: unknown parameter `{other}` (regions, profile, role_arn, aggregator, aggregator_api, page_size)"
                ));
            }
        }
    }
    if opts.aggregator.is_none()
        && query.split('&').any(|p| p.starts_with("aggregator_api") || p.starts_with("aggregator-api"))
    {
        return Err(format!("`{url}`: aggregator_api needs aggregator=NAME"));
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_live_urls() {
        assert_eq!(Regions::parse("all"), Ok(Regions::All));
        assert_eq!(
            Regions::parse("us-east-1, eu-west-1"),
            Ok(Regions::List(vec!["us-east-1".into(), "eu-west-1".into()]))
        );
        assert!(Regions::parse("useast").is_err());
        let o = parse_live_url("aws://live?regions=us-east-1,us-west-2&page_size=5").unwrap();
        assert_eq!((o.regions, o.page_size), (Regions::List(vec!["us-east-1".into(), "us-west-2".into()]), Some(5)));
        assert_eq!(parse_live_url("aws://live").unwrap().regions, Regions::All);
        assert!(parse_live_url("aws://live?color=red").is_err());
    }

    #[test]
    fn the_policy_names_exactly_the_calls() {
        let p: serde_json::Value = serde_json::from_str(&policy(&Options::default())).unwrap();
        let actions: Vec<&str> =
            p["Statement"][0]["Action"].as_array().unwrap().iter().filter_map(|a| a.as_str()).collect();
        for a in [
            "ec2:DescribeRegions",
            "ec2:DescribeVpcs",
            "iam:ListRoles",
            "s3:ListAllMyBuckets",
            "tag:GetResources",
            "config:BatchGetResourceConfig",
        ] {
            assert!(actions.contains(&a), "{a}");
        }
        assert!(!actions.contains(&"config:SelectAggregateResourceConfig"));
        assert!(actions.iter().all(|a| !a.contains('*')), "no wildcard action");
        let listed = Options { regions: Regions::List(vec!["us-east-1".into()]), ..Options::default() };
        assert!(!policy(&listed).contains("DescribeRegions"));
    }

    /// The aggregator's actions are exactly those of the chosen API.
    #[test]
    fn the_policy_names_the_aggregator_api_s_actions() {
        let actions = |api: AggregatorApi| -> Vec<String> {
            let o = Options { aggregator: Some("org".into()), aggregator_api: api, ..Options::default() };
            let p: serde_json::Value = serde_json::from_str(&policy(&o)).unwrap();
            p["Statement"][0]["Action"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a.as_str())
                .filter(|a| a.contains("Aggregate"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(actions(AggregatorApi::Select), ["config:SelectAggregateResourceConfig"]);
        assert_eq!(
            actions(AggregatorApi::List),
            ["config:BatchGetAggregateResourceConfig", "config:ListAggregateDiscoveredResources"]
        );
        // Without an aggregator, neither API's actions.
        let none = Options { aggregator_api: AggregatorApi::List, ..Options::default() };
        assert!(!policy(&none).contains("Aggregate"));
    }

    #[test]
    fn live_urls_choose_the_aggregator_api() {
        let o = parse_live_url("aws://live?aggregator=org&aggregator_api=list").unwrap();
        assert_eq!((o.aggregator.as_deref(), o.aggregator_api), (Some("org"), AggregatorApi::List));
        let o = parse_live_url("aws://live?aggregator=org").unwrap();
        assert_eq!(o.aggregator_api, AggregatorApi::Select);
        assert!(parse_live_url("aws://live?aggregator=org&aggregator_api=scan").is_err());
        assert!(parse_live_url("aws://live?aggregator_api=list").is_err(), "an API without an aggregator");
    }
}
