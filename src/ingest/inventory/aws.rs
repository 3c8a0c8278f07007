//! AWS exports: the Resource Groups Tagging API, AWS Config (API and delivered-file forms,
//! select, list-discovered), Resource Explorer, and the plain `aws` CLI listings a
//! clean-account check needs (EC2 describe-*, IAM list-*, S3 list-buckets, KMS, Logs, SSM).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Ctx, DocFormat, Part, at, aws_tags, from_arn};
use crate::catalog::normalize::{NormalizeCtx, json_doc, sg_rules};
use crate::error::InputError;
use crate::ingest::json::TopLevel;
use crate::model::{Cloud, CloudResource, KeyKind, Locator, Scope, Seg};

/// The EC2 listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2Kind {
    Vpcs,
    Subnets,
    SecurityGroups,
    InternetGateways,
    RouteTables,
    NetworkAcls,
    DhcpOptions,
    Instances,
}

impl Ec2Kind {
    const ALL: &'static [(Ec2Kind, &'static str, &'static str, &'static str)] = &[
        (Ec2Kind::Vpcs, "Vpcs", "AWS::EC2::VPC", "ec2-describe-vpcs"),
        (Ec2Kind::Subnets, "Subnets", "AWS::EC2::Subnet", "ec2-describe-subnets"),
        (Ec2Kind::SecurityGroups, "SecurityGroups", "AWS::EC2::SecurityGroup", "ec2-describe-security-groups"),
        (Ec2Kind::InternetGateways, "InternetGateways", "AWS::EC2::InternetGateway", "ec2-describe-internet-gateways"),
        (Ec2Kind::RouteTables, "RouteTables", "AWS::EC2::RouteTable", "ec2-describe-route-tables"),
        (Ec2Kind::NetworkAcls, "NetworkAcls", "AWS::EC2::NetworkAcl", "ec2-describe-network-acls"),
        (Ec2Kind::DhcpOptions, "DhcpOptions", "AWS::EC2::DHCPOptions", "ec2-describe-dhcp-options"),
        (Ec2Kind::Instances, "Reservations", "AWS::EC2::Instance", "ec2-describe-instances"),
    ];

    pub(crate) fn detect(top: &TopLevel<'_>) -> Option<Ec2Kind> {
        Self::ALL.iter().find(|(_, key, _, _)| top.has(key)).map(|(k, ..)| *k)
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        Self::ALL.iter().find(|(k, ..)| *k == self).map(|(_, a, b, c)| (*a, *b, *c)).unwrap_or(("", "", ""))
    }
}

fn str_of<'v>(o: &'v Value, k: &str) -> Option<&'v str> {
    o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The records of a top-level array member, with their index.
fn records(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>, key: &'static str) -> Result<Vec<Value>, InputError> {
    match top.get(key) {
        Some(raw) => {
            // Keep each record's offset so findings are located without parsing the file again.
            if let Ok(Some(items)) = serde_json::from_str::<Option<Vec<&serde_json::value::RawValue>>>(raw.get()) {
                let mut offsets = ctx.offsets.borrow_mut();
                offsets.clear();
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    offsets.push(u32::try_from(ctx.file.offset(item)).unwrap_or(u32::MAX));
                    out.push(ctx.file.parse_owned::<Value>(item)?);
                }
                return Ok(out);
            }
            let v: Value = ctx.file.parse_owned(raw)?;
            match v {
                Value::Array(a) => Ok(a),
                Value::Null => Ok(Vec::new()),
                _ => {
                    Err(ctx.file.shape(raw, "expected an array", format!("{}: `{key}` is not an array", ctx.file.name)))
                }
            }
        }
        None => Ok(Vec::new()),
    }
}

