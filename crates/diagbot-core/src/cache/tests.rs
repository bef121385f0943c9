use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use super::*;
use crate::query::{LevelCounts, MatchLine};

/// A result holding `lines` lines of `width` bytes each.
fn result(lines: usize, width: usize) -> SearchResult {
    SearchResult {
        kind: crate::query::ResultKind::Grep,
        matches: lines as u64,
        levels: LevelCounts::default(),
        files_searched: 1,
        bytes_scanned: 0,
        long_lines_cut: 0,
        files: Vec::new(),
        files_not_listed: 0,
        skipped: Vec::new(),
        warnings: Vec::new(),
        lines: (0..lines)
            .map(|i| MatchLine {
                path: "/var/log/app.log".into(),
                line_number: i as u64,
                timestamp: None,
                level: None,
                text: "x".repeat(width),
                truncated: false,
                source: Default::default(),
                unit: None,
                cursor: None,
            })
            .collect(),
        cut: Vec::new(),
        partial: None,
        elapsed: Duration::ZERO,
    }
}

fn config(ttl: Duration, budget: u64) -> CacheConfig {
    CacheConfig {
        ttl,
        budget_bytes: budget,
        ..CacheConfig::default()
    }
}

async fn fill(cache: &ResultCache, n: usize, lines: usize, width: usize) {
    for i in 0..n {
        let loaded = cache
            .get_or_load(format!("key {i}"), || async {
                Ok::<_, std::convert::Infallible>(result(lines, width))
            })
            .await;
        assert!(loaded.is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_cache_frees_expired_entries_by_timer_alone() {
    let cache = Arc::new(ResultCache::new(config(Duration::from_secs(1), 8 << 20)));
    fill(&cache, 5, 20, 500).await;
    assert_eq!(cache.maintain().await.entries, 5);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let timer = cache.spawn_maintenance(Duration::from_millis(200), async {
        let _ = stop_rx.await;
    });
    // No cache call from here on: only the timer may free the entries.
    let started = std::time::Instant::now();
    crate::testing::eventually_async(
        "the timer to free the expired entries",
        Duration::from_secs(10),
        || async {
            let stats = cache.stats();
            (stats.entries == 0 && stats.bytes == 0).then_some(())
        },
    )
    .await;
    let freed_after = started.elapsed();
    let _ = stop_tx.send(());
    timer.await.unwrap();
    assert!(
        freed_after >= Duration::from_millis(900),
        "entries freed before their TTL ran out: {freed_after:?}"
    );
    assert_eq!(cache.stats().evictions_expired, 5);
}

#[tokio::test]
async fn fresh_entries_stay() {
    let cache = ResultCache::new(config(Duration::from_secs(300), 8 << 20));
    fill(&cache, 3, 10, 100).await;
    let stats = cache.maintain().await;
    assert_eq!(stats.entries, 3);
    assert!(stats.bytes > 3 * 10 * 100);
    assert_eq!(stats.evictions_expired, 0);
}

#[tokio::test]
async fn an_empty_cache_is_fine() {
    let cache = ResultCache::new(CacheConfig::default());
    let stats = cache.maintain().await;
    assert_eq!(
        (stats.entries, stats.bytes, stats.hits, stats.misses),
        (0, 0, 0, 0)
    );
}

#[tokio::test]
async fn bytes_never_exceed_the_budget_after_maintenance() {
    let budget = 64 << 10;
    let cache = ResultCache::new(config(Duration::from_secs(300), budget));
    for round in 0..10 {
        fill(&cache, 10 * (round + 1), 10, 500).await;
        let stats = cache.maintain().await;
        assert!(
            stats.bytes <= budget,
            "round {round}: {} > {budget}",
            stats.bytes
        );
        assert!(stats.entries > 0);
    }
    assert!(cache.stats().evictions_size > 0);
}

#[tokio::test]
async fn an_entry_larger_than_the_budget_is_not_kept() {
    let cache = ResultCache::new(config(Duration::from_secs(300), 16 << 10));
    fill(&cache, 1, 100, 1000).await;
    let stats = cache.maintain().await;
    assert_eq!((stats.entries, stats.bytes), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_identical_questions_run_one_load() {
    let cache = Arc::new(ResultCache::new(CacheConfig::default()));
    let loads = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = Arc::clone(&cache);
        let loads = Arc::clone(&loads);
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load("same question".into(), || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    // A sleep: a slow load, that the other questions arrive during.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<_, std::convert::Infallible>(result(5, 10))
                })
                .await
                .map(|(r, how)| (r.matches, how))
        }));
    }
    let mut loaded = 0;
    for t in tasks {
        let (matches, how) = t.await.unwrap().unwrap();
        assert_eq!(matches, 5);
        loaded += usize::from(how == HitOrLoad::Loaded);
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(loaded, 1);
    let stats = cache.stats();
    assert_eq!(stats.loads, 1);
    assert_eq!(stats.hits + stats.misses, 50);
}

#[tokio::test]
async fn load_errors_are_counted_and_not_cached() {
    let cache = ResultCache::new(CacheConfig::default());
    let failed = cache
        .get_or_load("bad".into(), || async { Err::<SearchResult, _>("boom") })
        .await;
    assert_eq!(failed.unwrap_err().as_ref(), &"boom");
    let stats = cache.maintain().await;
    assert_eq!((stats.load_errors, stats.entries), (1, 0));
}

#[tokio::test]
async fn hits_and_misses_are_counted() {
    let cache = ResultCache::new(CacheConfig::default());
    fill(&cache, 2, 1, 1).await;
    fill(&cache, 2, 1, 1).await;
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.loads), (2, 2, 2));
}

