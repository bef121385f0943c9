//! Timestamps and levels checked line by line against real logs: the loghub
//! samples in `../shared/data/loghub`, whose `_structured.csv` files give each
//! line's date and time (or epoch) and, for Apache and Zookeeper, its level.
//! Each file is read the way a search reads it: its format learned from its
//! first lines, then every line read with that format.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeZone};
use diagbot_core::engine::Engine;
use diagbot_core::logs::format::{LineHead, TimeReader};
use diagbot_core::logs::learn::{learn_from_reader, Learned};
use diagbot_core::logs::level::Level;
use diagbot_core::logs::timestamp::YearHint;
use diagbot_core::query::Query;
use diagbot_core::when::TimeBound;

/// The samples' folder; `None` (with a note) when a clone of the repository
/// alone runs its tests. In CI (`CI` set and not `false`) missing samples
/// fail the run, so these checks never skip silently there.
pub fn loghub() -> Option<PathBuf> {
    let dir = std::env::var_os("DIAGBOT_LOGHUB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "loghub samples not found at {} (set DIAGBOT_LOGHUB to their folder)",
        dir.display()
    );
    // Once, and past the test harness's capture (which hides a passing test's output).
    static NOTE: std::sync::Once = std::sync::Once::new();
    NOTE.call_once(|| {
        let note = format!(
            "note: loghub checks skipped: no samples at {} (set DIAGBOT_LOGHUB to their folder to run them)\n",
            dir.display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    });
    None
}

/// One loghub sample: its lines with their CSV rows, read with the learned format.
struct Sample {
    path: PathBuf,
    lines: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
    hint: YearHint,
    mtime: NaiveDateTime,
    learned: Learned,
}

impl Sample {
    /// The sample `name`, or `None` when the samples are not here (see [`loghub`]).
    fn open(name: &str) -> Option<Sample> {
        let dir = loghub()?.join(name);
        let path = dir.join(format!("{name}_2k.log"));
        let text = fs::read_to_string(&path).unwrap();
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        let hint = YearHint::from_system_time(modified);
        let mtime = DateTime::<chrono::Local>::from(modified).naive_local();
        let mut reader =
            csv::Reader::from_path(dir.join(format!("{name}_2k.log_structured.csv"))).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<BTreeMap<String, String>> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(String::from))
                    .collect()
            })
            .collect();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert_eq!(lines.len(), rows.len(), "{name}: lines and CSV rows differ");
        let learned = learn_from_reader(fs::File::open(&path).unwrap(), &[], &path, hint);
        Some(Sample {
            path,
            lines,
            rows,
            hint,
            mtime,
            learned,
        })
    }

    fn format(&self) -> Option<String> {
        self.learned.format.name()
    }

    /// Each line with its row and what reading it gave.
    fn read(&self) -> Vec<(&str, &BTreeMap<String, String>, LineHead)> {
        let reader = TimeReader::new(&self.learned.format, &[], self.hint);
        self.lines
            .iter()
            .zip(&self.rows)
            .map(|(line, row)| (line.as_str(), row, reader.read(line.as_bytes())))
            .collect()
    }
}

fn naive(line: &str, head: &LineHead) -> NaiveDateTime {
    head.time
        .unwrap_or_else(|| panic!("no timestamp in {line:?}"))
        .time
        .naive
}

fn level(line: &str, head: &LineHead) -> Option<&'static str> {
    head.level(line.as_bytes()).map(Level::name)
}

#[test]
fn apache_timestamps_and_levels() {
    let Some(sample) = Sample::open("Apache") else {
        return;
    };
    assert_eq!(
        sample.format().as_deref(),
        Some("ctime EEE MMM dd HH:mm:ss yyyy")
    );
    for (line, row, head) in sample.read() {
        assert!(head.by_format, "{line}");
        let t = naive(line, &head);
        assert_eq!(
            t.format("%a %b %d %H:%M:%S %Y").to_string(),
            row["Time"],
            "{line}"
        );
        let expected = match row["Level"].as_str() {
            "notice" | "info" => "info",
            "warn" => "warning",
            "error" => "error",
            other => panic!("unexpected level {other}"),
        };
        assert_eq!(level(line, &head), Some(expected), "{line}");
    }
}