/// The canonical ARN of a record that has none: the catalog's template filled with what is
/// known; unknown parts say so (`<unknown-region>`), and then no ARN key is made.
fn build(
    ctx: &Ctx<'_, '_>,
    cloud_type: &str,
    region: Option<&str>,
    account: Option<&str>,
    vars: &[(&str, &str)],
) -> CloudResource {
    let t: Arc<str> = Arc::from(cloud_type);
    let template = ctx.catalog.for_cloud_type(cloud_type).iter().find_map(|e| e.arn.clone());
    let region_s = region.map(str::to_owned).unwrap_or_else(|| "<unknown-region>".to_owned());
    let account_s = account.map(str::to_owned).unwrap_or_else(|| "<unknown-account>".to_owned());
    let mut attrs = Map::new();
    for (k, v) in vars {
        attrs.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    let arn = template.as_deref().and_then(|tpl| {
        crate::catalog::fill(tpl, &attrs, &|name| match name {
            "partition" => Some("aws".to_owned()),
            "region" => Some(region_s.clone()),
            "account" => Some(account_s.clone()),
            _ => None,
        })
    });
    let regional = ctx.catalog.for_cloud_type(cloud_type).first().is_none_or(|e| e.regional);
    let known = account.is_some() && (region.is_some() || !regional);
    let id = vars.iter().find(|(k, _)| *k == "id").map(|(_, v)| *v).unwrap_or("");
    let cloud_id = arn.clone().unwrap_or_else(|| format!("{cloud_type}/{id}"));
    let mut r = CloudResource::new(Cloud::Aws, t, cloud_id);
    if let (true, Some(a)) = (known, &arn) {
        r = r.key(KeyKind::Arn, a);
    }
    r.region = region.map(str::to_owned);
    r.account = account.map(str::to_owned);
    r
}

fn finish(mut r: CloudResource, ctx: &Ctx<'_, '_>, format: &'static str, mut loc: Locator) -> CloudResource {
    if let [Seg::Key(_), Seg::Index(i)] = loc.path[..] {
        loc.offset = ctx.offsets.borrow().get(i as usize).copied().filter(|o| *o != u32::MAX);
    }
    // Global types (IAM, S3 names) have no region, whatever region the export was made from.
    let regional = ctx.catalog.for_cloud_type(&r.cloud_type).first().is_none_or(|e| e.regional);
    if r.region.is_none() && regional {
        r.region.clone_from(&ctx.hints.region);
    }
    if r.account.is_none() {
        r.account.clone_from(&ctx.hints.account);
    }
    r.sightings.push(ctx.sighting(format, loc));
    r
}

pub(crate) fn parse(fmt: DocFormat, ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    match fmt {
        DocFormat::AwsTagging => tagging(ctx, top),
        DocFormat::AwsConfigDiscovered => config_discovered(ctx, top),
        DocFormat::AwsConfigBatch => config_items(ctx, top, "baseConfigurationItems", "aws-config-batch-get", false),
        DocFormat::AwsConfigHistory => config_items(ctx, top, "configurationItems", "aws-config-history", false),
        DocFormat::AwsConfigSnapshot => config_items(ctx, top, "configurationItems", "aws-config-snapshot", true),
        DocFormat::AwsConfigSelect => config_select(ctx, top),
        DocFormat::AwsResourceExplorer => resource_explorer(ctx, top),
        DocFormat::AwsEc2(kind) => ec2(ctx, top, kind),
        DocFormat::AwsIamRoles => iam(ctx, top, "Roles", "AWS::IAM::Role", "RoleName", "RoleId", "iam-list-roles"),
        DocFormat::AwsIamUsers => iam(ctx, top, "Users", "AWS::IAM::User", "UserName", "UserId", "iam-list-users"),
        DocFormat::AwsIamPolicies => {
            iam(ctx, top, "Policies", "AWS::IAM::Policy", "PolicyName", "PolicyId", "iam-list-policies")
        }
        DocFormat::AwsS3Buckets => s3_buckets(ctx, top),
        DocFormat::AwsKmsKeys => {
            simple_arn_list(ctx, top, "Keys", "KeyArn", "KeyId", None, "AWS::KMS::Key", "kms-list-keys")
        }
        DocFormat::AwsKmsAliases => simple_arn_list(
            ctx,
            top,
            "Aliases",
            "AliasArn",
            "AliasName",
            Some("AliasName"),
            "AWS::KMS::Alias",
            "kms-list-aliases",
        ),
        DocFormat::AwsLogGroups => simple_arn_list(
            ctx,
            top,
            "logGroups",
            "arn",
            "logGroupName",
            Some("logGroupName"),
            "AWS::Logs::LogGroup",
            "logs-describe-log-groups",
        ),
        DocFormat::AwsSsmParameters => simple_arn_list(
            ctx,
            top,
            "Parameters",
            "ARN",
            "Name",
            Some("Name"),
            "AWS::SSM::Parameter",
            "ssm-describe-parameters",
        ),
    }
}

/// `aws resourcegroupstaggingapi get-resources`: tagged resources only.
fn tagging(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut regions = std::collections::BTreeSet::new();
    for (i, rec) in records(ctx, top, "ResourceTagMappingList")?.iter().enumerate() {
        let Some(arn) = str_of(rec, "ResourceARN") else {
            return Err(missing(ctx, top, "ResourceTagMappingList", i, "ResourceARN"));
        };
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        if let Some(reg) = &r.region {
            regions.insert(reg.clone());
        }
        r.tags = aws_tags(rec.get("Tags")).or(Some(BTreeMap::new()));
        part.resources.push(finish(r, ctx, "aws-tagging", at("ResourceTagMappingList", i).focus("ResourceARN")));
    }
    // The API is regional; a file without a region hint vouches for the regions its ARNs show.
    let scope_regions: Vec<Option<String>> = match (&ctx.hints.region, regions.len()) {
        (Some(r), _) => vec![Some(r.clone())],
        (None, 0) => vec![None],
        (None, _) => regions.into_iter().map(Some).collect(),
    };
    for region in scope_regions {
        part.coverage.push(ctx.coverage(
            Cloud::Aws,
            None,
            region,
            ctx.hints.account.clone(),
            Scope::Tagged,
            "aws-tagging",
        ));
    }
    Ok(part)
}

fn missing(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>, key: &str, i: usize, field: &str) -> InputError {
    let raw = top.get(key).unwrap_or_else(|| top.entries[0].1);
    ctx.file.shape(
        raw,
        &format!("record {i} has no `{field}`"),
        format!("{}: record {i} of `{key}` has no `{field}`", ctx.file.name),
    )
}

/// Records a resource's name, and joins on it only when the catalog says the type's names are
/// unique (IAM roles, log groups): three security groups named `default` are three resources.
fn name_key(ctx: &Ctx<'_, '_>, mut r: CloudResource, cloud_type: &str, name: &str) -> CloudResource {
    let joins_by_name =
        ctx.catalog.for_cloud_type(cloud_type).iter().any(|e| e.keys.iter().any(|k| k.kind == KeyKind::Name));
    if joins_by_name {
        r = r.key(KeyKind::Name, name);
    }
    r.name = Some(name.to_owned());
    r
}

/// IAM resource ids in Config are unique ids (`AROA…`), not names (moto answers with names).
fn config_id_kind(resource_type: &str, id: &str) -> KeyKind {
    let unique = ["AROA", "AIDA", "ANPA", "AGPA", "AIPA"].iter().any(|p| id.starts_with(p));
    if resource_type.starts_with("AWS::IAM::") {
        if unique { KeyKind::UniqueId } else { KeyKind::Name }
    } else {
        KeyKind::Id
    }
}

/// `aws configservice list-discovered-resources`.
fn config_discovered(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut types = std::collections::BTreeSet::new();
    for (i, rec) in records(ctx, top, "resourceIdentifiers")?.iter().enumerate() {
        let (Some(t), Some(id)) = (str_of(rec, "resourceType"), str_of(rec, "resourceId")) else {
            return Err(missing(ctx, top, "resourceIdentifiers", i, "resourceType/resourceId"));
        };
        types.insert(t.to_owned());
        if rec.get("resourceDeletionTime").is_some_and(|v| !v.is_null()) {
            continue; // deleted: listed only with --include-deleted-resources
        }
        let name = str_of(rec, "resourceName");
        let kind = config_id_kind(t, id);
        let mut vars = vec![("id", id)];
        if let Some(n) = name {
            vars.push(("name", n));
        }
        let region =
            if t.starts_with("AWS::IAM::") || t == "AWS::S3::Bucket" { None } else { ctx.hints.region.as_deref() };
        let mut r = build(ctx, t, region, ctx.hints.account.as_deref(), &vars).key(kind, id);
        if let Some(n) = name {
            r = name_key(ctx, r, t, n);
        }
        part.resources.push(finish(
            r,
            ctx,
            "aws-config-list-discovered",
            at("resourceIdentifiers", i).focus("resourceId"),
        ));
    }
    for t in types {
        part.coverage.push(ctx.coverage(
            Cloud::Aws,
            Some(Arc::from(t.as_str())),
            ctx.hints.region.clone(),
            ctx.hints.account.clone(),
            Scope::All,
            "aws-config-list-discovered",
        ));
    }
    Ok(part)
}

/// Configuration items (`batch-get-resource-config`, `get-resource-config-history`, the
/// snapshot file delivered to S3). `configuration` is a JSON string in the API forms.
fn config_items(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'_>,
    key: &'static str,
    format: &'static str,
    coverage: bool,
) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut latest: BTreeMap<(String, String), (String, CloudResource, bool)> = BTreeMap::new();
    let mut types = std::collections::BTreeSet::new();
    for (i, rec) in records(ctx, top, key)?.iter().enumerate() {
        let (Some(t), Some(id)) = (str_of(rec, "resourceType"), str_of(rec, "resourceId")) else {
            return Err(missing(ctx, top, key, i, "resourceType/resourceId"));
        };
        types.insert(t.to_owned());
        let status = str_of(rec, "configurationItemStatus").unwrap_or("OK");
        let deleted = status.starts_with("ResourceDeleted") || status == "ResourceNotRecorded";
        let arn = str_of(rec, "arn").or_else(|| str_of(rec, "ARN"));
        let account = str_of(rec, "accountId").or_else(|| str_of(rec, "awsAccountId"));
        let region = str_of(rec, "awsRegion").filter(|r| *r != "global");
        let name = str_of(rec, "resourceName");
        let mut r = match arn.and_then(|a| from_arn(ctx, a)) {
            Some(r) => r,
            None => {
                let mut vars = vec![("id", id)];
                if let Some(n) = name {
                    vars.push(("name", n));
                }
                build(ctx, t, region, account, &vars)
            }
        };
        if r.cloud_type.as_ref() != t {
            r.cloud_type = Arc::from(t);
        }
        r = r.key(config_id_kind(t, id), id);
        if let Some(n) = name {
            r = name_key(ctx, r, t, n);
        }
        r.region = region.map(str::to_owned).or(r.region);
        r.account = account.map(str::to_owned).or(r.account);
        if let Some(tags) = rec.get("tags") {
            r.tags = aws_tags(Some(tags));
        }
        let configuration = match rec.get("configuration") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        r = config_attributes(r, t, id, &configuration);
        let time = str_of(rec, "configurationItemCaptureTime").unwrap_or("").to_owned();
        let r = finish(r, ctx, format, at(key, i).focus("resourceId"));
        let slot = (t.to_owned(), id.to_owned());
        match latest.get(&slot) {
            Some((prev, ..)) if *prev > time => {}
            _ => {
                latest.insert(slot, (time, r, deleted));
            }
        }
    }
    part.resources = latest.into_values().filter(|(_, _, deleted)| !deleted).map(|(_, r, _)| r).collect();
    if coverage {
        for t in types {
            part.coverage.push(ctx.coverage(
                Cloud::Aws,
                Some(Arc::from(t.as_str())),
                ctx.hints.region.clone(),
                ctx.hints.account.clone(),
                Scope::All,
                format,
            ));
        }
    }
    Ok(part)
}

