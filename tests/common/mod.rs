//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod tools;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root: tests run driftlock from here with relative paths, so reports are
/// the same on every machine.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// Runs the driftlock binary in the repository root.
pub fn driftlock(args: &[&str]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(root()).env("NO_COLOR", "1").env_remove("COLUMNS").args(args);
    cmd.output().expect("run driftlock")
}

pub fn driftlock_stdin(args: &[&str], stdin: Vec<u8>) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("driftlock").expect("binary");
    cmd.current_dir(root()).env("NO_COLOR", "1").args(args).write_stdin(stdin);
    cmd.output().expect("run driftlock")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(o)))
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// `../shared` beside the project root, when this checkout has it.
pub fn shared() -> Option<PathBuf> {
    let p = root().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// Says loudly that a test skipped, and why.
#[allow(clippy::print_stderr)]
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
