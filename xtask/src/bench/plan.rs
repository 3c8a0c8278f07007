//! The synthetic estate, decided before a byte is written: which resources exist, in which
//! account, region and state file, and what happened to each (present, drifted, deleted by
//! hand, in a region nobody exported, made by hand). Every name and id is a pure function of
//! a resource's serial number, so the state writer and the inventory writers agree without
//! sharing anything but this plan, and the run is reproducible from the seed.

/// splitmix64's finalizer: a bijection on u64, so distinct inputs give distinct ids.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: the sequential choices made while laying out one state file.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(mix(seed) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub(crate) const ACCOUNTS: [&str; 4] = ["123456789012", "210987654321", "345678901234", "456789012345"];
/// The last region holds states but was never exported: its instances are unverifiable.
pub(crate) const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
pub(crate) const COVERED: usize = 3;
pub(crate) const ENVS: [&str; 3] = ["prod", "staging", "dev"];
pub(crate) const STACKS: [&str; 6] = ["network", "platform", "app", "data", "identity", "edge"];
pub(crate) const PHASES: [&str; 4] = ["K.1", "K.2", "K.3", "K.4"];

/// The AWS resource types of `src/catalog/aws.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Instance,
    SecurityGroup,
    Subnet,
    RouteTable,
    NetworkAcl,
    Vpc,
    InternetGateway,
    DhcpOptions,
    S3Bucket,
    IamRole,
    IamUser,
    IamPolicy,
    KmsKey,
    KmsAlias,
    LogGroup,
    SsmParameter,
}

impl Kind {
    pub(crate) const ALL: [Kind; 16] = [
        Kind::Instance,
        Kind::SecurityGroup,
        Kind::Subnet,
        Kind::RouteTable,
        Kind::NetworkAcl,
        Kind::Vpc,
        Kind::InternetGateway,
        Kind::DhcpOptions,
        Kind::S3Bucket,
        Kind::IamRole,
        Kind::IamUser,
        Kind::IamPolicy,
        Kind::KmsKey,
        Kind::KmsAlias,
        Kind::LogGroup,
        Kind::SsmParameter,
    ];

    pub(crate) fn tf(self) -> &'static str {
        match self {
            Kind::Instance => "aws_instance",
            Kind::SecurityGroup => "aws_security_group",
            Kind::Subnet => "aws_subnet",
            Kind::RouteTable => "aws_route_table",
            Kind::NetworkAcl => "aws_network_acl",
            Kind::Vpc => "aws_vpc",
            Kind::InternetGateway => "aws_internet_gateway",
            Kind::DhcpOptions => "aws_vpc_dhcp_options",
            Kind::S3Bucket => "aws_s3_bucket",
            Kind::IamRole => "aws_iam_role",
            Kind::IamUser => "aws_iam_user",
            Kind::IamPolicy => "aws_iam_policy",
            Kind::KmsKey => "aws_kms_key",
            Kind::KmsAlias => "aws_kms_alias",
            Kind::LogGroup => "aws_cloudwatch_log_group",
            Kind::SsmParameter => "aws_ssm_parameter",
        }
    }

    /// Share of a state file's instances, in thousandths.
    fn weight(self) -> u64 {
        match self {
            Kind::Instance => 90,
            Kind::SecurityGroup => 100,
            Kind::Subnet => 70,
            Kind::RouteTable => 35,
            Kind::NetworkAcl => 8,
            Kind::Vpc => 5,
            Kind::InternetGateway => 5,
            Kind::DhcpOptions => 2,
            Kind::S3Bucket => 70,
            Kind::IamRole => 130,
            Kind::IamUser => 45,
            Kind::IamPolicy => 80,
            Kind::KmsKey => 30,
            Kind::KmsAlias => 45,
            Kind::LogGroup => 160,
            Kind::SsmParameter => 125,
        }
    }

    fn pick(r: &mut Rng) -> Kind {
        let mut x = r.below(1000);
        for k in Kind::ALL {
            if x < k.weight() {
                return k;
            }
            x -= k.weight();
        }
        Kind::Instance
    }

    /// IAM and S3 are global (S3 names are; its buckets still live in a region).
    pub(crate) fn iam(self) -> bool {
        matches!(self, Kind::IamRole | Kind::IamUser | Kind::IamPolicy)
    }

    /// Listed per region (the catalog's `regional`).
    pub(crate) fn regional(self) -> bool {
        !self.iam() && self != Kind::S3Bucket
    }

    /// Has `tags`/`tags_all` in state.
    pub(crate) fn has_tags(self) -> bool {
        self != Kind::KmsAlias
    }

    /// Listed by the tagging API (the catalog's `tagged`).
    pub(crate) fn tagging_api(self) -> bool {
        self.has_tags() && self != Kind::IamPolicy
    }

    pub(crate) fn ec2(self) -> bool {
        matches!(
            self,
            Kind::Instance
                | Kind::SecurityGroup
                | Kind::Subnet
                | Kind::RouteTable
                | Kind::NetworkAcl
                | Kind::Vpc
                | Kind::InternetGateway
                | Kind::DhcpOptions
        )
    }

    pub(crate) fn schema_version(self) -> u32 {
        match self {
            Kind::Instance | Kind::SecurityGroup | Kind::Subnet | Kind::Vpc => 1,
            _ => 0,
        }
    }

    /// Block names a configuration would use for this type.
    fn names(self) -> &'static [&'static str] {
        match self {
            Kind::Instance => &["web", "api", "worker", "bastion", "batch", "cache", "queue"],
            Kind::SecurityGroup => &["web", "api", "db", "lb", "internal", "ssh", "worker"],
            Kind::Subnet => &["private", "public", "data", "app", "intra"],
            Kind::RouteTable => &["private", "public", "data", "intra"],
            Kind::NetworkAcl => &["private", "public", "data"],
            Kind::Vpc => &["main", "shared", "edge"],
            Kind::InternetGateway => &["main", "edge"],
            Kind::DhcpOptions => &["main", "corp"],
            Kind::S3Bucket => &["artifacts", "logs", "data", "backups", "assets", "reports"],
            Kind::IamRole => &["app", "task", "lambda", "ci", "reader", "ec2"],
            Kind::IamUser => &["svc", "deploy", "ci"],
            Kind::IamPolicy => &["read", "write", "deploy", "audit"],
            Kind::KmsKey => &["data", "logs", "secrets", "backups"],
            Kind::KmsAlias => &["data", "logs", "secrets", "backups"],
            Kind::LogGroup => &["app", "api", "audit", "worker", "lambda"],
            Kind::SsmParameter => &["db_password", "api_key", "config", "endpoint", "feature_flags"],
        }
    }
}

