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
    pub cloud_type: String,
    #[serde(default)]
    pub when: Map<String, Value>,
    pub why: String,
    #[serde(default)]
    pub allow_only: Map<String, Value>,
    #[serde(default)]
    pub max: Map<String, Value>,
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
        Value::Object(o) if o.contains_key("prefix") => {
            let p = o.get("prefix").and_then(Value::as_str).unwrap_or("");
            actual.and_then(Value::as_str).is_some_and(|s| s.starts_with(p))
        }
        _ => actual == Some(want),
    }
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
        for d in p.defaults.iter().filter(|d| *d.cloud_type == *r.cloud_type) {
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
            return if changes.is_empty() { Verdict::Default(d) } else { Verdict::Modified(d, changes.join("; ")) };
        }
    }
    Verdict::NotDefault
}

/// Derives the cross-resource facts presets look at: the internet gateway and DHCP options of
/// a default VPC, and KMS keys that an `alias/aws/*` alias points to.
pub fn derive_facts(inv: &mut Inventory) {
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
                r.attributes.insert("attached_to_default_vpc".into(), Value::Bool(attached));
            }
            "AWS::EC2::DHCPOptions" => {
                r.attributes.insert("used_by_default_vpc".into(), Value::Bool(default_dhcp.contains(&id)));
            }
            "AWS::KMS::Key" => {
                r.attributes.insert("aws_managed".into(), Value::Bool(aws_keys.contains(&id)));
            }
            _ => {}
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
}
