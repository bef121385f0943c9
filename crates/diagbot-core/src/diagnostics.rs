//! The facade front ends call: a `Query` in, a `SearchResult` out, through the
//! result cache. Scans run on tokio's blocking pool; the incremental engine
//! behind the cache makes a reload after expiry read only what was appended.

use std::sync::Arc;

use chrono::Local;

use crate::cache::{CacheConfig, HitOrLoad, ResultCache};
use crate::engine::{Engine, SearchError};
use crate::groups::{GroupsQuery, GroupsResult};
use crate::logs::cancel::Cancel;
use crate::logs::tail::TailLimits;
use crate::query::{Query, SearchResult};
use crate::workers::ScanThreads;

/// Called after each scan with its result (for metrics).
pub type ScanObserver = Arc<dyn Fn(&SearchResult) + Send + Sync>;

/// An incremental [`Engine`] behind a [`ResultCache`]: what front ends ask
/// their questions of. Calls take `&self`, so one serves every task.
pub struct Diagnostics {
    engine: Arc<Engine>,
    cache: Arc<ResultCache>,
    observer: Option<ScanObserver>,
}

impl Diagnostics {
    /// A cache configured by `cache` in front of an engine whose tails are
    /// bounded by `tails`. Idle, it frees no expired answers until
    /// [`ResultCache::spawn_maintenance`] runs on [`Self::cache`].
    pub fn new(cache: CacheConfig, tails: TailLimits) -> Self {
        Diagnostics {
            engine: Arc::new(Engine::incremental(tails)),
            cache: Arc::new(ResultCache::new(cache)),
            observer: None,
        }
    }

    /// Scans files on `threads` (the answers do not change). Called while
    /// the engine is not yet shared, as [`Diagnostics::new`]'s caller does.
    pub fn scan_threads(mut self, threads: ScanThreads) -> Self {
        if let Some(engine) = Arc::get_mut(&mut self.engine) {
            engine.set_threads(threads);
        }
        self
    }

    /// Calls `observer` after each scan.
    pub fn observed(mut self, observer: ScanObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The result cache: its stats, its maintenance, and the settings a reload changes.
    pub fn cache(&self) -> &Arc<ResultCache> {
        &self.cache
    }

    /// The engine behind the cache, whose tail store can be asked for its size.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The answer to `query`, from the cache when it is there.
    pub async fn answer(
        &self,
        query: &Query,
    ) -> Result<(Arc<SearchResult>, HitOrLoad), Arc<SearchError>> {
        self.cache
            .get_or_load(query.canonical(), || self.scan(query.clone()))
            .await
    }

    /// Recomputes `query` and stores the answer (the background refresh). A
    /// refreshed query repeats, so it keeps its tails from the first run: the
    /// second refresh after start reads only what was appended.
    pub async fn refresh(&self, query: &Query) -> Result<Arc<SearchResult>, SearchError> {
        self.engine.expect_repeats(query);
        self.cache
            .refresh(query.canonical(), || self.scan(query.clone()))
            .await
    }

    /// The groups `query` asks for, from the cache when they are there
    /// (`query.assign` is not cached: ask [`crate::groups::run`] for it).
    /// The grouping stops when nobody waits for it any more.
    pub async fn groups(
        &self,
        query: &GroupsQuery,
    ) -> Result<(Arc<GroupsResult>, HitOrLoad), Arc<SearchError>> {
        let query = GroupsQuery {
            assign: false,
            ..query.clone()
        };
        let engine = Arc::clone(&self.engine);
        self.cache
            .get_or_load(query.canonical(), || async move {
                let cancel = engine.cancel_token();
                let _stop = CancelOnDrop(cancel.clone());
                let now = Local::now().fixed_offset();
                tokio::task::spawn_blocking(move || {
                    crate::groups::run_with(&query, now, &|_| {}, &cancel)
                })
                .await
                .unwrap_or_else(|e| Err(SearchError::ScanFailed(e.to_string())))
            })
            .await
    }

    async fn scan(&self, query: Query) -> Result<SearchResult, SearchError> {
        let engine = Arc::clone(&self.engine);
        let cancel = engine.cancel_token();
        // When nobody waits any more (a request timed out, a refresh was
        // abandoned), the scan stops at its next chunk instead of holding a
        // blocking thread to the end.
        let _stop = CancelOnDrop(cancel.clone());
        let task = tokio::task::spawn_blocking(move || {
            engine.search_with(&query, Local::now().fixed_offset(), &|_| {}, &cancel)
        });
        let result = task
            .await
            .unwrap_or_else(|e| Err(SearchError::ScanFailed(e.to_string())));
        if let (Ok(r), Some(observe)) = (&result, &self.observer) {
            observe(r);
        }
        result
    }
}

/// Cancels a scan when the future waiting for it is dropped.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}
