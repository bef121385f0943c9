//! The charts as data: which series, limits, projections and markers each
//! chart has, built from a history answer and the status by pure functions
//! (tested with values made in the test); [`super::svg`] draws them, and
//! `assets/app.js` builds and draws the same from the same JSON.

use diagbot_core::probe::service::{LimitSource, ServiceStatus};
use diagbot_core::probe::Status;
use diagbot_core::trend::Trend;
use diagbot_core::trend::TrendReport;

use super::groups::step_name;
use super::range::Range;
use crate::history::model::{EventRecord, HistoryAnswer, Series};
use crate::history::series;

/// What a chart's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Load,
    /// Matching log lines.
    Lines,
}

/// The time span a chart shows: the range up to now, and room ahead of
/// now for the projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub since: i64,
    pub now: i64,
    /// Seconds drawn after now: a quarter of the range.
    pub ahead: i64,
}

impl Frame {
    pub fn of(range: Range, now: i64) -> Frame {
        Frame {
            since: now - range.seconds(),
            now,
            ahead: range.seconds() / 4,
        }
    }
}

/// One chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Made of fixed words and indexes, never of a name from outside.
    pub id: String,
    pub title: String,
    pub unit: Unit,
    pub lines: Vec<Line>,
    /// A horizontal line: the memory limit, the host's total. Said in
    /// words instead when far above the values (see `svg::LIMIT_REACH`).
    pub limit: Option<Level>,
    /// A service with no limit of its own (only the host's memory): the
    /// chart says "no limit" rather than scaling to the host.
    pub says_no_limit: bool,
    /// Where the memory goes at the trend's rate, from now.
    pub projection: Option<Projection>,
    /// OOM kills, restarts and the other events, at their time.
    pub markers: Vec<Marker>,
    /// A line on its own axis (on the right): the log number a service's
    /// memory climbs with, when explain is sure of one.
    pub second: Option<Line>,
}

/// A series drawn as a line, oldest point first.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// A CSS class: `used`, `available`, `rss`, ...
    pub class: &'static str,
    pub label: String,
    /// `(unix seconds, value)`: the history's means, then the status's
    /// value now. A NaN value is a step history has no value for.
    pub points: Vec<(i64, f64)>,
    /// Two points farther apart than this many seconds are not joined: the
    /// time between had no samples (0: always joined).
    pub gap: i64,
}

/// A history series within the frame and the step it was answered at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampled {
    pub points: Vec<(i64, f64)>,
    pub step: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub label: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub from: (i64, f64),
    pub to: (i64, f64),
    /// The trend in words (shown on hover).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub time: i64,
    /// The event's kind, as a CSS class: `oom_kill`, `restart`, ...
    pub kind: String,
    /// Shown on hover.
    pub text: String,
}

/// The series a page asks history for: the samples (at the step history
/// picks) and the refresh queries' counts (per hour).
pub fn series_names(status: &Status, queries: &[String]) -> (Vec<String>, Vec<String>) {
    let mut samples: Vec<String> = [
        "host.memory_used",
        "host.memory_available",
        "host.swap_used",
        "host.load1",
    ]
    .map(String::from)
    .to_vec();
    samples.extend(
        status
            .services
            .iter()
            .map(|s| format!("service.{}.rss", s.name)),
    );
    samples.extend(
        status
            .services
            .iter()
            .filter(|s| {
                s.memory_trend
                    .as_ref()
                    .is_some_and(|t| t.explained_by.is_some())
            })
            .map(|s| explained_series(&s.name)),
    );
    let counts = queries
        .iter()
        .map(|q| format!("query.{q}.matches"))
        .collect();
    (samples, counts)
}

/// Seconds per point of the refresh queries' counts over a range of
/// `range_secs`: fine enough that the last minutes' matches are drawn near
/// now (an hour's bucket put them 45 minutes back), no finer than the
/// default refresh (5 min), at most 120 points.
pub fn counts_step(range_secs: i64) -> u64 {
    if range_secs <= 3600 {
        300
    } else if range_secs <= 7 * 86400 {
        3600
    } else {
        6 * 3600
    }
}

/// Every chart of the page: the host's memory, swap and load, each
/// service's RSS, each refresh query's counts. Without history (`None`) each
/// line has only the status's value now, and the limits and projections.
pub fn build(
    frame: Frame,
    status: &Status,
    history: Option<&HistoryAnswer>,
    queries: &[String],
) -> Vec<Chart> {
    let series = |name: &str| sampled(history, frame, name);
    let events = history.map_or(&[][..], |h| h.events.as_slice());
    let mut charts = host_charts(frame, status, &series, events);
    for (i, svc) in status.services.iter().enumerate() {
        charts.push(service_chart(frame, i, svc, &series, events));
    }
    let step = counts_step(frame.now - frame.since);
    for (i, q) in queries.iter().enumerate() {
        charts.push(query_chart(frame, i, q, step, history));
    }
    charts
}

