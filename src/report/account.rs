//! Accounts: which AWS account, GCP project or Azure subscription a finding is about, and the
//! readable names people give them (`--account-map FILE`, `[accounts]` in `driftlock.toml`).
//!
//! A finding's account comes from, in order: what it already carries (a merged report), its
//! canonical cloud id (`arn:aws:…:123456789012:…`, `//…/projects/P/…`, `/subscriptions/S/…`),
//! the inventory record of that id (S3 ARNs carry no account; the export does), the account of
//! the state it points into (the one most of that state's resources name), and the account of
//! the resource its audit evidence names. Where none of them tells, it has none: never a guess.

use std::collections::BTreeMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::code;
use crate::error::InputError;
use crate::source::{SourceId, display_path};

/// Account id → readable name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountMap {
    names: BTreeMap<String, String>,
}

impl AccountMap {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The readable name of `id`, when mapped.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.get(id).or_else(|| self.names.get(&id.to_ascii_lowercase())).map(String::as_str)
    }

    /// The id a readable name stands for (the first in id order), when `name` is one.
    pub fn id_of(&self, name: &str) -> Option<&str> {
        self.names.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.as_str())
    }

    /// Adds `other`'s entries; `other` wins where both name an id.
    pub fn extend(&mut self, other: AccountMap) {
        self.names.extend(other.names);
    }

    pub fn insert(&mut self, id: &str, name: &str) {
        self.names.insert(normalize_id(id), name.to_owned());
    }

    /// Reads an account map file (see [`AccountMap::parse`]).
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let name = display_path(path);
        let text = std::fs::read_to_string(path).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
                std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_owned(),
                _ => e.to_string(),
            };
            InputError::new(&code::INVALID_ACCOUNT_MAP, &name, format!("cannot read the account map {name}: {why}"))
                .with_help(HELP)
        })?;
        Self::parse(&name, &text)
    }

    /// Parses an account map: TOML with an `[accounts]` table (`"123456789012" = "prod"`), a
    /// JSON object of id → name (also under `"accounts"`), or a JSON listing of accounts as the
    /// cloud CLIs print them: `aws organizations list-accounts` (`{"Accounts": [{"Id", "Name"}]}`),
    /// `gcloud projects list --format=json` (`[{"projectId", "name"}]`), `az account list`
    /// (`[{"id", "name"}]`).
    pub fn parse(name: &str, text: &str) -> Result<Self, InputError> {
        let bad = |off: usize, len: usize, msg: String| {
            InputError::new(&code::INVALID_ACCOUNT_MAP, name, format!("the account map {name}: {msg}"))
                .with_help(HELP)
                .with_source_text(text)
                .with_span(off.min(text.len()), len.max(1), msg)
        };
        let trimmed = text.trim_start();
        let mut map = AccountMap::default();
        // JSON: an object, or an array of objects (a TOML table header is `[name]`).
        let json_array =
            trimmed.strip_prefix('[').is_some_and(|r| matches!(r.trim_start().chars().next(), Some('{' | ']')));
        if trimmed.starts_with('{') || json_array {
            let doc: Value = serde_json::from_str(text).map_err(|e| {
                let mut err = InputError::from_json(name, text, 0, text, &e);
                err.code = &code::INVALID_ACCOUNT_MAP;
                err.message = format!("the account map {}", err.message);
                err.help = Some(HELP.to_owned());
                err
            })?;
            let list = match &doc {
                Value::Object(o) => match o.get("Accounts").or_else(|| o.get("accounts")) {
                    Some(Value::Array(a)) => Some(a.as_slice()),
                    Some(Value::Object(inner)) => return map.with_object(inner, |m| bad(0, 1, m)),
                    Some(_) => return Err(bad(0, 1, "`accounts` must be an object of id → name or a list".into())),
                    None => return map.with_object(o, |m| bad(0, 1, m)),
                },
                Value::Array(a) => Some(a.as_slice()),
                _ => None,
            };
            for (i, entry) in list.unwrap_or_default().iter().enumerate() {
                let field = |keys: &[&str]| keys.iter().find_map(|k| entry.get(*k).and_then(Value::as_str));
                match (field(&["Id", "id", "projectId", "subscriptionId"]), field(&["Name", "name", "displayName"])) {
                    (Some(id), Some(n)) if !id.is_empty() && !n.is_empty() => map.insert(id, n),
                    _ => {
                        return Err(bad(
                            0,
                            1,
                            format!(
                                "entry {} has no id and name (`Id`/`Name`, `projectId`/`name`, `id`/`name`)",
                                i + 1
                            ),
                        ));
                    }
                }
            }
            return Ok(map);
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            accounts: BTreeMap<serde_spanned::Spanned<String>, serde_spanned::Spanned<toml::Value>>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let (off, len) = e.span().map_or((0, 0), |r| (r.start, r.end - r.start));
            bad(off, len, e.message().to_owned())
        })?;
        for (id, n) in &raw.accounts {
            match n.get_ref() {
                toml::Value::String(s) if !s.is_empty() && !id.get_ref().is_empty() => map.insert(id.get_ref(), s),
                _ => {
                    let r = n.span();
                    return Err(bad(
                        r.start,
                        r.end - r.start,
                        format!("`{}` must name a non-empty string", id.get_ref()),
                    ));
                }
            }
        }
        Ok(map)
    }

    fn with_object(
        mut self,
        o: &serde_json::Map<String, Value>,
        bad: impl Fn(String) -> InputError,
    ) -> Result<Self, InputError> {
        for (id, n) in o {
            match n.as_str() {
                Some(s) if !s.is_empty() && !id.is_empty() => self.insert(id, s),
                _ => return Err(bad(format!("`{id}` must map to a non-empty name (a string)"))),
            }
        }
        Ok(self)
    }
}

