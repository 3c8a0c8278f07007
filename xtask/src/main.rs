//! Developer tasks for driftlock: `cargo xtask <task>`.
//!
//! `fixtures` regenerates `testdata/` from real terraform, the real AWS provider, moto and the
//! aws CLI; see `fixtures.rs`. `schema` writes the files derived from real artifacts without
//! moto (the AWS provider's schema, AWS exports moto cannot produce); see `schema.rs`.
use std::process::ExitCode;

mod bench;
mod deny;
mod fixtures;
mod schema;

const USAGE: &str = "\
usage: cargo xtask fixtures [--only SCENARIO]... [--keep-workdir]
       cargo xtask fixtures audit [--out DIR] [--keep-workdir]
       cargo xtask schema [--only provider|aws-derived]... [--check]
       cargo xtask deny

  fixtures          regenerate testdata/ with real terraform + AWS provider + moto + aws CLI
  --only SCENARIO   run only this scenario (repeatable); see the list below
  --keep-workdir    keep the temporary terraform working directories for inspection
  fixtures audit    capture the real requests of terraform, the aws CLI and boto3 against moto
                    (through a recording proxy) and write them as CloudTrail trails with signed
                    digests into testdata/audit/captured/ (or --out DIR)

  schema            regenerate testdata/schema/aws-provider.json (real terraform + AWS provider)
                    and testdata/inventory/aws-derived/ (from the real estate-drifted exports)
  --check           regenerate in memory only; fail when a committed file differs

  deny              check deny.toml with cargo-deny (bans, licenses, sources; advisories when
                    the RustSec database can be had)

environment:
  DRIFTLOCK_TF_PLUGIN_DIR   folder that holds registry.terraform.io/hashicorp/aws
                            (found by searching well-known places when unset)

scenarios:";

fn usage() -> String {
    let mut text = USAGE.to_owned();
    for (name, about) in fixtures::scenarios() {
        text.push_str(&format!("\n  {name:<16}  {about}"));
    }
    text.push_str("\n\n");
    text.push_str(&bench::usage());
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fixtures") => fixtures::Options::parse(&args[1..]).and_then(fixtures::run),
        Some("bench") => bench::Options::parse(&args[1..]).and_then(bench::run),
        Some("schema") => schema::Options::parse(&args[1..]).and_then(schema::run),
        Some("deny") => deny::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            eprintln!("{}", usage());
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{}", usage());
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
