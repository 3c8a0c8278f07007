//! AWS exports: the Resource Groups Tagging API, AWS Config (API and delivered-file forms,
//! select, list-discovered), Resource Explorer, and the plain `aws` CLI listings a
//! clean-account check needs (EC2 describe-*, IAM list-*, S3 list-buckets, KMS, Logs, SSM).
//!
//! The listings' records are read into typed, borrowed structs (members they do not name are
//! skipped without being built), usually as the top level of the file streams by
//! ([`crate::ingest::json::read_top`]). Their fields read every JSON value the way a
//! `serde_json::Value` tree would ([`Field`], [`Obj`], [`List`]), so odd records give what
//! they always gave; a record the typed reader cannot take (a member named twice) is read
//! through a tree, whose last-member-wins reading the typed structs then follow.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{Ctx, DocFormat, Part, at, aws_tags, from_arn};
use crate::catalog::normalize::{NormalizeCtx, json_doc, sg_rules};
use crate::error::InputError;
use crate::ingest::json::{Count, Field, KeyRef, List, Located, Obj, Streamed, TopLevel, null_is, skip_other_values};
use crate::model::{Cloud, CloudResource, CompactMap, KeyKind, Locator, Scope, Seg};
use compact_str::CompactString;

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

/// Tags as [`aws_tags`] reads them from a record's member: `Missing` when the record has no
/// such member, else what `aws_tags(Some(member))` gives.
#[derive(Debug, Default)]
pub(crate) enum Tags {
    #[default]
    Missing,
    Read(Option<CompactMap<String>>),
}

impl Tags {
    /// `aws_tags(rec.get(..))`.
    fn get(self) -> Option<CompactMap<String>> {
        match self {
            Tags::Missing => None,
            Tags::Read(t) => t,
        }
    }
}

/// The pairs as a map (the last of a repeated key wins, as in a `BTreeMap`), without AWS's own
/// `aws:` tags, in a vector of its exact size. Built straight from the pairs: tags are read by
/// the million.
#[expect(clippy::drain_collect, reason = "a copy of exactly the pairs; the scratch keeps its room")]
fn without_system_tags(pairs: &mut Vec<(CompactString, String)>) -> Tags {
    pairs.retain(|(k, _)| !k.starts_with("aws:"));
    Tags::Read(Some(CompactMap::from_unsorted(pairs.drain(..).collect())))
}

thread_local! {
    /// Where a record's tags are gathered before [`without_system_tags`] copies them out.
    static TAG_SCRATCH: std::cell::RefCell<Vec<(CompactString, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's tag scratch vector, empty.
fn with_tag_scratch<R>(f: impl FnOnce(&mut Vec<(CompactString, String)>) -> R) -> R {
    let mut v = TAG_SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    v.clear();
    let r = f(&mut v);
    TAG_SCRATCH.with(|s| *s.borrow_mut() = v);
    r
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tags")
            }
            skip_other_values!(Tags::Read(None));
            null_is!(Tags::Read(Some(CompactMap::new())));
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                with_tag_scratch(|out| {
                    while let Some(item) = s.next_element::<TagItem<'de>>()? {
                        if let Some(pair) = item.pair() {
                            out.push(pair);
                        }
                    }
                    Ok(without_system_tags(out))
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                with_tag_scratch(|out| {
                    while let Some((k, v)) = m.next_entry::<KeyRef<'de>, Field<'de>>()? {
                        if let Some(v) = v.text() {
                            out.push((CompactString::new(&k.0), v));
                        }
                    }
                    Ok(without_system_tags(out))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One `{"Key": k, "Value": v}` (or lower-case) element of a tag list.
#[derive(Debug, Default)]
struct TagFields<'a> {
    key_upper: Field<'a>,
    key_lower: Field<'a>,
    value_upper: Field<'a>,
    value_lower: Field<'a>,
}

#[derive(Debug, Default)]
struct TagItem<'a>(TagFields<'a>);

/// Read as [`Obj`] reads a [`TagFields`] (anything but an object has no members), member by
/// member: tags are read by the million, and need no record offset.
impl<'de: 'a, 'a> Deserialize<'de> for TagItem<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = TagItem<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a tag")
            }
            skip_other_values!(TagItem::default());
            null_is!(TagItem::default());
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(TagItem::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut t = TagFields::default();
                while let Some(k) = m.next_key::<KeyRef<'de>>()? {
                    let (name, slot) = match k.0.as_ref() {
                        "Key" => ("Key", &mut t.key_upper),
                        "key" => ("key", &mut t.key_lower),
                        "Value" => ("Value", &mut t.value_upper),
                        "value" => ("value", &mut t.value_lower),
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.present() {
                        return Err(serde::de::Error::duplicate_field(name));
                    }
                    *slot = m.next_value::<Field<'de>>()?;
                }
                Ok(TagItem(t))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl TagItem<'_> {
    fn pair(&self) -> Option<(CompactString, String)> {
        let t = &self.0;
        let k = if t.key_upper.present() { t.key_upper.as_str() } else { t.key_lower.as_str() }?;
        let v = if t.value_upper.present() { t.value_upper.text() } else { t.value_lower.text() }?;
        Some((CompactString::new(k), v))
    }
}

/// `resourcegroupstaggingapi get-resources`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct TagRecord<'a> {
    #[serde(rename = "ResourceARN", borrow)]
    resource_arn: Field<'a>,
    tags: Tags,
}

/// Every EC2 listing but instances: one struct names the members of all of them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Ec2Record<'a> {
    #[serde(borrow)]
    vpc_id: Field<'a>,
    #[serde(borrow)]
    subnet_id: Field<'a>,
    #[serde(borrow)]
    group_id: Field<'a>,
    #[serde(borrow)]
    internet_gateway_id: Field<'a>,
    #[serde(borrow)]
    route_table_id: Field<'a>,
    #[serde(borrow)]
    network_acl_id: Field<'a>,
    #[serde(borrow)]
    dhcp_options_id: Field<'a>,
    #[serde(borrow)]
    owner_id: Field<'a>,
    #[serde(borrow)]
    subnet_arn: Field<'a>,
    #[serde(borrow)]
    security_group_arn: Field<'a>,
    #[serde(borrow)]
    vpc_arn: Field<'a>,
    #[serde(borrow)]
    availability_zone: Field<'a>,
    tags: Tags,
    #[serde(borrow)]
    cidr_block: Field<'a>,
    #[serde(borrow)]
    is_default: Field<'a>,
    #[serde(borrow)]
    default_for_az: Field<'a>,
    #[serde(borrow)]
    group_name: Field<'a>,
    #[serde(borrow)]
    ip_permissions: Field<'a>,
    #[serde(borrow)]
    ip_permissions_egress: Field<'a>,
    #[serde(borrow)]
    attachments: Field<'a>,
    #[serde(borrow)]
    associations: Field<'a>,
    routes: Count,
    entries: Count,
}

