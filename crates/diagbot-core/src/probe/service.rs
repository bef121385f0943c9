//! One configured service now: its state and restarts from systemd, its
//! processes (the unit's cgroup, or a process match), their summed RSS, its
//! memory limit and how long its main process has run. Each source that
//! cannot be read is listed as unavailable with the reason.

use serde::{Deserialize, Serialize};

use super::cgroup::{self, CgroupMemory};
use super::systemd::{self, UnitState};
use super::{procs, Unavailable};
use crate::config::{ServiceConfig, Settings};
pub use crate::trend::TrendReport;

/// One configured service as probed now. A figure whose source could not be
/// read is `None`, and the source is listed in `unavailable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Its configured name.
    pub name: String,
    /// Its systemd unit, if it has one.
    pub unit: Option<String>,
    /// `active`, `failed`, ... (systemd), or `running` / `not running` for a process match.
    pub state: Option<ServiceState>,
    /// systemd's `SubState`: `running`, `exited`, `auto-restart`, ...
    pub sub_state: Option<String>,
    /// systemd's `MainPID`, else the lowest PID a process match found.
    pub main_pid: Option<u32>,
    /// When the main process started, in clock ticks after boot (from
    /// `/proc/PID/stat`): with the PID, it tells one process instance from
    /// the next, even when a PID is reused.
    #[serde(default)]
    pub main_start_ticks: Option<u64>,
    /// Its processes: the unit's cgroup's, else the process match's, else the main PID.
    pub pids: Vec<u32>,
    /// Summed over `pids`.
    pub rss_bytes: Option<u64>,
    /// The limit it is killed at; `memory_limit_source` says whose it is.
    pub memory_limit_bytes: Option<u64>,
    /// `config`, `cgroup`, `unit MemoryMax` or `host memory`.
    pub memory_limit_source: Option<LimitSource>,
    /// RSS as a share of the limit, in percent.
    pub memory_used_percent: Option<f64>,
    /// systemd's `NRestarts`.
    pub restarts: Option<u64>,
    /// systemd's `Result`: `success`, `oom-kill`, `exit-code`, ...
    pub last_result: Option<String>,
    /// How long the main process has run.
    pub running_secs: Option<f64>,
    /// Its cgroup's memory (the unit's cgroup, else the main process's).
    pub cgroup: Option<CgroupMemory>,
    /// Filled by the daemon from its samples.
    pub memory_trend: Option<TrendReport>,
    /// Processes the process match found outside the service's tree (the
    /// oldest match and its descendants): not counted in its PIDs or RSS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_matches: Vec<u32>,
    /// The sources that could not be read, and why.
    pub unavailable: Vec<Unavailable>,
}

/// What a service's figures need from the host, read once for all services.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostFacts {
    /// The host's memory: the limit of last resort.
    pub memory_total_bytes: Option<u64>,
    /// For how long the main process has run (its start is in ticks after boot).
    pub uptime_secs: Option<f64>,
}

