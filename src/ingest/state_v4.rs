//! Raw state, format version 4 (`terraform.tfstate`, `state pull`, `errored.tfstate`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json::{AttributeFilter, FileCtx, TopLevel, collect_leaves, select_attributes};
use crate::code;
use crate::error::InputError;
use crate::model::PathStep;
use crate::model::{Address, IndexKey, Instance, Locator, Mode, Seg, State, StateFormat, Status};

#[derive(Deserialize)]
struct RawResource<'a> {
    #[serde(default, borrow)]
    module: Option<Cow<'a, str>>,
    mode: Mode,
    #[serde(rename = "type", borrow)]
    type_: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    provider: Cow<'a, str>,
    #[serde(default, borrow)]
    instances: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawInstance<'a> {
    #[serde(default)]
    index_key: Option<IndexKey>,
    #[serde(default, borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    schema_version: Option<u64>,
    #[serde(default, borrow)]
    attributes: Option<&'a RawValue>,
    #[serde(default)]
    attributes_flat: Option<Map<String, Value>>,
    #[serde(default, borrow)]
    sensitive_attributes: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    sensitive: bool,
}

pub(crate) fn parse(ctx: &FileCtx<'_>, top: &TopLevel<'_>, filter: &dyn AttributeFilter) -> Result<State, InputError> {
    let serial: u64 = ctx.parse(top.require(ctx, "serial", "a state")?)?;
    let lineage: String = ctx.parse_owned(top.require(ctx, "lineage", "a state")?)?;
    let terraform_version: Option<String> = top.get("terraform_version").map(|r| ctx.parse_owned(r)).transpose()?;
    let resources: Vec<&RawValue> = top.get("resources").map(|r| ctx.parse(r)).transpose()?.unwrap_or_default();
    let mut secrets = Vec::new();
    if let Some(raw) = top.get("outputs") {
        let outputs: Map<String, Value> = ctx.parse_owned(raw)?;
        for (_, o) in outputs {
            if let Ok(o) = serde_json::from_value::<RawOutput>(o) {
                if o.sensitive {
                    collect_leaves(&o.value, &mut secrets);
                }
            }
        }
    }
    let mut instances = Vec::new();
    for (ri, rraw) in resources.into_iter().enumerate() {
        let r: RawResource<'_> = ctx.parse(rraw)?;
        let module = r.module.as_deref().unwrap_or("").to_owned();
        let res_loc = Locator::new(vec![Seg::Key("resources"), Seg::Index(ri as u32)]);
        for (ii, iraw) in r.instances.iter().enumerate() {
            let i: RawInstance<'_> = ctx.parse(iraw)?;
            let status = match i.status.as_deref() {
                None | Some("") => Status::Ready,
                Some("tainted") => Status::Tainted,
                Some(other) => {
                    return Err(ctx.shape(
                        iraw,
                        "unknown status",
                        format!(
                            "{}: instance status {other:?} is unknown (terraform only writes \"tainted\")",
                            ctx.name
                        ),
                    ));
                }
            };
            let attributes = match (i.attributes, &i.attributes_flat) {
                (Some(a), _) => {
                    let mut m = select_attributes(ctx, a, filter, &r.type_)?;
                    // `tags_all` holds `tags` and the provider's default tags: keep one map.
                    if m.contains_key("tags_all") {
                        m.remove("tags");
                    }
                    m
                }
                (None, Some(flat)) => unflatten(flat, filter, &r.type_),
                (None, None) => {
                    return Err(ctx.shape(
                        iraw,
                        "no attributes",
                        format!(
                            "{}: instance {ii} of {}.{} has neither `attributes` nor `attributes_flat`",
                            ctx.name, r.type_, r.name
                        ),
                    ));
                }
            };
            let sensitive_paths = match i.sensitive_attributes {
                Some(raw) => {
                    let (paths, whole_object) = sensitive_paths(&ctx.parse_owned::<Value>(raw)?);
                    if !paths.is_empty() || whole_object {
                        if let Some(a) = i.attributes {
                            let full: Value = ctx.parse_owned(a)?;
                            if whole_object {
                                collect_leaves(&full, &mut secrets);
                            } else {
                                for p in &paths {
                                    if let Some(v) = walk(&full, p) {
                                        collect_leaves(v, &mut secrets);
                                    }
                                }
                            }
                        }
                    }
                    paths
                }
                None => Vec::new(),
            };
            let mut locator = res_loc.child(Seg::Key("instances")).child(Seg::Index(ii as u32));
            locator.offset = u32::try_from(ctx.offset(iraw)).ok();
            locator.focus = Some(if i.deposed.is_some() {
                "deposed"
            } else if status == Status::Tainted {
                "status"
            } else {
                "schema_version"
            });
            instances.push(Instance {
                address: Address {
                    module: module.clone(),
                    mode: r.mode,
                    type_: r.type_.clone().into_owned(),
                    name: r.name.clone().into_owned(),
                    index: i.index_key,
                },
                provider: r.provider.clone().into_owned(),
                status,
                deposed: i.deposed,
                schema_version: i.schema_version,
                attributes,
                sensitive_paths,
                locator,
            });
        }
    }
    secrets.sort_unstable();
    secrets.dedup();
    Ok(State {
        source: ctx.id,
        format: StateFormat::RawV4,
        terraform_version,
        lineage: Some(lineage),
        serial: Some(serial),
        errored_file: false,
        instances,
        secrets,
    })
}

