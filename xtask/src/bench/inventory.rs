//! Inventory exports, shaped as the aws CLI prints them (`json.dumps(indent=4)`, the API's
//! member names and order), one folder per account and region, long listings split into
//! pages of `PAGE` records the way `--max-items`/`--starting-token` exports are, about one
//! file in four gzipped.
//!
//! Region-scoped files carry the region in their name (`ec2-describe-vpcs.us-east-1.json`) so
//! each export vouches for its own region only. `ap-southeast-2` holds states but is never
//! exported: its instances are unverifiable, not missing.

use std::collections::HashMap;

use super::ident::{Ident, cidr, cloud_tags, ec2_id, iam_unique, private_ip, uuid};
use super::json::Json;
use super::plan::{ACCOUNTS, COVERED, Fate, Kind, Origin, Plan, REGIONS, Res, mix};
use super::state::{
    Rule, assume_role_service, az, az_id, egress_rules, ingress_rules, instance_type, region_default_id, vpc_defaults,
    vpc_id,
};

/// Records per exported page.
pub(crate) const PAGE: usize = 5000;
/// AWS-managed policies `iam list-policies` (scope All) returns per account; driftlock skips them.
const AWS_POLICIES: u32 = 900;
/// `alias/aws/*` aliases (and their AWS-managed keys) per region; the last one has no key yet.
const AWS_ALIASES: [&str; 6] =
    ["alias/aws/ebs", "alias/aws/s3", "alias/aws/rds", "alias/aws/ssm", "alias/aws/lambda", "alias/aws/acm"];
const SERVICE_ROLES: [(&str, &str); 4] = [
    ("AWSServiceRoleForSupport", "support.amazonaws.com"),
    ("AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com"),
    ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com"),
    ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"),
];
const CONFIG_KINDS: [Kind; 3] = [Kind::Vpc, Kind::Subnet, Kind::S3Bucket];

/// What one export lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    Ec2(Kind),
    KmsKeys,
    KmsAliases,
    LogGroups,
    SsmParameters,
    Tagging,
    /// `configservice list-discovered-resources --resource-type …`
    Config(Kind),
    IamRoles,
    IamUsers,
    IamPolicies,
    S3Buckets,
}

impl Listing {
    fn file_prefix(self) -> String {
        match self {
            Listing::Ec2(k) => format!(
                "ec2-describe-{}",
                match k {
                    Kind::Vpc => "vpcs",
                    Kind::Subnet => "subnets",
                    Kind::SecurityGroup => "security-groups",
                    Kind::InternetGateway => "internet-gateways",
                    Kind::RouteTable => "route-tables",
                    Kind::NetworkAcl => "network-acls",
                    Kind::DhcpOptions => "dhcp-options",
                    _ => "instances",
                }
            ),
            Listing::KmsKeys => "kms-list-keys".into(),
            Listing::KmsAliases => "kms-list-aliases".into(),
            Listing::LogGroups => "logs-describe-log-groups".into(),
            Listing::SsmParameters => "ssm-describe-parameters".into(),
            Listing::Tagging => "tagging-get-resources".into(),
            Listing::Config(k) => format!(
                "config-list-discovered-{}",
                match k {
                    Kind::Vpc => "ec2-vpc",
                    Kind::Subnet => "ec2-subnet",
                    Kind::S3Bucket => "s3",
                    Kind::SecurityGroup => "ec2-security-group",
                    _ => "iam-role",
                }
            ),
            Listing::IamRoles => "iam-list-roles".into(),
            Listing::IamUsers => "iam-list-users".into(),
            Listing::IamPolicies => "iam-list-policies".into(),
            Listing::S3Buckets => "s3api-list-buckets".into(),
        }
    }

    fn array_key(self) -> &'static str {
        match self {
            Listing::Ec2(k) => match k {
                Kind::Vpc => "Vpcs",
                Kind::Subnet => "Subnets",
                Kind::SecurityGroup => "SecurityGroups",
                Kind::InternetGateway => "InternetGateways",
                Kind::RouteTable => "RouteTables",
                Kind::NetworkAcl => "NetworkAcls",
                Kind::DhcpOptions => "DhcpOptions",
                _ => "Reservations",
            },
            Listing::KmsKeys => "Keys",
            Listing::KmsAliases => "Aliases",
            Listing::LogGroups => "logGroups",
            Listing::SsmParameters => "Parameters",
            Listing::Tagging => "ResourceTagMappingList",
            Listing::Config(_) => "resourceIdentifiers",
            Listing::IamRoles => "Roles",
            Listing::IamUsers => "Users",
            Listing::IamPolicies => "Policies",
            Listing::S3Buckets => "Buckets",
        }
    }
}

/// One export to write: a listing of an account, in a region (`None`: account-wide).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub(crate) listing: Listing,
    pub(crate) account: u8,
    pub(crate) region: Option<u8>,
}

