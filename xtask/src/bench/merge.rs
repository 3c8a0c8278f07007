//! The `merge` benchmark (issue 10): `driftlock report merge` of 1,000 reports of 1,000 findings
//! each (at scale 1.0), one report per account as a scheduled run writes them; target under 2 s
//! wall and under 200 MB peak RSS.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::measure::{self, Machine, mib};

pub(crate) const TARGET_WALL: Duration = Duration::from_secs(2);
pub(crate) const TARGET_RSS: u64 = 200 * 1000 * 1000;
pub(crate) const FINDINGS_PER_REPORT: usize = 1000;

const KINDS: [(&str, &str, &str, &str); 4] = [
    ("drifted", "DL0203", "error", "manual-intervention"),
    ("unmanaged", "DL0105", "error", "partial-execution-state"),
    ("missing", "DL0202", "error", "manual-intervention"),
    ("unsupported-type", "DL0701", "note", "coverage"),
];

/// One report like `driftlock scan --format json` writes: pretty JSON, findings with ids,
/// messages, help, fingerprints and (for drift) a diff. Deterministic.
fn report(account: u64, findings: usize) -> String {
    let mut s = String::with_capacity(findings * 900);
    s.push_str("{\n  \"schema\": \"driftlock/report/v1\",\n  \"command\": \"scan\",\n  \"gate\": \"closed\",\n  \"findings\": [");
    let mut by_kind = [0usize; 4];
    for i in 0..findings {
        let k = (i * 7 + account as usize) % 4;
        by_kind[k] += 1;
        let (kind, code, sev, cond) = KINDS[k];
        let arn = format!("arn:aws:ec2:us-east-1:{account:012}:vpc/vpc-{:017x}", account * 1_000_003 + i as u64);
        let fp = format!("{:016x}{:016x}", account.wrapping_mul(0x9E37_79B9_7F4A_7C15), i as u64 ^ 0x5bd1_e995);
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "\n    {{\n      \"kind\": \"{kind}\",\n      \"code\": \"{code}\",\n      \"severity\": \"{sev}\",\n      \"condition\": \"{cond}\",\n      \"message\": \"aws_vpc.net[{i}] ({arn}) differs from the cloud: tags.owner changed by hand\",\n      \"address\": \"module.network.aws_vpc.net[{i}]\",\n      \"resource_type\": \"aws_vpc\",\n      \"cloud_id\": \"{arn}\",\n      \"file\": \"states/network/terraform.tfstate\",\n      \"line\": {},\n      \"column\": 7,\n      \"help\": \"bring the change back into Terraform (import or revert it), then re-verify the phase\",\n      \"fingerprint\": \"{fp}\"",
            100 + i * 40
        );
        if kind == "drifted" {
            s.push_str(",\n      \"diff\": \"- tags.owner = \\\"platform\\\"\\n+ tags.owner = \\\"bob\\\"\\n\"");
        }
        s.push_str("\n    }");
    }
    s.push_str("\n  ],\n  \"errors\": [],\n  \"summary\": {\n    \"findings\": ");
    let _ = write!(
        s,
        "{findings},\n    \"by_severity\": {{ \"error\": {}, \"note\": {}, \"warning\": 0 }},\n",
        findings - by_kind[3],
        by_kind[3]
    );
    s.push_str("    \"input_errors\": 0,\n    \"inputs\": { \"files\": 3, \"states\": 2, \"plans\": 0, \"managed_instances\": 1200, \"data_sources\": 4 }\n  }\n}\n");
    s
}

#[derive(serde::Deserialize)]
struct Merged {
    command: String,
    gate: String,
    findings: serde::de::IgnoredAny,
    summary: MergedSummary,
}

#[derive(serde::Deserialize)]
struct MergedSummary {
    findings: usize,
    accounts: Vec<serde::de::IgnoredAny>,
}

