//! JSON helpers shared by the parsers: a top-level key scan that keeps raw values (so a format
//! can be recognised without parsing the whole file into a tree), typed parsing of a raw part
//! with errors located in the whole file, selective attribute extraction, and secret collection.

use std::fmt;

use compact_str::CompactString;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

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

/// The members of a top-level JSON object, values left raw; or, when it was read by
/// [`read_top`], all but the bulk member, which was parsed as it streamed by.
pub(crate) struct TopLevel<'a> {
    pub(crate) entries: Vec<(String, &'a RawValue)>,
    /// The member parsed while the top level was read (its entry holds a placeholder), for
    /// the parser of the format to take.
    pub(crate) streamed: std::cell::RefCell<Option<(usize, Streamed<'a>)>>,
}

impl<'a> TopLevel<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The member `key`, raw, even when it was streamed (the text is then read again: for
    /// diagnostics only).
    pub(crate) fn raw(&self, text: &'a str, key: &str) -> Option<&'a RawValue> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        if self.streamed.borrow().as_ref().is_some_and(|(s, _)| *s == i) {
            let plain: TopLevel<'a> = serde_json::from_str(text).ok()?;
            return plain.get(key);
        }
        Some(self.entries[i].1)
    }

    /// Takes what was streamed of member `key`, if that member was streamed.
    pub(crate) fn take_streamed(&self, key: &str) -> Option<Streamed<'a>> {
        let mut s = self.streamed.borrow_mut();
        let (i, _) = s.as_ref()?;
        if self.entries.get(*i).is_some_and(|(k, _)| k == key) { s.take().map(|(_, v)| v) } else { None }
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
                Ok(TopLevel { entries, streamed: Default::default() })
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

/// What [`read_top`] parsed of a document's bulk member while reading its top level.
pub(crate) enum Streamed<'a> {
    /// The `resources` of a raw state (version 4), as instances.
    State(super::state_v4::Streamed),
    /// The records of an AWS listing, typed.
    Aws(super::inventory::aws::Records<'a>),
}

/// The value [`TopLevel::entries`] holds for a streamed member (never read: the member's
/// parser takes [`TopLevel::streamed`], and diagnostics read the text again).
fn placeholder() -> &'static RawValue {
    static EMPTY: std::sync::LazyLock<Box<RawValue>> =
        std::sync::LazyLock::new(|| RawValue::from_string("[]".to_owned()).expect("a JSON literal"));
    &EMPTY
}

/// Reads a document's top-level object in one pass. The bulk member (a state's `resources`
/// once `version` and `lineage` were seen, an AWS listing's array of records) is parsed as it
/// streams by instead of being skipped now and parsed again later; every other member is kept
/// raw. Anything unusual in the streamed member (a shape or type the fast reader does not
/// take, an error) makes it read the text again plainly, so results and diagnostics are the
/// plain reader's.
pub(crate) fn read_top<'a>(ctx: &FileCtx<'a>, filter: &dyn AttributeFilter) -> Result<TopLevel<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(ctx.text);
    if let Ok(top) = (StreamTop { ctx, filter }).deserialize(&mut de).and_then(|t| de.end().map(|()| t)) {
        return Ok(top);
    }
    serde_json::from_str(ctx.text)
}

struct StreamTop<'c, 'a> {
    ctx: &'c FileCtx<'a>,
    filter: &'c dyn AttributeFilter,
}