/// Reads `svc` now.
pub fn probe(settings: &Settings, svc: &ServiceConfig, host: &HostFacts) -> ServiceStatus {
    let mut unavailable = Vec::new();
    let unit: Option<UnitState> = svc.unit.as_deref().and_then(|unit| {
        systemd::show(&settings.systemctl, unit)
            .map_err(|e| unavailable.push(Unavailable::new(format!("systemd ({unit})"), e)))
            .ok()
    });
    let found: Option<Vec<u32>> = svc.process.as_ref().and_then(|m| {
        procs::find(&settings.proc_root, m)
            .map_err(|e| unavailable.push(Unavailable::new("process match", e)))
            .ok()
    });
    // One service is one process tree: the oldest match's.
    let (matched, other_matches) = match found {
        Some(pids) => {
            let (tree, others) = procs::oldest_tree(&settings.proc_root, &pids);
            (Some(tree), others)
        }
        None => (None, Vec::new()),
    };
    let oldest = matched.as_ref().and_then(|tree| {
        tree.iter().copied().min_by_key(|&p| {
            (
                procs::start_ticks(&settings.proc_root, p).unwrap_or(u64::MAX),
                p,
            )
        })
    });
    let main_pid = unit.as_ref().and_then(|u| u.main_pid).or(oldest);
    // The cgroup: the unit's, else the main process's own.
    let cgroup_path = unit
        .as_ref()
        .and_then(|u| u.control_group.clone())
        .or_else(|| {
            let (v2, v1) = procs::cgroups(&settings.proc_root, main_pid?);
            // Not the root: its "limit" is the host's and its processes are everyone's.
            v2.filter(|p| p != "/").or(v1.filter(|p| p != "/"))
        });
    let cgroup = cgroup_path.and_then(|path| {
        cgroup::read(&settings.sys_root, &path)
            .map_err(|e| unavailable.push(Unavailable::new("cgroup memory", e)))
            .ok()
    });
    // A unit's processes are its cgroup's; a process match's are the matches.
    let mut pids = match (&unit, &cgroup, &matched) {
        (Some(_), Some(cg), _) if !cg.procs.is_empty() => cg.procs.clone(),
        (_, _, Some(m)) => m.clone(),
        _ => main_pid.into_iter().collect(),
    };
    pids.sort_unstable();
    pids.dedup();
    let rss: Vec<u64> = pids
        .iter()
        .filter_map(|&p| procs::rss_bytes(&settings.proc_root, p))
        .collect();
    let rss_bytes = (!rss.is_empty()).then(|| rss.iter().sum());
    let (memory_limit_bytes, memory_limit_source) =
        limit(svc, cgroup.as_ref(), unit.as_ref(), host.memory_total_bytes);
    let running_secs = host.uptime_secs.and_then(|up| {
        main_pid
            .and_then(|p| procs::running_secs(&settings.proc_root, p, up))
            .or_else(|| {
                let started = unit.as_ref()?.start_monotonic_usec? as f64 / 1e6;
                Some((up - started).max(0.0))
            })
    });
    let state = match (&unit, &matched) {
        (Some(u), _) => u.active_state.as_deref().map(ServiceState::from),
        (None, Some(m)) if m.is_empty() => Some(ServiceState::NotRunning),
        (None, Some(_)) => Some(ServiceState::Running),
        (None, None) => None,
    };
    ServiceStatus {
        name: svc.name.clone(),
        unit: svc.unit.clone(),
        state,
        sub_state: unit.as_ref().and_then(|u| u.sub_state.clone()),
        main_pid,
        main_start_ticks: main_pid.and_then(|p| procs::start_ticks(&settings.proc_root, p)),
        pids,
        rss_bytes,
        memory_used_percent: match (rss_bytes, memory_limit_bytes) {
            (Some(r), Some(l)) if l > 0 => Some(100.0 * r as f64 / l as f64),
            _ => None,
        },
        memory_limit_bytes,
        memory_limit_source,
        restarts: unit.as_ref().and_then(|u| u.restarts),
        last_result: unit.as_ref().and_then(|u| u.result.clone()),
        running_secs,
        cgroup,
        memory_trend: None,
        other_matches,
        unavailable,
    }
}

/// The limit the service is killed at: configured, the cgroup's, the unit's
/// `MemoryMax`, else the host's memory.
fn limit(
    svc: &ServiceConfig,
    cgroup: Option<&CgroupMemory>,
    unit: Option<&UnitState>,
    host_memory: Option<u64>,
) -> (Option<u64>, Option<LimitSource>) {
    let candidates = [
        (svc.memory_limit, LimitSource::Config),
        (cgroup.and_then(|c| c.limit_bytes), LimitSource::Cgroup),
        (
            unit.and_then(|u| u.memory_max_bytes),
            LimitSource::UnitMemoryMax,
        ),
        (host_memory, LimitSource::HostMemory),
    ];
    candidates
        .into_iter()
        .find_map(|(v, source)| v.map(|v| (Some(v), Some(source))))
        .unwrap_or((None, None))
}

