//! A plan JSON (`terraform show -json PLANFILE`).

use serde_json::Value;

use super::{Address, Locator, State};
use crate::source::SourceId;

/// A change's actions, as the combinations Terraform and OpenTofu write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    NoOp,
    Create,
    Read,
    Update,
    /// `["delete","create"]`: destroy first.
    DeleteThenCreate,
    /// `["create","delete"]`: create_before_destroy.
    CreateThenDelete,
    Delete,
    Forget,
    /// `["create","forget"]` (Terraform) or `["forget","create"]` (OpenTofu).
    CreateForget,
    /// A combination this driftlock does not know, kept as written.
    Other(Vec<String>),
}

impl Actions {
    pub fn from_strings(a: &[String]) -> Self {
        let v: Vec<&str> = a.iter().map(String::as_str).collect();
        match v.as_slice() {
            ["no-op"] => Actions::NoOp,
            ["create"] => Actions::Create,
            ["read"] => Actions::Read,
            ["update"] => Actions::Update,
            ["delete", "create"] => Actions::DeleteThenCreate,
            ["create", "delete"] => Actions::CreateThenDelete,
            ["delete"] => Actions::Delete,
            ["forget"] => Actions::Forget,
            ["create", "forget"] | ["forget", "create"] => Actions::CreateForget,
            _ => Actions::Other(a.to_vec()),
        }
    }

    pub fn is_replace(&self) -> bool {
        matches!(self, Actions::DeleteThenCreate | Actions::CreateThenDelete | Actions::CreateForget)
    }

    /// Short words, as Terraform's UI prints them.
    pub fn describe(&self) -> String {
        match self {
            Actions::NoOp => "no-op".into(),
            Actions::Create => "create".into(),
            Actions::Read => "read".into(),
            Actions::Update => "update".into(),
            Actions::DeleteThenCreate => "replace (delete, then create)".into(),
            Actions::CreateThenDelete => "replace (create, then delete)".into(),
            Actions::Delete => "delete".into(),
            Actions::Forget => "forget".into(),
            Actions::CreateForget => "replace (create, forget the old object)".into(),
            Actions::Other(v) => v.join(", "),
        }
    }
}

/// One entry of `resource_changes` or `resource_drift`.
#[derive(Debug, Clone)]
pub struct Change {
    pub address: Address,
    /// The address as written (kept verbatim for reports).
    pub address_text: String,
    pub previous_address: Option<String>,
    pub provider_name: Option<String>,
    pub deposed: Option<String>,
    pub action_reason: Option<String>,
    pub actions: Actions,
    pub before: Value,
    pub after: Value,
    pub after_unknown: Value,
    pub before_sensitive: Value,
    pub after_sensitive: Value,
    pub replace_paths: Vec<Value>,
    pub importing: Option<Value>,
    pub locator: Locator,
}

/// A plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: SourceId,
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub errored: Option<bool>,
    pub complete: Option<bool>,
    pub applyable: Option<bool>,
    pub timestamp: Option<String>,
    pub changes: Vec<Change>,
    pub drift: Vec<Change>,
    pub prior_state: Option<State>,
    pub planned: Option<State>,
    /// Sensitive values as they appear in the file, to mask source snippets.
    pub secrets: Vec<String>,
}
