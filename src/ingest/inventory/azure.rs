//! Azure Resource Graph: `az graph query -q "Resources | …"` (and `ResourceContainers | …`) as
//! the resource-graph extension prints it: 2.x `{count, data: [...], skip_token, total_records}`,
//! 1.x a bare array of rows.
//!
//! ARM ids are case-insensitive and sources disagree on their case (`resourceGroups` vs
//! `resourcegroups`, `RG` vs `rg`): the canonical id and the join key are the lower-cased id
//! without a trailing `/` (`../formats.md` §7). A page that is not the last (`skip_token` set)
//! lists resources that exist but vouches for nothing missing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::{Part, Shape};
use crate::catalog::Catalog;
use crate::model::{Cloud, CloudResource, Coverage, KeyKind, Locator, Scope, Seg, Sighting};
use crate::source::SourceId;

pub(crate) const GRAPH: &str = "azure-resource-graph";

/// Subnets are not rows of their own in Resource Graph: they come from their virtual network's
/// `properties.subnets`.
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const VNET: &str = "microsoft.network/virtualnetworks";

/// The CLI's default page (`--first 100`) and its maximum (1000): a 1.x array of exactly this
/// many rows may have been cut short, and 1.x prints no skip token to tell.
const PAGE_SIZES: &[usize] = &[100, 1000];

fn str_of<'v>(o: &'v Value, k: &str) -> Option<&'v str> {
    o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// True when a row looks like a Resource Graph row (an ARM id under a subscription).
pub(crate) fn is_row(v: &Value) -> bool {
    str_of(v, "id").is_some_and(|id| id.len() > 15 && id[..15].eq_ignore_ascii_case("/subscriptions/"))
}

/// The subscription of an ARM id.
fn subscription_of(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let rest = lower.strip_prefix("/subscriptions/")?;
    let s = rest.split('/').next().unwrap_or(rest);
    (!s.is_empty()).then(|| s.to_owned())
}

fn tags(v: &Value) -> Result<BTreeMap<String, String>, Shape> {
    match v {
        Value::Object(o) => {
            Ok(o.iter().map(|(k, x)| (k.clone(), x.as_str().map_or_else(|| x.to_string(), str::to_owned))).collect())
        }
        Value::Null => Ok(BTreeMap::new()),
        _ => Err(Shape::new(Some("tags"), "`tags` is neither an object nor null")),
    }
}

/// Attributes in Terraform's vocabulary for the types the catalog compares, plus facts for the
/// presets (`resource_group`, `managed_by`, `os_type`).
fn attributes(mut r: CloudResource, t: &str, row: &Value) -> CloudResource {
    let p = |path: &str| row.pointer(path).cloned().unwrap_or(Value::Null);
    r = r
        .attr("resource_group", p("/resourceGroup"))
        .attr("managed_by", str_of(row, "managedBy").map(str::to_ascii_lowercase).map_or(Value::Null, Value::String));
    match t {
        VNET => r.attr("address_space", p("/properties/addressSpace/addressPrefixes")),
        "microsoft.network/publicipaddresses" => {
            r.attr("allocation_method", p("/properties/publicIPAllocationMethod")).attr("sku", p("/sku/name"))
        }
        "microsoft.compute/virtualmachines" => r.attr("size", p("/properties/hardwareProfile/vmSize")),
        "microsoft.storage/storageaccounts" => {
            let replication = row
                .pointer("/sku/name")
                .and_then(Value::as_str)
                .and_then(|s| s.split_once('_'))
                .map(|(_, r)| r.to_owned());
            r.attr("account_tier", p("/sku/tier"))
                .attr("account_replication_type", replication)
                .attr("account_kind", p("/kind"))
        }
        "microsoft.keyvault/vaults" => r.attr("sku_name", p("/properties/sku/name")),
        "microsoft.containerservice/managedclusters" => {
            r.attr("kubernetes_version", p("/properties/kubernetesVersion"))
        }
        "microsoft.sql/servers" => r.attr("version", p("/properties/version")),
        "microsoft.web/serverfarms" => r.attr("sku_name", p("/sku/name")),
        "microsoft.operationalinsights/workspaces" => {
            r.attr("sku", p("/properties/sku/name")).attr("retention_in_days", p("/properties/retentionInDays"))
        }
        "microsoft.containerregistry/registries" => {
            r.attr("sku", p("/sku/name")).attr("admin_enabled", p("/properties/adminUserEnabled"))
        }
        "microsoft.compute/disks" => r
            .attr("disk_size_gb", p("/properties/diskSizeGB"))
            .attr("storage_account_type", p("/sku/name"))
            .attr("os_type", p("/properties/osType")),
        _ => r,
    }
}

