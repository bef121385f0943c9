//! Timestamps and levels of the formats logging libraries and servers write:
//! every line of `testdata/formats/lines.tsv` (the corpus), the decisions a
//! file makes for its lines (day/month order, two-digit years, where the
//! time stands), and user-defined formats.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use diagbot_core::logs::explain::explain_lines;
use diagbot_core::logs::format::{FileFormat, TimeReader};
use diagbot_core::logs::learn::learn_from_lines;
use diagbot_core::logs::level::Level;
use diagbot_core::logs::timestamp::{ParsedTime, YearHint};
use diagbot_core::logs::user_format::{UserFormat, UserFormatError};

/// Every corpus line is read as if its file was last written then.
fn last_write() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 31)
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
}

fn hint() -> YearHint {
    YearHint::new(last_write())
}

struct Row {
    name: String,
    line: String,
    time: Option<ParsedTime>,
    level: Option<Level>,
}

fn expected_time(text: &str) -> Option<ParsedTime> {
    if text == "-" {
        return None;
    }
    let zoned =
        text.ends_with('Z') || text.len() > 6 && text[text.len() - 6..].starts_with(['+', '-']);
    if zoned {
        let t = DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        return Some(ParsedTime {
            naive: t.naive_local(),
            offset: Some(*t.offset()),
        });
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    Some(ParsedTime {
        naive,
        offset: None,
    })
}

fn expected_level(text: &str) -> Option<Level> {
    match text {
        "-" => None,
        name => Some(
            *Level::ALL
                .iter()
                .find(|l| l.name() == name)
                .unwrap_or_else(|| panic!("unknown level {name}")),
        ),
    }
}

fn corpus() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/formats/lines.tsv"
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "four columns: {l}");
            Row {
                name: cols[0].to_string(),
                line: cols[1].replace("\\t", "\t"),
                time: expected_time(cols[2]),
                level: expected_level(cols[3]),
            }
        })
        .collect()
}

/// Reads `line` the way a scan reads a file holding only it.
fn read_alone(line: &str) -> (Option<ParsedTime>, Option<Level>, Option<String>) {
    let learned = learn_from_lines([line.as_bytes()], &[], Path::new("corpus.log"), hint());
    let reader = TimeReader::new(&learned.format, &[], hint());
    let head = reader.read(line.as_bytes());
    (
        head.time.map(|t| t.time),
        head.level(line.as_bytes()),
        learned.format.name(),
    )
}

