//! The `scan` pipeline: expand inputs → parse in parallel → run checks → resolve locations →
//! report. Rendering is the caller's.

use std::path::PathBuf;

use crate::catalog::Catalog;
use crate::checks::{self, Ctx};
use crate::code;
use crate::error::InputError;
use crate::ingest::{self, InputArg};
use crate::locate::{self, Texts};
use crate::model::Estate;
use crate::report::Report;

/// What to scan.
#[derive(Debug, Default, Clone)]
pub struct ScanOptions {
    pub inputs: Vec<InputArg>,
    pub config: Option<PathBuf>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
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
        errors.push(
            InputError::new(&code::NO_INPUTS, "", "nothing to audit: no state, plan or input was given")
                .with_help("pass --state PATH|DIR and/or --plan FILE (see `driftlock scan --help`)"),
        );
    }
    let expanded = ingest::expand(&opts.inputs);
    errors.extend(expanded.errors);
    let bar = progress_bar(opts.progress, expanded.sources.len());
    let tick = || bar.inc(1);
    errors.extend(ingest::load(&mut estate, expanded.sources, Catalog::builtin(), &tick));
    bar.finish_and_clear();

    crate::presets::derive_facts(&mut estate.inventory);
    let ctx = Ctx::new(&estate, Catalog::builtin(), config.as_ref());
    let mut findings = checks::run(checks::SCAN, &ctx);
    if let Some(c) = &config {
        c.apply(&mut findings);
    }
    let inventory_summary = ctx.join.as_ref().map(|j| j.summary(&estate, &ctx.presets, &findings));
    drop(ctx);
    let (texts, resolve_errors) = locate::resolve(&mut findings, &estate.sources);
    errors.extend(resolve_errors);
    let mut report = Report::new("scan", &estate, findings, errors);
    report.summary.inventory = inventory_summary;
    Outcome { estate, report, texts }
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
