//! Audit trails: who changed the account, when, and with which tool.
//!
//! An audit log can hold millions of records, so the model never keeps them all: each record
//! becomes an [`AuditEvent`] only while it is judged (`ingest::audit`), and what is kept is the
//! judgement — the events that are findings, counts, and for each canonical cloud id the
//! latest create, change and delete that explains it ([`Touches`]). Memory grows with the
//! findings and the resources touched, never with the number of records.

use rustc_hash::FxHashMap;

use super::{Cloud, Locator};
use crate::source::SourceId;

/// Who a principal is, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// The AWS account's root user.
    Root,
    /// An IAM user (long-lived access keys, or a console password).
    IamUser,
    /// A session of an assumed IAM role (`AssumedRole`, `Role`).
    AssumedRole,
    /// A federated user (`GetFederationToken`).
    FederatedUser,
    /// An IAM Identity Center (SSO) session: an `AWSReservedSSO_*` role or an
    /// `IdentityCenterUser`. Always a person.
    IdentityCenter,
    /// An AWS service acting by itself (`AWSService`).
    AwsService,
    /// Another AWS account (`AWSAccount`).
    AwsAccount,
    /// A Google account of a person.
    GcpUser,
    /// A GCP service account.
    GcpServiceAccount,
    /// A Google-managed service agent acting by itself.
    GcpServiceAgent,
    /// An Entra ID user.
    AzureUser,
    /// An Entra ID application: service principal or managed identity.
    AzureApp,
    /// The log does not say.
    Unknown,
}

impl PrincipalType {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Root => "Root",
            PrincipalType::IamUser => "IAMUser",
            PrincipalType::AssumedRole => "AssumedRole",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::IdentityCenter => "IdentityCenter",
            PrincipalType::AwsService => "AWSService",
            PrincipalType::AwsAccount => "AWSAccount",
            PrincipalType::GcpUser => "GCPUser",
            PrincipalType::GcpServiceAccount => "GCPServiceAccount",
            PrincipalType::GcpServiceAgent => "GCPServiceAgent",
            PrincipalType::AzureUser => "AzureUser",
            PrincipalType::AzureApp => "AzureApp",
            PrincipalType::Unknown => "Unknown",
        }
    }

    /// Always a person, whatever the governance record says.
    pub fn is_person(self) -> bool {
        matches!(
            self,
            PrincipalType::Root
                | PrincipalType::FederatedUser
                | PrincipalType::IdentityCenter
                | PrincipalType::GcpUser
                | PrincipalType::AzureUser
        )
    }

    /// A cloud service acting by itself: its events change nothing anybody did.
    pub fn is_service(self) -> bool {
        matches!(self, PrincipalType::AwsService | PrincipalType::GcpServiceAgent)
    }
}

/// The identity that made a call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principal {
    pub kind: Option<PrincipalType>,
    /// What the governance record names: the role ARN of an assumed role (every session of
    /// the role), the user ARN, the e-mail of a GCP account, the object or app id of an
    /// Azure principal.
    pub id: String,
    /// The identity as the log shows it (the session ARN of an assumed role).
    pub display: String,
    /// The session name of an assumed role.
    pub session: Option<String>,
    /// Other ids the record may name it by (an Azure principal's app id and object id; an
    /// IAM user's name).
    pub aliases: Vec<String>,
    /// A person behind a GCP service account (`serviceAccountDelegationInfo`).
    pub delegated_by: Option<String>,
}

impl Principal {
    pub fn kind(&self) -> PrincipalType {
        self.kind.unwrap_or(PrincipalType::Unknown)
    }
}

/// A GCP long-running operation's entry: one change logs a first and a last entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Operation {
    pub id: String,
    pub first: bool,
    pub last: bool,
}

/// One audit record, normalized across clouds. Built while a record is judged, then dropped
/// unless it is a finding.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub cloud: Cloud,
    /// `eventID`, `insertId`, `eventDataId`.
    pub event_id: String,
    /// `eventName`, `methodName`, `operationName`.
    pub name: String,
    pub time: jiff::Timestamp,
    /// `eventSource` (`ec2.amazonaws.com`), `serviceName`, the Azure resource provider.
    pub source: String,
    pub region: Option<String>,
    /// AWS account, GCP project, Azure subscription.
    pub account: Option<String>,
    pub principal: Principal,
    /// The service that made the call for the principal (`userIdentity.invokedBy`).
    pub invoked_by: Option<String>,
    pub user_agent: Option<String>,
    /// Azure: the application (`claims.appid`) the caller used.
    pub app_id: Option<String>,
    pub source_ip: Option<String>,
    /// `None`: the log does not say.
    pub read_only: Option<bool>,
    /// The call failed (`errorCode`, a non-zero GCP status, an Azure `Failed`).
    pub error_code: Option<String>,
    /// `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleAction`, `AwsConsoleSignIn`…
    pub event_type: Option<String>,
    /// The session was started from the console (`sessionCredentialFromConsole`).
    pub console_session: bool,
    pub operation: Option<Operation>,
    /// The canonical cloud ids the event touches (ARNs, asset names, ARM ids, normalized by
    /// [`touch_key`]) and what it did to each.
    pub resources: Vec<(String, Action)>,
    pub source_id: SourceId,
    pub locator: Locator,
}

