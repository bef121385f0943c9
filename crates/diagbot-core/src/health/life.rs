//! A service's life as the watch sees it: one *instance* per run of its main
//! process, each with its own samples, and the *deaths* between them.
//!
//! A trend is about one instance. A restart drops memory back to where the
//! process starts; a window that spans the drop reads as a sawtooth (or as
//! nothing at all) while the new instance climbs. So a new main PID, a new
//! start time, a restart counted by systemd or an OOM kill in the service's
//! cgroup ends the instance, and the next one starts from an empty ring.

use std::collections::VecDeque;

use crate::config::MAX_TREND_SAMPLES;
use crate::probe::service::ServiceStatus;
use crate::trend::{RestartLoop, Sample, Trend};
use crate::units::{long_span, mib};

/// Deaths remembered per service, whatever the window (a crash loop at one
/// death a second must not grow the watch).
const MAX_DEATHS: usize = 64;

/// One run of a service's main process.
#[derive(Debug)]
pub(super) struct Instance {
    pub pid: Option<u32>,
    start_ticks: Option<u64>,
    /// When it started (seconds since the epoch): from its running time when
    /// known, else diagbot's first sample of it.
    pub started_secs: f64,
    /// Whether `started_secs` came from its running time (a seeded
    /// instance's is its first stored sample until a live one says better).
    started_known: bool,
    pub first_bytes: Option<f64>,
    pub samples: VecDeque<Sample>,
    /// Whether an earlier instance died while diagbot watched.
    pub after_restart: bool,
    /// Whether an OOM within the horizon has been said for this instance.
    pub projecting: bool,
    /// A process match missed it in the latest sample (see [`Life::step`]).
    missing: bool,
    /// The verdict as of the latest sample.
    pub trend: Option<Trend>,
}

impl Instance {
    pub fn new(pid: Option<u32>, start_ticks: Option<u64>, started_secs: f64) -> Self {
        Instance {
            pid,
            start_ticks,
            started_secs,
            started_known: false,
            first_bytes: None,
            samples: VecDeque::new(),
            after_restart: false,
            projecting: false,
            missing: false,
            trend: None,
        }
    }

    /// Whether `svc`'s main process is still this instance's.
    fn is(&self, svc: &ServiceStatus) -> bool {
        let same_start = match (self.start_ticks, svc.main_start_ticks) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.pid == svc.main_pid && same_start
    }

    /// Adds a sample and drops those older than the window; past the bound,
    /// every other sample goes, so the ring still spans the window at a coarser step.
    pub fn push(&mut self, at_secs: f64, bytes: f64, window: f64) {
        self.first_bytes.get_or_insert(bytes);
        let ring = &mut self.samples;
        ring.push_back(Sample { at_secs, bytes });
        while ring.front().is_some_and(|s| s.at_secs < at_secs - window) {
            ring.pop_front();
        }
        if ring.len() as u64 > MAX_TREND_SAMPLES {
            // Keep the newest, and every other one before it.
            let last = ring.len() - 1;
            let mut i = 0;
            ring.retain(|_| {
                let keep = (last - i) % 2 == 0;
                i += 1;
                keep
            });
        }
    }

    pub fn last_seen(&self) -> Option<f64> {
        self.samples.back().map(|s| s.at_secs)
    }

    pub fn latest_bytes(&self) -> Option<f64> {
        self.samples.back().map(|s| s.bytes)
    }
}

/// An instance that ended.
#[derive(Debug, Clone)]
pub(super) struct Death {
    /// Its last sample (seconds since the epoch).
    pub at_secs: f64,
    pub pid: Option<u32>,
    pub started_secs: f64,
    pub first_bytes: Option<f64>,
    pub last_bytes: Option<f64>,
    /// Its last verdict.
    pub trend: Option<Trend>,
    pub oom_killed: bool,
    /// The main PID of the instance that came after it, once one did.
    pub next_pid: Option<u32>,
}

impl Death {
    /// The slope it climbed at before it died, if its last verdict was a climb.
    fn climb(&self) -> Option<f64> {
        match self.trend {
            Some(Trend::Climbing { bytes_per_sec, .. }) => Some(bytes_per_sec),
            _ => None,
        }
    }
}

/// What changed in a service's instances with one sample.
pub(super) struct Step {
    pub ended: Option<Death>,
    /// A new instance began (not at the baseline).
    pub started: bool,
}

