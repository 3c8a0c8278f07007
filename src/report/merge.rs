//! `driftlock report merge`: many reports (one per account or workspace) into one organisation
//! report with an account dimension, in every output format, in bounded memory.
//!
//! Each report is read once and streamed: its findings are parsed one at a time into borrowed
//! typed records, counted, rendered in the output format and dropped; a few reports are read at
//! a time, in parallel, and their rendered findings are appended in path order to an anonymous
//! temporary file. What is kept is per-report and per-account counts. The header (gate, summary)
//! is written once every report was read, then the findings are copied after it.
//!
//! Rules:
//! - reports are read in path order (a directory is walked for `*.json`, sorted); findings keep
//!   their report's order, so the merged order is deterministic;
//! - a finding keeps its `account`; one without takes its report's account, which is the report
//!   file's name without `.json` (`123456789012.json`, `prod.json`), or, when that name says
//!   nothing (`report.json`, `driftlock.json`, `latest.json`, a `--history` entry), the name of
//!   the folder it is in (`reports/123456789012/report.json`). A name the account map knows as a
//!   readable name stands for its id;
//! - the gate is closed when any report's gate is closed or any finding is an error; the merge
//!   could not audit (exit 2) when any report could not audit (its `errors`), or is not a
//!   driftlock report, or cannot be read;
//! - fingerprints are kept as they are.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::account::AccountMap;
use super::{Gate, Report, Summary};
use crate::code::{self, CodeInfo, Severity};
use crate::error::{ErrorRecord, InputError};
use crate::source::display_path;

/// The output formats of a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MergeFormat {
    /// Diagnostics, then the summary and a table by account
    Human,
    /// One `driftlock/report/v1` JSON object (with `summary.accounts` and `reports`)
    Json,
    /// SARIF 2.1.0, for code-scanning upload
    Sarif,
    /// A comment or job summary: verdict, a table by account, one block per finding
    Markdown,
    /// GitHub Actions workflow commands (annotations)
    Github,
}

/// What to merge and how to write it.
pub struct MergeOptions {
    pub paths: Vec<PathBuf>,
    pub format: MergeFormat,
    pub accounts: AccountMap,
    pub human: super::human::Options,
    pub progress: bool,
}

/// One account of an organisation report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountSummary {
    /// The account id (AWS account, GCP project, Azure subscription), or what the report's file
    /// or folder name says.
    pub account: String,
    /// Its readable name, from the account map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Reports whose own account this is.
    pub reports: usize,
    /// Closed by an error finding, a closed report of the account or an input error.
    pub gate: Option<Gate>,
    pub findings: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub input_errors: usize,
}

/// One merged report, as listed in the organisation report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportEntry {
    pub file: String,
    pub account: Option<String>,
    pub command: Option<String>,
    /// `open` | `closed`; `null` when it could not be read as a report.
    pub gate: Option<Gate>,
    pub findings: usize,
    pub input_errors: usize,
}

/// An input error of a merged report, or a report that could not be merged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedError {
    pub code: String,
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    /// The report it comes from.
    #[serde(default)]
    pub report: Option<String>,
}

impl MergedError {
    fn from_input(e: &InputError, report: &str) -> Self {
        let ErrorRecord { code, kind, message, help, file, line, column } = e.record();
        MergedError {
            code: code.to_owned(),
            kind: kind.to_owned(),
            message,
            help,
            file,
            line,
            column,
            report: Some(report.to_owned()),
        }
    }
}

/// A string borrowed from the report's text when it has no escapes, owned otherwise.
struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

impl Default for Str<'_> {
    fn default() -> Self {
        Str(Cow::Borrowed(""))
    }
}

/// The top-level members of a report that the merge reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Key {
    Schema,
    Command,
    Gate,
    Findings,
    Errors,
    Summary,
    #[serde(other)]
    Other,
}

/// A finding as a report carries it, borrowed from the report's text where it can be.
#[derive(Deserialize)]
struct InFinding<'a> {
    #[serde(borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    code: Str<'a>,
    #[serde(borrow)]
    severity: Str<'a>,
    #[serde(borrow, default)]
    message: Str<'a>,
    #[serde(borrow, default)]
    address: Option<Str<'a>>,
    #[serde(borrow, default)]
    resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    cloud_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    file: Option<Str<'a>>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    column: Option<u64>,
    #[serde(borrow, default)]
    help: Str<'a>,
    #[serde(borrow)]
    fingerprint: Str<'a>,
    #[serde(borrow, default)]
    diff: Option<Str<'a>>,
    #[serde(default)]
    evidence: Option<Value>,
    #[serde(borrow, default)]
    status: Option<Str<'a>>,
    #[serde(borrow, default)]
    phase: Option<Str<'a>>,
    #[serde(borrow, default)]
    account: Option<Str<'a>>,
    #[serde(borrow, default)]
    account_name: Option<Str<'a>>,
}

