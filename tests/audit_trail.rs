//! Trusting the trail: CloudTrail digest files read offline next to the log files. Each test
//! writes a trail in the S3 delivery layout (`AWSLogs/ACCT/CloudTrail/REGION/…` and
//! `AWSLogs/ACCT/CloudTrail-Digest/REGION/…`, gzipped), with real SHA-256 hashes and digests
//! signed SHA256withRSA over CloudTrail's documented data-signing string with a key the test
//! generates, then damages it the way an intruder would.

mod common;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use serde_json::{Value, json};
use sha2::Digest as _;

const ACCT: &str = "123456789012";
const BUCKET: &str = "org-trail-logs";
const FINGERPRINT: &str = "0c7b3f8a4e5d6c1b2a39485766554433";

fn key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::Generate as _;
        rsa::PrivateKey::generate()
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A read-only record (no finding of its own: the trail checks are what is tested).
fn record(time: &str, id: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCT}:assumed-role/platform-ci-deployer/ci"), "accountId": ACCT},
        "eventTime": time, "eventSource": "ec2.amazonaws.com", "eventName": "DescribeVpcs",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.22.0",
        "requestParameters": null, "responseElements": null, "requestID": id, "eventID": id,
        "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": ACCT, "eventCategory": "Management"
    })
}

/// One hour of a trail: the log files delivered in it, and its digest.
struct Trail {
    dir: tempfile::TempDir,
    /// Files that are not part of the trail (key lists): outside the folder walked.
    aux: tempfile::TempDir,
    /// (relative path, uncompressed bytes) of each log file.
    logs: Vec<(String, Vec<u8>)>,
    /// (relative path, uncompressed bytes) of each digest, oldest first.
    digests: Vec<(String, Vec<u8>)>,
}

fn day_dir(kind: &str, region: &str) -> String {
    format!("AWSLogs/{ACCT}/{kind}/{region}/2026/11/20")
}

/// A trail of `hours` hourly digests in `region` from 09:01:31Z, one log file per hour (none in
/// the hours listed in `empty`), chained and signed as CloudTrail does.
fn trail(region: &str, hours: u32) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    let mut digests: Vec<(String, Vec<u8>)> = Vec::new();
    let mut previous: Option<(String, String, String)> = None; // object, hash, signature
    for h in 0..hours {
        let start = format!("2026-11-20T{:02}:01:31Z", 9 + h);
        let end = format!("2026-11-20T{:02}:01:31Z", 10 + h);
        let stamp = format!("20261120T{:02}{:02}Z", 9 + h, 30);
        let name = format!("{ACCT}_CloudTrail_{region}_{stamp}_h{h}.json.gz");
        let object = format!("{}/{name}", day_dir("CloudTrail", region));
        let body = serde_json::to_vec(
            &json!({"Records": [record(&format!("2026-11-20T{:02}:20:00Z", 9 + h), &format!("e{h}"))]}),
        )
        .unwrap();
        let digest_object = format!(
            "{}/{ACCT}_CloudTrail-Digest_{region}_main-trail_{region}_20261120T{:02}0131Z.json.gz",
            day_dir("CloudTrail-Digest", region),
            10 + h
        );
        let (prev_object, prev_hash, prev_sig) = match &previous {
            Some((o, h, s)) => (json!(o), json!(h), json!(s)),
            None => (Value::Null, Value::Null, Value::Null),
        };
        let digest = json!({
            "awsAccountId": ACCT, "digestStartTime": start, "digestEndTime": end,
            "digestS3Bucket": BUCKET, "digestS3Object": digest_object,
            "digestPublicKeyFingerprint": FINGERPRINT, "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": format!("2026-11-20T{:02}:20:00Z", 9 + h), "oldestEventTime": format!("2026-11-20T{:02}:20:00Z", 9 + h),
            "previousDigestS3Bucket": if previous.is_some() { json!(BUCKET) } else { Value::Null },
            "previousDigestS3Object": prev_object, "previousDigestHashValue": prev_hash,
            "previousDigestHashAlgorithm": if previous.is_some() { json!("SHA-256") } else { Value::Null },
            "previousDigestSignature": prev_sig,
            "logFiles": [{"s3Bucket": BUCKET, "s3Object": object, "hashValue": sha(&body), "hashAlgorithm": "SHA-256",
                          "newestEventTime": format!("2026-11-20T{:02}:20:00Z", 9 + h), "oldestEventTime": format!("2026-11-20T{:02}:20:00Z", 9 + h)}]
        });
        let bytes = serde_json::to_vec(&digest).unwrap();
        // CloudTrail's data-signing string for this digest; the next digest carries it.
        let prev_sig_text = previous.as_ref().map_or("null".to_owned(), |p| p.2.clone());
        let signed = format!("{end}\n{BUCKET}/{digest_object}\n{}\n{prev_sig_text}", sha(&bytes));
        let signature = key().pkcs1v15_sign::<sha2::Sha256>(signed.as_bytes()).unwrap();
        previous = Some((digest_object.clone(), sha(&bytes), hex(&signature)));
        logs.push((object, body));
        digests.push((digest_object, bytes));
    }
    let t = Trail { dir, aux: tempfile::tempdir().unwrap(), logs, digests };
    t.write();
    t
}

