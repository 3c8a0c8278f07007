//! AWS exports moto cannot produce, derived from the real `estate-drifted` exports.
//!
//! moto has no Config delivery channel, no Resource Explorer and no Config query engine, so
//! these shapes are built here, by conversion, from what the real aws CLI exported from the
//! estate after its hand changes (`testdata/inventory/aws/estate-drifted/`): every id, ARN, tag
//! and rule below comes from those files; only the envelope is the documented one
//! (`../shared/formats.md` §5.3–5.4):
//!
//! - a Config snapshot delivered to S3 (`AWSLogs/ACCT/Config/REGION/YYYY/M/D/ConfigSnapshot/
//!   ACCT_Config_REGION_ConfigSnapshot_<time>_<id>.json.gz`): the delivered-file spelling
//!   (`awsAccountId`, `ARN`, `configurationItemVersion`, `configuration` as an object, numeric
//!   `configurationStateId`), IAM roles under their unique id as AWS Config names them;
//! - Resource Explorer `search` results: one complete, one truncated (`Count.Complete: false`,
//!   with the `NextToken` the CLI prints when `--max-items` cut it short);
//! - a `select-resource-config` result, each row a JSON string.
//!
//! What the conversion carried over, and so what a scan of each file must find against the
//! estate account's states (`testdata/state/clean`, `testdata/state/estate-app`), is written beside the folder to `aws-derived.PLANTED.json` (not
//! inside it: a folder given to `--inventory` holds only inventory files).
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value, json};

/// The real exports the conversion reads, under `testdata/`.
pub(crate) const SOURCE: &str = "inventory/aws/estate-drifted";
/// What it writes, under `testdata/`.
pub(crate) const DIR: &str = "inventory/aws-derived";
const PLANTED: &str = "inventory/aws-derived.PLANTED.json";
/// The states of the estate's account the expectations are stated against, under `testdata/`.
const STATES: &[&str] = &["state/clean", "state/estate-app"];
const REGION: &str = "us-east-1";

/// The types the snapshot carries. Route tables and network ACLs are left out: the Config
/// reader does not yet record `main` / `is_default` from their configuration, so the main route
/// tables and default ACLs AWS makes would read as unmanaged (see the PLANTED notes).
const SNAPSHOT_TYPES: &[&str] = &[
    "AWS::EC2::InternetGateway",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
];

/// One resource as every derived format needs it.
#[derive(Debug, Clone)]
struct Resource {
    resource_type: &'static str,
    /// Resource Explorer's `service:type`.
    re_type: &'static str,
    /// AWS Config's `resourceId`.
    id: String,
    name: Option<String>,
    arn: String,
    /// `None` for global resources (`awsRegion: global`).
    region: Option<&'static str>,
    availability_zone: String,
    configuration: Value,
    supplementary: Value,
    tags: BTreeMap<String, String>,
    relationships: Vec<Value>,
    capture_time: Time,
    creation_time: Option<Time>,
    status: String,
    version: String,
}

