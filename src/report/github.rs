//! `--format github`: GitHub Actions workflow commands, one annotation per finding
//! (`::error file=…,line=…,col=…,title=…::message`), then a notice with the summary.

use std::fmt::Write as _;

use super::Report;
use crate::code::Severity;

/// Escapes a message the way the runner expects (`%`, CR, LF).
pub(crate) fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
pub(crate) fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.errors {
        let mut props = vec![format!("title={}", property(&format!("{} {}", e.code, e.kind)))];
        if let Some(f) = &e.file {
            props.insert(0, format!("file={}", property(f)));
        }
        if let Some(l) = e.line {
            props.push(format!("line={l}"));
        }
        let _ = writeln!(out, "::error {}::{}", props.join(","), data(&e.message));
    }
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = &f.file {
            props.push(format!("file={}", property(file)));
        }
        if let Some(l) = f.line {
            props.push(format!("line={l}"));
            props.push(format!("col={}", f.column.unwrap_or(1)));
        }
        props.push(format!("title={}", property(&format!("{} {}", f.code, f.kind))));
        let mut msg = f.message.clone();
        if let Some(d) = &f.diff {
            msg.push('\n');
            msg.push_str(d);
        }
        if !f.help.is_empty() {
            msg.push_str("\nhelp: ");
            msg.push_str(&f.help);
        }
        let _ = writeln!(out, "::{cmd} {}::{}", props.join(","), data(&msg));
    }
    let _ = writeln!(out, "::notice title=driftlock::{}", data(super::human::summary_line(report).trim_end()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
