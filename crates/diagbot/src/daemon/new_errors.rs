//! New-error alerts: at each health sample, every service's logs are read
//! from where the last sample left them (appended bytes only), their error
//! lines grouped by template, and a group never seen since diagbot started
//! (or back after `groups.quiet` of silence) becomes an
//! [`Event::ErrorGroup`]: logged as a warning, counted, alerted once. The
//! first sample reads what is already there as the baseline: no alert.
//! An error burst of the same sample is told its most frequent groups.
//!
//! The known groups live in each service's [`ErrorWatch`]
//! ([`ErrorWatch::known_mut`]): with the history store on, they are loaded
//! from it before the watch's first tick and what each tick saw is saved
//! after it (through the store's writer), so a group known before a restart
//! is known after it, even when the logs read at start no longer hold it,
//! and one silent past `groups.quiet` across the restart is "back".
//!
//! Muted groups (`diagbot groups mute`, `/mute`, kept in the store) are
//! left out of the events; they are still seen (and stay known).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use diagbot_core::config::Settings;
use diagbot_core::groups::{ErrorWatch, TickReport};
use diagbot_core::health::Event;
use diagbot_core::logs::cancel::Cancel;
use diagbot_core::logs::user_format::UserFormat;

use crate::history::groups;
use crate::metrics::ServiceLabel;
use crate::state::AppState;
use crate::store::Store;

/// Reads what each service's logs appended, adds an event per new or
/// returning error group to `events`, and names each burst's top groups.
pub async fn watch(state: &AppState, settings: &Arc<Settings>, events: &mut Vec<Event>) {
    if !settings.groups.alerts {
        return;
    }
    let watches = Arc::clone(&state.error_watches);
    let cancel = state.diag.engine().cancel_token();
    let settings = Arc::clone(settings);
    let store = Arc::clone(&state.store);
    let reports =
        tokio::task::spawn_blocking(move || tick_all(&watches, &settings, &store, &cancel)).await;
    let reports = match reports {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("new-error watch failed: {e}");
            return;
        }
    };
    let (reports, muted) = reports;
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
        state
            .metrics
            .error_groups_heap
            .get_or_create(&ServiceLabel {
                service: service.clone().into(),
            })
            .set(heap as i64);
        for s in &report.skipped {
            tracing::debug!(service, path = %s.path, "error groups: not read: {}", s.reason);
        }
        name_top_groups(events, &service, &report);
        let window_secs = report.since_secs.unwrap_or(0).max(0) as f64;
        let mut sighted: Vec<_> = report
            .sighted
            .into_iter()
            .filter(|s| {
                let mute = muted.contains(&s.id);
                if mute {
                    tracing::info!(service, id = %s.id, "error group muted: not alerted: {}", s.template);
                }
                !mute
            })
            .collect();
        // The most frequent first: those are alerted one by one, the rest together.
        sighted.sort_by_key(|s| std::cmp::Reverse(s.count));
        let rest = sighted.split_off(sighted.len().min(ALERTED_PER_SAMPLE));
        for s in sighted {
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
        if !rest.is_empty() {
            let new = rest.iter().filter(|s| s.back_after_secs.is_none()).count() as u64;
            events.push(Event::ManyErrorGroups {
                service: service.clone(),
                new,
                back: rest.len() as u64 - new,
                window_secs,
                top: rest
                    .iter()
                    .take(3)
                    .map(|s| (s.template.clone(), s.count))
                    .collect(),
            });
        }
    }
}

/// New or returning groups of one service alerted one by one in a sample;
/// more (a flood of new kinds of errors, perhaps written on purpose) make one
/// event together, so that they cannot crowd out the other alerts.
pub const ALERTED_PER_SAMPLE: usize = 5;

