//! Searching real files in temp dirs: answers, time windows, and bad input.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeZone};

use diagbot_core::engine::{Engine, SearchError};
use diagbot_core::logs::level::Level;
use diagbot_core::logs::user_format::UserFormat;
use diagbot_core::query::{GrepPattern, Query, TimestampProblem, MAX_LINE_TEXT};
use diagbot_core::when::TimeBound;
use diagbot_core::workers::ScanThreads;

fn now() -> DateTime<FixedOffset> {
    chrono::Local::now().fixed_offset()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn search(q: &Query) -> Result<diagbot_core::SearchResult, SearchError> {
    Engine::one_shot().search(q, now(), &|_| {})
}

fn at(s: &str) -> TimeBound {
    TimeBound::At(
        FixedOffset::east_opt(0)
            .unwrap()
            .from_local_datetime(
                &chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
            )
            .unwrap(),
    )
}

/// A service log: levels, a traceback, a warning (shared by the test suites).
const APP_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/app.log"
));

#[test]
fn grep_counts_and_keeps_the_last_lines_with_file_line_and_time() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    let mut q = Query::grep("ERROR|Error", vec![dir.path().to_path_buf()]);
    q.max_lines = 2;
    let r = search(&q).unwrap();
    assert_eq!(r.matches, 4);
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.lines.len(), 2);
    let last = &r.lines[1];
    assert_eq!(last.line_number, 8);
    assert_eq!(last.text, "2026-01-27 10:20:00,000 ERROR late failure");
    assert_eq!(
        last.timestamp.unwrap().format("%H:%M:%S").to_string(),
        "10:20:00"
    );
    // `ValueError: bad input` has no time of its own: it takes the line above's.
    let traceback_end = &r.lines[0];
    assert_eq!(traceback_end.line_number, 6);
    assert_eq!(
        traceback_end
            .timestamp
            .unwrap()
            .format("%H:%M:%S")
            .to_string(),
        "10:05:00"
    );
}

#[test]
fn a_time_window_keeps_continuation_lines_with_their_entry() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    let mut q = Query::grep("Error|ERROR", vec![dir.path().to_path_buf()]);
    q.since = Some(at("2026-01-27 10:04:00"));
    q.until = Some(at("2026-01-27 10:11:00"));
    let r = search(&q).unwrap();
    let texts: Vec<&str> = r.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "2026-01-27 10:05:00,000 ERROR job crashed",
            "ValueError: bad input"
        ]
    );
}

#[test]
fn an_unfinished_last_line_without_a_time_takes_the_time_above() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.log",
        b"2026-01-27 10:05:00 ERROR crashed\nValueError: half written",
    );
    let mut q = Query::grep("ValueError", vec![dir.path().to_path_buf()]);
    q.since = Some(at("2026-01-27 10:00:00"));
    let r = search(&q).unwrap();
    assert_eq!(r.matches, 1);
    assert_eq!(
        r.lines[0].timestamp.unwrap().format("%H:%M").to_string(),
        "10:05"
    );
}

#[test]
fn errors_counts_events_by_level_and_lists_error_events() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    let r = search(&Query::errors(vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.kind, diagbot_core::query::ResultKind::Errors);
    // Three ERROR events: the traceback is part of the line above it (its
    // lines were counted on their own: a fourth error and two without a level).
    assert_eq!(r.matches, 3);
    assert_eq!(r.levels.0, [0, 3, 1, 1, 0, 0, 0]);
    assert!(!r.lines.iter().any(|l| l.text.starts_with("Traceback")));
    assert!(r
        .lines
        .iter()
        .any(|l| l.text.ends_with("\nValueError: bad input")));
}

#[test]
fn gzipped_rotations_are_searched() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        fs::File::create(dir.path().join("app.log.2.gz")).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(APP_LOG.as_bytes()).unwrap();
    enc.finish().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    let r = search(&Query::grep("ERROR", vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.matches, 6);
    assert_eq!(r.files.len(), 2);
    assert_eq!(r.bytes_scanned, 2 * APP_LOG.len() as u64);
}

