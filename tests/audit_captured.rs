//! Audit logs captured from real tools (`testdata/audit/captured/`, written by `cargo xtask
//! fixtures audit`): terraform with the real AWS provider, the aws CLI and boto3 against moto,
//! their requests turned into CloudTrail records with signed digest files. Each scenario is
//! judged against `testdata/audit/governance.toml` with the trail's public key and
//! `--require-complete-trail`, and must find exactly what happened. When terraform, moto, the
//! aws CLI and boto3 are present, one test regenerates the trails into a temporary folder and
//! checks that they find the same.

mod common;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const GOVERNANCE: &str = "testdata/audit/governance.toml";
const TERRAFORM_1_12: &str = "testdata/audit/governance-terraform-1.12.toml";

fn captured() -> PathBuf {
    testdata("audit/captured")
}

fn facts(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("captured.json")).expect("captured.json");
    serde_json::from_str(&text).expect("captured.json is JSON")
}

fn judge(dir: &Path, scenario: &str, governance: &str) -> (i32, Value) {
    let trail = dir.join(scenario);
    let keys = dir.join("cloudtrail-public-keys.json");
    let o = driftlock(&[
        "scan",
        "--format",
        "json",
        "--audit-log",
        trail.to_str().unwrap(),
        "--config",
        governance,
        "--cloudtrail-public-keys",
        keys.to_str().unwrap(),
        "--require-complete-trail",
    ]);
    let r = json(&o);
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{scenario}: {r:#}");
    (code(&o), r)
}

/// (kind, event name, principal type, tool) of every finding, in report order.
fn rows(r: &Value) -> Vec<(String, String, String, String)> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let e = &f["evidence"];
            let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            (s(&f["kind"]), s(&e["event_name"]), s(&e["principal_type"]), s(&e["tool"]))
        })
        .collect()
}

fn row(kind: &str, name: &str, ptype: &str, tool: &str) -> (String, String, String, String) {
    (kind.to_owned(), name.to_owned(), ptype.to_owned(), tool.to_owned())
}

/// (records, writes, authorized, read_only, failed, manual, undocumented, log files).
fn counts(r: &Value) -> [u64; 8] {
    let a = &r["summary"]["audit"];
    let n = |k: &str| a[k].as_u64().unwrap_or_else(|| panic!("summary.audit.{k}: {a:#}"));
    [
        n("records"),
        n("writes"),
        n("authorized"),
        n("read_only"),
        n("failed"),
        n("manual_intervention"),
        n("undocumented_tooling"),
        n("cloudtrail_files"),
    ]
}

