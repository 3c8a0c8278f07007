//! GCP Cloud Asset Inventory, Azure Resource Graph and the generic NDJSON inventory against
//! hand-written states (`testdata/inventory/{gcp,azure,generic}`, written from the documented
//! formats: no GCP or Azure account can be reached here). driftlock must find exactly what each
//! sibling `*.PLANTED.json` says, point bad lines at `file:line:column`, and stream large
//! newline-delimited files.

mod common;
use std::collections::BTreeSet;
use std::io::Write;

use common::*;
use serde_json::Value;

fn planted(name: &str) -> Value {
    let text = std::fs::read_to_string(testdata(&format!("inventory/{name}.PLANTED.json"))).expect("the PLANTED file");
    serde_json::from_str(&text).expect("PLANTED is JSON")
}

fn set(p: &Value, key: &str) -> BTreeSet<String> {
    p[key].as_array().into_iter().flatten().map(|v| v.as_str().unwrap().to_owned()).collect()
}

fn scan(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let o = driftlock(&all);
    (code(&o), json(&o))
}

fn findings<'r>(r: &'r Value, kind: &str) -> Vec<&'r Value> {
    r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == kind).collect()
}

fn ids(r: &Value, kind: &str) -> BTreeSet<String> {
    findings(r, kind).iter().map(|f| f["cloud_id"].as_str().unwrap_or_default().to_owned()).collect()
}

fn kinds(r: &Value) -> BTreeSet<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect()
}