/// The finding as the merged report writes it (the fields and order of `driftlock/report/v1`).
#[derive(Serialize)]
struct OutFinding<'f, 'a> {
    kind: &'static str,
    code: &'static str,
    severity: Severity,
    condition: &'static str,
    message: &'f str,
    address: Option<&'f str>,
    resource_type: Option<&'f str>,
    cloud_id: Option<&'f str>,
    file: Option<&'f str>,
    line: Option<u64>,
    column: Option<u64>,
    help: &'f str,
    fingerprint: &'f str,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'f str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'f Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'f str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'f str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'f str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_name: Option<&'f str>,
    #[serde(skip)]
    _in: std::marker::PhantomData<&'a ()>,
}

#[derive(Deserialize, Default)]
struct InSummary {
    #[serde(default)]
    inputs: Option<InInputs>,
}

#[derive(Deserialize, Default)]
struct InInputs {
    #[serde(default)]
    files: usize,
    #[serde(default)]
    states: usize,
    #[serde(default)]
    plans: usize,
    #[serde(default)]
    managed_instances: usize,
    #[serde(default)]
    data_sources: usize,
}

/// Counts of one account within one report.
#[derive(Default, Clone)]
struct Counts {
    findings: usize,
    by_severity: [usize; 3],
}

/// What is kept of one report once its findings were rendered.
struct Part {
    file: String,
    home: String,
    command: Option<String>,
    gate: Option<Gate>,
    errors: Vec<MergedError>,
    inputs: InInputs,
    by_kind: BTreeMap<&'static str, usize>,
    by_condition: BTreeMap<&'static str, usize>,
    by_account: BTreeMap<String, Counts>,
    findings: usize,
    rendered: Vec<u8>,
}

struct Ctx<'o> {
    opts: &'o MergeOptions,
    rules: &'o [&'static CodeInfo],
}

const ROLE: &str = "the report to merge";

/// Runs the merge, writing to `out`; returns the exit status.
pub fn merge(opts: &MergeOptions, out: &mut dyn Write) -> std::io::Result<i32> {
    let mut errors: Vec<MergedError> = Vec::new();
    let files = expand(&opts.paths, &mut errors);
    let rules: Vec<&'static CodeInfo> = code::ALL.iter().copied().filter(|c| !c.input_error).collect();
    let ctx = Ctx { opts, rules: &rules };
    let mut spill = tempfile::tempfile()?;
    let mut spilled = 0u64;
    let mut reports = Vec::with_capacity(files.len());
    let mut summary = Summary { ..Summary::default() };
    for s in [Severity::Error, Severity::Warning, Severity::Note] {
        summary.by_severity.insert(s.as_str(), 0);
    }
    let mut accounts: BTreeMap<String, AccountSummary> = BTreeMap::new();
    let mut closed = false;
    let bar = progress(opts.progress, files.len());
    let window = rayon::current_num_threads().max(1) * 4;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut spill);
        for chunk in files.chunks(window) {
            let parts: Vec<Part> = chunk.par_iter().map(|p| read_part(p, &ctx)).collect();
            for part in parts {
                bar.inc(1);
                w.write_all(&part.rendered)?;
                spilled += part.rendered.len() as u64;
                closed |= part.gate == Some(Gate::Closed) || !part.errors.is_empty();
                summary.findings += part.findings;
                for (k, n) in &part.by_kind {
                    *summary.by_kind.entry(k).or_default() += n;
                }
                for (k, n) in &part.by_condition {
                    *summary.by_condition.entry(k).or_default() += n;
                }
                let i = &part.inputs;
                let s = &mut summary.inputs;
                s.files += i.files;
                s.states += i.states;
                s.plans += i.plans;
                s.managed_instances += i.managed_instances;
                s.data_sources += i.data_sources;
                let home = accounts.entry(part.home.clone()).or_insert_with(|| account_row(&part.home, opts));
                home.reports += 1;
                home.input_errors += part.errors.len();
                if part.gate != Some(Gate::Open) || !part.errors.is_empty() {
                    home.gate = Some(Gate::Closed);
                }
                for (a, c) in &part.by_account {
                    let row = accounts.entry(a.clone()).or_insert_with(|| account_row(a, opts));
                    row.findings += c.findings;
                    for (sev, n) in [Severity::Error, Severity::Warning, Severity::Note].iter().zip(c.by_severity) {
                        *row.by_severity.entry(sev.as_str()).or_default() += n;
                        *summary.by_severity.entry(sev.as_str()).or_default() += n;
                    }
                    if c.by_severity[0] > 0 {
                        row.gate = Some(Gate::Closed);
                        closed = true;
                    }
                    *summary.by_account.entry(a.clone()).or_default() += c.findings;
                }
                reports.push(ReportEntry {
                    file: part.file,
                    account: Some(part.home),
                    command: part.command,
                    gate: part.gate,
                    findings: part.findings,
                    input_errors: part.errors.len(),
                });
                errors.extend(part.errors);
            }
        }
        w.flush()?;
    }
    bar.finish_and_clear();
    if files.is_empty() && errors.is_empty() {
        let e = InputError::new(&code::NO_INPUTS, "", "there is no report to merge")
            .with_help("pass JSON reports (`--format json`) or folders of them");
        errors.push(MergedError::from_input(&e, ""));
    }
    closed |= !errors.is_empty();
    for row in accounts.values_mut() {
        for s in [Severity::Error, Severity::Warning, Severity::Note] {
            row.by_severity.entry(s.as_str()).or_default();
        }
        row.gate.get_or_insert(Gate::Open);
    }
    summary.input_errors = errors.len();
    summary.accounts = accounts.into_values().collect();
    let gate = if closed { Gate::Closed } else { Gate::Open };
    spill.seek(std::io::SeekFrom::Start(0))?;
    let head = Head { gate, errors: &errors, summary: &summary, reports: &reports };
    write_document(opts, &head, &mut spill, spilled, out)?;
    Ok(if !errors.is_empty() {
        super::exit::NOT_AUDITED
    } else if closed {
        super::exit::CLOSED
    } else {
        super::exit::OPEN
    })
}

