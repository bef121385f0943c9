//! What a history answer is, for the CLI, the HTTP API and the dashboard.
//! The JSON is `{series: [{name, unit, step_seconds, points: [[unix_seconds,
//! min, max, mean]]}], events: [{time, kind, service, message}]}`.

use serde::{Deserialize, Serialize};

/// At most this many points per series in one answer.
pub const MAX_POINTS: usize = 2000;

/// A question to the store: which series, over which range, at which step.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRequest {
    /// Series names: `host.memory_used`, `host.memory_available`,
    /// `host.swap_used`, `host.load1`, `service.NAME.rss`, `query.NAME.matches`.
    pub series: Vec<String>,
    /// Unix seconds, inclusive.
    pub since: i64,
    /// Unix seconds, exclusive.
    pub until: i64,
    /// Seconds per point; chosen from the range when `None`.
    pub step: Option<u64>,
}

/// The answer: one entry per series asked for (empty points when nothing was
/// recorded), and the events in the range, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryAnswer {
    pub series: Vec<Series>,
    pub events: Vec<EventRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    /// `bytes`, `load`, or `lines`.
    pub unit: String,
    pub step_seconds: u64,
    /// `(unix_seconds, min, max, mean)`, oldest first; written as arrays.
    pub points: Vec<(i64, f64, f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Unix seconds.
    pub time: i64,
    /// The health event's kind: `oom_kill`, `restart`, `oom_projected`,
    /// `error_burst`, `cache_pressure`, ...
    pub kind: String,
    /// The service it concerns, if any.
    pub service: Option<String>,
    pub message: String,
}
