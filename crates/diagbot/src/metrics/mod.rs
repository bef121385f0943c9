//! Prometheus metrics. Counters diagbot owns (requests, scans, refreshes) live
//! in a per-daemon registry (no global recorder, so tests can run many
//! daemons in one process); the cache's and the process's figures are read at
//! each scrape by a collector ([`snapshot`]), and the host's and services'
//! come from the latest health sample ([`sampled`]; nothing here reads
//! `/proc` but diagbot's own files). Labels are bounded: a configured service
//! name, a level, a kind, a route; never a pattern, path, pid or group id.

mod exposition;
pub mod label;
mod log_lines;
mod sampled;
mod snapshot;
mod telegram;

use std::sync::{Arc, Mutex};

use diagbot_core::cache::ResultCache;
use diagbot_core::health::Event;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub use exposition::{to_prometheus_text, Exposition};
pub use log_lines::{LogLineLabels, LogLines};
pub use sampled::{Figures, HostFigures, ServiceFigures};
pub use telegram::{CommandLabel, TelegramMetrics};

pub use label::LabelText;
use snapshot::Snapshot;

/// The service an OOM kill is counted under when no source names one.
const UNKNOWN_SERVICE: &str = "unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabel {
    pub service: LabelText,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NumberLabels {
    pub service: LabelText,
    pub name: LabelText,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
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

pub struct Metrics {
    registry: Registry,
    pub telegram: TelegramMetrics,
    /// OOM kills seen while diagbot ran, by service (`unknown` when none could be named).
    pub oom_kills: Family<ServiceLabel, Counter>,
    /// Health events by kind.
    pub health_events: Family<KindLabel, Counter>,
    /// Error groups new since start, by service (never by group: bounded labels).
    pub error_groups_new: Family<ServiceLabel, Counter>,
    /// The heap each service's new-error watch holds (within `groups.budget` together).
    pub error_groups_heap: Family<ServiceLabel, Gauge>,
    /// The latest value of each number a service's configuration follows.
    pub log_numbers: Family<NumberLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    sampled: Arc<Mutex<Figures>>,
    /// Lines appended to each service's logs, by level.
    pub log_lines: LogLines,
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
    /// History ticks not written: a full disk, a writer behind, an error.
    pub history_write_failures: Counter,
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
        let history_write_failures = Counter::default();
        registry.register(
            "diagbot_history_write_failures",
            "History ticks not written (a full disk, the writer behind, an error)",
            history_write_failures.clone(),
        );
        let oom_kills = Family::<ServiceLabel, Counter>::default();
        registry.register(
            "diagbot_oom_kills",
            "OOM kills seen while diagbot ran, by service",
            oom_kills.clone(),
        );
        let health_events = Family::<KindLabel, Counter>::default();
        let error_groups_new = Family::<ServiceLabel, Counter>::default();
        registry.register(
            "diagbot_error_groups_new",
            "Error groups seen for the first time since diagbot started, by service",
            error_groups_new.clone(),
        );
        let error_groups_heap = Family::<ServiceLabel, Gauge>::default();
        registry.register_with_unit(
            "diagbot_error_groups_heap",
            "Heap held by each service's new-error watch: its groups (all services' together within groups.budget), known ids and file marks",
            prometheus_client::registry::Unit::Bytes,
            error_groups_heap.clone(),
        );
        let log_numbers =
            Family::<NumberLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "diagbot_log_number",
            "The latest value of each number a service's configuration follows in its logs (services[].numbers)",
            log_numbers.clone(),
        );
        registry.register(
            "diagbot_health_events",
            "OOM kills, restarts and projected OOMs seen, by kind",
            health_events.clone(),
        );
        let telegram = TelegramMetrics::default();
        telegram.register(&mut registry);
        let log_lines = LogLines::default();
        registry.register(
            "diagbot_log_lines",
            "Lines appended to each service's logs since diagbot started, by level (read incrementally at each health sample)",
            log_lines.family.clone(),
        );
        let sampled: Arc<Mutex<Figures>> = Arc::default();
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
            error_groups_heap,
            log_numbers,
            sampled,
            log_lines,
            http_requests,
            refused_connections,
            refused_requests,
            refresh_runs,
            refresh_failed,
            refresh_abandoned,
            refresh_seconds,
            history_write_failures,
        }
    }

    /// The latest sample's figures. Each service's OOM-kill and new-error
    /// counters are created at 0, so the first is an increase a rule can see.
    pub fn set_sampled(&self, figures: Figures) {
        for s in &figures.services {
            drop(self.error_groups_new.get_or_create(&ServiceLabel {
                service: s.name.clone().into(),
            }));
        }
        for name in figures
            .services
            .iter()
            .map(|s| s.name.as_str())
            .chain([UNKNOWN_SERVICE])
        {
            drop(self.oom_kills.get_or_create(&ServiceLabel {
                service: name.to_string().into(),
            }));
        }
        *self.sampled.lock().unwrap_or_else(|p| p.into_inner()) = figures;
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
                    service: service.clone().into(),
                })
                .inc();
        }
        if let Event::ManyErrorGroups { service, new, .. } = event {
            self.error_groups_new
                .get_or_create(&ServiceLabel {
                    service: service.clone().into(),
                })
                .inc_by(*new);
        }
        if let Event::OomKill { service, .. } = event {
            let service = service.clone().unwrap_or_else(|| UNKNOWN_SERVICE.into());
            self.oom_kills
                .get_or_create(&ServiceLabel {
                    service: service.into(),
                })
                .inc();
        }
    }

    /// The registry in OpenMetrics text (see [`Exposition`] for the other format).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// `/metrics` for a request that accepts `accept`: its content type and body.
    pub fn render(&self, accept: Option<&str>) -> (&'static str, String) {
        let format = Exposition::for_accept(accept);
        (format.content_type(), format.render(self.encode()))
    }
}
