//! What the generator planted, and the check that driftlock found exactly that: a fast scan
//! that finds the wrong things is not a result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::ident::Ident;
use super::plan::{ACCOUNTS, Fate, Kind, Origin, Plan, REGIONS};
use super::state::vpc_defaults;

/// The findings and counts a scan of the estate must report.
pub(crate) struct Expected {
    pub(crate) unmanaged: BTreeSet<String>,
    pub(crate) drifted: BTreeSet<String>,
    pub(crate) missing: BTreeSet<String>,
    pub(crate) managed_instances: u64,
    pub(crate) data_sources: u64,
    /// Managed instances in a region no export covers.
    pub(crate) unverified: u64,
    /// Inventory resources owned by a state.
    pub(crate) managed_resources: u64,
    /// Of `unmanaged`, provider defaults someone modified.
    pub(crate) modified_defaults: u64,
}

impl Expected {
    pub(crate) fn of(plan: &Plan) -> Expected {
        let mut e = Expected {
            unmanaged: BTreeSet::new(),
            drifted: BTreeSet::new(),
            missing: BTreeSet::new(),
            managed_instances: u64::from(plan.managed),
            data_sources: u64::from(plan.data_sources),
            unverified: 0,
            managed_resources: 0,
            modified_defaults: 0,
        };
        for r in &plan.res {
            let arn = || Ident::of(plan, r).arn;
            match (r.origin, r.fate) {
                (Origin::Hand, _) => {
                    e.unmanaged.insert(arn());
                }
                (_, Fate::Missing) => {
                    e.missing.insert(arn());
                }
                (_, Fate::Uncovered) => e.unverified += 1,
                (_, f) => {
                    e.managed_resources += 1;
                    if f.drifted() {
                        e.drifted.insert(arn());
                    }
                }
            }
            if r.kind == Kind::Vpc && r.fate.listed() && plan.default_sg_modified(r) {
                let (sg, _, _) = vpc_defaults(r.serial);
                let (region, acct) = (REGIONS[r.region as usize], ACCOUNTS[r.account as usize]);
                e.unmanaged.insert(format!("arn:aws:ec2:{region}:{acct}:security-group/{sg}"));
                e.modified_defaults += 1;
            }
        }
        e
    }
}

/// Counts read back from a report.
pub(crate) struct Found {
    pub(crate) findings: u64,
    pub(crate) by_kind: BTreeMap<String, u64>,
    pub(crate) inventory_resources: Option<u64>,
}

fn get_u64(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64()
}

fn read(report: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", report.display()))
}

fn compare(errors: &mut Vec<String>, what: &str, want: u64, got: Option<u64>) {
    if got != Some(want) {
        errors.push(format!("{what}: planted {want}, report says {got:?}"));
    }
}

fn compare_sets(errors: &mut Vec<String>, kind: &str, want: &BTreeSet<String>, got: &BTreeSet<String>) {
    let extra: Vec<&String> = got.difference(want).take(5).collect();
    let lost: Vec<&String> = want.difference(got).take(5).collect();
    if !extra.is_empty() || !lost.is_empty() {
        errors.push(format!(
            "{kind}: planted {}, found {}; found but not planted (first 5): {extra:?}; planted but not found (first 5): {lost:?}",
            want.len(),
            got.len()
        ));
    }
}

fn summary_common(v: &Value, e: &Expected, states: u64, files: u64, errors: &mut Vec<String>) {
    compare(errors, "input errors", 0, get_u64(v, &["summary", "input_errors"]));
    compare(errors, "files read", files, get_u64(v, &["summary", "inputs", "files"]));
    compare(errors, "states read", states, get_u64(v, &["summary", "inputs", "states"]));
    compare(errors, "managed instances", e.managed_instances, get_u64(v, &["summary", "inputs", "managed_instances"]));
    compare(errors, "data sources", e.data_sources, get_u64(v, &["summary", "inputs", "data_sources"]));
}

fn found(v: &Value) -> Found {
    let by_kind = v
        .pointer("/summary/by_kind")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    Found {
        findings: get_u64(v, &["summary", "findings"]).unwrap_or(0),
        by_kind,
        inventory_resources: get_u64(v, &["summary", "inventory", "resources"]),
    }
}

/// The full scan (states + inventory) found exactly what was planted.
pub(crate) fn check_scan(report: &Path, e: &Expected, states: u64, files: u64) -> Result<Found> {
    let v = read(report)?;
    let mut errors = Vec::new();
    summary_common(&v, e, states, files, &mut errors);
    let mut got: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in v.get("findings").and_then(Value::as_array).into_iter().flatten() {
        let kind = f.get("kind").and_then(Value::as_str).unwrap_or("?");
        let id = f.get("cloud_id").and_then(Value::as_str).unwrap_or("").to_owned();
        match kind {
            "unmanaged" => got.entry("unmanaged").or_default().insert(id),
            "drifted" => got.entry("drifted").or_default().insert(id),
            "missing" => got.entry("missing").or_default().insert(id),
            other => {
                errors
                    .push(format!("unexpected finding of kind {other}: {}", f.get("message").unwrap_or(&Value::Null)));
                true
            }
        };
    }
    let empty = BTreeSet::new();
    compare_sets(&mut errors, "unmanaged", &e.unmanaged, got.get("unmanaged").unwrap_or(&empty));
    compare_sets(&mut errors, "drifted", &e.drifted, got.get("drifted").unwrap_or(&empty));
    compare_sets(&mut errors, "missing", &e.missing, got.get("missing").unwrap_or(&empty));
    for (kind, want) in [("unmanaged", &e.unmanaged), ("drifted", &e.drifted), ("missing", &e.missing)] {
        compare(
            &mut errors,
            &format!("summary.by_kind.{kind}"),
            want.len() as u64,
            get_u64(&v, &["summary", "by_kind", kind]),
        );
    }
    // The inventory summary is newer than the report contract's first version: check it when there.
    if v.pointer("/summary/inventory").is_some() {
        compare(
            &mut errors,
            "inventory.unverified",
            e.unverified,
            get_u64(&v, &["summary", "inventory", "unverified"]),
        );
        compare(
            &mut errors,
            "inventory.managed",
            e.managed_resources,
            get_u64(&v, &["summary", "inventory", "managed"]),
        );
    }
    if !errors.is_empty() {
        bail!("the scan's report does not match what was planted ({}):\n  {}", report.display(), errors.join("\n  "));
    }
    Ok(found(&v))
}

/// The states-only scan read every state and found nothing (no inventory: nothing to compare).
pub(crate) fn check_states(report: &Path, e: &Expected, states: u64) -> Result<Found> {
    let v = read(report)?;
    let mut errors = Vec::new();
    summary_common(&v, e, states, states, &mut errors);
    compare(&mut errors, "findings", 0, get_u64(&v, &["summary", "findings"]));
    if !errors.is_empty() {
        bail!("the states-only report is not as expected ({}):\n  {}", report.display(), errors.join("\n  "));
    }
    Ok(found(&v))
}
