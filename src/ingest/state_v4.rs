//! Raw state, format version 4 (`terraform.tfstate`, `state pull`, `errored.tfstate`).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json::{
    AttributeFilter, FileCtx, ObjectAt, SelectSeed, Selected, TopLevel, collect_leaves, select_attributes,
};
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
    // Streamed while the top level was read (the usual case), or read now.
    let streamed = match top.take_streamed("resources") {
        Some(super::json::Streamed::State(s)) => Some(s),
        _ => None,
    };
    let resources: Vec<&RawValue> = match streamed {
        Some(_) => Vec::new(),
        None => top.get("resources").map(|r| ctx.parse(r)).transpose()?.unwrap_or_default(),
    };
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
    if let Some(s) = streamed {
        instances = s.instances;
        secrets.extend(s.secrets);
    }
    for (ri, rraw) in resources.into_iter().enumerate() {
        let r: RawResource<'_> = ctx.parse(rraw)?;
        let module: std::sync::Arc<str> = std::sync::Arc::from(r.module.as_deref().unwrap_or(""));
        let provider: std::sync::Arc<str> = std::sync::Arc::from(r.provider.as_ref());
        let (type_, name): (std::sync::Arc<str>, std::sync::Arc<str>) =
            (std::sync::Arc::from(r.type_.as_ref()), std::sync::Arc::from(r.name.as_ref()));
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
            let (attributes, tag_maps) = match (i.attributes, &i.attributes_flat) {
                (Some(a), _) => one_tag_map(select_attributes(ctx, a, filter, &r.type_)?),
                (None, Some(flat)) => Instance::split_tag_maps(unflatten(flat, filter, &r.type_).into()),
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
                            sensitive_leaves(&full, &paths, whole_object, &mut secrets);
                        }
                    }
                    paths
                }
                None => Vec::new(),
            };
            let mut locator = res_loc.child(Seg::Key("instances")).child(Seg::Index(ii as u32));
            locator.offset = u32::try_from(ctx.offset(iraw)).ok();
            locator.focus = Some(focus(i.deposed.is_some(), status));
            instances.push(Instance {
                address: Address {
                    module: module.clone(),
                    mode: r.mode,
                    type_: type_.clone(),
                    name: name.clone(),
                    index: i.index_key,
                },
                provider: provider.clone(),
                status,
                deposed: i.deposed,
                schema_version: i.schema_version,
                attributes,
                tag_maps,
                sensitive_paths,
                locator,
            });
        }
    }
    secrets.sort_unstable();
    secrets.dedup();
    // Growing by doubling leaves up to half the array spare, for the whole run.
    instances.shrink_to_fit();
    Ok(State {
        source: ctx.id,
        format: StateFormat::RawV4,
        terraform_version,
        lineage: Some(lineage),
        serial: Some(serial),
        errored_file: false,
        instances,
        secrets,
        account: None,
    })
}

/// `tags_all` holds `tags` and the provider's default tags: keep one map.
fn one_tag_map((mut attributes, mut maps): Selected) -> Selected {
    if attributes.contains_key("tags_all") || maps.contains_key("tags_all") {
        attributes.remove("tags");
        maps.remove("tags");
    }
    (attributes, maps)
}

/// Adds the values at an instance's sensitive paths (all of it when the whole object is
/// sensitive) to the secrets that are never printed.
fn sensitive_leaves(full: &Value, paths: &[Vec<PathStep>], whole_object: bool, secrets: &mut Vec<String>) {
    if whole_object {
        collect_leaves(full, secrets);
        return;
    }
    for p in paths {
        if let Some(v) = walk(full, p) {
            collect_leaves(v, secrets);
        }
    }
}

/// The member an instance's findings point at.
fn focus(deposed: bool, status: Status) -> &'static str {
    if deposed {
        "deposed"
    } else if status == Status::Tainted {
        "status"
    } else {
        "schema_version"
    }
}

/// What [`ResourcesSeed`] read of a state's `resources`.
pub(crate) struct Streamed {
    instances: Vec<Instance>,
    secrets: Vec<String>,
}

/// Reads a state's `resources` as it streams by, instance by instance: one pass over the
/// text, attributes selected as they are read. Whatever it does not expect (a member out of
/// terraform's order, an unknown status, a wrong type) is an error, and the file is then read
/// plainly by [`parse`], whose diagnostics are the ones given.
pub(crate) struct ResourcesSeed<'c, 'a> {
    pub(crate) ctx: &'c FileCtx<'a>,
    pub(crate) filter: &'c dyn AttributeFilter,
}

