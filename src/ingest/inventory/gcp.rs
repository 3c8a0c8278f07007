//! GCP Cloud Asset Inventory: `gcloud asset export --content-type=resource` (newline-delimited,
//! snake_case keys), `gcloud asset list --format=json` (an array, camelCase keys) and `gcloud
//! asset search-all-resources --format=json` (an array of flatter records).
//!
//! The canonical id is the full asset name (`//compute.googleapis.com/projects/p/global/networks/n`).
//! Traps handled here (`../formats.md` §6): `ancestors`, `parent` and search results name the
//! project by *number* while asset names mostly use its *id*, so accounts are resolved through the
//! pairs the file itself shows; buckets are `//storage.googleapis.com/BUCKET` with no project;
//! service accounts may be named by their numeric unique id, so they also get `email` (name) and
//! `uniqueId` keys.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{Part, Shape};
use crate::catalog::Catalog;
use crate::model::{Cloud, CloudResource, Coverage, Key, KeyKind, Locator, Scope, Sighting, asset_name};
use crate::source::SourceId;

/// `gcloud asset export --content-type=resource`, one asset per line.
pub(crate) const EXPORT: &str = "gcp-asset-export";
/// `gcloud asset list --format=json`.
pub(crate) const LIST: &str = "gcp-asset-list";
/// `gcloud asset search-all-resources --format=json`.
pub(crate) const SEARCH: &str = "gcp-asset-search";

/// A member under its snake_case (export) or camelCase (list, search) name.
fn get<'v>(o: &'v Value, snake: &str, camel: &str) -> Option<&'v Value> {
    o.get(snake).or_else(|| o.get(camel)).filter(|v| !v.is_null())
}

fn str_of<'v>(o: &'v Value, k: &str) -> Option<&'v str> {
    o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// True when an object looks like an asset record (used to recognise the formats).
pub(crate) fn is_asset(has: &dyn Fn(&str) -> bool) -> bool {
    has("name") && (has("asset_type") || has("assetType"))
}

/// True when an asset array is a `search-all-resources` result rather than `asset list`.
pub(crate) fn is_search(has: &dyn Fn(&str) -> bool) -> bool {
    !has("ancestors") && !has("resource") && (has("project") || has("displayName") || has("parentFullResourceName"))
}

/// The last segment of a path or URL (`…/zones/us-central1-a/machineTypes/e2-medium` → `e2-medium`).
fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The region of a location: zones lose their letter (`us-central1-a` → `us-central1`),
/// multi-regions are lower-cased (`US` → `us`), `global` is no region.
pub(crate) fn region_of(location: &str) -> Option<String> {
    let l = location.to_ascii_lowercase();
    if l.is_empty() || l == "global" {
        return None;
    }
    if let Some((region, zone)) = l.rsplit_once('-') {
        if zone.len() == 1
            && zone.bytes().all(|b| b.is_ascii_lowercase())
            && region.ends_with(|c: char| c.is_ascii_digit())
        {
            return Some(region.to_owned());
        }
    }
    Some(l)
}

