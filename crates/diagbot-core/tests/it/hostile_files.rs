//! What a writer of a watched directory can put there, against the engine:
//! symlinks to secrets, FIFOs, swaps, gzip bombs, and 20,000 files; and
//! scans stopped from outside. Real files in temp dirs (issue 11).

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, FixedOffset};
use diagbot_core::engine::{Engine, SearchError};
use diagbot_core::logs::tail::TailLimits;
use diagbot_core::query::Query;

const SECRET: &str = "root:$6$secretHASH:20228:0:99999:7:::";

fn now() -> DateTime<FixedOffset> {
    chrono::Local::now().fixed_offset()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A log dir with one ordinary log, and a secret outside it.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(
        logs.join("app.log"),
        "2026-01-27 10:00:00 ERROR root: boom\n",
    )
    .unwrap();
    let secret = dir.path().join("shadow");
    fs::write(&secret, format!("{SECRET}\n")).unwrap();
    (dir, logs, secret)
}

fn no_secret_in(result: &diagbot_core::SearchResult) {
    let json = serde_json::to_string(result).unwrap();
    assert!(!json.contains("secretHASH"), "the secret leaked: {json}");
}

#[test]
fn a_symlink_in_a_directory_is_listed_as_skipped_and_never_read() {
    let (_dir, logs, secret) = setup();
    symlink(&secret, logs.join("evil.log")).unwrap();
    let q = Query::grep("root:", vec![logs.clone()]);
    let r = Engine::one_shot().search(&q, now(), &|_| {}).unwrap();
    no_secret_in(&r);
    assert_eq!((r.files_searched, r.matches), (1, 1));
    let skipped = r
        .skipped
        .iter()
        .find(|s| s.path.ends_with("evil.log"))
        .unwrap();
    assert!(skipped.reason.contains("symbolic link"), "{skipped:?}");
}

#[test]
fn a_named_path_that_is_a_symlink_is_not_followed() {
    let (_dir, logs, secret) = setup();
    let link = logs.join("current.log");
    symlink(&secret, &link).unwrap();
    let q = Query::grep("root:", vec![link]);
    let err = Engine::one_shot().search(&q, now(), &|_| {}).unwrap_err();
    assert!(
        matches!(&err, SearchError::NothingSearchable(m) if m.contains("symbolic link")),
        "{err:?}"
    );
}

/// A path asked for beneath a configured one: a directory on the way that
/// is swapped for a symlink to elsewhere is not crossed.
#[test]
fn beneath_a_configured_path_a_swapped_directory_is_not_crossed() {
    let (dir, logs, _secret) = setup();
    let elsewhere = dir.path().join("etc");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("app.log"), format!("{SECRET}\n")).unwrap();
    symlink(&elsewhere, logs.join("sub")).unwrap();
    let q =
        Query::grep("root:", vec![logs.join("sub/app.log")]).beneath(std::slice::from_ref(&logs));
    let err = Engine::one_shot().search(&q, now(), &|_| {}).unwrap_err();
    assert!(matches!(err, SearchError::NothingSearchable(_)), "{err:?}");
}

/// A FIFO waits for a writer when opened without O_NONBLOCK: the search
/// would never return. Here it is listed as skipped, named or found in a
/// directory (issue 11: the daemon wedged for good).
#[test]
fn a_fifo_never_blocks_a_search() {
    let (_dir, logs, _secret) = setup();
    let fifo = logs.join("fifo.log");
    mkfifo(&fifo);
    let q = Query::errors(vec![logs.clone()]);
    let r = Engine::one_shot().search(&q, now(), &|_| {}).unwrap();
    assert_eq!(r.files_searched, 1);
    let skipped = r
        .skipped
        .iter()
        .find(|s| s.path.ends_with("fifo.log"))
        .unwrap();
    assert!(skipped.reason.contains("FIFO"), "{skipped:?}");
    let named = Query::errors(vec![fifo]);
    let err = Engine::one_shot()
        .search(&named, now(), &|_| {})
        .unwrap_err();
    assert!(format!("{err}").contains("FIFO"), "{err}");
}

fn gzip(path: &Path, chunks: usize, chunk: &[u8]) {
    let file = fs::File::create(path).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    for _ in 0..chunks {
        enc.write_all(chunk).unwrap();
    }
    enc.finish().unwrap();
}

/// Decompression stops at `logs.max_decompressed`: the file is listed as
/// cut, what was read before counts, and a refresh remembers it cut.
#[test]
fn a_gz_past_the_decompression_bound_is_cut_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let line = b"2026-01-27 10:00:00 ERROR again\n";
    gzip(&dir.path().join("big.log.gz"), 200_000, line); // 6.4 MB of lines
    let engine = Engine::incremental(TailLimits::default());
    engine.set_max_decompressed(1 << 20);
    let q = Query::errors(vec![dir.path().to_path_buf()]);
    engine.expect_repeats(&q);
    let r = engine.search(&q, now(), &|_| {}).unwrap();
    assert!(r.bytes_scanned <= 1 << 20, "{}", r.bytes_scanned);
    assert_eq!(r.cut.len(), 1, "{:?}", r.cut);
    assert!(r.cut[0].reason.contains("max_decompressed"), "{:?}", r.cut);
    assert_eq!(r.matches, (1 << 20) / line.len() as u64);
    let again = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(again.bytes_scanned, 0, "read again instead of remembered");
    assert_eq!((again.cut, again.matches), (r.cut, r.matches));
}

