//! OOM kills, as the kernel reports them:
//!
//! ```text
//! oom-kill:constraint=CONSTRAINT_MEMCG,...,task_memcg=/system.slice/bot.service,task=python3,pid=908,uid=1000
//! Memory cgroup out of memory: Killed process 908 (python3) total-vm:1468412kB, anon-rss:562104kB, file-rss:3316kB, shmem-rss:0kB, ...
//! Out of memory: Killed process 908 (python3) total-vm:...
//! ```
//!
//! The `oom-kill:` line names the cgroup, the `Killed process` line the RSS;
//! the two are joined by pid. The kernel log comes from a configured file, else
//! `/dev/kmsg`, else `journalctl -k` (its `sources` module). A configured service's kills are joined
//! with what systemd wrote in its journal (the kill, and the restart after it),
//! and its cgroup's own OOM count is read. `/proc/vmstat`'s `oom_kill` counts
//! kills even when no log can be read, so a kill is never missed silently.

mod sources;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use sources::parse_kmsg_record;

use super::systemd::{unit_journal, UnitEvent, UnitEventKind};
use super::{cgroup, ProbeError, Unavailable};
use crate::config::{ProcessMatch, ServiceConfig, Settings};
use crate::logs::timestamp::{parse_line_timestamp, YearHint};

/// Journal and kernel times of one kill differ by less than this.
const SAME_KILL_SECS: i64 = 10;
/// systemd's restart after a kill comes within this (RestartSec is 100 ms by default).
const RESTART_AFTER_KILL_SECS: i64 = 600;

/// One OOM kill, from the kernel log, a unit's journal or both; what neither
/// said is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OomKill {
    /// When it was logged; `None` when the line's time could not be read.
    pub time: Option<DateTime<FixedOffset>>,
    /// The victim; unknown when only systemd's journal saw the kill.
    pub pid: Option<u32>,
    /// The victim's name, as the kernel logged it.
    pub process: Option<String>,
    /// anon + file + shmem RSS when killed.
    pub rss_bytes: Option<u64>,
    /// The victim's virtual memory size when killed.
    pub total_vm_bytes: Option<u64>,
    /// The victim's memory cgroup (`task_memcg`).
    pub cgroup: Option<String>,
    /// `CONSTRAINT_NONE` (the host ran out) or `CONSTRAINT_MEMCG` (a cgroup limit).
    pub constraint: Option<String>,
    /// The configured service the victim belonged to.
    pub service: Option<String>,
    /// systemd's restart counter when it restarted the service after the kill.
    pub restart_counter: Option<u64>,
    /// The service's next process, when diagbot's watch saw it start after
    /// the kill (a process match, whose returns systemd does not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_as: Option<u32>,
    /// What saw the kill: the kernel log, the unit's journal.
    pub sources: Vec<String>,
}

/// Reads kernel log lines one at a time and keeps only the OOM kills.
pub struct KernelLogParser {
    source: String,
    /// From `oom-kill:` lines, waiting for their `Killed process` line: (pid, cgroup, constraint).
    pending: Vec<(u32, Option<String>, Option<String>)>,
    kills: Vec<OomKill>,
}

impl KernelLogParser {
    /// A parser whose kills give `source` as what saw them.
    pub fn new(source: &str) -> Self {
        KernelLogParser {
            source: source.to_string(),
            pending: Vec::new(),
            kills: Vec::new(),
        }
    }

