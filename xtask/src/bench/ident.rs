//! Names, ids, ARNs and tags of a planned resource: pure functions of its serial, so that the
//! state and every export spell them the same way.

use super::plan::{ACCOUNTS, Fate, Kind, Origin, Plan, REGIONS, Res, mix};

/// Everything that identifies one resource.
pub(crate) struct Ident {
    /// Terraform's `id`.
    pub(crate) id: String,
    pub(crate) arn: String,
    /// The resource's own name: group name, bucket, role, alias, log group, parameter. For EC2
    /// types without one, the `Name` tag value.
    pub(crate) name: String,
    /// IAM unique id (`AROA…`, `AIDA…`, `ANPA…`).
    pub(crate) unique: String,
    /// IAM path.
    pub(crate) path: &'static str,
    /// KMS key id: the key's own, or an alias's target.
    pub(crate) key_id: String,
    pub(crate) account: &'static str,
    pub(crate) region: &'static str,
    /// `prod-app-017`, or `hand` for hand-made resources.
    pub(crate) label: String,
}

pub(crate) fn hex16(x: u64) -> String {
    format!("{x:016x}")
}

/// An EC2-style id: `vpc-0` followed by 16 hex digits (17 in all, like AWS's).
pub(crate) fn ec2_id(prefix: &str, serial: u64, salt: u64) -> String {
    format!("{prefix}-0{}", hex16(mix(serial ^ (salt << 40))))
}

pub(crate) fn uuid(serial: u64, salt: u64) -> String {
    let a = mix(serial ^ (salt << 40) ^ 0x0055_1D00);
    let b = mix(a ^ 0xB0B);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// IAM unique ids: a 4-letter prefix and 17 characters of base32.
pub(crate) fn iam_unique(prefix: &str, serial: u64, salt: u64) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = mix(serial ^ (salt << 40) ^ 0x1A11);
    let mut y = mix(x);
    let mut s = String::with_capacity(21);
    s.push_str(prefix);
    for i in 0..17 {
        let v = if i < 12 {
            let v = x & 31;
            x >>= 5;
            v
        } else {
            let v = y & 31;
            y >>= 5;
            v
        };
        s.push(B32[v as usize] as char);
    }
    s
}

/// A private IPv4 address in 10.0.0.0/8 from a number.
pub(crate) fn private_ip(n: u64) -> String {
    let h = mix(n ^ 0x1F);
    format!("10.{}.{}.{}", (h >> 8) & 0xff, (h >> 16) & 0xff, 4 + (h >> 24) % 250)
}

/// A /24 in 10.0.0.0/8 (subnets), or a /16 (VPCs).
pub(crate) fn cidr(n: u64, vpc: bool) -> String {
    let h = mix(n ^ 0xC1D);
    if vpc { format!("10.{}.0.0/16", h & 0xff) } else { format!("10.{}.{}.0/24", h & 0xff, (h >> 8) & 0xff) }
}

