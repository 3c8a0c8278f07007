//! Raw state files, format version 4, as terraform 1.11 writes them: `json.MarshalIndent`
//! with 2 spaces, resources sorted by module, mode, type and name, attributes sorted by name,
//! every attribute of the provider's schema present (`null`, `""`, `[]` when unset).

use super::ident::{Ident, cidr, ec2_id, private_ip, state_tags, tags_all, uuid};
use super::json::Json;
use super::plan::{ACCOUNTS, Block, Fate, Keys, Kind, Origin, Plan, REGIONS, Res, StateFile, mix};

const PROVIDER: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";

/// `private` blobs terraform keeps (timeouts and schema version), base64.
const PRIVATE_NULL: &str = "bnVsbA==";
const PRIVATE_TIMEOUTS: &str = "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMCwidXBkYXRlIjo2MDAwMDAwMDAwMDB9LCJzY2hlbWFfdmVyc2lvbiI6IjEifQ==";
const PRIVATE_SCHEMA: &str = "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==";

/// The id of the VPC an EC2 child sits in.
pub(crate) fn vpc_id(plan: &Plan, r: &Res) -> String {
    if r.vpc == u32::MAX {
        // A VPC another team owns: not in any state of the estate, and not listed either.
        let f = plan.file_of(r).map_or(0, |f| f.index);
        ec2_id("vpc", u64::from(f), 999)
    } else {
        ec2_id("vpc", u64::from(r.vpc), Kind::Vpc as u64)
    }
}

/// Ids AWS gives a VPC's own default security group, main route table and network ACL.
pub(crate) fn vpc_defaults(vpc_serial: u32) -> (String, String, String) {
    let s = u64::from(vpc_serial);
    (ec2_id("sg", s, 100), ec2_id("rtb", s, 101), ec2_id("acl", s, 102))
}

/// Per account and region: the default VPC, its DHCP options, IGW, SG, route table, ACL.
pub(crate) fn region_default_id(prefix: &str, account: u8, region: u8, n: u64) -> String {
    ec2_id(prefix, (u64::from(account) << 16) | (u64::from(region) << 8) | n, 300)
}

pub(crate) fn az(region: &str, n: u64) -> String {
    format!("{region}{}", ["a", "b", "c"][(n % 3) as usize])
}

pub(crate) fn az_id(region: u8, n: u64) -> String {
    let short = ["use1", "usw2", "euw1", "apse2"][region as usize];
    format!("{short}-az{}", 1 + n % 3)
}

pub(crate) const INSTANCE_TYPES: [&str; 6] = ["t3.micro", "t3.small", "t3.medium", "m5.large", "c5.xlarge", "r5.large"];

pub(crate) fn instance_type(r: &Res, cloud: bool) -> &'static str {
    let i = (r.serial as usize) % INSTANCE_TYPES.len();
    let i = if cloud && r.fate == Fate::DriftAttr { (i + 1) % INSTANCE_TYPES.len() } else { i };
    INSTANCE_TYPES[i]
}

/// A security group rule in Terraform's shape; the exports derive theirs from the same list.
pub(crate) struct Rule {
    pub(crate) protocol: &'static str,
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) cidrs: Vec<&'static str>,
    pub(crate) groups: Vec<String>,
    pub(crate) self_: bool,
    pub(crate) description: &'static str,
}

pub(crate) fn ingress_rules(r: &Res, ident: &Ident, cloud: bool) -> Vec<Rule> {
    let s = u64::from(r.serial);
    let mut rules = Vec::new();
    if s % 3 != 1 {
        rules.push(Rule {
            protocol: "tcp",
            from: 443,
            to: 443,
            cidrs: vec!["0.0.0.0/0"],
            groups: vec![],
            self_: false,
            description: "https",
        });
    }
    rules.push(Rule {
        protocol: "tcp",
        from: 8080,
        to: 8080,
        cidrs: vec!["10.0.0.0/8"],
        groups: vec![],
        self_: false,
        description: "app",
    });
    if s % 2 == 0 {
        rules.push(Rule {
            protocol: "tcp",
            from: 5432,
            to: 5432,
            cidrs: vec![],
            groups: vec![ec2_id("sg", s + 1, Kind::SecurityGroup as u64)],
            self_: false,
            description: "postgres from app",
        });
    }
    if s % 4 == 0 {
        rules.push(Rule {
            protocol: "-1",
            from: 0,
            to: 0,
            cidrs: vec![],
            groups: vec![],
            self_: true,
            description: "",
        });
    }
    if cloud && r.fate == Fate::DriftAttr {
        rules.push(Rule {
            protocol: "tcp",
            from: 22,
            to: 22,
            cidrs: vec!["0.0.0.0/0"],
            groups: vec![],
            self_: false,
            description: "debug ssh",
        });
    }
    let _ = ident;
    rules
}