/// Between maintenance ticks too: a burst of new answers is evicted as it
/// comes, not a second later.
#[tokio::test]
async fn a_burst_of_answers_stays_within_the_budget_without_maintenance() {
    let budget = 64 << 10;
    let cache = ResultCache::new(config(Duration::from_secs(300), budget));
    for i in 0..200 {
        let loaded = cache
            .get_or_load(format!("burst {i}"), || async {
                Ok::<_, std::convert::Infallible>(result(10, 500))
            })
            .await;
        assert!(loaded.is_ok());
        // What the map holds now, not moka's (lazily updated) size.
        let held: u64 = cache
            .inner
            .iter()
            .map(|(k, v)| weight(&k, v.as_ref()) as u64)
            .sum();
        assert!(held <= budget, "after {i} answers: {held} > {budget}");
    }
}

fn partial(lines: usize) -> SearchResult {
    SearchResult {
        partial: Some("/var/log/app.log: Too many open files (os error 24)".into()),
        ..result(lines, 10)
    }
}

/// A degraded answer reaches its caller but is never a hit: the next
/// question scans again (issue 11: such answers were served for the TTL).
#[tokio::test]
async fn a_partial_answer_is_returned_but_not_cached() {
    let cache = ResultCache::new(config(Duration::from_secs(300), 8 << 20));
    let load = || async { Ok::<_, std::convert::Infallible>(partial(3)) };
    for _ in 0..3 {
        let (answer, how) = cache.get_or_load("k".into(), load).await.unwrap();
        assert_eq!(
            how,
            HitOrLoad::Loaded,
            "a partial answer was served from the cache"
        );
        assert!(answer.partial.is_some());
    }
    let stats = cache.maintain().await;
    assert_eq!((stats.entries, stats.hits, stats.partial), (0, 0, 3));
}

/// The refresh keeps the good answer it had when its new one is partial.
#[tokio::test]
async fn a_partial_refresh_does_not_replace_a_good_answer() {
    let cache = ResultCache::new(config(Duration::from_secs(300), 8 << 20));
    let good = || async { Ok::<_, std::convert::Infallible>(result(5, 10)) };
    cache.refresh("k".into(), good).await.unwrap();
    let degraded = || async { Ok::<_, std::convert::Infallible>(partial(0)) };
    let refreshed = cache.refresh("k".into(), degraded).await.unwrap();
    assert!(refreshed.partial.is_some(), "the caller still hears of it");
    let (answer, how) = cache.get_or_load("k".into(), degraded).await.unwrap();
    assert_eq!(how, HitOrLoad::Hit);
    assert_eq!((answer.matches, answer.partial.clone()), (5, None));
    assert_eq!(cache.stats().partial, 1);
}
