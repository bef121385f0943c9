//! Searching the systemd journal on real journal files, written by
//! `systemd-journal-remote` from export format: every count checked against
//! the entries written (the truth) and against `journalctl` itself.
//!
//! Needs `systemd-journal-remote` (Debian's package of that name; CI
//! installs it) and `journalctl`. Outside CI a machine without them skips
//! these tests and says so; in CI they fail instead.
#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diagbot_core::journal::export::export_entry;
use diagbot_core::journal::Journal;
use diagbot_core::logs::level::Level;
use diagbot_core::query::{JournalScope, LineSource};
use diagbot_core::{Engine, GrepPattern, Query, SearchError, SearchResult};

/// `systemd-journal-remote`, where Debian puts it unless `DIAGBOT_JOURNAL_REMOTE` says.
fn journal_remote() -> Option<PathBuf> {
    let path = std::env::var_os("DIAGBOT_JOURNAL_REMOTE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/lib/systemd/systemd-journal-remote".into());
    let found = path.exists() && Command::new("journalctl").arg("--version").output().is_ok();
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if !found {
        assert!(!in_ci, "{} or journalctl is missing in CI", path.display());
        eprintln!("skipped: {} or journalctl not found", path.display());
        return None;
    }
    Some(path)
}

/// Appends `entries` (export format) to the journal file `dir/test.journal`.
pub fn write_journal(remote: &Path, dir: &Path, entries: &[Vec<u8>]) {
    let mut child = Command::new(remote)
        .arg(format!("--output={}", dir.join("test.journal").display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for entry in entries {
            stdin.write_all(entry).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const BOOT: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-01-01T00:00:00Z in µs.
const T0: i64 = 1_767_225_600_000_000;

/// One entry at `T0 + seconds`, of `unit` (none: a kernel-like entry) and
/// `priority` (none: the field is left out).
fn entry(seconds: i64, unit: Option<&str>, priority: Option<u8>, message: &[u8]) -> Vec<u8> {
    let time = (T0 + seconds * 1_000_000).to_string();
    let monotonic = (seconds * 1_000_000 + 1).to_string();
    let priority = priority.map(|p| p.to_string());
    let unit = unit.map(|u| format!("{u}.service"));
    let mut fields: Vec<(&str, &[u8])> = vec![
        ("__REALTIME_TIMESTAMP", time.as_bytes()),
        ("__MONOTONIC_TIMESTAMP", monotonic.as_bytes()),
        ("_BOOT_ID", BOOT),
        ("_HOSTNAME", b"vps"),
        ("MESSAGE", message),
    ];
    if let Some(unit) = &unit {
        fields.push(("_SYSTEMD_UNIT", unit.as_bytes()));
    }
    if let Some(p) = &priority {
        fields.push(("PRIORITY", p.as_bytes()));
    }
    export_entry(&fields)
}

const TRACEBACK: &[u8] = b"Traceback (most recent call last):\n  File \"bot.py\", line 12, in refresh\n    fetch()\nConnectionError: exchange timeout after 30s";

/// The fixture: two units and unit-less entries, every priority, a
/// traceback, invalid UTF-8, a 200 KB MESSAGE, an entry with no PRIORITY
/// whose MESSAGE has a level of its own.
fn fixture(remote: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = Vec::new();
    for i in 0..40i64 {
        let priority = u8::try_from(i % 8).unwrap();
        let message = format!("bot tick {i} exchange timeout={}", i % 3);
        entries.push(entry(
            i * 60,
            Some("bot"),
            Some(priority),
            message.as_bytes(),
        ));
        entries.push(entry(
            i * 60 + 1,
            Some("web"),
            Some(6),
            format!("GET /{i} 200").as_bytes(),
        ));
    }
    entries.push(entry(3000, Some("bot"), Some(3), TRACEBACK));
    entries.push(entry(3001, Some("bot"), None, b"ERROR:root:payment failed"));
    entries.push(entry(
        3002,
        Some("bot"),
        Some(4),
        b"bad bytes \xff\xfe timeout here",
    ));
    let mut huge = vec![b'x'; 200_000];
    huge.extend_from_slice(b" timeout at the end");
    entries.push(entry(3003, Some("web"), Some(3), &huge));
    entries.push(entry(
        3004,
        None,
        Some(2),
        b"kernel: Out of memory: Killed process 908 (python3)",
    ));
    // Letters whose case Unicode folds beyond ASCII: U+212A KELVIN SIGN, U+017F LONG S.
    entries.push(entry(
        3005,
        Some("misc"),
        Some(6),
        "\u{212A}elvin sign".as_bytes(),
    ));
    entries.push(entry(
        3006,
        Some("misc"),
        Some(6),
        "\u{17F}tatus ok".as_bytes(),
    ));
    write_journal(remote, dir.path(), &entries);
    dir
}

fn engine(dir: &Path) -> Engine {
    let journal = Journal::system("journalctl").in_directory(dir.to_path_buf());
    Engine::one_shot().with_journal(Some(journal))
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Local::now().fixed_offset()
}

fn search(engine: &Engine, query: &Query) -> SearchResult {
    engine.search(query, now(), &|_| {}).unwrap()
}

/// How many entries `journalctl` itself selects with `args` over `dir`.
fn journalctl_count(dir: &Path, args: &[&str]) -> u64 {
    let out = Command::new("journalctl")
        .arg(format!("--directory={}", dir.display()))
        .args(["--output=json", "--no-pager"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64
}

fn units(names: &[&str]) -> JournalScope {
    JournalScope::units(names).unwrap()
}

#[test]
fn errors_of_a_unit_count_its_entries_by_priority_and_a_traceback_is_one_record() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let query = Query::errors(vec![]).with_journal(units(&["bot"]));
    let result = search(&engine(dir.path()), &query);
    // 40 ticks, priorities 0..7 five times each; the traceback (3), the
    // header-level entry (no PRIORITY: ERROR), the bad bytes (4).
    let levels = &result.levels;
    assert_eq!(levels.get(Level::Fatal), 15);
    assert_eq!(levels.get(Level::Error), 5 + 2);
    assert_eq!(levels.get(Level::Warning), 5 + 1);
    assert_eq!(levels.get(Level::Info), 10);
    assert_eq!(levels.get(Level::Debug), 5);
    assert_eq!(result.matches, 22);
    assert_eq!(
        result.matches,
        journalctl_count(dir.path(), &["-u", "bot", "-p", "3"]) + 1
    );
    assert_eq!(result.files_searched, 1);
    assert_eq!(
        result.files[0].path,
        format!("journal {}", dir.path().display())
    );
    assert_eq!(result.files[0].entries, Some(43));
    let last = result.lines.last().unwrap();
    assert_eq!(last.text, "ERROR:root:payment failed");
    assert_eq!(last.level, Some(Level::Error));
    let traceback = &result.lines[result.lines.len() - 2];
    assert_eq!(traceback.source, LineSource::Journal);
    assert_eq!(traceback.unit.as_deref(), Some("bot.service"));
    assert!(traceback
        .cursor
        .as_deref()
        .is_some_and(|c| c.starts_with("s=")));
    assert!(traceback
        .text
        .ends_with("ConnectionError: exchange timeout after 30s"));
    assert_eq!(
        traceback.timestamp.unwrap().timestamp_millis(),
        (T0 / 1000) + 3_000_000
    );
}

#[test]
fn grep_over_units_and_the_whole_journal_finds_what_journalctl_finds() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let engine = engine(dir.path());
    let cases: [(&str, bool, &[&str], u64); 6] = [
        // A literal: journalctl selects by --grep, diagbot checks.
        ("timeout", false, &["bot"], 42),
        ("timeout", false, &["bot", "web"], 43),
        // A regex journalctl is not asked to match.
        ("timeout=[12]", false, &["bot"], 26),
        ("time.ut", false, &["web"], 1),
        ("TIMEOUT", true, &["bot"], 42),
        ("Killed process", false, &[], 1),
    ];
    for (pattern, ignore_case, names, truth) in cases {
        let scope = if names.is_empty() {
            JournalScope::whole()
        } else {
            units(names)
        };
        let query = Query::grep(GrepPattern::regex(pattern).ignore_case(ignore_case), vec![])
            .with_journal(scope);
        let result = search(&engine, &query);
        assert_eq!(result.matches, truth, "{pattern} in {names:?}");
        let mut args = vec!["--grep", pattern];
        args.push(if ignore_case {
            "--case-sensitive=false"
        } else {
            "--case-sensitive=true"
        });
        for name in names {
            args.extend(["-u", name]);
        }
        assert_eq!(
            journalctl_count(dir.path(), &args),
            truth,
            "journalctl: {pattern}"
        );
    }
}

#[test]
fn a_window_selects_entries_by_their_time_as_journalctl_does() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let mut query = Query::grep("tick", vec![]).with_journal(units(&["bot"]));
    let at = |s: i64| {
        let t = chrono::DateTime::from_timestamp_micros(T0 + s * 1_000_000).unwrap();
        diagbot_core::when::TimeBound::parse(&t.to_rfc3339()).unwrap()
    };
    // Ticks at 0, 60, ... 2340 s: 600..=1200 holds 11 of them.
    query.since = Some(at(600));
    query.until = Some(at(1200));
    let result = search(&engine(dir.path()), &query);
    assert_eq!(result.matches, 11);
    assert!(result.warnings.is_empty());
}

#[test]
fn a_huge_or_invalid_message_is_read_like_a_long_or_invalid_line() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let engine = engine(dir.path());
    let query = Query::grep("timeout", vec![]).with_journal(units(&["web"]));
    let result = search(&engine, &query);
    assert_eq!(result.matches, 1);
    let line = &result.lines[0];
    assert!(line.truncated);
    assert_eq!(line.text.len(), diagbot_core::query::MAX_LINE_TEXT);
    let query = Query::grep("bad bytes", vec![]).with_journal(units(&["bot"]));
    let result = search(&engine, &query);
    assert_eq!(
        result.lines[0].text,
        "bad bytes \u{fffd}\u{fffd} timeout here"
    );
}

#[test]
fn files_and_the_journal_answer_together_in_time_order() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let logs = tempfile::tempdir().unwrap();
    // Between the bad-bytes entry (3002 s) and the 200 KB one (3003 s).
    let at = chrono::DateTime::from_timestamp_micros(T0 + 3_002_500_000).unwrap();
    let at = at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S%.3f");
    std::fs::write(
        logs.path().join("app.log"),
        format!("{at} ERROR app timeout\n"),
    )
    .unwrap();
    let query = Query::grep("timeout", vec![logs.path().to_path_buf()])
        .with_journal(units(&["bot", "web"]));
    let result = search(&engine(dir.path()), &query);
    assert_eq!(result.matches, 44);
    assert_eq!(result.files_searched, 2);
    let tail: Vec<_> = result
        .lines
        .iter()
        .rev()
        .take(3)
        .map(|l| l.source)
        .collect();
    assert_eq!(
        tail,
        [LineSource::Journal, LineSource::File, LineSource::Journal]
    );
}

#[test]
fn without_journalctl_files_are_still_answered_and_the_journal_named_once() {
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(
        logs.path().join("app.log"),
        "2026-01-01 00:00:00 ERROR down\n",
    )
    .unwrap();
    let engine = Engine::one_shot().with_journal(Some(Journal::system("/nonexistent/journalctl")));
    let query = Query::errors(vec![logs.path().to_path_buf()]).with_journal(units(&["bot"]));
    let result = search(&engine, &query);
    assert_eq!(result.matches, 1);
    let said: Vec<_> = result
        .skipped
        .iter()
        .filter(|s| s.path == "journal")
        .collect();
    assert_eq!(said.len(), 1);
    assert!(
        said[0].reason.starts_with("journal: not available"),
        "{}",
        said[0].reason
    );
    // Only the journal asked: the answer is the error.
    let query = Query::errors(vec![]).with_journal(units(&["bot"]));
    let err = engine.search(&query, now(), &|_| {}).unwrap_err();
    assert!(matches!(err, SearchError::Journal(_)), "{err}");
}

#[test]
fn a_unit_name_that_would_smuggle_a_match_is_refused() {
    let err = JournalScope::units(&["bot _UID=0"]).unwrap_err();
    assert!(err
        .to_string()
        .contains("\"bot _UID=0\" is not a systemd unit name"));
}

#[test]
fn a_refresh_reads_only_the_entries_after_its_cursor_and_answers_as_a_full_read() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let journal = Journal::system("journalctl").in_directory(dir.path().to_path_buf());
    let incremental = Engine::incremental(Default::default()).with_journal(Some(journal));
    let mut query = Query::errors(vec![]).with_journal(units(&["bot"]));
    query.max_lines = 3;
    incremental.expect_repeats(&query);
    let first = search(&incremental, &query);
    let again = search(&incremental, &query);
    assert_eq!(again.without_costs(), first.without_costs());
    // Nothing new: only journalctl's empty answer was read.
    assert!(again.bytes_scanned < 100, "{}", again.bytes_scanned);
    write_journal(
        &remote,
        dir.path(),
        &[
            entry(4000, Some("bot"), Some(3), b"late failure"),
            entry(4001, Some("web"), Some(3), b"not the bot's"),
        ],
    );
    let refreshed = search(&incremental, &query);
    let full = search(&engine(dir.path()), &query);
    assert_eq!(refreshed.without_costs(), full.without_costs());
    assert_eq!(refreshed.matches, first.matches + 1);
    assert_eq!(refreshed.lines.last().unwrap().text, "late failure");
    assert!(refreshed.bytes_scanned < first.bytes_scanned / 4);
}

