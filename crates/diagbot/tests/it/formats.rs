//! `[[formats]]` from the user's side, run as a user would: a log whose
//! timestamps no built-in form reads, a time window over it with and without
//! a format for it, and `diagbot formats test` on it.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// Times no built-in form reads (`|` between the date's fields, `h`/`m`/`s`
/// after the clock's), a level after them, and a continuation line.
pub const SHOP_LOG: &str = "\
[shop] 27|01|2026 10h00m00s ERROR payment 1 failed
[shop] 27|01|2026 10h20m00s INFO payment 2 done
  payment retried once
[shop] 27|01|2026 10h40m00s ERROR payment 3 failed
[shop] 27|01|2026 11h00m00s ERROR payment 4 failed
";

/// A format for it, applying to `shop-*.log` only.
pub const SHOP_FORMAT: &str = "[[formats]]\nname = \"shop\"\nglob = \"shop-*.log\"\n\
     timestamp = \"%d|%m|%Y %Hh%Mm%Ss\"\n\
     regex = '^\\[shop\\] (?P<time>\\S+ \\S+) (?P<level>[A-Z]+) (?P<message>.*)$'\n";

struct Setup {
    _dir: tempfile::TempDir,
    log: PathBuf,
    with_format: PathBuf,
    without: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("shop-1.log");
    std::fs::write(&log, SHOP_LOG).unwrap();
    let with_format = dir.path().join("formats.toml");
    std::fs::write(&with_format, SHOP_FORMAT).unwrap();
    let without = dir.path().join("plain.toml");
    std::fs::write(&without, "[logs]\npaths = [\"/var/log\"]\n").unwrap();
    Setup {
        _dir: dir,
        log,
        with_format,
        without,
    }
}

/// `diagbot ARGS --config CONFIG`.
fn diagbot(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("diagbot").unwrap();
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("DIAGBOT_CONFIG");
    cmd
}

fn grep_json(s: &Setup, config: &Path) -> Value {
    let out = diagbot(
        config,
        &[
            "grep",
            "payment",
            "--since",
            "2026-01-27T10:30:00",
            "--json",
        ],
    )
    .arg("--path")
    .arg(&s.log)
    .output()
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Without a format the window finds nothing and says why; with one it
/// selects the two lines after 10:30, and the file is read with it.
#[test]
fn a_user_format_lets_since_select_lines_no_built_in_form_reads() {
    let s = setup();
    let before = grep_json(&s, &s.without);
    assert_eq!(before["matches"], 0);
    assert_eq!(before["warnings"][0]["problem"], "no_timestamps");
    assert_eq!(before["warnings"][0]["lines"], 5);

    let after = grep_json(&s, &s.with_format);
    assert_eq!(after["matches"], 2, "{after:#}");
    assert_eq!(after["warnings"], serde_json::json!([]));
    assert_eq!(after["files"][0]["timestamp_format"], "shop");
    let texts: Vec<&str> = after["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "[shop] 27|01|2026 10h40m00s ERROR payment 3 failed",
            "[shop] 27|01|2026 11h00m00s ERROR payment 4 failed"
        ]
    );
    assert!(after["lines"][0]["timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-27T10:40:00"));

    // errors: the levels come from the format's `level` group.
    let out = diagbot(&s.with_format, &["errors", "--json"])
        .arg("--path")
        .arg(&s.log)
        .output()
        .unwrap();
    let errors: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(errors["levels"]["error"], 3, "{errors:#}");
    assert_eq!(errors["levels"]["info"], 1, "{errors:#}");
}