#[test]
fn ignore_case_and_fixed_strings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.log",
        b"Timeout here\nTIMEOUT there\na.b literal\naxb no\n",
    );
    let paths = vec![dir.path().to_path_buf()];
    let q = Query::grep("timeout", paths.clone());
    assert_eq!(search(&q).unwrap().matches, 0);
    let q = Query::grep(
        GrepPattern::regex("timeout").ignore_case(true),
        paths.clone(),
    );
    assert_eq!(search(&q).unwrap().matches, 2);
    let q = Query::grep(GrepPattern::regex("a.b").fixed_strings(true), paths);
    assert_eq!(search(&q).unwrap().matches, 1);
}

#[test]
fn an_invalid_pattern_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = search(&Query::grep("ERROR(", vec![dir.path().to_path_buf()])).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SearchError::InvalidPattern { .. }));
    assert!(
        msg.contains("ERROR(") && msg.contains("unclosed group"),
        "{msg}"
    );
}

#[test]
fn a_pattern_over_the_size_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = search(&Query::grep(
        r"(\w{50}){50}",
        vec![dir.path().to_path_buf()],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("size limit"), "{err}");
    let long = "a".repeat(10_000);
    let err = search(&Query::grep(long, vec![dir.path().to_path_buf()])).unwrap_err();
    assert!(matches!(err, SearchError::PatternTooLong { len: 10_000 }));
}

#[test]
fn missing_paths_are_skipped_and_the_rest_searched() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    let missing = dir.path().join("nope.log");
    let r = search(&Query::grep(
        "ERROR",
        vec![dir.path().join("app.log"), missing.clone()],
    ))
    .unwrap();
    assert_eq!(r.matches, 3);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].path, missing.display().to_string());
    assert!(
        r.skipped[0].reason.contains("No such file"),
        "{}",
        r.skipped[0].reason
    );
    // Nothing at all to search is an error, not an empty answer.
    let err = search(&Query::grep("ERROR", vec![missing])).unwrap_err();
    assert!(err.to_string().contains("nope.log"), "{err}");
}

#[test]
fn invalid_utf8_and_nul_runs_do_not_stop_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"2026-01-27 10:00:00 ERROR bad bytes \xff\xfe here\n".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
    bytes.extend(b"\n2026-01-27 10:00:01 ERROR after the crash\n");
    write(dir.path(), "app.log", &bytes);
    let r = search(&Query::grep("ERROR", vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.matches, 2);
    assert!(r.lines[0].text.contains("bad bytes \u{fffd}\u{fffd} here"));
    assert_eq!(r.lines[1].text, "2026-01-27 10:00:01 ERROR after the crash");
    assert_eq!(r.lines[1].line_number, 3);
}

#[test]
fn a_50_mb_line_is_cut_and_the_lines_after_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"2026-01-27 10:00:00 ERROR huge payload: ".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 50 << 20));
    bytes.extend(b" ERROR-at-the-end\n2026-01-27 10:00:01 ERROR next line\n");
    write(dir.path(), "app.log", &bytes);
    let r = search(&Query::grep("ERROR", vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.matches, 2);
    assert_eq!(r.long_lines_cut, 1);
    assert_eq!(r.bytes_scanned, bytes.len() as u64);
    assert!(r.lines[0].truncated);
    assert_eq!(r.lines[0].text.len(), MAX_LINE_TEXT);
    assert_eq!(r.lines[1].text, "2026-01-27 10:00:01 ERROR next line");
    assert_eq!(r.lines[1].line_number, 2);
}

#[test]
fn a_file_truncated_during_the_scan_is_reported_and_counted_as_read() {
    let dir = tempfile::tempdir().unwrap();
    let line = "2026-01-27 10:00:00 ERROR boom\n";
    let path = write(dir.path(), "app.log", line.repeat(200_000).as_bytes());
    write(dir.path(), "other.log", line.as_bytes());
    let truncated = std::sync::atomic::AtomicBool::new(false);
    let q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    // The progress callback runs between reads: truncate the file under the scan.
    let r = Engine::incremental(Default::default())
        .search(&q, now(), &|_| {
            if !truncated.swap(true, std::sync::atomic::Ordering::SeqCst) {
                fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        })
        .unwrap();
    assert!(r.matches > 0 && r.matches < 200_001, "{}", r.matches);
    let note = r
        .skipped
        .iter()
        .find(|s| s.path.ends_with("app.log"))
        .expect("a note");
    assert!(note.reason.contains("shrank"), "{}", note.reason);
    assert!(r.files.iter().any(|f| f.path.ends_with("other.log")));
}

#[test]
fn directories_are_walked_and_binary_or_unsupported_files_reported() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("nested")).unwrap();
    write(&dir.path().join("nested"), "deep.log", b"ERROR deep\n");
    write(dir.path(), "wtmp", b"\0\0\0");
    write(dir.path(), "old.log.xz", b"xz");
    let r = search(&Query::grep("ERROR", vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.matches, 1);
    assert_eq!(r.skipped.len(), 2);
}

