//! What really exists in the cloud: resources read from inventory exports, merged by
//! canonical identity, and what each export can vouch for (coverage).
//!
//! The same resource seen in several sources is one [`CloudResource`]: records are merged
//! when they share any [`Key`] of the same cloud type (a hash join, never nested loops).

use std::sync::Arc;

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use serde_json::Value;

use super::{CompactMap, Locator};
use crate::source::SourceId;

/// Which cloud a resource lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
    /// Anything else, from the generic NDJSON inventory.
    Other,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
            Cloud::Other => "other",
        }
    }

    /// The cloud of a Terraform provider short name (`aws`, `google`, `azurerm`).
    pub fn of_provider(p: &str) -> Cloud {
        match p {
            "aws" => Cloud::Aws,
            "google" | "google-beta" => Cloud::Gcp,
            "azurerm" | "azapi" => Cloud::Azure,
            _ => Cloud::Other,
        }
    }
}

/// The kinds of identity a resource can be joined on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// AWS ARN (log-group `:*` suffix removed).
    Arn,
    /// The service's own id (`vpc-…`, bucket name, KMS key id).
    Id,
    /// A name unique within its type and account (IAM role name).
    Name,
    /// A unique id distinct from the name (IAM `AROA…`, GCP `uniqueId`).
    UniqueId,
    /// GCP full asset name (`//compute.googleapis.com/projects/p/global/networks/n`).
    Asset,
    /// Azure ARM id, lower-cased, no trailing `/`.
    Arm,
}

/// One identity of a resource: its kind and normalized value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub kind: KeyKind,
    pub value: String,
}

impl Key {
    /// Builds a key, normalizing the value the way its kind compares.
    pub fn new(kind: KeyKind, value: &str) -> Key {
        let value = match kind {
            KeyKind::Arn => value.strip_suffix(":*").unwrap_or(value).to_owned(),
            KeyKind::Arm => value.trim_end_matches('/').to_ascii_lowercase(),
            KeyKind::Asset => asset_name(value),
            _ => value.to_owned(),
        };
        Key { kind, value }
    }
}

/// A GCP full resource name from a self link or an asset name:
/// `https://www.googleapis.com/compute/v1/projects/p/global/networks/n` →
/// `//compute.googleapis.com/projects/p/global/networks/n`;
/// `https://storage.googleapis.com/storage/v1/b/x` → `//storage.googleapis.com/x`.
pub fn asset_name(value: &str) -> String {
    let Some(rest) = value.strip_prefix("https://") else { return value.to_owned() };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host == "www.googleapis.com" {
        // www.googleapis.com/SERVICE/VERSION/PATH
        let mut parts = path.splitn(3, '/');
        let service = parts.next().unwrap_or("");
        let _version = parts.next();
        let path = parts.next().unwrap_or("");
        if service == "storage" {
            return format!("//storage.googleapis.com/{}", path.trim_start_matches("b/"));
        }
        return format!("//{service}.googleapis.com/{path}");
    }
    if host == "storage.googleapis.com" {
        let p = path.trim_start_matches("storage/v1/").trim_start_matches("b/");
        return format!("//storage.googleapis.com/{p}");
    }
    // SERVICE.googleapis.com/VERSION/PATH
    let path = path.split_once('/').map_or(path, |(_, p)| p);
    format!("//{host}/{path}")
}

/// Where a resource was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub source: SourceId,
    pub locator: Locator,
    /// The export format (`aws-tagging`, `aws-config-snapshot`, `ec2-describe-vpcs`…).
    pub format: &'static str,
}