impl<'a> DeserializeSeed<'a> for ResourcesSeed<'_, 'a> {
    type Value = Streamed;
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<Streamed, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'a> Visitor<'a> for ResourcesSeed<'_, 'a> {
    type Value = Streamed;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of resources")
    }
    fn visit_seq<A: SeqAccess<'a>>(self, mut s: A) -> Result<Streamed, A::Error> {
        // Room for one instance per 512 bytes of text, fewer than terraform ever writes one in:
        // room never written to costs no memory, while growing by doubling copies every
        // instance and takes fresh pages at each step.
        let room = (self.ctx.text.len() / 512).clamp(16, 1 << 22);
        let mut out = Streamed { instances: Vec::with_capacity(room), secrets: Vec::new() };
        let mut ri = 0u32;
        while s.next_element_seed(ResourceSeed { ctx: self.ctx, filter: self.filter, ri, out: &mut out })?.is_some() {
            ri += 1;
        }
        Ok(out)
    }
}

struct ResourceSeed<'c, 'a> {
    ctx: &'c FileCtx<'a>,
    filter: &'c dyn AttributeFilter,
    ri: u32,
    out: &'c mut Streamed,
}

/// A string member, borrowed from the text when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The members of a resource that its instances need, all read before `instances`.
struct Head {
    module: std::sync::Arc<str>,
    mode: Mode,
    type_: std::sync::Arc<str>,
    name: std::sync::Arc<str>,
    provider: std::sync::Arc<str>,
}

fn duplicate<E: serde::de::Error>(k: &str) -> E {
    E::custom(format_args!("duplicate member `{k}`"))
}

impl<'a> DeserializeSeed<'a> for ResourceSeed<'_, 'a> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'a> Visitor<'a> for ResourceSeed<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a resource")
    }
    fn visit_map<A: MapAccess<'a>>(self, mut m: A) -> Result<(), A::Error> {
        let (mut module, mut mode, mut type_, mut name, mut provider) = (None, None, None, None, None);
        let mut seen_instances = false;
        while let Some(k) = m.next_key::<Text<'a>>()? {
            match k.0.as_ref() {
                "module" if module.is_none() => module = Some(m.next_value::<Option<Text<'a>>>()?),
                "mode" if mode.is_none() => mode = Some(m.next_value::<Mode>()?),
                "type" if type_.is_none() => type_ = Some(m.next_value::<Text<'a>>()?),
                "name" if name.is_none() => name = Some(m.next_value::<Text<'a>>()?),
                "provider" if provider.is_none() => provider = Some(m.next_value::<Text<'a>>()?),
                "instances" if !seen_instances => {
                    seen_instances = true;
                    let (Some(mode), Some(type_), Some(name), Some(provider)) = (mode, &type_, &name, &provider) else {
                        return Err(serde::de::Error::custom("`instances` before the resource's identity"));
                    };
                    let head = Head {
                        module: std::sync::Arc::from(
                            module.as_ref().and_then(|m| m.as_ref().map(|t| t.0.as_ref())).unwrap_or(""),
                        ),
                        mode,
                        type_: std::sync::Arc::from(type_.0.as_ref()),
                        name: std::sync::Arc::from(name.0.as_ref()),
                        provider: std::sync::Arc::from(provider.0.as_ref()),
                    };
                    m.next_value_seed(InstancesSeed {
                        ctx: self.ctx,
                        filter: self.filter,
                        ri: self.ri,
                        head: &head,
                        out: &mut *self.out,
                    })?;
                }
                "module" | "mode" | "type" | "name" | "provider" | "instances" => return Err(duplicate(&k.0)),
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        if mode.is_none() || type_.is_none() || name.is_none() || provider.is_none() {
            return Err(serde::de::Error::custom("a resource without mode, type, name or provider"));
        }
        Ok(())
    }
}

struct InstancesSeed<'c, 'a> {
    ctx: &'c FileCtx<'a>,
    filter: &'c dyn AttributeFilter,
    ri: u32,
    head: &'c Head,
    out: &'c mut Streamed,
}

impl<'a> DeserializeSeed<'a> for InstancesSeed<'_, 'a> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'a> Visitor<'a> for InstancesSeed<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of instances")
    }
    fn visit_seq<A: SeqAccess<'a>>(self, mut s: A) -> Result<(), A::Error> {
        let mut ii = 0u32;
        loop {
            let seed = InstanceSeed { ctx: self.ctx, filter: self.filter, head: self.head };
            let Some((mut instance, secrets)) = s.next_element_seed(seed)? else { break };
            if instance.locator.offset.is_none() {
                instance.locator.path =
                    vec![Seg::Key("resources"), Seg::Index(self.ri), Seg::Key("instances"), Seg::Index(ii)];
            }
            self.out.instances.push(instance);
            self.out.secrets.extend(secrets);
            ii += 1;
        }
        Ok(())
    }
}