/// Every export of the estate.
pub(crate) fn jobs(plan: &Plan) -> Vec<Job> {
    let mut out = Vec::new();
    for account in 0..ACCOUNTS.len() as u8 {
        for listing in [Listing::IamRoles, Listing::IamUsers, Listing::IamPolicies, Listing::S3Buckets] {
            out.push(Job { listing, account, region: None });
        }
        for region in 0..COVERED as u8 {
            let mut regional: Vec<Listing> = Kind::ALL.iter().filter(|k| k.ec2()).map(|k| Listing::Ec2(*k)).collect();
            regional.extend([
                Listing::KmsKeys,
                Listing::KmsAliases,
                Listing::LogGroups,
                Listing::SsmParameters,
                Listing::Tagging,
            ]);
            regional.extend(CONFIG_KINDS.iter().map(|k| Listing::Config(*k)));
            if plan.shared_names {
                regional.push(Listing::Config(Kind::SecurityGroup));
            }
            if region == 0 {
                regional.push(Listing::Config(Kind::IamRole));
            }
            for listing in regional {
                out.push(Job { listing, account, region: Some(region) });
            }
        }
    }
    out
}

/// Provider defaults: what AWS creates by itself.
#[derive(Debug, Clone, Copy)]
enum Def {
    Vpc,
    Subnet(u8),
    Igw,
    Dhcp,
    /// A VPC's default security group, main route table, default network ACL: of the region's
    /// default VPC (`None`) or of a VPC of the estate.
    Sg(Option<u32>),
    MainRt(Option<u32>),
    Acl(Option<u32>),
    AwsKey(u8),
    AwsAlias(u8),
    ServiceRole(u8),
    AwsPolicy(u32),
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Res(u32),
    /// A deleted resource some exports still show: a terminated instance, a Config record
    /// with `resourceDeletionTime`.
    Gone(u32),
    Default(Def),
}

/// Listed resources by account, region and kind (IAM in region 0), and the deleted ones.
pub(crate) struct Buckets {
    listed: HashMap<(u8, u8, Kind), Vec<u32>>,
    gone: HashMap<(u8, u8, Kind), Vec<u32>>,
}

impl Buckets {
    pub(crate) fn new(plan: &Plan) -> Buckets {
        let mut b = Buckets { listed: HashMap::new(), gone: HashMap::new() };
        for r in &plan.res {
            let slot = (r.account, r.region, r.kind);
            if r.fate.listed() {
                b.listed.entry(slot).or_default().push(r.serial);
            } else if r.fate == Fate::Missing && r.serial % 2 == 0 {
                b.gone.entry(slot).or_default().push(r.serial);
            }
        }
        b
    }

    fn listed(&self, account: u8, region: u8, kind: Kind) -> &[u32] {
        self.listed.get(&(account, region, kind)).map_or(&[], Vec::as_slice)
    }

    fn gone(&self, account: u8, region: u8, kind: Kind) -> &[u32] {
        self.gone.get(&(account, region, kind)).map_or(&[], Vec::as_slice)
    }
}

/// One file written.
pub(crate) struct Written {
    pub(crate) rel: String,
    /// Records in it (resource entries; AWS-managed policies and deleted resources included).
    pub(crate) records: u64,
    pub(crate) raw_bytes: u64,
    pub(crate) gzip: bool,
    pub(crate) bytes: Vec<u8>,
}

