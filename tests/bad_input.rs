//! Inputs that cannot be audited: each exits 2 with a pointed diagnostic, never a panic and
//! never a pass; the other inputs of the run are still audited.

mod common;
use common::*;

fn error_codes(o: &std::process::Output) -> Vec<String> {
    json(o)["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_bad_fixture_exits_2_with_its_code() {
    let cases = [
        ("bad/empty.tfstate", "DL0002", None),
        ("bad/whitespace.tfstate", "DL0002", None),
        ("bad/invalid-json.tfstate", "DL0003", Some(19)),
        ("bad/not-json.tfstate", "DL0003", Some(1)),
        ("bad/wrong-shape.tfstate", "DL0004", Some(13)),
        ("bad/array.json", "DL0005", Some(1)),
        ("bad/state-v3.tfstate", "DL0006", Some(2)),
        ("bad/opentofu-encrypted.tfstate", "DL0007", Some(1)),
        ("bad/plan-format-2.json", "DL0008", Some(2)),
    ];
    for (file, want, line) in cases {
        let path = format!("testdata/{file}");
        let o = driftlock(&["scan", "--format", "json", &path]);
        assert_eq!(code(&o), 2, "{file}: {}", stdout(&o));
        let r = json(&o);
        assert_eq!(r["gate"], "closed", "{file}");
        let e = &r["errors"][0];
        assert_eq!(e["code"], want, "{file}: {e}");
        assert_eq!(e["file"], path.as_str(), "{file}");
        assert_eq!(e["line"].as_u64().map(|l| l as usize), line, "{file}: {e}");
        assert!(!e["help"].as_str().unwrap_or("").is_empty(), "{file} has no help");
    }
}

#[test]
fn human_output_labels_the_span() {
    let o = driftlock(&["scan", "testdata/bad/invalid-json.tfstate"]);
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("invalid_json_human", stdout(&o));
    let o = driftlock(&["scan", "testdata/bad/state-v3.tfstate"]);
    insta::assert_snapshot!("state_v3_human", stdout(&o));
}

#[test]
fn missing_path_is_not_an_empty_state() {
    let o = driftlock(&["scan", "--format", "json", "--state", "testdata/does/not/exist.tfstate"]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0001"]);
    assert!(json(&o)["errors"][0]["message"].as_str().unwrap().contains("no such file"));
}

#[test]
fn no_inputs_is_a_usage_error() {
    let o = driftlock(&["scan", "--format", "json"]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0011"]);
}

#[test]
fn a_directory_without_states_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "# no state here\n").unwrap();
    std::fs::create_dir(dir.path().join(".terraform")).unwrap();
    std::fs::write(dir.path().join(".terraform/terraform.tfstate"), r#"{"version":3,"backend":{"type":"s3"}}"#)
        .unwrap();
    let o = driftlock(&["scan", "--format", "json", "--state", dir.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0011"]);
}

#[test]
fn unknown_flag_exits_2() {
    let o = driftlock(&["scan", "--no-such-flag"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--no-such-flag"));
}

/// A truncated copy of a real state: every cut point class (mid-string, mid-object, after a
/// comma) is an invalid-json error with a location, never a panic.
#[test]
fn truncated_real_state_at_many_points() {
    let src = testdata("state/clean/terraform.tfstate");
    if !src.exists() {
        skip("truncated_real_state_at_many_points", "testdata/state/clean is not generated yet (cargo xtask fixtures)");
        return;
    }
    let text = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for frac in [0.1, 0.33, 0.5, 0.77, 0.99] {
        let cut = (text.len() as f64 * frac) as usize;
        let p = dir.path().join(format!("cut-{cut}.tfstate"));
        std::fs::write(&p, &text[..cut]).unwrap();
        let o = driftlock(&["scan", "--format", "json", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "cut at {cut}");
        let e = &json(&o)["errors"][0];
        assert_eq!(e["code"], "DL0003", "cut at {cut}: {e}");
        assert!(e["message"].as_str().unwrap().contains("truncated"), "{e}");
        assert!(e["line"].as_u64().is_some());
    }
}

#[test]
fn non_utf8_and_broken_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.tfstate");
    std::fs::write(&p, b"{\"version\": 4, \"lineage\": \"caf\xe9\"}").unwrap();
    let o = driftlock(&["scan", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0013"]);
    let g = dir.path().join("state.tfstate.gz");
    std::fs::write(&g, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]).unwrap();
    let o = driftlock(&["scan", "--format", "json", g.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0013"]);
}

/// One bad file among good ones: the good ones are still audited, the run exits 2.
#[test]
fn keeps_going_then_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.tfstate"), r#"{"version":4,"serial":1,"lineage":"a","resources":[]}"#)
        .unwrap();
    std::fs::write(dir.path().join("bad.tfstate"), "{").unwrap();
    let o = driftlock(&["scan", "--format", "json", "--state", dir.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let r = json(&o);
    assert_eq!(r["summary"]["inputs"]["states"], 1);
    assert_eq!(r["summary"]["input_errors"], 1);
}

#[test]
fn unreadable_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("secret.tfstate");
    std::fs::write(&p, "{}").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_ok() {
        skip("unreadable_file_is_reported", "running as root: permissions do not stop reads");
        return;
    }
    let o = driftlock(&["scan", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(error_codes(&o), ["DL0001"]);
}
