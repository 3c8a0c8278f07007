//! `non-clean-account`: before phase K.1, every resource must be a provider default or an
//! accepted exception. Also the coverage gate: the inventories must list in full every type the
//! presets require, in every region in scope, or the check cannot pass.

use std::collections::BTreeSet;

use super::{Check, Ctx, sighting_list};
use crate::code;
use crate::config::Subject;
use crate::finding::Finding;
use crate::model::{Cloud, Scope};
use crate::presets::{Verdict, judge};

pub(crate) struct NonClean;

impl Check for NonClean {
    fn name(&self) -> &'static str {
        "non-clean-account"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for r in &ctx.estate.inventory.resources {
            let modified = match judge(r, &ctx.presets) {
                Verdict::Default(_) => continue,
                Verdict::Modified(d, what) => Some((d, what)),
                Verdict::NotDefault => None,
            };
            let subject = Subject {
                kind: code::NON_CLEAN_ACCOUNT.name,
                cloud: Some(r.cloud),
                cloud_type: Some(&r.cloud_type),
                cloud_id: Some(&r.cloud_id),
                tags: r.tags.as_ref(),
                ..Subject::default()
            };
            if ctx.excepted(&subject) {
                continue;
            }
            let name = r.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            let region = r.region.as_deref().map(|g| format!(" in {g}")).unwrap_or_default();
            let seen = sighting_list(ctx, r);
            let message = match &modified {
                Some((d, what)) => format!(
                    "{} {}{name}{region} is a provider default ({}) that was modified: {what}; seen in {seen}",
                    r.cloud_type, r.cloud_id, d.name
                ),
                None => {
                    format!("{} {}{name}{region} is not a provider default; seen in {seen}", r.cloud_type, r.cloud_id)
                }
            };
            let first = &r.sightings[0];
            out.push(
                Finding::new(&code::NON_CLEAN_ACCOUNT, message)
                    .help("delete it before the bootstrap starts, or accept it with an [[exception]] that gives the reason (and an expiry)")
                    .cloud_id(Some(r.cloud_id.clone()))
                    .resource_type_only(r.cloud_type.to_string())
                    .identity(r.cloud_type.to_string())
                    .at(first.source, first.locator.clone()),
            );
        }
    }
}

/// What the inventories fail to list in full: one sentence per missing (type, region).
/// `regions`: the regions in scope (given, or else every region the inventories mention).
pub fn coverage_gaps(ctx: &Ctx<'_>, clouds: &[Cloud], regions: &[String]) -> Vec<String> {
    let inv = &ctx.estate.inventory;
    let mut scope: BTreeSet<String> = regions.iter().cloned().collect();
    if scope.is_empty() {
        scope.extend(inv.coverage.iter().filter_map(|c| c.region.clone()));
        scope.extend(inv.resources.iter().filter_map(|r| r.region.clone()));
    }
    let mut gaps = Vec::new();
    for preset in ctx.presets.iter().filter(|p| clouds.contains(&p.cloud)) {
        for t in &preset.required {
            let full: Vec<_> = inv
                .coverage
                .iter()
                .filter(|c| c.scope == Scope::All && c.cloud_type.as_deref() == Some(t.as_str()))
                .collect();
            let tagged_only = inv.coverage.iter().any(|c| c.cloud == preset.cloud && c.scope == Scope::Tagged);
            let why = if tagged_only {
                " (only tagged resources are listed: the tagging API and Resource Explorer omit untagged ones)"
            } else {
                ""
            };
            let regional =
                ctx.catalog.for_cloud_type(t).first().is_none_or(|e| e.regional) && preset.cloud == Cloud::Aws;
            if !regional || scope.is_empty() {
                if full.is_empty() {
                    gaps.push(format!("{t} is not listed in full by any inventory{why}"));
                }
                continue;
            }
            // A listing without a known region counts only when one region is in scope.
            let unknown_ok = scope.len() == 1 && full.iter().any(|c| c.region.is_none());
            for region in &scope {
                if !unknown_ok && !full.iter().any(|c| c.region.as_deref() == Some(region.as_str())) {
                    gaps.push(format!("{t} is not listed in full in {region}{why}"));
                }
            }
        }
    }
    gaps
}