/// Series `name`'s means over the frame (none when history has no such series).
fn sampled(history: Option<&HistoryAnswer>, frame: Frame, name: &str) -> Sampled {
    history
        .and_then(|h| h.series.iter().find(|s| s.name == name))
        .map(|s| Sampled {
            points: means(s, frame),
            step: s.step_seconds as i64,
        })
        .unwrap_or_default()
}

/// The host's memory, swap and load.
fn host_charts(
    frame: Frame,
    status: &Status,
    series: &dyn Fn(&str) -> Sampled,
    events: &[EventRecord],
) -> Vec<Chart> {
    let host = &status.host;
    let memory = host.memory.as_ref();
    vec![
        Chart {
            id: "host-memory".into(),
            title: "Host memory".into(),
            unit: Unit::Bytes,
            lines: vec![
                line(
                    "used",
                    "used",
                    series("host.memory_used"),
                    frame,
                    memory.map(|m| m.used_bytes as f64),
                ),
                line(
                    "available",
                    "available",
                    series("host.memory_available"),
                    frame,
                    memory.map(|m| m.available_bytes as f64),
                ),
            ],
            limit: memory.map(|m| Level {
                label: "total".into(),
                value: m.total_bytes as f64,
            }),
            projection: status
                .host_memory_trend
                .as_ref()
                .and_then(|t| projection(t, frame)),
            markers: markers(events, None, frame),
            second: None,
            says_no_limit: false,
        },
        Chart {
            id: "host-swap".into(),
            title: "Swap".into(),
            unit: Unit::Bytes,
            lines: vec![line(
                "used",
                "used",
                series("host.swap_used"),
                frame,
                host.swap.as_ref().map(|s| s.used_bytes as f64),
            )],
            limit: host
                .swap
                .as_ref()
                .filter(|s| s.total_bytes > 0)
                .map(|s| Level {
                    label: "total".into(),
                    value: s.total_bytes as f64,
                }),
            projection: None,
            markers: Vec::new(),
            second: None,
            says_no_limit: false,
        },
        Chart {
            id: "host-load".into(),
            title: "Load (1 min)".into(),
            unit: Unit::Load,
            lines: vec![line(
                "load",
                "load1",
                series("host.load1"),
                frame,
                host.load.map(|l| l[0]),
            )],
            limit: None,
            projection: None,
            markers: Vec::new(),
            second: None,
            says_no_limit: false,
        },
    ]
}

/// Service `svc`'s RSS, against its own limit, with the number its climb is explained by.
fn service_chart(
    frame: Frame,
    i: usize,
    svc: &ServiceStatus,
    series: &dyn Fn(&str) -> Sampled,
    events: &[EventRecord],
) -> Chart {
    Chart {
        id: format!("service-{i}"),
        title: format!("{} RSS", svc.name),
        unit: Unit::Bytes,
        lines: vec![line(
            "rss",
            "RSS",
            series(&format!("service.{}.rss", svc.name)),
            frame,
            svc.rss_bytes.map(|b| b as f64),
        )],
        limit: own_limit(svc).map(|l| Level {
            label: "limit".into(),
            value: l as f64,
        }),
        says_no_limit: own_limit(svc).is_none(),
        // Only a process running now is going anywhere.
        projection: svc
            .memory_trend
            .as_ref()
            .filter(|_| svc.rss_bytes.is_some())
            .and_then(|t| projection(t, frame)),
        markers: markers(events, Some(&svc.name), frame),
        second: explained_line(svc, &series),
    }
}

/// Refresh query `q`'s new matches per `step` (the first refresh is their baseline).
fn query_chart(
    frame: Frame,
    i: usize,
    q: &str,
    step: u64,
    history: Option<&HistoryAnswer>,
) -> Chart {
    Chart {
        id: format!("query-{i}"),
        title: format!("{q}: new matches per {}", step_name(step)),
        unit: Unit::Lines,
        lines: vec![line(
            "matches",
            "matches",
            history
                .and_then(|h| {
                    h.series
                        .iter()
                        .find(|s| s.name == format!("query.{q}.matches"))
                })
                .map(|s| Sampled {
                    points: increases(s, frame),
                    step: s.step_seconds as i64,
                })
                .unwrap_or_default(),
            frame,
            None,
        )],
        limit: None,
        projection: None,
        markers: Vec::new(),
        second: None,
        says_no_limit: false,
    }
}

