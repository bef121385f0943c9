//! The `diagbot grep` and `diagbot errors` commands, run as a user would run
//! them, on generated logs in temp dirs.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// A service log: levels, a traceback, a warning (shared by the test suites).
const APP_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/app.log"
));

fn logs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("app.log"), APP_LOG).unwrap();
    fs::write(
        dir.path().join("quiet.log"),
        "2026-01-27 09:00:00 INFO nothing\n",
    )
    .unwrap();
    dir
}

fn diagbot() -> Command {
    Command::cargo_bin("diagbot").unwrap()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = diagbot()
        .args(args)
        .arg("--path")
        .arg(dir)
        .arg("--json")
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn grep_prints_a_summary_and_a_table_of_the_last_lines() {
    let dir = logs();
    diagbot()
        .args(["grep", "ERROR", "--max-lines", "2", "--path"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("3 matching lines in 1 of 2 files"))
        .stdout(predicate::str::contains("last 2 of 3:"))
        .stdout(predicate::str::is_match(r"TIME\s+FILE\s+LINE\s+TEXT").unwrap())
        .stdout(
            predicate::str::is_match(
                r"2026-01-27 10:20:00\s+\S+app\.log\s+8\s+2026-01-27 10:20:00,000 ERROR late failure",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("first failure").not());
}

#[test]
fn grep_json_has_the_documented_fields() {
    let dir = logs();
    let v = json(dir.path(), &["grep", "Error|ERROR"]);
    assert_eq!(v["matches"], 4);
    assert!(v["bytes_scanned"].as_u64().unwrap() > 0);
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    assert_eq!(v["files"][0]["matches"], 4);
    assert!(v["files"][0]["path"].as_str().unwrap().ends_with("app.log"));
    assert_eq!(v["skipped"], serde_json::json!([]));
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2]["text"], "ValueError: bad input");
    assert_eq!(lines[2]["line_number"], 6);
    // A continuation line carries the time of the entry above it, in RFC 3339.
    let ts = lines[2]["timestamp"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
    assert!(ts.starts_with("2026-01-27T10:05:00"), "{ts}");
}

#[test]
fn grep_json_counts_the_levels_of_its_matching_lines() {
    let dir = logs();
    let v = json(dir.path(), &["grep", "failure|slow"]);
    assert_eq!(v["matches"], 3);
    let levels = &v["levels"];
    assert_eq!(levels["error"], 2, "{levels}");
    assert_eq!(levels["warning"], 1, "{levels}");
    // Lines that did not match are not counted (the file has an INFO line).
    assert_eq!(levels["info"], 0, "{levels}");
}

#[test]
fn a_bad_regex_is_shown_as_written_with_the_caret_under_it() {
    let dir = logs();
    let out = diagbot()
        .args(["grep", "foo(", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("(?:"), "diagbot's own wrapping shows: {err}");
    let lines: Vec<&str> = err.lines().collect();
    let shown = lines.iter().position(|l| l.trim() == "foo(").expect(&err);
    // The caret stands under the user's own `(`.
    let caret = lines[shown + 1];
    assert_eq!(caret.find('^'), lines[shown].find('('), "{err}");
}

#[test]
fn a_new_users_spellings_are_understood() {
    let dir = logs();
    // `--lines` is `--max-lines`; `-1h` is an hour back, not a flag.
    let out = diagbot()
        .args([
            "errors", "--lines", "1", "--since", "-100000d", "--json", "--path",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"].as_array().unwrap().len(), 1, "{v:#}");
    diagbot()
        .args(["errors", "--since", "-1h", "--path"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 errors"));
    // A missing configuration file says why once.
    let out = diagbot()
        .args(["status", "--config", "/nonexistent/diagbot.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn grep_count_prints_only_the_number() {
    let dir = logs();
    diagbot()
        .args(["grep", "-i", "error", "--count", "--path"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout("4\n");
}

#[test]
fn no_match_exits_1_and_an_error_exits_2() {
    let dir = logs();
    diagbot()
        .args(["grep", "no such words", "--path"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 matching lines"));
    diagbot()
        .args(["grep", "ERROR(", "--path"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid pattern \"ERROR(\""))
        .stderr(predicate::str::contains("unclosed group"));
    diagbot()
        .args(["grep", "x", "--path", "/nonexistent/diagbot/logs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/diagbot/logs"));
    diagbot()
        .args(["grep", "x", "--since", "last tuesday", "--path"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid time \"last tuesday\""));
}

#[test]
fn since_and_until_select_a_window() {
    let dir = logs();
    let v = json(
        dir.path(),
        &[
            "grep",
            "ERROR|Error",
            "--since",
            "2026-01-27 10:04",
            "--until",
            "2026-01-27T10:11:00",
        ],
    );
    assert_eq!(v["matches"], 2);
    // The last hour holds none of these lines.
    diagbot()
        .args(["grep", "ERROR", "--since", "1h", "--path"])
        .arg(dir.path())
        .assert()
        .code(1);
}

/// Events, not lines: `ERROR job crashed` and the traceback below it are
/// one error (they were counted as two, and the traceback's own lines as
/// lines without a level), shown with the exception line that says what failed.
#[test]
fn errors_counts_events_and_shows_a_tracebacks_exception_line() {
    let dir = logs();
    diagbot()
        .args(["errors", "--path"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("3 errors in 1 of 2 files"))
        .stdout(predicate::str::is_match(r"LEVEL\s+EVENTS").unwrap())
        .stdout(predicate::str::is_match(r"error\s+3").unwrap())
        .stdout(predicate::str::is_match(r"warning\s+1").unwrap())
        .stdout(predicate::str::is_match(r"info\s+2").unwrap())
        // Events without a level are shown too, not only in the JSON.
        .stdout(predicate::str::is_match(r"\(no level\)\s+0").unwrap())
        .stdout(predicate::str::contains(
            "ERROR job crashed … ValueError: bad input",
        ))
        .stdout(predicate::str::contains("Traceback (most recent call last):").not());
    let v = json(dir.path(), &["errors"]);
    assert_eq!(v["levels"]["unknown"], 0);
    assert_eq!(v["levels"]["error"], 3);
    assert_eq!(v["levels"]["fatal"], 0);
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert!(lines[1]["text"]
        .as_str()
        .unwrap()
        .ends_with("ERROR job crashed\nValueError: bad input"));
    assert_eq!(v["skipped"], serde_json::json!([]));
}

#[test]
fn errors_with_no_error_lines_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.log"), "2026-01-27 09:00:00 INFO fine\n").unwrap();
    diagbot()
        .args(["errors", "--path"])
        .arg(dir.path())
        .assert()
        .code(1);
}

#[test]
fn control_bytes_in_logs_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.log"),
        b"ERROR \x1b[31mred\x1b[0m and \xff\n",
    )
    .unwrap();
    diagbot()
        .args(["grep", "ERROR", "--path"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\\x1b[31mred"))
        .stdout(predicate::str::contains("\u{1b}").not());
}

/// A file name is shown as log text is: whoever can create a file in a
/// watched directory cannot clear the terminal or forge a table row.
#[test]
fn control_bytes_in_file_names_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\u{1b}[2J\u{7}\u{202e}gol.exe\nfake.log";
    fs::write(dir.path().join(name), "2026-01-27 10:00:00 ERROR x\n").unwrap();
    for args in [
        &["grep", "ERROR", "-v"][..],
        &["errors", "-v"][..],
        &["groups", "--since", "100000d"][..],
    ] {
        let out = diagbot()
            .args(args)
            .arg("--path")
            .arg(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("x\\x1b[2J\\x07U+202Egol.exe\\x0afake.log"),
            "{args:?}: {text}"
        );
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{args:?}: {text}"
        );
    }
}

/// Root reads every file, so this runs diagbot as `nobody` when the tests run as root.
#[test]
fn an_unreadable_file_is_skipped_and_listed_and_the_rest_searched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = logs();
    let secret = dir.path().join("secret.log");
    fs::write(&secret, "ERROR hidden\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = unprivileged(&assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["grep", "ERROR", "--json", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matches"], 3);
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("secret.log"));
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("Permission denied"));
}

/// A directory whose every file is unreadable answers nothing: exit 2, and
/// that nothing could be read is said first, not a zero with a footnote.
#[test]
fn a_directory_of_unreadable_files_is_an_error_not_a_zero() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.log", "b.log"] {
        let file = dir.path().join(name);
        fs::write(&file, "2026-01-27 10:00:00 ERROR hidden\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    for command in ["errors", "grep", "groups"] {
        let mut args = vec![command];
        if command == "grep" {
            args.push("ERROR");
        }
        let out = unprivileged(&assert_cmd::cargo::cargo_bin("diagbot"))
            .args(&args)
            .arg("--path")
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("nothing could be read") && first.contains("Permission denied"),
            "{command}: {err}"
        );
    }
}

/// A fixture `/proc` through the environment override of `system.proc_root`.
/// `--path` given twice, or in another order, is one path: the query keeps
/// its paths sorted and without repeats (the CLI used to overwrite them, and a
/// missing path given twice was reported twice).
#[test]
fn a_path_given_twice_is_searched_and_reported_once() {
    let dir = logs();
    let missing = dir.path().join("gone.log");
    let app = dir.path().join("app.log");
    let out = diagbot()
        .args(["grep", "ERROR", "--json"])
        .args(["--path".as_ref(), missing.as_os_str()])
        .args(["--path".as_ref(), app.as_os_str()])
        .args(["--path".as_ref(), missing.as_os_str()])
        .args(["--path".as_ref(), app.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matches"], 3);
    assert_eq!(v["files_searched"], 1);
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], missing.display().to_string());
}

#[test]
fn status_reads_the_configured_proc_root() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::write(
        p.join("meminfo"),
        "MemTotal: 984064 kB\nMemAvailable: 102400 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    )
    .unwrap();
    fs::write(p.join("loadavg"), "2.00 1.00 0.50 1/100 7\n").unwrap();
    fs::write(p.join("uptime"), "90061.0 1.0\n").unwrap();
    fs::write(p.join("stat"), "cpu  1 0 1 8 0 0 0 0 0 0\n").unwrap();
    fs::write(p.join("mounts"), "").unwrap();
    diagbot()
        .arg("status")
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_SYSTEM__PROC_ROOT", p)
        .current_dir(p)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "861.0 MiB used of 961.0 MiB, 100.0 MiB available (90 % used)",
        ))
        .stdout(predicate::str::contains("2.00 1.00 0.50"))
        .stdout(predicate::str::contains("1 d 1 h 1 min"));
    fs::remove_file(p.join("loadavg")).unwrap();
    let out = diagbot()
        .args(["status", "--json"])
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_SYSTEM__PROC_ROOT", p)
        .current_dir(p)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["host"]["memory"]["available_bytes"], 102_400 * 1024);
    assert_eq!(v["host"]["load"], Value::Null);
    assert_eq!(v["host"]["unavailable"][0]["source"], "load");
    assert!(v["diagbot"]["rss_bytes"].as_u64().unwrap() > 0);
}

/// The original incident's kernel lines (shared by the test suites).
const KERN_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kern-oom.log"
));

fn oom_fixture(vmstat_kills: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("proc")).unwrap();
    fs::write(
        dir.path().join("proc/vmstat"),
        format!("pgfault 10\noom_kill {vmstat_kills}\n"),
    )
    .unwrap();
    fs::write(dir.path().join("kern.log"), KERN_LOG).unwrap();
    dir
}

fn oom_cmd(dir: &Path) -> Command {
    let mut cmd = diagbot();
    cmd.arg("oom")
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_SYSTEM__PROC_ROOT", dir.join("proc"))
        // Not this machine's kernel log.
        .env("DIAGBOT_SYSTEM__KMSG", "")
        .current_dir(dir);
    cmd
}

/// journalctl with no journal files exits 0 and says so on stderr: that
/// is no kernel log read, not an empty one.
#[test]
fn oom_does_not_claim_a_journal_that_has_no_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = oom_fixture(0);
    let journalctl = dir.path().join("journalctl");
    fs::write(
        &journalctl,
        "#!/bin/sh\necho 'No journal files were found.' >&2\necho '-- No entries --'\nexit 0\n",
    )
    .unwrap();
    fs::set_permissions(&journalctl, fs::Permissions::from_mode(0o755)).unwrap();
    oom_cmd(dir.path())
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", "")
        .env("DIAGBOT_SYSTEM__JOURNALCTL", &journalctl)
        .assert()
        .stdout(predicate::str::contains("kernel log read: none could be"))
        .stdout(predicate::str::contains("No journal files were found"));
}

/// `serve --listen` listens where it says, over the configuration's
/// `http.listen` (here an address this machine does not have).
#[test]
fn serve_listens_where_listen_says() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let config = dir.path().join("diagbot.toml");
    let text = crate::common::config_text(&logs, "[http]\nlisten = \"192.0.2.1:9187\"\n");
    fs::write(&config, text).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first.starts_with("diagbot listening on http://127.0.0.1:"),
        "{first}"
    );
}

