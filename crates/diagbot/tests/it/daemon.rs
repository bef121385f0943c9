//! The daemon in-process on 127.0.0.1:0 with temp logs and a temp config: the
//! API against the CLI, bad parameters, the token, metrics, one scan for many
//! identical requests, reload and shutdown.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::io::Write;
use std::time::{Duration, Instant};

use crate::common::{config_text, eventually, get_with, metric, setup, TestDaemon, Text, APP_LOG};
use assert_cmd::Command;
use diagbot::daemon::Control;
use serde_json::Value;

fn without_elapsed(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("elapsed");
    v
}

#[test]
fn the_api_answers_as_the_cli_does() {
    let (_dir, logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    for (api, cli) in [
        (
            "/api/v1/grep?pattern=ERROR|Error&max_lines=3",
            vec!["grep", "ERROR|Error", "--max-lines", "3"],
        ),
        ("/api/v1/errors", vec!["errors"]),
        (
            "/api/v1/grep?pattern=error&ignore_case=true&since=2026-01-27T10:04:00",
            vec!["grep", "-i", "error", "--since", "2026-01-27T10:04:00"],
        ),
        // `-100000d` is a time back on both (it was a 400 from the API).
        (
            "/api/v1/errors?since=-100000d",
            vec!["errors", "--since", "-100000d"],
        ),
    ] {
        let from_api = d.json(api);
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(&cli)
            .arg("--path")
            .arg(&logs)
            .arg("--json")
            .output()
            .unwrap();
        let from_cli: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            without_elapsed(from_api),
            without_elapsed(from_cli),
            "{api}"
        );
    }
    // --remote prints the daemon's answer the way a local run prints its own.
    let remote = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["grep", "ERROR", "--count", "--remote", &d.url("")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&remote.stdout), "3\n");
    assert_eq!(remote.status.code(), Some(0));
}

#[test]
fn the_groups_api_answers_as_the_cli_does() {
    let (_dir, logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    let url = d.url("");
    for (api, cli) in [
        ("/api/v1/groups", vec!["groups"]),
        (
            "/api/v1/groups?level=any&max=2&since=2026-01-27T10:04:00",
            vec![
                "groups",
                "--level",
                "any",
                "--max",
                "2",
                "--since",
                "2026-01-27T10:04:00",
            ],
        ),
    ] {
        let from_api = d.json(api);
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(&cli)
            .arg("--path")
            .arg(&logs)
            .arg("--json")
            .output()
            .unwrap();
        let from_cli: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!from_cli["groups"].as_array().unwrap().is_empty(), "{api}");
        // What only the daemon says (from its store and a second grouping)
        // aside, the answers are the same; the command line says null.
        let mut common = from_api.clone();
        for g in common["groups"].as_array_mut().unwrap() {
            g["new"] = Value::Null;
            g["previous_count"] = Value::Null;
        }
        assert_eq!(common, from_cli, "{api}");
        let previous = from_api["groups"][0]["previous_count"].clone();
        assert_eq!(
            previous.is_null(),
            !api.contains("since"),
            "{api}: {previous}"
        );
        // --remote prints the daemon's answer as a local run prints its own.
        let mut remote = cli.clone();
        remote.extend(["--json", "--remote", &url]);
        let out = Command::cargo_bin("diagbot")
            .unwrap()
            .args(&remote)
            .arg("--path")
            .arg(&logs)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let from_remote: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(from_remote, from_api, "{api} --remote");
    }
    // Asked again, the answer comes from the cache.
    let cached = get_headers(&d.url("/api/v1/groups"));
    assert_eq!(cached.as_deref(), Some("hit"));
    for (api, parameter) in [
        ("/api/v1/groups?level=loud", "level"),
        ("/api/v1/groups?max=0", "max"),
        ("/api/v1/groups?paths=/etc", "paths"),
        ("/api/v1/groups?max_lines=3", "max_lines"),
        ("/api/v1/groups?step=1h", "step"),
        ("/api/v1/groups?since=30d&step=60", "step"),
        ("/api/v1/groups?since=1d&step=soon", "step"),
        ("/api/v1/groups?since=1d&step=0", "step"),
    ] {
        let (code, body) = d.get(api);
        assert_eq!(code, 400, "{api}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["parameter"], parameter, "{api}");
    }
}

#[test]
fn with_a_step_each_group_says_its_lines_in_each_step_as_the_dashboard_draws_them() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    let answer = d.json(
        "/api/v1/groups?level=any&since=2026-01-27T10:00:00&until=2026-01-27T12:00:00&step=20m",
    );
    assert_eq!(answer["steps"]["seconds"], 1200, "{answer}");
    assert_eq!(answer["steps"]["len"], 6, "{answer}");
    let groups = answer["groups"].as_array().unwrap();
    assert!(!groups.is_empty(), "{answer}");
    for g in groups {
        let counts: Vec<u64> = serde_json::from_value(g["counts"].clone()).unwrap();
        assert_eq!(counts.len(), 6, "{g}");
        // Every line of the fixture has a time, so each is in one step.
        assert_eq!(
            counts.iter().sum::<u64>(),
            g["count"].as_u64().unwrap(),
            "{g}"
        );
    }
    assert!(groups[0]["previous_count"].is_u64(), "{answer}");
    // The dashboard asks without the previous range's counts.
    let without = d.json(
        "/api/v1/groups?level=any&since=2026-01-27T10:00:00&until=2026-01-27T12:00:00&step=20m&previous=false",
    );
    assert!(
        without["groups"][0]["previous_count"].is_null(),
        "{without}"
    );
    assert_eq!(without["groups"][0]["counts"], groups[0]["counts"]);
    let (code, body) = d.get("/api/v1/groups?since=1d&previous=maybe");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("\"parameter\":\"previous\""), "{body}");
    // Without a step the answer has no counts (as the command line's).
    let plain =
        d.json("/api/v1/groups?level=any&since=2026-01-27T10:00:00&until=2026-01-27T12:00:00");
    assert!(plain.get("steps").is_none(), "{plain}");
    assert!(plain["groups"][0].get("counts").is_none(), "{plain}");
}

