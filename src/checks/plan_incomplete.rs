//! `plan-incomplete`: plan JSON with `errored: true` or `complete: false`.

use super::{Check, Ctx};
use crate::code;
use crate::finding::Finding;
use crate::model::Locator;

pub(crate) struct PlanIncomplete;

impl Check for PlanIncomplete {
    fn name(&self) -> &'static str {
        "plan-incomplete"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in &ctx.estate.plans {
            let name = &ctx.estate.sources.get(p.source).name;
            let ts = p.timestamp.clone().unwrap_or_default();
            if p.errored == Some(true) {
                out.push(
                    Finding::new(
                        &code::PLAN_INCOMPLETE,
                        format!(
                            "{name}: planning errored, so the plan is partial and does not describe the whole change"
                        ),
                    )
                    .help("fix the errors terraform reported while planning and review the complete plan")
                    .identity("errored")
                    .identity(ts.clone())
                    .at(p.source, Locator::default().focus("errored")),
                );
            }
            if p.complete == Some(false) && p.errored != Some(true) {
                out.push(
                    Finding::new(&code::PLAN_INCOMPLETE, format!("{name}: the plan is not complete (a -target plan or deferred changes): applying it leaves work undone"))
                        .help("plan without -target (or resolve the deferrals) and review the complete plan")
                        .identity("incomplete")
                        .identity(ts)
                        .at(p.source, Locator::default().focus("complete")),
                );
            }
        }
    }
}