fn account_row(id: &str, opts: &MergeOptions) -> AccountSummary {
    AccountSummary { account: id.to_owned(), name: opts.accounts.name(id).map(str::to_owned), ..Default::default() }
}

fn progress(enabled: bool, len: usize) -> indicatif::ProgressBar {
    if !enabled || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(len as u64), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} merging {pos}/{len} reports {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Files to merge: each path, a directory walked for `*.json` (sorted, hidden entries skipped).
fn expand(paths: &[PathBuf], errors: &mut Vec<MergedError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = files.len();
            for entry in walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            {
                match entry {
                    Ok(e) if e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".json") => {
                        files.push(e.into_path());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let err = InputError::new(
                            &code::UNREADABLE,
                            display_path(p),
                            format!("cannot read the folder of reports {}: {e}", display_path(p)),
                        );
                        errors.push(MergedError::from_input(&err, &display_path(p)));
                    }
                }
            }
            if files.len() == before {
                let err = InputError::new(
                    &code::NO_INPUTS,
                    display_path(p),
                    format!("the folder {} holds no JSON report to merge", display_path(p)),
                )
                .with_help("a scheduled run writes its report with `--format json --output DIR/ACCOUNT.json`");
                errors.push(MergedError::from_input(&err, &display_path(p)));
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The account a report stands for when its findings do not say: its file name, or its folder's
/// name when the file name is generic.
pub fn home_account(path: &Path, map: &AccountMap) -> String {
    let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = stem.strip_suffix(".json").unwrap_or(&stem).to_owned();
    let history = stem.len() > 9 && stem.as_bytes()[..8].iter().all(u8::is_ascii_digit) && stem.as_bytes()[8] == b'T';
    let generic = history
        || matches!(stem.as_str(), "report" | "driftlock" | "driftlock-report" | "latest" | "last" | "scan" | "merged");
    let name = if generic {
        path.parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or(stem)
    } else {
        stem
    };
    map.id_of(&name).map(str::to_owned).unwrap_or(name)
}

/// Reads one report: its findings rendered, its counts kept.
fn read_part(path: &Path, ctx: &Ctx<'_>) -> Part {
    let file = display_path(path);
    let home = home_account(path, &ctx.opts.accounts);
    let mut part = Part {
        file: file.clone(),
        home,
        command: None,
        gate: None,
        errors: Vec::new(),
        inputs: InInputs::default(),
        by_kind: BTreeMap::new(),
        by_condition: BTreeMap::new(),
        by_account: BTreeMap::new(),
        findings: 0,
        rendered: Vec::new(),
    };
    let text = match super::baseline::read_report_text(path, ROLE) {
        Ok(t) => t,
        Err(e) => {
            part.errors.push(MergedError::from_input(&e, &file));
            return part;
        }
    };
    let mut sink = Sink { ctx, part: &mut part, unknown: None, index: 0 };
    let mut de = serde_json::Deserializer::from_str(&text);
    let parsed = DocSeed { sink: &mut sink }.deserialize(&mut de).and_then(|doc| de.end().map(|()| doc));
    let unknown = sink.unknown.take();
    let fail = |part: &mut Part, e: InputError| {
        part.rendered.clear();
        part.by_account.clear();
        part.by_kind.clear();
        part.by_condition.clear();
        part.findings = 0;
        part.gate = None;
        part.errors.push(MergedError::from_input(&e, &file));
    };
    match parsed {
        Ok(doc) if doc.schema.as_deref() == Some(super::SCHEMA) => {
            if doc.gate.is_none() || !doc.has_findings {
                let e = InputError::new(
                    &code::UNEXPECTED_SHAPE,
                    &file,
                    format!("{ROLE} {file} has no `gate` or no `findings`: it is not a whole report"),
                )
                .with_help("pass the JSON report exactly as driftlock wrote it (`--format json`)");
                fail(&mut part, e);
                return part;
            }
            part.command = doc.command;
            part.gate = doc.gate;
            part.inputs = doc.inputs;
            for mut e in doc.errors {
                e.report = Some(file.clone());
                part.errors.push(e);
            }
            if let Some(e) = unknown {
                part.errors.push(MergedError::from_input(&e, &file));
            }
        }
        other => {
            let e = match super::baseline::probe(&file, ROLE, &text) {
                Err(e) => e,
                Ok(_) => match other {
                    Err(err) => {
                        let mut e = InputError::from_json(&file, &text, 0, &text, &err);
                        e.message = format!("{ROLE} {}", e.message);
                        e
                    }
                    Ok(_) => {
                        InputError::new(&code::NOT_A_REPORT, &file, format!("{ROLE} {file} is not a driftlock report"))
                    }
                },
            };
            fail(&mut part, e);
        }
    }
    part
}

/// Top-level members read from a report.
#[derive(Default)]
struct Doc {
    schema: Option<String>,
    command: Option<String>,
    gate: Option<Gate>,
    errors: Vec<MergedError>,
    inputs: InInputs,
    has_findings: bool,
}

/// Where each finding goes as it is parsed.
struct Sink<'c, 'o, 'p> {
    ctx: &'c Ctx<'o>,
    part: &'p mut Part,
    /// The first finding that could not be understood (DL0026).
    unknown: Option<InputError>,
    index: usize,
}

impl Sink<'_, '_, '_> {
    fn take(&mut self, f: InFinding<'_>) {
        self.index += 1;
        let info = code::lookup(&f.code).filter(|c| !c.input_error && c.name == &*f.kind);
        let severity = Severity::parse(&f.severity).filter(|_| matches!(&*f.severity, "error" | "warning" | "note"));
        let (Some(info), Some(severity)) = (info, severity) else {
            if self.unknown.is_none() {
                self.unknown = Some(
                    InputError::new(
                        &code::UNKNOWN_FINDING,
                        &self.part.file,
                        format!(
                            "{ROLE} {}: finding {} (`{}` {}, severity `{}`) is not one this driftlock knows",
                            self.part.file, self.index, &*f.code, &*f.kind, &*f.severity
                        ),
                    )
                    .with_help("merge with a driftlock at least as recent as the one that wrote the report"),
                );
            }
            return;
        };
        let opts = self.ctx.opts;
        let account: Cow<'_, str> = match &f.account {
            Some(a) if !a.is_empty() => Cow::Borrowed(&**a),
            _ => Cow::Owned(self.part.home.clone()),
        };
        let mapped = opts.accounts.name(&account);
        let account_name = f.account_name.as_deref().filter(|n| !n.is_empty()).or(mapped);
        let out = OutFinding {
            kind: info.name,
            code: info.code,
            severity,
            condition: info.condition.as_str(),
            message: &f.message,
            address: f.address.as_deref(),
            resource_type: f.resource_type.as_deref(),
            cloud_id: f.cloud_id.as_deref(),
            file: f.file.as_deref(),
            line: f.line,
            column: f.column,
            help: &f.help,
            fingerprint: &f.fingerprint,
            diff: f.diff.as_deref(),
            evidence: f.evidence.as_ref(),
            status: f.status.as_deref(),
            phase: f.phase.as_deref(),
            account: Some(&account),
            account_name,
            _in: std::marker::PhantomData,
        };
        render_finding(opts, self.ctx.rules, &out, &mut self.part.rendered);
        let p = &mut *self.part;
        p.findings += 1;
        *p.by_kind.entry(info.name).or_default() += 1;
        *p.by_condition.entry(info.condition.as_str()).or_default() += 1;
        let c = match p.by_account.get_mut(&*account) {
            Some(c) => c,
            None => p.by_account.entry(account.into_owned()).or_default(),
        };
        c.findings += 1;
        c.by_severity[severity as usize] += 1;
    }
}

