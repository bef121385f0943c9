//! At start, the health watch is given the samples the store kept from
//! before (within the trend window), so `status` shows a trend at once and
//! the restart and OOM counters go on from their last values.

use std::collections::BTreeMap;

use diagbot_core::health::{PastKill, PastSample, PastService};

use crate::state::AppState;
use crate::store::StoredEvent;

/// Seeds `state`'s watch from its store; says how many samples it took in.
pub async fn seed_watch(state: &AppState) -> usize {
    let settings = state.settings();
    let since = chrono::Utc::now().timestamp() - settings.core.health.trend_window.as_secs() as i64;
    let services = super::service_names(state);
    let store = std::sync::Arc::clone(&state.store);
    if store.path().is_none() {
        return 0;
    }
    let rows = tokio::task::spawn_blocking(move || {
        store.read(|conn| {
            let rows = crate::store::read::raw_since(conn, since)?;
            let events = crate::store::read::events(conn, since, i64::MAX)?;
            Ok((rows, events))
        })
    })
    .await;
    let (rows, events) = match rows {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => {
            tracing::warn!("history: the watch starts empty, its samples could not be read: {e}");
            return 0;
        }
        Err(_) => return 0,
    };
    let past = samples(&rows, &services);
    state.lock_watch().seed(&past, &kills(&events, &services));
    if !past.is_empty() {
        tracing::info!(samples = past.len(), "health watch seeded from history");
    }
    past.len()
}

/// The stored OOM kills of the configured services: what the samples'
/// deaths were.
pub fn kills(events: &[StoredEvent], services: &[String]) -> Vec<PastKill> {
    events
        .iter()
        .filter(|e| e.kind == "oom_kill")
        .filter_map(|e| {
            let service = e.service.as_ref().filter(|s| services.contains(s))?;
            Some(PastKill {
                at_secs: e.time as f64,
                service: service.clone(),
            })
        })
        .collect()
}

/// Rows `(time, series, value)` grouped into samples, oldest first; only
/// the configured services.
pub fn samples(rows: &[(i64, String, f64)], services: &[String]) -> Vec<PastSample> {
    let mut by_time: BTreeMap<i64, PastSample> = BTreeMap::new();
    for (t, name, value) in rows {
        let sample = by_time.entry(*t).or_insert_with(|| PastSample {
            at_secs: *t as f64,
            ..Default::default()
        });
        let v = *value as u64;
        match name.as_str() {
            "host.memory_used" => sample.host_used_bytes = Some(v),
            "host.memory_available" => sample.host_available_bytes = Some(v),
            "host.oom_kills" => sample.oom_kills = Some(v),
            other => {
                let Some((svc, what)) = other
                    .strip_prefix("service.")
                    .and_then(|r| r.rsplit_once('.'))
                else {
                    continue;
                };
                if !services.iter().any(|s| s == svc) {
                    continue;
                }
                let entry = match sample.services.iter_mut().position(|s| s.name == svc) {
                    Some(i) => &mut sample.services[i],
                    None => {
                        sample.services.push(PastService {
                            name: svc.to_string(),
                            ..Default::default()
                        });
                        let last = sample.services.len() - 1;
                        &mut sample.services[last]
                    }
                };
                match what {
                    "rss" => entry.rss_bytes = Some(v),
                    "pid" => entry.pid = u32::try_from(v).ok(),
                    "restarts" => entry.restarts = Some(v),
                    "oom_kills" => entry.cgroup_oom_kills = Some(v),
                    "limit" => entry.limit_bytes = Some(v),
                    _ => {}
                }
            }
        }
    }
    // A refresh's tick carries no sample: it must not read as services gone.
    by_time
        .into_values()
        .filter(|s| s.host_used_bytes.is_some() || !s.services.is_empty())
        .collect()
}