/// The human output says it under the summary, and `-v` names each file's format.
#[test]
fn warnings_and_formats_in_the_human_output() {
    let s = setup();
    let log = s.log.display().to_string();
    diagbot(&s.without, &["grep", "payment", "--since", "2026-01-27T10:30:00"])
        .arg("--path")
        .arg(&s.log)
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(format!(
            "^0 matching lines in 0 of 1 files; [^\n]*\nwarning: {}: no timestamps recognised in 5 lines; \
             --since/--until cannot select its lines\n\\(`diagbot formats test FILE` shows",
            regex_escape(&log)
        )).unwrap());
    diagbot(
        &s.with_format,
        &["errors", "-v", "--since", "2026-01-27T10:30:00"],
    )
    .arg("--path")
    .arg(&s.log)
    .assert()
    .code(0)
    .stdout(predicate::str::contains("warning:").not())
    .stdout(
        predicate::str::is_match(format!(
            "timestamp formats:\n\\s*{}\\s+shop *\n",
            regex_escape(&log)
        ))
        .unwrap(),
    );
    // Without -v the formats are not listed.
    diagbot(
        &s.with_format,
        &["errors", "--since", "2026-01-27T10:30:00"],
    )
    .arg("--path")
    .arg(&s.log)
    .assert()
    .stdout(predicate::str::contains("timestamp formats:").not());
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn formats_test_shows_what_read_each_line_and_why_not() {
    let s = setup();
    let out = diagbot(&s.with_format, &["formats", "test", "--lines", "3"])
        .arg(&s.log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("format: shop (from [[formats]]), learned from 4 timestamped lines"),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().skip_while(|l| !l.contains("LINE")).collect();
    assert!(
        regex_line(
            rows[1],
            r"^\s*1\s+shop\s+2026-01-27T10:00:00[+-]\d\d:\d\d\s+error\s+\[shop\] 27\|01\|2026"
        ),
        "{text}"
    );
    assert!(
        regex_line(rows[2], r"^\s*2\s+shop\s+2026-01-27T10:20:00\S*\s+info\s"),
        "{text}"
    );
    assert!(
        regex_line(rows[3], r"^\s*3\s+-\s+-\s+-\s+payment retried once"),
        "{text}"
    );
    assert!(
        rows[4].contains(
            "↳ no timestamp: format \"shop\": its regex does not match; no other date and time \
             starts in its first 128 bytes; it takes the time of line 2"
        ),
        "{text}"
    );
    assert_eq!(rows.len(), 5, "three lines and one reason: {text}");

    // JSON: the same, with the time's text and the message group.
    let out = diagbot(&s.with_format, &["formats", "test", "--json"])
        .arg(&s.log)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "shop");
    assert_eq!(v["format_source"], "user");
    assert_eq!(v["lines"].as_array().unwrap().len(), 5);
    assert_eq!(v["lines"][0]["time_text"], "27|01|2026 10h00m00s");
    assert_eq!(v["lines"][0]["message"], "payment 1 failed");
    assert_eq!(v["lines"][2]["inherits_from"], 2);
    assert_eq!(v["lines"][3]["level"], "error");

    // Without the format nothing reads a time: exit 1, and each line says why.
    let out = diagbot(&s.without, &["formats", "test", "--json", "--lines", "2"])
        .arg(&s.log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], Value::Null);
    assert_eq!(v["lines"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["lines"][0]["problem"],
        "no date and time starts in its first 128 bytes"
    );
}

/// A format whose glob does not match the file is named as not tried; a
/// built-in form learned from the file is named as such.
#[test]
fn formats_test_names_formats_not_tried_and_built_in_forms() {
    let s = setup();
    let other = s.log.with_file_name("app.log");
    std::fs::write(&other, "2026-01-27 10:00:00,000 INFO start\n").unwrap();
    diagbot(&s.with_format, &["formats", "test"])
        .arg(&other)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "format: iso8601 yyyy-MM-dd HH:mm:ss,SSS (built-in), learned from 1 timestamped lines",
        ))
        .stdout(predicate::str::contains(
            "not tried, their glob does not match the file: shop",
        ));
}

/// A file that is not there, or a directory, is an error (exit 2) that names it.
#[test]
fn formats_test_on_a_missing_file_or_a_directory_is_an_error() {
    let s = setup();
    let missing = s.log.with_file_name("nope.log");
    diagbot(&s.without, &["formats", "test"])
        .arg(&missing)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "diagbot: error: cannot read {}: No such file or directory",
            missing.display()
        )));
    diagbot(&s.without, &["formats", "test"])
        .arg(s.log.parent().unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is a directory: give one log file",
        ));
    diagbot(&s.without, &["formats", "test", "--lines", "0"])
        .arg(&s.log)
        .assert()
        .code(2);
}