/// One tick of every service's watch, on a blocking thread; services a
/// reload removed are forgotten. A new watch starts from the store's known
/// groups; what each tick saw is saved. Returns each service's report and
/// heap bytes, and the ids muted now (read only when something is news).
fn tick_all(
    watches: &Mutex<HashMap<String, ErrorWatch>>,
    settings: &Settings,
    store: &Store,
    cancel: &Cancel,
) -> (Vec<(String, TickReport, usize)>, HashSet<String>) {
    // Checked when the configuration was loaded: a format that fails here is left out.
    let formats: Vec<_> = settings
        .formats
        .iter()
        .filter_map(|f| UserFormat::compile(f).ok())
        .collect();
    let now_secs = chrono::Utc::now().timestamp();
    let quiet_secs = settings.groups.quiet.as_secs() as i64;
    let mut watches = watches.lock().unwrap_or_else(|p| p.into_inner());
    // A service's unit journal is followed when the journal is read.
    let watched = || {
        settings
            .services
            .iter()
            .filter(|s| !s.logs.is_empty() || settings.unit_journal(s).is_some())
    };
    watches.retain(|name, _| watched().any(|s| s.name == *name));
    let mut out = Vec::new();
    for svc in watched() {
        let follow = settings.unit_journal(svc);
        let watch = watches.entry(svc.name.clone()).or_insert_with(|| {
            let mut watch = ErrorWatch::new(settings.groups.max);
            load_known(store, &svc.name, &mut watch);
            watch.follow_journal(follow.clone());
            load_cursor(store, &svc.name, &mut watch);
            watch
        });
        watch.follow_journal(follow);
        watch.set_top_window(settings.health.error_burst_window.as_secs() as i64);
        let position = watch.journal_position();
        let report = watch.tick(&svc.logs, &formats, (now_secs, quiet_secs), cancel);
        if let Some((cursor, last_us)) = watch
            .journal_position()
            .filter(|p| Some(p) != position.as_ref())
        {
            store.save_journal_cursor(&svc.name, cursor, last_us);
        }
        let described: Vec<(u64, String, Option<String>)> = report
            .sighted
            .iter()
            .filter_map(|s| {
                let id = groups::parse_id(&s.id).ok()?;
                Some((
                    id,
                    s.template.clone(),
                    s.level.map(|l| l.name().to_string()),
                ))
            })
            .collect();
        groups::save(
            store,
            &svc.name,
            watch.known_mut().take_changes(),
            &described,
        );
        out.push((svc.name.clone(), report, 0));
    }
    for (service, merged, total) in within_budget(&mut watches, settings.groups.budget_bytes) {
        // A flood over the budget merges groups at every sample: said at
        // most every ten minutes as a warning.
        static WARNED_AT: AtomicI64 = AtomicI64::new(i64::MIN);
        let warned = WARNED_AT.load(Ordering::Relaxed);
        if now_secs.saturating_sub(warned) < 600 {
            tracing::debug!(service, merged, total, "error groups: over groups.budget");
            continue;
        }
        WARNED_AT.store(now_secs, Ordering::Relaxed);
        tracing::warn!(
            service,
            merged,
            "error groups: all services' groups took {total} bytes, over groups.budget ({}): \
             the {merged} least recently seen groups of {service} were merged into \"other\" \
             (they stay known: no alert when they return)",
            settings.groups.budget_bytes
        );
    }
    for (service, _, heap) in &mut out {
        *heap = watches
            .get(service.as_str())
            .map_or(0, ErrorWatch::heap_size);
    }
    let news = out.iter().any(|(_, r, _)| !r.sighted.is_empty());
    let muted = if news && store.path().is_some() {
        groups::muted(store, now_secs).unwrap_or_else(|e| {
            tracing::error!("error groups: the mutes could not be read ({e}); alerting all");
            HashSet::new()
        })
    } else {
        HashSet::new()
    };
    (out, muted)
}

/// Keeps all watches' groups within `budget` bytes: while over it, the
/// largest watch merges its least recently seen groups into "other" (a
/// flood of new kinds of errors in one service's logs costs that service's
/// oldest groups, not the others'). The known ids are not counted: they are
/// bounded by number (4 × `groups.max` a service, about 40 bytes each).
/// Returns, for each watch shrunk, how many groups it merged and the
/// groups' total heap before.
fn within_budget(
    watches: &mut HashMap<String, ErrorWatch>,
    budget: u64,
) -> Vec<(String, u64, usize)> {
    let budget = usize::try_from(budget).unwrap_or(usize::MAX);
    // Measured once each (a walk over the groups), again only when shrunk.
    let mut sizes: Vec<(String, usize)> = watches
        .iter()
        .map(|(name, w)| (name.clone(), w.groups_heap_size()))
        .collect();
    let mut shrunk = Vec::new();
    for _ in 0..sizes.len() {
        let total: usize = sizes.iter().map(|(_, size)| size).sum();
        let Some((name, own)) = sizes.iter_mut().max_by_key(|(_, size)| *size) else {
            break;
        };
        let Some(largest) = watches.get_mut(name.as_str()) else {
            break;
        };
        if total <= budget {
            break;
        }
        let merged = largest.shrink_to(own.saturating_sub(total - budget));
        if merged == 0 {
            break;
        }
        *own = largest.groups_heap_size();
        shrunk.push((name.clone(), merged, total));
    }
    shrunk
}

/// Fills a new watch's known groups from the store (none when it is off).
fn load_known(store: &Store, service: &str, watch: &mut ErrorWatch) {
    if store.path().is_none() {
        return;
    }
    match groups::known(store, service) {
        Ok(known) => {
            tracing::debug!(
                service,
                groups = known.len(),
                "error groups: known groups loaded"
            );
            watch.known_mut().load(known);
        }
        Err(e) => tracing::error!(
            service,
            "error groups: the known groups could not be read from history ({e}); \
             only the logs read at start are known"
        ),
    }
}

/// Resumes a new watch's journal where the store says it stopped (from
/// the last quiet period when it says nothing).
fn load_cursor(store: &Store, service: &str, watch: &mut ErrorWatch) {
    if store.path().is_none() || watch.journal_position().is_some() {
        return;
    }
    match store.read(|conn| crate::store::groups::journal_cursor(conn, service)) {
        Ok(Some((cursor, last_us))) => watch.resume_journal(cursor, last_us),
        Ok(None) => {}
        Err(e) => tracing::error!(
            service,
            "error groups: the journal cursor could not be read from history ({e}); \
             the unit's last quiet period is read as the baseline"
        ),
    }
}

/// Tells this sample's error burst of `service`, if any, its most frequent groups.
fn name_top_groups(events: &mut [Event], service: &str, report: &TickReport) {
    for event in events {
        if let Event::ErrorBurst {
            service: s,
            top_groups,
            more_groups,
            ..
        } = event
        {
            if s == service {
                top_groups.clone_from(&report.top);
                *more_groups = report.top_more;
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
            more_groups: 0,
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
