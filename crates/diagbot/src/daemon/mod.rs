//! The daemon: the cache's maintenance timer, the background refresh, the HTTP
//! server and systemd notifications, started together and stopped together.
//!
//! `run` takes its listener and a control channel as arguments, so tests bind
//! 127.0.0.1:0 and stop or reload it without signals.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use diagbot_core::config::{ConfigError, Settings};
use diagbot_core::diagnostics::Diagnostics;
use diagbot_core::health::{self, Event, Watch};
use diagbot_core::probe::host::SharedHost;
use diagbot_core::probe::Status;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};

use crate::http::metrics::Metrics;
use crate::systemd;

pub mod sampler;
pub mod scheduler;

/// Events waiting for a slow subscriber before the oldest are dropped.
const EVENT_BACKLOG: usize = 64;

/// How often moka's maintenance runs, freeing expired answers in an idle cache.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(1);
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

pub enum Control {
    /// Read the configuration again (SIGHUP).
    Reload,
    /// Stop (SIGTERM, SIGINT).
    Stop,
}

/// Reads the configuration again, for a reload.
pub type Reloader = Box<dyn Fn() -> Result<Settings, ConfigError> + Send + Sync>;

/// What the HTTP handlers and the scheduler share.
pub struct AppState {
    pub diag: Diagnostics,
    settings: RwLock<Arc<Settings>>,
    pub metrics: Metrics,
    pub started: Instant,
    /// Samples of the services' memory, and what changed.
    watch: Mutex<Watch>,
    /// Health events (OOM kills, restarts, projected OOMs) for whoever listens.
    pub events: broadcast::Sender<Event>,
    /// The host's collector: CPU use is measured from its previous reading.
    pub host: SharedHost,
}

impl AppState {
    pub fn new(settings: Settings) -> Arc<Self> {
        // The metrics need the cache, and the cache's observer needs the metrics:
        // the observer reaches them through a cell filled right after.
        let cell: Arc<std::sync::OnceLock<std::sync::Weak<AppState>>> = Arc::default();
        let observer_cell = Arc::clone(&cell);
        let diag = Diagnostics::new(settings.cache.clone(), Default::default()).observed(Arc::new(
            move |result| {
                if let Some(state) = observer_cell.get().and_then(std::sync::Weak::upgrade) {
                    state.metrics.scan_bytes.inc_by(result.bytes_scanned);
                    state
                        .metrics
                        .scan_seconds
                        .observe(result.elapsed.as_secs_f64());
                }
            },
        ));
        let metrics = Metrics::new(Arc::clone(diag.cache()), settings.proc_root.clone());
        let watch = Mutex::new(Watch::new(settings.health.clone()));
        let host = SharedHost::new(settings.proc_root.clone());
        let state = Arc::new(AppState {
            diag,
            settings: RwLock::new(Arc::new(settings)),
            metrics,
            started: Instant::now(),
            watch,
            events: broadcast::channel(EVENT_BACKLOG).0,
            host,
        });
        let _ = cell.set(Arc::downgrade(&state));
        state
    }

    pub fn settings(&self) -> Arc<Settings> {
        match self.settings.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn lock_watch(&self) -> MutexGuard<'_, Watch> {
        // A panic while holding it leaves samples that are still samples.
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status now, with the memory trends from the samples taken so far
    /// and the cache's size: what `/api/v1/status` and `/status` show.
    pub async fn status(&self) -> Result<Status, tokio::task::JoinError> {
        let settings = self.settings();
        let host = self.host.get(&settings.proc_root);
        let mut status =
            tokio::task::spawn_blocking(move || diagbot_core::probe::status(&settings, &host))
                .await?;
        {
            let watch = self.lock_watch();
            status.host_memory_trend = watch.trend(health::HOST);
            for svc in &mut status.services {
                svc.memory_trend = watch.trend(&svc.name);
            }
        }
        status.diagbot.cache = Some(self.diag.cache().stats());
        Ok(status)
    }

    fn replace_settings(&self, new: Settings) {
        match self.settings.write() {
            Ok(mut s) => *s = Arc::new(new),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
        }
    }
}

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
    let refresh = tokio::spawn(scheduler::run(Arc::clone(&state), stopped(stop_rx.clone())));
    let sampler = tokio::spawn(sampler::run(Arc::clone(&state), stopped(stop_rx.clone())));
    // The bot starts with the daemon; a token set by a reload needs a restart.
    let telegram = state.settings().telegram.clone().map(|t| {
        tokio::spawn(crate::telegram::run(
            Arc::clone(&state),
            t,
            stopped(stop_rx.clone()),
        ))
    });
    let watchdog = systemd::spawn_watchdog(stopped(stop_rx.clone()));
    let stop_rx_server = stop_rx.clone();
    let router = crate::http::router(Arc::clone(&state));
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stopped(stop_rx_server))
            .await
    });
    systemd::ready(&state);

    while let Some(msg) = control.recv().await {
        match msg {
            Control::Reload => apply_reload(&state, &reload),
            Control::Stop => break,
        }
    }
    tracing::info!("stopping");
    systemd::stopping();
    let _ = stop_tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!("HTTP server failed: {e}"),
        Ok(Err(e)) => tracing::error!("HTTP server task failed: {e}"),
        Err(_) => {
            tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway")
        }
    }
    refresh.abort();
    sampler.abort();
    if let Some(t) = telegram {
        t.abort();
    }
    let _ = tokio::join!(maintenance, watchdog);
    Ok(())
}

/// Runs `work` every `interval_of(settings)` until `stop`: a missed tick is
/// skipped, never bunched, one run never overlaps the next, and an interval
/// changed by a reload takes effect after the current run.
pub(crate) async fn every<F, Fut>(
    state: Arc<AppState>,
    interval_of: fn(&Settings) -> Duration,
    stop: impl std::future::Future<Output = ()>,
    mut work: F,
) where
    F: FnMut(Arc<AppState>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use tokio::time::{interval_at, Instant as TokioInstant, MissedTickBehavior};
    tokio::pin!(stop);
    let mut interval = interval_of(&state.settings());
    let mut tick = interval_at(TokioInstant::now(), interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        work(Arc::clone(&state)).await;
        let wanted = interval_of(&state.settings());
        if wanted != interval {
            interval = wanted;
            tick = interval_at(TokioInstant::now() + interval, interval);
            tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        }
    }
}

fn apply_reload(state: &AppState, reload: &Reloader) {
    match reload() {
        Ok(new) => {
            let old = state.settings();
            if new.listen != old.listen
                || new.cache.ttl != old.cache.ttl
                || new.cache.budget_bytes != old.cache.budget_bytes
            {
                tracing::warn!("http.listen and cache settings take effect at the next start; the rest is applied now");
            }
            let bot = |s: &Settings| {
                s.telegram.as_ref().map(|t| {
                    (
                        t.token.clone(),
                        t.api_url.clone(),
                        t.alert_cooldown,
                        t.outbox_size,
                    )
                })
            };
            if bot(&new) != bot(&old) {
                tracing::warn!("telegram.token, api_url, alert_cooldown and outbox_size take effect at the next start; the chat lists are applied now");
            }
            tracing::info!(
                paths = ?new.log_paths,
                refresh_queries = new.refresh.len(),
                "configuration reloaded"
            );
            state.replace_settings(new);
        }
        Err(e) => tracing::error!("configuration not reloaded, keeping the old one: {e}"),
    }
}
