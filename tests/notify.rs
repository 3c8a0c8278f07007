//! Issue 10, notifications: `--notify URL` posts a summary to real HTTP servers on 127.0.0.1
//! that this test starts (std::net, one thread each): one that accepts, one that fails once
//! and then accepts, one that always fails, one that is too slow. A notification that cannot
//! be delivered is exit 2; the webhook's secret path is never printed.

mod common;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// What one receiver does with each request it gets, in order (the last repeats).
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Waits this long before answering 200.
    Slow(Duration),
}

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 that answers at most `limit` connections, then stops.
    fn start(answers: Vec<Answer>, limit: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let store = got.clone();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().take(limit).enumerate() {
                let Ok(stream) = stream else { continue };
                let answer = answers[i.min(answers.len() - 1)];
                let store = store.clone();
                // Each connection on its own thread, so a slow answer does not hold the next.
                std::thread::spawn(move || serve(stream, answer, &store));
            }
        });
        Receiver { port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, answer: Answer, store: &Mutex<Vec<Received>>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize =
        headers.iter().find(|(k, _)| k == "content-length").map(|(_, v)| v.parse().unwrap()).expect("content-length");
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    store.lock().unwrap().push(Received {
        line: line.trim_end().to_owned(),
        headers,
        body: serde_json::from_slice(&body).expect("the body is JSON"),
    });
    let status = match answer {
        Answer::Status(s) => s,
        Answer::Slow(d) => {
            std::thread::sleep(d);
            200
        }
    };
    let mut stream = stream;
    let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

/// Runs driftlock without any proxy from the environment.
fn run(args: &[&str]) -> (i32, String, String, Duration) {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1").args(args);
    for v in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env_remove(v);
    }
    let start = Instant::now();
    let o = cmd.output().unwrap();
    (code(&o), stdout(&o), stderr(&o), start.elapsed())
}

const SECRET: &str = "/services/T0000/B0000/s3cr3tt0k3n";

fn scan_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "scan",
        "--state",
        "testdata/demo/states",
        "--plan",
        "testdata/demo/plan/refresh-drift.json",
        "--format",
        "json",
    ];
    a.extend(extra);
    a
}