impl<'a> DeserializeSeed<'a> for StreamTop<'_, 'a> {
    type Value = TopLevel<'a>;
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'a> Visitor<'a> for StreamTop<'_, 'a> {
    type Value = TopLevel<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'a>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, &'a RawValue)> = Vec::new();
        let mut streamed = None;
        while let Some(k) = m.next_key::<String>()? {
            // Only the first member of a name counts (`TopLevel::get`).
            if streamed.is_none() && !entries.iter().any(|(e, _)| *e == k) {
                let has = |key: &str| entries.iter().any(|(e, _)| e == key);
                let s = if k == "resources" && has("version") && has("lineage") {
                    let seed = super::state_v4::ResourcesSeed { ctx: self.ctx, filter: self.filter };
                    Some(Streamed::State(m.next_value_seed(seed)?))
                } else if let Some(kind) = super::inventory::aws::record_kind(&k) {
                    Some(Streamed::Aws(m.next_value_seed(super::inventory::aws::RecordsSeed(
                        kind,
                        super::inventory::aws::record_room(self.ctx.text.len()),
                    ))?))
                } else {
                    None
                };
                if let Some(s) = s {
                    streamed = Some((entries.len(), s));
                    entries.push((k, placeholder()));
                    continue;
                }
            }
            entries.push((k, m.next_value::<&'a RawValue>()?));
        }
        Ok(TopLevel { entries, streamed: std::cell::RefCell::new(streamed) })
    }
}

/// A member of a record read as `serde_json::Value` would see it, without building a `Value`
/// for strings: `str_of`-style reads and `get(..).cloned()`-style reads give what they gave on
/// the tree. Any JSON value is accepted.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    /// Not in the record.
    #[default]
    Absent,
    Null,
    Str(std::borrow::Cow<'a, str>),
    /// A number, boolean, array or object.
    Other(Value),
}

impl Field<'_> {
    /// The string, when it is one and not empty (`str_of`).
    pub(crate) fn str(&self) -> Option<&str> {
        self.as_str().filter(|s| !s.is_empty())
    }

    /// The string, when it is one (`Value::as_str`).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    /// In the record, whatever its value (`get(..).is_some()`).
    pub(crate) fn present(&self) -> bool {
        !matches!(self, Field::Absent)
    }

    /// The value, `Null` when absent (`get(..).cloned().unwrap_or(Value::Null)`).
    pub(crate) fn value(&self) -> Value {
        self.to_value().unwrap_or(Value::Null)
    }

    /// The value, `Null` when absent, without copying a number, boolean, array or object.
    pub(crate) fn value_ref(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Field::Other(v) => std::borrow::Cow::Borrowed(v),
            other => std::borrow::Cow::Owned(other.value()),
        }
    }

    /// The value when present (`get(..).cloned()`).
    pub(crate) fn to_value(&self) -> Option<Value> {
        match self {
            Field::Absent => None,
            Field::Null => Some(Value::Null),
            Field::Str(s) => Some(Value::String(s.as_ref().to_owned())),
            Field::Other(v) => Some(v.clone()),
        }
    }

    /// A string as is, anything else as compact JSON (how tag values are read).
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Field::Absent => None,
            Field::Null => Some("null".to_owned()),
            Field::Str(s) => Some(s.as_ref().to_owned()),
            Field::Other(v) => Some(v.to_string()),
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Field<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Field<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Field::Str(std::borrow::Cow::Owned(s)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                <Field<'a> as serde::Deserialize>::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Field::Other(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Field::Other(Value::from(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Field::Other(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Field::Null, |n| Field::Other(Value::Number(n))))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(s)).map(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(m)).map(Field::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Consumes whatever value a visitor was handed that is not the one it wants.
macro_rules! skip_other_values {
    ($out:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}
pub(crate) use skip_other_values;

/// `null` read as `$out`.
macro_rules! null_is {
    ($out:expr) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($out)
        }
    };
}
pub(crate) use null_is;

/// A nested object read as `Value::get` would: anything that is not an object reads as one
/// with no members (`T::default()`).
#[derive(Debug, Default)]
pub(crate) struct Obj<T>(pub(crate) T);

impl<'de, T: serde::Deserialize<'de> + Default> serde::Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Located::<T>::visitor()).map(|l| Obj(l.value))
    }
}

/// A record of an array, typed as [`Obj`] is, with where it starts in the text when that can
/// be told (the first member's name is borrowed from the text).
#[derive(Debug, Default)]
pub(crate) struct Located<T> {
    /// Address of the first member's name in the text, or 0.
    key: usize,
    pub(crate) value: T,
}

