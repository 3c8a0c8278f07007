//! The join of states with the cloud inventory: every managed instance with the cloud
//! resource it is, by the catalog's keys. One hash lookup per key; no nested loops.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::catalog::arn::Arn;
use crate::catalog::{Catalog, Entry};
use crate::model::{Cloud, Coverage, Estate, Instance, KeyKind, Mode, Scope, State, StateFormat};

/// One managed instance and what it joined with; region and account are borrowed from the
/// instance's attributes (half a million instances: no copies).
#[derive(Debug, Clone)]
pub struct Match<'e> {
    pub state: usize,
    pub instance: usize,
    pub entry: Option<Arc<Entry>>,
    /// Index into `estate.inventory.resources`.
    pub resource: Option<usize>,
    pub region: Option<&'e str>,
    pub account: Option<&'e str>,
}

/// The join.
#[derive(Debug, Default)]
pub struct Join<'e> {
    pub matches: Vec<Match<'e>>,
    /// For each inventory resource, the first instance that owns it (index into `matches`).
    pub owner: Vec<Option<usize>>,
    /// State types without a catalog entry: instance count and first instance.
    pub unsupported: BTreeMap<String, (usize, usize)>,
    /// Coverage statements by cloud type, and the "every tagged type" ones by cloud.
    by_type: FxHashMap<Arc<str>, Vec<usize>>,
    wildcard: FxHashMap<Cloud, Vec<usize>>,
}

/// Where an instance lives: from its ARN, else its `region` attribute (S3 buckets carry one).
fn instance_place(i: &Instance) -> (Option<&str>, Option<&str>) {
    let from_attr = || i.attributes.get("region").and_then(Value::as_str).filter(|r| !r.is_empty());
    match i.attributes.get("arn").and_then(Value::as_str).and_then(Arn::parse) {
        Some(a) => (a.region().or_else(from_attr), a.account()),
        None => (from_attr(), None),
    }
}

/// One managed instance joined with the inventory resource it is, by the catalog's keys.
fn lookup<'e>(inv: &crate::model::Inventory, catalog: &Catalog, si: usize, ii: usize, inst: &'e Instance) -> Match<'e> {
    let entry = catalog.get(&inst.address.type_).cloned();
    let (region, account) = instance_place(inst);
    let resource = match &entry {
        Some(e) => e.state_keys(&inst.attributes).iter().find_map(|k| {
            let hit = inv
                .find(&e.cloud_type, k)
                .or_else(|| if k.kind == KeyKind::Arn { inv.find_arn(&k.value) } else { None })?;
            // A name or id match in another region or account is another resource.
            let r = &inv.resources[hit];
            let agree = |x: Option<&str>, y: Option<&str>| x.is_none() || y.is_none() || x == y;
            let here = !e.regional || agree(region, r.region.as_deref());
            (k.kind == KeyKind::Arn || (here && agree(account, r.account.as_deref()))).then_some(hit)
        }),
        None => inst.attributes.get("arn").and_then(Value::as_str).and_then(|a| inv.find_arn(a)).or_else(|| {
            // The generic inventory may list resources under their Terraform type.
            let t: Arc<str> = inst.address.type_.clone();
            inst.id().and_then(|id| inv.find(&t, &crate::model::Key::new(KeyKind::Id, id)))
        }),
    };
    Match { state: si, instance: ii, entry, resource, region, account }
}

/// States that are audited against the cloud: files given as states, not plans' prior states.
fn audited(estate: &Estate) -> impl Iterator<Item = (usize, &State)> {
    estate.states.iter().enumerate().filter(|(_, s)| s.format != StateFormat::PlanPrior)
}

