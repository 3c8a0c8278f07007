//! Which resources a CloudTrail write touches (`aws_events.toml`): the paths in a record that
//! hold ids and ARNs, turned into canonical ids through the identity catalog's ARN templates.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::model::Action;

const TABLE: &str = include_str!("aws_events.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    prefixes: BTreeMap<String, String>,
    event: Vec<RawEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    source: String,
    names: Vec<String>,
    #[serde(rename = "type")]
    type_: String,
    action: String,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    arns: Vec<String>,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    /// `key[]`: every element of the array under `key`.
    Each(String),
}

/// What to do with a value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    None,
    LastSegment,
    SsmParameter,
}

#[derive(Debug, Clone)]
struct Path {
    steps: Vec<Step>,
    transform: Transform,
}

/// One rule of the table.
#[derive(Debug, Clone)]
pub struct EventRule {
    /// `None`: by EC2 id prefix (or the ARN's own type).
    pub cloud_type: Option<String>,
    pub action: Action,
    ids: Vec<Path>,
    arns: Vec<Path>,
}

/// The table, indexed by (event source, event name).
#[derive(Debug, Default)]
pub struct EventTable {
    rules: FxHashMap<(String, String), Vec<EventRule>>,
    prefixes: Vec<(String, String)>,
}

fn parse_path(p: &str) -> Result<Path, String> {
    let (body, transform) = match p.split_once('|') {
        Some((b, "last-segment")) => (b, Transform::LastSegment),
        Some((b, "ssm-parameter")) => (b, Transform::SsmParameter),
        Some((_, t)) => return Err(format!("unknown transform {t:?} in {p:?}")),
        None => (p, Transform::None),
    };
    let steps = body
        .split('.')
        .map(|s| match s.strip_suffix("[]") {
            Some(k) => Step::Each(k.to_owned()),
            None => Step::Key(s.to_owned()),
        })
        .collect::<Vec<_>>();
    if steps.iter().any(|s| matches!(s, Step::Key(k) | Step::Each(k) if k.is_empty())) {
        return Err(format!("empty step in {p:?}"));
    }
    match steps.first() {
        Some(Step::Key(k)) if k == "requestParameters" || k == "responseElements" => {}
        _ => return Err(format!("{p:?} must start with requestParameters or responseElements")),
    }
    Ok(Path { steps, transform })
}

/// Lambda and a few other services version their event names (`CreateFunction20150331`,
/// `UpdateFunctionConfiguration20150331v2`): the table names the operation.
pub fn operation_name(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = trimmed.strip_suffix('v').unwrap_or(trimmed);
    let base = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    if name.len() - base.len() >= 8 && base.len() < name.len() { base } else { name }
}

impl EventTable {
    pub fn builtin() -> &'static EventTable {
        static T: OnceLock<EventTable> = OnceLock::new();
        T.get_or_init(|| EventTable::parse(TABLE).unwrap_or_default())
    }

    pub fn parse(text: &str) -> Result<EventTable, String> {
        let raw: RawTable = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut t = EventTable::default();
        for (prefix, ty) in raw.prefixes {
            t.prefixes.push((prefix, ty));
        }
        // Longest prefix first: `tgw-attach-` before `tgw-`.
        t.prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        for e in raw.event {
            let action = match e.action.as_str() {
                "create" => Action::Create,
                "change" => Action::Change,
                "delete" => Action::Delete,
                other => return Err(format!("{}: unknown action {other:?}", e.source)),
            };
            if e.ids.is_empty() && e.arns.is_empty() {
                return Err(format!("{} {:?}: no ids or arns", e.source, e.names));
            }
            let rule = EventRule {
                cloud_type: (e.type_ != "*").then(|| e.type_.clone()),
                action,
                ids: e.ids.iter().map(|p| parse_path(p)).collect::<Result<_, _>>()?,
                arns: e.arns.iter().map(|p| parse_path(p)).collect::<Result<_, _>>()?,
            };
            for n in &e.names {
                t.rules.entry((e.source.clone(), n.clone())).or_default().push(rule.clone());
            }
        }
        Ok(t)
    }

    /// The rules for an event.
    pub fn rules(&self, source: &str, name: &str) -> &[EventRule] {
        self.rules.get(&(source.to_owned(), operation_name(name).to_owned())).map_or(&[], Vec::as_slice)
    }

    /// The cloud type of an EC2 id by its prefix.
    pub fn type_of_id(&self, id: &str) -> Option<&str> {
        self.prefixes.iter().find(|(p, _)| id.starts_with(p.as_str())).map(|(_, t)| t.as_str())
    }

    /// Every cloud type the table names.
    pub fn types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .rules
            .values()
            .flatten()
            .filter_map(|r| r.cloud_type.as_deref())
            .chain(self.prefixes.iter().map(|(_, t)| t.as_str()))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Where an event happened, for filling ARN templates.
