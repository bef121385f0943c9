//! The journal from the front ends: `--unit` and `--journal` on the command
//! line, `unit=` and `journal=true` on the API, and a service's unit read by
//! default; on real journal files written by `systemd-journal-remote`
//! (CI installs it; elsewhere these tests skip without it).

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use diagbot_core::journal::export::export_entry;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::{config_text, eventually, TestDaemon};

fn journal_remote() -> Option<PathBuf> {
    let path = PathBuf::from("/lib/systemd/systemd-journal-remote");
    let found = path.exists()
        && std::process::Command::new("journalctl")
            .arg("--version")
            .output()
            .is_ok();
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if !found {
        assert!(
            !in_ci,
            "systemd-journal-remote or journalctl is missing in CI"
        );
        eprintln!("skipped: systemd-journal-remote or journalctl not found");
        return None;
    }
    Some(path)
}

/// 2026-01-27T10:00:00Z in µs, the day of testdata/app.log.
const T0: i64 = 1_769_508_000_000_000;

fn entry(seconds: i64, unit: &str, priority: u8, message: &str) -> Vec<u8> {
    let time = (T0 + seconds * 1_000_000).to_string();
    let monotonic = (seconds * 1_000_000 + 1).to_string();
    let unit = format!("{unit}.service");
    let priority = priority.to_string();
    export_entry(&[
        ("__REALTIME_TIMESTAMP", time.as_bytes()),
        ("__MONOTONIC_TIMESTAMP", monotonic.as_bytes()),
        ("_BOOT_ID", b"0123456789abcdef0123456789abcdef"),
        ("_SYSTEMD_UNIT", unit.as_bytes()),
        ("PRIORITY", priority.as_bytes()),
        ("MESSAGE", message.as_bytes()),
    ])
}

/// A bot that failed 3 times (one a traceback) and a web server that logs
/// requests and one timeout, in `dir/journal`; logs in `dir/logs`.
fn fixture(remote: &Path) -> (tempfile::TempDir, PathBuf) {
    let (dir, journal, logs) = journal_and_logs();
    std::fs::write(
        logs.join("app.log"),
        "2026-01-27 09:00:00 ERROR file failure\n2026-01-27 09:00:01 INFO fine\n",
    )
    .unwrap();
    let mut entries = Vec::new();
    for i in 0..3 {
        entries.push(entry(i * 10, "bot", 6, &format!("refresh {i} done")));
        entries.push(entry(i * 10 + 1, "web", 6, &format!("GET /{i} 200")));
    }
    entries.push(entry(40, "bot", 3, "payment failed: timeout after 30s"));
    entries.push(entry(
        41,
        "bot",
        3,
        "Traceback (most recent call last):\n  File \"bot.py\", line 3\nConnectionError: exchange timeout",
    ));
    entries.push(entry(42, "bot", 2, "giving up"));
    entries.push(entry(43, "web", 4, "upstream timeout"));
    write_journal(remote, &journal, &entries);
    let config = dir.path().join("diagbot.toml");
    let extra = format!(
        "[journal]\ndirectory = {:?}\n[[services]]\nname = \"bot\"\nunit = \"bot\"\n",
        journal.display().to_string()
    );
    std::fs::write(&config, config_text(&logs, &extra)).unwrap();
    (dir, config)
}

/// `diagbot ARGS --config CONFIG`.
fn diagbot(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("diagbot").unwrap();
    cmd.args(args).arg("--config").arg(config);
    cmd
}

fn json(config: &Path, args: &[&str]) -> Value {
    let out = diagbot(config, args).arg("--json").output().unwrap();
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn errors_read_the_services_unit_beside_the_files_by_default() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (_dir, config) = fixture(&remote);
    diagbot(&config, &["errors"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "4 errors in 1 of 1 files and the journal (6 entries)",
        ))
        .stdout(predicate::str::is_match(r"\d\d:00:42\s+bot\.service\s+giving up").unwrap())
        // The traceback is one record, its exception line in it.
        .stdout(predicate::str::contains(
            "ConnectionError: exchange timeout",
        ));
    // The web unit is no service: not read unless asked.
    let answer = json(&config, &["errors"]);
    assert_eq!(answer["matches"], 4);
    assert_eq!(
        answer["files"][1]["path"],
        "journal ".to_string() + &journal_dir(&config)
    );
    assert_eq!(answer["files"][1]["source"], "journal");
    assert_eq!(answer["files"][1]["entries"], 6);
    assert!(answer["files"][0].get("source").is_none());
}

fn journal_dir(config: &Path) -> String {
    config
        .parent()
        .unwrap()
        .join("journal")
        .display()
        .to_string()
}

