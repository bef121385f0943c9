//! Prometheus metrics. Counters diagbot owns (requests, scans, refreshes) live
//! in a per-daemon registry (no global recorder, so tests can run many
//! daemons in one process); the cache's and the process's figures are read at
//! each scrape by a collector, and the host's and services' come from the
//! latest health sample (nothing here reads `/proc` but diagbot's own files).

use std::sync::{Arc, Mutex};

use diagbot_core::health::Event;

use diagbot_core::cache::ResultCache;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabel {
    pub service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// A service's figures from the latest health sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFigures {
    pub name: String,
    pub rss_bytes: Option<u64>,
    pub slope_bytes_per_sec: Option<f64>,
    pub restarts: Option<u64>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabel {
    pub command: String,
}

/// What each log scan adds: made before the engine, which reports to a clone.
#[derive(Clone, Debug)]
pub struct ScanMetrics {
    /// Bytes read.
    pub bytes: Counter,
    /// Time of each scan.
    pub seconds: Histogram,
}

impl Default for ScanMetrics {
    fn default() -> Self {
        ScanMetrics {
            bytes: Counter::default(),
            seconds: Histogram::new(exponential_buckets(0.001, 4.0, 9)),
        }
    }
}

impl ScanMetrics {
    /// Counts one scan's bytes and time.
    pub fn observe(&self, result: &diagbot_core::SearchResult) {
        self.bytes.inc_by(result.bytes_scanned);
        self.seconds.observe(result.elapsed.as_secs_f64());
    }
}

/// Figures from the latest health sample.
#[derive(Debug, Default)]
struct Sampled {
    services: Vec<ServiceFigures>,
    host_available_bytes: Option<u64>,
}

/// The Telegram bot's counters.
#[derive(Default)]
pub struct TelegramMetrics {
    pub updates: Counter,
    pub commands: Family<CommandLabel, Counter>,
    pub refused: Counter,
    pub sent: Counter,
    pub send_failures: Counter,
    pub outbox: prometheus_client::metrics::gauge::Gauge,
    pub outbox_dropped: prometheus_client::metrics::gauge::Gauge,
    pub alerts: Family<KindLabel, Counter>,
}

impl TelegramMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "diagbot_telegram_updates",
            "Telegram updates received",
            self.updates.clone(),
        );
        registry.register(
            "diagbot_telegram_commands",
            "Telegram commands answered, by command",
            self.commands.clone(),
        );
        registry.register(
            "diagbot_telegram_refused",
            "Telegram messages from chats not allowed",
            self.refused.clone(),
        );
        registry.register(
            "diagbot_telegram_sent",
            "Telegram messages sent",
            self.sent.clone(),
        );
        registry.register(
            "diagbot_telegram_send_failures",
            "Telegram sends that failed (each retry counts)",
            self.send_failures.clone(),
        );
        registry.register(
            "diagbot_telegram_outbox",
            "Telegram messages waiting to be sent",
            self.outbox.clone(),
        );
        registry.register(
            "diagbot_telegram_outbox_dropped",
            "Telegram messages dropped from a full outbox (oldest first)",
            self.outbox_dropped.clone(),
        );
        registry.register(
            "diagbot_telegram_alerts",
            "Alerts raised, by kind (before cooldowns)",
            self.alerts.clone(),
        );
    }

    pub fn count_command(&self, command: &str) {
        self.commands
            .get_or_create(&CommandLabel {
                command: command.to_string(),
            })
            .inc();
    }

    pub fn count_alert(&self, kind: &str) {
        self.alerts
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn set_outbox(&self, waiting: usize, dropped: u64) {
        self.outbox.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        self.outbox_dropped
            .set(i64::try_from(dropped).unwrap_or(i64::MAX));
    }
}

