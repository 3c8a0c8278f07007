//! `unmanaged`: resources in the cloud that no authorized state owns, that are not provider
//! defaults, and that no exception accepts. A modified provider default is reported too.

use super::{Check, Ctx, sighting_list};
use crate::code;
use crate::config::Subject;
use crate::finding::Finding;
use crate::presets::{Verdict, judge};

pub(crate) struct Unmanaged;

impl Check for Unmanaged {
    fn name(&self) -> &'static str {
        "unmanaged"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let Some(join) = &ctx.join else { return };
        let estate = ctx.estate;
        for (ri, r) in estate.inventory.resources.iter().enumerate() {
            if join.owner[ri].is_some() {
                continue;
            }
            let modified = match judge(r, &ctx.presets) {
                Verdict::Default(_) => continue,
                Verdict::Modified(d, what) => Some((d, what)),
                Verdict::NotDefault => None,
            };
            let subject = Subject {
                kind: code::UNMANAGED.name,
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
            let seen = sighting_list(ctx, r);
            let (message, help) = match &modified {
                Some((d, what)) => (
                    format!("{} {}{name} is a provider default ({}) that was modified: {what}; seen in {seen}", r.cloud_type, r.cloud_id, d.name),
                    "find who changed the default (audit logs) and restore it, or manage it in the phase that owns its parent (e.g. aws_default_security_group)".to_owned(),
                ),
                None => (
                    format!("{} {}{name} exists in the account but in no authorized state; seen in {seen}", r.cloud_type, r.cloud_id),
                    "find who made it (audit logs); delete it, import it into the phase that should own it, or accept it with an [[exception]] that gives the reason".to_owned(),
                ),
            };
            let first = &r.sightings[0];
            out.push(
                Finding::new(&code::UNMANAGED, message)
                    .help(help)
                    .cloud_id(Some(r.cloud_id.clone()))
                    .resource_type_only(r.cloud_type.to_string())
                    .identity(r.cloud_type.to_string())
                    .at(first.source, first.locator.clone()),
            );
        }
    }
}
