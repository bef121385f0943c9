//! `explain` against a real leaking bot: a python process that keeps every
//! cache entry it makes (a fixed size each, a random number per tick),
//! logs its cache size beside decoy numbers, and is killed and started
//! again by the test. The daemon's answer names the cache size.

use std::time::Duration;

use crate::common::{eventually, metric, setup, TestDaemon, Text};

/// What each cache entry costs the bot.
const PER_ENTRY: u64 = 1 << 20;

/// The bot: every tick it adds 0–6 entries, then logs its cache size,
/// its uptime, a count of orders that goes on across restarts, and a latency.
const BOT: &str = r#"
import datetime, random, sys, time
log_path, seed, orders, per_entry = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)
cache = []
start = time.time()
with open(log_path, "a", buffering=1) as log:
    while True:
        for _ in range(random.randint(0, 6)):
            cache.append(b"x" * per_entry)
        orders += random.randint(0, 50)
        now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        log.write(f"{now} INFO bot.cache: Cache size: {len(cache)} entries\n")
        log.write(f"{now} INFO bot.main: uptime {int(time.time() - start)} s\n")
        log.write(f"{now} INFO bot.trader: processed {orders} orders\n")
        log.write(f"{now} INFO bot.api: latency {random.randint(20, 300)} ms\n")
        time.sleep(2)
"#;

struct Bot(std::process::Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn explain_names_the_number_a_real_bot_leaks_with() {
    let marker = format!("diagbot-explain-test-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join(format!("{marker}.py"));
    std::fs::write(&script, BOT).unwrap();
    let (_dir, logs, config_file) = setup_with_service_logs(&format!(
        "[system]\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"250ms\"\ntrend_window = \"60s\"\ntrend_min_span = \"1s\"\n\
         [[services]]\nname = \"bot\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\nlogs = [{:?}]\n",
        logs_dir_placeholder()
    ));
    let log = logs.join("bot.log");
    let d = TestDaemon::start(&config_file);
    let ticks_logged = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("INFO bot.cache: Cache size: ")
            .count()
    };
    let mut orders = 0;
    for run in 0..3u64 {
        let ticks_before = ticks_logged();
        let bot = Bot(std::process::Command::new("python3")
            .arg(&script)
            .args([
                log.display().to_string(),
                (run + 7).to_string(),
                orders.to_string(),
                PER_ENTRY.to_string(),
            ])
            .spawn()
            .unwrap());
        // Twelve ticks (2 s each), sampled every 250 ms (the store keeps
        // one a second); then killed. Enough steps that a decoy's chance
        // correlation stays well under the bar.
        eventually(
            &format!("run {run}: twelve ticks of the bot"),
            Duration::from_secs(90),
            || {
                let ticks = ticks_logged() - ticks_before;
                if ticks >= 12 {
                    Ok(())
                } else {
                    Err(ticks)
                }
            },
        );
        drop(bot);
        orders += 10_000;
        // Seen gone by a sample before the next run starts.
        eventually(
            &format!("run {run}: a sample without the bot"),
            Duration::from_secs(20),
            || metric(&d.get("/metrics").1, "diagbot_service_up{service=\"bot\"}") == 0.0,
        );
    }
    // The samples reach the store within a few ticks of the writer.
    let answer = eventually(
        "an answer from the three runs",
        Duration::from_secs(20),
        || {
            let answer = d.json("/api/v1/explain?service=bot");
            let instances = answer["candidates"][0]["instances"].as_u64().unwrap_or(0);
            if instances >= 3 {
                Ok(answer)
            } else {
                Err(Text(format!("{answer:#}")))
            }
        },
    );
    let text = answer["text"].as_str().unwrap_or_default();
    println!("{text}");
    let best = &answer["candidates"][0];
    assert_eq!(best["template"], "Cache size: <num> entries", "{text}");
    assert!(best["r"].as_f64().unwrap() >= 0.8, "{text}");
    assert!(best["instances"].as_u64().unwrap() >= 3, "{text}");
    let per = best["bytes_per_unit"].as_f64().unwrap();
    let truth = PER_ENTRY as f64;
    assert!(
        (per - truth).abs() <= 0.3 * truth,
        "{per} bytes per entry, truth {truth}: {text}"
    );
    for decoy in [
        "uptime <num> s",
        "processed <num> orders",
        "latency <num> ms",
    ] {
        for list in ["candidates", "not_with"] {
            for c in answer[list].as_array().unwrap() {
                if c["template"] == decoy {
                    let r = c["r"].as_f64().unwrap_or(0.0);
                    assert!(r < 0.5, "decoy {decoy} r {r}: {text}");
                }
            }
        }
    }
    // The CLI asks the same daemon and says the same.
    let out = assert_cmd::Command::cargo_bin("diagbot")
        .unwrap()
        .args(["explain", "bot", "--remote", &d.url("")])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("It climbs with `Cache size: <num> entries` (bot.log): r "),
        "{said}"
    );
    // The explainer keeps only sure answers (r 0.8 over 20 steps): this
    // short run is not one yet.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(diagbot::daemon::explainer::explain_all(&d.state));
    let sure = best["samples"].as_u64().unwrap() >= diagbot_core::explain::SURE_STEPS as u64;
    assert_eq!(d.state.explained_for("bot").is_some(), sure);
    // Once sure, status names it in the memory trend.
    let mut found: diagbot_core::explain::Candidate = serde_json::from_value(best.clone()).unwrap();
    found.samples = diagbot_core::explain::SURE_STEPS;
    d.state
        .explained
        .lock()
        .unwrap()
        .insert("bot".into(), found);
    let status = d.json("/api/v1/status");
    let trend = &status["services"][0]["memory_trend"];
    assert_eq!(
        trend["explained_by"]["template"], "Cache size: <num> entries",
        "{status}"
    );
    let trend_text = trend["text"].as_str().unwrap();
    assert!(
        trend_text.contains("; it climbs with `Cache size: <num> entries` (r "),
        "{trend_text}"
    );
    // And the history keeps its values beside the memory it explains.
    eventually(
        "the explained number in the history",
        Duration::from_secs(20),
        || {
            let h = d.json("/api/v1/history?series=log.bot.explained&since=1h");
            if h["series"][0]["points"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
            {
                Ok(())
            } else {
                Err(Text(format!("{h:#}")))
            }
        },
    );
    // The dashboard draws them on the bot's memory chart, on their own axis.
    let (code, page) = crate::common::get_with(&d.url("/?range=1h"), None);
    assert_eq!(code, 200, "{page}");
    assert!(
        page.contains(r#"<path class="series explained" d="M"#)
            && page.contains("`Cache size: &lt;num&gt; entries` (r "),
        "{page}"
    );
    // An unknown service is said, with the parameter.
    let (code, body) = crate::common::get_with(&d.url("/api/v1/explain?service=nope"), None);
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("no service \\\"nope\\\" in the configuration"),
        "{body}"
    );
}

/// `setup(extra)` with [`logs_dir_placeholder`] in `extra` replaced by the
/// setup's log directory: the service's logs are the daemon's.
#[allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly
fn setup_with_service_logs(
    extra: &str,
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (dir, logs, config_file) = setup(extra);
    let config = std::fs::read_to_string(&config_file).unwrap().replace(
        &format!("{:?}", logs_dir_placeholder()),
        &format!("{logs:?}"),
    );
    std::fs::write(&config_file, config).unwrap();
    (dir, logs, config_file)
}

/// A stand-in for the log directory in the configuration text until it is known.
fn logs_dir_placeholder() -> &'static str {
    "/explain-test-logs"
}

