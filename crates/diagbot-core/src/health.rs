//! Watching over time: the daemon hands each sample of the host and its
//! services to a [`Watch`], which keeps a bounded ring of RSS samples per
//! service, computes their trends, and says what changed since the last
//! sample: an OOM kill, a restart, an OOM projected within the horizon, an
//! error burst in a service's logs, or diagbot's own cache past its thresholds.
//!
//! The first sample only sets the baseline: counters that were already up when
//! diagbot started are not news.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::cache::CacheStats;
use crate::config::{HealthSettings, MAX_TREND_SAMPLES};
use crate::probe::oom::OomKill;
use crate::probe::service::{ServiceStatus, TrendReport};
use crate::trend::{analyse_with, span, Sample, Trend};

/// The name the host's own trend goes by.
pub const HOST: &str = "host";

/// One round of sampling.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Seconds since the epoch.
    pub at_secs: f64,
    pub host_total_bytes: Option<u64>,
    pub host_available_bytes: Option<u64>,
    /// `oom_kill` in `/proc/vmstat`.
    pub oom_kills: Option<u64>,
    pub services: Vec<ServiceStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The OOM killer struck; `victim` when a log named it.
    OomKill {
        service: Option<String>,
        victim: Option<OomKill>,
    },
    /// systemd restarted a service.
    Restart {
        service: String,
        restarts: u64,
        last_result: Option<String>,
    },
    /// At this rate a service (or the host, `service: None`) runs out within the horizon.
    ProjectedOom {
        service: Option<String>,
        in_secs: f64,
        text: String,
    },
    /// More error lines than the threshold in a service's logs within the window.
    ErrorBurst {
        service: String,
        lines: u64,
        window_secs: f64,
        last_line: Option<String>,
    },
    /// diagbot's own cache is past its thresholds.
    CachePressure {
        entries: u64,
        bytes: u64,
        budget_bytes: u64,
    },
}

impl Event {
    /// A short name for metrics and alert keys.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::OomKill { .. } => "oom_kill",
            Event::Restart { .. } => "restart",
            Event::ProjectedOom { .. } => "projected_oom",
            Event::ErrorBurst { .. } => "error_burst",
            Event::CachePressure { .. } => "cache_pressure",
        }
    }

    /// What makes two events "the same alert": the kind and whom it is about.
    pub fn key(&self) -> String {
        let whom = match self {
            Event::OomKill { service, .. } | Event::ProjectedOom { service, .. } => {
                service.clone().unwrap_or_else(|| HOST.into())
            }
            Event::Restart { service, .. } | Event::ErrorBurst { service, .. } => service.clone(),
            Event::CachePressure { .. } => "diagbot".into(),
        };
        format!("{}:{whom}", self.kind())
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        match self {
            Event::OomKill { service, victim } => {
                let whose = service
                    .as_deref()
                    .map(|s| format!(" in {s}"))
                    .unwrap_or_default();
                match victim {
                    Some(v) => format!(
                        "OOM kill{whose}: {} (pid {}) killed{}",
                        v.process.as_deref().unwrap_or("a process"),
                        v.pid.map_or("unknown".into(), |p| p.to_string()),
                        v.rss_bytes
                            .map(|r| format!(" at {:.0} MiB RSS", mib(r)))
                            .unwrap_or_default()
                    ),
                    None => {
                        format!("OOM kill{whose}: the victim is not in any log diagbot can read")
                    }
                }
            }
            Event::Restart {
                service,
                restarts,
                last_result,
            } => format!(
                "{service} restarted (restart {restarts}{})",
                last_result
                    .as_deref()
                    .map(|r| format!(", last result {r}"))
                    .unwrap_or_default()
            ),
            Event::ProjectedOom { service, text, .. } => format!(
                "{} may run out of memory: {text}",
                service.as_deref().unwrap_or("the host")
            ),
            Event::ErrorBurst {
                service,
                lines,
                window_secs,
                ..
            } => format!(
                "{service}: {lines} error lines in the last {}",
                crate::trend::minutes(*window_secs)
            ),
            Event::CachePressure {
                entries,
                bytes,
                budget_bytes,
            } => format!(
                "diagbot's cache holds {entries} answers, {:.1} of {:.1} MiB",
                *bytes as f64 / (1 << 20) as f64,
                *budget_bytes as f64 / (1 << 20) as f64
            ),
        }
    }
}

