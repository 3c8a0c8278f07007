//! Issue 10, the baseline and the history: `--baseline REPORT.json` marks each finding `new` or
//! `unchanged` and lists the `resolved` ones; `--history DIR` keeps every run's report and
//! compares with the latest; the gate never changes; a baseline that is not a driftlock report
//! is exit 2 with a pointed diagnostic.

mod common;
use std::path::Path;

use common::*;
use serde_json::Value;

const STATES: &str = "testdata/demo/states";
const PLAN: &str = "testdata/demo/plan/refresh-drift.json";

/// Runs `scan` with JSON output and extra arguments; returns the exit status and the report.
fn scan_json(extra: &[&str], with_plan: bool) -> (i32, Value, String) {
    let mut args = vec!["scan", "--state", STATES, "--format", "json"];
    if with_plan {
        args.extend(["--plan", PLAN]);
    }
    args.extend(extra);
    let o = driftlock(&args);
    (code(&o), json(&o), stderr(&o))
}

fn write_report(dir: &Path, name: &str, with_plan: bool) -> String {
    let path = dir.join(name);
    let p = path.to_str().unwrap().to_owned();
    let o = driftlock(&{
        let mut a = vec!["scan", "--state", STATES, "--format", "json", "--output", &p];
        if with_plan {
            a.extend(["--plan", PLAN]);
        }
        a
    });
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    p
}

fn statuses(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_owned(), f["status"].as_str().unwrap_or("-").to_owned()))
        .collect()
}

#[test]
fn without_a_baseline_the_report_has_no_status() {
    let (rc, r, _) = scan_json(&[], false);
    assert_eq!(rc, 1);
    assert!(r["findings"][0].get("status").is_none());
    assert!(r.get("resolved").is_none());
    assert!(r["summary"].get("baseline").is_none());
}

#[test]
fn new_unchanged_and_resolved_and_the_gate_does_not_move() {
    let dir = tempfile::tempdir().unwrap();
    let only_state = write_report(dir.path(), "state.json", false);
    let with_plan = write_report(dir.path(), "plan.json", true);

    // Against the state-only run, the plan's drift is new and the tainted bucket unchanged.
    let (rc, r, _) = scan_json(&["--baseline", &only_state], true);
    assert_eq!(rc, 1, "the gate does not change");
    assert_eq!(r["gate"], "closed");
    let st = statuses(&r);
    assert!(st.contains(&("tainted".into(), "unchanged".into())), "{st:?}");
    assert_eq!(st.iter().filter(|(k, s)| k == "plan-drift" && s == "new").count(), 4, "{st:?}");
    assert_eq!(r["resolved"], serde_json::json!([]));
    let b = &r["summary"]["baseline"];
    assert_eq!((b["new"].as_u64(), b["unchanged"].as_u64(), b["resolved"].as_u64()), (Some(4), Some(1), Some(0)));
    assert!(b["file"].as_str().unwrap().ends_with("state.json"));

    // The other way round the drift is resolved: listed with its fingerprint, counted.
    let (rc, r, _) = scan_json(&["--baseline", &with_plan], false);
    assert_eq!(rc, 1, "an unchanged error still closes the gate");
    assert_eq!(statuses(&r), vec![("tainted".to_owned(), "unchanged".to_owned())]);
    let resolved = r["resolved"].as_array().unwrap();
    assert_eq!(resolved.len(), 4);
    assert!(resolved.iter().all(|f| f["kind"] == "plan-drift" && f["fingerprint"].as_str().unwrap().len() == 32));
    assert!(resolved.iter().all(|f| f.get("status").is_none()));
    assert_eq!(r["summary"]["baseline"]["resolved"], 4);
    // The counts by severity and kind are this run's, whatever the baseline.
    assert_eq!(r["summary"]["findings"], 1);
}

