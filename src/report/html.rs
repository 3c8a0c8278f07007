//! `--format html` and `driftlock report html`: one self-contained HTML file to look at — the
//! gate and summary, coverage and findings by kind over time (inline SVG drawn here, from the
//! history), a findings table filterable by kind, severity, phase, account and new/unchanged,
//! each finding's diff and audit evidence, light and dark.
//!
//! Nothing is fetched: styles, charts and the small script are inline. The findings travel as
//! JSON inside the page and the script shows them a page of 100 rows at a time, so a report of
//! 100,000 findings stays quick to open and to filter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Report;
use super::baseline::{self, History};
use crate::error::InputError;
use crate::source::display_path;

const TEMPLATE: &str = include_str!("templates/report.html");
/// Resolved findings listed in the page (all are counted).
const RESOLVED_LISTED: usize = 500;
/// Runs of the history drawn in the charts (the latest ones).
const CHART_RUNS: usize = 120;

/// One run in the charts.
#[derive(Debug, Clone)]
pub struct Point {
    pub time: Option<jiff::Timestamp>,
    pub by_kind: BTreeMap<String, usize>,
    /// Managed share of the account in percent, when inventories were compared.
    pub coverage: Option<f64>,
}

/// What the page shows besides the charts.
pub struct Doc {
    pub command: String,
    pub gate: String,
    pub summary: Value,
    pub errors: Value,
    pub notes: Vec<String>,
    pub resolved: Vec<Value>,
    pub resolved_count: usize,
    /// The findings as a compact JSON array, escaped for a `<script>` element ([`script_json`]).
    pub findings_json: String,
    /// Where the report was read from, when it was.
    pub source: Option<String>,
}

impl Doc {
    /// The page of a run's report.
    pub fn from_report(report: &Report) -> Doc {
        let resolved = report.resolved.as_deref().unwrap_or_default();
        Doc {
            command: report.command.to_owned(),
            gate: gate_str(report.gate).to_owned(),
            summary: serde_json::to_value(&report.summary).unwrap_or(Value::Null),
            errors: serde_json::to_value(&report.errors).unwrap_or(Value::Null),
            notes: report.notes.clone(),
            resolved: resolved
                .iter()
                .take(RESOLVED_LISTED)
                .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
                .collect(),
            resolved_count: resolved.len(),
            findings_json: script_json(&serde_json::to_string(&report.findings).unwrap_or_else(|_| "[]".to_owned())),
            source: None,
        }
    }

    /// The page of a JSON report file; its findings are carried over as they are written.
    pub fn from_file(path: &Path) -> Result<Doc, InputError> {
        #[derive(Deserialize)]
        struct File<'a> {
            #[serde(default)]
            schema: Option<String>,
            command: String,
            gate: String,
            #[serde(borrow)]
            findings: Vec<&'a RawValue>,
            #[serde(default)]
            errors: Value,
            #[serde(default)]
            summary: Value,
            #[serde(default)]
            notes: Vec<String>,
            #[serde(default)]
            resolved: Option<Vec<Value>>,
        }
        let name = display_path(path);
        let text = baseline::read_report_text(path, "the report")?;
        // One pass over the text when it is a report; the probe, which says what else it is,
        // only when it is not.
        let f: File<'_> = match serde_json::from_str::<File<'_>>(&text) {
            Ok(f) if f.schema.as_deref() == Some(super::SCHEMA) => f,
            Ok(_) => {
                // The probe refuses another schema and says which.
                return Err(baseline::probe(&name, "the report", &text).err().unwrap_or_else(|| {
                    InputError::new(
                        &crate::code::NOT_A_REPORT,
                        &name,
                        format!("the report {name} is not a driftlock report"),
                    )
                }));
            }
            Err(e) => {
                baseline::probe(&name, "the report", &text)?;
                let mut err = InputError::from_json(&name, &text, 0, &text, &e);
                err.message = format!("the report {}", err.message);
                return Err(err);
            }
        };
        // Carried over as written, without the pretty-printer's indentation (a third of a
        // pretty report's bytes), ready for the page's data island.
        let mut findings_json = String::with_capacity(text.len() / 2);
        findings_json.push('[');
        for (i, r) in f.findings.iter().enumerate() {
            if i > 0 {
                findings_json.push(',');
            }
            push_script_json(&mut findings_json, r.get());
        }
        findings_json.push(']');
        let resolved = f.resolved.unwrap_or_default();
        Ok(Doc {
            command: f.command,
            gate: f.gate,
            summary: f.summary,
            errors: f.errors,
            notes: f.notes,
            resolved_count: resolved.len(),
            resolved: resolved.into_iter().take(RESOLVED_LISTED).collect(),
            findings_json,
            source: Some(name),
        })
    }

    fn point(&self, time: Option<jiff::Timestamp>) -> Point {
        point_of(&self.summary, time)
    }
}

