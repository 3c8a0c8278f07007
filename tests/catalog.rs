//! The identity catalog against the real AWS provider's schema, and `driftlock catalog`.
//!
//! `testdata/schema/aws-provider.json` is the trimmed output of `terraform providers schema
//! -json` for hashicorp/aws 5.100.0 (`cargo xtask schema`): every attribute an entry reads must
//! be one the provider really writes to state, or the entry silently joins nothing.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{code, driftlock, json, stdout, testdata};
use driftlock::catalog::arn::Arn;
use driftlock::catalog::{Catalog, Entry, KeySource, fill, keys_from_arn};
use driftlock::model::Key;
use serde_json::{Map, Value};

/// Placeholders every template may use without an attribute of that name.
const CONTEXT: &[&str] = &["partition", "region", "account"];

fn provider_schema() -> (String, BTreeMap<String, BTreeSet<String>>) {
    let text =
        std::fs::read_to_string(testdata("schema/aws-provider.json")).expect("testdata/schema/aws-provider.json");
    let doc: Value = serde_json::from_str(&text).expect("the schema snapshot is JSON");
    let version = doc["provider_version"].as_str().expect("provider_version").to_owned();
    let types = doc["resource_types"]
        .as_object()
        .expect("resource_types")
        .iter()
        .map(|(t, attrs)| {
            let names = attrs.as_array().expect("a list of names").iter().map(|a| a.as_str().unwrap().to_owned());
            (t.clone(), names.collect())
        })
        .collect();
    (version, types)
}

fn aws_entries() -> Vec<&'static Entry> {
    Catalog::builtin().entries().iter().map(AsRef::as_ref).filter(|e| e.provider == "aws").collect()
}

/// `{a}` placeholders of a template.
fn placeholders(template: &str) -> Vec<&str> {
    template.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(name, _)| name)).collect()
}

/// Every attribute an entry reads from state, with what reads it.
fn attributes_read(e: &Entry) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in &e.keys {
        match &k.source {
            KeySource::Attr(a) => out.push((a.clone(), "key".to_owned())),
            KeySource::Template(t) => {
                out.extend(placeholders(t).into_iter().map(|p| (p.to_owned(), format!("key template {t}"))));
            }
        }
    }
    if let Some(t) = &e.arn {
        out.extend(
            placeholders(t)
                .into_iter()
                .filter(|p| !CONTEXT.contains(p))
                .map(|p| (p.to_owned(), "arn template".to_owned())),
        );
    }
    out.extend(e.compare.iter().map(|c| (c.attr.clone(), "compare".to_owned())));
    out
}

#[test]
fn schema_snapshot_is_the_pinned_provider() {
    let (version, types) = provider_schema();
    assert_eq!(version, "5.100.0");
    assert!(types.len() > 1000, "only {} resource types: a truncated schema?", types.len());
    assert!(types["aws_vpc"].contains("cidr_block"));
    // Nested blocks are names too: the security group's `ingress` is a block in the schema.
    assert!(types["aws_instance"].contains("root_block_device"));
}