/// What the watch remembers of one service between samples.
#[derive(Debug, Default)]
struct Seen {
    samples: VecDeque<Sample>,
    restarts: Option<u64>,
    cgroup_oom_kills: Option<u64>,
    projecting: bool,
    limit: Option<u64>,
    /// (time, error lines so far) over the burst window.
    errors: VecDeque<(f64, u64)>,
    in_burst: bool,
    /// The trend as of the latest sample.
    trend: Option<TrendReport>,
}

#[derive(Debug, Default)]
pub struct Watch {
    settings: HealthSettings,
    services: BTreeMap<String, Seen>,
    host: Seen,
    oom_kills: Option<u64>,
    /// Whether the first sample (the baseline) has been taken.
    started: bool,
    cache_pressed: bool,
}

impl Watch {
    pub fn new(settings: HealthSettings) -> Self {
        Watch {
            settings,
            ..Watch::default()
        }
    }

    /// New settings (a reload); samples are kept.
    pub fn set_settings(&mut self, settings: HealthSettings) {
        self.settings = settings;
    }

    /// Takes in one round of samples and returns what changed since the last.
    pub fn record(&mut self, obs: &Observation) -> Vec<Event> {
        let mut events = Vec::new();
        let window = self.settings.trend_window.as_secs_f64();
        // Services that left the config are forgotten.
        self.services
            .retain(|name, _| obs.services.iter().any(|s| &s.name == name));
        let mut attributed = 0;
        for svc in &obs.services {
            let seen = self.services.entry(svc.name.clone()).or_default();
            if let Some(rss) = svc.rss_bytes {
                push(&mut seen.samples, obs.at_secs, rss as f64, window);
            }
            seen.limit = svc.memory_limit_bytes;
            if let (Some(before), Some(now)) = (seen.restarts, svc.restarts) {
                if now > before && self.started {
                    events.push(Event::Restart {
                        service: svc.name.clone(),
                        restarts: now,
                        last_result: svc.last_result.clone(),
                    });
                }
            }
            seen.restarts = svc.restarts.or(seen.restarts);
            let cgroup_kills = svc.cgroup.as_ref().and_then(|c| c.oom_kills);
            if let (Some(before), Some(now)) = (seen.cgroup_oom_kills, cgroup_kills) {
                let new = now.saturating_sub(before);
                if self.started {
                    attributed += new;
                    for _ in 0..new {
                        events.push(Event::OomKill {
                            service: Some(svc.name.clone()),
                            victim: None,
                        });
                    }
                }
            }
            seen.cgroup_oom_kills = cgroup_kills.or(seen.cgroup_oom_kills);
        }
        if let (Some(before), Some(now)) = (self.oom_kills, obs.oom_kills) {
            // Kills the services' cgroups did not account for.
            let rest = now.saturating_sub(before).saturating_sub(attributed);
            if self.started {
                for _ in 0..rest {
                    events.push(Event::OomKill {
                        service: None,
                        victim: None,
                    });
                }
            }
        }
        self.oom_kills = obs.oom_kills.or(self.oom_kills);
        if let (Some(total), Some(available)) = (obs.host_total_bytes, obs.host_available_bytes) {
            push(
                &mut self.host.samples,
                obs.at_secs,
                total.saturating_sub(available) as f64,
                window,
            );
            self.host.limit = Some(total);
        }
        let horizon = self.settings.oom_horizon.as_secs_f64();
        let min_span = self.settings.trend_min_span;
        let mut check = |name: Option<&str>, seen: &mut Seen| {
            let report = report(&seen.samples, seen.limit, min_span);
            let eta = match report.trend {
                Trend::Climbing {
                    limit_in_secs: Some(eta),
                    ..
                } if eta <= horizon => Some(eta),
                _ => None,
            };
            if let Some(in_secs) = eta.filter(|_| !seen.projecting) {
                events.push(Event::ProjectedOom {
                    service: name.map(str::to_string),
                    in_secs,
                    text: report.text.clone(),
                });
            }
            seen.projecting = eta.is_some();
            seen.trend = Some(report);
        };
        for (name, seen) in self.services.iter_mut() {
            check(Some(name), seen);
        }
        check(None, &mut self.host);
        self.started = true;
        events
    }

