//! Issue 10, organisation scale: `--account-map` names each finding's account, and `driftlock
//! report merge` combines per-account reports into one organisation report with an account
//! dimension, in every format, with the merged gate (closed if any report's gate is closed, exit
//! 2 if any report could not audit or is not a driftlock report).

mod common;
use std::path::Path;

use common::*;
use serde_json::Value;

const DEMO: [&str; 6] = [
    "--state",
    "testdata/demo/states",
    "--plan",
    "testdata/demo/plan/refresh-drift.json",
    "--inventory",
    "testdata/demo/inventory",
];

fn scan_to(path: &Path, extra: &[&str], expect: i32) {
    let p = path.to_str().unwrap();
    let mut args = vec!["scan"];
    args.extend(extra);
    args.extend(["--format", "json", "--output", p]);
    let o = driftlock(&args);
    assert_eq!(code(&o), expect, "{}", stderr(&o));
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn scan_names_accounts_from_cloud_ids_and_states() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("accounts.toml");
    std::fs::write(&map, "[accounts]\n\"123456789012\" = \"prod\"\n").unwrap();
    let mut args = vec!["scan"];
    args.extend(DEMO);
    args.extend(["--account-map", map.to_str().unwrap(), "--format", "json"]);
    let o = driftlock(&args);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    let findings = r["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        // every demo resource lives in moto's account; the tainted instance has no cloud id in
        // the finding, its state names the account
        assert_eq!(f["account"], "123456789012", "{f}");
        assert_eq!(f["account_name"], "prod", "{f}");
    }
    assert!(findings.iter().any(|f| f["kind"] == "tainted"));
    assert_eq!(r["summary"]["by_account"]["123456789012"], findings.len());

    // the same map from driftlock.toml
    let cfg = dir.path().join("driftlock.toml");
    std::fs::write(&cfg, "[accounts]\n\"123456789012\" = \"from-config\"\n").unwrap();
    let mut args = vec!["scan"];
    args.extend(DEMO);
    args.extend(["--config", cfg.to_str().unwrap(), "--format", "json"]);
    let r = json(&driftlock(&args));
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["account_name"] == "from-config"));
}