#[test]
fn zookeeper_timestamps_and_levels() {
    let Some(sample) = Sample::open("Zookeeper") else {
        return;
    };
    assert_eq!(
        sample.format().as_deref(),
        Some("iso8601 yyyy-MM-dd HH:mm:ss,SSS")
    );
    for (line, row, head) in sample.read() {
        let t = naive(line, &head);
        let expected = format!("{} {}", row["Date"], row["Time"]);
        assert_eq!(
            t.format("%Y-%m-%d %H:%M:%S,%3f").to_string(),
            expected,
            "{line}"
        );
        let expected_level = match row["Level"].as_str() {
            "INFO" => "info",
            "WARN" => "warning",
            "ERROR" => "error",
            "DEBUG" => "debug",
            other => panic!("unexpected level {other}"),
        };
        assert_eq!(level(line, &head), Some(expected_level), "{line}");
    }
}

/// The level a syslog line's message states in its first word, as the
/// programs of these samples write it (`sshd`'s `error:`, `logrotate`'s
/// `ALERT`): the only header level these level-less logs have.
fn stated_level(content: &str) -> Option<&'static str> {
    match content.split_whitespace().next()? {
        "error:" => Some("error"),
        "fatal:" => Some("fatal"),
        "warning:" => Some("warning"),
        "ALERT" => Some("fatal"),
        _ => None,
    }
}

/// Syslog samples have no year: each line takes the latest year that does
/// not put it after the file's modification time. Their only levels are the
/// ones a message states in its first word.
fn check_syslog(
    name: &str,
    month_col: &str,
    day_col: &str,
) -> Option<BTreeMap<&'static str, usize>> {
    let sample = Sample::open(name)?;
    assert_eq!(sample.format().as_deref(), Some("syslog MMM d HH:mm:ss"));
    let mut levels = BTreeMap::new();
    for (line, row, head) in sample.read() {
        let t = naive(line, &head);
        assert_eq!(t.format("%b").to_string(), row[month_col], "{line}");
        assert_eq!(t.day().to_string(), row[day_col], "{line}");
        assert_eq!(t.format("%H:%M:%S").to_string(), row["Time"], "{line}");
        assert!(t <= sample.mtime, "{line}: {t} is after the file's mtime");
        let next_year = t.with_year(t.year() + 1);
        assert!(
            next_year.is_none_or(|n| n > sample.mtime),
            "{line}: {t} could be a year later"
        );
        let got = level(line, &head);
        assert_eq!(got, stated_level(&row["Content"]), "{line}");
        if let Some(l) = got {
            *levels.entry(l).or_default() += 1;
        }
    }
    Some(levels)
}

#[test]
fn linux_syslog_timestamps_and_stated_levels() {
    let Some(levels) = check_syslog("Linux", "Month", "Date") else {
        return;
    };
    // logrotate's `ALERT exited abnormally` (43), xinetd's `warning:` (2).
    assert_eq!(levels, BTreeMap::from([("fatal", 43), ("warning", 2)]));
}

#[test]
fn openssh_syslog_timestamps_and_stated_levels() {
    let Some(levels) = check_syslog("OpenSSH", "Date", "Day") else {
        return;
    };
    // sshd's own `error:` and `fatal:` prefixes.
    assert_eq!(levels, BTreeMap::from([("error", 47), ("fatal", 1)]));
}

#[test]
fn hpc_epochs_after_other_fields_and_no_levels() {
    let Some(sample) = Sample::open("HPC") else {
        return;
    };
    // id, node, component and state come first: the fifth field is the time.
    assert_eq!(sample.format().as_deref(), Some("epoch seconds (field 5)"));
    for (line, row, head) in sample.read() {
        let t = head.time.unwrap_or_else(|| panic!("no time in {line}"));
        let instant = t.time.to_datetime().unwrap();
        assert_eq!(instant.timestamp().to_string(), row["Time"], "{line}");
        // `error` in the state field and `warning` in the message are not levels.
        assert_eq!(level(line, &head), None, "{line}");
    }
}

