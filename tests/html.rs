//! Issue 10, a report to look at: `--format html` and `driftlock report html HISTORY_DIR|FILE`
//! write one self-contained page. Snapshot of the page for a small report, what the data island
//! carries, escaping, the charts from a history, the errors of `report html`, and a real browser
//! (Debian's chromium, headless) rendering the page: rows after the script ran, the filters
//! over every row, the charts, a finding's diff and audit evidence, no request leaving the page.

mod common;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const STATES: &str = "testdata/demo/states";
const PLAN: &str = "testdata/demo/plan/refresh-drift.json";
const INVENTORY: &str = "testdata/demo/inventory";

/// A fresh folder under `target/html-tests/` (relative to the repository root, where the tests
/// run driftlock, so paths in the pages are the same on every machine).
fn workdir(test: &str) -> String {
    let rel = format!("target/html-tests/{test}");
    let abs = root().join(&rel);
    let _ = std::fs::remove_dir_all(&abs);
    std::fs::create_dir_all(&abs).expect("test folder");
    rel
}

/// The demo's JSON report (drift with a diff, a deleted subnet, hand-made resources, coverage).
fn demo_report(path: &str) -> Value {
    let o = driftlock(&[
        "scan",
        "--state",
        STATES,
        "--plan",
        PLAN,
        "--inventory",
        INVENTORY,
        "--format",
        "json",
        "-o",
        path,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    read_json(path)
}

fn read_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(root().join(rel)).expect("read")).expect("JSON")
}

fn write_json(rel: &str, v: &Value) {
    std::fs::write(root().join(rel), serde_json::to_vec_pretty(v).expect("JSON")).expect("write");
}

/// `driftlock report html ARG`: exit 0 and the page.
fn report_html(arg: &str) -> String {
    let o = driftlock(&["report", "html", arg]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o)
}

/// The findings the page carries in its data island.
fn island(page: &str) -> Value {
    let start = page.find(r#"<script type="application/json" id="data">"#).expect("data island");
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).expect("the data island is JSON")
}

/// Snapshots with the times and dates (which change from run to run) redacted.
fn assert_page_snapshot(name: &str, page: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]");
    settings.bind(|| insta::assert_snapshot!(name, page));
}

fn assert_self_contained(page: &str) {
    for bad in ["<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "https://"] {
        // The only URL the page may hold is the SVG namespace, which is never fetched.
        let without_ns = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_ns.contains(bad), "the page holds {bad:?}: it must not fetch anything");
    }
}

