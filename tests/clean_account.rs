//! `driftlock clean-account` on real exports of a moto account: a fresh account passes with the
//! AWS preset; hand-made resources and a modified default fail, each named once; inventories
//! that cannot show everything fail closed.

mod common;
use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn inventory_args(dir: &str) -> Vec<String> {
    vec!["--inventory".to_owned(), format!("testdata/{dir}")]
}

fn clean_account(extra: &[&str], inv: &[String]) -> (i32, Value) {
    let mut args: Vec<&str> = vec!["clean-account", "--format", "json"];
    args.extend(extra);
    args.extend(inv.iter().map(String::as_str));
    let o = driftlock(&args);
    (code(&o), json(&o))
}

fn planted(rel: &str, key: &str) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(testdata(rel)).unwrap()).unwrap();
    v[key].as_array().into_iter().flatten().map(|x| x.as_str().unwrap().to_owned()).collect()
}

fn non_clean(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "non-clean-account")
        .map(|f| f["cloud_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_fresh_account_is_clean_with_the_aws_preset() {
    let (rc, r) = clean_account(&["--preset", "aws"], &inventory_args("inventory/aws/fresh-account"));
    assert_eq!(rc, 0, "{r:#}");
    assert_eq!(r["command"], "clean-account");
    let s = &r["summary"]["clean_account"];
    assert_eq!(s["not_clean"], 0);
    assert!(s["provider_defaults"].as_u64().unwrap() > 10, "{s}");
    assert_eq!(s["resources"], s["provider_defaults"]);
}

#[test]
fn hand_made_resources_are_named_each_once() {
    let (rc, r) = clean_account(&["--preset", "aws"], &inventory_args("inventory/aws/dirty-account"));
    assert_eq!(rc, 1, "{r:#}");
    let found = non_clean(&r);
    let unique: BTreeSet<String> = found.iter().cloned().collect();
    assert_eq!(found.len(), unique.len(), "a resource listed by several exports is one finding: {found:?}");
    assert_eq!(unique, planted("inventory/aws/dirty-account.PLANTED.json", "unmanaged"));
    // Where each was seen is named; global types are grouped as global.
    let role = r["findings"].as_array().unwrap().iter().find(|f| f["resource_type"] == "AWS::IAM::Role").unwrap();
    assert!(role["message"].as_str().unwrap().contains("iam-list-roles"), "{role}");
    let groups = r["summary"]["clean_account"]["by_type_and_region"].as_array().unwrap();
    assert!(groups.iter().any(|g| g["cloud_type"] == "AWS::IAM::Role" && g["region"] == "global"), "{groups:?}");
    assert!(groups.iter().any(|g| g["cloud_type"] == "AWS::EC2::VPC" && g["region"] == "us-east-1"), "{groups:?}");
}

#[test]
fn a_modified_default_security_group_is_not_clean() {
    let (rc, r) = clean_account(&["--preset", "aws"], &inventory_args("inventory/aws/modified-default-sg"));
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(
        non_clean(&r).into_iter().collect::<BTreeSet<_>>(),
        planted("inventory/aws/modified-default-sg.PLANTED.json", "modified_defaults")
    );
    let msg = r["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("modified") && msg.contains("tcp 22-22 0.0.0.0/0"), "{msg}");
}

#[test]
fn the_tagging_api_alone_cannot_pass() {
    let inv = vec![
        "--inventory".to_owned(),
        "testdata/inventory/aws/fresh-account/tagging-get-resources.us-east-1.json".to_owned(),
    ];
    let (rc, r) = clean_account(&[], &inv);
    assert_eq!(rc, 2, "{r:#}");
    let errors = r["errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["code"] == "DL0014"), "{errors:?}");
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("AWS::EC2::VPC")), "{errors:?}");
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("untagged")), "{errors:?}");
    assert_eq!(r["gate"], "closed");
}

#[test]
fn no_inventory_fails_closed() {
    let (rc, r) = clean_account(&["--preset", "aws"], &[]);
    assert_eq!(rc, 2);
    assert_eq!(r["errors"][0]["code"], "DL0011");
}

#[test]
fn a_region_in_scope_without_exports_fails_closed() {
    let (rc, r) = clean_account(
        &["--preset", "aws", "--regions", "us-east-1,eu-west-1"],
        &inventory_args("inventory/aws/fresh-account"),
    );
    assert_eq!(rc, 2, "{r:#}");
    let msgs: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(msgs.iter().all(|m| m.contains("eu-west-1")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("AWS::EC2::Instance")), "{msgs:?}");
}

#[test]
fn exceptions_accept_bootstrap_resources_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("driftlock.toml");
    std::fs::write(
        &cfg,
        "[[exception]]\nreason = \"break-glass user kept by the organization\"\ntype = \"AWS::IAM::User\"\nid = \"user/dirty-user$\"\n\n\
         [[exception]]\nreason = \"expired on purpose\"\nexpires = \"2020-01-01\"\ntype = \"AWS::IAM::Role\"\n",
    )
    .unwrap();
    let (rc, r) = clean_account(
        &["--preset", "aws", "--config", cfg.to_str().unwrap()],
        &inventory_args("inventory/aws/dirty-account"),
    );
    assert_eq!(rc, 1);
    let found: BTreeSet<String> = non_clean(&r).into_iter().collect();
    let mut want = planted("inventory/aws/dirty-account.PLANTED.json", "unmanaged");
    want.retain(|id| !id.ends_with("user/dirty-user"));
    assert_eq!(found, want, "the user is accepted; the expired exception accepts nothing");
    let expired: Vec<&Value> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "expired-exception").collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["line"], 6);
}
