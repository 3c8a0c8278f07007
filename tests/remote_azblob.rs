//! Remote state on Azure Blob: real terraform states uploaded to Azurite on loopback (the
//! azurerm backend's layout, `KEY` and `KEYenv:WORKSPACE`); driftlock reads them by URL, glob
//! and prefix, through `--backend DIR`, and through object_store's emulator mode.
//!
//! terraform's azurerm backend cannot be pointed at a blob endpoint of one's choosing, so the
//! states are uploaded with Azure's REST API (Put Blob, Shared Key) instead.

mod common;

use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use common::tools::{self, Server};
use hmac::{KeyInit, Mac};

const ACCOUNT: &str = "tfacct";
/// The account key (base64 of a 32-byte secret): never printed.
const KEY_SECRET: &[u8; 32] = b"azurite-test-key-never-printed!!";
/// Azurite's well-known development account and key (public, from Azure's documentation).
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn key() -> String {
    base64::engine::general_purpose::STANDARD.encode(KEY_SECRET)
}

/// A Shared Key request to Azurite (path-style: `/ACCOUNT/CONTAINER/BLOB`).
fn put(azurite: &Server, account: &str, key: &str, path: &str, query: &[(&str, &str)], body: &[u8]) {
    let date = jiff::Timestamp::now().strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let version = "2021-08-06";
    let len = if body.is_empty() { String::new() } else { body.len().to_string() };
    let blob = query.is_empty();
    let content_type = if blob { "application/json" } else { "" };
    let mut headers = vec![("x-ms-date", date.as_str()), ("x-ms-version", version)];
    if blob {
        headers.push(("x-ms-blob-type", "BlockBlob"));
    }
    headers.sort();
    let canon_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let mut resource = format!("/{account}/{account}/{path}");
    let mut q: Vec<&(&str, &str)> = query.iter().collect();
    q.sort();
    for (k, v) in &q {
        resource.push_str(&format!("\n{k}:{v}"));
    }
    let to_sign = format!("PUT\n\n\n{len}\n\n{content_type}\n\n\n\n\n\n\n{canon_headers}{resource}");
    let secret = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let query: String = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let url = format!("{}/{account}/{path}{}{query}", azurite.endpoint(), if query.is_empty() { "" } else { "?" });
    let mut req = ureq::put(&url).header("authorization", format!("SharedKey {account}:{sig}"));
    for (k, v) in &headers {
        req = req.header(*k, *v);
    }
    if blob {
        req = req.header("content-type", content_type);
    }
    let resp = if body.is_empty() { req.send_empty() } else { req.send(body) };
    resp.unwrap_or_else(|e| panic!("PUT {url}: {e}"));
}

fn upload(azurite: &Server, account: &str, key: &str, container: &str, blob: &str, state: &str) {
    let body = std::fs::read(common::testdata(state)).expect("state");
    put(azurite, account, key, &format!("{container}/{blob}"), &[], &body);
}

/// driftlock with the account's endpoint and key in the environment.
fn driftlock(azurite: &Server, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(common::root()).env("NO_COLOR", "1").env_remove("COLUMNS");
    for v in [
        "AZURE_STORAGE_ACCESS_KEY",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "ARM_ACCESS_KEY",
        "AZURE_STORAGE_BLOB_ENDPOINT",
        "AZURE_STORAGE_USE_EMULATOR",
        "AZURITE_BLOB_STORAGE_URL",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let _ = azurite;
    let out = cmd.args(args).output().expect("run driftlock");
    let all = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(!all.contains(&key()), "the account key was printed:\n{all}");
    out
}

fn account_env(azurite: &Server) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_STORAGE_BLOB_ENDPOINT", format!("{}/{ACCOUNT}", azurite.endpoint())),
        ("AZURE_STORAGE_ACCESS_KEY", key()),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    azurite: Server,
}

fn fixture(test: &str) -> Option<Fixture> {
    let Some(program) = tools::tool("azurite-blob") else {
        common::skip(test, "azurite (npm) not installed (.ci/run installs it)");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let azurite = tools::azurite(&program, &[(ACCOUNT, &key()), (DEV_ACCOUNT, DEV_KEY)], dir.path());
    let k = key();
    put(&azurite, ACCOUNT, &k, "tfstate", &[("restype", "container")], b"");
    // The azurerm backend's layout: the default workspace at KEY, the others at KEYenv:NAME.
    upload(&azurite, ACCOUNT, &k, "tfstate", "app.tfstate", "state/azure/terraform.tfstate");
    upload(&azurite, ACCOUNT, &k, "tfstate", "app.tfstateenv:dev", "state/tainted/terraform.tfstate");
    upload(&azurite, ACCOUNT, &k, "tfstate", "net/terraform.tfstate", "state/clean/terraform.tfstate");
    // The well-known development account, for object_store's emulator mode.
    put(&azurite, DEV_ACCOUNT, DEV_KEY, "tfstate", &[("restype", "container")], b"");
    upload(&azurite, DEV_ACCOUNT, DEV_KEY, "tfstate", "app.tfstate", "state/azure/terraform.tfstate");
    Some(Fixture { _dir: dir, azurite })
}

fn kinds(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_owned(), f["file"].as_str().unwrap_or_default().to_owned()))
        .collect();
    v.sort();
    v
}

