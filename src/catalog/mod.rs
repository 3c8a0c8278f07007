//! The identity catalog: for each supported Terraform resource type, the cloud type(s) it is,
//! how to compute its canonical identity from state attributes, and which attributes to compare
//! for drift. Data, not code: one TOML file per provider (`aws.toml`, `gcp.toml`,
//! `azure.toml`), embedded at build time and validated by tests.
//!
//! Entry fields (see `aws.toml` for a commented example):
//! - `terraform`: the resource type; `cloud_type`: the cloud's type name;
//! - `keys`: identities to join on, in order: `KIND` (the attribute of the same name),
//!   `KIND=ATTR`, or `KIND=TEMPLATE` with `{attr}` placeholders. Kinds: `arn`, `id`, `name`,
//!   `unique_id`, `asset`, `arm`;
//! - `arn`: AWS ARN template (`arn:{partition}:ec2:{region}:{account}:vpc/{id}`), used to show
//!   a canonical id when the state lacks one and to tell the type of a tagging-API ARN;
//! - `compare`: attributes compared with the cloud (`attr` or `attr:normalizer`); tags are
//!   always compared through the provider's `tags_attr` (`tags_all` for AWS);
//! - `regional` (default true), `tagged` (listed by the tagging API / Resource Explorer,
//!   default true).

pub mod arn;
pub mod normalize;

use std::sync::{Arc, OnceLock};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde_json::Value;

use crate::ingest::AttributeFilter;
use crate::ingest::TypeFilter;
use crate::ingest::json::ALWAYS_KEPT;
use crate::model::{Cloud, Key, KeyKind};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    provider: String,
    cloud: String,
    tags_attr: String,
    #[serde(rename = "resource")]
    resources: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    terraform: String,
    cloud_type: String,
    keys: Vec<String>,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    compare: Vec<String>,
    #[serde(default = "yes")]
    regional: bool,
    #[serde(default = "yes")]
    tagged: bool,
    #[serde(default)]
    note: Option<String>,
}

fn yes() -> bool {
    true
}

/// How to derive one key from state attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The value of an attribute.
    Attr(String),
    /// A template with `{attr}` placeholders.
    Template(String),
}

/// One key derivation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub kind: KeyKind,
    pub source: KeySource,
}

/// One compared attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareSpec {
    pub attr: String,
    pub normalizer: Option<String>,
}

/// A catalog entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub terraform: String,
    pub provider: String,
    pub cloud: Cloud,
    pub cloud_type: Arc<str>,
    pub keys: Vec<KeySpec>,
    pub arn: Option<String>,
    pub compare: Vec<CompareSpec>,
    pub regional: bool,
    pub tagged: bool,
    pub tags_attr: String,
    pub note: Option<String>,
    /// The attributes this entry reads from state, sorted ([`Entry::wants`]).
    wanted: Box<[String]>,
    /// The same, to look up (the parsers' attribute filter).
    wanted_set: FxHashSet<String>,
}

/// The whole catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Vec<Arc<Entry>>,
    by_terraform: FxHashMap<String, Arc<Entry>>,
    by_cloud_type: FxHashMap<Arc<str>, Vec<Arc<Entry>>>,
    /// (service, resource prefix, cloud type), longest prefix first.
    arn_rules: Vec<(String, String, Arc<str>)>,
    /// What is kept of types without an entry: [`ALWAYS_KEPT`].
    always_kept: FxHashSet<String>,
}

const FILES: &[(&str, &str)] = &[
    ("aws.toml", include_str!("aws.toml")),
    ("gcp.toml", include_str!("gcp.toml")),
    ("azure.toml", include_str!("azure.toml")),
];

/// An error in a catalog file (a build-time defect; tests keep it from shipping).
#[derive(Debug, thiserror::Error)]
#[error("catalog {file}: {message}")]
pub struct CatalogError {
    pub file: String,
    pub message: String,
}