impl<T> Located<T> {
    /// Byte offset of the record's `{` in `text`.
    pub(crate) fn offset(&self, text: &str) -> Option<u32> {
        let base = text.as_ptr() as usize;
        let k = self.key.checked_sub(base).filter(|k| *k >= 2 && *k <= text.len())?;
        let head = text.get(..k - 1)?;
        let brace = memchr::memrchr(b'{', head.as_bytes())?;
        head[brace + 1..].trim().is_empty().then(|| u32::try_from(brace).ok()).flatten()
    }

    fn visitor<'de>() -> LocatedVisitor<T>
    where
        T: serde::Deserialize<'de> + Default,
    {
        LocatedVisitor(std::marker::PhantomData)
    }
}

impl<'de, T: serde::Deserialize<'de> + Default> serde::Deserialize<'de> for Located<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Self::visitor())
    }
}

struct LocatedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de> + Default> Visitor<'de> for LocatedVisitor<T> {
    type Value = Located<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record")
    }
    skip_other_values!(Located::default());
    null_is!(Located::default());
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Located::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let Some(first) = m.next_key::<KeyRef<'de>>()? else { return Ok(Located::default()) };
        let key = match &first.0 {
            std::borrow::Cow::Borrowed(k) => k.as_ptr() as usize,
            std::borrow::Cow::Owned(_) => 0,
        };
        let value =
            T::deserialize(serde::de::value::MapAccessDeserializer::new(Prepend { first: Some(first.0), map: m }))?;
        Ok(Located { key, value })
    }
}

/// A member name, borrowed from the text when it has no escapes.
pub(crate) struct KeyRef<'de>(pub(crate) std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for KeyRef<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(KeyRef(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(KeyRef(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(KeyRef(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A map whose first key was already read, handed on whole.
struct Prepend<'de, A> {
    first: Option<std::borrow::Cow<'de, str>>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Prepend<'de, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(std::borrow::Cow::Borrowed(k)) => {
                seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(k)).map(Some)
            }
            Some(std::borrow::Cow::Owned(k)) => {
                seed.deserialize(serde::de::IntoDeserializer::<A::Error>::into_deserializer(k)).map(Some)
            }
            None => self.map.next_key_seed(seed),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// An array read as `Value::as_array` would: anything else reads as an empty one.
#[derive(Debug)]
pub(crate) struct List<T>(pub(crate) Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            skip_other_values!(List::default());
            null_is!(List::default());
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = s.next_element()? {
                    out.push(x);
                }
                Ok(List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The length of an array (`as_array().map_or(0, Vec::len)`), its elements skipped.
#[derive(Debug, Default)]
pub(crate) struct Count(pub(crate) usize);

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            skip_other_values!(Count(0));
            null_is!(Count(0));
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                let mut n = 0;
                while s.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Count(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// Which attributes to keep of an instance of a resource type.
pub trait AttributeFilter: Sync {
    fn keep(&self, resource_type: &str, attribute: &str) -> bool;

    /// The filter of one type, asked once per instance and then per attribute (a filter that
    /// looks the type up does that once).
    fn for_type<'s>(&'s self, resource_type: &'s str) -> TypeFilter<'s>;
}

/// [`AttributeFilter::for_type`]'s answer.
pub enum TypeFilter<'s> {
    Dynamic(&'s dyn AttributeFilter, &'s str),
    /// These attributes (the catalog's sets hold [`ALWAYS_KEPT`] too): one hash and, for a
    /// kept one, one comparison, where a sorted list took four comparisons for every attribute
    /// of every instance.
    Listed(&'s rustc_hash::FxHashSet<String>),
}

/// What the catalog keeps of every type: identity, tags and labels.
pub const ALWAYS_KEPT: [&str; 9] =
    ["id", "arn", "name", "region", "tags", "tags_all", "labels", "effective_labels", "self_link"];

impl TypeFilter<'_> {
    pub fn keep(&self, attribute: &str) -> bool {
        match self {
            TypeFilter::Dynamic(f, t) => f.keep(t, attribute),
            TypeFilter::Listed(l) => l.contains(attribute),
        }
    }
}

/// Keeps the attributes every check needs whatever the type: identity and tags.
pub struct IdentityAttributes;

impl AttributeFilter for IdentityAttributes {
    fn keep(&self, _t: &str, a: &str) -> bool {
        matches!(a, "id" | "arn" | "name" | "tags" | "tags_all" | "labels" | "self_link")
    }
    fn for_type<'s>(&'s self, resource_type: &'s str) -> TypeFilter<'s> {
        TypeFilter::Dynamic(self, resource_type)
    }
}

/// Keeps everything (small inputs, tests).
pub struct AllAttributes;

impl AttributeFilter for AllAttributes {
    fn keep(&self, _t: &str, _a: &str) -> bool {
        true
    }
    fn for_type<'s>(&'s self, resource_type: &'s str) -> TypeFilter<'s> {
        TypeFilter::Dynamic(self, resource_type)
    }
}

/// Deserializes an object keeping only the members the filter wants; the rest is skipped
/// without building values.
pub(crate) struct Select<'f> {
    pub(crate) filter: &'f dyn AttributeFilter,
    pub(crate) resource_type: &'f str,
}

impl<'de> DeserializeSeed<'de> for Select<'_> {
    type Value = Selected;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Select<'_> {
    type Value = Selected;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attributes")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Selected::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        select_members(self.filter, self.resource_type, &mut m, None)
    }
}