const HELP: &str = "write TOML like `[accounts]` then `\"123456789012\" = \"prod\"`, a JSON object of id → name, or the JSON of `aws organizations list-accounts`, `gcloud projects list --format=json` or `az account list`";

/// Azure subscription ids are GUIDs compared without case; the others are kept as written.
fn normalize_id(id: &str) -> String {
    if id.len() == 36 && id.bytes().filter(|b| *b == b'-').count() == 4 {
        id.to_ascii_lowercase()
    } else {
        id.to_owned()
    }
}

/// The account a canonical cloud id names: the AWS account of an ARN, the GCP project of an
/// asset name or self link, the Azure subscription of an ARM id. `None` when it names none (S3
/// ARNs) or says it is unknown.
pub fn of_cloud_id(id: &str) -> Option<&str> {
    let found = if let Some(rest) = id.strip_prefix("arn:") {
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        rest.split(':').nth(3)
    } else if let Some(i) = id.find("/projects/") {
        if id.starts_with("//") || id.starts_with("https://") || id.starts_with("projects/") || i == 0 {
            id[i + "/projects/".len()..].split('/').next()
        } else {
            None
        }
    } else if let Some(rest) = id.strip_prefix("projects/") {
        rest.split('/').next()
    } else if id.len() > 15 && id[..15].eq_ignore_ascii_case("/subscriptions/") {
        id[15..].split('/').next()
    } else {
        None
    };
    found.filter(|a| !a.is_empty() && !a.starts_with('<') && *a != "aws" && *a != "-")
}

/// The account most of a state's resources name (by their `arn`, `self_link` or `id`; ties: the
/// smallest id): [`State::account`](crate::model::State::account).
pub fn state_account(s: &crate::model::State) -> Option<String> {
    // Ties go to the smallest id whatever the map's order: the comparison is total.
    let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
    for i in &s.instances {
        for key in ["arn", "self_link", "id"] {
            if let Some(a) = i.attributes.get(key).and_then(Value::as_str).and_then(of_cloud_id) {
                *counts.entry(a).or_default() += 1;
                break;
            }
        }
    }
    let (a, _) = counts.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))?;
    Some((*a).to_owned())
}