/// The original incident: the bot's python3 killed in its service's cgroup.
#[test]
fn oom_names_the_victim_its_rss_cgroup_and_time_from_a_kernel_log() {
    let dir = oom_fixture(1);
    oom_cmd(dir.path())
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", dir.path().join("kern.log"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "1 OOM kills in the log; 1 since boot",
        ))
        .stdout(
            predicate::str::is_match(
                r"-02-27 10:00:00\s+908\s+python3\s+552.2 MiB\s+-\s+-\s+/system.slice/crypto-bot.service\s+kernel log",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("note:").not());
}

#[test]
fn oom_reads_journalctl_k_when_no_file_is_configured() {
    use std::os::unix::fs::PermissionsExt;
    let dir = oom_fixture(1);
    let fake = dir.path().join("journalctl");
    fs::write(
        &fake,
        format!("#!/bin/sh\n[ \"$1\" = -k ] || exit 3\ncat <<'LOG'\n{KERN_LOG}LOG\n"),
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let out = oom_cmd(dir.path())
        .arg("--json")
        .env("DIAGBOT_SYSTEM__JOURNALCTL", &fake)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kills"][0]["pid"], 908);
    assert_eq!(
        v["kills"][0]["sources"],
        serde_json::json!(["kernel log (journalctl -k)"])
    );
    assert_eq!(v["kills"][0]["rss_bytes"], (562_104 + 3316) * 1024);
    assert_eq!(v["kills_since_boot"], 1);
}

#[test]
fn oom_with_only_the_counter_says_a_kill_happened_and_what_access_would_name_it() {
    let dir = oom_fixture(2);
    let out = oom_cmd(dir.path())
        .arg("--json")
        .env("DIAGBOT_SYSTEM__JOURNALCTL", "/nonexistent/journalctl")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kills"], serde_json::json!([]));
    assert_eq!(v["kills_since_boot"], 2);
    let note = v["note"].as_str().unwrap();
    assert!(
        note.contains("counted 2 OOM kill(s)")
            && note.contains("systemd-journal")
            && note.contains("CAP_SYSLOG"),
        "{note}"
    );
    assert_eq!(v["unavailable"][0]["source"], "journalctl -k");
    assert!(v["unavailable"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot run /nonexistent/journalctl"));
}

/// `diagbot grep … | head`: the reader goes away, diagbot stops quietly.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let line = "2026-01-27 10:00:00,000 ERROR worker failed: a long enough line to fill the pipe quickly\n";
    std::fs::write(dir.path().join("big.log"), line.repeat(5000)).unwrap();
    for json in [false, true] {
        let mut args = vec!["grep", "ERROR", "--max-lines", "1000"];
        if json {
            args.push("--json");
        }
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
            .args(&args)
            .arg("--path")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, as `head -1` would, and close the pipe.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "json={json}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "json={json}: {stderr}");
    }
}

/// `--since 1h --until 2h` can match nothing: an error naming both ends, not a quiet 0.
#[test]
fn an_empty_or_inverted_window_is_an_error() {
    let dir = logs();
    let out = diagbot()
        .args(["errors", "--since", "1h", "--until", "2h", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the window is empty: since ") && stderr.contains(" is not before until "),
        "{stderr}"
    );
    // As people type durations: a space, a decimal.
    diagbot()
        .args(["errors", "--since", "2.5h", "--until", "5 m", "--path"])
        .arg(dir.path())
        .assert()
        .code(predicates::ord::ne(2));
}

/// A kernel log that is not there is "not found": it used to be told it
/// "needs group adm", as if access were the matter.
#[test]
fn oom_with_a_missing_kernel_log_says_not_found_not_group_adm() {
    let dir = oom_fixture(1);
    let missing = dir.path().join("missing-kern.log");
    let out = oom_cmd(dir.path())
        .arg("--json")
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", &missing)
        .env("DIAGBOT_SYSTEM__JOURNALCTL", "/nonexistent/journalctl")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = v["note"].as_str().unwrap();
    assert!(
        note.contains(&format!("{} not found", missing.display())),
        "{note}"
    );
    assert!(!note.contains("adm"), "{note}");
    assert_eq!(v["unavailable"][0]["source"], missing.display().to_string());
    assert_eq!(
        v["unavailable"][0]["reason"],
        "No such file or directory (os error 2)"
    );
}

/// A kernel log the user may not read (mode 000, read as an unprivileged
/// user) is the one case for "needs group adm".
#[test]
fn oom_with_an_unreadable_kernel_log_says_it_needs_group_adm() {
    use std::os::unix::fs::PermissionsExt;
    let dir = oom_fixture(1);
    let kern_log = dir.path().join("kern.log");
    fs::set_permissions(&kern_log, fs::Permissions::from_mode(0o000)).unwrap();
    // The unprivileged user must reach the files around it.
    for d in [dir.path().to_path_buf(), dir.path().join("proc")] {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = unprivileged(&assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["oom", "--json"])
        .env_remove("DIAGBOT_CONFIG")
        .env("DIAGBOT_SYSTEM__PROC_ROOT", dir.path().join("proc"))
        .env("DIAGBOT_SYSTEM__KMSG", "")
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", &kern_log)
        .env("DIAGBOT_SYSTEM__JOURNALCTL", "/nonexistent/journalctl")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["note"],
        format!(
            "the kernel counted 1 OOM kill(s) since boot whose victim diagbot cannot name: \
             reading the kernel log needs group adm (for {})",
            kern_log.display()
        )
    );
    assert_eq!(
        v["unavailable"][0]["reason"],
        "Permission denied (os error 13)"
    );
}

/// `bin` as a user without privileges: nobody when the tests run as root
/// (root reads a mode-000 file), else the user running them.
fn unprivileged(bin: &Path) -> std::process::Command {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        c
    } else {
        std::process::Command::new(bin)
    }
}

/// Without `--path`, `grep` and `errors` search what the configuration names:
/// `logs.paths` and the services' logs, as the daemon does.
#[test]
fn without_path_the_configured_paths_are_searched() {
    let logs = logs();
    let bot = tempfile::tempdir().unwrap();
    std::fs::write(
        bot.path().join("bot.log"),
        "2026-01-27 10:00:00 ERROR the bot's own error\n",
    )
    .unwrap();
    let config = logs.path().join("diagbot.toml");
    std::fs::write(
        &config,
        format!(
            "[logs]\npaths = [{:?}]\n[[services]]\nname = \"bot\"\nprocess = {{ name = \"python3\" }}\nlogs = [{:?}]\n",
            logs.path().join("app.log"),
            bot.path().join("bot.log")
        ),
    )
    .unwrap();
    let out = diagbot()
        .args(["errors", "--json", "--config"])
        .arg(&config)
        .env_remove("DIAGBOT_CONFIG")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files_searched"], 2, "{v:#}");
    assert!(
        v["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains("the bot's own error")),
        "{v:#}"
    );
}

/// Skipped files are one line of counts by reason; `-v` lists each one.
#[test]
fn skipped_files_are_summed_up_and_listed_with_v() {
    let dir = logs();
    for name in ["wtmp", "btmp", "old.log.xz"] {
        fs::write(dir.path().join(name), "x").unwrap();
    }
    let out = diagbot()
        .args(["errors", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 files skipped or incomplete: 2 binary file (not a text log), 1 compressed with a format diagbot does not read (only .gz); -v lists them"),
        "{text}"
    );
    assert!(!text.contains("wtmp"), "{text}");
    let out = diagbot()
        .args(["errors", "-v", "--path"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("skipped or incomplete:")
            && text.contains("wtmp")
            && text.contains("old.log.xz"),
        "{text}"
    );
}

/// `oom` says which kernel log it read, in the summary and in the JSON.
#[test]
fn oom_says_which_kernel_log_it_read() {
    let dir = oom_fixture(1);
    let kern = dir.path().join("kern.log");
    let out = oom_cmd(dir.path())
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", &kern)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("kernel log read: {}", kern.display())),
        "{text}"
    );
    let out = oom_cmd(dir.path())
        .arg("--json")
        .env("DIAGBOT_SYSTEM__KERNEL_LOG", &kern)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kernel_log"], kern.display().to_string());
}

/// Each command's --help says what it does: status names services and where
/// trends come from; serve names health sampling and Telegram.
#[test]
fn help_says_what_each_command_does() {
    for (command, words) in [
        ("status", &["services", "restart loops", "--remote"][..]),
        ("serve", &["health", "Telegram", "SIGHUP", "metrics"][..]),
        ("oom", &["--remote"][..]),
        ("grep", &["--config", "-v, --verbose"][..]),
        ("formats", &["test", "[[formats]]"][..]),
    ] {
        let out = diagbot().args([command, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for word in words {
            assert!(
                text.contains(word),
                "{command} --help lacks {word:?}:\n{text}"
            );
        }
    }
}

/// Completions and the man page come from the same definitions as --help.
#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = diagbot().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("diagbot") && text.contains("serve") && text.contains("formats"),
            "{shell}: {text}"
        );
    }
    let out = diagbot().arg("man").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(".TH diagbot 1") && text.contains("serve"),
        "{text}"
    );
    // Every page the main one names (diagbot-grep(1), …) is written by --dir.
    let dir = tempfile::tempdir().unwrap();
    let out = diagbot()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for named in text.split("diagbot\\-").skip(1) {
        // Only references to a page: `diagbot\-grep(1)`.
        let Some((name, _)) = named.split_once("(1)") else {
            continue;
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '\\' || c == '-')
        {
            continue;
        }
        let sub = name.replace("\\-", "-");
        let page = dir.path().join(format!("diagbot-{sub}.1"));
        let roff = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{} (named in diagbot.1): {e}", page.display()));
        assert!(roff.contains(&format!(".TH diagbot-{sub} 1")), "{roff}");
    }
    let grep = std::fs::read_to_string(dir.path().join("diagbot-grep.1")).unwrap();
    assert!(
        grep.contains("max\\-lines"),
        "the grep page has its options: {grep}"
    );
}

/// The configured `logs.max_decompressed` bounds a `.gz` read by hand too:
/// past it the file is listed as cut, and what was read is counted.
#[test]
fn grep_keeps_the_configured_bound_on_gzip_files() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let line = "2026-01-27 10:00:00,000 ERROR worker failed\n";
    let mut gz = flate2::write::GzEncoder::new(
        fs::File::create(dir.path().join("big.log.1.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    for _ in 0..(3 << 20) / line.len() {
        gz.write_all(line.as_bytes()).unwrap();
    }
    gz.finish().unwrap();
    let config = dir.path().join("diagbot.toml");
    fs::write(&config, "[logs]\nmax_decompressed = \"1MiB\"\n").unwrap();
    let out = diagbot()
        .args(["grep", "failed", "--json", "--config"])
        .arg(&config)
        .arg("--path")
        .arg(dir.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cut"].as_array().map(Vec::len), Some(1), "{v}");
    let matches = v["matches"].as_u64().unwrap();
    let all = ((3 << 20) / line.len()) as u64;
    assert!(matches > 0 && matches < all / 2, "{matches} of {all}");
}

/// `formats test` opens its file as a search does: a FIFO is refused at
/// once (it used to wait for a writer) and a symlink is not followed.
#[test]
fn formats_test_refuses_a_fifo_and_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    diagbot()
        .args(["formats", "test"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("FIFO"));
    let secret = dir.path().join("secret");
    fs::write(&secret, "2026-01-27 10:00:00 root:s3cr3tMARK\n").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    diagbot()
        .args(["formats", "test"])
        .arg(&link)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("s3cr3tMARK").not())
        .stderr(predicate::str::contains("symbolic link"));
}
