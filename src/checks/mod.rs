//! Checks: each one its own module over the normalized model, pushing findings to a vector.
//! A check never reads a file and never prints.

pub mod audit;
pub mod clean_account;
mod deposed;
mod drifted;
mod exceptions;
pub(crate) mod governance;
mod interrupted;
pub mod join;
mod missing;
mod plan_drift;
mod plan_incomplete;
mod plan_review;
mod tainted;
pub mod trail;
mod unmanaged;
mod unsupported;

use rayon::prelude::*;

use crate::catalog::{Catalog, Entry};
use crate::config::{Config, Subject};
use crate::finding::Finding;
use crate::model::{CloudResource, Estate, Instance, State, StateFormat};
use crate::presets::Preset;

/// What a check may look at.
pub struct Ctx<'a> {
    pub estate: &'a Estate,
    pub catalog: &'a Catalog,
    pub config: Option<&'a Config>,
    /// Provider-default presets in use.
    pub presets: Vec<&'a Preset>,
    /// The join with the cloud inventory, when inventories were given.
    pub join: Option<join::Join<'a>>,
    /// Today, for exception expiry.
    pub today: jiff::civil::Date,
    /// The configured phase each state source belongs to (by the phase's `states`).
    pub source_phase: rustc_hash::FxHashMap<crate::source::SourceId, usize>,
    /// The phase each plan under review belongs to.
    pub plan_phase: rustc_hash::FxHashMap<crate::source::SourceId, usize>,
}

impl<'a> Ctx<'a> {
    pub fn new(estate: &'a Estate, catalog: &'a Catalog, config: Option<&'a Config>) -> Self {
        let join = (!estate.inventory.is_empty()).then(|| join::Join::build(estate, catalog));
        Ctx {
            estate,
            catalog,
            config,
            presets: crate::presets::builtin().iter().collect(),
            join,
            today: jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
            source_phase: rustc_hash::FxHashMap::default(),
            plan_phase: rustc_hash::FxHashMap::default(),
        }
    }

    /// True when a configured exception accepts this subject.
    pub fn excepted(&self, s: &Subject<'_>) -> bool {
        self.config.is_some_and(|c| c.exception_for(s, self.today).is_some())
    }
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
    &unmanaged::Unmanaged,
    &missing::Missing,
    &drifted::Drifted,
    &unsupported::Unsupported,
    &governance::Governance,
    &audit::AuditLog,
];

/// The checks `driftlock verify` runs: the governance lock, and partial execution of the phases'
/// states.
pub static VERIFY: &[&dyn Check] =
    &[&governance::Governance, &tainted::Tainted, &deposed::Deposed, &interrupted::Interrupted];

/// The checks `driftlock review-plan` runs.
pub static REVIEW_PLAN: &[&dyn Check] =
    &[&plan_incomplete::PlanIncomplete, &plan_drift::PlanDrift, &plan_review::PlanReview];

/// The checks `driftlock clean-account` runs.
pub static CLEAN_ACCOUNT: &[&dyn Check] = &[&clean_account::NonClean];

/// Runs checks in parallel, then judges the exceptions; the caller sorts.
pub fn run(checks: &[&dyn Check], ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = checks
        .par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            c.run(ctx, &mut out);
            out
        })
        .collect();
    exceptions::run(ctx, &mut out);
    audit::annotate(ctx.estate, &mut out);
    out
}

/// Where a cloud resource was seen: `file (format), …`.
pub(crate) fn sighting_list(ctx: &Ctx<'_>, r: &CloudResource) -> String {
    let mut seen: Vec<String> = r.sightings.iter().map(|s| ctx.estate.sources.get(s.source).name.clone()).collect();
    seen.dedup();
    seen.join(", ")
}

/// The canonical id of a state instance: its ARN, or the catalog's template filled from its
/// attributes, saying which parts are unknown.
pub(crate) fn instance_cloud_id(e: &Entry, i: &Instance, m: &join::Match<'_>) -> String {
    if let Some(a) = i.attributes.get("arn").and_then(|v| v.as_str()).filter(|a| a.starts_with("arn:")) {
        return a.to_owned();
    }
    let keys = e.state_keys(&i.attributes);
    if let Some(k) = keys.iter().find(|k| matches!(k.kind, crate::model::KeyKind::Asset | crate::model::KeyKind::Arm)) {
        return k.value.clone();
    }
    if let Some(t) = &e.arn {
        let region = m.region.unwrap_or("<unknown-region>");
        let account = m.account.unwrap_or("<unknown-account>");
        if let Some(s) = crate::catalog::fill(t, &i.attributes, &|n| match n {
            "partition" => Some("aws".into()),
            "region" => Some(region.to_owned()),
            "account" => Some(account.to_owned()),
            _ => None,
        }) {
            return s;
        }
    }
    i.id().unwrap_or_default().to_owned()
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
