//! Remote state on S3: terraform writes states (two workspaces) through its real `s3` backend
//! into moto_server on loopback; driftlock reads them by URL, prefix and glob.

mod common;

use std::path::Path;
use std::process::Output;

use common::tools::{self, Moto};

const SECRET: &str = "s3cr3t-never-printed-9d1f";

fn backend_block(endpoint: &str, extra: &str) -> String {
    format!(
        r#"terraform {{
  backend "s3" {{
    bucket                      = "tfstate"
    key                         = "net/terraform.tfstate"
    region                      = "us-east-1"
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    endpoints = {{ s3 = "{endpoint}" }}
{extra}  }}
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

/// driftlock against moto, with credentials only in the environment.
fn driftlock(moto: &Moto, args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(common::root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "AKIATESTREMOTE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args);
    let out = cmd.output().expect("run driftlock");
    let all = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(!all.contains(SECRET), "the secret key was printed:\n{all}");
    out
}

/// States written by terraform: default workspace (clean) and `dev` (a tainted instance).
struct Fixture {
    dir: tempfile::TempDir,
    moto: Moto,
}

fn fixture(test: &str) -> Option<Fixture> {
    let missing: Vec<&str> = ["terraform", "moto_server", "aws"].into_iter().filter(|t| !tools::on_path(t)).collect();
    if !missing.is_empty() {
        common::skip(test, &format!("{} not installed (.ci/run installs them)", missing.join(", ")));
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(&dir.path().join("moto.log"));
    let d = dir.path();
    tools::run(d, "aws", &["--endpoint-url", &moto.endpoint(), "s3", "mb", "s3://tfstate"], false);
    std::fs::write(d.join("main.tf"), backend_block(&moto.endpoint(), "")).expect("main.tf");
    tools::run(d, "terraform", &["init", "-input=false", "-no-color"], false);
    tools::run(d, "terraform", &["apply", "-auto-approve", "-input=false", "-no-color"], false);
    tools::run(d, "terraform", &["workspace", "new", "-no-color", "dev"], false);
    let failed =
        tools::run(d, "terraform", &["apply", "-auto-approve", "-input=false", "-no-color", "-var", "fail=true"], true);
    assert!(!failed.status.success(), "the provisioner was meant to fail");
    // Something that is not a state at all, and broken JSON named like one.
    std::fs::write(d.join("bad.tfstate"), "{\n  \"version\": 4,\n  \"resources\": [ oops ]\n}\n").unwrap();
    tools::run(
        d,
        "aws",
        &["--endpoint-url", &moto.endpoint(), "s3", "cp", "bad.tfstate", "s3://tfstate/broken/bad.tfstate"],
        false,
    );
    Some(Fixture { dir, moto })
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
fn s3_states_written_by_terraform_are_read_by_url_prefix_and_glob() {
    let Some(fx) = fixture("s3_states_written_by_terraform_are_read_by_url_prefix_and_glob") else { return };
    let m = &fx.moto;

    // One key: the default workspace, clean.
    let out = driftlock(m, &["scan", "--state", "s3://tfstate/net/terraform.tfstate", "--format", "json"]);
    let r = common::json(&out);
    assert_eq!(common::code(&out), 0, "{}", common::stderr(&out));
    assert_eq!(r["summary"]["inputs"]["states"], 1);
    assert_eq!(r["summary"]["inputs"]["managed_instances"], 1);

    // The workspace layout: env:/dev/KEY holds the tainted instance; the URL is the finding's file.
    let dev = "s3://tfstate/env:/dev/net/terraform.tfstate";
    let out = driftlock(m, &["scan", "--state", dev, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stderr(&out));
    assert_eq!(kinds(&common::json(&out)), [("tainted".to_owned(), dev.to_owned())]);

    // A glob over every workspace, mixed with a local path.
    let out = driftlock(
        m,
        &["scan", "--state", "s3://tfstate/**/net/*.tfstate", "--state", "testdata/state/clean", "--format", "json"],
    );
    assert_eq!(common::code(&out), 1, "{}", common::stderr(&out));
    let r = common::json(&out);
    let local_states = common::json(&common::driftlock(&[
        "scan",
        "--state",
        "testdata/state/clean",
        "--format",
        "json",
    ]))["summary"]["inputs"]["states"]
        .as_u64()
        .unwrap();
    assert_eq!(r["summary"]["inputs"]["states"].as_u64().unwrap(), 2 + local_states);
    assert_eq!(kinds(&r), [("tainted".to_owned(), dev.to_owned())]);

    // Human output quotes the fetched bytes under the URL.
    let out = driftlock(m, &["scan", "--state", dev]);
    assert_eq!(common::code(&out), 1);
    assert!(common::stdout(&out).contains(dev), "{}", common::stdout(&out));
}

#[test]
fn s3_failures_close_the_gate_with_the_url_and_the_cloud_error() {
    let Some(fx) = fixture("s3_failures_close_the_gate_with_the_url_and_the_cloud_error") else { return };
    let m = &fx.moto;

    // A missing key: exit 2, the URL and S3's own words.
    let missing = "s3://tfstate/prod/terraform.tfstate";
    let out = driftlock(m, &["scan", "--state", missing, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let e = &common::json(&out)["errors"][0];
    assert_eq!(e["code"], "DL0801");
    assert_eq!(e["file"], missing);
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains(missing) && msg.contains("NoSuchKey"), "{msg}");

    // A prefix and a glob with nothing in them are never "no resources".
    for empty in ["s3://tfstate/nothing/here/", "s3://tfstate/**/*.tfstate.gz"] {
        let out = driftlock(m, &["scan", "--state", empty, "--format", "json"]);
        assert_eq!(common::code(&out), 2, "{empty}");
        let r = common::json(&out);
        assert_eq!(r["errors"][0]["code"], "DL0802", "{empty}");
        assert_eq!(r["errors"][0]["file"], empty);
        assert_eq!(r["summary"]["inputs"]["states"], 0);
    }

    // A missing bucket.
    let out = driftlock(m, &["scan", "--state", "s3://no-such-bucket/x.tfstate", "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    assert!(common::json(&out)["errors"][0]["message"].as_str().unwrap().contains("NoSuchBucket"));

    // Bad JSON in the bucket: the diagnostic names the URL and points into the fetched bytes.
    let bad = "s3://tfstate/broken/bad.tfstate";
    let out = driftlock(m, &["scan", "--state", bad, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let e = &common::json(&out)["errors"][0];
    assert_eq!((e["code"].as_str(), e["file"].as_str(), e["line"].as_u64()), (Some("DL0003"), Some(bad), Some(3)));
    let out = driftlock(m, &["scan", "--state", bad]);
    let text = common::stdout(&out) + &common::stderr(&out);
    assert!(text.contains(bad) && text.contains("oops"), "{text}");

    // Nobody listening at the endpoint.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
    let out = cmd
        .current_dir(common::root())
        .env("AWS_ACCESS_KEY_ID", "AKIATESTREMOTE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL_S3", format!("http://127.0.0.1:{closed}"))
        .args(["scan", "--state", "s3://tfstate/net/terraform.tfstate", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(common::code(&out), 2);
    let r = common::json(&out);
    assert_eq!(r["errors"][0]["code"], "DL0801");
    assert!(!(common::stdout(&out) + &common::stderr(&out)).contains(SECRET));
}

#[test]
fn s3_denied_read_is_exit_2_with_the_cloud_error() {
    if !tools::on_path("moto_server") {
        common::skip("s3_denied_read_is_exit_2_with_the_cloud_error", "moto_server not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // moto checking credentials like AWS: keys it never issued are refused.
    let moto = Moto::start_with_env(&dir.path().join("moto.log"), &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let url = "s3://tfstate/net/terraform.tfstate";
    let out = driftlock(&moto, &["scan", "--state", url, "--format", "json"]);
    assert_eq!(common::code(&out), 2, "{}", common::stdout(&out));
    let e = &common::json(&out)["errors"][0];
    assert_eq!(e["code"], "DL0801");
    assert_eq!(e["file"], url);
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("InvalidAccessKeyId") || msg.contains("403"), "{msg}");
    let _ = Path::new(url);
}

#[test]
fn backend_dir_reads_every_workspace_with_partial_configuration() {
    let Some(fx) = fixture("backend_dir_reads_every_workspace_with_partial_configuration") else { return };
    let m = &fx.moto;
    let root = fx.dir.path().to_str().unwrap().to_owned();
    let dev = "s3://tfstate/env:/dev/net/terraform.tfstate";

    // The block (endpoint in `endpoints`) and terraform's backend cache: both workspaces.
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
    let out = cmd
        .current_dir(common::root())
        .env("AWS_ACCESS_KEY_ID", "AKIATESTREMOTE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ENDPOINT_URL")
        .args(["scan", "--backend", &root, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["states"], 2);
    assert_eq!(kinds(&r), [("tainted".to_owned(), dev.to_owned())]);

    // An empty block completed by a -backend-config file holding the keys (never printed).
    let partial = tempfile::tempdir().unwrap();
    std::fs::write(partial.path().join("main.tf"), "terraform {\n  backend \"s3\" {}\n}\n").unwrap();
    let cfg = partial.path().join("moto.s3.tfbackend");
    std::fs::write(
        &cfg,
        format!(
            "bucket = \"tfstate\"\nkey = \"net/terraform.tfstate\"\nregion = \"us-east-1\"\nuse_path_style = true\naccess_key = \"AKIAPARTIAL\"\nsecret_key = \"{SECRET}\"\nendpoints = {{ s3 = \"{}\" }}\n",
            m.endpoint()
        ),
    )
    .unwrap();
    let (dir, file) = (partial.path().to_str().unwrap(), cfg.to_str().unwrap());
    let out = driftlock(m, &["scan", "--backend", dir, "--backend-config", file, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stdout(&out));
    assert_eq!(common::json(&out)["summary"]["inputs"]["states"], 2);

    // Without the partial file the block lacks `bucket`: exit 2, DL0804.
    let out = driftlock(m, &["scan", "--backend", dir, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    assert_eq!(common::json(&out)["errors"][0]["code"], "DL0804");

    // A workspace prefix with nothing under it is never a pass.
    std::fs::write(
        &cfg,
        format!(
            "bucket = \"tfstate\"\nkey = \"other/terraform.tfstate\"\nendpoints = {{ s3 = \"{}\" }}\n",
            m.endpoint()
        ),
    )
    .unwrap();
    let out = driftlock(m, &["scan", "--backend", dir, "--backend-config", file, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    assert_eq!(common::json(&out)["errors"][0]["code"], "DL0802");
}