#[test]
fn every_format_tells_new_from_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let only_state = write_report(dir.path(), "state.json", false);
    let o = driftlock(&["scan", "--state", STATES, "--plan", PLAN, "--baseline", &only_state]);
    let text = stdout(&o);
    assert!(text.contains("DL0101 tainted (unchanged)"), "{text}");
    assert!(text.contains("DL0201 plan-drift (new)"), "{text}");
    assert!(text.contains(": 4 new, 1 unchanged, 0 resolved"), "{text}");

    let o = driftlock(&["scan", "--state", STATES, "--plan", PLAN, "--baseline", &only_state, "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let states: Vec<&str> =
        sarif["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["baselineState"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "new").count(), 4);
    assert_eq!(states.iter().filter(|s| **s == "unchanged").count(), 1);
    assert!(sarif["runs"][0]["results"][0]["partialFingerprints"]["driftlock/v1"].is_string());
}

#[test]
fn the_history_keeps_every_run_and_compares_with_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("history");
    let h = hist.to_str().unwrap();

    // First run: nothing to compare with; the folder is made and the report kept.
    let (rc, r, err) = scan_json(&["--history", h], false);
    assert_eq!(rc, 1);
    assert!(r["summary"].get("baseline").is_none());
    assert!(err.contains("driftlock: report kept in "), "{err}");

    // Second run compares with the first.
    let (_, r, _) = scan_json(&["--history", h], true);
    assert_eq!(r["summary"]["baseline"]["new"], 4);
    assert_eq!(r["summary"]["baseline"]["unchanged"], 1);

    // A run that could not audit is kept but is no baseline for the next.
    let o = driftlock(&[
        "scan",
        "--state",
        STATES,
        "--state",
        "testdata/does-not-exist",
        "--format",
        "json",
        "--history",
        h,
    ]);
    assert_eq!(code(&o), 2);

    // Third audited run compares with the second (the latest that audited everything).
    let (_, r, _) = scan_json(&["--history", h], false);
    assert_eq!(r["summary"]["baseline"]["resolved"], 4, "{:#}", r["summary"]);
    let base = r["summary"]["baseline"]["file"].as_str().unwrap().to_owned();

    let mut names: Vec<String> =
        std::fs::read_dir(&hist).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    let pattern = regex::Regex::new(r"^\d{8}T\d{6}\.\d{2}Z-[0-9a-f]{8}\.json$").unwrap();
    for n in &names {
        assert!(pattern.is_match(n), "{n}: named by time and a short hash, no temporary file left");
        let stored: Value = serde_json::from_slice(&std::fs::read(hist.join(n)).unwrap()).unwrap();
        assert_eq!(stored["schema"], "driftlock/report/v1");
    }
    assert!(base.ends_with(&names[1]), "{base} should be the second run, {names:?}");
    // The kept report is the one written, statuses and all.
    let last: Value = serde_json::from_slice(&std::fs::read(hist.join(&names[3])).unwrap()).unwrap();
    assert_eq!(last["findings"][0]["status"], "unchanged");

    // An explicit --baseline wins over the history.
    let with_plan = write_report(dir.path(), "plan.json", true);
    let (_, r, _) = scan_json(&["--history", h, "--baseline", &with_plan], true);
    assert_eq!(r["summary"]["baseline"]["unchanged"], 5);
}

#[test]
fn a_baseline_that_is_not_a_report_cannot_be_audited() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let sarif = {
        let o = driftlock(&["scan", "--state", STATES, "--format", "sarif"]);
        write("last.sarif", &stdout(&o))
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (dir.path().join("absent.json").to_str().unwrap().to_owned(), "DL0001", "does not exist"),
        (PLAN.to_owned(), "DL0016", "it is a Terraform plan"),
        ("testdata/demo/states/app/terraform.tfstate".to_owned(), "DL0016", "it is a Terraform state"),
        (sarif, "DL0016", "it is a SARIF log"),
        (write("v9.json", r#"{"schema": "driftlock/report/v9", "findings": []}"#), "DL0016", "driftlock/report/v9"),
        (write("array.json", "[1, 2]"), "DL0016", "not an object"),
        (
            write("bad.json", "{\n  \"schema\": \"driftlock/report/v1\",\n  \"findings\": [,]\n}"),
            "DL0003",
            "not valid JSON",
        ),
        (write("cut.json", "{\"schema\": \"driftlock/report/v1\", \"findings\": ["), "DL0003", "truncated"),
        (
            write("shape.json", r#"{"schema": "driftlock/report/v1", "command": "scan", "findings": {}}"#),
            "DL0004",
            "not shaped",
        ),
        (write("empty.json", ""), "DL0002", "is empty"),
    ];
    for (path, code_, words) in cases {
        let o = driftlock(&["scan", "--state", STATES, "--baseline", &path, "--format", "json"]);
        assert_eq!(code(&o), 2, "{path}: {}", stderr(&o));
        let r = json(&o);
        let e = &r["errors"][0];
        assert_eq!(e["code"], code_, "{path}: {e:#}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("the baseline "), "{msg}");
        assert!(msg.contains(words), "{path}: {msg}");
        assert!(e["help"].is_string());
        // The scan itself still ran and reported.
        assert_eq!(r["findings"][0]["kind"], "tainted");
    }
    // Human output names it with a snippet where there is a position.
    let o = driftlock(&["scan", "--state", STATES, "--baseline", &dir.path().join("bad.json").to_string_lossy()]);
    let text = stdout(&o);
    assert!(text.contains("DL0003 invalid-json"), "{text}");
    assert!(text.contains("the baseline "), "{text}");
}

#[test]
fn every_command_that_writes_a_report_takes_the_flags() {
    for cmd in ["scan", "clean-account", "verify", "review-plan"] {
        let o = driftlock(&[cmd, "--help"]);
        let help = stdout(&o);
        for flag in ["--baseline <REPORT.json>", "--history <DIR>"] {
            assert!(help.contains(flag), "{cmd} --help lacks {flag}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    let o = driftlock(&[
        "review-plan",
        "testdata/plan/all-actions/plan.json",
        "--format",
        "json",
        "--output",
        first.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let o = driftlock(&[
        "review-plan",
        "testdata/plan/all-actions/plan.json",
        "--format",
        "json",
        "--baseline",
        first.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let r = json(&o);
    assert_eq!(r["summary"]["baseline"]["new"], 0);
    assert!(r["findings"].as_array().unwrap().iter().all(|f| f["status"] == "unchanged"));
}
