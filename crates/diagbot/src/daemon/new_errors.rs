//! New-error alerts: at each health sample, every service's logs are read
//! from where the last sample left them (appended bytes only), their error
//! lines grouped by template, and a group never seen since diagbot started
//! (or back after `groups.quiet` of silence) becomes an
//! [`Event::ErrorGroup`]: logged as a warning, counted, alerted once. The
//! first sample reads what is already there as the baseline: no alert.
//! An error burst of the same sample is told its most frequent groups.
//!
//! The known groups live in each service's [`ErrorWatch`]
//! ([`ErrorWatch::known_mut`]): a history store would load them before the
//! first sample and save `take_changes()` after each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diagbot_core::config::Settings;
use diagbot_core::groups::{ErrorWatch, TickReport};
use diagbot_core::health::Event;
use diagbot_core::logs::cancel::Cancel;
use diagbot_core::logs::user_format::UserFormat;

use crate::state::AppState;

/// Reads what each service's logs appended, adds an event per new or
/// returning error group to `events`, and names each burst's top groups.
pub async fn watch(state: &AppState, settings: &Arc<Settings>, events: &mut Vec<Event>) {
    if !settings.groups.alerts {
        return;
    }
    let watches = Arc::clone(&state.error_watches);
    let cancel = state.diag.engine().cancel_token();
    let settings = Arc::clone(settings);
    let reports = tokio::task::spawn_blocking(move || tick_all(&watches, &settings, &cancel)).await;
    let reports = match reports {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("new-error watch failed: {e}");
            return;
        }
    };
    for (service, report, heap) in reports {
        if report.baseline {
            tracing::info!(
                service,
                bytes = report.bytes,
                heap,
                "error groups: the logs so far read as the baseline (known, not alerted)"
            );
        } else {
            tracing::debug!(service, bytes = report.bytes, heap, "error groups read");
        }
        for s in &report.skipped {
            tracing::debug!(service, path = %s.path, "error groups: not read: {}", s.reason);
        }
        name_top_groups(events, &service, &report);
        let window_secs = report.since_secs.unwrap_or(0).max(0) as f64;
        for s in report.sighted {
            events.push(Event::ErrorGroup {
                service: service.clone(),
                id: s.id,
                template: s.template,
                count: s.count,
                window_secs,
                example: s.example,
                back_after_secs: s.back_after_secs.map(|b| b as f64),
            });
        }
    }
}

/// One tick of every service's watch, on a blocking thread; services a
/// reload removed are forgotten. Returns each service's report and heap bytes.
fn tick_all(
    watches: &Mutex<HashMap<String, ErrorWatch>>,
    settings: &Settings,
    cancel: &Cancel,
) -> Vec<(String, TickReport, usize)> {
    // Checked when the configuration was loaded: a format that fails here is left out.
    let formats: Vec<_> = settings
        .formats
        .iter()
        .filter_map(|f| UserFormat::compile(f).ok())
        .collect();
    let now_secs = chrono::Utc::now().timestamp();
    let quiet_secs = settings.groups.quiet.as_secs() as i64;
    let mut watches = watches.lock().unwrap_or_else(|p| p.into_inner());
    let watched = || settings.services.iter().filter(|s| !s.logs.is_empty());
    watches.retain(|name, _| watched().any(|s| s.name == *name));
    let mut out = Vec::new();
    for svc in watched() {
        let watch = watches
            .entry(svc.name.clone())
            .or_insert_with(|| ErrorWatch::new(settings.groups.max));
        let report = watch.tick(&svc.logs, &formats, (now_secs, quiet_secs), cancel);
        out.push((svc.name.clone(), report, watch.heap_size()));
    }
    out
}

/// Tells this sample's error burst of `service`, if any, its most frequent groups.
fn name_top_groups(events: &mut [Event], service: &str, report: &TickReport) {
    for event in events {
        if let Event::ErrorBurst {
            service: s,
            top_groups,
            ..
        } = event
        {
            if s == service {
                top_groups.clone_from(&report.top);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_same_service_is_told_its_top_groups() {
        let burst = |service: &str| Event::ErrorBurst {
            service: service.into(),
            lines: 30,
            window_secs: 300.0,
            last_line: None,
            top_groups: Vec::new(),
        };
        let mut events = vec![burst("bot"), burst("api")];
        let report = TickReport {
            top: vec![("db down".into(), 25), ("timeout <num> ms".into(), 5)],
            ..TickReport::default()
        };
        name_top_groups(&mut events, "bot", &report);
        assert_eq!(
            events[0].describe(),
            "bot: 30 error lines in the last 5 min; most frequent: `db down` (25), `timeout <num> ms` (5)"
        );
        assert_eq!(
            events[1].describe(),
            "api: 30 error lines in the last 5 min"
        );
    }
}
