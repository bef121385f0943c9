//! Watching over time: the daemon hands each sample of the host and its
//! services to a [`Watch`], which follows each service's process instances
//! (see its `life` module), computes the memory trend of the current one, and says what
//! changed since the last sample: an OOM kill, a restart, a process gone or
//! back, an OOM projected within the horizon, a restart loop, an error burst in
//! a service's logs, or diagbot's own cache past its thresholds.
//!
//! A sample is taken in two steps: [`Watch::record`] takes the observation and
//! says what it shows; when that includes a death or an OOM kill, the caller
//! reads the kernel log's kills (slow: a file or a command, so not under the
//! watch's lock) and hands them to [`Watch::settle`], which names victims,
//! tells OOM kills from exits, reports restart loops and projections, and
//! brings the trends up to date.
//!
//! The first sample only sets the baseline: counters that were already up when
//! diagbot started are not news.

mod event;
mod life;
mod seed;

use std::collections::BTreeMap;

use chrono::{Local, TimeZone};

pub use event::Event;
use life::{Instance, Life};
pub use seed::{PastKill, PastSample, PastService};

use crate::cache::CacheStats;
use crate::config::HealthSettings;
use crate::probe::oom::OomKill;
use crate::probe::service::ServiceStatus;
use crate::trend::{analyse_with, span, InstanceReport, Sample, Trend, TrendReport, MIN_SAMPLES};
use crate::units::{mib, minutes};

/// The name the host's own trend goes by.
pub const HOST: &str = "host";

/// One round of sampling.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Seconds since the epoch.
    pub at_secs: f64,
    /// The host's memory (`MemTotal`); `None` when it could not be read.
    pub host_total_bytes: Option<u64>,
    /// The host's available memory; the host's trend needs it and the total.
    pub host_available_bytes: Option<u64>,
    /// `oom_kill` in `/proc/vmstat`.
    pub oom_kills: Option<u64>,
    /// Every watched service as probed this round; one left out is forgotten.
    pub services: Vec<ServiceStatus>,
}

/// What the watch remembers between samples: each service's instances and
/// deaths, the host's used memory, the latest trends, and what was already
/// said. Fed by [`Watch::record`] then [`Watch::settle`], once per sample.
#[derive(Debug)]
pub struct Watch {
    settings: HealthSettings,
    services: BTreeMap<String, Life>,
    /// The host's used memory: one instance that never ends.
    host: Instance,
    host_limit: Option<u64>,
    host_trend: Option<TrendReport>,
    /// Each service's trend as of the latest settled sample.
    trends: BTreeMap<String, TrendReport>,
    oom_kills: Option<u64>,
    /// Whether the first sample (the baseline) has been taken.
    started: bool,
    /// The latest sample's time.
    now: f64,
    cache_pressed: bool,
}

impl Default for Watch {
    fn default() -> Self {
        Watch::new(HealthSettings::default())
    }
}

impl Watch {
    /// A watch with no samples: the first [`Watch::record`] sets the baseline.
    pub fn new(settings: HealthSettings) -> Self {
        Watch {
            settings,
            services: BTreeMap::new(),
            host: Instance::new(None, None, 0.0),
            host_limit: None,
            host_trend: None,
            trends: BTreeMap::new(),
            oom_kills: None,
            started: false,
            now: 0.0,
            cache_pressed: false,
        }
    }

    /// New settings (a reload); samples are kept.
    pub fn set_settings(&mut self, settings: HealthSettings) {
        self.settings = settings;
    }