pub struct Metrics {
    registry: Registry,
    pub telegram: TelegramMetrics,
    /// OOM kills seen while diagbot ran, by service (`unknown` when none could be named).
    pub oom_kills: Family<ServiceLabel, Counter>,
    /// Health events by kind.
    pub health_events: Family<KindLabel, Counter>,
    /// Error groups new since start, by service (never by group: bounded labels).
    pub error_groups_new: Family<ServiceLabel, Counter>,
    sampled: Arc<Mutex<Sampled>>,
    pub http_requests: Family<RequestLabels, Counter>,
    /// Connections closed at once because `MAX_CONNECTIONS` were open.
    pub refused_connections: Counter,
    /// Requests answered 429: their client had the most in flight already.
    pub refused_requests: Counter,
    pub refresh_runs: Counter,
    /// Refresh queries that failed or gave a partial answer (not cached).
    pub refresh_failed: Counter,
    /// Refreshes abandoned because the next was due.
    pub refresh_abandoned: Counter,
    pub refresh_seconds: Histogram,
}

impl Metrics {
    pub fn new(cache: Arc<ResultCache>, scans: ScanMetrics) -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "diagbot_http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        let refused_connections = Counter::default();
        registry.register(
            "diagbot_http_refused_connections",
            "Connections closed at once because the most were already open",
            refused_connections.clone(),
        );
        let refused_requests = Counter::default();
        registry.register(
            "diagbot_http_refused_requests",
            "Requests answered 429 because their client had the most in flight",
            refused_requests.clone(),
        );
        registry.register("diagbot_scan_bytes", "Bytes read by log scans", scans.bytes);
        registry.register(
            "diagbot_scan_seconds",
            "Time of one log scan",
            scans.seconds,
        );
        let refresh_runs = Counter::default();
        registry.register(
            "diagbot_refresh_runs",
            "Background refresh runs",
            refresh_runs.clone(),
        );
        let refresh_failed = Counter::default();
        registry.register(
            "diagbot_refresh_failed",
            "Refresh queries that failed or whose answer was partial (not cached)",
            refresh_failed.clone(),
        );
        let refresh_abandoned = Counter::default();
        registry.register(
            "diagbot_refresh_abandoned",
            "Refreshes abandoned because they still ran when the next was due",
            refresh_abandoned.clone(),
        );
        let refresh_seconds = Histogram::new(exponential_buckets(0.001, 4.0, 9));
        registry.register(
            "diagbot_refresh_seconds",
            "Time of one background refresh of all queries",
            refresh_seconds.clone(),
        );
        let oom_kills = Family::<ServiceLabel, Counter>::default();
        registry.register(
            "diagbot_oom_kills",
            "OOM kills seen while diagbot ran, by service",
            oom_kills.clone(),
        );
        let health_events = Family::<KindLabel, Counter>::default();
        registry.register(
            "diagbot_health_events",
            "OOM kills, restarts and projected OOMs seen, by kind",
            health_events.clone(),
        );
        let error_groups_new = Family::<ServiceLabel, Counter>::default();
        registry.register(
            "diagbot_error_groups_new",
            "Error groups seen for the first time since diagbot started, by service",
            error_groups_new.clone(),
        );
        let telegram = TelegramMetrics::default();
        telegram.register(&mut registry);
        let sampled: Arc<Mutex<Sampled>> = Arc::default();
        registry.register_collector(Box::new(Snapshot {
            cache,
            sampled: Arc::clone(&sampled),
        }));
        Metrics {
            registry,
            telegram,
            oom_kills,
            health_events,
            error_groups_new,
            sampled,
            http_requests,
            refused_connections,
            refused_requests,
            refresh_runs,
            refresh_failed,
            refresh_abandoned,
            refresh_seconds,
        }
    }

    /// The latest sample's figures: each service's, and the host's available memory.
    pub fn set_sampled(&self, services: Vec<ServiceFigures>, host_available_bytes: Option<u64>) {
        *self.sampled.lock().unwrap_or_else(|p| p.into_inner()) = Sampled {
            services,
            host_available_bytes,
        };
    }

    pub fn count_event(&self, event: &Event) {
        self.health_events
            .get_or_create(&KindLabel {
                kind: event.kind().to_string(),
            })
            .inc();
        if let Event::ErrorGroup {
            service,
            back_after_secs: None,
            ..
        } = event
        {
            self.error_groups_new
                .get_or_create(&ServiceLabel {
                    service: service.clone(),
                })
                .inc();
        }
        if let Event::OomKill { service, .. } = event {
            let service = service.clone().unwrap_or_else(|| "unknown".into());
            self.oom_kills
                .get_or_create(&ServiceLabel { service })
                .inc();
        }
    }

    /// The Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Figures read at scrape time: the cache's counters and the process's footprint.
