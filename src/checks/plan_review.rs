//! Pull request plan review: destroys, changes to locked phases, types out of the plan's phase,
//! a plan for a phase whose predecessors are not locked, and notes for imports, forgets and moves.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Check, Ctx};
use crate::code;
use crate::config::{Ownership, PhaseStatus};
use crate::finding::Finding;
use crate::model::{Actions, Change, Locator, Mode, Plan};

pub(crate) struct PlanReview;

/// The phase that owns a change's resource: by tag (the object's tags before the change), by
/// module prefix, else the plan's own phase.
fn owner(ctx: &Ctx<'_>, plan_phase: Option<usize>, c: &Change) -> Option<usize> {
    let config = ctx.config?;
    let tags: Option<BTreeMap<String, String>> = ["tags_all", "tags", "labels"]
        .iter()
        .find_map(|k| c.before.get(*k).and_then(|v| serde_json::from_value(v.clone()).ok()));
    let by_rule = config.phases.iter().position(|p| match &p.own {
        Ownership::Tag { key, value } => tags.as_ref().is_some_and(|t| t.get(key) == Some(value)),
        Ownership::Module(prefix) => {
            let m = &c.address.module;
            m.as_ref() == prefix.as_str()
                || m.starts_with(&format!("{prefix}."))
                || m.starts_with(&format!("{prefix}["))
        }
        Ownership::State => false,
    });
    by_rule.or(plan_phase)
}

fn reason(c: &Change) -> String {
    c.action_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
}

impl Check for PlanReview {
    fn name(&self) -> &'static str {
        "plan-review"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for plan in &ctx.estate.plans {
            review(ctx, plan, out);
        }
    }
}

fn review(ctx: &Ctx<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let phase = ctx.plan_phase.get(&plan.source).copied();
    let config = ctx.config;
    let name = &ctx.estate.sources.get(plan.source).name;
    if let (Some(pi), Some(config)) = (phase, config) {
        let p = &config.phases[pi];
        if let Some(q) = config.phases[..pi].iter().find(|q| q.status != PhaseStatus::Locked) {
            out.push(
                Finding::new(
                    &code::SEQUENCING_DEVIATION,
                    format!(
                        "{name} is a plan for {}, but the earlier phase {} is {}, not locked",
                        p.name,
                        q.name,
                        q.status.as_str()
                    ),
                )
                .help("lock the earlier phase before planning this one")
                .identity(p.name.clone())
                .identity(q.name.clone())
                .at(plan.source, Locator::default().focus("format_version")),
            );
        }
    }
    for c in plan.changes.iter().filter(|c| c.address.mode == Mode::Managed) {
        let addr = c.address_text.clone();
        let t = c.address.type_.clone();
        let base = |code: &'static crate::code::CodeInfo, msg: String| {
            Finding::new(code, msg)
                .address(addr.clone(), t.to_string())
                .identity(name.clone())
                .at(plan.source, c.locator.clone())
        };
        let what = c.actions.describe();
        let deposed = c.deposed.as_deref().map(|d| format!(" (deposed object {d})")).unwrap_or_default();
        let destroys = matches!(
            c.actions,
            Actions::Delete | Actions::DeleteThenCreate | Actions::CreateThenDelete | Actions::CreateForget
        );
        if destroys {
            let verb = match c.actions {
                Actions::DeleteThenCreate => "will be replaced (destroyed, then created)",
                Actions::CreateThenDelete => "will be replaced (created, then the old object destroyed)",
                Actions::CreateForget => "will be replaced (created; the old object is only forgotten)",
                _ => "will be destroyed",
            };
            out.push(
                base(&code::PLAN_DESTROY, format!("{addr}{deposed} {verb}{}", reason(c)))
                    .help("make sure the destroy is intended; for data stores check backups and prevent_destroy")
                    .identity(what.clone()),
            );
        }
        let importing = c.importing.is_some();
        let moved = c.previous_address.as_deref().filter(|p| *p != addr);
        if importing {
            let id = c
                .importing
                .as_ref()
                .and_then(|i| i.get("id"))
                .and_then(Value::as_str)
                .map(|i| format!(" (id {i})"))
                .unwrap_or_default();
            out.push(
                base(&code::PLAN_IMPORT, format!("{addr} imports an existing object{id}"))
                    .help("confirm the object was authorized before it comes under management"),
            );
        }
        if c.actions == Actions::Forget {
            out.push(
                base(
                    &code::PLAN_FORGET,
                    format!("{addr} will be forgotten: removed from the state, left in the cloud{}", reason(c)),
                )
                .help("a forgotten object becomes unmanaged: confirm who takes it over"),
            );
        }
        if let Some(prev) = moved {
            out.push(
                base(&code::PLAN_MOVED, format!("{addr} moves from {prev}"))
                    .help("nothing to do when intended")
                    .identity(prev.to_owned()),
            );
        }
        let changes_state = !matches!(c.actions, Actions::NoOp | Actions::Read) || importing || moved.is_some();
        if !changes_state {
            continue;
        }
        let Some(config) = config else { continue };
        if let Some(oi) = owner(ctx, phase, c) {
            let op = &config.phases[oi];
            if op.status == PhaseStatus::Locked {
                let act = if importing && c.actions == Actions::NoOp {
                    "import".to_owned()
                } else if moved.is_some() && c.actions == Actions::NoOp {
                    "move".to_owned()
                } else {
                    what.clone()
                };
                out.push(
                    base(&code::PLAN_TOUCHES_LOCKED, format!("{addr} ({act}) belongs to {}, which is locked", op.name))
                        .help("move the change to the phase that should make it, or unlock the phase through review, apply, verify and lock it again")
                        .identity(op.name.clone()),
                );
            }
        }
        if let Some(pi) = phase {
            let p = &config.phases[pi];
            let creates_or_changes = !matches!(c.actions, Actions::Delete | Actions::Forget);
            if let (Some(allow), true) = (&p.allow, creates_or_changes) {
                if !allow.iter().any(|r| r.is_match(&t)) {
                    out.push(
                        base(
                            &code::PLAN_OUT_OF_PHASE,
                            format!("{addr} ({what}) is a {t}, which {} does not allow", p.name),
                        )
                        .help("move the resource to the configuration of the phase that owns its kind")
                        .identity(p.name.clone()),
                    );
                }
            }
        }
    }
}
