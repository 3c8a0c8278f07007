//! The governance lock on real states (terraform against moto: two applies, a fresh init, a
//! later phase applied first) and real git repositories built by the test.

mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// A git repository in a temp dir holding the phases' states and a driftlock.toml.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let r = Repo { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.email", "ci@example.invalid"]);
        r.git(&["config", "user.name", "CI"]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git").args(args).current_dir(self.path()).output().expect("git");
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    /// Copies a fixture state to `rel` in the repository.
    fn state(&self, fixture: &str, rel: &str) {
        let to = self.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(testdata(fixture), to).unwrap();
    }

    fn config(&self, text: &str) -> PathBuf {
        let p = self.path().join("driftlock.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn verify(&self) -> (i32, Value) {
        let cfg = self.path().join("driftlock.toml");
        let o = driftlock(&["verify", "--format", "json", "--config", cfg.to_str().unwrap()]);
        (code(&o), json(&o))
    }
}

fn lineage(fixture: &str) -> String {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(testdata(fixture)).unwrap()).unwrap();
    v["lineage"].as_str().unwrap().to_owned()
}

fn kinds(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect()
}

const K1: &str = "state/phases/k1/terraform.tfstate";
const K1_FIRST: &str = "state/phases/k1/serial-first.tfstate";
const K1_REINIT: &str = "state/phases/k1-reinit/terraform.tfstate";
const K2: &str = "state/phases/k2/terraform.tfstate";

fn k1_phase(status: &str, serial: u64, commit: &str) -> String {
    format!(
        "[[phase]]\nname = \"K.1.x\"\ndescription = \"infrastructure bootstrap\"\nstatus = \"{status}\"\nstates = [\"envs/k1\"]\nlineage = \"{}\"\nserial = {serial}\nverified_commit = \"{commit}\"\n\n",
        lineage(K1)
    )
}

const K2_PENDING: &str = "[[phase]]\nname = \"K.2.x\"\nstatus = \"pending\"\nstates = [\"envs/k2\"]\n";

/// The whole flow: K.1 in progress → `driftlock lock` prints the record → commit it → name the
/// commit → verify passes; then the K.2 state appears.
#[test]
fn lock_then_verify_the_trail() {
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    std::fs::create_dir_all(repo.path().join("envs/k2")).unwrap();
    std::fs::write(repo.path().join("envs/k2/.keep"), "").unwrap();
    repo.config(&format!("preset = \"k-sequence\"\n[[phase]]\nname = \"K.1.x\"\ndescription = \"infrastructure bootstrap\"\nstatus = \"in-progress\"\nstates = [\"envs/k1\"]\n\n{K2_PENDING}"));
    repo.commit("K.1 applied");
    let cfg = repo.path().join("driftlock.toml");

    let o = driftlock(&["lock", "K.1.x", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let trailer = format!("Driftlock-Verified: K.1.x lineage={} serial=7", lineage(K1));
    assert!(text.contains(&trailer), "{text}");
    assert!(text.contains("status = \"locked\"") && text.contains("serial = 7"), "{text}");

    // Record the lock as printed, then name the commit.
    repo.config(&format!("preset = \"k-sequence\"\n{}{K2_PENDING}", k1_phase("locked", 7, "PENDING")));
    let lock_commit = repo.commit(&format!("Lock K.1.x (infrastructure bootstrap)\n\n{trailer}"));
    repo.config(&format!("preset = \"k-sequence\"\n{}{K2_PENDING}", k1_phase("locked", 7, &lock_commit)));
    repo.commit("Name the K.1.x verification commit");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 0, "{r:#}");
    assert_eq!(r["command"], "verify");

    // An abbreviated id works too.
    repo.config(&format!("preset = \"k-sequence\"\n{}{K2_PENDING}", k1_phase("locked", 7, &lock_commit[..10])));
    assert_eq!(repo.verify().0, 0);

    // K.2 may now start; its state while pending is a deviation (not marked in progress).
    repo.state(K2, "envs/k2/terraform.tfstate");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1);
    assert_eq!(kinds(&r), ["sequencing-deviation"]);
    assert!(r["findings"][0]["message"].as_str().unwrap().contains("pending"), "{r:#}");
}

