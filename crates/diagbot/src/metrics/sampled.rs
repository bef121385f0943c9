//! The figures of the latest health sample, as `/metrics` shows them: each
//! service's memory, limit, state, instance and diagbot's own OOM projection
//! (its Theil–Sen trend, instance-aware), and the host's. A figure that cannot
//! be known is left out rather than written as 0: an absent ETA means "not
//! climbing", which is what an alert on it must read.

use diagbot_core::health::{Observation, Watch, HOST};
use diagbot_core::probe::service::{ServiceState, ServiceStatus};
use diagbot_core::trend::{Trend, TrendReport};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// A service's figures from the latest sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFigures {
    pub name: String,
    /// Whether it runs; `None` when its state could not be read.
    pub up: Option<bool>,
    pub rss_bytes: Option<u64>,
    pub limit_bytes: Option<u64>,
    /// 0 before there is a trend, or when it is not running.
    pub slope_bytes_per_sec: Option<f64>,
    /// Seconds until the limit at the current climb; `None` when not climbing.
    pub oom_eta_secs: Option<f64>,
    /// When the running instance started (seconds since the epoch).
    pub instance_started_secs: Option<f64>,
    pub restarts: Option<u64>,
}

/// The host's figures from the latest sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFigures {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub oom_eta_secs: Option<f64>,
}

/// Everything one sample shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub services: Vec<ServiceFigures>,
    pub host: HostFigures,
}

impl Figures {
    /// The figures of `obs`, with the trends `watch` drew from it (call after
    /// the watch settled the sample).
    pub fn of(obs: &Observation, watch: &Watch) -> Figures {
        let slopes = watch.slopes();
        let services = obs
            .services
            .iter()
            .map(|s| {
                let trend = watch.trend(&s.name);
                ServiceFigures {
                    name: s.name.clone(),
                    up: is_up(s),
                    rss_bytes: s.rss_bytes,
                    limit_bytes: s.memory_limit_bytes,
                    slope_bytes_per_sec: slopes
                        .iter()
                        .find(|(n, _)| *n == s.name)
                        .map(|(_, slope)| *slope),
                    oom_eta_secs: trend.as_ref().and_then(eta),
                    // Whole seconds: the start is read again after a restart of
                    // diagbot, and a jitter of ticks must not read as a new instance.
                    instance_started_secs: watch.started_secs(&s.name).map(f64::round),
                    restarts: s.restarts,
                }
            })
            .collect();
        Figures {
            services,
            host: HostFigures {
                total_bytes: obs.host_total_bytes,
                available_bytes: obs.host_available_bytes,
                oom_eta_secs: watch.trend(HOST).as_ref().and_then(eta),
            },
        }
    }

    /// Writes every figure there is, one family per figure.
    pub fn encode(&self, e: &mut DescriptorEncoder) -> std::fmt::Result {
        let host = &self.host;
        host_gauge(
            e,
            "diagbot_host_memory_total_bytes",
            "Memory of the host (MemTotal, from the latest sample)",
            host.total_bytes.map(|v| v as f64),
        )?;
        host_gauge(
            e,
            "diagbot_host_memory_available_bytes",
            "Memory available on the host (MemAvailable, from the latest sample)",
            host.available_bytes.map(|v| v as f64),
        )?;
        host_gauge(
            e,
            "diagbot_host_oom_eta_seconds",
            "Seconds until the host's used memory reaches its total at the current climb (diagbot's trend); absent when not climbing",
            host.oom_eta_secs,
        )?;
        let services = &self.services;
        service_gauges(
            e,
            "diagbot_service_up",
            "1 when the service runs (its unit is active, or the process match found it), 0 when not",
            services,
            |s| s.up.map(|up| if up { 1.0 } else { 0.0 }),
        )?;
        service_gauges(
            e,
            "diagbot_service_rss_bytes",
            "Resident memory of the service's processes",
            services,
            |s| s.rss_bytes.map(|v| v as f64),
        )?;
        service_gauges(
            e,
            "diagbot_service_memory_limit_bytes",
            "The memory limit the service is killed at (config, cgroup, unit MemoryMax, else the host's memory)",
            services,
            |s| s.limit_bytes.map(|v| v as f64),
        )?;
        service_gauges(
            e,
            "diagbot_service_rss_slope_bytes_per_second",
            "Trend of the service's RSS (Theil-Sen over the running instance's samples; 0 before there is one)",
            services,
            |s| s.slope_bytes_per_sec,
        )?;
        service_gauges(
            e,
            "diagbot_service_oom_eta_seconds",
            "Seconds until the service reaches its memory limit at its current climb (diagbot's trend); absent when not climbing",
            services,
            |s| s.oom_eta_secs,
        )?;
        service_gauges(
            e,
            "diagbot_service_instance_start_time_seconds",
            "When the service's running instance started, in seconds since the epoch; a change is a new instance",
            services,
            |s| s.instance_started_secs,
        )?;
        if services.iter().any(|s| s.restarts.is_some()) {
            let mut family = e.encode_descriptor(
                "diagbot_service_restarts",
                "systemd's restart count of the service's unit (NRestarts)",
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for s in services {
                if let Some(v) = s.restarts {
                    ConstCounter::new(v).encode(family.encode_family(&[(
                        "service",
                        super::label::escaped(&s.name).as_str(),
                    )])?)?;
                }
            }
        }
        Ok(())
    }
}

/// Running: a unit active (or reloading, refreshing), or a process match that
/// found processes.
fn is_up(s: &ServiceStatus) -> Option<bool> {
    s.state.as_ref().map(|state| {
        matches!(
            state,
            ServiceState::Active
                | ServiceState::Reloading
                | ServiceState::Refreshing
                | ServiceState::Running
        )
    })
}

/// The projected OOM of a climbing trend of a running instance.
fn eta(report: &TrendReport) -> Option<f64> {
    let running = report.instance.as_ref().is_none_or(|i| i.running);
    match report.trend {
        Trend::Climbing {
            limit_in_secs: Some(eta),
            ..
        } if running => Some(eta),
        _ => None,
    }
}

/// A gauge without labels, when there is a value.
fn host_gauge(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<f64>,
) -> std::fmt::Result {
    let Some(value) = value else { return Ok(()) };
    let g = ConstGauge::new(value);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// A gauge per service that has a value; no family at all when none has.
fn service_gauges(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    services: &[ServiceFigures],
    value: impl Fn(&ServiceFigures) -> Option<f64>,
) -> std::fmt::Result {
    if services.iter().all(|s| value(s).is_none()) {
        return Ok(());
    }
    let mut family = e.encode_descriptor(name, help, None, ConstGauge::new(0f64).metric_type())?;
    for s in services {
        if let Some(v) = value(s) {
            ConstGauge::new(v).encode(
                family.encode_family(&[("service", super::label::escaped(&s.name).as_str())])?,
            )?;
        }
    }
    Ok(())
}