fn items(plan: &Plan, b: &Buckets, job: Job) -> Vec<Item> {
    let a = job.account;
    let res = |v: &[u32]| v.iter().map(|s| Item::Res(*s)).collect::<Vec<_>>();
    let gone = |v: &[u32]| v.iter().map(|s| Item::Gone(*s)).collect::<Vec<_>>();
    let all_regions =
        |k: Kind| -> Vec<u32> { (0..REGIONS.len() as u8).flat_map(|r| b.listed(a, r, k).iter().copied()).collect() };
    let Some(region) = job.region else {
        return match job.listing {
            Listing::IamRoles => {
                let mut v = res(b.listed(a, 0, Kind::IamRole));
                v.extend((0..SERVICE_ROLES.len() as u8).map(|n| Item::Default(Def::ServiceRole(n))));
                v
            }
            Listing::IamUsers => res(b.listed(a, 0, Kind::IamUser)),
            Listing::IamPolicies => {
                let mut v: Vec<Item> = (0..AWS_POLICIES).map(|n| Item::Default(Def::AwsPolicy(n))).collect();
                v.extend(res(b.listed(a, 0, Kind::IamPolicy)));
                v
            }
            _ => res(&all_regions(Kind::S3Bucket)),
        };
    };
    // AWS-managed KMS keys and their `alias/aws/*` aliases exist in every account and region;
    // unless asked, export them for one only (see `Plan::shared_names`).
    let aws_kms = plan.shared_names || (a == 0 && region == 0);
    // VPCs of the estate in this slot: AWS made their default SG, main route table and ACL.
    let vpcs = b.listed(a, region, Kind::Vpc);
    let per_vpc = |f: fn(Option<u32>) -> Def| -> Vec<Item> {
        std::iter::once(None).chain(vpcs.iter().map(|v| Some(*v))).map(|v| Item::Default(f(v))).collect()
    };
    match job.listing {
        Listing::Ec2(k) => {
            let mut v = res(b.listed(a, region, k));
            match k {
                Kind::Vpc => v.push(Item::Default(Def::Vpc)),
                Kind::Subnet => v.extend((0..3).map(|n| Item::Default(Def::Subnet(n)))),
                Kind::InternetGateway => v.push(Item::Default(Def::Igw)),
                Kind::DhcpOptions => v.push(Item::Default(Def::Dhcp)),
                Kind::SecurityGroup => v.extend(per_vpc(Def::Sg)),
                Kind::RouteTable => v.extend(per_vpc(Def::MainRt)),
                Kind::NetworkAcl => v.extend(per_vpc(Def::Acl)),
                Kind::Instance => v.extend(gone(b.gone(a, region, k))),
                _ => {}
            }
            // Listings come back in id order, not in the order anything was made.
            v.sort_by_key(|i| match i {
                Item::Res(s) | Item::Gone(s) => mix(u64::from(*s)),
                Item::Default(_) => 0,
            });
            v
        }
        Listing::KmsKeys => {
            let mut v = res(b.listed(a, region, Kind::KmsKey));
            if aws_kms {
                v.extend((0..AWS_ALIASES.len() as u8 - 1).map(|n| Item::Default(Def::AwsKey(n))));
            }
            v
        }
        Listing::KmsAliases => {
            let mut v: Vec<Item> = Vec::new();
            if aws_kms {
                v.extend((0..AWS_ALIASES.len() as u8).map(|n| Item::Default(Def::AwsAlias(n))));
            }
            v.extend(res(b.listed(a, region, Kind::KmsAlias)));
            v
        }
        Listing::LogGroups => res(b.listed(a, region, Kind::LogGroup)),
        Listing::SsmParameters => res(b.listed(a, region, Kind::SsmParameter)),
        Listing::Tagging => {
            let mut v = Vec::new();
            for k in Kind::ALL.iter().filter(|k| k.tagging_api()) {
                if k.iam() && region != 0 {
                    continue;
                }
                for s in b.listed(a, if k.iam() { 0 } else { region }, *k) {
                    let r = &plan.res[*s as usize];
                    // The tagging API lists only resources that have tags.
                    if r.origin == Origin::Hand && !r.name_tag {
                        continue;
                    }
                    v.push(Item::Res(*s));
                }
            }
            v
        }
        Listing::Config(k) => {
            let mut v = res(b.listed(a, region, k));
            match k {
                Kind::Vpc => v.push(Item::Default(Def::Vpc)),
                Kind::Subnet => v.extend((0..3).map(|n| Item::Default(Def::Subnet(n)))),
                Kind::SecurityGroup => v.extend(per_vpc(Def::Sg)),
                Kind::IamRole => v.extend((0..SERVICE_ROLES.len() as u8).map(|n| Item::Default(Def::ServiceRole(n)))),
                _ => {}
            }
            v.extend(gone(b.gone(a, region, k)));
            v
        }
        Listing::IamRoles | Listing::IamUsers | Listing::IamPolicies | Listing::S3Buckets => Vec::new(),
    }
}

/// Writes every page of one export.
pub(crate) fn write(plan: &Plan, b: &Buckets, job: Job) -> Vec<Written> {
    let items = items(plan, b, job);
    let acct = ACCOUNTS[job.account as usize];
    let dir = match job.region {
        Some(r) => format!("{acct}/{}", REGIONS[r as usize]),
        None => format!("{acct}/global"),
    };
    let prefix = job.listing.file_prefix();
    let region_part = job.region.map(|r| format!(".{}", REGIONS[r as usize])).unwrap_or_default();
    let pages: Vec<&[Item]> = if items.is_empty() { vec![&[][..]] } else { items.chunks(PAGE).collect() };
    let n_pages = pages.len();
    let mut out = Vec::with_capacity(n_pages);
    for (p, page) in pages.into_iter().enumerate() {
        let page_part = if n_pages > 1 { format!(".p{:03}", p + 1) } else { String::new() };
        let mut rel = format!("{dir}/{prefix}{region_part}{page_part}.json");
        let gzip = mix(plan.seed ^ fnv(&rel)).is_multiple_of(4);
        if gzip {
            rel.push_str(".gz");
        }
        let mut j = Json::new(4, page.len() * 600 + 256);
        j.obj().key(job.listing.array_key()).arr();
        let mut records = 0u64;
        for item in page {
            records += record(&mut j, plan, job, *item);
        }
        j.end_arr();
        match job.listing {
            Listing::S3Buckets => {
                j.key("Owner").obj().ks("DisplayName", "platform").ks("ID", &format!("{:016x}{:016x}", mix(1), mix(2)));
                j.end().knull("Prefix");
            }
            Listing::KmsKeys | Listing::KmsAliases => {
                j.kb("Truncated", false);
            }
            _ => {}
        }
        j.end();
        let bytes = j.finish();
        out.push(Written { rel, records, raw_bytes: bytes.len() as u64, gzip, bytes });
    }
    out
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn tags_member(j: &mut Json, key: &str, tags: &[(String, String)]) {
    // The EC2 API leaves `Tags` out when there are none.
    if !tags.is_empty() {
        j.ktags(key, tags);
    }
}

fn permissions(j: &mut Json, key: &str, rules: &[Rule], acct: &str, self_id: &str) {
    j.key(key).arr();
    for r in rules {
        j.obj();
        j.ks("IpProtocol", r.protocol);
        if r.protocol != "-1" {
            j.kn("FromPort", r.from).kn("ToPort", r.to);
        }
        j.key("UserIdGroupPairs").arr();
        for g in &r.groups {
            j.obj();
            if !r.description.is_empty() {
                j.ks("Description", r.description);
            }
            j.ks("UserId", acct).ks("GroupId", g).end();
        }
        if r.self_ {
            j.obj().ks("UserId", acct).ks("GroupId", self_id).end();
        }
        j.end_arr();
        j.key("IpRanges").arr();
        for c in &r.cidrs {
            j.obj();
            if !r.description.is_empty() {
                j.ks("Description", r.description);
            }
            j.ks("CidrIp", c).end();
        }
        j.end_arr();
        j.kempty("Ipv6Ranges").kempty("PrefixListIds");
        j.end();
    }
    j.end_arr();
}

fn sg_record(j: &mut Json, g: &SgRec<'_>) {
    j.obj();
    j.ks("GroupId", g.id);
    permissions(j, "IpPermissionsEgress", &egress_rules(), g.acct, g.id);
    tags_member(j, "Tags", g.tags);
    j.ks("VpcId", g.vpc);
    j.ks("SecurityGroupArn", &format!("arn:aws:ec2:{}:{}:security-group/{}", g.region, g.acct, g.id));
    j.ks("OwnerId", g.acct).ks("GroupName", g.name).ks("Description", g.description);
    permissions(j, "IpPermissions", g.ingress, g.acct, g.id);
    j.end();
}

struct SgRec<'a> {
    id: &'a str,
    acct: &'a str,
    region: &'a str,
    vpc: &'a str,
    name: &'a str,
    description: &'a str,
    tags: &'a [(String, String)],
    ingress: &'a [Rule],
}

