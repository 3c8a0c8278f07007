//! The generic inventory: one JSON object per line, for clouds and tools driftlock has no
//! reader for (README, "Generic inventory"):
//!
//! ```json
//! {"provider": "aws", "type": "aws_vpc", "id": "vpc-0a1b", "region": "us-east-1", "account": "123456789012", "tags": {"Name": "main"}}
//! ```
//!
//! `type` is a cloud type (`AWS::EC2::VPC`, `compute.googleapis.com/Network`,
//! `microsoft.network/virtualnetworks`) or a Terraform resource type. A Terraform type the
//! catalog knows becomes its cloud type, with the keys the catalog derives from `id` and
//! `attributes` exactly as it does from state; any other type is kept as given and joins with
//! state instances of that Terraform type by `id`. Unknown members are errors: a misspelt `tags`
//! must not silently turn off the tag comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Part, Shape};
use crate::catalog::Catalog;
use crate::model::{Cloud, CloudResource, Coverage, KeyKind, Locator, Scope, Sighting};
use crate::source::SourceId;

pub(crate) const FORMAT: &str = "generic-ndjson";

const MEMBERS: &[&str] = &["provider", "type", "id", "region", "account", "tags", "attributes"];

/// True when an object looks like a generic inventory record.
pub(crate) fn is_record(has: &dyn Fn(&str) -> bool) -> bool {
    has("provider") && has("type") && has("id")
}

fn cloud_of(provider: &str) -> Cloud {
    match provider.to_ascii_lowercase().as_str() {
        "aws" => Cloud::Aws,
        "gcp" | "google" | "google-beta" => Cloud::Gcp,
        "azure" | "azurerm" | "azapi" => Cloud::Azure,
        _ => Cloud::Other,
    }
}

fn required<'v>(o: &'v Map<String, Value>, k: &'static str) -> Result<&'v str, Shape> {
    match o.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(Shape::new(Some(k), format!("`{k}` must be a non-empty string"))),
        None => Err(Shape::new(None, format!("the record has no `{k}` (every record needs provider, type and id)"))),
    }
}

fn optional<'v>(o: &'v Map<String, Value>, k: &'static str) -> Result<Option<&'v str>, Shape> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(_) => Err(Shape::new(Some(k), format!("`{k}` must be a string"))),
    }
}

/// Keys an id yields by its shape: an ARN, a GCP asset name or self link, an ARM id.
fn shaped_keys(mut r: CloudResource, id: &str) -> CloudResource {
    if id.starts_with("arn:") {
        r = r.key(KeyKind::Arn, id);
    } else if id.starts_with("//") || id.starts_with("https://") {
        r = r.key(KeyKind::Asset, id);
    } else if id.len() > 15 && id[..15].eq_ignore_ascii_case("/subscriptions/") {
        r = r.key(KeyKind::Arm, id);
    }
    r
}

/// What one record vouches for: every resource of its cloud, type, region and account.
type ScopeKey = (Cloud, Arc<str>, Option<String>, Option<String>);

/// Builds resources from the records of one file, then states what the file vouches for.
pub(crate) struct Collector<'c> {
    source: SourceId,
    catalog: &'c Catalog,
    part: Part,
    /// (cloud, type, region, account) of every record: the file lists each of these in full.
    scopes: BTreeSet<ScopeKey>,
}

impl<'c> Collector<'c> {
    pub(crate) fn new(source: SourceId, catalog: &'c Catalog) -> Self {
        Collector { source, catalog, part: Part::default(), scopes: BTreeSet::new() }
    }

