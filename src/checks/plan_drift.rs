//! `plan-drift`: entries of a plan's `resource_drift`, once semantically empty changes are
//! set aside.

use serde_json::Value;

use super::{Check, Ctx};
use crate::code;
use crate::diff::attribute_diff;
use crate::finding::Finding;
use crate::model::{Actions, Change, Mode};

pub(crate) struct PlanDrift;

fn arn(c: &Change) -> Option<String> {
    [&c.before, &c.after]
        .into_iter()
        .find_map(|v| v.get("arn").and_then(Value::as_str).filter(|s| s.starts_with("arn:")).map(str::to_owned))
}

impl Check for PlanDrift {
    fn name(&self) -> &'static str {
        "plan-drift"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for p in &ctx.estate.plans {
            for c in p.drift.iter().filter(|c| c.address.mode == Mode::Managed) {
                let addr = c.address_text.clone();
                let (message, diff, what) = match &c.actions {
                    Actions::Delete => (format!("{addr} was deleted outside Terraform"), None, "deleted".to_owned()),
                    Actions::Update => {
                        match attribute_diff(&c.before, &c.after, &c.before_sensitive, &c.after_sensitive) {
                            Some(d) => {
                                let attrs = crate::diff::changed_attributes(&c.before, &c.after);
                                (
                                    format!("{addr} was changed outside Terraform ({})", attrs.join(", ")),
                                    Some(d),
                                    attrs.join(","),
                                )
                            }
                            None => continue,
                        }
                    }
                    Actions::NoOp | Actions::Read => continue,
                    other => {
                        (format!("{addr} drifted outside Terraform ({})", other.describe()), None, other.describe())
                    }
                };
                let mut f = Finding::new(&code::PLAN_DRIFT, message)
                    .help("find who made the change (audit logs); revert it by applying the authorized configuration, or take the change through review")
                    .address(addr, c.address.type_.to_string())
                    .cloud_id(arn(c))
                    .diff(diff)
                    .identity(what)
                    .at(p.source, c.locator.clone());
                if let Some(d) = &c.deposed {
                    f = f.identity(d.clone());
                }
                out.push(f);
            }
        }
    }
}
