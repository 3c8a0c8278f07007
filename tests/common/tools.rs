//! Real tools for end-to-end tests: moto_server on loopback, terraform with the provider
//! mirror, the aws CLI. Each test that needs them says loudly when they are absent.
#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The folder above `registry.terraform.io` holding the AWS provider (what
/// `terraform init -plugin-dir=` wants): `$DRIFTLOCK_TF_PLUGIN_DIR`, or a known location.
pub fn plugin_dir() -> Option<PathBuf> {
    let has_aws = |p: &Path| p.join("registry.terraform.io/hashicorp/aws").is_dir();
    if let Some(p) = std::env::var_os("DRIFTLOCK_TF_PLUGIN_DIR").map(PathBuf::from) {
        return has_aws(&p).then_some(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    [
        PathBuf::from("/opt/tf-plugins"),
        home.join(".terraform.d/plugins"),
        home.join(".local/share/terraform/plugins"),
        PathBuf::from("/usr/local/share/terraform/plugins"),
        PathBuf::from("/usr/share/terraform/plugins"),
    ]
    .into_iter()
    .find(|p| has_aws(p))
}

/// What is missing for an end-to-end run with terraform + moto + the aws CLI.
pub fn missing_tools() -> Vec<String> {
    let mut missing: Vec<String> =
        ["terraform", "moto_server", "aws"].iter().filter(|t| !on_path(t)).map(|t| t.to_string()).collect();
    if plugin_dir().is_none() {
        missing.push("the AWS provider mirror (set DRIFTLOCK_TF_PLUGIN_DIR)".into());
    }
    missing
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A moto_server on 127.0.0.1, stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start(log: &Path) -> Moto {
        Moto::start_with_env(log, &[])
    }

    /// A moto_server with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to make it
    /// check credentials and IAM permissions like AWS.
    pub fn start_with_env(log: &Path, env: &[(&str, &str)]) -> Moto {
        let port = free_port();
        let out = std::fs::File::create(log).expect("moto log");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not listen on 127.0.0.1:{port} within 30 s");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command in `dir` with fake AWS credentials; panics with its output on failure
/// unless `allow_fail`.
pub fn run(dir: &Path, program: &str, args: &[&str], allow_fail: bool) -> std::process::Output {
    let tfrc = dir.join(".tfrc");
    if !tfrc.exists() {
        std::fs::write(&tfrc, "").expect("tfrc");
    }
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_CLI_CONFIG_FILE", &tfrc)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    if !allow_fail && !out.status.success() {
        panic!(
            "{program} {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// The AWS provider block pointed at moto.
pub fn provider_block(endpoint: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {{
    ec2 = "{endpoint}"
    s3  = "{endpoint}"
    iam = "{endpoint}"
    sts = "{endpoint}"
  }}
  default_tags {{ tags = {{ managed-by = "terraform" }} }}
}}
"#
    )
}

/// A server started for a test on a free 127.0.0.1 port, stopped (killed) when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `program` with the arguments `args(port)` and waits until the port accepts.
    pub fn start(program: &Path, args: impl Fn(u16) -> Vec<String>, env: &[(&str, &str)], log: &Path) -> Server {
        let port = free_port();
        let out = std::fs::File::create(log).expect("server log");
        let mut cmd = Command::new(program);
        if let Some(dir) = log.parent() {
            // Whatever the server writes beside its data stays in the test's folder.
            cmd.current_dir(dir);
        }
        let child = cmd
            .args(args(port))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{} exited ({status}) before listening:\n{log}", program.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{} did not listen on 127.0.0.1:{port} within 60 s:\n{log}", program.display());
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A program on PATH, else in the tool folder `.ci/run` installs into
/// (`$DRIFTLOCK_TOOLS`, default `~/.local/share/driftlock-tools`: `venv/bin`, `node/bin`).
pub fn tool(program: &str) -> Option<PathBuf> {
    if on_path(program) {
        return Some(PathBuf::from(program));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let root = std::env::var_os("DRIFTLOCK_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/share/driftlock-tools"));
    ["venv/bin", "node/bin"].iter().map(|d| root.join(d).join(program)).find(|p| p.is_file())
}

/// The GCS emulator from PyPI (`gcp-storage-emulator`), in memory, with one bucket.
pub fn gcs_emulator(program: &Path, bucket: &str, log: &Path) -> Server {
    let bucket = bucket.to_owned();
    Server::start(
        program,
        move |port| {
            ["start", "--host", "127.0.0.1", "--port", &port.to_string(), "--in-memory", "--default-bucket", &bucket]
                .map(str::to_owned)
                .to_vec()
        },
        &[],
        log,
    )
}

/// Azurite's blob service (npm `azurite`), in memory, with the accounts `name:base64key`.
pub fn azurite(program: &Path, accounts: &[(&str, &str)], dir: &Path) -> Server {
    let accounts: Vec<String> = accounts.iter().map(|(a, k)| format!("{a}:{k}")).collect();
    Server::start(
        program,
        move |port| {
            [
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--skipApiVersionCheck",
            ]
            .map(str::to_owned)
            .to_vec()
        },
        &[("AZURITE_ACCOUNTS", &accounts.join(";"))],
        &dir.join("azurite.log"),
    )
}