    /// Adds one record found at `loc`.
    pub(crate) fn add(&mut self, rec: &Value, loc: Locator) -> Result<(), Shape> {
        let Some(o) = rec.as_object() else {
            return Err(Shape::new(None, "a generic inventory record must be a JSON object"));
        };
        if let Some(k) = o.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(Shape::new(
                None,
                format!("unknown member `{k}` (a record has provider, type, id, region, account, tags, attributes)"),
            ));
        }
        let provider = required(o, "provider")?;
        let t = required(o, "type")?;
        let id = required(o, "id")?;
        let region = optional(o, "region")?.map(str::to_owned);
        let account = optional(o, "account")?.map(str::to_owned);
        let tags = match o.get("tags") {
            None => None,
            Some(Value::Null) => Some(BTreeMap::new()),
            Some(Value::Object(m)) => Some(
                m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect(),
            ),
            Some(_) => return Err(Shape::new(Some("tags"), "`tags` must be an object of strings")),
        };
        let mut attrs = match o.get("attributes") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(Shape::new(Some("attributes"), "`attributes` must be an object")),
        };
        attrs.entry("id").or_insert_with(|| Value::String(id.to_owned()));
        let mut cloud = cloud_of(provider);

        // A Terraform type becomes its cloud type; a cloud type is kept (Azure's lower-cased).
        let tf_entry = self.catalog.get(t);
        let cloud_type: Arc<str> = match tf_entry {
            Some(e) => e.cloud_type.clone(),
            None if cloud == Cloud::Azure => Arc::from(t.to_ascii_lowercase()),
            None => Arc::from(t),
        };
        let entries = self.catalog.for_cloud_type(&cloud_type);
        if let Some(e) = tf_entry.or(entries.first()) {
            if cloud != Cloud::Other && cloud != e.cloud {
                return Err(Shape::new(
                    Some("provider"),
                    format!("`type` {t} is a {} type but `provider` is {provider:?}", e.cloud.as_str()),
                ));
            }
            cloud = e.cloud;
        }
        let mut r = CloudResource::new(cloud, cloud_type.clone(), id.to_owned()).key(KeyKind::Id, id);
        r = shaped_keys(r, id);
        // The keys the catalog derives from state, derived the same way from `id` and `attributes`.
        for e in entries {
            for k in e.state_keys(&attrs) {
                if !r.keys.contains(&k) {
                    r.keys.push(k);
                }
            }
        }
        // An AWS record without an ARN gets the catalog's, when its region and account are known.
        let arn = attrs.get("arn").and_then(Value::as_str).map(str::to_owned).or_else(|| {
            let e = entries.iter().find(|e| e.arn.is_some())?;
            let region = region.as_deref().or((!e.regional).then_some(""))?;
            let account = account.as_deref()?;
            crate::catalog::fill(e.arn.as_deref()?, &attrs, &|n| match n {
                "partition" => Some("aws".to_owned()),
                "region" => Some(region.to_owned()),
                "account" => Some(account.to_owned()),
                _ => None,
            })
        });
        if let Some(a) = &arn {
            r = r.key(KeyKind::Arn, a);
        }
        if let Some(k) = r.keys.iter().find(|k| matches!(k.kind, KeyKind::Arn | KeyKind::Asset | KeyKind::Arm)) {
            r.cloud_id = k.value.clone();
        } else if tf_entry.is_some() {
            r.cloud_id = format!("{cloud_type}/{id}");
        }
        if let Some(n) = attrs.get("name").and_then(Value::as_str) {
            r.name = Some(n.to_owned());
            if r.cloud == Cloud::Other {
                r = r.key(KeyKind::Name, n);
            }
        }
        attrs.remove("id");
        r.attributes = attrs.into();
        r.region = region;
        r.account = account;
        r.tags = tags.map(Into::into);
        self.scopes.insert((r.cloud, r.cloud_type.clone(), r.region.clone(), r.account.clone()));
        r.seen(Sighting { source: self.source, locator: loc, format: FORMAT });
        self.part.resources.push(r);
        Ok(())
    }

    /// The resources, and what the file vouches for: every resource of each type, region and
    /// account it has a record for.
    pub(crate) fn finish(mut self) -> Part {
        for (cloud, t, region, account) in std::mem::take(&mut self.scopes) {
            self.part.coverage.push(Coverage {
                source: self.source,
                cloud,
                cloud_type: Some(t),
                region,
                account,
                scope: Scope::All,
                format: FORMAT,
            });
        }
        self.part
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Key, Seg};

    /// The key a state instance of an unsupported Terraform type joins on (`checks/join.rs`).
    fn id_key(id: &str) -> Key {
        Key::new(KeyKind::Id, id)
    }

    fn add(line: &str) -> Result<Part, Shape> {
        let mut c = Collector::new(SourceId(0), Catalog::builtin());
        c.add(&serde_json::from_str(line).unwrap(), Locator::new(vec![Seg::Line(1)]))?;
        Ok(c.finish())
    }

    #[test]
    fn terraform_types_take_catalog_keys() {
        let p = add(r#"{"provider":"aws","type":"aws_vpc","id":"vpc-1","region":"us-east-1","account":"123456789012","tags":{"Name":"a"}}"#)
            .unwrap();
        let r = &p.resources[0];
        assert_eq!(r.cloud_type.as_ref(), "AWS::EC2::VPC");
        assert_eq!(r.cloud_id, "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1");
        assert!(r.keys.contains(&Key::new(KeyKind::Arn, "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1")));
        assert!(r.keys.contains(&id_key("vpc-1")));
        assert_eq!(p.coverage[0].region.as_deref(), Some("us-east-1"));

        let p =
            add(r#"{"provider":"gcp","type":"google_storage_bucket","id":"b1","attributes":{"name":"b1"}}"#).unwrap();
        assert_eq!(p.resources[0].cloud_id, "//storage.googleapis.com/b1");
        assert_eq!(p.resources[0].cloud, Cloud::Gcp);

        let p = add(r#"{"provider":"aws","type":"AWS::S3::Bucket","id":"b2","account":"1"}"#).unwrap();
        assert_eq!(p.resources[0].cloud_id, "arn:aws:s3:::b2");
    }

    #[test]
    fn cloud_types_and_unknown_types() {
        let p = add(r#"{"provider":"azure","type":"Microsoft.Network/virtualNetworks","id":"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v"}"#)
            .unwrap();
        let r = &p.resources[0];
        assert_eq!(r.cloud_type.as_ref(), "microsoft.network/virtualnetworks");
        assert_eq!(r.cloud, Cloud::Azure);
        assert_eq!(r.cloud_id, "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v");
        let p = add(r#"{"provider":"cloudflare","type":"cloudflare_record","id":"abc","tags":null}"#).unwrap();
        let r = &p.resources[0];
        assert_eq!((r.cloud, r.cloud_type.as_ref()), (Cloud::Other, "cloudflare_record"));
        assert_eq!(r.keys, vec![id_key("abc")]);
        assert_eq!(r.tags.as_ref().map(crate::model::CompactMap::len), Some(0));
    }

    #[test]
    fn bad_records_say_why() {
        assert!(add(r#"{"provider":"aws","type":"aws_vpc"}"#).is_err());
        assert_eq!(add(r#"{"provider":"aws","type":"aws_vpc","id":5}"#).unwrap_err().key, Some("id"));
        assert_eq!(add(r#"{"provider":"aws","type":"x","id":"i","tags":[1]}"#).unwrap_err().key, Some("tags"));
        assert!(add(r#"{"provider":"aws","type":"x","id":"i","tag":{}}"#).unwrap_err().message.contains("`tag`"));
        assert_eq!(add(r#"{"provider":"gcp","type":"aws_vpc","id":"i"}"#).unwrap_err().key, Some("provider"));
    }
}
