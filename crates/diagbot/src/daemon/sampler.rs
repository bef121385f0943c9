//! The health sampler: every `health.sample_interval` it reads each service's
//! RSS, restarts and cgroup OOM count, the host's memory and the kernel's OOM
//! count (and takes a CPU reading for the next status), and hands them to the
//! [`Watch`](diagbot_core::health::Watch). What
//! changed (an OOM kill, a restart, an OOM projected within the horizon) is
//! logged as a warning, counted in the metrics and sent to subscribers (the
//! Telegram alerts).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diagbot_core::config::Settings;
use diagbot_core::health::{needs_kills, Event, Observation};
use diagbot_core::journal::JournalError;
use diagbot_core::probe::host::HostCollector;
use diagbot_core::probe::service::HostFacts;
use diagbot_core::probe::{self, oom};
use diagbot_core::query::JournalScope;
use diagbot_core::query::Query;

use super::ticker::every;
use crate::history::feed;
use crate::metrics::Figures;
use crate::state::heartbeat::Task;
use crate::state::AppState;

/// How far before the previous sample the kernel log is searched for a new kill's victim.
const VICTIM_SLACK: Duration = Duration::from_secs(60);

pub async fn run(state: Arc<AppState>, stop: impl Future<Output = ()>) {
    let failures = Arc::new(Mutex::new(LogFailures::default()));
    every(
        state,
        |s| s.core.health.sample_interval,
        stop,
        move |state| {
            let failures = Arc::clone(&failures);
            async move { sample_once(&state, &failures).await }
        },
    )
    .await
}

/// Each service's last failure to read its logs: said when it starts or
/// changes and when it ends, not at every sample (2,880 times a day).
#[derive(Debug, Default)]
struct LogFailures(HashMap<String, String>);

impl LogFailures {
    /// Whether `why` is news for `service` (worth a warning).
    fn failed(&mut self, service: &str, why: String) -> bool {
        self.0.insert(service.to_string(), why.clone()).as_ref() != Some(&why)
    }

    /// Whether `service`'s logs had failed before this read (worth saying they are read again).
    fn read(&mut self, service: &str) -> bool {
        self.0.remove(service).is_some()
    }
}

