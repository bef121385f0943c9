//! The figures read at each scrape rather than counted: the cache's (exact
//! when the caller ran its maintenance first), diagbot's own process, and the
//! latest health sample's.

use std::sync::{Arc, Mutex};

use diagbot_core::cache::ResultCache;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::sampled::Figures;

/// Figures read at scrape time: the cache's counters and the process's footprint.
pub(super) struct Snapshot {
    pub cache: Arc<ResultCache>,
    pub sampled: Arc<Mutex<Figures>>,
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
        self.sampled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .encode(&mut e)?;
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
