//! `terraform show -json` / `tofu show -json` state output, and the same module/resource shape
//! inside plan JSON (`prior_state`, `planned_values`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json::{AttributeFilter, FileCtx, TopLevel, collect_leaves, collect_masked, select_attributes};
use crate::error::InputError;
use crate::model::{Address, IndexKey, Instance, Locator, Mode, Seg, State, StateFormat, Status};

#[derive(Deserialize)]
struct RawModule<'a> {
    #[serde(default)]
    address: Option<String>,
    #[serde(default, borrow)]
    resources: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    child_modules: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawResource<'a> {
    mode: Mode,
    #[serde(rename = "type", borrow)]
    type_: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    index: Option<IndexKey>,
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    schema_version: Option<u64>,
    #[serde(default, borrow)]
    values: Option<&'a RawValue>,
    #[serde(default)]
    sensitive_values: Option<Value>,
    #[serde(default)]
    tainted: bool,
    #[serde(default)]
    deposed_key: Option<String>,
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    sensitive: bool,
}

/// A `show -json` state file.
pub(crate) fn parse_state(
    ctx: &FileCtx<'_>,
    top: &TopLevel<'_>,
    filter: &dyn AttributeFilter,
) -> Result<State, InputError> {
    let terraform_version: Option<String> = top.get("terraform_version").map(|r| ctx.parse_owned(r)).transpose()?;
    let mut state = State {
        source: ctx.id,
        format: StateFormat::ShowJson,
        terraform_version,
        lineage: None,
        serial: None,
        errored_file: false,
        instances: Vec::new(),
        secrets: Vec::new(),
        account: None,
    };
    if let Some(values) = top.get("values") {
        read_values(ctx, values, &Locator::new(vec![Seg::Key("values")]), filter, &mut state)?;
    }
    state.secrets.sort_unstable();
    state.secrets.dedup();
    Ok(state)
}

/// Reads a `values` object (`{outputs?, root_module}`) into `state`.
pub(crate) fn read_values(
    ctx: &FileCtx<'_>,
    values: &RawValue,
    base: &Locator,
    filter: &dyn AttributeFilter,
    state: &mut State,
) -> Result<(), InputError> {
    #[derive(Deserialize)]
    struct Values<'a> {
        #[serde(default)]
        outputs: Option<Map<String, Value>>,
        #[serde(default, borrow)]
        root_module: Option<&'a RawValue>,
    }
    let v: Values<'_> = ctx.parse(values)?;
    for (_, o) in v.outputs.unwrap_or_default() {
        if let Ok(o) = serde_json::from_value::<RawOutput>(o) {
            if o.sensitive {
                collect_leaves(&o.value, &mut state.secrets);
            }
        }
    }
    if let Some(root) = v.root_module {
        read_module(ctx, root, base.child(Seg::Key("root_module")), filter, state)?;
    }
    Ok(())
}

fn read_module(
    ctx: &FileCtx<'_>,
    raw: &RawValue,
    loc: Locator,
    filter: &dyn AttributeFilter,
    state: &mut State,
) -> Result<(), InputError> {
    let m: RawModule<'_> = ctx.parse(raw)?;
    let module: std::sync::Arc<str> = m.address.unwrap_or_default().into();
    for (j, rraw) in m.resources.iter().enumerate() {
        let r: RawResource<'_> = ctx.parse(rraw)?;
        let (attributes, tag_maps) = match r.values {
            Some(v) => select_attributes(ctx, v, filter, &r.type_)?,
            None => Default::default(),
        };
        if let (Some(mask), Some(v)) = (&r.sensitive_values, r.values) {
            if mask_has_true(mask) {
                let full: Value = ctx.parse_owned(v)?;
                collect_masked(&full, mask, &mut state.secrets);
            }
        }
        let status = if r.tainted { Status::Tainted } else { Status::Ready };
        let focus = if r.deposed_key.is_some() {
            "deposed_key"
        } else if r.tainted {
            "tainted"
        } else {
            "address"
        };
        state.instances.push(Instance {
            address: Address {
                module: module.clone(),
                mode: r.mode,
                type_: r.type_.as_ref().into(),
                name: r.name.as_ref().into(),
                index: r.index,
            },
            provider: r.provider_name.unwrap_or_default().into(),
            status,
            deposed: r.deposed_key,
            schema_version: r.schema_version,
            attributes,
            tag_maps,
            sensitive_paths: Vec::new(),
            locator: loc.child(Seg::Key("resources")).child(Seg::Index(j as u32)).focus(focus),
        });
    }
    for (i, c) in m.child_modules.iter().enumerate() {
        read_module(ctx, c, loc.child(Seg::Key("child_modules")).child(Seg::Index(i as u32)), filter, state)?;
    }
    Ok(())
}

pub(crate) fn mask_has_true(mask: &Value) -> bool {
    match mask {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(mask_has_true),
        Value::Object(o) => o.values().any(mask_has_true),
        _ => false,
    }
}
