//! `--format human`: miette's graphical report, one diagnostic per finding and per input that
//! could not be audited, with a label on the exact span in the input, then a summary.
//!
//! Snippets come from the inputs with every known secret masked (same byte length, so spans
//! stay right); a line too long to show (minified JSON) is replaced by its location.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use super::{Gate, Report};
use crate::code::Severity;
use crate::error::RenderedError;
use crate::finding::Finding;
use crate::locate::{Texts, mask};
use crate::model::Estate;
use crate::source::SourceId;

/// Rendering options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub color: bool,
    pub width: usize,
}

/// Lines longer than this are not shown as snippets.
const MAX_SNIPPET_LINE: usize = 400;

struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    text: String,
    source: Option<NamedSource<Arc<str>>>,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let status = self.finding.status.map(|s| format!(" ({})", s.as_str())).unwrap_or_default();
        Some(Box::new(format!("{} {}{status}", self.finding.code, self.finding.kind)))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.finding.help.is_empty()).then(|| Box::new(&self.finding.help) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let (off, len) = self.finding.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new(Some(self.finding.kind.to_owned()), off, len))))
    }
}

/// True when every line the span touches is short enough to print.
pub(crate) fn printable(text: &str, off: usize, len: usize) -> bool {
    let start = text[..off.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = off + len;
    let stop = text[end.min(text.len())..].find('\n').map_or(text.len(), |i| end + i);
    text[start..stop].lines().all(|l| l.len() <= MAX_SNIPPET_LINE)
}

/// Masked texts by source, computed once per source.
fn masked_sources(report: &Report, estate: &Estate, texts: &Texts) -> HashMap<SourceId, Arc<str>> {
    let mut secrets: HashMap<SourceId, Vec<String>> = HashMap::new();
    for s in &estate.states {
        secrets.entry(s.source).or_default().extend(s.secrets.iter().cloned());
    }
    for p in &estate.plans {
        secrets.entry(p.source).or_default().extend(p.secrets.iter().cloned());
    }
    let mut out = HashMap::new();
    for f in &report.findings {
        let Some(id) = f.source else { continue };
        if out.contains_key(&id) {
            continue;
        }
        if let Some(text) = texts.get(&id) {
            let masked: Arc<str> = match secrets.get(&id) {
                Some(s) if !s.is_empty() => mask(text, s).into(),
                _ => text.clone(),
            };
            out.insert(id, masked);
        }
    }
    out
}

pub fn render(report: &Report, estate: &Estate, texts: &Texts, opts: Options) -> String {
    let theme = if opts.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler =
        GraphicalReportHandler::new_themed(theme).with_width(opts.width).with_context_lines(1).with_links(false);
    let masked = masked_sources(report, estate, texts);
    let mut out = String::new();
    for e in &report.input_errors {
        let _ = handler.render_report(&mut out, &RenderedError::new(e));
        out.push('\n');
    }
    for f in &report.findings {
        let mut text = f.message.clone();
        if let Some(d) = &f.diff {
            text.push('\n');
            for line in d.lines() {
                let _ = write!(text, "\n    {line}");
            }
        }
        let source = match (f.source, f.span) {
            (Some(id), Some((off, len))) => masked
                .get(&id)
                .filter(|t| printable(t, off, len))
                .map(|t| NamedSource::new(f.file.clone().unwrap_or_default(), t.clone()).with_language("json")),
            _ => None,
        };
        if source.is_none() {
            if let (Some(file), Some(line)) = (&f.file, f.line) {
                let _ = write!(text, "\n    at {file}:{line}:{}", f.column.unwrap_or(1));
            } else if let Some(file) = &f.file {
                let _ = write!(text, "\n    in {file}");
            }
        }
        let _ = handler.render_report(&mut out, &FindingDiagnostic { finding: f, text, source });
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out
}

/// The closing lines: gate, counts, inputs.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let count = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    let gate = match report.gate {
        Gate::Open => "gate open",
        Gate::Closed => "gate closed",
    };
    let mut line = format!("{gate}: ");
    if s.input_errors > 0 {
        let _ = write!(line, "{} could not be audited; ", plural(s.input_errors, "input"));
    }
    let _ = write!(
        line,
        "{}, {}, {}",
        plural(count("error"), "error"),
        plural(count("warning"), "warning"),
        plural(count("note"), "note")
    );
    if !s.by_kind.is_empty() {
        let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = write!(line, " ({})", kinds.join(", "));
    }
    if let Some(b) = &s.baseline {
        let _ = write!(
            line,
            "\nsince the baseline {}: {} new, {} unchanged, {} resolved",
            b.file, b.new, b.unchanged, b.resolved
        );
    }
    for n in &report.notes {
        let _ = write!(line, "\nnote: {n}");
    }
    if let Some(inv) = &s.inventory {
        let _ = write!(
            line,
            "\ncloud: {} resources, {} managed, {} unmanaged, {} provider defaults; {} missing, {} drifted; {} unverified, {} of unsupported types; coverage {:.1}%",
            inv.resources,
            inv.managed,
            inv.unmanaged,
            inv.provider_defaults,
            inv.missing,
            inv.drifted,
            inv.unverified,
            inv.unsupported,
            inv.coverage
        );
    }
    if let Some(a) = &s.audit {
        let c = &a.counts;
        let _ = write!(
            line,
            "\naudit: {} in {}; {} judged: {} authorized, {} break-glass, {} manual intervention, {} undocumented tooling; not changes: {} read-only, {} failed, {} sign-ins, {} by cloud services, {} continuations",
            plural(c.records as usize, "record"),
            plural(a.files, "file"),
            plural(c.writes as usize, "write"),
            c.authorized,
            c.break_glass,
            c.manual_intervention,
            c.undocumented_tooling,
            c.read_only,
            c.failed,
            c.sign_ins,
            c.service,
            c.continuations,
        );
        if c.outside_window > 0 || a.since.is_some() || a.until.is_some() {
            let _ = write!(
                line,
                "; {} outside the window (since {}, until {})",
                c.outside_window,
                a.since.as_deref().unwrap_or("the beginning"),
                a.until.as_deref().unwrap_or("the end")
            );
        }
    }
    if let Some(c) = &s.clean_account {
        let _ = write!(
            line,
            "\naccount: {} resources, {} provider defaults, {} not clean",
            c.resources, c.provider_defaults, c.not_clean
        );
        for g in &c.by_type_and_region {
            let _ = write!(line, "\n  {} in {}: {}", g.cloud_type, g.region, g.count);
        }
    }
    let i = &s.inputs;
    let _ = write!(
        line,
        "\nread {}: {} ({} managed), {}\n",
        plural(i.files, "file"),
        plural(i.states, "state"),
        i.managed_instances,
        plural(i.plans, "plan"),
    );
    line
}