impl Trail {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self) {
        for (rel, bytes) in self.logs.iter().chain(&self.digests) {
            let p = self.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, gzip(bytes)).unwrap();
        }
    }

    fn log(&self, i: usize) -> PathBuf {
        self.path().join(&self.logs[i].0)
    }

    fn digest(&self, i: usize) -> PathBuf {
        self.path().join(&self.digests[i].0)
    }
}

fn keys_file(dir: &Path, fingerprint: &str, key: &rsa::PublicKey) -> PathBuf {
    use base64::Engine as _;
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    let der = key.to_pkcs1_der().unwrap();
    let list = json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "ValidityStartTime": "2026-11-01T00:00:00+00:00", "ValidityEndTime": "2026-12-01T00:00:00+00:00",
        "Fingerprint": fingerprint
    }]});
    let p = dir.join("keys.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    p
}

fn run(t: &Trail, extra: &[&str]) -> (i32, Value) {
    let keys = keys_file(t.aux.path(), FINGERPRINT, &key().to_public_key());
    let mut args = vec!["scan", "--format", "json", "--audit-log", t.path().to_str().unwrap()];
    args.extend_from_slice(&["--cloudtrail-public-keys", keys.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = driftlock(&args);
    (code(&o), json(&o))
}

/// (kind, severity, message) of the trail findings.
fn trail_findings(r: &Value) -> Vec<(String, String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"].as_str().is_some_and(|k| k.starts_with("audit-")))
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("severity"), s("message"))
        })
        .collect()
}

fn kinds(r: &Value) -> Vec<String> {
    trail_findings(r).into_iter().map(|f| f.0).collect()
}

fn no_errors(r: &Value) {
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{r:#}");
}

#[test]
fn an_intact_signed_trail_opens_the_gate() {
    let t = trail("us-east-1", 3);
    let (code, r) = run(&t, &["--require-complete-trail"]);
    no_errors(&r);
    assert!(trail_findings(&r).is_empty(), "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["summary"]["audit"]["cloudtrail_files"], 3);
}

#[test]
fn a_log_file_edited_after_delivery_is_tampered() {
    let t = trail("us-east-1", 3);
    let body = String::from_utf8(t.logs[1].1.clone()).unwrap().replace("203.0.113.7", "203.0.113.8");
    std::fs::write(t.log(1), gzip(body.as_bytes())).unwrap();
    let (code, r) = run(&t, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].0.as_str(), f[0].1.as_str()), ("audit-log-tampered", "error"));
    assert!(f[0].2.contains("was altered after delivery") && f[0].2.contains("_h1.json.gz"), "{}", f[0].2);
    // It points at the digest's entry for the file.
    let finding = &r["findings"][0];
    assert!(finding["file"].as_str().unwrap().contains("CloudTrail-Digest"), "{finding:#}");
    assert!(finding["line"].as_u64().is_some(), "{finding:#}");
}

#[test]
fn a_deleted_log_file_is_tampered() {
    let t = trail("us-east-1", 3);
    std::fs::remove_file(t.log(2)).unwrap();
    let (code, r) = run(&t, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].2.contains("is missing") && f[0].2.contains("_h2.json.gz"), "{}", f[0].2);
}

#[test]
fn an_edited_digest_breaks_the_chain() {
    let t = trail("us-east-1", 3);
    let text = String::from_utf8(t.digests[1].1.clone()).unwrap().replace("10:20:00Z", "10:21:00Z");
    std::fs::write(t.digest(1), gzip(text.as_bytes())).unwrap();
    let (code, r) = run(&t, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].2.contains("the digest chain is broken") && f[0].2.contains("previous digest"), "{}", f[0].2);
}

#[test]
fn a_forged_signature_is_tampered() {
    // A digest chain rebuilt by someone else: hashes consistent, signatures by another key.
    let t = trail("us-east-1", 3);
    let other = {
        use rsa::Generate as _;
        rsa::PrivateKey::generate().to_public_key()
    };
    let keys = keys_file(t.aux.path(), FINGERPRINT, &other);
    let o = driftlock(&[
        "scan",
        "--format",
        "json",
        "--audit-log",
        t.path().to_str().unwrap(),
        "--cloudtrail-public-keys",
        keys.to_str().unwrap(),
    ]);
    let r = json(&o);
    assert_eq!(code(&o), 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 2, "the two digests that have a successor: {f:#?}");
    assert!(f.iter().all(|f| f.0 == "audit-log-tampered" && f.2.contains("does not verify")), "{f:#?}");
}

