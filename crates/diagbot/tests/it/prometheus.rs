//! diagbot as a Prometheus target, with the real tools: `promtool` checks and
//! unit-tests the rules in contrib/ and lints `/metrics`, `amtool` checks the
//! Alertmanager configuration and renders its Telegram template, and a real
//! `prometheus` scrapes a daemon (with a token) that watches a leaking child
//! process, evaluates a copy of the rules, and is asked through its HTTP API
//! what it saw. Without the tools (Debian's `prometheus` and
//! `prometheus-alertmanager`) these tests are skipped with a note; in CI
//! (`CI` set and not `false`) they fail instead.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::common::{config_text, eventually, setup, TestDaemon, Text};

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contrib")
        .join(path)
}

/// `name` on the PATH; `None` (with a note) when it is not installed, but
/// never in CI.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !in_ci,
            "{name} not found on the PATH (Debian's prometheus and prometheus-alertmanager packages; .ci/run installs them)"
        );
        let note = format!("note: a test needing {name} skipped: it is not installed (Debian's prometheus / prometheus-alertmanager packages)\n");
        let _ = std::io::stderr().write_all(note.as_bytes());
    }
    found
}

/// Runs `program` and returns its stdout, failing the test with its output when it fails.
fn run(program: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{stdout}\n{stderr}",
        program.display(),
        out.status
    );
    stdout + &stderr
}

#[test]
fn the_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let rules = contrib("prometheus/diagbot.rules.yml");
    let out = run(
        &promtool,
        &["check", "rules", rules.to_str().unwrap()],
        None,
    );
    assert!(out.contains("SUCCESS"), "{out}");
    let tests = contrib("prometheus/diagbot.rules.test.yml");
    let out = run(&promtool, &["test", "rules", tests.to_str().unwrap()], None);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn the_alertmanager_config_passes_amtool_and_its_message_escapes_html() {
    let Some(amtool) = tool("amtool") else {
        return;
    };
    let config = contrib("alertmanager/alertmanager.yml");
    let out = run(&amtool, &["check-config", config.to_str().unwrap()], None);
    assert!(out.contains("SUCCESS"), "{out}");
    // An alert whose labels and annotations hold HTML, as a log line or a
    // service name may: it must come out as text, as diagbot's bot writes it.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.json");
    let alert = serde_json::json!({
        "receiver": "telegram",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiagbotErrorBurst", "instance": "vps<1>:9187", "service": "a&b"},
            "annotations": {"summary": "a&b on vps<1>:9187 logged <b>50</b> error lines", "description": "last: \"x\"\ty"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "1"
        }],
        "groupLabels": {"alertname": "DiagbotErrorBurst"},
        "commonLabels": {"alertname": "DiagbotErrorBurst", "instance": "vps<1>:9187", "service": "a&b"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093"
    });
    std::fs::write(&data, alert.to_string()).unwrap();
    let glob = contrib("alertmanager/templates/*.tmpl");
    let message = run(
        &amtool,
        &[
            "template",
            "render",
            &format!("--template.glob={}", glob.display()),
            "--template.text={{ template \"diagbot.telegram.message\" . }}",
            &format!("--template.data={}", data.display()),
        ],
        None,
    );
    assert!(
        message.contains(
            "<b>a&amp;b on vps&lt;1&gt;:9187 logged &lt;b&gt;50&lt;/b&gt; error lines</b>"
        ),
        "{message}"
    );
    assert!(message.contains("last: &quot;x&quot; y"), "{message}");
    assert!(
        message.contains("host: <code>vps&lt;1&gt;:9187</code>, service: <code>a&amp;b</code>"),
        "{message}"
    );
}

#[test]
fn the_text_format_passes_promtool_and_openmetrics_is_served_when_asked_for() {
    let (_dir, _logs, config_file) = setup(
        "[health]\nsample_interval = \"100ms\"\n[[services]]\nname = \"self\"\nprocess = { pidfile = \"/nonexistent/x.pid\" }\n",
    );
    let d = TestDaemon::start(&config_file);
    d.wait_for_first_refresh();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let fetch = |accept: Option<&str>| {
        let mut req = agent.get(&d.url("/metrics"));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let mut response = req.call().unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        (content_type, response.body_mut().read_to_string().unwrap())
    };
    let (content_type, text) = fetch(None);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        text.contains("# TYPE diagbot_refresh_runs_total counter"),
        "{text}"
    );
    // What Prometheus sends.
    let (content_type, om) = fetch(Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE diagbot_refresh_runs counter"), "{om}");
    let Some(promtool) = tool("promtool") else {
        return;
    };
    // No problem at all: not even a lint.
    let out = run(&promtool, &["check", "metrics"], Some(&text));
    assert_eq!(out.trim(), "", "promtool check metrics: {out}");
}

