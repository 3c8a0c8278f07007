//! `unsupported-type`: state types the catalog does not know, listed once per type.

use super::{Check, Ctx};
use crate::code;
use crate::finding::Finding;

pub(crate) struct Unsupported;

impl Check for Unsupported {
    fn name(&self) -> &'static str {
        "unsupported-type"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let Some(join) = &ctx.join else { return };
        for (t, (count, first)) in &join.unsupported {
            let m = &join.matches[*first];
            let s = &ctx.estate.states[m.state];
            let i = &s.instances[m.instance];
            let n = if *count == 1 { "1 instance is".to_owned() } else { format!("{count} instances are") };
            out.push(
                Finding::new(&code::UNSUPPORTED_TYPE, format!("{t}: {n} not compared with the cloud (no catalog entry; `driftlock catalog` lists what is covered)"))
                    .help("these instances are counted as unverified; add the type to the catalog to verify them")
                    .resource_type_only(t.clone())
                    .identity(t.clone())
                    .at(s.source, i.locator.clone()),
            );
        }
    }
}
