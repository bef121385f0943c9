//! What the daemon hands the store each sample tick and each refresh.

use diagbot_core::health::{Event, Observation};

use super::series;
use crate::store::{StoredEvent, Tick};

/// The host's figures a sample reads besides the observation.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostExtras {
    pub swap_used_bytes: Option<u64>,
    pub load1: Option<f64>,
}

/// One health sample as series values, with the events it raised.
/// What a sample knows of its services besides the probe's figures.
pub struct ServiceFigures<'a> {
    /// Each service's memory slope, bytes per second.
    pub slopes: &'a [(String, f64)],
    /// Each service's error lines so far.
    pub errors: &'a [(String, u64)],
    /// The configured log numbers: (series name, latest value).
    pub numbers: &'a [(String, f64)],
}

pub fn sample_tick(
    obs: &Observation,
    extras: HostExtras,
    figures: &ServiceFigures<'_>,
    events: &[Event],
) -> Tick {
    let ServiceFigures {
        slopes,
        errors,
        numbers,
    } = figures;
    let at = obs.at_secs as i64;
    let mut values: Vec<(String, f64)> = Vec::new();
    let mut put = |name: String, value: Option<f64>| {
        if let Some(v) = value {
            values.push((name, v));
        }
    };
    let used = match (obs.host_total_bytes, obs.host_available_bytes) {
        (Some(total), Some(available)) => Some(total.saturating_sub(available) as f64),
        _ => None,
    };
    put("host.memory_used".into(), used);
    put(
        "host.memory_available".into(),
        obs.host_available_bytes.map(|b| b as f64),
    );
    put(
        "host.swap_used".into(),
        extras.swap_used_bytes.map(|b| b as f64),
    );
    put("host.load1".into(), extras.load1);
    put(
        series::HOST_OOM_KILLS.into(),
        obs.oom_kills.map(|k| k as f64),
    );
    for svc in &obs.services {
        let name = &svc.name;
        put(
            series::service(name, "rss"),
            svc.rss_bytes.map(|b| b as f64),
        );
        put(
            series::service(name, "restarts"),
            svc.restarts.map(|r| r as f64),
        );
        put(
            series::service(name, "oom_kills"),
            svc.cgroup
                .as_ref()
                .and_then(|c| c.oom_kills)
                .map(|k| k as f64),
        );
        put(
            series::service(name, "limit"),
            svc.memory_limit_bytes.map(|b| b as f64),
        );
        put(series::service(name, "pid"), svc.main_pid.map(f64::from));
        let slope = slopes.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        put(series::service(name, "slope"), slope);
        let lines = errors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| *l as f64);
        put(series::service(name, "errors"), lines);
    }
    for (series, value) in numbers.iter() {
        put(series.clone(), Some(*value));
    }
    Tick {
        at,
        values,
        events: events.iter().map(|e| stored(at, e)).collect(),
    }
}

/// An event as the store keeps it: its kind, service and sentence.
pub fn stored(at: i64, event: &Event) -> StoredEvent {
    StoredEvent {
        time: at,
        kind: event.kind().to_string(),
        service: event.service().map(str::to_string),
        message: event.describe(),
    }
}

/// Alerts handed to a chat, each as its sentence: events of kind `alert`,
/// with no service (one alert can name several).
pub fn alerts_tick(at: i64, sentences: Vec<String>) -> Tick {
    Tick {
        at,
        values: Vec::new(),
        events: sentences
            .into_iter()
            .map(|message| StoredEvent {
                time: at,
                kind: "alert".into(),
                service: None,
                message,
            })
            .collect(),
    }
}

/// A refresh's match counts, one series per query.
pub fn refresh_tick(at: i64, counts: &[(String, u64)]) -> Tick {
    Tick {
        at,
        values: counts
            .iter()
            .map(|(name, n)| (series::query(name), *n as f64))
            .collect(),
        events: Vec::new(),
    }
}