/// What every scenario must find: exit code and findings; the counts follow from the apply's
/// calls (`captured.json`).
fn check_all(dir: &Path) {
    let f = facts(dir);
    let calls = f["apply_calls"].as_u64().expect("apply_calls");
    let writes = f["apply_writes"].as_u64().expect("apply_writes");
    assert!(writes >= 3, "the apply creates a VPC, a subnet and a security group: {f:#}");

    // The pipeline's apply alone: every write authorized, the trail intact and verified.
    let (code, r) = judge(dir, "pipeline-only", GOVERNANCE);
    assert_eq!(rows(&r), vec![], "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    let c = counts(&r);
    assert_eq!((c[0], c[1], c[2], c[7]), (calls, writes, writes, 1), "{r:#}");

    // A person opens port 22 in the console (SSO session, browser).
    let (code, r) = judge(dir, "console-change", GOVERNANCE);
    assert_eq!(
        rows(&r),
        vec![row("manual-intervention", "AuthorizeSecurityGroupIngress", "IdentityCenter", "web-browser")],
        "{r:#}"
    );
    assert_eq!(code, 1);
    let e = &r["findings"][0]["evidence"];
    assert_eq!(e["event_time"], "2026-11-21T10:31:00Z");
    assert!(e["principal"].as_str().unwrap().contains("AWSReservedSSO_AdministratorAccess"), "{e:#}");
    assert_eq!(e["source_ip"], "203.0.113.91");

    // A person tags the VPC with the aws CLI under their IAM user.
    let (code, r) = judge(dir, "cli-by-person", GOVERNANCE);
    assert_eq!(rows(&r), vec![row("manual-intervention", "CreateTags", "IAMUser", "aws-cli")], "{r:#}");
    assert_eq!(code, 1);
    let e = &r["findings"][0]["evidence"];
    assert_eq!(e["principal"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(e["user_agent"], f["user_agents"]["aws_cli"], "{e:#}");
    assert!(e["file"].as_str().unwrap().ends_with(".json.gz"), "{e:#}");
    assert_eq!(counts(&r)[..3], [calls + 1, writes + 1, writes]);

    // A boto3 script under the pipeline's role: an authorized principal with a tool nobody
    // documented.
    let (code, r) = judge(dir, "boto3-pipeline-role", GOVERNANCE);
    assert_eq!(rows(&r), vec![row("undocumented-tooling", "CreateTags", "AssumedRole", "boto3")], "{r:#}");
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["evidence"]["user_agent"], f["user_agents"]["boto3"]);

    // A read and a failed call change nothing.
    let (code, r) = judge(dir, "failed-and-read-only", GOVERNANCE);
    assert_eq!(rows(&r), vec![], "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    let c = counts(&r);
    assert_eq!((c[0], c[1], c[4]), (calls + 2, writes, 1), "{r:#}");

    // The log file was edited after delivery: its hash no longer matches the digest.
    let (code, r) = judge(dir, "tampered", GOVERNANCE);
    let kinds: Vec<String> = rows(&r).into_iter().map(|x| x.0).collect();
    assert_eq!(kinds, vec!["audit-log-tampered".to_owned()], "{r:#}");
    assert_eq!(code, 1);
    assert!(r["findings"][0]["message"].as_str().unwrap().contains("_CloudTrail_us-east-1_20261121T1010Z_"), "{r:#}");

    // The same apply, judged by a record that approves only Terraform 1.12: every write of
    // the real 1.11 is undocumented tooling.
    let (code, r) = judge(dir, "unapproved-terraform", TERRAFORM_1_12);
    let found = rows(&r);
    assert_eq!(found.len() as u64, writes, "{r:#}");
    assert!(found.iter().all(|x| x.0 == "undocumented-tooling" && x.2 == "AssumedRole" && x.3 == "terraform"), "{r:#}");
    assert_eq!(found[0].1, "CreateVpc");
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["evidence"]["tool_version"], "1.11.4");
}

#[test]
fn captured_trails_find_exactly_what_happened() {
    check_all(&captured());
}

#[test]
fn a_captured_trail_is_verified_with_its_key_and_unverified_without() {
    let trail = captured().join("pipeline-only");
    let o = driftlock(&["scan", "--format", "json", "--audit-log", trail.to_str().unwrap(), "--config", GOVERNANCE]);
    let r = json(&o);
    let kinds: Vec<&str> = r["findings"].as_array().unwrap().iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["audit-trail-unverified"], "{r:#}");
    assert_eq!(code(&o), 0, "a warning does not close the gate: {r:#}");
}

#[test]
fn regenerated_trails_find_the_same() {
    let mut missing = tools::missing_tools();
    let boto3 = std::process::Command::new("python3")
        .args(["-c", "import boto3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !boto3 {
        missing.push("python3 with boto3".into());
    }
    if !missing.is_empty() {
        skip("regenerated_trails_find_the_same", &format!("missing {}", missing.join(", ")));
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["run", "--quiet", "--package", "xtask", "--", "fixtures", "audit", "--out"])
        .arg(out.path())
        .status()
        .expect("cargo run xtask");
    assert!(status.success(), "cargo xtask fixtures audit --out failed: {status}");
    check_all(out.path());
    // Same tools, same machine: the same ids from moto's seeded generator.
    let (a, b) = (facts(out.path()), facts(&captured()));
    assert_eq!((&a["apply_calls"], &a["apply_writes"]), (&b["apply_calls"], &b["apply_writes"]));
}
