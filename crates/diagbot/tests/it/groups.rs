//! `diagbot groups`, run as a user would run it, on logs written to temp dirs.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use super::common::APP_LOG;

fn diagbot() -> Command {
    Command::cargo_bin("diagbot").unwrap()
}

fn groups_json(path: &Path, extra: &[&str]) -> Value {
    let out = diagbot()
        .arg("groups")
        .arg("--path")
        .arg(path)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A service's log: the same few errors with changing numbers, a traceback.
fn service_log(dir: &Path) -> std::path::PathBuf {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "2026-01-27 10:{:02}:00,000 - bot.trader - ERROR - order {} rejected: insufficient balance\n",
            i, 1000 + i * 7
        ));
        if i % 3 == 0 {
            text.push_str(&format!(
                "2026-01-27 10:{i:02}:01,000 - worker - WARNING - retrying request {} after timeout\n",
                500 + i
            ));
        }
        text.push_str(&format!(
            "2026-01-27 10:{i:02}:02,000 - worker - INFO - heartbeat ok, queue depth {i}\n"
        ));
    }
    text.push_str(
        "2026-01-27 11:00:00,000 - worker - ERROR - request 77 failed: Timeout after 3000 ms\n",
    );
    text.push_str("Traceback (most recent call last):\n  File \"/opt/bot/worker.py\", line 12, in run\n    result = call(payload)\nConnectionError: connection reset by peer\n");
    let path = dir.join("bot.log");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn groups_by_template_most_frequent_first_with_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let v = groups_json(&log, &[]);
    let groups = v["groups"].as_array().unwrap();
    let templates: Vec<&str> = groups
        .iter()
        .map(|g| g["template"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "order <num> rejected: insufficient balance",
            "retrying request <num> after timeout",
            "request <num> failed: Timeout after <num> ms",
        ]
    );
    let first = &groups[0];
    assert_eq!(first["count"], 30);
    assert_eq!(first["level"], "error");
    assert!(first["first_seen"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-27T10:00:00"));
    assert!(first["last_seen"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-27T10:29:00"));
    assert_eq!(first["files"][0], log.display().to_string());
    // The newest line is the example.
    assert!(first["example"]
        .as_str()
        .unwrap()
        .ends_with("order 1203 rejected: insufficient balance"));
    let share = first["share"].as_f64().unwrap();
    assert!((share - 30.0 / 41.0).abs() < 1e-9, "{share}");
    // Info lines are below the default level; the traceback is one event of 5 lines.
    assert_eq!(v["lines_considered"], 30 + 10 + 5);
    assert_eq!(groups[2]["count"], 1);
    for key in ["skipped", "warnings"] {
        assert!(v[key].as_array().unwrap().is_empty(), "{key}");
    }
    assert!(v["other"].is_null());
}

#[test]
fn ids_are_the_same_in_every_run_and_for_the_same_template_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let ids = |v: &Value| -> Vec<String> {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect()
    };
    let a = ids(&groups_json(&log, &[]));
    let b = ids(&groups_json(&log, &[]));
    assert_eq!(a, b);
    // Another file with other numbers, in another order: the same template, the same id.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(
        other.join("x.log"),
        "2026-02-01 08:00:00,000 - api - ERROR - order 5 rejected: insufficient balance\n\
         2026-02-01 08:00:01,000 - api - ERROR - order 99999 rejected: insufficient balance\n",
    )
    .unwrap();
    let c = ids(&groups_json(&other, &[]));
    assert_eq!(c, [a[0].clone()]);
}

#[test]
fn assign_prints_each_line_grouped_in_file_order_a_traceback_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    fs::write(&log, APP_LOG).unwrap();
    let out = diagbot()
        .args(["groups", "--level", "any", "--assign", "--path"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<(&str, &str)> = text.lines().map(|l| l.split_once('\t').unwrap()).collect();
    let p = log.display().to_string();
    let places: Vec<String> = (1..=8).map(|n| format!("{p}:{n}")).collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), places);
    // Line 3 opens a traceback (lines 4-6): one group, and not the group of any other line.
    assert!(rows[3..6].iter().all(|r| r.1 == rows[2].1));
    let others: Vec<&str> = [0, 1, 6, 7].iter().map(|&i| rows[i].1).collect();
    assert!(!others.contains(&rows[2].1));
    // Distinct messages, distinct groups.
    let mut ids: Vec<&str> = rows.iter().map(|r| r.1).collect();
    ids.dedup();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "{text}");
}

