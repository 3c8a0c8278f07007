//! The ready-to-copy CI examples (`examples/ci/`) run their commands for real: the script both
//! the GitHub Actions workflow and the GitLab job call, against real plans.

mod common;
use common::*;

fn run_script(plan: &str, extra: &[(&str, &str)]) -> (i32, tempfile::TempDir, String) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("examples/ci/review-plan.sh")
        .current_dir(root())
        .env("PLAN_JSON", plan)
        .env("OUT", out.path())
        .env("DRIFTLOCK", env!("CARGO_BIN_EXE_driftlock"))
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (o.status.code().unwrap(), out, String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn both_ci_examples_call_the_tested_script() {
    for f in ["examples/ci/github/plan-review.yml", "examples/ci/gitlab/.gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root().join(f)).unwrap();
        assert!(text.contains("bash examples/ci/review-plan.sh"), "{f} must run the tested script");
        assert!(text.contains("terraform show -json tfplan"), "{f} renders the plan as JSON");
    }
}

#[test]
fn the_review_script_comments_uploads_and_gates() {
    let (rc, out, stdout) = run_script("testdata/plan/all-actions/plan.json", &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(rc, 0, "destroys are warnings: the gate stays open");
    let comment = std::fs::read_to_string(out.path().join("driftlock-comment.md")).unwrap();
    assert!(comment.starts_with("✅ **driftlock: gate open**"), "{comment}");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("driftlock.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("driftlock-report.json")).unwrap()).unwrap();
    assert_eq!(report["command"], "review-plan");
    assert!(
        stdout.lines().any(|l| l.starts_with("::warning file=testdata/plan/all-actions/plan.json,line=")),
        "{stdout}"
    );

    let (rc, out, _) = run_script("testdata/plan/refresh-drift/plan.json", &[]);
    assert_eq!(rc, 1, "hand-made drift closes the gate");
    let comment = std::fs::read_to_string(out.path().join("driftlock-comment.md")).unwrap();
    assert!(comment.starts_with("❌ **driftlock: gate closed**"));

    let (rc, _, _) = run_script("testdata/plan/does-not-exist.json", &[]);
    assert_eq!(rc, 2, "a missing plan cannot be reviewed");
}