struct Snapshot {
    cache: Arc<ResultCache>,
    sampled: Arc<Mutex<Sampled>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let c = ConstCounter::new(value);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> std::fmt::Result {
    let g = ConstGauge::new(value);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let s = self.cache.stats();
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        gauge(
            &mut e,
            "diagbot_cache_entries",
            "Answers in the result cache",
            n(s.entries),
        )?;
        gauge(
            &mut e,
            "diagbot_cache_bytes",
            "Bytes the cached answers weigh",
            n(s.bytes),
        )?;
        gauge(
            &mut e,
            "diagbot_cache_budget_bytes",
            "The cache's byte budget",
            n(s.budget_bytes),
        )?;
        counter(
            &mut e,
            "diagbot_cache_hits",
            "Answers served from the cache",
            s.hits,
        )?;
        counter(
            &mut e,
            "diagbot_cache_misses",
            "Questions not in the cache",
            s.misses,
        )?;
        counter(
            &mut e,
            "diagbot_cache_loads",
            "Scans run to fill the cache",
            s.loads,
        )?;
        counter(
            &mut e,
            "diagbot_cache_load_errors",
            "Scans that failed",
            s.load_errors,
        )?;
        let evictions = ConstCounter::new(0u64);
        let mut family = e.encode_descriptor(
            "diagbot_cache_evictions",
            "Answers removed from the cache, by cause",
            None,
            evictions.metric_type(),
        )?;
        for (cause, value) in [
            ("expired", s.evictions_expired),
            ("size", s.evictions_size),
            ("explicit", s.evictions_explicit),
        ] {
            ConstCounter::new(value).encode(family.encode_family(&[("cause", cause)])?)?;
        }
        let available = self
            .sampled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .host_available_bytes;
        if let Some(bytes) = available {
            gauge(
                &mut e,
                "diagbot_host_memory_available_bytes",
                "Memory available on the host (MemAvailable, from the latest sample)",
                n(bytes),
            )?;
        }
        self.encode_services(&mut e)?;
        if let Some(rss) = diagbot_core::process::resident_bytes() {
            gauge(
                &mut e,
                "process_resident_memory_bytes",
                "Resident memory",
                n(rss),
            )?;
        }
        if let Some(fds) = diagbot_core::process::open_fds() {
            gauge(&mut e, "process_open_fds", "Open file descriptors", n(fds))?;
        }
        Ok(())
    }
}

impl Snapshot {
    /// RSS, slope and restarts per service, from the latest sample.
    fn encode_services(&self, e: &mut DescriptorEncoder) -> std::fmt::Result {
        let figures = self
            .sampled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .services
            .clone();
        if figures.is_empty() {
            return Ok(());
        }
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut rss = e.encode_descriptor(
            "diagbot_service_rss_bytes",
            "Resident memory of the service's processes",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for f in &figures {
            if let Some(v) = f.rss_bytes {
                ConstGauge::new(n(v))
                    .encode(rss.encode_family(&[("service", f.name.as_str())])?)?;
            }
        }
        let mut slope = e.encode_descriptor(
            "diagbot_service_rss_slope_bytes_per_second",
            "Trend of the service's RSS (Theil-Sen over the trend window; 0 before there is one)",
            None,
            ConstGauge::new(0f64).metric_type(),
        )?;
        for f in &figures {
            if let Some(v) = f.slope_bytes_per_sec {
                ConstGauge::new(v).encode(slope.encode_family(&[("service", f.name.as_str())])?)?;
            }
        }
        let mut restarts = e.encode_descriptor(
            "diagbot_service_restarts",
            "systemd's restart count of the service's unit (NRestarts)",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for f in &figures {
            if let Some(v) = f.restarts {
                ConstCounter::new(v)
                    .encode(restarts.encode_family(&[("service", f.name.as_str())])?)?;
            }
        }
        Ok(())
    }
}
