//! `driftlock collect aws` end to end against a real moto_server on loopback: two regions, more
//! than one page, files byte-identical to what the aws CLI prints for the same account, a call
//! moto's IAM enforcement denies (a coverage gap, exit 2 when scanned, the clean-account check
//! refusing to pass), the retry policy against a loopback server that throttles, and a scan of
//! the collected files equal to the in-memory `aws://live` scan.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const REGIONS: [&str; 2] = ["us-east-1", "us-west-2"];

/// A moto_server with the given environment, stopped when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.join("moto.log")).unwrap();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        // Owned by the guard at once: stopped and waited for whatever happens next.
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not listen within 30 s");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tools_missing(test: &str) -> bool {
    let missing: Vec<&str> = ["moto_server", "aws"].into_iter().filter(|t| !tools::on_path(t)).collect();
    if missing.is_empty() {
        return false;
    }
    skip(test, &format!("{} not installed (.ci/run installs them)", missing.join(", ")));
    true
}

/// The environment every AWS client of a test gets: keys, a region, no shared files of the
/// machine's user.
fn aws_env(dir: &Path, endpoint: &str, key: (&str, &str)) -> Vec<(String, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID".into(), key.0.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), key.1.into()),
        ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ENDPOINT_URL".into(), endpoint.into()),
        ("AWS_CONFIG_FILE".into(), dir.join("no-config").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), dir.join("no-credentials").display().to_string()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_MAX_ATTEMPTS".into(), "4".into()),
    ]
}

/// `aws ARGS --region R` against the endpoint; its stdout.
fn aws(env: &[(String, String)], region: &str, args: &[&str]) -> String {
    let out = Command::new("aws")
        .args(args)
        .args(["--region", region])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run aws");
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn collect(env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

/// An account with something in both regions: 7 tagged VPCs each (the tagging API pages at
/// 5), 6 roles (IAM pages at 5), a user, a local policy, two buckets.
fn populate(env: &[(String, String)]) {
    for (ri, region) in REGIONS.iter().enumerate() {
        for i in 0..7 {
            let cidr = format!("10.{}.0.0/16", 100 + ri * 10 + i);
            let tags = format!("ResourceType=vpc,Tags=[{{Key=Name,Value=vpc-{region}-{i}}},{{Key=team,Value=blue}}]");
            aws(env, region, &["ec2", "create-vpc", "--cidr-block", &cidr, "--tag-specifications", &tags]);
        }
    }
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for i in 0..6 {
        aws(
            env,
            "us-east-1",
            &["iam", "create-role", "--role-name", &format!("app-{i}"), "--assume-role-policy-document", trust],
        );
    }
    aws(env, "us-east-1", &["iam", "create-user", "--user-name", "deployer"]);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    aws(env, "us-east-1", &["iam", "create-policy", "--policy-name", "read-objects", "--policy-document", doc]);
    aws(env, "us-east-1", &["s3api", "create-bucket", "--bucket", "collect-one"]);
    aws(env, "us-east-1", &["s3api", "create-bucket", "--bucket", "collect-two"]);
}

/// The aws CLI arguments that print what a collected file holds.
fn cli_args(stem: &str, dir: &Path, region: &str) -> Vec<String> {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    if let Some(rest) = stem.strip_prefix("ec2-") {
        return s(&["ec2", rest]);
    }
    match stem {
        "tagging-get-resources" => s(&["resourcegroupstaggingapi", "get-resources"]),
        "iam-list-roles" => s(&["iam", "list-roles"]),
        "iam-list-users" => s(&["iam", "list-users"]),
        "iam-list-policies" => s(&["iam", "list-policies", "--scope", "Local"]),
        "s3api-list-buckets" => s(&["s3api", "list-buckets"]),
        "config-batch-get" => {
            // The keys in the order the listings gave them.
            let mut args = s(&["configservice", "batch-get-resource-config", "--resource-keys"]);
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_str().unwrap();
                    n.starts_with("config-list-discovered-") && n.ends_with(&format!(".{region}.json"))
                })
                .collect();
            names.sort_by_key(|p| config_order(p.file_name().unwrap().to_str().unwrap()));
            for p in names {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                for item in v["resourceIdentifiers"].as_array().unwrap() {
                    args.push(format!(
                        "resourceType={},resourceId={}",
                        item["resourceType"].as_str().unwrap(),
                        item["resourceId"].as_str().unwrap()
                    ));
                }
            }
            args
        }
        other => {
            let slug =
                other.strip_prefix("config-list-discovered-").unwrap_or_else(|| panic!("unexpected file {other}"));
            s(&["configservice", "list-discovered-resources", "--resource-type", config_type(slug)])
        }
    }
}

const CONFIG: &[(&str, &str)] = &[
    ("ec2-vpc", "AWS::EC2::VPC"),
    ("ec2-subnet", "AWS::EC2::Subnet"),
    ("ec2-security-group", "AWS::EC2::SecurityGroup"),
    ("ec2-internet-gateway", "AWS::EC2::InternetGateway"),
    ("ec2-route-table", "AWS::EC2::RouteTable"),
    ("ec2-network-acl", "AWS::EC2::NetworkAcl"),
    ("ec2-dhcp-options", "AWS::EC2::DHCPOptions"),
    ("ec2-instance", "AWS::EC2::Instance"),
    ("iam-role", "AWS::IAM::Role"),
    ("iam-user", "AWS::IAM::User"),
    ("iam-policy", "AWS::IAM::Policy"),
    ("s3", "AWS::S3::Bucket"),
];

fn config_type(slug: &str) -> &'static str {
    CONFIG.iter().find(|(s, _)| *s == slug).map(|(_, t)| *t).unwrap_or_else(|| panic!("slug {slug}"))
}