impl<'a> Ec2Record<'a> {
    fn id(&self, kind: Ec2Kind) -> &Field<'a> {
        match kind {
            Ec2Kind::Vpcs => &self.vpc_id,
            Ec2Kind::Subnets => &self.subnet_id,
            Ec2Kind::SecurityGroups => &self.group_id,
            Ec2Kind::InternetGateways => &self.internet_gateway_id,
            Ec2Kind::RouteTables => &self.route_table_id,
            Ec2Kind::NetworkAcls => &self.network_acl_id,
            Ec2Kind::DhcpOptions => &self.dhcp_options_id,
            Ec2Kind::Instances => &Field::Absent,
        }
    }
}

/// A `describe-instances` reservation.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Reservation<'a> {
    #[serde(borrow)]
    owner_id: Field<'a>,
    #[serde(borrow)]
    instances: List<Located<Ec2Instance<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Ec2Instance<'a> {
    #[serde(borrow)]
    instance_id: Field<'a>,
    #[serde(borrow)]
    instance_type: Field<'a>,
    #[serde(borrow)]
    state: Obj<Named<'a>>,
    #[serde(borrow)]
    placement: Obj<Placement<'a>>,
    tags: Tags,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Named<'a> {
    #[serde(borrow)]
    name: Field<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Placement<'a> {
    #[serde(borrow)]
    availability_zone: Field<'a>,
}

/// `configservice list-discovered-resources`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Discovered<'a> {
    #[serde(borrow)]
    resource_type: Field<'a>,
    #[serde(borrow)]
    resource_id: Field<'a>,
    #[serde(borrow)]
    resource_name: Field<'a>,
    #[serde(borrow)]
    resource_deletion_time: Field<'a>,
}

/// `configservice list-aggregate-discovered-resources`: an `AggregateResourceIdentifier`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct AggregateDiscovered<'a> {
    #[serde(borrow)]
    source_account_id: Field<'a>,
    #[serde(borrow)]
    source_region: Field<'a>,
    #[serde(borrow)]
    resource_id: Field<'a>,
    #[serde(borrow)]
    resource_type: Field<'a>,
    #[serde(borrow)]
    resource_name: Field<'a>,
}

/// A configuration item (`batch-get-resource-config`, history, snapshot).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ConfigItem<'a> {
    #[serde(borrow)]
    resource_type: Field<'a>,
    #[serde(borrow)]
    resource_id: Field<'a>,
    #[serde(borrow)]
    configuration_item_status: Field<'a>,
    #[serde(borrow)]
    arn: Field<'a>,
    #[serde(rename = "ARN", borrow)]
    arn_upper: Field<'a>,
    #[serde(borrow)]
    account_id: Field<'a>,
    #[serde(borrow)]
    aws_account_id: Field<'a>,
    #[serde(borrow)]
    aws_region: Field<'a>,
    #[serde(borrow)]
    resource_name: Field<'a>,
    tags: Tags,
    #[serde(borrow)]
    configuration: Field<'a>,
    #[serde(borrow)]
    configuration_item_capture_time: Field<'a>,
}

/// `iam list-roles|list-users|list-policies`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct IamRecord<'a> {
    #[serde(borrow)]
    arn: Field<'a>,
    #[serde(borrow)]
    role_name: Field<'a>,
    #[serde(borrow)]
    user_name: Field<'a>,
    #[serde(borrow)]
    policy_name: Field<'a>,
    #[serde(borrow)]
    role_id: Field<'a>,
    #[serde(borrow)]
    user_id: Field<'a>,
    #[serde(borrow)]
    policy_id: Field<'a>,
    #[serde(borrow)]
    path: Field<'a>,
    #[serde(borrow)]
    assume_role_policy_document: Field<'a>,
    tags: Tags,
}

impl<'a> IamRecord<'a> {
    fn field(&self, name: &str) -> &Field<'a> {
        match name {
            "RoleName" => &self.role_name,
            "UserName" => &self.user_name,
            "PolicyName" => &self.policy_name,
            "RoleId" => &self.role_id,
            "UserId" => &self.user_id,
            "PolicyId" => &self.policy_id,
            _ => &Field::Absent,
        }
    }
}

/// `s3api list-buckets`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Bucket<'a> {
    #[serde(borrow)]
    name: Field<'a>,
    #[serde(borrow)]
    bucket_region: Field<'a>,
}

/// KMS keys and aliases, log groups, SSM parameters: one struct names the members of all.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ArnRecord<'a> {
    #[serde(rename = "KeyArn", borrow)]
    key_arn: Field<'a>,
    #[serde(rename = "KeyId", borrow)]
    key_id: Field<'a>,
    #[serde(rename = "AliasArn", borrow)]
    alias_arn: Field<'a>,
    #[serde(rename = "AliasName", borrow)]
    alias_name: Field<'a>,
    #[serde(rename = "TargetKeyId", borrow)]
    target_key_id: Field<'a>,
    #[serde(rename = "arn", borrow)]
    arn_lower: Field<'a>,
    #[serde(rename = "logGroupName", borrow)]
    log_group_name: Field<'a>,
    #[serde(rename = "ARN", borrow)]
    arn_upper: Field<'a>,
    #[serde(rename = "Name", borrow)]
    name: Field<'a>,
}

impl<'a> ArnRecord<'a> {
    fn field(&self, name: &str) -> &Field<'a> {
        match name {
            "KeyArn" => &self.key_arn,
            "KeyId" => &self.key_id,
            "AliasArn" => &self.alias_arn,
            "AliasName" => &self.alias_name,
            "TargetKeyId" => &self.target_key_id,
            "arn" => &self.arn_lower,
            "logGroupName" => &self.log_group_name,
            "ARN" => &self.arn_upper,
            "Name" => &self.name,
            _ => &Field::Absent,
        }
    }
}

