//! Audit-log findings: `manual-intervention` and `undocumented-tooling` for the writes the
//! audit logs show (judged while they were read, `ingest::audit`), `sequencing-deviation` for
//! writes to a later phase's resources while an earlier phase was not locked, `undocumented-
//! tooling` from artifacts (a state's or plan's `terraform_version`, provider versions in
//! `.terraform.lock.hcl`), and the `evidence` that `unmanaged`, `drifted` and `missing`
//! findings gain: who created, changed or deleted the resource, and with what.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{Check, Ctx};
use crate::code::{self, CodeInfo};
use crate::config::{Config, GovernanceRecord, PhaseStatus, Subject};
use crate::error::InputError;
use crate::finding::{Evidence, Finding};
use crate::model::{Action, Estate, Judged, Locator, Mode, StateFormat, Verdict, touch_key};

/// The evidence object of a judged write.
pub(crate) fn evidence(estate: &Estate, j: &Judged) -> Evidence {
    let e = &j.event;
    Evidence {
        event_id: e.event_id.clone(),
        event_name: e.name.clone(),
        event_time: e.time.to_string(),
        event_source: e.source.clone(),
        principal: if e.principal.display.is_empty() { e.principal.id.clone() } else { e.principal.display.clone() },
        principal_type: e.principal.kind().as_str(),
        tool: j.tool.as_ref().map(|t| t.name.to_owned()),
        tool_version: j.tool.as_ref().and_then(|t| t.version.clone()),
        user_agent: e.user_agent.clone(),
        source_ip: e.source_ip.clone(),
        file: estate.sources.get(e.source_id).name.clone(),
        line: None,
        time: e.time,
        source: e.source_id,
        locator: e.locator.clone(),
    }
}

/// `… by PRINCIPAL (TYPE) with TOOL VERSION`.
fn who_and_how(j: &Judged) -> String {
    let p = &j.event.principal;
    let who = if p.display.is_empty() { p.id.as_str() } else { p.display.as_str() };
    let who = if who.is_empty() { "an unidentified principal" } else { who };
    let tool = match &j.tool {
        Some(t) => format!("{}{}", t.name, t.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default()),
        None => "an unknown tool".to_owned(),
    };
    format!("by {who} ({}) with {tool}", p.kind().as_str())
}

/// The first few resources an event touched, for messages.
fn touched_list(j: &Judged) -> String {
    let ids: Vec<&str> = j.event.resources.iter().map(|(id, _)| id.as_str()).collect();
    match ids.len() {
        0 => String::new(),
        1..=3 => format!("; it touched {}", ids.join(", ")),
        n => format!("; it touched {} and {} more", ids[..3].join(", "), n - 3),
    }
}

pub(crate) struct AuditLog;

impl Check for AuditLog {
    fn name(&self) -> &'static str {
        "audit-log"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let estate = ctx.estate;
        for j in &estate.audit.judged {
            let (info, help): (&'static CodeInfo, &str) = match j.verdict {
                Verdict::ManualIntervention => (
                    &code::MANUAL_INTERVENTION,
                    "find out why the change was made by hand; revert it through the pipeline or bring it into the configuration through review (emergencies: `[governance] break_glass` with its document)",
                ),
                _ => (
                    &code::UNDOCUMENTED_TOOLING,
                    "make changes only through the recorded pipeline and tools; if this principal, tool or version is meant to be used, add it to `[governance]` through review (`driftlock catalog --tools`)",
                ),
            };
            let e = &j.event;
            let cloud_id = e.resources.first().map(|(id, _)| id.clone());
            if ctx.excepted(&Subject {
                kind: info.name,
                cloud: Some(e.cloud),
                cloud_id: cloud_id.as_deref(),
                ..Subject::default()
            }) {
                continue;
            }
            let message =
                format!("{} {} ({}) {}: {}{}", e.time, e.name, e.source, who_and_how(j), j.reason, touched_list(j));
            out.push(
                Finding::new(info, message)
                    .help(help)
                    .cloud_id(cloud_id)
                    .identity(e.event_id.clone())
                    .evidence(evidence(estate, j))
                    .at(e.source_id, e.locator.clone()),
            );
        }
        sequencing(ctx, out);
    }
}