#[test]
fn azblob_states_are_read_by_url_glob_and_prefix() {
    let Some(fx) = fixture("azblob_states_are_read_by_url_glob_and_prefix") else { return };
    let (a, env) = (&fx.azurite, account_env(&fx.azurite));

    // One blob: the default workspace (a real azurerm state, 7 instances).
    let out = driftlock(a, &env, &["scan", "--state", "azblob://tfacct/tfstate/app.tfstate", "--format", "json"]);
    assert_eq!(common::code(&out), 0, "{}", common::stdout(&out));
    assert_eq!(common::json(&out)["summary"]["inputs"]["managed_instances"], 7);

    // The workspace layout KEYenv:WORKSPACE; the URL is the finding's file.
    let dev = "azblob://tfacct/tfstate/app.tfstateenv:dev";
    let out = driftlock(a, &env, &["scan", "--state", dev, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    assert_eq!(kinds(&common::json(&out)), [("tainted".to_owned(), dev.to_owned())]);

    // A glob over every workspace of the key.
    let out = driftlock(a, &env, &["scan", "--state", "azblob://tfacct/tfstate/app.tfstate*", "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 2);
    assert_eq!(kinds(&r), [("tainted".to_owned(), dev.to_owned())]);

    // A prefix: the *.tfstate under it (14 instances in the clean state).
    let out = driftlock(a, &env, &["scan", "--state", "azblob://tfacct/tfstate/net/", "--format", "json"]);
    assert_eq!(common::code(&out), 0, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(
        (r["summary"]["inputs"]["states"].as_u64(), r["summary"]["inputs"]["managed_instances"].as_u64()),
        (Some(1), Some(14))
    );

    // Human output quotes the URL.
    let out = driftlock(a, &env, &["scan", "--state", dev]);
    assert!(common::stdout(&out).contains(dev), "{}", common::stdout(&out));
}

#[test]
fn azblob_failures_close_the_gate_with_the_url_and_the_cloud_error() {
    let Some(fx) = fixture("azblob_failures_close_the_gate_with_the_url_and_the_cloud_error") else { return };
    let (a, env) = (&fx.azurite, account_env(&fx.azurite));

    let missing = "azblob://tfacct/tfstate/prod.tfstate";
    let out = driftlock(a, &env, &["scan", "--state", missing, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let e = &common::json(&out)["errors"][0];
    assert_eq!((e["code"].as_str(), e["file"].as_str()), (Some("DL0801"), Some(missing)));
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains(missing) && msg.contains("BlobNotFound"), "{msg}");

    for empty in ["azblob://tfacct/tfstate/nothing/", "azblob://tfacct/tfstate/*.tfstate.gz"] {
        let out = driftlock(a, &env, &["scan", "--state", empty, "--format", "json"]);
        assert_eq!(common::code(&out), 2, "{empty}");
        let r = common::json(&out);
        assert_eq!((r["errors"][0]["code"].as_str(), r["errors"][0]["file"].as_str()), (Some("DL0802"), Some(empty)));
    }

    // A container that does not exist: Azure's own words.
    let out = driftlock(a, &env, &["scan", "--state", "azblob://tfacct/nocontainer/", "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let msg = common::json(&out)["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("ContainerNotFound"), "{msg}");

    // A wrong key: denied, exit 2; neither key is printed.
    let wrong = base64::engine::general_purpose::STANDARD.encode(b"another-32-byte-key-not-accepted");
    let env_wrong = vec![env[0].clone(), ("AZURE_STORAGE_ACCESS_KEY", wrong.clone())];
    let out = driftlock(a, &env_wrong, &["scan", "--state", "azblob://tfacct/tfstate/app.tfstate", "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let text = common::stdout(&out) + &common::stderr(&out);
    assert!(!text.contains(&wrong), "{text}");
    let msg = common::json(&out)["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("403") || msg.contains("AuthorizationFailure") || msg.contains("AuthenticationFailed"),
        "{msg}"
    );
}

#[test]
fn azblob_emulator_mode_reads_the_development_account() {
    let Some(fx) = fixture("azblob_emulator_mode_reads_the_development_account") else { return };
    let env =
        vec![("AZURE_STORAGE_USE_EMULATOR", "true".to_owned()), ("AZURITE_BLOB_STORAGE_URL", fx.azurite.endpoint())];
    let url = "azblob://devstoreaccount1/tfstate/app.tfstate";
    let out = driftlock(&fx.azurite, &env, &["scan", "--state", url, "--format", "json"]);
    assert_eq!(common::code(&out), 0, "{}", common::stdout(&out));
    assert_eq!(common::json(&out)["summary"]["inputs"]["managed_instances"], 7);
}

#[test]
fn azurerm_backend_dir_reads_every_workspace() {
    let Some(fx) = fixture("azurerm_backend_dir_reads_every_workspace") else { return };
    let a = &fx.azurite;
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("main.tf"),
        "terraform {\n  backend \"azurerm\" {\n    storage_account_name = \"tfacct\"\n    container_name = \"tfstate\"\n    key = \"app.tfstate\"\n  }\n}\n",
    )
    .unwrap();
    // The key in a -backend-config file, the endpoint in the environment.
    let cfg = root.path().join("dev.azurerm.tfbackend");
    std::fs::write(&cfg, format!("access_key = \"{}\"\n", key())).unwrap();
    let env = vec![("AZURE_STORAGE_BLOB_ENDPOINT", format!("{}/{ACCOUNT}", a.endpoint()))];
    let dir = root.path().to_str().unwrap();
    let out =
        driftlock(a, &env, &["scan", "--backend", dir, "--backend-config", cfg.to_str().unwrap(), "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 2);
    assert_eq!(kinds(&r), [("tainted".to_owned(), "azblob://tfacct/tfstate/app.tfstateenv:dev".to_owned())]);

    // A key with no state under it, in any workspace: never a pass.
    std::fs::write(&cfg, format!("access_key = \"{}\"\nkey = \"other.tfstate\"\n", key())).unwrap();
    let out =
        driftlock(a, &env, &["scan", "--backend", dir, "--backend-config", cfg.to_str().unwrap(), "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    assert_eq!(common::json(&out)["errors"][0]["code"], "DL0802");
    let _ = Path::new(dir);
}
