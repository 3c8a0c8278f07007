//! The `scan` pipeline: expand inputs → parse in parallel → run checks → resolve locations →
//! report. Rendering is the caller's.

use std::path::PathBuf;

use crate::catalog::Catalog;
use crate::checks::{self, Ctx};
use crate::code;
use crate::error::InputError;
use crate::ingest::{self, InputArg};
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
}

/// What to scan.
#[derive(Debug, Default, Clone)]
pub struct ScanOptions {
    pub inputs: Vec<InputArg>,
    pub config: Option<PathBuf>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    pub mode: Mode,
}

/// A finished scan: the model, the report, and the texts of inputs with findings (for snippets).
pub struct Outcome {
    pub estate: Estate,
    pub report: Report,
    pub texts: Texts,
}

pub fn scan(opts: &ScanOptions) -> Outcome {
    let mut estate = Estate::default();
    let mut errors: Vec<InputError> = Vec::new();
    let config = match &opts.config {
        Some(path) => match crate::config::Config::load(path) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if opts.inputs.is_empty() {
        let (what, help) = match opts.mode {
            Mode::Scan => (
                "no state, plan or input was given",
                "pass --state PATH|DIR and/or --plan FILE (see `driftlock scan --help`)",
            ),
            Mode::CleanAccount { .. } => (
                "no inventory was given: an account nobody looked at is not clean",
                "export the account and pass the files with --inventory (see `driftlock clean-account --help`)",
            ),
        };
        errors.push(InputError::new(&code::NO_INPUTS, "", format!("nothing to audit: {what}")).with_help(help));
    }
    let expanded = ingest::expand(&opts.inputs);
    errors.extend(expanded.errors);
    let bar = progress_bar(opts.progress, expanded.sources.len());
    let tick = || bar.inc(1);
    errors.extend(ingest::load(&mut estate, expanded.sources, Catalog::builtin(), &tick));
    bar.finish_and_clear();

    crate::presets::derive_facts(&mut estate.inventory);
    let mut ctx = Ctx::new(&estate, Catalog::builtin(), config.as_ref());
    let (command, checks) = match &opts.mode {
        Mode::Scan => ("scan", checks::SCAN),
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
    if let Some(c) = &config {
        c.apply(&mut findings);
    }
    let inventory_summary = ctx.join.as_ref().map(|j| j.summary(&estate, &ctx.presets, &findings));
    let clean_summary = matches!(opts.mode, Mode::CleanAccount { .. }).then(|| clean_summary(&estate, &ctx, &findings));
    drop(ctx);
    let (texts, resolve_errors) = locate::resolve(&mut findings, &estate.sources);
    errors.extend(resolve_errors);
    let mut report = Report::new(command, &estate, findings, errors);
    report.summary.inventory = inventory_summary;
    report.summary.clean_account = clean_summary;
    Outcome { estate, report, texts }
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
