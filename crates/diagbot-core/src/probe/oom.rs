//! OOM kills, as the kernel reports them:
//!
//! ```text
//! oom-kill:constraint=CONSTRAINT_MEMCG,...,task_memcg=/system.slice/bot.service,task=python3,pid=908,uid=1000
//! Memory cgroup out of memory: Killed process 908 (python3) total-vm:1468412kB, anon-rss:562104kB, file-rss:3316kB, shmem-rss:0kB, ...
//! Out of memory: Killed process 908 (python3) total-vm:...
//! ```
//!
//! The `oom-kill:` line names the cgroup, the `Killed process` line the RSS;
//! the two are joined by pid. `/proc/vmstat`'s `oom_kill` counts kills even when
//! the log cannot be read, so a kill is never missed silently.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::Unavailable;
use crate::config::Settings;
use crate::logs::timestamp::{parse_line_timestamp, YearHint};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OomKill {
    pub time: Option<DateTime<FixedOffset>>,
    pub pid: u32,
    pub process: String,
    /// anon + file + shmem RSS when killed.
    pub rss_bytes: Option<u64>,
    pub total_vm_bytes: Option<u64>,
    /// The victim's memory cgroup (`task_memcg`), which names its service.
    pub cgroup: Option<String>,
    /// `CONSTRAINT_NONE` (the host ran out) or `CONSTRAINT_MEMCG` (a cgroup limit).
    pub constraint: Option<String>,
    pub source: String,
}

/// The OOM kills in kernel log `text`, oldest first.
pub fn parse_kernel_log(text: &str, source: &str, hint: &YearHint) -> Vec<OomKill> {
    let mut kills: Vec<OomKill> = Vec::new();
    // From `oom-kill:` lines, waiting for their `Killed process` line: pid → (cgroup, constraint).
    let mut pending: Vec<(u32, Option<String>, Option<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = find_after(line, "oom-kill:") {
            let field = |key: &str| {
                rest.split(',')
                    .find_map(|kv| kv.trim().strip_prefix(key)?.strip_prefix('='))
                    .map(str::to_string)
            };
            if let Some(pid) = field("pid").and_then(|p| p.parse().ok()) {
                pending.push((pid, field("task_memcg"), field("constraint")));
            }
            continue;
        }
        let Some(rest) = find_after(line, "Killed process ") else {
            continue;
        };
        let Some((pid, process, tail)) = pid_and_name(rest) else {
            continue;
        };
        let kb = |key: &str| -> Option<u64> {
            let value = find_after(tail, key)?;
            let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok().map(|k| k * 1024)
        };
        let rss = match (kb("anon-rss:"), kb("file-rss:"), kb("shmem-rss:")) {
            (None, None, None) => None,
            (a, f, s) => Some(a.unwrap_or(0) + f.unwrap_or(0) + s.unwrap_or(0)),
        };
        let (cgroup, constraint) = match pending.iter().position(|(p, ..)| *p == pid) {
            Some(i) => {
                let (_, c, k) = pending.remove(i);
                (c, k)
            }
            None => (None, None),
        };
        kills.push(OomKill {
            time: parse_line_timestamp(line.as_bytes(), hint).and_then(|t| t.to_datetime()),
            pid,
            process,
            rss_bytes: rss,
            total_vm_bytes: kb("total-vm:"),
            cgroup,
            constraint,
            source: source.to_string(),
        });
    }
    kills
}

fn find_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// `908 (python3) total-vm:...` → (908, "python3", " total-vm:...").
fn pid_and_name(rest: &str) -> Option<(u32, String, &str)> {
    let (pid, after) = rest.split_once(' ')?;
    let pid = pid.parse().ok()?;
    let after = after.strip_prefix('(')?;
    let close = after.rfind(')')?;
    Some((pid, after[..close].to_string(), &after[close + 1..]))
}

/// The kernel's count of OOM kills since boot, from `/proc/vmstat`.
pub fn vmstat_oom_kills(vmstat: &str) -> Option<u64> {
    vmstat
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|v| v.trim().parse().ok())
}

/// What `diagbot oom` shows.
#[derive(Debug, Clone, Serialize)]
pub struct OomReport {
    pub kills: Vec<OomKill>,
    /// `oom_kill` in `/proc/vmstat`: kills since boot, whether or not the log shows them.
    pub kills_since_boot: Option<u64>,
    pub unavailable: Vec<Unavailable>,
    /// Said when the counter shows kills the log does not.
    pub note: Option<String>,
}