/// The `x-diagbot-cache` header of a GET.
fn get_headers(url: &str) -> Option<String> {
    let response = ureq::get(url).call().unwrap();
    response
        .headers()
        .get("x-diagbot-cache")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[test]
fn bad_parameters_get_400_naming_the_parameter() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    for (path, parameter, words) in [
        ("/api/v1/grep", "pattern", "pattern is required"),
        ("/api/v1/grep?pattern=(", "pattern", "unclosed group"),
        (
            "/api/v1/grep?pattern=x&since=tuesday",
            "since",
            "invalid time \"tuesday\"",
        ),
        (
            "/api/v1/errors?max_lines=5000",
            "max_lines",
            "from 0 to 1000",
        ),
        ("/api/v1/errors?colour=red", "colour", "unknown parameter"),
        // Given twice, the last one silently won: a script's typo
        // (`since=1h&since=1d`) read as one of the two.
        (
            "/api/v1/grep?pattern=a&pattern=b",
            "pattern",
            "\"pattern\" is given more than once",
        ),
        (
            "/api/v1/errors?since=1h&max_lines=5&since=1d",
            "since",
            "only unit and series repeat",
        ),
        (
            "/api/v1/grep?pattern=x&ignore_case=maybe",
            "ignore_case",
            "true or false",
        ),
        // Outside, or not there at all: the same answer, so that a client
        // cannot tell which paths exist.
        (
            "/api/v1/grep?pattern=x&paths=/etc",
            "paths",
            "/etc is not a path within the configured log paths",
        ),
        (
            "/api/v1/grep?pattern=x&paths=/nonexistent",
            "paths",
            "/nonexistent is not a path within the configured log paths",
        ),
    ] {
        let (status, body) = d.get(path);
        assert_eq!(status, 400, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["parameter"], parameter, "{path}: {body}");
        assert!(
            v["error"].as_str().unwrap().contains(words),
            "{path}: {body}"
        );
    }
    // A wrong method and a target too long get the same JSON as every error.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.post(&d.url("/api/v1/errors")).send("").unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let body = response.body_mut().read_to_string().unwrap();
    assert!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("POST is not allowed here"),
        "{body}"
    );
    let long = format!("/api/v1/grep?pattern={}", "a".repeat(20_000));
    let (status, body) = d.get(&long);
    assert_eq!(status, 414, "{body}");
    assert!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("over the 16384 accepted"),
        "{body}"
    );
    let (status, body) = d.get("/api/v2/nothing");
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "no such route: /api/v2/nothing"
    );
}

#[test]
fn a_token_is_required_when_configured() {
    let (_dir, _logs, config_file) = setup("[http]\ntoken = \"t0ken\"\n");
    let d = TestDaemon::start(&config_file);
    assert_eq!(get_with(&d.url("/healthz"), None).0, 401);
    assert_eq!(get_with(&d.url("/api/v1/errors"), Some("wrong")).0, 401);
    assert_eq!(get_with(&d.url("/metrics"), Some("t0ke")).0, 401);
    assert_eq!(get_with(&d.url("/api/v1/errors"), Some("t0ken")).0, 200);
}