#[test]
fn max_lines_has_a_limit() {
    let mut q = Query::errors(vec![PathBuf::from("/tmp")]);
    q.max_lines = 100_000;
    assert!(matches!(
        search(&q),
        Err(SearchError::TooManyLines(100_000))
    ));
}

#[test]
fn a_time_window_over_files_without_timestamps_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    write(
        dir.path(),
        "plain.log",
        b"started\nERROR no time here\nstopped\n",
    );
    let few: String = (0..10)
        .map(|i| {
            if i % 4 == 0 {
                format!("2026-01-27 10:0{i}:00 ERROR entry {i}\n")
            } else {
                format!("  detail {i}\n")
            }
        })
        .collect();
    write(dir.path(), "few.log", few.as_bytes());
    let mut q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    // Without a window there is nothing to warn about.
    assert!(search(&q).unwrap().warnings.is_empty());
    q.since = Some(at("2026-01-27 10:00:00"));
    let r = search(&q).unwrap();
    let warnings: Vec<(String, TimestampProblem, u64, u64)> = r
        .warnings
        .iter()
        .map(|w| {
            let name = Path::new(&w.path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), w.problem, w.lines_with_time, w.lines)
        })
        .collect();
    assert_eq!(
        warnings,
        [
            (
                "few.log".to_string(),
                TimestampProblem::FewTimestamps,
                3,
                10
            ),
            (
                "plain.log".to_string(),
                TimestampProblem::NoTimestamps,
                0,
                3
            ),
        ]
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["warnings"][1]["problem"], "no_timestamps");
    assert_eq!(json["warnings"][0]["problem"], "few_timestamps");
    assert_eq!(json["warnings"][0]["lines_with_time"], 3);
}

#[test]
fn each_file_reports_its_timestamp_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", APP_LOG.as_bytes());
    write(
        dir.path(),
        "hpc.log",
        b"1 node-1 unix.hw error 1769508000 1 ERROR link down\n2 node-2 unix.hw error 1769508060 1 ERROR link down\n",
    );
    let mut q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    q.since = Some(at("2026-01-27 10:00:30"));
    let r = search(&q).unwrap();
    let formats: Vec<(String, Option<String>, u64)> = r
        .files
        .iter()
        .map(|f| {
            let name = Path::new(&f.path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), f.timestamp_format.clone(), f.matches)
        })
        .collect();
    assert_eq!(
        formats,
        [
            (
                "app.log".to_string(),
                Some("iso8601 yyyy-MM-dd HH:mm:ss,SSS".to_string()),
                2
            ),
            (
                "hpc.log".to_string(),
                Some("epoch seconds (field 5)".to_string()),
                1
            ),
        ]
    );
}

#[test]
fn lines_without_a_level_are_counted_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.log",
        b"2026-01-27 10:00:00 INFO up\n2026-01-27 10:00:01 disk check: no error found\nplain text\n",
    );
    // In a file without timestamps, every line is an event of its own.
    write(dir.path(), "plain.log", b"no time here\nnor here\n");
    let r = search(&Query::errors(vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(r.levels.get(diagbot_core::logs::level::Level::Info), 1);
    // `disk check…` (no level), and plain.log's two lines; `plain text`
    // has no time of its own: it is part of the event above it.
    assert_eq!(r.levels.unknown(), 3);
    assert_eq!(r.matches, 0);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["levels"]["unknown"], 3);
    let back: diagbot_core::SearchResult = serde_json::from_value(json).unwrap();
    assert_eq!(back.levels, r.levels);
}