/// Attributes Config's `configuration` object carries, in Terraform's vocabulary.
fn config_attributes(mut r: CloudResource, t: &str, id: &str, c: &Value) -> CloudResource {
    if c.is_null() {
        return r;
    }
    let g = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    match t {
        "AWS::EC2::VPC" => {
            r = r
                .attr("cidr_block", g("cidrBlock"))
                .attr("is_default", g("isDefault"))
                .attr("dhcp_options_id", g("dhcpOptionsId"))
        }
        "AWS::EC2::RouteTable" => {
            let main = c
                .get("associations")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.get("main").and_then(Value::as_bool) == Some(true)));
            let routes = c.get("routes").and_then(Value::as_array).map_or(0, Vec::len);
            r = r.attr("vpc_id", g("vpcId")).attr("main", main).attr("route_count", routes);
        }
        "AWS::EC2::NetworkAcl" => {
            let entries = c.get("entries").and_then(Value::as_array).map_or(0, Vec::len);
            r = r.attr("vpc_id", g("vpcId")).attr("is_default", g("isDefault")).attr("entry_count", entries);
        }
        "AWS::EC2::InternetGateway" => {
            let vpcs: Vec<Value> = c
                .get("attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("vpcId").cloned())
                .collect();
            r = r.attr("attached_vpcs", Value::Array(vpcs));
        }
        "AWS::EC2::Subnet" => {
            r = r
                .attr("cidr_block", g("cidrBlock"))
                .attr("vpc_id", g("vpcId"))
                .attr("default_for_az", g("defaultForAz"))
        }
        "AWS::EC2::SecurityGroup" => {
            let ctx = NormalizeCtx { self_id: Some(id) };
            r = r.attr("group_name", g("groupName")).attr("vpc_id", g("vpcId"));
            if let Some(p) = c.get("ipPermissions") {
                r = r.attr("ingress", sg_rules(p, &ctx));
            }
            if let Some(p) = c.get("ipPermissionsEgress") {
                r = r.attr("egress", sg_rules(p, &ctx));
            }
        }
        "AWS::IAM::Role" => {
            r = r.attr("path", g("path"));
            if let Some(d) = c.get("assumeRolePolicyDocument") {
                r = r.attr("assume_role_policy", json_doc(d));
            }
            if let Some(u) = c.get("roleId").and_then(Value::as_str) {
                r = r.key(KeyKind::UniqueId, u);
            }
        }
        "AWS::IAM::User" | "AWS::IAM::Policy" => r = r.attr("path", g("path")),
        _ => {}
    }
    r
}

