//! Audit logs (`--audit-log`): CloudTrail files in the S3 delivery layout, lookup-events output,
//! EventBridge NDJSON, GCP Cloud Audit Logs and the Azure Activity Log, judged against the
//! governance record of `testdata/audit/governance.toml`. The fixtures are hand-assembled from
//! the documented field layouts with the real user agents captured from terraform and the aws CLI
//! (testdata/README.md, "Audit logs"); each test asserts exactly what a case must find.

mod common;
use std::collections::BTreeSet;
use std::io::Write;

use common::*;
use serde_json::Value;

const GOVERNANCE: &str = "testdata/audit/governance.toml";

fn scan(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let o = driftlock(&all);
    (code(&o), json(&o))
}

fn audit(path: &str) -> (i32, Value) {
    scan(&["--audit-log", path, "--config", GOVERNANCE])
}

/// The findings of the judged writes: the trail checks' `audit-trail-unverified` warning (these
/// fixtures carry no digest files) is asserted in `pipeline_writes_only_open_the_gate` and
/// tests/audit_trail.rs, and left out here.
fn findings(r: &Value) -> Vec<&Value> {
    r["findings"].as_array().expect("findings").iter().filter(|f| f["kind"] != "audit-trail-unverified").collect()
}

/// (kind, event name, principal type, tool) of every finding, in report order.
fn summary(r: &Value) -> Vec<(String, String, String, String)> {
    findings(r)
        .iter()
        .map(|f| {
            let e = &f["evidence"];
            let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            (s(&f["kind"]), s(&e["event_name"]), s(&e["principal_type"]), s(&e["tool"]))
        })
        .collect()
}

fn counts(r: &Value) -> &Value {
    &r["summary"]["audit"]
}

fn row(kind: &str, name: &str, ptype: &str, tool: &str) -> (String, String, String, String) {
    (kind.to_owned(), name.to_owned(), ptype.to_owned(), tool.to_owned())
}