impl Catalog {
    /// The catalog built into driftlock.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        // The embedded files are validated by `catalog_files_are_valid`; an error is unreachable
        // in a tested build, and an empty catalog would only make every type unsupported.
        CATALOG.get_or_init(|| Catalog::parse(FILES).unwrap_or_default())
    }

    pub fn parse(files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        let mut c = Catalog::default();
        for (name, text) in files {
            let err = |message: String| CatalogError { file: (*name).to_owned(), message };
            let f: ProviderFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
            let cloud = match f.cloud.as_str() {
                "aws" => Cloud::Aws,
                "gcp" => Cloud::Gcp,
                "azure" => Cloud::Azure,
                other => return Err(err(format!("unknown cloud {other:?}"))),
            };
            for r in f.resources {
                let keys = r
                    .keys
                    .iter()
                    .map(|k| parse_key(k))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|m| err(format!("{}: {m}", r.terraform)))?;
                if keys.is_empty() {
                    return Err(err(format!("{}: no keys", r.terraform)));
                }
                let compare = r
                    .compare
                    .iter()
                    .map(|c| match c.split_once(':') {
                        Some((a, n)) => CompareSpec { attr: a.to_owned(), normalizer: Some(n.to_owned()) },
                        None => CompareSpec { attr: c.clone(), normalizer: None },
                    })
                    .collect();
                let cloud_type: Arc<str> = Arc::from(if cloud == Cloud::Azure {
                    r.cloud_type.to_ascii_lowercase()
                } else {
                    r.cloud_type.clone()
                });
                let mut entry = Entry {
                    terraform: r.terraform.clone(),
                    provider: f.provider.clone(),
                    cloud,
                    cloud_type: cloud_type.clone(),
                    keys,
                    arn: r.arn.clone(),
                    compare,
                    regional: r.regional,
                    tagged: r.tagged,
                    tags_attr: f.tags_attr.clone(),
                    note: r.note,
                    wanted: Box::default(),
                    wanted_set: FxHashSet::default(),
                };
                entry.wanted = entry.wanted_attributes();
                entry.wanted_set = entry.wanted.iter().cloned().collect();
                let entry = Arc::new(entry);
                if c.by_terraform.insert(r.terraform.clone(), entry.clone()).is_some() {
                    return Err(err(format!("{} is listed twice", r.terraform)));
                }
                if let Some(t) = &r.arn {
                    let rule = arn_rule(t).ok_or_else(|| err(format!("{}: bad arn template {t:?}", r.terraform)))?;
                    c.arn_rules.push((rule.0, rule.1, cloud_type.clone()));
                }
                c.by_cloud_type.entry(cloud_type).or_default().push(entry.clone());
                c.entries.push(entry);
            }
        }
        c.always_kept = ALWAYS_KEPT.iter().map(|a| (*a).to_owned()).collect();
        c.arn_rules.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.cmp(b)));
        c.arn_rules.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        Ok(c)
    }

    pub fn entries(&self) -> &[Arc<Entry>] {
        &self.entries
    }

    pub fn get(&self, terraform_type: &str) -> Option<&Arc<Entry>> {
        self.by_terraform.get(terraform_type)
    }

    pub fn for_cloud_type(&self, cloud_type: &str) -> &[Arc<Entry>] {
        self.by_cloud_type.get(cloud_type).map_or(&[], Vec::as_slice)
    }

    /// The cloud type of an AWS ARN, by the catalog's ARN templates.
    pub fn cloud_type_of_arn(&self, arn: &arn::Arn<'_>) -> Option<&Arc<str>> {
        self.arn_rules.iter().find_map(|(svc, prefix, t)| {
            let ok = arn.service == svc
                && if prefix.is_empty() {
                    !arn.resource.contains('/') && !arn.resource.contains(':')
                } else {
                    arn.resource.starts_with(prefix.as_str())
                };
            ok.then_some(t)
        })
    }
}

fn parse_key(spec: &str) -> Result<KeySpec, String> {
    let (kind, source) = match spec.split_once('=') {
        Some((k, s)) => (k, s),
        None => (spec, spec),
    };
    let kind = match kind {
        "arn" => KeyKind::Arn,
        "id" => KeyKind::Id,
        "name" => KeyKind::Name,
        "unique_id" => KeyKind::UniqueId,
        "asset" => KeyKind::Asset,
        "arm" => KeyKind::Arm,
        other => return Err(format!("unknown key kind {other:?}")),
    };
    let source =
        if source.contains('{') { KeySource::Template(source.to_owned()) } else { KeySource::Attr(source.to_owned()) };
    Ok(KeySpec { kind, source })
}

/// `arn:{partition}:ec2:{region}:{account}:vpc/{id}` → (`ec2`, `vpc/`).
fn arn_rule(t: &str) -> Option<(String, String)> {
    let mut it = t.splitn(6, ':');
    (it.next()? == "arn").then_some(())?;
    let _partition = it.next()?;
    let service = it.next()?.to_owned();
    let _region = it.next()?;
    let _account = it.next()?;
    let resource = it.next()?;
    let prefix = resource.split('{').next().unwrap_or("").to_owned();
    (!service.contains('{')).then_some((service, prefix))
}