/// The project segment of a relative name or URL (`…/projects/P/…` → `P`).
fn project_segment(s: &str) -> Option<&str> {
    let i = s.find("projects/")?;
    let rest = &s[i + "projects/".len()..];
    let p = rest.split('/').next().unwrap_or(rest);
    (!p.is_empty()).then_some(p)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Labels as tags: strings as they are, anything else as its JSON text.
fn labels(v: &Value) -> Option<BTreeMap<String, String>> {
    match v {
        Value::Object(o) => {
            Some(o.iter().map(|(k, x)| (k.clone(), x.as_str().map_or_else(|| x.to_string(), str::to_owned))).collect())
        }
        Value::Null => Some(BTreeMap::new()),
        _ => None,
    }
}

/// A list of strings, sorted (Terraform keeps string sets sorted).
fn sorted_strings(v: Option<&Value>) -> Value {
    let mut out: Vec<String> =
        v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    out.sort();
    Value::Array(out.into_iter().map(Value::String).collect())
}

/// A number the API sends as a string (`"sizeGb": "10"`) as a JSON number.
fn number(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => s.parse::<u64>().map_or_else(|_| Value::String(s.clone()), Value::from),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// Firewall rule lists (`allowed`/`denied`) in Terraform's shape, `[{protocol, ports}]`, and as
/// `PROTOCOL[:PORTS]` strings for presets (`tcp:22`, `icmp`).
fn firewall_rules(v: Option<&Value>) -> (Value, Vec<String>) {
    let mut tf = Vec::new();
    let mut flat = Vec::new();
    for r in v.and_then(Value::as_array).into_iter().flatten() {
        let proto = r.get("IPProtocol").or_else(|| r.get("ipProtocol")).and_then(Value::as_str).unwrap_or("");
        let ports: Vec<String> = r
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        if ports.is_empty() {
            flat.push(proto.to_owned());
        }
        for p in &ports {
            flat.push(format!("{proto}:{p}"));
        }
        tf.push(serde_json::json!({ "protocol": proto, "ports": ports }));
    }
    flat.sort();
    (Value::Array(tf), flat)
}

/// The attributes the catalog compares and the presets look at, in Terraform's vocabulary,
/// from the service's own API object (`resource.data`).
fn attributes(mut r: CloudResource, t: &str, d: &Value) -> CloudResource {
    let g = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
    let last = |k: &str| d.get(k).and_then(Value::as_str).map(|s| last_segment(s).to_owned());
    match t {
        "compute.googleapis.com/Network" => {
            r = r
                .attr("auto_create_subnetworks", g("autoCreateSubnetworks"))
                .attr("routing_mode", d.pointer("/routingConfig/routingMode").cloned().unwrap_or(Value::Null))
                .attr("description", g("description"));
        }
        "compute.googleapis.com/Subnetwork" => {
            r = r
                .attr("ip_cidr_range", g("ipCidrRange"))
                .attr("network", g("network"))
                .attr("private_ip_google_access", g("privateIpGoogleAccess"));
        }
        "compute.googleapis.com/Firewall" => {
            let (allow, allow_flat) = firewall_rules(d.get("allowed"));
            let (deny, deny_flat) = firewall_rules(d.get("denied"));
            let mut rules: Vec<Value> = allow_flat.into_iter().map(Value::String).collect();
            rules.extend(deny_flat.into_iter().map(|s| Value::String(format!("deny {s}"))));
            r = r
                .attr("network", g("network"))
                .attr("direction", g("direction"))
                .attr("priority", g("priority"))
                .attr("disabled", d.get("disabled").cloned().unwrap_or(Value::Bool(false)))
                .attr("source_ranges", sorted_strings(d.get("sourceRanges")))
                .attr("destination_ranges", sorted_strings(d.get("destinationRanges")))
                .attr("source_tags", sorted_strings(d.get("sourceTags")))
                .attr("target_tags", sorted_strings(d.get("targetTags")))
                .attr("allow", allow)
                .attr("deny", deny)
                .attr("rules", Value::Array(rules));
        }
        "compute.googleapis.com/Instance" => {
            r = r.attr("machine_type", last("machineType")).attr("zone", last("zone")).attr("status", g("status"));
        }
        "compute.googleapis.com/Address" | "compute.googleapis.com/GlobalAddress" => {
            r = r
                .attr("address", g("address"))
                .attr("address_type", g("addressType"))
                .attr("network_tier", g("networkTier"));
        }
        "compute.googleapis.com/Router" => r = r.attr("network", g("network")),
        "compute.googleapis.com/Disk" => r = r.attr("size", number(d.get("sizeGb"))).attr("type", last("type")),
        "compute.googleapis.com/Route" => {
            r = r
                .attr("dest_range", g("destRange"))
                .attr("network", g("network"))
                .attr("priority", g("priority"))
                .attr("description", g("description"))
                .attr("next_hop_gateway", g("nextHopGateway"));
        }
        "storage.googleapis.com/Bucket" => {
            r = r
                .attr("location", g("location"))
                .attr("storage_class", g("storageClass"))
                .attr(
                    "public_access_prevention",
                    d.pointer("/iamConfiguration/publicAccessPrevention").cloned().unwrap_or(Value::Null),
                )
                .attr(
                    "uniform_bucket_level_access",
                    d.pointer("/iamConfiguration/uniformBucketLevelAccess/enabled").cloned().unwrap_or(Value::Null),
                );
        }
        "iam.googleapis.com/ServiceAccount" => {
            // proto3 JSON leaves out `false`: an absent `disabled` is an enabled account.
            r = r
                .attr("email", g("email"))
                .attr("display_name", g("displayName"))
                .attr("disabled", d.get("disabled").cloned().unwrap_or(Value::Bool(false)));
        }
        "iam.googleapis.com/Role" => {
            r = r
                .attr("title", g("title"))
                .attr("stage", g("stage"))
                .attr("permissions", sorted_strings(d.get("includedPermissions")));
        }
        "sqladmin.googleapis.com/Instance" => r = r.attr("database_version", g("databaseVersion")),
        "pubsub.googleapis.com/Subscription" => {
            r = r.attr("topic", g("topic")).attr("ack_deadline_seconds", g("ackDeadlineSeconds"));
        }
        "cloudkms.googleapis.com/CryptoKey" => {
            r = r.attr("purpose", g("purpose")).attr("rotation_period", g("rotationPeriod"));
        }
        "dns.googleapis.com/ManagedZone" => r = r.attr("dns_name", g("dnsName")).attr("visibility", g("visibility")),
        "bigquery.googleapis.com/Dataset" => {
            r = r
                .attr("location", g("location"))
                .attr("default_table_expiration_ms", number(d.get("defaultTableExpirationMs")));
        }
        "logging.googleapis.com/LogBucket" => {
            r = r.attr("retention_days", g("retentionDays")).attr("locked", g("locked"))
        }
        "logging.googleapis.com/LogSink" => r = r.attr("destination", g("destination")).attr("filter", g("filter")),
        "artifactregistry.googleapis.com/Repository" => r = r.attr("format", g("format")),
        "cloudresourcemanager.googleapis.com/Project" => {
            r = r.attr("project_id", g("projectId")).attr("number", number(d.get("projectNumber")));
        }
        _ => {}
    }
    r
}

/// The labels of an API object: `labels`, a cluster's `resourceLabels`, Cloud Run's Knative
/// `metadata.labels`, Cloud SQL's `settings.userLabels`.
fn data_labels(d: &Value) -> Option<&Value> {
    d.get("labels")
        .or_else(|| d.get("resourceLabels"))
        .or_else(|| d.pointer("/metadata/labels"))
        .or_else(|| d.pointer("/settings/userLabels"))
}

/// Builds resources from asset records of one file, then states what the file vouches for.
///
/// An export, a list and a search without `--asset-types` hold every asset type of their
/// scope, and the file cannot say whether types were filtered: it is taken to vouch for every
/// asset type the catalog knows plus every type it shows (fail-closed: a filtered export makes
/// `missing` findings for the types it left out, never a silent pass). Records that carry only
/// a policy vouch for nothing.
pub(crate) struct Collector<'c> {
    source: SourceId,
    catalog: &'c Catalog,
    name: String,
    format: &'static str,
    part: Part,
    /// Asset types seen in records with resource content or bare names.
    types: BTreeSet<String>,
    /// Records with resource content or bare names (which make the file a full listing).
    listed: usize,
    /// Project number → project id, from records that show both.
    numbers: FxHashMap<String, String>,
    /// Resources whose project is known only by number: (index, number).
    pending: Vec<(usize, String)>,
    projects: BTreeSet<String>,
    /// Records that carry only a policy (`--content-type=iam-policy` and the like).
    policy_only: usize,
}

impl<'c> Collector<'c> {
    pub(crate) fn new(source: SourceId, name: &str, format: &'static str, catalog: &'c Catalog) -> Self {
        Collector {
            source,
            catalog,
            name: name.to_owned(),
            format,
            part: Part::default(),
            types: BTreeSet::new(),
            listed: 0,
            numbers: FxHashMap::default(),
            pending: Vec::new(),
            projects: BTreeSet::new(),
            policy_only: 0,
        }
    }

    /// Adds one asset record found at `loc`.
    pub(crate) fn add(&mut self, rec: &Value, loc: Locator) -> Result<(), Shape> {
        if !rec.is_object() {
            return Err(Shape::new(None, "an asset record must be a JSON object"));
        }
        let Some(name) = str_of(rec, "name") else {
            return Err(Shape::new(Some("name"), "the asset has no `name` (its full resource name)"));
        };
        if !name.starts_with("//") {
            return Err(Shape::new(
                Some("name"),
                format!("`name` {name:?} is not a full resource name (`//SERVICE.googleapis.com/…`)"),
            ));
        }
        let Some(asset_type) = get(rec, "asset_type", "assetType").and_then(Value::as_str).filter(|s| !s.is_empty())
        else {
            return Err(Shape::new(None, "the asset has no `asset_type`/`assetType`"));
        };
        if rec.get("deleted").and_then(Value::as_bool) == Some(true) {
            return Ok(()); // a history or feed record of a deleted asset
        }
        let resource = rec.get("resource").filter(|v| !v.is_null());
        if let Some(res) = resource {
            if !res.is_object() {
                return Err(Shape::new(Some("resource"), "`resource` is not an object"));
            }
        }
        let data = resource.and_then(|r| r.get("data")).filter(|v| v.is_object());
        let search = self.format == SEARCH;
        let policy_only = resource.is_none()
            && [
                "iam_policy",
                "iamPolicy",
                "org_policy",
                "orgPolicy",
                "access_policy",
                "accessPolicy",
                "os_inventory",
                "osInventory",
            ]
            .iter()
            .any(|k| rec.get(*k).is_some_and(|v| !v.is_null()));
        if policy_only {
            self.policy_only += 1;
        } else {
            self.listed += 1;
            self.types.insert(asset_type.to_owned());
        }

        let asset = asset_name(name);
        let service = asset.trim_start_matches('/').split('/').next().unwrap_or("").to_owned();
        let mut r = CloudResource::new(Cloud::Gcp, Arc::from(asset_type), asset.clone()).key(KeyKind::Asset, &asset);
        if let Some(d) = data {
            if let Some(link) = str_of(d, "selfLink") {
                r = r.key(KeyKind::Asset, link);
            }
            // A relative resource name (`projects/p/serviceAccounts/EMAIL`) is the asset name
            // under another spelling.
            if let Some(rel) = str_of(d, "name").filter(|n| n.starts_with("projects/")) {
                r = r.key(KeyKind::Asset, &format!("//{service}/{rel}"));
            }
        }
        let short = last_segment(&asset).to_owned();
        r.name = Some(short.clone());
        match asset_type {
            "storage.googleapis.com/Bucket" => {
                let bucket = data.and_then(|d| str_of(d, "name")).unwrap_or(&short).to_owned();
                r = r.key(KeyKind::Id, &bucket);
                r.name = Some(bucket);
            }
            "iam.googleapis.com/ServiceAccount" => {
                if let Some(email) = data.and_then(|d| str_of(d, "email")) {
                    r = r.key(KeyKind::Name, email);
                    r.name = Some(email.to_owned());
                }
                if let Some(u) = data.and_then(|d| str_of(d, "uniqueId")) {
                    r = r.key(KeyKind::UniqueId, u);
                }
                if short.contains('@') {
                    r = r.key(KeyKind::Name, &short);
                } else if is_number(&short) {
                    r = r.key(KeyKind::UniqueId, &short);
                }
            }
            "cloudresourcemanager.googleapis.com/Project" => {
                if let Some(id) = data.and_then(|d| str_of(d, "projectId")) {
                    r = r.key(KeyKind::Name, id);
                    r.name = Some(id.to_owned());
                    if is_number(&short) {
                        self.numbers.insert(short.clone(), id.to_owned());
                    }
                }
            }
            _ => {}
        }

        let location = resource
            .and_then(|x| str_of(x, "location"))
            .or_else(|| str_of(rec, "location"))
            .or_else(|| data.and_then(|d| str_of(d, "location")));
        r.region = location.and_then(region_of);

        // The project: its id from the name (or the self link, or the project asset itself),
        // else its number from ancestors, parent or the search result's `project`.
        let number = rec
            .get("ancestors")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().filter_map(Value::as_str).find(|s| s.starts_with("projects/")))
            .or_else(|| resource.and_then(|x| str_of(x, "parent")).filter(|p| p.contains("/projects/")))
            .or_else(|| str_of(rec, "project"))
            .and_then(project_segment)
            .filter(|p| is_number(p))
            .map(str::to_owned);
        let id = project_segment(&asset)
            .filter(|p| !is_number(p))
            .or_else(|| data.and_then(|d| str_of(d, "selfLink")).and_then(project_segment).filter(|p| !is_number(p)))
            .or_else(|| {
                (asset_type == "cloudresourcemanager.googleapis.com/Project")
                    .then(|| data.and_then(|d| str_of(d, "projectId")))
                    .flatten()
            })
            .map(str::to_owned);
        if let (Some(n), Some(i)) = (&number, &id) {
            self.numbers.entry(n.clone()).or_insert_with(|| i.clone());
        }
        match (&id, &number) {
            (Some(i), _) => r.account = Some(i.clone()),
            (None, Some(n)) => self.pending.push((self.part.resources.len(), n.clone())),
            (None, None) => {}
        }

        r.tags = match (data, search) {
            (Some(d), _) => match data_labels(d) {
                Some(l) => labels(l),
                None => Some(BTreeMap::new()),
            },
            (None, true) => rec.get("labels").map_or_else(|| Some(BTreeMap::new()), labels),
            (None, false) => None,
        }
        .map(Into::into);
        if let Some(d) = data {
            r = attributes(r, asset_type, d);
        }
        r.seen(Sighting { source: self.source, locator: loc, format: self.format });
        self.part.resources.push(r);
        Ok(())
    }

    /// The resources, with accounts resolved, and what the file vouches for.
    pub(crate) fn finish(mut self) -> Part {
        for (i, n) in std::mem::take(&mut self.pending) {
            if let Some(id) = self.numbers.get(&n) {
                self.part.resources[i].account = Some(id.clone());
            }
        }
        // An enabled API is `PROJECT_ID/SERVICE` to the provider; its asset name has the number.
        for r in &mut self.part.resources {
            if &*r.cloud_type == "serviceusage.googleapis.com/Service" {
                if let (Some(p), Some(s)) = (&r.account, &r.name) {
                    let k = Key::new(KeyKind::Name, &format!("{p}/{s}"));
                    if !r.keys.contains(&k) {
                        r.keys.push(k);
                    }
                }
            }
        }
        for r in &self.part.resources {
            if let Some(a) = &r.account {
                self.projects.insert(a.clone());
            }
        }
        let account = (self.projects.len() == 1).then(|| self.projects.iter().next().cloned()).flatten();
        if self.listed > 0 {
            let known =
                self.catalog.entries().iter().filter(|e| e.cloud == Cloud::Gcp).map(|e| e.cloud_type.to_string());
            self.types.extend(known.collect::<Vec<_>>());
        }
        for t in &self.types {
            self.part.coverage.push(Coverage {
                source: self.source,
                cloud: Cloud::Gcp,
                cloud_type: Some(Arc::from(t.as_str())),
                region: None,
                account: account.clone(),
                scope: Scope::All,
                format: self.format,
            });
        }
        if self.policy_only > 0 {
            self.part.notes.push(format!(
                "{}: {} asset record(s) carry only a policy (iam-policy, org-policy, access-policy or os-inventory content): they vouch for nothing missing; export with --content-type=resource",
                self.name, self.policy_only
            ));
        }
        self.part
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Seg;

    fn one(rec: &str, format: &'static str) -> Part {
        let mut c = Collector::new(SourceId(0), "t", format, Catalog::builtin());
        c.add(&serde_json::from_str(rec).unwrap(), Locator::new(vec![Seg::Line(1)])).unwrap();
        c.finish()
    }

    #[test]
    fn regions_from_locations() {
        assert_eq!(region_of("us-central1-a").as_deref(), Some("us-central1"));
        assert_eq!(region_of("europe-west4").as_deref(), Some("europe-west4"));
        assert_eq!(region_of("US").as_deref(), Some("us"));
        assert_eq!(region_of("global"), None);
        assert_eq!(region_of("northamerica-northeast1-b").as_deref(), Some("northamerica-northeast1"));
    }

    #[test]
    fn export_record_in_terraform_vocabulary() {
        let p = one(
            r#"{"name":"//compute.googleapis.com/projects/p1/regions/us-central1/subnetworks/s","asset_type":"compute.googleapis.com/Subnetwork",
                "resource":{"version":"v1","location":"us-central1","parent":"//cloudresourcemanager.googleapis.com/projects/42",
                  "data":{"name":"s","ipCidrRange":"10.0.0.0/24","selfLink":"https://www.googleapis.com/compute/v1/projects/p1/regions/us-central1/subnetworks/s"}},
                "ancestors":["projects/42","organizations/1"]}"#,
            EXPORT,
        );
        let r = &p.resources[0];
        assert_eq!(r.cloud_id, "//compute.googleapis.com/projects/p1/regions/us-central1/subnetworks/s");
        assert_eq!(r.keys, vec![Key::new(KeyKind::Asset, &r.cloud_id)]);
        assert_eq!((r.region.as_deref(), r.account.as_deref()), (Some("us-central1"), Some("p1")));
        assert_eq!(r.attributes["ip_cidr_range"], "10.0.0.0/24");
        assert_eq!(r.tags.as_ref().map(crate::model::CompactMap::len), Some(0));
        assert!(p.coverage.iter().any(|c| c.cloud_type.as_deref() == Some("compute.googleapis.com/Subnetwork")));
        assert!(p.coverage.iter().any(|c| c.cloud_type.as_deref() == Some("pubsub.googleapis.com/Topic")));
        assert!(p.coverage.iter().all(|c| c.account.as_deref() == Some("p1") && c.scope == Scope::All));
    }

    #[test]
    fn bucket_project_comes_from_its_number() {
        let mut c = Collector::new(SourceId(0), "t", LIST, Catalog::builtin());
        let l = || Locator::new(vec![Seg::Index(0)]);
        c.add(
            &serde_json::json!({"name":"//storage.googleapis.com/b1","assetType":"storage.googleapis.com/Bucket",
                "resource":{"data":{"name":"b1","labels":{"env":"prod"}},"location":"US"},"ancestors":["projects/42"]}),
            l(),
        )
        .unwrap();
        c.add(
            &serde_json::json!({"name":"//cloudresourcemanager.googleapis.com/projects/42","assetType":"cloudresourcemanager.googleapis.com/Project",
                "resource":{"data":{"projectId":"p1","projectNumber":"42"}},"ancestors":["projects/42"]}),
            l(),
        )
        .unwrap();
        let p = c.finish();
        let b = &p.resources[0];
        assert_eq!(b.account.as_deref(), Some("p1"));
        assert_eq!(b.region.as_deref(), Some("us"));
        assert!(b.keys.contains(&Key::new(KeyKind::Id, "b1")));
        assert_eq!(b.tags.as_ref().unwrap()["env"], "prod");
        assert!(p.resources[1].keys.contains(&Key::new(KeyKind::Name, "p1")));
        assert_eq!(p.resources[1].attributes["number"], 42);
    }

    #[test]
    fn service_accounts_named_by_unique_id_get_email_keys() {
        let p = one(
            r#"{"name":"//iam.googleapis.com/projects/p1/serviceAccounts/1234567890","asset_type":"iam.googleapis.com/ServiceAccount",
                "resource":{"data":{"email":"x@p1.iam.gserviceaccount.com","uniqueId":"1234567890","name":"projects/p1/serviceAccounts/x@p1.iam.gserviceaccount.com"}}}"#,
            EXPORT,
        );
        let r = &p.resources[0];
        assert!(r.keys.contains(&Key::new(KeyKind::Name, "x@p1.iam.gserviceaccount.com")));
        assert!(r.keys.contains(&Key::new(KeyKind::UniqueId, "1234567890")));
        assert!(r.keys.contains(&Key::new(
            KeyKind::Asset,
            "//iam.googleapis.com/projects/p1/serviceAccounts/x@p1.iam.gserviceaccount.com"
        )));
        assert_eq!(r.name.as_deref(), Some("x@p1.iam.gserviceaccount.com"));
        assert_eq!(r.attributes["disabled"], false);
    }

    #[test]
    fn firewall_rules_both_ways() {
        let p = one(
            r#"{"name":"//compute.googleapis.com/projects/p/global/firewalls/f","asset_type":"compute.googleapis.com/Firewall",
                "resource":{"data":{"allowed":[{"IPProtocol":"tcp","ports":["22","80"]},{"IPProtocol":"icmp"}],"sourceRanges":["b","a"],"direction":"INGRESS","priority":1000}}}"#,
            EXPORT,
        );
        let a = &p.resources[0].attributes;
        assert_eq!(a["rules"], serde_json::json!(["icmp", "tcp:22", "tcp:80"]));
        assert_eq!(a["source_ranges"], serde_json::json!(["a", "b"]));
        assert_eq!(a["allow"][0], serde_json::json!({"protocol": "tcp", "ports": ["22", "80"]}));
    }

    #[test]
    fn search_results_and_policy_only_records() {
        let p = one(
            r#"{"name":"//pubsub.googleapis.com/projects/p/topics/t","assetType":"pubsub.googleapis.com/Topic","project":"projects/42","displayName":"t","labels":{"a":"b"}}"#,
            SEARCH,
        );
        assert_eq!(p.resources[0].tags.as_ref().unwrap()["a"], "b");
        assert_eq!(p.resources[0].account.as_deref(), Some("p"));
        let p = one(
            r#"{"name":"//pubsub.googleapis.com/projects/p/topics/t","asset_type":"pubsub.googleapis.com/Topic","iam_policy":{"bindings":[]}}"#,
            EXPORT,
        );
        assert!(p.coverage.is_empty());
        assert_eq!(p.notes.len(), 1);
        assert!(p.resources[0].tags.is_none());
    }

    #[test]
    fn bad_records_say_why() {
        let mut c = Collector::new(SourceId(0), "t", EXPORT, Catalog::builtin());
        let l = || Locator::new(vec![Seg::Line(1)]);
        assert_eq!(c.add(&serde_json::json!({"asset_type": "x"}), l()).unwrap_err().key, Some("name"));
        assert_eq!(c.add(&serde_json::json!({"name": "n", "asset_type": "x"}), l()).unwrap_err().key, Some("name"));
        assert!(c.add(&serde_json::json!({"name": "//a/b"}), l()).is_err());
        assert!(c.add(&serde_json::json!({"name": "//a/b", "asset_type": "x", "resource": 3}), l()).is_err());
    }
}
