use std::io::Write;
use std::path::Path;

use super::*;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A line stamped now, as an application writes it.
fn line(level: &str, message: &str) -> String {
    format!(
        "{} {level} {message}\n",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
    )
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn tick(w: &mut ErrorWatch, dir: &Path, at: i64, quiet: i64) -> TickReport {
    w.tick(&[dir.to_path_buf()], &[], (at, quiet), &Cancel::new())
}

fn templates(r: &TickReport) -> Vec<(&str, Option<i64>)> {
    r.sighted
        .iter()
        .map(|s| (s.template.as_str(), s.back_after_secs))
        .collect()
}

#[test]
fn the_baseline_is_known_and_a_new_group_is_news_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("ERROR", "database is locked"));
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    let first = tick(&mut w, dir.path(), now(), 3600);
    assert!(first.baseline);
    assert!(first.sighted.is_empty(), "{first:?}");
    // The baseline's counts are the logs' whole past, not a window's.
    assert!(first.top.is_empty(), "{first:?}");

    append(&log, &line("ERROR", "database is locked"));
    append(
        &log,
        &line("ERROR", "Order 17 rejected: insufficient balance"),
    );
    append(
        &log,
        &line("ERROR", "Order 18 rejected: insufficient balance"),
    );
    append(&log, &line("WARNING", "slow reply"));
    let second = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(
        templates(&second),
        [("Order <num> rejected: insufficient balance", None)]
    );
    assert_eq!(second.sighted[0].count, 2);
    assert!(second.sighted[0].example.contains("Order 18"));
    assert_eq!(
        second.top[0],
        ("Order <num> rejected: insufficient balance".to_string(), 2)
    );

    append(
        &log,
        &line("ERROR", "Order 19 rejected: insufficient balance"),
    );
    let third = tick(&mut w, dir.path(), now(), 3600);
    assert!(
        third.sighted.is_empty(),
        "known groups are not news: {third:?}"
    );
    let idle = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(idle.bytes, 0, "an unchanged file is not read");
}

/// An error burst names the groups of its window with their counts there,
/// not one tick's (which are mostly 1 each), and how many more it saw.
#[test]
fn the_top_groups_count_over_the_window_largest_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    w.set_top_window(300);
    let start = now();
    tick(&mut w, dir.path(), start, 3600);
    let mut last = TickReport::default();
    for i in 1..=10 {
        append(&log, &line("ERROR", &format!("request {i} timed out")));
        if i % 3 == 0 {
            append(&log, &line("ERROR", "database is locked"));
        }
        let one_off = [
            "disk full on data volume",
            "cache eviction storm",
            "login refused for admin",
        ];
        if i >= 8 {
            append(&log, &line("ERROR", one_off[i as usize - 8]));
        }
        last = tick(&mut w, dir.path(), start + 30 * i, 3600);
    }
    let expected: Vec<(String, u64)> = vec![
        ("request <num> timed out".into(), 10),
        ("database is locked".into(), 3),
    ];
    assert_eq!(last.top[..2], expected[..], "{last:?}");
    assert_eq!(last.top.len(), 3);
    assert_eq!(
        last.top_more, 2,
        "three one-off groups: one named, two more"
    );
    // Ticks older than the window are forgotten.
    let later = tick(&mut w, dir.path(), start + 30 * 10 + 301, 3600);
    assert!(later.top.is_empty(), "{later:?}");
    assert_eq!(later.top_more, 0);
}

/// A line as a Java service writes it: its thread in brackets and its class
/// before a colon, which only a learned header keeps out of the template.
fn java_line(level: &str, thread: u32, message: &str) -> String {
    format!(
        "{} [pool worker {thread} on 9000] {level} com.example.pay.Client: {message}\n",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
    )
}