#[test]
fn a_later_phase_applied_before_the_earlier_is_locked() {
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    repo.state(K2, "envs/k2/terraform.tfstate");
    repo.config(&format!(
        "preset = \"k-sequence\"\n[[phase]]\nname = \"K.1.x\"\nstatus = \"in-progress\"\nstates = [\"envs/k1\"]\n\n{}",
        K2_PENDING.replace("pending", "in-progress")
    ));
    repo.commit("both");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1, "{r:#}");
    let msgs: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(kinds(&r), ["sequencing-deviation", "sequencing-deviation"], "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("2 phases are in progress at once")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("K.2.x has 4 managed resources") && m.contains("K.1.x is in-progress")),
        "{msgs:?}"
    );
    // Locking K.2 first is refused.
    let cfg = repo.path().join("driftlock.toml");
    let o = driftlock(&["lock", "K.2.x", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("the earlier phase K.1.x is in-progress"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "nothing is printed to record");
}

#[test]
fn serials_two_applies() {
    // Locked at the first apply's serial (5), the state is now at 7: changed after the lock.
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    let c = repo.commit(&format!("Lock\n\nDriftlock-Verified: K.1.x lineage={} serial=5", lineage(K1)));
    repo.config(&k1_phase("locked", 5, &c));
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(kinds(&r), ["unverified-serial"]);
    assert_eq!(r["findings"][0]["line"], 4, "points at `serial` in the state");

    // Locked at 7, the state rolled back to the first apply's copy (serial 5).
    let repo = Repo::new();
    repo.state(K1_FIRST, "envs/k1/terraform.tfstate");
    let c = repo.commit(&format!("Lock\n\nDriftlock-Verified: K.1.x lineage={} serial=7", lineage(K1)));
    repo.config(&k1_phase("locked", 7, &c));
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(kinds(&r), ["serial-regression"]);
}

#[test]
fn a_fresh_init_is_a_new_lineage() {
    let repo = Repo::new();
    repo.state(K1_REINIT, "envs/k1/terraform.tfstate");
    let c = repo.commit(&format!("Lock\n\nDriftlock-Verified: K.1.x lineage={} serial=7", lineage(K1)));
    repo.config(&k1_phase("locked", 7, &c));
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(kinds(&r), ["lineage-mismatch"]);
    assert!(r["findings"][0]["message"].as_str().unwrap().contains(&lineage(K1_REINIT)));
}

#[test]
fn the_verification_commit_must_be_real() {
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    let no_trailer = repo.commit("Lock K.1.x (no trailer)");
    let wrong_serial = repo.commit(&format!("Lock\n\nDriftlock-Verified: K.1.x lineage={} serial=6", lineage(K1)));
    repo.git(&["checkout", "-q", "-b", "side"]);
    let elsewhere =
        repo.commit(&format!("Lock on a side branch\n\nDriftlock-Verified: K.1.x lineage={} serial=7", lineage(K1)));
    repo.git(&["checkout", "-q", "main"]);
    for (commit, phrase) in [
        (no_trailer.as_str(), "carries no `Driftlock-Verified:` trailer"),
        (wrong_serial.as_str(), "serial=6"),
        (elsewhere.as_str(), "not in the history of HEAD"),
        ("0123456789abcdef0123456789abcdef01234567", "does not exist"),
    ] {
        repo.config(&k1_phase("locked", 7, commit));
        let (rc, r) = repo.verify();
        assert_eq!(rc, 1, "{commit}: {r:#}");
        assert_eq!(kinds(&r), ["unverified-lock"], "{commit}");
        let f = &r["findings"][0];
        assert!(f["message"].as_str().unwrap().contains(phrase), "{commit}: {f}");
        assert_eq!(f["line"], 1, "points at the phase in driftlock.toml");
        assert!(f["file"].as_str().unwrap().ends_with("driftlock.toml"));
    }
}

#[test]
fn out_of_phase_types() {
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    repo.config("[[phase]]\nname = \"K.1.x\"\nstatus = \"in-progress\"\nstates = [\"envs/k1\"]\nallow = [\"^aws_(vpc|iam_role)$\", \"^terraform_data$\"]\n");
    repo.commit("k1");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1);
    let f: Vec<&Value> = r["findings"].as_array().unwrap().iter().collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["kind"], "out-of-phase");
    assert_eq!(f[0]["address"], "aws_s3_bucket.audit");
}