#[test]
fn every_aws_entry_reads_real_attributes() {
    let (_, types) = provider_schema();
    let mut problems = Vec::new();
    for e in aws_entries() {
        let Some(attrs) = types.get(&e.terraform) else {
            problems.push(format!("{}: no such resource type in hashicorp/aws 5.100.0", e.terraform));
            continue;
        };
        for (attr, by) in attributes_read(e) {
            if !attrs.contains(&attr) {
                problems.push(format!("{}: `{attr}` ({by}) is not an attribute of the type", e.terraform));
            }
        }
        if attrs.contains("tags") && !attrs.contains(&e.tags_attr) {
            problems.push(format!("{}: has `tags` but no `{}`", e.terraform, e.tags_attr));
        }
        if e.tagged && !attrs.contains(&e.tags_attr) {
            problems.push(format!("{}: tagged = true, but the type takes no tags (`{}`)", e.terraform, e.tags_attr));
        }
    }
    assert!(
        problems.is_empty(),
        "catalog entries that read attributes the provider does not have:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_aws_catalog_covers_the_common_services() {
    let entries = aws_entries();
    assert!(entries.len() >= 60, "only {} AWS types", entries.len());
    let have: BTreeSet<&str> = entries.iter().map(|e| e.terraform.as_str()).collect();
    for t in [
        "aws_vpc",
        "aws_subnet",
        "aws_security_group",
        "aws_nat_gateway",
        "aws_instance",
        "aws_ec2_transit_gateway",
        "aws_iam_role",
        "aws_iam_openid_connect_provider",
        "aws_s3_bucket",
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_eks_cluster",
        "aws_eks_node_group",
        "aws_ecs_service",
        "aws_lambda_function",
        "aws_kms_key",
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_event_rule",
        "aws_route53_zone",
        "aws_route53_record",
        "aws_lb",
        "aws_lb_target_group",
        "aws_lb_listener",
        "aws_sns_topic",
        "aws_sqs_queue",
        "aws_dynamodb_table",
        "aws_secretsmanager_secret",
        "aws_ecr_repository",
        "aws_cloudfront_distribution",
        "aws_acm_certificate",
    ] {
        assert!(have.contains(t), "{t} is not in the catalog");
    }
}

/// The traps an AWS catalog falls into, pinned.
#[test]
fn aws_identity_traps() {
    let c = Catalog::builtin();
    let e = |t: &str| c.get(t).unwrap_or_else(|| panic!("{t}"));
    // Tags come from tags_all (provider default_tags included), never tags.
    assert!(aws_entries().iter().all(|e| e.tags_attr == "tags_all"));
    // Global types.
    for t in ["aws_iam_role", "aws_iam_policy", "aws_s3_bucket", "aws_cloudfront_distribution", "aws_route53_zone"] {
        assert!(!e(t).regional, "{t} is global");
    }
    // GetResources does not list IAM users and roles, nor Auto Scaling groups.
    for t in ["aws_iam_role", "aws_iam_user", "aws_autoscaling_group", "aws_kms_alias", "aws_route53_record"] {
        assert!(!e(t).tagged, "{t} is not listed by the tagging API");
    }
    // AWS Config names IAM resources by unique id.
    let unique = |t: &str| e(t).keys.iter().find(|k| k.kind == driftlock::model::KeyKind::UniqueId).cloned();
    assert_eq!(unique("aws_iam_policy").map(|k| k.source), Some(KeySource::Attr("policy_id".into())));
    assert_eq!(unique("aws_iam_role").map(|k| k.source), Some(KeySource::Attr("unique_id".into())));
    // Route 53 records have no ARN; zones are hostedzone/ID.
    assert!(e("aws_route53_record").arn.is_none());
    assert_eq!(e("aws_route53_zone").arn.as_deref(), Some("arn:{partition}:route53:::hostedzone/{zone_id}"));
    // S3 and IAM ARNs carry no region; IAM's carry the account.
    assert_eq!(e("aws_s3_bucket").arn.as_deref(), Some("arn:{partition}:s3:::{id}"));
    assert!(e("aws_iam_user").arn.as_deref().is_some_and(|t| t.starts_with("arn:{partition}:iam::{account}:")));
}

/// Synthetic attributes for every placeholder of an entry's templates.
fn sample_attributes(e: &Entry) -> Map<String, Value> {
    let mut attrs = Map::new();
    for (attr, _) in attributes_read(e) {
        attrs.insert(attr.clone(), Value::String(format!("x-{attr}")));
    }
    attrs.insert("path".into(), Value::String("/".into()));
    attrs
}

/// An ARN filled from an entry's template is recognised as that entry's type, and the keys the
/// template reads back from it are keys the state instance has: a tagging-API ARN joins.
#[test]
fn arn_templates_round_trip() {
    let c = Catalog::builtin();
    let context = |name: &str| match name {
        "partition" => Some("aws".to_owned()),
        "region" => Some("us-east-1".to_owned()),
        "account" => Some("123456789012".to_owned()),
        _ => None,
    };
    let mut problems = Vec::new();
    for e in aws_entries() {
        let Some(template) = &e.arn else { continue };
        let attrs = sample_attributes(e);
        let Some(arn) = fill(template, &attrs, &context) else {
            problems.push(format!("{}: {template} cannot be filled", e.terraform));
            continue;
        };
        let Some(parsed) = Arn::parse(&arn) else {
            problems.push(format!("{}: {arn} is not an ARN", e.terraform));
            continue;
        };
        match c.cloud_type_of_arn(&parsed) {
            Some(t) if *t == e.cloud_type => {}
            other => problems.push(format!("{}: {arn} reads as {other:?}, not {}", e.terraform, e.cloud_type)),
        }
        let state_keys = e.state_keys(&attrs);
        for (kind, value) in keys_from_arn(e, template, &arn) {
            if !state_keys.contains(&Key::new(kind, &value)) {
                problems
                    .push(format!("{}: {arn} yields {kind:?} {value:?}, which the state does not have", e.terraform));
            }
        }
    }
    assert!(problems.is_empty(), "ARN templates that do not round-trip:\n  {}", problems.join("\n  "));
}

#[test]
fn catalog_lists_aws_as_a_table() {
    let out = driftlock(&["catalog", "--provider", "aws"]);
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!("catalog_aws", stdout(&out));
}

#[test]
fn catalog_json_is_an_array_in_a_stable_order() {
    let out = driftlock(&["catalog", "--provider", "aws", "--json"]);
    assert_eq!(code(&out), 0);
    let all = json(&out);
    let items = all.as_array().expect("an array");
    assert_eq!(items.len(), aws_entries().len());
    let names: Vec<&str> = items.iter().map(|i| i["terraform_type"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let sg = items.iter().find(|i| i["terraform_type"] == "aws_security_group").unwrap();
    assert_eq!(sg["cloud_type"], "AWS::EC2::SecurityGroup");
    assert_eq!(sg["cloud"], "aws");
    assert_eq!(sg["keys"][0], serde_json::json!({"kind": "arn", "from": "arn", "template": false}));
    assert_eq!(sg["compare"][0], serde_json::json!({"attribute": "ingress", "normalizer": "sg_rules"}));
    assert_eq!(sg["tags_attribute"], "tags_all");
    assert_eq!((sg["regional"].as_bool(), sg["tagged"].as_bool()), (Some(true), Some(true)));
    // Same bytes twice: nothing depends on hash order.
    assert_eq!(stdout(&out), stdout(&driftlock(&["catalog", "--provider", "aws", "--json"])));
}

#[test]
fn catalog_lists_every_provider_by_default() {
    let out = driftlock(&["catalog"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for provider in ["aws", "google", "azurerm"] {
        assert!(text.contains(&format!("\n{provider}: ")) || text.starts_with(&format!("{provider}: ")), "{provider}");
    }
    let google = stdout(&driftlock(&["catalog", "--provider", "google"]));
    assert!(google.starts_with("google: ") && !google.contains("aws_vpc"));
    let bad = driftlock(&["catalog", "--provider", "oracle"]);
    assert_eq!(code(&bad), 2);
}
