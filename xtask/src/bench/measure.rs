//! Runs a command and measures it: wall time, CPU time and peak resident set size from the
//! kernel's accounting of that one child (`wait4`, not `RUSAGE_CHILDREN`, which would report
//! the largest of every child so far, `cargo build`'s rustc included), plus a sampled RSS
//! timeline from `/proc/PID/status` to see when memory peaks.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What one run cost.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    pub(crate) wall: Duration,
    pub(crate) user: Duration,
    pub(crate) sys: Duration,
    /// Peak resident set size, bytes (`ru_maxrss`).
    pub(crate) max_rss: u64,
    pub(crate) exit_code: i32,
    /// Involuntary context switches: high when other processes competed for the CPUs.
    pub(crate) nivcsw: u64,
    /// CPU time other processes used during the run (machine-wide busy time from `/proc/stat`
    /// minus this child's), in seconds: contention that inflates the wall time.
    pub(crate) others_cpu: f64,
    /// (seconds since start, RSS bytes), every `SAMPLE` or so.
    pub(crate) timeline: Vec<(f64, u64)>,
}

const SAMPLE: Duration = Duration::from_millis(20);

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// `VmRSS` of a live process, bytes.
fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Busy CPU time of the whole machine so far, seconds (`/proc/stat`: everything but idle and
/// iowait).
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else { return 0.0 };
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = v.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, x)| *x).sum();
    // SAFETY: sysconf has no preconditions.
    let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    busy as f64 / tck
}

pub(crate) fn run(cmd: &mut Command) -> Result<Stats> {
    let busy_before = machine_busy();
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut timeline = Vec::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_of(pid) {
                    timeline.push((started.elapsed().as_secs_f64(), rss));
                }
                std::thread::sleep(SAMPLE);
            }
            timeline
        })
    };
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = loop {
        // SAFETY: `pid` is our own un-reaped child (std's `Child` is never waited on), and both
        // out-pointers point at live, writable locals.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    let busy = machine_busy() - busy_before;
    done.store(true, Ordering::Relaxed);
    let timeline = sampler.join().unwrap_or_default();
    drop(child);
    if waited == -1 {
        bail!("wait4({pid}) failed: {}", std::io::Error::last_os_error());
    }
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        bail!("{cmd:?} was killed by signal {}", libc::WTERMSIG(status));
    } else {
        -1
    };
    let (user, sys) = (timeval(usage.ru_utime), timeval(usage.ru_stime));
    Ok(Stats {
        wall,
        user,
        sys,
        others_cpu: (busy - (user + sys).as_secs_f64()).max(0.0),
        // Linux reports ru_maxrss in kilobytes.
        max_rss: (usage.ru_maxrss as u64) * 1024,
        exit_code,
        nivcsw: usage.ru_nivcsw as u64,
        timeline,
    })
}

/// The machine, for the record: CPU model, logical CPUs, memory, kernel.
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cpus: usize,
    pub(crate) mem_bytes: u64,
    pub(crate) kernel: String,
}

impl Machine {
    pub(crate) fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb: u64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".into(), |s| s.trim().into());
        Machine {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_bytes: mem_kb * 1024,
            kernel,
        }
    }
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
