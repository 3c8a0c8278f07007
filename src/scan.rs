//! The `scan` pipeline: expand inputs → parse in parallel → run checks → resolve locations →
//! report. Rendering is the caller's.

use std::path::PathBuf;

use crate::catalog::Catalog;
use crate::checks::{self, Ctx};
use crate::code;
use crate::error::InputError;
use crate::ingest::{self, InputArg, Role};
use crate::locate::{self, Texts};
use std::collections::BTreeMap;

use crate::model::{Cloud, Estate};
use crate::report::{CleanSummary, Report, TypeRegionCount};

/// Which job the pipeline runs.
#[derive(Debug, Default, Clone)]
pub enum Mode {
    /// The drift scan: states, plans, inventories.
    #[default]
    Scan,
    /// The pre-bootstrap check: every resource must be a provider default or excepted.
    CleanAccount {
        /// Presets to apply (empty: the clouds the inventories show).
        presets: Vec<Cloud>,
        /// Regions in scope (empty: every region the inventories mention).
        regions: Vec<String>,
    },
    /// The governance lock over the configuration's phases (`verify`, and `lock`).
    Verify,
    /// Pull request plan review: the plans given as inputs, against the lock.
    ReviewPlan {
        /// The plans' phase, when given on the command line.
        phase: Option<String>,
    },
}

/// What to scan.
#[derive(Debug, Default, Clone)]
pub struct ScanOptions {
    pub inputs: Vec<InputArg>,
    pub config: Option<PathBuf>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    pub mode: Mode,
    /// Audit logs judge writes from this time on (`--since`; default: the lock of the first
    /// phase, when the configuration has locked phases; else everything).
    pub since: Option<jiff::Timestamp>,
    /// … up to this time (`--until`).
    pub until: Option<jiff::Timestamp>,
    /// The report will not be rendered as human text: keep no input texts for snippets.
    pub skip_texts: bool,
    /// `--cloudtrail-public-keys`: `aws cloudtrail list-public-keys` output, to verify digest
    /// signatures offline.
    pub cloudtrail_public_keys: Option<PathBuf>,
    /// `--require-complete-trail`: a trail whose completeness cannot be proven is an error.
    pub require_complete_trail: bool,
    /// `--audit-region`: AWS regions the audit logs must cover.
    pub audit_regions: Vec<String>,
    /// Root modules whose backend's workspaces are all read (`--backend DIR`).
    pub backends: Vec<PathBuf>,
    /// Partial backend configuration files (`--backend-config FILE`).
    pub backend_configs: Vec<PathBuf>,
}

/// A finished scan: the model, the report, and the texts of inputs with findings (for snippets).
pub struct Outcome {
    pub estate: Estate,
    pub report: Report,
    pub texts: Texts,
    /// The configuration, when one was given and valid.
    pub config: Option<crate::config::Config>,
    /// The configured phase each state source belongs to.
    pub source_phase: rustc_hash::FxHashMap<crate::source::SourceId, usize>,
}

