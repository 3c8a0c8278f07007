//! A state, whichever format it came in: raw v4 (`terraform.tfstate`) or `show -json`.

use serde_json::Value;

use super::{Address, CompactMap, Locator};
use crate::source::SourceId;

/// Which format a state was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFormat {
    /// `terraform.tfstate`, `state pull`, `errored.tfstate`: has lineage and serial.
    RawV4,
    /// `terraform show -json` / `tofu show -json`: no lineage, no serial.
    ShowJson,
    /// The `prior_state` inside a plan JSON.
    PlanPrior,
}

/// An instance's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ready,
    Tainted,
}

/// The attributes driftlock keeps of an instance: the ones identity and drift checks need,
/// never the whole object (a large state would not fit in memory otherwise), in a map sized to
/// them.
pub type Attributes = super::CompactMap<Value>;

/// An instance's tag and label maps whose values are all strings ([`Instance::tag_maps`]).
pub type TagMaps = CompactMap<CompactMap<String>>;

/// One resource instance object (a deposed object is an instance of its own).
#[derive(Debug, Clone)]
pub struct Instance {
    pub address: Address,
    /// The provider as written (`provider["registry.terraform.io/hashicorp/aws"].west`,
    /// legacy `provider.aws`, or the bare `provider_name` of `show -json`).
    pub provider: std::sync::Arc<str>,
    pub status: Status,
    /// The deposed key, for deposed objects.
    pub deposed: Option<String>,
    pub schema_version: Option<u64>,
    pub attributes: Attributes,
    /// The kept tag and label maps (`tags_all`, `labels`…) whose values are all strings, out
    /// of `attributes` and in compact form: a `serde_json` object would cost a tree node of
    /// eleven slots per instance. Read them with [`Instance::tag_map`].
    pub tag_maps: CompactMap<CompactMap<String>>,
    /// Attribute paths marked sensitive (values never printed).
    pub sensitive_paths: Vec<Vec<PathStep>>,
    pub locator: Locator,
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A state file.
#[derive(Debug, Clone)]
pub struct State {
    pub source: SourceId,
    pub format: StateFormat,
    pub terraform_version: Option<String>,
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    /// The file is an `errored.tfstate`.
    pub errored_file: bool,
    pub instances: Vec<Instance>,
    /// String values that must never be printed: sensitive attribute leaves and sensitive
    /// outputs, as they appear in the file (JSON-encoded), used to mask source snippets.
    pub secrets: Vec<String>,
    /// The account most of its resources name (ties: the smallest id), counted when the state
    /// is read, while its instances are still in the cache: findings without an account of
    /// their own take it.
    pub account: Option<String>,
}

impl Instance {
    /// The provider's short name (`aws`), from the provider string or the type prefix.
    pub fn provider_short(&self) -> &str {
        provider_short_name(&self.provider)
            .unwrap_or_else(|| self.address.type_.split_once('_').map_or(&*self.address.type_, |(p, _)| p))
    }

    /// The provider's `id` attribute.
    pub fn id(&self) -> Option<&str> {
        self.attributes.get("id").and_then(Value::as_str)
    }

    /// The tag or label map `name` as the state records it: `None` when the attribute is not
    /// kept, `Some(Null)`-like empty when it is null, `Err` with the value when it is not an
    /// object (shapes terraform does not write).
    pub fn tag_map(&self, name: &str) -> Option<Result<std::borrow::Cow<'_, CompactMap<String>>, &Value>> {
        if let Some(m) = self.tag_maps.get(name) {
            return Some(Ok(std::borrow::Cow::Borrowed(m)));
        }
        Some(match self.attributes.get(name)? {
            Value::Object(o) => Ok(std::borrow::Cow::Owned(
                o.iter().map(|(k, v)| (k.as_str(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect(),
            )),
            Value::Null => Ok(std::borrow::Cow::Owned(CompactMap::new())),
            other => Err(other),
        })
    }

    /// Moves the tag and label maps whose values are all strings out of `attributes` (see
    /// [`Instance::tag_maps`]).
    pub fn split_tag_maps(mut attributes: Attributes) -> (Attributes, CompactMap<CompactMap<String>>) {
        let mut maps = CompactMap::new();
        for name in TAG_MAPS {
            let all_strings =
                matches!(attributes.get(name), Some(Value::Object(o)) if o.values().all(Value::is_string));
            if all_strings {
                if let Some(Value::Object(o)) = attributes.remove(name) {
                    let m: CompactMap<String> = o
                        .into_iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => (k, s),
                            other => (k, other.to_string()),
                        })
                        .collect();
                    maps.insert(name, m);
                }
            }
        }
        maps.shrink_to_fit();
        (attributes, maps)
    }
}

/// The attributes that hold tag or label maps.
pub(crate) const TAG_MAPS: [&str; 5] = ["tags", "tags_all", "labels", "effective_labels", "terraform_labels"];

/// `provider["registry.terraform.io/hashicorp/aws"].west` → `aws`; `provider.aws.west` → `aws`;
/// `registry.terraform.io/hashicorp/aws` → `aws`.
pub fn provider_short_name(p: &str) -> Option<&str> {
    let p = match p.rfind("provider[\"") {
        Some(i) => {
            let rest = &p[i + 10..];
            &rest[..rest.find('"')?]
        }
        None => match p.rfind("provider.") {
            Some(i) => {
                let rest = &p[i + 9..];
                return rest.split('.').next().filter(|s| !s.is_empty());
            }
            None => p,
        },
    };
    p.rsplit('/').next().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_maps_of_strings_leave_the_attributes_and_read_back_the_same() {
        let attrs: Attributes = serde_json::json!({
            "id": "i-1", "tags_all": {"Name": "web", "env": "prod"}, "labels": {"n": 1}, "tags": null
        })
        .as_object()
        .cloned()
        .unwrap()
        .into();
        let (rest, maps) = Instance::split_tag_maps(attrs);
        assert_eq!(rest.keys().collect::<Vec<_>>(), ["id", "labels", "tags"], "non-string and null maps stay");
        assert_eq!(maps.keys().collect::<Vec<_>>(), ["tags_all"]);
        let i = Instance {
            address: Address {
                module: "".into(),
                mode: crate::model::Mode::Managed,
                type_: "aws_instance".into(),
                name: "web".into(),
                index: None,
            },
            provider: "".into(),
            status: Status::Ready,
            deposed: None,
            schema_version: None,
            attributes: rest,
            tag_maps: maps,
            sensitive_paths: Vec::new(),
            locator: Locator::default(),
        };
        let t = i.tag_map("tags_all").unwrap().unwrap();
        assert_eq!(t.iter().collect::<Vec<_>>(), [("Name", &"web".to_owned()), ("env", &"prod".to_owned())]);
        assert_eq!(i.tag_map("labels").unwrap().unwrap()["n"], "1");
        assert!(i.tag_map("tags").unwrap().unwrap().is_empty());
        assert!(i.tag_map("effective_labels").is_none());
    }

    #[test]
    fn provider_names() {
        assert_eq!(provider_short_name(r#"provider["registry.terraform.io/hashicorp/aws"]"#), Some("aws"));
        assert_eq!(
            provider_short_name(r#"module.m.provider["registry.opentofu.org/hashicorp/google"].x"#),
            Some("google")
        );
        assert_eq!(provider_short_name("provider.aws.west"), Some("aws"));
        assert_eq!(provider_short_name("module.x.provider.azurerm"), Some("azurerm"));
        assert_eq!(provider_short_name("registry.terraform.io/hashicorp/aws"), Some("aws"));
    }
}
