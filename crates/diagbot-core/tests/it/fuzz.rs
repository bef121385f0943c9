//! Random bytes to the timestamp and level readers (20 000 lines by default;
//! set DIAGBOT_FUZZ_CASES for more): nothing panics; the fast fixed-position
//! reader never disagrees with the grammar; and a line is only ever read in
//! a window at its start, so the work per line is bounded whatever its
//! length (JSON lines excepted: their keys are found with memchr's linear
//! search over the line).

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::Path;
use std::sync::OnceLock;

use chrono::NaiveDate;
use diagbot_core::logs::format::TimeReader;
use diagbot_core::logs::learn::learn_from_lines;
use diagbot_core::logs::level::detect_level;
use diagbot_core::logs::timestamp::grammar::{read_at, read_fixed};
use diagbot_core::logs::timestamp::search::is_json;
use diagbot_core::logs::timestamp::{find_line_timestamp, YearHint};
use diagbot_core::logs::user_format::{CompiledUserFormat, UserFormat};
use proptest::prelude::*;

/// No reader looks further into a (non-JSON) line than this.
const WINDOW_BOUND: usize = 1024;

fn cases() -> u32 {
    std::env::var("DIAGBOT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Pieces of timestamps, levels and structure, to reach deep into the readers.
const PIECES: &[&[u8]] = &[
    b"2026",
    b"26",
    b"01",
    b"27",
    b"13",
    b"31",
    b"0127",
    b"260127",
    b"20260127",
    b"1769508000",
    b"1769508000123",
    b"10",
    b"00",
    b"59",
    b"60",
    b"123456789",
    b"-",
    b"/",
    b".",
    b":",
    b",",
    b" ",
    b"  ",
    b"\t",
    b"T",
    b"Z",
    b"+01:00",
    b"-0700",
    b"+01",
    b" UTC",
    b"GMT+02:00",
    b" CET",
    b"Jan",
    b"January",
    b"Sep",
    b"Sept",
    b"MAY",
    b"Mon",
    b"Tuesday",
    b" AM",
    b"PM",
    b"[",
    b"]",
    b"{",
    b"}",
    b"(",
    b")",
    b"<",
    b">",
    b"<134>",
    b"\"",
    b"\\\"",
    b"=",
    b"level=",
    b"lvl=\"",
    b"\"time\":",
    b"\"level\":",
    b"\"log\":\"",
    b"ts=",
    b"stdout F ",
    b"stderr P ",
    b"ERROR",
    b"error:",
    b"Warn",
    b"[info]",
    b"I",
    b"E",
    b"E0127",
    b"I, [",
    b"E/",
    b"INFO[0000]",
    b"[core:error]",
    b"DEBUG3",
    b"Traceback (most recent call last):",
    b"thread 'main' panicked at ",
    b"Caused by: ",
    b"the",
    b"job",
    b"failed.",
    b"|",
    b"#",
    b"*",
    b"\0",
    b"\xff",
    b"\xe2\x80\x94",
    b"\n",
];

fn structured() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
}

/// A line: random bytes, or pieces, or pieces then a long random tail.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..400),
        4 => structured(),
        3 => (structured(), prop::collection::vec(any::<u8>(), 900..2500))
            .prop_map(|(mut head, tail)| { head.extend(tail); head }),
        1 => (structured(), structured(), 1000usize..3000).prop_map(|(head, unit, len)| {
            let mut line = head;
            while line.len() < len && !unit.is_empty() {
                line.extend_from_slice(&unit);
            }
            line
        }),
    ]
}

fn hint() -> YearHint {
    YearHint::new(
        NaiveDate::from_ymd_opt(2026, 6, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    )
}

/// Two user formats, compiled once.
fn user_formats() -> &'static [CompiledUserFormat] {
    static FORMATS: OnceLock<Vec<CompiledUserFormat>> = OnceLock::new();
    FORMATS.get_or_init(|| {
        [
            UserFormat {
                name: "plain".into(),
                glob: "*".into(),
                timestamp: "%d.%m.%Y %H:%M:%S".into(),
                regex: None,
            },
            UserFormat {
                name: "regex".into(),
                glob: "*".into(),
                timestamp: "%s".into(),
                regex: Some(r"@(?P<time>\d+) (?P<level>\w+)".into()),
            },
        ]
        .iter()
        .map(|f| f.compile().unwrap())
        .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic_and_read_only_the_start_of_a_line(line in line()) {
        let hint = hint();
        let time = find_line_timestamp(&line, &hint);
        let level = detect_level(&line);

        // Learned formats, built-in and user-defined, read their own lines.
        let users = user_formats();
        for formats in [&users[..0], users] {
            let learned = learn_from_lines([&line[..], &line[..]], formats, Path::new("f.log"), hint);
            let head = TimeReader::new(&learned.format, formats, hint).read(&line);
            let _ = head.level(&line);
        }

        // The fixed-position reader gives what the grammar gives, or leaves the line to it.
        if let Some(reading) = read_at(&line, 0) {
            let fixed = read_fixed(&line, 0, &reading.layout);
            prop_assert!(fixed.is_none() || fixed == Some(reading));
        }
        for sample in [&b"2026-01-27 10:00:00 x"[..], b"2026/01/27T10:00:00 x", b"Jan 27 10:00:00 x"] {
            let layout = read_at(sample, 0).unwrap().layout;
            if let Some(fixed) = read_fixed(&line, 0, &layout) {
                prop_assert_eq!(read_at(&line, 0), Some(fixed));
            }
        }

        // Nothing past the window counts, so a line costs the same however long.
        if line.len() > WINDOW_BOUND && !is_json(&line) {
            let start = &line[..WINDOW_BOUND];
            prop_assert_eq!(find_line_timestamp(start, &hint), time);
            prop_assert_eq!(detect_level(start), level);
        }
    }
}