/// The typed records of one listing's array.
#[derive(Debug)]
pub(crate) enum Records<'a> {
    Tagging(Vec<Located<TagRecord<'a>>>),
    Discovered(Vec<Located<Discovered<'a>>>),
    AggregateDiscovered(Vec<Located<AggregateDiscovered<'a>>>),
    Items(Vec<Located<ConfigItem<'a>>>),
    Ec2(Vec<Located<Ec2Record<'a>>>),
    Reservations(Vec<Located<Reservation<'a>>>),
    Iam(Vec<Located<IamRecord<'a>>>),
    Buckets(Vec<Located<Bucket<'a>>>),
    Arns(Vec<Located<ArnRecord<'a>>>),
}

/// Which typed record an array member holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Tagging,
    Discovered,
    AggregateDiscovered,
    Items,
    Ec2,
    Reservations,
    Iam,
    Buckets,
    Arns,
}

/// The record type of an AWS listing's top-level array member, by its name.
pub(crate) fn record_kind(key: &str) -> Option<RecordKind> {
    Some(match key {
        "ResourceTagMappingList" => RecordKind::Tagging,
        "resourceIdentifiers" => RecordKind::Discovered,
        "ResourceIdentifiers" => RecordKind::AggregateDiscovered,
        "baseConfigurationItems" | "configurationItems" | "BaseConfigurationItems" => RecordKind::Items,
        "Vpcs" | "Subnets" | "SecurityGroups" | "InternetGateways" | "RouteTables" | "NetworkAcls" | "DhcpOptions" => {
            RecordKind::Ec2
        }
        "Reservations" => RecordKind::Reservations,
        "Roles" | "Users" | "Policies" => RecordKind::Iam,
        "Buckets" => RecordKind::Buckets,
        "Keys" | "Aliases" | "logGroups" | "Parameters" => RecordKind::Arns,
        _ => return None,
    })
}

/// Reads an array member into typed records (`null`: none; anything else but an array is an
/// error, and the caller reads the file plainly).
/// The records of a listing as they stream by; `.1` is how many to make room for at once (see
/// [`record_room`]).
pub(crate) struct RecordsSeed(pub(crate) RecordKind, pub(crate) usize);

/// Room for the records of a text of `len` bytes: one per 128 bytes, which no listing's
/// records are smaller than. Room never written to costs no memory, while a vector grown by
/// doubling copies its records and takes fresh pages at every step.
pub(crate) fn record_room(len: usize) -> usize {
    (len / 128).clamp(16, 1 << 22)
}

impl<'de> DeserializeSeed<'de> for RecordsSeed {
    type Value = Records<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        /// An array (or `null`: none) read into a vector with `room` made up front.
        struct List<T>(usize, std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of records")
            }
            fn visit_unit<E>(self) -> Result<Vec<T>, E> {
                Ok(Vec::new())
            }
            fn visit_none<E>(self) -> Result<Vec<T>, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
                d.deserialize_seq(self)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(self.0);
                while let Some(x) = s.next_element()? {
                    out.push(x);
                }
                Ok(out)
            }
        }
        let room = self.1;
        fn read<'de, T: Deserialize<'de> + Default, D: serde::Deserializer<'de>>(
            d: D,
            room: usize,
        ) -> Result<Vec<Located<T>>, D::Error> {
            d.deserialize_option(List::<Located<T>>(room, std::marker::PhantomData))
        }
        Ok(match self.0 {
            RecordKind::Tagging => Records::Tagging(read(d, room)?),
            RecordKind::Discovered => Records::Discovered(read(d, room)?),
            RecordKind::AggregateDiscovered => Records::AggregateDiscovered(read(d, room)?),
            RecordKind::Items => Records::Items(read(d, room)?),
            RecordKind::Ec2 => Records::Ec2(read(d, room)?),
            RecordKind::Reservations => Records::Reservations(read(d, room)?),
            RecordKind::Iam => Records::Iam(read(d, room)?),
            RecordKind::Buckets => Records::Buckets(read(d, room)?),
            RecordKind::Arns => Records::Arns(read(d, room)?),
        })
    }
}

/// The typed records of the array member `key`: streamed already, or read from the member now.
/// `null` or no member: none; anything but an array: a shape error.
fn records<'t, T: Deserialize<'t> + Default>(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'t>,
    text: &'t str,
    key: &str,
    take: fn(Records<'t>) -> Option<Vec<Located<T>>>,
) -> Result<Vec<Located<T>>, InputError> {
    if let Some(Streamed::Aws(r)) = top.take_streamed(key) {
        if let Some(v) = take(r) {
            return Ok(v);
        }
    }
    let Some(raw) = top.raw(text, key) else { return Ok(Vec::new()) };
    if let Ok(v) = serde_json::from_str::<Option<Vec<Located<T>>>>(raw.get()) {
        return Ok(v.unwrap_or_default());
    }
    // A member named twice in a record (the tree keeps the last), or not JSON at all.
    match ctx.file.parse_owned::<Value>(raw)? {
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                Located::<T>::deserialize(v).map_err(|e| {
                    ctx.file.shape(raw, "unreadable record", format!("{}: record {i} of `{key}`: {e}", ctx.file.name))
                })
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(ctx.file.shape(raw, "expected an array", format!("{}: `{key}` is not an array", ctx.file.name))),
    }
}

/// The records of an array member as trees, with their offsets (the listings read rarely).
fn value_records(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'_>,
    key: &'static str,
) -> Result<Vec<(Value, Option<u32>)>, InputError> {
    match top.get(key) {
        Some(raw) => {
            if let Ok(Some(items)) = serde_json::from_str::<Option<Vec<&serde_json::value::RawValue>>>(raw.get()) {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push((ctx.file.parse_owned::<Value>(item)?, u32::try_from(ctx.file.offset(item)).ok()));
                }
                return Ok(out);
            }
            let v: Value = ctx.file.parse_owned(raw)?;
            match v {
                Value::Array(a) => Ok(a.into_iter().map(|v| (v, None)).collect()),
                Value::Null => Ok(Vec::new()),
                _ => {
                    Err(ctx.file.shape(raw, "expected an array", format!("{}: `{key}` is not an array", ctx.file.name)))
                }
            }
        }
        None => Ok(Vec::new()),
    }
}

/// Where record `i` of `key` is: its offset when known (then no path is kept), else its path.
fn located(key: &'static str, i: usize, offset: Option<u32>) -> Locator {
    match offset {
        Some(o) => {
            let mut l = Locator::new(Vec::new());
            l.offset = Some(o);
            l
        }
        None => at(key, i),
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

fn finish(mut r: CloudResource, ctx: &Ctx<'_, '_>, format: &'static str, loc: Locator) -> CloudResource {
    // Global types (IAM, S3 names) have no region, whatever region the export was made from.
    let regional = ctx.catalog.for_cloud_type(&r.cloud_type).first().is_none_or(|e| e.regional);
    if r.region.is_none() && regional {
        r.region.clone_from(&ctx.hints.region);
    }
    if r.account.is_none() {
        r.account.clone_from(&ctx.hints.account);
    }
    r.seen(ctx.sighting(format, loc));
    r
}

pub(crate) fn parse<'t>(
    fmt: DocFormat,
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'t>,
    text: &'t str,
) -> Result<Part, InputError> {
    match fmt {
        DocFormat::AwsTagging => tagging(ctx, top, text),
        DocFormat::AwsConfigDiscovered => config_discovered(ctx, top, text),
        DocFormat::AwsConfigBatch => {
            let mut part = config_items(ctx, top, text, "baseConfigurationItems", "aws-config-batch-get", false)?;
            unprocessed_note(ctx, top, &mut part, "unprocessedResourceKeys", "resource key(s)")?;
            Ok(part)
        }
        DocFormat::AwsConfigAggregateDiscovered => config_aggregate_discovered(&aggregated(ctx), top, text),
        DocFormat::AwsConfigAggregateBatch => {
            let mut part = config_items(
                &aggregated(ctx),
                top,
                text,
                "BaseConfigurationItems",
                "aws-config-batch-get-aggregate",
                false,
            )?;
            unprocessed_note(ctx, top, &mut part, "UnprocessedResourceIdentifiers", "resource identifier(s)")?;
            Ok(part)
        }
        DocFormat::AwsConfigHistory => config_items(ctx, top, text, "configurationItems", "aws-config-history", false),
        DocFormat::AwsConfigSnapshot => config_items(ctx, top, text, "configurationItems", "aws-config-snapshot", true),
        DocFormat::AwsConfigSelect => config_select(ctx, top),
        DocFormat::AwsResourceExplorer => resource_explorer(ctx, top, text),
        DocFormat::AwsEc2(kind) => ec2(ctx, top, text, kind),
        DocFormat::AwsIamRoles => {
            iam(ctx, top, text, "Roles", "AWS::IAM::Role", "RoleName", "RoleId", "iam-list-roles")
        }
        DocFormat::AwsIamUsers => {
            iam(ctx, top, text, "Users", "AWS::IAM::User", "UserName", "UserId", "iam-list-users")
        }
        DocFormat::AwsIamPolicies => {
            iam(ctx, top, text, "Policies", "AWS::IAM::Policy", "PolicyName", "PolicyId", "iam-list-policies")
        }
        DocFormat::AwsS3Buckets => s3_buckets(ctx, top, text),
        DocFormat::AwsKmsKeys => {
            simple_arn_list(ctx, top, text, "Keys", "KeyArn", "KeyId", None, "AWS::KMS::Key", "kms-list-keys")
        }
        DocFormat::AwsKmsAliases => simple_arn_list(
            ctx,
            top,
            text,
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
            text,
            "logGroups",
            "arn",
            "logGroupName",
            Some("logGroupName"),
            "AWS::Logs::LogGroup",
            "logs-describe-log-groups",
        ),
        DocFormat::AwsCollectManifest => collect_manifest(ctx, text),
        DocFormat::AwsSsmParameters => simple_arn_list(
            ctx,
            top,
            text,
            "Parameters",
            "ARN",
            "Name",
            Some("Name"),
            "AWS::SSM::Parameter",
            "ssm-describe-parameters",
        ),
    }
}

/// A batch read's entries the service left unprocessed: their items are not in the file. The
/// items vouch for nothing missing (the listings do), so the file is not wrong, only short: a
/// note says so; when `driftlock collect` wrote it, its manifest's error is what blocks.
fn unprocessed_note(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'_>,
    part: &mut Part,
    key: &'static str,
    noun: &str,
) -> Result<(), InputError> {
    let left = value_records(ctx, top, key)?.len();
    if left > 0 {
        part.notes.push(format!(
            "{}: {left} {noun} are in {key}: their configuration items are not in the file",
            ctx.file.name
        ));
    }
    Ok(())
}

/// `manifest.json` of `driftlock collect aws`: no resources (the listings are their own
/// files), but every call that failed is a coverage gap, exit 2, naming the call, the region and
/// the IAM action it needs.
fn collect_manifest(ctx: &Ctx<'_, '_>, text: &str) -> Result<Part, InputError> {
    let m: crate::collect::Manifest =
        serde_json::from_str(text).map_err(|e| InputError::from_json(ctx.file.name, text, 0, text, &e))?;
    let mut part = Part::default();
    // Point each error at its entry: the n-th `"call":` after `"errors"`.
    let errors_at = text.find("\"errors\"").unwrap_or(0);
    let mut from = errors_at;
    for e in &m.errors {
        let at = text[from..].find("\"call\"").map_or(errors_at, |i| from + i);
        from = at + 1;
        // A file written with part of its records (identifiers left unprocessed) is there
        // but incomplete; a failed call wrote none.
        let state = if m.calls.iter().any(|c| c.file == e.file) { "incomplete" } else { "missing" };
        let why = if e.denied {
            format!("the caller may not call it (grant {})", e.action)
        } else {
            "it failed after its retries".to_owned()
        };
        part.errors.push(
            InputError::new(
                &crate::code::INCOMPLETE_INVENTORY,
                ctx.file.name,
                format!(
                    "{}: {} in {} was not collected ({}{}: {}), so {} is {state}: {why}",
                    ctx.file.name,
                    e.call,
                    e.region,
                    e.code,
                    e.status.map(|s| format!(", HTTP {s}")).unwrap_or_default(),
                    e.message,
                    e.file
                ),
            )
            .with_help(format!(
                "grant {} to the collecting identity (`driftlock collect aws --print-policy` prints the whole policy) and collect again; a listing that could not be read is never an empty one",
                e.action
            ))
            .with_source_text(text)
            .with_span(at, 6, format!("{} in {}", e.call, e.region)),
        );
    }
    Ok(part)
}

/// `aws resourcegroupstaggingapi get-resources`: tagged resources only.
fn tagging<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str) -> Result<Part, InputError> {
    let key = "ResourceTagMappingList";
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Tagging(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    part.resources.reserve(recs.len());
    let mut regions = std::collections::BTreeSet::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let Some(arn) = rec.resource_arn.str() else {
            return Err(missing(ctx, top, text, key, i, "ResourceARN"));
        };
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        if let Some(reg) = &r.region {
            if !regions.contains(reg) {
                regions.insert(reg.clone());
            }
        }
        r.tags = Some(rec.tags.get().unwrap_or_default());
        part.resources.push(finish(r, ctx, "aws-tagging", located(key, i, offset).focus("ResourceARN")));
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

fn missing<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str, key: &str, i: usize, field: &str) -> InputError {
    let raw = top.raw(text, key).unwrap_or_else(|| top.entries[0].1);
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
fn config_discovered<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str) -> Result<Part, InputError> {
    let key = "resourceIdentifiers";
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Discovered(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    let mut types = std::collections::BTreeSet::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let (Some(t), Some(id)) = (rec.resource_type.str(), rec.resource_id.str()) else {
            return Err(missing(ctx, top, text, key, i, "resourceType/resourceId"));
        };
        if !types.contains(t) {
            types.insert(t.to_owned());
        }
        if rec.resource_deletion_time.present() && rec.resource_deletion_time != Field::Null {
            continue; // deleted: listed only with --include-deleted-resources
        }
        let name = rec.resource_name.str();
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
        part.resources.push(finish(r, ctx, "aws-config-list-discovered", located(key, i, offset).focus("resourceId")));
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

/// The context of an aggregator's file: its records name their own account and region (the
/// aggregator's), so the file's name and path give neither.
fn aggregated<'a, 'c>(ctx: &Ctx<'a, 'c>) -> Ctx<'a, 'c> {
    Ctx { file: ctx.file, catalog: ctx.catalog, hints: super::Hints::default() }
}

/// `aws configservice list-aggregate-discovered-resources`: every resource of a type in every
/// account and region the aggregator aggregates, each identifier naming its account and region.
/// It vouches for the type in each account and region it shows the type in (as
/// `list-discovered-resources` does for its file's region): a global type (IAM, which an
/// aggregator lists once per region) in its account, whatever the region.
fn config_aggregate_discovered<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str) -> Result<Part, InputError> {
    let key = "ResourceIdentifiers";
    let recs = records(ctx, top, text, key, |r| match r {
        Records::AggregateDiscovered(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    let mut seen: std::collections::BTreeSet<(String, Option<String>, Option<String>)> =
        std::collections::BTreeSet::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let (Some(t), Some(id)) = (rec.resource_type.str(), rec.resource_id.str()) else {
            return Err(missing(ctx, top, text, key, i, "ResourceType/ResourceId"));
        };
        let account = rec.source_account_id.str();
        let regional = ctx.catalog.for_cloud_type(t).first().is_none_or(|e| e.regional);
        let source_region = rec.source_region.str().filter(|r| *r != "global");
        // IAM is account-wide: the aggregator's region is not the resource's. An S3 bucket's
        // source region is the bucket's own.
        let region = if t.starts_with("AWS::IAM::") { None } else { source_region };
        let coverage_region = if regional { region } else { None };
        let slot = (t.to_owned(), coverage_region.map(str::to_owned), account.map(str::to_owned));
        if !seen.contains(&slot) {
            seen.insert(slot);
        }
        let name = rec.resource_name.str();
        let mut vars = vec![("id", id)];
        if let Some(n) = name {
            vars.push(("name", n));
        }
        let mut r = build(ctx, t, region, account, &vars).key(config_id_kind(t, id), id);
        if let Some(n) = name {
            r = name_key(ctx, r, t, n);
        }
        part.resources.push(finish(
            r,
            ctx,
            "aws-config-list-aggregate-discovered",
            located(key, i, offset).focus("ResourceId"),
        ));
    }
    for (t, region, account) in seen {
        part.coverage.push(ctx.coverage(
            Cloud::Aws,
            Some(Arc::from(t.as_str())),
            region,
            account,
            Scope::All,
            "aws-config-list-aggregate-discovered",
        ));
    }
    Ok(part)
}

/// Configuration items (`batch-get-resource-config`, `get-resource-config-history`, the
/// snapshot file delivered to S3). `configuration` is a JSON string in the API forms.
fn config_items<'t>(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'t>,
    text: &'t str,
    key: &'static str,
    format: &'static str,
    coverage: bool,
) -> Result<Part, InputError> {
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Items(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    let mut latest: BTreeMap<(String, String), (String, CloudResource, bool)> = BTreeMap::new();
    let mut types = std::collections::BTreeSet::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let (Some(t), Some(id)) = (rec.resource_type.str(), rec.resource_id.str()) else {
            return Err(missing(ctx, top, text, key, i, "resourceType/resourceId"));
        };
        types.insert(t.to_owned());
        let status = rec.configuration_item_status.str().unwrap_or("OK");
        let deleted = status.starts_with("ResourceDeleted") || status == "ResourceNotRecorded";
        let arn = rec.arn.str().or_else(|| rec.arn_upper.str());
        let account = rec.account_id.str().or_else(|| rec.aws_account_id.str());
        let region = rec.aws_region.str().filter(|r| *r != "global");
        let name = rec.resource_name.str();
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
        if let Tags::Read(tags) = rec.tags {
            r.tags = tags;
        }
        let configuration = match &rec.configuration {
            Field::Str(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
            other => other.value(),
        };
        r = config_attributes(r, t, id, &configuration);
        let time = rec.configuration_item_capture_time.str().unwrap_or("").to_owned();
        let r = finish(r, ctx, format, located(key, i, offset).focus("resourceId"));
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
    for (i, (rec, offset)) in value_records(ctx, top, "Results")?.iter().enumerate() {
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
            r.tags = (aws_tags(Some(tags))).map(Into::into);
        }
        if let Some(c) = v.get("configuration") {
            r = config_attributes(r, t, id, c);
        }
        part.resources.push(finish(r, ctx, "aws-config-select", located("Results", i, *offset)));
    }
    Ok(part)
}

/// `aws resource-explorer-2 search`.
fn resource_explorer<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str) -> Result<Part, InputError> {
    let mut part = Part::default();
    let mut types = std::collections::BTreeSet::new();
    for (i, (rec, offset)) in value_records(ctx, top, "Resources")?.iter().enumerate() {
        let Some(arn) = str_of(rec, "Arn") else { return Err(missing(ctx, top, text, "Resources", i, "Arn")) };
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        types.insert(r.cloud_type.clone());
        if let Some(props) = rec.get("Properties").and_then(Value::as_array) {
            for p in props {
                if str_of(p, "Name") == Some("tags") {
                    r.tags = (aws_tags(p.get("Data"))).map(Into::into);
                }
            }
        }
        r.region = str_of(rec, "Region").filter(|r| *r != "global").map(str::to_owned).or(r.region);
        r.account = str_of(rec, "OwningAccountId").map(str::to_owned).or(r.account);
        part.resources.push(finish(r, ctx, "aws-resource-explorer", located("Resources", i, *offset).focus("Arn")));
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

fn ec2<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str, kind: Ec2Kind) -> Result<Part, InputError> {
    let (key, cloud_type, format) = kind.info();
    let mut part = Part::default();
    let mut regions = std::collections::BTreeSet::new();
    let mut push = |r: CloudResource, loc: Locator, part: &mut Part| {
        let r = finish(r, ctx, format, loc);
        if let Some(reg) = &r.region {
            if !regions.contains(reg) {
                regions.insert(reg.clone());
            }
        }
        part.resources.push(r);
    };
    if kind == Ec2Kind::Instances {
        let recs = records(ctx, top, text, key, |r| match r {
            Records::Reservations(v) => Some(v),
            _ => None,
        })?;
        for (i, rec) in recs.into_iter().enumerate() {
            let rec = rec.value;
            let owner = rec.owner_id.str();
            for (j, inst) in rec.instances.0.into_iter().enumerate() {
                let offset = inst.offset(text);
                let inst = inst.value;
                let Some(id) = inst.instance_id.str() else { continue };
                let state = inst.state.0.name.as_str().unwrap_or("");
                if state == "terminated" {
                    continue;
                }
                let region = inst
                    .placement
                    .0
                    .availability_zone
                    .as_str()
                    .and_then(az_region)
                    .or_else(|| ctx.hints.region.clone());
                let mut r =
                    build(ctx, cloud_type, region.as_deref(), owner.or(ctx.hints.account.as_deref()), &[("id", id)])
                        .key(KeyKind::Id, id);
                r.tags = Some(inst.tags.get().unwrap_or_default());
                r = r.attr("instance_type", inst.instance_type.value()).attr("state", state);
                let loc = match offset {
                    Some(_) => located(key, i, offset),
                    None => Locator::new(vec![
                        Seg::Key("Reservations"),
                        Seg::Index(i as u32),
                        Seg::Key("Instances"),
                        Seg::Index(j as u32),
                    ]),
                };
                push(r, loc, &mut part);
            }
        }
    } else {
        let recs = records(ctx, top, text, key, |r| match r {
            Records::Ec2(v) => Some(v),
            _ => None,
        })?;
        part.resources.reserve(recs.len());
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
        for (i, rec) in recs.into_iter().enumerate() {
            let offset = rec.offset(text);
            let mut rec = rec.value;
            let tags = std::mem::take(&mut rec.tags).get().unwrap_or_default();
            let Some(id) = rec.id(kind).str() else { return Err(missing(ctx, top, text, key, i, id_field)) };
            let owner = rec.owner_id.str().or(ctx.hints.account.as_deref());
            let own_arn = [&rec.subnet_arn, &rec.security_group_arn, &rec.vpc_arn].into_iter().find_map(Field::str);
            let region = own_arn
                .and_then(|a| crate::catalog::arn::Arn::parse(a).and_then(|a| a.region().map(str::to_owned)))
                .or_else(|| rec.availability_zone.as_str().and_then(az_region))
                .or_else(|| ctx.hints.region.clone());
            let mut r = build(ctx, cloud_type, region.as_deref(), owner, &[("id", id)]).key(KeyKind::Id, id);
            if let Some(a) = own_arn {
                r = r.key(KeyKind::Arn, a);
                r.cloud_id = a.to_owned();
            }
            r.tags = Some(tags);
            r = match kind {
                Ec2Kind::Vpcs => r
                    .attr("cidr_block", rec.cidr_block.value())
                    .attr("is_default", rec.is_default.value())
                    .attr("dhcp_options_id", rec.dhcp_options_id.value()),
                Ec2Kind::Subnets => r
                    .attr("cidr_block", rec.cidr_block.value())
                    .attr("vpc_id", rec.vpc_id.value())
                    .attr("default_for_az", rec.default_for_az.value()),
                Ec2Kind::SecurityGroups => {
                    let nctx = NormalizeCtx { self_id: Some(id) };
                    r.attr("group_name", rec.group_name.value())
                        .attr("vpc_id", rec.vpc_id.value())
                        .attr("ingress", sg_rules(&rec.ip_permissions.value_ref(), &nctx))
                        .attr("egress", sg_rules(&rec.ip_permissions_egress.value_ref(), &nctx))
                }
                Ec2Kind::InternetGateways => {
                    let vpcs: Vec<Value> = match &rec.attachments {
                        Field::Other(Value::Array(a)) => a.iter().filter_map(|a| a.get("VpcId").cloned()).collect(),
                        _ => Vec::new(),
                    };
                    r.attr("attached_vpcs", Value::Array(vpcs))
                }
                Ec2Kind::RouteTables => {
                    let main = match &rec.associations {
                        Field::Other(Value::Array(a)) => {
                            a.iter().any(|x| x.get("Main").and_then(Value::as_bool) == Some(true))
                        }
                        _ => false,
                    };
                    r.attr("vpc_id", rec.vpc_id.value()).attr("main", main).attr("route_count", rec.routes.0)
                }
                Ec2Kind::NetworkAcls => r
                    .attr("vpc_id", rec.vpc_id.value())
                    .attr("is_default", rec.is_default.value())
                    .attr("entry_count", rec.entries.0),
                Ec2Kind::DhcpOptions | Ec2Kind::Instances => r,
            };
            push(r, located(key, i, offset).focus(id_field), &mut part);
        }
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
fn iam<'t>(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'t>,
    text: &'t str,
    key: &'static str,
    cloud_type: &str,
    name_f: &str,
    id_f: &str,
    format: &'static str,
) -> Result<Part, InputError> {
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Iam(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    let cloud_type_arc: Arc<str> = Arc::from(cloud_type);
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let Some(arn) = rec.arn.str() else { return Err(missing(ctx, top, text, key, i, "Arn")) };
        // AWS-managed policies (`arn:aws:iam::aws:policy/…`) belong to AWS, not the account.
        if arn.contains(":iam::aws:") {
            continue;
        }
        let Some(mut r) = from_arn(ctx, arn) else { continue };
        r.cloud_type = cloud_type_arc.clone();
        if let Some(n) = rec.field(name_f).str() {
            r = r.key(KeyKind::Name, n);
            r.name = Some(n.to_owned());
        }
        if let Some(u) = rec.field(id_f).str() {
            r = r.key(KeyKind::UniqueId, u);
        }
        r = r.attr("path", rec.path.value());
        if rec.assume_role_policy_document.present() {
            r = r.attr("assume_role_policy", json_doc(&rec.assume_role_policy_document.value_ref()));
        }
        if let Tags::Read(tags) = rec.tags {
            r.tags = tags;
        }
        part.resources.push(finish(r, ctx, format, located(key, i, offset).focus("Arn")));
    }
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(cloud_type_arc),
        None,
        ctx.hints.account.clone(),
        Scope::All,
        format,
    ));
    Ok(part)
}

fn s3_buckets<'t>(ctx: &Ctx<'_, '_>, top: &TopLevel<'t>, text: &'t str) -> Result<Part, InputError> {
    let key = "Buckets";
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Buckets(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let Some(name) = rec.name.str() else { return Err(missing(ctx, top, text, key, i, "Name")) };
        let arn = format!("arn:aws:s3:::{name}");
        let Some(mut r) = from_arn(ctx, &arn) else { continue };
        r = r.key(KeyKind::Id, name);
        r.name = Some(name.to_owned());
        r.region = rec.bucket_region.str().map(str::to_owned);
        part.resources.push(finish(r, ctx, "s3api-list-buckets", located(key, i, offset).focus("Name")));
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
fn simple_arn_list<'t>(
    ctx: &Ctx<'_, '_>,
    top: &TopLevel<'t>,
    text: &'t str,
    key: &'static str,
    arn_f: &str,
    id_f: &str,
    name_f: Option<&str>,
    cloud_type: &str,
    format: &'static str,
) -> Result<Part, InputError> {
    let recs = records(ctx, top, text, key, |r| match r {
        Records::Arns(v) => Some(v),
        _ => None,
    })?;
    let mut part = Part::default();
    part.resources.reserve(recs.len());
    let cloud_type_arc: Arc<str> = Arc::from(cloud_type);
    let mut regions = std::collections::BTreeSet::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let offset = rec.offset(text);
        let rec = rec.value;
        let id = rec.field(id_f).str();
        let mut r = match rec.field(arn_f).str().and_then(|a| from_arn(ctx, a)) {
            Some(r) => r,
            None => {
                let Some(id) = id else { return Err(missing(ctx, top, text, key, i, id_f)) };
                let vars = [("id", id), ("key_id", id), ("name", id)];
                build(ctx, cloud_type, ctx.hints.region.as_deref(), ctx.hints.account.as_deref(), &vars)
            }
        };
        r.cloud_type = cloud_type_arc.clone();
        if let Some(id) = id {
            r = r.key(if name_f == Some(id_f) { KeyKind::Name } else { KeyKind::Id }, id);
        }
        if let Some(n) = name_f.and_then(|f| rec.field(f).str()) {
            r = r.key(KeyKind::Name, n);
            r.name = Some(n.to_owned());
        }
        if let Some(t) = rec.target_key_id.str() {
            r = r.attr("target_key_id", t);
        }
        if let Some(reg) = &r.region {
            if !regions.contains(reg) {
                regions.insert(reg.clone());
            }
        }
        part.resources.push(finish(r, ctx, format, located(key, i, offset).focus(id_f_static(id_f))));
    }
    let region =
        ctx.hints.region.clone().or_else(|| (regions.len() == 1).then(|| regions.iter().next().cloned()).flatten());
    part.coverage.push(ctx.coverage(
        Cloud::Aws,
        Some(cloud_type_arc),
        region,
        ctx.hints.account.clone(),
        Scope::All,
        format,
    ));
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::ingest::{Parsed, parse_text};
    use crate::model::Coverage;
    use crate::source::SourceId;

    const DIR: &str = "testdata/inventory/aws-aggregate";

    /// A file of the aggregate testdata (the aws CLI's output against moto), read under `name`.
    fn read(file: &str, name: &str) -> Part {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match parse_text(SourceId(0), name, &text, Catalog::builtin()) {
            Ok(Parsed::Inventory(part)) => part,
            Ok(other) => panic!("{file}: not an inventory: {other:?}"),
            Err(e) => panic!("{file}: {}: {}", e.code.code, e.message),
        }
    }

    fn find<'p>(p: &'p Part, id: &str) -> &'p CloudResource {
        p.resources.iter().find(|r| r.cloud_id.contains(id)).unwrap_or_else(|| panic!("no {id}"))
    }

    fn place(r: &CloudResource) -> (Option<&str>, Option<&str>) {
        (r.region.as_deref(), r.account.as_deref())
    }

    /// A coverage statement: type, region, account, scope, format.
    type Vouch<'p> = (Option<&'p str>, Option<&'p str>, Option<&'p str>, Scope, &'static str);

    fn scopes(p: &Part) -> Vec<Vouch<'_>> {
        p.coverage
            .iter()
            .map(|c: &Coverage| (c.cloud_type.as_deref(), c.region.as_deref(), c.account.as_deref(), c.scope, c.format))
            .collect()
    }

    const ACCOUNT: Option<&str> = Some("123456789012");
    const LISTED: &str = "aws-config-list-aggregate-discovered";

    /// A listing that does not say its account vouches for the one its records all show; a
    /// record's own account wins over the file's hint.
    #[test]
    fn a_listing_vouches_for_the_account_its_records_show() {
        let roles = |accounts: &[&str]| {
            let list: Vec<String> = accounts
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    format!(r#"{{"RoleName": "r{i}", "RoleId": "AROA{i}", "Path": "/", "Arn": "arn:aws:iam::{a}:role/r{i}"}}"#)
                })
                .collect();
            format!(r#"{{"Roles": [{}]}}"#, list.join(","))
        };
        let vouched = |text: &str| match parse_text(SourceId(0), "iam-list-roles.json", text, Catalog::builtin()) {
            Ok(Parsed::Inventory(p)) => p.coverage.iter().map(|c| c.account.clone()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(vouched(&roles(&["111111111111", "111111111111"])), [Some("111111111111".to_owned())]);
        // Two accounts, or none shown: nothing narrows it.
        assert_eq!(vouched(&roles(&["111111111111", "222222222222"])), [None]);
        assert_eq!(vouched(&roles(&[])), [None]);
        // An AWSLogs path names the account; a record's ARN still places the record.
        let text = roles(&["111111111111"]);
        let name = "AWSLogs/333333333333/iam-list-roles.json";
        match parse_text(SourceId(0), name, &text, Catalog::builtin()) {
            Ok(Parsed::Inventory(p)) => {
                assert_eq!(p.coverage[0].account.as_deref(), Some("333333333333"));
                assert_eq!(p.resources[0].account.as_deref(), Some("111111111111"));
            }
            other => panic!("{other:?}"),
        }
    }

    /// `batch-get-resource-config`'s unprocessed keys: the file is read (a file holding only
    /// them too), vouches for nothing, and says what it lacks.
    #[test]
    fn regional_batch_items_with_unprocessed_keys_are_said_to_be_short() {
        let text = r#"{"baseConfigurationItems": [], "unprocessedResourceKeys": [{"resourceType": "AWS::S3::Bucket", "resourceId": "b"}]}"#;
        for text in [text.to_owned(), text.replace(r#""baseConfigurationItems": [], "#, "")] {
            match parse_text(SourceId(0), "config-batch-get.us-east-1.json", &text, Catalog::builtin()) {
                Ok(Parsed::Inventory(p)) => {
                    assert!(p.coverage.is_empty() && p.resources.is_empty() && p.errors.is_empty());
                    assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
                    assert!(p.notes[0].contains("1 resource key(s) are in unprocessedResourceKeys"), "{}", p.notes[0]);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn aggregate_listing_places_each_resource_by_its_own_account_and_region() {
        let file = "config-list-aggregate-discovered-s3.us-east-1.json";
        // The file's name (a region) and an AWSLogs path (an account) say nothing about the
        // records: an aggregator's records name their own.
        for name in [file.to_owned(), format!("AWSLogs/999999999999/Config/eu-west-1/{file}")] {
            let p = read(file, &name);
            assert_eq!(p.resources.len(), 3, "{name}");
            assert_eq!(place(find(&p, ":::dl-agg-west")), (Some("us-west-2"), ACCOUNT), "{name}");
            assert_eq!(place(find(&p, ":::dl-agg-east")), (Some("us-east-1"), ACCOUNT), "{name}");
            let west = find(&p, ":::dl-agg-west");
            assert_eq!(west.cloud_type.as_ref(), "AWS::S3::Bucket");
            assert!(west.keys.contains(&crate::model::Key::new(KeyKind::Arn, "arn:aws:s3:::dl-agg-west")));
            assert_eq!(west.sightings[0].format, LISTED);
            // Buckets are a global type: vouched for in the account, whatever the region.
            assert_eq!(scopes(&p), [(Some("AWS::S3::Bucket"), None, ACCOUNT, Scope::All, LISTED)], "{name}");
            assert!(p.resources.iter().all(|r| r.tags.is_none()), "a listing knows no tags");
        }
    }

    #[test]
    fn aggregate_listing_vouches_for_a_regional_type_in_the_region_it_shows() {
        let p = read(
            "config-list-aggregate-discovered-sns-topic.us-east-1.json",
            "AWSLogs/999999999999/Config/eu-west-1/topics.json",
        );
        let topic = find(&p, "dl-agg-alerts");
        assert_eq!(topic.cloud_id, "arn:aws:sns:us-east-1:123456789012:dl-agg-alerts");
        assert_eq!(place(topic), (Some("us-east-1"), ACCOUNT));
        assert_eq!(scopes(&p), [(Some("AWS::SNS::Topic"), Some("us-east-1"), ACCOUNT, Scope::All, LISTED)]);
    }

    #[test]
    fn aggregate_listing_of_a_global_type_lists_it_once_per_region_as_one_resource() {
        let p = read("config-list-aggregate-discovered-iam-role.us-east-1.json", "roles.json");
        // moto (like AWS) lists the role in each aggregated region; one role, no region.
        assert_eq!(p.resources.len(), 2);
        for r in &p.resources {
            assert_eq!(place(r), (None, ACCOUNT));
            assert_eq!(r.cloud_id, "arn:aws:iam::123456789012:role/dl-agg-role");
            assert!(r.keys.contains(&crate::model::Key::new(KeyKind::Name, "dl-agg-role")));
        }
        assert_eq!(scopes(&p), [(Some("AWS::IAM::Role"), None, ACCOUNT, Scope::All, LISTED)]);
    }

    #[test]
    fn aggregate_items_carry_their_account_and_region_and_no_tags() {
        let p = read("config-batch-get-aggregate.us-east-1.json", "config-batch-get-aggregate.eu-west-1.json");
        let mut ids: Vec<&str> = p.resources.iter().map(|r| r.cloud_id.as_str()).collect();
        ids.sort_unstable();
        // The role's two items (one per aggregated region) are one resource.
        assert_eq!(
            ids,
            ["arn:aws:iam::123456789012:role/dl-agg-role", "arn:aws:s3:::dl-agg-east", "arn:aws:s3:::dl-agg-west"]
        );
        assert_eq!(place(find(&p, ":::dl-agg-west")), (Some("us-west-2"), ACCOUNT));
        assert_eq!(place(find(&p, ":::dl-agg-east")), (Some("us-east-1"), ACCOUNT));
        assert_eq!(place(find(&p, ":role/dl-agg-role")), (None, ACCOUNT));
        let role = find(&p, ":role/dl-agg-role");
        assert_eq!(role.attributes.get("path"), Some(&Value::String("/".into())));
        assert_eq!(role.sightings[0].format, "aws-config-batch-get-aggregate");
        // BaseConfigurationItems carry no tags: nothing is said about them (no tag drift).
        assert!(p.resources.iter().all(|r| r.tags.is_none()));
        // Items vouch for nothing missing (the listing does); the unprocessed identifier is said.
        assert!(p.coverage.is_empty());
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert!(
            p.notes[0].contains("1 resource identifier(s) are in UnprocessedResourceIdentifiers"),
            "{}",
            p.notes[0]
        );
        assert!(p.errors.is_empty());
    }
}
