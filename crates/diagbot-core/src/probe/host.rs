//! The host: memory, swap, load, CPU, disks and uptime, from `/proc` (or a
//! fixture tree standing in for it) and `statvfs` on each mounted device.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ProbeError, Unavailable};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    pub total_bytes: u64,
    pub available_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swap {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub mount: String,
    pub device: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    pub used_percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    pub memory: Option<Memory>,
    pub swap: Option<Swap>,
    /// 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
    /// Busy share of all CPUs over the sampling interval.
    pub cpu_percent: Option<f64>,
    pub uptime_secs: Option<f64>,
    pub disks: Vec<Disk>,
    pub unavailable: Vec<Unavailable>,
}

/// Reads the host's state under `proc_root`; CPU use is sampled over
/// `cpu_interval` (`None`: not sampled, left out).
pub fn read_host(proc_root: &Path, cpu_interval: Option<Duration>) -> HostStatus {
    let mut unavailable = Vec::new();
    let mut note = |source: &str, e: ProbeError| unavailable.push(Unavailable::new(source, e));
    let meminfo = read(proc_root, "meminfo").and_then(|t| parse_meminfo(&t));
    let (memory, swap) = match meminfo {
        Ok(m) => (Some(m.0), Some(m.1)),
        Err(e) => {
            note("memory", e);
            (None, None)
        }
    };
    let load = read(proc_root, "loadavg")
        .and_then(|t| parse_loadavg(&t))
        .map_err(|e| note("load", e))
        .ok();
    let uptime_secs = read(proc_root, "uptime")
        .and_then(|t| first_number(&t))
        .map_err(|e| note("uptime", e))
        .ok();
    let cpu_percent = cpu_interval.and_then(|interval| {
        cpu_percent(proc_root, interval)
            .map_err(|e| note("cpu", e))
            .ok()
    });
    let disks = match read(proc_root, "mounts") {
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

fn read(proc_root: &Path, name: &str) -> Result<String, ProbeError> {
    let path: PathBuf = proc_root.join(name);
    std::fs::read_to_string(&path).map_err(|e| ProbeError::read(&path, e))
}

/// Memory and swap from `/proc/meminfo` (values in kB).
pub fn parse_meminfo(text: &str) -> Result<(Memory, Swap), ProbeError> {
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

/// (busy, total) jiffies from the `cpu` line of `/proc/stat`.
fn cpu_times(proc_root: &Path) -> Result<(u64, u64), ProbeError> {
    let stat = read(proc_root, "stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| ProbeError::Malformed("stat has no cpu line".into()))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    if values.len() < 4 {
        return Err(ProbeError::Malformed(format!(
            "stat cpu line unreadable: {line:?}"
        )));
    }
    let total: u64 = values.iter().sum();
    // idle and iowait are not busy.
    let idle = values[3] + values.get(4).copied().unwrap_or(0);
    Ok((total - idle, total))
}

fn cpu_percent(proc_root: &Path, interval: Duration) -> Result<f64, ProbeError> {
    let (busy_a, total_a) = cpu_times(proc_root)?;
    std::thread::sleep(interval);
    let (busy_b, total_b) = cpu_times(proc_root)?;
    let total = total_b.saturating_sub(total_a);
    if total == 0 {
        return Ok(0.0);
    }
    Ok(100.0 * busy_b.saturating_sub(busy_a) as f64 / total as f64)
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

    #[test]
    fn reads_a_fixture_tree() {
        let dir = fixture();
        let host = read_host(dir.path(), Some(Duration::from_millis(1)));
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
        let host = read_host(dir.path(), Some(Duration::from_millis(1)));
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

    /// This machine's own /proc: within tolerance of what /proc/meminfo says right after.
    #[test]
    fn this_machine() {
        let host = read_host(Path::new("/proc"), Some(Duration::from_millis(50)));
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