/// After a rotation the new file has too few lines to learn its header
/// from, and later it has enough: neither makes a known kind of error new.
#[test]
fn a_rotated_log_keeps_its_header_and_its_known_errors() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    for i in 0..20 {
        append(
            &log,
            &java_line("INFO", i % 4, &format!("accepted order {i}")),
        );
        if i % 5 == 0 {
            append(
                &log,
                &java_line("ERROR", i % 4, &format!("order {i} failed: card declined")),
            );
        }
    }
    let mut w = ErrorWatch::new(100);
    let base = tick(&mut w, dir.path(), now(), 3600);
    assert!(base.baseline);
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(
        &log,
        &java_line("ERROR", 7, "order 31 failed: card declined"),
    );
    let rotated = tick(&mut w, dir.path(), now(), 3600);
    assert!(rotated.sighted.is_empty(), "{rotated:?}");
    assert_eq!(
        rotated.top,
        [("order <num> failed: card declined".to_string(), 1)]
    );
    for i in 40..60 {
        append(
            &log,
            &java_line("INFO", i % 3, &format!("accepted order {i}")),
        );
    }
    append(
        &log,
        &java_line("ERROR", 2, "order 61 failed: card declined"),
    );
    let grown = tick(&mut w, dir.path(), now(), 3600);
    assert!(grown.sighted.is_empty(), "{grown:?}");
    assert_eq!(
        grown.top,
        [("order <num> failed: card declined".to_string(), 2)],
        "each line grouped once: {grown:?}"
    );
}

/// A new log's header is learned once enough lines show it; the lines
/// grouped before are not grouped again.
#[test]
fn a_header_learned_late_does_not_read_the_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &java_line("INFO", 1, "started"));
    let mut w = ErrorWatch::new(100);
    tick(&mut w, dir.path(), now(), 3600);
    append(
        &log,
        &java_line("ERROR", 1, "order 1 failed: card declined"),
    );
    let first = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(first.sighted.len(), 1, "{first:?}");
    for i in 2..20 {
        append(
            &log,
            &java_line("INFO", i % 4, &format!("accepted order {i}")),
        );
    }
    let later = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(
        later.top,
        [("order <num> failed: card declined".to_string(), 1)],
        "the error line is counted once in the window, not read again: {later:?}"
    );
    assert!(later.sighted.is_empty(), "{later:?}");
}

#[test]
fn a_group_silent_for_the_quiet_period_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    let t0 = now();
    tick(&mut w, dir.path(), t0, 60);
    append(&log, &line("ERROR", "disk full"));
    assert_eq!(
        templates(&tick(&mut w, dir.path(), t0 + 10, 60)),
        [("disk full", None)]
    );
    append(&log, &line("ERROR", "disk full"));
    assert!(tick(&mut w, dir.path(), t0 + 30, 60).sighted.is_empty());
    append(&log, &line("ERROR", "disk full"));
    assert_eq!(
        templates(&tick(&mut w, dir.path(), t0 + 100, 60)),
        [("disk full", Some(70))]
    );
}

#[test]
fn a_traceback_is_one_group_even_when_it_arrives_over_two_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    tick(&mut w, dir.path(), now(), 3600);
    append(&log, &line("ERROR", "payment failed for user 7"));
    append(&log, "Traceback (most recent call last):\n");
    let r = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(templates(&r), [("payment failed for user <num>", None)]);
    append(&log, "  File \"/app/pay.py\", line 12, in pay\n");
    append(&log, "ValueError: 7 is not a valid amount\n");
    let r = tick(&mut w, dir.path(), now(), 3600);
    assert!(
        r.sighted.is_empty(),
        "the traceback's tail is no group: {r:?}"
    );
    assert_eq!(
        r.top,
        [("payment failed for user <num>".to_string(), 1)],
        "nor counted again: {r:?}"
    );
}

#[test]
fn rotation_is_followed_and_truncation_reads_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("ERROR", "cache miss storm"));
    let mut w = ErrorWatch::new(100);
    tick(&mut w, dir.path(), now(), 3600);
    // Rotated: the old file renamed, a new one started with a known error.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &line("ERROR", "cache miss storm"));
    let r = tick(&mut w, dir.path(), now(), 3600);
    assert!(r.sighted.is_empty(), "{r:?}");
    assert!(r.bytes > 0, "the new file is read");
    // Copytruncate: the file emptied and written again.
    std::fs::write(&log, line("ERROR", "socket closed by peer")).unwrap();
    let r = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(templates(&r), [("socket closed by peer", None)]);
}

