//! Cloud inventory exports → [`CloudResource`]s and [`Coverage`].
//!
//! Whole-document formats are recognised from their top-level keys; newline-delimited ones
//! (GCP asset exports, the generic inventory) from their first line, and are streamed.

pub(crate) mod aws;

use std::sync::Arc;

use serde_json::Value;

use super::json::{FileCtx, TopLevel};
use crate::catalog::Catalog;
use crate::catalog::arn::Arn;
use crate::error::InputError;
use crate::model::{Cloud, CloudResource, Coverage, KeyKind, Locator, Scope, Seg, Sighting};

/// What one inventory file held.
#[derive(Debug, Default)]
pub struct Part {
    pub resources: Vec<CloudResource>,
    pub coverage: Vec<Coverage>,
    /// Things worth saying that are not errors (a truncated Resource Explorer result).
    pub notes: Vec<String>,
}

/// Facts about an export that its content may not state: from the path
/// (`AWSLogs/ACCOUNT/Config/REGION/…`) or a `.REGION.` infix in the file name
/// (`ec2-describe-vpcs.us-west-2.json`).
#[derive(Debug, Default, Clone)]
pub struct Hints {
    pub region: Option<String>,
    pub account: Option<String>,
}

impl Hints {
    /// Reads hints from a path as shown.
    pub fn from_name(name: &str) -> Hints {
        let mut h = Hints::default();
        let parts: Vec<&str> = name.split('/').collect();
        if let Some(i) = parts.iter().position(|p| *p == "AWSLogs") {
            if let Some(acct) = parts.get(i + 1).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
                h.account = Some((*acct).to_owned());
            }
            // AWSLogs/[ORG/]ACCT/SERVICE/REGION/
            if let Some(j) = parts.iter().position(|p| *p == "Config" || *p == "CloudTrail") {
                if let Some(r) = parts.get(j + 1).filter(|r| is_region(r)) {
                    h.region = Some((*r).to_owned());
                }
                if h.account.is_none() {
                    if let Some(acct) = j.checked_sub(1).and_then(|k| parts.get(k)) {
                        h.account = Some((*acct).to_owned());
                    }
                }
            }
        }
        if h.region.is_none() {
            let file = parts.last().copied().unwrap_or("");
            h.region = file.split('.').find(|seg| is_region(seg)).map(str::to_owned);
        }
        h
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-3`.
pub fn is_region(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    (3..=4).contains(&p.len())
        && p[0].len() == 2
        && p[0].bytes().all(|b| b.is_ascii_lowercase())
        && p[p.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && p[1..p.len() - 1].iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Context for the parsers of one file.
pub(crate) struct Ctx<'a, 'c> {
    pub(crate) file: &'a FileCtx<'a>,
    pub(crate) catalog: &'c Catalog,
    pub(crate) hints: Hints,
}

impl Ctx<'_, '_> {
    pub(crate) fn sighting(&self, format: &'static str, locator: Locator) -> Sighting {
        Sighting { source: self.file.id, locator, format }
    }

    pub(crate) fn coverage(
        &self,
        cloud: Cloud,
        cloud_type: Option<Arc<str>>,
        region: Option<String>,
        account: Option<String>,
        scope: Scope,
        format: &'static str,
    ) -> Coverage {
        Coverage { source: self.file.id, cloud, cloud_type, region, account, scope, format }
    }
}

/// The whole-document inventory formats driftlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    AwsTagging,
    AwsConfigDiscovered,
    AwsConfigBatch,
    AwsConfigHistory,
    AwsConfigSnapshot,
    AwsConfigSelect,
    AwsResourceExplorer,
    AwsEc2(aws::Ec2Kind),
    AwsIamRoles,
    AwsIamUsers,
    AwsIamPolicies,
    AwsS3Buckets,
    AwsKmsKeys,
    AwsKmsAliases,
    AwsLogGroups,
    AwsSsmParameters,
}

/// Recognises an inventory document from its top-level keys.
pub(crate) fn detect(top: &TopLevel<'_>) -> Option<DocFormat> {
    use DocFormat::*;
    let has = |k: &str| top.has(k);
    Some(if has("ResourceTagMappingList") {
        AwsTagging
    } else if has("resourceIdentifiers") {
        AwsConfigDiscovered
    } else if has("baseConfigurationItems") {
        AwsConfigBatch
    } else if has("configurationItems") && (has("fileVersion") || has("configSnapshotId")) {
        AwsConfigSnapshot
    } else if has("configurationItems") {
        AwsConfigHistory
    } else if has("Results") && has("QueryInfo") {
        AwsConfigSelect
    } else if has("Resources") && (has("ViewArn") || has("Count")) {
        AwsResourceExplorer
    } else if let Some(k) = aws::Ec2Kind::detect(top) {
        AwsEc2(k)
    } else if has("Roles") {
        AwsIamRoles
    } else if has("Users") {
        AwsIamUsers
    } else if has("Policies") {
        AwsIamPolicies
    } else if has("Buckets") {
        AwsS3Buckets
    } else if has("Keys") {
        AwsKmsKeys
    } else if has("Aliases") {
        AwsKmsAliases
    } else if has("logGroups") {
        AwsLogGroups
    } else if has("Parameters") {
        AwsSsmParameters
    } else {
        return None;
    })
}

pub(crate) fn parse(
    fmt: DocFormat,
    file: &FileCtx<'_>,
    top: &TopLevel<'_>,
    catalog: &Catalog,
) -> Result<Part, InputError> {
    let ctx = Ctx { file, catalog, hints: Hints::from_name(file.name) };
    aws::parse(fmt, &ctx, top)
}

/// Tags from the AWS `[{"Key": k, "Value": v}]` shape (also lower-case `key`/`value`), or an
/// object; `aws:`-prefixed system tags are dropped (Terraform never manages them).
pub(crate) fn aws_tags(v: Option<&Value>) -> Option<std::collections::BTreeMap<String, String>> {
    let v = v?;
    let mut out = std::collections::BTreeMap::new();
    match v {
        Value::Array(items) => {
            for t in items {
                let k = t.get("Key").or_else(|| t.get("key")).and_then(Value::as_str);
                let val = t
                    .get("Value")
                    .or_else(|| t.get("value"))
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned));
                if let (Some(k), Some(val)) = (k, val) {
                    out.insert(k.to_owned(), val);
                }
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                out.insert(k.clone(), x.as_str().map_or_else(|| x.to_string(), str::to_owned));
            }
        }
        Value::Null => {}
        _ => return None,
    }
    out.retain(|k, _| !k.starts_with("aws:"));
    Some(out)
}

/// Builds an AWS resource from an ARN: its type from the catalog (or `aws:SERVICE:TYPE` when
/// the catalog does not know it), region, account, and every key the ARN template yields.
pub(crate) fn from_arn(ctx: &Ctx<'_, '_>, arn_text: &str) -> Option<CloudResource> {
    let arn = Arn::parse(arn_text)?;
    let cloud_type: Arc<str> = match ctx.catalog.cloud_type_of_arn(&arn) {
        Some(t) => t.clone(),
        None => {
            let kind = arn.resource.split(['/', ':']).next().filter(|k| *k != arn.resource).unwrap_or("resource");
            Arc::from(format!("aws:{}:{}", arn.service, kind))
        }
    };
    let mut r =
        CloudResource::new(Cloud::Aws, cloud_type.clone(), arn_text.strip_suffix(":*").unwrap_or(arn_text).to_owned())
            .key(KeyKind::Arn, arn_text);
    r.region = arn.region().map(str::to_owned);
    r.account = arn.account().map(str::to_owned);
    for e in ctx.catalog.for_cloud_type(&cloud_type) {
        if let Some(t) = &e.arn {
            for (kind, value) in crate::catalog::keys_from_arn(e, t, arn_text) {
                r = r.key(kind, &value);
            }
        }
    }
    Some(r)
}

/// The path of a record in a top-level array: `[KEY, i]`.
pub(crate) fn at(key: &'static str, i: usize) -> Locator {
    Locator::new(vec![Seg::Key(key), Seg::Index(i as u32)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_from_paths() {
        let h = Hints::from_name("x/AWSLogs/123456789012/Config/eu-west-1/2026/11/24/ConfigSnapshot/a.json.gz");
        assert_eq!((h.region.as_deref(), h.account.as_deref()), (Some("eu-west-1"), Some("123456789012")));
        let h = Hints::from_name("inv/ec2-describe-vpcs.us-west-2.json");
        assert_eq!(h.region.as_deref(), Some("us-west-2"));
        assert_eq!(Hints::from_name("inv/ec2-describe-vpcs.json").region, None);
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("describe-vpcs"));
    }
}