/// Asserts a scan found exactly the planted unmanaged, missing and drifted resources.
fn assert_planted(p: &Value, r: &Value, what: &str) {
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{what}: {r:#}");
    assert_eq!(ids(r, "unmanaged"), set(p, "unmanaged"), "{what}");
    assert_eq!(ids(r, "missing"), set(p, "missing"), "{what}");
    assert_eq!(ids(r, "drifted"), set(p, "drifted"), "{what}");
    let addr =
        |kind: &str| findings(r, kind).iter().map(|f| f["address"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(addr("missing"), [p["facts"]["missing_address"].as_str().unwrap()], "{what}");
    assert_eq!(addr("drifted"), [p["facts"]["drifted_address"].as_str().unwrap()], "{what}");
}

fn state_of(p: &Value) -> String {
    p["states"][0].as_str().unwrap().to_owned()
}

#[test]
fn gcp_exports_find_exactly_what_was_planted() {
    let p = planted("gcp");
    let state = state_of(&p);
    for inv in [
        "testdata/inventory/gcp",
        "testdata/inventory/gcp/asset-export.ndjson",
        "testdata/inventory/gcp/asset-export.ndjson.gz",
        "testdata/inventory/gcp/asset-list.json",
    ] {
        let (rc, r) = scan(&["--state", &state, "--inventory", inv]);
        assert_eq!(rc, 1, "{inv}: {r:#}");
        assert_eq!(kinds(&r), BTreeSet::from(["unmanaged".into(), "missing".into(), "drifted".into()]), "{inv}");
        assert_planted(&p, &r, inv);
        let drift = findings(&r, "drifted")[0]["diff"].as_str().unwrap();
        assert!(drift.contains(p["facts"]["drifted_diff"].as_str().unwrap()), "{drift}");
        let unmanaged = findings(&r, "unmanaged")[0];
        if inv.contains(".ndjson") || inv.ends_with("/gcp") {
            // NDJSON findings point at the record's line, on its `name`.
            assert_eq!(unmanaged["line"], p["facts"]["unmanaged_line"], "{inv}: {unmanaged}");
            assert_eq!(unmanaged["column"], 2, "{inv}");
        } else {
            assert!(unmanaged["line"].as_u64().unwrap() > 1, "{inv}: {unmanaged}");
        }
    }
}

#[test]
fn gcp_provider_defaults_alone_open_the_gate() {
    // The export without the planted and managed assets: only what a project holds by itself
    // (and the project, which is never a default: accepted here by leaving it out).
    let text = std::fs::read_to_string(testdata("inventory/gcp/asset-export.ndjson")).unwrap();
    let keep = |l: &&str| {
        [
            "/networks/default\"",
            "/subnetworks/default\"",
            "/firewalls/default-allow-",
            "default-route-",
            "-compute@developer",
            "logging.googleapis.com/",
            "compute.googleapis.com/projects/dl-k1-prod\"",
        ]
        .iter()
        .any(|k| l.contains(k))
            || (l.contains("serviceusage")
                && !["compute.", "iam.", "pubsub."].iter().any(|s| l.contains(&format!("/services/{s}"))))
    };
    let defaults: Vec<&str> = text.lines().filter(keep).collect();
    assert_eq!(defaults.len(), planted("gcp")["facts"]["provider_defaults"].as_u64().unwrap() as usize);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("defaults.ndjson");
    std::fs::write(&f, defaults.join("\n")).unwrap();
    let (rc, r) = scan(&["--inventory", f.to_str().unwrap()]);
    assert_eq!(rc, 0, "{r:#}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);

    // A default someone changed is reported: ssh opened to a second port.
    let changed = defaults
        .iter()
        .map(|l| {
            if l.contains("default-allow-ssh") {
                l.replace("\"ports\":[\"22\"]", "\"ports\":[\"22\",\"2222\"]")
            } else {
                (*l).to_owned()
            }
        })
        .collect::<Vec<_>>();
    std::fs::write(&f, changed.join("\n")).unwrap();
    let (rc, r) = scan(&["--inventory", f.to_str().unwrap()]);
    assert_eq!(rc, 1, "{r:#}");
    let u = findings(&r, "unmanaged");
    assert_eq!(u.len(), 1, "{r:#}");
    assert!(u[0]["message"].as_str().unwrap().contains("tcp:2222"), "{}", u[0]["message"]);
}

#[test]
fn gcp_search_results_and_single_records() {
    let dir = tempfile::tempdir().unwrap();
    let search = dir.path().join("search.json");
    std::fs::write(
        &search,
        r#"[
  {"name": "//iam.googleapis.com/projects/p1/serviceAccounts/123-compute@developer.gserviceaccount.com", "assetType": "iam.googleapis.com/ServiceAccount", "project": "projects/123", "displayName": "Compute Engine default service account", "location": "global"},
  {"name": "//pubsub.googleapis.com/projects/p1/topics/stray", "assetType": "pubsub.googleapis.com/Topic", "project": "projects/123", "displayName": "stray", "location": "global", "labels": {"team": "x"}}
]"#,
    )
    .unwrap();
    let (rc, r) = scan(&["--inventory", search.to_str().unwrap()]);
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(ids(&r, "unmanaged"), BTreeSet::from(["//pubsub.googleapis.com/projects/p1/topics/stray".to_owned()]));
    assert_eq!(findings(&r, "unmanaged")[0]["line"], 3);

    // One record, on one line or pretty-printed, is an export of one asset.
    let one = dir.path().join("one.json");
    let rec = r#"{"name": "//pubsub.googleapis.com/projects/p1/topics/t", "asset_type": "pubsub.googleapis.com/Topic", "resource": {"data": {"name": "projects/p1/topics/t"}}}"#;
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(rec).unwrap()).unwrap();
    // serde_json sorts keys when pretty-printing: `name` is on line 3.
    for (text, line, column) in [(rec.to_owned(), 1, 2), (pretty, 3, 3)] {
        std::fs::write(&one, text).unwrap();
        let (rc, r) = scan(&["--inventory", one.to_str().unwrap()]);
        assert_eq!(rc, 1, "{r:#}");
        assert_eq!(ids(&r, "unmanaged"), BTreeSet::from(["//pubsub.googleapis.com/projects/p1/topics/t".to_owned()]));
        let u = findings(&r, "unmanaged")[0];
        assert_eq!((u["line"].as_u64(), u["column"].as_u64()), (Some(line), Some(column)), "{u}");
    }
}

#[test]
fn azure_graph_finds_exactly_what_was_planted_whatever_the_case_of_ids() {
    let p = planted("azure");
    let state = state_of(&p);
    let (rc, r) = scan(&["--state", &state, "--inventory", "testdata/inventory/azure"]);
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(kinds(&r), BTreeSet::from(["unmanaged".into(), "missing".into(), "drifted".into()]));
    assert_planted(&p, &r, "azure");
    assert!(
        findings(&r, "drifted")[0]["diff"].as_str().unwrap().contains(p["facts"]["drifted_diff"].as_str().unwrap())
    );
    assert_eq!(findings(&r, "unmanaged")[0]["file"], "testdata/inventory/azure/graph-resources.json");

    // Resources alone say nothing about resource groups (ResourceContainers): no `missing` for
    // azurerm_resource_group.k1, the rest unchanged.
    let (rc, r) = scan(&["--state", &state, "--inventory", "testdata/inventory/azure/graph-resources.json"]);
    assert_eq!(rc, 1);
    assert_planted(&p, &r, "azure resources only");
}

#[test]
fn azure_incomplete_pages_vouch_for_nothing_missing() {
    let p = planted("azure");
    let state = state_of(&p);
    let dir = tempfile::tempdir().unwrap();
    let mut page: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("inventory/azure/graph-resources.json")).unwrap())
            .unwrap();
    page["skip_token"] = Value::String("ew0KICAiJGlkIjogIjEiLA0KICAiTWF4Um93cyI6IDEwMA0KfQ==".into());
    let f = dir.path().join("page-1.json");
    std::fs::write(&f, serde_json::to_string_pretty(&page).unwrap()).unwrap();
    let (rc, r) = scan(&["--state", &state, "--inventory", f.to_str().unwrap()]);
    assert_eq!(rc, 1, "{r:#}");
    assert!(findings(&r, "missing").is_empty(), "{r:#}");
    assert_eq!(ids(&r, "unmanaged"), set(&p, "unmanaged"));
    assert_eq!(ids(&r, "drifted"), set(&p, "drifted"));
    let notes = r["notes"].as_array().expect("a note about the page");
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("skip_token")), "{notes:?}");

    // 1.x prints no skip token: exactly a page's worth of rows may be cut short.
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            serde_json::json!({"id": format!("/subscriptions/s/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_r{i}"),
                "name": format!("NetworkWatcher_r{i}"), "type": "microsoft.network/networkwatchers", "resourceGroup": "NetworkWatcherRG", "tags": null})
        })
        .collect();
    let f = dir.path().join("rows.json");
    std::fs::write(&f, serde_json::to_string(&rows).unwrap()).unwrap();
    let (rc, r) = scan(&["--state", &state, "--inventory", f.to_str().unwrap()]);
    assert_eq!(rc, 0, "{r:#}");
    assert!(r["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("exactly 100 rows")));
}

#[test]
fn generic_inventory_finds_exactly_what_was_planted() {
    let p = planted("generic");
    let state = state_of(&p);
    let (rc, r) = scan(&["--state", &state, "--inventory", "testdata/inventory/generic"]);
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(
        kinds(&r),
        BTreeSet::from(["unmanaged".into(), "missing".into(), "drifted".into(), "unsupported-type".into()])
    );
    assert_planted(&p, &r, "generic");
    assert_eq!(findings(&r, "unmanaged")[0]["line"], p["facts"]["unmanaged_line"]);
    let unsupported: Vec<&str> =
        findings(&r, "unsupported-type").iter().map(|f| f["resource_type"].as_str().unwrap()).collect();
    assert_eq!(unsupported, ["cloudflare_record"]);
}

/// Writes `text` to `name` in `dir`, gzip-compressed when the name ends in `.gz`.
fn write(dir: &std::path::Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    if name.ends_with(".gz") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text).unwrap();
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
    } else {
        std::fs::write(&p, text).unwrap();
    }
    p.to_str().unwrap().to_owned()
}