/// Types of the ResourceContainers table; every other type is in Resources.
fn is_container(t: &str) -> bool {
    t.starts_with("microsoft.resources/subscriptions") || t.starts_with("microsoft.management/")
}

/// Builds resources from the rows of one file, then states what the file vouches for.
///
/// A `Resources | …` query lists every type of that table and the file cannot say whether
/// the query filtered types: it is taken to vouch for every Resources type the catalog knows
/// plus every type it shows (fail-closed: a filtered query makes `missing` findings for the
/// types it left out, never a silent pass). Rows of ResourceContainers vouch for resource
/// groups; subnets are vouched for when every virtual network came with its `properties`.
pub(crate) struct Collector<'c> {
    source: SourceId,
    catalog: &'c Catalog,
    name: String,
    part: Part,
    types: BTreeSet<String>,
    subscriptions: BTreeSet<String>,
    vnets: usize,
    vnets_with_subnets: usize,
}

impl<'c> Collector<'c> {
    pub(crate) fn new(source: SourceId, name: &str, catalog: &'c Catalog) -> Self {
        Collector {
            source,
            catalog,
            name: name.to_owned(),
            part: Part::default(),
            types: BTreeSet::new(),
            subscriptions: BTreeSet::new(),
            vnets: 0,
            vnets_with_subnets: 0,
        }
    }

    fn sighting(&self, loc: Locator) -> Sighting {
        Sighting { source: self.source, locator: loc, format: GRAPH }
    }

    /// Adds one row found at `loc`.
    pub(crate) fn add(&mut self, row: &Value, loc: Locator) -> Result<(), Shape> {
        if !row.is_object() {
            return Err(Shape::new(None, "a Resource Graph row must be a JSON object"));
        }
        let Some(id) = str_of(row, "id") else {
            return Err(Shape::new(
                None,
                "the row has no `id`; project it in the query (`| project id, name, type, …`)",
            ));
        };
        if !id.starts_with('/') {
            return Err(Shape::new(Some("id"), format!("`id` {id:?} is not an ARM id (`/subscriptions/…`)")));
        }
        let Some(t) = str_of(row, "type") else {
            return Err(Shape::new(
                None,
                "the row has no `type`; project it in the query (`| project id, name, type, …`)",
            ));
        };
        let t = t.to_ascii_lowercase();
        self.types.insert(t.clone());
        let mut r = self.resource(&t, id, row)?;
        r = attributes(r, &t, row);
        if t == VNET {
            self.vnets += 1;
            if let Some(subnets) = row.pointer("/properties/subnets") {
                self.vnets_with_subnets += 1;
                for (j, s) in subnets.as_array().into_iter().flatten().enumerate() {
                    let Some(sid) = str_of(s, "id") else {
                        return Err(Shape::new(
                            Some("properties"),
                            format!("subnet {j} of the virtual network has no `id`"),
                        ));
                    };
                    let mut c = self.resource(SUBNET, sid, s)?;
                    c.region.clone_from(&r.region);
                    c.tags = None;
                    let prefixes =
                        match (s.pointer("/properties/addressPrefixes"), s.pointer("/properties/addressPrefix")) {
                            (Some(v @ Value::Array(_)), _) => v.clone(),
                            (_, Some(Value::String(one))) => Value::Array(vec![Value::String(one.clone())]),
                            _ => Value::Null,
                        };
                    c = c
                        .attr("address_prefixes", prefixes)
                        .attr("resource_group", row.get("resourceGroup").cloned().unwrap_or(Value::Null));
                    let at = loc
                        .child(Seg::Key("properties"))
                        .child(Seg::Key("subnets"))
                        .child(Seg::Index(j as u32))
                        .focus("id");
                    c.seen(self.sighting(at));
                    self.part.resources.push(c);
                }
            }
        }
        r.seen(self.sighting(loc));
        self.part.resources.push(r);
        Ok(())
    }