impl Ident {
    pub(crate) fn of(plan: &Plan, r: &Res) -> Ident {
        let account = ACCOUNTS[r.account as usize];
        let region = REGIONS[r.region as usize];
        let label = plan.file_of(r).map_or_else(|| "hand".to_owned(), |f| f.label());
        let s = u64::from(r.serial);
        let serial = r.serial;
        let ec2 = |prefix: &str, arn_kind: &str| {
            let id = ec2_id(prefix, s, r.kind as u64);
            let arn = format!("arn:aws:ec2:{region}:{account}:{arn_kind}/{id}");
            (id, arn)
        };
        let mut unique = String::new();
        let mut key_id = String::new();
        let mut path = "/";
        let (id, arn, name) = match r.kind {
            Kind::Instance => {
                let (id, arn) = ec2("i", "instance");
                (id, arn, format!("{label}-node-{serial}"))
            }
            Kind::SecurityGroup => {
                let (id, arn) = ec2("sg", "security-group");
                (id, arn, format!("{label}-sg-{serial}"))
            }
            Kind::Subnet => {
                let (id, arn) = ec2("subnet", "subnet");
                (id, arn, format!("{label}-subnet-{serial}"))
            }
            Kind::RouteTable => {
                let (id, arn) = ec2("rtb", "route-table");
                (id, arn, format!("{label}-rt-{serial}"))
            }
            Kind::NetworkAcl => {
                let (id, arn) = ec2("acl", "network-acl");
                (id, arn, format!("{label}-nacl-{serial}"))
            }
            Kind::Vpc => {
                let (id, arn) = ec2("vpc", "vpc");
                (id, arn, format!("{label}-vpc-{serial}"))
            }
            Kind::InternetGateway => {
                let (id, arn) = ec2("igw", "internet-gateway");
                (id, arn, format!("{label}-igw-{serial}"))
            }
            Kind::DhcpOptions => {
                let (id, arn) = ec2("dopt", "dhcp-options");
                (id, arn, format!("{label}-dhcp-{serial}"))
            }
            Kind::S3Bucket => {
                let name = format!("{label}-bucket-{serial:07}");
                (name.clone(), format!("arn:aws:s3:::{name}"), name)
            }
            Kind::IamRole => {
                let name = format!("{label}-role-{serial}");
                path = if s % 5 == 0 { "/service/" } else { "/" };
                unique = iam_unique("AROA", s, 1);
                (name.clone(), format!("arn:aws:iam::{account}:role{path}{name}"), name)
            }
            Kind::IamUser => {
                let name = format!("{label}-user-{serial}");
                path = if s % 4 == 0 { "/system/" } else { "/" };
                unique = iam_unique("AIDA", s, 2);
                (name.clone(), format!("arn:aws:iam::{account}:user{path}{name}"), name)
            }
            Kind::IamPolicy => {
                let name = format!("{label}-policy-{serial}");
                unique = iam_unique("ANPA", s, 3);
                let arn = format!("arn:aws:iam::{account}:policy/{name}");
                (arn.clone(), arn, name)
            }
            Kind::KmsKey => {
                key_id = uuid(s, 4);
                (
                    key_id.clone(),
                    format!("arn:aws:kms:{region}:{account}:key/{key_id}"),
                    format!("{label}-key-{serial}"),
                )
            }
            Kind::KmsAlias => {
                key_id = uuid(s, 5);
                let name = format!("alias/{label}-{serial}");
                (name.clone(), format!("arn:aws:kms:{region}:{account}:{name}"), name)
            }
            Kind::LogGroup => {
                let name = format!("/app/{label}/svc-{serial}");
                (name.clone(), format!("arn:aws:logs:{region}:{account}:log-group:{name}"), name)
            }
            Kind::SsmParameter => {
                let leaf = ["db-password", "api-key", "config", "endpoint"][(s % 4) as usize];
                let name = format!("/{label}/svc-{serial}/{leaf}");
                (name.clone(), format!("arn:aws:ssm:{region}:{account}:parameter{name}"), name)
            }
        };
        Ident { id, arn, name, unique, path, key_id, account, region, label }
    }
}

/// The `Name` tag a resource carries, when it has one.
pub(crate) fn name_tag(r: &Res, ident: &Ident) -> Option<(String, String)> {
    r.name_tag.then(|| ("Name".to_owned(), ident.name.clone()))
}

/// `tags` as written in state (resource-level tags), sorted; `None` for `tags: null`.
pub(crate) fn state_tags(r: &Res, ident: &Ident) -> Option<Vec<(String, String)>> {
    let mut t: Vec<(String, String)> = name_tag(r, ident).into_iter().collect();
    if r.serial.is_multiple_of(3) {
        t.push(("component".to_owned(), r.kind.tf().trim_start_matches("aws_").to_owned()));
    }
    (!t.is_empty()).then(|| {
        t.sort();
        t
    })
}

/// `tags_all`: the provider's `default_tags` merged with the resource's, sorted.
pub(crate) fn tags_all(plan: &Plan, r: &Res, ident: &Ident) -> Vec<(String, String)> {
    let mut t = Vec::with_capacity(8);
    if let Some(f) = plan.file_of(r) {
        t.push(("cost-center".to_owned(), format!("cc-{:03}", f.index % 40)));
        t.push(("env".to_owned(), f.env.to_owned()));
        t.push(("managed-by".to_owned(), "terraform".to_owned()));
        t.push(("phase".to_owned(), format!("{}.x", f.phase)));
        t.push(("stack".to_owned(), f.label()));
    }
    t.extend(state_tags(r, ident).unwrap_or_default());
    t.sort();
    t
}

/// The tags the cloud shows: `tags_all`, changed by hand when the resource drifted; for
/// hand-made resources, what the person who made it typed (or nothing).
pub(crate) fn cloud_tags(plan: &Plan, r: &Res, ident: &Ident) -> Vec<(String, String)> {
    if r.origin == Origin::Hand {
        return if r.name_tag {
            vec![("Name".to_owned(), format!("hand-{}", r.serial)), ("owner".to_owned(), "alice".to_owned())]
        } else {
            Vec::new()
        };
    }
    let mut t = tags_all(plan, r, ident);
    if r.fate == Fate::DriftTags {
        if r.serial.is_multiple_of(2) {
            t.push(("owner".to_owned(), "alice".to_owned()));
        } else {
            match t.iter_mut().find(|(k, _)| k == "Name") {
                Some(kv) => kv.1 = "hand-edited".to_owned(),
                None => t.push(("Name".to_owned(), "hand-edited".to_owned())),
            }
        }
    }
    // The cloud does not keep any order: rotate so exports do not look sorted.
    let n = t.len();
    if n > 1 {
        t.rotate_left((r.serial as usize) % n);
    }
    t
}