/// Takes one sample and reports what changed.
async fn sample_once(state: &AppState, failures: &Mutex<LogFailures>) {
    let _busy = state.heartbeat.busy(Task::Sample);
    let daemon = state.settings();
    let settings = Arc::new(daemon.core.clone());
    let observed = {
        let settings = Arc::clone(&settings);
        let host = state.host.get(&settings.proc_root);
        tokio::task::spawn_blocking(move || {
            let obs = observe(&settings, &host);
            (obs, host_extras(&host))
        })
        .await
    };
    let (obs, extras) = match observed {
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
    let (figures, slopes) = {
        let mut watch = state.lock_watch();
        watch.settle(&mut events, &kills);
        (Figures::of(&obs, &watch), watch.slopes())
    };
    state.metrics.set_sampled(figures);
    let (bursts, errors) = read_service_logs(state, &settings, obs.at_secs, failures).await;
    events.extend(bursts);
    let (numbers, crossed) = super::numbers::sample(state, &settings).await;
    events.extend(crossed);
    super::new_errors::watch(state, &settings, &mut events).await;
    let cache = state.diag.cache();
    let stats = cache.stats();
    let pressed = cache.past_thresholds(stats.entries, stats.bytes);
    events.extend(state.lock_watch().record_cache(&stats, pressed));
    name_explanations(state, &mut events);
    let figures = feed::ServiceFigures {
        slopes: &slopes,
        errors: &errors,
        numbers: &numbers,
    };
    state
        .store
        .record(feed::sample_tick(&obs, extras, &figures, &events));
    for event in events {
        tracing::warn!(event = event.kind(), "{}", event.describe());
        state.metrics.count_event(&event);
        // Nobody listening is fine.
        let _ = state.events.send(event);
    }
}

/// Reads what was appended to each service's logs (an incremental refresh:
/// only appended bytes are read): its lines by level go to the metrics, and
/// its error lines to the watch, which says which services are in a burst.
/// Tells a service's memory alerts what its memory climbs with, when
/// explain is sure of it.
fn name_explanations(state: &AppState, events: &mut [diagbot_core::health::Event]) {
    use diagbot_core::health::Event;
    for event in events {
        let (service, explained_by) = match event {
            Event::ProjectedOom {
                service: Some(service),
                explained_by,
                ..
            }
            | Event::RestartLoop {
                service,
                explained_by,
                ..
            } => (service.clone(), explained_by),
            _ => continue,
        };
        *explained_by = state.explained_for(&service).map(|c| c.phrase());
    }
}

/// Returns the burst events and each service's error count so far (for the history).
async fn read_service_logs(
    state: &AppState,
    settings: &Settings,
    at_secs: f64,
    failures: &Mutex<LogFailures>,
) -> (Vec<Event>, Vec<(String, u64)>) {
    let mut events = Vec::new();
    let mut counts = Vec::new();
    // A service's unit journal is part of its logs when the journal is read.
    let unit_of = |s: &diagbot_core::config::ServiceConfig| {
        let unit = s.unit.as_deref().filter(|_| settings.journal.enabled)?;
        JournalScope::units(&[unit]).ok()
    };
    let with_logs: Vec<_> = settings
        .services
        .iter()
        .filter(|s| !s.logs.is_empty() || unit_of(s).is_some())
        .collect();
    let names: Vec<&str> = with_logs.iter().map(|s| s.name.as_str()).collect();
    state.metrics.log_lines.keep_only(&names);
    for svc in with_logs {
        let mut query = Query::errors(svc.logs.clone())
            .with_formats(settings.formats.clone())
            .with_journal(unit_of(svc).unwrap_or_default());
        query.max_lines = 1;
        let outcome = state.diag.refresh(&query).await;
        let mut failures = failures.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(result) => {
                if failures.read(&svc.name) {
                    tracing::info!(service = %svc.name, "its logs are read again");
                }
                // A partial answer (out of descriptors, say) misses files:
                // its lower totals would read as a rotation, and the next
                // whole answer would count those files' lines again.
                if result.partial.is_none() {
                    state.metrics.log_lines.record(&svc.name, &result.levels);
                    counts.push((svc.name.clone(), result.matches));
                }
                if settings.health.error_burst_lines == 0 {
                    continue;
                }
                let last = result.lines.last().map(|l| l.text.clone());
                events.extend(state.lock_watch().record_errors(
                    &svc.name,
                    at_secs,
                    result.matches,
                    last,
                ));
            }
            // No journal on this host: said by searches that ask for it,
            // not at every sample.
            Err(e @ diagbot_core::SearchError::Journal(JournalError::NotAvailable(_))) => {
                tracing::debug!(service = %svc.name, "{e}")
            }
            Err(e) => {
                if failures.failed(&svc.name, e.to_string()) {
                    tracing::warn!(service = %svc.name, "reading the logs failed: {e} (said again when it changes)");
                }
            }
        }
    }
    (events, counts)
}

/// Swap in use and the 1-minute load, for the history.
fn host_extras(host: &HostCollector) -> feed::HostExtras {
    feed::HostExtras {
        swap_used_bytes: host.memory().ok().map(|(_, swap)| swap.used_bytes),
        load1: host.load().ok().map(|l| l[0]),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_read_failure_is_said_when_it_starts_or_changes_not_at_every_sample() {
        let mut failures = LogFailures::default();
        assert!(failures.failed("bot", "journal: journalctl failed (x)".into()));
        assert!(!failures.failed("bot", "journal: journalctl failed (x)".into()));
        assert!(failures.failed("web", "journal: journalctl failed (x)".into()));
        assert!(failures.failed("bot", "journal: timed out".into()));
        assert!(failures.read("bot"));
        assert!(!failures.read("bot"), "said once that it is read again");
        assert!(failures.failed("bot", "journal: timed out".into()));
    }
}