#[test]
fn a_missing_digest_is_a_broken_chain_and_a_gap() {
    let t = trail("us-east-1", 4);
    std::fs::remove_file(t.digest(1)).unwrap();
    let (code, r) = run(&t, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    let k = kinds(&r);
    assert!(k.contains(&"audit-log-tampered".to_owned()), "{f:#?}");
    let gap = f
        .iter()
        .find(|f| f.0 == "audit-coverage-gap" && f.2.contains("from 2026-11-20T10:01:31Z to 2026-11-20T11:01:31Z"));
    assert!(gap.is_some(), "{f:#?}");
    // The hour's log file is now listed by no digest given: it is covered by none.
    assert!(f.iter().any(|f| f.2.contains("_h1.json.gz") && f.0 == "audit-coverage-gap"), "{f:#?}");
}

#[test]
fn a_window_the_digests_do_not_reach_is_a_gap() {
    let t = trail("us-east-1", 2);
    let (code, r) = run(&t, &["--since", "2026-11-20T09:30:00Z", "--until", "2026-11-20T14:00:00Z"]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].0, "audit-coverage-gap");
    assert!(f[0].2.contains("from 2026-11-20T11:01:31Z to 2026-11-20T14:00:00Z"), "{}", f[0].2);
    // Inside what the digests cover, the window is fine.
    let (code, r) = run(&t, &["--since", "2026-11-20T09:30:00Z", "--until", "2026-11-20T11:00:00Z"]);
    assert!(trail_findings(&r).is_empty(), "{r:#}");
    assert_eq!(code, 0);
}

#[test]
fn a_region_in_scope_without_logs_is_a_gap() {
    let t = trail("us-east-1", 2);
    let (code, r) = run(&t, &["--audit-region", "us-east-1,eu-west-1"]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].0 == "audit-coverage-gap" && f[0].2.contains("region eu-west-1"), "{f:#?}");
}

#[test]
fn a_log_file_no_digest_lists_is_tampered() {
    let t = trail("us-east-1", 3);
    let body = serde_json::to_vec(&json!({"Records": [record("2026-11-20T10:40:00Z", "planted")]})).unwrap();
    let p = t
        .path()
        .join(day_dir("CloudTrail", "us-east-1"))
        .join(format!("{ACCT}_CloudTrail_us-east-1_20261120T1045Z_zz.json.gz"));
    std::fs::write(p, gzip(&body)).unwrap();
    let (code, r) = run(&t, &[]);
    assert_eq!(code, 1, "{r:#}");
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].0 == "audit-log-tampered" && f[0].2.contains("listed by no digest"), "{f:#?}");
}

#[test]
fn without_digests_completeness_is_not_proven() {
    let t = trail("us-east-1", 2);
    std::fs::remove_dir_all(t.path().join(format!("AWSLogs/{ACCT}/CloudTrail-Digest"))).unwrap();
    let (code, r) = run(&t, &[]);
    no_errors(&r);
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].0.as_str(), f[0].1.as_str()), ("audit-trail-unverified", "warning"));
    assert!(f[0].2.contains("completeness could not be proven"), "{}", f[0].2);
    assert_eq!(code, 0, "a warning does not close the gate: {r:#}");
    // The human output says so too.
    let o = driftlock(&["scan", "--audit-log", t.path().to_str().unwrap()]);
    assert!(stdout(&o).contains("completeness could not be proven"), "{}", stdout(&o));
    let (code, r) = run(&t, &["--require-complete-trail"]);
    assert_eq!(trail_findings(&r)[0].1, "error");
    assert_eq!(code, 1, "{r:#}");
}

#[test]
fn digests_without_keys_are_hashed_but_not_authenticated() {
    let t = trail("us-east-1", 2);
    let o = driftlock(&["scan", "--format", "json", "--audit-log", t.path().to_str().unwrap()]);
    let r = json(&o);
    let f = trail_findings(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].0 == "audit-trail-unverified" && f[0].2.contains("not verified"), "{f:#?}");
    assert_eq!(code(&o), 0);
    // A key list without the digests' key: the signatures cannot be checked, an error.
    let keys = keys_file(t.aux.path(), "ffffffffffffffffffffffffffffffff", &key().to_public_key());
    let o = driftlock(&[
        "scan",
        "--format",
        "json",
        "--audit-log",
        t.path().to_str().unwrap(),
        "--cloudtrail-public-keys",
        keys.to_str().unwrap(),
    ]);
    let r = json(&o);
    let f = trail_findings(&r);
    assert!(f.len() == 1 && f[0].1 == "error" && f[0].2.contains("no public key with fingerprint"), "{f:#?}");
    assert_eq!(code(&o), 1);
}

#[test]
fn a_bad_key_file_or_digest_cannot_be_audited() {
    let t = trail("us-east-1", 2);
    let bad = t.aux.path().join("bad-keys.json");
    std::fs::write(&bad, br#"{"Keys": []}"#).unwrap();
    let o = driftlock(&[
        "scan",
        "--format",
        "json",
        "--audit-log",
        t.path().to_str().unwrap(),
        "--cloudtrail-public-keys",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stdout(&o).contains("PublicKeyList"), "{}", stdout(&o));
    // A digest without its hashes is a pointed error, never skipped.
    let text = String::from_utf8(t.digests[0].1.clone()).unwrap().replace("\"logFiles\"", "\"logFilez\"");
    std::fs::write(t.digest(0), gzip(text.as_bytes())).unwrap();
    let o = driftlock(&["scan", "--format", "json", "--audit-log", t.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stdout(&o).contains("no `logFiles` array"), "{}", stdout(&o));
}
