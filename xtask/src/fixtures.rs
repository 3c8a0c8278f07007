//! `cargo xtask fixtures`: real fixtures from real tools.
//!
//! Every scenario runs terraform 1.11 with the real AWS provider against `moto_server` on
//! 127.0.0.1, changes the account by hand with the real aws CLI where the scenario needs it, and
//! copies what the tools wrote into `testdata/`, with a `PLANTED.json` that says what was done
//! (ids read back from the tools, never invented). The terraform configurations live, readable,
//! under `xtask/fixtures/<scenario>/`. Only the folders a scenario owns are replaced, and only
//! once the whole scenario succeeded: a failed run leaves `testdata/` as it was.
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

mod audit;
mod inventory;
mod json;
mod model;
mod output;
mod readme;
mod scenarios;
mod servers;
mod tools;

use output::TestData;
use servers::Moto;
use tools::Tools;

pub(crate) struct Options {
    only: Vec<String>,
    keep_workdir: bool,
    /// `fixtures audit`: the captured CloudTrail trails (testdata/audit/captured/) only.
    audit: bool,
    /// `fixtures audit --out DIR`: write them there instead.
    out: Option<PathBuf>,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options { only: Vec::new(), keep_workdir: false, audit: false, out: None };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--only" => {
                    let name = args.next().context("--only needs a scenario name")?;
                    options.only.push(name.clone());
                }
                s if s.starts_with("--only=") => options.only.push(s["--only=".len()..].to_owned()),
                "--keep-workdir" => options.keep_workdir = true,
                "audit" => options.audit = true,
                "--out" => options.out = Some(PathBuf::from(args.next().context("--out needs a folder")?)),
                other => bail!("unknown argument {other:?} (see `cargo xtask --help`)"),
            }
        }
        if options.out.is_some() && !options.audit {
            bail!("--out is for `fixtures audit` only");
        }
        for name in &options.only {
            if !scenarios::ALL.iter().any(|s| s.name == name) {
                let names: Vec<&str> = scenarios::ALL.iter().map(|s| s.name).collect();
                bail!("unknown scenario {name:?}; known: {}", names.join(", "));
            }
        }
        Ok(options)
    }
}

/// `(name, what it makes)` of every scenario, in run order.
pub(crate) fn scenarios() -> impl Iterator<Item = (&'static str, &'static str)> {
    scenarios::ALL.iter().map(|s| (s.name, s.about))
}

/// Everything a scenario gets: the tools, moto, and `testdata/`.
pub(crate) struct Ctx<'t> {
    pub(crate) tools: &'t Tools,
    pub(crate) moto: &'t Moto,
    pub(crate) out: TestData<'t>,
}

pub(crate) fn run(options: Options) -> Result<()> {
    let started = Instant::now();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent folder")?.to_path_buf();
    let plugin_dir = find_plugin_dir()?;
    let work = scratch_dir()?;
    eprintln!("fixtures: plugin dir {}, work dir {}", plugin_dir.display(), work.display());
    let result = if options.audit {
        audit::run(&repo, options.out.clone(), &work, plugin_dir)
    } else {
        run_in(&options, &repo, plugin_dir, &work)
    };
    match &result {
        Ok(()) if !options.keep_workdir => {
            let _ = fs::remove_dir_all(&work);
        }
        _ => eprintln!("fixtures: work dir kept at {}", work.display()),
    }
    result?;
    eprintln!("fixtures: done in {:.0?}", started.elapsed());
    Ok(())
}

fn run_in(options: &Options, repo: &Path, plugin_dir: PathBuf, work: &Path) -> Result<()> {
    let moto = Moto::start(&work.join("moto.log"))?;
    eprintln!("fixtures: moto_server on 127.0.0.1:{}", moto.port);
    let tools = Tools::new(moto.port, plugin_dir, repo.join("xtask/fixtures"), work.to_path_buf())?;
    let root = repo.join("testdata");
    for scenario in scenarios::ALL {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == scenario.name) {
            continue;
        }
        let begun = Instant::now();
        eprintln!("==> {}: {}", scenario.name, scenario.about);
        let stage = work.join("staged").join(scenario.name);
        let ctx = Ctx { tools: &tools, moto: &moto, out: TestData::new(root.clone(), stage, &tools) };
        moto.reset()?;
        (scenario.run)(&ctx).with_context(|| format!("scenario {}", scenario.name))?;
        ctx.out.publish(scenario.outputs)?;
        eprintln!("<== {} done in {:.0?}", scenario.name, begun.elapsed());
    }
    readme::write(&tools, &root)?;
    readme::check_all_json(&root)
}

/// The folder above `registry.terraform.io` (what `terraform init -plugin-dir=` wants).
pub(crate) fn find_plugin_dir() -> Result<PathBuf> {
    let has_aws = |dir: &Path| dir.join("registry.terraform.io/hashicorp/aws").is_dir();
    if let Some(dir) = std::env::var_os("DRIFTLOCK_TF_PLUGIN_DIR") {
        let dir = PathBuf::from(dir);
        if !has_aws(&dir) {
            bail!("DRIFTLOCK_TF_PLUGIN_DIR={} holds no registry.terraform.io/hashicorp/aws", dir.display());
        }
        return Ok(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let mut candidates = vec![
        PathBuf::from("/opt/tf-plugins"),
        home.join(".terraform.d/plugins"),
        home.join(".local/share/terraform/plugins"),
        PathBuf::from("/usr/local/share/terraform/plugins"),
        PathBuf::from("/usr/share/terraform/plugins"),
    ];
    // Then every folder up to three levels below `/`, as `find / -maxdepth 5` would see it.
    let mut level = vec![PathBuf::from("/")];
    for _ in 0..3 {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let skip = ["/proc", "/sys", "/dev", "/run"].iter().any(|s| path == Path::new(s));
                if !skip && entry.file_type().is_ok_and(|t| t.is_dir()) {
                    next.push(path);
                }
            }
        }
        next.sort();
        candidates.extend(next.iter().cloned());
        level = next;
    }
    candidates.into_iter().find(|d| has_aws(d)).context(
        "no terraform plugin mirror with registry.terraform.io/hashicorp/aws found; set DRIFTLOCK_TF_PLUGIN_DIR",
    )
}

fn scratch_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let dir = std::env::temp_dir().join(format!("driftlock-fixtures-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}