/// Builds every derived file: paths under `testdata/` → bytes.
pub(crate) fn generate(testdata: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let exports = Exports::read(&testdata.join(SOURCE))?;
    let resources = exports.resources()?;
    let account = exports.account()?;
    let snapshot_time = resources.iter().map(|r| r.capture_time).max().context("no resources")?;
    // Beside the folder (a folder given to --inventory holds inventories only); inside it in
    // fixtures made before that rule.
    let planted_source: Value = read_json(&testdata.join(format!("{SOURCE}.PLANTED.json")))
        .or_else(|_| read_json(&testdata.join(SOURCE).join("PLANTED.json")))
        .context("the estate-drifted PLANTED.json")?;

    let mut files = BTreeMap::new();
    let mut expectations = Vec::new();

    // The Config snapshot delivered to S3.
    let in_snapshot: Vec<&Resource> = resources.iter().filter(|r| SNAPSHOT_TYPES.contains(&r.resource_type)).collect();
    let (snapshot_path, snapshot) = config_snapshot(&account, snapshot_time, &in_snapshot)?;
    files.insert(format!("{DIR}/{snapshot_path}"), gzip(&snapshot)?);
    expectations.push(expect(
        &snapshot_path,
        "aws-config-snapshot",
        "every configuration item of the snapshot, in its delivered-file spelling",
        &in_snapshot,
        SNAPSHOT_TYPES,
        &planted_source,
        false,
    ));

    // Resource Explorer: a complete search over types this account has no provider default
    // of (a Resource Explorer record carries no attributes a default could be recognised by),
    // and a truncated one.
    let complete_types =
        ["s3:bucket", "iam:role", "kms:key", "logs:log-group", "ssm:parameter", "ec2:internet-gateway"];
    let complete: Vec<&Resource> = resources.iter().filter(|r| complete_types.contains(&r.re_type)).collect();
    let view = format!("arn:aws:resource-explorer-2:{REGION}:{account}:view/all-resources/{}", uuid(b"view"));
    let name = format!("resource-explorer-search.{REGION}.json");
    let doc = json!({
        "Count": {"Complete": true, "TotalResources": complete.len()},
        "Resources": complete.iter().map(|r| explorer_record(r, &account, snapshot_time)).collect::<Vec<_>>(),
        "ViewArn": view,
    });
    files.insert(format!("{DIR}/{name}"), pretty(&doc)?);
    let covered: BTreeSet<&str> = complete.iter().map(|r| r.resource_type).collect();
    expectations.push(expect(
        &name,
        "aws-resource-explorer",
        &format!("`search --query-string \"{}\"`: complete", query(&complete_types)),
        &complete,
        &covered.into_iter().collect::<Vec<_>>(),
        &planted_source,
        false,
    ));

    // The truncated page: the drifted VPC, the subnet left in it, the unmanaged security group.
    let planted_of = |key: &str, resource_type: &str| -> Result<String> {
        let found: Vec<&str> = planted_source
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|a| type_of_arn(a) == Some(resource_type))
            .collect();
        ensure!(found.len() == 1, "expected one planted {key} {resource_type}, found {found:?}");
        Ok(found[0].to_owned())
    };
    let vpc_arn = planted_of("drifted", "AWS::EC2::VPC")?;
    let vpc_id = vpc_arn.rsplit('/').next().unwrap_or_default();
    let subnet_arn = exports.arn_of("AWS::EC2::Subnet", |r| str_at(r, "VpcId") == Some(vpc_id))?;
    let truncated_arns = [vpc_arn.clone(), subnet_arn, planted_of("unmanaged", "AWS::EC2::SecurityGroup")?];
    let truncated: Vec<&Resource> = resources.iter().filter(|r| truncated_arns.contains(&r.arn)).collect();
    ensure!(truncated.len() == truncated_arns.len(), "the truncated search lost a resource");
    let name = format!("resource-explorer-search-truncated.{REGION}.json");
    let doc = json!({
        "Count": {"Complete": false, "TotalResources": 1000},
        "NextToken": format!("eyJ2IjoxLCJjIjoi{}", uuid(b"next-token").replace('-', "")),
        "Resources": truncated.iter().map(|r| explorer_record(r, &account, snapshot_time)).collect::<Vec<_>>(),
        "ViewArn": view,
    });
    files.insert(format!("{DIR}/{name}"), pretty(&doc)?);
    expectations.push(expect(
        &name,
        "aws-resource-explorer",
        "`search --query-string \"region:us-east-1 service:ec2\" --max-items 3`: the first page of more than 1,000 matches",
        &truncated,
        &[],
        &planted_source,
        true,
    ));

    // select-resource-config: every security group, with its configuration.
    let fields =
        ["resourceId", "resourceType", "resourceName", "arn", "awsRegion", "accountId", "tags", "configuration"];
    let selected: Vec<&Resource> = resources.iter().filter(|r| r.resource_type == "AWS::EC2::SecurityGroup").collect();
    let rows = selected
        .iter()
        .map(|r| {
            let row = json!({
                "accountId": account,
                "arn": r.arn,
                "awsRegion": r.region.unwrap_or("global"),
                "configuration": r.configuration,
                "resourceId": r.id,
                "resourceName": r.name,
                "resourceType": r.resource_type,
                "tags": r.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            });
            serde_json::to_string(&row).map(Value::String)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = format!("config-select-security-groups.{REGION}.json");
    let doc = json!({
        "QueryInfo": {"SelectFields": fields.iter().map(|f| json!({"Name": f})).collect::<Vec<_>>()},
        "Results": rows,
    });
    files.insert(format!("{DIR}/{name}"), pretty(&doc)?);
    expectations.push(expect(
        &name,
        "aws-config-select",
        &format!(
            "`select-resource-config --expression \"SELECT {} WHERE resourceType = 'AWS::EC2::SecurityGroup'\"`: a query result vouches for no type",
            fields.join(", ")
        ),
        &selected,
        &[],
        &planted_source,
        false,
    ));

    files.insert(PLANTED.to_owned(), planted(&planted_source, &expectations)?);
    Ok(files)
}

/// What one derived file holds, and what a scan of it against the clean state must find.
struct Expectation {
    file: String,
    format: &'static str,
    what: String,
    vouches_for: Vec<String>,
    unmanaged: Vec<String>,
    missing: Vec<String>,
    drifted: Vec<String>,
    notes: usize,
}

/// The planted cases of `estate-drifted` that a file carries: unmanaged and drifted resources
/// it lists, resources missing from a type it vouches for.
fn expect(
    file: &str,
    format: &'static str,
    what: &str,
    listed: &[&Resource],
    vouches_for: &[&str],
    source: &Value,
    truncated: bool,
) -> Expectation {
    let arns: BTreeSet<&str> = listed.iter().map(|r| r.arn.as_str()).collect();
    let planted = |key: &str| -> Vec<String> {
        source
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let listed_only = |key: &str| planted(key).into_iter().filter(|a| arns.contains(a.as_str())).collect::<Vec<_>>();
    let missing =
        planted("missing").into_iter().filter(|arn| vouches_for.iter().any(|t| type_of_arn(arn) == Some(*t))).collect();
    Expectation {
        file: file.to_owned(),
        format,
        what: what.to_owned(),
        vouches_for: vouches_for.iter().map(|t| (*t).to_owned()).collect(),
        unmanaged: listed_only("unmanaged"),
        missing,
        drifted: listed_only("drifted"),
        notes: usize::from(truncated),
    }
}

/// The AWS type of the ARNs `estate-drifted` plants (enough for its `missing` list).
fn type_of_arn(arn: &str) -> Option<&'static str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let service = arn.split(':').nth(2)?;
    Some(match (service, resource.split('/').next()?) {
        ("ec2", "vpc") => "AWS::EC2::VPC",
        ("ec2", "subnet") => "AWS::EC2::Subnet",
        ("ec2", "security-group") => "AWS::EC2::SecurityGroup",
        ("ec2", "internet-gateway") => "AWS::EC2::InternetGateway",
        ("iam", "role") => "AWS::IAM::Role",
        ("kms", "key") => "AWS::KMS::Key",
        ("s3", _) => "AWS::S3::Bucket",
        _ => return None,
    })
}

fn planted(source: &Value, expectations: &[Expectation]) -> Result<Vec<u8>> {
    let union = |f: fn(&Expectation) -> &Vec<String>| -> Vec<String> {
        expectations.iter().flat_map(|e| f(e).iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let files: Map<String, Value> = expectations
        .iter()
        .map(|e| {
            (
                e.file.clone(),
                json!({
                    "format": e.format,
                    "what": e.what,
                    "vouches_for": e.vouches_for,
                    "unmanaged": e.unmanaged,
                    "missing": e.missing,
                    "drifted": e.drifted,
                    "notes": e.notes,
                }),
            )
        })
        .collect();
    let doc = json!({
        "scenario": "aws-derived",
        "description": format!(
            "AWS exports moto cannot produce (a Config snapshot delivered to S3, Resource Explorer search results, a select-resource-config result), converted by `cargo xtask schema --only aws-derived` from the real exports of testdata/{SOURCE}; compare with the estate account's states, testdata/{}.",
            STATES.join(" and testdata/")
        ),
        "derived_from": format!("testdata/{SOURCE}"),
        "states": STATES.iter().map(|s| format!("testdata/{s}")).collect::<Vec<_>>(),
        "unmanaged": union(|e| &e.unmanaged),
        "missing": union(|e| &e.missing),
        "drifted": union(|e| &e.drifted),
        "files": files,
        "facts": {
            "source_notes": source.get("notes").cloned().unwrap_or(Value::Null),
        },
        "notes": "Expectations per file are for `driftlock scan --state testdata/state/clean --state testdata/state/estate-app --inventory FILE`; the top-level lists are for the whole folder. \
    vouches_for: the types a file lists completely (a missing resource of those types is found); a Resource Explorer result vouches only when Count.Complete is true, a select result never. \
    The snapshot leaves out route tables and network ACLs: the Config reader does not record `main`/`is_default` from their configuration yet, so AWS's main route tables and default ACLs would read as unmanaged. \
    The complete Resource Explorer result holds only types this account has no provider default of: its records carry tags, not the attributes a default is recognised by. \
    IAM roles in the snapshot carry AWS Config's resourceId, the role's unique id (AROA…), where moto's batch-get answered with the name.",
    });
    pretty(&doc)
}

/// `{"fileVersion","configSnapshotId","configurationItems"}`, and its path under `AWSLogs/`.
fn config_snapshot(account: &str, time: Time, resources: &[&Resource]) -> Result<(String, Value)> {
    let items: Vec<Value> = resources.iter().map(|r| delivered_item(r, account)).collect();
    let id = uuid(serde_json::to_string(&items)?.as_bytes());
    let doc = json!({"fileVersion": "1.0", "configSnapshotId": id, "configurationItems": items});
    let path = format!(
        "AWSLogs/{account}/Config/{REGION}/{}/{}/{}/ConfigSnapshot/{account}_Config_{REGION}_ConfigSnapshot_{}_{id}.json.gz",
        time.year,
        time.month,
        time.day,
        time.compact()
    );
    Ok((path, doc))
}

/// A configuration item in the spelling of files delivered to S3.
fn delivered_item(r: &Resource, account: &str) -> Value {
    json!({
        "relatedEvents": [],
        "relationships": r.relationships,
        "configuration": r.configuration,
        "supplementaryConfiguration": r.supplementary,
        "tags": r.tags,
        "configurationItemVersion": r.version,
        "configurationItemCaptureTime": r.capture_time.iso(),
        "configurationStateId": r.capture_time.epoch_ms(),
        "awsAccountId": account,
        "configurationItemStatus": r.status,
        "resourceType": r.resource_type,
        "resourceId": r.id,
        "resourceName": r.name,
        "ARN": r.arn,
        "awsRegion": r.region.unwrap_or("global"),
        "availabilityZone": r.availability_zone,
        "configurationStateMd5Hash": "",
        "resourceCreationTime": r.creation_time.map(|t| t.iso()),
    })
}

fn explorer_record(r: &Resource, account: &str, time: Time) -> Value {
    let mut rec = json!({
        "Arn": r.arn,
        "LastReportedAt": time.iso(),
        "OwningAccountId": account,
        "Properties": [],
        "Region": r.region.unwrap_or("global"),
        "ResourceType": r.re_type,
        "Service": r.re_type.split(':').next().unwrap_or_default(),
    });
    if !r.tags.is_empty() {
        rec["Properties"] = json!([{
            "Data": r.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            "LastReportedAt": time.iso(),
            "Name": "tags",
        }]);
    }
    rec
}

fn query(types: &[&str]) -> String {
    let mut q = format!("region:{REGION} region:global");
    for t in types {
        q.push_str(&format!(" resourcetype:{t}"));
    }
    q
}

/// The real exports, read by the name the aws CLI step gave them (with or without the
/// `.REGION.` infix).
struct Exports {
    dir: std::path::PathBuf,
    batch: Value,
    vpcs: Value,
    subnets: Value,
    security_groups: Value,
    internet_gateways: Value,
    kms_keys: Value,
    log_groups: Value,
    tagging: Value,
}

impl Exports {
    fn read(dir: &Path) -> Result<Exports> {
        let get = |prefix: &str| -> Result<Value> {
            for name in [format!("{prefix}.{REGION}.json"), format!("{prefix}.json")] {
                let path = dir.join(&name);
                if path.is_file() {
                    return read_json(&path);
                }
            }
            bail!("{} has no {prefix}.json (nor {prefix}.{REGION}.json)", dir.display())
        };
        Ok(Exports {
            dir: dir.to_path_buf(),
            batch: get("config-batch-get")?,
            vpcs: get("ec2-describe-vpcs")?,
            subnets: get("ec2-describe-subnets")?,
            security_groups: get("ec2-describe-security-groups")?,
            internet_gateways: get("ec2-describe-internet-gateways")?,
            kms_keys: get("kms-list-keys")?,
            log_groups: get("logs-describe-log-groups")?,
            tagging: get("tagging-get-resources")?,
        })
    }

    fn account(&self) -> Result<String> {
        let accounts: BTreeSet<&str> =
            list(&self.batch, "baseConfigurationItems").iter().filter_map(|i| str_at(i, "accountId")).collect();
        ensure!(
            accounts.len() == 1,
            "{}: expected one account in config-batch-get, found {accounts:?}",
            self.dir.display()
        );
        Ok(accounts.into_iter().next().unwrap_or_default().to_owned())
    }

    fn tags_of(&self, arn: &str) -> Option<BTreeMap<String, String>> {
        list(&self.tagging, "ResourceTagMappingList")
            .iter()
            .find(|m| str_at(m, "ResourceARN") == Some(arn))
            .map(|m| tag_map(m.get("Tags")))
    }

    /// The ARN of the one record of `resource_type` that `pick` selects.
    fn arn_of(&self, resource_type: &str, pick: impl Fn(&Value) -> bool) -> Result<String> {
        let (key, id_field, kind) = match resource_type {
            "AWS::EC2::Subnet" => (&self.subnets, "SubnetId", "subnet"),
            _ => bail!("no describe export for {resource_type}"),
        };
        let top =
            key.as_object().and_then(|o| o.values().next()).and_then(Value::as_array).cloned().unwrap_or_default();
        let found: Vec<&Value> = top.iter().filter(|r| pick(r)).collect();
        ensure!(found.len() == 1, "expected one {resource_type} to pick, found {}", found.len());
        let account = self.account()?;
        let id = str_at(found[0], id_field).context("a record without its id")?;
        Ok(format!("arn:aws:ec2:{REGION}:{account}:{kind}/{id}"))
    }

    /// Every resource the exports show, in one shape.
    fn resources(&self) -> Result<Vec<Resource>> {
        let account = self.account()?;
        let items = list(&self.batch, "baseConfigurationItems");
        let time = items
            .iter()
            .filter_map(|i| str_at(i, "configurationItemCaptureTime"))
            .map(Time::parse)
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .max()
            .context("config-batch-get has no items")?;
        let mut out = Vec::new();
        for item in items {
            out.push(from_config_item(item)?);
        }
        let vpc_children = |vpc: &str, field: &str, rt: &str, name: &str, id_field: &str, export: &Value| {
            list_any(export)
                .iter()
                .filter(|r| str_at(r, field) == Some(vpc))
                .filter_map(|r| str_at(r, id_field))
                .map(|id| relationship(rt, id, name))
                .collect::<Vec<_>>()
        };
        for v in list_any(&self.vpcs) {
            let id = str_at(v, "VpcId").context("a VPC without VpcId")?;
            let mut rel = vpc_children(id, "VpcId", "AWS::EC2::Subnet", "Contains Subnet", "SubnetId", &self.subnets);
            rel.extend(vpc_children(
                id,
                "VpcId",
                "AWS::EC2::SecurityGroup",
                "Contains SecurityGroup",
                "GroupId",
                &self.security_groups,
            ));
            for igw in list_any(&self.internet_gateways) {
                let attached = igw.get("Attachments").and_then(Value::as_array).into_iter().flatten();
                if attached.clone().any(|a| str_at(a, "VpcId") == Some(id)) {
                    if let Some(g) = str_at(igw, "InternetGatewayId") {
                        rel.push(relationship("AWS::EC2::InternetGateway", g, "Is attached to InternetGateway"));
                    }
                }
            }
            out.push(ec2(&account, time, "AWS::EC2::VPC", "ec2:vpc", "vpc", id, v, "Multiple Availability Zones", rel));
        }
        for s in list_any(&self.subnets) {
            let id = str_at(s, "SubnetId").context("a subnet without SubnetId")?;
            let az = str_at(s, "AvailabilityZone").unwrap_or("Regional").to_owned();
            let rel = parent_vpc(s);
            out.push(ec2(&account, time, "AWS::EC2::Subnet", "ec2:subnet", "subnet", id, s, &az, rel));
        }
        for g in list_any(&self.security_groups) {
            let id = str_at(g, "GroupId").context("a security group without GroupId")?;
            let rel = parent_vpc(g);
            let mut r = ec2(
                &account,
                time,
                "AWS::EC2::SecurityGroup",
                "ec2:security-group",
                "security-group",
                id,
                g,
                "Not Applicable",
                rel,
            );
            r.name = str_at(g, "GroupName").map(str::to_owned);
            out.push(r);
        }
        for g in list_any(&self.internet_gateways) {
            let id = str_at(g, "InternetGatewayId").context("an internet gateway without InternetGatewayId")?;
            let rel = g
                .get("Attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| str_at(a, "VpcId"))
                .map(|v| relationship("AWS::EC2::VPC", v, "Is attached to Vpc"))
                .collect();
            out.push(ec2(
                &account,
                time,
                "AWS::EC2::InternetGateway",
                "ec2:internet-gateway",
                "internet-gateway",
                id,
                g,
                "Not Applicable",
                rel,
            ));
        }
        for k in list(&self.kms_keys, "Keys") {
            let (Some(id), Some(arn)) = (str_at(k, "KeyId"), str_at(k, "KeyArn")) else {
                bail!("kms-list-keys: a key without KeyId/KeyArn")
            };
            out.push(Resource {
                resource_type: "AWS::KMS::Key",
                re_type: "kms:key",
                id: id.to_owned(),
                name: None,
                arn: arn.to_owned(),
                region: Some(REGION),
                availability_zone: "Regional".to_owned(),
                configuration: json!({"keyId": id, "arn": arn}),
                supplementary: json!({}),
                tags: self.tags_of(arn).unwrap_or_default(),
                relationships: Vec::new(),
                capture_time: time,
                creation_time: None,
                status: "ResourceDiscovered".to_owned(),
                version: "1.3".to_owned(),
            });
        }
        for g in list(&self.log_groups, "logGroups") {
            let name = str_at(g, "logGroupName").context("a log group without logGroupName")?;
            let arn = str_at(g, "logGroupArn")
                .map(str::to_owned)
                .or_else(|| str_at(g, "arn").map(|a| a.trim_end_matches(":*").to_owned()))
                .context("a log group without an ARN")?;
            out.push(Resource {
                resource_type: "AWS::Logs::LogGroup",
                re_type: "logs:log-group",
                id: name.to_owned(),
                name: Some(name.to_owned()),
                tags: self.tags_of(&arn).unwrap_or_default(),
                arn,
                region: Some(REGION),
                availability_zone: "Regional".to_owned(),
                configuration: lower_camel(g),
                supplementary: json!({}),
                relationships: Vec::new(),
                capture_time: time,
                creation_time: None,
                status: "ResourceDiscovered".to_owned(),
                version: "1.3".to_owned(),
            });
        }
        // SSM parameters: only the tagging export names them in this estate.
        for m in list(&self.tagging, "ResourceTagMappingList") {
            let Some(arn) = str_at(m, "ResourceARN").filter(|a| a.contains(":ssm:") && a.contains(":parameter/"))
            else {
                continue;
            };
            let name = arn.split_once(":parameter").map(|(_, n)| n.to_owned()).unwrap_or_default();
            out.push(Resource {
                resource_type: "AWS::SSM::Parameter",
                re_type: "ssm:parameter",
                id: name.clone(),
                name: Some(name),
                arn: arn.to_owned(),
                region: Some(REGION),
                availability_zone: "Regional".to_owned(),
                configuration: json!({}),
                supplementary: json!({}),
                tags: tag_map(m.get("Tags")),
                relationships: Vec::new(),
                capture_time: time,
                creation_time: None,
                status: "ResourceDiscovered".to_owned(),
                version: "1.3".to_owned(),
            });
        }
        // Tags the tagging API knows fill in for exports that carry none.
        for r in &mut out {
            if r.tags.is_empty() {
                if let Some(t) = self.tags_of(&r.arn) {
                    r.tags = t;
                }
            }
        }
        out.sort_by(|a, b| (a.resource_type, &a.arn).cmp(&(b.resource_type, &b.arn)));
        Ok(out)
    }
}

/// An S3 bucket or IAM role item of `batch-get-resource-config`, in the common shape: the
/// JSON strings parsed, tags lifted out of the configuration, IAM ids made AWS's.
fn from_config_item(item: &Value) -> Result<Resource> {
    let rt = str_at(item, "resourceType").context("a config item without resourceType")?;
    let (resource_type, re_type) = match rt {
        "AWS::S3::Bucket" => ("AWS::S3::Bucket", "s3:bucket"),
        "AWS::IAM::Role" => ("AWS::IAM::Role", "iam:role"),
        other => bail!("config-batch-get: no conversion for {other}"),
    };
    let configuration = parse_nested(item.get("configuration").cloned().unwrap_or(Value::Null));
    let supplementary = match item.get("supplementaryConfiguration") {
        Some(Value::Object(o)) => Value::Object(o.iter().map(|(k, v)| (k.clone(), parse_nested(v.clone()))).collect()),
        _ => json!({}),
    };
    let mut id = str_at(item, "resourceId").context("a config item without resourceId")?.to_owned();
    let tags = match resource_type {
        "AWS::S3::Bucket" => supplementary
            .pointer("/BucketTaggingConfiguration/tagSets/0/tags")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default(),
        _ => {
            // AWS Config names IAM roles by their unique id, not their name.
            if let Some(unique) = str_at(&configuration, "roleId") {
                id = unique.to_owned();
            }
            tag_map(configuration.get("tags"))
        }
    };
    let region = match str_at(item, "awsRegion") {
        Some("global") | None => None,
        Some(REGION) => Some(REGION),
        Some(other) => bail!("config-batch-get: an item in {other}, expected {REGION}"),
    };
    Ok(Resource {
        resource_type,
        re_type,
        id,
        name: str_at(item, "resourceName").map(str::to_owned),
        arn: str_at(item, "arn").context("a config item without arn")?.to_owned(),
        region,
        availability_zone: str_at(item, "availabilityZone").unwrap_or("Not Applicable").to_owned(),
        configuration,
        supplementary,
        tags,
        relationships: Vec::new(),
        capture_time: Time::parse(str_at(item, "configurationItemCaptureTime").context("no capture time")?)?,
        creation_time: str_at(item, "resourceCreationTime").map(Time::parse).transpose()?,
        status: str_at(item, "configurationItemStatus").unwrap_or("OK").to_owned(),
        version: str_at(item, "version").unwrap_or("1.3").to_owned(),
    })
}

/// An EC2 `describe-*` record as AWS Config records it: the same object in lowerCamelCase
/// (security group rules with Config's `ipv4Ranges` objects and `ipRanges` strings).
#[allow(clippy::too_many_arguments)]
fn ec2(
    account: &str,
    time: Time,
    resource_type: &'static str,
    re_type: &'static str,
    kind: &str,
    id: &str,
    rec: &Value,
    availability_zone: &str,
    relationships: Vec<Value>,
) -> Resource {
    let mut configuration = lower_camel(rec);
    for key in ["ipPermissions", "ipPermissionsEgress"] {
        if let Some(Value::Array(rules)) = configuration.get_mut(key) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                let ranges = rule.remove("ipRanges").unwrap_or_else(|| json!([]));
                let cidrs: Vec<Value> =
                    ranges.as_array().into_iter().flatten().filter_map(|r| r.get("cidrIp").cloned()).collect();
                rule.insert("ipv4Ranges".into(), ranges);
                rule.insert("ipRanges".into(), Value::Array(cidrs));
            }
        }
    }
    Resource {
        resource_type,
        re_type,
        id: id.to_owned(),
        name: None,
        arn: format!("arn:aws:ec2:{REGION}:{account}:{kind}/{id}"),
        region: Some(REGION),
        availability_zone: availability_zone.to_owned(),
        configuration,
        supplementary: json!({}),
        tags: tag_map(rec.get("Tags")),
        relationships,
        capture_time: time,
        creation_time: None,
        status: "ResourceDiscovered".to_owned(),
        version: "1.3".to_owned(),
    }
}

fn relationship(resource_type: &str, id: &str, name: &str) -> Value {
    json!({"resourceType": resource_type, "resourceId": id, "resourceName": null, "name": name})
}

fn parent_vpc(rec: &Value) -> Vec<Value> {
    str_at(rec, "VpcId").map(|v| relationship("AWS::EC2::VPC", v, "Is contained in Vpc")).into_iter().collect()
}

/// `[{"Key","Value"}]` or `[{"key","value"}]` → a map.
fn tag_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let k = str_at(t, "Key").or_else(|| str_at(t, "key"))?;
            let v = str_at(t, "Value").or_else(|| str_at(t, "value")).unwrap_or_default();
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// `PascalCase` keys to `lowerCamelCase`, all the way down.
fn lower_camel(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let mut chars = k.chars();
                    let key =
                        chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default();
                    (key, lower_camel(x))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_camel).collect()),
        other => other.clone(),
    }
}