    /// Takes in one round of samples and returns what changed since the last;
    /// [`Watch::settle`] must follow (with the kernel log's kills when
    /// [`needs_kills`] says so).
    pub fn record(&mut self, obs: &Observation) -> Vec<Event> {
        let mut events = Vec::new();
        let window = self.settings.trend_window.as_secs_f64();
        self.now = obs.at_secs;
        // Services that left the config are forgotten.
        self.services
            .retain(|name, _| obs.services.iter().any(|s| &s.name == name));
        self.trends
            .retain(|name, _| obs.services.iter().any(|s| &s.name == name));
        let watching = self.started;
        let mut attributed = 0;
        for svc in &obs.services {
            let life = self.services.entry(svc.name.clone()).or_default();
            life.limit = svc.memory_limit_bytes;
            let restarted = rose(&mut life.restarts, svc.restarts) > 0;
            let killed = rose(
                &mut life.cgroup_oom_kills,
                svc.cgroup.as_ref().and_then(|c| c.oom_kills),
            );
            if watching && restarted {
                events.push(Event::Restart {
                    service: svc.name.clone(),
                    restarts: svc.restarts.unwrap_or_default(),
                    last_result: svc.last_result.clone(),
                    pid: None,
                });
            }
            if watching {
                attributed += killed;
                for _ in 0..killed {
                    events.push(Event::OomKill {
                        service: Some(svc.name.clone()),
                        victim: None,
                        ran_secs: None,
                    });
                }
            }
            let step = life.step(svc, obs.at_secs, restarted, killed > 0, window);
            if !watching {
                continue;
            }
            if let Some(death) = step.ended {
                events.push(Event::Exited {
                    service: svc.name.clone(),
                    pid: death.pid,
                    last_rss_bytes: death.last_bytes.map(|b| b as u64),
                    ran_secs: (death.at_secs - death.started_secs).max(0.0),
                });
            }
            if step.started {
                events.push(Event::Started {
                    service: svc.name.clone(),
                    pid: svc.main_pid,
                    rss_bytes: svc.rss_bytes,
                    after_secs: life.last_death.as_ref().map(|d| obs.at_secs - d.at_secs),
                });
            }
        }
        // Kills the services' cgroups did not account for.
        let kills = rose(&mut self.oom_kills, obs.oom_kills);
        if watching {
            for _ in 0..kills.saturating_sub(attributed) {
                events.push(Event::OomKill {
                    service: None,
                    victim: None,
                    ran_secs: None,
                });
            }
        }
        if let (Some(total), Some(available)) = (obs.host_total_bytes, obs.host_available_bytes) {
            self.host
                .push(obs.at_secs, total.saturating_sub(available) as f64, window);
            self.host_limit = Some(total);
        }
        self.started = true;
        events
    }

    /// Finishes a sample: names OOM victims from `kills` (the kernel log's, as
    /// [`needs_kills`] asked), turns an exit the OOM killer caused into an OOM
    /// kill, folds a process's start into systemd's restart of it, reports
    /// restart loops, and brings trends and projections up to date.
    pub fn settle(&mut self, events: &mut Vec<Event>, kills: &[OomKill]) {
        name_victims(events, kills);
        self.explain_missing(events);
        self.explain_exits(events, kills);
        fold_starts_into_restarts(events);
        let now = self.now;
        let loop_window = self.settings.restart_loop_window.as_secs_f64();
        for (name, life) in self.services.iter_mut() {
            let died_now = std::mem::take(&mut life.died_now);
            life.update_loop(now, loop_window, self.settings.restart_loop);
            if let (true, Some(found)) = (died_now, &life.restart_loop) {
                events.push(Event::RestartLoop {
                    service: name.clone(),
                    deaths: found.deaths,
                    text: found.text.clone(),
                    explained_by: None,
                });
            }
        }
        let horizon = self.settings.oom_horizon.as_secs_f64();
        for (name, life) in self.services.iter_mut() {
            let report = service_report(&self.settings, life, now);
            if let Some(instance) = life.current.as_mut() {
                project(Some(name), instance, &report, horizon, events);
            }
            self.trends.insert(name.clone(), report);
        }
        let host = instance_report(&self.settings, &mut self.host, self.host_limit);
        project(None, &mut self.host, &host, horizon, events);
        self.host_trend = Some(host);
    }