#[test]
fn an_unfinished_line_waits_for_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    tick(&mut w, dir.path(), now(), 3600);
    let whole = line("ERROR", "connection refused by upstream");
    let (a, b) = whole.split_at(30);
    append(&log, a);
    assert!(tick(&mut w, dir.path(), now(), 3600).sighted.is_empty());
    append(&log, b);
    let r = tick(&mut w, dir.path(), now(), 3600);
    assert_eq!(templates(&r), [("connection refused by upstream", None)]);
}

#[test]
fn known_ids_survive_as_the_store_would_keep_them() {
    // What a store saves after a tick, loaded into a new watch: nothing is new.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &line("INFO", "started"));
    let mut w = ErrorWatch::new(100);
    tick(&mut w, dir.path(), now(), 3600);
    append(&log, &line("ERROR", "queue overflow"));
    assert_eq!(tick(&mut w, dir.path(), now(), 3600).sighted.len(), 1);
    let saved = w.known_mut().take_changes();
    assert_eq!(saved.len(), 1);

    let other = tempfile::tempdir().unwrap();
    let log2 = other.path().join("app.log");
    append(&log2, &line("INFO", "started"));
    let mut restarted = ErrorWatch::new(100);
    restarted.known_mut().load(saved);
    tick(&mut restarted, other.path(), now(), 3600);
    append(&log2, &line("ERROR", "queue overflow"));
    assert!(tick(&mut restarted, other.path(), now(), 3600)
        .sighted
        .is_empty());
}

/// A fake `journalctl` in `dir` that refuses any `--after-cursor` (as when
/// the entry it names was vacuumed) and otherwise prints `entries` in export
/// format; it writes the arguments it got to `dir/args`.
fn journal_refusing_cursors(dir: &Path, entries: &[(&str, &str)]) -> crate::journal::Journal {
    use std::os::unix::fs::PermissionsExt;
    let mut export = String::new();
    for (cursor, message) in entries {
        export.push_str(&format!(
            "__CURSOR={cursor}\\n__REALTIME_TIMESTAMP=1769508000000000\\nPRIORITY=3\\nMESSAGE={message}\\n\\n"
        ));
    }
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> {args:?}\ncase \"$*\" in *--after-cursor*) \
         echo 'Failed to seek to cursor: Invalid argument' >&2; exit 1;; esac\nprintf '{export}'\n",
        args = dir.join("args"),
    );
    let path = dir.join("journalctl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    crate::journal::Journal::system(path.display().to_string())
}

/// A cursor the journal no longer has: the watch reads on from the time of
/// the last entry it read, and says so; the entries are grouped.
#[test]
fn a_cursor_the_journal_lost_resumes_from_the_last_time_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_refusing_cursors(
        dir.path(),
        &[("c1", "payment 1 failed"), ("c2", "payment 2 failed")],
    );
    let mut w = ErrorWatch::new(100);
    w.follow_journal(Some((journal, vec!["bot.service".into()])));
    w.resume_journal("gone".into(), 1_769_507_000_000_000);
    let logs = tempfile::tempdir().unwrap();
    let report = tick(&mut w, logs.path(), now(), 3600);
    let said: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        said.iter()
            .any(|r| r.contains("the saved cursor is gone") && r.contains("2026-01-27T09:43:20")),
        "{said:?}"
    );
    assert!(report.baseline);
    let grouped: Vec<(String, u64)> = w
        .grouper
        .groups()
        .map(|g| (g.template(), g.count))
        .collect();
    assert_eq!(grouped, [("payment <num> failed".to_string(), 2)]);
    assert_eq!(w.journal_position().map(|p| p.0), Some("c2".to_string()));
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert!(
        args.lines()
            .nth(1)
            .unwrap()
            .contains("--since=@1769507000.000000"),
        "{args}"
    );
}