pub(crate) fn egress_rules() -> Vec<Rule> {
    vec![Rule {
        protocol: "-1",
        from: 0,
        to: 0,
        cidrs: vec!["0.0.0.0/0"],
        groups: vec![],
        self_: false,
        description: "",
    }]
}

pub(crate) fn assume_role_service(r: &Res) -> &'static str {
    ["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"][(r.serial % 3) as usize]
}

/// One state file's text.
pub(crate) fn write(plan: &Plan, file: &StateFile) -> Vec<u8> {
    let instances: u32 = file.blocks.iter().map(|b| b.keys.len()).sum();
    let mut j = Json::new(2, instances as usize * 1500 + 4096);
    let h = mix(plan.seed ^ u64::from(file.index) ^ 0x57A7E);
    j.obj();
    j.kn("version", 4u32);
    j.ks("terraform_version", "1.11.4");
    j.kn("serial", 1 + h % 400);
    j.ks("lineage", &uuid(u64::from(file.index), 77));
    j.key("outputs").obj();
    if file.vpc != u32::MAX {
        let id = ec2_id("vpc", u64::from(file.vpc), Kind::Vpc as u64);
        j.key("vpc_id").obj().ks("value", &id).ks("type", "string").end();
    }
    j.key("db_password").obj().ks("value", &format!("s3cr3t-{:x}", h >> 20)).ks("type", "string");
    j.kb("sensitive", true).end();
    j.key("stack").obj().ks("value", &file.label()).ks("type", "string").end();
    j.end();
    j.key("resources").arr();
    for b in &file.blocks {
        block(&mut j, plan, file, b);
    }
    j.end_arr();
    j.knull("check_results");
    j.end();
    j.finish()
}

fn block(j: &mut Json, plan: &Plan, file: &StateFile, b: &Block) {
    j.obj();
    if !b.module.is_empty() {
        j.ks("module", b.module);
    }
    j.ks("mode", if b.data { "data" } else { "managed" });
    j.ks("type", b.kind.tf());
    j.ks("name", &b.name);
    j.ks("provider", PROVIDER);
    j.key("instances").arr();
    for i in 0..b.keys.len() {
        let res = if b.data {
            // Data sources read something that exists; their serials are their own.
            Res {
                serial: 0x4000_0000 + b.first + i,
                kind: b.kind,
                account: file.account,
                region: if b.kind.iam() { 0 } else { file.region },
                origin: Origin::State(file.index),
                fate: Fate::Present,
                name_tag: true,
                vpc: u32::MAX,
            }
        } else {
            plan.res[(b.first + i) as usize]
        };
        j.obj();
        match &b.keys {
            Keys::Single => {}
            Keys::Count(_) => {
                j.kn("index_key", i);
            }
            Keys::ForEach(k) => {
                j.ks("index_key", k[i as usize]);
            }
        }
        j.kn("schema_version", if b.data { 0 } else { b.kind.schema_version() });
        let ident = Ident::of(plan, &res);
        j.key("attributes").obj();
        attributes(j, plan, &res, &ident, b.data);
        j.end();
        j.key("sensitive_attributes").arr();
        if b.kind == Kind::SsmParameter && !b.data {
            for attr in ["value", "value_wo"] {
                j.arr().obj().ks("type", "get_attr").ks("value", attr).end().end_arr();
            }
        }
        j.end_arr();
        if !b.data {
            let private = match b.kind {
                Kind::Instance | Kind::SecurityGroup | Kind::Subnet | Kind::RouteTable => PRIVATE_TIMEOUTS,
                Kind::Vpc => PRIVATE_SCHEMA,
                _ => PRIVATE_NULL,
            };
            j.ks("private", private);
            let deps: &[&str] = match b.kind {
                Kind::Instance => &["aws_security_group.web", "aws_subnet.private", "aws_iam_role.ec2"],
                Kind::Subnet | Kind::SecurityGroup | Kind::RouteTable | Kind::NetworkAcl => &["aws_vpc.main"],
                Kind::InternetGateway => &["aws_vpc.main"],
                Kind::KmsAlias => &["aws_kms_key.data"],
                Kind::IamRole => &["data.aws_iam_policy_document.assume"],
                _ => &[],
            };
            if !deps.is_empty() {
                j.kstrs("dependencies", deps);
            }
        }
        j.end();
    }
    j.end_arr();
    j.end();
}