    /// One line of kernel log, and its time if known.
    pub fn line(&mut self, line: &str, time: Option<DateTime<FixedOffset>>) {
        if let Some(rest) = find_after(line, "oom-kill:") {
            let field = |key: &str| {
                rest.split(',')
                    .find_map(|kv| kv.trim().strip_prefix(key)?.strip_prefix('='))
                    .map(str::to_string)
            };
            if let Some(pid) = field("pid").and_then(|p| p.parse().ok()) {
                // Bounded: an `oom-kill:` line without its partner must not pile up.
                if self.pending.len() >= 64 {
                    self.pending.remove(0);
                }
                self.pending
                    .push((pid, field("task_memcg"), field("constraint")));
            }
            return;
        }
        let Some(rest) = find_after(line, "Killed process ") else {
            return;
        };
        let Some((pid, process, tail)) = pid_and_name(rest) else {
            return;
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
        let (cgroup, constraint) = match self.pending.iter().position(|(p, ..)| *p == pid) {
            Some(i) => {
                let (_, c, k) = self.pending.remove(i);
                (c, k)
            }
            None => (None, None),
        };
        self.kills.push(OomKill {
            time,
            pid: Some(pid),
            process: Some(process),
            rss_bytes: rss,
            total_vm_bytes: kb("total-vm:"),
            cgroup,
            constraint,
            service: None,
            restart_counter: None,
            returned_as: None,
            sources: vec![self.source.clone()],
        });
    }

    /// The kills read, in the order their lines came.
    pub fn finish(self) -> Vec<OomKill> {
        self.kills
    }
}

/// The OOM kills in kernel log `text` (syslog or ISO times), oldest first.
pub fn parse_kernel_log(text: &str, source: &str, hint: &YearHint) -> Vec<OomKill> {
    let mut parser = KernelLogParser::new(source);
    for line in text.lines() {
        parse_timed_line(&mut parser, line, hint);
    }
    parser.finish()
}

fn parse_timed_line(parser: &mut KernelLogParser, line: &str, hint: &YearHint) {
    // Only the two kinds of line that matter pay for a timestamp.
    if line.contains("oom-kill:") || line.contains("Killed process ") {
        let time = parse_line_timestamp(line.as_bytes(), hint).and_then(|t| t.to_datetime());
        parser.line(line, time);
    }
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

/// One service's own OOM count, from its cgroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOomCount {
    /// The service, by its configured name.
    pub service: String,
    /// The unit's cgroup path.
    pub cgroup: String,
    /// OOM kills the cgroup counted (v2 `memory.events`, v1 `memory.oom_control`).
    pub oom_kills: u64,
}

/// What `diagbot oom` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OomReport {
    /// The kills the logs show, oldest first (any without a time come first).
    pub kills: Vec<OomKill>,
    /// `oom_kill` in `/proc/vmstat`: kills since boot, whether or not the log shows them.
    pub kills_since_boot: Option<u64>,
    /// Each service's cgroup count (`memory.events`, `memory.oom_control`).
    pub services: Vec<ServiceOomCount>,
    /// The sources that could not be read, and why.
    pub unavailable: Vec<Unavailable>,
    /// Said when the counter shows kills the log does not.
    pub note: Option<String>,
    /// The kernel log read: a file, the kmsg device, or `journalctl -k` (none: none could be).
    #[serde(default)]
    pub kernel_log: Option<String>,
}

/// OOM kills at or after `since` (milliseconds since the epoch) from the
/// kernel log and the services' journals, and the counters.
pub fn report(settings: &Settings, since: Option<i64>) -> OomReport {
    let mut unavailable = Vec::new();
    let mut kernel_log = sources::read(settings, &mut unavailable);
    let read_any_log = kernel_log.read_from.is_some();
    let mut kills = std::mem::take(&mut kernel_log.kills);
    if let Some(since) = since {
        kills.retain(|k| k.time.is_some_and(|t| t.timestamp_millis() >= since));
    }
    let mut services = Vec::new();
    for svc in &settings.services {
        attribute(&mut kills, svc);
        if let Some(unit) = &svc.unit {
            match unit_journal(&settings.journalctl, unit, since) {
                Ok(events) => join_journal(&mut kills, svc, unit, &events),
                Err(e) => unavailable.push(Unavailable::new(format!("journal of {unit}"), e)),
            }
        }
        if let Some(count) = cgroup_count(settings, svc) {
            services.push(count);
        }
    }
    kills.sort_by_key(|k| k.time);
    let vmstat_path = settings.proc_root.join("vmstat");
    let kills_since_boot = match std::fs::read_to_string(&vmstat_path) {
        Ok(text) => vmstat_oom_kills(&text),
        Err(e) => {
            let e = ProbeError::bare(&vmstat_path, e);
            unavailable.push(Unavailable::new("/proc/vmstat", e));
            None
        }
    };
    let named = kills.iter().filter(|k| k.pid.is_some()).count() as u64;
    let unnamed = kills_since_boot.unwrap_or(0).saturating_sub(named);
    let note =
        (unnamed > 0 && (!read_any_log || since.is_none())).then(|| kernel_log.note(unnamed));
    OomReport {
        kills,
        kills_since_boot,
        services,
        unavailable,
        note,
        kernel_log: kernel_log.read_from.clone(),
    }
}

