//! Plan JSON: `terraform show -json PLANFILE` / `tofu show -json PLANFILE`.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json::{AttributeFilter, FileCtx, TopLevel, collect_leaves, collect_masked};
use super::show_json::read_values;
use crate::error::InputError;
use crate::model::{Actions, Address, Change, IndexKey, Locator, Mode, Plan, Seg, State, StateFormat};

#[derive(Deserialize)]
struct RawChange {
    address: String,
    #[serde(default)]
    previous_address: Option<String>,
    #[serde(default)]
    module_address: Option<String>,
    mode: Mode,
    #[serde(rename = "type")]
    type_: String,
    name: String,
    #[serde(default)]
    index: Option<IndexKey>,
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    action_reason: Option<String>,
    change: RawChangeBody,
}

#[derive(Deserialize)]
struct RawChangeBody {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
    #[serde(default)]
    replace_paths: Vec<Value>,
    #[serde(default)]
    importing: Option<Value>,
}

pub(crate) fn parse(
    ctx: &FileCtx<'_>,
    top: &TopLevel<'_>,
    format_version: String,
    filter: &dyn AttributeFilter,
) -> Result<Plan, InputError> {
    let opt_bool =
        |k: &str| -> Result<Option<bool>, InputError> { top.get(k).map(|r| ctx.parse_owned::<bool>(r)).transpose() };
    let opt_str = |k: &str| -> Result<Option<String>, InputError> {
        top.get(k).map(|r| ctx.parse_owned::<String>(r)).transpose()
    };
    let mut secrets = Vec::new();
    let changes = read_changes(ctx, top.get("resource_changes"), "resource_changes", &mut secrets)?;
    let drift = read_changes(ctx, top.get("resource_drift"), "resource_drift", &mut secrets)?;

    let prior_state = match top.get("prior_state") {
        Some(raw) => {
            let inner: TopLevel<'_> = ctx.parse(raw)?;
            let mut s = empty_state(ctx, StateFormat::PlanPrior);
            s.terraform_version = inner.get("terraform_version").map(|r| ctx.parse_owned(r)).transpose()?;
            if let Some(values) = inner.get("values") {
                read_values(
                    ctx,
                    values,
                    &Locator::new(vec![Seg::Key("prior_state"), Seg::Key("values")]),
                    filter,
                    &mut s,
                )?;
            }
            secrets.append(&mut s.secrets);
            Some(s)
        }
        None => None,
    };
    let planned = match top.get("planned_values") {
        Some(raw) => {
            let mut s = empty_state(ctx, StateFormat::ShowJson);
            read_values(ctx, raw, &Locator::new(vec![Seg::Key("planned_values")]), filter, &mut s)?;
            secrets.append(&mut s.secrets);
            Some(s)
        }
        None => None,
    };
    if let Some(raw) = top.get("output_changes") {
        let outs: Map<String, Value> = ctx.parse_owned(raw)?;
        for (_, c) in outs {
            for (v, m) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                if let (Some(v), Some(m)) = (c.get(v), c.get(m)) {
                    collect_masked(v, m, &mut secrets);
                }
            }
        }
    }
    if let Some(raw) = top.get("configuration") {
        let config: Value = ctx.parse_owned(raw)?;
        config_secrets(
            &config,
            top.get("variables").map(|r| ctx.parse_owned::<Value>(r)).transpose()?.as_ref(),
            &mut secrets,
        );
    }
    secrets.sort_unstable();
    secrets.dedup();
    Ok(Plan {
        source: ctx.id,
        format_version,
        terraform_version: opt_str("terraform_version")?,
        errored: opt_bool("errored")?,
        complete: opt_bool("complete")?,
        applyable: opt_bool("applyable")?,
        timestamp: opt_str("timestamp")?,
        changes,
        drift,
        prior_state,
        planned,
        secrets,
    })
}

fn empty_state(ctx: &FileCtx<'_>, format: StateFormat) -> State {
    State {
        source: ctx.id,
        format,
        terraform_version: None,
        lineage: None,
        serial: None,
        errored_file: false,
        instances: Vec::new(),
        secrets: Vec::new(),
        account: None,
    }
}

fn read_changes(
    ctx: &FileCtx<'_>,
    raw: Option<&RawValue>,
    key: &'static str,
    secrets: &mut Vec<String>,
) -> Result<Vec<Change>, InputError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let items: Vec<&RawValue> = ctx.parse(raw)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let c: RawChange = ctx.parse_owned(item)?;
        collect_masked(&c.change.before, &c.change.before_sensitive, secrets);
        collect_masked(&c.change.after, &c.change.after_sensitive, secrets);
        let module = match &c.module_address {
            Some(m) => m.clone(),
            None => module_of(&c.address, c.mode, &c.type_, &c.name),
        };
        out.push(Change {
            address: Address {
                module: module.into(),
                mode: c.mode,
                type_: c.type_.into(),
                name: c.name.into(),
                index: c.index,
            },
            address_text: c.address,
            previous_address: c.previous_address,
            provider_name: c.provider_name,
            deposed: c.deposed,
            action_reason: c.action_reason,
            actions: Actions::from_strings(&c.change.actions),
            before: c.change.before,
            after: c.change.after,
            after_unknown: c.change.after_unknown,
            before_sensitive: c.change.before_sensitive,
            after_sensitive: c.change.after_sensitive,
            replace_paths: c.change.replace_paths,
            importing: c.change.importing,
            locator: Locator::new(vec![Seg::Key(key), Seg::Index(i as u32)]).focus("address"),
        });
    }
    Ok(out)
}

/// The module part of a full address (`module.a.aws_vpc.x[0]` → `module.a`), for old plans
/// that lack `module_address`.
fn module_of(address: &str, mode: Mode, type_: &str, name: &str) -> String {
    let needle = match mode {
        Mode::Data => format!("data.{type_}.{name}"),
        Mode::Managed => format!("{type_}.{name}"),
    };
    match address.rfind(&needle) {
        Some(i) if i > 0 => address[..i - 1].to_owned(),
        _ => String::new(),
    }
}

/// Sensitive variables' values and credentials hard-coded in provider blocks.
fn config_secrets(config: &Value, variables: Option<&Value>, out: &mut Vec<String>) {
    if let (Some(decls), Some(vars)) = (config.pointer("/root_module/variables").and_then(Value::as_object), variables)
    {
        for (name, d) in decls {
            if d.get("sensitive").and_then(Value::as_bool) == Some(true) {
                if let Some(v) = vars.get(name).and_then(|v| v.get("value")) {
                    collect_leaves(v, out);
                }
            }
        }
    }
    if let Some(providers) = config.get("provider_config").and_then(Value::as_object) {
        for p in providers.values() {
            if let Some(exprs) = p.get("expressions").and_then(Value::as_object) {
                for (k, e) in exprs {
                    let k = k.to_ascii_lowercase();
                    if ["secret", "password", "token", "access_key", "private_key", "client_secret", "credentials"]
                        .iter()
                        .any(|s| k.contains(s))
                    {
                        if let Some(v) = e.get("constant_value") {
                            collect_leaves(v, out);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_of_full_address() {
        assert_eq!(
            module_of("module.a[0].module.b.aws_vpc.x[\"k\"]", Mode::Managed, "aws_vpc", "x"),
            "module.a[0].module.b"
        );
        assert_eq!(module_of("aws_vpc.x", Mode::Managed, "aws_vpc", "x"), "");
        assert_eq!(module_of("module.m.data.aws_vpc.x", Mode::Data, "aws_vpc", "x"), "module.m");
    }
}
