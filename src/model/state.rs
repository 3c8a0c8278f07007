//! A state, whichever format it came in: raw v4 (`terraform.tfstate`) or `show -json`.

use serde_json::Value;

use super::{Address, Locator};
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

/// One resource instance object (a deposed object is an instance of its own).
#[derive(Debug, Clone)]
pub struct Instance {
    pub address: Address,
    /// The provider as written (`provider["registry.terraform.io/hashicorp/aws"].west`,
    /// legacy `provider.aws`, or the bare `provider_name` of `show -json`).
    pub provider: String,
    pub status: Status,
    /// The deposed key, for deposed objects.
    pub deposed: Option<String>,
    pub schema_version: Option<u64>,
    pub attributes: Attributes,
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
}

impl Instance {
    /// The provider's short name (`aws`), from the provider string or the type prefix.
    pub fn provider_short(&self) -> &str {
        provider_short_name(&self.provider)
            .unwrap_or_else(|| self.address.type_.split_once('_').map_or(self.address.type_.as_str(), |(p, _)| p))
    }

    /// The provider's `id` attribute.
    pub fn id(&self) -> Option<&str> {
        self.attributes.get("id").and_then(Value::as_str)
    }
}

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
    use super::provider_short_name;

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
