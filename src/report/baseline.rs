//! What changed since the last run: the baseline report (`--baseline FILE`), the history folder
//! every run's report is kept in (`--history DIR`), and the comparison that marks each finding
//! `new` or `unchanged` and lists the `resolved` ones.
//!
//! Findings are compared by their fingerprint, which is stable across runs and machines. The
//! comparison changes what people are told, never the gate: an error finding closes it whether
//! it is new or not.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Gate, Report};
use crate::code;
use crate::error::InputError;
use crate::source::display_path;

/// A finding's place against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not in the baseline report.
    New,
    /// In the baseline report too (same fingerprint).
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Unchanged => "unchanged",
        }
    }
}

/// The summary's counts against the baseline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The baseline report compared with.
    pub file: String,
    pub new: usize,
    pub unchanged: usize,
    /// Findings of the baseline this run no longer has.
    pub resolved: usize,
}

/// A finding of an earlier report, as its JSON carried it (the `resolved` entries).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PastFinding {
    pub kind: String,
    pub code: String,
    pub severity: String,
    #[serde(default)]
    pub condition: String,
    pub message: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub cloud_id: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    #[serde(default)]
    pub help: String,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
}

/// An earlier report, read back.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from (display path).
    pub file: String,
    pub command: String,
    pub findings: Vec<PastFinding>,
}

/// The members that tell a driftlock report from the other JSON people keep around; everything
/// else is skipped unread.
#[derive(Deserialize)]
pub(crate) struct Probe {
    schema: Option<String>,
    pub(crate) command: Option<String>,
    pub(crate) errors: Option<Vec<IgnoredAny>>,
    runs: Option<IgnoredAny>,
    terraform_version: Option<IgnoredAny>,
    resource_changes: Option<IgnoredAny>,
    planned_values: Option<IgnoredAny>,
    lineage: Option<IgnoredAny>,
    values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Doc {
    command: String,
    findings: Vec<PastFinding>,
}

/// The schema this driftlock writes and reads.
fn schema_ok(s: Option<&str>) -> bool {
    s == Some(super::SCHEMA)
}

/// What a JSON file that is not a driftlock report looks like, for the diagnostic.
fn looks_like(p: &Probe) -> String {
    if let Some(s) = &p.schema {
        return if s.starts_with("driftlock/report/") {
            format!("it is a driftlock report of schema `{s}`, which this driftlock ({}) does not read", super::SCHEMA)
        } else {
            format!("its schema is `{s}`, not `{}`", super::SCHEMA)
        };
    }
    if p.runs.is_some() {
        "it is a SARIF log (--format sarif); keep the report as --format json".to_owned()
    } else if p.resource_changes.is_some() || p.planned_values.is_some() {
        "it is a Terraform plan".to_owned()
    } else if p.lineage.is_some() || p.terraform_version.is_some() || p.values.is_some() {
        "it is a Terraform state".to_owned()
    } else {
        format!("it has no \"schema\": \"{}\"", super::SCHEMA)
    }
}

/// Reads a file that must be a driftlock JSON report; `role` says what it was given as (`the
/// baseline`, `the report to merge`) for the diagnostics.
pub fn read_report_text(path: &Path, role: &str) -> Result<String, InputError> {
    let name = display_path(path);
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ if path.is_dir() => "it is a directory".to_owned(),
            _ => e.to_string(),
        };
        InputError::new(&code::UNREADABLE, &name, format!("cannot read {role} {name}: {why}"))
            .with_help("pass the JSON report of an earlier run (`--format json --output FILE`)")
    })?;
    if bytes.is_empty() {
        return Err(InputError::new(&code::EMPTY_INPUT, &name, format!("{role} {name} is empty"))
            .with_help("the earlier run did not finish writing its report; pass another one"));
    }
    String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            &code::BAD_ENCODING,
            &name,
            format!("{role} {name} is not UTF-8 text (byte {}): not a JSON report", e.utf8_error().valid_up_to()),
        )
        .with_help("pass the JSON report of an earlier run (`--format json`)")
    })
}