/// Issue 26, 9: names with `"` and `\` (what a configuration may hold) are
/// escaped in every label, so that one cannot end its value and write a
/// series of its own; promtool reads the exposition without a complaint. A
/// name with a line break is refused by `config check`.
#[test]
fn hostile_names_are_escaped_in_labels_and_line_breaks_refused() {
    let hostile = r#"x"} 1 diagbot_service_up{service="db"} 1 #"#;
    let (_dir, _logs, config_file) = setup(&format!(
        "[health]\nsample_interval = \"100ms\"\n[[services]]\nname = '{hostile}'\nprocess = {{ pidfile = \"/nonexistent/x.pid\" }}\n"
    ));
    let d = TestDaemon::start(&config_file);
    d.wait_for_first_refresh();
    // The service's series come with the first sample.
    let text = eventually(
        "the service's series from the first sample",
        Duration::from_secs(20),
        || {
            let text = crate::common::get_with(&d.url("/metrics"), None).1;
            if text.contains("diagbot_service_memory_limit_bytes{") {
                Ok(text)
            } else {
                Err(Text(text))
            }
        },
    );
    assert!(
        !text.contains("service=\"db\""),
        "a name wrote a series of its own: {text}"
    );
    assert!(
        text.contains(r#"diagbot_oom_kills_total{service="x\"} 1 diagbot_service_up{service=\"db\"} 1 #"} 0"#)
            && text.contains(r#"diagbot_service_memory_limit_bytes{service="x\"} 1 diagbot_service_up{service=\"db\"} 1 #"} "#),
        "{text}"
    );
    if let Some(promtool) = tool("promtool") {
        let out = run(&promtool, &["check", "metrics"], Some(&text));
        assert_eq!(out.trim(), "", "promtool check metrics: {out}");
    }
    let broken = config_file.with_file_name("broken.toml");
    std::fs::write(
        &broken,
        "[[services]]\nname = \"x\\ndiagbot_service_up 1\"\nunit = \"x.service\"\n",
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["config", "check"])
        .arg(&broken)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("control characters"),
        "{said}"
    );
}

/// A process that grows by 256 KiB every 50 ms for 90 s, then sleeps; killed when dropped.
struct Leaking(Child);

impl Leaking {
    fn start(marker: &str) -> Leaking {
        let child = Command::new("python3")
            .args([
                "-c",
                "import time\nb = []\nfor _ in range(1800):\n    b.append(b'x' * (1 << 18))\n    time.sleep(0.05)\ntime.sleep(60)\n",
                marker,
            ])
            .spawn()
            .unwrap();
        Leaking(child)
    }
}

impl Drop for Leaking {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `prometheus` server on 127.0.0.1 with its storage in a temporary folder; stopped when dropped.
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(binary: &Path, dir: &Path) -> Prometheus {
        // A free port: taken from the kernel, then let go for prometheus to bind.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let prometheus = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        prometheus.wait_for("it to be ready", |p| {
            p.get_raw("/-/ready", &[])
                .is_some_and(|(code, _)| code == 200)
        });
        prometheus
    }

    fn get_raw(&self, path: &str, query: &[(&str, &str)]) -> Option<(u16, String)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent
            .get(&format!("{}{path}", self.url))
            .query_pairs(query.iter().copied())
            .call()
            .ok()?;
        let code = response.status().as_u16();
        Some((code, response.body_mut().read_to_string().ok()?))
    }

    /// The `data` of a successful API answer.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let (code, body) = self.get_raw(path, query).unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(code, 200, "{path} {query:?}: {body}");
        assert_eq!(v["status"], "success", "{path} {query:?}: {body}");
        v["data"].clone()
    }

    /// Polls `done` until it holds, for at most 90 s.
    fn wait_for(&self, what: &str, mut done: impl FnMut(&Prometheus) -> bool) {
        eventually(what, Duration::from_secs(90), || {
            if done(self) {
                Ok(())
            } else {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                Err(Text(format!("prometheus said:\n{log}")))
            }
        });
    }
}

/// The contrib rules with DiagbotServiceOomSoon's `for` cut to a second.
fn rules_with_a_short_for() -> String {
    let rules = std::fs::read_to_string(contrib("prometheus/diagbot.rules.yml")).unwrap();
    let at = rules.find("alert: DiagbotServiceOomSoon").unwrap();
    let for_at = at + rules[at..].find("for: 10m").unwrap();
    format!("{}for: 1s{}", &rules[..for_at], &rules[for_at + 8..])
}

