//! The facade: answers through the cache, one scan for many identical
//! questions, and reloads after expiry that read only what was appended.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use diagbot_core::cache::{CacheConfig, HitOrLoad};
use diagbot_core::diagnostics::Diagnostics;
use diagbot_core::query::Query;

fn log_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = "2026-01-27 10:00:00,000 ERROR worker failed\n2026-01-27 10:00:01,000 INFO ok\n"
        .repeat(50_000);
    std::fs::write(dir.path().join("app.log"), text).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_identical_queries_run_one_scan() {
    let dir = log_dir();
    let diag = Arc::new(Diagnostics::new(CacheConfig::default(), Default::default()));
    let query = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let diag = Arc::clone(&diag);
        let query = query.clone();
        tasks.push(tokio::spawn(
            async move { diag.answer(&query).await.unwrap() },
        ));
    }
    let mut loaded = 0;
    for task in tasks {
        let (result, how) = task.await.unwrap();
        assert_eq!(result.matches, 50_000);
        loaded += usize::from(how == HitOrLoad::Loaded);
    }
    assert_eq!(loaded, 1);
    assert_eq!(diag.cache().stats().loads, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_expiry_a_reload_reads_only_the_appended_bytes() {
    let dir = log_dir();
    let config = CacheConfig {
        ttl: Duration::from_millis(300),
        ..CacheConfig::default()
    };
    let diag = Diagnostics::new(config, Default::default());
    let query = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    // The background refresh's query repeats: its tails are kept from its first run.
    diag.refresh(&query).await.unwrap();
    // A sleep: the refresh's entry must outlive its TTL (300 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (first, how) = diag.answer(&query).await.unwrap();
    assert_eq!(how, HitOrLoad::Loaded);
    assert_eq!(first.bytes_scanned, 0, "nothing changed since the refresh");
    let (_, how) = diag.answer(&query).await.unwrap();
    assert_eq!(how, HitOrLoad::Hit);

    let appended = "2026-01-27 10:00:02,000 ERROR again\n";
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("app.log"))
        .unwrap()
        .write_all(appended.as_bytes())
        .unwrap();
    // A sleep: the entry must outlive its TTL (300 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (second, how) = diag.answer(&query).await.unwrap();
    assert_eq!(how, HitOrLoad::Loaded);
    assert_eq!(second.matches, first.matches + 1);
    assert_eq!(second.bytes_scanned, appended.len() as u64);
}

#[tokio::test]
async fn a_refresh_replaces_the_cached_answer() {
    let dir = log_dir();
    let diag = Diagnostics::new(CacheConfig::default(), Default::default());
    let query = Query::errors(vec![dir.path().to_path_buf()]);
    let refreshed = diag.refresh(&query).await.unwrap();
    let (cached, how) = diag.answer(&query).await.unwrap();
    assert_eq!(how, HitOrLoad::Hit);
    assert_eq!(cached.matches, refreshed.matches);
    assert_eq!(cached.levels.0[1], 50_000);
}

/// The second refresh after start reads only what was appended since the
/// first: a refresh query keeps its tails from its first run. A one-off
/// question (asked through the cache) is read whole again the second time.
#[tokio::test]
async fn the_second_refresh_reads_only_appended_bytes() {
    let dir = log_dir();
    let size = std::fs::metadata(dir.path().join("app.log")).unwrap().len();
    let diag = Diagnostics::new(CacheConfig::default(), Default::default());
    let query = Query::errors(vec![dir.path().to_path_buf()]);
    assert_eq!(diag.refresh(&query).await.unwrap().bytes_scanned, size);
    let appended = "2026-01-27 10:00:02,000 ERROR again\n";
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("app.log"))
        .unwrap()
        .write_all(appended.as_bytes())
        .unwrap();
    let second = diag.refresh(&query).await.unwrap();
    assert_eq!(second.bytes_scanned, appended.len() as u64);
    assert_eq!(second.levels.0[1], 50_001);

    let one_off = Query::grep("worker", vec![dir.path().to_path_buf()]);
    let size = size + appended.len() as u64;
    assert_eq!(diag.answer(&one_off).await.unwrap().0.bytes_scanned, size);
    diag.cache().invalidate_all().await;
    assert_eq!(diag.answer(&one_off).await.unwrap().0.bytes_scanned, size);
}