fn tags(j: &mut Json, plan: &Plan, r: &Res, ident: &Ident) {
    match state_tags(r, ident) {
        Some(t) => j.kmap("tags", &t),
        None => j.knull("tags"),
    };
    j.kmap("tags_all", &tags_all(plan, r, ident));
}

fn rules(j: &mut Json, key: &str, rules: &[Rule]) {
    j.key(key).arr();
    for r in rules {
        j.obj();
        j.kstrs("cidr_blocks", &r.cidrs);
        j.ks("description", r.description);
        j.kn("from_port", r.from);
        j.kempty("ipv6_cidr_blocks");
        j.kempty("prefix_list_ids");
        j.ks("protocol", r.protocol);
        j.kstrs("security_groups", &r.groups);
        j.kb("self", r.self_);
        j.kn("to_port", r.to);
        j.end();
    }
    j.end_arr();
}

/// The attributes object of one instance, every key of the schema, in name order.
fn attributes(j: &mut Json, plan: &Plan, r: &Res, id: &Ident, data: bool) {
    let s = u64::from(r.serial);
    let acct = ACCOUNTS[r.account as usize];
    let region = REGIONS[r.region as usize];
    match r.kind {
        Kind::Instance => {
            let sg = ec2_id("sg", s, 501);
            let subnet = ec2_id("subnet", s, 502);
            j.ks("ami", &format!("ami-0{:016x}", mix(s % 17)));
            j.ks("arn", &id.arn);
            j.kb("associate_public_ip_address", false);
            j.ks("availability_zone", &az(region, s));
            j.key("capacity_reservation_specification").arr().obj();
            j.ks("capacity_reservation_preference", "open").kempty("capacity_reservation_target").end().end_arr();
            j.kn("cpu_core_count", 1).key("cpu_options").arr().obj();
            j.ks("amd_sev_snp", "").kn("core_count", 1).kn("threads_per_core", 2).end().end_arr();
            j.kn("cpu_threads_per_core", 2);
            j.key("credit_specification").arr().obj().ks("cpu_credits", "unlimited").end().end_arr();
            j.kb("disable_api_stop", false).kb("disable_api_termination", false);
            j.kempty("ebs_block_device").kb("ebs_optimized", false).knull("enable_primary_ipv6");
            j.key("enclave_options").arr().obj().kb("enabled", false).end().end_arr();
            j.kempty("ephemeral_block_device").kb("get_password_data", false).kb("hibernation", false);
            j.ks("host_id", "").knull("host_resource_group_arn");
            j.ks("iam_instance_profile", if s % 2 == 0 { "" } else { "ec2-default" });
            j.ks("id", &id.id);
            j.ks("instance_initiated_shutdown_behavior", "stop").ks("instance_lifecycle", "");
            j.kempty("instance_market_options").ks("instance_state", "running");
            j.ks("instance_type", instance_type(r, false));
            j.kn("ipv6_address_count", 0).kempty("ipv6_addresses").ks("key_name", "").kempty("launch_template");
            j.key("maintenance_options").arr().obj().ks("auto_recovery", "default").end().end_arr();
            j.key("metadata_options").arr().obj();
            j.ks("http_endpoint", "enabled").ks("http_protocol_ipv6", "disabled");
            j.kn("http_put_response_hop_limit", 2).ks("http_tokens", "required");
            j.ks("instance_metadata_tags", "disabled").end().end_arr();
            j.kb("monitoring", false).kempty("network_interface").ks("outpost_arn", "").ks("password_data", "");
            j.ks("placement_group", "").kn("placement_partition_number", 0);
            j.ks("primary_network_interface_id", &ec2_id("eni", s, 503));
            let ip = private_ip(s);
            j.ks("private_dns", &format!("ip-{}.ec2.internal", ip.replace('.', "-")));
            j.key("private_dns_name_options").arr().obj();
            j.kb("enable_resource_name_dns_a_record", false).kb("enable_resource_name_dns_aaaa_record", false);
            j.ks("hostname_type", "ip-name").end().end_arr();
            j.ks("private_ip", &ip).ks("public_dns", "").ks("public_ip", "");
            j.key("root_block_device").arr().obj();
            j.kb("delete_on_termination", true).ks("device_name", "/dev/xvda").kb("encrypted", true);
            j.kn("iops", 3000).ks("kms_key_id", "").knull("tags").key("tags_all").obj().end();
            j.kn("throughput", 125).ks("volume_id", &ec2_id("vol", s, 504)).kn("volume_size", 8 + (s % 4) * 8);
            j.ks("volume_type", "gp3").end().end_arr();
            j.kempty("secondary_private_ips").kempty("security_groups").kb("source_dest_check", true);
            j.ks("spot_instance_request_id", "").ks("subnet_id", &subnet);
            tags(j, plan, r, id);
            j.ks("tenancy", "default").knull("timeouts").knull("user_data").knull("user_data_base64");
            j.kb("user_data_replace_on_change", false).knull("volume_tags");
            j.kstrs("vpc_security_group_ids", &[sg]);
        }
        Kind::SecurityGroup => {
            j.ks("arn", &id.arn).ks("description", "Managed by Terraform");
            rules(j, "egress", &egress_rules());
            j.ks("id", &id.id);
            rules(j, "ingress", &ingress_rules(r, id, false));
            j.ks("name", &id.name).ks("name_prefix", "").ks("owner_id", acct);
            j.kb("revoke_rules_on_delete", false);
            tags(j, plan, r, id);
            j.knull("timeouts").ks("vpc_id", &vpc_id(plan, r));
        }
        Kind::Subnet => {
            j.ks("arn", &id.arn).kb("assign_ipv6_address_on_creation", false);
            j.ks("availability_zone", &az(region, s)).ks("availability_zone_id", &az_id(r.region, s));
            j.ks("cidr_block", &cidr(s, false)).ks("customer_owned_ipv4_pool", "");
            j.kb("enable_dns64", false).kn("enable_lni_at_device_index", 0);
            j.kb("enable_resource_name_dns_a_record_on_launch", false);
            j.kb("enable_resource_name_dns_aaaa_record_on_launch", false);
            j.ks("id", &id.id).ks("ipv6_cidr_block", "").ks("ipv6_cidr_block_association_id", "");
            j.kb("ipv6_native", false).kb("map_customer_owned_ip_on_launch", false);
            j.kb("map_public_ip_on_launch", s % 4 == 0).ks("outpost_arn", "").ks("owner_id", acct);
            j.ks("private_dns_hostname_type_on_launch", "ip-name");
            tags(j, plan, r, id);
            j.knull("timeouts").ks("vpc_id", &vpc_id(plan, r));
        }
        Kind::RouteTable => {
            j.ks("arn", &id.arn).ks("id", &id.id).ks("owner_id", acct).kempty("propagating_vgws");
            j.key("route").arr().obj();
            j.ks("carrier_gateway_id", "").ks("cidr_block", "0.0.0.0/0").ks("core_network_arn", "");
            j.ks("destination_prefix_list_id", "").ks("egress_only_gateway_id", "");
            j.ks("gateway_id", &ec2_id("igw", s, 505)).ks("ipv6_cidr_block", "").ks("local_gateway_id", "");
            j.ks("nat_gateway_id", "").ks("network_interface_id", "").ks("transit_gateway_id", "");
            j.ks("vpc_endpoint_id", "").ks("vpc_peering_connection_id", "").end().end_arr();
            tags(j, plan, r, id);
            j.knull("timeouts").ks("vpc_id", &vpc_id(plan, r));
        }
        Kind::NetworkAcl => {
            let entry = |j: &mut Json, action: &str, cidr: &str, rule_no: u32| {
                j.obj().ks("action", action).ks("cidr_block", cidr).kn("from_port", 0).kn("icmp_code", 0);
                j.kn("icmp_type", 0).ks("ipv6_cidr_block", "").ks("protocol", "-1").kn("rule_no", rule_no);
                j.kn("to_port", 0).end();
            };
            j.ks("arn", &id.arn);
            j.key("egress").arr();
            entry(j, "allow", "0.0.0.0/0", 100);
            j.end_arr();
            j.ks("id", &id.id);
            j.key("ingress").arr();
            entry(j, "allow", "10.0.0.0/8", 100);
            entry(j, "deny", "0.0.0.0/0", 200);
            j.end_arr();
            j.ks("owner_id", acct).kstrs("subnet_ids", &[ec2_id("subnet", s, 506)]);
            tags(j, plan, r, id);
            j.ks("vpc_id", &vpc_id(plan, r));
        }
        Kind::Vpc => {
            let (sg, rtb, acl) = vpc_defaults(r.serial);
            j.ks("arn", &id.arn).kb("assign_generated_ipv6_cidr_block", false).ks("cidr_block", &cidr(s, true));
            j.ks("default_network_acl_id", &acl).ks("default_route_table_id", &rtb);
            j.ks("default_security_group_id", &sg);
            j.ks("dhcp_options_id", &region_default_id("dopt", r.account, r.region, 0));
            j.kb("enable_dns_hostnames", true).kb("enable_dns_support", true);
            j.kb("enable_network_address_usage_metrics", false).ks("id", &id.id);
            j.ks("instance_tenancy", "default").knull("ipv4_ipam_pool_id").knull("ipv4_netmask_length");
            j.ks("ipv6_association_id", "").ks("ipv6_cidr_block", "").ks("ipv6_cidr_block_network_border_group", "");
            j.ks("ipv6_ipam_pool_id", "").kn("ipv6_netmask_length", 0).ks("main_route_table_id", &rtb);
            j.ks("owner_id", acct);
            tags(j, plan, r, id);
        }
        Kind::InternetGateway => {
            j.ks("arn", &id.arn).ks("id", &id.id).ks("owner_id", acct);
            tags(j, plan, r, id);
            j.knull("timeouts").ks("vpc_id", &vpc_id(plan, r));
        }
        Kind::DhcpOptions => {
            j.ks("arn", &id.arn).ks("domain_name", &format!("{}.corp.internal", id.label));
            j.kstrs("domain_name_servers", &["AmazonProvidedDNS"]).ks("id", &id.id);
            j.ks("ipv6_address_preferred_lease_time", "").kempty("netbios_name_servers");
            j.ks("netbios_node_type", "").kempty("ntp_servers").ks("owner_id", acct);
            tags(j, plan, r, id);
        }
        Kind::S3Bucket => {
            j.ks("acceleration_status", "").knull("acl").ks("arn", &id.arn).ks("bucket", &id.name);
            j.ks("bucket_domain_name", &format!("{}.s3.amazonaws.com", id.name)).ks("bucket_prefix", "");
            j.ks("bucket_regional_domain_name", &format!("{}.s3.{region}.amazonaws.com", id.name));
            j.kempty("cors_rule").kb("force_destroy", false);
            j.key("grant").arr().obj().ks("id", &format!("{:016x}{:016x}", mix(1), mix(2)));
            j.kstrs("permissions", &["FULL_CONTROL"]).ks("type", "CanonicalUser").ks("uri", "").end().end_arr();
            j.ks("hosted_zone_id", "Z3AQBSTGFYJSTF").ks("id", &id.id).kempty("lifecycle_rule").kempty("logging");
            j.kempty("object_lock_configuration").kb("object_lock_enabled", false).ks("policy", "");
            j.ks("region", region).kempty("replication_configuration").ks("request_payer", "BucketOwner");
            j.key("server_side_encryption_configuration").arr().obj().key("rule").arr().obj();
            j.key("apply_server_side_encryption_by_default").arr().obj().ks("kms_master_key_id", "");
            j.ks("sse_algorithm", "AES256").end().end_arr().kb("bucket_key_enabled", false).end().end_arr();
            j.end().end_arr();
            tags(j, plan, r, id);
            j.knull("timeouts");
            j.key("versioning").arr().obj().kb("enabled", s % 2 == 0).kb("mfa_delete", false).end().end_arr();
            j.kempty("website").knull("website_domain").knull("website_endpoint");
        }
        Kind::IamRole => {
            let svc = assume_role_service(r);
            j.ks("arn", &id.arn);
            j.ks(
                "assume_role_policy",
                &format!(
                    "{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"{svc}\"}}}}],\"Version\":\"2012-10-17\"}}"
                ),
            );
            j.ks("create_date", "2026-10-02T09:14:51Z").ks("description", "").kb("force_detach_policies", false);
            j.ks("id", &id.name).kempty("inline_policy");
            if data {
                j.knull("managed_policy_arns");
            } else {
                j.kstrs("managed_policy_arns", &["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
            }
            j.kn("max_session_duration", 3600).ks("name", &id.name).ks("name_prefix", "").ks("path", id.path);
            j.ks("permissions_boundary", "");
            tags(j, plan, r, id);
            j.ks("unique_id", &id.unique);
        }
        Kind::IamUser => {
            j.ks("arn", &id.arn).kb("force_destroy", false).ks("id", &id.name).ks("name", &id.name);
            j.ks("path", id.path).ks("permissions_boundary", "");
            tags(j, plan, r, id);
            j.ks("unique_id", &id.unique);
        }
        Kind::IamPolicy => {
            j.ks("arn", &id.arn).kn("attachment_count", 1).ks("description", "").ks("id", &id.id);
            j.ks("name", &id.name).ks("name_prefix", "").ks("path", "/");
            j.ks(
                "policy",
                &format!(
                    "{{\"Statement\":[{{\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],\"Effect\":\"Allow\",\"Resource\":[\"arn:aws:s3:::{}-bucket-*\"]}}],\"Version\":\"2012-10-17\"}}",
                    id.label
                ),
            );
            j.ks("policy_id", &id.unique);
            tags(j, plan, r, id);
        }
        Kind::KmsKey => {
            j.ks("arn", &id.arn).kb("bypass_policy_lockout_safety_check", false).ks("custom_key_store_id", "");
            j.ks("customer_master_key_spec", "SYMMETRIC_DEFAULT").kn("deletion_window_in_days", 30);
            j.ks("description", &format!("{} data key", id.label)).kb("enable_key_rotation", true);
            j.ks("id", &id.key_id).kb("is_enabled", true).ks("key_id", &id.key_id);
            j.ks("key_usage", "ENCRYPT_DECRYPT").kb("multi_region", false);
            j.ks(
                "policy",
                &format!(
                    "{{\"Id\":\"key-default-1\",\"Statement\":[{{\"Action\":\"kms:*\",\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::{acct}:root\"}},\"Resource\":\"*\",\"Sid\":\"Enable IAM User Permissions\"}}],\"Version\":\"2012-10-17\"}}"
                ),
            );
            j.kn("rotation_period_in_days", 365);
            tags(j, plan, r, id);
            j.knull("timeouts").ks("xks_key_id", "");
        }
        Kind::KmsAlias => {
            j.ks("arn", &id.arn).ks("id", &id.name).ks("name", &id.name).ks("name_prefix", "");
            j.ks("target_key_arn", &format!("arn:aws:kms:{region}:{acct}:key/{}", id.key_id));
            j.ks("target_key_id", &id.key_id);
        }
        Kind::LogGroup => {
            j.ks("arn", &id.arn).ks("id", &id.name).ks("kms_key_id", "").ks("log_group_class", "STANDARD");
            j.ks("name", &id.name).ks("name_prefix", "").kn("retention_in_days", [7, 30, 90, 365][(s % 4) as usize]);
            j.kb("skip_destroy", false);
            tags(j, plan, r, id);
        }
        Kind::SsmParameter => {
            let secure = s % 4 < 2;
            j.ks("allowed_pattern", "").ks("arn", &id.arn).ks("data_type", "text");
            j.ks("description", "").knull("has_value_wo").ks("id", &id.name).knull("insecure_value");
            j.ks("key_id", if secure { "alias/aws/ssm" } else { "" }).ks("name", &id.name).knull("overwrite");
            tags(j, plan, r, id);
            j.ks("tier", "Standard").ks("type", if secure { "SecureString" } else { "String" });
            j.ks("value", &format!("v-{:016x}", mix(s ^ 0x5EC)));
            j.knull("value_wo").knull("value_wo_version").kn("version", 1 + s % 3);
        }
    }
}