/// A resource that exists in the cloud.
#[derive(Debug, Clone)]
pub struct CloudResource {
    pub cloud: Cloud,
    /// The cloud's own type name: `AWS::EC2::VPC`, `compute.googleapis.com/Network`,
    /// `microsoft.network/virtualnetworks` (lower-case), or a generic type.
    pub cloud_type: Arc<str>,
    pub keys: Vec<Key>,
    /// The canonical id shown in reports: the ARN, the full asset name, the lower-cased ARM
    /// id. Where a part is unknown it says so (`arn:aws:ec2:<unknown-region>:…`).
    pub cloud_id: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub name: Option<String>,
    /// Tags or labels; `None` when the source cannot tell (not "no tags").
    pub tags: Option<CompactMap<String>>,
    /// Attributes in Terraform's vocabulary (`cidr_block`, `ingress` normalized), and the
    /// facts default presets look at (`is_default`, `group_name`, `path`…).
    pub attributes: CompactMap<Value>,
    pub sightings: Vec<Sighting>,
}

impl CloudResource {
    pub fn new(cloud: Cloud, cloud_type: Arc<str>, cloud_id: String) -> Self {
        CloudResource {
            cloud,
            cloud_type,
            keys: Vec::new(),
            cloud_id,
            region: None,
            account: None,
            name: None,
            tags: None,
            attributes: CompactMap::new(),
            sightings: Vec::new(),
        }
    }

    pub fn key(mut self, kind: KeyKind, value: &str) -> Self {
        if !value.is_empty() {
            let k = Key::new(kind, value);
            if !self.keys.contains(&k) {
                self.keys.push(k);
            }
        }
        self
    }

    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        let v = value.into();
        if !v.is_null() {
            self.attributes.insert(name, v);
        }
        self
    }

    /// Records where this record was seen, and gives the record its final size: a million
    /// records each holding spare room for three more sightings, keys or attributes (what
    /// growing by `push` leaves) would cost hundreds of megabytes.
    pub fn seen(&mut self, sighting: Sighting) {
        if self.sightings.is_empty() {
            self.sightings = vec![sighting];
        } else {
            self.sightings.push(sighting);
        }
        self.keys.shrink_to_fit();
        self.attributes.shrink_to_fit();
        if let Some(t) = &mut self.tags {
            t.shrink_to_fit();
        }
    }

    /// Folds another record of the same resource into this one: keys and sightings are
    /// unioned; known values fill unknown ones (the first source to know wins, so the result
    /// does not depend on thread timing, only on input order).
    pub fn merge(&mut self, other: CloudResource) {
        for k in other.keys {
            if !self.keys.contains(&k) {
                self.keys.push(k);
            }
        }
        if self.cloud_id.contains("<unknown-") && !other.cloud_id.contains("<unknown-") {
            self.cloud_id = other.cloud_id;
        }
        self.region = self.region.take().or(other.region);
        self.account = self.account.take().or(other.account);
        self.name = self.name.take().or(other.name);
        self.tags = self.tags.take().or(other.tags);
        for (k, v) in other.attributes {
            self.attributes.insert_if_absent(k, v);
        }
        self.sightings.extend(other.sightings);
    }
}

/// False when both records know their region (or account) and they differ.
fn same_place(a: &CloudResource, b: &CloudResource) -> bool {
    let agree = |x: &Option<String>, y: &Option<String>| x.is_none() || y.is_none() || x == y;
    agree(&a.region, &b.region) && agree(&a.account, &b.account)
}

/// How much of a type an export vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every resource of the type (in its region and account) is listed.
    All,
    /// Only resources that have (or once had) tags: the tagging API, Resource Explorer.
    Tagged,
}

/// A statement by one export: "every resource of `cloud_type` in `region` is listed here".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub source: SourceId,
    pub cloud: Cloud,
    /// `None`: every type the catalog says this format lists (the tagging API).
    pub cloud_type: Option<Arc<str>>,
    /// `None`: the export does not say its region.
    pub region: Option<String>,
    pub account: Option<String>,
    pub scope: Scope,
    pub format: &'static str,
}