/// What became of a managed instance in the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Listed as the state says.
    Present,
    /// Listed, with a tag changed or added by hand.
    DriftTags,
    /// Listed, with a compared attribute changed by hand (instance type, an ingress rule).
    DriftAttr,
    /// Deleted by hand: absent from listings that cover it.
    Missing,
    /// In a region no export covers: neither found nor missing.
    Uncovered,
}

impl Fate {
    pub(crate) fn listed(self) -> bool {
        matches!(self, Fate::Present | Fate::DriftTags | Fate::DriftAttr)
    }

    pub(crate) fn drifted(self) -> bool {
        matches!(self, Fate::DriftTags | Fate::DriftAttr)
    }
}

/// Who a resource belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// In a state: index of the state file.
    State(u32),
    /// Made by hand in the console: no state owns it.
    Hand,
}

/// One resource: a managed instance or a hand-made resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Res {
    pub(crate) serial: u32,
    pub(crate) kind: Kind,
    pub(crate) account: u8,
    pub(crate) region: u8,
    pub(crate) origin: Origin,
    pub(crate) fate: Fate,
    /// Has a `Name` tag of its own (besides the provider's default tags).
    pub(crate) name_tag: bool,
    /// Serial of the VPC it sits in (EC2 children), `u32::MAX` when it references a VPC
    /// that is none of the estate's.
    pub(crate) vpc: u32,
}

/// How a block's instances are keyed.
#[derive(Debug, Clone)]
pub(crate) enum Keys {
    Single,
    Count(u32),
    ForEach(Vec<&'static str>),
}

impl Keys {
    pub(crate) fn len(&self) -> u32 {
        match self {
            Keys::Single => 1,
            Keys::Count(n) => *n,
            Keys::ForEach(k) => k.len() as u32,
        }
    }
}

/// One `resources[]` entry of a state file.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) module: &'static str,
    pub(crate) data: bool,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) keys: Keys,
    /// Index of the first instance in `Plan::res` (managed) or the data-source serial.
    pub(crate) first: u32,
}

/// One state file.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    pub(crate) index: u32,
    pub(crate) account: u8,
    pub(crate) region: u8,
    pub(crate) env: &'static str,
    pub(crate) stack: &'static str,
    pub(crate) phase: &'static str,
    pub(crate) blocks: Vec<Block>,
    /// Serial of the VPC the file's network hangs off.
    pub(crate) vpc: u32,
}