fn gate_str(g: super::Gate) -> &'static str {
    match g {
        super::Gate::Open => "open",
        super::Gate::Closed => "closed",
    }
}

fn point_of(summary: &Value, time: Option<jiff::Timestamp>) -> Point {
    let by_kind = summary["by_kind"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as usize)).collect())
        .unwrap_or_default();
    Point { time, by_kind, coverage: summary["inventory"]["coverage"].as_f64() }
}

/// The history's runs of `command`, oldest first (the latest [`CHART_RUNS`]).
pub fn history_points(dir: &Path, command: &str) -> Result<Vec<Point>, InputError> {
    #[derive(Deserialize)]
    struct Head {
        command: String,
        #[serde(default)]
        summary: Value,
    }
    let entries = History::new(dir).entries()?;
    let mut points = Vec::new();
    for e in entries.iter().rev() {
        if points.len() == CHART_RUNS {
            break;
        }
        if let Some((c, summary)) = head_and_summary(&e.path) {
            if c == command {
                points.push(point_of(&summary, Some(e.time)));
            }
            continue;
        }
        let name = display_path(&e.path);
        let text = baseline::read_report_text(&e.path, "the history report")?;
        baseline::probe(&name, "the history report", &text)?;
        let head: Head = serde_json::from_str(&text).map_err(|err| {
            let mut err = InputError::from_json(&name, &text, 0, &text, &err);
            err.message = format!("the history report {}", err.message);
            err
        })?;
        if head.command == command {
            points.push(point_of(&head.summary, Some(e.time)));
        }
    }
    points.reverse();
    Ok(points)
}

/// The command and summary of a report the way driftlock writes them (pretty-printed), read
/// from its first and last bytes only: a history of large reports is charted without reading
/// their findings. `None` for anything else; the caller then reads the whole file, whose
/// diagnostics say what is wrong with it.
///
/// The pretty-printer indents the top level's members by exactly two spaces and JSON strings
/// hold no raw line break, so `\n  "summary": ` can only be the top-level member.
fn head_and_summary(path: &Path) -> Option<(String, Value)> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    const HEAD: &str = "{\n  \"schema\": \"driftlock/report/v1\",\n  \"command\": \"";
    const KEY: &[u8] = b"\n  \"summary\": ";
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut head = vec![0u8; usize::try_from(len.min(256)).ok()?];
    file.read_exact(&mut head).ok()?;
    let rest = head.strip_prefix(HEAD.as_bytes())?;
    let end = rest.iter().position(|b| *b == b'"')?;
    let command = &rest[..end];
    if command.is_empty() || !command.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-') {
        return None;
    }
    let command = String::from_utf8(command.to_vec()).ok()?;
    let mut chunk: u64 = 256 * 1024;
    let mut buf = Vec::new();
    loop {
        let take = chunk.min(len);
        file.seek(SeekFrom::Start(len - take)).ok()?;
        buf.resize(usize::try_from(take).ok()?, 0);
        file.read_exact(&mut buf).ok()?;
        if let Some(at) = memchr::memmem::rfind(&buf, KEY) {
            let mut de = serde_json::Deserializer::from_slice(&buf[at + KEY.len()..]);
            let summary = <Value as Deserialize>::deserialize(&mut de).ok()?;
            return summary.is_object().then_some((command, summary));
        }
        if take == len {
            return None;
        }
        chunk = chunk.saturating_mul(8);
    }
}