/// What a write did to the resources it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Action {
    Create,
    #[default]
    Change,
    Delete,
}

impl Action {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Change => "changed",
            Action::Delete => "deleted",
        }
    }
}

/// A tool recognised in a user agent (or an Azure app id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSeen {
    /// The catalog name (`terraform`, `terraform-provider-aws`, `aws-cli`).
    pub name: &'static str,
    /// As the user agent says it (`1.11.4`, `0.11+compatible`).
    pub version: Option<String>,
}

/// How a write was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// An authorized principal with an authorized tool.
    Authorized,
    /// A break-glass principal, authorized by the emergency governance document.
    BreakGlass,
    /// A person (or a pipeline principal used from the console).
    ManualIntervention,
    /// An undocumented non-human principal, or an unlisted tool or version.
    UndocumentedTooling,
}

/// A write that was judged, with what the evidence needs.
#[derive(Debug, Clone)]
pub struct Judged {
    pub event: AuditEvent,
    pub verdict: Verdict,
    /// The primary tool and every tool recognised.
    pub tool: Option<ToolSeen>,
    pub tools: Vec<ToolSeen>,
    /// Why (a sentence fragment, lower-case).
    pub reason: String,
}

/// The latest create, change and delete of one canonical cloud id, by any principal.
pub type Touches = [Option<Box<Judged>>; 3];

/// One CloudTrail log file as delivered, for the trail's integrity checks (digests list log
/// files by the SHA-256 of their uncompressed content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFile {
    pub source: SourceId,
    /// The path as shown.
    pub path: String,
    /// Lower-case hex SHA-256 of the uncompressed content.
    pub sha256: String,
    /// From the records, else the `AWSLogs/…/REGION/` layout.
    pub region: Option<String>,
    pub account: Option<String>,
    pub first_event: Option<jiff::Timestamp>,
    pub last_event: Option<jiff::Timestamp>,
    pub records: u64,
}

/// Counts over every record read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AuditCounts {
    pub records: u64,
    /// Records outside `--since`/`--until`.
    pub outside_window: u64,
    pub read_only: u64,
    /// Calls that failed (`errorCode`): nothing changed.
    pub failed: u64,
    /// Console sign-ins.
    pub sign_ins: u64,
    /// Events a cloud service raised by itself or made for a caller (`invokedBy`).
    pub service: u64,
    /// Entries of long-running operations already judged by their first entry, and Azure
    /// `Started`/`Accepted` entries judged by their outcome.
    pub continuations: u64,
    /// Writes judged.
    pub writes: u64,
    pub authorized: u64,
    pub break_glass: u64,
    pub manual_intervention: u64,
    pub undocumented_tooling: u64,
}

impl AuditCounts {
    pub fn add(&mut self, o: &AuditCounts) {
        self.records += o.records;
        self.outside_window += o.outside_window;
        self.read_only += o.read_only;
        self.failed += o.failed;
        self.sign_ins += o.sign_ins;
        self.service += o.service;
        self.continuations += o.continuations;
        self.writes += o.writes;
        self.authorized += o.authorized;
        self.break_glass += o.break_glass;
        self.manual_intervention += o.manual_intervention;
        self.undocumented_tooling += o.undocumented_tooling;
    }
}

/// Everything kept of the audit logs of one run.
#[derive(Debug, Default)]
pub struct AuditTrail {
    /// Writes judged manual intervention or undocumented tooling.
    pub judged: Vec<Judged>,
    /// The latest create, change and delete of each canonical cloud id touched.
    pub touches: FxHashMap<String, Touches>,
    pub counts: AuditCounts,
    /// Audit log sources read (any cloud).
    pub sources: Vec<SourceId>,
}

impl AuditTrail {
    /// Keeps `j` as the latest touch of `id` when it is later than the one kept (ties: the
    /// greater event id, so the result does not depend on file order).
    pub fn touch(&mut self, id: &str, action: Action, j: &Judged) {
        let slot = &mut self.touches.entry(id.to_owned()).or_default()[action.index()];
        let later = slot.as_ref().is_none_or(|k| (j.event.time, &j.event.event_id) > (k.event.time, &k.event.event_id));
        if later {
            *slot = Some(Box::new(j.clone()));
        }
    }