/// What the watch remembers of one service between samples.
#[derive(Debug, Default)]
pub(super) struct Life {
    pub current: Option<Instance>,
    /// The deaths within the restart-loop window, oldest first.
    pub deaths: VecDeque<Death>,
    /// The last death, kept after the window forgets it ("not running since").
    pub last_death: Option<Death>,
    pub restarts: Option<u64>,
    pub cgroup_oom_kills: Option<u64>,
    pub limit: Option<u64>,
    /// (time, error lines so far) over the burst window.
    pub errors: VecDeque<(f64, u64)>,
    pub in_burst: bool,
    /// Whether an instance died in the latest sample.
    pub died_now: bool,
    /// The restart loop as of the latest sample.
    pub restart_loop: Option<RestartLoop>,
    /// Instances started after a death, while diagbot watched: a process
    /// match's restarts, which systemd does not count.
    pub returns: u64,
}

impl Life {
    /// Takes in one sample of the service: ends the current instance when its
    /// process is gone or replaced (or systemd restarted it, or the OOM killer
    /// struck in its cgroup), starts the next one, and records its RSS.
    pub fn step(
        &mut self,
        svc: &ServiceStatus,
        at_secs: f64,
        restarted: bool,
        cgroup_killed: bool,
        window: f64,
    ) -> Step {
        let running = svc.main_pid.is_some() || !svc.pids.is_empty();
        let mut step = Step {
            ended: None,
            started: false,
        };
        // A process found by a match may miss one sample and still live: a
        // wrapper that execs (a pyenv shim, `sh -c`, `exec python …`) keeps
        // its PID and start time but not its name while it execs. So a
        // matched process is dead only when it is missed twice, or another
        // takes its place; systemd's MainPID has no such gap.
        if let (Some(instance), false, None) = (self.current.as_mut(), running, &svc.unit) {
            if !instance.missing {
                instance.missing = true;
                self.died_now = false;
                return step;
            }
        }
        if let Some(instance) = self.current.as_mut() {
            instance.missing = false;
        }
        let same = self.current.as_ref().is_some_and(|c| c.is(svc));
        // An instance seeded from the store started before its first stored
        // sample: the first live sample's running time says when (so a
        // restart of diagbot does not move a service's start).
        if let (Some(instance), true, Some(ran)) = (self.current.as_mut(), same, svc.running_secs) {
            if !instance.started_known {
                instance.started_secs = at_secs - ran;
                instance.started_known = true;
            }
        }
        let replaced = self.current.is_some() && (!running || !same || restarted);
        if let (Some(instance), true) = (self.current.as_mut(), same && cgroup_killed) {
            // The OOM killer took another of the service's processes and the
            // main one lives on: its memory fell, so the climb starts again.
            instance.samples.clear();
            instance.projecting = false;
        }
        if replaced {
            let oom =
                cgroup_killed || (restarted && svc.last_result.as_deref() == Some("oom-kill"));
            step.ended = self.end(at_secs, oom);
        }
        if running && self.current.is_none() {
            let started_secs = svc.running_secs.map_or(at_secs, |r| at_secs - r);
            let mut instance = Instance::new(svc.main_pid, svc.main_start_ticks, started_secs);
            instance.started_known = svc.running_secs.is_some();
            instance.after_restart = self.last_death.is_some();
            if instance.after_restart {
                self.returns += 1;
                for death in self
                    .deaths
                    .iter_mut()
                    .rev()
                    .take(1)
                    .chain(self.last_death.as_mut())
                {
                    death.next_pid = death.next_pid.or(svc.main_pid);
                }
            }
            self.current = Some(instance);
            step.started = true;
        }
        if let (Some(instance), Some(rss)) = (self.current.as_mut(), svc.rss_bytes) {
            instance.push(at_secs, rss as f64, window);
        }
        self.died_now = step.ended.is_some();
        step
    }

    /// Ends the current instance (its last sample, or `at_secs`, is its death).
    pub fn end(&mut self, at_secs: f64, oom_killed: bool) -> Option<Death> {
        let old = self.current.take()?;
        let death = Death {
            at_secs: old.last_seen().unwrap_or(at_secs),
            pid: old.pid,
            started_secs: old.started_secs,
            first_bytes: old.first_bytes,
            last_bytes: old.latest_bytes(),
            trend: old.trend,
            oom_killed,
            next_pid: None,
        };
        self.deaths.push_back(death.clone());
        if self.deaths.len() > MAX_DEATHS {
            self.deaths.pop_front();
        }
        self.last_death = Some(death.clone());
        self.died_now = true;
        Some(death)
    }