/// Every cloud resource of a run, merged.
#[derive(Debug, Default)]
pub struct Inventory {
    pub resources: Vec<CloudResource>,
    pub coverage: Vec<Coverage>,
    /// (cloud type, key) → resource. An entry names the resource and which of its keys it was
    /// indexed under (merges only ever append keys, so that position stays valid), with the
    /// key's hash, so that growing the table never reads the resources again: sixteen bytes,
    /// no copy of the key.
    index: HashTable<KeyRef>,
    /// ARN → resource, whatever the type (ARNs are unique across types: found even when the
    /// type is unknown to the catalog); entries as in `index`.
    arns: HashTable<KeyRef>,
}

/// A key of a resource in [`Inventory::resources`]: `resources[resource].keys[key]`, and its
/// hash in the table that holds the entry.
#[derive(Debug, Clone, Copy)]
struct KeyRef {
    hash: u64,
    resource: u32,
    key: u32,
}

fn type_key_hash(cloud_type: &str, key: &Key) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    cloud_type.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

fn arn_hash(arn: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    arn.hash(&mut h);
    h.finish()
}

impl Inventory {
    fn key_of(&self, e: KeyRef) -> (&CloudResource, &Key) {
        let r = &self.resources[e.resource as usize];
        (r, &r.keys[e.key as usize])
    }

    /// Makes room for `records` more records (about three keys each, one of them an ARN), so
    /// that merging a large inventory does not grow its index again and again.
    pub fn reserve(&mut self, records: usize) {
        self.resources.reserve(records);
        self.index.reserve(records.saturating_mul(3), |e| e.hash);
        self.arns.reserve(records, |e| e.hash);
    }

    /// Adds a resource, merged into the one it shares a key with (an ARN anywhere; another key
    /// of the same type where region and account agree), else as a new one.
    pub fn add(&mut self, r: CloudResource) {
        // Each key is hashed once, for the lookup and for the insert.
        let hashes: Vec<u64> = r.keys.iter().map(|k| type_key_hash(&r.cloud_type, k)).collect();
        let found = r.keys.iter().zip(&hashes).find_map(|(k, &h)| {
            let hit = self.find_hashed(h, &r.cloud_type, k).or_else(|| match k.kind {
                KeyKind::Arn => self.arn(&k.value),
                _ => None,
            })?;
            // Names and service ids are unique only within a region and account: a record that
            // is known to live elsewhere is another resource, never a merge.
            let other = &self.resources[hit];
            (k.kind == KeyKind::Arn || same_place(other, &r)).then_some(hit)
        });
        let (idx, first_new, known) = match found {
            Some(i) => {
                let before = self.resources[i].keys.len();
                self.resources[i].merge(r);
                (i, before, None)
            }
            None => {
                self.resources.push(r);
                (self.resources.len() - 1, 0, Some(hashes))
            }
        };
        // The keys to index: all of a new resource's, only those a merge added to an existing
        // one (its earlier keys were indexed when they came, under it or under another resource).
        let Ok(resource) = u32::try_from(idx) else { return };
        for pos in first_new..self.resources[idx].keys.len() {
            let Ok(key) = u32::try_from(pos) else { break };
            let (r, k) = (&self.resources[idx], &self.resources[idx].keys[pos]);
            let hash = known.as_ref().map_or_else(|| type_key_hash(&r.cloud_type, k), |hs| hs[pos]);
            if self.find_hashed(hash, &r.cloud_type, k).is_none() {
                self.index.insert_unique(hash, KeyRef { hash, resource, key }, |e| e.hash);
            }
            let k = &self.resources[idx].keys[pos];
            if k.kind == KeyKind::Arn {
                let hash = arn_hash(&k.value);
                if self.arn_hashed(hash, &k.value).is_none() {
                    self.arns.insert_unique(hash, KeyRef { hash, resource, key }, |e| e.hash);
                }
            }
        }
    }