#[test]
fn user_formats_on_the_query_read_the_files_their_glob_matches() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.dot",
        b"27.01.2026 10:00:00 <bad> one\n27.01.2026 10:05:00 <ok> two\n27.01.2026 10:10:00 <bad> three\n",
    );
    let format = UserFormat {
        name: "dotted".into(),
        glob: "*.dot".into(),
        timestamp: "%d.%m.%Y %H:%M:%S".into(),
        regex: Some(r"^(?P<time>\S+ \S+) <(?P<level>\w+)>".into()),
    };
    let mut q = Query::errors(vec![dir.path().to_path_buf()]);
    let plain = search(&q).unwrap();
    q.formats = Arc::from([format.clone()]);
    assert_ne!(
        q.canonical(),
        Query::errors(vec![dir.path().to_path_buf()]).canonical()
    );
    q.since = Some(at("2026-01-27 10:01:00"));
    let r = search(&q).unwrap();
    assert_eq!(
        r.files.len(),
        0,
        "`bad` is not a level word: no error lines"
    );
    assert_eq!(r.levels.unknown(), 2, "{:?}", r.levels);
    assert_eq!(plain.levels.unknown(), 3);
    // A broken format is a clear error, not an empty answer.
    let mut broken = format;
    broken.timestamp = "%d.%m.%Y".into();
    q.formats = Arc::from([broken]);
    assert!(matches!(search(&q), Err(SearchError::InvalidFormat(_))));
}

#[test]
fn line_numbers_are_the_same_whichever_way_lines_are_read() {
    // Over several 64 KiB chunks, with a line split across chunks and an unfinished last line.
    let mut text = String::new();
    for i in 1..=5000 {
        let level = if i % 7 == 0 { "ERROR" } else { "INFO" };
        text.push_str(&format!(
            "2026-01-27 10:{:02}:{:02},000 {level} entry {i}\n",
            i / 60 % 60,
            i % 60
        ));
        if i % 500 == 0 {
            text.push_str("  continuation\n");
        }
    }
    text.push_str("2026-01-27 11:00:00,000 ERROR unfinished");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.log", text.as_bytes());
    let expected: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("ERROR"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let last = |r: &diagbot_core::SearchResult| -> Vec<u64> {
        r.lines.iter().map(|l| l.line_number).collect()
    };
    let want = expected[expected.len() - 50..].to_vec();
    let mut fast = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    fast.max_lines = 50;
    assert_eq!(last(&search(&fast).unwrap()), want, "matching lines only");
    let mut windowed = fast.clone();
    windowed.since = Some(at("2026-01-01 00:00:00"));
    assert_eq!(
        last(&search(&windowed).unwrap()),
        want,
        "every line through the sink"
    );
    let mut errors = Query::errors(vec![dir.path().to_path_buf()]);
    errors.max_lines = 50;
    assert_eq!(last(&search(&errors).unwrap()), want, "errors");
}

/// A small /var/log: logs of different sizes and formats, a rotated `.gz`, a
/// log without timestamps, and files that are skipped.
fn var_log_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, repeat) in [1usize, 7, 3, 12, 2].into_iter().enumerate() {
        write(
            dir.path(),
            &format!("svc{i}.log"),
            APP_LOG.repeat(repeat).as_bytes(),
        );
    }
    let mut enc = flate2::write::GzEncoder::new(
        fs::File::create(dir.path().join("svc1.log.1.gz")).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(APP_LOG.repeat(5).as_bytes()).unwrap();
    enc.finish().unwrap();
    write(dir.path(), "plain.txt", b"ERROR no time here\nok\n");
    write(dir.path(), "wtmp", b"\0\0\0binary login records\0");
    write(dir.path(), "old.log.xz", b"\xfd7zXZ\0");
    dir
}

/// The answer is the same, in the same order, whatever the number of scan
/// threads: counts, files, warnings, skipped files and the last lines.
#[test]
fn the_answer_does_not_depend_on_the_thread_count() {
    let dir = var_log_tree();
    let paths = vec![dir.path().to_path_buf()];
    let mut grep = Query::grep("ERROR|Traceback", paths.clone());
    grep.max_lines = 7;
    let mut errors = Query::errors(paths.clone());
    errors.max_lines = 5;
    let mut window = Query::grep("ERROR", paths);
    window.since = Some(at("2026-01-27 10:05:00"));
    window.max_lines = 3;
    for q in [grep, errors, window] {
        let answer = |threads: usize| {
            let mut r = Engine::one_shot()
                .with_threads(ScanThreads::new(threads))
                .search(&q, now(), &|_| {})
                .unwrap();
            r.elapsed = Default::default();
            r
        };
        let one = answer(1);
        assert!(one.files.len() >= 5, "{:?}", one.files);
        assert!(!one.skipped.is_empty());
        for threads in [2, 3, 8] {
            assert_eq!(answer(threads), one, "{threads} threads, {:?}", q.kind);
        }
    }
}