    /// A named OOM kill of a matched process that the latest sample missed:
    /// it is not execing, it is dead, and the kill is that service's.
    fn explain_missing(&mut self, events: &mut [Event]) {
        let now = self.now;
        for event in events.iter_mut() {
            let Event::OomKill {
                service,
                victim: Some(victim),
                ran_secs,
            } = event
            else {
                continue;
            };
            let Some(pid) = victim.pid else { continue };
            let Some((name, life)) = self.services.iter_mut().find(|(_, l)| l.missing(pid)) else {
                continue;
            };
            if let Some(death) = life.end(now, true) {
                *service = Some(name.clone());
                *ran_secs = Some((death.at_secs - death.started_secs).max(0.0));
            }
        }
    }

    /// An `Exited` event whose PID the kernel log shows the OOM killer took is
    /// an OOM kill; one that a counted kill of its service already stands
    /// for gives that event its running time.
    fn explain_exits(&mut self, events: &mut Vec<Event>, kills: &[OomKill]) {
        let mut i = 0;
        while i < events.len() {
            let Event::Exited {
                service,
                pid: Some(pid),
                ran_secs,
                ..
            } = &events[i]
            else {
                i += 1;
                continue;
            };
            let (service, pid, ran) = (service.clone(), *pid, *ran_secs);
            // A counted kill of this process (the host's count may have named
            // it without knowing its service), or an unnamed one of its service.
            let counted = events.iter_mut().find_map(|e| match e {
                Event::OomKill {
                    service: whose,
                    victim,
                    ran_secs,
                } if ran_secs.is_none()
                    && match victim.as_ref().map(|v| v.pid) {
                        Some(victim_pid) => victim_pid == Some(pid),
                        None => whose.as_deref() == Some(service.as_str()),
                    } =>
                {
                    *whose = Some(service.clone());
                    *ran_secs = Some(ran);
                    Some(victim.is_some())
                }
                _ => None,
            });
            let logged = kills.iter().rev().find(|k| k.pid == Some(pid));
            let life = self.services.get_mut(&service);
            match (counted, logged) {
                // The counted kill names this very process: the exit says nothing more.
                (Some(true), _) => {
                    events.remove(i);
                    continue;
                }
                // A kill only the kernel log tells of.
                (None, Some(kill)) => {
                    if let Some(life) = life {
                        life.killed(pid);
                    }
                    events[i] = Event::OomKill {
                        service: Some(service),
                        victim: Some(kill.clone()),
                        ran_secs: Some(ran),
                    };
                }
                _ => {}
            }
            i += 1;
        }
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
            top_groups: Vec::new(),
            more_groups: 0,
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
        if name == HOST {
            return self.host_trend.clone();
        }
        self.trends.get(name).cloned()
    }

    /// How many times service `name` came back after a death while diagbot
    /// watched (and in the samples its store kept): a process match's
    /// restarts. `None` for a service it does not know.
    pub fn returns(&self, name: &str) -> Option<u64> {
        self.services.get(name).map(|life| life.returns)
    }

    /// The PID service `name` came back as after its process `pid` died.
    pub fn returned_after(&self, name: &str, pid: u32) -> Option<u32> {
        self.services.get(name)?.returned_after(pid)
    }

    /// The memory trend of service `name` for a status probed now, whose
    /// main process is `live_pid`: when that is not the process the latest
    /// sample saw (it was restarted in between), the trend of the one before
    /// is not this one's, and the report says so instead.
    pub fn trend_now(&self, name: &str, live_pid: Option<u32>) -> Option<TrendReport> {
        let report = self.trend(name)?;
        let sampled = report
            .instance
            .as_ref()
            .filter(|i| i.running)
            .and_then(|i| i.pid);
        let text = match (sampled, live_pid) {
            (Some(then), Some(now)) if then != now => format!(
                "pid {now} is new since the last sample (pid {then} is gone); its trend starts with the next samples"
            ),
            (None, Some(now)) if report.instance.as_ref().is_some_and(|i| !i.running) => {
                format!("running again as pid {now} since the last sample; its trend starts with the next samples")
            }
            _ => return Some(report),
        };
        Some(TrendReport {
            trend: no_samples(&self.settings),
            samples: 0,
            span_secs: 0.0,
            latest_bytes: None,
            instance: Some(InstanceReport::new(live_pid, true, self.now, true)),
            text,
            ..report
        })
    }

