//! Each sample, the numbers each service's configuration follows in its logs
//! (`numbers = [{ template = "Cache size: <num> entries", warn_above = 20 }]`):
//! their latest values become history series (`log.SERVICE.NAME`), gauges
//! (`diagbot_log_number`) and, past `warn_above`, an alert said once per crossing.

use std::collections::HashMap;
use std::sync::Arc;

use diagbot_core::config::{NumberWatch, Settings};
use diagbot_core::health::Event;
use diagbot_core::logs::user_format::UserFormat;

use crate::history::series::{self, EXPLAINED};
use crate::metrics::NumberLabels;
use crate::state::AppState;

/// Reads what each service's logs appended; returns the numbers' series
/// values for the history and the threshold alerts.
pub async fn sample(
    state: &AppState,
    settings: &Arc<Settings>,
) -> (Vec<(String, f64)>, Vec<Event>) {
    // The number explain is sure of is followed too, as `explained`, so the
    // history keeps its values beside the memory it explains.
    let explained: HashMap<String, NumberWatch> = {
        let sure = state.explained.lock().unwrap_or_else(|p| p.into_inner());
        sure.iter()
            .map(|(service, c)| {
                let watch = NumberWatch {
                    name: EXPLAINED.into(),
                    template: c.template.clone(),
                    slot: c.variable.saturating_sub(1),
                    warn_above: None,
                };
                (service.clone(), watch)
            })
            .collect()
    };
    if explained.is_empty() && settings.services.iter().all(|s| s.numbers.is_empty()) {
        return (Vec::new(), Vec::new());
    }
    let followed = Arc::clone(&state.numbers);
    let settings = Arc::clone(settings);
    let cancel = state.diag.engine().cancel_token();
    let read = tokio::task::spawn_blocking(move || {
        let formats: Vec<_> = settings
            .formats
            .iter()
            .filter_map(|f| UserFormat::compile(f).ok())
            .collect();
        let mut followed = followed.lock().unwrap_or_else(|p| p.into_inner());
        followed.retain(|name, _| settings.services.iter().any(|s| &s.name == name));
        let mut values = Vec::new();
        let mut events = Vec::new();
        for svc in &settings.services {
            let mut watched = svc.numbers.clone();
            watched.extend(explained.get(&svc.name).cloned());
            if watched.is_empty() {
                continue;
            }
            let f = followed.entry(svc.name.clone()).or_default();
            // A service's unit journal is followed when the journal is read.
            f.follow_journal(settings.unit_journal(svc));
            let before = f.journal_problem().map(str::to_string);
            let was_behind = f.journal_behind();
            let latest = f.tick(&svc.logs, &watched, &formats, &cancel).clone();
            // Said when it changes, not at every sample.
            match f.journal_problem() {
                Some(why) if before.as_deref() != Some(why) => tracing::warn!(
                    service = %svc.name,
                    "log numbers: the journal could not be read ({why}); read again at the next sample"
                ),
                None if before.is_some() => {
                    tracing::info!(service = %svc.name, "log numbers: the journal is read again")
                }
                _ => {}
            }
            // A backlog still being read holds old values, not the latest:
            // none is charted or alerted on until it is read.
            if f.journal_behind() {
                if !was_behind {
                    tracing::info!(service = %svc.name, "log numbers: reading the journal's backlog; its values wait until it is read");
                }
                continue;
            }
            if let Some(now) = latest
                .get(EXPLAINED)
                .filter(|_| explained.contains_key(&svc.name))
            {
                values.push((svc.name.clone(), EXPLAINED.to_string(), now.value));
            }
            for n in &svc.numbers {
                let Some(now) = latest.get(&n.name) else {
                    continue;
                };
                values.push((svc.name.clone(), n.name.clone(), now.value));
                let past = n.warn_above.is_some_and(|w| now.value > w);
                if f.crossed(&n.name, past) {
                    events.push(Event::LogNumberAbove {
                        service: svc.name.clone(),
                        name: n.name.clone(),
                        template: n.template.clone(),
                        value: now.value,
                        warn_above: n.warn_above.unwrap_or_default(),
                    });
                }
            }
        }
        (values, events)
    })
    .await;
    let (values, events) = read.unwrap_or_else(|e| {
        tracing::error!("log numbers not read: {e}");
        (Vec::new(), Vec::new())
    });
    let series = values
        .into_iter()
        .map(|(service, name, value)| {
            if name == EXPLAINED {
                return (series::log_number(&service, &name), value);
            }
            state
                .metrics
                .log_numbers
                .get_or_create(&NumberLabels {
                    service: service.clone().into(),
                    name: name.clone().into(),
                })
                .set(value);
            (series::log_number(&service, &name), value)
        })
        .collect();
    (series, events)
}
