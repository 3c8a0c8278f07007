//! Checks: each one its own module over the normalized model, pushing findings to a vector.
//! A check never reads a file and never prints.

mod deposed;
mod interrupted;
mod plan_drift;
mod plan_incomplete;
mod tainted;

use rayon::prelude::*;

use crate::finding::Finding;
use crate::model::{Estate, Instance, State, StateFormat};

/// What a check may look at.
pub struct Ctx<'a> {
    pub estate: &'a Estate,
}

/// One check.
pub trait Check: Sync {
    /// Short name, for logs and tests.
    fn name(&self) -> &'static str;
    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>);
}

/// The checks `driftlock scan` runs.
pub static SCAN: &[&dyn Check] = &[
    &tainted::Tainted,
    &deposed::Deposed,
    &interrupted::Interrupted,
    &plan_incomplete::PlanIncomplete,
    &plan_drift::PlanDrift,
];

/// Runs checks in parallel; the caller sorts.
pub fn run(checks: &[&dyn Check], ctx: &Ctx<'_>) -> Vec<Finding> {
    checks
        .par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            c.run(ctx, &mut out);
            out
        })
        .collect()
}

/// Audited states: files given as states (a plan's prior state is judged through the plan).
pub(crate) fn audited_states(estate: &Estate) -> impl Iterator<Item = &State> {
    estate.states.iter().filter(|s| s.format != StateFormat::PlanPrior)
}

/// The canonical cloud id of an instance, when its attributes carry one.
pub(crate) fn cloud_id(i: &Instance) -> Option<String> {
    i.attributes.get("arn").and_then(|v| v.as_str()).filter(|s| s.starts_with("arn:")).map(str::to_owned)
}

/// Describes where a state stands (`serial 12, lineage …`), for messages.
pub(crate) fn state_label(s: &State) -> String {
    match (s.serial, &s.lineage) {
        (Some(serial), Some(lineage)) => format!("serial {serial}, lineage {lineage}"),
        _ => "show -json state".to_owned(),
    }
}