/// Sets each finding's `account` and `account_name` and counts findings by account in the
/// summary.
pub fn annotate(outcome: &mut crate::scan::Outcome, map: &AccountMap) {
    use rayon::prelude::*;
    let estate = &outcome.estate;
    // Only what findings without an account of their own need is looked up (in parallel):
    // the inventory and the states hold a million objects, the findings a few.
    let mut need_ids: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let mut need_sources: rustc_hash::FxHashSet<SourceId> = rustc_hash::FxHashSet::default();
    for f in outcome.report.findings.iter().filter(|f| f.account.is_none()) {
        match f.cloud_id.as_deref() {
            Some(id) if of_cloud_id(id).is_some() => continue,
            Some(id) => {
                need_ids.insert(id.to_owned());
            }
            None => {}
        }
        if let Some(s) = f.source {
            need_sources.insert(s);
        }
    }
    // The inventory's account for ids that do not carry one (S3 ARNs).
    let by_id: FxHashMap<&str, &str> = if need_ids.is_empty() {
        FxHashMap::default()
    } else {
        let found: Vec<(&str, &str)> = estate
            .inventory
            .resources
            .par_iter()
            .filter(|r| need_ids.contains(r.cloud_id.as_str()))
            .filter_map(|r| {
                let a = r.account.as_deref().filter(|a| !a.is_empty() && !a.starts_with('<'))?;
                of_cloud_id(&r.cloud_id).is_none().then_some((r.cloud_id.as_str(), a))
            })
            .collect();
        // The last resource of an id wins, as when the map was filled in order.
        found.into_iter().collect()
    };
    // Each state's account, counted when it was read.
    let by_source: FxHashMap<SourceId, String> = estate
        .states
        .iter()
        .filter(|s| need_sources.contains(&s.source))
        .filter_map(|s| Some((s.source, s.account.clone()?)))
        .collect();
    // The account each judged audit record was made in.
    let by_event: FxHashMap<&str, &str> = estate
        .audit
        .judged
        .iter()
        .filter_map(|j| Some((j.event.event_id.as_str(), j.event.account.as_deref().filter(|a| !a.is_empty())?)))
        .collect();
    let report = &mut outcome.report;
    for f in &mut report.findings {
        if f.account.is_none() {
            let from_id = f.cloud_id.as_deref().and_then(|id| of_cloud_id(id).or_else(|| by_id.get(id).copied()));
            let from_evidence = || by_event.get(f.evidence.as_ref()?.event_id.as_str()).copied();
            f.account = from_id
                .map(str::to_owned)
                .or_else(|| f.source.and_then(|s| by_source.get(&s).cloned()))
                .or_else(|| from_evidence().map(str::to_owned));
        }
        if let Some(a) = &f.account {
            let a = normalize_id(a);
            if f.account_name.is_none() {
                f.account_name = map.name(&a).map(str::to_owned);
            }
            *report.summary.by_account.entry(a.clone()).or_default() += 1;
            f.account = Some(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_from_canonical_ids() {
        assert_eq!(of_cloud_id("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"), Some("123456789012"));
        assert_eq!(of_cloud_id("arn:aws:iam::123456789012:role/x"), Some("123456789012"));
        assert_eq!(of_cloud_id("arn:aws:s3:::bucket"), None);
        assert_eq!(of_cloud_id("arn:aws:ec2:us-east-1:<unknown-account>:vpc/vpc-1"), None);
        assert_eq!(of_cloud_id("//compute.googleapis.com/projects/p-1/global/networks/n"), Some("p-1"));
        assert_eq!(of_cloud_id("https://www.googleapis.com/compute/v1/projects/p-2/global/networks/n"), Some("p-2"));
        assert_eq!(of_cloud_id("projects/p-3/serviceAccounts/x"), Some("p-3"));
        assert_eq!(
            of_cloud_id("/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourcegroups/rg"),
            Some("0b1f6471-1bf0-4dda-aec3-111122223333")
        );
        assert_eq!(of_cloud_id("vpc-123"), None);
        assert_eq!(of_cloud_id("//storage.googleapis.com/bucket"), None);
    }

    #[test]
    fn maps_in_toml_json_and_cloud_listings() {
        let t = AccountMap::parse("m.toml", "[accounts]\n\"123456789012\" = \"prod\"\nanalytics-p = \"analytics\"\n")
            .unwrap();
        assert_eq!(t.name("123456789012"), Some("prod"));
        assert_eq!(t.id_of("analytics"), Some("analytics-p"));
        let j = AccountMap::parse("m.json", r#"{"111111111111": "dev"}"#).unwrap();
        assert_eq!(j.name("111111111111"), Some("dev"));
        let org = AccountMap::parse(
            "org.json",
            r#"{"Accounts": [{"Id": "222222222222", "Name": "shared", "Status": "ACTIVE"}]}"#,
        )
        .unwrap();
        assert_eq!(org.name("222222222222"), Some("shared"));
        let az =
            AccountMap::parse("az.json", r#"[{"id": "0B1F6471-1BF0-4DDA-AEC3-111122223333", "name": "sub"}]"#).unwrap();
        assert_eq!(az.name("0b1f6471-1bf0-4dda-aec3-111122223333"), Some("sub"));
        let gcp = AccountMap::parse("p.json", r#"[{"projectId": "p-1", "name": "Project One"}]"#).unwrap();
        assert_eq!(gcp.name("p-1"), Some("Project One"));
    }

    #[test]
    fn bad_maps_are_errors_that_point_at_the_line() {
        let e = AccountMap::parse("m.toml", "[accounts]\n\"1\" = 5\n").unwrap_err();
        assert_eq!(e.code.code, "DL0025");
        assert_eq!(e.location().map(|l| l.0), Some(2));
        assert!(AccountMap::parse("m.toml", "[acounts]\n").is_err());
        assert!(AccountMap::parse("m.json", r#"{"1": 2}"#).is_err());
        assert!(AccountMap::parse("m.json", r#"[{"Id": "1"}]"#).is_err());
        assert_eq!(AccountMap::parse("m.json", "{").unwrap_err().code.code, "DL0025");
    }
}