#[test]
fn metrics_parse_and_move_with_queries_and_refreshes() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    d.wait_for_first_refresh();
    // The host's figures come with the first health sample.
    eventually("the first health sample", Duration::from_secs(20), || {
        d.get("/metrics")
            .1
            .contains("diagbot_host_memory_available_bytes")
    });
    let before = d.get("/metrics").1;
    for name in [
        "diagbot_cache_entries",
        "diagbot_cache_bytes",
        "diagbot_cache_budget_bytes",
        "diagbot_cache_hits_total",
        "diagbot_cache_misses_total",
        "diagbot_cache_loads_total",
        "diagbot_cache_evictions_total{cause=\"expired\"}",
        "diagbot_scan_bytes_total",
        "diagbot_scan_seconds_count",
        "diagbot_refresh_runs_total",
        "diagbot_refresh_seconds_count",
        "process_resident_memory_bytes",
        "process_open_fds",
        "diagbot_host_memory_available_bytes",
    ] {
        assert!(
            before.lines().any(|l| l.starts_with(name)),
            "{name} missing"
        );
    }
    d.json("/api/v1/grep?pattern=crashed");
    d.json("/api/v1/grep?pattern=crashed");
    let after = d.get("/metrics").1;
    assert_eq!(
        metric(&after, "diagbot_cache_loads_total"),
        metric(&before, "diagbot_cache_loads_total") + 1.0
    );
    assert_eq!(
        metric(&after, "diagbot_cache_hits_total"),
        metric(&before, "diagbot_cache_hits_total") + 1.0
    );
    assert!(
        metric(&after, "diagbot_scan_bytes_total") > metric(&before, "diagbot_scan_bytes_total")
    );
    assert_eq!(
        metric(
            &after,
            "diagbot_http_requests_total{route=\"/api/v1/grep\",status=\"200\"}"
        ),
        2.0
    );
    assert!(metric(&after, "diagbot_refresh_runs_total") >= 1.0);
    assert!(metric(&after, "process_resident_memory_bytes") > 0.0);
}

#[test]
fn fifty_concurrent_requests_for_a_new_pattern_run_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("big.log"), APP_LOG.repeat(40_000)).unwrap();
    let config_file = dir.path().join("diagbot.toml");
    std::fs::write(&config_file, config_text(&logs, "")).unwrap();
    let d = TestDaemon::start(&config_file);
    d.wait_for_first_refresh();
    let loads_before = d.state.diag.cache().stats().loads;
    let url = d.url("/api/v1/grep?pattern=late%20failure");
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50).map(|_| s.spawn(|| get_with(&url, None))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap()["matches"],
            40_000
        );
    }
    assert_eq!(d.state.diag.cache().stats().loads, loads_before + 1);
}