/// `aws configservice select-resource-config`: each result is a JSON string.
fn config_select(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    let mut part = Part::default();
    for (i, rec) in records(ctx, top, "Results")?.iter().enumerate() {
        let v: Value = match rec {
            Value::String(s) => serde_json::from_str(s).map_err(|e| {
                let raw = top.get("Results").unwrap_or_else(|| top.entries[0].1);
                ctx.file.shape(
                    raw,
                    "unparsable result",
                    format!("{}: Results[{i}] is not a JSON object: {e}", ctx.file.name),
                )
            })?,
            other => other.clone(),
        };
        let (Some(t), Some(id)) = (str_of(&v, "resourceType"), str_of(&v, "resourceId")) else {
            part.notes.push(format!(
                "{}: Results[{i}] lacks resourceType/resourceId (select them in the query)",
                ctx.file.name
            ));
            continue;
        };
        let region = str_of(&v, "awsRegion").filter(|r| *r != "global");
        let account = str_of(&v, "accountId");
        let mut r = match str_of(&v, "arn").and_then(|a| from_arn(ctx, a)) {
            Some(r) => r,
            None => build(ctx, t, region, account, &[("id", id)]),
        };
        r.cloud_type = Arc::from(t);
        r = r.key(config_id_kind(t, id), id);
        if let Some(n) = str_of(&v, "resourceName") {
            r = name_key(ctx, r, t, n);
        }
        if let Some(tags) = v.get("tags") {
            r.tags = aws_tags(Some(tags));
        }
        if let Some(c) = v.get("configuration") {
            r = config_attributes(r, t, id, c);
        }
        part.resources.push(finish(r, ctx, "aws-config-select", at("Results", i)));
    }
    Ok(part)
}

