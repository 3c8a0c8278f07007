//! `driftlock review-plan` on real plans (terraform against moto), without and with the lock,
//! and every output format pinned (the SARIF validated against the published 2.1.0 schema).

mod common;
use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

const ALL_ACTIONS: &str = "testdata/plan/all-actions/plan.json";

fn planted_actions() -> serde_json::Map<String, Value> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("plan/all-actions/PLANTED.json")).unwrap()).unwrap();
    v["actions"].as_object().unwrap().clone()
}

fn review(args: &[&str]) -> (i32, Value) {
    let mut a = vec!["review-plan", "--format", "json"];
    a.extend(args);
    let o = driftlock(&a);
    (code(&o), json(&o))
}

fn addresses(r: &Value, kind: &str) -> BTreeSet<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f["address"].as_str().unwrap().to_owned())
        .collect()
}

/// A configuration beside the plan's copy: K.1.x (status given), K.2.x pending, K sequence.
fn lock_config(k1_status: &str, k2_status: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plans/k1")).unwrap();
    let plan = dir.path().join("plans/k1/plan.json");
    std::fs::copy(testdata("plan/all-actions/plan.json"), &plan).unwrap();
    let extra = if k1_status == "locked" {
        "lineage = \"212f06b3-0ede-211c-1c65-003aeaecb433\"\nserial = 7\nverified_commit = \"HEAD\"\n"
    } else {
        ""
    };
    let cfg = dir.path().join("driftlock.toml");
    std::fs::write(
        &cfg,
        format!("preset = \"k-sequence\"\n[[phase]]\nname = \"K.1.x\"\nstatus = \"{k1_status}\"\nstates = [\"envs/k1\"]\nplans = [\"plans/k1\"]\n{extra}\n[[phase]]\nname = \"K.2.x\"\nstatus = \"{k2_status}\"\nstates = [\"envs/k2\"]\nplans = [\"plans/k2\"]\n"),
    )
    .unwrap();
    let (c, p) = (cfg.to_str().unwrap().to_owned(), plan.to_str().unwrap().to_owned());
    (dir, c, p)
}

#[test]
fn without_a_lock_destroys_are_warnings_with_their_reason() {
    let (rc, r) = review(&[ALL_ACTIONS]);
    assert_eq!(rc, 0, "warnings and notes keep the gate open: {r:#}");
    let actions = planted_actions();
    let destroys: BTreeSet<String> = actions
        .iter()
        .filter(|(_, a)| a.as_array().unwrap().iter().any(|x| x == "delete"))
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(addresses(&r, "plan-destroy"), destroys);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("plan/all-actions/PLANTED.json")).unwrap()).unwrap();
    for f in r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "plan-destroy") {
        let reason = v["action_reasons"][f["address"].as_str().unwrap()].as_str().unwrap();
        assert!(f["message"].as_str().unwrap().contains(reason), "{f}");
        assert_eq!(f["severity"], "warning");
    }
    assert_eq!(addresses(&r, "plan-import"), BTreeSet::from(["aws_s3_bucket.imported".to_owned()]));
    assert_eq!(addresses(&r, "plan-forget"), BTreeSet::from(["aws_iam_role.forgotten".to_owned()]));
    assert_eq!(addresses(&r, "plan-moved"), BTreeSet::from(["aws_s3_bucket.new".to_owned()]));
    let changes = r["summary"]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["resource_type"] == "aws_s3_bucket" && c["replace"] == 2 && c["import"] == 1 && c["move"] == 1),
        "{changes:?}"
    );
}

#[test]
fn drift_and_incomplete_plans() {
    let (rc, r) = review(&["testdata/plan/refresh-drift/plan.json"]);
    assert_eq!(rc, 1);
    assert_eq!(addresses(&r, "plan-drift").len(), 4);
    let (rc, r) = review(&["testdata/plan/errored/plan.json"]);
    assert_eq!(rc, 1);
    assert_eq!(r["findings"][0]["kind"], "plan-incomplete");
}

#[test]
fn a_plan_that_touches_a_locked_phase() {
    let (_d, cfg, plan) = lock_config("locked", "pending");
    let (rc, r) = review(&[&plan, "--config", &cfg]);
    assert_eq!(rc, 1, "{r:#}");
    // Every resource whose state would change: updates, deletes, replacements, forget, import,
    // move and the create (a locked phase does not grow either).
    let touched = addresses(&r, "plan-touches-locked");
    let actions = planted_actions();
    let want: BTreeSet<String> = actions
        .iter()
        .filter(|(k, a)| {
            !k.starts_with("data.")
                && (a.as_array().unwrap().iter().any(|x| x != "no-op" && x != "read")
                    || ["aws_s3_bucket.imported", "aws_s3_bucket.new"].contains(&k.as_str()))
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(touched, want);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "plan-touches-locked" && f["message"].as_str().unwrap().contains("(import)"))
    );
    // Deletes stay plan-destroy warnings beside the error.
    assert!(addresses(&r, "plan-destroy").contains("aws_iam_role.deleted"));
}

