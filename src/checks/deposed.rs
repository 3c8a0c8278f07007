//! `deposed`: objects left behind by a create_before_destroy replacement that could not
//! destroy the old object.

use super::{Check, Ctx, audited_states, cloud_id, state_label};
use crate::code;
use crate::finding::Finding;
use crate::model::Mode;

pub(crate) struct Deposed;

impl Check for Deposed {
    fn name(&self) -> &'static str {
        "deposed"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for s in audited_states(ctx.estate) {
            for i in s.instances.iter().filter(|i| i.address.mode == Mode::Managed) {
                let Some(key) = &i.deposed else { continue };
                let addr = i.address.to_string();
                let id = i.id().map(|id| format!(" (id {id})")).unwrap_or_default();
                out.push(
                    Finding::new(&code::DEPOSED, format!("{addr} has a deposed object {key}{id}: a create_before_destroy replacement left the old object behind ({})", state_label(s)))
                        .help("find why the old object could not be destroyed (non-empty bucket, dependency, permission), fix it, and let the authorized pipeline apply: the plan deletes the deposed object")
                        .address(addr, i.address.type_.to_string())
                        .cloud_id(cloud_id(i))
                        .identity(s.lineage.clone().unwrap_or_default())
                        .identity(key.clone())
                        .at(s.source, i.locator.clone()),
                );
            }
        }
    }
}
