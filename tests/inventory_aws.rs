//! AWS exports moto cannot produce — a Config snapshot delivered to S3, Resource Explorer search
//! results (complete and truncated), a select-resource-config result — derived from the real
//! estate-drifted exports by `cargo xtask schema --only aws-derived`. Each file must make
//! driftlock find exactly what the conversion carried over (`aws-derived.PLANTED.json`).
mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use common::{code, driftlock, json, testdata};
use driftlock::ingest::{InputArg, Role};
use driftlock::scan::{ScanOptions, scan};
use serde_json::Value;

const DIR: &str = "inventory/aws-derived";

fn planted() -> Value {
    let text = std::fs::read_to_string(testdata("inventory/aws-derived.PLANTED.json")).expect("the PLANTED file");
    serde_json::from_str(&text).expect("PLANTED is JSON")
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a string").to_owned()).collect()
}

/// The estate account's states, as the PLANTED file names them (`testdata/state/…`).
fn state_args(p: &Value) -> Vec<String> {
    strings(&p["states"]).into_iter().flat_map(|s| ["--state".to_owned(), s]).collect()
}

/// Cloud ids of the findings of one kind.
fn found(report: &Value, kind: &str) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f["cloud_id"].as_str().expect("a cloud id").to_owned())
        .collect()
}

/// Scans the estate's states with one inventory input; checks what the conversion planted.
fn assert_finds(p: &Value, inventory: &str, expected: &Value) {
    let mut args: Vec<String> = vec!["scan".into(), "--format".into(), "json".into()];
    args.extend(state_args(p));
    args.extend(["--inventory".to_owned(), format!("testdata/{inventory}")]);
    let out = driftlock(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let report = json(&out);
    assert_eq!(report["errors"], Value::Array(Vec::new()), "{inventory}: inputs that could not be audited");
    for kind in ["unmanaged", "missing", "drifted"] {
        assert_eq!(found(&report, kind), strings(&expected[kind]), "{inventory}: {kind}");
    }
    // Besides the planted cases, only what the states hold themselves: the tainted bucket of
    // state/estate-app and the terraform_data that no cloud lists.
    for f in report["findings"].as_array().unwrap() {
        let kind = f["kind"].as_str().unwrap();
        assert!(
            ["unmanaged", "missing", "drifted", "tainted", "unsupported-type"].contains(&kind),
            "{inventory}: unexpected {kind}: {}",
            f["message"]
        );
    }
    assert_eq!(code(&out), 1, "{inventory}: the planted cases close the gate");
}

#[test]
fn each_derived_export_finds_what_it_carries() {
    let p = planted();
    let files = p["files"].as_object().expect("files");
    assert_eq!(files.len(), 4);
    for (file, expected) in files {
        assert_finds(&p, &format!("{DIR}/{file}"), expected);
    }
}

#[test]
fn the_whole_folder_finds_every_planted_case() {
    let p = planted();
    assert_finds(&p, DIR, &p);
    // The conversion carried every case of estate-drifted over.
    let source = std::fs::read_to_string(testdata("inventory/aws/estate-drifted.PLANTED.json"))
        .expect("the estate-drifted PLANTED file");
    let source: Value = serde_json::from_str(&source).unwrap();
    for kind in ["unmanaged", "missing", "drifted"] {
        assert_eq!(strings(&p[kind]), strings(&source[kind]), "{kind}");
    }
}

/// What each file vouches for (coverage) and says (notes), through the library: a complete
/// listing vouches for its types, a truncated Resource Explorer result and a select result for
/// none, and the truncated one says so.
#[test]
fn coverage_and_notes_per_file() {
    let p = planted();
    for (file, expected) in p["files"].as_object().unwrap() {
        let mut inputs: Vec<InputArg> = strings(&p["states"])
            .iter()
            .map(|s| InputArg { path: common::root().join(s), role: Role::State })
            .collect();
        inputs.push(InputArg { path: testdata(&format!("{DIR}/{file}")), role: Role::Inventory });
        let outcome = scan(&ScanOptions { inputs, ..ScanOptions::default() });
        let covered: BTreeSet<String> = outcome
            .estate
            .inventory
            .coverage
            .iter()
            .filter_map(|c| c.cloud_type.as_deref().map(str::to_owned))
            .collect();
        assert_eq!(covered, strings(&expected["vouches_for"]), "{file}: coverage");
        assert_eq!(outcome.estate.notes.len() as u64, expected["notes"].as_u64().unwrap(), "{file}: notes");
        if let Some(note) = outcome.estate.notes.first() {
            assert!(note.contains("truncated") && note.contains("Count.Complete"), "{note}");
        }
    }
}

/// The folder is an inventory folder: nothing in it but exports.
#[test]
fn the_folder_holds_only_exports() {
    let mut stack = vec![testdata(DIR)];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the derived folder") {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    assert_eq!(files.len(), 4);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(".json") || name.ends_with(".json.gz"), "{name}");
        assert!(!name.contains("PLANTED"), "{name}");
    }
}