/// A JSON string of the API spelling as the value it encodes (moto encodes some twice); other
/// strings stay strings.
fn parse_nested(v: Value) -> Value {
    let mut v = v;
    for _ in 0..2 {
        match &v {
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(parsed) => v = parsed,
                Err(_) => break,
            },
            _ => break,
        }
    }
    v
}

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The records of a one-key `describe-*` document (`{"Vpcs": [...]}`).
fn list_any(v: &Value) -> &[Value] {
    v.as_object().and_then(|o| o.values().find_map(Value::as_array)).map_or(&[], Vec::as_slice)
}

fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn pretty(v: &Value) -> Result<Vec<u8>> {
    Ok((serde_json::to_string_pretty(v)? + "\n").into_bytes())
}

/// gzip with a zero modification time, so the bytes depend only on the content.
fn gzip(v: &Value) -> Result<Vec<u8>> {
    let mut enc = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    enc.write_all(&pretty(v)?)?;
    Ok(enc.finish()?)
}

/// A UUID-shaped id that depends only on `seed` (FNV-1a, twice), so reruns write the same names.
fn uuid(seed: &[u8]) -> String {
    let fnv = |basis: u64| seed.iter().fold(basis, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142));
    let a = (a & !0xf000) | 0x4000; // version 4
    let b = (b & !(0xc << 60)) | (0x8 << 60); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// A UTC time to the millisecond, as the exporters print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Time {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    milli: u32,
}

