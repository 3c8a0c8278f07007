//! `--format json`: the report object, pretty-printed, ending with a newline.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"schema\":\"{}\",\"error\":\"{e}\"}}", super::SCHEMA));
    s.push('\n');
    s
}
