//! The real fixtures (`testdata/`, made by `cargo xtask fixtures` with terraform, the AWS
//! provider, moto and the aws CLI): driftlock must report exactly what each scenario's
//! `PLANTED.json` says was done by hand, nothing more, with the right exit status.

mod common;
use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn planted(rel: &str) -> Value {
    let p = testdata(rel);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn planted_set(p: &Value, key: &str) -> BTreeSet<String> {
    p[key].as_array().into_iter().flatten().map(|v| v.as_str().unwrap().to_owned()).collect()
}

fn found(r: &Value, kind: &str, field: &str) -> BTreeSet<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f[field].as_str().unwrap_or_else(|| panic!("{kind} finding without {field}: {f}")).to_owned())
        .collect()
}

fn kinds(r: &Value) -> BTreeSet<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect()
}

/// An inventory fixture directory (its PLANTED.json is a sibling: a directory given to
/// `--inventory` must hold inventory files only).
fn inventory_args(dir: &str) -> Vec<String> {
    vec!["--inventory".to_owned(), format!("testdata/{dir}")]
}

fn scan(args: &[String]) -> (i32, Value) {
    let mut all = vec!["scan".to_owned(), "--format".to_owned(), "json".to_owned()];
    all.extend(args.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let o = driftlock(&refs);
    (code(&o), json(&o))
}

fn strs(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn clean_state_opens_the_gate() {
    for input in ["testdata/state/clean", "testdata/state/clean/show.json", "testdata/state/phases"] {
        let (rc, r) = scan(&strs(&["--state", input]));
        assert_eq!(rc, 0, "{input}: {r:#}");
        assert_eq!(r["gate"], "open");
        assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{input}");
    }
}

#[test]
fn tainted_exactly_as_planted() {
    let p = planted("state/tainted/PLANTED.json");
    for input in ["testdata/state/tainted/terraform.tfstate", "testdata/state/tainted/show.json"] {
        let (rc, r) = scan(&strs(&["--state", input]));
        assert_eq!(rc, 1, "{input}");
        assert_eq!(found(&r, "tainted", "address"), planted_set(&p, "tainted"), "{input}");
        assert_eq!(kinds(&r), BTreeSet::from(["tainted".to_owned()]), "{input}");
    }
}

#[test]
fn deposed_exactly_as_planted() {
    let p = planted("state/deposed/PLANTED.json");
    for input in ["testdata/state/deposed/terraform.tfstate", "testdata/state/deposed/show.json"] {
        let (rc, r) = scan(&strs(&["--state", input]));
        assert_eq!(rc, 1, "{input}");
        assert_eq!(found(&r, "deposed", "address"), planted_set(&p, "deposed"), "{input}");
        assert_eq!(kinds(&r), BTreeSet::from(["deposed".to_owned()]));
    }
}

#[test]
fn interrupted_apply_leaves_two_traces() {
    let (rc, r) = scan(&strs(&["--state", "testdata/state/interrupted"]));
    assert_eq!(rc, 1);
    let files = found(&r, "interrupted-apply", "file");
    assert_eq!(
        files,
        BTreeSet::from([
            "testdata/state/interrupted/.terraform.tfstate.lock.info".to_owned(),
            "testdata/state/interrupted/errored.tfstate".to_owned()
        ])
    );
    let msgs: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(msgs.iter().any(|m| m.contains("lock held by") && m.contains("apply")), "{msgs:?}");
}

#[test]
fn refresh_only_plan_drift_exactly_as_planted() {
    let p = planted("plan/refresh-drift/PLANTED.json");
    let (rc, r) = scan(&strs(&["--plan", "testdata/plan/refresh-drift/plan.json"]));
    assert_eq!(rc, 1);
    let mut want = planted_set(&p, "drift");
    want.extend(planted_set(&p, "deleted"));
    assert_eq!(found(&r, "plan-drift", "address"), want, "refresh noise must not be reported");
    for f in r["findings"].as_array().unwrap() {
        let deleted = planted_set(&p, "deleted").contains(f["address"].as_str().unwrap());
        assert_eq!(f["diff"].is_null(), deleted, "{f}");
        assert!(f["line"].as_u64().unwrap() > 1);
    }
}

#[test]
fn incomplete_and_errored_plans() {
    for (plan, phrase) in [("targeted", "not complete"), ("errored", "planning errored")] {
        let (rc, r) = scan(&strs(&["--plan", &format!("testdata/plan/{plan}/plan.json")]));
        assert_eq!(rc, 1, "{plan}");
        let f = &r["findings"][0];
        assert_eq!(f["kind"], "plan-incomplete", "{plan}");
        assert!(f["message"].as_str().unwrap().contains(phrase), "{plan}: {f}");
        assert_eq!(r["findings"].as_array().unwrap().len(), 1, "{plan}");
    }
}

#[test]
fn complete_plans_without_drift_open_the_gate() {
    for plan in ["all-actions", "deposed"] {
        let (rc, r) = scan(&strs(&["--plan", &format!("testdata/plan/{plan}/plan.json")]));
        assert_eq!(rc, 0, "{plan}: {r:#}");
    }
}

/// The estate's account holds two states: phase K.1 (`state/clean`) and an application
/// workspace whose apply failed half way (`state/estate-app`, one tainted bucket).
const ESTATE_STATES: [&str; 4] = ["--state", "testdata/state/clean", "--state", "testdata/state/estate-app"];

#[test]
fn inventory_matching_the_state_is_clean() {
    let mut args = strs(&ESTATE_STATES);
    args.extend(inventory_args("inventory/aws/estate-clean"));
    let (rc, r) = scan(&args);
    assert_eq!(rc, 1, "{r:#}");
    // Only the tainted bucket closes the gate; terraform_data has no cloud object: one note.
    assert_eq!(kinds(&r), BTreeSet::from(["tainted".to_owned(), "unsupported-type".to_owned()]));
    assert_eq!(found(&r, "tainted", "address"), planted_set(&planted("state/estate-app/PLANTED.json"), "tainted"));
    let inv = &r["summary"]["inventory"];
    assert_eq!(inv["unmanaged"], 0);
    assert_eq!(inv["missing"], 0);
    assert_eq!(inv["coverage"], 100.0);
}

#[test]
fn hand_made_changes_exactly_as_planted() {
    let p = planted("inventory/aws/estate-drifted.PLANTED.json");
    let mut args = strs(&ESTATE_STATES);
    args.extend(inventory_args("inventory/aws/estate-drifted"));
    let (rc, r) = scan(&args);
    assert_eq!(rc, 1);
    for kind in ["unmanaged", "missing", "drifted"] {
        assert_eq!(found(&r, kind, "cloud_id"), planted_set(&p, kind), "{kind}");
    }
    let ks = kinds(&r);
    assert!(
        ks.iter().all(|k| ["unmanaged", "missing", "drifted", "tainted", "unsupported-type"].contains(&k.as_str())),
        "{ks:?}"
    );
}

#[test]
fn account_exports_without_state() {
    let (rc, r) = scan(&inventory_args("inventory/aws/fresh-account"));
    assert_eq!(rc, 0, "a fresh account holds only provider defaults: {r:#}");
    let p = planted("inventory/aws/dirty-account.PLANTED.json");
    let (rc, r) = scan(&inventory_args("inventory/aws/dirty-account"));
    assert_eq!(rc, 1);
    assert_eq!(found(&r, "unmanaged", "cloud_id"), planted_set(&p, "unmanaged"));
    let p = planted("inventory/aws/modified-default-sg.PLANTED.json");
    let (rc, r) = scan(&inventory_args("inventory/aws/modified-default-sg"));
    assert_eq!(rc, 1);
    assert_eq!(found(&r, "unmanaged", "cloud_id"), planted_set(&p, "modified_defaults"));
    assert!(r["findings"][0]["message"].as_str().unwrap().contains("modified"));
}

/// The README's demo: exit 1, every finding located, and the rendered outputs pinned.
#[test]
fn demo_snapshots() {
    let args = [
        "scan",
        "--state",
        "testdata/demo/states",
        "--plan",
        "testdata/demo/plan/refresh-drift.json",
        "--inventory",
        "testdata/demo/inventory",
    ];
    let o = driftlock(&args);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!("demo_human", stdout(&o));
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let o = driftlock(&json_args);
    assert_eq!(code(&o), 1);
    let r = json(&o);
    for f in r["findings"].as_array().unwrap() {
        assert!(f["file"].is_string() && f["line"].is_u64(), "unlocated finding {f}");
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    }
    insta::assert_json_snapshot!("demo_json", r);
}

/// Sensitive values never reach any output: the SSM SecureString value and the sensitive
/// output of state/clean.
#[test]
fn secrets_are_never_printed() {
    let state = std::fs::read_to_string(testdata("state/clean/terraform.tfstate")).unwrap();
    let v: Value = serde_json::from_str(&state).unwrap();
    let secret = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "aws_ssm_parameter")
        .map(|r| r["instances"][0]["attributes"]["value"].as_str().unwrap().to_owned())
        .expect("the fixture has an SSM parameter");
    assert!(state.contains(&secret));
    // Taint the SSM parameter so its instance is labelled in the human output.
    let tainted = state.replacen("\"schema_version\": 0,\n          \"attributes\": {\n            \"allowed_pattern\"", "\"status\": \"tainted\",\n          \"schema_version\": 0,\n          \"attributes\": {\n            \"allowed_pattern\"", 1);
    assert_ne!(tainted, state, "the fixture layout changed; update this test");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, &tainted).unwrap();
    for format in ["human", "json"] {
        let o = driftlock(&["scan", "--format", format, p.to_str().unwrap()]);
        assert_eq!(code(&o), 1, "{}", stdout(&o));
        assert!(!stdout(&o).contains(&secret), "{format} output leaks the secret:\n{}", stdout(&o));
        assert!(!stderr(&o).contains(&secret));
    }
}

/// A gzipped copy and standard input give the same findings as the file.
#[test]
fn gzip_and_stdin_inputs() {
    use std::io::Write;
    let bytes = std::fs::read(testdata("state/tainted/terraform.tfstate")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("terraform.tfstate.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let (rc, r) = scan(&strs(&["--state", dir.path().to_str().unwrap()]));
    assert_eq!(rc, 1);
    assert_eq!(kinds(&r), BTreeSet::from(["tainted".to_owned()]));
    let o = driftlock_stdin(&["scan", "--format", "json", "--state", "-"], bytes);
    assert_eq!(code(&o), 1);
    assert_eq!(json(&o)["findings"][0]["file"], "<stdin>");
}

#[test]
fn output_file_and_summary_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let o = driftlock(&[
        "scan",
        "--state",
        "testdata/state/tainted",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("gate closed"));
    let r: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["schema"], "driftlock/report/v1");
}