impl Time {
    /// `2026-11-25 00:03:25.648725+00:00`, `2026-11-25 00:03:25.029124` (moto),
    /// `2026-11-25T00:03:25.000Z`: UTC only.
    fn parse(text: &str) -> Result<Time> {
        let bad = || format!("unreadable time {text:?}");
        let (date, rest) = text.split_at_checked(10).with_context(bad)?;
        let rest = rest.strip_prefix([' ', 'T']).with_context(bad)?;
        let (clock, zone) = rest.split_at_checked(8).with_context(bad)?;
        let (fraction, zone) = match zone.strip_prefix('.') {
            Some(z) => z.split_at(z.find(|c: char| !c.is_ascii_digit()).unwrap_or(z.len())),
            None => ("", zone),
        };
        ensure!(matches!(zone, "" | "Z" | "+00:00"), "time {text:?} is not UTC");
        let num = |s: &str| s.parse::<u32>().with_context(bad);
        let d: Vec<&str> = date.split('-').collect();
        let c: Vec<&str> = clock.split(':').collect();
        ensure!(d.len() == 3 && c.len() == 3, "unreadable time {text:?}");
        let milli = format!("{fraction:0<3}");
        Ok(Time {
            year: i64::from(num(d[0])?),
            month: num(d[1])?,
            day: num(d[2])?,
            hour: num(c[0])?,
            minute: num(c[1])?,
            second: num(c[2])?,
            milli: num(&milli[..3])?,
        })
    }

