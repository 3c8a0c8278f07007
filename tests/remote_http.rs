//! Remote state over Terraform's http backend: terraform writes the state through its real
//! `http` backend to a small server speaking the protocol (testdata/remote/http_backend.py) on
//! loopback; driftlock GETs it with basic auth from the environment or the URL.

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};

use common::tools;

const PASSWORD: &str = "pw-never-printed-5e2a";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("python3")
        .arg(common::testdata("remote/http_backend.py"))
        .arg(port.to_string())
        .env("HTTP_BACKEND_USER", "ci")
        .env("HTTP_BACKEND_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the http backend server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    Server { child, port }
}

fn driftlock(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(common::root())
        .env("NO_COLOR", "1")
        .env_remove("TF_HTTP_USERNAME")
        .env_remove("TF_HTTP_PASSWORD")
        .envs(env.iter().copied())
        .args(args);
    let out = cmd.output().expect("run driftlock");
    let all = common::stdout(&out) + &common::stderr(&out);
    assert!(!all.contains(PASSWORD), "the password was printed:\n{all}");
    out
}

#[test]
fn http_backend_state_written_by_terraform_is_read_with_basic_auth() {
    for t in ["terraform", "python3"] {
        if !tools::on_path(t) {
            common::skip(
                "http_backend_state_written_by_terraform_is_read_with_basic_auth",
                &format!("{t} not installed"),
            );
            return;
        }
    }
    let server = start_server();
    let url = format!("http://127.0.0.1:{}/states/app", server.port);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        format!(
            r#"terraform {{
  backend "http" {{
    address  = "{url}"
    username = "ci"
    password = "{PASSWORD}"
  }}
}}
resource "terraform_data" "ok" {{
  input = "ok"
}}
resource "terraform_data" "half" {{
  provisioner "local-exec" {{
    command = "exit 3"
  }}
}}
"#
        ),
    )
    .unwrap();
    tools::run(dir.path(), "terraform", &["init", "-input=false", "-no-color"], false);
    let applied = tools::run(dir.path(), "terraform", &["apply", "-auto-approve", "-input=false", "-no-color"], true);
    assert!(!applied.status.success(), "the provisioner was meant to fail");

    // Credentials from the environment, as terraform's backend reads them.
    let env = [("TF_HTTP_USERNAME", "ci"), ("TF_HTTP_PASSWORD", PASSWORD)];
    let out = driftlock(&env, &["scan", "--state", &url, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stderr(&out));
    let r = common::json(&out);
    assert_eq!(r["summary"]["inputs"]["managed_instances"], 2);
    let f = &r["findings"][0];
    assert_eq!((f["kind"].as_str(), f["file"].as_str()), (Some("tainted"), Some(url.as_str())));

    // Credentials in the URL: shown without them.
    let with_userinfo = url.replace("http://", &format!("http://ci:{PASSWORD}@"));
    let out = driftlock(&[], &["scan", "--state", &with_userinfo, "--format", "json"]);
    assert_eq!(common::code(&out), 1, "{}", common::stderr(&out));
    assert_eq!(common::json(&out)["findings"][0]["file"], url.as_str());

    // No credentials: the server's 401, exit 2.
    let out = driftlock(&[], &["scan", "--state", &url, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let e = &common::json(&out)["errors"][0];
    assert_eq!((e["code"].as_str(), e["file"].as_str()), (Some("DL0801"), Some(url.as_str())));
    assert!(e["message"].as_str().unwrap().contains("401"), "{e}");

    // No state at that address: never an empty state.
    let none = format!("http://127.0.0.1:{}/states/never-applied", server.port);
    let out = driftlock(&env, &["scan", "--state", &none, "--format", "json"]);
    assert_eq!(common::code(&out), 2);
    let e = &common::json(&out)["errors"][0];
    assert_eq!(e["code"], "DL0801");
    assert!(e["message"].as_str().unwrap().contains("404"), "{e}");
}