/// With `-i`, journalctl is asked for each letter's cases (it folds ASCII
/// only), so an entry only Unicode's case folding matches is still found.
#[test]
fn ignore_case_finds_what_unicode_folds_though_journalctl_folds_ascii_only() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let engine = engine(dir.path());
    for (pattern, text) in [
        ("KELVIN", "\u{212A}elvin sign"),
        ("status", "\u{17F}tatus ok"),
    ] {
        let query = Query::grep(GrepPattern::regex(pattern).ignore_case(true), vec![])
            .with_journal(units(&["misc"]));
        let result = search(&engine, &query);
        assert_eq!(result.matches, 1, "{pattern}");
        assert_eq!(result.lines[0].text, text);
    }
}

/// Found by trying it: a literal that no entry holds (journalctl's `--grep`
/// then exits 1) is zero matches, not a failed journal; a unit with no
/// entries likewise.
#[test]
fn a_literal_no_entry_holds_is_zero_matches() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = fixture(&remote);
    let engine = engine(dir.path());
    for (pattern, ignore_case, unit) in [
        ("absent", false, "bot"),
        ("ABSENT", true, "bot"),
        ("timeout", false, "nosuch"),
    ] {
        let query = Query::grep(GrepPattern::regex(pattern).ignore_case(ignore_case), vec![])
            .with_journal(units(&[unit]));
        let result = search(&engine, &query);
        assert_eq!(result.matches, 0, "{pattern} in {unit}");
        assert!(result.skipped.is_empty(), "{:?}", result.skipped);
        assert!(result.partial.is_none());
    }
}