    /// When service `name`'s running instance started (seconds since the
    /// epoch): fixed for the instance's life, so a change means a new instance.
    pub fn started_secs(&self, name: &str) -> Option<f64> {
        self.services
            .get(name)
            .and_then(|life| life.current.as_ref())
            .map(|instance| instance.started_secs)
    }

    /// The slope of each running service's current instance, bytes per
    /// second (0 without a verdict, or when it is not running).
    pub fn slopes(&self) -> Vec<(String, f64)> {
        self.trends
            .iter()
            .map(|(name, report)| {
                let live = report.instance.as_ref().is_some_and(|i| i.running);
                let slope = report.trend.bytes_per_sec().filter(|_| live);
                (name.clone(), slope.unwrap_or(0.0))
            })
            .collect()
    }
}

/// Whether `events` need the kernel log's kills to be settled: an OOM kill to
/// name, or a process gone that the OOM killer may have taken.
pub fn needs_kills(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::OomKill { victim: None, .. } | Event::Exited { pid: Some(_), .. }
        )
    })
}

/// How much a counter rose since `before` (0 at the first reading, or when it
/// went down: a reboot or a reset unit), remembering the new reading.
fn rose(before: &mut Option<u64>, now: Option<u64>) -> u64 {
    let up = match (*before, now) {
        (Some(b), Some(n)) => n.saturating_sub(b),
        _ => 0,
    };
    if now.is_some() {
        *before = now;
    }
    up
}

/// A process that systemd restarted starts a new instance too: one event, the
/// restart, with the new PID.
fn fold_starts_into_restarts(events: &mut Vec<Event>) {
    let started: Vec<(String, Option<u32>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Started { service, pid, .. } => Some((service.clone(), *pid)),
            _ => None,
        })
        .collect();
    let mut folded = Vec::new();
    for event in events.iter_mut() {
        if let Event::Restart { service, pid, .. } = event {
            if let Some((_, new_pid)) = started.iter().find(|(s, _)| s == service) {
                *pid = *new_pid;
                folded.push(service.clone());
            }
        }
    }
    events.retain(|e| !matches!(e, Event::Started { service, .. } if folded.contains(service)));
}

/// Says an OOM is projected within the horizon, once per instance and climb.
fn project(
    name: Option<&str>,
    instance: &mut Instance,
    report: &TrendReport,
    horizon: f64,
    events: &mut Vec<Event>,
) {
    let eta = match report.trend {
        Trend::Climbing {
            limit_in_secs: Some(eta),
            ..
        } if eta <= horizon => Some(eta),
        _ => None,
    };
    if let Some(in_secs) = eta.filter(|_| !instance.projecting) {
        events.push(Event::ProjectedOom {
            service: name.map(str::to_string),
            in_secs,
            text: report.text.clone(),
            explained_by: None,
        });
    }
    instance.projecting = eta.is_some();
}