    fn resource(&mut self, t: &str, id: &str, row: &Value) -> Result<CloudResource, Shape> {
        let arm = id.trim_end_matches('/').to_ascii_lowercase();
        let mut r = CloudResource::new(Cloud::Azure, Arc::from(t), arm).key(KeyKind::Arm, id);
        r.name = str_of(row, "name")
            .map(str::to_owned)
            .or_else(|| id.trim_end_matches('/').rsplit('/').next().map(str::to_owned));
        r.region = str_of(row, "location").map(str::to_ascii_lowercase).filter(|l| l != "global");
        r.account = str_of(row, "subscriptionId").map(str::to_ascii_lowercase).or_else(|| subscription_of(id));
        if let Some(s) = &r.account {
            self.subscriptions.insert(s.clone());
        }
        r.tags = row.get("tags").map(tags).transpose()?.map(Into::into);
        Ok(r)
    }

    /// The resources and what the file vouches for: every type it lists, unless the listing is
    /// known to be incomplete (`incomplete` says why).
    pub(crate) fn finish(mut self, incomplete: Option<String>) -> Part {
        if let Some(why) = incomplete {
            self.part.notes.push(format!("{}: {why}: it vouches for nothing missing", self.name));
            return self.part;
        }
        let containers = self.types.iter().any(|t| is_container(t));
        let resources = self.types.is_empty() || self.types.iter().any(|t| !is_container(t));
        let azure =
            || self.catalog.entries().iter().filter(|e| e.cloud == Cloud::Azure).map(|e| e.cloud_type.to_string());
        let mut claimed: Vec<String> = Vec::new();
        if resources {
            claimed.extend(azure().filter(|t| !is_container(t) && t != SUBNET));
            if self.vnets == self.vnets_with_subnets {
                claimed.push(SUBNET.to_owned());
            }
        }
        if containers {
            claimed.extend(azure().filter(|t| is_container(t)));
        }
        self.types.extend(claimed);
        let account = (self.subscriptions.len() == 1).then(|| self.subscriptions.iter().next().cloned()).flatten();
        for t in &self.types {
            self.part.coverage.push(Coverage {
                source: self.source,
                cloud: Cloud::Azure,
                cloud_type: Some(Arc::from(t.as_str())),
                region: None,
                account: account.clone(),
                scope: Scope::All,
                format: GRAPH,
            });
        }
        self.part
    }
}

/// Why a 2.x page is incomplete: a skip token, or fewer rows than `total_records`.
pub(crate) fn page_incomplete(skip_token: Option<&Value>, total: Option<u64>, rows: usize) -> Option<String> {
    if let Some(t) = skip_token.filter(|t| !t.is_null()) {
        let shown = t.as_str().map_or_else(|| t.to_string(), str::to_owned);
        let shown: String = shown.chars().take(16).collect();
        return Some(format!(
            "the Resource Graph result is one page of several (`skip_token` is {shown:?}…); page with `--skip-token` until it is null and pass every page"
        ));
    }
    match total {
        Some(t) if t > rows as u64 => Some(format!(
            "the Resource Graph result holds {rows} of {t} rows (`total_records`); raise `--first` or page with `--skip-token`"
        )),
        _ => None,
    }
}