/// Checks that `text` is a driftlock report; returns its probe (command, error count).
pub(crate) fn probe(name: &str, role: &str, text: &str) -> Result<Probe, InputError> {
    match serde_json::from_str::<Probe>(text) {
        Ok(p) if schema_ok(p.schema.as_deref()) => Ok(p),
        Ok(p) => Err(not_a_report(name, role, &looks_like(&p))),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            Err(not_a_report(name, role, "its JSON is not an object"))
        }
        Err(e) => {
            let mut err = InputError::from_json(name, text, 0, text, &e);
            err.message = format!("{role} {}", err.message);
            Err(err)
        }
    }
}

fn not_a_report(name: &str, role: &str, why: &str) -> InputError {
    InputError::new(&code::NOT_A_REPORT, name, format!("{role} {name} is not a driftlock report: {why}")).with_help(
        "pass the JSON report of an earlier run (`--format json --output FILE`, or the files `--history DIR` keeps)",
    )
}

/// Reads and checks a baseline report.
pub fn load(path: &Path) -> Result<Baseline, InputError> {
    let name = display_path(path);
    let text = read_report_text(path, "the baseline")?;
    probe(&name, "the baseline", &text)?;
    let doc: Doc = serde_json::from_str(&text).map_err(|e| {
        let mut err = InputError::from_json(&name, &text, 0, &text, &e);
        err.message = format!("the baseline {}", err.message);
        err
    })?;
    Ok(Baseline { file: name, command: doc.command, findings: doc.findings })
}

/// Marks each finding `new` or `unchanged` against `baseline`, lists the resolved ones and counts
/// each in the summary.
pub fn compare(report: &mut Report, baseline: &Baseline) {
    let before: FxHashSet<&str> = baseline.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let (mut new, mut unchanged) = (0, 0);
    for f in &mut report.findings {
        let status = if before.contains(f.fingerprint.as_str()) { Status::Unchanged } else { Status::New };
        match status {
            Status::New => new += 1,
            Status::Unchanged => unchanged += 1,
        }
        f.status = Some(status);
    }
    let now: FxHashSet<&str> = report.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut listed = FxHashSet::default();
    let resolved: Vec<PastFinding> = baseline
        .findings
        .iter()
        .filter(|f| !now.contains(f.fingerprint.as_str()) && listed.insert(f.fingerprint.as_str()))
        .cloned()
        .collect();
    if baseline.command != report.command {
        report.notes.push(format!(
            "the baseline {} was written by `driftlock {}`, this report by `driftlock {}`: most findings compare as new or resolved",
            baseline.file, baseline.command, report.command
        ));
    }
    report.summary.baseline =
        Some(BaselineSummary { file: baseline.file.clone(), new, unchanged, resolved: resolved.len() });
    report.resolved = Some(resolved);
}

impl Report {
    /// Adds an input that could not be audited after the report was made (a baseline that
    /// cannot be read): the gate closes and the exit status becomes 2. The same error met twice
    /// (a broken history report is read for the baseline and again for the page's charts) is
    /// reported once.
    pub fn add_input_error(&mut self, e: InputError) {
        let record = e.record();
        self.gate = Gate::Closed;
        if self.errors.iter().any(|r| {
            (r.code, &r.message, &r.file, r.line, r.column)
                == (record.code, &record.message, &record.file, record.line, record.column)
        }) {
            return;
        }
        self.errors.push(record);
        self.input_errors.push(e);
        self.summary.input_errors += 1;
    }
}

/// The history folder: one JSON report per run, named `YYYYMMDDTHHMMSS.mmmZ-HASH8.json` (UTC, so
/// names sort in time order; the hash tells apart runs of the same millisecond).
pub struct History {
    pub dir: PathBuf,
}