/// A Python service that writes to stdout: journald gives every line
/// priority 6 (info); the level each line states (`ERROR:root:`, a
/// traceback) is its level, so `errors` finds its failures.
#[test]
fn a_services_stdout_lines_take_the_level_they_state() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let line = |s: i64, message: &str| {
        let time = (T0 + s * 1_000_000).to_string();
        export_entry(&[
            ("__REALTIME_TIMESTAMP", time.as_bytes()),
            ("__MONOTONIC_TIMESTAMP", time.as_bytes()),
            ("_BOOT_ID", BOOT),
            ("_SYSTEMD_UNIT", b"py.service"),
            ("_TRANSPORT", b"stdout"),
            ("PRIORITY", b"6"),
            ("MESSAGE", message.as_bytes()),
        ])
    };
    let entries = [
        line(0, "INFO:root:refresh done"),
        line(1, "ERROR:root:payment failed"),
        line(2, "Traceback (most recent call last):"),
        line(3, "  File \"bot.py\", line 3, in run"),
        line(4, "ValueError: bad input"),
        line(5, "WARNING:bot.api:slow reply"),
    ];
    write_journal(&remote, dir.path(), &entries);
    let result = search(
        &engine(dir.path()),
        &Query::errors(vec![]).with_journal(units(&["py"])),
    );
    assert_eq!(result.matches, 2, "{:?}", result.lines);
    assert_eq!(result.levels.get(Level::Warning), 1);
    assert_eq!(result.levels.get(Level::Info), 3);
}