impl<'e> Join<'e> {
    pub fn build(estate: &'e Estate, catalog: &Catalog) -> Join<'e> {
        let inv = &estate.inventory;
        let mut j = Join { owner: vec![None; inv.resources.len()], ..Join::default() };
        for (ci, c) in inv.coverage.iter().enumerate() {
            match &c.cloud_type {
                Some(t) => j.by_type.entry(t.clone()).or_default().push(ci),
                None => j.wildcard.entry(c.cloud).or_default().push(ci),
            }
        }
        // Each managed instance is looked up on its own (in parallel, per state); the owners
        // and the unsupported types are then filled in order, so the result does not depend on
        // scheduling.
        use rayon::prelude::*;
        let states: Vec<(usize, &State)> = audited(estate).collect();
        let looked_up: Vec<Vec<Match<'e>>> = states
            .par_iter()
            .map(|&(si, s)| {
                s.instances
                    .iter()
                    .enumerate()
                    .filter(|(_, inst)| inst.address.mode == Mode::Managed)
                    .map(|(ii, inst)| lookup(inv, catalog, si, ii, inst))
                    .collect()
            })
            .collect();
        j.matches.reserve(looked_up.iter().map(Vec::len).sum());
        for m in looked_up.into_iter().flatten() {
            let mi = j.matches.len();
            if m.entry.is_none() {
                let type_ = &estate.states[m.state].instances[m.instance].address.type_;
                j.unsupported.entry(type_.to_string()).or_insert((0, mi)).0 += 1;
            }
            if let Some(r) = m.resource {
                if j.owner[r].is_none() {
                    j.owner[r] = Some(mi);
                }
            }
            j.matches.push(m);
        }
        j
    }

    /// The coverage statement that vouches for this instance's presence, if any.
    pub fn coverage<'c>(&self, estate: &'c Estate, m: &Match<'_>, has_tags: bool) -> Option<&'c Coverage> {
        let e = m.entry.as_ref()?;
        let inv = &estate.inventory;
        let typed = self.by_type.get(&e.cloud_type).into_iter().flatten();
        let wild = if e.tagged { self.wildcard.get(&e.cloud).map(Vec::as_slice).unwrap_or(&[]) } else { &[] };
        typed.chain(wild.iter()).map(|ci| &inv.coverage[*ci]).find(|c| {
            let region_ok = !e.regional || c.region.is_none() || m.region.is_none() || c.region.as_deref() == m.region;
            let account_ok = c.account.is_none() || m.account.is_none() || c.account.as_deref() == m.account;
            let scope_ok = c.scope == Scope::All || has_tags;
            region_ok && account_ok && scope_ok
        })
    }
}

/// An instance's tags as the cloud should show them (the catalog's `tags_attr`), `aws:` tags
/// dropped; `None` when the state does not record them. Borrowed from the instance unless
/// something had to be dropped or converted.
pub fn state_tags<'i>(e: &Entry, i: &'i Instance) -> Option<std::borrow::Cow<'i, crate::model::CompactMap<String>>> {
    let mut m = i.tag_map(&e.tags_attr).or_else(|| i.tag_map("tags"))?.ok()?;
    if m.keys().any(|k| k.starts_with("aws:")) {
        m.to_mut().retain(|k, _| !k.starts_with("aws:"));
    }
    Some(m)
}

/// Counts of the inventory comparison, for the report's summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InventorySummary {
    /// Cloud resources, merged across sources.
    pub resources: usize,
    /// Of those, provider defaults (as created).
    pub provider_defaults: usize,
    /// Of those, owned by a state.
    pub managed: usize,
    pub unmanaged: usize,
    /// Managed instances absent from a covering export.
    pub missing: usize,
    pub drifted: usize,
    /// Managed instances of catalogued types that no export covers (neither found nor missing).
    pub unverified: usize,
    /// Managed instances of types the catalog does not know.
    pub unsupported: usize,
    /// Managed share of the account: managed / (managed + unmanaged), in percent.
    pub coverage: f64,
}

impl Join<'_> {
    pub fn summary(
        &self,
        estate: &Estate,
        presets: &[&crate::presets::Preset],
        findings: &[crate::finding::Finding],
    ) -> InventorySummary {
        let count = |k: &str| findings.iter().filter(|f| f.kind == k).count();
        let mut s = InventorySummary { resources: estate.inventory.resources.len(), ..InventorySummary::default() };
        for (ri, r) in estate.inventory.resources.iter().enumerate() {
            if self.owner[ri].is_some() {
                s.managed += 1;
            } else if matches!(crate::presets::judge(r, presets), crate::presets::Verdict::Default(_)) {
                s.provider_defaults += 1;
            }
        }
        s.unmanaged = count("unmanaged");
        s.missing = count("missing");
        s.drifted = count("drifted");
        for m in &self.matches {
            match &m.entry {
                None => s.unsupported += 1,
                Some(e) if m.resource.is_none() => {
                    let i = &estate.states[m.state].instances[m.instance];
                    let tagged = state_tags(e, i).is_some_and(|t| !t.is_empty());
                    if i.deposed.is_none() && self.coverage(estate, m, tagged).is_none() {
                        s.unverified += 1;
                    }
                }
                Some(_) => {}
            }
        }
        let denom = s.managed + s.unmanaged;
        s.coverage = if denom == 0 { 100.0 } else { (1000.0 * s.managed as f64 / denom as f64).round() / 10.0 };
        s
    }
}