#[test]
fn past_max_the_least_recently_seen_groups_merge_into_other() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        "disk full on volume",
        "cannot reach upstream",
        "certificate expired for",
        "queue overflow in",
        "lock timeout on table",
        "permission denied reading",
    ];
    let mut text = String::new();
    for (i, w) in words.iter().enumerate() {
        for n in 0..=i {
            text.push_str(&format!("2026-01-27 10:0{i}:0{n},000 ERROR {w} {n}\n"));
        }
    }
    let log = dir.path().join("many.log");
    fs::write(&log, text).unwrap();
    let v = groups_json(&log, &["--max", "2"]);
    let groups = v["groups"].as_array().unwrap();
    let templates: Vec<&str> = groups
        .iter()
        .map(|g| g["template"].as_str().unwrap())
        .collect();
    // The two seen last are kept; the four before them are in "other", which counts them.
    assert_eq!(
        templates,
        [
            "permission denied reading <num>",
            "lock timeout on table <num>"
        ]
    );
    assert_eq!(v["other"]["groups"], 4);
    assert_eq!(v["other"]["count"], 1 + 2 + 3 + 4);
    let out = diagbot()
        .args(["groups", "--max", "2", "--path"])
        .arg(&log)
        .assert()
        .code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("other: 4 older groups merged, 10 lines"),
        "{text}"
    );
}

#[test]
fn exit_codes_are_greps() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("ok.log"),
        "2026-01-27 10:00:00,000 INFO all good\n",
    )
    .unwrap();
    diagbot()
        .args(["groups", "--path"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0 groups"));
    diagbot()
        .args(["groups", "--level", "info", "--path"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("all good"));
    diagbot()
        .args(["groups", "--path", "/nonexistent/diagbot/logs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/diagbot/logs"));
    diagbot()
        .args(["groups", "--level", "loud", "--path"])
        .arg(dir.path())
        .assert()
        .code(2);
    diagbot()
        .args(["groups", "--max", "0", "--path"])
        .arg(dir.path())
        .assert()
        .code(2);
}

#[test]
fn groups_max_in_the_configuration_bounds_groups_without_max() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (i, w) in ["disk full on", "cannot reach", "queue overflow in"]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("2026-01-27 10:0{i}:00,000 ERROR {w} {i}\n"));
    }
    let log = dir.path().join("three.log");
    fs::write(&log, text).unwrap();
    let config = dir.path().join("diagbot.toml");
    fs::write(&config, "[groups]\nmax = 2\n").unwrap();
    let v = groups_json(&log, &["--config", config.to_str().unwrap()]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["other"]["groups"], 1);
    assert_eq!(v["other"]["count"], 1);
    // --max wins over the configuration.
    let v = groups_json(&log, &["--config", config.to_str().unwrap(), "--max", "5"]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 3, "{v}");
    assert!(v["other"].is_null());
}

/// A warning followed by a traceback is a warning; a traceback below a line
/// without a level is an error of its own (a crash the service's stderr
/// wrote), known by its exception line, not by `Traceback (most recent call last):`.
#[test]
fn a_warning_with_a_traceback_stays_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    fs::write(
        &log,
        "2026-01-27 10:00:00,000 WARNING retrying payment 7\n\
         Traceback (most recent call last):\n  File \"pay.py\", line 3, in pay\nTimeoutError: 30 s\n\
         2026-01-27 10:00:05,000 print of a crash\n\
         Traceback (most recent call last):\n  File \"run.py\", line 9, in run\nKeyError: 'x'\n",
    )
    .unwrap();
    let v = groups_json(&log, &["--level", "any"]);
    let levels: Vec<(&str, &Value)> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["template"].as_str().unwrap(), &g["level"]))
        .collect();
    assert_eq!(v["lines_considered"], 8, "{v}");
    assert!(
        levels.contains(&("retrying payment <num>", &Value::from("warning"))),
        "{levels:?}"
    );
    assert!(
        levels.contains(&("print of a crash", &Value::Null)),
        "{levels:?}"
    );
    let crash = levels.iter().find(|(t, _)| t.starts_with("KeyError"));
    assert_eq!(
        crash.map(|c| c.1),
        Some(&Value::from("error")),
        "{levels:?}"
    );
    assert_eq!(levels.len(), 3, "{levels:?}");
}
