//! The host: memory, swap, load, CPU, disks and uptime, from `/proc` (or a
//! fixture tree standing in for it) and `statvfs` on each mounted device,
//! read through a [`HostCollector`] that keeps the previous CPU reading.

mod cpu;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ProbeError, Unavailable, CPU_SAMPLE};
use cpu::{CpuMeter, CpuTimes};

/// The host's memory, from `/proc/meminfo`, in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// `MemTotal`.
    pub total_bytes: u64,
    /// `MemAvailable`, or free + buffers + cache on kernels older than 3.14.
    pub available_bytes: u64,
    /// Total less available.
    pub used_bytes: u64,
}

/// The host's swap, from `/proc/meminfo`, in bytes; all zero without swap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swap {
    /// `SwapTotal`.
    pub total_bytes: u64,
    /// `SwapFree`.
    pub free_bytes: u64,
    /// Total less free.
    pub used_bytes: u64,
}

/// One mounted block device, from `statvfs` on its mount point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    /// Where it is mounted (its first mount in `/proc/mounts`).
    pub mount: String,
    /// The device, `/dev/...`.
    pub device: String,
    /// Its size in bytes.
    pub total_bytes: u64,
    /// Bytes an unprivileged user may still write (root's reserve excluded).
    pub available_bytes: u64,
    /// Used as a share of used + available, in percent, as `df` counts it.
    pub used_percent: f64,
}

/// The host at one reading. What could not be read is `None` (or left out of
/// `disks`) and listed in `unavailable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    /// Memory, from `/proc/meminfo`.
    pub memory: Option<Memory>,
    /// Swap, read with memory: `None` together.
    pub swap: Option<Swap>,
    /// 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
    /// Busy share of all CPUs since the collector's previous reading (the
    /// first reading samples for `CPU_SAMPLE`).
    pub cpu_percent: Option<f64>,
    /// Seconds since boot.
    pub uptime_secs: Option<f64>,
    /// Each mounted block device once.
    pub disks: Vec<Disk>,
    /// The sources that could not be read, and why.
    pub unavailable: Vec<Unavailable>,
}

/// The host's collector: it owns the `/proc` root and keeps the previous CPU
/// reading, so CPU use is measured between two readings rather than by
/// sleeping (the daemon keeps one for its life). Reads take `&self`; the CPU
/// reading is behind a lock, so tasks can share one collector.
#[derive(Debug)]
pub struct HostCollector {
    proc_root: PathBuf,
    cpu: Mutex<CpuMeter>,
    /// How long the first reading samples CPU use for.
    cpu_sample: Duration,
}

impl HostCollector {
    /// A collector reading under `proc_root` (`/proc`, or a fixture tree);
    /// its first CPU reading samples for [`CPU_SAMPLE`].
    pub fn new(proc_root: impl Into<PathBuf>) -> Self {
        HostCollector {
            proc_root: proc_root.into(),
            cpu: Mutex::default(),
            cpu_sample: CPU_SAMPLE,
        }
    }

    /// The `/proc` root it reads under.
    pub fn proc_root(&self) -> &Path {
        &self.proc_root
    }

    /// Everything at once; what cannot be read is listed as unavailable.
    pub fn read(&self) -> HostStatus {
        let mut unavailable = Vec::new();
        let mut note = |source: &str, e: ProbeError| unavailable.push(Unavailable::new(source, e));
        let (memory, swap) = match self.memory() {
            Ok((memory, swap)) => (Some(memory), Some(swap)),
            Err(e) => {
                note("memory", e);
                (None, None)
            }
        };
        let load = self.load().map_err(|e| note("load", e)).ok();
        let uptime_secs = self.uptime_secs().map_err(|e| note("uptime", e)).ok();
        let cpu_percent = self.cpu_percent().map_err(|e| note("cpu", e)).ok();
        let disks = match read(&self.proc_root, "mounts") {
            Ok(mounts) => disks(&mounts, &mut note),
            Err(e) => {
                note("disks", e);
                Vec::new()
            }
        };
        HostStatus {
            memory,
            swap,
            load,
            cpu_percent,
            uptime_secs,
            disks,
            unavailable,
        }
    }

    /// Memory and swap, from `/proc/meminfo`.
    pub fn memory(&self) -> Result<(Memory, Swap), ProbeError> {
        read_meminfo(&self.proc_root)
    }

    /// Seconds since boot, from `/proc/uptime`.
    pub fn uptime_secs(&self) -> Result<f64, ProbeError> {
        read(&self.proc_root, "uptime").and_then(|t| first_number(&t))
    }

    /// The 1, 5 and 15 minute load averages, from `/proc/loadavg`.
    pub fn load(&self) -> Result<[f64; 3], ProbeError> {
        read(&self.proc_root, "loadavg").and_then(|t| parse_loadavg(&t))
    }

