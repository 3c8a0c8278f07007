//! The governance lock's checks, over the phases of the configuration: lineage, serial,
//! sequencing, out-of-phase types, and the verification trail.

use super::join::state_tags;
use super::{Check, Ctx};
use crate::code;
use crate::config::{Ownership, PhaseStatus};
use crate::finding::Finding;
use crate::governance::trail::{self, Verified};
use crate::model::{Instance, Locator, Mode, State};

/// The phase that owns a state instance, if any (first match in phase order).
pub(crate) fn instance_phase(ctx: &Ctx<'_>, s: &State, i: &Instance) -> Option<usize> {
    let config = ctx.config?;
    let source_phase = ctx.source_phase.get(&s.source).copied();
    config.phases.iter().position(|p| match &p.own {
        Ownership::State => source_phase.is_some_and(|sp| config.phases[sp].name == p.name),
        Ownership::Module(prefix) => {
            let m = &i.address.module;
            m.as_ref() == prefix.as_str()
                || m.starts_with(&format!("{prefix}."))
                || m.starts_with(&format!("{prefix}["))
        }
        Ownership::Tag { key, value } => ctx
            .catalog
            .get(&i.address.type_)
            .and_then(|e| state_tags(e, i))
            .or_else(|| i.tag_map("tags_all").and_then(Result::ok))
            .is_some_and(|t| t.get(key) == Some(value)),
    })
}

/// What a phase holds.
#[derive(Debug, Clone, Default)]
struct Contents {
    /// (index among audited states, instance index).
    instances: Vec<(usize, usize)>,
    /// Inventory resources owned by tag that no state manages.
    resources: Vec<usize>,
}

fn phase_contents(ctx: &Ctx<'_>) -> Vec<Contents> {
    let Some(config) = ctx.config else { return Vec::new() };
    let mut out = vec![Contents::default(); config.phases.len()];
    for (si, s) in super::audited_states(ctx.estate).enumerate() {
        for (ii, i) in s.instances.iter().enumerate() {
            if i.address.mode != Mode::Managed {
                continue;
            }
            if let Some(p) = instance_phase(ctx, s, i) {
                out[p].instances.push((si, ii));
            }
        }
    }
    if let Some(join) = &ctx.join {
        for (ri, r) in ctx.estate.inventory.resources.iter().enumerate() {
            if join.owner[ri].is_some() {
                continue;
            }
            let owner = config.phases.iter().position(|p| match &p.own {
                Ownership::Tag { key, value } => r.tags.as_ref().is_some_and(|t| t.get(key) == Some(value)),
                _ => false,
            });
            if let Some(p) = owner {
                out[p].resources.push(ri);
            }
        }
    }
    out
}

pub(crate) struct Governance;

