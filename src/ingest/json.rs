//! JSON helpers shared by the parsers: a top-level key scan that keeps raw values (so a format
//! can be recognised without parsing the whole file into a tree), typed parsing of a raw part
//! with errors located in the whole file, selective attribute extraction, and secret collection.

use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::InputError;
use crate::source::SourceId;

/// The file being parsed: its name, full text and id.
#[derive(Clone, Copy)]
pub(crate) struct FileCtx<'a> {
    pub(crate) id: SourceId,
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

impl<'a> FileCtx<'a> {
    /// Byte offset of a raw value borrowed from this file's text.
    pub(crate) fn offset(&self, raw: &RawValue) -> usize {
        let p = raw.get().as_ptr() as usize;
        let base = self.text.as_ptr() as usize;
        p.checked_sub(base).filter(|o| *o <= self.text.len()).unwrap_or(0)
    }

    /// Parses a raw part into `T`, locating errors in the whole file.
    pub(crate) fn parse<T: serde::Deserialize<'a>>(&self, raw: &'a RawValue) -> Result<T, InputError> {
        serde_json::from_str(raw.get()).map_err(|e| self.error(raw, &e))
    }

    /// Parses a raw part into an owned `T`.
    pub(crate) fn parse_owned<T: DeserializeOwned>(&self, raw: &RawValue) -> Result<T, InputError> {
        serde_json::from_str(raw.get()).map_err(|e| self.error(raw, &e))
    }

    pub(crate) fn error(&self, raw: &RawValue, e: &serde_json::Error) -> InputError {
        InputError::from_json(self.name, self.text, self.offset(raw), raw.get(), e)
    }

    /// A shape error pointing at a raw value.
    pub(crate) fn shape(&self, raw: &RawValue, label: &str, message: String) -> InputError {
        InputError::new(&crate::code::UNEXPECTED_SHAPE, self.name, message)
            .with_help("pass the file exactly as terraform, tofu or the cloud CLI wrote it")
            .with_source_text(self.text)
            .with_span(self.offset(raw), raw.get().len().min(80), label)
    }
}

/// The members of a top-level JSON object, values left raw.
pub(crate) struct TopLevel<'a> {
    pub(crate) entries: Vec<(String, &'a RawValue)>,
}

impl<'a> TopLevel<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A member that must be there; its absence is a shape error at the top of the file.
    pub(crate) fn require(&self, ctx: &FileCtx<'_>, key: &str, what: &str) -> Result<&'a RawValue, InputError> {
        self.get(key).ok_or_else(|| {
            InputError::new(
                &crate::code::UNEXPECTED_SHAPE,
                ctx.name,
                format!("{} looks like {what} but has no `{key}`", ctx.name),
            )
            .with_help("pass the file exactly as terraform, tofu or the cloud CLI wrote it")
            .with_source_text(ctx.text)
            .with_span(
                ctx.text.len() - ctx.text.trim_start().len(),
                1,
                format!("this object has no `{key}`"),
            )
        })
    }
}

impl<'de> serde::Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    entries.push((k, m.next_value::<&'de RawValue>()?));
                }
                Ok(TopLevel { entries })
            }
        }
        d.deserialize_map(V)
    }
}

/// The members of any JSON object, values left raw (used to locate spans).
pub(crate) struct Members<'a>(pub(crate) Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TopLevel::deserialize(d).map(|t| Members(t.entries))
    }
}

/// Which attributes to keep of an instance of a resource type.
pub trait AttributeFilter: Sync {
    fn keep(&self, resource_type: &str, attribute: &str) -> bool;
}

/// Keeps the attributes every check needs whatever the type: identity and tags.
pub struct IdentityAttributes;

impl AttributeFilter for IdentityAttributes {
    fn keep(&self, _t: &str, a: &str) -> bool {
        matches!(a, "id" | "arn" | "name" | "tags" | "tags_all" | "labels" | "self_link")
    }
}

/// Keeps everything (small inputs, tests).
pub struct AllAttributes;

impl AttributeFilter for AllAttributes {
    fn keep(&self, _t: &str, _a: &str) -> bool {
        true
    }
}

/// Deserializes an object keeping only the members the filter wants; the rest is skipped
/// without building values.
pub(crate) struct Select<'f> {
    pub(crate) filter: &'f dyn AttributeFilter,
    pub(crate) resource_type: &'f str,
}

impl<'de> DeserializeSeed<'de> for Select<'_> {
    type Value = Map<String, Value>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Select<'_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attributes")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Map::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.filter.keep(self.resource_type, &k) {
                out.insert(k.into_owned(), m.next_value::<Value>()?);
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// Parses the attributes object of an instance, keeping what the filter wants.
pub(crate) fn select_attributes(
    ctx: &FileCtx<'_>,
    raw: &RawValue,
    filter: &dyn AttributeFilter,
    resource_type: &str,
) -> Result<Map<String, Value>, InputError> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    Select { filter, resource_type }.deserialize(&mut de).map_err(|e| ctx.error(raw, &e))
}

/// Adds every string leaf under `v` (JSON-encoded, as it appears in a file) to `out`;
/// numbers and booleans too when they are long enough to be worth hiding.
pub(crate) fn collect_leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if !s.is_empty() => {
            if let Ok(enc) = serde_json::to_string(s) {
                out.push(enc);
            }
        }
        Value::Number(n) if n.to_string().len() >= 4 => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| collect_leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_leaves(x, out)),
        _ => {}
    }
}

/// Collects the leaves of `value` where the `show -json` style mask (`true` at sensitive
/// leaves, same shape otherwise) says sensitive.
pub(crate) fn collect_masked(value: &Value, mask: &Value, out: &mut Vec<String>) {
    match mask {
        Value::Bool(true) => collect_leaves(value, out),
        Value::Object(m) => {
            if let Value::Object(v) = value {
                for (k, sub) in m {
                    if let Some(x) = v.get(k) {
                        collect_masked(x, sub, out);
                    }
                }
            }
        }
        Value::Array(m) => {
            if let Value::Array(v) = value {
                for (x, sub) in v.iter().zip(m) {
                    collect_masked(x, sub, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_keeps_only_wanted_members() {
        let raw: Box<RawValue> =
            serde_json::from_str(r#"{"id":"x","big":{"a":[1,2,3]},"tags_all":{"k":"v"}}"#).unwrap();
        let ctx = FileCtx { id: SourceId(0), name: "t", text: raw.get() };
        let m = select_attributes(&ctx, &raw, &IdentityAttributes, "aws_vpc").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["id"], "x");
        assert!(!m.contains_key("big"));
    }

    #[test]
    fn masked_leaves_are_collected() {
        let v: Value = serde_json::json!({"a": "open", "b": {"c": "s3cr3t"}, "l": ["x", "hidden"]});
        let m: Value = serde_json::json!({"b": {"c": true}, "l": [false, true]});
        let mut out = Vec::new();
        collect_masked(&v, &m, &mut out);
        assert_eq!(out, vec!["\"s3cr3t\"".to_owned(), "\"hidden\"".to_owned()]);
    }
}
