//! `interrupted-apply`: an `errored.tfstate` or a stale `.terraform.tfstate.lock.info` in a
//! scanned directory.

use super::{Check, Ctx, state_label};
use crate::code;
use crate::finding::Finding;
use crate::model::Locator;

pub(crate) struct Interrupted;

impl Check for Interrupted {
    fn name(&self) -> &'static str {
        "interrupted-apply"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let estate = ctx.estate;
        for s in estate.states.iter().filter(|s| s.errored_file) {
            let name = &estate.sources.get(s.source).name;
            out.push(
                Finding::new(&code::INTERRUPTED_APPLY, format!("{name}: terraform could not write the final state to its backend and saved it here; the backend's copy is behind reality ({})", state_label(s)))
                    .help(format!("restore access to the backend, then `terraform state push {name}` and plan again"))
                    .identity("errored.tfstate")
                    .identity(s.lineage.clone().unwrap_or_default())
                    .identity(s.serial.map(|x| x.to_string()).unwrap_or_default())
                    .at(s.source, Locator::default().focus("lineage")),
            );
        }
        for l in &estate.locks {
            let name = &estate.sources.get(l.source).name;
            let who = l.who.as_deref().unwrap_or("an unknown user");
            let op = l
                .operation
                .as_deref()
                .map(|o| o.trim_start_matches("OperationType").to_ascii_lowercase())
                .unwrap_or_else(|| "a run".to_owned());
            let since = l.created.as_deref().map(|c| format!(" since {c}")).unwrap_or_default();
            let id = l.id.as_deref().unwrap_or("LOCK_ID");
            out.push(
                Finding::new(&code::INTERRUPTED_APPLY, format!("{name}: a lock held by {who} for {op}{since} was left behind; that run never finished"))
                    .help(format!("make sure no run is in progress, then `terraform force-unlock {id}` and plan again to see what the interrupted run left"))
                    .identity("lock")
                    .identity(l.id.clone().unwrap_or_default())
                    .at(l.source, Locator::default().focus("Who")),
            );
        }
    }
}
