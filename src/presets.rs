//! Provider defaults: what a new account already holds (`policies/presets/*.toml`), how each
//! is recognised, and when a default has been modified.
//!
//! The drift scan does not call these resources unmanaged; the clean-account check does not
//! call the account dirty for them; a modified default is reported by both.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::model::{Cloud, CloudResource, Inventory};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    cloud: String,
    #[serde(default)]
    required: Vec<String>,
    #[serde(rename = "default", default)]
    defaults: Vec<ProviderDefault>,
}

/// One provider default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDefault {
    pub name: String,
    /// The cloud type, or `*` for every type of the preset's cloud (what a service puts in a
    /// resource group it manages, whatever its type).
    pub cloud_type: String,
    /// Every listed attribute must match: a value by equality, or a predicate (see [`Predicate`]).
    #[serde(default)]
    pub when: Map<String, Value>,
    pub why: String,
    #[serde(default)]
    pub allow_only: Map<String, Value>,
    #[serde(default)]
    pub max: Map<String, Value>,
    /// Attributes a default has as created (a value or a predicate); one that is present with
    /// another value means the default was modified.
    #[serde(default)]
    pub expect: Map<String, Value>,
}

/// The keys of a predicate object: `{ prefix = "…" }`, `{ suffix = "…" }`, `{ regex = "…" }`,
/// `{ one_of = ["…", …] }`, `{ equals = … }`, each optionally with `ignore_case = true`; every
/// key given must match.
pub const PREDICATE_KEYS: &[&str] = &["prefix", "suffix", "regex", "one_of", "equals", "ignore_case"];

/// Checks the predicates of one default: known keys, valid regexes.
fn validate(d: &ProviderDefault) -> Result<(), String> {
    for (attr, want) in d.when.iter().chain(d.expect.iter()) {
        let Value::Object(o) = want else { continue };
        if let Some(k) = o.keys().find(|k| !PREDICATE_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "{}: `{attr}`: unknown predicate `{k}` (known: {})",
                d.name,
                PREDICATE_KEYS.join(", ")
            ));
        }
        if let Some(re) = o.get("regex") {
            let Some(re) = re.as_str() else { return Err(format!("{}: `{attr}`: regex is not a string", d.name)) };
            regex::Regex::new(re).map_err(|e| format!("{}: `{attr}`: bad regex: {e}", d.name))?;
        }
        if o.get("one_of").is_some_and(|v| !v.is_array()) {
            return Err(format!("{}: `{attr}`: one_of is not a list", d.name));
        }
    }
    Ok(())
}

/// Compiled regexes of the presets, by pattern (a preset is judged against many resources).
fn compiled(pattern: &str, ignore_case: bool) -> Option<std::sync::Arc<regex::Regex>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Cache = Mutex<HashMap<(String, bool), Option<Arc<regex::Regex>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry((pattern.to_owned(), ignore_case))
        .or_insert_with(|| regex::RegexBuilder::new(pattern).case_insensitive(ignore_case).build().ok().map(Arc::new))
        .clone()
}

/// A preset: the defaults of one cloud.
#[derive(Debug, Clone)]
pub struct Preset {
    pub cloud: Cloud,
    pub name: &'static str,
    /// Cloud types a clean-account check needs listed in full (every region in scope for
    /// regional types) before it may pass.
    pub required: Vec<String>,
    pub defaults: Vec<ProviderDefault>,
}

const FILES: &[(&str, &str)] = &[
    ("aws", include_str!("../policies/presets/aws.toml")),
    ("gcp", include_str!("../policies/presets/gcp.toml")),
    ("azure", include_str!("../policies/presets/azure.toml")),
];

/// Every built-in preset.
pub fn builtin() -> &'static [Preset] {
    static PRESETS: OnceLock<Vec<Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| parse_all().unwrap_or_default())
}