/// A bomb of zeros trips the ratio long before the bound.
#[test]
fn a_gzip_bomb_is_cut_by_its_ratio() {
    let dir = tempfile::tempdir().unwrap();
    gzip(&dir.path().join("bomb.log.gz"), 64, &[0u8; 1 << 20]); // 64 MiB of zeros, ~65 KB
    let q = Query::grep("x", vec![dir.path().to_path_buf()]);
    let r = Engine::one_shot().search(&q, now(), &|_| {}).unwrap();
    assert_eq!(r.cut.len(), 1, "{r:?}");
    assert!(r.cut[0].reason.contains("gzip bomb"), "{:?}", r.cut);
    assert!(r.bytes_scanned < 64 << 20);
}

/// A scan stops at the next chunk once cancelled, `.gz` included.
#[test]
fn a_cancelled_scan_stops_between_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let line = b"2026-01-27 10:00:00 INFO a line of a large log\n";
    gzip(&dir.path().join("big.log.gz"), 400_000, line);
    fs::write(dir.path().join("plain.log"), line.repeat(400_000)).unwrap();
    for file in ["big.log.gz", "plain.log"] {
        let engine = Engine::one_shot();
        let cancel = engine.cancel_token();
        let q = Query::errors(vec![dir.path().join(file)]);
        let read = std::sync::atomic::AtomicU64::new(0);
        // Cancelled from the progress callback after the first bytes.
        let err = engine
            .search_with(
                &q,
                now(),
                &|n| {
                    read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    cancel.cancel();
                },
                &cancel,
            )
            .unwrap_err();
        assert_eq!(err, SearchError::Cancelled, "{file}");
        let read = read.into_inner();
        assert!(read < 2 << 20, "{file}: read {read} bytes after the cancel");
    }
    // The engine-wide flag (shutdown) stops every scan, this one's too.
    let engine = Engine::one_shot();
    engine.cancel_all();
    let q = Query::errors(vec![dir.path().to_path_buf()]);
    assert_eq!(
        engine.search(&q, now(), &|_| {}).unwrap_err(),
        SearchError::Cancelled
    );
}

/// 20,000 files: the tails fit the byte budget, so the refresh after the
/// first reads nothing (issue 11: past ~1,800 files every refresh rescanned all).
#[test]
fn twenty_thousand_files_keep_their_tails() {
    let dir = tempfile::tempdir().unwrap();
    for d in 0..20 {
        let sub = dir.path().join(format!("d{d:02}"));
        fs::create_dir(&sub).unwrap();
        for f in 0..1000 {
            fs::write(
                sub.join(format!("{f:04}.log")),
                "2026-01-27 10:00:00 INFO ok\n2026-01-27 10:00:01 ERROR bad\n",
            )
            .unwrap();
        }
    }
    let engine = Engine::incremental(TailLimits::default());
    let mut q = Query::errors(vec![dir.path().to_path_buf()]);
    q.max_lines = 20;
    engine.expect_repeats(&q);
    let first = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!((first.files_searched, first.matches), (20_000, 20_000));
    assert_eq!(engine.tails_dropped(), None);
    eprintln!("tails of 20,000 files: {} bytes", engine.tail_usage().1);
    let (queries, bytes) = engine.tail_usage();
    assert_eq!(queries, 1);
    assert!(bytes <= TailLimits::default().max_bytes, "{bytes}");
    let second = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(second.bytes_scanned, 0);
    assert_eq!(second.without_costs(), first.without_costs());
}

/// Over the budget, the tails are given up as soon as they pass it (not
/// built for every file and dropped at the end: 100,000 files' tails are 30 MB,
/// which took a daemon past its unit's MemoryMax), and the engine says why.
#[test]
fn tails_over_the_budget_are_dropped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..50 {
        fs::write(dir.path().join(format!("{f}.log")), "ERROR x\n").unwrap();
    }
    let engine = Engine::incremental(TailLimits {
        max_queries: 4,
        max_bytes: 4096,
    });
    let q = Query::errors(vec![dir.path().to_path_buf()]);
    engine.expect_repeats(&q);
    engine.search(&q, now(), &|_| {}).unwrap();
    let why = engine.tails_dropped().unwrap();
    assert!(why.contains("over the tail budget"), "{why}");
    let files: usize = why
        .strip_prefix("the tails of its first ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{why}"));
    assert!(files < 50, "the tails were gathered past the budget: {why}");
    assert_eq!(engine.tail_usage(), (0, 0));
}

/// 2,500 matching files (anyone who can write into a watched directory can
/// make 100,000): the answer lists the first 1000 in path order and counts
/// the rest (a directory of 100,000 matching files with long names was a
/// 35 MB answer), the same on one thread as on several; the totals count
/// every file.
#[test]
fn an_answer_lists_at_most_a_thousand_files_and_counts_the_rest() {
    use diagbot_core::query::MAX_FILES_LISTED;
    use diagbot_core::workers::ScanThreads;
    let dir = tempfile::tempdir().unwrap();
    for f in 0..2500 {
        fs::write(dir.path().join(format!("{f:04}.log")), "ERROR x\n").unwrap();
    }
    let q = Query::errors(vec![dir.path().to_path_buf()]);
    let answers: Vec<_> = [1, 2]
        .map(|n| {
            let engine = Engine::one_shot().with_threads(ScanThreads::new(n));
            engine.search(&q, now(), &|_| {}).unwrap().without_costs()
        })
        .into_iter()
        .collect();
    let answer = &answers[0];
    assert_eq!((answer.matches, answer.files_searched), (2500, 2500));
    assert_eq!(answer.files.len(), MAX_FILES_LISTED);
    assert_eq!(answer.files_not_listed, 1500);
    let names: Vec<String> = answer
        .files
        .iter()
        .map(|f| {
            Path::new(&f.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let first: Vec<String> = (0..1000).map(|f| format!("{f:04}.log")).collect();
    assert_eq!(names, first, "the first in path order");
    assert_eq!(answers[0], answers[1], "the same on one thread as on two");
}