fn vpc_record(j: &mut Json, id: &str, acct: &str, cidr: &str, default: bool, dopt: &str, tags: &[(String, String)]) {
    j.obj().ks("OwnerId", acct).ks("InstanceTenancy", "default").kempty("Ipv6CidrBlockAssociationSet");
    j.key("CidrBlockAssociationSet").arr().obj();
    j.ks("AssociationId", &format!("vpc-cidr-assoc-0{:016x}", mix(fnv(id))));
    j.ks("CidrBlock", cidr).key("CidrBlockState").obj().ks("State", "associated").end().end().end_arr();
    j.kb("IsDefault", default);
    tags_member(j, "Tags", tags);
    j.key("BlockPublicAccessStates").obj().ks("InternetGatewayBlockMode", "off").end();
    j.ks("VpcId", id).ks("State", "available").ks("CidrBlock", cidr).ks("DhcpOptionsId", dopt).end();
}

#[allow(clippy::too_many_arguments)]
fn subnet_record(
    j: &mut Json,
    id: &str,
    acct: &str,
    region: u8,
    n: u64,
    vpc: &str,
    cidr: &str,
    default: bool,
    tags: &[(String, String)],
) {
    let rname = REGIONS[region as usize];
    j.obj().ks("AvailabilityZoneId", &az_id(region, n)).kb("MapCustomerOwnedIpOnLaunch", false);
    j.ks("OwnerId", acct).kb("AssignIpv6AddressOnCreation", false).kempty("Ipv6CidrBlockAssociationSet");
    tags_member(j, "Tags", tags);
    j.ks("SubnetArn", &format!("arn:aws:ec2:{rname}:{acct}:subnet/{id}")).kb("EnableDns64", false);
    j.kb("Ipv6Native", false).key("PrivateDnsNameOptionsOnLaunch").obj().ks("HostnameType", "ip-name");
    j.kb("EnableResourceNameDnsARecord", false).kb("EnableResourceNameDnsAAAARecord", false).end();
    j.key("BlockPublicAccessStates").obj().ks("InternetGatewayBlockMode", "off").end();
    j.ks("SubnetId", id).ks("State", "available").ks("VpcId", vpc).ks("CidrBlock", cidr);
    j.kn("AvailableIpAddressCount", 4000 + mix(n) % 91).ks("AvailabilityZone", &az(rname, n));
    j.kb("DefaultForAz", default).kb("MapPublicIpOnLaunch", default).end();
}

fn route_table_record(j: &mut Json, id: &str, acct: &str, vpc: &str, main: bool, tags: &[(String, String)]) {
    let h = mix(fnv(id));
    j.obj().key("Associations").arr().obj().kb("Main", main);
    j.ks("RouteTableAssociationId", &format!("rtbassoc-0{:016x}", h)).ks("RouteTableId", id);
    if !main {
        j.ks("SubnetId", &ec2_id("subnet", h, 601));
    }
    j.key("AssociationState").obj().ks("State", "associated").end().end().end_arr();
    j.kempty("PropagatingVgws").ks("RouteTableId", id).key("Routes").arr();
    j.obj().ks("DestinationCidrBlock", &cidr(h, true)).ks("GatewayId", "local");
    j.ks("Origin", "CreateRouteTable").ks("State", "active").end();
    if !main {
        j.obj().ks("DestinationCidrBlock", "0.0.0.0/0").ks("GatewayId", &ec2_id("igw", h, 602));
        j.ks("Origin", "CreateRoute").ks("State", "active").end();
    }
    j.end_arr();
    tags_member(j, "Tags", tags);
    j.ks("VpcId", vpc).ks("OwnerId", acct).end();
}

