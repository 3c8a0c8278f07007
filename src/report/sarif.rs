//! `--format sarif`: SARIF 2.1.0 for code-scanning upload. One rule per finding kind, results
//! located in their input files, fingerprints as `partialFingerprints`, and inputs that could not
//! be audited as tool execution notifications (the run is then unsuccessful).

use serde_json::{Value, json};

use super::Report;
use crate::code::{self, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// One rule per finding code, in code order (results point at them by `ruleIndex`).
pub(crate) fn rules_json() -> Vec<Value> {
    code::ALL
        .iter()
        .filter(|c| !c.input_error)
        .map(|c| {
            json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": c.summary },
                "help": { "text": c.explain, "markdown": c.explain },
                "defaultConfiguration": { "level": level(c.severity) },
                "properties": { "condition": c.condition.as_str(), "tags": [c.condition.as_str()] }
            })
        })
        .collect()
}

pub fn render(report: &Report) -> String {
    let rules: Vec<&code::CodeInfo> = code::ALL.iter().copied().filter(|c| !c.input_error).collect();
    let rule_json = rules_json();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(d) = &f.diff {
                text.push_str("\n\n");
                text.push_str(d);
            }
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": rules.iter().position(|c| c.code == f.code).unwrap_or(0),
                "level": level(f.severity),
                "kind": "fail",
                "message": { "text": text },
                "partialFingerprints": { "driftlock/v1": f.fingerprint },
                "properties": { "kind": f.kind, "condition": f.condition.as_str(), "help": f.help }
            });
            if let Some(status) = f.status {
                // SARIF's own baseline vocabulary: `new` | `unchanged` (| `updated` | `absent`).
                r["baselineState"] = json!(status.as_str());
            }
            if let Some(account) = &f.account {
                r["properties"]["account"] = json!(account);
            }
            if let Some(name) = &f.account_name {
                r["properties"]["account_name"] = json!(name);
            }
            if let Some(file) = &f.file {
                let mut region = serde_json::Map::new();
                if let Some(l) = f.line {
                    region.insert("startLine".into(), json!(l));
                    region.insert("startColumn".into(), json!(f.column.unwrap_or(1)));
                }
                let mut physical = json!({ "artifactLocation": { "uri": uri(file) } });
                if !region.is_empty() {
                    physical["region"] = Value::Object(region);
                }
                let mut location = json!({ "physicalLocation": physical });
                let mut logical = Vec::new();
                if let Some(a) = &f.address {
                    logical.push(json!({ "fullyQualifiedName": a, "kind": "resource" }));
                }
                if let Some(id) = &f.cloud_id {
                    logical.push(json!({ "fullyQualifiedName": id, "kind": "object" }));
                }
                if !logical.is_empty() {
                    location["logicalLocations"] = Value::Array(logical);
                }
                r["locations"] = json!([location]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> =
        report.errors.iter().map(|e| notification(e.code, &e.message, e.file.as_deref(), e.line, e.column)).collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "driftlock",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rule_json
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications
            }],
            "results": results,
            "properties": { "gate": report.gate, "command": report.command, "schema": super::SCHEMA }
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A relative path stays relative (resolved against the checkout by code scanning); `<stdin>`
/// and URLs are kept as they are.
pub(crate) fn uri(file: &str) -> String {
    file.replace(' ', "%20")
}

/// A tool execution notification of an input error: its code, message and, when it has one,
/// where it is (line and column when known).
pub(crate) fn notification(
    code: &str,
    message: &str,
    file: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
) -> Value {
    let mut n = json!({ "descriptor": { "id": code }, "level": "error", "message": { "text": message } });
    if let Some(file) = file {
        let mut physical = json!({ "artifactLocation": { "uri": uri(file) } });
        if let Some(l) = line {
            physical["region"] = json!({ "startLine": l, "startColumn": column.unwrap_or(1) });
        }
        n["locations"] = json!([{ "physicalLocation": physical }]);
    }
    n
}
