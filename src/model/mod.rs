//! The normalized model every check reads: states, plans and the artifacts around them, from
//! whatever format they came in. Later layers add inventories, audit events and accounts to
//! [`Estate`] without changing what is here.

mod address;
mod audit;
mod compact;
mod inventory;
mod locator;
mod plan;
pub(crate) mod state;

pub use address::{Address, IndexKey, Mode};
pub use audit::{
    Action, AuditCounts, AuditEvent, AuditFile, AuditTrail, DigestFile, DigestLog, Judged, Operation, Principal,
    PrincipalType, ToolSeen, Touches, Verdict, touch_key,
};
pub use compact::{CompactMap, Lookup};
pub use inventory::{Cloud, CloudResource, Coverage, Inventory, Key, KeyKind, Scope, Sighting, asset_name};
pub use locator::{Locator, Seg};
pub use plan::{Actions, Change, Plan};
pub use state::{Attributes, Instance, PathStep, State, StateFormat, Status, TagMaps, provider_short_name};

use crate::source::{SourceId, Sources};

/// A file found next to states that tells of an interrupted run.
#[derive(Debug, Clone)]
pub struct LockInfo {
    pub source: SourceId,
    /// `ID`, `Operation`, `Who`, `Created`, `Version` as written by Terraform (any may be absent).
    pub id: Option<String>,
    pub operation: Option<String>,
    pub who: Option<String>,
    pub created: Option<String>,
    pub version: Option<String>,
}

/// Everything one run read.
#[derive(Debug, Default)]
pub struct Estate {
    pub sources: Sources,
    pub states: Vec<State>,
    pub plans: Vec<Plan>,
    pub locks: Vec<LockInfo>,
    pub inventory: Inventory,
    /// Things worth telling that are neither findings nor errors.
    pub notes: Vec<String>,
    /// What the audit logs (`--audit-log`) showed: judged writes, counts, latest touches.
    pub audit: AuditTrail,
    /// Every CloudTrail log file read, with the SHA-256 of its uncompressed content (for the
    /// trail's digest checks).
    pub audit_files: Vec<AuditFile>,
    /// Every CloudTrail digest file read (`CloudTrail-Digest/`), for the trail's integrity and
    /// coverage checks.
    pub audit_digests: Vec<DigestFile>,
}

impl Estate {
    /// Managed, current (not deposed) instances across all states.
    pub fn managed_instances(&self) -> impl Iterator<Item = (&State, &Instance)> {
        self.states
            .iter()
            .flat_map(|s| s.instances.iter().filter(|i| i.address.mode == Mode::Managed).map(move |i| (s, i)))
    }
}
