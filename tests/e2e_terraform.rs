//! End to end, for real: terraform applies against moto_server on loopback, a provisioner
//! fails half way, someone edits the account with the aws CLI, and driftlock finds exactly
//! that. Skips loudly when terraform, moto or the aws CLI is missing.

mod common;
use common::tools::{self, Moto};
use common::*;

#[test]
fn tainted_apply_and_hand_made_drift() {
    let missing = tools::missing_tools();
    if !missing.is_empty() {
        skip("tainted_apply_and_hand_made_drift", &format!("missing {}", missing.join(", ")));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let moto = Moto::start(&work.join("moto.log"));
    let ep = moto.endpoint();
    let config = format!(
        "{}\n{}",
        tools::provider_block(&ep),
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.42.0.0/16"
  tags       = { Name = "e2e" }
}
resource "aws_s3_bucket" "half" {
  bucket = "driftlock-e2e-half"
  provisioner "local-exec" {
    command = "exit 3"
  }
}
resource "aws_s3_bucket" "after" {
  bucket     = "driftlock-e2e-after"
  depends_on = [aws_s3_bucket.half]
}
"#
    );
    std::fs::write(work.join("main.tf"), config).unwrap();
    let plugins = tools::plugin_dir().unwrap();
    let plugin_arg = format!("-plugin-dir={}", plugins.display());
    tools::run(work, "terraform", &["init", "-input=false", "-no-color", &plugin_arg], false);
    let apply = tools::run(work, "terraform", &["apply", "-auto-approve", "-input=false", "-no-color"], true);
    assert!(!apply.status.success(), "the failing provisioner must fail the apply");

    // The state: one tainted bucket, the dependent bucket never created.
    let o = driftlock(&["scan", "--format", "json", "--state", work.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let r = json(&o);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["kind"], "tainted");
    assert_eq!(findings[0]["address"], "aws_s3_bucket.half");
    assert_eq!(findings[0]["cloud_id"], "arn:aws:s3:::driftlock-e2e-half");
    assert!(findings[0]["line"].as_u64().unwrap() > 1);

    // A hand-made change with the aws CLI, seen by a refresh-only plan.
    let show = tools::run(work, "terraform", &["output", "-json"], false);
    drop(show);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("terraform.tfstate")).unwrap()).unwrap();
    let vpc_id = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "aws_vpc")
        .map(|r| r["instances"][0]["attributes"]["id"].as_str().unwrap().to_owned())
        .unwrap();
    let endpoint_arg = format!("--endpoint-url={ep}");
    tools::run(
        work,
        "aws",
        &[&endpoint_arg, "ec2", "create-tags", "--resources", &vpc_id, "--tags", "Key=Name,Value=hand-edited"],
        false,
    );
    tools::run(work, "terraform", &["plan", "-refresh-only", "-input=false", "-no-color", "-out=r.tfplan"], false);
    let plan = tools::run(work, "terraform", &["show", "-json", "r.tfplan"], false);
    std::fs::write(work.join("refresh.json"), &plan.stdout).unwrap();

    let o = driftlock(&["scan", "--format", "json", "--plan", work.join("refresh.json").to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let r = json(&o);
    let drift: Vec<_> = r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "plan-drift").collect();
    assert_eq!(drift.len(), 1, "only the hand-made change, not refresh noise: {drift:#?}");
    assert_eq!(drift[0]["address"], "aws_vpc.main");
    let diff = drift[0]["diff"].as_str().unwrap();
    assert!(diff.contains("+ tags.Name = \"hand-edited\""), "{diff}");
    assert!(diff.contains("- tags_all.Name = \"e2e\""), "{diff}");

    // The binary plan itself is refused with the command that renders it.
    let o = driftlock(&["scan", "--format", "json", "--plan", work.join("r.tfplan").to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0009");
}