pub fn scan(opts: &ScanOptions) -> Outcome {
    let mut estate = Estate::default();
    let mut errors: Vec<InputError> = Vec::new();
    let config = match &opts.config {
        Some(path) if matches!(opts.mode, Mode::Verify) && !path.exists() => {
            errors.push(
                InputError::new(
                    &code::MISSING_ARTIFACT,
                    crate::source::display_path(path),
                    format!(
                        "no configuration: {} does not exist, so the governance lock has no phases to verify",
                        crate::source::display_path(path)
                    ),
                )
                .with_help("pass --config FILE, or write a starter with `driftlock init`"),
            );
            None
        }
        Some(path) => match crate::config::Config::load(path) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if matches!(opts.mode, Mode::Verify) {
        match &config {
            None if opts.config.is_none() => errors.push(
                InputError::new(
                    &code::MISSING_ARTIFACT,
                    "",
                    "no configuration: the governance lock has no phases to verify",
                )
                .with_help("pass --config driftlock.toml (`driftlock init` writes a commented starter)"),
            ),
            Some(c) if c.phases.is_empty() => errors.push(
                InputError::new(
                    &code::MISSING_ARTIFACT,
                    &c.file,
                    format!("{} declares no [[phase]]: the governance lock has nothing to verify", c.file),
                )
                .with_help("declare the phases in order (`driftlock init` writes the K sequence)"),
            ),
            _ => {}
        }
    }
    if let Some(c) = &config {
        errors.extend(missing_artifacts(c));
    }
    let config_inputs =
        config.as_ref().is_some_and(|c| c.phases.iter().any(|p| !p.states.is_empty()) || !c.inventory.is_empty());
    if opts.inputs.is_empty() && opts.backends.is_empty() && !config_inputs && !matches!(opts.mode, Mode::Verify) {
        let (what, help) = match opts.mode {
            Mode::Scan => (
                "no state, plan or input was given",
                "pass --state PATH|DIR and/or --plan FILE (see `driftlock scan --help`)",
            ),
            Mode::CleanAccount { .. } => (
                "no inventory was given: an account nobody looked at is not clean",
                "export the account and pass the files with --inventory (see `driftlock clean-account --help`)",
            ),
            Mode::Verify => ("", ""),
            Mode::ReviewPlan { .. } => {
                ("no plan was given", "pass the plan JSON: `terraform show -json tfplan > plan.json`")
            }
        };
        errors.push(InputError::new(&code::NO_INPUTS, "", format!("nothing to audit: {what}")).with_help(help));
    }
    // Inputs from the command line, then each phase's states (tagged with the phase), then the
    // configuration's inventory sources, then audit logs; ids follow this order.
    let (audit_args, cli_args): (Vec<InputArg>, Vec<InputArg>) =
        opts.inputs.iter().cloned().partition(|a| a.role == Role::AuditLog);
    let mut groups: Vec<(Vec<InputArg>, Option<usize>)> = vec![(cli_args, None)];
    if let Some(c) = &config {
        if !matches!(opts.mode, Mode::CleanAccount { .. } | Mode::ReviewPlan { .. }) {
            for (pi, p) in c.phases.iter().enumerate() {
                groups.push((
                    p.states.iter().map(|path| InputArg { path: path.clone(), role: Role::State }).collect(),
                    Some(pi),
                ));
            }
        }
        groups.push((
            c.inventory.iter().map(|path| InputArg { path: path.clone(), role: Role::Inventory }).collect(),
            None,
        ));
    }
    let audit_group = groups.len();
    groups.push((audit_args, None));
    let mut audit_ids = Vec::new();
    let mut sources = Vec::new();
    let mut source_phase = rustc_hash::FxHashMap::default();
    for (gi, (args, phase)) in groups.into_iter().enumerate() {
        // A pending phase may have no state yet: its missing or empty state folder is not an error.
        let pending = phase
            .and_then(|pi| config.as_ref().map(|c| c.phases[pi].status == crate::config::PhaseStatus::Pending))
            .unwrap_or(false);
        let args: Vec<InputArg> = if pending {
            args.into_iter()
                .filter(|a| a.path.exists() || a.path.to_str().is_some_and(crate::remote::is_remote))
                .collect()
        } else {
            args
        };
        let mut expanded = ingest::expand(&args);
        if gi == 0 && !opts.backends.is_empty() {
            let (found, errs) = crate::remote::load_backends(&opts.backends, &opts.backend_configs);
            expanded.sources.extend(found);
            expanded.errors.extend(errs);
        }
        errors.extend(expanded.errors.into_iter().filter(|e| !(pending && e.code.code == code::NO_INPUTS.code)));
        for src in expanded.sources {
            if gi == audit_group {
                audit_ids.push(crate::source::SourceId(sources.len() as u32));
            }
            if let Some(pi) = phase {
                source_phase.insert(crate::source::SourceId(sources.len() as u32), pi);
            }
            sources.push(src);
        }
    }
    let public_keys = match &opts.cloudtrail_public_keys {
        Some(path) => match checks::trail::load_public_keys(path) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let bar = progress_bar(opts.progress, sources.len());
    let tick = || bar.inc(1);
    let window = audit_window(opts, config.as_ref());
    let break_glass_problem = config
        .as_ref()
        .and_then(|c| c.governance.as_ref())
        .and_then(|g| g.break_glass.as_ref())
        .filter(|bg| !bg.document.is_file())
        .map(|bg| format!("its emergency governance document {} does not exist", bg.document_text));
    let mut judge = ingest::audit::Judge {
        record: config.as_ref().and_then(|c| c.governance.as_ref()),
        break_glass_problem,
        tools: crate::tools::ToolCatalog::builtin(),
        catalog: Catalog::builtin(),
        events: ingest::audit::events::EventTable::builtin(),
        window,
        interest: None,
    };
    // States, plans and inventories first; then the audit logs, keeping the latest touches only
    // of the resources those know (memory follows the estate, never the number of records).
    let audit_sources = sources.split_off(sources.len() - audit_ids.len());
    errors.extend(ingest::load(&mut estate, sources, Catalog::builtin(), Some(&judge), &tick));
    if !audit_sources.is_empty() {
        let interest = ingest::audit::interest(&estate, Catalog::builtin());
        judge.interest = Some(&interest);
        errors.extend(ingest::load(&mut estate, audit_sources, Catalog::builtin(), Some(&judge), &tick));
    }
    bar.finish_and_clear();
    errors.extend(not_audit_logs(&estate, &audit_ids));

    crate::presets::derive_facts(&mut estate.inventory);
    let mut ctx = Ctx::new(&estate, Catalog::builtin(), config.as_ref());
    ctx.source_phase = source_phase;
    let (command, checks) = match &opts.mode {
        Mode::Scan => ("scan", checks::SCAN),
        Mode::Verify => ("verify", checks::VERIFY),
        Mode::ReviewPlan { phase } => {
            match plan_phases(&estate, config.as_ref(), phase.as_deref()) {
                Ok(map) => ctx.plan_phase = map,
                Err(e) => errors.push(e),
            }
            ("review-plan", checks::REVIEW_PLAN)
        }
        Mode::CleanAccount { presets, regions } => {
            let clouds: Vec<Cloud> = if presets.is_empty() {
                let mut seen: Vec<Cloud> = estate
                    .inventory
                    .resources
                    .iter()
                    .map(|r| r.cloud)
                    .chain(estate.inventory.coverage.iter().map(|c| c.cloud))
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                seen
            } else {
                presets.clone()
            };
            ctx.presets.retain(|p| clouds.contains(&p.cloud));
            ctx.join = None;
            if !estate.inventory.is_empty() || opts.inputs.is_empty() {
                for gap in checks::clean_account::coverage_gaps(&ctx, &clouds, regions) {
                    errors.push(
                        InputError::new(&code::INCOMPLETE_INVENTORY, "", format!("the clean-account check cannot pass: {gap}"))
                            .with_help("export the listings that show every resource of the type (describe-*, list-*, a Config snapshot, `driftlock collect aws`), one file per region named with it (`ec2-describe-vpcs.us-east-1.json`)"),
                    );
                }
            }
            if clouds.is_empty() && errors.is_empty() {
                errors.push(
                    InputError::new(
                        &code::INCOMPLETE_INVENTORY,
                        "",
                        "the clean-account check cannot pass: the inventories list no cloud at all",
                    )
                    .with_help("pass the account's exports with --inventory"),
                );
            }
            ("clean-account", checks::CLEAN_ACCOUNT)
        }
    };
    let mut findings = checks::run(checks, &ctx);
    if matches!(opts.mode, Mode::Scan) {
        let (artifacts, artifact_errors) = checks::audit::artifact_findings(&estate, config.as_ref());
        findings.extend(artifacts);
        errors.extend(artifact_errors);
        let trail = checks::trail::TrailOptions {
            window,
            keys: public_keys.as_ref(),
            require_complete: opts.require_complete_trail,
            regions: opts.audit_regions.clone(),
        };
        findings.extend(checks::trail::findings(&estate, &trail));
    }
    if let Some(c) = &config {
        c.apply(&mut findings);
    }
    let inventory_summary = ctx.join.as_ref().map(|j| j.summary(&estate, &ctx.presets, &findings));
    let clean_summary = matches!(opts.mode, Mode::CleanAccount { .. }).then(|| clean_summary(&estate, &ctx, &findings));
    let changes = change_rows(&estate, config.as_ref(), &ctx.plan_phase);
    let source_phase = std::mem::take(&mut ctx.source_phase);
    drop(ctx);
    let (texts, resolve_errors) = locate::resolve(&mut findings, &estate.sources, !opts.skip_texts);
    errors.extend(resolve_errors);
    errors.extend(checks::audit::resolve_evidence(&mut findings, &estate.sources, &texts));
    let mut report = Report::new(command, &estate, findings, errors);
    report.summary.inventory = inventory_summary;
    report.summary.clean_account = clean_summary;
    report.summary.changes = changes;
    if !estate.audit.sources.is_empty() {
        report.summary.audit = Some(crate::report::AuditSummary::new(&estate, window));
    }
    Outcome { estate, report, texts, config, source_phase }
}

/// The window audit logs are judged in: `--since`/`--until`; without `--since`, from the lock
/// of the first phase when the configuration has it locked (what came before is the locked
/// bootstrap itself), else from the beginning.
fn audit_window(opts: &ScanOptions, config: Option<&crate::config::Config>) -> ingest::audit::Window {
    let since = opts.since.or_else(|| {
        let c = config?;
        c.phases.first().filter(|p| p.status == crate::config::PhaseStatus::Locked)?;
        checks::audit::lock_times(c).first().copied().flatten()
    });
    ingest::audit::Window { since, until: opts.until }
}

/// Files given with `--audit-log` that turned out to be states, plans or inventories.
fn not_audit_logs(estate: &Estate, ids: &[crate::source::SourceId]) -> Vec<InputError> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut other: rustc_hash::FxHashMap<crate::source::SourceId, &str> = rustc_hash::FxHashMap::default();
    for s in &estate.states {
        other.insert(s.source, "a state");
    }
    for p in &estate.plans {
        other.insert(p.source, "a plan");
    }
    for l in &estate.locks {
        other.insert(l.source, "a lock-info file");
    }
    for c in &estate.inventory.coverage {
        other.insert(c.source, "an inventory export");
    }
    for r in &estate.inventory.resources {
        for s in &r.sightings {
            other.insert(s.source, "an inventory export");
        }
    }
    ids.iter()
        .filter_map(|id| {
            let what = other.get(id)?;
            let name = &estate.sources.get(*id).name;
            Some(
                InputError::new(&code::UNKNOWN_FORMAT, name, format!("{name} was given with --audit-log but is {what}, not an audit log"))
                    .with_help("pass states with --state, plans with --plan, inventories with --inventory, and CloudTrail, GCP audit or Azure activity logs with --audit-log"),
            )
        })
        .collect()
}

/// Planned actions by phase and type, over every plan read.
fn change_rows(
    estate: &Estate,
    config: Option<&crate::config::Config>,
    plan_phase: &rustc_hash::FxHashMap<crate::source::SourceId, usize>,
) -> Vec<crate::report::ChangeRow> {
    use crate::model::Actions;
    let mut rows: BTreeMap<(Option<String>, String), crate::report::ChangeRow> = BTreeMap::new();
    for p in &estate.plans {
        let phase = plan_phase.get(&p.source).and_then(|i| config.map(|c| c.phases[*i].name.clone()));
        for c in p.changes.iter().filter(|c| c.address.mode == crate::model::Mode::Managed) {
            let r =
                rows.entry((phase.clone(), c.address.type_.to_string())).or_insert_with(|| crate::report::ChangeRow {
                    phase: phase.clone(),
                    resource_type: c.address.type_.to_string(),
                    ..Default::default()
                });
            match c.actions {
                Actions::Create => r.create += 1,
                Actions::Update => r.update += 1,
                Actions::DeleteThenCreate | Actions::CreateThenDelete | Actions::CreateForget => r.replace += 1,
                Actions::Delete => r.delete += 1,
                Actions::Forget => r.forget += 1,
                _ => {}
            }
            if c.importing.is_some() {
                r.import += 1;
            }
            if c.previous_address.as_deref().is_some_and(|prev| prev != c.address_text) {
                r.moved += 1;
            }
        }
    }
    rows.into_values()
        .filter(|r| r.create + r.update + r.replace + r.delete + r.forget + r.import + r.moved > 0)
        .collect()
}

/// The phase of each plan: `--phase`, else the phase whose `plans` (files or folders) hold it.
fn plan_phases(
    estate: &Estate,
    config: Option<&crate::config::Config>,
    phase: Option<&str>,
) -> Result<rustc_hash::FxHashMap<crate::source::SourceId, usize>, InputError> {
    let mut map = rustc_hash::FxHashMap::default();
    let Some(c) = config else {
        return Ok(map);
    };
    let forced = match phase {
        Some(name) => Some(c.phase(name).ok_or_else(|| {
            let names: Vec<&str> = c.phases.iter().map(|p| p.name.as_str()).collect();
            InputError::new(
                &code::INVALID_CONFIG,
                &c.file,
                format!("--phase {name}: {} has no such phase (it has {})", c.file, names.join(", ")),
            )
            .with_help("name a phase of the configuration")
        })?),
        None => None,
    };
    for p in &estate.plans {
        let canon = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let name = canon(std::path::Path::new(&estate.sources.get(p.source).name));
        let found =
            forced.or_else(|| c.phases.iter().position(|ph| ph.plans.iter().any(|dir| name.starts_with(canon(dir)))));
        if let Some(pi) = found {
            map.insert(p.source, pi);
        }
    }
    Ok(map)
}

/// Artifacts the phases' statuses require: states for phases in progress or locked; lineage,
/// serial and verification commit for locked ones. Each is exit 2 (fail-closed).
fn missing_artifacts(c: &crate::config::Config) -> Vec<InputError> {
    use crate::config::PhaseStatus;
    let mut out = Vec::new();
    for p in &c.phases {
        let mut missing = Vec::new();
        if p.status != PhaseStatus::Pending && p.states.is_empty() {
            missing.push("no state source (`states`)");
        }
        if p.status == PhaseStatus::Locked {
            if p.lineage.is_none() {
                missing.push("no authorized `lineage`");
            }
            if p.serial.is_none() {
                missing.push("no verified `serial`");
            }
            if p.verified_commit.is_none() {
                missing.push("no `verified_commit`");
            }
        }
        if missing.is_empty() {
            continue;
        }
        out.push(
            InputError::new(
                &code::MISSING_ARTIFACT,
                &c.file,
                format!("phase {} is {} but has {}", p.name, p.status.as_str(), missing.join(", ")),
            )
            .with_help(format!("record the phase's artifacts; `driftlock lock {}` prints what records a lock", p.name))
            .with_source_text(c.text.as_str())
            .with_span(p.span.0, c.text[p.span.0..].find('\n').unwrap_or(1).max(1), "this phase"),
        );
    }
    out
}

/// Counts of a clean-account check: resources, defaults, and what is not clean by type and
/// region.
fn clean_summary(estate: &Estate, ctx: &Ctx<'_>, findings: &[crate::finding::Finding]) -> CleanSummary {
    let mut s = CleanSummary { resources: estate.inventory.resources.len(), ..CleanSummary::default() };
    for r in &estate.inventory.resources {
        if matches!(crate::presets::judge(r, &ctx.presets), crate::presets::Verdict::Default(_)) {
            s.provider_defaults += 1;
        }
    }
    let mut groups: BTreeMap<(String, String), usize> = BTreeMap::new();
    let by_id: std::collections::HashMap<&str, &crate::model::CloudResource> =
        estate.inventory.resources.iter().map(|r| (r.cloud_id.as_str(), r)).collect();
    for f in findings.iter().filter(|f| f.kind == code::NON_CLEAN_ACCOUNT.name) {
        s.not_clean += 1;
        let r = f.cloud_id.as_deref().and_then(|id| by_id.get(id));
        let t = f.resource_type.clone().unwrap_or_default();
        let region = r.and_then(|r| r.region.clone()).unwrap_or_else(|| "global".to_owned());
        *groups.entry((t, region)).or_default() += 1;
    }
    s.by_type_and_region =
        groups.into_iter().map(|((cloud_type, region), count)| TypeRegionCount { cloud_type, region, count }).collect();
    s
}

fn progress_bar(enabled: bool, len: usize) -> indicatif::ProgressBar {
    if !enabled || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(len as u64), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} parsing {pos}/{len} inputs {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}
