//! What the watch says happened: each event names its kind, whom it is about
//! (the key that makes two alerts "the same") and a line for a person.

use serde::Serialize;

use super::HOST;
use crate::probe::oom::OomKill;
use crate::units::{long_span, mib, minutes};

/// One thing the watch noticed, as alerts, logs and metrics tell it.
/// Serialised with its [`kind`](Event::kind) in `kind`; times in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The OOM killer struck; `victim` when a log named it, `ran_secs` when
    /// diagbot saw the victim's instance start.
    OomKill {
        /// The service the victim belonged to; `None` when no service could be named.
        service: Option<String>,
        /// The kernel log's record of the kill.
        victim: Option<OomKill>,
        /// How long the victim's instance had run.
        ran_secs: Option<f64>,
    },
    /// systemd restarted a service; `pid` is the new main process.
    Restart {
        /// The service, by its configured name.
        service: String,
        /// systemd's restart counter (`NRestarts`) after this restart.
        restarts: u64,
        /// systemd's `Result` as of the sample: `oom-kill`, `exit-code`, ...
        last_result: Option<String>,
        /// The new main PID, when known.
        pid: Option<u32>,
    },
    /// A service's process went away (not known to be an OOM kill).
    Exited {
        /// The service, by its configured name.
        service: String,
        /// The process that went away, when its PID was known.
        pid: Option<u32>,
        /// Its RSS at the last sample that saw it.
        last_rss_bytes: Option<u64>,
        /// From its start to the last sample that saw it.
        ran_secs: f64,
    },
    /// A service's process is there again (not counted by systemd as a restart).
    Started {
        /// The service, by its configured name.
        service: String,
        /// The new main PID, when known.
        pid: Option<u32>,
        /// Its RSS at this sample.
        rss_bytes: Option<u64>,
        /// Since the last instance was last seen.
        after_secs: Option<f64>,
    },
    /// At this rate a service (or the host, `service: None`) runs out within the horizon.
    ProjectedOom {
        /// The service, by its configured name; `None` for the host.
        service: Option<String>,
        /// Until the limit is reached at the current rate.
        in_secs: f64,
        /// The trend in words, as [`TrendReport::text`](crate::trend::TrendReport::text).
        text: String,
        /// What its memory climbs with, when explain is sure ([`Candidate::phrase`](crate::explain::Candidate::phrase)).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explained_by: Option<String>,
    },
    /// A service died and came back more than `health.restart_loop` times.
    RestartLoop {
        /// The service, by its configured name.
        service: String,
        /// Deaths within `health.restart_loop_window`.
        deaths: usize,
        /// The loop in words, as [`RestartLoop::text`](crate::trend::RestartLoop::text).
        text: String,
        /// What its memory climbs with, when explain is sure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explained_by: Option<String>,
    },
    /// More error lines than the threshold in a service's logs within the window.
    ErrorBurst {
        /// The service, by its configured name.
        service: String,
        /// Error lines within the window.
        lines: u64,
        /// The window (`health.error_burst_window`).
        window_secs: f64,
        /// The latest error line, when the caller had it.
        last_line: Option<String>,
        /// The most frequent error groups within the window, largest
        /// first: template and events.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        top_groups: Vec<(String, u64)>,
        /// Other error groups seen within the window.
        #[serde(skip_serializing_if = "is_zero")]
        more_groups: u64,
    },
    /// An error group a service's logs had not shown since diagbot started,
    /// or a known one back after `groups.quiet` without a line.
    ErrorGroup {
        /// The service, by its configured name.
        service: String,
        /// The group's stable id.
        id: String,
        /// Its template.
        template: String,
        /// Its lines since the previous sample.
        count: u64,
        /// Since the previous sample.
        window_secs: f64,
        /// Its newest line.
        example: String,
        /// `None`: new; else back after this long without a line.
        back_after_secs: Option<f64>,
    },
    /// More new or returning error groups in one sample than are alerted
    /// one by one (a flood of new kinds of errors): the rest, together.
    ManyErrorGroups {
        /// The service, by its configured name.
        service: String,
        /// New groups not alerted one by one.
        new: u64,
        /// Groups back not alerted one by one.
        back: u64,
        /// Since the previous sample.
        window_secs: f64,
        /// The most frequent of them: template and lines.
        top: Vec<(String, u64)>,
    },
    /// A number a service's configuration follows (`numbers`) went past its `warn_above`.
    LogNumberAbove {
        /// The service, by its configured name.
        service: String,
        /// The number's name.
        name: String,
        /// Its template.
        template: String,
        /// Its value now.
        value: f64,
        /// The threshold.
        warn_above: f64,
    },
    /// diagbot's own cache is past its thresholds.
    CachePressure {
        /// Answers cached.
        entries: u64,
        /// Their weight in bytes.
        bytes: u64,
        /// The cache's byte budget.
        budget_bytes: u64,
    },
}