fn config_order(file: &str) -> usize {
    CONFIG.iter().position(|(s, _)| file.starts_with(&format!("config-list-discovered-{s}."))).unwrap()
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn collects_two_regions_in_pages_exactly_as_the_aws_cli_prints() {
    if tools_missing("collects_two_regions_in_pages_exactly_as_the_aws_cli_prints") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    populate(&env);
    let out = tmp.path().join("inv");
    let o = collect(
        &env,
        &["collect", "aws", "--regions", "us-east-1,us-west-2", "--page-size", "5", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["driftlock_collect"], 1);
    assert_eq!(m["account"], "123456789012");
    assert_eq!(m["regions"], serde_json::json!(REGIONS));
    assert_eq!(m["errors"], serde_json::json!([]), "{m:#}");
    let call = |name: &str, region: &str| {
        m["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["call"] == name && c["region"] == region)
            .cloned()
            .unwrap_or_else(|| panic!("{name} {region} not in {m:#}"))
    };
    // Paging: 6 roles and 7 tagged VPCs at 5 a page.
    assert!(call("iam:ListRoles", "us-east-1")["pages"].as_u64().unwrap() >= 2);
    assert_eq!(call("iam:ListRoles", "us-east-1")["records"], 6);
    assert_eq!(call("tag:GetResources", "us-west-2")["pages"], 2);
    assert_eq!(call("tag:GetResources", "us-west-2")["records"], 7);
    // Every regional listing in both regions, the global ones once.
    for region in REGIONS {
        for c in ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeInstances", "config:ListDiscoveredResources"]
        {
            call(c, region);
        }
    }
    assert_eq!(m["calls"].as_array().unwrap().iter().filter(|c| c["call"] == "iam:ListUsers").count(), 1);

    // Each file is byte for byte what the aws CLI prints for the same call.
    let mut compared = 0;
    // moto stamps each configuration item with the time of the call.
    let state = regex::Regex::new(r#""configurationStateId": "\d+""#).unwrap();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "manifest.json" {
            continue;
        }
        let (stem, region) = {
            let base = name.strip_suffix(".json").unwrap();
            let (stem, region) = base.rsplit_once('.').unwrap();
            (stem.to_owned(), region.to_owned())
        };
        let args = cli_args(&stem, &out, &region);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut expected = aws(&env, &region, &args);
        let mut got = std::fs::read_to_string(&path).unwrap();
        if stem == "config-batch-get" {
            // moto stamps each configuration item with the time of the call.
            expected = state.replace_all(&expected, "STATE").into_owned();
            got = state.replace_all(&got, "STATE").into_owned();
        }
        assert_eq!(got, expected, "{name} differs from `aws {}`", args.join(" "));
        compared += 1;
    }
    assert!(compared >= 2 * 20 + 4, "only {compared} files");

    // The files read as an inventory, and the clean-account check sees what was made by hand.
    let o = driftlock(&["clean-account", "--format", "json", "--preset", "aws", "--inventory", out.to_str().unwrap()]);
    let r = json(&o);
    assert_eq!(code(&o), 1, "{r:#}");
    let not_clean: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "non-clean-account")
        .filter_map(|f| f["cloud_id"].as_str())
        .collect();
    assert!(not_clean.iter().any(|id| id.contains(":role/app-5")), "{not_clean:?}");
    assert!(not_clean.iter().any(|id| id.ends_with(":::collect-two")), "{not_clean:?}");
    assert_eq!(not_clean.iter().filter(|id| id.contains(":vpc/")).count(), 14, "{not_clean:?}");
}

#[test]
fn a_denied_call_is_a_named_gap_and_the_clean_account_check_refuses_to_pass() {
    if tools_missing("a_denied_call_is_a_named_gap_and_the_clean_account_check_refuses_to_pass") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // moto enforces IAM after its first three actions: create a user with every right but
    // ec2:DescribeSubnets, then collect with its keys.
    let moto = Server::start(tmp.path(), &[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let admin = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(&admin, "us-east-1", &["iam", "create-user", "--user-name", "collector"]);
    let key: Value =
        serde_json::from_str(&aws(&admin, "us-east-1", &["iam", "create-access-key", "--user-name", "collector"]))
            .unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:DescribeSubnets","Resource":"*"}]}"#;
    aws(
        &admin,
        "us-east-1",
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            "collector",
            "--policy-name",
            "all-but-subnets",
            "--policy-document",
            policy,
        ],
    );
    let (id, secret) =
        (key["AccessKey"]["AccessKeyId"].as_str().unwrap(), key["AccessKey"]["SecretAccessKey"].as_str().unwrap());
    let env = aws_env(tmp.path(), &moto.endpoint(), (id, secret));
    let out = tmp.path().join("inv");
    let o = collect(&env, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "a collection with a gap is not a success: {}", stderr(&o));
    assert!(stderr(&o).contains("ec2:DescribeSubnets in us-east-1"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(secret), "the secret key never appears");
    let m = manifest(&out);
    let errors = m["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{m:#}");
    assert_eq!(errors[0]["call"], "ec2:DescribeSubnets");
    assert_eq!(errors[0]["action"], "ec2:DescribeSubnets");
    assert_eq!(errors[0]["region"], "us-east-1");
    assert_eq!(errors[0]["denied"], true);
    assert_eq!(errors[0]["code"], "AccessDenied");
    assert!(!out.join("ec2-describe-subnets.us-east-1.json").exists(), "a denied listing is never written as empty");
    assert!(out.join("ec2-describe-vpcs.us-east-1.json").exists());

    // Scanning the folder: exit 2, the gap named with the call, region and action.
    for cmd in [vec!["clean-account", "--preset", "aws"], vec!["scan"]] {
        let mut args = cmd.clone();
        args.extend(["--format", "json", "--inventory", out.to_str().unwrap()]);
        let o = driftlock(&args);
        let r = json(&o);
        assert_eq!(code(&o), 2, "{cmd:?}: {r:#}");
        let gap = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["message"].as_str().unwrap_or("").contains("ec2:DescribeSubnets in us-east-1"))
            .unwrap_or_else(|| panic!("{cmd:?}: no gap named in {:#}", r["errors"]));
        assert_eq!(gap["code"], "DL0014");
        assert!(gap["help"].as_str().unwrap().contains("grant ec2:DescribeSubnets"), "{gap}");
        assert!(gap["file"].as_str().unwrap().ends_with("manifest.json"), "{gap}");
    }
}

/// A loopback proxy in front of moto that answers the first `throttle` requests with
/// `400 ThrottlingException` (JSON protocol), then forwards each request to moto.
fn throttling_proxy(upstream: u16, throttle: usize) -> (u16, Arc<AtomicUsize>) {
    let (port, seen, _) = proxy(upstream, throttle);
    (port, seen)
}

/// The requests a [`proxy`] received, head and body, as sent.
type Recorded = Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// [`throttling_proxy`], also keeping every request it received.
fn proxy(upstream: u16, throttle: usize) -> (u16, Arc<AtomicUsize>, Recorded) {
    proxy_with(upstream, throttle, Arc::new(|_: &[u8]| {}))
}

/// What a [`proxy_with`] does with each request before it forwards it.
type Hook = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// What a [`proxy_rewriting`] does to each response (given the request): the response to send.
type Rewrite = Arc<dyn Fn(&[u8], Vec<u8>) -> Vec<u8> + Send + Sync>;

/// [`proxy`], running `hook` on each request (as received) before forwarding it.
fn proxy_with(upstream: u16, throttle: usize, hook: Hook) -> (u16, Arc<AtomicUsize>, Recorded) {
    proxy_rewriting(upstream, throttle, hook, Arc::new(|_: &[u8], response: Vec<u8>| response))
}

/// [`proxy_with`], passing each of the upstream's responses through `rewrite`.
fn proxy_rewriting(upstream: u16, throttle: usize, hook: Hook, rewrite: Rewrite) -> (u16, Arc<AtomicUsize>, Recorded) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let Some(request) = read_request(&mut client) else { continue };
            kept.lock().unwrap().push(request.clone());
            if n < throttle {
                let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                let _ = write!(
                    client,
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            hook(&request);
            let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
            // One request per connection both ways.
            let text = String::from_utf8_lossy(&request).replacen("\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1);
            let _ = up.write_all(text.as_bytes());
            let mut response = Vec::new();
            let _ = up.read_to_end(&mut response);
            let _ = client.write_all(&rewrite(&request, response));
        }
    });
    (port, seen, requests)
}

/// The `X-Amz-Target` and the JSON body of a recorded request.
fn target_and_body(request: &[u8]) -> (String, Value) {
    let text = String::from_utf8_lossy(request);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let target = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")).map(|(_, v)| v.trim()))
        .unwrap_or("")
        .to_owned();
    (target, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            // Drop keep-alive: the proxy closes each connection.
            let text = String::from_utf8_lossy(&buf).replace("connection: keep-alive\r\n", "");
            return Some(text.into_bytes());
        }
    }
}