    fn find_hashed(&self, h: u64, cloud_type: &str, key: &Key) -> Option<usize> {
        self.index
            .find(h, |&e| {
                if e.hash != h {
                    return false;
                }
                let (r, k) = self.key_of(e);
                k == key && (std::ptr::eq(&*r.cloud_type, cloud_type) || *r.cloud_type == *cloud_type)
            })
            .map(|e| e.resource as usize)
    }

    fn arn_hashed(&self, h: u64, arn: &str) -> Option<usize> {
        self.arns.find(h, |&e| e.hash == h && self.key_of(e).1.value == arn).map(|e| e.resource as usize)
    }

    fn arn(&self, arn: &str) -> Option<usize> {
        self.arn_hashed(arn_hash(arn), arn)
    }

    /// The resource with this ARN, whatever its type.
    pub fn find_arn(&self, arn: &str) -> Option<usize> {
        self.arn(Key::new(KeyKind::Arn, arn).value.as_str())
    }

    /// The resource of `cloud_type` with this key.
    pub fn find(&self, cloud_type: &Arc<str>, key: &Key) -> Option<usize> {
        self.find_hashed(type_key_hash(cloud_type, key), cloud_type, key)
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.coverage.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(id: &str) -> CloudResource {
        CloudResource::new(Cloud::Aws, Arc::from("AWS::EC2::VPC"), format!("arn:aws:ec2:us-east-1:1:vpc/{id}"))
            .key(KeyKind::Id, id)
    }

    #[test]
    fn records_sharing_a_key_merge() {
        let mut inv = Inventory::default();
        let mut a = vpc("vpc-1");
        a.tags = None;
        inv.add(a);
        let mut b = vpc("vpc-1").key(KeyKind::Arn, "arn:aws:ec2:us-east-1:1:vpc/vpc-1");
        b.tags = Some([("Name", "x".to_owned())].into_iter().collect());
        inv.add(b);
        inv.add(vpc("vpc-2"));
        assert_eq!(inv.resources.len(), 2);
        assert_eq!(inv.resources[0].keys.len(), 2);
        assert!(inv.resources[0].tags.is_some());
        let t: Arc<str> = Arc::from("AWS::EC2::VPC");
        assert_eq!(inv.find(&t, &Key::new(KeyKind::Arn, "arn:aws:ec2:us-east-1:1:vpc/vpc-1")), Some(0));
    }

    #[test]
    fn self_links_become_asset_names() {
        assert_eq!(
            asset_name("https://www.googleapis.com/compute/v1/projects/p/global/networks/n"),
            "//compute.googleapis.com/projects/p/global/networks/n"
        );
        assert_eq!(
            asset_name("https://container.googleapis.com/v1/projects/p/locations/l/clusters/c"),
            "//container.googleapis.com/projects/p/locations/l/clusters/c"
        );
        assert_eq!(asset_name("//compute.googleapis.com/projects/p"), "//compute.googleapis.com/projects/p");
    }

    #[test]
    fn same_names_in_other_regions_stay_apart() {
        let fn_in = |region: Option<&str>| {
            let mut r = CloudResource::new(Cloud::Aws, Arc::from("AWS::Lambda::Function"), "x".into())
                .key(KeyKind::Name, "worker");
            r.region = region.map(str::to_owned);
            r
        };
        let mut inv = Inventory::default();
        inv.add(fn_in(Some("us-east-1")));
        inv.add(fn_in(Some("eu-west-1")));
        assert_eq!(inv.resources.len(), 2, "same name, two regions: two functions");
        inv.add(fn_in(None));
        assert_eq!(inv.resources.len(), 2, "an export that does not know its region merges");
    }

    #[test]
    fn keys_normalize() {
        assert_eq!(
            Key::new(KeyKind::Arn, "arn:aws:logs:us-east-1:1:log-group:/a:*").value,
            "arn:aws:logs:us-east-1:1:log-group:/a"
        );
        assert_eq!(
            Key::new(KeyKind::Arm, "/subscriptions/S/resourceGroups/RG/").value,
            "/subscriptions/s/resourcegroups/rg"
        );
    }
}