#[test]
fn unit_and_journal_name_what_is_read_and_lines_say_their_source() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (_dir, config) = fixture(&remote);
    let answer = json(&config, &["grep", "timeout", "--unit", "web"]);
    assert_eq!(answer["matches"], 1);
    let line = &answer["lines"][0];
    assert_eq!(line["source"], "journal");
    assert_eq!(line["unit"], "web.service");
    assert!(line["cursor"].as_str().unwrap().starts_with("s="));
    assert!(line.get("path").is_none() && line.get("line_number").is_none());
    let answer = json(
        &config,
        &["grep", "timeout", "--unit", "web", "--unit", "bot.service"],
    );
    assert_eq!(answer["matches"], 3);
    diagbot(&config, &["grep", "timeout", "--journal", "--count"])
        .assert()
        .code(0)
        .stdout("3\n");
    diagbot(&config, &["grep", "absent", "--unit", "bot"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 matching lines in the journal"));
    // Files only, when only a path is named.
    let logs = config.parent().unwrap().join("logs");
    let answer = json(&config, &["errors", "--path", logs.to_str().unwrap()]);
    assert_eq!(answer["matches"], 1);
    assert_eq!(answer["lines"][0]["source"], "file");
}

#[test]
fn a_unit_name_that_is_none_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("diagbot.toml");
    std::fs::write(&config, config_text(dir.path(), "")).unwrap();
    diagbot(&config, &["grep", "x", "--unit", "bot _UID=0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "\"bot _UID=0\" is not a systemd unit name",
        ));
}

#[test]
fn without_journalctl_the_files_are_answered_and_the_journal_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log"), "2026-01-27 09:00:00 ERROR down\n").unwrap();
    let config = dir.path().join("diagbot.toml");
    let extra = "[system]\njournalctl = \"/nonexistent/journalctl\"\n\
                 [[services]]\nname = \"bot\"\nunit = \"bot\"\n";
    std::fs::write(&config, config_text(&logs, extra)).unwrap();
    let out = diagbot(&config, &["errors"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 error in 1 of 1 files"), "{text}");
    assert_eq!(text.matches("journal: not available").count(), 1, "{text}");
    assert!(!text.contains("skipped or incomplete"), "{text}");
}

#[test]
fn the_api_takes_units_and_the_whole_journal_and_refuses_a_bad_unit() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (_dir, config) = fixture(&remote);
    let daemon = TestDaemon::start(&config);
    let answer = daemon.json("/api/v1/grep?pattern=timeout&unit=web&unit=bot");
    assert_eq!(answer["matches"], 3);
    let answer = daemon.json("/api/v1/grep?pattern=GET&journal=true");
    assert_eq!(answer["matches"], 3);
    // A literal no entry holds: zero matches, not a failed journal.
    let (status, body) = daemon.get("/api/v1/grep?pattern=absent&unit=bot");
    assert_eq!(status, 200, "{body}");
    // By default: the configured paths and the services' units.
    let answer = daemon.json("/api/v1/errors");
    assert_eq!(answer["matches"], 4);
    let (status, body) = daemon.get("/api/v1/grep?pattern=x&unit=bot%20_UID%3D0");
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["parameter"], "unit");
    daemon.stop();
}

#[test]
fn groups_of_a_unit_are_made_of_its_entries_and_a_traceback_of_its_exception() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (_dir, config) = fixture(&remote);
    let answer = json(&config, &["groups", "--unit", "bot", "--level", "error"]);
    let templates: Vec<&str> = answer["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["template"].as_str().unwrap())
        .collect();
    assert_eq!(templates.len(), 3, "{templates:?}");
    assert!(
        templates.contains(&"ConnectionError: exchange timeout"),
        "{templates:?}"
    );
    assert!(templates.iter().all(|t| !t.starts_with("Traceback")));
    assert_eq!(answer["lines_considered"], 3);
    // By default: the files and the service's unit.
    let answer = json(&config, &["groups", "--level", "error"]);
    assert_eq!(answer["lines_considered"], 4);
}

/// Appends entries of `bot.service` stamped now to the journal file in `dir`.
fn append_now(remote: &Path, dir: &Path, entries: &[(u8, &str)]) {
    let now = chrono::Utc::now().timestamp_micros();
    let exported: Vec<Vec<u8>> = entries
        .iter()
        .enumerate()
        .map(|(i, (priority, message))| {
            let time = (now + i as i64).to_string();
            let priority = priority.to_string();
            export_entry(&[
                ("__REALTIME_TIMESTAMP", time.as_bytes()),
                ("__MONOTONIC_TIMESTAMP", time.as_bytes()),
                ("_BOOT_ID", b"0123456789abcdef0123456789abcdef"),
                ("_SYSTEMD_UNIT", b"bot.service"),
                ("PRIORITY", priority.as_bytes()),
                ("MESSAGE", message.as_bytes()),
            ])
        })
        .collect();
    write_journal(remote, dir, &exported);
}

