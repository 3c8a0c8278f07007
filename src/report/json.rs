//! `--format json`: the report object, pretty-printed, ending with a newline.

use rayon::prelude::*;

use super::Report;

/// The report as `serde_json::to_string_pretty` prints it, plus a newline. The findings (all
/// but a few bytes of a large report) are printed in parallel, each at its depth, and put in
/// place of the empty array the rest of the report prints with.
pub fn render(report: &Report) -> String {
    let fallback = |e: serde_json::Error| format!("{{\"schema\":\"{}\",\"error\":\"{e}\"}}\n", super::SCHEMA);
    let mut skeleton = match serde_json::to_string_pretty(&without_findings(report)) {
        Ok(s) => s,
        Err(e) => return fallback(e),
    };
    skeleton.push('\n');
    const EMPTY: &str = "\n  \"findings\": [],\n";
    if report.findings.is_empty() {
        return skeleton;
    }
    let Some(at) = skeleton.find(EMPTY) else {
        return fallback(serde::ser::Error::custom("the report has no findings array"));
    };
    let parts: Result<Vec<String>, serde_json::Error> = report
        .findings
        .par_iter()
        .map(|f| {
            // Inside the report's array: two levels deeper than alone.
            serde_json::to_string_pretty(f).map(|s| s.replace('\n', "\n    "))
        })
        .collect();
    let parts = match parts {
        Ok(p) => p,
        Err(e) => return fallback(e),
    };
    let size = skeleton.len() + parts.iter().map(|p| p.len() + 6).sum::<usize>() + 8;
    let mut out = String::with_capacity(size);
    out.push_str(&skeleton[..at]);
    out.push_str("\n  \"findings\": [");
    for (i, p) in parts.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(p);
    }
    out.push_str("\n  ],\n");
    out.push_str(&skeleton[at + EMPTY.len()..]);
    out
}

/// Everything of the report but its findings (each field named: a new one cannot be missed).
fn without_findings(r: &Report) -> Report {
    Report {
        schema: r.schema,
        command: r.command,
        gate: r.gate,
        findings: Vec::new(),
        errors: r.errors.clone(),
        summary: r.summary.clone(),
        notes: r.notes.clone(),
        resolved: r.resolved.clone(),
        input_errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;

    fn finding(n: usize) -> Finding {
        let mut f = Finding::new(&crate::code::UNMANAGED, format!("resource {n}\nwith \"quotes\" and a newline"));
        f.cloud_id = Some(format!("arn:aws:s3:::bucket-{n}"));
        f.seal();
        f
    }

    #[test]
    fn equals_what_serde_json_prints() {
        let estate = crate::model::Estate::default();
        for n in [0, 1, 2, 17] {
            let mut report = Report::new("scan", &estate, (0..n).map(finding).collect(), Vec::new());
            report.notes.push("a note".into());
            let mut want = serde_json::to_string_pretty(&report).unwrap();
            want.push('\n');
            assert_eq!(render(&report), want, "{n} findings");
        }
    }
}