struct DocSeed<'s, 'c, 'o, 'p> {
    sink: &'s mut Sink<'c, 'o, 'p>,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_, '_, '_> {
    type Value = Doc;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_, '_, '_> {
    type Value = Doc;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a driftlock report object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut doc = Doc::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Schema => doc.schema = map.next_value()?,
                Key::Command => doc.command = map.next_value()?,
                Key::Gate => doc.gate = map.next_value::<Option<GateIn>>()?.map(|g| g.0),
                Key::Findings => {
                    map.next_value_seed(FindingsSeed { sink: &mut *self.sink })?;
                    doc.has_findings = true;
                }
                Key::Errors => doc.errors = map.next_value()?,
                Key::Summary => {
                    let s: InSummary = map.next_value()?;
                    doc.inputs = s.inputs.unwrap_or_default();
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(doc)
    }
}

struct GateIn(Gate);

impl<'de> Deserialize<'de> for GateIn {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match &*Cow::<'de, str>::deserialize(d)? {
            "open" => Ok(GateIn(Gate::Open)),
            "closed" => Ok(GateIn(Gate::Closed)),
            other => Err(de::Error::invalid_value(de::Unexpected::Str(other), &"`open` or `closed`")),
        }
    }
}

struct FindingsSeed<'s, 'c, 'o, 'p> {
    sink: &'s mut Sink<'c, 'o, 'p>,
}

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of findings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(f) = seq.next_element::<InFinding<'de>>()? {
            self.sink.take(f);
        }
        Ok(())
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Appends one finding in the output format (JSON and SARIF items start with `,\n`; the first
/// comma is skipped when the document is written).
fn render_finding(opts: &MergeOptions, rules: &[&'static CodeInfo], f: &OutFinding<'_, '_>, buf: &mut Vec<u8>) {
    match opts.format {
        MergeFormat::Json => {
            buf.extend_from_slice(b",\n    ");
            let _ = serde_json::to_writer(&mut *buf, f);
        }
        MergeFormat::Sarif => {
            let mut text = f.message.to_owned();
            if let Some(d) = f.diff {
                text.push_str("\n\n");
                text.push_str(d);
            }
            let mut props = json!({ "kind": f.kind, "condition": f.condition, "help": f.help });
            if let Some(a) = f.account {
                props["account"] = json!(a);
            }
            if let Some(n) = f.account_name {
                props["account_name"] = json!(n);
            }
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": rules.iter().position(|c| c.code == f.code).unwrap_or(0),
                "level": level(f.severity),
                "kind": "fail",
                "message": { "text": text },
                "partialFingerprints": { "driftlock/v1": f.fingerprint },
                "properties": props
            });
            if let Some(s) = f.status {
                r["baselineState"] = json!(s);
            }
            if let Some(file) = f.file {
                let mut physical = json!({ "artifactLocation": { "uri": super::sarif::uri(file) } });
                if let Some(l) = f.line {
                    physical["region"] = json!({ "startLine": l, "startColumn": f.column.unwrap_or(1) });
                }
                let mut location = json!({ "physicalLocation": physical });
                let mut logical = Vec::new();
                if let Some(a) = f.address {
                    logical.push(json!({ "fullyQualifiedName": a, "kind": "resource" }));
                }
                if let Some(id) = f.cloud_id {
                    logical.push(json!({ "fullyQualifiedName": id, "kind": "object" }));
                }
                if !logical.is_empty() {
                    location["logicalLocations"] = Value::Array(logical);
                }
                r["locations"] = json!([location]);
            }
            buf.extend_from_slice(b",\n        ");
            let _ = serde_json::to_writer(&mut *buf, &r);
        }
        MergeFormat::Markdown => {
            use super::markdown::{cell, html};
            let icon = match f.severity {
                Severity::Error => "🛑",
                Severity::Warning => "⚠️",
                Severity::Note => "ℹ️",
            };
            let mut s = String::new();
            let _ = writeln!(
                s,
                "<details><summary>{icon} <b>{} {}</b> [{}] — {}</summary>\n",
                f.code,
                f.kind,
                html(&cell(&account_label(f.account, f.account_name))),
                html(f.message)
            );
            if let Some(file) = f.file {
                let _ = writeln!(s, "`{}{}`\n", file, f.line.map(|l| format!(":{l}")).unwrap_or_default());
            }
            if let Some(id) = f.cloud_id {
                let _ = writeln!(s, "Cloud id: `{id}`\n");
            }
            if !f.help.is_empty() {
                let _ = writeln!(s, "**What to do:** {}\n", html(f.help));
            }
            if let Some(d) = f.diff {
                let _ = writeln!(s, "```diff\n{d}```\n");
            }
            s.push_str("</details>\n\n");
            buf.extend_from_slice(s.as_bytes());
        }
        MergeFormat::Github => {
            use super::github::{data, property};
            let cmd = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut props = Vec::new();
            if let Some(file) = f.file {
                props.push(format!("file={}", property(file)));
            }
            if let Some(l) = f.line {
                props.push(format!("line={l}"));
                props.push(format!("col={}", f.column.unwrap_or(1)));
            }
            let title = format!("{} {} [{}]", f.code, f.kind, account_label(f.account, f.account_name));
            props.push(format!("title={}", property(&title)));
            let mut msg = f.message.to_owned();
            if let Some(d) = f.diff {
                msg.push('\n');
                msg.push_str(d);
            }
            if !f.help.is_empty() {
                msg.push_str("\nhelp: ");
                msg.push_str(f.help);
            }
            let _ = writeln!(buf, "::{cmd} {}::{}", props.join(","), data(&msg));
        }
        MergeFormat::Human => {
            let mut text = f.message.to_owned();
            if let Some(d) = f.diff {
                text.push('\n');
                for line in d.lines() {
                    let _ = write!(text, "\n    {line}");
                }
            }
            let _ = write!(text, "\n    account: {}", account_label(f.account, f.account_name));
            if let (Some(file), Some(line)) = (f.file, f.line) {
                let _ = write!(text, "\n    at {file}:{line}:{}", f.column.unwrap_or(1));
            } else if let Some(file) = f.file {
                let _ = write!(text, "\n    in {file}");
            }
            let status = f.status.map(|s| format!(" ({s})")).unwrap_or_default();
            let mut diag = miette::MietteDiagnostic::new(text)
                .with_code(format!("{} {}{status}", f.code, f.kind))
                .with_severity(match f.severity {
                    Severity::Error => miette::Severity::Error,
                    Severity::Warning => miette::Severity::Warning,
                    Severity::Note => miette::Severity::Advice,
                });
            if !f.help.is_empty() {
                diag = diag.with_help(f.help.to_owned());
            }
            let mut s = String::new();
            let _ = human_handler(opts.human).render_report(&mut s, &diag);
            s.push('\n');
            buf.extend_from_slice(s.as_bytes());
        }
    }
}