    fn iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.milli
        )
    }

    /// `20261125T000325Z`, as in snapshot file names.
    fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    fn epoch_ms(self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm).
        let (y, m) = if self.month <= 2 { (self.year - 1, self.month + 9) } else { (self.year, self.month - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * i64::from(m) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        secs * 1000 + i64::from(self.milli)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_every_exporter() {
        let t = Time::parse("2026-11-25 00:03:25.648725+00:00").unwrap();
        assert_eq!(t.iso(), "2026-11-25T00:03:25.648Z");
        assert_eq!(t.compact(), "20261125T000325Z");
        assert_eq!(Time::parse("2026-11-25 00:03:25.029124").unwrap().milli, 29);
        assert_eq!(Time::parse("1970-01-02T00:00:01Z").unwrap().epoch_ms(), 86_401_000);
        assert!(Time::parse("2026-11-25 00:03:25+02:00").is_err());
    }

    #[test]
    fn config_spells_rules_its_own_way() {
        let rec = json!({"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "UserIdGroupPairs": []}], "Tags": [{"Key": "Name", "Value": "x"}]});
        let r = ec2(
            "1",
            Time::parse("2026-01-01T00:00:00Z").unwrap(),
            "AWS::EC2::SecurityGroup",
            "ec2:security-group",
            "security-group",
            "sg-1",
            &rec,
            "Not Applicable",
            Vec::new(),
        );
        let rule = &r.configuration["ipPermissions"][0];
        assert_eq!(rule["ipv4Ranges"], json!([{"cidrIp": "0.0.0.0/0"}]));
        assert_eq!(rule["ipRanges"], json!(["0.0.0.0/0"]));
        assert_eq!(r.configuration["tags"], json!([{"key": "Name", "value": "x"}]));
        assert_eq!(r.tags, BTreeMap::from([("Name".to_owned(), "x".to_owned())]));
    }

    #[test]
    fn ids_are_stable_and_uuid_shaped() {
        let id = uuid(b"x");
        assert_eq!(id, uuid(b"x"));
        assert_ne!(id, uuid(b"y"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
