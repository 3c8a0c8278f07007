//! `cargo xtask schema`: committed files derived from real artifacts, without moto.
//!
//! - `provider`: `testdata/schema/aws-provider.json`, every resource type of the real AWS
//!   provider with the names of its attributes and nested blocks, from `terraform providers
//!   schema -json` run by the real terraform against the plugin mirror. `tests/catalog.rs`
//!   checks every catalog entry against it, so a misspelt attribute cannot ship.
//! - `aws-derived`: `testdata/inventory/aws-derived/`, the AWS exports moto cannot produce (a
//!   Config snapshot delivered to S3, Resource Explorer search results, a
//!   select-resource-config result), converted from the real `estate-drifted` exports; see
//!   `schema/aws_derived.rs`.
//!
//! `--check` builds everything in memory and fails when a committed file differs or is left
//! over, so CI can tell that a generated file was edited by hand or not regenerated.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::Value;

mod aws_derived;

/// The provider release the catalog is checked against (the one in the plugin mirror).
const PROVIDER_VERSION: &str = "5.100.0";
const PROVIDER_ADDRESS: &str = "registry.terraform.io/hashicorp/aws";
/// Where the trimmed schema goes, under `testdata/`.
const SCHEMA_FILE: &str = "schema/aws-provider.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Provider,
    AwsDerived,
}

impl Part {
    const ALL: &'static [(Part, &'static str)] = &[(Part::Provider, "provider"), (Part::AwsDerived, "aws-derived")];
}

pub(crate) struct Options {
    only: Vec<Part>,
    check: bool,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options { only: Vec::new(), check: false };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let name = match arg.as_str() {
                "--only" => args.next().context("--only needs a part name")?.as_str(),
                s if s.starts_with("--only=") => &s["--only=".len()..],
                "--check" => {
                    options.check = true;
                    continue;
                }
                other => bail!("unknown argument {other:?} (see `cargo xtask --help`)"),
            };
            let Some((part, _)) = Part::ALL.iter().find(|(_, n)| *n == name) else {
                let names: Vec<&str> = Part::ALL.iter().map(|(_, n)| *n).collect();
                bail!("unknown part {name:?}; known: {}", names.join(", "));
            };
            options.only.push(*part);
        }
        Ok(options)
    }

    fn wants(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

/// What a run makes: files by path under `testdata/`, and the folders it owns whole (files in
/// them that the run did not make are stale and removed).
#[derive(Default)]
struct Generated {
    files: BTreeMap<String, Vec<u8>>,
    owned_dirs: Vec<String>,
}

pub(crate) fn run(options: Options) -> Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent folder")?.to_path_buf();
    let testdata = repo.join("testdata");
    let mut generated = Generated::default();
    if options.wants(Part::Provider) {
        eprintln!("schema: provider {PROVIDER_ADDRESS} {PROVIDER_VERSION}");
        generated.files.insert(SCHEMA_FILE.to_owned(), provider_schema()?);
    }
    if options.wants(Part::AwsDerived) {
        eprintln!("schema: AWS exports derived from testdata/{}", aws_derived::SOURCE);
        let derived = aws_derived::generate(&testdata)?;
        generated.files.extend(derived);
        generated.owned_dirs.push(aws_derived::DIR.to_owned());
    }
    if options.check { check(&testdata, &generated) } else { write(&testdata, &generated) }
}

fn write(testdata: &Path, generated: &Generated) -> Result<()> {
    for dir in &generated.owned_dirs {
        let path = testdata.join(dir);
        if path.exists() {
            fs::remove_dir_all(&path).with_context(|| format!("wiping {}", path.display()))?;
        }
    }
    for (rel, bytes) in &generated.files {
        let path = testdata.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("      -> testdata/{rel}");
    }
    Ok(())
}

