//! A status in words: the host's figures, each service's row, the trend and
//! restart-loop lines, and the sources that could not be read. Every part is
//! plain text (system text as it came, unescaped); which parts a medium shows
//! and how it marks them up is the medium's choice.

use diagbot_core::probe::host::{Disk, Memory, Swap};
use diagbot_core::probe::service::ServiceStatus;
use diagbot_core::probe::{Own, Status, Unavailable};

use super::format;

/// What `status` shows, formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub host: HostView,
    pub services: Vec<ServiceView>,
}

impl StatusView {
    pub fn of(status: &Status) -> Self {
        StatusView {
            host: HostView::of(status),
            services: status.services.iter().map(ServiceView::of).collect(),
        }
    }
}

/// The host's lines; a part that could not be read is `None` (and its source
/// is in `unavailable`).
#[derive(Debug, Clone, PartialEq)]
pub struct HostView {
    pub memory: Option<MemoryView>,
    /// The host memory's trend, in the core's words.
    pub memory_trend: Option<String>,
    pub swap: Option<SwapView>,
    /// "1.50 0.75 0.25": the 1, 5 and 15 minute load averages.
    pub load: Option<String>,
    /// "12 % busy".
    pub cpu: Option<String>,
    /// "1 d 1 h 1 min".
    pub uptime: Option<String>,
    /// diagbot's own footprint: "RSS 9.0 MiB, cache 2 answers in 20.0 KiB of 64.0 MiB".
    pub diagbot: Option<String>,
    /// The daemon's history: "on: /var/lib/diagbot/diagbot.db" or "off: why".
    pub history: Option<String>,
    pub disks: Vec<DiskView>,
    pub unavailable: Vec<Unavailable>,
}

impl HostView {
    fn of(status: &Status) -> Self {
        let host = &status.host;
        HostView {
            memory: host.memory.as_ref().map(MemoryView::of),
            memory_trend: status.host_memory_trend.as_ref().map(|t| t.text.clone()),
            swap: host.swap.as_ref().map(SwapView::of),
            load: host.load.map(|[a, b, c]| format!("{a:.2} {b:.2} {c:.2}")),
            cpu: host
                .cpu_percent
                .map(|c| format!("{} busy", format::percent(c))),
            uptime: host.uptime_secs.map(format::uptime),
            diagbot: own(&status.diagbot),
            history: status.diagbot.history.clone(),
            disks: host.disks.iter().map(DiskView::of).collect(),
            unavailable: host.unavailable.clone(),
        }
    }
}

/// The host's memory, from `MemAvailable`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryView {
    pub used: String,
    pub total: String,
    pub available: String,
    /// Used of total: "59 %".
    pub used_percent: String,
}

impl MemoryView {
    fn of(m: &Memory) -> Self {
        MemoryView {
            used: format::bytes(m.used_bytes),
            total: format::bytes(m.total_bytes),
            available: format::bytes(m.available_bytes),
            used_percent: format::percent(
                100.0 * m.used_bytes as f64 / m.total_bytes.max(1) as f64,
            ),
        }
    }

    /// "570.4 MiB used of 961.0 MiB, 390.6 MiB available".
    pub fn summary(&self) -> String {
        format!(
            "{} used of {}, {} available",
            self.used, self.total, self.available
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SwapView {
    /// The host has no swap.
    NoSwap,
    /// "256.0 MiB used of 512.0 MiB".
    InUse(String),
}

impl SwapView {
    fn of(s: &Swap) -> Self {
        if s.total_bytes == 0 {
            SwapView::NoSwap
        } else {
            SwapView::InUse(format!(
                "{} used of {}",
                format::bytes(s.used_bytes),
                format::bytes(s.total_bytes)
            ))
        }
    }
}

fn own(own: &Own) -> Option<String> {
    let rss = own.rss_bytes?;
    let cache = own
        .cache
        .map(|c| {
            format!(
                ", cache {} answers in {} of {}",
                c.entries,
                format::bytes(c.bytes),
                format::bytes(c.budget_bytes)
            )
        })
        .unwrap_or_default();
    Some(format!("RSS {}{cache}", format::bytes(rss)))
}

/// One mounted disk.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskView {
    pub mount: String,
    pub device: String,
    /// "60 %".
    pub used_percent: String,
    pub available: String,
    pub size: String,
}

impl DiskView {
    fn of(d: &Disk) -> Self {
        DiskView {
            mount: d.mount.clone(),
            device: d.device.clone(),
            used_percent: format::percent(d.used_percent),
            available: format::bytes(d.available_bytes),
            size: format::bytes(d.total_bytes),
        }
    }
}

/// One service's row, and the lines under it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceView {
    pub name: String,
    /// "active (running)", "not running".
    pub state: Option<String>,
    pub pid: Option<String>,
    /// Summed over its processes.
    pub rss: Option<String>,
    pub limit: Option<LimitView>,
    /// systemd's `NRestarts`.
    pub restarts: Option<u64>,
    /// systemd's `Result`: "success", "oom-kill", ...
    pub last_result: Option<String>,
    /// How long its main process has run: "1 h 0 min".
    pub running: Option<String>,
    /// Its memory trend, in the core's words.
    pub memory_trend: Option<String>,
    /// Set when it keeps dying: "killed 4 times in 3 h, …".
    pub restart_loop: Option<String>,
    /// Set when a process match covers several processes, or found some it
    /// does not count: "3 processes (pids 100, 101, 102); …".
    pub processes: Option<String>,
    pub unavailable: Vec<Unavailable>,
}

impl ServiceView {
    fn of(s: &ServiceStatus) -> Self {
        let trend = s.memory_trend.as_ref();
        ServiceView {
            name: s.name.clone(),
            state: s.state.as_ref().map(|state| match &s.sub_state {
                Some(sub) => format!("{state} ({sub})"),
                None => state.to_string(),
            }),
            pid: s.main_pid.map(|p| p.to_string()),
            rss: s.rss_bytes.map(format::bytes),
            limit: s.memory_limit_bytes.map(|l| LimitView {
                size: format::bytes(l),
                used_percent: s.memory_used_percent.map(format::percent),
                source: s.memory_limit_source.map(|source| source.to_string()),
            }),
            restarts: s.restarts,
            last_result: s.last_result.clone(),
            running: s.running_secs.map(format::duration),
            memory_trend: trend.map(|t| t.text.clone()),
            restart_loop: trend
                .and_then(|t| t.restart_loop.as_ref())
                .map(|found| found.text.clone()),
            processes: processes(s),
            unavailable: s.unavailable.clone(),
        }
    }