/// Parses the embedded presets (validated by tests).
pub fn parse_all() -> Result<Vec<Preset>, String> {
    FILES
        .iter()
        .map(|(name, text)| {
            let f: PresetFile = toml::from_str(text).map_err(|e| format!("policies/presets/{name}.toml: {e}"))?;
            let cloud = match f.cloud.as_str() {
                "aws" => Cloud::Aws,
                "gcp" => Cloud::Gcp,
                "azure" => Cloud::Azure,
                other => return Err(format!("policies/presets/{name}.toml: unknown cloud {other:?}")),
            };
            let mut defaults = f.defaults;
            for d in &defaults {
                validate(d).map_err(|e| format!("policies/presets/{name}.toml: {e}"))?;
            }
            if cloud == Cloud::Azure {
                for d in &mut defaults {
                    d.cloud_type = d.cloud_type.to_ascii_lowercase();
                }
            }
            let required = if cloud == Cloud::Azure {
                f.required.iter().map(|t| t.to_ascii_lowercase()).collect()
            } else {
                f.required
            };
            Ok(Preset { cloud, name, required, defaults })
        })
        .collect()
}

/// The verdict on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'p> {
    /// Not a provider default.
    NotDefault,
    /// A provider default, as created.
    Default(&'p ProviderDefault),
    /// A provider default that someone changed: what changed.
    Modified(&'p ProviderDefault, String),
}

fn value_matches(actual: Option<&Value>, want: &Value) -> bool {
    match want {
        Value::Object(o) if o.keys().any(|k| PREDICATE_KEYS.contains(&k.as_str())) => predicate_matches(actual, o),
        _ => actual == Some(want),
    }
}

/// A predicate object: every key given must match (see [`PREDICATE_KEYS`]).
fn predicate_matches(actual: Option<&Value>, o: &Map<String, Value>) -> bool {
    let ignore_case = o.get("ignore_case").and_then(Value::as_bool) == Some(true);
    let fold = |s: &str| if ignore_case { s.to_lowercase() } else { s.to_owned() };
    let text = actual.and_then(Value::as_str).map(fold);
    let same = |want: &Value| match (want.as_str(), &text) {
        (Some(w), Some(t)) => fold(w) == *t,
        _ => actual == Some(want),
    };
    o.iter().all(|(k, want)| match k.as_str() {
        "prefix" => want.as_str().zip(text.as_deref()).is_some_and(|(p, t)| t.starts_with(&fold(p))),
        "suffix" => want.as_str().zip(text.as_deref()).is_some_and(|(p, t)| t.ends_with(&fold(p))),
        "regex" => want
            .as_str()
            .and_then(|re| compiled(re, ignore_case))
            .zip(actual.and_then(Value::as_str))
            .is_some_and(|(re, t)| re.is_match(t)),
        "one_of" => want.as_array().is_some_and(|a| a.iter().any(same)),
        "equals" => same(want),
        _ => true,
    })
}

fn field<'r>(r: &'r CloudResource, name: &str, name_value: &'r Option<Value>) -> Option<&'r Value> {
    if name == "name" {
        return r.attributes.get("name").or(name_value.as_ref());
    }
    r.attributes.get(name)
}

/// Judges a resource against the presets in use.
pub fn judge<'p>(r: &CloudResource, presets: &'p [&'p Preset]) -> Verdict<'p> {
    let name_value = r.name.clone().map(Value::String);
    for p in presets.iter().filter(|p| p.cloud == r.cloud) {
        for d in p.defaults.iter().filter(|d| d.cloud_type == "*" || *d.cloud_type == *r.cloud_type) {
            if !d.when.iter().all(|(k, want)| value_matches(field(r, k, &name_value), want)) {
                continue;
            }
            let mut changes = Vec::new();
            for (attr, allowed) in &d.allow_only {
                let allowed: Vec<&Value> = allowed.as_array().map(|a| a.iter().collect()).unwrap_or_default();
                if let Some(Value::Array(items)) = r.attributes.get(attr) {
                    let extra: Vec<String> = items
                        .iter()
                        .filter(|x| !allowed.contains(x))
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect();
                    if !extra.is_empty() {
                        changes.push(format!("{attr} has {} added", extra.join(", ")));
                    }
                }
            }
            for (attr, max) in &d.max {
                if let (Some(have), Some(max)) = (r.attributes.get(attr).and_then(Value::as_u64), max.as_u64()) {
                    if have > max {
                        changes.push(format!("{attr} is {have}, more than the {max} of a default"));
                    }
                }
            }
            for (attr, want) in &d.expect {
                if let Some(have) = field(r, attr, &name_value) {
                    if !value_matches(Some(have), want) {
                        changes.push(format!("{attr} is {have}; as created it is {want}"));
                    }
                }
            }
            return if changes.is_empty() { Verdict::Default(d) } else { Verdict::Modified(d, changes.join("; ")) };
        }
    }
    Verdict::NotDefault
}

/// Derives the cross-resource facts presets look at: the internet gateway and DHCP options of
/// a default VPC, KMS keys that an `alias/aws/*` alias points to, and for Azure the
/// `managedBy` of a resource's resource group (`resource_group_managed_by`: what AKS puts in
/// its node resource group belongs to the cluster).
pub fn derive_facts(inv: &mut Inventory) {
    derive_azure_facts(inv);
    let mut default_vpcs = std::collections::HashSet::new();
    let mut default_dhcp = std::collections::HashSet::new();
    let mut aws_keys = std::collections::HashSet::new();
    for r in &inv.resources {
        match &*r.cloud_type {
            "AWS::EC2::VPC" if r.attributes.get("is_default") == Some(&Value::Bool(true)) => {
                if let Some(id) = r.keys.iter().find(|k| k.kind == crate::model::KeyKind::Id) {
                    default_vpcs.insert(id.value.clone());
                }
                if let Some(d) = r.attributes.get("dhcp_options_id").and_then(Value::as_str) {
                    default_dhcp.insert(d.to_owned());
                }
            }
            "AWS::KMS::Alias" if r.name.as_deref().is_some_and(|n| n.starts_with("alias/aws/")) => {
                if let Some(t) = r.attributes.get("target_key_id").and_then(Value::as_str) {
                    aws_keys.insert(t.to_owned());
                }
            }
            _ => {}
        }
    }
    for r in &mut inv.resources {
        let id =
            r.keys.iter().find(|k| k.kind == crate::model::KeyKind::Id).map(|k| k.value.clone()).unwrap_or_default();
        match &*r.cloud_type {
            "AWS::EC2::InternetGateway" => {
                let attached = r.attributes.get("attached_vpcs").and_then(Value::as_array).is_some_and(|a| {
                    !a.is_empty() && a.iter().all(|v| v.as_str().is_some_and(|v| default_vpcs.contains(v)))
                });
                r.attributes.insert("attached_to_default_vpc", Value::Bool(attached));
            }
            "AWS::EC2::DHCPOptions" => {
                r.attributes.insert("used_by_default_vpc", Value::Bool(default_dhcp.contains(&id)));
            }
            "AWS::KMS::Key" => {
                r.attributes.insert("aws_managed", Value::Bool(aws_keys.contains(&id)));
            }
            _ => {}
        }
    }
}

const RESOURCE_GROUP: &str = "microsoft.resources/subscriptions/resourcegroups";

fn derive_azure_facts(inv: &mut Inventory) {
    let managed: std::collections::HashMap<(Option<String>, String), Value> = inv
        .resources
        .iter()
        .filter(|r| r.cloud == Cloud::Azure && &*r.cloud_type == RESOURCE_GROUP)
        .filter_map(|r| {
            let by = r.attributes.get("managed_by").filter(|v| !v.is_null())?;
            Some(((r.account.clone(), r.name.as_deref()?.to_ascii_lowercase()), by.clone()))
        })
        .collect();
    if managed.is_empty() {
        return;
    }
    for r in inv.resources.iter_mut().filter(|r| r.cloud == Cloud::Azure && &*r.cloud_type != RESOURCE_GROUP) {
        let Some(rg) = r.attributes.get("resource_group").and_then(Value::as_str) else { continue };
        if let Some(by) = managed.get(&(r.account.clone(), rg.to_ascii_lowercase())) {
            r.attributes.insert("resource_group_managed_by", by.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn presets_parse() {
        let p = parse_all().unwrap();
        assert!(p.iter().any(|p| p.cloud == Cloud::Aws && !p.defaults.is_empty()));
    }

    fn sg(group: &str, ingress: &[&str]) -> CloudResource {
        CloudResource::new(Cloud::Aws, Arc::from("AWS::EC2::SecurityGroup"), "x".into())
            .attr("group_name", group)
            .attr("ingress", Value::Array(ingress.iter().map(|s| Value::String((*s).into())).collect()))
            .attr("egress", serde_json::json!(["all 0-0 0.0.0.0/0"]))
    }

    #[test]
    fn default_security_group_and_its_modification() {
        let all = builtin();
        let presets: Vec<&Preset> = all.iter().collect();
        assert!(matches!(judge(&sg("default", &["all 0-0 self"]), &presets), Verdict::Default(_)));
        assert!(matches!(judge(&sg("default", &[]), &presets), Verdict::Default(_)), "hardened is not modified");
        match judge(&sg("default", &["tcp 22-22 0.0.0.0/0"]), &presets) {
            Verdict::Modified(_, what) => assert!(what.contains("tcp 22-22 0.0.0.0/0"), "{what}"),
            v => panic!("{v:?}"),
        }
        assert_eq!(judge(&sg("web", &[]), &presets), Verdict::NotDefault);
    }

    #[test]
    fn prefix_matching() {
        let presets: Vec<&Preset> = builtin().iter().collect();
        let mut alias = CloudResource::new(Cloud::Aws, Arc::from("AWS::KMS::Alias"), "x".into());
        alias.name = Some("alias/aws/ebs".into());
        assert!(matches!(judge(&alias, &presets), Verdict::Default(_)));
        alias.name = Some("alias/app".into());
        assert_eq!(judge(&alias, &presets), Verdict::NotDefault);
    }

    fn gcp(t: &str, name: &str) -> CloudResource {
        let mut r = CloudResource::new(Cloud::Gcp, Arc::from(t), format!("//x/{name}"));
        r.name = Some(name.into());
        r
    }

    #[test]
    fn predicates() {
        let o = |v: serde_json::Value| v.as_object().unwrap().clone();
        let s = |x: &str| Value::String(x.into());
        assert!(predicate_matches(Some(&s("a-compute@x")), &o(serde_json::json!({"suffix": "-compute@x"}))));
        assert!(predicate_matches(
            Some(&s("NETWORKWATCHERRG")),
            &o(serde_json::json!({"equals": "NetworkWatcherRG", "ignore_case": true}))
        ));
        assert!(!predicate_matches(
            Some(&s("NETWORKWATCHERRG")),
            &o(serde_json::json!({"equals": "NetworkWatcherRG"}))
        ));
        assert!(predicate_matches(Some(&s("b")), &o(serde_json::json!({"one_of": ["a", "b"]}))));
        assert!(predicate_matches(
            Some(&s("service-1@gcp-sa-x.iam.gserviceaccount.com")),
            &o(serde_json::json!({"regex": "^service-[0-9]+@", "suffix": ".com"}))
        ));
        assert!(!predicate_matches(None, &o(serde_json::json!({"prefix": "x"}))));
        let bad = |when: serde_json::Value| {
            let d: ProviderDefault =
                serde_json::from_value(serde_json::json!({"name": "d", "cloud_type": "t", "why": "w", "when": when}))
                    .unwrap();
            validate(&d)
        };
        assert!(bad(serde_json::json!({"name": {"prefx": "a"}})).is_err());
        assert!(bad(serde_json::json!({"name": {"regex": "("}})).is_err());
        assert!(bad(serde_json::json!({"name": {"one_of": "a"}})).is_err());
        assert!(bad(serde_json::json!({"name": {"regex": "^a$"}})).is_ok());
    }

    #[test]
    fn gcp_defaults_and_their_modification() {
        let presets: Vec<&Preset> = builtin().iter().collect();
        let net = gcp("compute.googleapis.com/Network", "default").attr("auto_create_subnetworks", true);
        assert!(matches!(judge(&net, &presets), Verdict::Default(_)));
        let custom = gcp("compute.googleapis.com/Network", "default").attr("auto_create_subnetworks", false);
        assert!(matches!(judge(&custom, &presets), Verdict::Modified(..)));
        let fw = |rules: serde_json::Value| {
            gcp("compute.googleapis.com/Firewall", "default-allow-ssh")
                .attr("network", "https://www.googleapis.com/compute/v1/projects/p/global/networks/default")
                .attr("rules", rules)
                .attr("source_ranges", serde_json::json!(["0.0.0.0/0"]))
                .attr("direction", "INGRESS")
                .attr("priority", 65534)
                .attr("disabled", false)
        };
        assert!(matches!(judge(&fw(serde_json::json!(["tcp:22"])), &presets), Verdict::Default(_)));
        match judge(&fw(serde_json::json!(["tcp:22", "tcp:8080"])), &presets) {
            Verdict::Modified(d, what) => assert!(d.name == "default-allow-ssh" && what.contains("tcp:8080"), "{what}"),
            v => panic!("{v:?}"),
        }
        let elsewhere = fw(serde_json::json!(["tcp:22"]))
            .attr("network", "https://www.googleapis.com/compute/v1/projects/p/global/networks/k1");
        assert_eq!(judge(&elsewhere, &presets), Verdict::NotDefault);
        let sub = |cidr: &str| {
            gcp("compute.googleapis.com/Subnetwork", "default")
                .attr("network", "https://www.googleapis.com/compute/v1/projects/p/global/networks/default")
                .attr("ip_cidr_range", cidr)
        };
        assert!(matches!(judge(&sub("10.128.0.0/20"), &presets), Verdict::Default(_)));
        assert!(matches!(judge(&sub("10.128.0.0/16"), &presets), Verdict::Modified(..)));
        for sa in [
            "123-compute@developer.gserviceaccount.com",
            "p1@appspot.gserviceaccount.com",
            "service-123@gcp-sa-pubsub.iam.gserviceaccount.com",
        ] {
            assert!(
                matches!(judge(&gcp("iam.googleapis.com/ServiceAccount", sa), &presets), Verdict::Default(_)),
                "{sa}"
            );
        }
        assert_eq!(
            judge(&gcp("iam.googleapis.com/ServiceAccount", "k1-deployer@p1.iam.gserviceaccount.com"), &presets),
            Verdict::NotDefault
        );
        let bucket = gcp("logging.googleapis.com/LogBucket", "_Default").attr("retention_days", 90);
        assert!(matches!(judge(&bucket, &presets), Verdict::Modified(..)));
    }

    #[test]
    fn azure_defaults_fold_case_and_follow_managed_groups() {
        let presets: Vec<&Preset> = builtin().iter().collect();
        let az = |t: &str, name: &str, rg: &str| {
            let mut r = CloudResource::new(
                Cloud::Azure,
                Arc::from(t),
                format!("/subscriptions/s/resourcegroups/{rg}/x/{name}"),
            )
            .attr("resource_group", rg);
            r.name = Some(name.into());
            r.account = Some("s".into());
            r
        };
        let rg = "microsoft.resources/subscriptions/resourcegroups";
        assert!(matches!(judge(&az(rg, "networkwatcherrg", ""), &presets), Verdict::Default(_)));
        let nw = az("microsoft.network/networkwatchers", "NetworkWatcher_westeurope", "NetworkWatcherRG");
        assert!(matches!(judge(&nw, &presets), Verdict::Default(_)));
        let nw = az("microsoft.network/networkwatchers", "NetworkWatcher_westeurope", "rg-app");
        assert_eq!(judge(&nw, &presets), Verdict::NotDefault);

        let mut inv = Inventory::default();
        inv.add(az(rg, "MC_rg_aks_westeurope", "").attr(
            "managed_by",
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/aks",
        ));
        inv.add(az("microsoft.network/loadbalancers", "kubernetes", "MC_rg_aks_westeurope"));
        inv.add(az("microsoft.network/loadbalancers", "kubernetes", "rg-other"));
        derive_facts(&mut inv);
        assert!(matches!(judge(&inv.resources[0], &presets), Verdict::Default(_)));
        assert!(matches!(judge(&inv.resources[1], &presets), Verdict::Default(_)));
        assert_eq!(judge(&inv.resources[2], &presets), Verdict::NotDefault);
    }
}