pub struct Place<'a> {
    pub partition: &'a str,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
}

fn collect<'v>(v: &'v Value, steps: &[Step], out: &mut Vec<&'v str>) {
    let Some((first, rest)) = steps.split_first() else {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| collect(x, &[], out)),
            _ => {}
        }
        return;
    };
    match first {
        Step::Key(k) => {
            if let Some(x) = v.get(k) {
                collect(x, rest, out);
            }
        }
        Step::Each(k) => match v.get(k) {
            Some(Value::Array(a)) => a.iter().for_each(|x| collect(x, rest, out)),
            Some(x) => collect(x, rest, out),
            None => {}
        },
    }
}

fn transform(s: &str, t: Transform) -> String {
    match t {
        Transform::None => s.to_owned(),
        Transform::LastSegment => s.trim_end_matches('/').rsplit('/').next().unwrap_or(s).to_owned(),
        Transform::SsmParameter => {
            if s.starts_with("arn:") || s.starts_with('/') {
                s.to_owned()
            } else {
                format!("/{s}")
            }
        }
    }
}

/// The ARN of an id of `cloud_type`, through the catalog's template: the id fills the
/// template's last placeholder.
pub fn arn_of(catalog: &Catalog, cloud_type: &str, id: &str, place: &Place<'_>) -> Option<String> {
    if id.starts_with("arn:") {
        return Some(id.to_owned());
    }
    let entry = catalog.for_cloud_type(cloud_type).iter().find(|e| e.arn.is_some())?;
    let template = entry.arn.as_deref()?;
    let open = template.rfind('{')?;
    let close = template[open..].find('}')? + open;
    let attr = &template[open + 1..close];
    let mut attrs = Map::new();
    attrs.insert(attr.to_owned(), Value::String(id.to_owned()));
    crate::catalog::fill(template, &attrs, &|n| match n {
        "partition" => Some(place.partition.to_owned()),
        "region" => place.region.map(str::to_owned),
        "account" => place.account.map(str::to_owned),
        _ => None,
    })
}

