//! The ready-to-copy scheduled-scan examples (`examples/schedule/`): each YAML parses and has the
//! shape its scheduler needs (a `schedule:` with a matrix over accounts and a merge job; a GitLab
//! scheduled pipeline; a Kubernetes CronJob running an indexed Job plus a merge CronJob), every
//! one runs the two scripts, and the scripts run for real against testdata with the binary under
//! test.

mod common;
use std::path::Path;

use common::*;
use yaml_rust2::{Yaml, YamlLoader};

fn load(rel: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

#[test]
fn github_actions_workflow_has_a_schedule_a_matrix_and_a_merge_job() {
    let doc = &load("examples/schedule/github/drift-scan.yml")[0];
    assert!(doc["on"]["schedule"][0]["cron"].as_str().is_some(), "on.schedule[0].cron");
    let accounts = doc["jobs"]["scan"]["strategy"]["matrix"]["account"].as_vec().expect("matrix over accounts");
    assert!(accounts.len() >= 2);
    assert_eq!(doc["jobs"]["scan"]["strategy"]["fail-fast"].as_bool(), Some(false));
    assert_eq!(doc["jobs"]["merge"]["needs"].as_str(), Some("scan"));
    assert_eq!(doc["jobs"]["merge"]["if"].as_str(), Some("always()"), "the merge gates even when an account failed");
    let runs = |job: &str| -> String {
        doc["jobs"][job]["steps"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(runs("scan").contains("bash examples/schedule/scan-account.sh"));
    assert!(runs("merge").contains("bash examples/schedule/merge.sh"));
}

#[test]
fn gitlab_pipeline_runs_on_schedule_in_parallel_then_merges() {
    let doc = &load("examples/schedule/gitlab/.gitlab-ci.yml")[0];
    let scan = &doc["scan"];
    assert!(scan["parallel"]["matrix"][0]["ACCOUNT"].as_vec().is_some_and(|a| a.len() >= 2));
    assert!(scan["rules"][0]["if"].as_str().unwrap().contains("\"schedule\""));
    assert!(
        scan["script"].as_vec().unwrap().iter().any(|l| l.as_str() == Some("bash examples/schedule/scan-account.sh"))
    );
    let merge = &doc["merge"];
    assert_eq!(merge["stage"].as_str(), Some("merge"));
    assert_eq!(merge["needs"][0]["job"].as_str(), Some("scan"));
    assert_eq!(merge["rules"][0]["when"].as_str(), Some("always"));
    assert!(merge["script"].as_vec().unwrap().iter().any(|l| l.as_str() == Some("bash examples/schedule/merge.sh")));
}

#[test]
fn kubernetes_cronjob_runs_an_indexed_job_and_a_merge() {
    let docs = load("examples/schedule/kubernetes/drift-scan.yaml");
    let kind = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some(k) && d["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {k} {name}"))
    };
    let cm = kind("ConfigMap", "driftlock-schedule");
    // the ConfigMap carries the tested scripts verbatim
    for f in ["scan-account.sh", "merge.sh", "accounts.toml"] {
        assert_eq!(cm["data"][f].as_str(), Some(text(&format!("examples/schedule/{f}")).as_str()), "{f} differs");
    }
    let accounts = cm["data"]["ACCOUNTS"].as_str().unwrap().split_whitespace().count();
    let scan = kind("CronJob", "driftlock-scan");
    assert!(scan["spec"]["schedule"].as_str().is_some());
    let job = &scan["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"].as_str(), Some("Indexed"));
    assert_eq!(job["completions"].as_i64(), Some(accounts as i64), "one pod per account");
    let script = job["template"]["spec"]["containers"][0]["args"][0].as_str().unwrap();
    assert!(script.contains("JOB_COMPLETION_INDEX") && script.contains("bash /etc/driftlock/scan-account.sh"));
    assert!(script.contains("aws s3 cp"), "reports go to object storage");
    let merge = kind("CronJob", "driftlock-merge");
    let script = merge["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][0].as_str().unwrap();
    assert!(script.contains("bash /etc/driftlock/merge.sh"));
}

fn run(script: &str, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(format!("examples/schedule/{script}"))
        .current_dir(root())
        .env("DRIFTLOCK", env!("CARGO_BIN_EXE_driftlock"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("ACCOUNT")
        .env_remove("ACCOUNTS")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (o.status.code().unwrap(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn the_scripts_scan_each_account_and_merge_them() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let r = reports.to_str().unwrap();
    // the GitHub/GitLab matrix job: ACCOUNT set
    let (rc, err) = run(
        "scan-account.sh",
        &[
            ("ACCOUNT", "123456789012"),
            ("STATES", "testdata/demo/states"),
            ("INVENTORY", "testdata/demo/inventory"),
            ("ACCOUNT_MAP", "examples/schedule/accounts.toml"),
            ("REPORTS", r),
        ],
    );
    assert_eq!(rc, 0, "a written report is the job's success; the merge gates: {err}");
    // the Kubernetes indexed Job's second pod: ACCOUNTS and JOB_COMPLETION_INDEX
    let (rc, err) = run(
        "scan-account.sh",
        &[
            ("ACCOUNTS", "123456789012 210987654321"),
            ("JOB_COMPLETION_INDEX", "1"),
            ("STATES", "testdata/state/clean"),
            ("REPORTS", r),
        ],
    );
    assert_eq!(rc, 0, "{err}");
    assert!(reports.join("210987654321.json").is_file());
    let out = dir.path().join("org");
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "").unwrap();
    let (rc, err) = run(
        "merge.sh",
        &[
            ("REPORTS", r),
            ("ACCOUNT_MAP", "examples/schedule/accounts.toml"),
            ("OUT", out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(rc, 1, "the demo account's findings close the organisation's gate: {err}");
    let org: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("org-report.json")).unwrap()).unwrap();
    let names: Vec<&str> =
        org["summary"]["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod", "staging"]);
    let md = std::fs::read_to_string(out.join("org-summary.md")).unwrap();
    assert!(md.starts_with("❌ **driftlock: gate closed**"));
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), md, "the job summary is the Markdown report");

    // an account that could not be scanned: its report says so, the merge exits 2
    let (rc, _) = run("scan-account.sh", &[("ACCOUNT", "999999999999"), ("STATES", "testdata/nope"), ("REPORTS", r)]);
    assert_eq!(rc, 0);
    let (rc, _) = run("merge.sh", &[("REPORTS", r), ("OUT", out.to_str().unwrap())]);
    assert_eq!(rc, 2);
    // no reports at all
    let none = dir.path().join("none");
    std::fs::create_dir_all(&none).unwrap();
    let (rc, _) = run("merge.sh", &[("REPORTS", none.to_str().unwrap()), ("OUT", out.to_str().unwrap())]);
    assert_eq!(rc, 2);
    assert!(Path::new(&out.join("org-report.json")).is_file());
}
