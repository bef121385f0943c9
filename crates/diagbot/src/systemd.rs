//! systemd integration: READY, STATUS, watchdog pings and STOPPING through
//! `sd_notify`. All of it does nothing when diagbot is not run by systemd
//! (`NOTIFY_SOCKET` unset).

use std::future::Future;

use sd_notify::NotifyState;

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

/// Pings the watchdog at half its interval, when the unit sets `WatchdogSec`.
pub fn spawn_watchdog(
    stop: impl Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(every) = sd_notify::watchdog_enabled() else {
            return;
        };
        let mut tick = tokio::time::interval(every / 2);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => notify(&[NotifyState::Watchdog]),
            }
        }
    })
}