impl StateFile {
    /// `prod-app-017`: the stack's name, in tags and names.
    pub(crate) fn label(&self) -> String {
        format!("{}-{}-{:03}", self.env, self.stack, self.index)
    }

    /// Where the file is written, under the state folder.
    pub(crate) fn rel_path(&self) -> String {
        format!(
            "{}-{}/{}/{}/terraform.tfstate",
            self.env,
            ACCOUNTS[self.account as usize],
            REGIONS[self.region as usize],
            self.label()
        )
    }
}

const MODULES: [&str; 6] = [
    "",
    "module.network",
    "module.app[\"api\"]",
    "module.app[\"web\"]",
    "module.data[0]",
    "module.app[\"api\"].module.logs",
];

const FOR_EACH_KEYS: [&str; 12] =
    ["a", "b", "c", "d", "blue", "green", "eu", "us", "primary", "replica", "internal", "external"];

/// Modified provider defaults: about one VPC's default security group in this many gets an
/// extra rule by hand.
const MODIFIED_DEFAULT_EVERY: u64 = 40;

/// The whole estate.
pub(crate) struct Plan {
    pub(crate) seed: u64,
    /// Also export what gives different resources the same name across accounts and regions
    /// (`alias/aws/*` with their AWS-managed keys everywhere, Config's security-group listing
    /// where every VPC's default group is `default`); see `--shared-names`.
    pub(crate) shared_names: bool,
    pub(crate) files: Vec<StateFile>,
    /// Managed instances by index (= serial), then hand-made resources.
    pub(crate) res: Vec<Res>,
    pub(crate) managed: u32,
    pub(crate) data_sources: u32,
}

/// Sizes at scale 1.0, from the issue.
pub(crate) const FULL_INSTANCES: f64 = 500_000.0;
pub(crate) const FULL_FILES: f64 = 200.0;

impl Plan {
    pub(crate) fn new(scale: f64, seed: u64, shared_names: bool) -> Plan {
        let instances = ((FULL_INSTANCES * scale).round() as u32).max(100);
        let n_files = ((FULL_FILES * scale).round() as u32).clamp(12, 100_000);
        Plan::sized(instances, n_files, seed, shared_names)
    }