#[test]
fn prometheus_scrapes_diagbot_and_the_oom_alert_goes_pending() {
    let Some(binary) = tool("prometheus") else {
        return;
    };
    const TOKEN: &str = "scrape-token-for-the-test";
    let marker = format!("diagbot-prometheus-test-{}", std::process::id());
    let (dir, logs, config_file) = setup("");
    // The service's log is the fixture's, known once setup made it.
    let extra = format!(
        "[http]\ntoken = {TOKEN:?}\n\
         [health]\nsample_interval = \"100ms\"\ntrend_window = \"60s\"\ntrend_min_span = \"1s\"\noom_horizon = \"1h\"\n\
         [[services]]\nname = \"leaky\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\nmemory_limit = \"4GiB\"\nlogs = [{:?}]\n",
        logs.join("app.log").display().to_string()
    );
    std::fs::write(&config_file, config_text(&logs, &extra)).unwrap();
    let d = TestDaemon::start(&config_file);
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir(&prom_dir).unwrap();
    std::fs::write(prom_dir.join("diagbot.rules.yml"), rules_with_a_short_for()).unwrap();
    std::fs::write(
        prom_dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 500ms\n  scrape_timeout: 500ms\n  evaluation_interval: 500ms\n\
             rule_files: [diagbot.rules.yml]\n\
             scrape_configs:\n  - job_name: diagbot\n    authorization:\n      credentials: {TOKEN}\n    \
             static_configs:\n      - targets: [\"{}\"]\n",
            d.addr
        ),
    )
    .unwrap();
    let prometheus = Prometheus::start(&binary, &prom_dir);
    let _bot = Leaking::start(&marker);

    // The target is up, scraped without error.
    prometheus.wait_for("a successful scrape", |p| {
        let targets = p.api("/api/v1/targets", &[]);
        let t = &targets["activeTargets"][0];
        t["health"] == "up" && t["lastError"] == ""
    });

    // Counters are counters, gauges gauges, histograms histograms (a family
    // has metadata once it has a sample: the request counter after the first scrape).
    let counters = [
        "diagbot_refresh_runs",
        "diagbot_http_requests",
        "diagbot_cache_hits",
        "diagbot_cache_evictions",
        "diagbot_oom_kills",
        "diagbot_error_groups_new",
        "diagbot_log_lines",
        "diagbot_telegram_outbox_dropped",
        "diagbot_scan_bytes",
    ];
    let gauges = [
        "diagbot_cache_entries",
        "diagbot_service_rss_bytes",
        "diagbot_service_memory_limit_bytes",
        "diagbot_service_oom_eta_seconds",
        "diagbot_service_up",
        "diagbot_service_instance_start_time_seconds",
        "diagbot_host_memory_total_bytes",
    ];
    prometheus.wait_for("the metadata", |p| {
        let metadata = p.api("/api/v1/metadata", &[]);
        counters
            .iter()
            .chain(&gauges)
            .all(|name| metadata.get(name).is_some())
    });
    let metadata = prometheus.api("/api/v1/metadata", &[]);
    let type_of = |name: &str| metadata[name][0]["type"].as_str().unwrap().to_string();
    for counter in counters {
        assert_eq!(type_of(counter), "counter", "{counter}");
    }
    for gauge in gauges {
        assert_eq!(type_of(gauge), "gauge", "{gauge}");
    }
    assert_eq!(type_of("diagbot_scan_seconds"), "histogram");

    // diagbot's ETA is there, and falls as the child climbs.
    prometheus.wait_for("a falling OOM ETA", |p| {
        let data = p.api(
            "/api/v1/query",
            &[(
                "query",
                "diagbot_service_oom_eta_seconds{job=\"diagbot\",service=\"leaky\"}[30s]",
            )],
        );
        let values: Vec<f64> = data["result"][0]["values"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|s| s[1].as_str().unwrap().parse().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        values.len() >= 3 && values.last() < values.first()
    });

    // The alert, with its `for` cut short, is pending or firing for the leaking service.
    prometheus.wait_for("DiagbotServiceOomSoon", |p| {
        let alerts = p.api("/api/v1/alerts", &[]);
        alerts["alerts"].as_array().unwrap().iter().any(|a| {
            a["labels"]["alertname"] == "DiagbotServiceOomSoon"
                && a["labels"]["service"] == "leaky"
                && (a["state"] == "pending" || a["state"] == "firing")
        })
    });

    // Error lines appended to the service's log are counted, by level.
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(logs.join("app.log"))
        .unwrap();
    for i in 0..3 {
        writeln!(log, "2026-01-01 00:00:0{i} ERROR payment {i} failed").unwrap();
    }
    drop(log);
    prometheus.wait_for("3 error lines", |p| {
        let data = p.api(
            "/api/v1/query",
            &[(
                "query",
                "diagbot_log_lines_total{service=\"leaky\",level=\"error\"}",
            )],
        );
        data["result"][0]["value"][1]
            .as_str()
            .is_some_and(|v| v.parse::<f64>().unwrap() >= 3.0)
    });

    // Every query of the Grafana dashboard is PromQL this Prometheus takes.
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(contrib("grafana/diagbot.json")).unwrap())
            .unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    exprs.extend(
        dashboard["annotations"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["expr"].as_str().unwrap().to_string()),
    );
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in exprs {
        let promql = expr
            .replace("$host", ".*")
            .replace("$__rate_interval", "1m");
        prometheus.api("/api/v1/query", &[("query", &promql)]);
    }
    let memory = prometheus.api(
        "/api/v1/query",
        &[("query", "diagbot_service_rss_bytes{instance=~\".*\"}")],
    );
    assert_eq!(memory["result"][0]["metric"]["service"], "leaky");
}