/// When each locked phase's lock was recorded: the commit time of its `verified_commit`.
pub fn lock_times(config: &Config) -> Vec<Option<jiff::Timestamp>> {
    let dir = Path::new(&config.file).parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let repo = gix::discover(&dir).ok();
    config
        .phases
        .iter()
        .map(|p| {
            if p.status != PhaseStatus::Locked {
                return None;
            }
            let repo = repo.as_ref()?;
            let id = repo.rev_parse_single(p.verified_commit.as_deref()?).ok()?;
            let commit = id.object().ok()?.try_into_commit().ok()?;
            let secs = commit.time().ok()?.seconds;
            jiff::Timestamp::from_second(secs).ok()
        })
        .collect()
}

/// Writes (of any verdict) to resources owned by a phase while an earlier phase was not
/// locked at the time of the write.
fn sequencing(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(config) = ctx.config else { return };
    if config.phases.len() < 2 || ctx.estate.audit.touches.is_empty() {
        return;
    }
    let estate = ctx.estate;
    // The phase owning each canonical id: state instances, then resources owned by tag.
    let mut owner: HashMap<String, usize> = HashMap::new();
    let states: Vec<&crate::model::State> = super::audited_states(estate).collect();
    for s in &states {
        for i in s.instances.iter().filter(|i| i.address.mode == Mode::Managed) {
            let Some(pi) = super::governance::instance_phase(ctx, s, i) else { continue };
            let Some(e) = ctx.catalog.get(&i.address.type_) else { continue };
            let arn = super::cloud_id(i);
            let (region, account) = arn
                .as_deref()
                .and_then(crate::catalog::arn::Arn::parse)
                .map(|a| (a.region(), a.account()))
                .unwrap_or_default();
            let m = super::join::Match {
                state: 0,
                instance: 0,
                entry: None,
                resource: None,
                region: region.or_else(|| i.attributes.get("region").and_then(|r| r.as_str())),
                account,
            };
            owner.entry(touch_key(&super::instance_cloud_id(e, i, &m))).or_insert(pi);
        }
    }
    if let Some(join) = &ctx.join {
        for (ri, r) in estate.inventory.resources.iter().enumerate() {
            let phase = match join.owner[ri] {
                Some(mi) => {
                    let m = &join.matches[mi];
                    let s = &estate.states[m.state];
                    super::governance::instance_phase(ctx, s, &s.instances[m.instance])
                }
                None => config.phases.iter().position(|p| match &p.own {
                    crate::config::Ownership::Tag { key, value } => {
                        r.tags.as_ref().is_some_and(|t| t.get(key) == Some(value))
                    }
                    _ => false,
                }),
            };
            if let Some(pi) = phase {
                owner.entry(touch_key(&r.cloud_id)).or_insert(pi);
            }
        }
    }
    let locks = lock_times(config);
    let mut ids: Vec<&String> = estate.audit.touches.keys().collect();
    ids.sort();
    for id in ids {
        let Some(&pi) = owner.get(id.as_str()) else { continue };
        let Some(j) = estate.audit.latest_any(id) else { continue };
        let t = j.event.time;
        let earlier = config.phases[..pi]
            .iter()
            .enumerate()
            .find(|(qi, q)| q.status != PhaseStatus::Locked || locks[*qi].is_some_and(|lt| lt > t));
        let Some((_, q)) = earlier else { continue };
        let state = if q.status == PhaseStatus::Locked { "not yet locked" } else { q.status.as_str() };
        out.push(
            Finding::new(
                &code::SEQUENCING_DEVIATION,
                format!(
                    "{t} {} ({}) {} wrote {id}, owned by phase {}, while the earlier phase {} was {state}",
                    j.event.name,
                    j.event.source,
                    who_and_how(j),
                    config.phases[pi].name,
                    q.name
                ),
            )
            .help("lock the earlier phase before anything of a later phase is built or changed; undo what was done ahead of it")
            .cloud_id(Some(id.clone()))
            .identity(config.phases[pi].name.clone())
            .identity(j.event.event_id.clone())
            .evidence(evidence(estate, j))
            .at(j.event.source_id, j.event.locator.clone()),
        );
    }
}