fn human_handler(o: super::human::Options) -> miette::GraphicalReportHandler {
    let theme = if o.color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    miette::GraphicalReportHandler::new_themed(theme).with_width(o.width).with_links(false)
}

/// `prod (123456789012)`, or the id alone.
fn account_label(id: Option<&str>, name: Option<&str>) -> String {
    match (id, name) {
        (Some(id), Some(n)) if n != id => format!("{n} ({id})"),
        (Some(id), _) => id.to_owned(),
        (None, Some(n)) => n.to_owned(),
        (None, None) => "unknown account".to_owned(),
    }
}

/// What the header and trailer are made of.
struct Head<'a> {
    gate: Gate,
    errors: &'a [MergedError],
    summary: &'a Summary,
    reports: &'a [ReportEntry],
}

/// The report object with the findings array left out (a marker stands for it).
#[derive(Serialize)]
struct Shell<'a> {
    schema: &'static str,
    command: &'static str,
    gate: Gate,
    findings: &'static str,
    errors: &'a [MergedError],
    summary: &'a Summary,
    reports: &'a [ReportEntry],
}

const MARK: &str = "\u{1}driftlock-findings\u{1}";

/// Copies the spilled findings, skipping the leading comma of the first JSON or SARIF item.
fn copy_findings(spill: &mut std::fs::File, spilled: u64, skip: u64, out: &mut dyn Write) -> std::io::Result<()> {
    if spilled == 0 {
        return Ok(());
    }
    let mut r = std::io::BufReader::with_capacity(1 << 20, spill);
    std::io::copy(&mut (&mut r).take(skip), &mut std::io::sink())?;
    std::io::copy(&mut r, out)?;
    Ok(())
}

