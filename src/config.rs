//! `driftlock.toml`: the configuration. Unknown keys are refused; every error points at the
//! line and column in the file.
//!
//! ```toml
//! # severity overrides, by code or kind: error | warning | note
//! [severity]
//! DL0201 = "warning"
//! deposed = "error"
//!
//! # resources accepted on purpose; every exception says why, and may expire
//! [[exception]]
//! reason = "landing-zone bootstrap bucket, imported in K.1.3"
//! expires = "2027-01-31"
//! provider = "aws"                       # aws | gcp | azure | other
//! type = "AWS::S3::Bucket"               # cloud type or Terraform type
//! id = "^arn:aws:s3:::lz-bootstrap-"     # regex on the canonical cloud id or the address
//! tags = { owner = "platform" }          # every listed tag must match
//! kinds = ["unmanaged"]                  # finding kinds it accepts (default: all)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::code::{self, CodeInfo, Severity};
use crate::error::InputError;
use crate::finding::Finding;
use crate::model::Cloud;
use crate::source::{Source, display_path};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    preset: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
    #[serde(default)]
    phase: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    inventory: Option<RawInventory>,
    #[serde(default)]
    governance: Option<Spanned<RawGovernance>>,
    /// Account id → readable name.
    #[serde(default)]
    accounts: BTreeMap<String, Spanned<toml::Value>>,
    /// A file of account names (see `--account-map`), relative to this file.
    #[serde(default)]
    account_map: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGovernance {
    #[serde(default)]
    principals: Vec<Spanned<String>>,
    #[serde(default)]
    tools: Vec<Spanned<RawTool>>,
    #[serde(default)]
    break_glass: Option<Spanned<RawBreakGlass>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreakGlass {
    principals: Vec<Spanned<String>>,
    #[serde(default)]
    document: Option<Spanned<String>>,
}

/// A principal of the governance record: an exact id or a pattern with `*` wildcards.
#[derive(Debug, Clone)]
pub struct PrincipalPattern {
    /// As written.
    pub text: String,
    re: regex::Regex,
}

impl PrincipalPattern {
    pub fn new(text: &str) -> Result<Self, regex::Error> {
        let body: Vec<String> = text.split('*').map(regex::escape).collect();
        let re = regex::RegexBuilder::new(&format!("^{}$", body.join(".*"))).case_insensitive(true).build()?;
        Ok(PrincipalPattern { text: text.to_owned(), re })
    }

    pub fn matches(&self, id: &str) -> bool {
        self.re.is_match(id)
    }
}

/// A tool of the governance record, with its version requirement (Cargo's semver syntax:
/// `>=1.11, <1.12`; a bare `5.100` means `^5.100`, `=5.100` means 5.100.x).
#[derive(Debug, Clone)]
pub struct ToolRule {
    pub name: String,
    pub version: Option<semver::VersionReq>,
    /// The requirement as written.
    pub version_text: Option<String>,
    /// Byte span in the configuration.
    pub span: (usize, usize),
}

/// Principals allowed to change the account in an emergency, and the emergency governance
/// document that authorizes them.
#[derive(Debug, Clone)]
pub struct BreakGlass {
    pub principals: Vec<PrincipalPattern>,
    /// Resolved against the configuration file's folder.
    pub document: PathBuf,
    /// As written.
    pub document_text: String,
}

/// The governance record: who may change the account, and with which tools.
#[derive(Debug, Clone, Default)]
pub struct GovernanceRecord {
    pub principals: Vec<PrincipalPattern>,
    pub tools: Vec<ToolRule>,
    pub break_glass: Option<BreakGlass>,
    /// Byte span of the `[governance]` table.
    pub span: (usize, usize),
}

impl GovernanceRecord {
    /// The rule of a tool, by catalog name.
    pub fn tool(&self, name: &str) -> Option<&ToolRule> {
        self.tools.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<Spanned<String>>,
    #[serde(default)]
    states: Vec<String>,
    #[serde(default)]
    plans: Vec<String>,
    #[serde(default)]
    lineage: Option<Spanned<String>>,
    #[serde(default)]
    serial: Option<Spanned<u64>>,
    #[serde(default)]
    verified_commit: Option<Spanned<String>>,
    #[serde(default)]
    allow: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    own: Option<Spanned<toml::Value>>,
}

/// A phase's status in the execution sequencing lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    Pending,
    InProgress,
    Locked,
}

impl PhaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Pending => "pending",
            PhaseStatus::InProgress => "in-progress",
            PhaseStatus::Locked => "locked",
        }
    }
}