#[test]
fn a_bad_account_map_is_exit_2_pointing_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("accounts.toml");
    std::fs::write(&map, "[accounts]\n\"123456789012\" = 42\n").unwrap();
    let o = driftlock(&["scan", "--state", "testdata/demo/states", "--account-map", map.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let out = stdout(&o);
    assert!(out.contains("DL0025"), "{out}");
    assert!(out.contains("42"), "the snippet shows the line: {out}");
    let o = driftlock(&[
        "scan",
        "--state",
        "testdata/demo/states",
        "--account-map",
        "testdata/does-not-exist.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0025");
}

/// Two accounts' reports and a clean one, as a scheduled run leaves them.
fn org(dir: &Path) -> std::path::PathBuf {
    let reports = dir.join("reports");
    std::fs::create_dir_all(reports.join("staging")).unwrap();
    scan_to(&reports.join("prod.json"), &DEMO, 1);
    // findings without an account (as an older driftlock wrote them): their account is the
    // folder's name
    let staging = reports.join("staging/report.json");
    scan_to(&staging, &["--state", "testdata/state/tainted"], 1);
    let mut r = read(&staging);
    for f in r["findings"].as_array_mut().unwrap() {
        let f = f.as_object_mut().unwrap();
        assert!(f.remove("account").is_some(), "the tainted state names its account");
        f.remove("account_name");
    }
    std::fs::write(&staging, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
    scan_to(&reports.join("210987654321.json"), &["--state", "testdata/state/clean"], 0);
    reports
}

#[test]
fn merge_has_an_account_dimension_and_keeps_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let reports = org(dir.path());
    let map = dir.path().join("accounts.toml");
    std::fs::write(&map, "[accounts]\n\"123456789012\" = \"prod\"\n\"210987654321\" = \"sandbox\"\n").unwrap();
    let o = driftlock(&[
        "report",
        "merge",
        reports.to_str().unwrap(),
        "--account-map",
        map.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let m = json(&o);
    assert_eq!(m["schema"], "driftlock/report/v1");
    assert_eq!(m["command"], "merge");
    assert_eq!(m["gate"], "closed");
    let prod = read(&reports.join("prod.json"));
    let staging = read(&reports.join("staging/report.json"));
    let n = prod["findings"].as_array().unwrap().len() + staging["findings"].as_array().unwrap().len();
    let findings = m["findings"].as_array().unwrap();
    assert_eq!(findings.len(), n);
    assert_eq!(m["summary"]["findings"], n);
    // reports in path order: 210987654321.json (none), prod.json, staging/report.json
    let fps: Vec<&Value> = findings.iter().map(|f| &f["fingerprint"]).collect();
    let want: Vec<&Value> = prod["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(staging["findings"].as_array().unwrap())
        .map(|f| &f["fingerprint"])
        .collect();
    assert_eq!(fps, want, "fingerprints kept, findings in report order");
    for f in &findings[..prod["findings"].as_array().unwrap().len()] {
        assert_eq!(f["account"], "123456789012");
        assert_eq!(f["account_name"], "prod");
    }
    let tainted = findings.iter().find(|f| f["file"].as_str().unwrap_or("").contains("state/tainted")).unwrap();
    assert_eq!(tainted["account"], "staging");
    assert!(tainted.get("account_name").is_none());
    let accounts = m["summary"]["accounts"].as_array().unwrap();
    let row = |id: &str| accounts.iter().find(|a| a["account"] == id).unwrap_or_else(|| panic!("{id}: {accounts:?}"));
    // prod.json is named after the account's name: it stands for its id
    assert_eq!(row("123456789012")["name"], "prod");
    assert_eq!(row("123456789012")["reports"], 1);
    assert_eq!(row("123456789012")["gate"], "closed");
    assert_eq!(row("210987654321")["name"], "sandbox");
    assert_eq!(row("210987654321")["gate"], "open");
    assert_eq!(row("210987654321")["findings"], 0);
    assert_eq!(m["reports"].as_array().unwrap().len(), 3);
    assert_eq!(
        m["summary"]["by_severity"]["error"].as_u64().unwrap(),
        findings.iter().filter(|f| f["severity"] == "error").count() as u64
    );
    // merging the merged report again gives the same findings
    let merged = dir.path().join("org.json");
    std::fs::write(&merged, &o.stdout).unwrap();
    let again = json(&driftlock(&["report", "merge", merged.to_str().unwrap(), "--format", "json"]));
    assert_eq!(again["findings"], m["findings"]);
}

#[test]
fn merge_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let reports = org(dir.path());
    let map = dir.path().join("accounts.toml");
    std::fs::write(&map, "[accounts]\n\"123456789012\" = \"prod\"\n").unwrap();
    let r = reports.to_str().unwrap();
    let m = map.to_str().unwrap();
    let md = driftlock(&["report", "merge", r, "--account-map", m, "--format", "markdown"]);
    assert_eq!(code(&md), 1);
    let text = stdout(&md);
    assert!(text.starts_with("❌ **driftlock: gate closed** — 3 account(s), 3 report(s)"), "{text}");
    assert!(text.contains("| 210987654321 | ✅ open | 1 |"), "{text}");
    assert!(text.contains("<details><summary>"), "{text}");

    let sarif = driftlock(&["report", "merge", r, "--account-map", m, "--format", "sarif"]);
    assert_eq!(code(&sarif), 1);
    let s: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|x| x["properties"]["account"].is_string()));
    let log: serde_sarif::sarif::Sarif = serde_json::from_value(s.clone()).expect("a SARIF 2.1.0 log");
    drop(log);

    let gh = driftlock(&["report", "merge", r, "--account-map", m, "--format", "github"]);
    let text = stdout(&gh);
    assert!(
        text.lines().any(|l| l.starts_with("::error file=") && l.contains("title=DL0101 tainted [staging]")),
        "{text}"
    );
    assert!(text.lines().last().unwrap().starts_with("::notice title=driftlock::gate closed"), "{text}");

    let human = driftlock(&["report", "merge", r, "--account-map", m]);
    let text = stdout(&human);
    assert!(text.contains("account: prod (123456789012)"), "{text}");
    assert!(text.contains("3 report(s), 3 account(s):"), "{text}");
    assert!(text.contains("gate closed:"), "{text}");
}

#[test]
fn merge_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let reports = org(dir.path());
    // an account that could not be audited
    scan_to(&reports.join("broken.json"), &["--state", "testdata/does-not-exist"], 2);
    let o = driftlock(&["report", "merge", reports.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 2);
    let m = json(&o);
    assert_eq!(m["gate"], "closed");
    let errors = m["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["report"].as_str().unwrap().ends_with("broken.json")), "{errors:?}");
    let broken = m["summary"]["accounts"].as_array().unwrap().iter().find(|a| a["account"] == "broken").unwrap();
    assert_eq!(broken["gate"], "closed");
    assert!(broken["input_errors"].as_u64().unwrap() >= 1);

    // not a driftlock report: a state, a SARIF log; a missing file; a folder with no report
    let sarif = dir.path().join("x.json");
    std::fs::write(&sarif, r#"{"version": "2.1.0", "runs": []}"#).unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for (path, code_) in [
        (root().join("testdata/state/clean/terraform.tfstate"), "DL0016"),
        (sarif.clone(), "DL0016"),
        (dir.path().join("missing.json"), "DL0001"),
        (empty.clone(), "DL0011"),
    ] {
        let prod = reports.join("prod.json");
        let o = driftlock(&["report", "merge", prod.to_str().unwrap(), path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code(&o), 2, "{}", path.display());
        let m = json(&o);
        assert_eq!(m["errors"][0]["code"], code_, "{}: {m}", path.display());
        assert!(!m["findings"].as_array().unwrap().is_empty(), "the good report is still merged");
    }

    // a finding this driftlock does not know
    let mut future = read(&reports.join("prod.json"));
    future["findings"][0]["code"] = "DL0999".into();
    let f = dir.path().join("future.json");
    std::fs::write(&f, serde_json::to_vec(&future).unwrap()).unwrap();
    let o = driftlock(&["report", "merge", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0026");

    // truncated
    let t = dir.path().join("truncated.json");
    let text = std::fs::read_to_string(reports.join("prod.json")).unwrap();
    std::fs::write(&t, &text[..text.len() / 2]).unwrap();
    let o = driftlock(&["report", "merge", t.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0003");
    assert!(json(&o)["findings"].as_array().unwrap().is_empty(), "nothing of a broken report is merged");

    // an open organisation
    let o = driftlock(&["report", "merge", reports.join("210987654321.json").to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["gate"], "open");
}