fn acl_record(j: &mut Json, id: &str, acct: &str, vpc: &str, default: bool, tags: &[(String, String)]) {
    let h = mix(fnv(id));
    j.obj().key("Associations").arr().obj();
    j.ks("NetworkAclAssociationId", &format!("aclassoc-0{:016x}", h)).ks("NetworkAclId", id);
    j.ks("SubnetId", &ec2_id("subnet", h, 603)).end().end_arr();
    j.key("Entries").arr();
    let mut entry = |egress: bool, action: &str, cidr: &str, n: u32| {
        j.obj().ks("CidrBlock", cidr).kb("Egress", egress).ks("Protocol", "-1");
        j.ks("RuleAction", action).kn("RuleNumber", n).end();
    };
    for egress in [true, false] {
        if default || egress {
            entry(egress, "allow", "0.0.0.0/0", 100);
        } else {
            entry(egress, "allow", "10.0.0.0/8", 100);
            entry(egress, "deny", "0.0.0.0/0", 200);
        }
        entry(egress, "deny", "0.0.0.0/0", 32767);
    }
    j.end_arr().kb("IsDefault", default).ks("NetworkAclId", id);
    tags_member(j, "Tags", tags);
    j.ks("VpcId", vpc).ks("OwnerId", acct).end();
}

fn igw_record(j: &mut Json, id: &str, acct: &str, vpc: &str, tags: &[(String, String)]) {
    j.obj().key("Attachments").arr().obj().ks("State", "available").ks("VpcId", vpc).end().end_arr();
    j.ks("InternetGatewayId", id).ks("OwnerId", acct);
    tags_member(j, "Tags", tags);
    j.end();
}

fn dhcp_record(j: &mut Json, id: &str, acct: &str, domain: &str, tags: &[(String, String)]) {
    j.obj().key("DhcpConfigurations").arr();
    j.obj().ks("Key", "domain-name").key("Values").arr().obj().ks("Value", domain).end().end_arr().end();
    j.obj().ks("Key", "domain-name-servers").key("Values").arr();
    j.obj().ks("Value", "AmazonProvidedDNS").end().end_arr().end();
    j.end_arr().ks("DhcpOptionsId", id).ks("OwnerId", acct);
    tags_member(j, "Tags", tags);
    j.end();
}

fn instance_record(j: &mut Json, r: &Res, id: &Ident, vpc: &str, tags: &[(String, String)], terminated: bool) {
    let s = u64::from(r.serial);
    let acct = id.account;
    let zone = az(id.region, s);
    let ip = private_ip(s);
    let dns = format!("ip-{}.ec2.internal", ip.replace('.', "-"));
    let sg = ec2_id("sg", s, 501);
    let subnet = ec2_id("subnet", s, 502);
    let eni = ec2_id("eni", s, 503);
    j.obj().key("Groups").arr().end_arr().key("Instances").arr().obj();
    j.kn("AmiLaunchIndex", 0).ks("ImageId", &format!("ami-0{:016x}", mix(s % 17))).ks("InstanceId", &id.id);
    j.ks("InstanceType", instance_type(r, true)).ks("LaunchTime", "2026-10-02T09:20:11+00:00");
    j.key("Monitoring").obj().ks("State", "disabled").end();
    j.key("Placement").obj().ks("AvailabilityZone", &zone).ks("GroupName", "").ks("Tenancy", "default").end();
    j.ks("PrivateDnsName", &dns).ks("PrivateIpAddress", &ip).kempty("ProductCodes").ks("PublicDnsName", "");
    if terminated {
        j.key("State").obj().kn("Code", 48).ks("Name", "terminated").end();
        j.ks("StateTransitionReason", "User initiated (2026-11-20 10:04:31 GMT)");
    } else {
        j.key("State").obj().kn("Code", 16).ks("Name", "running").end().ks("StateTransitionReason", "");
    }
    j.ks("SubnetId", &subnet).ks("VpcId", vpc).ks("Architecture", "x86_64");
    j.key("BlockDeviceMappings").arr().obj().ks("DeviceName", "/dev/xvda").key("Ebs").obj();
    j.ks("AttachTime", "2026-10-02T09:20:12+00:00").kb("DeleteOnTermination", true);
    j.ks("Status", "attached").ks("VolumeId", &ec2_id("vol", s, 504)).end().end().end_arr();
    j.ks("ClientToken", &format!("terraform-{:016x}", mix(s ^ 0xC7))).kb("EbsOptimized", false);
    j.kb("EnaSupport", true).ks("Hypervisor", "xen");
    j.key("NetworkInterfaces").arr().obj();
    j.key("Attachment").obj().ks("AttachTime", "2026-10-02T09:20:11+00:00");
    j.ks("AttachmentId", &ec2_id("eni-attach", s, 505)).kb("DeleteOnTermination", true).kn("DeviceIndex", 0);
    j.ks("Status", "attached").kn("NetworkCardIndex", 0).end();
    j.ks("Description", "").key("Groups").arr().obj().ks("GroupName", &format!("{}-sg", id.label));
    j.ks("GroupId", &sg).end().end_arr().kempty("Ipv6Addresses");
    j.ks("MacAddress", &format!("0e:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", s & 0xff, (s >> 8) & 0xff, 7, 9, 11));
    j.ks("NetworkInterfaceId", &eni).ks("OwnerId", acct).ks("PrivateDnsName", &dns);
    j.ks("PrivateIpAddress", &ip).key("PrivateIpAddresses").arr().obj().kb("Primary", true);
    j.ks("PrivateDnsName", &dns).ks("PrivateIpAddress", &ip).end().end_arr();
    j.kb("SourceDestCheck", true).ks("Status", "in-use").ks("SubnetId", &subnet).ks("VpcId", vpc);
    j.ks("InterfaceType", "interface").end().end_arr();
    j.ks("RootDeviceName", "/dev/xvda").ks("RootDeviceType", "ebs");
    j.key("SecurityGroups").arr().obj().ks("GroupName", &format!("{}-sg", id.label)).ks("GroupId", &sg);
    j.end().end_arr().kb("SourceDestCheck", true);
    tags_member(j, "Tags", tags);
    j.ks("VirtualizationType", "hvm");
    j.key("CpuOptions").obj().kn("CoreCount", 1).kn("ThreadsPerCore", 2).end();
    j.key("CapacityReservationSpecification").obj().ks("CapacityReservationPreference", "open").end();
    j.key("HibernationOptions").obj().kb("Configured", false).end();
    j.key("MetadataOptions").obj().ks("State", "applied").ks("HttpTokens", "required");
    j.kn("HttpPutResponseHopLimit", 2).ks("HttpEndpoint", "enabled").ks("HttpProtocolIpv6", "disabled");
    j.ks("InstanceMetadataTags", "disabled").end();
    j.key("EnclaveOptions").obj().kb("Enabled", false).end();
    j.ks("PlatformDetails", "Linux/UNIX").ks("UsageOperation", "RunInstances");
    j.ks("UsageOperationUpdateTime", "2026-10-02T09:20:11+00:00");
    j.key("PrivateDnsNameOptions").obj().ks("HostnameType", "ip-name");
    j.kb("EnableResourceNameDnsARecord", false).kb("EnableResourceNameDnsAAAARecord", false).end();
    j.key("MaintenanceOptions").obj().ks("AutoRecovery", "default").end();
    j.ks("CurrentInstanceBootMode", "legacy-bios");
    j.end().end_arr();
    j.ks("OwnerId", acct).ks("ReservationId", &ec2_id("r", s, 506)).end();
}

