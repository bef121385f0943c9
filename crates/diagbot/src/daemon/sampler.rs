//! The health sampler: every `health.sample_interval` it reads each service's
//! RSS, restarts and cgroup OOM count, the host's memory and the kernel's OOM
//! count (and takes a CPU reading for the next status), and hands them to the
//! [`Watch`](diagbot_core::health::Watch). What
//! changed (an OOM kill, a restart, an OOM projected within the horizon) is
//! logged as a warning, counted in the metrics and sent to subscribers (the
//! Telegram alerts).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diagbot_core::config::Settings;
use diagbot_core::health::{needs_kills, Event, Observation};
use diagbot_core::probe::host::HostCollector;
use diagbot_core::probe::service::HostFacts;
use diagbot_core::probe::{self, oom};
use diagbot_core::query::Query;

use super::ticker::every;
use crate::heartbeat::Task;
use crate::metrics::ServiceFigures;
use crate::state::AppState;

/// How far before the previous sample the kernel log is searched for a new kill's victim.
const VICTIM_SLACK: Duration = Duration::from_secs(60);

pub async fn run(state: Arc<AppState>, stop: impl Future<Output = ()>) {
    every(
        state,
        |s| s.core.health.sample_interval,
        stop,
        |state| async move { sample_once(&state).await },
    )
    .await
}

/// Takes one sample and reports what changed.
pub async fn sample_once(state: &AppState) {
    let _busy = state.heartbeat.busy(Task::Sample);
    let daemon = state.settings();
    let settings = Arc::new(daemon.core.clone());
    let observed = {
        let settings = Arc::clone(&settings);
        let host = state.host.get(&settings.proc_root);
        tokio::task::spawn_blocking(move || observe(&settings, &host)).await
    };
    let obs = match observed {
        Ok(obs) => obs,
        Err(e) => {
            tracing::error!("health sample failed: {e}");
            return;
        }
    };
    let mut events = { state.lock_watch().record(&obs) };
    // The kernel log names OOM victims and tells a kill from an exit; it is
    // read off the async threads and outside the watch's lock.
    let kills = if needs_kills(&events) {
        let since = SystemTime::now() - settings.health.sample_interval - VICTIM_SLACK;
        let since_ms = since
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let settings = Arc::clone(&settings);
        tokio::task::spawn_blocking(move || oom::report(&settings, Some(since_ms)).kills)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let figures = {
        let mut watch = state.lock_watch();
        watch.settle(&mut events, &kills);
        let slopes = watch.slopes();
        let figures: Vec<ServiceFigures> = obs
            .services
            .iter()
            .map(|s| ServiceFigures {
                name: s.name.clone(),
                rss_bytes: s.rss_bytes,
                slope_bytes_per_sec: slopes
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, slope)| *slope),
                restarts: s.restarts,
            })
            .collect::<Vec<_>>();
        figures
    };
    state.metrics.set_sampled(figures, obs.host_available_bytes);
    events.extend(error_bursts(state, &settings, obs.at_secs).await);
    super::new_errors::watch(state, &settings, &mut events).await;
    let cache = state.diag.cache();
    let stats = cache.stats();
    let pressed = cache.past_thresholds(stats.entries, stats.bytes);
    events.extend(state.lock_watch().record_cache(&stats, pressed));
    for event in events {
        tracing::warn!(event = event.kind(), "{}", event.describe());
        state.metrics.count_event(&event);
        // Nobody listening is fine.
        let _ = state.events.send(event);
    }
}

/// Counts each service's error lines so far (an incremental refresh: only
/// appended bytes are read) and says which are in a burst.
async fn error_bursts(state: &AppState, settings: &Settings, at_secs: f64) -> Vec<Event> {
    let mut events = Vec::new();
    if settings.health.error_burst_lines == 0 {
        return events;
    }
    for svc in settings.services.iter().filter(|s| !s.logs.is_empty()) {
        let mut query = Query::errors(svc.logs.clone()).with_formats(settings.formats.clone());
        query.max_lines = 1;
        match state.diag.refresh(&query).await {
            Ok(result) => {
                let last = result.lines.last().map(|l| l.text.clone());
                events.extend(state.lock_watch().record_errors(
                    &svc.name,
                    at_secs,
                    result.matches,
                    last,
                ));
            }
            Err(e) => tracing::warn!(service = %svc.name, "counting errors failed: {e}"),
        }
    }
    events
}

/// Reads everything one sample needs; slow parts (systemctl) run here, off the async threads.
pub fn observe(settings: &Settings, host: &HostCollector) -> Observation {
    let memory = host.memory().ok().map(|(memory, _)| memory);
    // A CPU reading each sample keeps a status's CPU window within one
    // sample interval (a status measures from the latest reading).
    let _ = host.cpu_percent();
    let oom_kills = std::fs::read_to_string(settings.proc_root.join("vmstat"))
        .ok()
        .and_then(|t| oom::vmstat_oom_kills(&t));
    let facts = HostFacts {
        memory_total_bytes: memory.as_ref().map(|m| m.total_bytes),
        uptime_secs: host.uptime_secs().ok(),
    };
    Observation {
        at_secs: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        host_total_bytes: facts.memory_total_bytes,
        host_available_bytes: memory.as_ref().map(|m| m.available_bytes),
        oom_kills,
        services: probe::services(settings, &facts),
    }
}
