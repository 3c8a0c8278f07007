//! The governance lock: phases in order (K.1.x → K.4.x by default), their authorized lineage and
//! verified serial, which resources each owns, and the verification trail in git.

pub mod lock;
pub mod trail;

use std::sync::OnceLock;

use serde::Deserialize;

/// A phase of a shipped preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetPhase {
    pub name: String,
    pub title: String,
    pub purpose: String,
    pub allow: Vec<String>,
}

/// A shipped sequence of phases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequencePreset {
    #[serde(rename = "phase")]
    pub phases: Vec<PresetPhase>,
}

impl SequencePreset {
    /// The preset's allow list for a phase of that name.
    pub fn allow_for(&self, phase: &str) -> Option<Vec<String>> {
        self.phases.iter().find(|p| p.name == phase).map(|p| p.allow.clone())
    }
}

const K_SEQUENCE: &str = include_str!("../../policies/k-sequence.toml");

/// The commented starter `driftlock init` writes.
pub const STARTER: &str = include_str!("starter.toml");

/// The shipped preset of that name (`k-sequence`).
pub fn preset(name: &str) -> Option<&'static SequencePreset> {
    static K: OnceLock<Option<SequencePreset>> = OnceLock::new();
    match name {
        "k-sequence" => K.get_or_init(|| toml::from_str(K_SEQUENCE).ok()).as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_a_valid_configuration() {
        let c = crate::config::Config::parse("driftlock.toml", STARTER).unwrap();
        assert_eq!(c.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["K.1.x", "K.2.x", "K.3.x", "K.4.x"]);
        assert!(c.phases.iter().all(|p| p.allow.is_some()));
    }

    #[test]
    fn k_sequence_parses_and_its_patterns_compile() {
        let p: SequencePreset = toml::from_str(K_SEQUENCE).unwrap();
        assert_eq!(p.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["K.1.x", "K.2.x", "K.3.x", "K.4.x"]);
        for ph in &p.phases {
            for a in &ph.allow {
                assert!(a.starts_with('^') && a.ends_with('$'), "{}: {a} is not anchored", ph.name);
                regex::Regex::new(a).unwrap();
            }
        }
        let k1 = p.allow_for("K.1.x").unwrap();
        let any = |t: &str| k1.iter().any(|a| regex::Regex::new(a).unwrap().is_match(t));
        assert!(
            any("aws_vpc")
                && any("aws_s3_bucket_versioning")
                && !any("aws_vpc_peering_connection")
                && !any("aws_eks_cluster")
        );
    }
}
