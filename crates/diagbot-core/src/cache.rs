//! The result cache: the lesson of the bot diagbot grew out of.
//!
//! That bot cached every log grep it ran, 5-10 MB an entry, with nothing to
//! remove them, until the OOM killer took it every hour. Here:
//! - entries are bounded answers ([`Cached`]: a search's, a grouping's)
//!   weighed by their heap size, under a byte budget (moka's `max_capacity` with a weigher) and a TTL;
//! - moka frees expired entries only during maintenance, which otherwise runs
//!   inside other cache calls, so an idle cache would keep them forever; a timer
//!   calls `run_pending_tasks()` (see [`ResultCache::spawn_maintenance`]);
//! - concurrent callers of one key share one load (`try_get_with`), and a
//!   semaphore bounds loads in flight, whose memory is outside the budget;
//! - an answer marked partial (a resource error on some file) is handed to
//!   its callers but never stored, nor replaces a stored one: the next
//!   question scans again rather than being served a degraded answer for a TTL;
//! - everything is counted, and a rate-limited warning fires when entries or
//!   bytes pass their thresholds.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::query::SearchResult;

/// An answer the cache holds: bounded, with a known heap size.
pub trait Cached: std::any::Any + Send + Sync {
    /// The heap bytes it holds (its weight, with its key's and [`ENTRY_OVERHEAD`]).
    fn heap_size(&self) -> usize;
    /// A degraded answer: handed to its callers, never stored.
    fn is_partial(&self) -> bool;
}

impl Cached for SearchResult {
    fn heap_size(&self) -> usize {
        SearchResult::heap_size(self)
    }

    fn is_partial(&self) -> bool {
        self.partial.is_some()
    }
}

/// One type of answer per key: a key is a canonical query, whose kind is its first word.
fn typed<T: Cached>(value: Arc<dyn Cached>) -> Arc<T> {
    let any: Arc<dyn std::any::Any + Send + Sync> = value;
    match any.downcast::<T>() {
        Ok(t) => t,
        Err(_) => unreachable!("a cache key names one kind of answer"),
    }
}

/// Bytes an entry costs beyond its result's heap: moka's node, the `Arc`, the key's struct.
const ENTRY_OVERHEAD: usize = 256;
/// At most one threshold warning in this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// How the result cache is bounded and when it warns.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    /// How long an answer is served after it was computed; fixed at start.
    pub ttl: Duration,
    /// The most the cached answers may weigh together (see [`weight`]); fixed at start.
    pub budget_bytes: u64,
    /// Warn when there are more entries than this.
    pub warn_entries: u64,
    /// Scans at once (at least 1); the memory of scans in flight is outside the budget.
    pub max_concurrent_loads: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl: Duration::from_secs(300),
            budget_bytes: 8 << 20,
            warn_entries: 20,
            max_concurrent_loads: 4,
        }
    }
}

/// Counters, readable at any time; entries and bytes are as of the last maintenance.
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    loads: AtomicU64,
    load_errors: AtomicU64,
    partial: AtomicU64,
    load_micros: AtomicU64,
    evicted_expired: AtomicU64,
    evicted_size: AtomicU64,
    evicted_explicit: AtomicU64,
    replaced: AtomicU64,
    entries: AtomicU64,
    bytes: AtomicU64,
}

/// The cache's counters at one moment. Counts run from the cache's start;
/// `entries` and `bytes` are as of the last [`ResultCache::maintain`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Answers served from the cache.
    pub hits: u64,
    /// Lookups that found no answer, and ran a load or joined one.
    pub misses: u64,
    /// Scans run, for misses and refreshes alike.
    pub loads: u64,
    /// Scans that failed.
    pub load_errors: u64,
    /// Answers handed out but not cached: partial, for lack of resources.
    #[serde(default)]
    pub partial: u64,
    /// Time spent scanning, summed over all loads, in seconds (waits for a permit excluded).
    pub load_seconds_total: f64,
    /// Entries dropped because their TTL ran out.
    pub evictions_expired: u64,
    /// Entries dropped to stay within the byte budget.
    pub evictions_size: u64,
    /// Entries dropped on request ([`ResultCache::invalidate_all`]).
    pub evictions_explicit: u64,
    /// Entries overwritten by a newer answer to the same query (a refresh).
    pub replaced: u64,
    /// Answers cached.
    pub entries: u64,
    /// Their weight in bytes (see [`weight`]).
    pub bytes: u64,
    /// [`CacheConfig::budget_bytes`].
    pub budget_bytes: u64,
    /// [`CacheConfig::ttl`], in whole seconds.
    pub ttl_seconds: u64,
}