/// The attributes kept of an instance: the tag and label maps whose values are all strings
/// apart, in compact form ([`crate::model::Instance::tag_maps`]), the rest as JSON values.
pub(crate) type Selected = (crate::model::Attributes, crate::model::TagMaps);

/// The members of an object the filter wants (`first`: a member name already read).
fn select_members<'de, A: MapAccess<'de>>(
    filter: &dyn AttributeFilter,
    resource_type: &str,
    m: &mut A,
    mut first: Option<KeyRef<'de>>,
) -> Result<Selected, A::Error> {
    thread_local! {
        /// Members are gathered here, then copied into a vector of their exact size: growing a
        /// fresh vector member by member reallocated it two or three times per instance.
        static SCRATCH: std::cell::RefCell<Vec<(CompactString, Value)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let keep = filter.for_type(resource_type);
    let mut out = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    out.clear();
    let mut maps: Vec<(CompactString, crate::model::CompactMap<String>)> = Vec::new();
    loop {
        let k = match first.take() {
            Some(k) => k,
            None => match m.next_key::<KeyRef<'de>>()? {
                Some(k) => k,
                None => break,
            },
        };
        if !keep.keep(&k.0) {
            m.next_value::<IgnoredAny>()?;
        } else if crate::model::state::TAG_MAPS.contains(&k.0.as_ref()) {
            match m.next_value::<TagMap>()? {
                TagMap::Strings(t) => maps.push((CompactString::new(&k.0), t)),
                TagMap::Other(v) => out.push((CompactString::new(&k.0), v)),
            }
        } else {
            let v = m.next_value::<Value>()?;
            out.push((CompactString::new(&k.0), v));
        }
    }
    #[expect(clippy::drain_collect, reason = "a copy of exactly the members; the scratch keeps its room")]
    let attributes = crate::model::CompactMap::from_unsorted(out.drain(..).collect());
    SCRATCH.with(|s| *s.borrow_mut() = out);
    Ok((attributes, crate::model::CompactMap::from_unsorted(maps)))
}

/// A tag or label map read straight into compact form when every value is a string (no
/// `serde_json` object, whose tree node would be built and thrown away); any other value as
/// `Value`, exactly as it reads.
enum TagMap {
    Strings(crate::model::CompactMap<String>),
    Other(Value),
}

