//! Developer tasks for driftlock: `cargo xtask <task>`.
//!
//! `fixtures` regenerates `testdata/` from real terraform, the real AWS provider, moto and the
//! aws CLI; see `fixtures.rs`.
use std::process::ExitCode;

mod fixtures;

const USAGE: &str = "\
usage: cargo xtask fixtures [--only SCENARIO]... [--keep-workdir]

  fixtures          regenerate testdata/ with real terraform + AWS provider + moto + aws CLI
  --only SCENARIO   run only this scenario (repeatable); one of:
                    estate, all-actions, partial-plans, tainted, deposed, interrupted,
                    phases, accounts, demo
  --keep-workdir    keep the temporary terraform working directories for inspection

environment:
  DRIFTLOCK_TF_PLUGIN_DIR   folder that holds registry.terraform.io/hashicorp/aws
                            (found by searching well-known places when unset)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fixtures") => fixtures::Options::parse(&args[1..]).and_then(fixtures::run),
        Some("-h" | "--help" | "help") => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