/// `--format html` for a run: its report, with the charts of `--history` (and this run).
pub fn render_run(report: &Report, history: Option<&Path>) -> Result<String, InputError> {
    render_run_at(report, history, jiff::Timestamp::now())
}

/// [`render_run`] as if it were `now` (tests).
pub fn render_run_at(report: &Report, history: Option<&Path>, now: jiff::Timestamp) -> Result<String, InputError> {
    let doc = Doc::from_report(report);
    let mut points = match history {
        Some(dir) => history_points(dir, report.command)?,
        None => Vec::new(),
    };
    points.push(doc.point(Some(now)));
    Ok(render(doc, &points, history, now))
}

/// `driftlock report html DIR|FILE`: the latest report of a history folder with the charts of
/// its runs, or one report file.
pub fn render_path(path: &Path) -> Result<String, InputError> {
    if path.is_dir() {
        let entries = History::new(path).entries()?;
        let Some(latest) = entries.last() else {
            let name = display_path(path);
            return Err(InputError::new(
                &crate::code::NO_INPUTS,
                &name,
                format!(
                    "the history folder {name} holds no report (files named like 20261125T021448.84Z-2584a020.json)"
                ),
            )
            .with_help("run a command with --history DIR first, or pass a report file"));
        };
        let doc = Doc::from_file(&latest.path)?;
        let points = history_points(path, &doc.command)?;
        Ok(render(doc, &points, Some(path), jiff::Timestamp::now()))
    } else {
        let doc = Doc::from_file(path)?;
        let points = vec![doc.point(None)];
        Ok(render(doc, &points, None, jiff::Timestamp::now()))
    }
}

/// JSON inside a `<script>` element: `<` only occurs in strings, where `\u003c` means the same,
/// so no `</script>` or `<!--` can end the element early.
fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    push_script_json(&mut out, json);
    out
}

/// Appends `json` (valid JSON) for a `<script>` element: the whitespace between tokens dropped,
/// and every `<` written `\u003c` (see [`script_json`]). One pass over the bytes.
fn push_script_json(out: &mut String, json: &str) {
    let bytes = json.as_bytes();
    let (mut in_string, mut escaped, mut from) = (false, false, 0);
    for (i, &b) in bytes.iter().enumerate() {
        let skip = if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            false
        } else {
            if b == b'"' {
                in_string = true;
            }
            matches!(b, b' ' | b'\n' | b'\r' | b'\t')
        };
        if skip || b == b'<' {
            // Both are ASCII, so `i` is on a character boundary.
            out.push_str(&json[from..i]);
            if b == b'<' {
                out.push_str("\\u003c");
            }
            from = i + 1;
        }
    }
    out.push_str(&json[from..]);
}