/// explain reads a unit's journal as it reads files: each entry at the
/// journal's time, its message without the header the service wrote
/// itself (a timestamp and level on stdout, Python's `LEVEL:name:`), and
/// only the unit's entries since the span's start.
#[test]
fn explain_reads_the_numbers_of_a_units_journal_without_their_own_headers() {
    use diagbot_core::explain::scan::read_journal_numbers;
    use diagbot_core::explain::Numbers;
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut entries = Vec::new();
    for i in 0..30i64 {
        let own = format!(
            "2026-01-01 00:{:02}:00,417 INFO Cache size: {} entries",
            i % 60,
            3 + 5 * i
        );
        entries.push(entry(i * 60, Some("bot"), Some(6), own.as_bytes()));
        let python = format!("INFO:bot:uptime {} s", i * 60);
        entries.push(entry(i * 60 + 1, Some("bot"), Some(6), python.as_bytes()));
        // Another unit's lines are not the bot's.
        entries.push(entry(
            i * 60 + 2,
            Some("web"),
            Some(6),
            b"Cache size: 999 entries",
        ));
    }
    write_journal(&remote, dir.path(), &entries);
    let journal = Journal::system("journalctl").in_directory(dir.path().to_path_buf());
    let mut numbers = Numbers::default();
    let since = (T0 / 1_000_000 + 10 * 60) as f64;
    let read = read_journal_numbers(
        &journal,
        "bot.service",
        since,
        &[],
        &diagbot_core::logs::cancel::Cancel::new(),
        &mut numbers,
    )
    .unwrap();
    assert_eq!(
        read, 40,
        "the bot's 20 minutes since the span's start, two entries each"
    );
    let templates: Vec<&str> = numbers.iter().map(|(k, _)| k.template.as_str()).collect();
    let cache = numbers
        .iter()
        .find(|(k, _)| k.template == "Cache size: <num> entries")
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no cache size among {templates:?}"));
    assert_eq!(cache.points.len(), 20);
    assert_eq!(cache.points[0], ((T0 / 1_000_000 + 600) as f64, 53.0));
    assert!(cache.source.starts_with("journal"), "{}", cache.source);
    assert!(
        templates.contains(&"uptime <num> s"),
        "Python's prefix is header: {templates:?}"
    );
    assert_eq!(templates.len(), 2, "{templates:?}");
}