impl Check for Governance {
    fn name(&self) -> &'static str {
        "governance"
    }

    fn run(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let Some(config) = ctx.config else { return };
        if config.phases.is_empty() {
            return;
        }
        let states: Vec<&State> = super::audited_states(ctx.estate).collect();
        let contents = phase_contents(ctx);
        let phase_loc = |pi: usize| -> (usize, usize) {
            let p = &config.phases[pi];
            crate::source::line_col(&config.text, p.span.0)
        };
        let at_config = |mut f: Finding, pi: usize| {
            let (line, col) = phase_loc(pi);
            f.file = Some(config.file.clone());
            f.line = Some(line);
            f.column = Some(col);
            f
        };

        // Lineage and serial of each phase's own state files.
        for (pi, p) in config.phases.iter().enumerate() {
            for s in states.iter().filter(|s| ctx.source_phase.get(&s.source) == Some(&pi)) {
                let name = &ctx.estate.sources.get(s.source).name;
                if let (Some(want), Some(have)) = (&p.lineage, &s.lineage) {
                    if want != have {
                        out.push(
                            Finding::new(&code::LINEAGE_MISMATCH, format!("{}: {name} has lineage {have}, but the authorized lineage is {want}: a different state (a fresh init, another workspace, a forced push)", p.name))
                                .help("restore the authorized state, or re-verify the phase with the new lineage through review (`driftlock lock`)")
                                .identity(p.name.clone())
                                .identity(have.clone())
                                .at(s.source, Locator::default().focus("lineage")),
                        );
                        continue;
                    }
                }
                if let (Some(verified), Some(serial)) = (p.serial, s.serial) {
                    if serial < verified {
                        out.push(
                            Finding::new(&code::SERIAL_REGRESSION, format!("{}: {name} is at serial {serial}, below the verified serial {verified}: the state was rolled back and not re-verified", p.name))
                                .help("restore the verified state, or take the rollback through review and lock the phase again")
                                .identity(p.name.clone())
                                .identity(serial.to_string())
                                .at(s.source, Locator::default().focus("serial")),
                        );
                    } else if serial > verified && p.status == PhaseStatus::Locked {
                        out.push(
                            Finding::new(&code::UNVERIFIED_SERIAL, format!("{} is locked at serial {verified}, but {name} is at serial {serial}: the state changed after the lock", p.name))
                                .help("find the run that wrote the state; revert it, or unlock, review and lock the phase again")
                                .identity(p.name.clone())
                                .identity(serial.to_string())
                                .at(s.source, Locator::default().focus("serial")),
                        );
                    }
                }
            }
        }

        // Sequencing: nothing of a phase while an earlier one is not locked; one phase at a time.
        let in_progress: Vec<usize> = config
            .phases
            .iter()
            .enumerate()
            .filter(|(_, p)| p.status == PhaseStatus::InProgress)
            .map(|(i, _)| i)
            .collect();
        if in_progress.len() > 1 {
            let names: Vec<&str> = in_progress.iter().map(|i| config.phases[*i].name.as_str()).collect();
            out.push(at_config(
                Finding::new(
                    &code::SEQUENCING_DEVIATION,
                    format!(
                        "{} phases are in progress at once ({}): the sequence allows one at a time",
                        names.len(),
                        names.join(", ")
                    ),
                )
                .help("finish, verify and lock one phase before the next starts")
                .identity("parallel")
                .identity(names.join(",")),
                in_progress[1],
            ));
        }
        for (pi, p) in config.phases.iter().enumerate() {
            let (instances, resources) = (&contents[pi].instances, &contents[pi].resources);
            if instances.is_empty() && resources.is_empty() {
                continue;
            }
            let what = match (instances.len(), resources.len()) {
                (n, 0) => format!("{n} managed resource{} in its states", if n == 1 { "" } else { "s" }),
                (0, m) => format!("{m} resource{} tagged for it in the cloud", if m == 1 { "" } else { "s" }),
                (n, m) => format!("{n} managed resources in its states and {m} more tagged for it in the cloud"),
            };
            let earlier = config.phases[..pi].iter().find(|q| q.status != PhaseStatus::Locked);
            let (first_state, first_instance) = instances.first().copied().unwrap_or((usize::MAX, 0));
            let mut f = match earlier {
                Some(q) => Finding::new(&code::SEQUENCING_DEVIATION, format!("{} has {what}, but the earlier phase {} is {}, not locked", p.name, q.name, q.status.as_str()))
                    .help("lock the earlier phase first (verify it, then `driftlock lock`); what was built ahead of it must be destroyed or moved")
                    .identity(p.name.clone())
                    .identity(q.name.clone()),
                None if p.status == PhaseStatus::Pending => Finding::new(&code::SEQUENCING_DEVIATION, format!("{} is pending but already has {what}: it started without being marked in progress", p.name))
                    .help("mark the phase in-progress in the configuration (through review) before applying it")
                    .identity(p.name.clone())
                    .identity("pending"),
                None => continue,
            };
            if let Some(s) = states.get(first_state) {
                f = f.at(s.source, s.instances[first_instance].locator.clone());
            } else {
                f = at_config(f, pi);
            }
            out.push(f);
        }

        // Types a phase does not allow.
        for (pi, p) in config.phases.iter().enumerate() {
            let Some(allow) = &p.allow else { continue };
            for &(si, ii) in &contents[pi].instances {
                let s = states[si];
                let i = &s.instances[ii];
                if allow.iter().any(|r| r.is_match(&i.address.type_)) {
                    continue;
                }
                let addr = i.address.to_string();
                out.push(
                    Finding::new(
                        &code::OUT_OF_PHASE,
                        format!("{addr} is in phase {}, which does not allow {}", p.name, i.address.type_),
                    )
                    .help("move it to the phase that owns its kind, or extend the phase's `allow` list through review")
                    .address(addr, i.address.type_.to_string())
                    .cloud_id(super::cloud_id(i))
                    .identity(p.name.clone())
                    .at(s.source, i.locator.clone()),
                );
            }
        }

        // The verification trail of locked phases.
        let repo_dir =
            std::path::Path::new(&config.file).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let repo_dir = if repo_dir.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { repo_dir };
        for (pi, p) in config.phases.iter().enumerate() {
            if p.status != PhaseStatus::Locked {
                continue;
            }
            let Some(commit) = &p.verified_commit else { continue };
            let want = Verified { phase: p.name.clone(), lineage: p.lineage.clone(), serial: p.serial };
            if let Err(problem) = trail::verify(&repo_dir, commit, &want) {
                out.push(at_config(
                    Finding::new(&code::UNVERIFIED_LOCK, format!("{}: {}", p.name, problem.describe(commit)))
                        .help(format!("lock the phase with `driftlock lock {}`: commit the message it prints (with its `{}:` trailer) and name that commit in `verified_commit`", p.name, trail::TRAILER))
                        .identity(p.name.clone())
                        .identity(commit.clone()),
                    pi,
                ));
            }
        }
    }
}