/// One stored report.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub time: jiff::Timestamp,
}

/// Parses a history file name; `None` for anything else in the folder.
fn entry_time(name: &str) -> Option<jiff::Timestamp> {
    let stem = name.strip_suffix(".json")?;
    let (time, hash) = stem.rsplit_once('-')?;
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || time.len() != 19 {
        return None;
    }
    // 20261125T021448.123Z → 2026-11-25T02:14:48.123Z
    let b = time.as_bytes();
    if b[8] != b'T' || b[15] != b'.' || b[18] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}.{}Z",
        &time[0..4],
        &time[4..6],
        &time[6..8],
        &time[9..11],
        &time[11..13],
        &time[13..15],
        &time[16..18]
    );
    iso.parse().ok()
}

fn entry_name(t: jiff::Timestamp, hash: &str) -> String {
    let ms = t.subsec_millisecond() / 10;
    // Two digits of sub-second (centiseconds) keep the name short and sortable.
    format!("{}.{ms:02}Z-{hash}.json", t.strftime("%Y%m%dT%H%M%S"))
}

impl History {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        History { dir: dir.into() }
    }

    /// Every stored report, oldest first. A folder that does not exist yet is an empty history.
    pub fn entries(&self) -> Result<Vec<Entry>, InputError> {
        let name = display_path(&self.dir);
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(InputError::new(
                    &code::UNREADABLE,
                    &name,
                    format!("cannot read the history folder {name}: {e}"),
                )
                .with_help("pass --history a folder driftlock may read and write"));
            }
        };
        let mut out: Vec<Entry> = rd
            .filter_map(Result::ok)
            .filter_map(|d| {
                let n = d.file_name();
                let time = entry_time(n.to_str()?)?;
                Some(Entry { path: d.path(), time })
            })
            .collect();
        out.sort_by(|a, b| (a.time, &a.path).cmp(&(b.time, &b.path)));
        Ok(out)
    }

    /// The baseline a run of `command` compares with: the latest stored report of the same
    /// command that audited every input (a run that could not audit is no baseline: what it
    /// did not see would look resolved).
    pub fn latest_baseline(&self, command: &str) -> Result<Option<Baseline>, InputError> {
        for e in self.entries()?.iter().rev() {
            let name = display_path(&e.path);
            let text = read_report_text(&e.path, "the history report")?;
            let p = probe(&name, "the history report", &text)?;
            if p.command.as_deref() != Some(command) || p.errors.is_some_and(|e| !e.is_empty()) {
                continue;
            }
            return load(&e.path).map(Some);
        }
        Ok(None)
    }

    /// Stores a report's JSON: written to a temporary file in the folder, synced, then renamed
    /// into place, so a reader never sees half a report. Returns the stored path.
    pub fn store(&self, json: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let mut now = jiff::Timestamp::now();
        // Names must sort in run order even when the clock is coarse or runs are quick.
        if let Some(last) = self.entries().ok().and_then(|e| e.last().map(|e| e.time)) {
            if now <= last {
                now = last + jiff::SignedDuration::from_millis(10);
            }
        }
        let digest = Sha256::digest(json.as_bytes());
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let name = entry_name(now, &hash);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(json.as_bytes())?;
            f.sync_all()?;
            let path = self.dir.join(&name);
            std::fs::rename(&tmp, &path)?;
            Ok(path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_round_trip_and_sort() {
        let t: jiff::Timestamp = "2026-11-25T02:14:48.123Z".parse().unwrap();
        let name = entry_name(t, "0badf00d");
        assert_eq!(name, "20261125T021448.12Z-0badf00d.json");
        assert_eq!(entry_time(&name), Some("2026-11-25T02:14:48.12Z".parse().unwrap()));
        assert_eq!(entry_time("notes.json"), None);
        assert_eq!(entry_time(".20261125T021448.12Z-0badf00d.json.1.tmp"), None);
    }
}