/// A service that logs to the journal has its configured numbers followed
/// there as in files: the latest value of the unit's own entries (another
/// unit's are not its), a header of the service's own left out, and at the
/// next tick only what came after (it was followed in files only, so a
/// journal-only service's numbers were never drawn or alerted on).
#[test]
fn configured_numbers_are_followed_in_a_units_journal() {
    use diagbot_core::explain::follow::NumberFollower;
    use diagbot_core::logs::cancel::Cancel;
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Entries of the last minutes: the first read goes back a day, not to T0.
    let now_s = (chrono::Utc::now().timestamp_micros() - T0) / 1_000_000;
    let cache = |s: i64, n: i64| {
        let own = format!("2026-12-08 00:00:00,417 INFO Cache size: {n} entries");
        entry(now_s - s, Some("bot"), Some(6), own.as_bytes())
    };
    write_journal(
        &remote,
        dir.path(),
        &[
            cache(300, 5),
            cache(240, 7),
            entry(200, Some("web"), Some(6), b"Cache size: 999 entries"),
            entry(
                now_s - 180,
                Some("web"),
                Some(6),
                b"Cache size: 999 entries",
            ),
        ],
    );
    let numbers = [cache_size("cache_size_entries")];
    let journal = Journal::system("journalctl").in_directory(dir.path().to_path_buf());
    let mut follower = NumberFollower::default();
    follower.follow_journal(Some((journal.clone(), vec!["bot.service".into()])));
    let latest = follower.tick(&[], &numbers, &[], &Cancel::new()).clone();
    assert_eq!(follower.journal_problem(), None);
    assert_eq!(latest["cache_size_entries"].value, 7.0);
    write_journal(&remote, dir.path(), &[cache(60, 61)]);
    // The same units again (as each sample says): the position is kept.
    follower.follow_journal(Some((journal, vec!["bot.service".into()])));
    let latest = follower.tick(&[], &numbers, &[], &Cancel::new()).clone();
    assert_eq!(latest["cache_size_entries"].value, 61.0);
    let at = latest["cache_size_entries"].at_secs;
    assert_eq!(
        at,
        ((T0 / 1_000_000 + now_s - 60) as f64),
        "the entry's own time"
    );
}

