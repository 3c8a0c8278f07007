//! The `remote` benchmark (issue 9): 200 state objects (50,000 instances in all, at scale 1.0)
//! on moto's S3 on loopback, fetched and scanned by `driftlock scan --state s3://BUCKET/PREFIX/`,
//! side by side with `aws s3 cp --recursive` merely downloading the same objects. Target:
//! driftlock's fetch + scan faster than the download alone. Needs `moto_server` and the `aws`
//! CLI; only run with `--only remote`.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::measure::{self, Machine, Stats, mib};
use super::plan::Plan;
use super::state;

pub(crate) const FULL_OBJECTS: f64 = 200.0;
pub(crate) const FULL_INSTANCES: f64 = 50_000.0;
const BUCKET: &str = "driftlock-bench";
const PREFIX: &str = "states";

/// moto_server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start(log: &Path) -> Result<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let out = fs::File::create(log)?;
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("cannot start moto_server (pip install 'moto[server]')")?;
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("moto_server did not listen on 127.0.0.1:{port} within 30 s")
    }
}

/// `/proc/PID/stat`'s numeric fields after the command name: (parent pid, utime + stime ticks).
fn stat_of(pid: u32) -> Option<(u32, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: count fields after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    let ppid = f.get(1)?.parse().ok()?;
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((ppid, ticks))
}

/// CPU seconds a process and its descendants (moto_server may run behind a launcher) have
/// used so far.
fn cpu_of(pid: u32) -> f64 {
    let procs: Vec<(u32, u32, u64)> = fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
                .filter_map(|p| stat_of(p).map(|(pp, t)| (p, pp, t)))
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(procs.iter().filter(|(_, pp, _)| *pp == parent).map(|(p, _, _)| *p));
        i += 1;
    }
    let ticks: u64 = procs.iter().filter(|(p, _, _)| tree.contains(p)).map(|(_, _, t)| *t).sum();
    // SAFETY: sysconf has no preconditions.
    let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks as f64 / tck
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command talking to moto with fake credentials.
fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3");
}

fn aws(endpoint: &str, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new("aws");
    aws_env(&mut cmd, endpoint);
    let out = cmd.args(args).output().context("cannot run the aws CLI (pip install awscli)")?;
    if !out.status.success() {
        bail!("aws {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn files_under(dir: &Path) -> Result<(u64, u64)> {
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
                bytes += e.metadata()?.len();
            }
        }
    }
    Ok((n, bytes))
}

