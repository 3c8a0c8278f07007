//! Remote state on GCS: terraform writes states (two workspaces) through its real `gcs` backend
//! into `gcp-storage-emulator` on loopback; driftlock reads them by URL, prefix and glob, and
//! through `--backend DIR`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::tools::{self, Server};

/// The backend block's bearer token: a secret, never printed.
const TOKEN: &str = "ya29.never-printed-7c1e5b";

fn main_tf(endpoint: &str) -> String {
    format!(
        r#"terraform {{
  backend "gcs" {{
    bucket                  = "tfstate"
    prefix                  = "net"
    access_token            = "{TOKEN}"
    storage_custom_endpoint = "{endpoint}/storage/v1/"
  }}
}}
variable "fail" {{
  type    = bool
  default = false
}}
resource "terraform_data" "ok" {{
  input = "ok"
}}
resource "terraform_data" "half" {{
  count = var.fail ? 1 : 0
  provisioner "local-exec" {{
    command = "exit 3"
  }}
}}
"#
    )
}

/// driftlock with the emulator named the way Google's SDKs find it.
fn driftlock(emulator: Option<&Server>, args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(common::root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GOOGLE_OAUTH_ACCESS_TOKEN")
        .env_remove("STORAGE_EMULATOR_HOST")
        .args(args);
    if let Some(e) = emulator {
        cmd.env("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", e.port));
    }
    let out = cmd.output().expect("run driftlock");
    let all = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(!all.contains(TOKEN), "the access token was printed:\n{all}");
    out
}

struct Fixture {
    dir: tempfile::TempDir,
    emulator: Server,
}