/// A day's backlog longer than one tick reads (50,000 entries) is read over
/// several ticks, oldest first: until the last tick reaches its end the
/// follower says it is behind, so that an old value (30, past a threshold
/// of 20) is not taken for the latest (5) and alerted on. A number too
/// long to be a float (400 digits) is no value.
#[test]
fn a_journal_backlog_is_behind_until_it_is_read_to_the_end() {
    use diagbot_core::explain::follow::NumberFollower;
    use diagbot_core::groups::watch::JOURNAL_ENTRIES_PER_TICK;
    use diagbot_core::logs::cancel::Cancel;
    let Some(remote) = journal_remote() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let now_s = (chrono::Utc::now().timestamp_micros() - T0) / 1_000_000;
    let old = now_s - 20 * 3600;
    let mut entries: Vec<Vec<u8>> = (0..JOURNAL_ENTRIES_PER_TICK as i64)
        .map(|i| {
            entry(
                old + i / 100,
                Some("bot"),
                Some(6),
                b"Cache size: 30 entries",
            )
        })
        .collect();
    entries.push(entry(
        now_s - 60,
        Some("bot"),
        Some(6),
        b"Cache size: 5 entries",
    ));
    let huge = format!("Cache size: {} entries", "9".repeat(400));
    entries.push(entry(now_s - 30, Some("bot"), Some(6), huge.as_bytes()));
    write_journal(&remote, dir.path(), &entries);
    let numbers = [cache_size("cache")];
    let journal = Journal::system("journalctl").in_directory(dir.path().to_path_buf());
    let mut follower = NumberFollower::default();
    follower.follow_journal(Some((journal, vec!["bot.service".into()])));
    let first = follower.tick(&[], &numbers, &[], &Cancel::new()).clone();
    assert!(follower.journal_behind(), "50,000 entries read, 2 left");
    assert_eq!(first["cache"].value, 30.0, "the backlog's old value");
    let second = follower.tick(&[], &numbers, &[], &Cancel::new()).clone();
    assert!(!follower.journal_behind());
    assert_eq!(second["cache"].value, 5.0, "the latest finite value");
}

/// The origin bot's number: `Cache size: <num> entries`, warned above 20.
fn cache_size(name: &str) -> diagbot_core::config::NumberWatch {
    diagbot_core::config::NumberWatch {
        name: name.into(),
        template: "Cache size: <num> entries".into(),
        slot: 0,
        warn_above: Some(20.0),
    }
}