#[test]
fn every_corpus_line_gets_its_time_and_level() {
    let rows = corpus();
    assert!(
        rows.len() >= 150,
        "the corpus shrank to {} lines",
        rows.len()
    );
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for row in &rows {
        assert!(names.insert(&row.name), "{} twice", row.name);
        let (time, level, format) = read_alone(&row.line);
        if time != row.time {
            failures.push(format!(
                "{}: time {time:?}, expected {:?} (format {format:?})\n    {}",
                row.name, row.time, row.line
            ));
        }
        if level != row.level {
            failures.push(format!(
                "{}: level {level:?}, expected {:?}\n    {}",
                row.name, row.level, row.line
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Learns a file's format from `lines` and reads each of them with it.
fn read_file(lines: &[&str], last_write: NaiveDateTime) -> (FileFormat, Vec<Option<String>>) {
    let hint = YearHint::new(last_write);
    let learned = learn_from_lines(
        lines.iter().map(|l| l.as_bytes()),
        &[],
        Path::new("app.log"),
        hint,
    );
    let reader = TimeReader::new(&learned.format, &[], hint);
    let times = lines
        .iter()
        .map(|l| {
            reader
                .read(l.as_bytes())
                .time
                .map(|t| t.time.naive.to_string())
        })
        .collect();
    (learned.format, times)
}

#[test]
fn one_unambiguous_line_settles_day_and_month_for_the_whole_file() {
    let lines = [
        "01/02/2026 10:00:00 first",
        "05/02/2026 10:00:00 second",
        "13/02/2026 10:00:00 only a day can be 13",
    ];
    let (format, times) = read_file(&lines, last_write());
    assert_eq!(format.name().as_deref(), Some("dd/MM/yyyy HH:mm:ss"));
    assert_eq!(times[0].as_deref(), Some("2026-02-01 10:00:00"));
    assert_eq!(times[1].as_deref(), Some("2026-02-05 10:00:00"));
    // Without the third line, `/` reads month first (the US order).
    let (format, times) = read_file(&lines[..2], last_write());
    assert_eq!(format.name().as_deref(), Some("MM/dd/yyyy HH:mm:ss"));
    assert_eq!(times[0].as_deref(), Some("2026-01-02 10:00:00"));
}

#[test]
fn two_digit_years_are_the_ones_not_after_the_last_write() {
    // `27/01/26` read as yy/MM/dd would be 2027: the file was last written in 2026.
    let (format, times) = read_file(
        &["27/01/26 10:00:00 x", "28/01/26 10:00:00 y"],
        last_write(),
    );
    assert_eq!(format.name().as_deref(), Some("dd/MM/yy HH:mm:ss"));
    assert_eq!(times[0].as_deref(), Some("2026-01-27 10:00:00"));
    // Hadoop's yy/MM/dd.
    let (_, times) = read_file(&["17/06/09 20:10:40 INFO x"], last_write());
    assert_eq!(times[0].as_deref(), Some("2017-06-09 20:10:40"));
}

#[test]
fn the_first_timestamp_of_the_line_wins_and_later_lines_follow_it() {
    // Thunderbird-like: an epoch, then a syslog timestamp later in the line.
    let lines = [
        "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[1]: a",
        "- 1131566462 2005.11.09 dn228 Nov 9 12:01:02 dn228/dn228 crond[1]: b",
    ];
    let (format, times) = read_file(&lines, last_write());
    assert_eq!(format.name().as_deref(), Some("epoch seconds (field 2)"));
    assert_eq!(times[1].as_deref(), Some("2005-11-09 20:01:02"));
}

#[test]
fn a_number_in_a_message_is_not_a_time() {
    let lines = [
        "2026-01-27 10:00:00,000 INFO order placed",
        "  order id 1769508000 filled at 1769508123",
        "2026-01-27 10:00:01,000 INFO done",
    ];
    let (_, times) = read_file(&lines, last_write());
    assert_eq!(times[1], None);
    // A number that stands where a file's lines keep their epoch is one.
    let hpc = [
        "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change",
        "350766 node-109 unix.hw state_change.unavailable 1084680778 1 Component State Change",
    ];
    let (format, times) = read_file(&hpc, last_write());
    assert_eq!(format.name().as_deref(), Some("epoch seconds (field 5)"));
    assert_eq!(times[0].as_deref(), Some("2004-02-26 14:12:22"));
    // One line alone does not make a number in its middle an epoch.
    let (format, times) = read_file(&hpc[..1], last_write());
    assert_eq!(format, FileFormat::Unknown);
    assert_eq!(times[0], None);
}

#[test]
fn weak_forms_are_learned_where_lines_put_them() {
    // Tornado: a level letter, then `yyMMdd HH:mm:ss`.
    let lines = [
        "[I 260127 10:00:00 web:2250] 200 GET / (127.0.0.1) 1.23ms",
        "[W 260127 10:00:01 web:2250] 404 GET /x (127.0.0.1) 0.50ms",
    ];
    let (format, times) = read_file(&lines, last_write());
    assert_eq!(format.name().as_deref(), Some("yyMMdd HH:mm:ss (field 2)"));
    assert_eq!(times[1].as_deref(), Some("2026-01-27 10:00:01"));
}

#[test]
fn year_less_lines_take_the_year_that_keeps_them_before_the_last_write() {
    let march = NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let (_, times) = read_file(
        &["Dec 31 23:00:00 host a: x", "Feb 28 10:00:00 host a: y"],
        march,
    );
    assert_eq!(times[0].as_deref(), Some("2025-12-31 23:00:00"));
    assert_eq!(times[1].as_deref(), Some("2026-02-28 10:00:00"));
}

fn dotted() -> UserFormat {
    UserFormat {
        name: "dotted".into(),
        glob: "*.dot".into(),
        timestamp: "%d.%m.%Y %H:%M:%S%.3f".into(),
        regex: Some(r"^(?P<time>\S+ \S+) <(?P<level>\w+)> (?P<message>.*)$".into()),
    }
}

#[test]
fn a_user_format_reads_the_files_its_glob_matches() {
    let formats = [dotted()];
    let lines = [
        "27.01.2026 10:00:00.123 <crit> disk full",
        "27.01.2026 10:00:01.000 <note> all good",
        "  continuation without a time",
    ];
    let modified = SystemTime::from(
        chrono::Local
            .from_local_datetime(&last_write())
            .unwrap()
            .fixed_offset(),
    );
    let explained =
        explain_lines(Path::new("/var/log/app.dot"), &lines, &formats, modified).unwrap();
    assert_eq!(explained.format.as_deref(), Some("dotted"));
    let first = &explained.lines[0];
    assert_eq!(first.matched_by.as_deref(), Some("dotted"));
    assert_eq!(first.time_text.as_deref(), Some("27.01.2026 10:00:00.123"));
    assert_eq!(
        first
            .timestamp
            .map(|t| t.naive_local().to_string())
            .as_deref(),
        Some("2026-01-27 10:00:00.123")
    );
    // The regex's `level` group, read in any spelling.
    assert_eq!(first.level, Some(Level::Fatal));
    assert_eq!(explained.lines[1].level, Some(Level::Info));
    assert_eq!(first.message.as_deref(), Some("disk full"));
    let third = &explained.lines[2];
    assert_eq!(third.timestamp, None);
    assert_eq!(third.inherits_from, Some(2));
    assert!(
        third
            .problem
            .as_deref()
            .unwrap()
            .contains("regex does not match"),
        "{third:?}"
    );

    // Another file: the glob does not match, the built-in grammar reads it.
    let other = explain_lines(Path::new("/var/log/app.log"), &lines, &formats, modified).unwrap();
    assert_eq!(other.formats_not_applying, ["dotted"]);
    assert_eq!(other.format.as_deref(), Some("dd.MM.yyyy HH:mm:ss.SSS"));
    // `<crit>` and `<note>` right after the time are marked levels for the built-in rules too.
    assert_eq!(other.lines[0].level, Some(Level::Fatal));
    assert_eq!(other.lines[1].level, Some(Level::Info));
}

#[test]
fn a_user_format_without_a_regex_is_found_where_it_stands() {
    let format = UserFormat {
        name: "bracketed".into(),
        glob: "/srv/**/*.log".into(),
        timestamp: "%Y%j %H%M%S".into(), // year and day of the year: not a built-in form
        regex: None,
    };
    let lines = [
        "node7 [2026027 100000] started",
        "node7 [2026027 100005] stopped",
    ];
    let explained = explain_lines(
        Path::new("/srv/app/x/run.log"),
        &lines,
        &[format],
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(explained.format.as_deref(), Some("bracketed"));
    assert_eq!(
        explained.lines[1]
            .timestamp
            .map(|t| t.naive_local().to_string())
            .as_deref(),
        Some("2026-01-27 10:00:05")
    );
}

#[test]
fn bad_user_formats_are_refused_with_the_reason() {
    let mut f = dotted();
    f.timestamp = "%Y-%m-%d".into();
    let err = f.compile().unwrap_err();
    assert!(matches!(err, UserFormatError::Pattern { .. }), "{err}");
    assert!(err.to_string().contains("time of day"), "{err}");

    let mut f = dotted();
    f.timestamp = "%Y-%Q".into();
    assert!(matches!(
        f.compile().unwrap_err(),
        UserFormatError::Pattern { .. }
    ));

    let mut f = dotted();
    f.regex = Some("(?P<when>.*)".into());
    assert_eq!(
        f.compile().unwrap_err(),
        UserFormatError::NoTimeGroup {
            name: "dotted".into()
        }
    );

    let mut f = dotted();
    f.regex = Some("(".into());
    assert!(matches!(
        f.compile().unwrap_err(),
        UserFormatError::Regex { .. }
    ));

    let mut f = dotted();
    f.glob = "[".into();
    assert!(matches!(
        f.compile().unwrap_err(),
        UserFormatError::Glob { .. }
    ));

    // Year-less, epoch and zoned patterns are fine.
    for pattern in [
        "%b %d %H:%M:%S",
        "%s",
        "%Y-%m-%dT%H:%M:%S%z",
        "%d/%b/%Y:%H:%M:%S %z",
    ] {
        let mut f = dotted();
        f.timestamp = pattern.into();
        f.compile().unwrap_or_else(|e| panic!("{pattern}: {e}"));
    }
}

#[test]
fn explain_names_the_format_and_why_a_line_has_no_time() {
    let lines = [
        "2026-01-27 10:00:00,000 ERROR boom",
        "Traceback (most recent call last):",
        "Jan 27 10:00:05 host app[1]: warning: late",
    ];
    let explained = explain_lines(Path::new("app.log"), &lines, &[], SystemTime::now()).unwrap();
    assert_eq!(
        explained.format.as_deref(),
        Some("iso8601 yyyy-MM-dd HH:mm:ss,SSS")
    );
    assert_eq!(explained.sampled_lines, 2);
    let [first, second, third] = &explained.lines[..] else {
        panic!("three lines")
    };
    assert_eq!(first.level, Some(Level::Error));
    assert_eq!(
        first.matched_by.as_deref(),
        Some("iso8601 yyyy-MM-dd HH:mm:ss,SSS")
    );
    assert_eq!(second.level, Some(Level::Error));
    assert_eq!(second.inherits_from, Some(1));
    assert!(second
        .problem
        .as_deref()
        .unwrap()
        .contains("does not match"));
    assert_eq!(third.matched_by.as_deref(), Some("search"));
    assert_eq!(third.level, Some(Level::Warning));
    let json = serde_json::to_value(&explained).unwrap();
    assert_eq!(json["lines"][2]["level"], "warning");
}

#[test]
fn zoned_times_keep_their_offset() {
    let (time, _, _) = read_alone("2026-01-27T10:00:00.5-07:00 x");
    let t = time.unwrap();
    assert_eq!(t.offset, FixedOffset::west_opt(7 * 3600));
    assert_eq!(
        t.to_datetime().unwrap().to_rfc3339(),
        "2026-01-27T10:00:00.500-07:00"
    );
}