/// Whether an answer came from the cache or was computed for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitOrLoad {
    /// The answer was in the cache.
    Hit,
    /// This caller ran the load.
    Loaded,
    /// Another caller's load, awaited.
    Joined,
}

/// Answers to queries, keyed by [`Query::canonical`](crate::Query::canonical),
/// within a byte budget and a TTL (see the module doc). Calls take `&self`;
/// share it in an `Arc`, which [`ResultCache::spawn_maintenance`] needs.
pub struct ResultCache {
    inner: moka::future::Cache<String, Arc<dyn Cached>>,
    counters: Arc<Counters>,
    /// Bounds scans in flight; replaced whole when the bound changes (loads
    /// already running finish on the old one).
    loads: Mutex<Arc<Semaphore>>,
    /// TTL and budget are fixed at start; the thresholds and the load bound follow reloads.
    config: CacheConfig,
    warn_entries: AtomicU64,
    max_concurrent_loads: AtomicUsize,
    last_warning: Mutex<Option<Instant>>,
}

impl ResultCache {
    /// An empty cache bounded by `config`. An idle cache frees its expired
    /// entries only in [`Self::maintain`]: start [`Self::spawn_maintenance`] too.
    pub fn new(config: CacheConfig) -> Self {
        let counters = Arc::new(Counters::default());
        let listener_counters = Arc::clone(&counters);
        let inner = moka::future::Cache::builder()
            .max_capacity(config.budget_bytes)
            .weigher(|key: &String, value: &Arc<dyn Cached>| {
                weight(key, value.as_ref()).try_into().unwrap_or(u32::MAX)
            })
            .time_to_live(config.ttl)
            .eviction_listener(move |_key, _value, cause| {
                let c = &listener_counters;
                let counter = match cause {
                    RemovalCause::Expired => &c.evicted_expired,
                    RemovalCause::Size => &c.evicted_size,
                    RemovalCause::Explicit => &c.evicted_explicit,
                    RemovalCause::Replaced => &c.replaced,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .build();
        ResultCache {
            inner,
            counters,
            loads: Mutex::new(Arc::new(Semaphore::new(config.max_concurrent_loads.max(1)))),
            warn_entries: AtomicU64::new(config.warn_entries),
            max_concurrent_loads: AtomicUsize::new(config.max_concurrent_loads.max(1)),
            config,
            last_warning: Mutex::new(None),
        }
    }

    /// The configuration in effect now (thresholds and load bound as last set).
    pub fn config(&self) -> CacheConfig {
        CacheConfig {
            warn_entries: self.warn_entries.load(Ordering::Relaxed),
            max_concurrent_loads: self.max_concurrent_loads.load(Ordering::Relaxed),
            ..self.config.clone()
        }
    }

    /// Warn when more answers than this are cached (a reload).
    pub fn set_warn_entries(&self, entries: u64) {
        self.warn_entries.store(entries, Ordering::Relaxed);
    }

    /// At most this many scans at once (a reload); scans already running finish.
    pub fn set_max_concurrent_loads(&self, loads: usize) {
        let loads = loads.max(1);
        if self.max_concurrent_loads.swap(loads, Ordering::Relaxed) != loads {
            *self.loads.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(Semaphore::new(loads));
        }
    }

    /// The cached answer for `key`, or the one `load` computes; concurrent callers
    /// of one key share one load. A partial answer is returned but not cached.
    pub async fn get_or_load<T, F, Fut, E>(
        &self,
        key: String,
        load: F,
    ) -> Result<(Arc<T>, HitOrLoad), Arc<E>>
    where
        T: Cached,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Send + Sync + 'static,
    {
        if let Some(hit) = self.inner.get(&key).await {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((typed(hit), HitOrLoad::Hit));
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let mut ran = false;
        let loaded = self
            .inner
            .try_get_with(key, async {
                ran = true;
                match self.timed_load(load).await {
                    Ok(r) if r.is_partial() => Err(Uncached::Partial(Arc::new(r))),
                    Ok(r) => Ok(Arc::new(r) as Arc<dyn Cached>),
                    Err(e) => Err(Uncached::Failed(Arc::new(e))),
                }
            })
            .await;
        let how = if ran {
            HitOrLoad::Loaded
        } else {
            HitOrLoad::Joined
        };
        let value = match loaded {
            Ok(value) => value,
            // moka stores only `Ok`: a partial answer travels as an error to stay out.
            Err(uncached) => match uncached.as_ref() {
                Uncached::Failed(e) => return Err(Arc::clone(e)),
                Uncached::Partial(r) => {
                    if ran {
                        self.counters.partial.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok((Arc::clone(r), how));
                }
            },
        };
        if ran {
            self.evict_now().await;
        }
        Ok((typed(value), how))
    }

    /// Computes the answer for `key` anew and stores it (the background
    /// refresh); a partial answer is returned but not stored, so the answer
    /// cached before stays.
    pub async fn refresh<T, F, Fut, E>(&self, key: String, load: F) -> Result<Arc<T>, E>
    where
        T: Cached,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let value = Arc::new(self.timed_load(load).await?);
        if value.is_partial() {
            self.counters.partial.fetch_add(1, Ordering::Relaxed);
            return Ok(value);
        }
        self.inner
            .insert(key, Arc::clone(&value) as Arc<dyn Cached>)
            .await;
        self.evict_now().await;
        Ok(value)
    }

    /// moka evicts lazily, in its housekeeping; a burst of new answers would
    /// stay over the budget until the next maintenance tick (a second away),
    /// so a new answer runs the housekeeping at once: the budget holds at
    /// every moment, not only once a second.
    async fn evict_now(&self) {
        self.inner.run_pending_tasks().await;
    }

    async fn timed_load<T, F, Fut, E>(&self, load: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Closed only if the cache is dropped mid-call; then load without a permit.
        let loads = Arc::clone(&self.loads.lock().unwrap_or_else(|p| p.into_inner()));
        let _permit = loads.acquire_owned().await.ok();
        let started = Instant::now();
        let result = load().await;
        let c = &self.counters;
        c.loads.fetch_add(1, Ordering::Relaxed);
        c.load_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        if result.is_err() {
            c.load_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Drops every cached answer, then runs [`Self::maintain`] so the stats show it.
    pub async fn invalidate_all(&self) {
        self.inner.invalidate_all();
        self.maintain().await;
    }

    /// Runs moka's pending work (expiry, eviction), then records the size and
    /// warns if it is past a threshold. Returns the stats after it.
    pub async fn maintain(&self) -> CacheStats {
        self.inner.run_pending_tasks().await;
        let entries = self.inner.entry_count();
        let bytes = self.inner.weighted_size();
        self.counters.entries.store(entries, Ordering::Relaxed);
        self.counters.bytes.store(bytes, Ordering::Relaxed);
        if self.past_thresholds(entries, bytes) && self.may_warn() {
            tracing::warn!(
                entries,
                bytes,
                budget_bytes = self.config.budget_bytes,
                warn_entries = self.warn_entries.load(Ordering::Relaxed),
                "result cache past its threshold: {entries} entries (warn above {}), {bytes} of {} bytes",
                self.warn_entries.load(Ordering::Relaxed),
                self.config.budget_bytes
            );
        }
        self.stats()
    }

    /// More answers than `warn_entries`, or 90 % of the byte budget.
    pub fn past_thresholds(&self, entries: u64, bytes: u64) -> bool {
        entries > self.warn_entries.load(Ordering::Relaxed)
            || bytes.saturating_mul(10) > self.config.budget_bytes.saturating_mul(9)
    }

    fn may_warn(&self) -> bool {
        let Ok(mut last) = self.last_warning.lock() else {
            return false;
        };
        let due = last.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Calls [`Self::maintain`] every `interval` until `stop` resolves, so that an
    /// idle cache frees its expired entries.
    pub fn spawn_maintenance(
        self: &Arc<Self>,
        interval: Duration,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tick.tick() => { cache.maintain().await; }
                }
            }
        })
    }

    /// The counters now; `entries` and `bytes` as of the last [`Self::maintain`].
    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&c.hits),
            misses: get(&c.misses),
            loads: get(&c.loads),
            load_errors: get(&c.load_errors),
            partial: get(&c.partial),
            load_seconds_total: get(&c.load_micros) as f64 / 1e6,
            evictions_expired: get(&c.evicted_expired),
            evictions_size: get(&c.evicted_size),
            evictions_explicit: get(&c.evicted_explicit),
            replaced: get(&c.replaced),
            entries: get(&c.entries),
            bytes: get(&c.bytes),
            budget_bytes: self.config.budget_bytes,
            ttl_seconds: self.config.ttl.as_secs(),
        }
    }
}

/// Why a load's answer is not stored.
enum Uncached<E, T> {
    /// The load failed.
    Failed(Arc<E>),
    /// The answer is partial (see [`SearchResult::partial`]).
    Partial(Arc<T>),
}

/// An entry's weight in the budget.
pub fn weight(key: &str, value: &dyn Cached) -> usize {
    key.len() + value.heap_size() + ENTRY_OVERHEAD
}

#[cfg(test)]
mod tests;