/// How a resource is owned by a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Every resource of the phase's states.
    State,
    /// Resources whose address starts with this module path (`module.network`).
    Module(String),
    /// Resources (in states or in the cloud) with this tag.
    Tag { key: String, value: String },
}

/// A phase of the sequence.
#[derive(Debug)]
pub struct Phase {
    pub name: String,
    pub description: Option<String>,
    pub status: PhaseStatus,
    /// State sources, resolved against the configuration file's folder.
    pub states: Vec<PathBuf>,
    pub plans: Vec<PathBuf>,
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    pub verified_commit: Option<String>,
    /// Allowed Terraform resource types (anchored by the author), or `None`: any.
    pub allow: Option<Vec<regex::Regex>>,
    pub own: Ownership,
    /// Byte span of the `[[phase]]` table.
    pub span: (usize, usize),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    reason: Spanned<String>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    provider: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
}

/// An accepted resource (or class of resources), with the reason.
#[derive(Debug)]
pub struct Exception {
    pub reason: String,
    pub expires: Option<jiff::civil::Date>,
    pub cloud: Option<Cloud>,
    pub type_: Option<String>,
    pub id: Option<regex::Regex>,
    pub tags: BTreeMap<String, String>,
    pub kinds: Vec<&'static str>,
    /// Byte span of the `[[exception]]` table in the configuration file.
    pub span: (usize, usize),
    /// How many findings it accepted this run.
    pub hits: AtomicUsize,
}

/// What a finding is about, for exception matching.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subject<'a> {
    pub kind: &'static str,
    pub cloud: Option<Cloud>,
    pub cloud_type: Option<&'a str>,
    pub terraform_type: Option<&'a str>,
    pub cloud_id: Option<&'a str>,
    pub address: Option<&'a str>,
    pub tags: Option<&'a crate::model::CompactMap<String>>,
}

