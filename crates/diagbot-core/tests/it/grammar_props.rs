//! Properties of the timestamp grammar and the level rules, on random input:
//! a time written in any supported form, after any kind of prefix, reads back
//! exactly; random message text never changes the level a header gives.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};
use diagbot_core::logs::format::TimeReader;
use diagbot_core::logs::learn::learn_from_lines;
use diagbot_core::logs::level::{detect_level, Level};
use diagbot_core::logs::timestamp::{ParsedTime, YearHint};
use proptest::prelude::*;

/// How a form writes its time: what reading it back must give.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Wall-clock time, no zone: compared as written.
    Naive,
    /// With a zone or offset: compared as an instant.
    Zoned,
}

/// A supported form: a chrono pattern (or an epoch), how precise it is, and
/// whether it has a year.
struct Form {
    name: &'static str,
    pattern: &'static str,
    /// The time is written in UTC (the pattern ends with `Z` or `UTC`).
    utc: bool,
    kind: Kind,
    /// Nanoseconds the form keeps (1 s = 1e9, 1 ms = 1e6, …).
    unit: u64,
}

const EPOCH_SECONDS: &str = "<epoch s>";
const EPOCH_MILLIS: &str = "<epoch ms>";
const EPOCH_NANOS: &str = "<epoch ns>";
const EPOCH_FRACTION: &str = "<epoch s.us>";

const SECOND: u64 = 1_000_000_000;
const MILLI: u64 = 1_000_000;
const MICRO: u64 = 1_000;