/// Paths of `sensitive_attributes` (steps `{"type":"get_attr","value":"x"}` and
/// `{"type":"index","value":{"value":0,"type":"number"}}`). A step of an unknown shape makes
/// the whole instance secret (second value): never print what may be sensitive.
fn sensitive_paths(v: &Value) -> (Vec<Vec<PathStep>>, bool) {
    let mut out = Vec::new();
    let Some(paths) = v.as_array() else {
        return (out, !v.is_null());
    };
    for p in paths {
        let Some(steps) = p.as_array() else {
            return (out, true);
        };
        let mut path = Vec::new();
        for s in steps {
            let step = match (s.get("type").and_then(Value::as_str), s.get("value")) {
                (Some("get_attr"), Some(Value::String(a))) => PathStep::Attr(a.clone()),
                (Some("index"), Some(idx)) => match idx.get("value") {
                    Some(Value::String(k)) => PathStep::Key(k.clone()),
                    Some(Value::Number(n)) => match n.as_i64() {
                        Some(n) => PathStep::Index(n),
                        None => return (out, true),
                    },
                    _ => return (out, true),
                },
                _ => return (out, true),
            };
            path.push(step);
        }
        out.push(path);
    }
    out.sort();
    (out, false)
}

fn walk<'v>(v: &'v Value, path: &[PathStep]) -> Option<&'v Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            PathStep::Attr(a) | PathStep::Key(a) => cur.get(a)?,
            PathStep::Index(i) => cur.get(usize::try_from(*i).ok()?)?,
        };
    }
    Some(cur)
}

/// States upgraded from v3 keep flat string attributes (`tags.%`, `tags.Name`): rebuild the
/// wanted top-level attributes, maps from their `KEY.*` entries.
fn unflatten(flat: &Map<String, Value>, filter: &dyn AttributeFilter, type_: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in flat {
        match k.split_once('.') {
            None => {
                if filter.keep(type_, k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Some((head, rest)) => {
                if filter.keep(type_, head) && rest != "%" && rest != "#" && !rest.contains('.') {
                    let e = out.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = e {
                        m.insert(rest.to_owned(), v.clone());
                    }
                }
            }
        }
    }
    out
}

/// `version` of a raw state, for the error on old or future versions.
pub(crate) fn version_error(ctx: &FileCtx<'_>, raw: &RawValue, version: u64) -> InputError {
    let (message, help) = if version <= 3 {
        (
            format!("{} is a version {version} state (Terraform 0.11 or older); driftlock reads version 4", ctx.name),
            "upgrade it with Terraform 0.12 or later: `terraform init` then `terraform apply -refresh-only` (or `terraform state push`) rewrites it as version 4; then `terraform state pull` and audit that".to_owned(),
        )
    } else {
        (
            format!("{} is a version {version} state, newer than the version 4 this driftlock reads", ctx.name),
            "upgrade driftlock".to_owned(),
        )
    };
    InputError::new(&code::UNSUPPORTED_STATE_VERSION, ctx.name, message)
        .with_help(help)
        .with_source_text(ctx.text)
        .with_span(ctx.offset(raw), raw.get().len(), format!("state format version {version}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_paths_known_shapes() {
        let v = json!([[{"type":"get_attr","value":"value"}], [{"type":"get_attr","value":"l"},{"type":"index","value":{"value":0,"type":"number"}}]]);
        let (p, whole) = sensitive_paths(&v);
        assert!(!whole);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], vec![PathStep::Attr("l".into()), PathStep::Index(0)]);
    }

    #[test]
    fn unknown_sensitive_shape_hides_everything() {
        let (_, whole) = sensitive_paths(&json!(["value"]));
        assert!(whole);
    }

    #[test]
    fn unflatten_rebuilds_tags() {
        let flat: Map<String, Value> = serde_json::from_value(
            json!({"id":"i-1","tags.%":"1","tags.Name":"web","ingress.#":"1","ingress.0.from_port":"22"}),
        )
        .unwrap();
        let m = unflatten(&flat, &super::super::json::IdentityAttributes, "aws_instance");
        assert_eq!(m["id"], "i-1");
        assert_eq!(m["tags"], json!({"Name":"web"}));
        assert!(!m.contains_key("ingress"));
    }
}