#[test]
fn throttling_is_retried_with_backoff_and_exhausted_retries_are_a_gap() {
    if tools_missing("throttling_is_retried_with_backoff_and_exhausted_retries_are_a_gap") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(
        &env,
        "us-east-1",
        &[
            "ec2",
            "create-vpc",
            "--cidr-block",
            "10.9.0.0/16",
            "--tag-specifications",
            "ResourceType=vpc,Tags=[{Key=team,Value=red}]",
        ],
    );

    // Throttled twice, then served: retried, and the file is what the CLI prints.
    let (port, seen) = throttling_proxy(moto.port, 2);
    let mut env2 = env.clone();
    env2.push(("AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API".into(), format!("http://127.0.0.1:{port}")));
    let out = tmp.path().join("inv");
    let o = collect(&env2, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(seen.load(Ordering::SeqCst), 3, "two throttled attempts and one served");
    let m = manifest(&out);
    assert!(m["retries"].as_u64().unwrap() >= 2, "{m:#}");
    let got = std::fs::read_to_string(out.join("tagging-get-resources.us-east-1.json")).unwrap();
    assert_eq!(got, aws(&env, "us-east-1", &["resourcegroupstaggingapi", "get-resources"]));
    assert!(got.contains("team"));

    // Always throttled: AWS_MAX_ATTEMPTS (4) attempts, then a gap that is not a denial.
    let (port, seen) = throttling_proxy(moto.port, usize::MAX);
    let mut env3 = env.clone();
    env3.push(("AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API".into(), format!("http://127.0.0.1:{port}")));
    let out = tmp.path().join("inv2");
    let o = collect(&env3, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(seen.load(Ordering::SeqCst), 4);
    let m = manifest(&out);
    let e = &m["errors"][0];
    assert_eq!(
        (e["call"].as_str(), e["code"].as_str(), e["denied"].as_bool()),
        (Some("tag:GetResources"), Some("ThrottlingException"), Some(false)),
        "{m:#}"
    );
}

#[test]
fn a_scan_of_the_collected_files_equals_the_live_scan() {
    if tools_missing("a_scan_of_the_collected_files_equals_the_live_scan") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(
        &env,
        "us-west-2",
        &[
            "ec2",
            "create-vpc",
            "--cidr-block",
            "10.8.0.0/16",
            "--tag-specifications",
            "ResourceType=vpc,Tags=[{Key=team,Value=red}]",
        ],
    );
    aws(&env, "us-east-1", &["s3api", "create-bucket", "--bucket", "live-bucket"]);
    let out = tmp.path().join("inv");
    let o = collect(&env, &["collect", "aws", "--regions", "us-east-1,us-west-2", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dir = out.to_str().unwrap().to_owned();
    for cmd in ["scan", "clean-account"] {
        let from_files = collect(&env, &[cmd, "--format", "json", "--inventory", &dir]);
        let live = collect(&env, &[cmd, "--format", "json", "--inventory", "aws://live?regions=us-east-1,us-west-2"]);
        assert_eq!(code(&from_files), code(&live), "{cmd}: {}", stderr(&live));
        let norm = |o: &Output, prefix: &str| {
            let text = stdout(o).replace(prefix, "DIR");
            let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            for k in ["generated_at", "started_at", "duration_ms", "run"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v["inputs"] = Value::Null;
            v
        };
        let a = norm(&from_files, &format!("{dir}/"));
        let b = norm(&live, "aws://live/");
        assert_eq!(a["findings"], b["findings"], "{cmd}");
        assert_eq!(a["summary"], b["summary"], "{cmd}");
        assert_eq!(a["errors"], b["errors"], "{cmd}");
        assert!(!a["findings"].as_array().unwrap().is_empty() || cmd == "scan", "{cmd}: {a:#}");
    }
}

/// `--regions all` asks ec2:DescribeRegions and collects in every region it lists; progress
/// goes to stderr, one line per call with `--progress always` when stderr is not a terminal,
/// and nothing with the default (`auto`) or `never`.
#[test]
fn regions_all_follows_describe_regions_and_progress_is_on_stderr() {
    if tools_missing("regions_all_follows_describe_regions_and_progress_is_on_stderr") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    let listed: Value = serde_json::from_str(&aws(&env, "us-east-1", &["ec2", "describe-regions"])).unwrap();
    let mut enabled: Vec<String> =
        listed["Regions"].as_array().unwrap().iter().map(|r| r["RegionName"].as_str().unwrap().to_owned()).collect();
    enabled.sort();
    assert!(enabled.len() > 2, "{enabled:?}");

    let out = tmp.path().join("all");
    let o =
        collect(&env, &["collect", "aws", "--regions", "all", "--progress", "always", "--out", out.to_str().unwrap()]);
    assert!(o.stdout.is_empty(), "progress never goes to stdout: {}", stdout(&o));
    let m = manifest(&out);
    // moto's tagging API answers HTTP 500 in the regions it lacks: gaps, named, and exit 2 —
    // the aws CLI gets the same answer there.
    let errors = m["errors"].as_array().unwrap();
    assert_eq!(code(&o), if errors.is_empty() { 0 } else { 2 }, "{}", stderr(&o));
    for e in errors {
        assert_eq!((e["call"].as_str(), e["status"].as_u64()), (Some("tag:GetResources"), Some(500)), "{e}");
        assert!(stderr(&o).contains(&format!("coverage gap: tag:GetResources in {}", e["region"].as_str().unwrap())));
    }
    if let Some(e) = errors.first() {
        let cli = Command::new("aws")
            .args(["resourcegroupstaggingapi", "get-resources", "--region", e["region"].as_str().unwrap()])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        assert!(!cli.status.success(), "the aws CLI reads what driftlock could not: {e}");
    }
    assert_eq!(m["regions"], serde_json::json!(enabled));
    let calls = m["calls"].as_array().unwrap();
    for region in &enabled {
        assert!(calls.iter().any(|c| c["call"] == "ec2:DescribeVpcs" && c["region"] == *region), "{region}");
    }
    // One progress line per listing (Config's batch reads come on top), counting up to the
    // total, with the running figures of the call's region.
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("driftlock: collecting ")).collect();
    let regional = calls.iter().filter(|c| c["region"] == enabled[0].as_str()).count();
    assert!(
        lines.len() >= enabled.len() * (regional - 1) && lines.len() <= calls.len() + errors.len(),
        "{} lines",
        lines.len()
    );
    let last = format!("collecting {n}/{n} calls", n = lines.len());
    assert!(lines.iter().any(|l| l.contains(&last)), "no `{last}` in {err}");
    for region in &enabled {
        assert!(lines.iter().any(|l| l.contains(&format!(" · {region}: "))), "{region}: {err}");
    }

    // A list: sorted and deduplicated; a malformed one is refused before any call.
    let out = tmp.path().join("list");
    let o = collect(
        &env,
        &[
            "collect",
            "aws",
            "--regions",
            "us-west-2,us-east-1,us-west-2",
            "--progress",
            "never",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("driftlock: collecting "), "{}", stderr(&o));
    assert_eq!(manifest(&out)["regions"], serde_json::json!(REGIONS));
    let o = collect(&env, &["collect", "aws", "--regions", "useast", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--regions"), "{}", stderr(&o));

    // The default, `auto`: no progress when stderr is not a terminal.
    let o = collect(&env, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("driftlock: collecting "), "{}", stderr(&o));
}

/// `--profile NAME` reads the shared config and credentials files: static keys, and a profile
/// that assumes a role from another (moto's STS); the manifest names the identity.
#[test]
fn profile_reads_the_shared_files_and_the_manifest_names_the_identity() {
    if tools_missing("profile_reads_the_shared_files_and_the_manifest_names_the_identity") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let config = tmp.path().join("config");
    let credentials = tmp.path().join("credentials");
    std::fs::write(
        &config,
        "[profile audit]\nregion = us-east-1\n\n[profile cross]\nregion = us-east-1\nrole_arn = arn:aws:iam::222222222222:role/auditor\nsource_profile = audit\n",
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[audit]\naws_access_key_id = AKIAPROFILEAUDIT\naws_secret_access_key = profile-secret-never-printed\n",
    )
    .unwrap();
    // No keys in the environment: only the files.
    let mut env: Vec<(String, String)> = aws_env(tmp.path(), &moto.endpoint(), ("", ""))
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY_ID") && !k.starts_with("AWS_SECRET_ACCESS_KEY"))
        .filter(|(k, _)| k != "AWS_CONFIG_FILE" && k != "AWS_SHARED_CREDENTIALS_FILE")
        .collect();
    env.push(("AWS_CONFIG_FILE".into(), config.display().to_string()));
    env.push(("AWS_SHARED_CREDENTIALS_FILE".into(), credentials.display().to_string()));
    let run = |extra: &[&str], dir: &str| {
        let out = tmp.path().join(dir);
        let mut args = vec!["collect", "aws", "--regions", "us-east-1"];
        args.extend_from_slice(extra);
        let out_s = out.to_str().unwrap().to_owned();
        args.extend_from_slice(&["--out", &out_s]);
        let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
        cmd.current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
        cmd.env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let o = cmd.args(&args).output().unwrap();
        assert!(!(stdout(&o) + &stderr(&o)).contains("profile-secret-never-printed"));
        (o, out)
    };

    let (o, out) = run(&["--profile", "audit"], "audit");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["account"], "123456789012");
    assert!(m["identity"].as_str().unwrap().starts_with("arn:aws:"), "{m:#}");

    // The profile that assumes a role in another account: collected as that role.
    let (o, out) = run(&["--profile", "cross"], "cross");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["account"], "222222222222", "{m:#}");
    assert!(m["identity"].as_str().unwrap().starts_with("arn:aws:sts::222222222222:assumed-role/auditor/"), "{m:#}");

    // Neither the default profile nor keys: no credentials, exit 2 before any listing.
    let (o, out) = run(&[], "none");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("credentials") || stderr(&o).contains("GetCallerIdentity"), "{}", stderr(&o));
    assert!(!out.join("manifest.json").exists());
}

/// `--role-arn` assumes the role (moto's STS) and collects as it: the manifest names the
/// assumed role's account and session.
#[test]
fn role_arn_collects_as_the_assumed_role() {
    if tools_missing("role_arn_collects_as_the_assumed_role") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    // Something in the target account, made as that account.
    let assumed: Value = serde_json::from_str(&aws(
        &env,
        "us-east-1",
        &["sts", "assume-role", "--role-arn", "arn:aws:iam::111111111111:role/setup", "--role-session-name", "setup"],
    ))
    .unwrap();
    let c = &assumed["Credentials"];
    let mut target = aws_env(
        tmp.path(),
        &moto.endpoint(),
        (c["AccessKeyId"].as_str().unwrap(), c["SecretAccessKey"].as_str().unwrap()),
    );
    target.push(("AWS_SESSION_TOKEN".into(), c["SessionToken"].as_str().unwrap().into()));
    aws(&target, "us-east-1", &["s3api", "create-bucket", "--bucket", "only-in-111111111111"]);

    let out = tmp.path().join("inv");
    let role = "arn:aws:iam::111111111111:role/driftlock-readonly";
    let o = collect(
        &env,
        &["collect", "aws", "--regions", "us-east-1", "--role-arn", role, "--out", out.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("of account 111111111111"), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["account"], "111111111111");
    assert_eq!(m["identity"], "arn:aws:sts::111111111111:assumed-role/driftlock-readonly/driftlock-collect");
    let buckets = std::fs::read_to_string(out.join("s3api-list-buckets.us-east-1.json")).unwrap();
    assert!(buckets.contains("only-in-111111111111"), "{buckets}");

    // Without the role: the caller's own account, which does not hold that bucket.
    let out = tmp.path().join("own");
    let o = collect(&env, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(manifest(&out)["account"], "123456789012");
    let buckets = std::fs::read_to_string(out.join("s3api-list-buckets.us-east-1.json")).unwrap();
    assert!(!buckets.contains("only-in-111111111111"), "{buckets}");
}

#[test]
fn config_aggregator_sends_what_the_aws_cli_sends_and_a_failed_query_is_a_named_gap() {
    // moto implements `PutConfigurationAggregator` but answers `SelectAggregateResourceConfig`
    // with HTTP 500: what can be checked against real parts is the request (the same operation
    // and body the aws CLI sends) and that the failure blocks, naming the call and the action.
    let test = "config_aggregator_sends_what_the_aws_cli_sends_and_a_failed_query_is_a_named_gap";
    if tools_missing(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(
        &env,
        "us-east-1",
        &[
            "configservice",
            "put-configuration-aggregator",
            "--configuration-aggregator-name",
            "org",
            "--account-aggregation-sources",
            "AccountIds=123456789012,AllAwsRegions=true",
        ],
    );
    let (port, _, requests) = proxy(moto.port, 0);
    let mut penv = env.clone();
    penv.push(("AWS_ENDPOINT_URL_CONFIG_SERVICE".into(), format!("http://127.0.0.1:{port}")));
    penv.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));

    let out = tmp.path().join("inv");
    let o = collect(
        &penv,
        &["collect", "aws", "--regions", "us-east-1", "--config-aggregator", "org", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code(&o), 2, "the aggregator's query failed: {}", stderr(&o));
    let m = manifest(&out);
    let failed: Vec<&Value> = m["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["call"] == "config:SelectAggregateResourceConfig")
        .collect();
    assert_eq!(failed.len(), 1, "{m:#}");
    assert_eq!(failed[0]["denied"], false, "a server error is not a denial: {m:#}");

    // The bodies of the `SelectAggregateResourceConfig` requests among `recorded`.
    let queries = |recorded: &[Vec<u8>]| -> Vec<Value> {
        recorded
            .iter()
            .map(|r| target_and_body(r))
            .filter(|(t, _)| t == "StarlingDoveService.SelectAggregateResourceConfig")
            .map(|(_, b)| b)
            .collect()
    };
    let ours = queries(&requests.lock().unwrap());
    assert_eq!(ours.len(), 1, "one attempt (AWS_MAX_ATTEMPTS=1)");
    let expression = ours[0]["Expression"].as_str().expect("an Expression").to_owned();
    assert_eq!(ours[0]["ConfigurationAggregatorName"], "org");
    assert!(expression.starts_with("SELECT ") && expression.contains("configuration"), "{expression}");

    // The aws CLI, asked the same question through the same proxy, sends the same body.
    let before = requests.lock().unwrap().len();
    let cli = Command::new("aws")
        .args([
            "configservice",
            "select-aggregate-resource-config",
            "--configuration-aggregator-name",
            "org",
            "--expression",
            &expression,
            "--region",
            "us-east-1",
            "--no-paginate",
        ])
        .envs(penv.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run aws");
    assert!(!cli.status.success(), "moto does not implement it (if it now does, test the response too)");
    let theirs = queries(&requests.lock().unwrap()[before..]);
    assert_eq!(theirs.len(), 1, "{}", String::from_utf8_lossy(&cli.stderr));
    assert_eq!(ours[0], theirs[0], "driftlock's request body is the aws CLI's");

    // The scan of what was collected refuses to pass on the gap.
    let o = collect(&penv, &["scan", "--inventory", out.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let gap = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().is_some_and(|m| m.contains("SelectAggregateResourceConfig")))
        .unwrap_or_else(|| panic!("no gap for the aggregator: {report:#}"));
    assert_eq!(gap["code"], "DL0014", "{gap}");
}

/// A v4 state managing `(terraform type, name, attributes)`.
fn state_text(instances: &[(&str, &str, Value)]) -> String {
    let resources: Vec<Value> = instances
        .iter()
        .map(|(t, name, attrs)| {
            serde_json::json!({
                "mode": "managed",
                "type": t,
                "name": name,
                "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{"schema_version": 0, "attributes": attrs}]
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": "aggregate-list",
        "outputs": {},
        "resources": resources
    }))
    .unwrap()
}

fn bucket_state(name: &str, region: &str, tags: Value) -> Value {
    serde_json::json!({"id": name, "bucket": name, "arn": format!("arn:aws:s3:::{name}"), "region": region, "tags": tags, "tags_all": tags})
}

fn role_state(account: &str, name: &str) -> Value {
    serde_json::json!({"id": name, "name": name, "arn": format!("arn:aws:iam::{account}:role/{name}"), "path": "/", "tags": {}, "tags_all": {}})
}

/// The cloud ids of a report's findings of one kind, sorted.
fn ids_of(r: &Value, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f["cloud_id"].as_str().unwrap_or("").to_owned())
        .collect();
    v.sort();
    v
}

/// moto stamps each configuration item with the time of the call: the text without it, parsed.
fn without_state_ids(text: &str) -> Value {
    let re = regex::Regex::new(r#""configurationStateId": "\d+""#).unwrap();
    serde_json::from_str(&re.replace_all(text, r#""configurationStateId": "STATE""#)).unwrap()
}

#[test]
fn config_aggregator_list_reads_every_account_and_region_as_the_aws_cli_prints() {
    // `--config-aggregator-api list`: ListAggregateDiscoveredResources (paged) for each Config
    // type, then BatchGetAggregateResourceConfig, both answered by moto for real.
    let test = "config_aggregator_list_reads_every_account_and_region_as_the_aws_cli_prints";
    if tools_missing(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(
        &env,
        "us-east-1",
        &[
            "configservice",
            "put-configuration-aggregator",
            "--configuration-aggregator-name",
            "org",
            "--account-aggregation-sources",
            "AccountIds=123456789012,AwsRegions=us-east-1,us-west-2",
        ],
    );
    // Buckets in both regions (only moto's Config queries for S3, IAM roles and policies and
    // SNS topics answer aggregate calls), two roles.
    for (bucket, region) in [
        ("agg-east-kept", "us-east-1"),
        ("agg-east-extra", "us-east-1"),
        ("agg-west-kept", "us-west-2"),
        ("agg-west-extra", "us-west-2"),
    ] {
        let mut args = vec!["s3api", "create-bucket", "--bucket", bucket];
        if region != "us-east-1" {
            args.extend(["--create-bucket-configuration", "LocationConstraint=us-west-2"]);
        }
        aws(&env, region, &args);
    }
    aws(
        &env,
        "us-east-1",
        &["s3api", "put-bucket-tagging", "--bucket", "agg-east-kept", "--tagging", "TagSet=[{Key=team,Value=blue}]"],
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for role in ["agg-kept", "agg-extra"] {
        aws(&env, "us-east-1", &["iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust]);
    }

    let out = tmp.path().join("inv");
    let collect_args = |dir: &Path, api: &str, aggregator: &str| -> Vec<String> {
        [
            "collect",
            "aws",
            "--regions",
            "us-east-1",
            "--config-aggregator",
            aggregator,
            "--config-aggregator-api",
            api,
            "--page-size",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let args = collect_args(&out, "list", "org");
    let o = collect(&env, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["errors"], serde_json::json!([]), "{m:#}");
    let calls = m["calls"].as_array().unwrap();
    let listed: Vec<&Value> = calls.iter().filter(|c| c["call"] == "config:ListAggregateDiscoveredResources").collect();
    assert_eq!(listed.len(), CONFIG.len(), "one listing per Config type: {m:#}");
    for (slug, _) in CONFIG {
        let file = format!("config-list-aggregate-discovered-{slug}.us-east-1.json");
        let c = listed.iter().find(|c| c["file"] == file.as_str()).unwrap_or_else(|| panic!("{file}: {m:#}"));
        assert_eq!(c["region"], "us-east-1");
    }
    let call_of = |file: &str| listed.iter().find(|c| c["file"] == file).unwrap();
    // Page size 1: four buckets are four pages; two roles in two regions, four.
    let s3 = call_of("config-list-aggregate-discovered-s3.us-east-1.json");
    assert_eq!((s3["records"].as_u64(), s3["pages"].as_u64()), (Some(4), Some(4)), "{s3}");
    let roles = call_of("config-list-aggregate-discovered-iam-role.us-east-1.json");
    assert_eq!((roles["records"].as_u64(), roles["pages"].as_u64()), (Some(4), Some(4)), "{roles}");
    assert!(!calls.iter().any(|c| c["call"] == "config:SelectAggregateResourceConfig"), "{m:#}");
    let batch: Vec<&Value> = calls.iter().filter(|c| c["call"] == "config:BatchGetAggregateResourceConfig").collect();
    assert_eq!(batch.len(), 1, "{m:#}");
    assert_eq!(batch[0]["file"], "config-batch-get-aggregate.us-east-1.json");

    // Each listing is what the aws CLI prints for the same request; the identifiers, in the
    // order listed, are what the batch read asks for, and its file is the CLI's answer.
    let mut identifiers: Vec<Value> = Vec::new();
    for (slug, t) in CONFIG {
        let file = out.join(format!("config-list-aggregate-discovered-{slug}.us-east-1.json"));
        let got: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let cli = aws(
            &env,
            "us-east-1",
            &[
                "configservice",
                "list-aggregate-discovered-resources",
                "--configuration-aggregator-name",
                "org",
                "--resource-type",
                t,
                "--page-size",
                "1",
            ],
        );
        assert_eq!(got, serde_json::from_str::<Value>(&cli).unwrap(), "{slug}");
        identifiers.extend(got["ResourceIdentifiers"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(batch[0]["records"].as_u64(), Some(identifiers.len() as u64), "{m:#}");
    let regions: std::collections::BTreeSet<&str> =
        identifiers.iter().filter_map(|i| i["SourceRegion"].as_str()).collect();
    assert_eq!(regions, std::collections::BTreeSet::from(["us-east-1", "us-west-2"]), "both regions, from us-east-1");
    let cli = aws(
        &env,
        "us-east-1",
        &[
            "configservice",
            "batch-get-aggregate-resource-config",
            "--configuration-aggregator-name",
            "org",
            "--resource-identifiers",
            &serde_json::to_string(&identifiers).unwrap(),
        ],
    );
    let got = std::fs::read_to_string(out.join("config-batch-get-aggregate.us-east-1.json")).unwrap();
    assert_eq!(without_state_ids(&got), without_state_ids(&cli));
    assert_eq!(without_state_ids(&got)["UnprocessedResourceIdentifiers"], serde_json::json!([]));

    // A state managing one bucket per region and a role; a bucket and a role it manages are
    // gone; a role of another account the aggregator does not aggregate.
    let state = tmp.path().join("aggregate.tfstate");
    std::fs::write(
        &state,
        state_text(&[
            ("aws_s3_bucket", "east", bucket_state("agg-east-kept", "us-east-1", serde_json::json!({"team": "red"}))),
            ("aws_s3_bucket", "west", bucket_state("agg-west-kept", "us-west-2", serde_json::json!({}))),
            ("aws_s3_bucket", "gone", bucket_state("agg-gone", "us-west-2", serde_json::json!({}))),
            ("aws_iam_role", "kept", role_state("123456789012", "agg-kept")),
            ("aws_iam_role", "gone", role_state("123456789012", "agg-gone")),
            ("aws_iam_role", "elsewhere", role_state("999999999999", "agg-elsewhere")),
        ]),
    )
    .unwrap();
    let unmanaged =
        ["arn:aws:iam::123456789012:role/agg-extra", "arn:aws:s3:::agg-east-extra", "arn:aws:s3:::agg-west-extra"];
    let scan_of = |inventory: &str| {
        let o =
            collect(&env, &["scan", "--format", "json", "--state", state.to_str().unwrap(), "--inventory", inventory]);
        let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        (code(&o), r)
    };

    // The aggregator's two files alone: what they list, where they say it is.
    let only = tmp.path().join("aggregate-only");
    std::fs::create_dir(&only).unwrap();
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("config-list-aggregate-discovered-") || name.starts_with("config-batch-get-aggregate.") {
            std::fs::copy(&p, only.join(&name)).unwrap();
        }
    }
    let (rc, r) = scan_of(only.to_str().unwrap());
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(ids_of(&r, "unmanaged"), unmanaged, "{r:#}");
    // Missing where the aggregator vouches: buckets, and roles of the account it aggregates —
    // not the role of an account it does not.
    assert_eq!(ids_of(&r, "missing"), ["arn:aws:iam::123456789012:role/agg-gone", "arn:aws:s3:::agg-gone"], "{r:#}");
    // Its configuration items carry no tags: the bucket's changed tag is not claimed by it.
    assert_eq!(ids_of(&r, "drifted"), Vec::<String>::new(), "{r:#}");
    for f in r["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "unmanaged") {
        assert_eq!(f["account"], "123456789012", "{f}");
    }
    // Each resource where its own record places it, not where the files were collected from.
    let outcome = driftlock::scan::scan(&driftlock::scan::ScanOptions {
        inputs: vec![driftlock::ingest::InputArg { path: only.clone(), role: driftlock::ingest::Role::Inventory }],
        ..driftlock::scan::ScanOptions::default()
    });
    let inv = &outcome.estate.inventory;
    let place = |id: &str| {
        let r = inv.resources.iter().find(|r| r.cloud_id == id).unwrap_or_else(|| panic!("{id} not in the inventory"));
        (r.region.clone(), r.account.clone())
    };
    let acct = Some("123456789012".to_owned());
    assert_eq!(place("arn:aws:s3:::agg-west-extra"), (Some("us-west-2".into()), acct.clone()));
    assert_eq!(place("arn:aws:s3:::agg-east-extra"), (Some("us-east-1".into()), acct.clone()));
    assert_eq!(place("arn:aws:iam::123456789012:role/agg-extra"), (None, acct.clone()));
    assert_eq!(inv.resources.iter().filter(|r| r.cloud_id == "arn:aws:iam::123456789012:role/agg-extra").count(), 1);
    let vouched: std::collections::BTreeSet<(String, Option<String>)> =
        inv.coverage.iter().map(|c| (c.cloud_type.as_deref().unwrap_or("").to_owned(), c.account.clone())).collect();
    assert_eq!(
        vouched,
        std::collections::BTreeSet::from([
            ("AWS::IAM::Role".to_owned(), acct.clone()),
            ("AWS::S3::Bucket".to_owned(), acct.clone())
        ]),
        "only the types it listed, in the account it listed them in"
    );

    // The whole folder: the same unmanaged resources, exit 1.
    let (rc, r) = scan_of(out.to_str().unwrap());
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(ids_of(&r, "unmanaged"), unmanaged, "{r:#}");

    // Collected live the same way (the same page size: moto's ListBuckets answers a page of one
    // bucket without a continuation token, to the aws CLI too): the same scan.
    let (live_rc, live) = scan_of("aws://live?regions=us-east-1&aggregator=org&aggregator_api=list&page_size=1");
    assert_eq!(live_rc, rc, "{live:#}");
    for k in ["findings", "errors"] {
        let norm = |v: &Value, prefix: &str| {
            let text = v[k].to_string().replace(prefix, "DIR");
            serde_json::from_str::<Value>(&text).unwrap()
        };
        assert_eq!(norm(&r, &format!("{}/", out.to_str().unwrap())), norm(&live, "aws://live/"), "{k}");
    }
    assert_eq!(r["summary"]["inventory"], live["summary"]["inventory"]);

    // An aggregator that does not exist: every listing fails, each a named gap; exit 2, and the
    // scan of the folder refuses to pass.
    let bad = tmp.path().join("bad");
    let args = collect_args(&bad, "list", "no-such-aggregator");
    let o = collect(&env, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("coverage gap: config:ListAggregateDiscoveredResources in us-east-1"),
        "{}",
        stderr(&o)
    );
    let m = manifest(&bad);
    let failed: Vec<&Value> = m["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["call"] == "config:ListAggregateDiscoveredResources")
        .collect();
    assert_eq!(failed.len(), CONFIG.len(), "{m:#}");
    assert!(
        failed.iter().all(|e| e["code"] == "NoSuchConfigurationAggregatorException" && e["denied"] == false),
        "{m:#}"
    );
    assert!(!bad.join("config-list-aggregate-discovered-s3.us-east-1.json").exists());
    assert!(!bad.join("config-batch-get-aggregate.us-east-1.json").exists());
    let o = collect(&env, &["scan", "--format", "json", "--inventory", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let gaps: Vec<&Value> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["message"].as_str().is_some_and(|m| m.contains("ListAggregateDiscoveredResources")))
        .collect();
    assert_eq!(gaps.len(), CONFIG.len(), "{r:#}");
    assert!(gaps.iter().all(|g| g["code"] == "DL0014"), "{r:#}");
}

#[test]
fn config_aggregator_list_retries_unprocessed_identifiers_then_names_them_a_gap() {
    // A bucket deleted between the listing and the batch read: moto leaves it in
    // UnprocessedResourceIdentifiers. driftlock asks again for it alone, then records it.
    let test = "config_aggregator_list_retries_unprocessed_identifiers_then_names_them_a_gap";
    if tools_missing(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    aws(
        &env,
        "us-east-1",
        &[
            "configservice",
            "put-configuration-aggregator",
            "--configuration-aggregator-name",
            "org",
            "--account-aggregation-sources",
            "AccountIds=123456789012,AwsRegions=us-east-1,us-west-2",
        ],
    );
    for bucket in ["agg-stays", "agg-doomed"] {
        aws(&env, "us-east-1", &["s3api", "create-bucket", "--bucket", bucket]);
    }
    // The first batch read deletes the bucket (straight at moto) before moto answers it.
    let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (direct, flag) = (env.clone(), fired.clone());
    let hook: Hook = Arc::new(move |request: &[u8]| {
        let (target, _) = target_and_body(request);
        if target.ends_with(".BatchGetAggregateResourceConfig") && !flag.swap(true, Ordering::SeqCst) {
            aws(&direct, "us-east-1", &["s3api", "delete-bucket", "--bucket", "agg-doomed"]);
        }
    });
    let (port, _, requests) = proxy_with(moto.port, 0, hook);
    let mut penv = env.clone();
    penv.push(("AWS_ENDPOINT_URL_CONFIG_SERVICE".into(), format!("http://127.0.0.1:{port}")));
    penv.push(("AWS_MAX_ATTEMPTS".into(), "3".into()));
    let out = tmp.path().join("inv");
    let o = collect(
        &penv,
        &[
            "collect",
            "aws",
            "--regions",
            "us-east-1",
            "--config-aggregator",
            "org",
            "--config-aggregator-api",
            "list",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2, "an identifier left unprocessed is a gap: {}", stderr(&o));
    assert!(fired.load(Ordering::SeqCst), "the batch read went through the proxy");
    assert!(
        stderr(&o)
            .contains("config:BatchGetAggregateResourceConfig in us-east-1 failed (UnprocessedResourceIdentifiers)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("config-batch-get-aggregate.us-east-1.json incomplete"), "{}", stderr(&o));

    // Three attempts (AWS_MAX_ATTEMPTS): all identifiers, then the unprocessed one alone.
    let asked: Vec<Vec<String>> = requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| target_and_body(r))
        .filter(|(t, _)| t.ends_with(".BatchGetAggregateResourceConfig"))
        .map(|(_, b)| {
            let mut ids: Vec<String> = b["ResourceIdentifiers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["ResourceId"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        })
        .collect();
    assert_eq!(asked, [vec!["agg-doomed", "agg-stays"], vec!["agg-doomed"], vec!["agg-doomed"]]);

    let m = manifest(&out);
    let errors = m["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{m:#}");
    let e = &errors[0];
    assert_eq!(
        (e["call"].as_str(), e["code"].as_str(), e["denied"].as_bool(), e["file"].as_str()),
        (
            Some("config:BatchGetAggregateResourceConfig"),
            Some("UnprocessedResourceIdentifiers"),
            Some(false),
            Some("config-batch-get-aggregate.us-east-1.json")
        ),
        "{m:#}"
    );
    let message = e["message"].as_str().unwrap();
    assert!(message.starts_with("1 of 2 resource identifiers stayed unprocessed after 3 attempts"), "{message}");
    assert!(message.contains("AWS::S3::Bucket agg-doomed (123456789012 us-east-1)"), "{message}");
    // What was read is written, with what was not.
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config-batch-get-aggregate.us-east-1.json")).unwrap())
            .unwrap();
    let read: Vec<&str> =
        file["BaseConfigurationItems"].as_array().unwrap().iter().filter_map(|i| i["resourceId"].as_str()).collect();
    assert_eq!(read, ["agg-stays"]);
    assert_eq!(file["UnprocessedResourceIdentifiers"][0]["ResourceId"], "agg-doomed");
    let batch = m["calls"].as_array().unwrap().iter().find(|c| c["call"] == "config:BatchGetAggregateResourceConfig");
    assert_eq!(batch.map(|c| (c["pages"].as_u64(), c["records"].as_u64())), Some((Some(3), Some(1))), "{m:#}");

    // The scan of the folder refuses to pass, naming the file as incomplete.
    let o = collect(&env, &["scan", "--format", "json", "--inventory", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let gap = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().is_some_and(|m| m.contains("BatchGetAggregateResourceConfig")))
        .unwrap_or_else(|| panic!("no gap: {r:#}"));
    assert_eq!(gap["code"], "DL0014", "{gap}");
    assert!(
        gap["message"].as_str().unwrap().contains("config-batch-get-aggregate.us-east-1.json is incomplete"),
        "{gap}"
    );
}

/// An HTTP/1.1 response's head and JSON body (moto answers with a `Content-Length`).
fn response_json(response: &[u8]) -> (String, Value) {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (head.to_owned(), serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The response with `body` in place of its own (the `Content-Length` set to match).
fn with_body(head: &str, body: &Value) -> Vec<u8> {
    let body = serde_json::to_string(body).unwrap();
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// The `resourceId`s a recorded `BatchGetResourceConfig` request asked for, sorted.
fn asked_keys(requests: &Recorded) -> Vec<Vec<String>> {
    requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| target_and_body(r))
        .filter(|(t, _)| t.ends_with(".BatchGetResourceConfig"))
        .map(|(_, b)| {
            let mut ids: Vec<String> = b["resourceKeys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["resourceId"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        })
        .collect()
}

#[test]
fn config_batch_get_retries_unprocessed_keys_then_names_them_a_gap() {
    // moto's BatchGetResourceConfig never leaves a key unprocessed (it says so in its source):
    // a loopback proxy in front of it moves one bucket's item of moto's real answer into
    // `unprocessedResourceKeys`, as AWS does with keys it could not read in time. Once: asked
    // again and read. Always: asked again up to AWS_MAX_ATTEMPTS, then a named gap.
    let test = "config_batch_get_retries_unprocessed_keys_then_names_them_a_gap";
    if tools_missing(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    for bucket in ["cfg-stays", "cfg-flaky"] {
        aws(&env, "us-east-1", &["s3api", "create-bucket", "--bucket", bucket]);
    }
    // `times`: how many of the batch reads leave the bucket unprocessed.
    let run = |dir: &str, times: usize| {
        let left = Arc::new(AtomicUsize::new(times));
        let rewrite: Rewrite = Arc::new(move |request: &[u8], response: Vec<u8>| {
            let (target, _) = target_and_body(request);
            if !target.ends_with(".BatchGetResourceConfig") || left.load(Ordering::SeqCst) == 0 {
                return response;
            }
            let (head, mut body) = response_json(&response);
            let items = body["baseConfigurationItems"].as_array_mut().unwrap();
            let Some(at) = items.iter().position(|i| i["resourceId"] == "cfg-flaky") else { return response };
            let item = items.remove(at);
            left.fetch_sub(1, Ordering::SeqCst);
            body["unprocessedResourceKeys"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"resourceType": item["resourceType"], "resourceId": item["resourceId"]}));
            with_body(&head, &body)
        });
        let (port, _, requests) = proxy_rewriting(moto.port, 0, Arc::new(|_: &[u8]| {}), rewrite);
        let mut penv = env.clone();
        penv.push(("AWS_ENDPOINT_URL_CONFIG_SERVICE".into(), format!("http://127.0.0.1:{port}")));
        penv.push(("AWS_MAX_ATTEMPTS".into(), "3".into()));
        let out = tmp.path().join(dir);
        let o = collect(&penv, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
        (o, out, requests)
    };
    let items_of = |out: &Path| -> (Vec<String>, Value) {
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config-batch-get.us-east-1.json")).unwrap())
                .unwrap();
        let mut read: Vec<String> = file["baseConfigurationItems"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["resourceId"].as_str())
            .filter(|id| id.starts_with("cfg-"))
            .map(str::to_owned)
            .collect();
        read.sort();
        (read, file["unprocessedResourceKeys"].clone())
    };
    let buckets_asked = |requests: &Recorded| -> Vec<Vec<String>> {
        asked_keys(requests)
            .into_iter()
            .map(|ids| ids.into_iter().filter(|id| id.starts_with("cfg-")).collect())
            .collect()
    };

    // Left unprocessed once: asked again alone, read; no gap.
    let (o, out, requests) = run("once", 1);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(buckets_asked(&requests), [vec!["cfg-flaky", "cfg-stays"], vec!["cfg-flaky"]]);
    let m = manifest(&out);
    assert_eq!(m["errors"], serde_json::json!([]), "{m:#}");
    assert!(m["retries"].as_u64().unwrap() >= 1, "{m:#}");
    assert_eq!(items_of(&out), (vec!["cfg-flaky".to_owned(), "cfg-stays".to_owned()], serde_json::json!([])));
    let batch = m["calls"].as_array().unwrap().iter().find(|c| c["call"] == "config:BatchGetResourceConfig").cloned();
    assert_eq!(batch.map(|c| c["pages"].as_u64()), Some(Some(2)), "{m:#}");

    // Always unprocessed: three attempts, then a gap; the file is written with what was read.
    let (o, out, requests) = run("always", usize::MAX);
    assert_eq!(code(&o), 2, "a key left unprocessed is a gap: {}", stderr(&o));
    assert_eq!(buckets_asked(&requests), [vec!["cfg-flaky", "cfg-stays"], vec!["cfg-flaky"], vec!["cfg-flaky"]]);
    assert!(
        stderr(&o).contains("config:BatchGetResourceConfig in us-east-1 failed (UnprocessedResourceKeys)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("config-batch-get.us-east-1.json incomplete"), "{}", stderr(&o));
    let m = manifest(&out);
    let errors = m["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{m:#}");
    let e = &errors[0];
    assert_eq!(
        (e["call"].as_str(), e["code"].as_str(), e["denied"].as_bool(), e["file"].as_str()),
        (
            Some("config:BatchGetResourceConfig"),
            Some("UnprocessedResourceKeys"),
            Some(false),
            Some("config-batch-get.us-east-1.json")
        ),
        "{m:#}"
    );
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains(" resource keys stayed unprocessed after 3 attempts: AWS::S3::Bucket cfg-flaky"),
        "{message}"
    );
    assert!(message.starts_with("1 of "), "{message}");
    let (read, left) = items_of(&out);
    assert_eq!(read, ["cfg-stays"]);
    assert_eq!(left, serde_json::json!([{"resourceType": "AWS::S3::Bucket", "resourceId": "cfg-flaky"}]));

    // The scan of the folder refuses to pass, naming the file as incomplete.
    let o = collect(&env, &["scan", "--format", "json", "--inventory", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let gap = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().is_some_and(|m| m.contains("BatchGetResourceConfig")))
        .unwrap_or_else(|| panic!("no gap: {r:#}"));
    assert_eq!(gap["code"], "DL0014", "{gap}");
    assert!(gap["message"].as_str().unwrap().contains("config-batch-get.us-east-1.json is incomplete"), "{gap}");
}

fn user_state(account: &str, name: &str) -> Value {
    serde_json::json!({"id": name, "name": name, "arn": format!("arn:aws:iam::{account}:user/{name}"), "path": "/", "tags": {}, "tags_all": {}})
}

#[test]
fn a_collect_folder_vouches_only_for_the_account_its_manifest_names() {
    // The manifest says the folder is account 123456789012's: its listings say nothing about a
    // role or user of account 999999999999 (unverified), and a deleted one of 123456789012 is
    // missing. The user listing is empty: only the manifest tells its account.
    let test = "a_collect_folder_vouches_only_for_the_account_its_manifest_names";
    if tools_missing(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Server::start(tmp.path(), &[]);
    let env = aws_env(tmp.path(), &moto.endpoint(), ("test", "test"));
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws(&env, "us-east-1", &["iam", "create-role", "--role-name", "kept", "--assume-role-policy-document", trust]);
    let out = tmp.path().join("inv");
    let o = collect(&env, &["collect", "aws", "--regions", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(manifest(&out)["account"], "123456789012");
    let users: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("iam-list-users.us-east-1.json")).unwrap()).unwrap();
    assert_eq!(users["Users"], serde_json::json!([]), "the user listing is empty");

    let state = tmp.path().join("roles.tfstate");
    std::fs::write(
        &state,
        state_text(&[
            ("aws_iam_role", "kept", role_state("123456789012", "kept")),
            ("aws_iam_role", "gone", role_state("123456789012", "gone")),
            ("aws_iam_role", "elsewhere", role_state("999999999999", "elsewhere")),
            ("aws_iam_user", "gone", user_state("123456789012", "gone-user")),
            ("aws_iam_user", "elsewhere", user_state("999999999999", "elsewhere-user")),
        ]),
    )
    .unwrap();
    let scan_of = |inventory: &str| {
        let o =
            collect(&env, &["scan", "--format", "json", "--state", state.to_str().unwrap(), "--inventory", inventory]);
        let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        (code(&o), r)
    };
    let (rc, r) = scan_of(out.to_str().unwrap());
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(
        ids_of(&r, "missing"),
        ["arn:aws:iam::123456789012:role/gone", "arn:aws:iam::123456789012:user/gone-user"],
        "{r:#}"
    );
    assert_eq!(r["summary"]["inventory"]["unverified"], 2, "the other account's role and user: {r:#}");
    // The same in memory.
    let (live_rc, live) = scan_of("aws://live?regions=us-east-1");
    assert_eq!(live_rc, rc, "{live:#}");
    assert_eq!(ids_of(&live, "missing"), ids_of(&r, "missing"), "{live:#}");

    // Every listing the manifest names vouches in its account; the files take it as a hint.
    let outcome = driftlock::scan::scan(&driftlock::scan::ScanOptions {
        inputs: vec![driftlock::ingest::InputArg { path: out.clone(), role: driftlock::ingest::Role::Inventory }],
        ..driftlock::scan::ScanOptions::default()
    });
    let inv = &outcome.estate.inventory;
    assert!(!inv.coverage.is_empty());
    for c in &inv.coverage {
        let name = &outcome.estate.sources.get(c.source).name;
        assert_eq!(c.account.as_deref(), Some("123456789012"), "{name}: {c:?}");
    }
    assert!(inv.resources.iter().all(|r| r.account.as_deref() == Some("123456789012")));
}