impl Exception {
    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }

    /// True when this exception accepts the subject (never once expired).
    pub fn accepts(&self, s: &Subject<'_>, today: jiff::civil::Date) -> bool {
        if self.expired(today) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&s.kind) {
            return false;
        }
        if let Some(c) = self.cloud {
            if s.cloud != Some(c) {
                return false;
            }
        }
        if let Some(t) = &self.type_ {
            let same = |x: Option<&str>| x.is_some_and(|x| x.eq_ignore_ascii_case(t));
            if !same(s.cloud_type) && !same(s.terraform_type) {
                return false;
            }
        }
        if let Some(re) = &self.id {
            if !s.cloud_id.is_some_and(|i| re.is_match(i)) && !s.address.is_some_and(|a| re.is_match(a)) {
                return false;
            }
        }
        if !self.tags.is_empty() {
            let Some(have) = s.tags else { return false };
            if !self.tags.iter().all(|(k, v)| have.get(k) == Some(v)) {
                return false;
            }
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// A validated configuration.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it was read from (for findings about it) and its text.
    pub file: String,
    pub text: String,
    pub severity: Vec<(&'static CodeInfo, Severity)>,
    pub exceptions: Vec<Exception>,
    /// The phases, in order.
    pub phases: Vec<Phase>,
    /// Inventory sources, resolved against the configuration file's folder.
    pub inventory: Vec<PathBuf>,
    /// The governance record (`[governance]`), when the file has one.
    pub governance: Option<GovernanceRecord>,
    /// Account names (`[accounts]`).
    pub accounts: crate::report::account::AccountMap,
    /// The account map file (`account_map`), resolved against the configuration file's folder.
    pub account_map: Option<PathBuf>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let name = display_path(path);
        let text = Source::file(path).text().map_err(|mut e| {
            e.code = &code::INVALID_CONFIG;
            e
        })?;
        Self::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, InputError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (off, len) = e.span().map_or((0, 0), |r| (r.start, r.end - r.start));
            InputError::new(&code::INVALID_CONFIG, name, format!("{name}: {}", e.message()))
                .with_help("see `driftlock init` for a commented starter configuration")
                .with_source_text(text)
                .with_span(off, len.max(1), e.message().to_owned())
        })?;
        let bad = |span: std::ops::Range<usize>, msg: String, help: &str| {
            InputError::new(&code::INVALID_CONFIG, name, format!("{name}: {msg}"))
                .with_help(help.to_owned())
                .with_source_text(text)
                .with_span(span.start, (span.end - span.start).max(1), msg)
        };
        let mut severity = Vec::new();
        for (k, v) in &raw.severity {
            let info = code::lookup(k.get_ref()).filter(|c| !c.input_error).ok_or_else(|| {
                bad(
                    k.span(),
                    format!("unknown finding code or kind `{}`", k.get_ref()),
                    "`driftlock explain` lists every code and kind",
                )
            })?;
            let sev = Severity::parse(v.get_ref()).ok_or_else(|| {
                bad(v.span(), format!("`{}` is not a severity", v.get_ref()), "use error, warning or note")
            })?;
            severity.push((info, sev));
        }
        let mut exceptions = Vec::new();
        for e in raw.exception {
            let span = e.span();
            let e = e.into_inner();
            if e.reason.get_ref().trim().is_empty() {
                return Err(bad(
                    e.reason.span(),
                    "an exception needs a reason".into(),
                    "say why this resource is accepted: who decided, until when",
                ));
            }
            let expires = match &e.expires {
                Some(d) => Some(d.get_ref().parse::<jiff::civil::Date>().map_err(|err| {
                    bad(d.span(), format!("`{}` is not a date: {err}", d.get_ref()), "write dates as YYYY-MM-DD")
                })?),
                None => None,
            };
            let cloud = match &e.provider {
                Some(p) => Some(match p.get_ref().as_str() {
                    "aws" => Cloud::Aws,
                    "gcp" | "google" => Cloud::Gcp,
                    "azure" | "azurerm" => Cloud::Azure,
                    "other" => Cloud::Other,
                    other => {
                        return Err(bad(
                            p.span(),
                            format!("unknown provider `{other}`"),
                            "use aws, gcp, azure or other",
                        ));
                    }
                }),
                None => None,
            };
            let id = match &e.id {
                Some(r) => Some(regex::Regex::new(r.get_ref()).map_err(|err| {
                    bad(r.span(), format!("invalid regex: {err}"), "write a Rust regex (https://docs.rs/regex)")
                })?),
                None => None,
            };
            let mut kinds = Vec::new();
            for k in &e.kinds {
                let info = code::lookup(k.get_ref()).filter(|c| !c.input_error).ok_or_else(|| {
                    bad(
                        k.span(),
                        format!("unknown finding kind `{}`", k.get_ref()),
                        "`driftlock explain` lists every kind",
                    )
                })?;
                kinds.push(info.name);
            }
            exceptions.push(Exception {
                reason: e.reason.into_inner(),
                expires,
                cloud,
                type_: e.type_,
                id,
                tags: e.tags,
                kinds,
                span: (span.start, span.end - span.start),
                hits: AtomicUsize::new(0),
            });
        }
        let base = Path::new(name).parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &String| {
            if Path::new(p).is_absolute() || crate::remote::is_remote(p) { PathBuf::from(p) } else { base.join(p) }
        };
        let preset = match &raw.preset {
            Some(p) => Some(crate::governance::preset(p.get_ref()).ok_or_else(|| {
                bad(
                    p.span(),
                    format!("unknown preset `{}`", p.get_ref()),
                    "the shipped preset is `k-sequence` (policies/k-sequence.toml)",
                )
            })?),
            None => None,
        };
        let mut phases: Vec<Phase> = Vec::new();
        for ph in raw.phase {
            let span = ph.span();
            let ph = ph.into_inner();
            let name = ph.name.get_ref().clone();
            if phases.iter().any(|p| p.name == name) {
                return Err(bad(
                    ph.name.span(),
                    format!("phase `{name}` is listed twice"),
                    "each phase appears once, in order",
                ));
            }
            let status = match &ph.status {
                None => PhaseStatus::Pending,
                Some(st) => match st.get_ref().as_str() {
                    "pending" => PhaseStatus::Pending,
                    "in-progress" => PhaseStatus::InProgress,
                    "locked" => PhaseStatus::Locked,
                    other => {
                        return Err(bad(
                            st.span(),
                            format!("`{other}` is not a phase status"),
                            "use pending, in-progress or locked",
                        ));
                    }
                },
            };
            let allow_src: Option<Vec<(String, std::ops::Range<usize>)>> = match &ph.allow {
                Some(list) => Some(list.iter().map(|a| (a.get_ref().clone(), a.span())).collect()),
                None => preset
                    .and_then(|p| p.allow_for(&name))
                    .map(|l| l.into_iter().map(|a| (a, ph.name.span())).collect()),
            };
            let allow = match allow_src {
                Some(list) => Some(
                    list.into_iter()
                        .map(|(a, sp)| {
                            regex::Regex::new(&a).map_err(|e| {
                                bad(
                                    sp,
                                    format!("invalid regex: {e}"),
                                    "write a Rust regex, e.g. \"^aws_(vpc|subnet)$\"",
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            let own = match &ph.own {
                None => Ownership::State,
                Some(o) => parse_own(o.get_ref()).ok_or_else(|| {
                    bad(
                        o.span(),
                        "`own` must be \"state\", { module = \"module.x\" } or { tag = \"KEY\", value = \"VALUE\" }"
                            .into(),
                        "say how a resource belongs to this phase",
                    )
                })?,
            };
            if let Some(l) = &ph.lineage {
                if !is_lineage(l.get_ref()) {
                    return Err(bad(
                        l.span(),
                        format!("`{}` is not a state lineage (8-4-4-4-12 hex)", l.get_ref()),
                        "copy `lineage` from the phase's state (`terraform state pull`)",
                    ));
                }
            }
            phases.push(Phase {
                name,
                description: ph.description,
                status,
                states: ph.states.iter().map(resolve).collect(),
                plans: ph.plans.iter().map(resolve).collect(),
                lineage: ph.lineage.map(Spanned::into_inner),
                serial: ph.serial.map(Spanned::into_inner),
                verified_commit: ph.verified_commit.map(Spanned::into_inner),
                allow,
                own,
                span: (span.start, span.end - span.start),
            });
        }
        let inventory = raw.inventory.map(|i| i.sources.iter().map(resolve).collect()).unwrap_or_default();
        let governance = match raw.governance {
            Some(g) => Some(governance_record(g, &bad, &resolve)?),
            None => None,
        };
        let mut accounts = crate::report::account::AccountMap::default();
        for (id, n) in &raw.accounts {
            match n.get_ref() {
                toml::Value::String(s) if !s.is_empty() && !id.is_empty() => accounts.insert(id, s),
                _ => {
                    return Err(bad(
                        n.span(),
                        format!("account `{id}` must be named by a non-empty string"),
                        "write `\"123456789012\" = \"prod\"` under [accounts]",
                    ));
                }
            }
        }
        let account_map = raw.account_map.as_ref().map(|p| resolve(p.get_ref()));
        Ok(Config {
            file: name.to_owned(),
            text: text.to_owned(),
            severity,
            exceptions,
            phases,
            inventory,
            governance,
            accounts,
            account_map,
        })
    }

    /// The index of a phase by name.
    pub fn phase(&self, name: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.name == name)
    }

    /// The first exception that accepts the subject, if any.
    pub fn exception_for(&self, s: &Subject<'_>, today: jiff::civil::Date) -> Option<&Exception> {
        self.exceptions.iter().find(|e| e.accepts(s, today))
    }

    /// Applies severity overrides.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings {
            if let Some((_, s)) = self.severity.iter().find(|(c, _)| c.code == f.code) {
                f.severity = *s;
            }
        }
    }
}

/// Validates `[governance]`: principals non-empty, tools known to the tool catalog with valid
/// semver requirements, break-glass principals only with their emergency document.
fn governance_record(
    g: Spanned<RawGovernance>,
    bad: &dyn Fn(std::ops::Range<usize>, String, &str) -> InputError,
    resolve: &dyn Fn(&String) -> PathBuf,
) -> Result<GovernanceRecord, InputError> {
    let span = g.span();
    let g = g.into_inner();
    let patterns = |list: &[Spanned<String>]| -> Result<Vec<PrincipalPattern>, InputError> {
        list.iter()
            .map(|p| {
                let text = p.get_ref().trim();
                if text.is_empty() || text == "*" {
                    return Err(bad(
                        p.span(),
                        "a principal must name an identity (a lone `*` would authorize everybody)".into(),
                        "write a role or user ARN, a service account e-mail, or an Azure app/object id",
                    ));
                }
                PrincipalPattern::new(text).map_err(|e| {
                    bad(p.span(), format!("invalid principal pattern: {e}"), "use `*` as the only wildcard")
                })
            })
            .collect()
    };
    let principals = patterns(&g.principals)?;
    let mut tools: Vec<ToolRule> = Vec::new();
    for t in &g.tools {
        let sp = t.span();
        let t = t.get_ref();
        let name = t.name.get_ref();
        // Any Terraform provider may be named (lock files pin providers the catalog does not
        // list, such as hashicorp/random).
        if crate::tools::ToolCatalog::builtin().get(name).is_none() && !name.starts_with("terraform-provider-") {
            return Err(bad(
                t.name.span(),
                format!("unknown tool `{name}`"),
                "`driftlock catalog --tools` lists the tool names driftlock recognises",
            ));
        }
        if tools.iter().any(|x| &x.name == name) {
            return Err(bad(t.name.span(), format!("tool `{name}` is listed twice"), "list each tool once"));
        }
        let version = match &t.version {
            Some(v) => Some(semver::VersionReq::parse(v.get_ref()).map_err(|e| {
                bad(
                    v.span(),
                    format!("`{}` is not a version requirement: {e}", v.get_ref()),
                    "write a semver requirement such as \">=1.11, <1.12\" or \"=5.100\"",
                )
            })?),
            None => None,
        };
        tools.push(ToolRule {
            name: name.clone(),
            version,
            version_text: t.version.as_ref().map(|v| v.get_ref().clone()),
            span: (sp.start, sp.end - sp.start),
        });
    }
    let break_glass = match g.break_glass {
        Some(b) => {
            let bspan = b.span();
            let b = b.into_inner();
            let Some(doc) = b.document else {
                return Err(bad(
                    bspan,
                    "break-glass principals need the emergency governance document that authorizes them (`document`)"
                        .into(),
                    "name the locked emergency governance document: break_glass = { principals = [...], document = \"governance/emergency.md\" }",
                ));
            };
            if doc.get_ref().trim().is_empty() {
                return Err(bad(doc.span(), "`document` is empty".into(), "name the emergency governance document"));
            }
            Some(BreakGlass {
                principals: patterns(&b.principals)?,
                document: resolve(doc.get_ref()),
                document_text: doc.get_ref().clone(),
            })
        }
        None => None,
    };
    Ok(GovernanceRecord { principals, tools, break_glass, span: (span.start, span.end - span.start) })
}

fn parse_own(v: &toml::Value) -> Option<Ownership> {
    match v {
        toml::Value::String(s) if s == "state" => Some(Ownership::State),
        toml::Value::Table(t) => {
            if let Some(m) = t.get("module").and_then(toml::Value::as_str) {
                return (t.len() == 1).then(|| Ownership::Module(m.to_owned()));
            }
            let key = t.get("tag").and_then(toml::Value::as_str)?;
            let value = t.get("value").and_then(toml::Value::as_str)?;
            (t.len() == 2).then(|| Ownership::Tag { key: key.to_owned(), value: value.to_owned() })
        }
        _ => None,
    }
}

/// `hashicorp/go-uuid` shape: 8-4-4-4-12 hex digits.
fn is_lineage(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_overrides() {
        let c = Config::parse("d.toml", "[severity]\nDL0201 = \"warning\"\ndeposed = \"note\"\n").unwrap();
        assert_eq!(c.severity.len(), 2);
    }

    #[test]
    fn exceptions_match_and_expire() {
        let c = Config::parse(
            "d.toml",
            "[[exception]]\nreason = \"bootstrap\"\nid = \"^arn:aws:s3:::lz-\"\nkinds = [\"unmanaged\"]\n\n[[exception]]\nreason = \"old\"\nexpires = \"2020-01-01\"\nid = \".*\"\n",
        )
        .unwrap();
        let today = jiff::civil::date(2026, 11, 24);
        let s = Subject { kind: "unmanaged", cloud_id: Some("arn:aws:s3:::lz-1"), ..Subject::default() };
        assert!(c.exception_for(&s, today).is_some());
        let other = Subject { kind: "unmanaged", cloud_id: Some("arn:aws:s3:::x"), ..Subject::default() };
        assert!(c.exception_for(&other, today).is_none(), "the expired catch-all must not match");
        assert!(c.exceptions[1].expired(today));
        assert_eq!(c.exceptions[0].hits.load(Ordering::Relaxed), 1);
        let e = Config::parse("d.toml", "[[exception]]\nid = \"x\"\n").unwrap_err();
        assert!(e.message.contains("reason"), "{}", e.message);
        let e = Config::parse("d.toml", "[[exception]]\nreason = \"r\"\nid = \"(\"\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(3));
    }

    #[test]
    fn phases_parse_in_order_with_defaults_from_the_preset() {
        let c = Config::parse(
            "cfg/driftlock.toml",
            "preset = \"k-sequence\"\n[[phase]]\nname = \"K.1.x\"\nstatus = \"locked\"\nstates = [\"k1\"]\nlineage = \"212f06b3-1234-5678-9abc-def012345678\"\nserial = 7\nverified_commit = \"abc\"\n\n[[phase]]\nname = \"K.2.x\"\nstatus = \"in-progress\"\nown = { tag = \"phase\", value = \"K.2.x\" }\nallow = [\"^aws_sqs_queue$\"]\n",
        )
        .unwrap();
        assert_eq!(c.phases.len(), 2);
        assert_eq!(c.phases[0].status, PhaseStatus::Locked);
        assert_eq!(c.phases[0].states, vec![PathBuf::from("cfg/k1")]);
        assert!(
            c.phases[0].allow.as_ref().is_some_and(|a| a.iter().any(|r| r.is_match("aws_vpc"))),
            "preset allow list"
        );
        assert_eq!(c.phases[1].own, Ownership::Tag { key: "phase".into(), value: "K.2.x".into() });
        assert!(c.phases[1].allow.as_ref().unwrap()[0].is_match("aws_sqs_queue"));
    }

    #[test]
    fn phase_errors_point_into_the_toml() {
        let e = Config::parse("d.toml", "[[phase]]\nname = \"K.1.x\"\nstatus = \"done\"\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(3));
        let e = Config::parse("d.toml", "[[phase]]\nname = \"K.1.x\"\nlineage = \"nope\"\n").unwrap_err();
        assert!(e.message.contains("lineage"), "{}", e.message);
        let e = Config::parse("d.toml", "[[phase]]\nname = \"a\"\n[[phase]]\nname = \"a\"\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(4));
        let e = Config::parse("d.toml", "[[phase]]\nname = \"a\"\nserial = \"7\"\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(3));
    }

    #[test]
    fn governance_record_parses_and_points_at_errors() {
        let c = Config::parse(
            "d.toml",
            "[governance]\nprincipals = [\"arn:aws:iam::123456789012:role/platform-ci-*\"]\ntools = [\n  { name = \"terraform\", version = \">=1.11, <1.12\" },\n  { name = \"terraform-provider-aws\", version = \"=5.100\" },\n]\nbreak_glass = { principals = [\"arn:aws:iam::123456789012:role/break-glass\"], document = \"gov/emergency.md\" }\n",
        )
        .unwrap();
        let g = c.governance.unwrap();
        assert!(g.principals[0].matches("arn:aws:iam::123456789012:role/platform-ci-deployer"));
        assert!(!g.principals[0].matches("arn:aws:iam::123456789012:role/other"));
        assert!(g.tool("terraform").unwrap().version.as_ref().unwrap().matches(&semver::Version::new(1, 11, 4)));
        assert!(
            !g.tool("terraform-provider-aws")
                .unwrap()
                .version
                .as_ref()
                .unwrap()
                .matches(&semver::Version::new(5, 101, 0))
        );
        assert_eq!(g.break_glass.unwrap().document, PathBuf::from("gov/emergency.md"));
        let e = Config::parse("d.toml", "[governance]\ntools = [{ name = \"terraform\", version = \"one\" }]\n")
            .unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(2));
        let e = Config::parse("d.toml", "[governance]\ntools = [{ name = \"teraform\" }]\n").unwrap_err();
        assert!(e.message.contains("unknown tool"), "{}", e.message);
        let e = Config::parse("d.toml", "[governance]\nprincipal = []\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(2));
        let e = Config::parse("d.toml", "[governance]\nbreak_glass = { principals = [\"arn:aws:iam::1:role/bg\"] }\n")
            .unwrap_err();
        assert!(e.message.contains("document"), "{}", e.message);
        let e = Config::parse("d.toml", "[governance]\nprincipals = [\"*\"]\n").unwrap_err();
        assert!(e.message.contains("everybody"), "{}", e.message);
    }

    #[test]
    fn the_starters_governance_example_is_valid_once_uncommented() {
        let starter = crate::governance::STARTER;
        let start = starter.find("# [governance]").unwrap();
        let block: String = starter[start..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::parse("driftlock.toml", &block).unwrap();
        let g = c.governance.unwrap();
        assert_eq!((g.principals.len(), g.tools.len()), (1, 2));
        assert!(g.break_glass.is_some());
    }

    #[test]
    fn errors_point_into_the_toml() {
        let e = Config::parse("d.toml", "[severity]\nDL0201 = \"ignore\"\n").unwrap_err();
        assert_eq!(e.code.code, "DL0012");
        assert_eq!(e.location(), Some((2, 10)));
        let e = Config::parse("d.toml", "[severty]\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(1));
        let e = Config::parse("d.toml", "[severity]\nDL9999 = \"error\"\n").unwrap_err();
        assert_eq!(e.location(), Some((2, 1)));
    }
}