    /// An estate of `instances` managed instances spread over `n_files` state files.
    pub(crate) fn sized(instances: u32, n_files: u32, seed: u64, shared_names: bool) -> Plan {
        let mut plan = Plan { seed, shared_names, files: Vec::new(), res: Vec::new(), managed: 0, data_sources: 0 };
        let mut data_serial = 0u32;
        for f in 0..n_files {
            let per = instances / n_files + u32::from(f < instances % n_files);
            let mut rng = Rng::new(seed ^ (u64::from(f) << 32) ^ 0x5EED);
            // Every 11th file lives in the region nobody exported (about 9% of instances).
            let region = if f % 11 == 10 { COVERED as u8 } else { (f % 3) as u8 };
            let stack = STACKS[(f as usize / 3) % STACKS.len()];
            let mut file = StateFile {
                index: f,
                account: (f % 4) as u8,
                region,
                env: ENVS[(f as usize / 2) % ENVS.len()],
                stack,
                phase: PHASES[(f as usize) % PHASES.len()],
                blocks: Vec::new(),
                vpc: u32::MAX,
            };
            let mut left = per;
            let mut used: std::collections::HashSet<(&'static str, bool, Kind, String)> = Default::default();
            while left > 0 {
                let kind = Kind::pick(&mut rng);
                // About 1 block in 60 is a data source, of a type data sources exist for.
                let data =
                    rng.below(60) == 0 && matches!(kind, Kind::Vpc | Kind::IamRole | Kind::KmsKey | Kind::S3Bucket);
                let shape = rng.below(100);
                let mut keys = if data || shape < 45 {
                    Keys::Single
                } else if shape < 80 {
                    Keys::Count(2 + rng.below(7) as u32)
                } else {
                    let n = 2 + rng.below(9) as usize;
                    let start = rng.below(FOR_EACH_KEYS.len() as u64) as usize;
                    let mut k: Vec<&'static str> =
                        (0..n).map(|i| FOR_EACH_KEYS[(start + i) % FOR_EACH_KEYS.len()]).collect();
                    k.sort_unstable();
                    k.dedup();
                    Keys::ForEach(k)
                };
                if keys.len() > left {
                    keys = if left == 1 { Keys::Single } else { Keys::Count(left) };
                }
                let module = *rng.pick(&MODULES);
                let base = *rng.pick(kind.names());
                let mut name = base.to_owned();
                let mut n = 1;
                while !used.insert((module, data, kind, name.clone())) {
                    n += 1;
                    name = format!("{base}_{n}");
                }
                left -= keys.len();
                file.blocks.push(Block { module, data, kind, name, keys, first: 0 });
            }
            // Terraform writes resources sorted by module, mode (data first), type, name.
            file.blocks.sort_by(|a, b| {
                (a.module, !a.data, a.kind.tf(), &a.name).cmp(&(b.module, !b.data, b.kind.tf(), &b.name))
            });
            for b in &mut file.blocks {
                if b.data {
                    b.first = data_serial;
                    data_serial += b.keys.len();
                    plan.data_sources += b.keys.len();
                    continue;
                }
                b.first = plan.res.len() as u32;
                for _ in 0..b.keys.len() {
                    let serial = plan.res.len() as u32;
                    let h = mix(seed ^ 0xFA7E ^ u64::from(serial));
                    let kind = b.kind;
                    // IAM lives in us-east-1 as far as the tagging API and Config are concerned.
                    let region = if kind.iam() { 0 } else { file.region };
                    let covered = (region as usize) < COVERED;
                    let tag_source = match kind {
                        Kind::IamPolicy | Kind::KmsAlias => false,
                        Kind::IamRole | Kind::IamUser => true,
                        _ => covered,
                    };
                    let roll = h % 1000;
                    let fate = if kind.regional() && !covered {
                        Fate::Uncovered
                    } else if roll < 10 {
                        Fate::Missing
                    } else if roll < 20
                        && matches!(kind, Kind::Instance | Kind::SecurityGroup)
                        && (h >> 20).is_multiple_of(3)
                    {
                        Fate::DriftAttr
                    } else if roll < 20 && tag_source {
                        Fate::DriftTags
                    } else {
                        Fate::Present
                    };
                    if kind == Kind::Vpc && file.vpc == u32::MAX {
                        file.vpc = serial;
                    }
                    plan.res.push(Res {
                        serial,
                        kind,
                        account: file.account,
                        region,
                        origin: Origin::State(f),
                        fate,
                        name_tag: (h >> 40) % 10 < 7,
                        vpc: u32::MAX,
                    });
                }
            }
            for b in &file.blocks {
                if !b.data && b.kind.ec2() && b.kind != Kind::Vpc {
                    for i in b.first..b.first + b.keys.len() {
                        plan.res[i as usize].vpc = file.vpc;
                    }
                }
            }
            plan.files.push(file);
        }
        plan.managed = plan.res.len() as u32;
        // Hand-made resources: 5% of the managed count, in exported regions.
        let hand = (f64::from(plan.managed) * 0.05).round() as u32;
        let mut rng = Rng::new(seed ^ 0x4A4D);
        for _ in 0..hand {
            let serial = plan.res.len() as u32;
            let kind = Kind::pick(&mut rng);
            let account = rng.below(ACCOUNTS.len() as u64) as u8;
            let region = if kind.iam() { 0 } else { rng.below(COVERED as u64) as u8 };
            // A hand-made EC2 child sits in one of the account's managed VPCs of that region.
            let vpc = if kind.ec2() && kind != Kind::Vpc {
                plan.files
                    .iter()
                    .filter(|f| f.account == account && f.region == region && f.vpc != u32::MAX)
                    .nth(rng.below(4) as usize)
                    .map_or(u32::MAX, |f| f.vpc)
            } else {
                u32::MAX
            };
            plan.res.push(Res {
                serial,
                kind,
                account,
                region,
                origin: Origin::Hand,
                fate: Fate::Present,
                name_tag: rng.below(2) == 0,
                vpc,
            });
        }
        plan
    }

    pub(crate) fn file_of(&self, r: &Res) -> Option<&StateFile> {
        match r.origin {
            Origin::State(f) => Some(&self.files[f as usize]),
            Origin::Hand => None,
        }
    }

    /// True when AWS gave this VPC's default security group an extra rule by hand.
    pub(crate) fn default_sg_modified(&self, vpc: &Res) -> bool {
        matches!(vpc.origin, Origin::State(_))
            && mix(self.seed ^ 0xDEF0 ^ u64::from(vpc.serial)).is_multiple_of(MODIFIED_DEFAULT_EVERY)
    }
}