    /// Busy share of all CPUs since the previous reading, once at least
    /// `CPU_SAMPLE` of every CPU's time has passed (until then, the last
    /// share measured). The first reading has nothing to measure from, so it
    /// samples: it reads, waits `CPU_SAMPLE` and reads again. That wait is
    /// paid once per collector — the one-shot `diagbot status` pays it every
    /// time, as it always did; the daemon, once.
    pub fn cpu_percent(&self) -> Result<f64, ProbeError> {
        let now = self.cpu_times()?;
        let min_ticks = now.ticks_in(self.cpu_sample);
        if let Some(percent) = self.meter().update(now, min_ticks) {
            return Ok(percent);
        }
        std::thread::sleep(self.cpu_sample);
        let later = self.cpu_times()?;
        let mut meter = self.meter();
        Ok(match meter.percent() {
            // Another reader measured meanwhile, over a window long enough.
            Some(percent) => percent,
            // Any window will do for the first measure.
            None => meter.update(later, 0).unwrap_or(0.0),
        })
    }

    fn cpu_times(&self) -> Result<CpuTimes, ProbeError> {
        CpuTimes::parse(&read(&self.proc_root, "stat")?)
    }

    fn meter(&self) -> std::sync::MutexGuard<'_, CpuMeter> {
        // A reading is a reading even after a panic elsewhere.
        self.cpu.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One collector shared by a daemon's tasks, replaced when a reload points
/// `system.proc_root` elsewhere (its CPU reading belongs to the old root).
#[derive(Debug)]
pub struct SharedHost(Mutex<Arc<HostCollector>>);

impl SharedHost {
    /// A shared collector reading under `proc_root`.
    pub fn new(proc_root: impl Into<PathBuf>) -> Self {
        SharedHost(Mutex::new(Arc::new(HostCollector::new(proc_root))))
    }

    /// The collector for `proc_root`.
    pub fn get(&self, proc_root: &Path) -> Arc<HostCollector> {
        let mut current = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if current.proc_root() != proc_root {
            *current = Arc::new(HostCollector::new(proc_root));
        }
        Arc::clone(&current)
    }
}

/// Memory and swap from `proc_root/meminfo`: the one place it is read.
pub fn read_meminfo(proc_root: &Path) -> Result<(Memory, Swap), ProbeError> {
    read(proc_root, "meminfo").and_then(|t| parse_meminfo(&t))
}

fn read(proc_root: &Path, name: &str) -> Result<String, ProbeError> {
    let path: PathBuf = proc_root.join(name);
    std::fs::read_to_string(&path).map_err(|e| ProbeError::read(&path, e))
}

/// Memory and swap from `/proc/meminfo` (values in kB).
fn parse_meminfo(text: &str) -> Result<(Memory, Swap), ProbeError> {
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    let malformed = |what: &str| ProbeError::Malformed(what.to_string());
    let total = field("MemTotal").ok_or_else(|| malformed("meminfo has no MemTotal"))?;
    // MemAvailable (Linux 3.14+) is the kernel's own estimate; older kernels get free + cache.
    let available = field("MemAvailable")
        .or_else(|| Some(field("MemFree")? + field("Buffers")? + field("Cached")?))
        .ok_or_else(|| malformed("meminfo has neither MemAvailable nor MemFree"))?;
    let swap_total = field("SwapTotal").unwrap_or(0);
    let swap_free = field("SwapFree").unwrap_or(0);
    Ok((
        Memory {
            total_bytes: total,
            available_bytes: available,
            used_bytes: total.saturating_sub(available),
        },
        Swap {
            total_bytes: swap_total,
            free_bytes: swap_free,
            used_bytes: swap_total.saturating_sub(swap_free),
        },
    ))
}

fn parse_loadavg(text: &str) -> Result<[f64; 3], ProbeError> {
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c))) => Ok([a, b, c]),
        _ => Err(ProbeError::Malformed(format!(
            "loadavg unreadable: {text:?}"
        ))),
    }
}

fn first_number(text: &str) -> Result<f64, ProbeError> {
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ProbeError::Malformed(format!("not a number: {text:?}")))
}

