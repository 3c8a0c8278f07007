//! The verification trail: each locked phase names the git commit that recorded its lock. That
//! commit must be in the repository's history (an ancestor of HEAD) and carry a trailer naming
//! the phase, its lineage and its serial:
//!
//! ```text
//! Driftlock-Verified: K.1.x lineage=212f06b3-2c58-4ca4-96c8-1f0d0f1c2a9e serial=7
//! ```

use std::path::Path;

/// The trailer key.
pub const TRAILER: &str = "Driftlock-Verified";

/// A parsed trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub phase: String,
    pub lineage: Option<String>,
    pub serial: Option<u64>,
}

impl Verified {
    /// The trailer line.
    pub fn line(&self) -> String {
        let mut s = format!("{TRAILER}: {}", self.phase);
        if let Some(l) = &self.lineage {
            s.push_str(&format!(" lineage={l}"));
        }
        if let Some(n) = self.serial {
            s.push_str(&format!(" serial={n}"));
        }
        s
    }
}

/// Every `Driftlock-Verified:` trailer of a commit message.
pub fn trailers(message: &str) -> Vec<Verified> {
    message
        .lines()
        .filter_map(|l| l.trim().strip_prefix(TRAILER)?.strip_prefix(':'))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let phase = words.next()?.to_owned();
            let mut v = Verified { phase, lineage: None, serial: None };
            for w in words {
                if let Some(l) = w.strip_prefix("lineage=") {
                    v.lineage = Some(l.to_owned());
                } else if let Some(n) = w.strip_prefix("serial=") {
                    v.serial = n.parse().ok();
                }
            }
            Some(v)
        })
        .collect()
}

/// Why a verification commit does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailProblem {
    /// No git repository around the configuration.
    NoRepository(String),
    /// The commit cannot be found.
    NotFound(String),
    /// The commit exists but is not in HEAD's history (another branch, a rewritten history).
    NotInHistory(String),
    /// The commit carries no trailer for the phase.
    NoTrailer,
    /// The trailer names another lineage or serial.
    Mismatch(Verified),
}

impl TrailProblem {
    pub fn describe(&self, commit: &str) -> String {
        match self {
            TrailProblem::NoRepository(e) => {
                format!("no git repository holds the configuration, so commit {commit} cannot be checked ({e})")
            }
            TrailProblem::NotFound(e) => format!("commit {commit} does not exist in the repository ({e})"),
            TrailProblem::NotInHistory(id) => format!("commit {commit} ({id}) is not in the history of HEAD"),
            TrailProblem::NoTrailer => format!("commit {commit} carries no `{TRAILER}:` trailer for this phase"),
            TrailProblem::Mismatch(v) => {
                format!("commit {commit} verified {}, not what the configuration says", v.line())
            }
        }
    }
}

/// Checks that `commit` (full or abbreviated hex, or any revision) is an ancestor of HEAD in
/// the repository that holds `dir`, and verifies `want`.
pub fn verify(dir: &Path, commit: &str, want: &Verified) -> Result<String, TrailProblem> {
    let repo = gix::discover(dir).map_err(|e| TrailProblem::NoRepository(e.to_string()))?;
    let id = repo.rev_parse_single(commit).map_err(|e| TrailProblem::NotFound(e.to_string()))?.detach();
    let object = repo.find_object(id).map_err(|e| TrailProblem::NotFound(e.to_string()))?;
    let c = object.try_into_commit().map_err(|e| TrailProblem::NotFound(e.to_string()))?;
    let message = c.message_raw().map(|m| m.to_string()).unwrap_or_default();
    let head = repo.head_commit().map_err(|e| TrailProblem::NotInHistory(e.to_string()))?;
    let walk = head.ancestors().all().map_err(|e| TrailProblem::NotInHistory(e.to_string()))?;
    let mut found = false;
    for info in walk {
        match info {
            Ok(info) if info.id == id => {
                found = true;
                break;
            }
            Ok(_) => {}
            Err(e) => return Err(TrailProblem::NotInHistory(e.to_string())),
        }
    }
    if !found {
        return Err(TrailProblem::NotInHistory(id.to_string()));
    }
    let ours: Vec<Verified> = trailers(&message).into_iter().filter(|v| v.phase == want.phase).collect();
    if ours.is_empty() {
        return Err(TrailProblem::NoTrailer);
    }
    if ours.iter().any(|v| {
        (want.lineage.is_none() || v.lineage == want.lineage) && (want.serial.is_none() || v.serial == want.serial)
    }) {
        Ok(id.to_string())
    } else {
        Err(TrailProblem::Mismatch(ours[0].clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_round_trip() {
        let v = Verified {
            phase: "K.1.x".into(),
            lineage: Some("212f06b3-2c58-4ca4-96c8-1f0d0f1c2a9e".into()),
            serial: Some(7),
        };
        let msg = format!("Lock K.1.x\n\nVerified by driftlock.\n\n{}\nSigned-off-by: x\n", v.line());
        assert_eq!(trailers(&msg), vec![v]);
        assert!(trailers("no trailer here").is_empty());
    }
}