#[test]
fn a_plan_for_a_phase_whose_predecessor_is_not_locked() {
    let (_d, cfg, plan) = lock_config("in-progress", "pending");
    let (rc, r) = review(&[&plan, "--config", &cfg, "--phase", "K.2.x"]);
    assert_eq!(rc, 1, "{r:#}");
    let seq: Vec<&Value> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "sequencing-deviation").collect();
    assert_eq!(seq.len(), 1);
    assert!(seq[0]["message"].as_str().unwrap().contains("K.1.x is in-progress"));
    // K.2.x (runtime substrate) does not allow VPCs, subnets, buckets or security groups.
    let oop = addresses(&r, "plan-out-of-phase");
    assert!(oop.contains("aws_vpc.extra") && oop.contains("aws_vpc.main"), "{oop:?}");
    assert!(!oop.contains("aws_iam_role.deleted"), "a delete removes an out-of-phase resource; it is not out of phase");
    // Without --phase, the plan's folder names its phase (K.1.x): no sequencing deviation.
    let (_, r) = review(&[&plan, "--config", &cfg]);
    assert_eq!(addresses(&r, "sequencing-deviation").len(), 0);
    assert_eq!(addresses(&r, "plan-out-of-phase").len(), 0, "K.1.x allows everything in this plan");
}

#[test]
fn an_unknown_phase_is_an_error() {
    let (_d, cfg, plan) = lock_config("in-progress", "pending");
    let (rc, r) = review(&[&plan, "--config", &cfg, "--phase", "K.9.x"]);
    assert_eq!(rc, 2);
    assert_eq!(r["errors"][0]["code"], "DL0012");
}

fn render(format: &str) -> String {
    stdout(&driftlock(&["review-plan", ALL_ACTIONS, "testdata/plan/refresh-drift/plan.json", "--format", format]))
}

#[test]
fn every_format_is_pinned() {
    insta::assert_snapshot!("review_human", render("human"));
    insta::assert_snapshot!("review_markdown", render("markdown"));
    insta::assert_snapshot!("review_github", render("github"));
    let json: Value = serde_json::from_str(&render("json")).unwrap();
    insta::assert_json_snapshot!("review_json", json);
    let sarif: Value = serde_json::from_str(&render("sarif")).unwrap();
    insta::assert_json_snapshot!("review_sarif", sarif, { ".runs[0].tool.driver.version" => "[version]" });
}

/// The published SARIF 2.1.0 schema travels in the `serde-sarif` crate's sources (a
/// dev-dependency); `cargo metadata` says where they are.
fn sarif_schema() -> Option<Value> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(root())
        .output()
        .ok()?;
    let meta: Value = serde_json::from_slice(&out.stdout).ok()?;
    let manifest =
        meta["packages"].as_array()?.iter().find(|p| p["name"] == "serde-sarif")?["manifest_path"].as_str()?.to_owned();
    let schema = std::path::Path::new(&manifest).parent()?.join("src/schema.json");
    serde_json::from_str(&std::fs::read_to_string(schema).ok()?).ok()
}

#[test]
fn sarif_is_valid_against_the_published_schema() {
    let mut schema = sarif_schema().expect("the SARIF 2.1.0 schema from the serde-sarif crate sources");
    assert_eq!(schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
    // A known erratum of the published schema: the `language` patterns (of `run` and
    // `toolComponent`) have a stray `]`, which makes the schema itself invalid for strict
    // validators. Use the pattern they mean.
    fn fix(v: &mut Value, n: &mut usize) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = Value::String("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into());
                        *n += 1;
                    } else {
                        fix(x, n);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| fix(x, n)),
            _ => {}
        }
    }
    let mut fixed = 0;
    fix(&mut schema, &mut fixed);
    assert!(fixed > 0, "the erratum was fixed upstream: drop this patch");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for args in [
        vec!["review-plan", ALL_ACTIONS, "--format", "sarif"],
        vec!["scan", "--state", "testdata/demo/states", "--inventory", "testdata/demo/inventory", "--format", "sarif"],
        vec!["scan", "testdata/bad/invalid-json.tfstate", "--format", "sarif"],
    ] {
        let doc: Value = serde_json::from_str(&stdout(&driftlock(&args))).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
        // The SARIF rules cover every finding kind, and results refer to them.
        let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for res in doc["runs"][0]["results"].as_array().unwrap() {
            let idx = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], res["ruleId"]);
        }
    }
    // Round trip through the schema's typed model too.
    let doc = stdout(&driftlock(&["review-plan", ALL_ACTIONS, "--format", "sarif"]));
    let typed: serde_sarif::sarif::Sarif = serde_json::from_str(&doc).expect("serde-sarif reads it");
    assert_eq!(typed.runs.len(), 1);
}

#[test]
fn a_creates_only_plan_opens_the_gate() {
    let (rc, r) = review(&["testdata/plan/creates-only/plan.json"]);
    assert_eq!(rc, 0, "{r:#}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("plan/creates-only/PLANTED.json")).unwrap()).unwrap();
    let planted_creates = v["actions"].as_object().unwrap().values().filter(|a| a[0] == "create").count();
    let creates: u64 = r["summary"]["changes"].as_array().unwrap().iter().map(|c| c["create"].as_u64().unwrap()).sum();
    assert_eq!(creates as usize, planted_creates);
}
