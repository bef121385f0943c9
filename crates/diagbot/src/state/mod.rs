//! What the daemon's parts share: the engine's cache, the settings (swapped
//! whole by a reload), the metrics, the health watch and its events. The
//! HTTP API, the Telegram bot, systemd notifications and the background tasks
//! all take an `Arc<AppState>`; none of them imports another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use diagbot_core::diagnostics::Diagnostics;
use diagbot_core::groups::ErrorWatch;
// The health watch is `health::Watch`, the settings' channel tokio's `watch`,
// each service's new-error watch `ErrorWatch`: named by their modules here.
use diagbot_core::health;
use diagbot_core::probe::host::SharedHost;
use diagbot_core::probe::Status;
use tokio::sync::{broadcast, watch};

pub mod heartbeat;

use crate::metrics::{Metrics, ScanMetrics};
use crate::settings::DaemonSettings;
use crate::store::{Availability, Limits, Store};

/// Events waiting for a slow subscriber before the oldest are dropped.
const EVENT_BACKLOG: usize = 64;

/// Sets diagbot's own log filter (`log.level`) while it runs.
pub type LogLevelSetter = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What the HTTP handlers, the bot and the background tasks share.
pub struct AppState {
    /// The engine behind the cache.
    pub diag: Diagnostics,
    settings: watch::Sender<Arc<DaemonSettings>>,
    /// Counters and gauges for `/metrics`.
    pub metrics: Metrics,
    /// When the daemon started.
    pub started: Instant,
    /// Samples of the services' memory, and what changed.
    watch: Mutex<health::Watch>,
    /// Health events (OOM kills, restarts, projected OOMs, ...) for whoever listens.
    pub events: broadcast::Sender<health::Event>,
    /// Applies a reloaded `log.level`; none when the log cannot change (tests).
    log_level: Option<LogLevelSetter>,
    /// The host's collector: CPU use is measured from its previous reading.
    pub host: SharedHost,
    /// When the refresh and the sampler began their current runs.
    pub heartbeat: heartbeat::Heartbeat,
    /// Whole-log scans run one at a time: `/api/v1/groups`, Telegram `/top`, explain.
    pub groups_in_flight: tokio::sync::Semaphore,
    /// The history store (off when `storage.enabled` is false or it could not be opened).
    pub store: Arc<Store>,
    /// Each service's new-error watch (appended error lines, grouped), by service name.
    pub error_watches: Arc<Mutex<HashMap<String, ErrorWatch>>>,
    /// The number each service's memory climbs with, by service name, where
    /// explain is sure of one (the explainer task keeps it).
    pub explained: Mutex<HashMap<String, diagbot_core::explain::Candidate>>,
    /// Each service's configured numbers (`numbers`), followed in its logs, by service name.
    pub numbers: Arc<Mutex<HashMap<String, diagbot_core::explain::follow::NumberFollower>>>,
}

impl AppState {
    /// The state for `settings`, with no way to change the log level.
    pub fn new(settings: DaemonSettings) -> Arc<Self> {
        AppState::with_log_level(settings, None)
    }

    /// The state for `settings`; `log_level` applies a reloaded level.
    pub fn with_log_level(
        settings: DaemonSettings,
        log_level: Option<LogLevelSetter>,
    ) -> Arc<Self> {
        // The scan counters first: the engine's observer holds a clone.
        let scans = ScanMetrics::default();
        let observed = scans.clone();
        let diag = Diagnostics::new(settings.core.cache.clone(), Default::default())
            .scan_threads(settings.core.scan_threads())
            .observed(Arc::new(move |result| observed.observe(result)));
        diag.engine()
            .set_max_decompressed(settings.core.max_decompressed);
        diag.engine().set_journal(settings.core.journal());
        let metrics = Metrics::new(Arc::clone(diag.cache()), scans);
        let host = SharedHost::new(settings.core.proc_root.clone());
        let store = Arc::new(open_store(
            &settings,
            metrics.history_write_failures.clone(),
        ));
        Arc::new(AppState {
            store,
            diag,
            watch: Mutex::new(health::Watch::new(settings.core.health.clone())),
            settings: watch::Sender::new(Arc::new(settings)),
            metrics,
            started: Instant::now(),
            events: broadcast::channel(EVENT_BACKLOG).0,
            log_level,
            groups_in_flight: tokio::sync::Semaphore::new(1),
            error_watches: Default::default(),
            explained: Default::default(),
            numbers: Default::default(),
            heartbeat: Default::default(),
            host,
        })
    }