/// `aws resource-explorer-2 search`.
fn resource_explorer(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut types = std::collections::BTreeSet::new();
    for (i, rec) in records(ctx, top, "Resources")?.iter().enumerate() {
        let Some(arn) = str_of(rec, "Arn") else { return Err(missing(ctx, top, "Resources", i, "Arn")) };
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        types.insert(r.cloud_type.clone());
        if let Some(props) = rec.get("Properties").and_then(Value::as_array) {
            for p in props {
                if str_of(p, "Name") == Some("tags") {
                    r.tags = aws_tags(p.get("Data"));
                }
            }
        }
        r.region = str_of(rec, "Region").filter(|r| *r != "global").map(str::to_owned).or(r.region);
        r.account = str_of(rec, "OwningAccountId").map(str::to_owned).or(r.account);
        part.resources.push(finish(r, ctx, "aws-resource-explorer", at("Resources", i).focus("Arn")));
    }
    let complete = top
        .get("Count")
        .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .and_then(|c| c.get("Complete").and_then(Value::as_bool));
    if complete == Some(false) {
        part.notes.push(format!("{}: the Resource Explorer result is truncated (Count.Complete is false): it vouches for nothing missing; narrow the query", ctx.file.name));
    } else {
        for t in types {
            part.coverage.push(ctx.coverage(
                Cloud::Aws,
                Some(t),
                ctx.hints.region.clone(),
                ctx.hints.account.clone(),
                Scope::All,
                "aws-resource-explorer",
            ));
        }
    }
    Ok(part)
}

