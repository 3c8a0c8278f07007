//! The HTML benchmarks (issue 10: "HTML of a 100,000-finding report: under 1 s to write"):
//! a synthetic JSON report of 100,000 findings the way driftlock writes them (pretty-printed,
//! every kind of finding: drift with diffs, audit findings with evidence, accounts, phases, new
//! and unchanged), and a `--history` folder of ten such runs. `driftlock report html` is timed
//! on each, and the page is checked to carry every finding.

use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::measure::{self, Stats, mib};

pub(crate) const FINDINGS: usize = 100_000;
/// Runs kept in the history folder (the latest has [`FINDINGS`] findings; earlier ones fewer).
pub(crate) const HISTORY_RUNS: usize = 10;
pub(crate) const TARGET_WALL: Duration = Duration::from_secs(1);

/// What was generated.
pub(crate) struct Generated {
    pub(crate) report: PathBuf,
    pub(crate) report_bytes: u64,
    pub(crate) history: PathBuf,
    pub(crate) history_bytes: u64,
}

/// One deterministic finding; `i` picks its kind, account, phase and status.
fn finding(i: usize, run: usize) -> Value {
    let account = ["111111111111", "222222222222", "333333333333", "prod-eu", "prod-us"][i % 5];
    let phase = ["K.1", "K.2", "K.3", "K.4"][i % 4];
    let status = if (i + run).is_multiple_of(7) { "new" } else { "unchanged" };
    let fingerprint = format!("{:032x}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
    let file = format!("envs/{account}/{phase}/terraform.tfstate");
    let mut f = match i % 4 {
        0 => json!({
            "kind": "drifted", "code": "DL0203", "severity": "error", "condition": "manual-intervention",
            "message": format!("aws_security_group.web_{i} was changed outside Terraform: ingress, tags.Owner"),
            "address": format!("module.net.aws_security_group.web_{i}"), "resource_type": "aws_security_group",
            "cloud_id": format!("arn:aws:ec2:eu-west-1:{account}:security-group/sg-{i:017x}"),
            "file": file, "line": 40 + i % 900, "column": 7,
            "help": "revert the change in the console, or import it into the configuration and apply",
            "fingerprint": fingerprint,
            "diff": format!("--- state\n+++ cloud\n@@ tags.Owner @@\n-\"platform\"\n+\"someone-{i}\"\n@@ ingress[0].cidr_blocks @@\n-[\"10.0.0.0/16\"]\n+[\"0.0.0.0/0\"]\n"),
        }),
        1 => json!({
            "kind": "unmanaged", "code": "DL0105", "severity": "error", "condition": "partial-execution-state",
            "message": format!("s3 bucket hand-made-{i} exists in the account but no state manages it"),
            "address": null, "resource_type": "aws_s3_bucket",
            "cloud_id": format!("arn:aws:s3:::hand-made-{i}"),
            "file": format!("inventory/{account}/resources.json"), "line": 12 + i % 5000, "column": 5,
            "help": "import it into a state, or delete it", "fingerprint": fingerprint,
        }),
        2 => json!({
            "kind": "missing", "code": "DL0202", "severity": "error", "condition": "manual-intervention",
            "message": format!("aws_subnet.private_{i} is in the state but no longer in the account"),
            "address": format!("aws_subnet.private_{i}"), "resource_type": "aws_subnet",
            "cloud_id": format!("arn:aws:ec2:eu-west-1:{account}:subnet/subnet-{i:017x}"),
            "file": file, "line": 90 + i % 900, "column": 7,
            "help": "re-create it with terraform apply, or remove it from the state", "fingerprint": fingerprint,
        }),
        _ => json!({
            "kind": "manual-intervention", "code": "DL0401", "severity": "error", "condition": "manual-intervention",
            "message": format!("ec2 AuthorizeSecurityGroupIngress on sg-{i:017x} by a person in the console"),
            "address": format!("module.net.aws_security_group.app_{i}"), "resource_type": "aws_security_group",
            "cloud_id": format!("arn:aws:ec2:eu-west-1:{account}:security-group/sg-{i:017x}"),
            "file": format!("audit/{account}/CloudTrail/2026/11/24/trail.json.gz"), "line": 1 + i % 400, "column": null,
            "help": "make the change through the pipeline, or record the tool", "fingerprint": fingerprint,
            "evidence": {
                "event_id": format!("{:08x}-0000-4000-8000-{:012x}", i, i),
                "event_name": "AuthorizeSecurityGroupIngress",
                "event_time": format!("2026-11-24T{:02}:{:02}:{:02}Z", i % 24, i % 60, (i / 60) % 60),
                "event_source": "ec2.amazonaws.com",
                "principal": format!("arn:aws:sts::{account}:assumed-role/Admin/person-{}", i % 37),
                "principal_type": "person",
                "tool": "console", "tool_version": null, "user_agent": "AWS Internal", "source_ip": "203.0.113.9",
                "file": format!("audit/{account}/CloudTrail/2026/11/24/trail.json.gz"), "line": 1 + i % 400,
            },
        }),
    };
    f["status"] = json!(status);
    f["phase"] = json!(phase);
    f["account"] = json!(account);
    f
}

/// A report of `n` findings, pretty-printed as driftlock writes it.
fn write_report(path: &Path, n: usize, run: usize) -> Result<u64> {
    let findings: Vec<Value> = (0..n).map(|i| finding(i, run)).collect();
    let mut by_kind = serde_json::Map::new();
    let mut by_account = serde_json::Map::new();
    let mut new = 0;
    for f in &findings {
        for (map, key) in [(&mut by_kind, "kind"), (&mut by_account, "account")] {
            let k = f[key].as_str().unwrap_or_default().to_owned();
            let v = map.get(&k).and_then(Value::as_u64).unwrap_or(0) + 1;
            map.insert(k, json!(v));
        }
        new += usize::from(f["status"] == "new");
    }
    /// The members in the order driftlock writes them (`json!` would sort them).
    #[derive(serde::Serialize)]
    struct Report {
        schema: &'static str,
        command: &'static str,
        gate: &'static str,
        findings: Vec<Value>,
        errors: Vec<Value>,
        summary: Value,
    }
    let report = Report {
        schema: "driftlock/report/v1",
        command: "scan",
        gate: "closed",
        findings,
        errors: Vec::new(),
        summary: json!({
            "findings": n,
            "by_severity": {"error": n, "note": 0, "warning": 0},
            "by_kind": by_kind,
            "by_condition": {},
            "input_errors": 0,
            "inputs": {"files": 1200, "states": 1000, "plans": 0, "managed_instances": 500_000, "data_sources": 20_000},
            "inventory": {"resources": 600_000, "provider_defaults": 900, "managed": 500_000 - n / 4,
                "unmanaged": n / 4, "missing": n / 4, "drifted": n / 4, "unverified": 0, "unsupported": 0,
                "coverage": (1000.0 * (500_000.0 - n as f64 / 4.0) / 500_000.0).round() / 10.0},
            "baseline": {"new": new, "unchanged": n - new, "resolved": 0},
            "by_account": by_account,
        }),
    };
    let mut w = BufWriter::new(fs::File::create(path).with_context(|| format!("create {}", path.display()))?);
    serde_json::to_writer_pretty(&mut w, &report)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(fs::metadata(path)?.len())
}

/// Generates the report and the history folder in `dir`.
pub(crate) fn generate(dir: &Path) -> Result<Generated> {
    let root = dir.join("html");
    let history = root.join("history");
    fs::create_dir_all(&history)?;
    let report = root.join("report.json");
    let report_bytes = write_report(&report, FINDINGS, HISTORY_RUNS - 1)?;
    let mut history_bytes = 0;
    for run in 0..HISTORY_RUNS {
        // Named as `--history` names its files: one run a day, the latest with FINDINGS.
        let name = format!("202611{:02}T060000.00Z-{:08x}.json", 10 + run, 0xa11c_e000_u32 + run as u32);
        let n = FINDINGS - (HISTORY_RUNS - 1 - run) * 2_500;
        history_bytes += write_report(&history.join(name), n, run)?;
    }
    Ok(Generated { report, report_bytes, history, history_bytes })
}

/// The number of findings in the page's data island.
fn findings_in_page(page: &Path) -> Result<usize> {
    let text = fs::read_to_string(page)?;
    let open = r#"<script type="application/json" id="data">"#;
    let start = text.find(open).context("the page has no data island")? + open.len();
    let end = start + text[start..].find("</script>").context("the data island does not end")?;
    let v: Vec<serde_json::value::Value> = serde_json::from_str(&text[start..end])?;
    Ok(v.len())
}

/// Times `driftlock report html INPUT -o PAGE` and checks the page; returns the stats and the
/// page's size.
pub(crate) fn run_once(binary: &Path, input: &Path, page: &Path) -> Result<(Stats, u64)> {
    let mut cmd = Command::new(binary);
    cmd.args(["report", "html"]).arg(input).arg("--output").arg(page);
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let stats = measure::run(&mut cmd)?;
    if stats.exit_code != 0 {
        bail!("report html {} exited {}", input.display(), stats.exit_code);
    }
    let n = findings_in_page(page)?;
    if n != FINDINGS {
        bail!("the page of {} carries {n} findings, expected {FINDINGS}", input.display());
    }
    Ok((stats, fs::metadata(page)?.len()))
}

pub(crate) fn describe(g: &Generated) -> String {
    format!(
        "report of {FINDINGS} findings ({}), history of {HISTORY_RUNS} runs ({} in all)",
        mib(g.report_bytes),
        mib(g.history_bytes)
    )
}
