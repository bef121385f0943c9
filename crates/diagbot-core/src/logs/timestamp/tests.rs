use super::*;

fn hint() -> YearHint {
    YearHint::new(
        NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap(),
    )
}

fn naive(line: &str) -> Option<String> {
    parse_line_timestamp(line.as_bytes(), &hint()).map(|t| t.naive.to_string())
}

#[test]
fn iso_and_python_logging_forms() {
    assert_eq!(
        naive("2026-01-27T10:00:00 x").as_deref(),
        Some("2026-01-27 10:00:00")
    );
    assert_eq!(
        naive("2026-01-27 12:00:00,123 - bot - ERROR - boom").as_deref(),
        Some("2026-01-27 12:00:00.123")
    );
    assert_eq!(
        naive("[2026-01-27 12:00:00.5] x").as_deref(),
        Some("2026-01-27 12:00:00.500")
    );
    let t = parse_line_timestamp(b"2026-01-27T10:00:00+02:00 x", &hint()).unwrap();
    assert_eq!(
        t.to_datetime().unwrap().to_rfc3339(),
        "2026-01-27T10:00:00+02:00"
    );
    let z = parse_line_timestamp(b"2026-01-27T10:00:00.250Z x", &hint()).unwrap();
    assert_eq!(z.offset, FixedOffset::east_opt(0));
}

#[test]
fn syslog_with_and_without_year() {
    assert_eq!(
        naive("Feb 14 15:16:01 combo sshd").as_deref(),
        Some("2026-02-14 15:16:01")
    );
    assert_eq!(
        naive("Feb  4 15:16:01 combo sshd").as_deref(),
        Some("2026-02-04 15:16:01")
    );
    assert_eq!(
        naive("Feb 14 2024 15:16:01 host x").as_deref(),
        Some("2024-02-14 15:16:01")
    );
}

#[test]
fn yearless_timestamp_never_lands_after_the_file_mtime() {
    // The file was last written on 1 March 2026: a June line is from 2025.
    assert_eq!(
        naive("Jun 14 15:16:01 combo sshd").as_deref(),
        Some("2025-06-14 15:16:01")
    );
    // More than 26 hours past the mtime (further than any two zones are
    // apart): last year's.
    assert_eq!(
        naive("Mar 02 14:00:01 x").as_deref(),
        Some("2025-03-02 14:00:01")
    );
    // Hours past it, as a writer in a zone ahead of diagbot's writes: this year's.
    assert_eq!(
        naive("Mar 01 18:00:00 x").as_deref(),
        Some("2026-03-01 18:00:00")
    );
    // A second past it (the mtime's coarse clock lags the writer's): this year's.
    assert_eq!(
        naive("Mar 01 12:00:01 x").as_deref(),
        Some("2026-03-01 12:00:01")
    );
    assert_eq!(
        naive("Mar 01 12:00:00 x").as_deref(),
        Some("2026-03-01 12:00:00")
    );
    // 29 February goes back to the last leap year.
    assert_eq!(
        naive("Feb 29 00:00:00 x").as_deref(),
        Some("2024-02-29 00:00:00")
    );
}

#[test]
fn apache_ctime_and_common_log_format() {
    assert_eq!(
        naive("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok").as_deref(),
        Some("2005-12-04 04:47:44")
    );
    let clf = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200"#;
    let t = parse_line_timestamp(clf.as_bytes(), &hint()).unwrap();
    assert_eq!(
        t.to_datetime().unwrap().to_rfc3339(),
        "2000-10-10T13:55:36-07:00"
    );
}

#[test]
fn slash_dates_android_and_epoch() {
    assert_eq!(
        naive("17/06/09 20:10:40 INFO x").as_deref(),
        Some("2017-06-09 20:10:40")
    );
    assert_eq!(
        naive("2017/06/09 20:10:40 [error] x").as_deref(),
        Some("2017-06-09 20:10:40")
    );
    assert_eq!(
        naive("01-27 10:00:00.123  1234  5678 E Tag: boom").as_deref(),
        Some("2026-01-27 10:00:00.123")
    );
    let t = parse_line_timestamp(b"1769508000.5 started", &hint()).unwrap();
    assert_eq!(
        t.to_datetime().unwrap().to_rfc3339(),
        "2026-01-27T10:00:00.500+00:00"
    );
}

#[test]
fn lines_without_timestamps() {
    for line in [
        "",
        "Traceback (most recent call last):",
        "  File \"bot.py\", line 3, in <module>",
        "12345 apples",
        "2026-13-45 10:00:00 not a date",
        "Junk 14 15:16:01",
        "\0\0\0\0",
    ] {
        assert_eq!(naive(line), None, "{line:?}");
    }
}

/// A compact two-digit-year date takes a compact time as well as one with
/// colons (`yyMMdd HHmmss`, as HDFS and old MySQL write it).
#[test]
fn a_compact_two_digit_year_date_with_a_compact_time() {
    assert_eq!(
        naive("260127 101500 148 INFO dfs.DataNode: x").as_deref(),
        Some("2026-01-27 10:15:00")
    );
    assert_eq!(
        naive("260127 10:15:00 148 INFO x").as_deref(),
        Some("2026-01-27 10:15:00")
    );
    // Six digits and a number that is no time of day are no timestamp.
    assert_eq!(naive("260127 991500 x"), None);
}

/// Two six-digit numbers followed by a time with colons are not a compact
/// date and time: a line has one time, and that one has colons (found by the
/// property test, where a file's lines place the `yyMMdd HH:mm:ss` after the number).
#[test]
fn a_number_before_a_compact_date_and_a_clock_is_no_compact_date_and_time() {
    assert_ne!(
        naive("000123 020101 00:00:01 job 17 done").as_deref(),
        Some("2000-01-23 02:01:01")
    );
}