/// Adds who created, changed or deleted the resource to `unmanaged`, `drifted` and `missing`
/// findings, from the latest write the audit logs show for its canonical id.
pub(crate) fn annotate(estate: &Estate, findings: &mut [Finding]) {
    if estate.audit.touches.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let want = match f.kind {
            k if k == code::UNMANAGED.name => Action::Create,
            k if k == code::DRIFTED.name => Action::Change,
            k if k == code::MISSING.name => Action::Delete,
            _ => continue,
        };
        let Some(id) = f.cloud_id.as_deref() else { continue };
        let key = touch_key(id);
        let Some(j) = estate.audit.latest(&key, want).or_else(|| estate.audit.latest_any(&key)) else { continue };
        let what = j.event.resources.iter().find(|(k, _)| *k == key).map_or(want, |(_, a)| *a);
        f.message = format!(
            "{}; {} {} {} {} (event {})",
            f.message,
            what.verb(),
            j.event.time,
            j.event.name,
            who_and_how(j),
            j.event.event_id
        );
        f.evidence = Some(evidence(estate, j));
    }
}

/// Fills the `line` of every finding's evidence, reading the log files again (only files with
/// evidence; texts already read for snippets are reused).
pub fn resolve_evidence(
    findings: &mut [Finding],
    sources: &crate::source::Sources,
    texts: &crate::locate::Texts,
) -> Vec<InputError> {
    let mut errors = Vec::new();
    let mut by_source: BTreeMap<crate::source::SourceId, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some(e) = &f.evidence {
            by_source.entry(e.source).or_default().push(i);
        }
    }
    for (id, idx) in by_source {
        let text: std::sync::Arc<str> = match texts.get(&id) {
            Some(t) => t.clone(),
            None => match sources.text(id) {
                Ok(t) => t.into(),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
        };
        let mut resolver = crate::locate::Resolver::new(&text);
        for i in idx {
            let Some(e) = findings[i].evidence.as_mut() else { continue };
            if let Some((off, _)) = resolver.span(&e.locator) {
                e.line = Some(crate::source::line_col(&text, off).0);
            }
        }
    }
    errors
}

/// The version a record accepts for Terraform core: its `terraform` and `opentofu` rules
/// (a state cannot tell them apart either).
fn core_rules(record: &GovernanceRecord) -> Vec<&crate::config::ToolRule> {
    record.tool("terraform").into_iter().chain(record.tool("opentofu")).collect()
}

/// Why `version` is outside `rules` (`None`: inside).
fn outside(rules: &[&crate::config::ToolRule], version: &str) -> Option<String> {
    if rules.iter().any(|r| r.version.is_none()) {
        return None;
    }
    let wanted: Vec<&str> = rules.iter().filter_map(|r| r.version_text.as_deref()).collect();
    match crate::tools::lenient_version(version) {
        Some(v) if rules.iter().filter_map(|r| r.version.as_ref()).any(|req| req.matches(&v)) => None,
        Some(_) => Some(format!("outside the governance record's `{}`", wanted.join("` / `"))),
        None => Some(format!("not a version the governance record's `{}` can judge", wanted.join("` / `"))),
    }
}