fn render(doc: Doc, points: &[Point], history: Option<&Path>, now: jiff::Timestamp) -> String {
    use minijinja::value::Serde;
    use minijinja::{Environment, Value as J};
    let mut env = Environment::new();
    // The `.html` name turns on HTML auto-escaping for every value not marked safe.
    if let Err(e) = env.add_template("report.html", TEMPLATE) {
        return format!("<!DOCTYPE html><title>driftlock</title><p>template error: {e}</p>\n");
    }
    let mut kinds: Vec<(String, u64)> = doc.summary["by_kind"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let ctx = minijinja::context! {
        version => env!("CARGO_PKG_VERSION"),
        command => doc.command.as_str(),
        gate => doc.gate.as_str(),
        generated => format!("generated {}", now.strftime("%Y-%m-%d %H:%M UTC")),
        source => doc.source.as_deref(),
        summary => J::from(Serde(&doc.summary)),
        kinds => J::from(Serde(&kinds)),
        errors => J::from(Serde(&doc.errors)),
        notes => J::from(Serde(&doc.notes)),
        resolved => J::from(Serde(&doc.resolved)),
        resolved_count => doc.resolved_count,
        runs => points.len(),
        history => history.map(display_path),
        coverage_svg => J::from_safe_string(coverage_svg(points)),
        kinds_svg => J::from_safe_string(kinds_svg(points)),
        findings_json => J::from_safe_string(doc.findings_json),
        footer => format!(
            "driftlock {} · schema {} · exit status: 0 gate open, 1 closed by findings, 2 could not audit",
            env!("CARGO_PKG_VERSION"),
            super::SCHEMA
        ),
    };
    match env.get_template("report.html").and_then(|t| t.render(ctx)) {
        Ok(s) => s,
        Err(e) => format!("<!DOCTYPE html><title>driftlock</title><p>template error: {e}</p>\n"),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn label(p: &Point) -> String {
    p.time.map(|t| t.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "this report".to_owned())
}

/// Colours of the kinds: mid tones readable on light and dark backgrounds.
const PALETTE: [&str; 12] = [
    "#e5534b", "#4493f8", "#d4a72c", "#57ab5a", "#b083f0", "#e0823d", "#39c5cf", "#db61a2", "#8d96a0", "#6cb6ff",
    "#ae7c14", "#3fb950",
];

const W: f64 = 480.0;
const H: f64 = 180.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

fn x_of(i: usize, n: usize) -> f64 {
    let w = W - LEFT - RIGHT;
    if n <= 1 { LEFT + w / 2.0 } else { LEFT + w * i as f64 / (n - 1) as f64 }
}

fn axes(out: &mut String, ticks: &[(f64, String)], points: &[Point]) {
    for (y, text) in ticks {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="currentColor" stroke-opacity=".15"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="currentColor" fill-opacity=".7">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            esc(text)
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            out,
            r#"<text x="{LEFT}" y="{:.1}" font-size="10" fill="currentColor" fill-opacity=".7">{}</text>"#,
            H - 8.0,
            esc(&label(first))
        );
        if points.len() > 1 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="currentColor" fill-opacity=".7">{}</text>"#,
                W - RIGHT,
                H - 8.0,
                esc(&label(last))
            );
        }
    }
}