    /// Takes in the count of error lines in service `name`'s logs so far (a
    /// running total, read incrementally); a burst is when more than the
    /// threshold came within the window. Said once per burst.
    pub fn record_errors(
        &mut self,
        name: &str,
        at_secs: f64,
        total: u64,
        last_line: Option<String>,
    ) -> Option<Event> {
        let threshold = self.settings.error_burst_lines;
        let window = self.settings.error_burst_window.as_secs_f64();
        let seen = self.services.entry(name.to_string()).or_default();
        // A rotated-away file lowers the total: start counting again from there.
        if seen.errors.back().is_some_and(|&(_, t)| total < t) {
            seen.errors.clear();
        }
        seen.errors.push_back((at_secs, total));
        while seen.errors.len() > 2 && seen.errors[1].0 <= at_secs - window {
            seen.errors.pop_front();
        }
        let oldest = seen.errors.front().map_or(total, |&(_, t)| t);
        let lines = total - oldest;
        let burst = threshold > 0 && lines > threshold;
        let event = (burst && !seen.in_burst).then(|| Event::ErrorBurst {
            service: name.to_string(),
            lines,
            window_secs: window,
            last_line,
        });
        seen.in_burst = burst;
        event
    }

    /// Whether diagbot's cache just went past its thresholds (`pressed`, as
    /// the cache judges it). Said once per crossing.
    pub fn record_cache(&mut self, stats: &CacheStats, pressed: bool) -> Option<Event> {
        let event = (pressed && !self.cache_pressed).then_some(Event::CachePressure {
            entries: stats.entries,
            bytes: stats.bytes,
            budget_bytes: stats.budget_bytes,
        });
        self.cache_pressed = pressed;
        event
    }

    /// The memory trend of service `name` (or [`HOST`]) as of the latest sample.
    pub fn trend(&self, name: &str) -> Option<TrendReport> {
        let seen = if name == HOST {
            &self.host
        } else {
            self.services.get(name)?
        };
        seen.trend.clone()
    }

    /// The latest slope of each service, bytes per second (0 without a verdict).
    pub fn slopes(&self) -> Vec<(String, f64)> {
        self.services
            .iter()
            .map(|(name, seen)| {
                let slope = match seen.trend.as_ref().map(|t| &t.trend) {
                    Some(
                        Trend::Flat { bytes_per_sec }
                        | Trend::Falling { bytes_per_sec }
                        | Trend::Climbing { bytes_per_sec, .. },
                    ) => *bytes_per_sec,
                    _ => 0.0,
                };
                (name.clone(), slope)
            })
            .collect()
    }
}

/// Adds a sample and drops those older than the window; past the bound, every
/// other sample goes, so the ring still spans the window at a coarser step.
fn push(ring: &mut VecDeque<Sample>, at_secs: f64, bytes: f64, window: f64) {
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

fn report(
    samples: &VecDeque<Sample>,
    limit: Option<u64>,
    min_span: std::time::Duration,
) -> TrendReport {
    let samples: Vec<Sample> = samples.iter().copied().collect();
    let limit_f = limit.map(|l| l as f64);
    let trend = analyse_with(&samples, limit_f, min_span);
    let span_secs = span(&samples);
    TrendReport {
        text: trend.describe(span_secs, limit_f),
        trend,
        samples: samples.len(),
        span_secs,
        limit_bytes: limit,
    }
}

/// Gives the unnamed OOM events their victims from `kills` (newest kills
/// last): a service's event takes that service's kill, a host event any kill.
pub fn name_victims(events: &mut [Event], kills: &[OomKill]) {
    let mut unused: Vec<&OomKill> = kills.iter().filter(|k| k.pid.is_some()).collect();
    // The newest kills are the ones the new counts are about.
    for event in events.iter_mut().rev() {
        let Event::OomKill { service, victim } = event else {
            continue;
        };
        if victim.is_some() {
            continue;
        }
        let pick = unused.iter().rposition(|k| match service {
            Some(s) => k.service.as_deref() == Some(s.as_str()),
            None => true,
        });
        if let Some(i) = pick {
            let kill = unused.remove(i);
            if service.is_none() {
                service.clone_from(&kill.service);
            }
            *victim = Some(kill.clone());
        }
    }
}

#[cfg(test)]
mod tests;