    /// Folds another file's part into this one.
    pub fn merge(&mut self, other: AuditTrail) {
        self.judged.extend(other.judged);
        for (id, touches) in other.touches {
            for (i, t) in touches.into_iter().enumerate() {
                if let Some(t) = t {
                    self.touch(&id, [Action::Create, Action::Change, Action::Delete][i], &t);
                }
            }
        }
        self.counts.add(&other.counts);
        self.sources.extend(other.sources);
    }

    /// The latest touch of `id` for `action`, if any.
    pub fn latest(&self, id: &str, action: Action) -> Option<&Judged> {
        self.touches.get(id).and_then(|t| t[action.index()].as_deref())
    }

    /// The latest touch of `id`, whatever it did.
    pub fn latest_any(&self, id: &str) -> Option<&Judged> {
        self.touches
            .get(id)?
            .iter()
            .flatten()
            .max_by(|a, b| (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id)))
            .map(|b| &**b)
    }
}

/// The key an ARN, asset name or ARM id is kept under: IAM paths dropped (names are unique in
/// an account), `:*` of log groups dropped, ARM ids lower-cased, self links made asset names.
pub fn touch_key(id: &str) -> String {
    if let Some(a) = crate::catalog::arn::Arn::parse(id) {
        let resource = a.resource.strip_suffix(":*").unwrap_or(a.resource);
        let resource = if a.service == "iam" {
            match resource.split_once('/') {
                Some((kind, rest)) => format!("{kind}/{}", rest.rsplit('/').next().unwrap_or(rest)),
                None => resource.to_owned(),
            }
        } else {
            resource.to_owned()
        };
        return format!("arn:{}:{}:{}:{}:{resource}", a.partition, a.service, a.region, a.account);
    }
    if id.len() > 15 && id[..15].eq_ignore_ascii_case("/subscriptions/") {
        return id.trim_end_matches('/').to_ascii_lowercase();
    }
    super::asset_name(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_keys_normalize() {
        assert_eq!(touch_key("arn:aws:iam::1:role/service-role/x"), "arn:aws:iam::1:role/x");
        assert_eq!(touch_key("arn:aws:logs:r:1:log-group:/a:*"), "arn:aws:logs:r:1:log-group:/a");
        assert_eq!(touch_key("/subscriptions/S/resourceGroups/RG/"), "/subscriptions/s/resourcegroups/rg");
        assert_eq!(
            touch_key("https://www.googleapis.com/compute/v1/projects/p/global/networks/n"),
            "//compute.googleapis.com/projects/p/global/networks/n"
        );
    }
}

/// One log file a CloudTrail digest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLog {
    /// Its index in the digest's `logFiles` (for spans).
    pub index: u32,
    pub s3_bucket: String,
    pub s3_object: String,
    /// Lower-case hex SHA-256 of the uncompressed log file.
    pub hash: String,
    pub hash_algorithm: String,
}

/// One CloudTrail digest file (`CloudTrail-Digest/`): the log files delivered in its hour with
/// their hashes, and the hash and signature of the digest before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestFile {
    pub source: SourceId,
    /// The path as shown.
    pub path: String,
    /// Lower-case hex SHA-256 of the uncompressed digest file (what the next digest's
    /// `previousDigestHashValue` holds, and part of the signed string).
    pub sha256: String,
    pub account: String,
    /// From `digestS3Object` (`…/CloudTrail-Digest/REGION/…`).
    pub region: Option<String>,
    pub start: jiff::Timestamp,
    pub end: jiff::Timestamp,
    /// `digestEndTime` exactly as written: it is part of the signed string.
    pub end_text: String,
    pub s3_bucket: String,
    pub s3_object: String,
    pub previous_bucket: Option<String>,
    pub previous_object: Option<String>,
    pub previous_hash: Option<String>,
    pub previous_hash_algorithm: Option<String>,
    /// Hex signature of the previous digest (`null` for the first digest of a chain).
    pub previous_signature: Option<String>,
    pub public_key_fingerprint: String,
    pub signature_algorithm: String,
    pub log_files: Vec<DigestLog>,
}

impl DigestFile {
    /// The chain the digest belongs to: its bucket and file name without the timestamp (account,
    /// region and trail name), so the digests of one trail in one region chain together across
    /// days.
    pub fn chain(&self) -> String {
        let file = self.s3_object.rsplit('/').next().unwrap_or(&self.s3_object);
        let name = file.strip_suffix(".json.gz").unwrap_or(file);
        let name = name.strip_suffix("_backfill").unwrap_or(name);
        let head = name.rsplit_once('_').map_or(name, |(head, _)| head);
        format!("{}/{head}", self.s3_bucket)
    }

    /// A backfill digest (`…_backfill.json.gz`): it lists late log files and stands outside the
    /// hourly chain.
    pub fn is_backfill(&self) -> bool {
        self.s3_object.trim_end_matches(".json.gz").ends_with("_backfill")
    }
}
