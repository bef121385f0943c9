//! Timestamps and levels checked line by line against real logs: the loghub
//! samples in `../shared/data/loghub`, whose `_structured.csv` files give each
//! line's date, time and (for Apache and Zookeeper) level.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDateTime};
use diagbot_core::logs::level::detect_level;
use diagbot_core::logs::timestamp::{parse_line_timestamp, YearHint};

fn loghub() -> PathBuf {
    let dir = std::env::var_os("DIAGBOT_LOGHUB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub")
        });
    assert!(
        dir.is_dir(),
        "loghub samples not found at {} (set DIAGBOT_LOGHUB to their folder)",
        dir.display()
    );
    dir
}

/// Each line of a sample, with its row of the structured CSV, and the year hint of the file.
fn sample(name: &str) -> (Vec<(String, csv::StringRecord)>, YearHint, NaiveDateTime) {
    let dir = loghub().join(name);
    let log_path = dir.join(format!("{name}_2k.log"));
    let text = fs::read_to_string(&log_path).unwrap();
    let mtime = fs::metadata(&log_path).unwrap().modified().unwrap();
    let hint = YearHint::from_system_time(mtime);
    let local_mtime = chrono::DateTime::<chrono::Local>::from(mtime).naive_local();
    let mut reader =
        csv::Reader::from_path(dir.join(format!("{name}_2k.log_structured.csv"))).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), rows.len(), "{name}: lines and CSV rows differ");
    (lines.into_iter().zip(rows).collect(), hint, local_mtime)
}

fn column(reader_header: &[&str], row: &csv::StringRecord, name: &str) -> String {
    let i = reader_header.iter().position(|h| *h == name).unwrap();
    row[i].to_string()
}

fn parsed(line: &str, hint: &YearHint) -> NaiveDateTime {
    parse_line_timestamp(line.as_bytes(), hint)
        .unwrap_or_else(|| panic!("no timestamp in {line:?}"))
        .naive
}

#[test]
fn apache_timestamps_and_levels() {
    let (rows, hint, _) = sample("Apache");
    let header = [
        "LineId",
        "Time",
        "Level",
        "Content",
        "EventId",
        "EventTemplate",
    ];
    for (line, row) in &rows {
        let t = parsed(line, &hint);
        assert_eq!(
            t.format("%a %b %d %H:%M:%S %Y").to_string(),
            column(&header, row, "Time"),
            "{line}"
        );
        let expected = match column(&header, row, "Level").as_str() {
            "notice" | "info" => "info",
            "warn" => "warning",
            "error" => "error",
            other => panic!("unexpected level {other}"),
        };
        assert_eq!(
            detect_level(line.as_bytes()).map(|l| l.name()),
            Some(expected),
            "{line}"
        );
    }
}

#[test]
fn zookeeper_timestamps_and_levels() {
    let (rows, hint, _) = sample("Zookeeper");
    let header = [
        "LineId",
        "Date",
        "Time",
        "Level",
        "Node",
        "Component",
        "Id",
        "Content",
        "EventId",
        "EventTemplate",
    ];
    for (line, row) in &rows {
        let t = parsed(line, &hint);
        let expected = format!(
            "{} {}",
            column(&header, row, "Date"),
            column(&header, row, "Time")
        );
        assert_eq!(
            t.format("%Y-%m-%d %H:%M:%S,%3f").to_string(),
            expected,
            "{line}"
        );
        let expected_level = match column(&header, row, "Level").as_str() {
            "INFO" => "info",
            "WARN" => "warning",
            "ERROR" => "error",
            "DEBUG" => "debug",
            other => panic!("unexpected level {other}"),
        };
        assert_eq!(
            detect_level(line.as_bytes()).map(|l| l.name()),
            Some(expected_level),
            "{line}"
        );
    }
}

/// Syslog samples have no year: each line takes the latest year that does not
/// put it after the file's modification time.
fn check_syslog(name: &str, header: &[&str], month_col: &str, day_col: &str) {
    let (rows, hint, mtime) = sample(name);
    for (line, row) in &rows {
        let t = parsed(line, &hint);
        assert_eq!(
            t.format("%b").to_string(),
            column(header, row, month_col),
            "{line}"
        );
        assert_eq!(t.day().to_string(), column(header, row, day_col), "{line}");
        assert_eq!(
            t.format("%H:%M:%S").to_string(),
            column(header, row, "Time"),
            "{line}"
        );
        assert!(t <= mtime, "{line}: {t} is after the file's mtime {mtime}");
        let next_year = t.with_year(t.year() + 1);
        assert!(
            next_year.is_none_or(|n| n > mtime),
            "{line}: {t} could be a year later"
        );
    }
}

#[test]
fn linux_syslog_timestamps() {
    let header = [
        "LineId",
        "Month",
        "Date",
        "Time",
        "Level",
        "Component",
        "PID",
        "Content",
        "EventId",
        "EventTemplate",
    ];
    check_syslog("Linux", &header, "Month", "Date");
}

#[test]
fn openssh_syslog_timestamps() {
    let header = [
        "LineId",
        "Date",
        "Day",
        "Time",
        "Component",
        "Pid",
        "Content",
        "EventId",
        "EventTemplate",
    ];
    check_syslog("OpenSSH", &header, "Date", "Day");
}