/// The region of an availability zone (`us-east-1a` → `us-east-1`; `use1-az1` ids give none).
fn az_region(az: &str) -> Option<String> {
    let r = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
    super::is_region(r).then(|| r.to_owned())
}

fn ec2(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>, kind: Ec2Kind) -> Result<Part, InputError> {
    let (key, cloud_type, format) = kind.info();
    let mut part = Part::default();
    let mut regions = std::collections::BTreeSet::new();
    let mut push = |r: CloudResource, loc: Locator, part: &mut Part| {
        let r = finish(r, ctx, format, loc);
        if let Some(reg) = &r.region {
            regions.insert(reg.clone());
        }
        part.resources.push(r);
    };
    let recs = records(ctx, top, key)?;
    for (i, rec) in recs.iter().enumerate() {
        if kind == Ec2Kind::Instances {
            let owner = str_of(rec, "OwnerId");
            for (j, inst) in rec.get("Instances").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let Some(id) = str_of(inst, "InstanceId") else { continue };
                let state = inst.pointer("/State/Name").and_then(Value::as_str).unwrap_or("");
                if state == "terminated" {
                    continue;
                }
                let region = inst
                    .pointer("/Placement/AvailabilityZone")
                    .and_then(Value::as_str)
                    .and_then(az_region)
                    .or_else(|| ctx.hints.region.clone());
                let mut r =
                    build(ctx, cloud_type, region.as_deref(), owner.or(ctx.hints.account.as_deref()), &[("id", id)])
                        .key(KeyKind::Id, id);
                r.tags = aws_tags(inst.get("Tags")).or(Some(BTreeMap::new()));
                r = r
                    .attr("instance_type", inst.get("InstanceType").cloned().unwrap_or(Value::Null))
                    .attr("state", state);
                let loc = Locator::new(vec![
                    Seg::Key("Reservations"),
                    Seg::Index(i as u32),
                    Seg::Key("Instances"),
                    Seg::Index(j as u32),
                ]);
                push(r, loc, &mut part);
            }
            continue;
        }
        let id_field = match kind {
            Ec2Kind::Vpcs => "VpcId",
            Ec2Kind::Subnets => "SubnetId",
            Ec2Kind::SecurityGroups => "GroupId",
            Ec2Kind::InternetGateways => "InternetGatewayId",
            Ec2Kind::RouteTables => "RouteTableId",
            Ec2Kind::NetworkAcls => "NetworkAclId",
            Ec2Kind::DhcpOptions => "DhcpOptionsId",
            Ec2Kind::Instances => "InstanceId",
        };
        let Some(id) = str_of(rec, id_field) else { return Err(missing(ctx, top, key, i, id_field)) };
        let owner = str_of(rec, "OwnerId").or(ctx.hints.account.as_deref());
        let own_arn = ["SubnetArn", "SecurityGroupArn", "VpcArn"].iter().find_map(|k| str_of(rec, k));
        let region = own_arn
            .and_then(|a| crate::catalog::arn::Arn::parse(a).and_then(|a| a.region().map(str::to_owned)))
            .or_else(|| rec.get("AvailabilityZone").and_then(Value::as_str).and_then(az_region))
            .or_else(|| ctx.hints.region.clone());
        let mut r = build(ctx, cloud_type, region.as_deref(), owner, &[("id", id)]).key(KeyKind::Id, id);
        if let Some(a) = own_arn {
            r = r.key(KeyKind::Arn, a);
            r.cloud_id = a.to_owned();
        }
        r.tags = aws_tags(rec.get("Tags")).or(Some(BTreeMap::new()));
        let g = |k: &str| rec.get(k).cloned().unwrap_or(Value::Null);
        r = match kind {
            Ec2Kind::Vpcs => r
                .attr("cidr_block", g("CidrBlock"))
                .attr("is_default", g("IsDefault"))
                .attr("dhcp_options_id", g("DhcpOptionsId")),
            Ec2Kind::Subnets => r
                .attr("cidr_block", g("CidrBlock"))
                .attr("vpc_id", g("VpcId"))
                .attr("default_for_az", g("DefaultForAz")),
            Ec2Kind::SecurityGroups => {
                let nctx = NormalizeCtx { self_id: Some(id) };
                r.attr("group_name", g("GroupName"))
                    .attr("vpc_id", g("VpcId"))
                    .attr("ingress", sg_rules(&g("IpPermissions"), &nctx))
                    .attr("egress", sg_rules(&g("IpPermissionsEgress"), &nctx))
            }
            Ec2Kind::InternetGateways => {
                let vpcs: Vec<Value> = rec
                    .get("Attachments")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.get("VpcId").cloned())
                    .collect();
                r.attr("attached_vpcs", Value::Array(vpcs))
            }
            Ec2Kind::RouteTables => {
                let main = rec
                    .get("Associations")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x.get("Main").and_then(Value::as_bool) == Some(true)));
                let routes = rec.get("Routes").and_then(Value::as_array).map_or(0, Vec::len);
                r.attr("vpc_id", g("VpcId")).attr("main", main).attr("route_count", routes)
            }
            Ec2Kind::NetworkAcls => r
                .attr("vpc_id", g("VpcId"))
                .attr("is_default", g("IsDefault"))
                .attr("entry_count", rec.get("Entries").and_then(Value::as_array).map_or(0, Vec::len)),
            Ec2Kind::DhcpOptions | Ec2Kind::Instances => r,
        };
        push(r, at(key, i).focus(id_field), &mut part);
    }
    let region =
        ctx.hints.region.clone().or_else(|| (regions.len() == 1).then(|| regions.iter().next().cloned()).flatten());
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(Arc::from(cloud_type)),
        region,
        ctx.hints.account.clone(),
        Scope::All,
        format,
    ));
    Ok(part)
}