pub(crate) fn run(scale: f64, runs: usize, binary: &Path, label: &str, dir: &Path) -> Result<()> {
    let reports = ((1000.0 * scale).round() as u64).max(2);
    let in_dir = dir.join("merge-reports");
    let started = Instant::now();
    let marker = in_dir.join(".generated");
    let want = format!("{reports}x{FINDINGS_PER_REPORT}");
    let mut bytes = 0u64;
    if fs::read_to_string(&marker).ok().as_deref() == Some(want.as_str()) {
        for e in fs::read_dir(&in_dir)? {
            bytes += e?.metadata()?.len();
        }
        eprintln!("bench: reusing the reports in {}", in_dir.display());
    } else {
        let _ = fs::remove_dir_all(&in_dir);
        fs::create_dir_all(&in_dir)?;
        for a in 0..reports {
            let text = report(100_000_000_000 + a, FINDINGS_PER_REPORT);
            bytes += text.len() as u64;
            fs::write(in_dir.join(format!("{:012}.json", 100_000_000_000 + a)), text)?;
        }
        fs::write(&marker, &want)?;
    }
    eprintln!(
        "bench: merge input: {reports} reports of {FINDINGS_PER_REPORT} findings, {} ({:.1} s)",
        mib(bytes),
        started.elapsed().as_secs_f64()
    );
    let machine = Machine::probe();
    let out = dir.join("merged.json");
    let mut all = Vec::new();
    for i in 0..runs {
        let mut cmd = Command::new(binary);
        cmd.args(["report", "merge"]).arg(&in_dir).args(["--format", "json", "--output"]).arg(&out);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
        let stats = measure::run(&mut cmd)?;
        if stats.exit_code != 1 {
            bail!("report merge exited {} (expected 1: the error findings close the gate)", stats.exit_code);
        }
        let merged: Merged = serde_json::from_reader(std::io::BufReader::new(
            fs::File::open(&out).with_context(|| format!("{}", out.display()))?,
        ))
        .context("the merged report is not valid JSON")?;
        let _ = merged.findings;
        let expected = reports as usize * FINDINGS_PER_REPORT;
        if merged.command != "merge" || merged.gate != "closed" || merged.summary.findings != expected {
            bail!(
                "merged report: command {}, gate {}, {} findings (expected {expected})",
                merged.command,
                merged.gate,
                merged.summary.findings
            );
        }
        if merged.summary.accounts.len() != reports as usize {
            bail!("merged report has {} accounts, expected {reports}", merged.summary.accounts.len());
        }
        eprintln!(
            "bench: merge run {}: {:.2} s wall, {:.2} s user + {:.2} s sys, peak RSS {}, {expected} findings of {reports} accounts (checked), output {}; other processes used {:.2} cores meanwhile",
            i + 1,
            stats.wall.as_secs_f64(),
            stats.user.as_secs_f64(),
            stats.sys.as_secs_f64(),
            mib(stats.max_rss),
            mib(fs::metadata(&out).map(|m| m.len()).unwrap_or(0)),
            stats.others_cpu / stats.wall.as_secs_f64(),
        );
        all.push(stats);
    }
    let _ = fs::remove_file(&out);
    let best = all.iter().map(|s| s.wall).min().unwrap_or_default();
    let peak = all.iter().map(|s| s.max_rss).max().unwrap_or(0);
    let others = all.iter().map(|s| s.others_cpu / s.wall.as_secs_f64()).fold(0.0, f64::max);
    let ok = |b: bool| if b { "met" } else { "NOT met" };
    println!("\nreport merge — {label}");
    println!(
        "  machine       {} ({} logical CPUs, {} RAM, Linux {}), {}",
        machine.cpu,
        machine.cpus,
        mib(machine.mem_bytes),
        machine.kernel,
        measure::today()
    );
    println!(
        "  input         {reports} reports × {FINDINGS_PER_REPORT} findings = {} ({} on disk)",
        reports as usize * FINDINGS_PER_REPORT,
        mib(bytes)
    );
    println!(
        "  wall (best)   {:.2} s   (target < {:.0} s: {})",
        best.as_secs_f64(),
        TARGET_WALL.as_secs_f64(),
        ok(best < TARGET_WALL)
    );
    println!("  peak RSS      {}   (target < 200 MB: {})", mib(peak), ok(peak < TARGET_RSS));
    println!("  contention    other processes used up to {others:.2} cores during the runs");
    Ok(())
}