/// Tails kept by several scan threads resume as they do with one: a refresh
/// after appends gives what a full rescan gives.
#[test]
fn tails_kept_by_several_threads_resume_exactly() {
    let dir = var_log_tree();
    let paths = vec![dir.path().to_path_buf()];
    let mut q = Query::errors(paths);
    q.max_lines = 10;
    let engine = Engine::incremental(Default::default()).with_threads(ScanThreads::new(3));
    engine.expect_repeats(&q);
    engine.search(&q, now(), &|_| {}).unwrap();
    for name in ["svc0.log", "svc3.log"] {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(name))
            .unwrap();
        f.write_all(b"2026-01-27 11:00:00,000 ERROR appended\n")
            .unwrap();
    }
    let mut refreshed = engine.search(&q, now(), &|_| {}).unwrap();
    let mut full = search(&q).unwrap();
    assert!(refreshed.bytes_scanned < full.bytes_scanned / 2);
    refreshed.elapsed = Default::default();
    full.elapsed = Default::default();
    refreshed.bytes_scanned = full.bytes_scanned;
    assert_eq!(refreshed, full);
}

/// A log of `entries` entries a second apart, every seventh an error with a
/// three-line traceback (continuation lines without a timestamp).
fn entries_with_tracebacks(entries: u32) -> String {
    let mut text = String::new();
    for i in 0..entries {
        let (h, m, s) = (i / 3600, i / 60 % 60, i % 60);
        if i % 7 == 0 {
            text.push_str(&format!(
                "2026-01-27 {h:02}:{m:02}:{s:02},000 ERROR job {i} crashed\n\
                 Traceback (most recent call last):\n  File \"bot.py\", line {i}, in <module>\n\
                 ValueError: bad input {i}\n"
            ));
        } else {
            text.push_str(&format!(
                "2026-01-27 {h:02}:{m:02}:{s:02},000 INFO request {i} served\n"
            ));
        }
    }
    text
}

/// One large file cut into parts scanned at once gives the answer one
/// thread gives: line numbers, the last lines, counts by level, and a time
/// window whose edges fall inside tracebacks.
#[test]
fn parts_of_one_file_scanned_at_once_give_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "big.log",
        entries_with_tracebacks(6000).as_bytes(),
    );
    let paths = vec![path];
    let mut grep = Query::grep("crashed|ValueError", paths.clone());
    grep.max_lines = 9;
    let mut count = Query::grep("served", paths.clone());
    count.max_lines = 0;
    let mut errors = Query::errors(paths.clone());
    errors.max_lines = 6;
    let mut window = Query::grep("bot.py|crashed", paths);
    window.since = Some(at("2026-01-27 00:30:00"));
    window.until = Some(at("2026-01-27 01:10:00"));
    window.max_lines = 5;
    for q in [grep, count, errors, window] {
        let answer = |threads: usize| {
            let mut r = Engine::one_shot()
                .with_threads(ScanThreads::new(threads))
                .with_part_size(4096)
                .search(&q, now(), &|_| {})
                .unwrap();
            r.elapsed = Default::default();
            r
        };
        let one = answer(1);
        assert!(one.matches > 0, "{:?}", q.kind);
        for threads in [2, 3, 8] {
            assert_eq!(answer(threads), one, "{threads} threads, {:?}", q.kind);
        }
    }
}

/// A refresh of a file cut into parts resumes where the parts ended.
#[test]
fn a_file_read_in_parts_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "big.log",
        entries_with_tracebacks(4000).as_bytes(),
    );
    let mut q = Query::errors(vec![path.clone()]);
    q.max_lines = 10;
    let engine = Engine::incremental(Default::default())
        .with_threads(ScanThreads::new(4))
        .with_part_size(4096);
    engine.expect_repeats(&q);
    engine.search(&q, now(), &|_| {}).unwrap();
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"2026-01-27 23:00:00,000 ERROR appended\nTraceback (most recent call last):\n")
        .unwrap();
    let mut refreshed = engine.search(&q, now(), &|_| {}).unwrap();
    let mut full = search(&q).unwrap();
    assert!(refreshed.bytes_scanned < 200);
    refreshed.elapsed = Default::default();
    full.elapsed = Default::default();
    refreshed.bytes_scanned = full.bytes_scanned;
    assert_eq!(refreshed, full);
    // The appended ERROR line (its traceback is part of it).
    assert_eq!(full.lines.last().unwrap().line_number, 4000 + 3 * 572 + 1);
}