/// Appends `entries` (export format) to the journal file `dir/t.journal`.
fn write_journal(remote: &Path, dir: &Path, entries: &[Vec<u8>]) {
    let mut child = std::process::Command::new(remote)
        .arg(format!("--output={}", dir.join("t.journal").display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for e in entries {
            stdin.write_all(e).unwrap();
        }
    }
    assert!(child.wait().unwrap().success());
}

fn watch_ticks(d: &TestDaemon) -> u64 {
    let watches = d.state.error_watches.lock().unwrap();
    watches.get("bot").map_or(0, |w| w.ticks())
}

fn wait_watch_ticks(d: &TestDaemon, from: u64, n: u64) -> u64 {
    eventually(
        &format!("{n} ticks of the watch after tick {from}"),
        std::time::Duration::from_secs(30),
        || {
            let t = watch_ticks(d);
            if t >= from + n {
                Ok(t)
            } else {
                Err(t)
            }
        },
    )
}

fn new_groups(
    rx: &mut tokio::sync::broadcast::Receiver<diagbot_core::health::Event>,
) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let diagbot_core::health::Event::ErrorGroup { template, .. } = &e {
            out.push(template.clone());
        }
    }
    out
}

/// A temp dir with an empty `journal` and an empty `logs` folder.
fn journal_and_logs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&journal).unwrap();
    std::fs::create_dir_all(&logs).unwrap();
    (dir, journal, logs)
}

#[test]
fn a_units_new_error_alerts_once_and_a_restart_neither_reads_again_nor_alerts_again() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (dir, journal, logs) = journal_and_logs();
    append_now(
        &remote,
        &journal,
        &[(6, "started"), (3, "database is locked")],
    );
    let extra = format!(
        "[journal]\ndirectory = {:?}\n[health]\nsample_interval = \"100ms\"\nerror_burst_lines = 0\n\
         [[services]]\nname = \"bot\"\nunit = \"bot\"\n",
        journal.display().to_string()
    );
    let config = dir.path().join("diagbot.toml");
    std::fs::write(&config, config_text(&logs, &extra)).unwrap();

    let d = TestDaemon::start(&config);
    let mut rx = d.state.events.subscribe();
    // The baseline: the error already in the journal is known.
    let t = wait_watch_ticks(&d, 0, 1);
    append_now(
        &remote,
        &journal,
        &[
            (3, "database is locked"),
            (3, "Order 17 rejected: insufficient balance"),
            (3, "Order 18 rejected: insufficient balance"),
            (6, "Order 19 filled"),
        ],
    );
    let t = wait_watch_ticks(&d, t, 3);
    assert_eq!(
        new_groups(&mut rx),
        ["Order <num> rejected: insufficient balance"]
    );
    append_now(
        &remote,
        &journal,
        &[(3, "Order 20 rejected: insufficient balance")],
    );
    wait_watch_ticks(&d, t, 3);
    assert!(new_groups(&mut rx).is_empty());
    d.stop();

    // Restarted: it goes on from its cursor (the entries before are not
    // read again: one known group is all the baseline tick sees), nothing
    // known alerts, and a new kind still does.
    let d = TestDaemon::start(&config);
    let mut rx = d.state.events.subscribe();
    let t = wait_watch_ticks(&d, 0, 1);
    let baseline_heap = d.state.error_watches.lock().unwrap()["bot"].groups_heap_size();
    assert_eq!(
        baseline_heap, 0,
        "the baseline tick read entries read before the restart"
    );
    append_now(
        &remote,
        &journal,
        &[
            (3, "Order 21 rejected: insufficient balance"),
            (2, "disk full on /data"),
        ],
    );
    wait_watch_ticks(&d, t, 3);
    assert_eq!(new_groups(&mut rx), ["disk full on <path>"]);
    d.stop();
}