#[allow(clippy::too_many_arguments)]
fn iam(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'_>,
    key: &'static str,
    cloud_type: &str,
    name_f: &str,
    id_f: &str,
    format: &'static str,
) -> Result<Part, InputError> {
    let mut part = Part::default();
    for (i, rec) in records(ctx, top, key)?.iter().enumerate() {
        let Some(arn) = str_of(rec, "Arn") else { return Err(missing(ctx, top, key, i, "Arn")) };
        // AWS-managed policies (`arn:aws:iam::aws:policy/…`) belong to AWS, not the account.
        if arn.contains(":iam::aws:") {
            continue;
        }
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        r.cloud_type = Arc::from(cloud_type);
        if let Some(n) = str_of(rec, name_f) {
            r = r.key(KeyKind::Name, n);
            r.name = Some(n.to_owned());
        }
        if let Some(u) = str_of(rec, id_f) {
            r = r.key(KeyKind::UniqueId, u);
        }
        r = r.attr("path", rec.get("Path").cloned().unwrap_or(Value::Null));
        if let Some(d) = rec.get("AssumeRolePolicyDocument") {
            r = r.attr("assume_role_policy", json_doc(d));
        }
        if let Some(tags) = rec.get("Tags") {
            r.tags = aws_tags(Some(tags));
        }
        part.resources.push(finish(r, ctx, format, at(key, i).focus("Arn")));
    }
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(Arc::from(cloud_type)),
        None,
        ctx.hints.account.clone(),
        Scope::All,
        format,
    ));
    Ok(part)
}