pub(crate) fn run(scale: f64, seed: u64, runs: usize, binary: &Path, label: &str, dir: &Path) -> Result<()> {
    for tool in ["moto_server", "aws"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            bail!("the remote benchmark needs {tool} (pip install 'moto[server]' awscli)");
        }
    }
    let objects = ((FULL_OBJECTS * scale).round() as u32).max(2);
    let instances = ((FULL_INSTANCES * scale).round() as u32).max(100);
    let started = Instant::now();
    let plan = Plan::sized(instances, objects, seed, false);
    let local = dir.join("remote-upload");
    let _ = fs::remove_dir_all(&local);
    let mut bytes = 0u64;
    for (i, file) in plan.files.iter().enumerate() {
        let text = state::write(&plan, file);
        bytes += text.len() as u64;
        let path = local.join(format!("{i:03}")).join("terraform.tfstate");
        fs::create_dir_all(path.parent().context("state path")?)?;
        fs::write(&path, text)?;
    }
    eprintln!(
        "bench: remote input: {objects} state objects, {} managed instances, {} ({:.1} s)",
        plan.managed,
        mib(bytes),
        started.elapsed().as_secs_f64()
    );
    let moto = Moto::start(&dir.join("moto.log"))?;
    let ep = moto.endpoint.clone();
    aws(&ep, &["s3", "mb", &format!("s3://{BUCKET}")])?;
    let t = Instant::now();
    aws(
        &ep,
        &[
            "s3",
            "cp",
            "--recursive",
            "--only-show-errors",
            local.to_str().context("path")?,
            &format!("s3://{BUCKET}/{PREFIX}/"),
        ],
    )?;
    eprintln!("bench: uploaded to moto's S3 in {:.1} s", t.elapsed().as_secs_f64());
    let _ = fs::remove_dir_all(&local);

    let machine = Machine::probe();
    let url = format!("s3://{BUCKET}/{PREFIX}/");
    let report = dir.join("remote-report.json");
    let download = dir.join("remote-download");
    let (mut ours, mut theirs): (Vec<Stats>, Vec<Stats>) = (Vec::new(), Vec::new());
    let moto_pid = moto.child.id();
    let (mut moto_ours, mut moto_theirs) = (0.0f64, 0.0f64);
    for i in 0..runs {
        // driftlock: list, fetch (concurrently) and scan.
        let mut cmd = Command::new(binary);
        aws_env(&mut cmd, &ep);
        cmd.args(["scan", "--state", &url, "--format", "json", "--output"]).arg(&report);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let m0 = cpu_of(moto_pid);
        let stats = measure::run(&mut cmd)?;
        let moto_cpu = cpu_of(moto_pid) - m0;
        moto_ours += moto_cpu;
        if stats.exit_code != 0 {
            bail!("driftlock scan --state {url} exited {} (expected 0)", stats.exit_code);
        }
        let r: serde_json::Value = serde_json::from_slice(&fs::read(&report)?).context("the report is not JSON")?;
        let inputs = &r["summary"]["inputs"];
        if inputs["states"].as_u64() != Some(u64::from(objects))
            || inputs["managed_instances"].as_u64() != Some(u64::from(plan.managed))
        {
            bail!("the scan read {inputs} (expected {objects} states, {} managed instances)", plan.managed);
        }
        eprintln!(
            "bench: remote run {}: driftlock fetch+scan {:.2} s wall ({:.2} s user + {:.2} s sys, peak RSS {}; {objects} states, {} instances checked); moto_server used {moto_cpu:.2} s CPU, other processes {:.2} cores meanwhile",
            i + 1,
            stats.wall.as_secs_f64(),
            stats.user.as_secs_f64(),
            stats.sys.as_secs_f64(),
            mib(stats.max_rss),
            plan.managed,
            (stats.others_cpu - moto_cpu).max(0.0) / stats.wall.as_secs_f64(),
        );
        ours.push(stats);
        // The aws CLI: the download alone.
        let _ = fs::remove_dir_all(&download);
        let mut cmd = Command::new("aws");
        aws_env(&mut cmd, &ep);
        cmd.args(["s3", "cp", "--recursive", "--only-show-errors", &url]).arg(&download);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let m0 = cpu_of(moto_pid);
        let stats = measure::run(&mut cmd)?;
        let moto_cpu = cpu_of(moto_pid) - m0;
        moto_theirs += moto_cpu;
        if stats.exit_code != 0 {
            bail!("aws s3 cp --recursive exited {}", stats.exit_code);
        }
        let (n, got) = files_under(&download)?;
        if n != u64::from(objects) || got != bytes {
            bail!("aws s3 cp downloaded {n} objects, {} (expected {objects}, {})", mib(got), mib(bytes));
        }
        eprintln!(
            "bench: remote run {}: aws s3 cp --recursive {:.2} s wall ({:.2} s user + {:.2} s sys; {n} objects checked); moto_server used {moto_cpu:.2} s CPU, other processes {:.2} cores meanwhile",
            i + 1,
            stats.wall.as_secs_f64(),
            stats.user.as_secs_f64(),
            stats.sys.as_secs_f64(),
            (stats.others_cpu - moto_cpu).max(0.0) / stats.wall.as_secs_f64(),
        );
        theirs.push(stats);
    }
    let _ = fs::remove_dir_all(&download);
    let _ = fs::remove_file(&report);
    drop(moto);

    // Wall times, mean CPU of the client, mean CPU of moto per run, and the other processes'
    // load (moto excluded) in cores.
    let summary = |v: &[Stats], moto: f64| {
        let mut walls: Vec<f64> = v.iter().map(|s| s.wall.as_secs_f64()).collect();
        walls.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let cpu = v.iter().map(|s| (s.user + s.sys).as_secs_f64()).sum::<f64>() / n;
        let total_wall = v.iter().map(|s| s.wall.as_secs_f64()).sum::<f64>();
        let others = (v.iter().map(|s| s.others_cpu).sum::<f64>() - moto).max(0.0) / total_wall;
        (walls[0], walls[walls.len() / 2], cpu, moto / n, others)
    };
    let (ob, om, ocpu, omoto, oo) = summary(&ours, moto_ours);
    let (tb, tm, tcpu, tmoto, to) = summary(&theirs, moto_theirs);
    let met = om < tm;
    let concurrency = std::env::var("DRIFTLOCK_REMOTE_CONCURRENCY").unwrap_or_else(|_| "32 (default)".to_owned());
    println!("\nremote reads — {label}");
    println!(
        "  machine       {} ({} logical CPUs, {} RAM, Linux {}), {}",
        machine.cpu,
        machine.cpus,
        mib(machine.mem_bytes),
        machine.kernel,
        measure::today()
    );
    println!(
        "  input         {objects} state objects on moto's S3 (loopback), {} instances, {}",
        plan.managed,
        mib(bytes)
    );
    println!(
        "  driftlock     fetch + scan: best {ob:.2} s, median {om:.2} s wall, {ocpu:.2} s CPU; moto_server {omoto:.2} s CPU (concurrency {concurrency})"
    );
    println!(
        "  aws s3 cp     download alone: best {tb:.2} s, median {tm:.2} s wall, {tcpu:.2} s CPU; moto_server {tmoto:.2} s CPU"
    );
    println!(
        "  target        driftlock's fetch + scan faster than the download alone: {}",
        if met { "met" } else { "NOT met" }
    );
    println!(
        "  contention    other processes (moto_server not counted) kept {oo:.2} / {to:.2} cores busy during the runs"
    );
    println!(
        "\n--- Markdown for docs/benchmarks.md ---\n\n| | wall (best / median of {runs}) | client CPU (mean) | moto_server CPU (mean) | other processes |\n|---|---|---|---|---|\n| `driftlock scan --state {url}` (fetch + scan) | {ob:.2} s / {om:.2} s | {ocpu:.2} s | {omoto:.2} s | {oo:.2} cores |\n| `aws s3 cp --recursive {url} DIR` (download alone) | {tb:.2} s / {tm:.2} s | {tcpu:.2} s | {tmoto:.2} s | {to:.2} cores |\n\nTarget (driftlock faster than the download alone): **{}**.",
        if met { "met" } else { "not met" }
    );
    Ok(())
}
