//! The history store as users meet it: a restarted daemon keeps its trend,
//! a SIGKILL loses nothing committed, `diagbot history --json` answers as
//! `/api/v1/history` does, a read-only directory runs without history.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{eventually, get_with, setup, TestDaemon, Text};

/// A python3 process that grows by 1 MiB every 100 ms for 30 s, then sleeps.
/// (The store keeps a sample per second: the daemon samples every second here.)
struct Leaky(std::process::Child);

impl Drop for Leaky {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn leaking(marker: &str) -> Leaky {
    let child = std::process::Command::new("python3")
        .args([
            "-c",
            "import time\nb = []\nfor _ in range(300):\n    b.append(b'x' * (1 << 20))\n    time.sleep(0.1)\ntime.sleep(120)\n",
            marker,
        ])
        .spawn()
        .unwrap();
    Leaky(child)
}

fn leak_config(marker: &str) -> String {
    format!(
        "[system]\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"1s\"\ntrend_window = \"60s\"\ntrend_min_span = \"3s\"\noom_horizon = \"1000d\"\n\
         [[services]]\nname = \"leaky\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\n"
    )
}

fn iso(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The trend seen before a restart is there at the first status after it,
/// and the history file answers the CLI as the API does.
#[test]
fn a_restarted_daemon_shows_the_trend_of_before() {
    let marker = format!("diagbot-history-leak-{}", std::process::id());
    let _leak = leaking(&marker);
    let (dir, _logs, config_file) = setup(&leak_config(&marker));
    let first = TestDaemon::start(&config_file);
    let samples_before = eventually("a climb over 8 samples", Duration::from_secs(40), || {
        let v = first.json("/api/v1/status");
        let trend = &v["services"][0]["memory_trend"];
        // Samples are kept by whole seconds: two a second apart can share
        // one under load, so more than the 5 the trend needs are taken.
        let samples = trend["samples"].as_u64().unwrap_or(0);
        if trend["trend"]["verdict"] == "climbing" && samples >= 8 {
            Ok(samples)
        } else {
            Err(Text(format!("{v:#}")))
        }
    });
    first.stop();

    let second = TestDaemon::start(&config_file);
    // At once: the samples of before, not a trend built anew from one sample.
    let v = second.json("/api/v1/status");
    let trend = &v["services"][0]["memory_trend"];
    assert_eq!(trend["trend"]["verdict"], "climbing", "{v:#}");
    // The instance's time is a time, as every other time in the answers
    // (and the old key, deprecated, still says it in seconds).
    let instance = &trend["instance"];
    let since = chrono::DateTime::parse_from_rfc3339(instance["since"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {instance:#}"));
    assert_eq!(
        since.timestamp(),
        instance["since_secs"].as_f64().unwrap().floor() as i64
    );
    assert!((chrono::Utc::now().timestamp() - since.timestamp()).abs() < 3600);
    assert!(
        trend["samples"].as_u64().unwrap() >= samples_before.min(5),
        "{trend:#}"
    );
    assert!(
        v["diagbot"]["history"]
            .as_str()
            .unwrap()
            .starts_with("on: "),
        "{v:#}"
    );

    // The API and `diagbot history --json` on the file give the same answer.
    let now = chrono::Utc::now().timestamp();
    let (since, until) = (iso(now - 600), iso(now + 60));
    let api = second.json(&format!(
        "/api/v1/history?series=service.leaky.rss,host.memory_used&since={since}&until={until}&step=1"
    ));
    let rss = &api["series"][0];
    assert_eq!(rss["name"], "service.leaky.rss");
    assert_eq!(rss["unit"], "bytes");
    let points = rss["points"].as_array().unwrap();
    assert!(points.len() >= 3, "{api:#}");
    let means: Vec<f64> = points.iter().map(|p| p[3].as_f64().unwrap()).collect();
    assert!(
        means.last().unwrap() > means.first().unwrap(),
        "not climbing: {means:?}"
    );
    // Without a step, `--json --remote` asks what the API chooses: the same
    // step and points (a sample taken between the two asks may add one).
    let api_default = second.json(&format!(
        "/api/v1/history?series=service.leaky.rss&since={since}&until={until}"
    ));
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["history", "--service", "leaky", "--json", "--remote"])
        .arg(second.url(""))
        .args(["--since", &since, "--until", &until])
        .output()
        .unwrap();
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (a, c) = (&api_default["series"][0], &remote["series"][0]);
    assert_eq!(c["step_seconds"], a["step_seconds"], "{a:#}\n{c:#}");
    let (a, c) = (
        a["points"].as_array().unwrap(),
        c["points"].as_array().unwrap(),
    );
    assert!(c.len() >= a.len() && c.len() <= a.len() + 1, "{a:?}\n{c:?}");
    second.stop();

    // The table says which file it read, and which configuration named it.
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["history", "--service", "leaky", "--config"])
        .arg(&config_file)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let first_line = table.lines().next().unwrap_or_default();
    // Rows less than a minute apart show their seconds.
    let fine = Command::cargo_bin("diagbot")
        .unwrap()
        .args([
            "history",
            "--service",
            "leaky",
            "--since",
            "1h",
            "--step",
            "10s",
            "--config",
        ])
        .arg(&config_file)
        .output()
        .unwrap();
    let fine = String::from_utf8_lossy(&fine.stdout);
    let seconds = predicates::str::is_match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").unwrap();
    assert!(predicates::Predicate::eval(&seconds, &*fine), "{fine}");
    assert!(
        first_line.contains("diagbot.db") && first_line.contains(&*config_file.to_string_lossy()),
        "{table}"
    );
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["history", "--config"])
        .arg(&config_file)
        .args([
            "--metric",
            "rss",
            "--service",
            "leaky",
            "--json",
            "--step",
            "1",
        ])
        .args(["--since", &since, "--until", &until])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The CLI reads after the daemon stopped: what the API answered, and
    // perhaps the samples written between the two (always at the end).
    let prefix = |api: &Value, cli: &Value| {
        let (a, c) = (api.as_array().unwrap(), cli.as_array().unwrap());
        assert!(
            c.len() >= a.len() && c.len() <= a.len() + 5,
            "{api:#}\n{cli:#}"
        );
        assert_eq!(&c[..a.len()], &a[..]);
    };
    let (a, c) = (&api["series"][0], &cli["series"][0]);
    assert_eq!(
        (&c["name"], &c["unit"], &c["step_seconds"]),
        (&a["name"], &a["unit"], &a["step_seconds"])
    );
    prefix(&a["points"], &c["points"]);
    // `--service` keeps that service's events only.
    let leaky_events: Vec<Value> = api["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "leaky")
        .cloned()
        .collect();
    prefix(&Value::Array(leaky_events), &cli["events"]);
    assert!(
        cli["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["service"] == "leaky"),
        "{cli:#}"
    );
    // A service the configuration does not name is an error, not an empty table.
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["history", "--service", "nosuch", "--config"])
        .arg(&config_file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no service \"nosuch\"") && err.contains("leaky"),
        "{err}"
    );
    drop(dir);
}

/// `(time, series)` of every raw sample in the file, read read-only.
fn raw_rows(db: &Path) -> BTreeSet<(i64, String)> {
    try_raw_rows(db).unwrap()
}

/// As [`raw_rows`]; an error while the file has no tables yet.
fn try_raw_rows(db: &Path) -> rusqlite::Result<BTreeSet<(i64, String)>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("SELECT r.t, s.name FROM raw r JOIN series s ON s.id = r.series")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn serve(config: &Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["serve", "--config"])
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = listening_url(&mut child);
    (child, url)
}

/// The URL a `diagbot serve` child prints first; the rest of its output is
/// read on (a closed pipe would stop it).
fn listening_url(child: &mut std::process::Child) -> String {
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    first
        .trim()
        .strip_prefix("diagbot listening on ")
        .unwrap_or_default()
        .to_string()
}

/// A SIGKILL while samples are being written keeps every tick committed
/// before it, and the file opens again as it was.
#[test]
fn a_sigkill_mid_write_keeps_every_committed_tick() {
    let (dir, _logs, config_file) =
        setup("[http]\nlisten = \"127.0.0.1:0\"\n[health]\nsample_interval = \"100ms\"\n");
    let db = dir.path().join("history/diagbot.db");
    let (mut child, _url) = serve(&config_file);
    let seen = eventually("4 ticks written", Duration::from_secs(30), || {
        // The file exists a moment before its tables do.
        let rows = db
            .exists()
            .then(|| try_raw_rows(&db))
            .and_then(Result::ok)?;
        let ticks: BTreeSet<i64> = rows.iter().map(|(t, _)| *t).collect();
        (ticks.len() >= 4).then_some(rows)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let after = raw_rows(&db);
    let lost: Vec<_> = seen.difference(&after).collect();
    assert!(lost.is_empty(), "lost after SIGKILL: {lost:?}");
    // And a daemon starts on it again, with history on.
    let (mut again, url) = serve(&config_file);
    let (status, body) = get_with(&format!("{url}/healthz"), None);
    let _ = again.kill();
    let _ = again.wait();
    assert_eq!(status, 200);
    assert!(body.contains("\"history\":\"on: "), "{body}");
}

/// A data directory diagbot cannot write: it runs without history and says
/// so in /healthz, status and /api/v1/history (503 with the reason).
#[test]
fn a_read_only_directory_runs_without_history_and_says_so() {
    let (dir, _logs, config_file) = setup("[http]\nlisten = \"127.0.0.1:0\"\n");
    let data = dir.path().join("history");
    std::fs::create_dir(&data).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&config_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Root writes anywhere: the daemon runs as nobody, as a service user would.
    let root = rustix::process::getuid().is_root();
    let mut command = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("diagbot"));
        c
    } else {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
    };
    let mut child = command
        .args(["serve", "--config"])
        .arg(&config_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = listening_url(&mut child);
    let health = get_with(&format!("{url}/healthz"), None);
    let status = get_with(&format!("{url}/api/v1/status"), None);
    let history = get_with(&format!("{url}/api/v1/history"), None);
    let cli = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["status", "--remote", &url])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(health.1.contains("off: the directory"), "{}", health.1);
    assert!(health.1.contains("cannot be written"), "{}", health.1);
    let status: Value = serde_json::from_str(&status.1).unwrap();
    assert!(
        status["diagbot"]["history"]
            .as_str()
            .unwrap()
            .starts_with("off: "),
        "{status:#}"
    );
    let text = String::from_utf8_lossy(&cli.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("history") && l.contains("off: the directory")),
        "{text}"
    );
    assert_eq!(history.0, 503, "{}", history.1);
    assert!(history.1.contains("history is off"), "{}", history.1);
    assert!(!data.join("diagbot.db").exists());
}

/// Bad parameters get 400 naming the parameter.
#[test]
fn bad_history_parameters_get_400_naming_them() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    for (query, parameter) in [
        ("series=nope", "series"),
        ("since=yesterday-ish", "since"),
        ("since=1h&step=1", "step"),
        ("step=0", "step"),
        ("since=1h&until=2h", "since"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = d.get(&format!("/api/v1/history?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["parameter"], parameter, "{query}: {body}");
    }
    // A name asked many times is answered once (1,480 copies were a 53 MB
    // answer), and more names than one question takes are refused.
    let (status, body) = d.get(&format!(
        "/api/v1/history?series={}",
        vec!["host.load1"; 1000].join(",")
    ));
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["series"].as_array().unwrap().len(), 1, "{body}");
    let many: Vec<String> = (0..300).map(|i| format!("service.s{i}.rss")).collect();
    let (status, body) = d.get(&format!("/api/v1/history?series={}", many.join(",")));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 256 series"), "{body}");
}