/// The canonical ids (ARNs) a write names, with what it did, by the table.
pub fn touched(
    table: &EventTable,
    catalog: &Catalog,
    rules: &[EventRule],
    record: &Value,
    place: &Place<'_>,
) -> Vec<(String, Action)> {
    let mut out = Vec::new();
    for rule in rules {
        for p in &rule.arns {
            let mut found = Vec::new();
            collect(record, &p.steps, &mut found);
            for s in found {
                let s = transform(s, p.transform);
                if s.starts_with("arn:") {
                    out.push((s, rule.action));
                }
            }
        }
        for p in &rule.ids {
            let mut found = Vec::new();
            collect(record, &p.steps, &mut found);
            for s in found {
                let s = transform(s, p.transform);
                let ty = match &rule.cloud_type {
                    Some(t) => Some(t.as_str()),
                    None => table.type_of_id(&s),
                };
                if let Some(arn) = ty.and_then(|t| arn_of(catalog, t, &s, place)) {
                    out.push((arn, rule.action));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_valid_and_names_catalogued_types() {
        let t = EventTable::parse(TABLE).unwrap();
        let c = Catalog::builtin();
        for ty in t.types() {
            assert!(!c.for_cloud_type(ty).is_empty(), "{ty} is not in the identity catalog");
        }
        // Every AWS type of the identity catalog is tied to its writes.
        let covered = t.types();
        for e in c.entries().iter().filter(|e| e.cloud == crate::model::Cloud::Aws) {
            let ty = e.cloud_type.as_ref();
            assert!(
                covered.contains(&ty) || ty == "AWS::Route53::RecordSet",
                "{ty} ({}) has no rule in aws_events.toml",
                e.terraform
            );
        }
    }

    #[test]
    fn versioned_lambda_names() {
        assert_eq!(operation_name("CreateFunction20150331"), "CreateFunction");
        assert_eq!(operation_name("UpdateFunctionConfiguration20150331v2"), "UpdateFunctionConfiguration");
        assert_eq!(operation_name("CreateVpc"), "CreateVpc");
        assert_eq!(operation_name("AssumeRoleWithSAML"), "AssumeRoleWithSAML");
    }

    fn run(source: &str, name: &str, record: &str) -> Vec<(String, Action)> {
        let t = EventTable::builtin();
        let place = Place { partition: "aws", region: Some("us-east-1"), account: Some("123456789012") };
        let v: Value = serde_json::from_str(record).unwrap();
        touched(t, Catalog::builtin(), t.rules(source, name), &v, &place)
    }

    #[test]
    fn writes_name_their_resources() {
        assert_eq!(
            run(
                "ec2.amazonaws.com",
                "CreateSecurityGroup",
                r#"{"requestParameters":{"groupName":"debug"},"responseElements":{"_return":true,"groupId":"sg-1"}}"#
            ),
            vec![("arn:aws:ec2:us-east-1:123456789012:security-group/sg-1".to_owned(), Action::Create)]
        );
        assert_eq!(
            run(
                "ec2.amazonaws.com",
                "CreateTags",
                r#"{"requestParameters":{"resourcesSet":{"items":[{"resourceId":"vpc-1"},{"resourceId":"i-2"}]},"tagSet":{}},"responseElements":{"_return":true}}"#
            ),
            vec![
                ("arn:aws:ec2:us-east-1:123456789012:instance/i-2".to_owned(), Action::Change),
                ("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1".to_owned(), Action::Change)
            ]
        );
        assert_eq!(
            run(
                "ec2.amazonaws.com",
                "RunInstances",
                r#"{"requestParameters":{},"responseElements":{"instancesSet":{"items":[{"instanceId":"i-9"}]}}}"#
            ),
            vec![("arn:aws:ec2:us-east-1:123456789012:instance/i-9".to_owned(), Action::Create)]
        );
        assert_eq!(
            run(
                "s3.amazonaws.com",
                "CreateBucket",
                r#"{"requestParameters":{"bucketName":"hand-made-bucket","Host":"x"},"responseElements":null}"#
            ),
            vec![("arn:aws:s3:::hand-made-bucket".to_owned(), Action::Create)]
        );
        assert_eq!(
            run(
                "iam.amazonaws.com",
                "DeleteRole",
                r#"{"requestParameters":{"roleName":"hotfix-admin"},"responseElements":null}"#
            ),
            vec![("arn:aws:iam::123456789012:role/hotfix-admin".to_owned(), Action::Delete)]
        );
        assert_eq!(
            run(
                "ec2.amazonaws.com",
                "DeleteSubnet",
                r#"{"requestParameters":{"subnetId":"subnet-1"},"responseElements":{"_return":true}}"#
            ),
            vec![("arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1".to_owned(), Action::Delete)]
        );
        assert_eq!(
            run(
                "sqs.amazonaws.com",
                "CreateQueue",
                r#"{"requestParameters":{"queueName":"q"},"responseElements":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}}"#
            ),
            vec![("arn:aws:sqs:us-east-1:123456789012:q".to_owned(), Action::Create)]
        );
        assert_eq!(
            run(
                "lambda.amazonaws.com",
                "DeleteFunction20150331",
                r#"{"requestParameters":{"functionName":"worker"},"responseElements":null}"#
            ),
            vec![("arn:aws:lambda:us-east-1:123456789012:function:worker".to_owned(), Action::Delete)]
        );
        assert_eq!(
            run(
                "ssm.amazonaws.com",
                "PutParameter",
                r#"{"requestParameters":{"name":"/app/db","type":"SecureString"},"responseElements":{"version":1}}"#
            ),
            vec![("arn:aws:ssm:us-east-1:123456789012:parameter/app/db".to_owned(), Action::Change)]
        );
        assert!(run("ec2.amazonaws.com", "DescribeVpcs", r#"{"requestParameters":{}}"#).is_empty());
    }
}