/// Keys an ARN yields through an entry's ARN template: the template's last placeholder
/// captures the end of the ARN's resource part (`vpc/{id}` → `id`), and every key of the entry
/// read from that attribute gets the captured value. IAM paths are dropped from names
/// (`role/service-role/x` → `x`).
pub fn keys_from_arn(entry: &Entry, template: &str, arn_text: &str) -> Vec<(KeyKind, String)> {
    let (Some(arn), Some((service, prefix))) = (arn::Arn::parse(arn_text), arn_rule(template)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if arn.service != service || !arn.resource.starts_with(prefix.as_str()) {
        return out;
    }
    let t_resource = template.splitn(6, ':').nth(5).unwrap_or("");
    let Some(open) = t_resource.rfind('{') else { return out };
    let Some(close) = t_resource[open..].find('}') else { return out };
    let attr = &t_resource[open + 1..open + close];
    let mut captured = &arn.resource[prefix.len()..];
    captured = captured.strip_suffix(":*").unwrap_or(captured);
    if arn.service == "iam" {
        captured = captured.rsplit('/').next().unwrap_or(captured);
    }
    if captured.is_empty() {
        return out;
    }
    for spec in &entry.keys {
        if spec.source == KeySource::Attr(attr.to_owned()) && spec.kind != KeyKind::Arn {
            out.push((spec.kind, captured.to_owned()));
        }
    }
    out
}

/// Fills `{attr}` placeholders from attributes; `None` when one is missing or empty.
pub fn fill(
    template: &str,
    attrs: &dyn crate::model::Lookup,
    extra: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}')? + i;
        let name = &rest[i + 1..j];
        let v = match attrs.lookup(name) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => extra(name)?,
        };
        out.push_str(&v);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    Some(out)
}

impl Entry {
    /// The join keys of a state instance with these attributes.
    pub fn state_keys(&self, attrs: &dyn crate::model::Lookup) -> Vec<Key> {
        let mut out = Vec::with_capacity(self.keys.len());
        for spec in &self.keys {
            let value: Option<std::borrow::Cow<'_, str>> = match &spec.source {
                KeySource::Attr(a) => attrs.lookup(a).and_then(Value::as_str).filter(|s| !s.is_empty()).map(Into::into),
                KeySource::Template(t) => fill(t, attrs, &|_| None).map(Into::into),
            };
            if let Some(v) = value {
                let k = Key::new(spec.kind, &v);
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        out
    }

    /// Whether this entry reads `attr` from state (what [`TypeFilter::Listed`] answers with
    /// this entry's list).
    #[cfg(test)]
    fn wants(&self, attr: &str) -> bool {
        self.wanted.binary_search_by(|w| w.as_str().cmp(attr)).is_ok()
    }

    /// Attributes this entry reads from state: its tags attribute, the compared ones, those
    /// its keys and ARN template name (`{attr}`), and what every type keeps ([`ALWAYS_KEPT`]).
    fn wanted_attributes(&self) -> Box<[String]> {
        let mut out: Vec<String> = vec![self.tags_attr.clone()];
        out.extend(ALWAYS_KEPT.iter().map(|a| (*a).to_owned()));
        out.extend(self.compare.iter().map(|c| c.attr.clone()));
        let mut templates: Vec<&str> = self.arn.as_deref().into_iter().collect();
        for k in &self.keys {
            match &k.source {
                KeySource::Attr(a) => out.push(a.clone()),
                KeySource::Template(t) => templates.push(t),
            }
        }
        for t in templates {
            let mut rest = t;
            while let Some(open) = rest.find('{') {
                let Some(len) = rest[open..].find('}') else { break };
                out.push(rest[open + 1..open + len].to_owned());
                rest = &rest[open + len + 1..];
            }
        }
        out.sort();
        out.dedup();
        out.into_boxed_slice()
    }
}

impl AttributeFilter for Catalog {
    fn keep(&self, resource_type: &str, attribute: &str) -> bool {
        self.for_type(resource_type).keep(attribute)
    }

