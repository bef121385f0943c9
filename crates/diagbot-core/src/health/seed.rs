//! Seeding a watch from samples taken before a restart (the daemon keeps
//! them in its history store): the trends go on from where they were, and
//! the restart and OOM counters are compared with their last values, so a
//! restart while diagbot was down is news and one before it is not.

use super::{Observation, Watch};
use crate::probe::cgroup::CgroupMemory;
use crate::probe::service::ServiceStatus;

/// One past sample, as a store kept it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PastSample {
    /// Seconds since the epoch.
    pub at_secs: f64,
    /// The host's used memory (total less available).
    pub host_used_bytes: Option<u64>,
    /// The host's available memory.
    pub host_available_bytes: Option<u64>,
    /// The kernel's OOM kill count (`/proc/vmstat`).
    pub oom_kills: Option<u64>,
    /// The services sampled then.
    pub services: Vec<PastService>,
}

/// One service in a past sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PastService {
    /// Its configured name.
    pub name: String,
    /// The main PID then: the same PID now continues the same instance.
    pub pid: Option<u32>,
    /// Its RSS then.
    pub rss_bytes: Option<u64>,
    /// systemd's restart count then.
    pub restarts: Option<u64>,
    /// Its cgroup's OOM kill count then.
    pub cgroup_oom_kills: Option<u64>,
    /// Its memory limit then.
    pub limit_bytes: Option<u64>,
}

/// An OOM kill of a service the store recorded (its time: the sample that
/// saw it).
#[derive(Debug, Clone, PartialEq)]
pub struct PastKill {
    /// Seconds since the epoch.
    pub at_secs: f64,
    /// The service, by its configured name.
    pub service: String,
}

impl Watch {
    /// Takes in `past` (oldest first) as if it had been sampled live, saying
    /// nothing about it; the next [`Watch::record`] compares with the last of
    /// it. `kills` say which of the deaths seen in `past` were OOM kills: the
    /// samples alone show a process gone, not what took it (a kernel log
    /// named it then, and may have rotated since).
    pub fn seed(&mut self, past: &[PastSample], kills: &[PastKill]) {
        for sample in past {
            let mut events = self.record(&observation(sample));
            self.settle(&mut events, &[]);
        }
        if past.is_empty() {
            return;
        }
        for kill in kills {
            if let Some(life) = self.services.get_mut(&kill.service) {
                life.killed_by(kill.at_secs);
            }
        }
        // The loops and trends again, with the deaths' causes.
        self.settle(&mut Vec::new(), &[]);
    }
}

fn observation(sample: &PastSample) -> Observation {
    let total = match (sample.host_used_bytes, sample.host_available_bytes) {
        (Some(used), Some(available)) => Some(used + available),
        _ => None,
    };
    Observation {
        at_secs: sample.at_secs,
        host_total_bytes: total,
        host_available_bytes: sample.host_available_bytes,
        oom_kills: sample.oom_kills,
        services: sample.services.iter().map(service).collect(),
    }
}

fn service(s: &PastService) -> ServiceStatus {
    ServiceStatus {
        name: s.name.clone(),
        unit: None,
        state: None,
        sub_state: None,
        main_pid: s.pid,
        main_start_ticks: None,
        pids: s.pid.into_iter().collect(),
        rss_bytes: s.rss_bytes,
        memory_limit_bytes: s.limit_bytes,
        memory_limit_source: None,
        memory_used_percent: None,
        restarts: s.restarts,
        last_result: None,
        running_secs: None,
        cgroup: s.cgroup_oom_kills.map(|k| CgroupMemory {
            path: String::new(),
            version: 2,
            current_bytes: None,
            limit_bytes: None,
            oom_kills: Some(k),
            procs: Vec::new(),
        }),
        memory_trend: None,
        other_matches: Vec::new(),
        unavailable: Vec::new(),
    }
}
