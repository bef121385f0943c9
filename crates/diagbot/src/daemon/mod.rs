//! The daemon: the cache's maintenance timer, the background refresh, the
//! health sampler, the Telegram bot, the HTTP server and systemd
//! notifications, started together and stopped together, and the reload.
//!
//! `run` takes its listener and a control channel as arguments, so tests bind
//! 127.0.0.1:0 and stop or reload it without signals.

use std::sync::Arc;
use std::time::Duration;

use diagbot_core::config::ConfigError;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::settings::DaemonSettings;
use crate::state::AppState;
use crate::systemd;

pub mod explainer;
pub mod new_errors;
pub mod numbers;
pub mod sampler;
pub mod scheduler;
mod ticker;

/// How often moka's maintenance runs, freeing expired answers in an idle cache.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(1);
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);
/// How often the history's rollups, retention, checkpoint and vacuum run.
const HISTORY_MAINTENANCE: Duration = Duration::from_secs(60);

/// What the signal handlers (or a test) ask of a running daemon.
pub enum Control {
    /// Read the configuration again (SIGHUP).
    Reload,
    /// Stop (SIGTERM, SIGINT).
    Stop,
}

/// Reads the configuration again, for a reload.
pub type Reloader = Box<dyn Fn() -> Result<DaemonSettings, ConfigError> + Send + Sync>;

/// Runs until `Control::Stop` arrives or the channel closes.
pub async fn run(
    state: Arc<AppState>,
    listener: TcpListener,
    mut control: mpsc::Receiver<Control>,
    reload: Reloader,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let maintenance = state
        .diag
        .cache()
        .spawn_maintenance(MAINTENANCE_EVERY, stopped(stop_rx.clone()));
    // Before the first sample: it is compared with the last one kept.
    crate::history::seed::seed_watch(&state).await;
    let refresh = tokio::spawn(scheduler::run(Arc::clone(&state), stopped(stop_rx.clone())));
    let history = tokio::spawn(maintain_history(
        Arc::clone(&state),
        stopped(stop_rx.clone()),
    ));
    let sampler = tokio::spawn(sampler::run(Arc::clone(&state), stopped(stop_rx.clone())));
    let explainer = tokio::spawn(explainer::run(Arc::clone(&state), stopped(stop_rx.clone())));
    // The bot starts with the daemon; a token set by a reload needs a restart.
    let telegram = state.settings().telegram.clone().map(|t| {
        tokio::spawn(crate::telegram::run(
            Arc::clone(&state),
            t,
            stopped(stop_rx.clone()),
        ))
    });
    let watchdog = systemd::spawn_watchdog(Arc::clone(&state), stopped(stop_rx.clone()));
    let stop_rx_server = stop_rx.clone();
    let router = crate::http::router(Arc::clone(&state));
    let refused = {
        let state = Arc::clone(&state);
        move || {
            state.metrics.refused_connections.inc();
        }
    };
    let server = tokio::spawn(crate::http::serve::serve(
        listener,
        router,
        stopped(stop_rx_server),
        SHUTDOWN_GRACE,
        {
            let state = Arc::clone(&state);
            move || state.settings().http.request_timeout
        },
        refused,
    ));
    systemd::ready(&state);

    while let Some(msg) = control.recv().await {
        match msg {
            Control::Reload => match reload() {
                Ok(new) => {
                    self::reload(&state, new);
                }
                Err(e) => tracing::error!("configuration not reloaded, keeping the old one: {e}"),
            },
            Control::Stop => break,
        }
    }
    tracing::info!("stopping");
    systemd::stopping();
    // Scans stop at their next chunk: requests waiting on one are answered
    // (503) within the grace, and no blocking thread outlives the runtime.
    state.diag.engine().cancel_all();
    let _ = stop_tx.send(true);
    // The server waits for requests in flight at most SHUTDOWN_GRACE itself.
    if let Err(e) = server.await {
        tracing::error!("HTTP server task failed: {e}");
    }
    refresh.abort();
    sampler.abort();
    explainer.abort();
    history.abort();
    // Every tick handed over is written before the daemon stops.
    let store = Arc::clone(&state.store);
    let _ = tokio::task::spawn_blocking(move || store.flush()).await;
    if let Some(t) = telegram {
        t.abort();
    }
    let _ = tokio::join!(maintenance, watchdog);
    Ok(())
}

/// Rolls up, trims and checkpoints the history every `HISTORY_MAINTENANCE`
/// (and once at start, for what was left from before).
async fn maintain_history(state: Arc<AppState>, stop: impl std::future::Future<Output = ()>) {
    ticker::every(
        state,
        |_| HISTORY_MAINTENANCE,
        stop,
        |state| async move {
            let now = chrono::Utc::now().timestamp();
            let store = Arc::clone(&state.store);
            let _ = tokio::task::spawn_blocking(move || store.maintain(now)).await;
        },
    )
    .await
}

/// Puts `new`'s live part in effect at once (every task that keeps a
/// setting is told) and keeps the startup part; returns the startup keys that
/// changed and wait for the next start, each of which is warned about.
pub fn reload(state: &AppState, new: DaemonSettings) -> Vec<&'static str> {
    let old = state.settings();
    let waiting = old.startup_changes(&new);
    for key in &waiting {
        tracing::warn!(key, "{key} changed: it takes effect at the next start");
    }
    tracing::info!(
        paths = ?new.core.log_paths,
        refresh_queries = new.core.refresh.len(),
        "configuration reloaded"
    );
    state.replace_settings(old.reloaded(new));
    waiting
}