/// `undocumented-tooling` from the artifacts: a state's or plan's `terraform_version`, and the
/// provider versions of each `.terraform.lock.hcl` found next to a scanned state. Only with a
/// governance record.
pub fn artifact_findings(estate: &Estate, config: Option<&Config>) -> (Vec<Finding>, Vec<InputError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let Some(record) = config.and_then(|c| c.governance.as_ref()) else { return (out, errors) };
    let core = core_rules(record);
    let mut check_core = |source, version: &str, what: &str, lineage: Option<&str>| {
        let problem = if core.is_empty() {
            Some("the governance record names no `terraform` (or `opentofu`) version".to_owned())
        } else {
            outside(&core, version)
        };
        if let Some(problem) = problem {
            let name = &estate.sources.get(source).name;
            out.push(
                Finding::new(
                    &code::UNDOCUMENTED_TOOLING,
                    format!("{name}: {what} written by terraform_version {version}, {problem}"),
                )
                .help("apply with the Terraform (or OpenTofu) version the governance record names, or change the record through review")
                .identity(version.to_owned())
                .identity(lineage.unwrap_or_default().to_owned())
                .identity(name.clone())
                .at(source, Locator::default().focus("terraform_version")),
            );
        }
    };
    for s in estate.states.iter().filter(|s| s.format != StateFormat::PlanPrior) {
        if let Some(v) = &s.terraform_version {
            check_core(s.source, v, "the state was", s.lineage.as_deref());
        }
    }
    for p in &estate.plans {
        if let Some(v) = &p.terraform_version {
            check_core(p.source, v, "the plan was", None);
        }
    }
    // Lock files next to the states read from disk.
    let mut dirs: Vec<PathBuf> = estate
        .states
        .iter()
        .filter(|s| s.format != StateFormat::PlanPrior)
        .filter_map(|s| match &estate.sources.get(s.source).origin {
            crate::source::Origin::Path(p) => p.parent().map(Path::to_path_buf),
            crate::source::Origin::Memory(_) => None,
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let path = dir.join(".terraform.lock.hcl");
        if !path.is_file() {
            continue;
        }
        match lock_file_findings(&path, record) {
            Ok(f) => out.extend(f),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// The providers a `.terraform.lock.hcl` pins whose version the record does not accept.
fn lock_file_findings(path: &Path, record: &GovernanceRecord) -> Result<Vec<Finding>, InputError> {
    let name = crate::source::display_path(path);
    let text = crate::source::Source::file(path).text()?;
    let body: hcl::Body = hcl::from_str(&text).map_err(|e| {
        InputError::new(&code::UNEXPECTED_SHAPE, &name, format!("{name} is not a dependency lock file: {e}"))
            .with_help("pass the .terraform.lock.hcl that `terraform init` wrote")
    })?;
    let mut out = Vec::new();
    for block in body.blocks().filter(|b| b.identifier() == "provider") {
        let Some(address) = block.labels().first().map(|l| l.as_str().to_owned()) else { continue };
        let Some(version) = block.body().attributes().find(|a| a.key() == "version").and_then(|a| match a.expr() {
            hcl::Expression::String(s) => Some(s.clone()),
            _ => None,
        }) else {
            continue;
        };
        let short = address.rsplit('/').next().unwrap_or(&address);
        let tool = format!("terraform-provider-{short}");
        let problem = match record.tool(&tool) {
            None => Some(format!("the governance record does not name {tool}")),
            Some(rule) => outside(&[rule], &version),
        };
        let Some(problem) = problem else { continue };
        let needle = format!("provider \"{address}\"");
        let offset = text.find(&needle).unwrap_or(0);
        let (line, column) = crate::source::line_col(&text, offset);
        let mut f = Finding::new(
            &code::UNDOCUMENTED_TOOLING,
            format!("{name}: provider {address} is locked at {version}, {problem}"),
        )
        .help("lock the provider version the governance record names (`terraform init -upgrade` with a matching constraint), or change the record through review")
        .identity(address.clone())
        .identity(version.clone());
        f.file = Some(name.clone());
        f.line = Some(line);
        f.column = Some(column);
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_are_judged_against_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".terraform.lock.hcl");
        std::fs::write(
            &path,
            "# This file is maintained automatically by \"terraform init\".\n\nprovider \"registry.terraform.io/hashicorp/aws\" {\n  version     = \"5.100.0\"\n  constraints = \"~> 5.0\"\n  hashes = [\n    \"h1:abc=\",\n  ]\n}\n\nprovider \"registry.terraform.io/hashicorp/random\" {\n  version = \"3.6.3\"\n}\n",
        )
        .unwrap();
        let c = Config::parse(
            "d.toml",
            "[governance]\ntools = [{ name = \"terraform-provider-aws\", version = \">=5.99, <5.100\" }]\n",
        )
        .unwrap();
        let f = lock_file_findings(&path, c.governance.as_ref().unwrap()).unwrap();
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("5.100.0, outside"), "{}", f[0].message);
        assert_eq!(f[0].line, Some(3));
        assert!(f[1].message.contains("does not name terraform-provider-random"), "{}", f[1].message);
    }
}