/// A file named itself and also within a named directory, in either order,
/// is read once: by a search and by a grouping alike.
#[test]
fn a_file_named_twice_by_overlapping_paths_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "app.log",
        b"2026-11-29 10:00:00 ERROR boom 1\n2026-11-29 10:00:01 ERROR boom 2\n",
    );
    let folder = dir.path().to_path_buf();
    for paths in [
        vec![folder.clone(), file.clone()],
        vec![file.clone(), folder.clone()],
    ] {
        let result = search(&Query::grep("boom", paths.clone())).unwrap();
        assert_eq!(result.matches, 2, "{paths:?}");
        assert_eq!(result.files.len(), 1, "{paths:?}");
        let groups = diagbot_core::groups::run(
            &diagbot_core::groups::GroupsQuery::new(paths.clone()),
            now(),
            &|_| {},
        )
        .unwrap();
        assert_eq!(groups.groups.len(), 1, "{paths:?}");
        assert_eq!(groups.groups[0].count, 2, "{paths:?}");
        assert_eq!(groups.groups[0].files.len(), 1, "{paths:?}");
    }
}

/// A service's log with a logged failure and its traceback, a crash its
/// stderr wrote below an info line, and a warning logged with a traceback.
const EVENTS_LOG: &str = "\
2026-01-27 10:00:00 ERROR job crashed
Traceback (most recent call last):
  File \"bot.py\", line 3, in run
    fetch()
ValueError: bad input
2026-01-27 10:00:01 INFO refresh done
Traceback (most recent call last):
  File \"x.py\", line 1, in <module>
ConnectionError: exchange timeout after 30s
2026-01-27 10:00:02 WARNING retried
Traceback (most recent call last):
KeyError: 1
2026-01-27 10:00:03 ERROR late failure
";

/// `errors` counts events: a traceback is part of the line above it (one
/// error, not two), shown with its exception line; below an info line it is
/// an error of its own; below a warning, part of the warning.
#[test]
fn errors_count_events_and_show_a_tracebacks_exception_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "bot.log", EVENTS_LOG.as_bytes());
    let query = Query::errors(vec![log.clone()]);
    let result = search(&query).unwrap();
    assert_eq!(result.matches, 3);
    assert_eq!(result.levels.get(Level::Error), 3);
    assert_eq!(result.levels.get(Level::Warning), 1);
    assert_eq!(result.levels.get(Level::Info), 1);
    assert_eq!(result.levels.unknown(), 0);
    let texts: Vec<&str> = result.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "2026-01-27 10:00:00 ERROR job crashed\nValueError: bad input",
            "Traceback (most recent call last):\nConnectionError: exchange timeout after 30s",
            "2026-01-27 10:00:03 ERROR late failure",
        ]
    );
    assert_eq!(result.lines[1].line_number, 7);
    // Cut into parts scanned at once, the answer is the same.
    let parts = Engine::one_shot()
        .with_threads(ScanThreads::new(4))
        .with_part_size(64)
        .search(&query, now(), &|_| {})
        .unwrap();
    assert_eq!(parts.without_costs(), result.without_costs());
}

/// A refresh that resumes inside a traceback (the rest appended later) sees
/// the same events as a full read.
#[test]
fn a_refresh_resumed_inside_a_traceback_sees_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let (head, rest) = EVENTS_LOG.split_at(EVENTS_LOG.find("    fetch()").unwrap());
    let log = write(dir.path(), "bot.log", head.as_bytes());
    let engine = Engine::incremental(Default::default());
    let query = Query::errors(vec![log.clone()]);
    engine.expect_repeats(&query);
    let first = engine.search(&query, now(), &|_| {}).unwrap();
    assert_eq!(first.matches, 1);
    fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(rest.as_bytes())
        .unwrap();
    let refreshed = engine.search(&query, now(), &|_| {}).unwrap();
    let full = search(&query).unwrap();
    assert_eq!(refreshed.without_costs(), full.without_costs());
    assert!(refreshed.bytes_scanned < full.bytes_scanned);
}