/// The seed's own alarm, generalised: a number a service's configuration
/// names is a history series, a gauge, and an alert once past its threshold.
#[test]
fn a_configured_number_is_a_series_a_gauge_and_an_alert_past_its_threshold() {
    let (_dir, logs, config_file) = setup_with_service_logs(&format!(
        "[health]\nsample_interval = \"100ms\"\n\
         [[services]]\nname = \"bot\"\nprocess = {{ pidfile = \"/nonexistent/bot.pid\" }}\nlogs = [{:?}]\n\
         numbers = [{{ template = \"Cache size: <num> entries\", warn_above = 20 }}]\n",
        logs_dir_placeholder()
    ));
    let log = logs.join("bot.log");
    let line = |n: u32| {
        format!(
            "{} INFO bot.cache: Cache size: {n} entries\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f")
        )
    };
    std::fs::write(&log, line(5)).unwrap();
    let d = TestDaemon::start(&config_file);
    let mut events = d.state.events.subscribe();
    let gauge = "diagbot_log_number{service=\"bot\",name=\"cache_size_entries\"}";
    let wait_for = |value: f64| d.wait_for_metric(gauge, value);
    wait_for(5.0);
    let append = |n: u32| {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(line(n).as_bytes())
            .unwrap();
    };
    append(25);
    wait_for(25.0);
    append(30);
    wait_for(30.0);
    append(10);
    wait_for(10.0);
    append(40);
    wait_for(40.0);
    let mut said = Vec::new();
    while let Ok(e) = events.try_recv() {
        if e.kind() == "log_number_above" {
            said.push(e.describe());
        }
    }
    // Once per crossing: 25 (30 is the same crossing), then 40 after 10.
    assert_eq!(
        said,
        [
            "bot: `Cache size: <num> entries` is 25 (warn above 20)",
            "bot: `Cache size: <num> entries` is 40 (warn above 20)",
        ]
    );
    // The history keeps it.
    eventually("the number in the history", Duration::from_secs(20), || {
        let h = d.json("/api/v1/history?series=log.bot.cache_size_entries&since=1h");
        let points = h["series"][0]["points"].as_array().map_or(0, Vec::len);
        if points > 0 {
            Ok(())
        } else {
            Err(Text(format!("{h:#}")))
        }
    });
}