/// Why a 1.x array may be incomplete: exactly a page's worth of rows.
pub(crate) fn array_incomplete(rows: usize) -> Option<String> {
    PAGE_SIZES.contains(&rows).then(|| {
        format!("the Resource Graph result has exactly {rows} rows, a full page (`--first`), and the 1.x extension prints no skip token to say whether more exist; use extension 2.x or a larger `--first`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Key;

    fn rows(json: &str) -> Part {
        let v: Vec<Value> = serde_json::from_str(json).unwrap();
        let mut c = Collector::new(SourceId(0), "t", Catalog::builtin());
        for (i, row) in v.iter().enumerate() {
            c.add(row, Locator::new(vec![Seg::Index(i as u32)])).unwrap();
        }
        c.finish(None)
    }

    #[test]
    fn rows_are_lower_cased_and_keyed() {
        let p = rows(
            r#"[{"id":"/subscriptions/ABC/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/st1/","name":"st1","type":"Microsoft.Storage/storageAccounts",
                 "location":"westeurope","resourceGroup":"RG","tags":{"env":"prod"},"sku":{"name":"Standard_LRS","tier":"Standard"},"kind":"StorageV2"}]"#,
        );
        let r = &p.resources[0];
        assert_eq!(r.cloud_type.as_ref(), "microsoft.storage/storageaccounts");
        assert_eq!(r.cloud_id, "/subscriptions/abc/resourcegroups/rg/providers/microsoft.storage/storageaccounts/st1");
        assert_eq!(
            r.keys,
            vec![Key::new(
                KeyKind::Arm,
                "/subscriptions/abc/resourcegroups/rg/providers/microsoft.storage/storageaccounts/st1"
            )]
        );
        assert_eq!((r.region.as_deref(), r.account.as_deref()), (Some("westeurope"), Some("abc")));
        assert_eq!(r.attributes["account_replication_type"], "LRS");
        assert_eq!(r.tags.as_ref().unwrap()["env"], "prod");
        assert_eq!(p.coverage[0].account.as_deref(), Some("abc"));
    }

    #[test]
    fn subnets_come_from_their_network() {
        let p = rows(
            r#"[{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v","type":"microsoft.network/virtualnetworks","tags":null,
                 "properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a","name":"a","properties":{"addressPrefix":"10.0.1.0/24"}}]}}]"#,
        );
        assert_eq!(p.resources.len(), 2);
        let s = &p.resources[0];
        assert_eq!(s.cloud_type.as_ref(), SUBNET);
        assert_eq!(s.attributes["address_prefixes"], serde_json::json!(["10.0.1.0/24"]));
        assert_eq!(s.sightings[0].locator.path.len(), 4);
        assert!(p.coverage.iter().any(|c| c.cloud_type.as_deref() == Some(SUBNET)));
        assert_eq!(p.resources[1].tags.as_ref().map(crate::model::CompactMap::len), Some(0));
    }

    #[test]
    fn incomplete_pages_claim_nothing() {
        assert!(page_incomplete(Some(&Value::String("ew0K".into())), Some(5), 5).is_some());
        assert!(page_incomplete(Some(&Value::Null), Some(5), 5).is_none());
        assert!(page_incomplete(None, Some(7), 5).is_some());
        assert!(array_incomplete(100).is_some());
        assert!(array_incomplete(3).is_none());
        let mut c = Collector::new(SourceId(0), "t", Catalog::builtin());
        c.add(&serde_json::json!({"id": "/subscriptions/s/resourceGroups/rg", "type": "microsoft.resources/subscriptions/resourcegroups"}), Locator::default())
            .unwrap();
        let p = c.finish(page_incomplete(Some(&Value::String("x".into())), None, 1));
        assert!(p.coverage.is_empty());
        assert_eq!(p.resources.len(), 1);
        assert!(p.notes[0].contains("vouches for nothing missing"));
    }

    #[test]
    fn bad_rows_say_why() {
        let mut c = Collector::new(SourceId(0), "t", Catalog::builtin());
        assert!(c.add(&serde_json::json!({"name": "x"}), Locator::default()).is_err());
        assert_eq!(
            c.add(&serde_json::json!({"id": "/subscriptions/s/x", "type": "t", "tags": 3}), Locator::default())
                .unwrap_err()
                .key,
            Some("tags")
        );
        assert_eq!(
            c.add(&serde_json::json!({"id": "x", "type": "t"}), Locator::default()).unwrap_err().key,
            Some("id")
        );
    }
}