/// The limit `svc` is killed at, when it has one of its own: the host's
/// memory is not, and a chart scaled to it flattens a small service.
fn own_limit(svc: &ServiceStatus) -> Option<u64> {
    svc.memory_limit_bytes
        .filter(|_| svc.memory_limit_source != Some(LimitSource::HostMemory))
}

/// The number explain is sure `svc`'s memory climbs with, from its history
/// series (`log.SERVICE.explained`), named with its r.
fn explained_line(svc: &ServiceStatus, series: &dyn Fn(&str) -> Sampled) -> Option<Line> {
    let because = svc.memory_trend.as_ref()?.explained_by.as_ref()?;
    let sampled = series(&explained_series(&svc.name));
    Some(Line {
        class: "explained",
        label: format!(
            "{} (r {:.2})",
            because.name(),
            because.r.unwrap_or_default()
        ),
        points: sampled.points,
        gap: 2 * sampled.step,
    })
}

/// The history series of the number explain is sure of.
pub fn explained_series(service: &str) -> String {
    series::log_number(service, series::EXPLAINED)
}

/// The means within the frame, oldest first; a step without a value (a
/// null in the answer) is kept as NaN, where the line breaks.
fn means(series: &Series, frame: Frame) -> Vec<(i64, f64)> {
    series
        .points
        .iter()
        .filter(|p| (frame.since..=frame.now).contains(&p.0))
        .map(|&(t, _, _, mean)| (t, if mean.is_finite() { mean } else { f64::NAN }))
        .collect()
}

/// The matches found in each step, from a refresh query's count of
/// matches in the logs: a step's highest count less the step before's. A
/// count that fell (a log rotated out of the paths) starts again from the
/// step's lowest; the first step counts its own rise.
fn increases(series: &Series, frame: Frame) -> Vec<(i64, f64)> {
    let mut before: Option<f64> = None;
    let mut out = Vec::new();
    for &(t, min, max, _) in &series.points {
        if !(min.is_finite() && max.is_finite()) {
            continue;
        }
        let found = match before {
            Some(b) if max >= b => max - b,
            _ => max - min,
        };
        before = Some(max);
        if (frame.since..=frame.now).contains(&t) {
            out.push((t, found));
        }
    }
    out
}

/// A line of `sampled`, ending at `now` when the status has a value now,
/// broken where points are more than two steps apart.
fn line(
    class: &'static str,
    label: &str,
    sampled: Sampled,
    frame: Frame,
    now: Option<f64>,
) -> Line {
    let Sampled { mut points, step } = sampled;
    if let Some(v) = now {
        if points.last().is_none_or(|p| p.0 < frame.now) {
            points.push((frame.now, v));
        }
    }
    Line {
        class,
        label: label.into(),
        points,
        gap: 2 * step,
    }
}

/// From the newest sample at the trend's rate, up to the limit or the end of
/// the frame: only for a climb.
fn projection(trend: &TrendReport, frame: Frame) -> Option<Projection> {
    let Trend::Climbing {
        bytes_per_sec,
        limit_in_secs,
    } = trend.trend
    else {
        return None;
    };
    let latest = trend.latest_bytes? as f64;
    let ahead = frame.ahead as f64;
    let secs = limit_in_secs.map_or(ahead, |eta| eta.clamp(0.0, ahead));
    Some(Projection {
        from: (frame.now, latest),
        to: (frame.now + secs as i64, latest + bytes_per_sec * secs),
        text: trend.text.clone(),
    })
}

/// The kinds of event drawn on the memory charts: what the memory did and
/// what happened to the process. The others (error groups, bursts, alerts)
/// are in the events list only: a flood of them would bury the chart.
pub const MARKER_KINDS: [&str; 6] = [
    "oom_kill",
    "restart",
    "exited",
    "started",
    "restart_loop",
    "projected_oom",
];

/// The events about `service` (`None`: those about no service) within the
/// frame, of the kinds drawn.
fn markers(events: &[EventRecord], service: Option<&str>, frame: Frame) -> Vec<Marker> {
    events
        .iter()
        .filter(|e| MARKER_KINDS.contains(&e.kind.as_str()))
        .filter(|e| e.service.as_deref() == service)
        .filter(|e| (frame.since..=frame.now).contains(&e.time))
        .map(|e| Marker {
            time: e.time,
            kind: css_class(&e.kind),
            text: format!("{} {}: {}", utc(e.time), e.kind, e.message),
        })
        .collect()
}

/// `kind` with anything but `[a-z_]` dropped, to be a class name.
fn css_class(kind: &str) -> String {
    kind.chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .collect()
}

/// "2026-11-29 10:00:00 UTC": the same in the served page and in the
/// browser's redraw, wherever either is.
pub fn utc(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || unix.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

#[cfg(test)]
mod tests;