#[test]
fn ownership_by_tag_and_module() {
    // K.2's resources carry the tag phase=K.2.x: owned by tag, they are ahead of K.1.
    let repo = Repo::new();
    repo.state(K1, "envs/shared/k1.tfstate");
    repo.state(K2, "envs/shared/k2.tfstate");
    repo.config("preset = \"k-sequence\"\n[[phase]]\nname = \"K.1.x\"\nstatus = \"in-progress\"\nstates = [\"envs/shared\"]\nown = { tag = \"phase\", value = \"K.1.x\" }\n\n[[phase]]\nname = \"K.2.x\"\nstatus = \"pending\"\nown = { tag = \"phase\", value = \"K.2.x\" }\n");
    repo.commit("shared");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 1, "{r:#}");
    assert_eq!(kinds(&r), ["sequencing-deviation"]);
    assert!(r["findings"][0]["message"].as_str().unwrap().starts_with("K.2.x has 4 managed resources"), "{r:#}");
}

#[test]
fn missing_artifacts_fail_closed() {
    let repo = Repo::new();
    repo.state(K1, "envs/k1/terraform.tfstate");
    repo.config("[[phase]]\nname = \"K.1.x\"\nstatus = \"locked\"\nstates = [\"envs/k1\"]\n\n[[phase]]\nname = \"K.2.x\"\nstatus = \"in-progress\"\n");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 2, "{r:#}");
    let msgs: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(r["errors"].as_array().unwrap().iter().all(|e| e["code"] == "DL0015"));
    assert!(
        msgs.iter().any(|m| m.contains("K.1.x is locked") && m.contains("lineage") && m.contains("verified_commit")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("K.2.x is in-progress") && m.contains("no state source")), "{msgs:?}");
    // No configuration at all.
    let o = driftlock(&["verify", "--format", "json", "--config", repo.path().join("nope.toml").to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0015");
    // A phase's state that is not there.
    repo.config("[[phase]]\nname = \"K.1.x\"\nstatus = \"in-progress\"\nstates = [\"envs/gone\"]\n");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 2);
    assert_eq!(r["errors"][0]["code"], "DL0001");
}

#[test]
fn invalid_configuration_points_at_the_line() {
    let repo = Repo::new();
    repo.config("[[phase]]\nname = \"K.1.x\"\nstatus = \"finished\"\n");
    let (rc, r) = repo.verify();
    assert_eq!(rc, 2);
    assert_eq!(r["errors"][0]["code"], "DL0012");
    assert_eq!(r["errors"][0]["line"], 3);
    let cfg = repo.path().join("driftlock.toml");
    let o = driftlock(&["verify", "--config", cfg.to_str().unwrap()]);
    assert!(stdout(&o).contains("is not a phase status"), "{}", stdout(&o));
}

#[test]
fn init_writes_a_starter_that_verify_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("driftlock.toml");
    let o = driftlock(&["init", p.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("preset = \"k-sequence\"") && text.contains("[[phase]]"));
    let o = driftlock(&["init", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "never overwrites without --force");
    // The starter's K.1 is in progress with states in envs/k1, which does not exist yet.
    let o = driftlock(&["verify", "--format", "json", "--config", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_eq!(json(&o)["errors"][0]["code"], "DL0001");
}