fn fixture(test: &str) -> Option<Fixture> {
    let program = tools::tool("gcp-storage-emulator");
    let terraform = tools::on_path("terraform");
    let Some(program) = program.filter(|_| terraform) else {
        let missing: Vec<&str> =
            [(!terraform, "terraform"), (tools::tool("gcp-storage-emulator").is_none(), "gcp-storage-emulator")]
                .into_iter()
                .filter_map(|(m, n)| m.then_some(n))
                .collect();
        common::skip(test, &format!("{} not installed (.ci/run installs them)", missing.join(", ")));
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let emulator = tools::gcs_emulator(&program, "tfstate", &dir.path().join("gcs.log"));
    let d = dir.path();
    std::fs::write(d.join("main.tf"), main_tf(&emulator.endpoint())).expect("main.tf");
    tools::run(d, "terraform", &["init", "-input=false", "-no-color"], false);
    tools::run(d, "terraform", &["apply", "-auto-approve", "-input=false", "-no-color"], false);
    tools::run(d, "terraform", &["workspace", "new", "-no-color", "dev"], false);
    let failed =
        tools::run(d, "terraform", &["apply", "-auto-approve", "-input=false", "-no-color", "-var", "fail=true"], true);
    assert!(!failed.status.success(), "the provisioner was meant to fail");
    // A real GCP state beside them, uploaded through the JSON API.
    upload(&emulator, "gcp/default.tfstate", &common::testdata("state/gcp/terraform.tfstate"));
    Some(Fixture { dir, emulator })
}

fn upload(emulator: &Server, name: &str, file: &PathBuf) {
    let body = std::fs::read(file).expect("state");
    let url = format!("{}/upload/storage/v1/b/tfstate/o?uploadType=media&name={name}", emulator.endpoint());
    // reqwest: the emulator answers in HTTP/1.0, its body delimited by closing the connection.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let status = rt
        .block_on(async {
            reqwest::Client::new().post(&url).header("content-type", "application/octet-stream").body(body).send().await
        })
        .expect("upload to the emulator")
        .status();
    assert!(status.is_success(), "upload to the emulator: HTTP {status}");
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
fn gcs_states_written_by_terraform_are_read_by_url_prefix_and_glob() {
    let Some(fx) = fixture("gcs_states_written_by_terraform_are_read_by_url_prefix_and_glob") else { return };
    let e = Some(&fx.emulator);

    // One object: the default workspace, at PREFIX/default.tfstate.
    let out = driftlock(e, &["scan", "--state", "gs://tfstate/net/default.tfstate", "--format", "json"]);
    assert_eq!(common::code(&out), 0, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 1);
    assert_eq!(r["summary"]["inputs"]["managed_instances"], 1);

    // The workspace layout: PREFIX/dev.tfstate holds the tainted instance; the URL is the file.
    let dev = "gs://tfstate/net/dev.tfstate";
    let out = driftlock(e, &["scan", "--state", dev, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    assert_eq!(kinds(&common::json(&out)), [("tainted".to_owned(), dev.to_owned())]);

    // A prefix: both workspaces (and not terraform's lock or anything else).
    let out = driftlock(e, &["scan", "--state", "gs://tfstate/net/", "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    assert_eq!(common::json(&out)["summary"]["inputs"]["states"], 2);

    // A glob across prefixes: default (1 instance), dev (2, one tainted) and the uploaded GCP
    // state's 11.
    let out = driftlock(e, &["scan", "--state", "gs://tfstate/**/*.tfstate", "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 3);
    assert_eq!(r["summary"]["inputs"]["managed_instances"], 1 + 2 + 11);
    assert_eq!(kinds(&r), [("tainted".to_owned(), dev.to_owned())]);

    // Human output quotes the URL.
    let out = driftlock(e, &["scan", "--state", dev]);
    assert_eq!(common::code(&out), 1);
    assert!(common::stdout(&out).contains(dev), "{}", common::stdout(&out));
}

#[test]
fn gcs_missing_objects_and_empty_matches_close_the_gate_with_the_url() {
    let Some(fx) = fixture("gcs_missing_objects_and_empty_matches_close_the_gate_with_the_url") else { return };
    let e = Some(&fx.emulator);

    let missing = "gs://tfstate/net/prod.tfstate";
    let out = driftlock(e, &["scan", "--state", missing, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let r = common::json(&out);
    assert_eq!((r["errors"][0]["code"].as_str(), r["errors"][0]["file"].as_str()), (Some("DL0801"), Some(missing)));
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains(missing) && msg.contains("404"), "{msg}");

    for empty in ["gs://tfstate/nothing/", "gs://tfstate/**/*.tfstate.gz"] {
        let out = driftlock(e, &["scan", "--state", empty, "--format", "json"]);
        assert_eq!(common::code(&out), 2, "{empty}");
        let r = common::json(&out);
        assert_eq!((r["errors"][0]["code"].as_str(), r["errors"][0]["file"].as_str()), (Some("DL0802"), Some(empty)));
        assert_eq!(r["summary"]["inputs"]["states"], 0);
    }

    // A bucket that does not exist: GCS's own 404 on the listing.
    let out = driftlock(e, &["scan", "--state", "gs://no-such-bucket/net/", "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let msg = common::json(&out)["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("gs://no-such-bucket/net/") && msg.contains("404"), "{msg}");

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
    let out = cmd
        .current_dir(common::root())
        .env("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{closed}"))
        .args(["scan", "--state", "gs://tfstate/net/default.tfstate", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(common::code(&out), 2);
    assert_eq!(common::json(&out)["errors"][0]["code"], "DL0801");
}

#[test]
fn gcs_backend_dir_reads_every_workspace_at_the_blocks_endpoint() {
    let Some(fx) = fixture("gcs_backend_dir_reads_every_workspace_at_the_blocks_endpoint") else { return };
    let root = fx.dir.path().to_str().unwrap().to_owned();

    // The block names the endpoint (storage_custom_endpoint) and the token: no environment.
    let out = driftlock(None, &["scan", "--backend", &root, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 2);
    assert_eq!(kinds(&r), [("tainted".to_owned(), "gs://tfstate/net/dev.tfstate".to_owned())]);

    // A partial configuration pointing at a prefix with no workspace: never a pass.
    let partial = tempfile::tempdir().unwrap();
    std::fs::write(partial.path().join("main.tf"), "terraform {\n  backend \"gcs\" {}\n}\n").unwrap();
    let cfg = partial.path().join("empty.gcs.tfbackend");
    std::fs::write(
        &cfg,
        format!(
            "bucket = \"tfstate\"\nprefix = \"other\"\naccess_token = \"{TOKEN}\"\nstorage_custom_endpoint = \"{}/storage/v1/\"\n",
            fx.emulator.endpoint()
        ),
    )
    .unwrap();
    let out = driftlock(
        None,
        &[
            "scan",
            "--backend",
            partial.path().to_str().unwrap(),
            "--backend-config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(common::code(&out), 2);
    assert_eq!(common::json(&out)["errors"][0]["code"], "DL0802");
    let _ = Path::new(&root);
}
