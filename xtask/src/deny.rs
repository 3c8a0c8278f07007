//! `cargo xtask deny`: the dependency policy of `deny.toml`, checked by cargo-deny.
//!
//! Bans, licenses and sources must pass. Advisories need the RustSec database: it is fetched when
//! the network allows, used offline when a copy exists, and otherwise reported as not checked
//! (loudly, never as a pass).
use std::process::Command;

use anyhow::{Result, bail};

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("cargo xtask deny takes no arguments (got {a})");
    }
    let status = Command::new("cargo").args(["deny", "check", "bans", "licenses", "sources"]).status()?;
    if !status.success() {
        bail!("cargo deny check bans licenses sources failed");
    }
    let online = Command::new("cargo").args(["deny", "check", "advisories"]).status()?;
    if online.success() {
        return Ok(());
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")));
    let has_db = home.is_some_and(|h| {
        std::fs::read_dir(h.join("advisory-dbs"))
            .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("crates").is_dir())))
    });
    if has_db {
        let offline = Command::new("cargo").args(["deny", "check", "--disable-fetch", "advisories"]).status()?;
        if !offline.success() {
            bail!("cargo deny check advisories (offline database) failed");
        }
        return Ok(());
    }
    eprintln!("WARNING: advisories NOT checked: the RustSec database cannot be fetched here and no local copy exists");
    Ok(())
}
