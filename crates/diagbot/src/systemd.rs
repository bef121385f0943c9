//! systemd integration: READY, STATUS, watchdog pings and STOPPING through
//! `sd_notify`. All of it does nothing when diagbot is not run by systemd
//! (`NOTIFY_SOCKET` unset).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;

use crate::state::heartbeat::Task;
use crate::state::AppState;

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify failed: {e}");
    }
}

pub fn ready(state: &AppState) {
    let s = state.settings();
    notify(&[
        NotifyState::Ready,
        NotifyState::Status(&format!(
            "listening on {}; watching {} paths",
            s.http.listen,
            s.core.log_paths.len()
        )),
    ]);
}

pub fn status(text: &str) {
    notify(&[NotifyState::Status(text)]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

/// Pings the watchdog at half its interval, when the unit sets `WatchdogSec`,
/// as long as the daemon's loops do their work (see [`crate::heartbeat`]): a
/// refresh may take its interval and a minute more, a health sample two
/// minutes. Past that the pings stop and systemd restarts diagbot.
pub fn spawn_watchdog(
    state: Arc<AppState>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(every) = sd_notify::watchdog_enabled() else {
            return;
        };
        let mut tick = tokio::time::interval(every / 2);
        tokio::pin!(stop);
        let mut said = false;
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => {}
            }
            match stalled(&state, std::time::Instant::now()) {
                None => {
                    notify(&[NotifyState::Watchdog]);
                    said = false;
                }
                Some((task, busy)) if !said => {
                    tracing::error!(
                        "the {} has run for {busy:?} without finishing; no more watchdog pings, so systemd restarts diagbot",
                        task.name()
                    );
                    said = true;
                }
                Some(_) => {}
            }
        }
    })
}

/// The loop that has been busy too long, if one has.
pub fn stalled(state: &AppState, now: std::time::Instant) -> Option<(Task, Duration)> {
    let refresh = state.settings().core.refresh_interval;
    state.heartbeat.stalled(now, |task| match task {
        Task::Refresh => refresh + Duration::from_secs(60),
        Task::Sample => Duration::from_secs(120),
    })
}