/// Splits a serialized document at the marker into what comes before and after the findings.
fn split_at_mark(doc: &str) -> (&str, &str) {
    let quoted = serde_json::to_string(MARK).unwrap_or_default();
    match doc.find(&quoted) {
        Some(i) => (&doc[..i], &doc[i + quoted.len()..]),
        None => (doc, ""),
    }
}

/// A report with the merged summary and no findings, for the text renderers' summary lines.
fn shell_report(head: &Head<'_>) -> Report {
    Report {
        schema: super::SCHEMA,
        command: "merge",
        gate: head.gate,
        findings: Vec::new(),
        errors: Vec::new(),
        summary: head.summary.clone(),
        notes: Vec::new(),
        resolved: None,
        input_errors: Vec::new(),
    }
}

fn write_document(
    opts: &MergeOptions,
    head: &Head<'_>,
    spill: &mut std::fs::File,
    spilled: u64,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match opts.format {
        MergeFormat::Json => {
            let shell = Shell {
                schema: super::SCHEMA,
                command: "merge",
                gate: head.gate,
                findings: MARK,
                errors: head.errors,
                summary: head.summary,
                reports: head.reports,
            };
            let doc = serde_json::to_string_pretty(&shell).map_err(std::io::Error::other)?;
            let (before, after) = split_at_mark(&doc);
            out.write_all(before.as_bytes())?;
            out.write_all(b"[")?;
            copy_findings(spill, spilled, 1, out)?;
            out.write_all(if spilled > 0 { b"\n  ]" } else { b"]" })?;
            out.write_all(after.as_bytes())?;
            out.write_all(b"\n")?;
        }
        MergeFormat::Sarif => {
            let notifications: Vec<Value> = head
                .errors
                .iter()
                .map(|e| {
                    let file = e.file.as_deref().or(e.report.as_deref()).filter(|f| !f.is_empty());
                    super::sarif::notification(&e.code, &e.message, file, e.line, e.column)
                })
                .collect();
            let doc = json!({
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [{
                    "tool": { "driver": {
                        "name": "driftlock",
                        "version": env!("CARGO_PKG_VERSION"),
                        "informationUri": env!("CARGO_PKG_REPOSITORY"),
                        "rules": super::sarif::rules_json()
                    }},
                    "invocations": [{
                        "executionSuccessful": head.errors.is_empty(),
                        "toolExecutionNotifications": notifications
                    }],
                    "results": MARK,
                    "properties": {
                        "gate": head.gate,
                        "command": "merge",
                        "schema": super::SCHEMA,
                        "accounts": head.summary.accounts
                    }
                }]
            });
            let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
            let (before, after) = split_at_mark(&text);
            out.write_all(before.as_bytes())?;
            out.write_all(b"[")?;
            copy_findings(spill, spilled, 1, out)?;
            out.write_all(if spilled > 0 { b"\n      ]" } else { b"]" })?;
            out.write_all(after.as_bytes())?;
            out.write_all(b"\n")?;
        }
        MergeFormat::Markdown => {
            use super::markdown::{cell, html};
            let s = head.summary;
            let count = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
            let verdict = match head.gate {
                Gate::Open => "✅ **driftlock: gate open**",
                Gate::Closed => "❌ **driftlock: gate closed**",
            };
            let mut h = String::new();
            let _ = write!(
                h,
                "{verdict} — {} account(s), {} report(s): {} error(s), {} warning(s), {} note(s)",
                s.accounts.len(),
                head.reports.len(),
                count("error"),
                count("warning"),
                count("note")
            );
            if s.input_errors > 0 {
                let _ = write!(h, "; {} input(s) could not be audited", s.input_errors);
            }
            h.push_str(" (`driftlock report merge`)\n\n");
            h.push_str("| Account | Gate | Reports | Errors | Warnings | Notes | Not audited |\n");
            h.push_str("|---|---|--:|--:|--:|--:|--:|\n");
            for a in &s.accounts {
                let n = |k: &str| a.by_severity.get(k).copied().unwrap_or(0);
                let gate = match a.gate {
                    Some(Gate::Closed) => "❌ closed",
                    _ => "✅ open",
                };
                let _ = writeln!(
                    h,
                    "| {} | {gate} | {} | {} | {} | {} | {} |",
                    cell(&html(&account_label(Some(&a.account), a.name.as_deref()))),
                    a.reports,
                    n("error"),
                    n("warning"),
                    n("note"),
                    a.input_errors
                );
            }
            h.push('\n');
            for e in head.errors {
                let at = e
                    .file
                    .as_deref()
                    .or(e.report.as_deref())
                    .filter(|f| !f.is_empty())
                    .map(|f| format!(" in `{f}`"))
                    .unwrap_or_default();
                let _ = writeln!(h, "- ⛔ **{} {}**{at}: {}", e.code, e.kind, html(&e.message));
            }
            if !head.errors.is_empty() {
                h.push('\n');
            }
            out.write_all(h.as_bytes())?;
            copy_findings(spill, spilled, 0, out)?;
            let line = super::human::summary_line(&shell_report(head));
            writeln!(out, "<sub>{}</sub>", html(line.trim_end()).replace('\n', "<br>"))?;
        }
        MergeFormat::Github => {
            use super::github::{data, property};
            let mut h = String::new();
            for e in head.errors {
                let mut props = vec![format!("title={}", property(&format!("{} {}", e.code, e.kind)))];
                if let Some(f) = e.file.as_deref().or(e.report.as_deref()).filter(|f| !f.is_empty()) {
                    props.insert(0, format!("file={}", property(f)));
                }
                if let Some(l) = e.line {
                    props.push(format!("line={l}"));
                }
                let _ = writeln!(h, "::error {}::{}", props.join(","), data(&e.message));
            }
            out.write_all(h.as_bytes())?;
            copy_findings(spill, spilled, 0, out)?;
            let line = super::human::summary_line(&shell_report(head)) + &accounts_table(head);
            writeln!(out, "::notice title=driftlock::{}", data(line.trim_end()))?;
        }
        MergeFormat::Human => {
            let handler = human_handler(opts.human);
            let mut h = String::new();
            for e in head.errors {
                let mut diag = miette::MietteDiagnostic::new(e.message.clone())
                    .with_code(format!("{} {}", e.code, e.kind))
                    .with_severity(miette::Severity::Error);
                if let Some(help) = &e.help {
                    diag = diag.with_help(help.clone());
                }
                let _ = handler.render_report(&mut h, &diag);
                h.push('\n');
            }
            out.write_all(h.as_bytes())?;
            copy_findings(spill, spilled, 0, out)?;
            let line = super::human::summary_line(&shell_report(head));
            out.write_all(line.as_bytes())?;
            out.write_all(accounts_table(head).as_bytes())?;
        }
    }
    out.flush()
}

