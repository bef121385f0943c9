use super::*;

fn level(line: &str) -> Option<&'static str> {
    detect_level(line.as_bytes()).map(Level::name)
}

#[test]
fn usual_words() {
    assert_eq!(
        level("2026-01-27 12:00:00,123 - bot - ERROR - boom"),
        Some("error")
    );
    assert_eq!(level("2026-01-27 12:00:00,123 WARNING x"), Some("warning"));
    assert_eq!(
        level("2015-07-29 17:41:44,747 - INFO  [Quorum] - x"),
        Some("info")
    );
    assert_eq!(
        level("[Sun Dec 04 04:47:44 2005] [error] mod_jk child"),
        Some("error")
    );
    assert_eq!(
        level("[Sun Dec 04 04:47:44 2005] [notice] jk2_init()"),
        Some("info")
    );
    assert_eq!(level("ts=1 level=warn msg=slow"), Some("warning"));
    assert_eq!(
        level("Jan 1 00:00:00 host app: CRITICAL disk full"),
        Some("fatal")
    );
    assert_eq!(level("SEVERE: servlet failed"), Some("error"));
    assert_eq!(level("Error: connection refused"), Some("error"));
    assert_eq!(level("2026-01-27T10:00:00Z ERR something"), Some("error"));
    assert_eq!(level("2026-01-27 10:00:00 DEBUG x"), Some("debug"));
}

#[test]
fn single_letters() {
    assert_eq!(
        level("01-27 10:00:00.123  1234  5678 E Tag: boom"),
        Some("error")
    );
    assert_eq!(
        level("01-27 10:00:00.123  1234  5678 W Tag: hmm"),
        Some("warning")
    );
    assert_eq!(level("E/ActivityManager( 123): boom"), Some("error"));
    assert_eq!(level("I/Tag( 1): ok"), Some("info"));
    // A lone capital in prose is not a level.
    assert_eq!(level("Jun 14 host sshd: I am here"), None);
}

#[test]
fn free_text_is_not_a_level() {
    assert_eq!(level("Jun 14 15:16:01 combo sshd: no error found"), None);
    assert_eq!(level("user error-prone thing"), None);
    assert_eq!(level("ERRORS are fun"), None);
}

#[test]
fn tracebacks_panics_and_exceptions() {
    assert_eq!(level("Traceback (most recent call last):"), Some("error"));
    assert_eq!(
        level("thread 'main' panicked at src/main.rs:3:5:"),
        Some("fatal")
    );
    assert_eq!(
        level("Exception in thread \"main\" java.lang.NullPointerException"),
        Some("error")
    );
    assert_eq!(level("Caused by: java.io.IOException: gone"), Some("error"));
    assert_eq!(level("  File \"bot.py\", line 3, in <module>"), None);
}

#[test]
fn levels_in_the_message_or_in_identifiers_are_not_the_lines() {
    for line in [
        "2026-01-27 10:00:00 retry failed. Warning: the queue is full",
        "2026-01-27 10:00:00 check done, no error found",
        "2026-01-27 10:00:00 ERROR_CODE_7 raised by handler",
        "2026-01-27 10:00:00 on_error hook ran",
        "2026-01-27 10:00:00 WARN_ONCE set",
        "2026-01-27 10:00:00 [main] the job saw [error] twice",
        "time=2026-01-27T10:00:00Z msg=\"an ERROR in quotes\"",
        "the job 2026-01-27 10:00:00 ERROR is prose",
    ] {
        assert_eq!(level(line), None, "{line}");
    }
}

#[test]
fn any_case_and_long_words() {
    assert_eq!(level("2026-01-27 10:00:00 Info started"), Some("info"));
    assert_eq!(level("2026-01-27 10:00:00 info started"), Some("info"));
    assert_eq!(level("2026-01-27 10:00:00 Warn slow"), Some("warning"));
    assert_eq!(
        level("2026-01-27 10:00:00 [Information] Startup"),
        Some("info")
    );
    assert_eq!(level("2026-01-27 10:00:00 VERBOSE tick"), Some("trace"));
    assert_eq!(level("2026-01-27 10:00:00 Critical: disk"), Some("fatal"));
    assert_eq!(level("2026-01-27 10:00:00 ALERT pager"), Some("fatal"));
    assert_eq!(level("2026-01-27 10:00:00 [core:warn] x"), Some("warning"));
}

#[test]
fn marked_fields_and_stated_levels() {
    assert_eq!(
        level("ts=2026-01-27T10:00:00Z caller=a.go:1 lvl=\"warn\" msg=x"),
        Some("warning")
    );
    assert_eq!(level("<11>Jan 27 10:00:00 host app: x"), Some("error"));
    assert_eq!(
        level(r#"{"level":40,"time":1769508000000,"msg":"x"}"#),
        Some("warning")
    );
    assert_eq!(
        level(r#"{"msg":"ERROR later","severity":"DEBUG"}"#),
        Some("debug")
    );
    assert_eq!(
        level("2026-01-27T10:00:00.1Z stdout F 2026-01-27 10:00:00 ERROR boom"),
        Some("error")
    );
    assert_eq!(level("E0127 10:00:00.123456 1 a.go:1] x"), Some("error"));
    assert_eq!(
        level("W, [2026-01-27T10:00:00.1 #1]  WARN -- : x"),
        Some("warning")
    );
}

mod remembered_headers {
    use proptest::prelude::*;

    use super::super::{header, payload_level};
    use crate::logs::timestamp::{find_line_timestamp, YearHint};

    const TIMES: &[&str] = &[
        "2026-01-27 10:00:00,123",
        "2026-01-27T10:00:00Z",
        "Jan 27 10:00:00",
        "1769508000",
    ];
    const WORDS: &[&str] = &[
        "-",
        "worker",
        "bot.trader",
        "INFO",
        "ERROR",
        "Error:",
        "warn:",
        "[error]",
        "<warn>",
        "level=info",
        "lvl=\"warn\"",
        "msg=\"a",
        "b\"",
        "stdout",
        "F",
        "the",
        "job",
        "failed.",
        "|",
        "#",
        "*",
        "1234",
        "[main]",
        "E",
        "host",
        "app[1]:",
        "ERROR_CODE_7",
        "\"",
    ];

    fn line() -> impl Strategy<Value = String> {
        (
            prop::sample::select(TIMES),
            prop::collection::vec((prop::sample::select(WORDS), 0usize..3), 0..8),
        )
            .prop_map(|(time, words)| {
                let mut line = time.to_string();
                for (word, gap) in words {
                    line.push_str(&" \t "[..gap + 1]);
                    line.push_str(word);
                }
                line
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Remembering headers never changes a line's level: the table is
        /// shared by every line this thread reads, so each case also meets
        /// what earlier ones left there.
        #[test]
        fn a_remembered_header_gives_the_level_the_rules_give(lines in prop::collection::vec(line(), 1..6)) {
            let hint = YearHint::new(chrono::NaiveDateTime::MAX);
            for line in &lines {
                let time = find_line_timestamp(line.as_bytes(), &hint).map(|t| (t.start, t.end));
                let payload: header::PayloadReader = payload_level;
                let walked = header::walk(line.as_bytes(), time, Some(payload)).level;
                let remembered = header::header_level(line.as_bytes(), time, Some(payload));
                prop_assert_eq!(remembered, walked, "{}", line);
            }
        }
    }
}