#[test]
fn a_broken_config_on_reload_keeps_the_old_one_and_a_good_one_applies() {
    let (_dir, logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    std::fs::write(&config_file, "[logs\npaths = ").unwrap();
    d.reload_and_wait_for_read();
    assert_eq!(
        d.get("/api/v1/errors").0,
        200,
        "old settings (no token) still apply"
    );
    std::fs::write(
        &config_file,
        config_text(&logs, "[http]\ntoken = \"new\"\n"),
    )
    .unwrap();
    d.control.blocking_send(Control::Reload).unwrap();
    eventually("the new token to apply", Duration::from_secs(5), || {
        let (code, body) = d.get("/healthz");
        if code == 401 {
            Ok(())
        } else {
            Err(format!("{code} {body}"))
        }
    });
}

#[test]
fn status_reports_the_host_and_the_cache() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    let v = d.json("/api/v1/status");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(v["host"]["memory"]["total_bytes"], total_kb * 1024);
    assert!(v["host"]["cpu_percent"].is_number());
    assert!(v["diagbot"]["rss_bytes"].as_u64().unwrap() > 0);
    assert!(v["diagbot"]["cache"]["budget_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn oom_kills_are_served() {
    let (dir, _logs, config_file) = setup("");
    let kern = dir.path().join("kern.log");
    std::fs::write(
        &kern,
        "Feb 27 10:00:00 vps kernel: Out of memory: Killed process 908 (python3) total-vm:100kB, anon-rss:50kB, file-rss:0kB, shmem-rss:0kB\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&config_file).unwrap();
    std::fs::write(
        &config_file,
        format!(
            "{text}[system]\nkernel_log = {:?}\n",
            kern.display().to_string()
        ),
    )
    .unwrap();
    let d = TestDaemon::start(&config_file);
    let v = d.json("/api/v1/oom");
    assert_eq!(v["kills"][0]["pid"], 908);
    assert_eq!(v["kills"][0]["rss_bytes"], 50 * 1024);
    assert_eq!(
        d.json("/api/v1/oom?since=1h")["kills"],
        serde_json::json!([])
    );
    assert_eq!(d.get("/api/v1/oom?colour=red").0, 400);
}

#[test]
fn shutdown_is_clean_and_quick() {
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    d.json("/api/v1/errors");
    let addr = d.addr;
    let took = d.stop();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after stop"
    );
}

/// The real binary: SIGHUP with a broken config keeps it running, SIGTERM stops it.
#[test]
fn signals_reload_and_stop_the_real_daemon() {
    let (_dir, _logs, config_file) = setup("[http]\nlisten = \"127.0.0.1:0\"\n");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["serve", "--config"])
        .arg(&config_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("diagbot listening on ")
        .unwrap()
        .to_string();
    assert_eq!(get_with(&format!("{url}/healthz"), None).0, 200);
    // Its log, as it comes (read by a thread, so the pipe never fills).
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log_reader = {
        let (mut pipe, stderr) = (child.stderr.take().unwrap(), std::sync::Arc::clone(&stderr));
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut pipe, &mut buf) {
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let pid = child.id().to_string();
    std::fs::write(&config_file, "not = [toml").unwrap();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    eventually(
        "the daemon to refuse the broken configuration",
        Duration::from_secs(20),
        || {
            let log = stderr.lock().unwrap();
            if log.contains("configuration not reloaded, keeping the old one") {
                Ok(())
            } else {
                Err(log.clone())
            }
        },
    );
    assert_eq!(get_with(&format!("{url}/healthz"), None).0, 200);
    let started = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    log_reader.join().unwrap();
}

/// A child process that grows by 1 MiB every 100 ms for 6 s, then sleeps.
struct Leaky(std::process::Child);

impl Drop for Leaky {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process-match service whose memory climbs: the daemon's samples show
/// its RSS and a climbing trend, exported and warned about.
#[test]
fn a_growing_process_shows_a_climbing_trend() {
    let marker = format!("diagbot-leak-test-{}", std::process::id());
    let (_dir, _logs, config_file) = setup(&format!(
        "[system]\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"100ms\"\ntrend_window = \"20s\"\ntrend_min_span = \"2s\"\noom_horizon = \"1000d\"\n\
         [[services]]\nname = \"leaky\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\n"
    ));
    let child = std::process::Command::new("python3")
        .args([
            "-c",
            "import time\nb = []\nfor _ in range(60):\n    b.append(b'x' * (1 << 20))\n    time.sleep(0.1)\ntime.sleep(60)\n",
            &marker,
        ])
        .spawn()
        .unwrap();
    let _child = Leaky(child);
    let d = TestDaemon::start(&config_file);
    let mut events = d.state.events.subscribe();
    let service = eventually("a climbing trend", Duration::from_secs(30), || {
        let v = d.json("/api/v1/status");
        let s = v["services"][0].clone();
        if s["memory_trend"]["trend"]["verdict"] == "climbing" {
            Ok(s)
        } else {
            Err(Text(format!("{s:#}")))
        }
    });
    assert_eq!(service["state"], "running");
    assert!(
        service["rss_bytes"].as_u64().unwrap() > 10 << 20,
        "{service:#}"
    );
    let text = service["memory_trend"]["text"].as_str().unwrap();
    assert!(text.contains("MiB/min over"), "{text}");
    let metrics = d.get("/metrics").1;
    assert!(
        metric(&metrics, "diagbot_service_rss_bytes{service=\"leaky\"}") > 10.0 * (1 << 20) as f64
    );
    assert!(
        metric(
            &metrics,
            "diagbot_service_rss_slope_bytes_per_second{service=\"leaky\"}"
        ) > 0.0
    );
    // The CLI shows the daemon's trend.
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["status", "--remote", &d.url("")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("leaky: memory +"), "{text}");
    assert!(text.contains(", cache "), "the daemon's cache: {text}");
    // The climb reaches the host's memory within the (long) horizon: one
    // projected OOM for the service (the host's own memory may climb too).
    let event = eventually(
        "a projected OOM event for leaky",
        Duration::from_secs(30),
        || {
            while let Ok(e) = events.try_recv() {
                if e.key() == "projected_oom:leaky" {
                    return Some(e);
                }
            }
            None
        },
    );
    assert_eq!(event.kind(), "projected_oom", "{event:?}");
    assert!(
        event
            .describe()
            .starts_with("leaky may run out of memory: +"),
        "{}",
        event.describe()
    );
}

/// A unit restarted after an OOM kill: the sampler reports the restart and
/// the kill with its victim, counts them, and sends them to subscribers.
#[test]
fn a_restart_and_an_oom_kill_become_events() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let proc = root.join("proc");
    std::fs::create_dir(&proc).unwrap();
    std::fs::write(
        proc.join("meminfo"),
        "MemTotal: 961000 kB\nMemFree: 1000 kB\nMemAvailable: 400000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    )
    .unwrap();
    std::fs::write(proc.join("vmstat"), "oom_kill 0\n").unwrap();
    let show = root.join("show.txt");
    let show_text = |restarts: u32, result: &str| {
        format!("LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=0\nNRestarts={restarts}\nResult={result}\nControlGroup=/system.slice/bot.service\n")
    };
    std::fs::write(&show, show_text(3, "success")).unwrap();
    let systemctl = root.join("systemctl");
    std::fs::write(&systemctl, format!("#!/bin/sh\ncat {:?}\n", show)).unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kern_log = root.join("kern.log");
    std::fs::write(&kern_log, "").unwrap();
    let (_d2, _logs, config_file) = setup(&format!(
        "[system]\nproc_root = {proc:?}\nsys_root = {sys:?}\nkernel_log = {kern_log:?}\nkmsg = \"\"\n\
         systemctl = {systemctl:?}\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"100ms\"\n\
         [[services]]\nname = \"bot\"\nunit = \"bot.service\"\n",
        sys = root.join("sys"),
    ));
    let d = TestDaemon::start(&config_file);
    let mut events = d.state.events.subscribe();
    // The baseline: restarts already at 3 are not news.
    eventually(
        "a sample with bot's 3 restarts",
        Duration::from_secs(20),
        || {
            metric(
                &d.get("/metrics").1,
                "diagbot_service_restarts_total{service=\"bot\"}",
            ) >= 3.0
        },
    );
    // The kill, as the kernel logs it now, and systemd's restart.
    let now = chrono::Local::now().format("%b %e %H:%M:%S");
    std::fs::write(
        &kern_log,
        format!(
            "{now} vps kernel: oom-kill:constraint=CONSTRAINT_MEMCG,task_memcg=/system.slice/bot.service,task=python3,pid=908,uid=1000\n\
             {now} vps kernel: Memory cgroup out of memory: Killed process 908 (python3) total-vm:1468412kB, anon-rss:562104kB, file-rss:3316kB, shmem-rss:0kB\n"
        ),
    )
    .unwrap();
    std::fs::write(proc.join("vmstat"), "oom_kill 1\n").unwrap();
    std::fs::write(&show, show_text(4, "oom-kill")).unwrap();
    let mut got = Vec::new();
    eventually("two events", Duration::from_secs(20), || {
        while let Ok(e) = events.try_recv() {
            got.push(e.describe());
        }
        if got.len() >= 2 {
            Ok(())
        } else {
            Err(got.clone())
        }
    });
    got.sort();
    assert_eq!(
        got,
        [
            "OOM kill in bot: python3 (pid 908) killed at 552 MiB RSS",
            "bot restarted (restart 4, last result oom-kill)",
        ]
    );
    let metrics = d.get("/metrics").1;
    assert_eq!(
        metric(&metrics, "diagbot_service_restarts_total{service=\"bot\"}"),
        4.0
    );
    assert_eq!(
        metric(&metrics, "diagbot_oom_kills_total{service=\"bot\"}"),
        1.0
    );
    assert_eq!(
        metric(&metrics, "diagbot_health_events_total{kind=\"restart\"}"),
        1.0
    );
}

/// One run of the leaking bot: a python3 process that grows 1 MiB every 50 ms.
fn leaking_bot(marker: &str) -> Leaky {
    let child = std::process::Command::new("python3")
        .args([
            "-c",
            "import time\nb = []\nfor _ in range(600):\n    b.append(b'x' * (1 << 20))\n    time.sleep(0.05)\ntime.sleep(60)\n",
            marker,
        ])
        .spawn()
        .unwrap();
    Leaky(child)
}

/// A daemon's configuration for the leaking bot, service `leaky` matched by
/// `marker`, its kills in `kern_log` (made empty).
fn leaky_setup(
    marker: &str,
    kern_log: &std::path::Path,
    trend_window: &str,
    limit: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    std::fs::write(kern_log, "").unwrap();
    let (dir, _logs, config_file) = setup(&format!(
        "[system]\nkernel_log = {kern_log:?}\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"100ms\"\ntrend_window = \"{trend_window}\"\ntrend_min_span = \"1s\"\noom_horizon = \"1h\"\n\
         restart_loop = 2\nrestart_loop_window = \"10m\"\n\
         [[services]]\nname = \"leaky\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\nmemory_limit = \"{limit}\"\n"
    ));
    (dir, config_file)
}

/// Waits until process `pid` holds `limit` bytes.
fn grow_to(pid: u32, limit: u64, round: usize) {
    eventually(
        &format!("round {round}: the bot to grow to {limit} bytes"),
        Duration::from_secs(60),
        || {
            let rss = rss_of(pid);
            if rss >= limit {
                Ok(())
            } else {
                Err(rss)
            }
        },
    );
}

/// The OOM killer's work, as the test does it: the kernel's line first (as
/// the kernel writes it before the kill), then SIGKILL.
fn kill_as_the_kernel(kern_log: &std::path::Path, bot: &mut Leaky) {
    let pid = bot.0.id();
    let now = chrono::Local::now().format("%b %e %H:%M:%S");
    let line = format!(
        "{now} vps kernel: Out of memory: Killed process {pid} (python3) total-vm:900000kB, anon-rss:{}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:900kB oom_score_adj:0\n",
        rss_of(pid) >> 10
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(kern_log)
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    bot.0.kill().unwrap();
    bot.0.wait().unwrap();
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb << 10)
}

/// The origin story with a real process, three times over: a bot that leaks
/// is killed past its limit (by the test: SIGKILL, and the kernel's line in
/// the configured kernel log) and started again under a new PID. Each climb
/// is warned about before its kill, each kill is named, each return is said,
/// and the third death is a restart loop; `/api/v1/status` reads into the
/// client's types at every moment, from the first sample on.
#[test]
fn a_bot_killed_and_started_again_is_warned_about_every_time() {
    const LIMIT: u64 = 120 << 20;
    let marker = format!("diagbot-origin-test-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let kern_log = dir.path().join("kern.log");
    let (_dir, config_file) = leaky_setup(&marker, &kern_log, "60s", "120MiB");
    let d = TestDaemon::start(&config_file);
    let mut events = d.state.events.subscribe();
    // Every 20 ms, the status as the client reads it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (url, stop) = (d.url("/api/v1/status"), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (code, body) = get_with(&url, None);
                assert_eq!(code, 200, "{body}");
                if let Err(e) = serde_json::from_str::<diagbot_core::probe::Status>(&body) {
                    panic!("status the client cannot read ({e}): {body}");
                }
                reads += 1;
                // A sleep: the reader's pace.
                std::thread::sleep(Duration::from_millis(20));
            }
            reads
        })
    };
    let mut seen: Vec<diagbot_core::health::Event> = Vec::new();
    let mut drain = |seen: &mut Vec<_>| {
        while let Ok(e) = events.try_recv() {
            seen.push(e);
        }
    };
    let mut pids = Vec::new();
    for round in 0..3 {
        let mut bot = leaking_bot(&marker);
        let pid = bot.0.id();
        pids.push(pid);
        grow_to(pid, LIMIT, round);
        drain(&mut seen);
        let warned = seen.iter().any(|e| {
            matches!(e, diagbot_core::health::Event::ProjectedOom { service: Some(s), .. } if s == "leaky")
        });
        assert!(
            warned,
            "round {round}: no warning before the kill: {seen:#?}"
        );
        kill_as_the_kernel(&kern_log, &mut bot);
        // The kill, named, before the next run starts.
        eventually(
            &format!("round {round}: the OOM kill of {pid} named"),
            Duration::from_secs(20),
            || {
                drain(&mut seen);
                let named = seen.iter().any(|e| match e {
                    diagbot_core::health::Event::OomKill {
                        service: Some(s),
                        victim: Some(v),
                        ..
                    } => s == "leaky" && v.pid == Some(pid),
                    _ => false,
                });
                if named {
                    Ok(())
                } else {
                    Err(seen.clone())
                }
            },
        );
        let status = d.json("/api/v1/status");
        let text = status["services"][0]["memory_trend"]["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.starts_with("not running since "), "{text}");
        seen.retain(|e| !matches!(e, diagbot_core::health::Event::ProjectedOom { .. }));
    }
    drain(&mut seen);
    let kinds: Vec<&str> = seen.iter().map(|e| e.kind()).collect();
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count("oom_kill"), 3, "{seen:#?}");
    assert_eq!(
        count("exited"),
        0,
        "a kill the log names is one event: {seen:#?}"
    );
    // The second and third runs are said to be back (the first may be in
    // diagbot's baseline sample).
    let back = seen
        .iter()
        .filter(|e| {
            matches!(e, diagbot_core::health::Event::Started { pid: Some(p), after_secs: Some(_), .. } if pids[1..].contains(p))
        })
        .count();
    assert_eq!(back, 2, "{seen:#?}");
    let found = seen
        .iter()
        .find_map(|e| match e {
            diagbot_core::health::Event::RestartLoop { deaths, text, .. } => {
                Some((*deaths, text.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no restart loop: {seen:#?}"));
    assert_eq!(found.0, 3);
    assert!(
        found.1.starts_with("killed 3 times in ")
            && found.1.contains(", each time after climbing ~"),
        "{}",
        found.1
    );
    assert!(
        found.1.ends_with(&format!(
            "(OOM kill each time; pids {}, {}, {})",
            pids[0], pids[1], pids[2]
        )),
        "{}",
        found.1
    );
    // The CLI reads the daemon's status, the loop included.
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["status", "--remote", &d.url("")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("leaky: restart loop: killed 3 times in "),
        "{text}"
    );
    // systemd counts no restarts of a process match: the watch counts its
    // returns (the second and third runs), and says what each kill came back as.
    let status = d.json("/api/v1/status");
    assert_eq!(status["services"][0]["restarts"], 2, "{status}");
    let oom = d.json("/api/v1/oom");
    for (i, pid) in pids[..2].iter().enumerate() {
        let kill = oom["kills"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["pid"] == *pid)
            .unwrap_or_else(|| panic!("no kill of {pid}: {oom}"));
        assert_eq!(kill["returned_as"], pids[i + 1], "{oom}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 10);
}

/// diagbot itself restarted in the middle of a bot's restart loop: the
/// deaths it seeds from its store are still OOM kills (the kernel log named
/// each while it ran), so the loop reads as before, not "died … not an OOM
/// kill any time".
#[test]
fn a_restart_loop_keeps_its_oom_kills_across_diagbot_s_own_restart() {
    const LIMIT: u64 = 60 << 20;
    let marker = format!("diagbot-reseed-test-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let kern_log = dir.path().join("kern.log");
    let (_dir, config_file) = leaky_setup(&marker, &kern_log, "5m", "60MiB");
    let d = TestDaemon::start(&config_file);
    let mut events = d.state.events.subscribe();
    let mut kills = 0;
    for round in 0..3 {
        let mut bot = leaking_bot(&marker);
        let pid = bot.0.id();
        grow_to(pid, LIMIT, round);
        // Seen running by the daemon's samples, up to its limit, before it
        // dies (the previous run's kill was named by a sample without it).
        eventually(
            &format!("round {round}: a sample of the bot at its limit"),
            Duration::from_secs(20),
            || {
                let rss = metric(
                    &d.get("/metrics").1,
                    "diagbot_service_rss_bytes{service=\"leaky\"}",
                );
                if rss >= LIMIT as f64 {
                    Ok(())
                } else {
                    Err(rss)
                }
            },
        );
        kill_as_the_kernel(&kern_log, &mut bot);
        eventually(
            &format!("round {round}: the kill of {pid} named"),
            Duration::from_secs(20),
            || {
                while let Ok(e) = events.try_recv() {
                    if matches!(e, diagbot_core::health::Event::OomKill { victim: Some(v), .. } if v.pid == Some(pid))
                    {
                        kills += 1;
                    }
                }
                kills > round
            },
        );
    }
    let loop_text = |d: &TestDaemon| {
        let status = d.json("/api/v1/status");
        status["services"][0]["memory_trend"]["restart_loop"]["text"]
            .as_str()
            .map(str::to_string)
    };
    let before = loop_text(&d).expect("a restart loop before the restart");
    assert!(before.contains("(OOM kill each time;"), "{before}");
    d.stop();
    let d = TestDaemon::start(&config_file);
    let after = eventually(
        "the restart loop after diagbot's restart",
        Duration::from_secs(20),
        || loop_text(&d),
    );
    assert!(
        after.starts_with("killed 3 times in ") && after.contains("(OOM kill each time;"),
        "before: {before}\nafter:  {after}"
    );
}

/// SIGHUP's reload applies every live key at once, each where it acts, and
/// warns about each startup key instead of silently keeping the old value.
#[test]
fn a_reload_applies_each_live_key_and_names_each_startup_key() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = |name: &str, available_kib: u64| {
        let proc = dir.path().join(name);
        std::fs::create_dir_all(&proc).unwrap();
        std::fs::write(
            proc.join("meminfo"),
            format!("MemTotal: 961000 kB\nMemFree: 1000 kB\nMemAvailable: {available_kib} kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"),
        )
        .unwrap();
        std::fs::write(proc.join("vmstat"), "oom_kill 0\n").unwrap();
        proc
    };
    let (old_proc, new_proc) = (fixture("proc-a", 100_000), fixture("proc-b", 200_000));
    let system = |proc: &std::path::Path| {
        format!("[system]\nproc_root = {proc:?}\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n")
    };
    let (_d, logs, config_file) = setup(&format!(
        "{}[health]\nsample_interval = \"1h\"\n[http]\nrequest_timeout = \"30s\"\n[cache]\nwarn_entries = 20\nmax_concurrent_loads = 4\n[log]\nlevel = \"info\"\n",
        system(&old_proc)
    ));
    let levels = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&levels);
    let d = TestDaemon::start_with_log_level(
        &config_file,
        Some(Box::new(move |level: &str| {
            seen.lock().unwrap().push(level.to_string());
            Ok(())
        })),
    );
    d.wait_for_first_refresh();
    let available = || metric(&d.get("/metrics").1, "diagbot_host_memory_available_bytes");
    eventually(
        "the first sample of the old /proc",
        Duration::from_secs(20),
        || {
            let now = available();
            if now == 100_000.0 * 1024.0 {
                Ok(())
            } else {
                Err(now)
            }
        },
    );
    let other_logs = dir.path().join("other-logs");
    std::fs::create_dir(&other_logs).unwrap();
    std::fs::write(
        other_logs.join("x.log"),
        "2026-01-27 10:00:00 ERROR other\n",
    )
    .unwrap();
    // The refresh and the sampler ran once at start and would next run in an hour.
    std::fs::write(
        &config_file,
        format!(
            "[logs]\npaths = [{logs:?}, {other_logs:?}]\n[refresh]\ninterval = \"100ms\"\n{}\
             [health]\nsample_interval = \"100ms\"\n[http]\nrequest_timeout = \"7s\"\n\
             [cache]\nwarn_entries = 3\nmax_concurrent_loads = 2\n[log]\nlevel = \"debug\"\n\
             [[services]]\nname = \"new-one\"\nprocess = {{ pidfile = \"/nonexistent/pid\" }}\n",
            system(&new_proc)
        ),
    )
    .unwrap();
    let runs = metric(&d.get("/metrics").1, "diagbot_refresh_runs_total");
    d.control.blocking_send(Control::Reload).unwrap();
    // A new interval takes effect at once, not after the old tick; the
    // sampler reads the new /proc.
    eventually(
        "the new intervals and proc_root to apply",
        Duration::from_secs(20),
        || {
            let (now_runs, now_available) = (
                metric(&d.get("/metrics").1, "diagbot_refresh_runs_total"),
                available(),
            );
            if now_runs >= runs + 2.0 && now_available == 200_000.0 * 1024.0 {
                Ok(())
            } else {
                Err(format!(
                    "{now_runs} refresh runs, {now_available} bytes available"
                ))
            }
        },
    );
    let s = d.state.settings();
    assert_eq!(
        s.http.request_timeout,
        Duration::from_secs(7),
        "read by every request"
    );
    let cache = d.state.diag.cache().config();
    assert_eq!((cache.warn_entries, cache.max_concurrent_loads), (3, 2));
    assert_eq!(*levels.lock().unwrap(), ["debug"]);
    let status = d.json("/api/v1/status");
    assert_eq!(status["services"][0]["name"], "new-one");
    let (code, body) = d.get(&format!("/api/v1/errors?paths={}", other_logs.display()));
    assert_eq!(code, 200, "the new path may be asked for: {body}");

    // The startup part: each changed key is named and the old value kept.
    // The same history file as the running daemon's: only the keys above change.
    let same_store = d.state.settings().storage.path.clone().unwrap();
    let new = diagbot::settings::load_str(
        &format!("[http]\nlisten = \"127.0.0.1:1\"\n[cache]\nttl = \"1m\"\nbudget = \"1MiB\"\n[log]\nformat = \"json\"\n[storage]\npath = {same_store:?}\n"),
        "new.toml",
        &Default::default(),
    )
    .unwrap();
    let waiting = diagbot::daemon::reload(&d.state, new);
    assert_eq!(
        waiting,
        ["http.listen", "cache.ttl", "cache.budget", "log.format"]
    );
    let s = d.state.settings();
    assert_ne!(s.http.listen.port(), 1);
    assert_eq!(s.core.cache.ttl, Duration::from_secs(300));
    assert!(!s.log.json);
}

/// Connections cannot exhaust the daemon: past an address's share its
/// oldest idle connection makes room for its newest, an idle or half-sent
/// connection is closed after the head timeout, and once connections close
/// everything is served again.
#[test]
fn idle_and_excess_connections_are_closed() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let (_dir, _logs, config_file) = setup("[http]\nrequest_timeout = \"500ms\"\n");
    let d = TestDaemon::start(&config_file);
    // Closed by the daemon (EOF or reset) within `limit`; a read timeout is not closed.
    let closed_within = |stream: &mut TcpStream, limit: Duration| {
        stream.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 256];
        match stream.read(&mut buf) {
            Ok(n) => n == 0,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    };
    let healthz = |addr| -> Option<String> {
        let mut s = TcpStream::connect(addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        Some(answer)
    };
    // A half-sent request head and an idle connection are closed.
    let mut half = TcpStream::connect(d.addr).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut idle = TcpStream::connect(d.addr).unwrap();
    assert!(
        closed_within(&mut half, Duration::from_secs(10)),
        "a half-sent head is kept open"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)),
        "an idle connection is kept open"
    );

    drop(d);
    // With the default head timeout (10 s), one address opens one more idle
    // connection than its share: its oldest is closed to make room, and the
    // newest is served.
    let (_dir, _logs, config_file) = setup("");
    let d = TestDaemon::start(&config_file);
    let share = diagbot::http::connections::MAX_PER_CLIENT;
    let mut held: Vec<TcpStream> = (0..=share)
        .map(|_| TcpStream::connect(d.addr).unwrap())
        .collect();
    assert!(
        closed_within(&mut held[0], Duration::from_secs(5)),
        "the oldest idle connection made room"
    );
    let mut newest = held.pop().unwrap();
    newest
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    newest
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    newest.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    eventually("/healthz served again", Duration::from_secs(10), || {
        let answer = healthz(d.addr);
        if answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200"))
        {
            Ok(())
        } else {
            Err(answer)
        }
    });
}

/// `oom --remote` asks the daemon, which reads its own kernel log.
#[test]
fn oom_remote_asks_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let kern = dir.path().join("kern.log");
    std::fs::write(
        &kern,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/kern-oom.log"
        )),
    )
    .unwrap();
    let (_d, _logs, config_file) = setup(&format!(
        "[system]\nkernel_log = {kern:?}\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n"
    ));
    let d = TestDaemon::start(&config_file);
    let out = Command::cargo_bin("diagbot")
        .unwrap()
        .args(["oom", "--json", "--remote", &d.url("")])
        .env_remove("DIAGBOT_CONFIG")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["kills"][0]["pid"], 908, "{report:#}");
}

/// The daemon scans with `search.threads` threads at nice 10, whatever the
/// machine: refreshes yield the CPU to the services they watch.
#[test]
fn the_daemon_scans_with_its_configured_threads_at_a_lower_priority() {
    let settings = diagbot::settings::load_str(
        "[search]\nthreads = 3\n[storage]\nenabled = false\n",
        "diagbot.toml",
        &Default::default(),
    )
    .unwrap();
    let state = diagbot::state::AppState::new(settings);
    let threads = state.diag.engine().threads();
    assert_eq!(threads.count.get(), 3);
    assert_eq!(threads.nice, Some(diagbot_core::workers::DAEMON_NICE));
}
