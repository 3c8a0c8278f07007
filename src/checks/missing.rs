//! `missing`: managed resources absent from an inventory that lists every resource of their
//! type (and region): deleted out of band.

use super::join::state_tags;
use super::{Check, Ctx};
use crate::code;
use crate::config::Subject;
use crate::finding::Finding;
use crate::model::Scope;

pub(crate) struct Missing;

impl Check for Missing {
    fn name(&self) -> &'static str {
        "missing"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let Some(join) = &ctx.join else { return };
        let estate = ctx.estate;
        for m in &join.matches {
            let (Some(e), None) = (&m.entry, m.resource) else { continue };
            let s = &estate.states[m.state];
            let i = &s.instances[m.instance];
            if i.deposed.is_some() {
                continue;
            }
            let tags = state_tags(e, i);
            let has_tags = tags.as_ref().is_some_and(|t| !t.is_empty());
            let Some(cov) = join.coverage(estate, m, has_tags) else { continue };
            let addr = i.address.to_string();
            let cloud_id = super::instance_cloud_id(e, i, m);
            let subject = Subject {
                kind: code::MISSING.name,
                cloud: Some(e.cloud),
                cloud_type: Some(&e.cloud_type),
                terraform_type: Some(&i.address.type_),
                cloud_id: Some(&cloud_id),
                address: Some(&addr),
                tags: tags.as_deref(),
            };
            if ctx.excepted(&subject) {
                continue;
            }
            let listing = &estate.sources.get(cov.source).name;
            let what = match cov.scope {
                Scope::All => format!("which lists every {}", e.cloud_type),
                Scope::Tagged => "which lists every tagged resource".to_owned(),
            };
            let region = cov.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
            out.push(
                Finding::new(&code::MISSING, format!("{addr} ({cloud_id}) is in the state but not in {listing}, {what}{region}: deleted outside Terraform"))
                    .help("find who deleted it (audit logs); recreate it through the authorized pipeline, or remove it from the configuration through review")
                    .address(addr, i.address.type_.to_string())
                    .cloud_id(Some(cloud_id))
                    .identity(s.lineage.clone().unwrap_or_default())
                    .at(s.source, i.locator.clone()),
            );
        }
    }
}