fn regex_line(line: &str, pattern: &str) -> bool {
    predicate::str::is_match(pattern).unwrap().eval(line)
}

/// Over HTTP the answer carries `warnings` as `--json` does; a reload that
/// adds a format applies it at once: the window selects the lines, the file
/// reads with it, and the refresh's errors count its levels.
#[test]
fn the_api_warns_and_a_reload_applies_a_new_format() {
    use crate::common::{config_text, setup as daemon_setup, TestDaemon};
    let (_dir, logs, config_file) = daemon_setup("");
    std::fs::write(logs.join("shop-1.log"), SHOP_LOG).unwrap();
    let d = TestDaemon::start(&config_file);
    let window = "/api/v1/grep?pattern=payment&since=2026-01-27T10:30:00";
    let shop_warnings = |v: &Value| -> Vec<Value> {
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["path"].as_str().unwrap().ends_with("shop-1.log"))
            .cloned()
            .collect()
    };
    let before = d.json(window);
    assert_eq!(before["matches"], 0, "{before:#}");
    let warned = shop_warnings(&before);
    assert_eq!(warned.len(), 1, "{before:#}");
    assert_eq!(warned[0]["problem"], "no_timestamps");
    assert_eq!(warned[0]["lines_with_time"], 0);
    assert_eq!(warned[0]["lines"], 5);
    d.wait_for_first_refresh();
    let errors_before = d.json("/api/v1/errors");
    assert!(
        errors_before["levels"]["unknown"].as_u64().unwrap() >= 5,
        "{errors_before:#}"
    );

    std::fs::write(&config_file, config_text(&logs, SHOP_FORMAT)).unwrap();
    d.control
        .blocking_send(diagbot::daemon::Control::Reload)
        .unwrap();
    crate::common::eventually(
        "the reload to apply",
        std::time::Duration::from_secs(20),
        || !d.state.settings().core.formats.is_empty(),
    );
    let after = d.json(window);
    assert_eq!(after["matches"], 2, "{after:#}");
    assert!(shop_warnings(&after).is_empty(), "{after:#}");
    let errors = d.json("/api/v1/errors");
    let shop = errors["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("shop-1.log"))
        .unwrap_or_else(|| panic!("{errors:#}"));
    assert_eq!(shop["timestamp_format"], "shop");
    assert_eq!(shop["matches"], 3);
    // Before, no level was read in it: its 3 error lines are new.
    assert_eq!(
        errors["matches"].as_u64().unwrap(),
        errors_before["matches"].as_u64().unwrap() + 3,
        "{errors_before:#}\n{errors:#}"
    );
}

/// The header learned from a file's first lines is shown line by line: its
/// fields by kind, and where the message starts.
#[test]
fn formats_test_shows_the_learned_header_and_the_message() {
    let s = setup();
    let log = s.log.with_file_name("service.log");
    let mut text = String::from(
        "2026-01-27 10:00:01,001 INFO [pool worker 3 on 9000] com.example.net.Client: Connection refused to 10.0.0.1:80\n",
    );
    for i in 2..12 {
        text.push_str(&format!(
            "2026-01-27 10:00:{i:02},001 WARN [main] com.example.net.Server: Retry {i} of order {i}\n"
        ));
    }
    std::fs::write(&log, text).unwrap();
    let out = diagbot(&s.without, &["formats", "test", "--lines", "2"])
        .arg(&log)
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("header: 3 field(s) after the time"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "↳ header: level `INFO` · bracketed `[pool worker 3 on 9000]` · name: \
             `com.example.net.Client:` · message: Connection refused to 10.0.0.1:80"
        ),
        "{shown}"
    );
    assert!(shown.contains("· message: Retry 2 of order 2"), "{shown}");
    let out = diagbot(&s.without, &["formats", "test", "--json"])
        .arg(&log)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["header"]["fields"], 3);
    assert_eq!(v["lines"][0]["header"][1]["kind"], "bracketed");
    assert_eq!(v["lines"][0]["message_start"], 77);
}
