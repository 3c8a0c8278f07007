//! `--format markdown`: a pull request comment. A verdict line, a table of planned actions by
//! phase and type (when plans were reviewed), then one collapsible block per finding with its
//! location, help and diff.

use std::fmt::Write as _;

use super::{Gate, Report};
use crate::code::Severity;

pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub(crate) fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let count = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
    let mut out = String::new();
    let verdict = match report.gate {
        Gate::Open => "✅ **driftlock: gate open**",
        Gate::Closed => "❌ **driftlock: gate closed**",
    };
    let _ = write!(
        out,
        "{verdict} — {} error(s), {} warning(s), {} note(s)",
        count("error"),
        count("warning"),
        count("note")
    );
    if s.input_errors > 0 {
        let _ = write!(out, "; {} input(s) could not be audited", s.input_errors);
    }
    let _ = writeln!(out, " (`driftlock {}`)\n", report.command);
    if !s.changes.is_empty() {
        let _ =
            writeln!(out, "| Phase | Resource type | create | update | replace | delete | forget | import | move |");
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        for r in &s.changes {
            let n = |x: usize| if x == 0 { String::new() } else { x.to_string() };
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} |",
                cell(r.phase.as_deref().unwrap_or("—")),
                cell(&r.resource_type),
                n(r.create),
                n(r.update),
                n(r.replace),
                n(r.delete),
                n(r.forget),
                n(r.import),
                n(r.moved)
            );
        }
        out.push('\n');
    }
    for e in &report.errors {
        let at = e
            .file
            .as_deref()
            .map(|f| format!(" in `{}`{}", f, e.line.map(|l| format!(" line {l}")).unwrap_or_default()))
            .unwrap_or_default();
        let _ = writeln!(out, "- ⛔ **{} {}**{at}: {}", e.code, e.kind, html(&e.message));
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    for f in &report.findings {
        let icon = match f.severity {
            Severity::Error => "🛑",
            Severity::Warning => "⚠️",
            Severity::Note => "ℹ️",
        };
        let _ =
            writeln!(out, "<details><summary>{icon} <b>{} {}</b> — {}</summary>\n", f.code, f.kind, html(&f.message));
        if let Some(file) = &f.file {
            let _ = writeln!(out, "`{}{}`\n", file, f.line.map(|l| format!(":{l}")).unwrap_or_default());
        }
        if let Some(id) = &f.cloud_id {
            let _ = writeln!(out, "Cloud id: `{id}`\n");
        }
        if !f.help.is_empty() {
            let _ = writeln!(out, "**What to do:** {}\n", html(&f.help));
        }
        if let Some(d) = &f.diff {
            let _ = writeln!(out, "```diff\n{}```\n", d);
        }
        let _ = writeln!(out, "</details>\n");
    }
    let _ = writeln!(out, "<sub>{}</sub>", html(super::human::summary_line(report).trim_end()).replace('\n', "<br>"));
    out
}