/// Marks the kills that belong to `svc`: by the unit's cgroup, or by the process name.
fn attribute(kills: &mut [OomKill], svc: &ServiceConfig) {
    for kill in kills.iter_mut().filter(|k| k.service.is_none()) {
        let by_unit = svc.unit.as_deref().is_some_and(|unit| {
            kill.cgroup
                .as_deref()
                .is_some_and(|cg| cg.rsplit('/').next() == Some(unit))
        });
        let by_name = match &svc.process {
            Some(ProcessMatch::Pattern { name: Some(n), .. }) => {
                svc.unit.is_none() && kill.process.as_deref() == Some(n)
            }
            _ => false,
        };
        if by_unit || by_name {
            kill.service = Some(svc.name.clone());
        }
    }
}

/// Adds what systemd wrote about `unit`: its kills join the kernel's (or stand
/// alone when the kernel log was not readable), and the restart after each.
fn join_journal(kills: &mut Vec<OomKill>, svc: &ServiceConfig, unit: &str, events: &[UnitEvent]) {
    let source = format!("journal of {unit}");
    let near = |a: DateTime<FixedOffset>, b: DateTime<FixedOffset>| {
        (a.timestamp() - b.timestamp()).abs() <= SAME_KILL_SECS
    };
    let mut service_kill_times = Vec::new();
    for event in events {
        if !matches!(
            event.kind,
            UnitEventKind::OomKilled | UnitEventKind::FailedOomKill
        ) {
            continue;
        }
        let joined = kills.iter_mut().find(|k| {
            k.service.as_deref().is_none_or(|s| s == svc.name)
                && k.time.is_some_and(|t| near(t, event.time))
        });
        match joined {
            Some(kill) => {
                kill.service = Some(svc.name.clone());
                if !kill.sources.contains(&source) {
                    kill.sources.push(source.clone());
                }
                service_kill_times.push(kill.time.unwrap_or(event.time));
            }
            None => {
                kills.push(OomKill {
                    time: Some(event.time),
                    pid: None,
                    process: None,
                    rss_bytes: None,
                    total_vm_bytes: None,
                    cgroup: None,
                    constraint: None,
                    service: Some(svc.name.clone()),
                    restart_counter: None,
                    returned_as: None,
                    sources: vec![source.clone()],
                });
                service_kill_times.push(event.time);
            }
        }
    }
    // The first restart after each of the service's kills.
    for kill in kills
        .iter_mut()
        .filter(|k| k.service.as_deref() == Some(&svc.name))
    {
        let Some(at) = kill.time else { continue };
        kill.restart_counter = events.iter().find_map(|e| match e.kind {
            UnitEventKind::Restart { counter }
                if e.time >= at && (e.time - at).num_seconds() <= RESTART_AFTER_KILL_SECS =>
            {
                Some(counter)
            }
            _ => None,
        });
    }
}

fn cgroup_count(settings: &Settings, svc: &ServiceConfig) -> Option<ServiceOomCount> {
    let unit = svc.unit.as_deref()?;
    let state = super::systemd::show(&settings.systemctl, unit).ok()?;
    let memory = cgroup::read(&settings.sys_root, state.control_group.as_deref()?).ok()?;
    Some(ServiceOomCount {
        service: svc.name.clone(),
        cgroup: memory.path,
        oom_kills: memory.oom_kills?,
    })
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

    /// The original incident (shared with the other suites), then a kill in no cgroup.
    const KERN_LOG: &str = concat!(
        include_str!("../../../../testdata/kern-oom.log"),
        "Feb 27 11:02:13 vps kernel: Out of memory: Killed process 1337 (node worker) total-vm:900000kB, anon-rss:400000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:900kB oom_score_adj:0\nFeb 27 11:05:00 vps kernel: eth0: link up\n"
    );

    #[test]
    fn kills_with_victim_rss_cgroup_and_time() {
        let kills = parse_kernel_log(KERN_LOG, "kernel log", &hint());
        assert_eq!(kills.len(), 2);
        let bot = &kills[0];
        assert_eq!(
            (bot.pid, bot.process.as_deref()),
            (Some(908), Some("python3"))
        );
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
        assert_eq!(
            (node.pid, node.process.as_deref()),
            (Some(1337), Some("node worker"))
        );
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