fn only_error(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 2, "{}", stdout(o));
    let r = json(o);
    assert_eq!(r["errors"].as_array().unwrap().len(), 1, "{r:#}");
    r["errors"][0].clone()
}

#[test]
fn bad_lines_are_pointed_errors_never_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"provider":"aws","type":"aws_vpc","id":"vpc-1","region":"us-east-1","account":"1"}"#;
    let gcp = r#"{"name":"//pubsub.googleapis.com/projects/p/topics/t","asset_type":"pubsub.googleapis.com/Topic"}"#;
    let cases: Vec<(&str, String, &str, u64, u64)> = vec![
        // file, content, code, line, column
        (
            "syntax.ndjson",
            format!("{good}\n\n{{\"provider\":\"aws\",\"type\":\"aws_vpc\" \"id\":\"x\"}}\n{good}\n"),
            "DL0003",
            3,
            35,
        ),
        (
            "syntax.ndjson.gz",
            format!("{good}\n\n{{\"provider\":\"aws\",\"type\":\"aws_vpc\" \"id\":\"x\"}}\n"),
            "DL0003",
            3,
            35,
        ),
        ("truncated.ndjson", format!("{good}\n{good}\n{{\"provider\":\"aws\",\"ty"), "DL0003", 3, 21),
        ("no-id.ndjson", format!("{good}\n{{\"provider\":\"aws\",\"type\":\"aws_vpc\"}}\n"), "DL0004", 2, 1),
        (
            "bad-tags.ndjson",
            format!("{good}\n{good}\n{{\"provider\":\"aws\",\"type\":\"x\",\"id\":\"i\",\"tags\":[1]}}\n"),
            "DL0004",
            3,
            46,
        ),
        (
            "unknown-member.ndjson",
            format!("{good}\n{{\"provider\":\"aws\",\"type\":\"x\",\"id\":\"i\",\"tag\":{{}}}}\n"),
            "DL0004",
            2,
            1,
        ),
        ("array-line.ndjson", format!("{good}\n[1,2]\n"), "DL0004", 2, 1),
        ("gcp-no-type.ndjson", format!("{gcp}\n{{\"name\":\"//x/y\"}}\n"), "DL0004", 2, 1),
        ("gcp-bad-name.ndjson", format!("{gcp}\n{{\"name\":\"projects/p\",\"asset_type\":\"t\"}}\n"), "DL0004", 2, 9),
    ];
    for (file, content, want, line, column) in cases {
        let path = write(dir.path(), file, content.as_bytes());
        let e = only_error(&driftlock(&["scan", "--format", "json", "--inventory", &path]));
        assert_eq!(e["code"], want, "{file}: {e}");
        assert_eq!(e["file"], path.as_str(), "{file}");
        assert_eq!((e["line"].as_u64(), e["column"].as_u64()), (Some(line), Some(column)), "{file}: {e}");
        assert!(e["message"].as_str().unwrap().contains(&format!("line {line}")), "{file}: {e}");
    }
    // Not UTF-8 on line 2.
    let mut bytes = format!("{good}\n").into_bytes();
    bytes.extend_from_slice(b"{\"provider\":\"aws\",\"type\":\"caf\xe9\",\"id\":\"i\"}\n");
    let path = write(dir.path(), "latin1.ndjson", &bytes);
    let e = only_error(&driftlock(&["scan", "--format", "json", "--inventory", &path]));
    assert_eq!(
        (e["code"].as_str(), e["line"].as_u64(), e["column"].as_u64()),
        (Some("DL0013"), Some(2), Some(30)),
        "{e}"
    );
    // The human report labels the line.
    let o = driftlock(&[
        "scan",
        "--inventory",
        &write(dir.path(), "h.ndjson", format!("{good}\n{{\"provider\":1}}\n").as_bytes()),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).contains("h.ndjson:2:"), "{}", stdout(&o));
}