#[test]
fn the_page_of_a_small_report() {
    let dir = workdir("small");
    let report = format!("{dir}/report.json");
    let r = demo_report(&report);
    let page = report_html(&report);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&page);
    // The data island carries every finding as the JSON report has it (compacted, not changed).
    assert_eq!(island(&page), r["findings"]);
    assert!(page.contains(r#"<span class="gate gate-closed" id="gate">gate closed</span>"#));
    assert!(page.contains("@media (prefers-color-scheme: dark)"));
    assert_page_snapshot("html_small_report", &page);
}

#[test]
fn scan_format_html_charts_the_history() {
    let dir = workdir("history");
    let history = format!("{dir}/history");
    // Three runs kept: without the inventory (no coverage), then with it, twice.
    let runs: [&[&str]; 3] = [
        &["scan", "--state", STATES, "--format", "json", "--history", &history],
        &[
            "scan",
            "--state",
            STATES,
            "--plan",
            PLAN,
            "--inventory",
            INVENTORY,
            "--format",
            "json",
            "--history",
            &history,
        ],
        &[
            "scan",
            "--state",
            STATES,
            "--plan",
            PLAN,
            "--inventory",
            INVENTORY,
            "--format",
            "json",
            "--history",
            &history,
        ],
    ];
    for args in runs {
        let o = driftlock(args);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
    }
    let out = format!("{dir}/drift.html");
    let o = driftlock(&[
        "scan",
        "--state",
        STATES,
        "--plan",
        PLAN,
        "--inventory",
        INVENTORY,
        "--format",
        "html",
        "--history",
        &history,
        "-o",
        &out,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let page = std::fs::read_to_string(root().join(&out)).unwrap();
    assert_self_contained(&page);
    // The three kept runs and this one; the fourth run is kept too (after the page was written).
    assert!(page.contains("(4 runs in target&#x2f;html-tests&#x2f;history&#x2f;history)"), "{page}");
    assert_eq!(std::fs::read_dir(root().join(&history)).unwrap().count(), 4);
    let charts = &page[page.find("<h2>Over time").unwrap()..page.find("<h2>Findings").unwrap()];
    assert_eq!(charts.matches(r#"<g class="run""#).count(), 4);
    assert_eq!(charts.matches(r#"<circle class="point""#).count(), 3, "the first run compared no inventory");
    // The findings are marked against the latest kept run: nothing new.
    let findings = island(&page);
    assert!(findings.as_array().unwrap().iter().all(|f| f["status"] == "unchanged"));
    assert_page_snapshot("html_history_charts", charts);

    // `report html HISTORY_DIR`: the latest kept report, with the same four runs charted.
    let page = report_html(&history);
    assert!(page.contains("(4 runs in target&#x2f;html-tests&#x2f;history&#x2f;history)"));
    assert_eq!(island(&page), findings);
}

#[test]
fn nothing_in_a_report_can_inject_html() {
    let dir = workdir("escape");
    let report = format!("{dir}/report.json");
    let mut r = demo_report(&report);
    let evil = "</script><img src=x onerror=alert(1)><!--";
    r["findings"][0]["message"] = json!(evil);
    r["findings"][0]["address"] = json!(format!("aws_s3_bucket.{evil}"));
    r["findings"][0]["account"] = json!(evil);
    r["summary"]["by_kind"][evil] = json!(1);
    r["notes"] = json!([evil]);
    r["errors"] = json!([{"code": "DL0001", "kind": evil, "message": evil, "file": evil, "help": evil}]);
    r["summary"]["input_errors"] = json!(1);
    write_json(&report, &r);
    let page = report_html(&report);
    assert!(!page.contains("<img"), "a finding's text became HTML");
    assert!(!page.contains("</script><"), "a finding's text closed the script element");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "the text is shown, escaped");
    assert_eq!(island(&page)[0]["message"], evil, "the data island still carries the text as it is");
}

#[test]
fn report_html_refuses_what_is_not_a_report() {
    let dir = workdir("refuse");
    let o = driftlock(&["report", "html", PLAN]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("DL0016"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "no page for what could not be read");
    let o = driftlock(&["report", "html", &dir]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("holds no report"), "{}", stderr(&o));
    let o = driftlock(&["report", "html", &format!("{dir}/absent.json")]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    // A history file that is not a report stops the page too (it would chart wrong numbers).
    let history = format!("{dir}/history");
    std::fs::create_dir_all(root().join(&history)).unwrap();
    std::fs::write(root().join(&history).join("20261125T021448.12Z-0badf00d.json"), "{\"runs\": []}").unwrap();
    let o = driftlock(&["report", "html", &history]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("DL0016"), "{}", stderr(&o));
}

#[test]
fn a_broken_history_report_is_one_input_error_of_the_run() {
    // `--history` with `--format html` reads the history twice (the baseline, the charts): the
    // broken file still closes the gate with exit 2, and is reported once.
    let dir = workdir("broken-history");
    let history = format!("{dir}/history");
    std::fs::create_dir_all(root().join(&history)).unwrap();
    std::fs::write(root().join(&history).join("20261125T021448.12Z-0badf00d.json"), "{\"runs\": []}").unwrap();
    let page = format!("{dir}/page.html");
    let o = driftlock(&["scan", "--state", STATES, "--history", &history, "--format", "html", "-o", &page]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("1 input could not be audited"), "{}", stderr(&o));
    let kept: Vec<_> = std::fs::read_dir(root().join(&history))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("20261125T021448.12Z-0badf00d.json"))
        .collect();
    assert_eq!(kept.len(), 1, "this run's report is kept: {kept:?}");
    let report: Value = serde_json::from_slice(&std::fs::read(&kept[0]).unwrap()).unwrap();
    assert_eq!(report["summary"]["input_errors"], 1, "{}", report["errors"]);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(1), "{}", report["errors"]);
}

// ---- the real browser ----

const ROWS: usize = 250;
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "prod-eu"];

/// A report of [`ROWS`] findings over three accounts and two phases, new and unchanged, made
/// from the demo's real findings and a real audit finding (with its evidence).
fn browser_report(dir: &str) -> (String, Value) {
    let demo = format!("{dir}/demo.json");
    let mut r = demo_report(&demo);
    let o = driftlock(&[
        "scan",
        "--format",
        "json",
        "--audit-log",
        "testdata/audit/aws/console-change",
        "--config",
        "testdata/audit/governance.toml",
    ]);
    let audit = json(&o);
    let with_evidence = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f.get("evidence").is_some())
        .expect("an audit finding")
        .clone();
    let mut base: Vec<Value> = r["findings"].as_array().unwrap().clone();
    base.push(with_evidence);
    let mut findings = Vec::new();
    let mut by_kind = serde_json::Map::new();
    let mut by_account = serde_json::Map::new();
    for i in 0..ROWS {
        let mut f = base[i % base.len()].clone();
        let account = ACCOUNTS[i % 3];
        f["account"] = json!(account);
        f["phase"] = json!(["K.1", "K.2"][i % 2]);
        f["status"] = json!(if i % 5 == 0 { "new" } else { "unchanged" });
        f["fingerprint"] = json!(format!("{i:032x}"));
        if let Some(a) = f["address"].as_str() {
            f["address"] = json!(format!("{a}.n{i}"));
        }
        if i == 7 {
            f["message"] = json!("</script><img src=x onerror=alert(1)>");
        }
        for (map, key) in [(&mut by_kind, f["kind"].as_str().unwrap()), (&mut by_account, account)] {
            let n = map.get(key).and_then(Value::as_u64).unwrap_or(0);
            map.insert(key.to_owned(), json!(n + 1));
        }
        findings.push(f);
    }
    r["findings"] = json!(findings);
    r["summary"]["findings"] = json!(ROWS);
    r["summary"]["by_kind"] = Value::Object(by_kind);
    r["summary"]["by_account"] = Value::Object(by_account);
    let path = format!("{dir}/report.json");
    write_json(&path, &r);
    (path, r)
}

/// A loopback HTTP proxy that answers 502 to everything and remembers what was asked: the
/// browser is pointed at it, so any request the page makes is seen here.
struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

/// Whether a request line is chromium's own background traffic, whatever the page: the
/// network-time check, sign-in, the connectivity probe, component and safe-browsing updates
/// (Google service hosts). Fonts (`fonts.googleapis.com`, `fonts.gstatic.com`), CDNs, images and
/// anything else are the page's.
fn browser_own(request: &str) -> bool {
    let target = request.split(' ').nth(1).unwrap_or("");
    let host = target.trim_start_matches("http://").trim_start_matches("https://");
    let host = host.split([':', '/']).next().unwrap_or("");
    host.ends_with(".google.com")
        || host.ends_with(".gvt1.com")
        || ["update.googleapis.com", "optimizationguide-pa.googleapis.com", "safebrowsing.googleapis.com"]
            .contains(&host)
}

impl Proxy {
    /// What the page asked for.
    fn page_requests(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|r| !browser_own(r)).cloned().collect()
    }

    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap_or(0);
                let first = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_owned();
                // Chromium opens spare connections to its proxy ahead of need and may close them
                // unused: a connection that carried no request line asked for nothing.
                if !first.trim().is_empty() {
                    log.lock().unwrap().push(first);
                }
                let _ = s.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Proxy { port, seen }
    }
}

/// Runs headless chromium with a throwaway profile and the proxy; returns its stdout.
fn chromium(extra: &[&str], url: &str, proxy: &Proxy, profile: &Path) -> String {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        // Root in a container has no user namespaces for the sandbox; the page is ours.
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-pings",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        "--virtual-time-budget=5000",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd.arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port));
    // Loopback goes through the proxy too, so nothing the page asks for escapes notice.
    cmd.arg("--proxy-bypass-list=<-loopback>");
    cmd.args(extra).arg(url);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

fn file_url(rel: &str) -> String {
    format!("file://{}", root().join(rel).display())
}

/// The `<tr class="finding">` rows of a dumped DOM, each as its cells' text.
fn rows(dom: &str) -> Vec<Vec<String>> {
    dom.split(r#"<tr class="finding""#)
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            row.split("<td").skip(1).map(|c| c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()].to_owned()).collect()
        })
        .collect()
}

fn range(dom: &str) -> String {
    let at = dom.find(r#"id="range""#).expect("the pager");
    let rest = &dom[at..];
    rest[rest.find('>').unwrap() + 1..rest.find("</span>").unwrap()].to_owned()
}

#[test]
fn browser_traffic_is_told_from_the_page() {
    assert!(browser_own("CONNECT www.google.com:443 HTTP/1.1"));
    assert!(browser_own("GET http://clients2.google.com/time/1/current?x=1 HTTP/1.1"));
    assert!(!browser_own("CONNECT fonts.googleapis.com:443 HTTP/1.1"));
    assert!(!browser_own("CONNECT fonts.gstatic.com:443 HTTP/1.1"));
    assert!(!browser_own("GET http://127.0.0.1:8080/x.png HTTP/1.1"));
    assert!(!browser_own("CONNECT cdn.jsdelivr.net:443 HTTP/1.1"));
}

#[test]
fn a_real_browser_renders_the_page() {
    if !tools::on_path("chromium") {
        skip("a_real_browser_renders_the_page", "chromium is not installed (`apt-get install chromium`; .ci/run does)");
        return;
    }
    let dir = workdir("browser");
    let (report, r) = browser_report(&dir);
    let page_rel = format!("{dir}/report.html");
    let o = driftlock(&["report", "html", &report, "--output", &page_rel]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let url = file_url(&page_rel);
    let artifacts = root().join("target/ci-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let proxy = Proxy::start();

    // The first page: 100 rows the script built, every column, the filters filled in.
    let dom = chromium(&["--dump-dom"], &url, &proxy, profile.path());
    let shown = rows(&dom);
    assert_eq!(shown.len(), 100, "the first page of rows, built by the script:\n{dom}");
    assert_eq!(range(&dom), format!("1–100 of {ROWS}"));
    assert_eq!(shown[0].len(), 8, "severity, kind, status, resource, account, phase, where, message");
    for (field, value, count) in
        [("account", "prod-eu", ROWS / 3), ("status", "new", ROWS / 5), ("phase", "K.2", ROWS / 2)]
    {
        let option = format!(r#"<option value="{value}">{value} ({count})</option>"#);
        assert!(dom.contains(&option), "the {field} filter offers {option}");
    }
    assert!(dom.contains(r#"<select data-field="kind">"#) && dom.contains(r#"<select data-field="severity">"#));
    assert!(dom.contains(r#"<svg class="coverage""#) && dom.contains(r#"<svg class="kinds""#), "the charts");
    assert!(dom.contains("<circle class=\"point\""), "the coverage point of this report");
    assert!(!dom.contains("<img"), "a finding's text became an element");
    assert!(dom.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"), "it is shown as text");

    // A filter works on every row, not only the page: prod-eu's new findings are spread over
    // all three pages.
    let expected: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == "prod-eu" && f["status"] == "new")
        .collect();
    let dom = chromium(&["--dump-dom"], &format!("{url}#account=prod-eu&status=new"), &proxy, profile.path());
    let shown = rows(&dom);
    assert_eq!(shown.len(), expected.len());
    assert_eq!(range(&dom), format!("1–{} of {} (of {ROWS})", expected.len(), expected.len()));
    assert!(shown.iter().all(|c| c[2] == "new" && c[4] == "prod-eu"), "{shown:?}");

    // A finding linked by its fingerprint opens on its page, with its diff and its evidence.
    let drifted = r["findings"].as_array().unwrap().iter().rposition(|f| f.get("diff").is_some()).expect("a diff");
    let fp = r["findings"][drifted]["fingerprint"].as_str().unwrap();
    let dom = chromium(&["--dump-dom"], &format!("{url}#open={fp}"), &proxy, profile.path());
    assert!(range(&dom).starts_with(&format!("{}–", drifted / 100 * 100 + 1)), "{}", range(&dom));
    assert!(dom.contains(r#"<pre class="diff">"#), "the diff is shown");
    assert!(dom.contains(r#"<span class="add">+"#) || dom.contains(r#"<span class="del">-"#), "diff lines coloured");
    let audited = r["findings"].as_array().unwrap().iter().position(|f| f.get("evidence").is_some()).expect("evidence");
    let fp = r["findings"][audited]["fingerprint"].as_str().unwrap();
    let dom = chromium(&["--dump-dom"], &format!("{url}#open={fp}"), &proxy, profile.path());
    assert!(dom.contains(r#"<dl class="evidence audit">"#), "the audit evidence is shown");
    let principal = r["findings"][audited]["evidence"]["principal"].as_str().unwrap();
    assert!(dom.contains(principal), "the evidence names who did it");

    // Screenshots, light and dark, kept as CI artifacts.
    let light = artifacts.join("html-report-light.png");
    let dark = artifacts.join("html-report-dark.png");
    let _ = std::fs::remove_file(&light);
    let _ = std::fs::remove_file(&dark);
    chromium(&[&format!("--screenshot={}", light.display())], &url, &proxy, profile.path());
    chromium(&["--force-dark-mode", &format!("--screenshot={}", dark.display())], &url, &proxy, profile.path());
    for shot in [&light, &dark] {
        let png = std::fs::read(shot).unwrap_or_else(|_| panic!("chromium wrote no screenshot {}", shot.display()));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} is a real screenshot", shot.display());
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("screenshots of the HTML report: {} and {}", light.display(), dark.display());
    }

    // Nothing the page did left the machine, or even asked the loopback.
    let seen = proxy.page_requests();
    assert!(seen.is_empty(), "the page made requests: {seen:?}");
}

#[test]
fn columns_and_filters_without_values_are_not_shown() {
    if !tools::on_path("chromium") {
        skip("columns_and_filters_without_values_are_not_shown", "chromium is not installed");
        return;
    }
    let dir = workdir("browser-plain");
    let report = format!("{dir}/report.json");
    let mut r = demo_report(&report);
    // The demo's findings all name their account: take it away, as a report of inputs that
    // name none would have it.
    for f in r["findings"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("account");
    }
    r["summary"].as_object_mut().unwrap().remove("by_account");
    std::fs::write(&report, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    let page_rel = format!("{dir}/report.html");
    let o = driftlock(&["report", "html", &report, "-o", &page_rel]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let profile = tempfile::tempdir().unwrap();
    let proxy = Proxy::start();
    let dom = chromium(&["--dump-dom"], &file_url(&page_rel), &proxy, profile.path());
    let shown = rows(&dom);
    assert_eq!(shown.len(), r["findings"].as_array().unwrap().len());
    assert_eq!(shown[0].len(), 5, "no status, account or phase column: {:?}", shown[0]);
    for f in ["account", "phase", "status"] {
        assert!(
            dom.contains(&format!(r#"<label hidden="">{}"#, if f == "status" { "new / unchanged" } else { f })),
            "the {f} filter is hidden"
        );
    }
    assert!(proxy.page_requests().is_empty(), "the page made requests: {:?}", proxy.page_requests());
}
