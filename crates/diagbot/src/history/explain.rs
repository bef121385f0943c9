//! `explain`: a service's memory samples (cut into process instances by
//! their PID) and OOM kills from the store, the numbers of its log lines
//! from its files and its unit's journal, set side by side by the core (`diagbot_core::explain`).
//! The daemon's API and Telegram ask their store; the CLI opens the
//! database file read-only.

use diagbot_core::config::{ServiceConfig, Settings};
use diagbot_core::explain::correlate::theil_sen;
use diagbot_core::explain::scan::{read_journal_numbers, read_numbers};
use diagbot_core::explain::{explain, Explanation, Instance, Memory, Numbers};
use diagbot_core::logs::cancel::Cancel;
use diagbot_core::logs::user_format::UserFormat;
use rusqlite::Connection;

use super::series;
use crate::present::refusal::Refusal;
use crate::state::AppState;
use crate::store::StoredEvent;

/// How far back `explain` looks unless asked otherwise.
pub const DEFAULT_SPAN_SECS: i64 = 24 * 3600;

/// What the store kept of one service since a time.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// (time, series name, value), oldest first.
    pub rows: Vec<(i64, String, f64)>,
    pub events: Vec<StoredEvent>,
}

/// Reads what the store kept of `service` since `since` (unix seconds).
pub fn read_kept(conn: &Connection, service: &str, since: i64) -> rusqlite::Result<Kept> {
    // Only the service's two series: a day of every series is megabytes.
    let mut rows = Vec::new();
    for name in [
        series::service(service, "rss"),
        series::service(service, "pid"),
    ] {
        for (t, value) in crate::store::read::raw_of(conn, &name, since)? {
            rows.push((t, name.clone(), value));
        }
    }
    rows.sort_by_key(|r| r.0);
    let events = crate::store::read::events(conn, since, i64::MAX)?
        .into_iter()
        .filter(|e| e.kind == "oom_kill" && e.service.as_deref() == Some(service))
        .collect();
    Ok(Kept { rows, events })
}

/// The service's memory as the core reads it: samples grouped into
/// instances (a new PID starts the next), its climb (Theil–Sen over the
/// newest instance) and its OOM kills.
pub fn memory_of(kept: &Kept, service: &str, span_secs: f64) -> Memory {
    let (rss, pid) = (
        series::service(service, "rss"),
        series::service(service, "pid"),
    );
    let mut by_time: std::collections::BTreeMap<i64, (Option<f64>, Option<u32>)> =
        std::collections::BTreeMap::new();
    for (t, name, value) in &kept.rows {
        let entry = by_time.entry(*t).or_default();
        if *name == rss {
            entry.0 = Some(*value);
        } else if *name == pid {
            entry.1 = u32::try_from(*value as i64).ok();
        }
    }
    let mut instances: Vec<Instance> = Vec::new();
    for (t, (bytes, pid)) in by_time {
        let Some(bytes) = bytes else { continue };
        let new = match instances.last() {
            None => true,
            Some(last) => pid.is_some() && last.pid.is_some() && pid != last.pid,
        };
        if new {
            instances.push(Instance {
                pid,
                samples: Vec::new(),
            });
        }
        if let Some(last) = instances.last_mut() {
            last.pid = last.pid.or(pid);
            last.samples.push((t as f64, bytes));
        }
    }
    let climb = instances.last().and_then(|i| {
        let (ts, bytes): (Vec<f64>, Vec<f64>) = i.samples.iter().copied().unzip();
        theil_sen(&ts, &bytes)
    });
    Memory {
        instances,
        climb_bytes_per_sec: climb,
        oom_kills: kept.events.len(),
        span_secs,
        // The store keeps a sample's time in whole seconds, rounded down.
        resolution_secs: 1.0,
    }
}

/// Explains `service` from what the store `kept` since `since`, reading its
/// log files' lines since then.
pub fn explain_service(
    settings: &Settings,
    service: &ServiceConfig,
    kept: &Kept,
    (since, now): (i64, i64),
    cancel: &Cancel,
) -> Explanation {
    let memory = memory_of(kept, &service.name, (now - since).max(0) as f64);
    let formats: Vec<_> = settings
        .formats
        .iter()
        .filter_map(|f| UserFormat::compile(f).ok())
        .collect();
    let mut numbers = Numbers::default();
    read_numbers(&service.logs, since as f64, &formats, cancel, &mut numbers);
    // A service's unit journal is part of its logs when the journal is read.
    let journal = settings.journal().zip(service.unit.as_deref());
    let unread = journal.and_then(|(journal, unit)| {
        read_journal_numbers(&journal, unit, since as f64, &formats, cancel, &mut numbers).err()
    });
    let mut explanation = explain(&service.name, &memory, &numbers);
    if let Some(e) = unread {
        explanation
            .text
            .push_str(&format!("\nIts unit's journal was not read: {e}."));
    }
    explanation
}

/// The daemon's answer for service `name` over the span since `since`
/// (unix seconds; the last [`DEFAULT_SPAN_SECS`] without one).
pub async fn answer(
    state: &AppState,
    name: &str,
    since: Option<i64>,
) -> Result<Explanation, Refusal> {
    let settings = state.settings();
    let service = settings
        .core
        .services
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .ok_or_else(|| {
            Refusal::bad(
                "service",
                format!("no service {name:?} in the configuration"),
            )
        })?;
    // Whole-log scans take turns (groupings and explanations alike): many
    // requests at once wait rather than read the logs side by side.
    let _turn = state
        .groups_in_flight
        .acquire()
        .await
        .map_err(|_| Refusal::unavailable("stopping"))?;
    let now = chrono::Utc::now().timestamp();
    let since = since.unwrap_or(now - DEFAULT_SPAN_SECS);
    let store = std::sync::Arc::clone(&state.store);
    let who = service.name.clone();
    let cancel = state.diag.engine().cancel_token();
    let answer = tokio::task::spawn_blocking(move || {
        let kept = store
            .read(|conn| read_kept(conn, &who, since))
            .map_err(|e| {
                Refusal::unavailable(format!(
                    "explain reads the memory samples the history store kept: {e}"
                ))
            })?;
        Ok(explain_service(
            &settings.core,
            &service,
            &kept,
            (since, now),
            &cancel,
        ))
    })
    .await;
    answer.unwrap_or_else(|e| Err(Refusal::unavailable(format!("explain failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pid_starts_the_next_instance() {
        let row = |t: i64, what: &str, v: f64| (t, series::service("bot", what), v);
        let kept = Kept {
            rows: vec![
                row(0, "rss", 10.0),
                row(0, "pid", 100.0),
                row(30, "rss", 20.0),
                row(30, "pid", 100.0),
                row(60, "rss", 5.0),
                row(60, "pid", 200.0),
                row(90, "rss", 7.0),
            ],
            events: vec![StoredEvent {
                time: 45,
                kind: "oom_kill".into(),
                service: Some("bot".into()),
                message: String::new(),
            }],
        };
        let memory = memory_of(&kept, "bot", 90.0);
        let pids: Vec<Option<u32>> = memory.instances.iter().map(|i| i.pid).collect();
        assert_eq!(pids, [Some(100), Some(200)]);
        assert_eq!(memory.instances[1].samples, [(60.0, 5.0), (90.0, 7.0)]);
        assert_eq!(memory.oom_kills, 1);
    }
}