#[test]
fn slack_teams_and_json_bodies_are_delivered() {
    let r = Receiver::start(vec![Answer::Status(200)], 3);
    let slack = r.url(&format!("{SECRET}?format=slack"));
    let teams = r.url("/workflows/abc/triggers/manual/paths/invoke?format=teams&sig=s3cr3t");
    let generic = r.url("/hook");
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    // A baseline with only the tainted bucket: the plan's four drifts are new.
    let o = driftlock(&["scan", "--state", "testdata/demo/states", "--format", "json", "-o", base.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let (rc, _, err, _) = run(&scan_args(&[
        "--baseline",
        base.to_str().unwrap(),
        "--notify",
        &slack,
        "--notify",
        &teams,
        "--notify",
        &generic,
        "--report-url",
        "https://ci.example/runs/7/report.html",
    ]));
    assert_eq!(rc, 1, "delivered: the exit status is the gate's\n{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert_eq!(err.matches("driftlock: notified http://127.0.0.1:").count(), 3, "{err}");
    let got = r.received();
    assert_eq!(got.len(), 3);
    for g in &got {
        assert!(g.line.starts_with("POST "), "{}", g.line);
        assert!(g.headers.contains(&("content-type".into(), "application/json".into())), "{:?}", g.headers);
    }
    let by_path = |p: &str| got.iter().find(|g| g.line.split(' ').nth(1).unwrap().starts_with(p)).unwrap().clone();

    let s = by_path("/services/").body;
    assert_eq!(by_path("/services/").line, format!("POST {SECRET} HTTP/1.1"), "format= is driftlock's, not sent");
    assert!(s["text"].as_str().unwrap().contains("driftlock scan: gate closed"), "{s:#}");
    let blocks = s["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let all = serde_json::to_string(blocks).unwrap();
    assert!(all.contains("plan-drift 4, tainted 1"), "{all}");
    assert!(all.contains("4 new, 1 unchanged, 0 resolved"), "{all}");
    assert!(all.contains("<https://ci.example/runs/7/report.html|the full report>"), "{all}");
    // New findings first: the four drifts before the (unchanged) tainted bucket.
    let list = blocks[2]["text"]["text"].as_str().unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[..4].iter().all(|l| l.starts_with("• new `DL0201 plan-drift`")), "{list}");
    assert!(lines[4].starts_with("• `DL0101 tainted`"), "{list}");

    let t = by_path("/workflows/");
    assert_eq!(t.line, "POST /workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t HTTP/1.1");
    let t = t.body;
    assert_eq!(t["type"], "message");
    let a = &t["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(a["content"]["type"], "AdaptiveCard");
    assert_eq!(a["content"]["version"], "1.4");
    assert_eq!(a["content"]["body"][0]["color"], "Attention");
    assert_eq!(a["content"]["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(a["content"]["actions"][0]["url"], "https://ci.example/runs/7/report.html");
    let facts = serde_json::to_string(&a["content"]["body"][1]["facts"]).unwrap();
    assert!(facts.contains(r#"{"title":"Gate","value":"closed"}"#), "{facts}");

    let j = by_path("/hook").body;
    assert_eq!(j["schema"], "driftlock/notification/v1");
    assert_eq!(j["gate"], "closed");
    assert_eq!(j["summary"]["by_kind"]["plan-drift"], 4);
    assert_eq!(j["summary"]["baseline"]["new"], 4);
    assert_eq!(j["findings"][0]["status"], "new");
    assert_eq!(j["findings"][4]["kind"], "tainted");
    assert_eq!(j["report"], "https://ci.example/runs/7/report.html");
}

#[test]
fn a_failure_is_retried_with_backoff() {
    let r = Receiver::start(vec![Answer::Status(500), Answer::Status(200)], 2);
    let url = r.url(SECRET);
    let (rc, _, err, took) = run(&scan_args(&["--notify", &url, "--notify-format", "slack"]));
    assert_eq!(rc, 1, "delivered on the second attempt: the gate decides\n{err}");
    assert!(
        err.contains(&format!("driftlock: notified http://127.0.0.1:{}/… (slack) (after 2 attempts)", r.port)),
        "{err}"
    );
    assert_eq!(r.received().len(), 2);
    assert!(took >= Duration::from_millis(500), "backoff before the retry: {took:?}");
    assert!(!err.contains("s3cr3t"));
}

#[test]
fn a_server_that_always_fails_is_exit_2() {
    let r = Receiver::start(vec![Answer::Status(500)], 3);
    let url = r.url(SECRET);
    let (rc, stdout, err, took) = run(&scan_args(&["--notify", &url, "--notify-retries", "2"]));
    assert_eq!(rc, 2, "{err}");
    assert_eq!(r.received().len(), 3, "the first attempt and two retries");
    assert!(
        err.contains(&format!(
            "driftlock: could not notify http://127.0.0.1:{}/… (json): the server answered 500 Internal Server Error (3 attempts)",
            r.port
        )),
        "{err}"
    );
    assert!(!err.contains("s3cr3t") && !stdout.contains("s3cr3t"), "{err}");
    // 0.5 s then 1 s of backoff.
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    // The report itself was still written.
    assert!(serde_json::from_str::<Value>(&stdout).is_ok());

    // A client error is not retried: the URL is wrong, trying again does not help.
    let r = Receiver::start(vec![Answer::Status(404)], 1);
    let (rc, _, err, _) = run(&scan_args(&["--notify", &r.url(SECRET), "--notify-retries", "2"]));
    assert_eq!(rc, 2);
    assert!(err.contains("the server answered 404 Not Found (1 attempt)"), "{err}");
}

#[test]
fn a_slow_server_times_out() {
    let r = Receiver::start(vec![Answer::Slow(Duration::from_secs(5))], 2);
    let url = r.url(SECRET);
    let (rc, _, err, took) = run(&scan_args(&["--notify", &url, "--notify-timeout", "0.5", "--notify-retries", "1"]));
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("no answer within 0.5 s (timed out) (2 attempts)"), "{err}");
    assert!(took < Duration::from_secs(4), "two attempts of 0.5 s and one backoff: {took:?}");
    assert!(!err.contains("s3cr3t"));
}

#[test]
fn nobody_listening_and_bad_urls_are_exit_2() {
    // A port nobody listens on: bind, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}{SECRET}");
    let (rc, _, err, _) = run(&scan_args(&["--notify", &url, "--notify-retries", "1"]));
    assert_eq!(rc, 2);
    assert!(err.contains(&format!("could not notify http://127.0.0.1:{port}/… (json)")), "{err}");
    assert!(!err.contains("s3cr3t"));

    let (rc, _, err, _) = run(&scan_args(&["--notify", "hooks.example/services/s3cr3t"]));
    assert_eq!(rc, 2);
    assert!(err.contains("driftlock: cannot notify: --notify <not a URL>: not a URL"), "{err}");
    assert!(!err.contains("s3cr3t"));

    // One delivered, one not: still exit 2, and the good one was told.
    let ok = Receiver::start(vec![Answer::Status(204)], 1);
    let (rc, _, err, _) = run(&scan_args(&["--notify", &ok.url("/a"), "--notify", &url, "--notify-retries", "0"]));
    assert_eq!(rc, 2, "{err}");
    assert_eq!(ok.received().len(), 1);
}

#[test]
fn an_open_gate_is_announced_too() {
    let r = Receiver::start(vec![Answer::Status(200)], 1);
    let (rc, _, err, _) = run(&[
        "scan",
        "--state",
        "testdata/state/clean",
        "--notify",
        &r.url("/h?format=teams"),
        "--format",
        "json",
        "--output",
        &tempfile::tempdir().unwrap().path().join("r.json").to_string_lossy(),
    ]);
    assert_eq!(rc, 0, "{err}");
    let body = &r.received()[0].body;
    let card = &body["attachments"][0]["content"];
    assert_eq!(card["body"][0]["color"], "Good");
    assert!(card["body"][0]["text"].as_str().unwrap().contains("gate open"));
    // The --output path is where the report is.
    let last = card["body"].as_array().unwrap().last().unwrap()["text"].as_str().unwrap().to_owned();
    assert!(last.starts_with("Full report: ") && last.ends_with("r.json"), "{last}");
}