impl Event {
    /// A short name for metrics and alert keys.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::OomKill { .. } => "oom_kill",
            Event::Restart { .. } => "restart",
            Event::Exited { .. } => "exited",
            Event::Started { .. } => "started",
            Event::ProjectedOom { .. } => "projected_oom",
            Event::RestartLoop { .. } => "restart_loop",
            Event::ErrorBurst { .. } => "error_burst",
            Event::ErrorGroup {
                back_after_secs: None,
                ..
            } => "new_error_group",
            Event::ErrorGroup { .. } => "error_group_back",
            Event::ManyErrorGroups { .. } => "many_error_groups",
            Event::LogNumberAbove { .. } => "log_number_above",
            Event::CachePressure { .. } => "cache_pressure",
        }
    }

    /// The service the event is about; `None` for the host or diagbot itself.
    pub fn service(&self) -> Option<&str> {
        match self {
            Event::OomKill { service, .. } | Event::ProjectedOom { service, .. } => {
                service.as_deref()
            }
            Event::Restart { service, .. }
            | Event::Exited { service, .. }
            | Event::Started { service, .. }
            | Event::RestartLoop { service, .. }
            | Event::ErrorBurst { service, .. }
            | Event::ErrorGroup { service, .. }
            | Event::ManyErrorGroups { service, .. }
            | Event::LogNumberAbove { service, .. } => Some(service),
            Event::CachePressure { .. } => None,
        }
    }

    /// What makes two events "the same alert": the kind and whom it is
    /// about (and an error group's id: each group is its own alert).
    pub fn key(&self) -> String {
        if let Event::ErrorGroup { service, id, .. } = self {
            return format!("{}:{service}:{id}", self.kind());
        }
        if let Event::LogNumberAbove { service, name, .. } = self {
            return format!("{}:{service}:{name}", self.kind());
        }
        let whom = match self {
            Event::CachePressure { .. } => "diagbot",
            other => other.service().unwrap_or(HOST),
        };
        format!("{}:{whom}", self.kind())
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        match self {
            Event::OomKill {
                service,
                victim,
                ran_secs,
            } => oom_kill_sentence(service.as_deref(), victim.as_ref(), *ran_secs),
            Event::Restart {
                service,
                restarts,
                last_result,
                pid,
            } => format!(
                "{service} restarted (restart {restarts}{}){}",
                last_result
                    .as_deref()
                    .map(|r| format!(", last result {r}"))
                    .unwrap_or_default(),
                pid.map(|p| format!(", now pid {p}")).unwrap_or_default()
            ),
            Event::Exited {
                service,
                pid,
                last_rss_bytes,
                ran_secs,
            } => format!(
                "{service}: {} is gone after running {}{}",
                pid.map_or("its process".into(), |p| format!("pid {p}")),
                long_span(*ran_secs),
                last_rss_bytes
                    .map(|r| format!(", last seen at {:.0} MiB", mib(r as f64)))
                    .unwrap_or_default()
            ),
            Event::Started {
                service,
                pid,
                rss_bytes,
                after_secs,
            } => format!(
                "{service} is running again{}{}{}",
                pid.map(|p| format!(" as pid {p}")).unwrap_or_default(),
                rss_bytes
                    .map(|r| format!(" at {:.0} MiB", mib(r as f64)))
                    .unwrap_or_default(),
                after_secs
                    .map(|a| format!(", {} after the last one was seen", minutes(a)))
                    .unwrap_or_default()
            ),
            Event::ProjectedOom {
                service,
                text,
                explained_by,
                ..
            } => format!(
                "{} may run out of memory: {text}{}",
                service.as_deref().unwrap_or("the host"),
                because(explained_by.as_deref())
            ),
            Event::RestartLoop {
                service,
                text,
                explained_by,
                ..
            } => format!("{service}: {text}{}", because(explained_by.as_deref())),
            Event::ErrorBurst {
                service,
                lines,
                window_secs,
                top_groups,
                more_groups,
                ..
            } => burst_sentence(service, *lines, *window_secs, top_groups, *more_groups),
            Event::ErrorGroup {
                service,
                template,
                count,
                window_secs,
                back_after_secs,
                ..
            } => {
                let times = match count {
                    1 => "once".to_string(),
                    n => format!("{n} times"),
                };
                let span = minutes(window_secs.max(1.0));
                match back_after_secs {
                    None => format!("new error in {service}: `{template}` ({times} in {span})"),
                    Some(silent) => format!(
                        "error back in {service} after {} without it: `{template}` ({times} in {span})",
                        long_span(*silent)
                    ),
                }
            }
            Event::ManyErrorGroups {
                service,
                new,
                back,
                window_secs,
                top,
            } => many_groups_sentence(service, *new, *back, *window_secs, top),
            Event::LogNumberAbove {
                service,
                template,
                value,
                warn_above,
                ..
            } => format!(
                "{service}: `{template}` is {} (warn above {})",
                plain(*value),
                plain(*warn_above)
            ),
            Event::CachePressure {
                entries,
                bytes,
                budget_bytes,
            } => format!(
                "diagbot's cache holds {entries} answers, {:.1} of {:.1} MiB",
                mib(*bytes as f64),
                mib(*budget_bytes as f64)
            ),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// "; it climbs with `…` (r 0.99, …)" after an alert's text, when known.
fn because(explained_by: Option<&str>) -> String {
    explained_by.map(|e| format!("; {e}")).unwrap_or_default()
}

/// A logged number as its line wrote it: `61`, `3.5`.
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// "OOM kill in bot: python3 (pid 908) killed at 552 MiB RSS after running 2 h".
fn oom_kill_sentence(
    service: Option<&str>,
    victim: Option<&OomKill>,
    ran_secs: Option<f64>,
) -> String {
    let whose = service.map(|s| format!(" in {s}")).unwrap_or_default();
    let ran = ran_secs
        .map(|r| format!(" after running {}", long_span(r)))
        .unwrap_or_default();
    match victim {
        Some(v) => format!(
            "OOM kill{whose}: {} (pid {}) killed{}{ran}",
            v.process.as_deref().unwrap_or("a process"),
            v.pid.map_or("unknown".into(), |p| p.to_string()),
            v.rss_bytes
                .map(|r| format!(" at {:.0} MiB RSS", mib(r as f64)))
                .unwrap_or_default()
        ),
        None => {
            format!("OOM kill{whose}: the victim is not in any log diagbot can read")
        }
    }
}

/// "bot: 40 error lines in the last 1 min; most frequent: `…` (30), …".
fn burst_sentence(
    service: &str,
    lines: u64,
    window_secs: f64,
    top_groups: &[(String, u64)],
    more_groups: u64,
) -> String {
    let mut top = top_groups
        .iter()
        .map(|(t, n)| format!("`{t}` ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    match more_groups {
        0 => {}
        1 => top.push_str(" and 1 more group"),
        n => top.push_str(&format!(" and {n} more groups")),
    }
    format!(
        "{service}: {lines} error lines in the last {}{}",
        minutes(window_secs),
        if top_groups.is_empty() {
            String::new()
        } else {
            format!("; most frequent: {top}")
        }
    )
}

/// "bot: 12 more new error groups in 1 min, not alerted one by one …".
fn many_groups_sentence(
    service: &str,
    new: u64,
    back: u64,
    window_secs: f64,
    top: &[(String, u64)],
) -> String {
    let what = match (new, back) {
        (n, 0) => format!("{n} more new error groups"),
        (0, b) => format!("{b} more error groups back"),
        (n, b) => format!("{n} more new error groups and {b} back"),
    };
    let top = top
        .iter()
        .map(|(t, n)| format!("`{t}` ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{service}: {what} in {}, not alerted one by one (diagbot groups lists them); the most frequent: {top}",
        minutes(window_secs.max(1.0))
    )
}
