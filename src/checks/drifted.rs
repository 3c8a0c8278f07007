//! `drifted`: managed resources whose tags or catalog attributes differ from the cloud.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::join::state_tags;
use super::{Check, Ctx};
use crate::catalog::normalize::{self, NormalizeCtx};
use crate::code;
use crate::config::Subject;
use crate::diff::{attribute_diff, semantically_equal};
use crate::finding::Finding;

pub(crate) struct Drifted;

impl Check for Drifted {
    fn name(&self) -> &'static str {
        "drifted"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        use rayon::prelude::*;
        let Some(join) = &ctx.join else { return };
        // Matches are compared in parallel; `collect` keeps their order.
        let found: Vec<Finding> = join.matches.par_iter().filter_map(|m| drift(ctx, m)).collect();
        out.extend(found);
    }
}

/// The `drifted` finding of one match, if its tags or compared attributes differ.
fn drift(ctx: &Ctx<'_>, m: &super::join::Match<'_>) -> Option<Finding> {
    let estate = ctx.estate;
    let (Some(e), Some(ri)) = (&m.entry, m.resource) else { return None };
    let s = &estate.states[m.state];
    let i = &s.instances[m.instance];
    if i.deposed.is_some() {
        return None;
    }
    let r = &estate.inventory.resources[ri];
    let mut before = Map::new();
    let mut after = Map::new();
    let tags = state_tags(e, i);
    if let (Some(want), Some(have)) = (&tags, &r.tags) {
        if **want != *have {
            before.insert("tags".into(), serde_json::to_value(want).unwrap_or_default());
            after.insert("tags".into(), serde_json::to_value(have).unwrap_or_default());
        }
    }
    let nctx = NormalizeCtx { self_id: i.id() };
    for c in &e.compare {
        let (Some(sv), Some(cv)) = (i.attributes.get(&c.attr), r.attributes.get(&c.attr)) else { continue };
        // Compared as they are unless normalized; copied only when they differ.
        let (sv, cv) = match &c.normalizer {
            Some(n) => (Cow::Owned(normalize::apply(n, sv, &nctx)), Cow::Owned(normalize::apply(n, cv, &nctx))),
            None => (Cow::Borrowed(sv), Cow::Borrowed(cv)),
        };
        if !semantically_equal(&sv, &cv) {
            before.insert(c.attr.clone(), sv.into_owned());
            after.insert(c.attr.clone(), cv.into_owned());
        }
    }
    if before.is_empty() && after.is_empty() {
        return None;
    }
    let addr = i.address.to_string();
    let subject = Subject {
        kind: code::DRIFTED.name,
        cloud: Some(e.cloud),
        cloud_type: Some(&e.cloud_type),
        terraform_type: Some(&i.address.type_),
        cloud_id: Some(&r.cloud_id),
        address: Some(&addr),
        tags: r.tags.as_ref(),
    };
    if ctx.excepted(&subject) {
        return None;
    }
    let names: Vec<String> =
        before.keys().chain(after.keys()).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let (b, a) = (Value::Object(before), Value::Object(after));
    let diff = attribute_diff(&b, &a, &Value::Null, &Value::Null);
    let seen = super::sighting_list(ctx, r);
    Some(
        Finding::new(&code::DRIFTED, format!("{addr} ({}) differs from the cloud ({}); the cloud side is from {seen}", r.cloud_id, names.join(", ")))
            .help("find who changed it (audit logs); revert it by applying the authorized configuration, or change the configuration through review")
            .address(addr, i.address.type_.to_string())
            .cloud_id(Some(r.cloud_id.clone()))
            .diff(diff)
            .identity(s.lineage.clone().unwrap_or_default())
            .identity(names.join(","))
            .at(s.source, i.locator.clone()),
    )
}