#[test]
fn thunderbird_epochs_before_a_syslog_header_and_no_levels() {
    let Some(sample) = Sample::open("Thunderbird") else {
        return;
    };
    assert_eq!(sample.format().as_deref(), Some("epoch seconds (field 2)"));
    let pacific = FixedOffset::west_opt(8 * 3600).unwrap();
    for (line, row, head) in sample.read() {
        let t = head.time.unwrap_or_else(|| panic!("no time in {line}"));
        let instant = t.time.to_datetime().unwrap();
        assert_eq!(instant.timestamp().to_string(), row["Timestamp"], "{line}");
        // The same instant as the date and syslog time the line also shows (PST).
        let local = instant.with_timezone(&pacific);
        assert_eq!(local.format("%Y.%m.%d").to_string(), row["Date"], "{line}");
        assert_eq!(local.format("%H:%M:%S").to_string(), row["Time"], "{line}");
        assert_eq!(level(line, &head), None, "{line}");
    }
}

/// The instant the structured CSV gives a line (local time where it has no zone).
fn truth(
    name: &str,
    row: &BTreeMap<String, String>,
    mtime: NaiveDateTime,
) -> DateTime<FixedOffset> {
    let epoch = |col: &str| {
        DateTime::from_timestamp(row[col].parse().unwrap(), 0)
            .unwrap()
            .fixed_offset()
    };
    let local = |text: String, pattern: &str| {
        let naive =
            NaiveDateTime::parse_from_str(&text, pattern).unwrap_or_else(|e| panic!("{text}: {e}"));
        chrono::Local
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .fixed_offset()
    };
    // Syslog: the latest year that does not put the line after the file's mtime.
    let year_less = |month: &str, day: &str| {
        let text = |y: i32| format!("{y} {} {} {}", row[month], row[day], row["Time"]);
        let year = (0..8)
            .map(|back| mtime.year() - back)
            .find(|&y| {
                NaiveDateTime::parse_from_str(&text(y), "%Y %b %d %H:%M:%S")
                    .is_ok_and(|t| t <= mtime)
            })
            .unwrap();
        local(text(year), "%Y %b %d %H:%M:%S")
    };
    match name {
        "HPC" => epoch("Time"),
        "Thunderbird" => epoch("Timestamp"),
        "Apache" => local(row["Time"].clone(), "%a %b %d %H:%M:%S %Y"),
        "Zookeeper" => local(
            format!("{} {}", row["Date"], row["Time"]),
            "%Y-%m-%d %H:%M:%S,%3f",
        ),
        "Linux" => year_less("Month", "Date"),
        "OpenSSH" => year_less("Date", "Day"),
        other => panic!("no truth for {other}"),
    }
}

/// A time window over each sample finds the lines the truth puts in it, and
/// no warning: the issue this grammar answers was `--since` finding 0 lines.
#[test]
fn a_time_window_finds_what_the_truth_puts_in_it() {
    for name in [
        "Linux",
        "OpenSSH",
        "Apache",
        "Zookeeper",
        "HPC",
        "Thunderbird",
    ] {
        let Some(sample) = Sample::open(name) else {
            return;
        };
        let mut times: Vec<DateTime<FixedOffset>> = sample
            .rows
            .iter()
            .map(|row| truth(name, row, sample.mtime))
            .collect();
        times.sort();
        let (since, until) = (times[times.len() / 4], times[times.len() * 3 / 4]);
        let expected = times
            .iter()
            .filter(|t| **t >= since && **t <= until)
            .count();
        assert!(expected > 900, "{name}: {expected}");
        let mut q = Query::grep("", vec![sample.path.clone()]);
        q.since = Some(TimeBound::At(since));
        q.until = Some(TimeBound::At(until));
        let now = chrono::Local::now().fixed_offset();
        let r = Engine::one_shot().search(&q, now, &|_| {}).unwrap();
        assert_eq!(r.matches, expected as u64, "{name}");
        assert!(r.warnings.is_empty(), "{name}: {:?}", r.warnings);
        assert_eq!(r.files[0].timestamp_format, sample.format(), "{name}");
    }
}

#[test]
fn syslog_years_follow_the_mtime_rule_across_new_year() {
    // A sample read as if last written on 2 January: December lines are from the year before.
    let hint = YearHint::new(
        chrono::NaiveDate::from_ymd_opt(2027, 1, 2)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    );
    let Some(sample) = Sample::open("OpenSSH") else {
        return;
    };
    let reader = TimeReader::new(&sample.learned.format, &[], hint);
    let t = reader
        .read(sample.lines[0].as_bytes())
        .time
        .unwrap()
        .time
        .naive;
    assert_eq!(t.format("%Y-%m-%d").to_string(), "2026-12-10");
}