fn s3_buckets(ctx: &Ctx<'_, '_>, top: &TopLevel<'_>) -> Result<Part, InputError> {
    let mut part = Part::default();
    for (i, rec) in records(ctx, top, "Buckets")?.iter().enumerate() {
        let Some(name) = str_of(rec, "Name") else { return Err(missing(ctx, top, "Buckets", i, "Name")) };
        let arn = format!("arn:aws:s3:::{name}");
        let Some(mut r) = from_arn(ctx, &arn) else { continue };
        r = r.key(KeyKind::Id, name);
        r.name = Some(name.to_owned());
        r.region = str_of(rec, "BucketRegion").map(str::to_owned);
        part.resources.push(finish(r, ctx, "s3api-list-buckets", at("Buckets", i).focus("Name")));
    }
    // list-buckets lists every bucket of the account, whatever the region.
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(Arc::from("AWS::S3::Bucket")),
        None,
        ctx.hints.account.clone(),
        Scope::All,
        "s3api-list-buckets",
    ));
    Ok(part)
}

/// The member a listing's record is labelled by.
fn id_f_static(id_f: &str) -> &'static str {
    match id_f {
        "KeyId" => "KeyId",
        "AliasName" => "AliasName",
        "logGroupName" => "logGroupName",
        _ => "Name",
    }
}

/// Listings whose records carry an ARN and an id or name: KMS keys and aliases, log groups,
/// SSM parameters.
#[allow(clippy::too_many_arguments)]
fn simple_arn_list(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'_>,
    key: &'static str,
    arn_f: &str,
    id_f: &str,
    name_f: Option<&str>,
    cloud_type: &str,
    format: &'static str,
) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut regions = std::collections::BTreeSet::new();
    for (i, rec) in records(ctx, top, key)?.iter().enumerate() {
        let id = str_of(rec, id_f);
        let mut r = match str_of(rec, arn_f).and_then(|a| from_arn(ctx, a)) {
            Some(r) => r,
            None => {
                let Some(id) = id else { return Err(missing(ctx, top, key, i, id_f)) };
                let vars = [("id", id), ("key_id", id), ("name", id)];
                build(ctx, cloud_type, ctx.hints.region.as_deref(), ctx.hints.account.as_deref(), &vars)
            }
        };
        r.cloud_type = Arc::from(cloud_type);
        if let Some(id) = id {
            r = r.key(if name_f == Some(id_f) { KeyKind::Name } else { KeyKind::Id }, id);
        }
        if let Some(n) = name_f.and_then(|f| str_of(rec, f)) {
            r = r.key(KeyKind::Name, n);
            r.name = Some(n.to_owned());
        }
        if let Some(t) = str_of(rec, "TargetKeyId") {
            r = r.attr("target_key_id", t);
        }
        if let Some(reg) = &r.region {
            regions.insert(reg.clone());
        }
        part.resources.push(finish(r, ctx, format, at(key, i).focus(id_f_static(id_f))));
    }
    let region =
        ctx.hints.region.clone().or_else(|| (regions.len() == 1).then(|| regions.iter().next().cloned()).flatten());
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(Arc::from(cloud_type)),
        region,
        ctx.hints.account.clone(),
        Scope::All,
        format,
    ));
    Ok(part)
}