/// Error entries in a service's unit journal make an error burst, as lines
/// in its log files do.
#[test]
fn a_units_error_entries_make_a_burst() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (dir, journal, logs) = journal_and_logs();
    append_now(&remote, &journal, &[(6, "started")]);
    let extra = format!(
        "[journal]\ndirectory = {:?}\n[health]\nsample_interval = \"100ms\"\n\
         error_burst_lines = 2\nerror_burst_window = \"5m\"\n[groups]\nalerts = false\n\
         [[services]]\nname = \"bot\"\nunit = \"bot\"\n",
        journal.display().to_string()
    );
    let config = dir.path().join("diagbot.toml");
    std::fs::write(&config, config_text(&logs, &extra)).unwrap();
    let d = TestDaemon::start(&config);
    let mut rx = d.state.events.subscribe();
    // The first sample takes what is there as its start (its counter appears) ...
    let info = "diagbot_log_lines_total{service=\"bot\",level=\"info\"} ";
    eventually(
        "a sample to read the unit",
        std::time::Duration::from_secs(30),
        || d.get("/metrics").1.contains(info),
    );
    // ... and a later one the burst.
    append_now(
        &remote,
        &journal,
        &[
            (3, "payment failed"),
            (3, "payment failed"),
            (2, "giving up"),
        ],
    );
    let burst = eventually("a burst", std::time::Duration::from_secs(30), || loop {
        match rx.try_recv() {
            Ok(diagbot_core::health::Event::ErrorBurst {
                service,
                lines,
                last_line,
                ..
            }) => return Some((service, lines, last_line)),
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => return None,
            Err(e) => panic!("{e}"),
        }
    });
    assert_eq!(burst.0, "bot");
    assert_eq!(burst.1, 3);
    assert_eq!(burst.2.as_deref(), Some("giving up"));
    d.stop();
}

/// Telegram's `/errors`, `/grep` and `/top` take a service's name and read
/// its files and its unit's journal; a name that is no service is said.
#[test]
fn telegram_commands_read_a_services_files_and_unit_journal() {
    use crate::telegram::{serve_fake, telegram_config, Fake, OPERATOR};
    let Some(remote) = journal_remote() else {
        return;
    };
    let (dir, config) = fixture(&remote);
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&telegram_config(api, "commands_per_second = 1000\n"));
    std::fs::write(&config, text).unwrap();
    let d = TestDaemon::start(&config);
    fake.say(OPERATOR, "/errors bot");
    let errors = fake.wait_sent(1)[0].text.clone();
    // The bot's three error entries; its service has no log files.
    assert!(errors.starts_with("<b>errors</b>: 3 errors"), "{errors}");
    assert!(errors.contains("bot.service giving up"), "{errors}");
    fake.say(OPERATOR, "/grep timeout bot");
    let grep = fake.wait_sent(2)[1].text.clone();
    assert!(grep.contains(": 2 matching lines"), "{grep}");
    fake.say(OPERATOR, "/top bot");
    let top = fake.wait_sent(3)[2].text.clone();
    assert!(top.contains("ConnectionError: exchange timeout"), "{top}");
    fake.say(OPERATOR, "/errors nosuch");
    let refused = fake.wait_sent(4)[3].text.clone();
    assert!(
        refused.contains("no service is named <b>nosuch</b>"),
        "{refused}"
    );
    d.stop();
    drop(dir);
}

/// A service that logs only to the journal: its configured numbers are read
/// from its unit's entries, a gauge that follows each new value, and an
/// alert once past `warn_above` (they were read from log files only).
#[test]
fn a_units_configured_number_is_a_gauge_and_an_alert_past_its_threshold() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let (dir, journal, logs) = journal_and_logs();
    append_now(&remote, &journal, &[(6, "Cache size: 5 entries")]);
    let extra = format!(
        "[journal]\ndirectory = {:?}\n[health]\nsample_interval = \"100ms\"\n\
         [[services]]\nname = \"bot\"\nunit = \"bot\"\n\
         numbers = [{{ template = \"Cache size: <num> entries\", warn_above = 20 }}]\n",
        journal.display().to_string()
    );
    let config = dir.path().join("diagbot.toml");
    std::fs::write(&config, config_text(&logs, &extra)).unwrap();
    let d = TestDaemon::start(&config);
    let mut rx = d.state.events.subscribe();
    let gauge = "diagbot_log_number{service=\"bot\",name=\"cache_size_entries\"}";
    let wait_for = |value: f64| d.wait_for_metric(gauge, value);
    wait_for(5.0);
    append_now(&remote, &journal, &[(6, "Cache size: 42 entries")]);
    wait_for(42.0);
    let alert = eventually(
        "the alert past warn_above",
        std::time::Duration::from_secs(20),
        || loop {
            match rx.try_recv() {
                Ok(diagbot_core::health::Event::LogNumberAbove { value, .. }) => {
                    return Some(value)
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        },
    );
    assert_eq!(alert, 42.0);
    d.stop();
}