    /// The last result, unless it is the usual `success`.
    pub fn notable_result(&self) -> Option<&str> {
        self.last_result.as_deref().filter(|r| *r != "success")
    }
}

/// What a process match covers, when there is more to say than one PID.
fn processes(s: &ServiceStatus) -> Option<String> {
    fn list(pids: &[u32]) -> String {
        let mut shown: Vec<String> = pids.iter().take(8).map(u32::to_string).collect();
        if pids.len() > 8 {
            shown.push(format!("… {} more", pids.len() - 8));
        }
        shown.join(", ")
    }
    let counted = (s.unit.is_none() && s.pids.len() > 1)
        .then(|| format!("{} processes (pids {})", s.pids.len(), list(&s.pids)));
    let others = (!s.other_matches.is_empty()).then(|| {
        format!(
            "the process match also found pids {} outside pid {}'s process tree: not counted (narrow process.name or process.cmdline)",
            list(&s.other_matches),
            s.main_pid.map_or("?".into(), |p| p.to_string())
        )
    });
    [counted, others]
        .into_iter()
        .flatten()
        .reduce(|a, b| format!("{a}; {b}"))
}

/// A service's memory limit and how much of it is in use.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitView {
    pub size: String,
    /// RSS of the limit: "18 %".
    pub used_percent: Option<String>,
    /// Where the limit comes from: "cgroup", "host memory", ...
    pub source: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::fixture;

    #[test]
    fn a_status_in_words() {
        let view = StatusView::of(&fixture::status());
        let host = &view.host;
        assert_eq!(
            host.memory.as_ref().unwrap().summary(),
            "570.4 MiB used of 961.0 MiB, 390.6 MiB available"
        );
        assert_eq!(host.memory.as_ref().unwrap().used_percent, "59 %");
        assert_eq!(
            host.swap,
            Some(SwapView::InUse("256.0 MiB used of 512.0 MiB".into()))
        );
        assert_eq!(host.cpu.as_deref(), Some("12 % busy"));
        assert_eq!(host.disks[1].mount, "/srv/<data>", "not escaped here");
        let bot = &view.services[0];
        assert_eq!(bot.state.as_deref(), Some("active (running)"));
        assert_eq!(
            bot.limit,
            Some(LimitView {
                size: "900.0 MiB".into(),
                used_percent: Some("18 %".into()),
                source: Some("cgroup".into()),
            })
        );
        assert_eq!(bot.running.as_deref(), Some("1 h 0 min"));
        assert_eq!(bot.notable_result(), Some("oom-kill"));
        let worker = &view.services[1];
        assert_eq!(worker.state.as_deref(), Some("not running"));
        assert!(worker
            .restart_loop
            .as_deref()
            .unwrap()
            .starts_with("killed 4 times in 3 h"));
        assert_eq!(view.services[2].notable_result(), None, "success is usual");
        assert_eq!(view.services[3].state, None);
    }

    #[test]
    fn no_swap_is_said_rather_than_left_out() {
        let view = StatusView::of(&fixture::bare_status());
        assert_eq!(view.host.swap, Some(SwapView::NoSwap));
        assert_eq!(view.host.diagbot.as_deref(), Some("RSS 9.0 MiB"));
    }
}
