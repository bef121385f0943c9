//! New-error alerts from a real daemon: a service's log appended to, the
//! alerts sent to a fake Telegram Bot API on loopback.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diagbot_core::health::Event;
use tokio::sync::broadcast::Receiver;

use crate::common::{config_text, metric, TestDaemon};
use crate::telegram::{assert_telegram_html, serve_fake, telegram_config, Fake, OPERATOR};

const SERVICE: &str = "crypto-bot";

/// A line stamped now, as the service writes it.
fn line(level: &str, message: &str) -> String {
    format!(
        "{} {level} {message}\n",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f")
    )
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A daemon watching `crypto-bot`, whose log already holds an error, with `extra` config.
fn start(dir: &Path, log: &Path, extra: &str) -> TestDaemon {
    let config = format!(
        "[health]\nsample_interval = \"100ms\"\nerror_burst_lines = 0\n\
         [[services]]\nname = {SERVICE:?}\nprocess = {{ pidfile = {pid:?} }}\nlogs = [{log:?}]\n{extra}",
        pid = dir.join("no.pid"),
    );
    let file = dir.join("diagbot.toml");
    std::fs::write(&file, config_text(log.parent().unwrap(), &config)).unwrap();
    TestDaemon::start(&file)
}

/// The ticks the service's watch has run.
fn ticks(d: &TestDaemon) -> u64 {
    let watches = d.state.error_watches.lock().unwrap();
    watches.get(SERVICE).map_or(0, |w| w.ticks())
}

/// Waits until the watch has run `n` more ticks than `from` (each sample
/// before the last has sent its events by then).
fn wait_ticks(d: &TestDaemon, from: u64, n: u64) -> u64 {
    let started = Instant::now();
    loop {
        let t = ticks(d);
        if t >= from + n {
            return t;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no tick");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The error-group events received so far: (kind, template, id).
fn group_events(rx: &mut Receiver<Event>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::ErrorGroup { template, id, .. } = &e {
            out.push((e.kind().to_string(), template.clone(), id.clone()));
        }
    }
    out
}

fn service_log(dir: &Path) -> PathBuf {
    std::fs::create_dir(dir.join("logs")).unwrap();
    let log = dir.join("logs/crypto-bot.log");
    std::fs::write(
        &log,
        format!(
            "{}{}Traceback (most recent call last):\n  File \"bot.py\", line 3, in run\nValueError: 5\n",
            line("INFO", "started"),
            line("ERROR", "database is locked"),
        ),
    )
    .unwrap();
    log
}

#[test]
fn a_new_error_alerts_once_and_known_ones_never_even_after_a_restart() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, &telegram_config(api, ""));
    let mut rx = d.state.events.subscribe();
    // The baseline: the error already in the log is known.
    let t = wait_ticks(&d, 0, 1);
    append(&log, &line("ERROR", "database is locked"));
    for order in [17, 18, 19] {
        append(
            &log,
            &line(
                "ERROR",
                &format!("Order {order} rejected: insufficient balance <b>&amp;</b>"),
            ),
        );
    }
    let t = wait_ticks(&d, t, 2);
    let got = group_events(&mut rx);
    assert_eq!(got.len(), 1, "{got:?}");
    let (kind, template, id) = &got[0];
    assert_eq!(kind, "new_error_group");
    assert_eq!(
        template,
        "Order <num> rejected: insufficient balance <b>&amp;</b>"
    );

    // One alert, escaped, with the count and an example.
    let sent = fake.wait_sent(1);
    let alert = &sent[0].text;
    assert!(alert.contains("<b>New error</b>"), "{alert}");
    assert!(
        alert.contains(
            "new error in crypto-bot: `Order &lt;num&gt; rejected: insufficient balance &lt;b&gt;&amp;amp;&lt;/b&gt;` (3 times in"
        ),
        "{alert}"
    );
    assert!(
        alert.contains("Order 19 rejected"),
        "the newest line: {alert}"
    );
    assert_telegram_html(alert);
    assert!(alert.encode_utf16().count() < 4096);

    // The same groups again: no alert, no event.
    append(
        &log,
        &line(
            "ERROR",
            "Order 20 rejected: insufficient balance <b>&amp;</b>",
        ),
    );
    append(&log, &line("ERROR", "database is locked"));
    wait_ticks(&d, t, 3);
    assert!(group_events(&mut rx).is_empty());
    let metrics = d.get("/metrics").1;
    assert_eq!(
        metric(
            &metrics,
            "diagbot_error_groups_new_total{service=\"crypto-bot\"}"
        ),
        1.0
    );
    // The API names the group by the same id.
    let groups = d.json("/api/v1/groups?level=error");
    let ids: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()), "{ids:?} lacks {id}");
    // Telegram was told once (a command's reply shows the alert task has caught up).
    fake.say(OPERATOR, "/cache");
    let sent = fake.wait_sent(2);
    assert_eq!(
        sent.iter().filter(|s| s.text.contains("New error")).count(),
        1,
        "{sent:#?}"
    );
    d.stop();

    // A restart reads the log as its baseline: nothing in it is news, and
    // the group keeps its id.
    let d = start(dir.path(), &log, "");
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    append(
        &log,
        &line(
            "ERROR",
            "Order 21 rejected: insufficient balance <b>&amp;</b>",
        ),
    );
    wait_ticks(&d, t, 2);
    assert!(group_events(&mut rx).is_empty());
    let again = d.json("/api/v1/groups?level=error");
    let same = again["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["template"] == template.as_str())
        .unwrap();
    assert_eq!(same["id"].as_str(), Some(id.as_str()));
}

#[test]
fn a_known_error_after_the_quiet_period_is_back_and_a_traceback_is_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, "[groups]\nquiet = \"2s\"\n");
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    // A new error with its traceback: one group, not one per line.
    append(&log, &line("ERROR", "payment 7 failed"));
    append(
        &log,
        "Traceback (most recent call last):\n  File \"pay.py\", line 9, in pay\nKeyError: 'amount'\n",
    );
    let t = wait_ticks(&d, t, 2);
    let got = group_events(&mut rx);
    assert_eq!(
        got.iter()
            .map(|g| (g.0.as_str(), g.1.as_str()))
            .collect::<Vec<_>>(),
        [("new_error_group", "payment <num> failed")]
    );
    // Silent past the quiet period, then again: back.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(group_events(&mut rx).is_empty());
    let t = ticks(&d).max(t);
    append(&log, &line("ERROR", "payment 8 failed"));
    wait_ticks(&d, t, 2);
    let got = group_events(&mut rx);
    assert_eq!(
        got.iter()
            .map(|g| (g.0.as_str(), g.1.as_str()))
            .collect::<Vec<_>>(),
        [("error_group_back", "payment <num> failed")]
    );
}