/// Writes one record; returns how many resource entries it holds.
fn record(j: &mut Json, plan: &Plan, job: Job, item: Item) -> u64 {
    let acct = ACCOUNTS[job.account as usize];
    match item {
        Item::Res(s) => managed_record(j, plan, job, &plan.res[s as usize], false),
        Item::Gone(s) => managed_record(j, plan, job, &plan.res[s as usize], true),
        Item::Default(d) => {
            let region = job.region.unwrap_or(0);
            let rname = REGIONS[region as usize];
            let default_vpc = region_default_id("vpc", job.account, region, 0);
            let vpc_of = |v: Option<u32>| {
                v.map_or_else(|| default_vpc.clone(), |s| ec2_id("vpc", u64::from(s), Kind::Vpc as u64))
            };
            let defaults_of = |v: Option<u32>, n: u64| match v {
                Some(s) => {
                    let (sg, rtb, acl) = vpc_defaults(s);
                    [sg, rtb, acl][n as usize].clone()
                }
                None => region_default_id(["sg", "rtb", "acl"][n as usize], job.account, region, 0),
            };
            match (job.listing, d) {
                (Listing::Ec2(_), Def::Vpc) => {
                    let dopt = region_default_id("dopt", job.account, region, 0);
                    vpc_record(j, &default_vpc, acct, "172.31.0.0/16", true, &dopt, &[]);
                }
                (Listing::Ec2(_), Def::Subnet(n)) => {
                    let id = region_default_id("subnet", job.account, region, 1 + u64::from(n));
                    let c = format!("172.31.{}.0/20", u32::from(n) * 16);
                    subnet_record(j, &id, acct, region, u64::from(n), &default_vpc, &c, true, &[]);
                }
                (Listing::Ec2(_), Def::Igw) => {
                    igw_record(j, &region_default_id("igw", job.account, region, 0), acct, &default_vpc, &[]);
                }
                (Listing::Ec2(_), Def::Dhcp) => {
                    let domain =
                        if region == 0 { "ec2.internal".to_owned() } else { format!("{rname}.compute.internal") };
                    dhcp_record(j, &region_default_id("dopt", job.account, region, 0), acct, &domain, &[]);
                }
                (Listing::Ec2(_), Def::Sg(v)) => {
                    let id = defaults_of(v, 0);
                    let vpc = vpc_of(v);
                    let modified = v.is_some_and(|s| plan.default_sg_modified(&plan.res[s as usize]));
                    let mut ingress = vec![Rule {
                        protocol: "-1",
                        from: 0,
                        to: 0,
                        cidrs: vec![],
                        groups: vec![],
                        self_: true,
                        description: "",
                    }];
                    if modified {
                        ingress.push(Rule {
                            protocol: "tcp",
                            from: 3389,
                            to: 3389,
                            cidrs: vec!["0.0.0.0/0"],
                            groups: vec![],
                            self_: false,
                            description: "",
                        });
                    }
                    sg_record(
                        j,
                        &SgRec {
                            id: &id,
                            acct,
                            region: rname,
                            vpc: &vpc,
                            name: "default",
                            description: "default VPC security group",
                            tags: &[],
                            ingress: &ingress,
                        },
                    );
                }
                (Listing::Ec2(_), Def::MainRt(v)) => {
                    route_table_record(j, &defaults_of(v, 1), acct, &vpc_of(v), true, &[])
                }
                (Listing::Ec2(_), Def::Acl(v)) => acl_record(j, &defaults_of(v, 2), acct, &vpc_of(v), true, &[]),
                (Listing::KmsKeys, Def::AwsKey(n)) => {
                    let key = uuid((u64::from(job.account) << 16) | (u64::from(region) << 8) | u64::from(n), 9);
                    j.obj().ks("KeyId", &key).ks("KeyArn", &format!("arn:aws:kms:{rname}:{acct}:key/{key}")).end();
                }
                (Listing::KmsAliases, Def::AwsAlias(n)) => {
                    let name = AWS_ALIASES[n as usize];
                    j.obj().ks("AliasName", name).ks("AliasArn", &format!("arn:aws:kms:{rname}:{acct}:{name}"));
                    if (n as usize) < AWS_ALIASES.len() - 1 {
                        let key = uuid((u64::from(job.account) << 16) | (u64::from(region) << 8) | u64::from(n), 9);
                        j.ks("TargetKeyId", &key);
                        j.ks("CreationDate", "2026-09-14T08:02:11.201000+00:00");
                        j.ks("LastUpdatedDate", "2026-09-14T08:02:11.201000+00:00");
                    }
                    j.end();
                }
                (Listing::IamRoles | Listing::Config(_), Def::ServiceRole(n)) => {
                    let (name, svc) = SERVICE_ROLES[n as usize];
                    let unique = iam_unique("AROA", (u64::from(job.account) << 8) | u64::from(n), 10);
                    if let Listing::Config(_) = job.listing {
                        j.obj().ks("resourceType", "AWS::IAM::Role").ks("resourceId", &unique);
                        j.ks("resourceName", name).end();
                    } else {
                        let path = format!("/aws-service-role/{svc}/");
                        j.obj().ks("Path", &path).ks("RoleName", name).ks("RoleId", &unique);
                        j.ks("Arn", &format!("arn:aws:iam::{acct}:role{path}{name}"));
                        j.ks("CreateDate", "2026-09-14T08:00:03+00:00");
                        assume_doc(j, svc);
                        j.ks("Description", "Service-linked role").kn("MaxSessionDuration", 3600).end();
                    }
                }
                (Listing::IamPolicies, Def::AwsPolicy(n)) => {
                    let name = format!("AWSManagedPolicy{n:04}");
                    j.obj().ks("PolicyName", &name).ks("PolicyId", &iam_unique("ANPA", u64::from(n), 11));
                    j.ks("Arn", &format!("arn:aws:iam::aws:policy/{name}")).ks("Path", "/");
                    j.ks("DefaultVersionId", "v3").kn("AttachmentCount", 0).kn("PermissionsBoundaryUsageCount", 0);
                    j.kb("IsAttachable", true).ks("CreateDate", "2019-02-06T18:40:58+00:00");
                    j.ks("UpdateDate", "2025-06-17T15:12:40+00:00").end();
                }
                (Listing::Config(Kind::Vpc), Def::Vpc) => {
                    j.obj().ks("resourceType", "AWS::EC2::VPC").ks("resourceId", &default_vpc).end();
                }
                (Listing::Config(Kind::SecurityGroup), Def::Sg(v)) => {
                    j.obj().ks("resourceType", "AWS::EC2::SecurityGroup").ks("resourceId", &defaults_of(v, 0));
                    j.ks("resourceName", "default").end();
                }
                (Listing::Config(Kind::Subnet), Def::Subnet(n)) => {
                    let id = region_default_id("subnet", job.account, region, 1 + u64::from(n));
                    j.obj().ks("resourceType", "AWS::EC2::Subnet").ks("resourceId", &id).end();
                }
                (l, d) => unreachable!("no record for {d:?} in {l:?}"),
            }
            1
        }
    }
}

