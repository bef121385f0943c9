//! Work on a timer whose interval is a live setting: a missed tick is
//! skipped, never bunched, one run never overlaps the next, and a reload that
//! changes the interval reschedules the next tick at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::settings::DaemonSettings;
use crate::state::AppState;

/// Runs `work` every `interval_of(settings)` until `stop`.
pub(super) async fn every<F, Fut>(
    state: Arc<AppState>,
    interval_of: fn(&DaemonSettings) -> Duration,
    stop: impl Future<Output = ()>,
    mut work: F,
) where
    F: FnMut(Arc<AppState>) -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(stop);
    let mut reloads = state.subscribe_settings();
    let mut interval = interval_of(&state.settings());
    let mut tick = interval_at(Instant::now(), interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            changed = reloads.changed() => {
                if changed.is_err() {
                    return;
                }
                let wanted = interval_of(&reloads.borrow_and_update());
                if wanted != interval {
                    // The next run comes one new interval after now, not after the old tick.
                    interval = wanted;
                    tick = interval_at(Instant::now() + interval, interval);
                    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
                }
                continue;
            }
            _ = tick.tick() => {}
        }
        work(Arc::clone(&state)).await;
    }
}