/// Each mounted block device once, with its use from `statvfs`.
fn disks(mounts: &str, note: &mut impl FnMut(&str, ProbeError)) -> Vec<Disk> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(mount)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !device.starts_with("/dev/") || !seen.insert(device.to_string()) {
            continue;
        }
        // /proc/mounts escapes spaces as \040.
        let mount = mount.replace("\\040", " ");
        match rustix::fs::statvfs(mount.as_str()) {
            Ok(v) => {
                let total = v.f_blocks * v.f_frsize;
                let available = v.f_bavail * v.f_frsize;
                let used = total.saturating_sub(v.f_bfree * v.f_frsize);
                let used_percent = if used + available == 0 {
                    0.0
                } else {
                    100.0 * used as f64 / (used + available) as f64
                };
                out.push(Disk {
                    mount,
                    device: device.to_string(),
                    total_bytes: total,
                    available_bytes: available,
                    used_percent,
                });
            }
            Err(e) => note(
                &format!("disk {mount}"),
                ProbeError::bare(Path::new(&mount), e.into()),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(
            p.join("meminfo"),
            "MemTotal:         984064 kB\nMemFree:           51200 kB\nMemAvailable:     102400 kB\nSwapTotal:        524288 kB\nSwapFree:         262144 kB\n",
        )
        .unwrap();
        std::fs::write(p.join("loadavg"), "1.50 0.75 0.25 2/120 4242\n").unwrap();
        std::fs::write(p.join("uptime"), "3600.25 7000.00\n").unwrap();
        std::fs::write(
            p.join("stat"),
            "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n",
        )
        .unwrap();
        std::fs::write(
            p.join("mounts"),
            format!(
                "proc /proc proc rw 0 0\n/dev/fake {} ext4 rw 0 0\n",
                p.display()
            ),
        )
        .unwrap();
        dir
    }

    /// A collector whose first reading samples CPU use for 1 ms.
    fn collector(proc_root: &Path) -> HostCollector {
        HostCollector {
            cpu_sample: Duration::from_millis(1),
            ..HostCollector::new(proc_root)
        }
    }

    #[test]
    fn reads_a_fixture_tree() {
        let dir = fixture();
        let host = collector(dir.path()).read();
        let memory = host.memory.unwrap();
        assert_eq!(memory.total_bytes, 984_064 * 1024);
        assert_eq!(memory.available_bytes, 102_400 * 1024);
        assert_eq!(memory.used_bytes, (984_064 - 102_400) * 1024);
        let swap = host.swap.unwrap();
        assert_eq!(swap.used_bytes, 262_144 * 1024);
        assert_eq!(host.load, Some([1.5, 0.75, 0.25]));
        assert_eq!(host.uptime_secs, Some(3600.25));
        // The same /proc/stat twice: no time passed, no CPU used.
        assert_eq!(host.cpu_percent, Some(0.0));
        assert_eq!(host.disks.len(), 1);
        assert_eq!(host.disks[0].device, "/dev/fake");
        assert!(host.disks[0].total_bytes > 0);
        assert!(host.unavailable.is_empty(), "{:?}", host.unavailable);
    }

    #[test]
    fn a_missing_source_is_unavailable_with_its_reason() {
        let dir = fixture();
        std::fs::remove_file(dir.path().join("meminfo")).unwrap();
        std::fs::write(dir.path().join("loadavg"), "garbage").unwrap();
        let host = collector(dir.path()).read();
        assert_eq!(host.memory, None);
        assert_eq!(host.load, None);
        let sources: Vec<&str> = host.unavailable.iter().map(|u| u.source.as_str()).collect();
        assert_eq!(sources, ["memory", "load"]);
        assert!(
            host.unavailable[0].reason.contains("No such file"),
            "{:?}",
            host.unavailable
        );
    }

    #[test]
    fn old_kernels_without_memavailable() {
        let (m, _) =
            parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n")
                .unwrap();
        assert_eq!(m.available_bytes, 400 * 1024);
    }

    /// After the first reading, CPU use is measured from the previous one:
    /// no wait, and a window too short to mean anything keeps the last figure.
    #[test]
    fn cpu_use_since_the_previous_reading() {
        let dir = fixture();
        let host = HostCollector::new(dir.path());
        let stat = dir.path().join("stat");
        std::fs::write(
            &stat,
            "cpu 100 0 100 800
",
        )
        .unwrap();
        // The first reading samples (the fixture does not move: nothing used).
        assert_eq!(host.cpu_percent().unwrap(), 0.0);
        // 1000 ticks later, 600 of them busy.
        std::fs::write(
            &stat,
            "cpu 500 0 300 1200
",
        )
        .unwrap();
        assert_eq!(host.cpu_percent().unwrap(), 60.0);
        // One tick later: the last measure stands.
        std::fs::write(
            &stat,
            "cpu 500 0 300 1201
",
        )
        .unwrap();
        assert_eq!(host.cpu_percent().unwrap(), 60.0);
        assert_eq!(host.read().cpu_percent, Some(60.0));
    }

    #[test]
    fn a_shared_collector_follows_the_proc_root() {
        let (a, b) = (fixture(), fixture());
        let shared = SharedHost::new(a.path());
        let first = shared.get(a.path());
        assert!(Arc::ptr_eq(&first, &shared.get(a.path())), "kept");
        let moved = shared.get(b.path());
        assert_eq!(moved.proc_root(), b.path());
        assert!(!Arc::ptr_eq(&first, &moved));
    }

    /// This machine's own /proc: within tolerance of what /proc/meminfo says right after.
    #[test]
    fn this_machine() {
        let host = collector(Path::new("/proc")).read();
        let memory = host.memory.unwrap();
        let (again, _) = parse_meminfo(&std::fs::read_to_string("/proc/meminfo").unwrap()).unwrap();
        assert_eq!(memory.total_bytes, again.total_bytes);
        let drift = memory.available_bytes.abs_diff(again.available_bytes);
        assert!(
            drift < memory.total_bytes / 20,
            "available moved by {drift}"
        );
        assert!(host.cpu_percent.is_some_and(|c| (0.0..=100.0).contains(&c)));
        assert!(!host.disks.is_empty());
    }
}