#[test]
fn large_ndjson_is_streamed_line_by_line() {
    // 200,000 records of a provider default (an enabled API every new project has), then one
    // hand-made topic on the last line: the scan must reach it and point at its line.
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    let mut text = String::with_capacity(n * 190);
    for i in 0..n {
        text.push_str(&format!(
            "{{\"name\":\"//serviceusage.googleapis.com/projects/{i}/services/storage.googleapis.com\",\"asset_type\":\"serviceusage.googleapis.com/Service\",\"resource\":{{\"data\":{{\"state\":\"ENABLED\"}}}}}}\n"
        ));
    }
    text.push_str("{\"name\":\"//pubsub.googleapis.com/projects/p/topics/late\",\"asset_type\":\"pubsub.googleapis.com/Topic\",\"resource\":{\"data\":{}}}\n");
    for name in ["big.ndjson", "big.ndjson.gz"] {
        let path = write(dir.path(), name, text.as_bytes());
        let (rc, r) = scan(&["--inventory", &path]);
        assert_eq!(rc, 1, "{name}: {}", r["errors"]);
        assert_eq!(ids(&r, "unmanaged"), BTreeSet::from(["//pubsub.googleapis.com/projects/p/topics/late".to_owned()]));
        assert_eq!(findings(&r, "unmanaged")[0]["line"], n as u64 + 1, "{name}");
    }
    // Standard input is streamed the same way.
    let o = driftlock_stdin(&["scan", "--format", "json", "--inventory", "-"], text.into_bytes());
    assert_eq!(code(&o), 1);
    assert_eq!(ids(&json(&o), "unmanaged").len(), 1);
}