    fn for_type<'s>(&'s self, resource_type: &'s str) -> TypeFilter<'s> {
        TypeFilter::Listed(self.by_terraform.get(resource_type).map_or(&self.always_kept, |e| &e.wanted_set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_files_are_valid() {
        let c = Catalog::parse(FILES).unwrap();
        assert!(!c.entries().is_empty());
        assert_eq!(Catalog::builtin().entries().len(), c.entries().len());
    }

    #[test]
    fn arn_classification() {
        let c = Catalog::builtin();
        let t = |s: &str| c.cloud_type_of_arn(&arn::Arn::parse(s).unwrap()).map(|t| t.to_string());
        assert_eq!(t("arn:aws:ec2:us-east-1:1:vpc/vpc-1").as_deref(), Some("AWS::EC2::VPC"));
        assert_eq!(t("arn:aws:ec2:us-east-1:1:security-group/sg-1").as_deref(), Some("AWS::EC2::SecurityGroup"));
        assert_eq!(t("arn:aws:s3:::bucket").as_deref(), Some("AWS::S3::Bucket"));
        assert_eq!(t("arn:aws:iam::1:role/service-role/x").as_deref(), Some("AWS::IAM::Role"));
    }

    #[test]
    fn an_entry_wants_exactly_its_tags_compared_key_and_template_attributes() {
        // The definition, spelled out: what the list made once must answer the same.
        let by_definition = |e: &Entry, attr: &str| {
            let placeholder = format!("{{{attr}}}");
            ALWAYS_KEPT.contains(&attr)
                || attr == e.tags_attr
                || e.compare.iter().any(|c| c.attr == attr)
                || e.keys.iter().any(|k| match &k.source {
                    KeySource::Attr(a) => a == attr,
                    KeySource::Template(t) => t.contains(&placeholder),
                })
                || e.arn.as_deref().is_some_and(|t| t.contains(&placeholder))
        };
        let c = Catalog::builtin();
        let mut names: Vec<String> = vec!["nothing".into(), "policy_x".into(), "".into()];
        for e in c.entries() {
            names.extend(e.wanted.iter().cloned());
            // Every word of the templates too, so a placeholder the list missed shows.
            let templates = e.keys.iter().filter_map(|k| match &k.source {
                KeySource::Template(t) => Some(t.as_str()),
                KeySource::Attr(_) => None,
            });
            for t in templates.chain(e.arn.as_deref()) {
                names.extend(t.split(['{', '}', ':', '/', '.', '-']).map(str::to_owned));
            }
        }
        names.sort();
        names.dedup();
        let mut wanted = 0;
        for e in c.entries() {
            for n in &names {
                assert_eq!(e.wants(n), by_definition(e, n), "{} {n}", e.terraform);
                wanted += usize::from(e.wants(n));
            }
        }
        assert!(wanted > c.entries().len() * 2, "every entry wants several attributes");
        let log_group = c.get("aws_cloudwatch_log_group").unwrap();
        assert!(log_group.wants("name") && !log_group.wants("nothing"));
        // The filter the parsers use: the same lists, and identity and tags of unknown types.
        assert!(c.keep("aws_instance", "ami") && c.keep("aws_instance", "tags_all"));
        assert!(!c.keep("aws_instance", "user_data"));
        assert!(c.keep("no_such_type", "id") && c.keep("no_such_type", "labels"));
        assert!(!c.keep("no_such_type", "ami"));
    }

    #[test]
    fn state_keys_from_attributes() {
        let c = Catalog::builtin();
        let vpc = c.get("aws_vpc").unwrap();
        let attrs: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"id":"vpc-1","arn":"arn:aws:ec2:us-east-1:1:vpc/vpc-1"}"#).unwrap();
        let keys = vpc.state_keys(&attrs);
        assert!(keys.contains(&Key::new(KeyKind::Id, "vpc-1")));
        assert!(keys.contains(&Key::new(KeyKind::Arn, "arn:aws:ec2:us-east-1:1:vpc/vpc-1")));
    }

    #[test]
    fn keys_from_arns() {
        let c = Catalog::builtin();
        let k = |t: &str, arn: &str| {
            let e = c.get(t).unwrap();
            keys_from_arn(e, e.arn.as_deref().unwrap(), arn)
        };
        assert_eq!(k("aws_vpc", "arn:aws:ec2:us-east-1:1:vpc/vpc-9"), vec![(KeyKind::Id, "vpc-9".to_owned())]);
        assert_eq!(k("aws_iam_role", "arn:aws:iam::1:role/service-role/x"), vec![(KeyKind::Name, "x".to_owned())]);
        assert_eq!(
            k("aws_cloudwatch_log_group", "arn:aws:logs:us-east-1:1:log-group:/app/x:*"),
            vec![(KeyKind::Name, "/app/x".to_owned())]
        );
        assert_eq!(k("aws_s3_bucket", "arn:aws:s3:::b"), vec![(KeyKind::Id, "b".to_owned())]);
        assert!(k("aws_vpc", "arn:aws:ec2:us-east-1:1:subnet/subnet-1").is_empty());
    }

    #[test]
    fn compare_normalizers_exist() {
        for e in Catalog::builtin().entries() {
            for c in &e.compare {
                if let Some(n) = &c.normalizer {
                    assert!(normalize::NAMES.contains(&n.as_str()), "{}: unknown normalizer {n}", e.terraform);
                }
            }
        }
    }

    #[test]
    fn fill_templates() {
        let attrs: serde_json::Map<String, Value> = serde_json::from_str(r#"{"name":"b"}"#).unwrap();
        assert_eq!(
            fill("//storage.googleapis.com/{name}", &attrs, &|_| None).as_deref(),
            Some("//storage.googleapis.com/b")
        );
        assert_eq!(fill("{missing}", &attrs, &|_| None), None);
    }
}