/// A service's report: its current instance's trend, or, when it is not
/// running, when it stopped and how its last instance went.
fn service_report(settings: &HealthSettings, life: &mut Life, now: f64) -> TrendReport {
    let mut report = match (life.current.as_mut(), &life.last_death) {
        (Some(instance), _) => {
            let mut report = instance_report(settings, instance, life.limit);
            let since = instance.started_secs;
            report.instance = Some(InstanceReport::new(
                instance.pid,
                true,
                since,
                instance.after_restart,
            ));
            if let (Trend::TooFewSamples { .. }, true) = (&report.trend, instance.after_restart) {
                report.text = format!(
                    "restarted {} ago{}; {}",
                    minutes((now - instance.started_secs).max(0.0)),
                    instance
                        .pid
                        .map(|p| format!(" (pid {p})"))
                        .unwrap_or_default(),
                    samples_to_go(settings, &report)
                );
            }
            report
        }
        (None, Some(death)) => {
            let last = match death.trend.as_ref().and_then(Trend::bytes_per_sec) {
                Some(rate) if matches!(death.trend, Some(Trend::Climbing { .. })) => {
                    format!("last instance climbed +{:.1} MiB/min", mib(rate * 60.0))
                }
                Some(_) => "last instance did not climb".to_string(),
                None => "too short for a trend".to_string(),
            };
            TrendReport {
                trend: death.trend.clone().unwrap_or_else(|| no_samples(settings)),
                samples: 0,
                span_secs: 0.0,
                limit_bytes: life.limit,
                latest_bytes: None,
                instance: Some(InstanceReport::new(death.pid, false, death.at_secs, false)),
                restart_loop: None,
                explained_by: None,
                text: format!("not running since {} ({last})", clock(death.at_secs)),
            }
        }
        (None, None) => TrendReport {
            trend: no_samples(settings),
            samples: 0,
            span_secs: 0.0,
            limit_bytes: life.limit,
            latest_bytes: None,
            instance: None,
            restart_loop: None,
            explained_by: None,
            text: "not running".into(),
        },
    };
    report.restart_loop.clone_from(&life.restart_loop);
    report
}

/// The verdict with no samples at all.
fn no_samples(settings: &HealthSettings) -> Trend {
    Trend::TooFewSamples {
        samples: 0,
        span_secs: 0.0,
        need_span_secs: settings.trend_min_span.as_secs_f64(),
    }
}

/// The trend of one instance's samples (the caller says which instance it is).
fn instance_report(
    settings: &HealthSettings,
    instance: &mut Instance,
    limit: Option<u64>,
) -> TrendReport {
    let samples: Vec<Sample> = instance.samples.iter().copied().collect();
    let limit_f = limit.map(|l| l as f64);
    let latest = instance.latest_bytes();
    let trend = analyse_with(&samples, limit_f, settings.trend_min_span);
    let span_secs = span(&samples);
    instance.trend = Some(trend.clone());
    let mut report = TrendReport {
        text: trend.describe(span_secs, limit_f, latest),
        trend,
        samples: samples.len(),
        span_secs,
        limit_bytes: limit,
        latest_bytes: latest.map(|b| b as u64),
        instance: None,
        restart_loop: None,
        explained_by: None,
    };
    if matches!(report.trend, Trend::TooFewSamples { .. }) && !instance.after_restart {
        report.text = format!("{}; {}", report.text, samples_to_go(settings, &report));
    }
    report
}

/// "trend after 17 more samples": how many more samples, at the sampling
/// interval, before there are enough over a long enough span.
fn samples_to_go(settings: &HealthSettings, report: &TrendReport) -> String {
    let by_count = MIN_SAMPLES.saturating_sub(report.samples);
    let short = (settings.trend_min_span.as_secs_f64() - report.span_secs).max(0.0);
    let by_span = (short / settings.sample_interval.as_secs_f64().max(0.001)).ceil() as usize;
    match by_count.max(by_span).max(1) {
        1 => "trend after 1 more sample".to_string(),
        n => format!("trend after {n} more samples"),
    }
}

/// "10:42", local time.
fn clock(at_secs: f64) -> String {
    Local.timestamp_opt(at_secs as i64, 0).single().map_or_else(
        || format!("{at_secs:.0} s"),
        |t| t.format("%H:%M").to_string(),
    )
}

/// Gives the unnamed OOM events their victims from `kills` (newest kills
/// last): a service's event takes that service's kill, a host event any kill.
pub fn name_victims(events: &mut [Event], kills: &[OomKill]) {
    let mut unused: Vec<&OomKill> = kills.iter().filter(|k| k.pid.is_some()).collect();
    // The newest kills are the ones the new counts are about.
    for event in events.iter_mut().rev() {
        let Event::OomKill {
            service, victim, ..
        } = event
        else {
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