fn assume_doc(j: &mut Json, service: &str) {
    j.key("AssumeRolePolicyDocument").obj().ks("Version", "2012-10-17").key("Statement").arr().obj();
    j.ks("Effect", "Allow").key("Principal").obj().ks("Service", service).end();
    j.ks("Action", "sts:AssumeRole").end().end_arr().end();
}

fn config_type(k: Kind) -> &'static str {
    match k {
        Kind::Vpc => "AWS::EC2::VPC",
        Kind::Subnet => "AWS::EC2::Subnet",
        Kind::S3Bucket => "AWS::S3::Bucket",
        Kind::SecurityGroup => "AWS::EC2::SecurityGroup",
        _ => "AWS::IAM::Role",
    }
}

fn managed_record(j: &mut Json, plan: &Plan, job: Job, r: &Res, gone: bool) -> u64 {
    let id = Ident::of(plan, r);
    let acct = id.account;
    let s = u64::from(r.serial);
    let tags = if gone { Vec::new() } else { cloud_tags(plan, r, &id) };
    match job.listing {
        Listing::Ec2(Kind::Instance) => instance_record(j, r, &id, &vpc_id(plan, r), &tags, gone),
        Listing::Ec2(Kind::SecurityGroup) => sg_record(
            j,
            &SgRec {
                id: &id.id,
                acct,
                region: id.region,
                vpc: &vpc_id(plan, r),
                name: &id.name,
                description: if r.origin == Origin::Hand { "made in the console" } else { "Managed by Terraform" },
                tags: &tags,
                ingress: &ingress_rules(r, &id, true),
            },
        ),
        Listing::Ec2(Kind::Subnet) => {
            subnet_record(j, &id.id, acct, r.region, s, &vpc_id(plan, r), &cidr(s, false), false, &tags);
        }
        Listing::Ec2(Kind::Vpc) => {
            let dopt = region_default_id("dopt", r.account, r.region, 0);
            vpc_record(j, &id.id, acct, &cidr(s, true), false, &dopt, &tags);
        }
        Listing::Ec2(Kind::RouteTable) => route_table_record(j, &id.id, acct, &vpc_id(plan, r), false, &tags),
        Listing::Ec2(Kind::NetworkAcl) => acl_record(j, &id.id, acct, &vpc_id(plan, r), false, &tags),
        Listing::Ec2(Kind::InternetGateway) => igw_record(j, &id.id, acct, &vpc_id(plan, r), &tags),
        Listing::Ec2(_) => dhcp_record(j, &id.id, acct, &format!("{}.corp.internal", id.label), &tags),
        Listing::KmsKeys => {
            j.obj().ks("KeyId", &id.key_id).ks("KeyArn", &id.arn).end();
        }
        Listing::KmsAliases => {
            j.obj().ks("AliasName", &id.name).ks("AliasArn", &id.arn).ks("TargetKeyId", &id.key_id);
            j.ks("CreationDate", "2026-10-02T09:21:40.118000+00:00");
            j.ks("LastUpdatedDate", "2026-10-02T09:21:40.118000+00:00").end();
        }
        Listing::LogGroups => {
            j.obj().ks("logGroupName", &id.name).kn("creationTime", 1_790_000_000_000 + s * 1000);
            j.kn("retentionInDays", [7, 30, 90, 365][(s % 4) as usize]).kn("metricFilterCount", 0);
            j.ks("arn", &format!("{}:*", id.arn)).kn("storedBytes", mix(s) % 10_000_000);
            j.ks("logGroupClass", "STANDARD").ks("logGroupArn", &id.arn).end();
        }
        Listing::SsmParameters => {
            let secure = s % 4 < 2;
            j.obj().ks("Name", &id.name).ks("ARN", &id.arn);
            j.ks("Type", if secure { "SecureString" } else { "String" });
            if secure {
                j.ks("KeyId", "alias/aws/ssm");
            }
            j.ks("LastModifiedDate", "2026-10-02T09:22:03.554000+00:00");
            j.ks("LastModifiedUser", &format!("arn:aws:sts::{acct}:assumed-role/terraform/ci"));
            j.kn("Version", 1 + s % 3).ks("Tier", "Standard").kempty("Policies").ks("DataType", "text").end();
        }
        Listing::Tagging => {
            j.obj().ks("ResourceARN", &id.arn).ktags("Tags", &tags).end();
        }
        Listing::Config(k) => {
            j.obj()
                .ks("resourceType", config_type(k))
                .ks("resourceId", if k == Kind::IamRole { &id.unique } else { &id.id });
            // Config names buckets, roles and security groups (the group name); not VPCs or subnets.
            if matches!(k, Kind::S3Bucket | Kind::IamRole | Kind::SecurityGroup) {
                j.ks("resourceName", &id.name);
            }
            if gone {
                j.ks("resourceDeletionTime", "2026-11-20T10:04:31.117000+00:00");
            }
            j.end();
        }
        Listing::IamRoles => {
            j.obj().ks("Path", id.path).ks("RoleName", &id.name).ks("RoleId", &id.unique).ks("Arn", &id.arn);
            j.ks("CreateDate", "2026-10-02T09:14:51+00:00");
            assume_doc(j, assume_role_service(r));
            j.kn("MaxSessionDuration", 3600).end();
        }
        Listing::IamUsers => {
            j.obj().ks("Path", id.path).ks("UserName", &id.name).ks("UserId", &id.unique).ks("Arn", &id.arn);
            j.ks("CreateDate", "2026-10-02T09:14:52+00:00").end();
        }
        Listing::IamPolicies => {
            j.obj().ks("PolicyName", &id.name).ks("PolicyId", &id.unique).ks("Arn", &id.arn).ks("Path", "/");
            j.ks("DefaultVersionId", "v1").kn("AttachmentCount", 1).kn("PermissionsBoundaryUsageCount", 0);
            j.kb("IsAttachable", true).ks("CreateDate", "2026-10-02T09:14:53+00:00");
            j.ks("UpdateDate", "2026-10-02T09:14:53+00:00").end();
        }
        Listing::S3Buckets => {
            j.obj().ks("Name", &id.name).ks("CreationDate", "2026-10-02T09:15:20+00:00");
            j.ks("BucketRegion", id.region).end();
        }
    }
    1
}
