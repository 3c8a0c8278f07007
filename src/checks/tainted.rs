//! `tainted`: instances whose create or provisioning failed half way.

use super::{Check, Ctx, audited_states, cloud_id, state_label};
use crate::code;
use crate::finding::Finding;
use crate::model::{Mode, Status};

pub(crate) struct Tainted;

impl Check for Tainted {
    fn name(&self) -> &'static str {
        "tainted"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for s in audited_states(ctx.estate) {
            for i in s.instances.iter().filter(|i| i.status == Status::Tainted && i.address.mode == Mode::Managed) {
                let addr = i.address.to_string();
                let id = i.id().map(|id| format!(" (id {id})")).unwrap_or_default();
                out.push(
                    Finding::new(&code::TAINTED, format!("{addr}{id} is tainted: the object exists but its create or provisioning failed half way ({})", state_label(s)))
                        .help("find why the create failed in the apply log, fix the cause, and let the authorized pipeline apply again (it replaces the object); do not `terraform untaint` it away")
                        .address(addr, i.address.type_.to_string())
                        .cloud_id(cloud_id(i))
                        .identity(s.lineage.clone().unwrap_or_default())
                        .identity(i.deposed.clone().unwrap_or_default())
                        .at(s.source, i.locator.clone()),
                );
            }
        }
    }
}