#[test]
fn arrays_and_lines_that_are_no_inventory_keep_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        ("empty-array.json", "[]", "DL0005"),
        ("ids.json", r#"[{"id": "x"}]"#, "DL0005"),
        ("lines.ndjson", "{\"a\":1}\n{\"b\":2}\n", "DL0005"),
        (
            "ui.jsonl",
            "{\"@level\":\"info\",\"@message\":\"m\",\"type\":\"version\"}\n{\"@level\":\"info\",\"@message\":\"m\"}\n",
            "DL0010",
        ),
    ] {
        let path = write(dir.path(), name, text.as_bytes());
        let e = only_error(&driftlock(&["scan", "--format", "json", "--inventory", &path]));
        assert_eq!(e["code"], want, "{name}: {e}");
    }
}

#[test]
fn clean_account_accepts_gcp_and_azure_defaults_only() {
    let dir = tempfile::tempdir().unwrap();
    // GCP: the export's provider defaults alone pass (every required type is vouched for).
    let text = std::fs::read_to_string(testdata("inventory/gcp/asset-export.ndjson")).unwrap();
    let managed = [
        "k1-",
        "temp-allow-all",
        "dl-k1-prod-artifacts",
        "cloudresourcemanager",
        "/services/compute.",
        "/services/iam.",
        "/services/pubsub.",
    ];
    let defaults: Vec<&str> =
        text.lines().filter(|l| !managed.iter().any(|m| l.contains(m)) || l.contains("default-route-")).collect();
    let gcp = write(dir.path(), "gcp.ndjson", defaults.join("\n").as_bytes());
    let o = driftlock(&["clean-account", "--format", "json", "--preset", "gcp", "--inventory", &gcp]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // Azure: the subscription, Network Watcher and the default workspace pass; a hand-made
    // resource group does not.
    let mut graph: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("inventory/azure/graph-resources.json")).unwrap())
            .unwrap();
    let keep = |row: &Value| {
        ["NetworkWatcher", "DefaultWorkspace"].iter().any(|k| row["name"].as_str().unwrap().starts_with(k))
    };
    let rows: Vec<Value> = graph["data"].as_array().unwrap().iter().filter(|r| keep(r)).cloned().collect();
    graph["count"] = rows.len().into();
    graph["total_records"] = rows.len().into();
    graph["data"] = Value::Array(rows);
    let resources = write(dir.path(), "resources.json", graph.to_string().as_bytes());
    let containers: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(testdata("inventory/azure/graph-resourcecontainers.json")).unwrap(),
    )
    .unwrap();
    let (defaults, ours): (Vec<Value>, Vec<Value>) = containers.into_iter().partition(|r| r["name"] != "rg-k1-prod");
    let c = write(dir.path(), "containers.json", Value::Array(defaults.clone()).to_string().as_bytes());
    let o = driftlock(&[
        "clean-account",
        "--format",
        "json",
        "--preset",
        "azure",
        "--inventory",
        &resources,
        "--inventory",
        &c,
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let c = write(dir.path(), "containers.json", Value::Array([defaults, ours].concat()).to_string().as_bytes());
    let o = driftlock(&[
        "clean-account",
        "--format",
        "json",
        "--preset",
        "azure",
        "--inventory",
        &resources,
        "--inventory",
        &c,
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let r = json(&o);
    let ids: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["cloud_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["/subscriptions/3f2b8c1e-5d4a-4e9b-9c7f-2a1d6e8b0c45/resourcegroups/rg-k1-prod"]);
}