/// OOM kills at or after `since` (milliseconds since the epoch), from the
/// kernel log file if one is configured, else `journalctl -k`, and the counter.
pub fn report(settings: &Settings, since: Option<i64>) -> OomReport {
    let mut unavailable = Vec::new();
    let mut kills = Vec::new();
    let mut read_any_log = false;
    match &settings.kernel_log {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => {
                read_any_log = true;
                let modified = std::fs::metadata(path).and_then(|m| m.modified());
                let hint = YearHint::from_system_time(
                    modified.unwrap_or_else(|_| std::time::SystemTime::now()),
                );
                kills = parse_kernel_log(&text, &path.display().to_string(), &hint);
            }
            Err(e) => unavailable.push(Unavailable::new(path.display().to_string(), e)),
        },
        None => match journal(&settings.journalctl) {
            Ok(text) => {
                read_any_log = true;
                let hint = YearHint::from_system_time(std::time::SystemTime::now());
                kills = parse_kernel_log(&text, "journalctl -k", &hint);
            }
            Err(e) => unavailable.push(Unavailable::new("journalctl -k", e)),
        },
    }
    let vmstat = std::fs::read_to_string(settings.proc_root.join("vmstat"));
    let kills_since_boot = match &vmstat {
        Ok(text) => vmstat_oom_kills(text),
        Err(e) => {
            unavailable.push(Unavailable::new("/proc/vmstat", e));
            None
        }
    };
    let unnamed = kills_since_boot
        .unwrap_or(0)
        .saturating_sub(kills.len() as u64);
    let note = (unnamed > 0 && (!read_any_log || since.is_none())).then(|| {
        format!(
            "the kernel counted {} OOM kill(s) since boot that diagbot cannot name: \
             reading the kernel log needs group adm (for a file such as /var/log/kern.log), \
             group systemd-journal (for journalctl -k) or CAP_SYSLOG (for /dev/kmsg)",
            unnamed
        )
    });
    if let Some(since) = since {
        kills.retain(|k| k.time.is_some_and(|t| t.timestamp_millis() >= since));
    }
    OomReport {
        kills,
        kills_since_boot,
        unavailable,
        note,
    }
}

/// `journalctl -k` with ISO timestamps; an error names what went wrong.
fn journal(command: &str) -> Result<String, String> {
    let out = std::process::Command::new(command)
        .args(["-k", "--no-pager", "-o", "short-iso"])
        .output()
        .map_err(|e| format!("cannot run {command}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{command} -k failed ({}): {}",
            out.status,
            err.trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn hint() -> YearHint {
        YearHint::new(
            NaiveDate::from_ymd_opt(2026, 3, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    }

    const KERN_LOG: &str = "\
Feb 27 10:00:00 vps kernel: python3 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
Feb 27 10:00:00 vps kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/crypto-bot.service,task_memcg=/system.slice/crypto-bot.service,task=python3,pid=908,uid=1000
Feb 27 10:00:00 vps kernel: Memory cgroup out of memory: Killed process 908 (python3) total-vm:1468412kB, anon-rss:562104kB, file-rss:3316kB, shmem-rss:0kB, UID:1000 pgtables:1300kB oom_score_adj:0
Feb 27 11:02:13 vps kernel: Out of memory: Killed process 1337 (node worker) total-vm:900000kB, anon-rss:400000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:900kB oom_score_adj:0
Feb 27 11:05:00 vps kernel: eth0: link up
";

    #[test]
    fn kills_with_victim_rss_cgroup_and_time() {
        let kills = parse_kernel_log(KERN_LOG, "kernel log", &hint());
        assert_eq!(kills.len(), 2);
        let bot = &kills[0];
        assert_eq!((bot.pid, bot.process.as_str()), (908, "python3"));
        assert_eq!(bot.rss_bytes, Some((562_104 + 3316) * 1024));
        assert_eq!(bot.total_vm_bytes, Some(1_468_412 * 1024));
        assert_eq!(
            bot.cgroup.as_deref(),
            Some("/system.slice/crypto-bot.service")
        );
        assert_eq!(bot.constraint.as_deref(), Some("CONSTRAINT_MEMCG"));
        assert_eq!(
            bot.time.unwrap().format("%Y-%m-%d %H:%M:%S").to_string(),
            "2026-02-27 10:00:00"
        );
        let node = &kills[1];
        assert_eq!((node.pid, node.process.as_str()), (1337, "node worker"));
        assert_eq!(node.cgroup, None);
    }

    #[test]
    fn the_vmstat_counter() {
        assert_eq!(
            vmstat_oom_kills("pgfault 1\noom_kill 3\nother 2\n"),
            Some(3)
        );
        assert_eq!(vmstat_oom_kills("pgfault 1\n"), None);
    }
}