    /// The settings in effect now.
    pub fn settings(&self) -> Arc<DaemonSettings> {
        Arc::clone(&self.settings.borrow())
    }

    /// A receiver told of every reload.
    pub fn subscribe_settings(&self) -> watch::Receiver<Arc<DaemonSettings>> {
        self.settings.subscribe()
    }

    /// Puts `settings` in effect: the parts that hold a setting of their own
    /// are told, and every subscriber wakes.
    pub fn replace_settings(&self, settings: DaemonSettings) {
        let cache = self.diag.cache();
        cache.set_warn_entries(settings.core.cache.warn_entries);
        cache.set_max_concurrent_loads(settings.core.cache.max_concurrent_loads);
        self.diag
            .engine()
            .set_max_decompressed(settings.core.max_decompressed);
        self.diag.engine().set_journal(settings.core.journal());
        if let Some(set) = &self.log_level {
            if let Err(e) = set(&settings.log.level) {
                tracing::warn!("log.level not applied: {e}");
            }
        }
        self.lock_watch().set_settings(settings.core.health.clone());
        self.settings.send_replace(Arc::new(settings));
    }

    /// The health watch.
    pub fn lock_watch(&self) -> MutexGuard<'_, health::Watch> {
        // A panic while holding it leaves samples that are still samples.
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status now, with the memory trends from the samples taken so far
    /// and the cache's size: what `/api/v1/status` and `/status` show.
    pub async fn status(&self) -> Result<Status, tokio::task::JoinError> {
        let settings = self.settings();
        let host = self.host.get(&settings.core.proc_root);
        let mut status =
            tokio::task::spawn_blocking(move || diagbot_core::probe::status(&settings.core, &host))
                .await?;
        {
            let watch = self.lock_watch();
            status.host_memory_trend = watch.trend(health::HOST);
            for svc in &mut status.services {
                svc.memory_trend = watch.trend_now(&svc.name, svc.main_pid);
                if let (Some(trend), Some(found)) =
                    (svc.memory_trend.as_mut(), self.explained_for(&svc.name))
                {
                    trend.text = format!("{}; {}", trend.text, found.phrase());
                    trend.explained_by = Some(found);
                }
                // systemd counts a unit's restarts; the watch, a process match's.
                if svc.unit.is_none() && svc.restarts.is_none() {
                    svc.restarts = watch.returns(&svc.name);
                }
            }
        }
        status.diagbot.cache = Some(self.diag.cache().stats());
        status.diagbot.history = Some(self.history_state());
        Ok(status)
    }

    /// The number service `name`'s memory climbs with, when explain is sure.
    pub fn explained_for(&self, name: &str) -> Option<diagbot_core::explain::Candidate> {
        let explained = self.explained.lock().unwrap_or_else(|p| p.into_inner());
        explained.get(name).cloned()
    }

    /// Says, for each kill of a service's process in `report`, the process
    /// the watch saw the service come back as (systemd's restart counter
    /// says it for units; a process match has only this).
    pub fn fill_returns(&self, report: &mut diagbot_core::probe::oom::OomReport) {
        let watch = self.lock_watch();
        for kill in &mut report.kills {
            if let (Some(service), Some(pid)) = (&kill.service, kill.pid) {
                kill.returned_as = watch.returned_after(service, pid);
            }
        }
    }

    /// `on: PATH` or `off: WHY`, for `status` and `/healthz`.
    pub fn history_state(&self) -> String {
        match (self.store.availability(), self.store.path()) {
            (Availability::On, Some(path)) => format!("on: {}", path.display()),
            (Availability::On, None) => "on".into(),
            (Availability::Off(why), _) => format!("off: {why}"),
        }
    }
}

/// The store `settings` ask for, opened (or off, saying why).
fn open_store(
    settings: &DaemonSettings,
    failures: prometheus_client::metrics::counter::Counter,
) -> Store {
    let storage = &settings.storage;
    if !storage.enabled {
        return Store::off("storage.enabled is false");
    }
    let path = storage.resolved_path(&|k| std::env::var(k).ok());
    let secs = |d: std::time::Duration| d.as_secs() as i64;
    let limits = Limits {
        raw: secs(storage.retention.raw),
        five_minutes: secs(storage.retention.five_minutes),
        hourly: secs(storage.retention.hourly),
        max_events: storage.retention.max_events,
        max_known_groups: (settings.core.groups.max * diagbot_core::groups::watch::KNOWN_PER_GROUP)
            as u64,
    };
    Store::open(
        &path,
        storage.max_size,
        limits,
        failures,
        crate::store::RETRY_AFTER,
    )
}
