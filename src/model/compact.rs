//! [`CompactMap`]: the small string-keyed maps the model holds by the million (an instance's
//! kept attributes, a cloud resource's tags and attributes).
//!
//! A `BTreeMap` (which `serde_json::Map` is) allocates a node of eleven slots however few
//! entries it holds: about 640 bytes for five attributes. A sorted vector of exactly the entries,
//! with keys stored inline when short ([`CompactString`]), holds the same in about a third of
//! that, and looks keys up by binary search. Iteration is in key order, like the `BTreeMap` it
//! replaces, so everything rendered from it keeps its order.

use std::borrow::Borrow;
use std::fmt;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// A map from strings to `V`, sorted by key, sized to its entries.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CompactMap<V> {
    entries: Vec<(CompactString, V)>,
}

impl<V> CompactMap<V> {
    pub const fn new() -> Self {
        CompactMap { entries: Vec::new() }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.find(key).ok().map(move |i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: impl AsRef<str>, value: V) -> Option<V> {
        let key = key.as_ref();
        match self.find(key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (CompactString::new(key), value));
                None
            }
        }
    }

    /// Inserts unless the key is there already (the first value wins).
    pub fn insert_if_absent(&mut self, key: impl AsRef<str>, value: V) {
        let key = key.as_ref();
        if let Err(i) = self.find(key) {
            self.entries.insert(i, (CompactString::new(key), value));
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k.as_str(), v));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Gives back spare capacity (call once a map is complete).
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }

    /// Builds from entries in any order; the last of equal keys wins, as with repeated
    /// `insert`s.
    pub(crate) fn from_unsorted(mut entries: Vec<(CompactString, V)>) -> Self {
        // In place: reversed, a stable sort puts the last insert of a key first in its run,
        // and `dedup` keeps the first of a run ("the last insert wins").
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, first| later.0 == first.0);
        if entries.capacity() > entries.len() {
            entries.shrink_to_fit();
        }
        CompactMap { entries }
    }
}

impl CompactMap<Value> {
    /// The map as a JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()
    }
}

/// A string-keyed lookup of JSON values: what the catalog fills templates and computes join keys
/// from, whether the attributes are an instance's ([`CompactMap`]) or a JSON object.
pub trait Lookup {
    fn lookup(&self, key: &str) -> Option<&Value>;
}

impl Lookup for CompactMap<Value> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl Lookup for Map<String, Value> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl<V> std::ops::Index<&str> for CompactMap<V> {
    type Output = V;
    fn index(&self, key: &str) -> &V {
        self.get(key).unwrap_or_else(|| panic!("no entry {key:?} in the map"))
    }
}

impl<V: fmt::Debug> fmt::Debug for CompactMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Borrow<str>, V> FromIterator<(K, V)> for CompactMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_unsorted(iter.into_iter().map(|(k, v)| (CompactString::new(k.borrow()), v)).collect())
    }
}

impl<K: Borrow<str>, V> Extend<(K, V)> for CompactMap<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k.borrow(), v);
        }
    }
}

impl From<Map<String, Value>> for CompactMap<Value> {
    fn from(m: Map<String, Value>) -> Self {
        // A serde_json map iterates in key order already.
        let mut entries: Vec<(CompactString, Value)> =
            m.into_iter().map(|(k, v)| (CompactString::from(k), v)).collect();
        entries.shrink_to_fit();
        CompactMap { entries }
    }
}

impl From<std::collections::BTreeMap<String, String>> for CompactMap<String> {
    fn from(m: std::collections::BTreeMap<String, String>) -> Self {
        let mut entries: Vec<(CompactString, String)> =
            m.into_iter().map(|(k, v)| (CompactString::from(k), v)).collect();
        entries.shrink_to_fit();
        CompactMap { entries }
    }
}

impl<V> IntoIterator for CompactMap<V> {
    type Item = (String, V);
    type IntoIter = std::iter::Map<std::vec::IntoIter<(CompactString, V)>, fn((CompactString, V)) -> (String, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter().map(|(k, v)| (k.into_string(), v))
    }
}

impl<'a, V> IntoIterator for &'a CompactMap<V> {
    type Item = (&'a str, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (CompactString, V)>, fn(&'a (CompactString, V)) -> (&'a str, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<V: Serialize> Serialize for CompactMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for CompactMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = CompactMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
                while let Some((k, v)) = m.next_entry::<CompactString, V>()? {
                    entries.push((k, v));
                }
                Ok(CompactMap::from_unsorted(entries))
            }
        }
        d.deserialize_map(V_(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_lookup_insert_remove() {
        let mut m: CompactMap<Value> = CompactMap::new();
        assert!(m.insert("b", json!(2)).is_none());
        assert!(m.insert("a", json!(1)).is_none());
        assert_eq!(m.insert("b", json!(3)), Some(json!(2)));
        m.insert_if_absent("a", json!(9));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m["b"], json!(3));
        assert_eq!(m.remove("a"), Some(json!(1)));
        assert!(!m.contains_key("a"));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn collects_with_the_last_of_equal_keys_winning_and_serializes_in_key_order() {
        let m: CompactMap<Value> = vec![("z", json!(1)), ("a", json!(2)), ("z", json!(3))].into_iter().collect();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":2,"z":3}"#);
        let back: CompactMap<Value> = serde_json::from_str(r#"{"z":1,"a":2,"z":3}"#).unwrap();
        assert_eq!(back, m);
        let from_json: CompactMap<Value> = json!({"z": 3, "a": 2}).as_object().cloned().unwrap().into();
        assert_eq!(from_json, m);
        assert_eq!(Value::Object(m.to_json()), json!({"a": 2, "z": 3}));
    }
}