struct InstanceSeed<'c, 'a> {
    ctx: &'c FileCtx<'a>,
    filter: &'c dyn AttributeFilter,
    head: &'c Head,
}

impl<'a> DeserializeSeed<'a> for InstanceSeed<'_, 'a> {
    type Value = (Instance, Vec<String>);
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'a> Visitor<'a> for InstanceSeed<'_, 'a> {
    type Value = (Instance, Vec<String>);
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an instance")
    }
    fn visit_map<A: MapAccess<'a>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let text = self.ctx.text;
        let mut index_key: Option<Option<IndexKey>> = None;
        let mut status: Option<Option<Text<'a>>> = None;
        let mut deposed: Option<Option<String>> = None;
        let mut schema_version: Option<Option<u64>> = None;
        let mut attributes: Option<Option<(Selected, ObjectAt)>> = None;
        let mut flat: Option<Option<Map<String, Value>>> = None;
        let mut sensitive: Option<Option<&'a RawValue>> = None;
        let mut start = None;
        while let Some(k) = m.next_key::<Text<'a>>()? {
            if start.is_none() {
                start = Some(match &k.0 {
                    Cow::Borrowed(b) => super::json::object_start(text, b),
                    Cow::Owned(_) => None,
                });
            }
            match k.0.as_ref() {
                "index_key" if index_key.is_none() => index_key = Some(m.next_value()?),
                "status" if status.is_none() => status = Some(m.next_value()?),
                "deposed" if deposed.is_none() => deposed = Some(m.next_value()?),
                "schema_version" if schema_version.is_none() => schema_version = Some(m.next_value()?),
                "attributes" if attributes.is_none() => {
                    let seed = SelectSeed { filter: self.filter, resource_type: &self.head.type_, text };
                    attributes = Some(m.next_value_seed(seed)?);
                }
                "attributes_flat" if flat.is_none() => flat = Some(m.next_value()?),
                "sensitive_attributes" if sensitive.is_none() => sensitive = Some(m.next_value()?),
                "index_key"
                | "status"
                | "deposed"
                | "schema_version"
                | "attributes"
                | "attributes_flat"
                | "sensitive_attributes" => return Err(duplicate(&k.0)),
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        let status = match status.flatten().as_ref().map(|s| s.0.as_ref()) {
            None | Some("") => Status::Ready,
            Some("tainted") => Status::Tainted,
            Some(_) => return Err(A::Error::custom("unknown status")),
        };
        let (selected, attributes_at) = match (attributes.flatten(), flat.flatten()) {
            (Some((a, at)), _) => (Some(one_tag_map(a)), Some(at)),
            (None, Some(flat)) => {
                (Some(Instance::split_tag_maps(unflatten(&flat, self.filter, &self.head.type_).into())), None)
            }
            (None, None) => (None, None),
        };
        let Some((attributes, tag_maps)) = selected else { return Err(A::Error::custom("no attributes")) };
        let mut secrets = Vec::new();
        let sensitive_paths = match sensitive.flatten() {
            Some(raw) => {
                let v: Value = serde_json::from_str(raw.get()).map_err(A::Error::custom)?;
                let (paths, whole_object) = sensitive_paths(&v);
                if !paths.is_empty() || whole_object {
                    if let Some(at) = attributes_at {
                        // The whole attributes object, read again (sensitive instances only).
                        let full: Value = match at {
                            ObjectAt::Offset(o) => {
                                let mut de = serde_json::Deserializer::from_str(&text[o..]);
                                Value::deserialize(&mut de).map_err(A::Error::custom)?
                            }
                            ObjectAt::Empty => Value::Object(Map::new()),
                            ObjectAt::Unknown => return Err(A::Error::custom("attributes not located")),
                        };
                        sensitive_leaves(&full, &paths, whole_object, &mut secrets);
                    }
                }
                paths
            }
            None => Vec::new(),
        };
        let deposed = deposed.flatten();
        let mut locator = Locator::new(Vec::new()).focus(focus(deposed.is_some(), status));
        locator.offset = start.flatten().and_then(|o| u32::try_from(o).ok());
        let h = self.head;
        let instance = Instance {
            address: Address {
                module: h.module.clone(),
                mode: h.mode,
                type_: h.type_.clone(),
                name: h.name.clone(),
                index: index_key.flatten(),
            },
            provider: h.provider.clone(),
            status,
            deposed,
            schema_version: schema_version.flatten(),
            attributes,
            tag_maps,
            sensitive_paths,
            locator,
        };
        Ok((instance, secrets))
    }
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