/// Coverage over time: a line over the runs that compared inventories.
pub fn coverage_svg(points: &[Point]) -> String {
    let mut out = format!(
        r#"<svg class="coverage" viewBox="0 0 {W} {H}" role="img" aria-label="coverage over time" xmlns="http://www.w3.org/2000/svg">"#
    );
    let y_of = |c: f64| TOP + (H - TOP - BOTTOM) * (1.0 - c.clamp(0.0, 100.0) / 100.0);
    axes(&mut out, &[(y_of(100.0), "100%".into()), (y_of(50.0), "50%".into()), (y_of(0.0), "0%".into())], points);
    let n = points.len();
    let with: Vec<(usize, f64)> = points.iter().enumerate().filter_map(|(i, p)| p.coverage.map(|c| (i, c))).collect();
    if with.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="currentColor" fill-opacity=".7">no inventory was compared in these runs</text>"#,
            W / 2.0,
            H / 2.0
        );
    } else {
        let pts: Vec<String> = with.iter().map(|(i, c)| format!("{:.1},{:.1}", x_of(*i, n), y_of(*c))).collect();
        let _ =
            write!(out, r##"<polyline fill="none" stroke="#4493f8" stroke-width="2" points="{}"/>"##, pts.join(" "));
        for (i, c) in &with {
            let _ = write!(
                out,
                r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="3" fill="#4493f8" data-coverage="{c}"><title>{}: {c}%</title></circle>"##,
                x_of(*i, n),
                y_of(*c),
                esc(&label(&points[*i]))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Findings by kind over time: one stacked bar per run, and a legend.
pub fn kinds_svg(points: &[Point]) -> String {
    let mut kinds: Vec<&str> = points.iter().flat_map(|p| p.by_kind.keys().map(String::as_str)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let per_row = 3;
    let legend_rows = kinds.len().div_ceil(per_row);
    let height = H + 16.0 * legend_rows as f64;
    let mut out = format!(
        r#"<svg class="kinds" viewBox="0 0 {W} {height}" role="img" aria-label="findings by kind over time" xmlns="http://www.w3.org/2000/svg">"#
    );
    let max = points.iter().map(|p| p.by_kind.values().sum::<usize>()).max().unwrap_or(0).max(1);
    let y_of = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / max as f64);
    axes(&mut out, &[(y_of(max as f64), max.to_string()), (y_of(0.0), "0".into())], points);
    let n = points.len();
    let slot = (W - LEFT - RIGHT) / n.max(1) as f64;
    let bar = (slot * 0.7).clamp(1.0, 28.0);
    for (i, p) in points.iter().enumerate() {
        // Bars sit in equal slots (not on the line chart's points) so the first and last are whole.
        let x = LEFT + slot * (i as f64 + 0.5) - bar / 2.0;
        let total: usize = p.by_kind.values().sum();
        let _ =
            write!(out, r#"<g class="run" data-total="{total}"><title>{}: {total} findings</title>"#, esc(&label(p)));
        let mut acc = 0usize;
        for (k, v) in &p.by_kind {
            if *v == 0 {
                continue;
            }
            let ki = kinds.iter().position(|x| x == k).unwrap_or(0);
            let (y1, y0) = (y_of((acc + v) as f64), y_of(acc as f64));
            let _ = write!(
                out,
                r#"<rect class="bar" data-kind="{}" data-count="{v}" x="{x:.1}" y="{y1:.1}" width="{bar:.1}" height="{:.1}" fill="{}"><title>{}: {} {v}</title></rect>"#,
                esc(k),
                (y0 - y1).max(0.5),
                PALETTE[ki % PALETTE.len()],
                esc(&label(p)),
                esc(k)
            );
            acc += v;
        }
        out.push_str("</g>");
    }
    if kinds.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="currentColor" fill-opacity=".7">no findings in these runs</text>"#,
            W / 2.0,
            H / 2.0
        );
    }
    for (i, k) in kinds.iter().enumerate() {
        let (col, row) = (i % per_row, i / per_row);
        let x = LEFT + col as f64 * (W - LEFT) / per_row as f64;
        let y = H + 4.0 + row as f64 * 16.0;
        let _ = write!(
            out,
            r#"<g class="legend"><rect x="{x:.1}" y="{y:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="currentColor">{}</text></g>"#,
            PALETTE[i % PALETTE.len()],
            x + 14.0,
            y + 9.0,
            esc(k)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_element() {
        let s = script_json(r#"[{"message":"</script><script>alert(1)</script><!--"}]"#);
        assert!(!s.contains('<'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0]["message"], "</script><script>alert(1)</script><!--");
    }

    #[test]
    fn script_json_drops_only_the_whitespace_between_tokens() {
        let pretty = "[\n  {\n    \"message\": \"a  b\\\"\\n <c>\",\n    \"line\": 3\n  }\n]";
        let s = script_json(pretty);
        assert_eq!(s, r#"[{"message":"a  b\"\n \u003cc>","line":3}]"#);
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), serde_json::from_str::<Value>(pretty).unwrap());
    }

    fn point(c: Option<f64>, k: &[(&str, usize)]) -> Point {
        Point { time: None, by_kind: k.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect(), coverage: c }
    }

    /// The numbers of `attr="…"` in `svg`, in order.
    fn attrs(svg: &str, attr: &str) -> Vec<f64> {
        let key = format!(" {attr}=\"");
        svg.match_indices(&key)
            .map(|(i, _)| {
                let rest = &svg[i + key.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn coverage_points_sit_at_their_value() {
        let svg = coverage_svg(&[point(Some(100.0), &[]), point(Some(0.0), &[]), point(Some(50.0), &[])]);
        let circles = &svg[svg.find("<circle").unwrap()..];
        assert_eq!(attrs(circles, "cy"), vec![TOP, H - BOTTOM, TOP + (H - TOP - BOTTOM) / 2.0]);
        assert_eq!(attrs(circles, "cx"), vec![LEFT, LEFT + (W - LEFT - RIGHT) / 2.0, W - RIGHT]);
        // One run: in the middle.
        let svg = coverage_svg(&[point(Some(75.0), &[])]);
        let circles = &svg[svg.find("<circle").unwrap()..];
        assert_eq!(attrs(circles, "cx"), vec![LEFT + (W - LEFT - RIGHT) / 2.0]);
        assert!(svg.contains("<title>this report: 75%</title>"));
    }

    #[test]
    fn bars_stack_to_each_run_total() {
        let svg = kinds_svg(&[point(None, &[("drifted", 6), ("missing", 2)]), point(None, &[("drifted", 4)])]);
        let runs: Vec<&str> = svg.split(r#"<g class="run""#).skip(1).map(|r| &r[..r.find("</g>").unwrap()]).collect();
        let heights = |run: &str| attrs(run, "height").iter().sum::<f64>();
        let full = H - TOP - BOTTOM;
        assert!((heights(runs[0]) - full).abs() < 0.2, "the largest run fills the plot");
        assert!((heights(runs[1]) - full / 2.0).abs() < 0.2, "half the findings, half the height");
        // The same kind has the same colour in every run, and the legend says which.
        assert_eq!(svg.matches(r##"data-kind="drifted" "##).count(), 2);
        let fill = |kind: &str| {
            let at = svg.find(&format!(r#"data-kind="{kind}""#)).unwrap();
            let rest = &svg[at..];
            let f = &rest[rest.find("fill=\"").unwrap() + 6..];
            f[..f.find('"').unwrap()].to_owned()
        };
        assert_ne!(fill("drifted"), fill("missing"));
        assert!(svg.contains(&format!(r#"fill="{}"/><text"#, fill("drifted"))), "legend colour");
        assert!(kinds_svg(&[point(None, &[])]).contains("no findings in these runs"));
        assert!(kinds_svg(&[]).starts_with("<svg"), "no run at all still draws an empty chart");
    }

    #[test]
    fn chart_text_is_escaped() {
        let svg = kinds_svg(&[point(None, &[("<script>x</script>", 1)])]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
    }

    #[test]
    fn the_summary_is_read_from_the_ends_of_a_report() {
        let dir = tempfile::tempdir().unwrap();
        // Members in the order a report's struct writes them (json! would sort them).
        #[derive(serde::Serialize)]
        struct R {
            schema: &'static str,
            command: &'static str,
            findings: Value,
            summary: Value,
            resolved: Value,
        }
        let r = R {
            schema: "driftlock/report/v1",
            command: "scan",
            // A string that looks like the member, escaped as JSON escapes it.
            findings: serde_json::json!([{"message": "x\n  \"summary\": {\"by_kind\": {\"fake\": 9}}"}]),
            summary: serde_json::json!({"by_kind": {"drifted": 2}, "inventory": {"coverage": 87.5}}),
            resolved: serde_json::json!([{"summary": {"by_kind": {"fake": 1}}}]),
        };
        let report = serde_json::to_value(&r).unwrap();
        let pretty = dir.path().join("pretty.json");
        std::fs::write(&pretty, serde_json::to_string_pretty(&r).unwrap()).unwrap();
        let (command, summary) = head_and_summary(&pretty).unwrap();
        assert_eq!(command, "scan");
        assert_eq!(summary, report["summary"]);
        let p = point_of(&summary, None);
        assert_eq!((p.by_kind["drifted"], p.coverage), (2, Some(87.5)));
        // Not written by driftlock's pretty-printer: read whole (by the caller).
        let compact = dir.path().join("compact.json");
        std::fs::write(&compact, serde_json::to_string(&report).unwrap()).unwrap();
        assert!(head_and_summary(&compact).is_none());
        let other = dir.path().join("other.json");
        std::fs::write(&other, "{\n  \"schema\": \"other\"\n}").unwrap();
        assert!(head_and_summary(&other).is_none());
    }

    #[test]
    fn charts_draw_every_run() {
        let p = |c: Option<f64>, k: &[(&str, usize)]| Point {
            time: None,
            by_kind: k.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect(),
            coverage: c,
        };
        let points =
            vec![p(Some(80.0), &[("drifted", 2)]), p(None, &[]), p(Some(90.5), &[("drifted", 1), ("unmanaged", 3)])];
        let svg = coverage_svg(&points);
        assert_eq!(svg.matches("<circle").count(), 2);
        let svg = kinds_svg(&points);
        assert_eq!(svg.matches(r#"<g class="run""#).count(), 3);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 3);
        assert_eq!(svg.matches(r#"class="legend""#).count(), 2);
        assert!(coverage_svg(&[p(None, &[])]).contains("no inventory was compared"));
    }
}