/// A service's state: systemd's `ActiveState` for a unit, or whether a
/// process match found anything. Serialised as the words systemd and
/// earlier versions of diagbot use (`"active"`, `"not running"`); a state a
/// newer systemd adds is kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServiceState {
    /// Started: running, or a oneshot done and kept active.
    Active,
    /// Running, and reloading its configuration.
    Reloading,
    /// Stopped, or never started, without a failure.
    Inactive,
    /// Stopped after a failure: a crash, a timeout, an OOM kill.
    Failed,
    /// Starting.
    Activating,
    /// Stopping.
    Deactivating,
    /// Stopped while systemd cleans its resources (`systemctl clean`).
    Maintenance,
    /// Running, while systemd refreshes its mounts or extension images.
    Refreshing,
    /// A process match found the service's processes.
    Running,
    /// A process match found none.
    NotRunning,
    /// A state this version does not know.
    Other(String),
}

impl ServiceState {
    /// The word systemd uses, or `running` / `not running` for a process match.
    pub fn as_str(&self) -> &str {
        match self {
            ServiceState::Active => "active",
            ServiceState::Reloading => "reloading",
            ServiceState::Inactive => "inactive",
            ServiceState::Failed => "failed",
            ServiceState::Activating => "activating",
            ServiceState::Deactivating => "deactivating",
            ServiceState::Maintenance => "maintenance",
            ServiceState::Refreshing => "refreshing",
            ServiceState::Running => "running",
            ServiceState::NotRunning => "not running",
            ServiceState::Other(s) => s,
        }
    }
}

impl From<&str> for ServiceState {
    fn from(s: &str) -> Self {
        match s {
            "active" => ServiceState::Active,
            "reloading" => ServiceState::Reloading,
            "inactive" => ServiceState::Inactive,
            "failed" => ServiceState::Failed,
            "activating" => ServiceState::Activating,
            "deactivating" => ServiceState::Deactivating,
            "maintenance" => ServiceState::Maintenance,
            "refreshing" => ServiceState::Refreshing,
            "running" => ServiceState::Running,
            "not running" => ServiceState::NotRunning,
            other => ServiceState::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ServiceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ServiceState::from(String::deserialize(d)?.as_str()))
    }
}

/// Where a service's memory limit comes from, in the order it is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitSource {
    /// `memory_limit` in the service's configuration.
    #[serde(rename = "config")]
    Config,
    /// The cgroup's `memory.max` (v2) or `memory.limit_in_bytes` (v1).
    #[serde(rename = "cgroup")]
    Cgroup,
    /// The unit's `MemoryMax`.
    #[serde(rename = "unit MemoryMax")]
    UnitMemoryMax,
    /// No limit of its own: the host's memory.
    #[serde(rename = "host memory")]
    HostMemory,
}

impl LimitSource {
    /// The words `status` shows and the JSON holds.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitSource::Config => "config",
            LimitSource::Cgroup => "cgroup",
            LimitSource::UnitMemoryMax => "unit MemoryMax",
            LimitSource::HostMemory => "host memory",
        }
    }
}

impl std::fmt::Display for LimitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON of `status --json` and `/api/v1/status` is what it was when these were strings.
    #[test]
    fn states_and_limit_sources_serialise_to_the_same_words() {
        for word in [
            "active",
            "reloading",
            "inactive",
            "failed",
            "activating",
            "deactivating",
            "maintenance",
            "refreshing",
            "running",
            "not running",
            "some-future-state",
        ] {
            let state = ServiceState::from(word);
            assert_eq!(state.as_str(), word);
            let json = serde_json::to_value(&state).unwrap();
            assert_eq!(json, serde_json::json!(word));
            assert_eq!(serde_json::from_value::<ServiceState>(json).unwrap(), state);
        }
        assert_eq!(ServiceState::from("failed"), ServiceState::Failed);
        assert_eq!(
            ServiceState::from("some-future-state"),
            ServiceState::Other("some-future-state".into())
        );
        for (source, word) in [
            (LimitSource::Config, "config"),
            (LimitSource::Cgroup, "cgroup"),
            (LimitSource::UnitMemoryMax, "unit MemoryMax"),
            (LimitSource::HostMemory, "host memory"),
        ] {
            assert_eq!(source.as_str(), word);
            let json = serde_json::to_value(source).unwrap();
            assert_eq!(json, serde_json::json!(word));
            assert_eq!(serde_json::from_value::<LimitSource>(json).unwrap(), source);
        }
    }
}