impl<'de> serde::Deserialize<'de> for TagMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<TagMap, A::Error> {
                let mut pairs: Vec<(CompactString, Value)> = Vec::new();
                while let Some(k) = m.next_key::<KeyRef<'de>>()? {
                    let v = m.next_value::<Value>()?;
                    pairs.push((CompactString::new(&k.0), v));
                }
                if pairs.iter().all(|(_, v)| v.is_string()) {
                    let strings = pairs.into_iter().map(|(k, v)| match v {
                        Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    });
                    Ok(TagMap::Strings(crate::model::CompactMap::from_unsorted(strings.collect())))
                } else {
                    Ok(TagMap::Other(Value::Object(pairs.into_iter().map(|(k, v)| (k.into_string(), v)).collect())))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<TagMap, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<Value>()? {
                    out.push(v);
                }
                Ok(TagMap::Other(Value::Array(out)))
            }
            fn visit_unit<E>(self) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::Null))
            }
            fn visit_none<E>(self) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<TagMap, D::Error> {
                <TagMap as serde::Deserialize>::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::from(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<TagMap, E> {
                Ok(TagMap::Other(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)))
            }
            fn visit_str<E>(self, s: &str) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::String(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<TagMap, E> {
                Ok(TagMap::Other(Value::String(s)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Where an attributes object starts, for reading it again whole (sensitive instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectAt {
    /// Byte offset of its `{`.
    Offset(usize),
    /// It has no members.
    Empty,
    /// Not known (its first member's name has escapes).
    Unknown,
}

/// [`Select`] of a member that may be `null` (then `None`), telling where the object starts.
pub(crate) struct SelectSeed<'f> {
    pub(crate) filter: &'f dyn AttributeFilter,
    pub(crate) resource_type: &'f str,
    pub(crate) text: &'f str,
}

impl<'de> DeserializeSeed<'de> for SelectSeed<'_> {
    type Value = Option<(Selected, ObjectAt)>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for SelectSeed<'_> {
    type Value = Option<(Selected, ObjectAt)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attributes")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let Some(first) = m.next_key::<KeyRef<'de>>()? else {
            return Ok(Some((Selected::default(), ObjectAt::Empty)));
        };
        let at = match &first.0 {
            std::borrow::Cow::Borrowed(k) => object_start(self.text, k).map_or(ObjectAt::Unknown, ObjectAt::Offset),
            std::borrow::Cow::Owned(_) => ObjectAt::Unknown,
        };
        Ok(Some((select_members(self.filter, self.resource_type, &mut m, Some(first))?, at)))
    }
}

/// The offset of the `{` of the object whose first member's name is `key` (borrowed from
/// `text`), when that can be told.
pub(crate) fn object_start(text: &str, key: &str) -> Option<usize> {
    let base = text.as_ptr() as usize;
    let k = (key.as_ptr() as usize).checked_sub(base).filter(|k| *k >= 2 && *k <= text.len())?;
    let head = text.get(..k - 1)?;
    let brace = memchr::memrchr(b'{', head.as_bytes())?;
    head[brace + 1..].trim().is_empty().then_some(brace)
}

/// Parses the attributes object of an instance, keeping what the filter wants.
pub(crate) fn select_attributes(
    ctx: &FileCtx<'_>,
    raw: &RawValue,
    filter: &dyn AttributeFilter,
    resource_type: &str,
) -> Result<Selected, InputError> {
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
        let (m, maps) = select_attributes(&ctx, &raw, &IdentityAttributes, "aws_vpc").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m["id"], "x");
        assert!(!m.contains_key("big"));
        assert_eq!(maps["tags_all"]["k"], "v");
    }

    #[test]
    fn tag_maps_of_strings_are_read_compact_and_others_stay_json() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#"{"tags":{"b":"2","a":"1","a":"3"},"labels":{"n":1},"tags_all":null,"effective_labels":{}}"#,
        )
        .unwrap();
        let ctx = FileCtx { id: SourceId(0), name: "t", text: raw.get() };
        let (m, maps) = select_attributes(&ctx, &raw, &AllAttributes, "aws_vpc").unwrap();
        // Sorted, and the last of a repeated key wins, as in a JSON object.
        assert_eq!(maps["tags"].iter().collect::<Vec<_>>(), [("a", &"3".to_owned()), ("b", &"2".to_owned())]);
        assert!(maps["effective_labels"].is_empty());
        assert_eq!(m["labels"], serde_json::json!({"n": 1}));
        assert_eq!(m["tags_all"], Value::Null);
        assert_eq!(maps.len(), 2);
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