/// The per-account lines of the text formats.
fn accounts_table(head: &Head<'_>) -> String {
    let mut s = format!("{} report(s), {} account(s):\n", head.reports.len(), head.summary.accounts.len());
    for a in &head.summary.accounts {
        let n = |k: &str| a.by_severity.get(k).copied().unwrap_or(0);
        let gate = match a.gate {
            Some(Gate::Closed) => "closed",
            _ => "open",
        };
        let _ = write!(
            s,
            "  {}: gate {gate}, {} error(s), {} warning(s), {} note(s)",
            account_label(Some(&a.account), a.name.as_deref()),
            n("error"),
            n("warning"),
            n("note")
        );
        if a.input_errors > 0 {
            let _ = write!(s, ", {} could not be audited", a.input_errors);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_account_from_file_or_folder_name() {
        let map = AccountMap::parse("m.toml", "[accounts]\n\"123456789012\" = \"prod\"\n").unwrap();
        assert_eq!(home_account(Path::new("r/210987654321.json"), &map), "210987654321");
        assert_eq!(home_account(Path::new("r/prod.json"), &map), "123456789012");
        assert_eq!(home_account(Path::new("r/staging/report.json"), &map), "staging");
        assert_eq!(home_account(Path::new("h/dev/20261125T021448.84Z-2584a020.json"), &map), "dev");
    }

    #[test]
    fn labels() {
        assert_eq!(account_label(Some("1"), Some("prod")), "prod (1)");
        assert_eq!(account_label(Some("1"), None), "1");
    }
}