#[rustfmt::skip]
const FORMS: &[Form] = &[
    Form { name: "iso-ms-z", pattern: "%Y-%m-%dT%H:%M:%S%.3fZ", utc: true, kind: Kind::Zoned, unit: MILLI },
    Form { name: "iso-us-offset", pattern: "%Y-%m-%dT%H:%M:%S%.6f%:z", utc: false, kind: Kind::Zoned, unit: MICRO },
    Form { name: "iso-ns-z", pattern: "%Y-%m-%dT%H:%M:%S%.9fZ", utc: true, kind: Kind::Zoned, unit: 1 },
    Form { name: "short-iso", pattern: "%Y-%m-%dT%H:%M:%S%z", utc: false, kind: Kind::Zoned, unit: SECOND },
    Form { name: "python", pattern: "%Y-%m-%d %H:%M:%S,%3f", utc: false, kind: Kind::Naive, unit: MILLI },
    Form { name: "go-log", pattern: "%Y/%m/%d %H:%M:%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "no-seconds", pattern: "%Y-%m-%d %H:%M", utc: false, kind: Kind::Naive, unit: 60 * SECOND },
    Form { name: "underscore", pattern: "%Y-%m-%d_%H-%M-%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "syslog", pattern: "%b %e %H:%M:%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "syslog-precise", pattern: "%b %d %H:%M:%S%.6f", utc: false, kind: Kind::Naive, unit: MICRO },
    Form { name: "ctime", pattern: "%a %b %d %H:%M:%S %Y", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "common-log", pattern: "%d/%b/%Y:%H:%M:%S %z", utc: false, kind: Kind::Zoned, unit: SECOND },
    Form { name: "rfc2822", pattern: "%a, %d %b %Y %H:%M:%S %z", utc: false, kind: Kind::Zoned, unit: SECOND },
    Form { name: "german", pattern: "%d.%m.%Y %H:%M:%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "us-12-hour", pattern: "%m/%d/%Y %I:%M:%S %p", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "jul", pattern: "%b %-d, %Y %-I:%M:%S %p", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "iso-basic", pattern: "%Y%m%dT%H%M%SZ", utc: true, kind: Kind::Zoned, unit: SECOND },
    Form { name: "redis", pattern: "%d %b %Y %H:%M:%S%.3f", utc: false, kind: Kind::Naive, unit: MILLI },
    Form { name: "tomcat", pattern: "%d-%b-%Y %H:%M:%S%.3f", utc: false, kind: Kind::Naive, unit: MILLI },
    Form { name: "postgres-utc", pattern: "%Y-%m-%d %H:%M:%S%.3f UTC", utc: true, kind: Kind::Zoned, unit: MILLI },
    Form { name: "hadoop", pattern: "%y/%m/%d %H:%M:%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "mysql-old", pattern: "%y%m%d %H:%M:%S", utc: false, kind: Kind::Naive, unit: SECOND },
    Form { name: "epoch-s", pattern: EPOCH_SECONDS, utc: true, kind: Kind::Zoned, unit: SECOND },
    Form { name: "epoch-ms", pattern: EPOCH_MILLIS, utc: true, kind: Kind::Zoned, unit: MILLI },
    Form { name: "epoch-ns", pattern: EPOCH_NANOS, utc: true, kind: Kind::Zoned, unit: 1 },
    Form { name: "epoch-fraction", pattern: EPOCH_FRACTION, utc: true, kind: Kind::Zoned, unit: MICRO },
];

/// Prefixes of the kinds that stand before timestamps: source files, hosts,
/// sequence numbers, component tags, syslog headers without their own time.
const PREFIXES: &[&str] = &[
    "",
    "app.py ",
    "main.go:42 ",
    "web-01 ",
    "db7.example.com ",
    "000123 ",
    "#42 ",
    "[worker-3] ",
    "12345 web-01 [main] ",
    "<134>",
    "myhost sshd[123]: ",
    "- ",
    "[",
];

fn render(form: &Form, t: DateTime<FixedOffset>) -> String {
    let utc = t.to_utc();
    match form.pattern {
        EPOCH_SECONDS => utc.timestamp().to_string(),
        EPOCH_MILLIS => utc.timestamp_millis().to_string(),
        EPOCH_NANOS => utc.timestamp_nanos_opt().unwrap().to_string(),
        EPOCH_FRACTION => format!("{}.{:06}", utc.timestamp(), utc.timestamp_subsec_micros()),
        pattern if form.utc => utc.format(pattern).to_string(),
        pattern => t.format(pattern).to_string(),
    }
}

/// `t` cut to what `form` keeps.
fn truncated(form: &Form, t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let nanos = u64::from(t.second()) * SECOND + u64::from(t.nanosecond());
    let kept = nanos - nanos % form.unit;
    let t = t.with_second(0).unwrap().with_nanosecond(0).unwrap();
    t + chrono::Duration::nanoseconds(kept as i64)
}

fn time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (
        2002i32..2099,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000_000,
        -48i32..=56,
    )
        .prop_filter_map("a real date", |(y, mo, d, h, mi, s, ns, quarter)| {
            let offset = FixedOffset::east_opt(quarter * 900)?;
            let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, s, ns)?;
            naive.and_local_timezone(offset).single()
        })
}

/// Reads `lines` as a file last written at `last_write` and gives the time of each.
fn read(
    lines: &[String],
    last_write: DateTime<FixedOffset>,
    form: &Form,
) -> Vec<Option<ParsedTime>> {
    let wall = match form.kind {
        Kind::Naive if !form.utc => last_write.naive_local(),
        _ => last_write.naive_utc(),
    };
    let hint = YearHint::new(wall);
    let learned = learn_from_lines(
        lines.iter().map(|l| l.as_bytes()),
        &[],
        Path::new("p.log"),
        hint,
    );
    let reader = TimeReader::new(&learned.format, &[], hint);
    lines
        .iter()
        .map(|l| reader.read(l.as_bytes()).time.map(|t| t.time))
        .collect()
}

fn matches(form: &Form, parsed: Option<ParsedTime>, t: DateTime<FixedOffset>) -> bool {
    let want = truncated(form, t);
    match (form.kind, parsed) {
        (_, None) => false,
        (Kind::Naive, Some(p)) => p.offset.is_none() && p.naive == want.naive_local(),
        (Kind::Zoned, Some(p)) => p.to_datetime() == Some(want),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_form_reads_back_after_any_prefix(
        form in 0..FORMS.len(),
        prefix in 0..PREFIXES.len(),
        t in time(),
        gap in 1i64..90_000,
    ) {
        let form = &FORMS[form];
        let prefix = PREFIXES[prefix];
        // Two lines of one file, the second later, each followed by a message.
        let later = t + chrono::Duration::seconds(gap);
        let lines = [
            format!("{prefix}{} job 17 started", render(form, t)),
            format!("{prefix}{} job 17 done", render(form, later)),
        ];
        let times = read(&lines, later, form);
        prop_assert!(
            matches(form, times[0], t) && matches(form, times[1], later),
            "{}: {:?} read as {:?}, want {} and {}", form.name, lines, times,
            truncated(form, t), truncated(form, later)
        );
    }
}

/// Headers that state a level, with the message's place marked `{msg}`.
const HEADERS: &[&str] = &[
    "2026-01-27 10:00:00,123 - payments - {LEVEL} - {msg}",
    "2026-01-27 10:00:00,123 {LEVEL} [main] com.example.App - {msg}",
    "2026/01/27 10:00:00 [{level}] 42#42: {msg}",
    "Jan 27 10:00:00 web-1 app[42]: {LEVEL} {msg}",
    "Jan 27 10:00:00 web-1 app[42]: {level}: {msg}",
    "[2026-01-27 10:00:00,123] {LEVEL} in app: {msg}",
    "2026-01-27T10:00:00.123Z  {LEVEL} my_app::server: {msg}",
    "[2026-01-27T10:00:00Z {LEVEL} my_app] {msg}",
    "time=\"2026-01-27T10:00:00Z\" level={level} msg=\"{quoted}\"",
    "{\"level\":\"{level}\",\"time\":\"2026-01-27T10:00:00Z\",\"msg\":\"{quoted}\"}",
    "{level}: {msg}",
    "{LEVEL}:root:{msg}",
];

/// Headers without a level, and a message that opens with running text.
const BARE_HEADERS: &[&str] = &[
    "2026-01-27 10:00:00,123 {msg}",
    "Jan 27 10:00:00 web-1 app[42]: {msg}",
    "2026-01-27 10:00:00 [main] {msg}",
    "[2026-01-27 10:00:00] {msg}",
    "{msg}",
];

/// Message words, many of them level words in every spelling and place.
const WORDS: &[&str] = &[
    "the",
    "job",
    "retry",
    "failed.",
    "no",
    "error",
    "found",
    "ERROR",
    "Error:",
    "[error]",
    "<warn>",
    "WARNING",
    "Warning:",
    "level=debug",
    "lvl=error",
    "FATAL",
    "panic:",
    "CRITICAL",
    "ERROR_CODE_7",
    "on_error",
    "WARN_ONCE",
    "I",
    "E",
    "W",
    "info",
    "INFO",
    "crit",
    "Caused",
    "by:",
    "Traceback",
    "\"",
    "'",
    "-",
    "|",
    "=",
    "{",
    "}",
    "2026-01-27",
    "10:00:00",
    "1769508000",
    "E0127",
    "[INFO]",
    "DEBUG",
    "(error)",
    "severity=fatal",
    "\"level\":\"error\"",
];

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..24).prop_map(|w| w.join(" "))
}

fn fill(header: &str, level: Level, msg: &str) -> String {
    let quoted = msg.replace('\\', "\\\\").replace('"', "\\\"");
    header
        .replace("{LEVEL}", &level.name().to_uppercase())
        .replace("{level}", level.name())
        .replace("{quoted}", &quoted)
        .replace("{msg}", msg)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn message_text_never_changes_the_headers_level(
        header in prop::sample::select(HEADERS),
        level in prop::sample::select(&Level::ALL[..]),
        msg in message(),
    ) {
        let line = fill(header, level, &msg);
        prop_assert_eq!(detect_level(line.as_bytes()), Some(level), "{}", line);
    }

    #[test]
    fn running_text_after_a_bare_header_has_no_level(
        header in prop::sample::select(BARE_HEADERS),
        msg in message(),
    ) {
        let line = fill(header, Level::Info, &format!("the job {msg}"));
        prop_assert_eq!(detect_level(line.as_bytes()), None, "{}", line);
    }
}