    /// Whether the current instance is `pid` and a process match just missed it.
    pub fn missing(&self, pid: u32) -> bool {
        self.current
            .as_ref()
            .is_some_and(|i| i.missing && i.pid == Some(pid))
    }

    /// Marks the death of `pid` as an OOM kill (the kernel log named it).
    pub fn killed(&mut self, pid: u32) {
        for death in self.deaths.iter_mut().chain(self.last_death.as_mut()) {
            if death.pid == Some(pid) {
                death.oom_killed = true;
            }
        }
    }

    /// The main PID of the instance that followed the death of `pid`.
    pub fn returned_after(&self, pid: u32) -> Option<u32> {
        self.deaths
            .iter()
            .chain(self.last_death.as_ref())
            .rev()
            .find(|d| d.pid == Some(pid))
            .and_then(|d| d.next_pid)
    }

    /// Marks as an OOM kill the death an OOM kill seen at `at_secs` was of:
    /// the last one seen alive before it.
    pub fn killed_by(&mut self, at_secs: f64) {
        let Some(death) = self.deaths.iter_mut().rev().find(|d| d.at_secs <= at_secs) else {
            return;
        };
        death.oom_killed = true;
        let (pid, at) = (death.pid, death.at_secs);
        if let Some(last) = self
            .last_death
            .as_mut()
            .filter(|l| l.pid == pid && l.at_secs == at)
        {
            last.oom_killed = true;
        }
    }

    /// Forgets deaths older than the window, and says whether the service is
    /// in a restart loop: more than `threshold` deaths within it.
    pub fn update_loop(&mut self, now: f64, window: f64, threshold: u64) {
        while self
            .deaths
            .front()
            .is_some_and(|d| d.at_secs < now - window)
        {
            self.deaths.pop_front();
        }
        self.restart_loop =
            (self.deaths.len() as u64 > threshold).then(|| describe_loop(&self.deaths));
    }
}

/// "killed 4 times in 3 h, each time after climbing ~6.4 MiB/min from ~143 MiB
/// to ~525 MiB (OOM kill each time; pids 908, 1207, 1302, 1400)".
fn describe_loop(deaths: &VecDeque<Death>) -> RestartLoop {
    let n = deaths.len();
    let kills = deaths.iter().filter(|d| d.oom_killed).count();
    // From the first death to the last: the span the deaths took, which
    // does not grow while the service stays down.
    let over_secs = match (deaths.front(), deaths.back()) {
        (Some(first), Some(last)) => (last.at_secs - first.at_secs).max(0.0),
        _ => 0.0,
    };
    let verb = if kills == n { "killed" } else { "died" };
    let mut text = format!("{verb} {n} times in {}", long_span(over_secs));
    let climbed: Vec<&Death> = deaths.iter().filter(|d| d.climb().is_some()).collect();
    let median_of = |f: &dyn Fn(&Death) -> Option<f64>| {
        let mut v: Vec<f64> = climbed.iter().filter_map(|d| f(d)).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let climb = median_of(&|d| d.climb());
    if let (Some(rate), Some(from), Some(to)) = (
        climb,
        median_of(&|d| d.first_bytes),
        median_of(&|d| d.last_bytes),
    ) {
        let how = if climbed.len() == n {
            "each time".to_string()
        } else {
            format!("{} of those times", climbed.len())
        };
        text.push_str(&format!(
            ", {how} after climbing ~{:.1} MiB/min from ~{:.0} MiB to ~{:.0} MiB",
            mib(rate * 60.0),
            mib(from),
            mib(to)
        ));
    }
    let cause = match kills {
        k if k == n => "OOM kill each time".to_string(),
        0 => "not an OOM kill any time".to_string(),
        k => format!("OOM kill {k} of {n} times"),
    };
    let mut pids: Vec<String> = deaths
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|d| d.pid.map_or("?".into(), |p| p.to_string()))
        .collect();
    if n > 8 {
        pids.insert(0, "…".into());
    }
    text.push_str(&format!(" ({cause}; pids {})", pids.join(", ")));
    RestartLoop {
        deaths: n,
        oom_kills: kills,
        over_secs,
        climb_bytes_per_sec: climb,
        text,
    }
}