fn snapshot_path() -> PathBuf {
    let p = planted();
    let file =
        p["files"].as_object().unwrap().keys().find(|k| k.starts_with("AWSLogs/")).expect("the snapshot").clone();
    testdata(&format!("{DIR}/{file}"))
}

/// The snapshot is in the delivered-file spelling, at the documented S3 key.
#[test]
fn the_config_snapshot_has_the_delivered_shape() {
    let path = snapshot_path();
    let rel = path.strip_prefix(testdata(DIR)).unwrap().to_string_lossy().replace('\\', "/");
    let parts: Vec<&str> = rel.split('/').collect();
    // AWSLogs/ACCT/Config/REGION/YYYY/M/D/ConfigSnapshot/ACCT_Config_REGION_ConfigSnapshot_<time>_<id>.json.gz
    assert_eq!(parts.len(), 9, "{rel}");
    let (account, region) = (parts[1], parts[3]);
    assert_eq!((parts[0], parts[2], parts[7]), ("AWSLogs", "Config", "ConfigSnapshot"));
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    for unpadded in [parts[5], parts[6]] {
        assert!(!unpadded.starts_with('0'), "month and day are not zero-padded: {rel}");
    }
    let name = parts[8].strip_suffix(".json.gz").expect(".json.gz");
    let prefix = format!("{account}_Config_{region}_ConfigSnapshot_");
    let (time, id) = name.strip_prefix(&prefix).expect("the file name prefix").split_once('_').expect("TIME_ID");
    assert_eq!(time.len(), "20261125T000325Z".len());
    assert!(time.starts_with(&format!("{}{:0>2}{:0>2}T", parts[4], parts[5], parts[6])), "{time}");

    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["fileVersion"], "1.0");
    assert_eq!(doc["configSnapshotId"], id);
    let items = doc["configurationItems"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert_eq!(item["awsAccountId"], account);
        assert!(item["ARN"].as_str().is_some_and(|a| a.starts_with("arn:aws:")), "{item}");
        assert!(item["configurationItemVersion"].is_string());
        assert!(item["configurationStateId"].is_u64(), "the delivered form has a numeric state id");
        assert!(item["configuration"].is_object(), "the delivered form has configuration as an object");
        assert!(item["tags"].is_object());
        assert!(item.get("accountId").is_none() && item.get("arn").is_none(), "no API spelling");
        if item["resourceType"] == "AWS::IAM::Role" {
            let id = item["resourceId"].as_str().unwrap();
            assert!(id.starts_with("AROA"), "AWS Config names roles by unique id, not {id}");
            assert_eq!(item["awsRegion"], "global");
        }
    }
}

#[test]
fn resource_explorer_and_select_shapes() {
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(testdata(&format!("{DIR}/{name}"))).unwrap()).unwrap()
    };
    let complete = read("resource-explorer-search.us-east-1.json");
    assert_eq!(complete["Count"]["Complete"], true);
    assert_eq!(
        complete["Count"]["TotalResources"].as_u64(),
        Some(complete["Resources"].as_array().unwrap().len() as u64)
    );
    let truncated = read("resource-explorer-search-truncated.us-east-1.json");
    assert_eq!(truncated["Count"]["Complete"], false);
    assert!(truncated["NextToken"].is_string());
    for r in complete["Resources"].as_array().unwrap().iter().chain(truncated["Resources"].as_array().unwrap()) {
        let service = r["Service"].as_str().unwrap();
        assert!(r["ResourceType"].as_str().unwrap().starts_with(&format!("{service}:")));
        assert!(r["Arn"].as_str().unwrap().starts_with(&format!("arn:aws:{service}:")));
    }
    let select = read("config-select-security-groups.us-east-1.json");
    let fields: Vec<&str> =
        select["QueryInfo"]["SelectFields"].as_array().unwrap().iter().map(|f| f["Name"].as_str().unwrap()).collect();
    assert!(fields.contains(&"configuration") && fields.contains(&"resourceId"));
    for row in select["Results"].as_array().unwrap() {
        let row: Value = serde_json::from_str(row.as_str().expect("every result is a JSON string")).unwrap();
        assert_eq!(row["resourceType"], "AWS::EC2::SecurityGroup");
        assert!(row["configuration"]["ipPermissions"].is_array());
    }
}
