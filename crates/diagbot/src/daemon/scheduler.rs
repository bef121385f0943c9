//! The background refresh: every interval, each configured query is computed
//! anew through the cache (reading only appended bytes), so that common
//! questions are answered instantly. A missed tick is skipped, never bunched,
//! and one refresh never overlaps the next.
//!
//! Each run logs what the operator of the original bot checked by hand: the
//! cache before and after, what expired, the time and bytes of the refresh, and
//! diagbot's own RSS.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use diagbot_core::process;

use super::ticker::every;
use crate::state::heartbeat::Task;
use crate::state::AppState;
use crate::systemd;

pub async fn run(state: Arc<AppState>, stop: impl Future<Output = ()>) {
    let started = std::sync::Once::new();
    every(
        state,
        |s| s.core.refresh_interval,
        stop,
        |state| {
            let started = &started;
            async move {
                refresh_within_interval(&state).await;
                // The first refresh ends the start-up: its code need not
                // stay mapped (crate::footprint).
                if !started.is_completed() {
                    let _ = tokio::task::spawn_blocking(crate::footprint::map_only_code_that_runs)
                        .await;
                    started.call_once(|| {});
                }
            }
        },
    )
    .await
}

/// One refresh, abandoned (and counted) if it is still running when the next
/// is due, so that the next tick runs; the heartbeat sees it meanwhile.
async fn refresh_within_interval(state: &AppState) {
    let _busy = state.heartbeat.busy(Task::Refresh);
    let deadline = state
        .settings()
        .core
        .refresh_interval
        .max(std::time::Duration::from_secs(1));
    if tokio::time::timeout(deadline, refresh_once(state))
        .await
        .is_err()
    {
        state.metrics.refresh_abandoned.inc();
        tracing::error!(
            "refresh abandoned: still running after {deadline:?}, when the next was due"
        );
    }
}

/// Refreshes every configured query once, and logs the cache's state around it.
pub async fn refresh_once(state: &AppState) {
    let settings = state.settings();
    let cache = state.diag.cache();
    let before = cache.maintain().await;
    let started = Instant::now();
    let mut bytes = 0;
    let mut failed = 0;
    let mut counts = Vec::new();
    for q in &settings.core.refresh {
        match state.diag.refresh(&q.query).await {
            // Not cached, and the answer cached before stays: a failure all the same.
            Ok(result) if result.partial.is_some() => {
                bytes += result.bytes_scanned;
                failed += 1;
                state.metrics.refresh_failed.inc();
                let reason = result.partial.as_deref().unwrap_or_default();
                tracing::warn!(query = %q.name, "refresh failed: the answer was partial ({reason}); the one cached before is kept");
            }
            Ok(result) => {
                bytes += result.bytes_scanned;
                counts.push((q.name.clone(), result.matches));
            }
            Err(e) => {
                failed += 1;
                state.metrics.refresh_failed.inc();
                tracing::warn!(query = %q.name, "refresh failed: {e}");
            }
        }
        if let Some(why) = state.diag.engine().tails_dropped() {
            tracing::warn!(query = %q.name, "incremental state not kept, the next refresh reads everything again: {why}");
        }
    }
    let elapsed = started.elapsed();
    let now = chrono::Utc::now().timestamp();
    state
        .store
        .record(crate::history::feed::refresh_tick(now, &counts));
    let after = cache.maintain().await;
    state.metrics.refresh_runs.inc();
    state.metrics.refresh_seconds.observe(elapsed.as_secs_f64());
    let rss = process::resident_bytes().unwrap_or(0);
    tracing::info!(
        entries_before = before.entries,
        bytes_before = before.bytes,
        expired_total = after.evictions_expired,
        entries_after = after.entries,
        bytes_after = after.bytes,
        budget = after.budget_bytes,
        queries = settings.core.refresh.len(),
        failed,
        bytes_read = bytes,
        ms = elapsed.as_millis() as u64,
        rss,
        "refresh done"
    );
    systemd::status(&format!(
        "cache {} entries, {} KiB of {} KiB; last refresh {} ms, {} KiB read; RSS {} KiB",
        after.entries,
        after.bytes >> 10,
        after.budget_bytes >> 10,
        elapsed.as_millis(),
        bytes >> 10,
        rss >> 10
    ));
}