fn check(testdata: &Path, generated: &Generated) -> Result<()> {
    let mut stale = Vec::new();
    for (rel, bytes) in &generated.files {
        if fs::read(testdata.join(rel)).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(format!("testdata/{rel} differs or is missing"));
        }
    }
    for dir in &generated.owned_dirs {
        for file in files_under(&testdata.join(dir))? {
            let rel = file.strip_prefix(testdata)?.to_string_lossy().replace('\\', "/");
            if !generated.files.contains_key(&rel) {
                stale.push(format!("testdata/{rel} is left over"));
            }
        }
    }
    if !stale.is_empty() {
        bail!("generated files are stale; run `cargo xtask schema` and commit:\n  {}", stale.join("\n  "));
    }
    eprintln!("schema: {} generated files are up to date", generated.files.len());
    Ok(())
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs the real terraform on an empty configuration that requires the provider, and trims
/// `terraform providers schema -json` (13 MB) to the names a catalog may refer to.
fn provider_schema() -> Result<Vec<u8>> {
    let plugin_dir = find_plugin_dir()?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let work = std::env::temp_dir().join(format!("driftlock-schema-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&work)?;
    let result = provider_schema_in(&work, &plugin_dir);
    let _ = fs::remove_dir_all(&work);
    result
}

fn provider_schema_in(work: &Path, plugin_dir: &Path) -> Result<Vec<u8>> {
    fs::write(
        work.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \"= {PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n"
        ),
    )?;
    let rc = work.join("terraformrc");
    fs::write(&rc, "")?;
    let plugin_arg = format!("-plugin-dir={}", plugin_dir.display());
    terraform(work, &rc, &["init", "-input=false", "-no-color", &plugin_arg])?;
    let version: Value = serde_json::from_str(&terraform(work, &rc, &["version", "-json"])?)
        .context("`terraform version -json` printed no JSON")?;
    let selected =
        version.pointer("/provider_selections").and_then(|p| p.get(PROVIDER_ADDRESS)).and_then(Value::as_str);
    if selected != Some(PROVIDER_VERSION) {
        bail!("terraform selected {PROVIDER_ADDRESS} {selected:?}, expected {PROVIDER_VERSION}");
    }
    let schema: Value = serde_json::from_str(&terraform(work, &rc, &["providers", "schema", "-json"])?)
        .context("`terraform providers schema -json` printed no JSON")?;
    let resources = schema
        .pointer("/provider_schemas")
        .and_then(|p| p.get(PROVIDER_ADDRESS))
        .and_then(|p| p.get("resource_schemas"))
        .and_then(Value::as_object)
        .context("the schema has no resource_schemas for the AWS provider")?;
    let mut types: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, resource) in resources {
        let block = resource.get("block").context("a resource schema without a block")?;
        let mut names: Vec<&str> = ["attributes", "block_types"]
            .iter()
            .filter_map(|k| block.get(*k).and_then(Value::as_object))
            .flat_map(|o| o.keys().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        types.insert(name, names);
    }
    eprintln!("      {} resource types", types.len());
    Ok(render_schema(PROVIDER_VERSION, &types)?.into_bytes())
}

/// One resource type per line, so that a provider upgrade reads as a diff of types.
fn render_schema(version: &str, types: &BTreeMap<&str, Vec<&str>>) -> Result<String> {
    let mut out = String::from("{\n");
    out.push_str(&format!("  \"provider_version\": {},\n", serde_json::to_string(version)?));
    out.push_str("  \"resource_types\": {\n");
    let last = types.len().saturating_sub(1);
    for (i, (name, attrs)) in types.iter().enumerate() {
        let comma = if i == last { "" } else { "," };
        out.push_str(&format!("    {}: {}{comma}\n", serde_json::to_string(name)?, serde_json::to_string(attrs)?));
    }
    out.push_str("  }\n}\n");
    Ok(out)
}

/// `terraform ARGS` in `dir` with a private, empty CLI configuration; its stdout.
fn terraform(dir: &Path, rc: &Path, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("terraform");
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("TF_") || k.starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.current_dir(dir)
        .args(args)
        .env("TF_CLI_CONFIG_FILE", rc)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null());
    eprintln!("      $ terraform {}", args.join(" "));
    let out = cmd.output().context("could not start terraform (is it on PATH?)")?;
    if !out.status.success() {
        bail!(
            "`terraform {}` failed with {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    String::from_utf8(out.stdout).context("terraform printed non-UTF-8 output")
}

/// The folder above `registry.terraform.io` that holds the AWS provider at the version the
/// schema snapshot is for (the search is `cargo xtask fixtures`'s).
fn find_plugin_dir() -> Result<PathBuf> {
    let dir = crate::fixtures::find_plugin_dir()?;
    if !dir.join(PROVIDER_ADDRESS).join(PROVIDER_VERSION).is_dir() {
        bail!("{} holds no {PROVIDER_ADDRESS}/{PROVIDER_VERSION}", dir.display());
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_renders_one_type_per_line() {
        let types = BTreeMap::from([("aws_b", vec!["id"]), ("aws_a", vec!["arn", "id"])]);
        assert_eq!(
            render_schema("1.0.0", &types).unwrap(),
            "{\n  \"provider_version\": \"1.0.0\",\n  \"resource_types\": {\n    \"aws_a\": [\"arn\",\"id\"],\n    \"aws_b\": [\"id\"]\n  }\n}\n"
        );
    }

    #[test]
    fn options_parse() {
        let o = Options::parse(&["--only".into(), "provider".into(), "--check".into()]).unwrap();
        assert!(o.check && o.wants(Part::Provider) && !o.wants(Part::AwsDerived));
        assert!(Options::parse(&["--only=nope".into()]).is_err());
    }
}