fn no_errors(r: &Value) {
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{r:#}");
}

#[test]
fn pipeline_writes_only_open_the_gate() {
    let (code, r) = audit("testdata/audit/aws/pipeline-only");
    no_errors(&r);
    assert_eq!(code, 0, "{r:#}");
    assert!(findings(&r).is_empty(), "{r:#}");
    // No digest files: completeness is not proven, which is said, as a warning.
    let all = r["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{r:#}");
    assert_eq!(
        (all[0]["kind"].as_str(), all[0]["severity"].as_str()),
        (Some("audit-trail-unverified"), Some("warning"))
    );
    let c = counts(&r);
    assert_eq!((c["records"].as_u64(), c["writes"].as_u64(), c["authorized"].as_u64()), (Some(10), Some(7), Some(7)));
    assert_eq!((c["read_only"].as_u64(), c["sign_ins"].as_u64()), (Some(2), Some(1)));
    assert_eq!(c["cloudtrail_files"], 1);
}

#[test]
fn a_console_change_is_manual_intervention() {
    let (code, r) = audit("testdata/audit/aws/console-change");
    no_errors(&r);
    assert_eq!(code, 1);
    assert_eq!(summary(&r), [row("manual-intervention", "AuthorizeSecurityGroupIngress", "IAMUser", "web-browser")]);
    let f = findings(&r)[0];
    assert_eq!(f["code"], "DL0601");
    assert_eq!(f["condition"], "manual-intervention");
    assert_eq!(f["cloud_id"], "arn:aws:ec2:us-east-1:123456789012:security-group/sg-629ab8a98c89acc82");
    let e = &f["evidence"];
    assert_eq!(e["event_time"], "2026-11-20T14:02:11Z");
    assert_eq!(e["event_source"], "ec2.amazonaws.com");
    assert_eq!(e["principal"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(e["source_ip"], "203.0.113.41");
    assert!(e["user_agent"].as_str().unwrap().starts_with("Mozilla/5.0"));
    assert!(e["file"].as_str().unwrap().ends_with("_20261120T1400Z_cN7vB2mQx8RtL0sa.json.gz"));
    assert_eq!(e["line"], 1, "CloudTrail delivers one line per file");
    assert_eq!(f["file"], e["file"]);
    assert_eq!(counts(&r)["sign_ins"], 1, "the console sign-in changes nothing");
}

#[test]
fn a_cli_change_by_a_person_is_manual_intervention() {
    let (code, r) = audit("testdata/audit/aws/cli-person");
    assert_eq!(code, 1);
    assert_eq!(summary(&r), [row("manual-intervention", "CreateTags", "IAMUser", "aws-cli")]);
    let f = findings(&r)[0];
    assert_eq!(f["evidence"]["tool_version"], "1.45.11");
    assert_eq!(f["evidence"]["principal"], "arn:aws:iam::123456789012:user/bob");
    assert!(f["message"].as_str().unwrap().contains("not a pipeline principal"), "{}", f["message"]);
}

#[test]
fn a_boto3_script_under_the_pipeline_role_is_undocumented_tooling() {
    let (code, r) = audit("testdata/audit/aws/boto3-pipeline-role");
    assert_eq!(code, 1);
    assert_eq!(summary(&r), [row("undocumented-tooling", "PutBucketPolicy", "AssumedRole", "boto3")]);
    let f = findings(&r)[0];
    assert_eq!(f["code"], "DL0602");
    assert_eq!(f["evidence"]["principal"], "arn:aws:sts::123456789012:assumed-role/platform-ci-deployer/ci-run-4711");
    assert_eq!(f["cloud_id"], "arn:aws:s3:::driftlock-estate-curated");
}

#[test]
fn an_unapproved_terraform_version_is_undocumented_tooling() {
    // The real terraform 1.11.4 user agent, judged against a record that approves only 1.12.
    let (code, r) = scan(&[
        "--audit-log",
        "testdata/audit/aws/terraform-1-11",
        "--config",
        "testdata/audit/governance-terraform-1.12.toml",
    ]);
    assert_eq!(code, 1);
    assert_eq!(summary(&r), [row("undocumented-tooling", "CreateSubnet", "AssumedRole", "terraform")]);
    let m = findings(&r)[0]["message"].as_str().unwrap().to_owned();
    assert!(m.contains("terraform 1.11.4") && m.contains("`>=1.12, <1.13`"), "{m}");
    assert!(m.contains("cannot tell them apart"), "OpenTofu is named as indistinguishable: {m}");
    // The same run under the pipeline's own record is authorized.
    let (code, r) = audit("testdata/audit/aws/terraform-1-11");
    assert_eq!((code, counts(&r)["authorized"].as_u64()), (0, Some(1)), "{r:#}");
}

#[test]
fn failed_and_read_only_calls_are_no_finding() {
    let (code, r) = audit("testdata/audit/aws/failed-and-read-only");
    no_errors(&r);
    assert_eq!(code, 0, "{r:#}");
    assert!(findings(&r).is_empty());
    let c = counts(&r);
    assert_eq!((c["failed"].as_u64(), c["read_only"].as_u64(), c["writes"].as_u64()), (Some(1), Some(1), Some(0)));
}

fn planted() -> Value {
    let text = std::fs::read_to_string(testdata("inventory/aws/estate-drifted.PLANTED.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn unmanaged_missing_and_drifted_show_who_did_it() {
    let p = planted();
    let (code, r) = scan(&[
        "--state",
        "testdata/state/clean",
        "--state",
        "testdata/state/estate-app",
        "--inventory",
        "testdata/inventory/aws/estate-drifted",
        "--audit-log",
        "testdata/audit/aws/estate",
        "--config",
        GOVERNANCE,
    ]);
    no_errors(&r);
    assert_eq!(code, 1);
    // The fixture's CloudTrail records name the ids moto gave; regenerating the estate changes
    // them, and this says so rather than passing vacuously.
    assert_eq!(
        p["facts"]["debug_security_group_id"], "sg-13ae087eb5789f70f",
        "testdata/inventory/aws/estate-drifted was regenerated: update the ids in testdata/audit/aws/estate (testdata/README.md, \"Audit logs\")"
    );
    let with_evidence = |kind: &str| -> BTreeSet<(String, String)> {
        findings(&r)
            .into_iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| {
                assert_eq!(f["evidence"]["principal"], "arn:aws:iam::123456789012:user/alice", "{f:#}");
                assert_eq!(f["evidence"]["tool"], "aws-cli", "{f:#}");
                (f["cloud_id"].as_str().unwrap().to_owned(), f["evidence"]["event_name"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let planted_ids = |k: &str| -> BTreeSet<String> {
        p[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let unmanaged = with_evidence("unmanaged");
    assert_eq!(unmanaged.iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>(), planted_ids("unmanaged"));
    assert_eq!(
        unmanaged.iter().map(|(_, n)| n.as_str()).collect::<BTreeSet<_>>(),
        BTreeSet::from(["CreateBucket", "CreateRole", "CreateSecurityGroup"])
    );
    let missing = with_evidence("missing");
    assert_eq!(missing.iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>(), planted_ids("missing"));
    assert!(missing.iter().all(|(_, n)| n == "DeleteSubnet"));
    let drifted = with_evidence("drifted");
    assert_eq!(drifted.iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>(), planted_ids("drifted"));
    assert_eq!(
        drifted.iter().map(|(_, n)| n.as_str()).collect::<BTreeSet<_>>(),
        BTreeSet::from(["AuthorizeSecurityGroupIngress", "CreateTags", "PutBucketTagging"])
    );
    let hotfix = findings(&r)
        .into_iter()
        .find(|f| f["kind"] == "unmanaged" && f["cloud_id"] == "arn:aws:iam::123456789012:role/hotfix-admin")
        .unwrap();
    assert!(
        hotfix["message"].as_str().unwrap().contains("created 2026-11-20T12:04:10Z CreateRole by arn:aws:iam::123456789012:user/alice (IAMUser) with aws-cli 1.45.11"),
        "{}",
        hotfix["message"]
    );
    // Each hand change is also manual intervention in its own right, in the order it happened.
    let times: Vec<&str> = findings(&r)
        .into_iter()
        .filter(|f| f["kind"] == "manual-intervention")
        .map(|f| f["evidence"]["event_time"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 7);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sorted by time: {times:?}");
    // The states were written by terraform 1.11.4, inside the record: no artifact finding.
    assert!(findings(&r).into_iter().all(|f| f["kind"] != "undocumented-tooling"));
}

#[test]
fn lookup_events_output_is_read_and_labelled() {
    let o = driftlock(&["scan", "--audit-log", "testdata/audit/aws/lookup-events.json", "--config", GOVERNANCE]);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!("lookup_events_human", stdout(&o));
    let (_, r) = audit("testdata/audit/aws/lookup-events.json");
    assert_eq!(summary(&r), [row("manual-intervention", "DeleteBucket", "Root", "aws-console")]);
    assert_eq!(findings(&r)[0]["evidence"]["line"], 5);
    assert_eq!(counts(&r)["cloudtrail_files"], 0, "lookup-events output is not a delivered log file");
}

#[test]
fn eventbridge_records_are_read_line_by_line() {
    let (code, r) = audit("testdata/audit/aws/eventbridge.ndjson");
    assert_eq!(code, 1);
    assert_eq!(summary(&r), [row("manual-intervention", "RunInstances", "IdentityCenter", "aws-cli")]);
    let f = findings(&r)[0];
    assert_eq!(f["evidence"]["line"], 2);
    assert_eq!(f["cloud_id"], "arn:aws:ec2:us-east-1:123456789012:instance/i-0c0ffee0c0ffee001");
    assert_eq!(counts(&r)["authorized"], 1);
}

#[test]
fn gcp_audit_logs_judge_a_long_running_operation_once() {
    let (code, r) = scan(&[
        "--state",
        "testdata/state/gcp",
        "--inventory",
        "testdata/inventory/gcp/asset-export.ndjson",
        "--audit-log",
        "testdata/audit/gcp/logging-read.json",
        "--config",
        GOVERNANCE,
    ]);
    no_errors(&r);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&r),
        [
            row("unmanaged", "v1.compute.firewalls.insert", "GCPUser", "web-browser"),
            row("missing", "google.pubsub.v1.Publisher.DeleteTopic", "GCPUser", "gcloud"),
            row("drifted", "storage.buckets.update", "GCPUser", "gcloud"),
            row("manual-intervention", "v1.compute.firewalls.insert", "GCPUser", "web-browser"),
            row("manual-intervention", "google.pubsub.v1.Publisher.DeleteTopic", "GCPUser", "gcloud"),
            row("manual-intervention", "storage.buckets.update", "GCPUser", "gcloud"),
        ]
    );
    let c = counts(&r);
    assert_eq!(
        (c["records"].as_u64(), c["continuations"].as_u64(), c["authorized"].as_u64(), c["service"].as_u64()),
        (Some(8), Some(1), Some(1), Some(1))
    );
    assert_eq!((c["failed"].as_u64(), c["read_only"].as_u64()), (Some(1), Some(1)));
    let (code, r) = audit("testdata/audit/gcp/sink-activity.ndjson");
    assert_eq!(code, 1);
    assert_eq!(
        summary(&r),
        [row("manual-intervention", "google.pubsub.v1.Publisher.DeleteTopic", "GCPUser", "gcloud")]
    );
    assert_eq!(findings(&r)[0]["evidence"]["line"], 2);
}

#[test]
fn azure_activity_log_is_judged_by_outcome() {
    let (code, r) = scan(&[
        "--state",
        "testdata/state/azure",
        "--inventory",
        "testdata/inventory/azure",
        "--audit-log",
        "testdata/audit/azure/activity-log.json",
        "--config",
        GOVERNANCE,
    ]);
    no_errors(&r);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&r),
        [
            row("unmanaged", "Microsoft.Network/publicIPAddresses/write", "AzureUser", "azure-portal"),
            row("missing", "Microsoft.Network/networkSecurityGroups/delete", "AzureUser", "azure-cli"),
            row("drifted", "Microsoft.Storage/storageAccounts/write", "AzureUser", "azure-cli"),
            row("manual-intervention", "Microsoft.Network/publicIPAddresses/write", "AzureUser", "azure-portal"),
            row("manual-intervention", "Microsoft.Network/networkSecurityGroups/delete", "AzureUser", "azure-cli"),
            row("manual-intervention", "Microsoft.Storage/storageAccounts/write", "AzureUser", "azure-cli"),
            // The pipeline's service principal is authorized, but the Activity Log records no
            // user agent: its tool cannot be verified, and that never passes.
            row("undocumented-tooling", "Microsoft.Network/virtualNetworks/subnets/write", "AzureApp", "-"),
        ]
    );
    let c = counts(&r);
    assert_eq!(
        (c["continuations"].as_u64(), c["failed"].as_u64(), c["read_only"].as_u64(), c["service"].as_u64()),
        (Some(1), Some(1), Some(1), Some(1))
    );
    let (code, r) = audit("testdata/audit/azure/diagnostic-records.json");
    assert_eq!(code, 1);
    assert_eq!(
        summary(&r),
        [row("manual-intervention", "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE", "AzureUser", "azure-cli")]
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn record(time: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","userName":"alice"}},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.41","userAgent":"aws-cli/1.45.11","requestParameters":{{"bucketName":"tainted-artifacts"}},"responseElements":null,"eventID":"{name}-{time}","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"123456789012"{extra}}}"#
    )
}

#[test]
fn a_malformed_record_is_a_pointed_error_never_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = record("2026-11-20T10:00:00Z", "PutBucketTagging", "");
    let bad = record("yesterday", "PutBucketTagging", "");
    let path = dir.path().join("trail.json");
    std::fs::write(&path, format!("{{\"Records\":[\n{good},\n{bad}\n]}}\n")).unwrap();
    let (code, r) = audit(path.to_str().unwrap());
    assert_eq!(code, 2, "{r:#}");
    let e = &r["errors"][0];
    assert_eq!(e["code"], "DL0004");
    assert!(e["message"].as_str().unwrap().contains("record 1: `eventTime` \"yesterday\""), "{e:#}");
    assert_eq!(e["line"], 3, "points at the second record");
    // A record of the wrong type, inside a gzipped file: still located.
    let gz = dir.path().join("trail.json.gz");
    std::fs::write(&gz, gzip(b"{\"Records\":[{\"eventVersion\":\"1.11\",\"eventTime\":5}]}")).unwrap();
    let (code, r) = audit(gz.to_str().unwrap());
    assert_eq!((code, r["errors"][0]["code"].as_str()), (2, Some("DL0004")), "{r:#}");
    // A truncated gzip stream.
    let mut cut = gzip(format!("{{\"Records\":[{good}]}}").as_bytes());
    cut.truncate(cut.len() / 2);
    let trunc = dir.path().join("cut.json.gz");
    std::fs::write(&trunc, cut).unwrap();
    let (code, r) = audit(trunc.to_str().unwrap());
    assert_eq!(code, 2, "{r:#}");
    // A bad line of an EventBridge file.
    let eb = dir.path().join("eb.ndjson");
    std::fs::write(&eb, format!("{{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{good}}}\n{{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":\n")).unwrap();
    let (code, r) = audit(eb.to_str().unwrap());
    assert_eq!((code, r["errors"][0]["line"].as_u64()), (2, Some(2)), "{r:#}");
}

#[test]
fn a_state_given_as_an_audit_log_is_refused() {
    let (code, r) = audit("testdata/state/clean/terraform.tfstate");
    assert_eq!(code, 2);
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("given with --audit-log but is a state"), "{r:#}");
    let dir = tempfile::tempdir().unwrap();
    let (code, r) = audit(dir.path().to_str().unwrap());
    assert_eq!(
        (code, r["errors"][0]["code"].as_str()),
        (2, Some("DL0011")),
        "an empty directory is never a clean trail"
    );
}

#[test]
fn directories_are_walked_and_digests_read() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("AWSLogs/o-abc123/123456789012/CloudTrail/eu-west-1/2026/11/20");
    let digest = dir.path().join("AWSLogs/o-abc123/123456789012/CloudTrail-Digest/eu-west-1/2026/11/20");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&digest).unwrap();
    let body = format!("{{\"Records\":[{}]}}", record("2026-11-20T10:00:00Z", "PutBucketTagging", ""));
    std::fs::write(day.join("123456789012_CloudTrail_eu-west-1_20261120T1000Z_a.json.gz"), gzip(body.as_bytes()))
        .unwrap();
    std::fs::write(
        digest.join("123456789012_CloudTrail-Digest_eu-west-1_x_20261120T110000Z.json.gz"),
        gzip(b"not a log"),
    )
    .unwrap();
    // Digest files are read now (the trail checks, tests/audit_trail.rs): one that is not a
    // digest cannot be audited.
    let (code, r) = audit(dir.path().to_str().unwrap());
    assert_eq!(code, 2, "{r:#}");
    assert!(r["errors"][0]["file"].as_str().is_some_and(|f| f.contains("CloudTrail-Digest")), "{r:#}");
    std::fs::remove_dir_all(&digest).unwrap();
    let (code, r) = audit(dir.path().to_str().unwrap());
    no_errors(&r);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(counts(&r)["files"], 1);

    // The library keeps, for each delivered log file, what the digest checks need.
    let outcome = driftlock::scan::scan(&driftlock::scan::ScanOptions {
        inputs: vec![driftlock::ingest::InputArg { path: dir.path().into(), role: driftlock::ingest::Role::AuditLog }],
        ..Default::default()
    });
    let f = &outcome.estate.audit_files[0];
    use sha2::Digest;
    let want: String = sha2::Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(f.sha256, want, "SHA-256 of the uncompressed content");
    assert_eq!((f.region.as_deref(), f.account.as_deref(), f.records), (Some("us-east-1"), Some("123456789012"), 1));
    assert_eq!(f.first_event.map(|t| t.to_string()).as_deref(), Some("2026-11-20T10:00:00Z"));
}

#[test]
fn since_and_until_bound_the_window() {
    let (code, r) = scan(&[
        "--audit-log",
        "testdata/audit/aws/console-change",
        "--config",
        GOVERNANCE,
        "--since",
        "2026-11-20T14:02:12Z",
    ]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(counts(&r)["outside_window"], 2);
    assert_eq!(counts(&r)["since"], "2026-11-20T14:02:12Z");
    let (code, _) =
        scan(&["--audit-log", "testdata/audit/aws/console-change", "--config", GOVERNANCE, "--until", "2026-11-20"]);
    assert_eq!(code, 0);
    let o = driftlock(&["scan", "--audit-log", "testdata/audit/aws/console-change", "--since", "last tuesday"]);
    assert_eq!(code_of(&o), 2);
}

fn code_of(o: &std::process::Output) -> i32 {
    code(o)
}

#[test]
fn a_write_to_a_later_phase_before_the_earlier_is_locked_is_a_sequencing_deviation() {
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    let cfg = dir.path().join("driftlock.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[phase]]\nname = \"K.1.x\"\nstatus = \"in-progress\"\nstates = [\"{}\"]\n\n[[phase]]\nname = \"K.2.x\"\nstatus = \"in-progress\"\nstates = [\"{}\"]\n\n[governance]\nprincipals = [\"arn:aws:iam::123456789012:role/platform-ci-deployer\"]\ntools = [{{ name = \"terraform\", version = \">=1.11, <1.12\" }}, {{ name = \"terraform-provider-aws\" }}]\n",
            root.join("testdata/state/clean").display(),
            root.join("testdata/state/estate-app").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("trail.json");
    std::fs::write(&log, format!("{{\"Records\":[{}]}}", record("2026-11-20T10:00:00Z", "PutBucketTagging", "")))
        .unwrap();
    let (code, r) = scan(&["--audit-log", log.to_str().unwrap(), "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{r:#}");
    let seq: Vec<&Value> =
        findings(&r).into_iter().filter(|f| f["kind"] == "sequencing-deviation" && f["evidence"].is_object()).collect();
    assert_eq!(seq.len(), 1, "{r:#}");
    assert_eq!(seq[0]["cloud_id"], "arn:aws:s3:::tainted-artifacts");
    assert!(
        seq[0]["message"]
            .as_str()
            .unwrap()
            .contains("owned by phase K.2.x, while the earlier phase K.1.x was in-progress"),
        "{}",
        seq[0]["message"]
    );
}

#[test]
fn artifacts_outside_the_record_are_undocumented_tooling() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(testdata("state/clean/terraform.tfstate"), dir.path().join("terraform.tfstate")).unwrap();
    std::fs::write(
        dir.path().join(".terraform.lock.hcl"),
        "provider \"registry.terraform.io/hashicorp/aws\" {\n  version     = \"5.99.1\"\n  constraints = \"~> 5.0\"\n}\n",
    )
    .unwrap();
    let (code, r) =
        scan(&["--state", dir.path().to_str().unwrap(), "--config", "testdata/audit/governance-terraform-1.12.toml"]);
    assert_eq!(code, 1, "{r:#}");
    let msgs: Vec<&str> = findings(&r)
        .into_iter()
        .filter(|f| f["kind"] == "undocumented-tooling")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("terraform_version 1.11.4, outside the governance record's `>=1.12, <1.13`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("provider registry.terraform.io/hashicorp/aws is locked at 5.99.1")),
        "{msgs:?}"
    );
    // Without a governance record nothing is judged.
    let (code, r) = scan(&["--state", dir.path().to_str().unwrap()]);
    assert!(findings(&r).into_iter().all(|f| f["kind"] != "undocumented-tooling"), "{code} {r:#}");
}

#[test]
fn catalog_lists_the_tools() {
    let o = driftlock(&["catalog", "--tools"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for name in [
        "terraform",
        "opentofu",
        "terraform-provider-aws",
        "aws-cli",
        "boto3",
        "aws-console",
        "gcloud",
        "azure-cli",
        "azure-portal",
    ] {
        assert!(out.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} missing:\n{out}");
    }
    let o = driftlock(&["catalog", "--tools", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|t| t["name"] == "terraform" && t["kind"] == "iac"));
}
