//! New-error alerts from a real daemon: a service's log appended to, the
//! alerts sent to a fake Telegram Bot API on loopback.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diagbot_core::health::Event;
use tokio::sync::broadcast::Receiver;

use crate::common::{config_text, eventually, metric, TestDaemon, Text};
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

/// A fake Bot API, and a daemon alerting to it about `crypto-bot`'s log.
fn start_with_bot() -> (Fake, tempfile::TempDir, PathBuf, TestDaemon) {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, &telegram_config(api, ""));
    (fake, dir, log, d)
}

/// The ticks the service's watch has run.
fn ticks(d: &TestDaemon) -> u64 {
    let watches = d.state.error_watches.lock().unwrap();
    watches.get(SERVICE).map_or(0, |w| w.ticks())
}

/// Waits until the watch has run `n` more ticks than `from` (each sample
/// before the last has sent its events by then).
fn wait_ticks(d: &TestDaemon, from: u64, n: u64) -> u64 {
    eventually(
        &format!("{n} ticks of the watch after tick {from}"),
        Duration::from_secs(30),
        || {
            let t = ticks(d);
            if t >= from + n {
                Ok(t)
            } else {
                Err(t)
            }
        },
    )
}

/// The error-group events received so far: (kind, template, id).
/// The error-group events sent so far, once the sample in progress (whose
/// tick may have run, its events not yet sent) is done.
fn group_events(d: &TestDaemon, rx: &mut Receiver<Event>) -> Vec<(String, String, String)> {
    wait_ticks(d, ticks(d), 1);
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
    let (fake, dir, log, d) = start_with_bot();
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
    let got = group_events(&d, &mut rx);
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
    assert!(group_events(&d, &mut rx).is_empty());
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
    assert!(group_events(&d, &mut rx).is_empty());
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
    let got = group_events(&d, &mut rx);
    assert_eq!(
        got.iter()
            .map(|g| (g.0.as_str(), g.1.as_str()))
            .collect::<Vec<_>>(),
        [("new_error_group", "payment <num> failed")]
    );
    // Silent past the quiet period, then again: back.
    // A sleep: the quiet period (2 s of the watch's clock) must pass.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(group_events(&d, &mut rx).is_empty());
    let t = ticks(&d).max(t);
    append(&log, &line("ERROR", "payment 8 failed"));
    wait_ticks(&d, t, 2);
    let got = group_events(&d, &mut rx);
    assert_eq!(
        got.iter()
            .map(|g| (g.0.as_str(), g.1.as_str()))
            .collect::<Vec<_>>(),
        [("error_group_back", "payment <num> failed")]
    );
}

/// The (kind, template) pairs of `events`.
fn kinds(events: &[(String, String, String)]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| (e.0.as_str(), e.1.as_str()))
        .collect()
}

#[test]
fn a_group_known_before_a_restart_does_not_alert_after_it_though_the_log_was_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, "");
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    append(
        &log,
        &line("ERROR", "Order 17 rejected: insufficient balance"),
    );
    wait_ticks(&d, t, 2);
    assert_eq!(
        kinds(&group_events(&d, &mut rx)),
        [(
            "new_error_group",
            "Order <num> rejected: insufficient balance"
        )]
    );
    d.stop();

    // Rotated while diagbot was down: the log read at start holds none of
    // it, so only the store knows the group.
    std::fs::write(&log, line("INFO", "started again")).unwrap();
    let d = start(dir.path(), &log, "");
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    append(
        &log,
        &line("ERROR", "Order 18 rejected: insufficient balance"),
    );
    append(&log, &line("ERROR", "websocket closed by peer"));
    wait_ticks(&d, t, 2);
    assert_eq!(
        kinds(&group_events(&d, &mut rx)),
        [("new_error_group", "websocket closed by peer")]
    );
}

/// Runs the diagbot binary with `args`: (exit code, stdout, stderr).
fn diagbot(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(args)
        .env_remove("DIAGBOT_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_muted_group_does_not_alert_until_its_mute_ends() {
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, "[groups]\nquiet = \"1s\"\n");
    let remote = d.url("");
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    append(&log, &line("ERROR", "payment 7 failed"));
    let t = wait_ticks(&d, t, 2);
    let got = group_events(&d, &mut rx);
    assert_eq!(kinds(&got), [("new_error_group", "payment <num> failed")]);
    let id = got[0].2.clone();

    // Muted for 3 s by the command line, through the daemon.
    let (code, out, err) = diagbot(&["groups", "mute", &id, "--for", "3s", "--remote", &remote]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with(&format!("muted {id} until ")), "{out}");
    let mutes = d.json("/api/v1/groups/mutes");
    let mute = &mutes["mutes"][0];
    assert_eq!(mute["id"], id.as_str());
    assert_eq!(mute["by"], "cli");
    assert_eq!(mute["active"], true);
    let until = mute["until"].as_i64().unwrap();

    // Silent past the quiet period, then again: back, but muted; another
    // group of the same tick alerts.
    // A sleep: the quiet period (1 s of the watch's clock) must pass.
    std::thread::sleep(Duration::from_millis(1500));
    let t = ticks(&d).max(t);
    append(&log, &line("ERROR", "payment 8 failed"));
    append(&log, &line("ERROR", "refund 3 failed"));
    let last = Instant::now();
    wait_ticks(&d, t, 2);
    assert_eq!(
        kinds(&group_events(&d, &mut rx)),
        [("new_error_group", "refund <num> failed")]
    );

    // Once the mute has ended (and the quiet period since the last line), it alerts again.
    eventually(
        "the mute's end and the quiet period since the last line",
        Duration::from_secs(30),
        || {
            let mutes = d.json("/api/v1/groups/mutes");
            let ended = chrono::Utc::now().timestamp() > until
                && mutes["mutes"][0]["active"] == false
                && last.elapsed() >= Duration::from_millis(1500);
            if ended {
                Ok(())
            } else {
                Err(Text(format!("{mutes:#}")))
            }
        },
    );
    let (code, out, _) = diagbot(&["groups", "mutes", "--remote", &remote]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("{id} until ")) && out.contains("(ended)") && out.contains("by cli"),
        "{out}"
    );
    let t = ticks(&d);
    append(&log, &line("ERROR", "payment 9 failed"));
    wait_ticks(&d, t, 2);
    assert_eq!(
        kinds(&group_events(&d, &mut rx)),
        [("error_group_back", "payment <num> failed")]
    );

    // Unmuted: gone from the list; a second time says it was not muted.
    assert_eq!(
        diagbot(&["groups", "unmute", &id, "--remote", &remote]).0,
        0
    );
    let (code, out, _) = diagbot(&["groups", "unmute", &id, "--remote", &remote]);
    assert_eq!(
        (code, out.trim()),
        (1, format!("{id} was not muted").as_str())
    );
    assert_eq!(
        d.json("/api/v1/groups/mutes")["mutes"],
        serde_json::json!([])
    );
    // A form (what another site's page could send) is refused, and so is GET.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut form = agent
        .post(&d.url("/api/v1/groups/mute"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("id={id}"))
        .unwrap();
    assert_eq!(form.status().as_u16(), 400);
    let body = form.body_mut().read_to_string().unwrap();
    assert!(body.contains("application/json"), "{body}");
    let (status, body) = d.get("/api/v1/groups/mute");
    assert_eq!(status, 405);
    assert!(body.contains("use POST"), "{body}");
    assert_eq!(
        d.json("/api/v1/groups/mutes")["mutes"],
        serde_json::json!([])
    );
    // Not a group id: the daemon says so, and nothing is written.
    let (code, _, err) = diagbot(&["groups", "mute", "order-17", "--remote", &remote]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a group id"), "{err}");
    // A mute past any date it could end on: said, and nothing written.
    let (code, _, err) = diagbot(&[
        "groups",
        "mute",
        &id,
        "--for",
        "99999999999d",
        "--remote",
        &remote,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("a mute lasts at most 36500 days"), "{err}");
    assert_eq!(
        d.json("/api/v1/groups/mutes")["mutes"],
        serde_json::json!([])
    );
}

#[test]
fn mute_in_telegram_silences_a_group_before_it_first_shows() {
    let (fake, _dir, log, d) = start_with_bot();
    let mut rx = d.state.events.subscribe();
    wait_ticks(&d, 0, 1);
    let id = diagbot_core::groups::id::group_id(
        Some(diagbot_core::logs::level::Level::Error),
        "payment <num> failed",
    );
    // Not seen yet: refused unless forced.
    fake.say(OPERATOR, &format!("/mute {id}"));
    let sent = fake.wait_sent(1);
    assert!(
        sent[0]
            .text
            .contains(&format!("no group {id} has been seen here")),
        "{}",
        sent[0].text
    );
    fake.say(OPERATOR, &format!("/mute {id} force"));
    let sent = fake.wait_sent(2);
    assert_eq!(
        sent[1].text,
        format!("🔕 muted <code>{id}</code> until /unmute")
    );
    assert_telegram_html(&sent[1].text);

    let t = ticks(&d);
    append(&log, &line("ERROR", "payment 7 failed"));
    append(&log, &line("ERROR", "refund 3 failed"));
    wait_ticks(&d, t, 2);
    assert_eq!(
        kinds(&group_events(&d, &mut rx)),
        [("new_error_group", "refund <num> failed")]
    );
    fake.say(OPERATOR, "/mutes");
    let sent = fake.wait_sent(4);
    let alerts: Vec<&str> = sent
        .iter()
        .filter(|s| s.text.contains("New error"))
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(alerts.len(), 1, "{sent:#?}");
    assert!(alerts[0].contains("refund") && !alerts[0].contains("payment"));
    let list = &sent.last().unwrap().text;
    assert!(
        list.starts_with("<b>mutes</b>")
            && list.contains(&format!("<code>{id}</code> until /unmute · by telegram")),
        "{list}"
    );
    fake.say(OPERATOR, "/mute not-an-id");
    let sent = fake.wait_sent(5);
    assert!(
        sent[4].text.contains("is not a group id"),
        "{}",
        sent[4].text
    );
    assert_telegram_html(&sent[4].text);
}

#[test]
fn the_api_says_which_groups_are_new_from_the_stores_first_seen_times() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let log = dir.path().join("logs/crypto-bot.log");
    let at = |ago: chrono::Duration, message: &str| {
        format!(
            "{} ERROR {message}\n",
            (chrono::Local::now() - ago).format("%Y-%m-%d %H:%M:%S,%3f")
        )
    };
    // A group first seen 30 hours ago, and again within the last day.
    std::fs::write(
        &log,
        at(chrono::Duration::hours(30), "cache miss storm on shard 4")
            + &at(chrono::Duration::hours(1), "cache miss storm on shard 5"),
    )
    .unwrap();
    let d = start(dir.path(), &log, "");
    let t = wait_ticks(&d, 0, 1);
    append(&log, &line("ERROR", "payment 7 failed"));
    wait_ticks(&d, t, 2);
    d.state.store.flush();

    let answer = d.json("/api/v1/groups?level=error&since=1d");
    let group = |template: &str| {
        answer["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["template"] == template)
            .unwrap_or_else(|| panic!("no {template:?} in {answer:#}"))
            .clone()
    };
    let old = group("cache miss storm on shard <num>");
    let new = group("payment <num> failed");
    assert_eq!(old["new"], false, "{old:#}");
    assert_eq!(new["new"], true, "{new:#}");
    // The day before: the old group's one line, none of the new one's (each
    // line is counted once per configured path naming its file: here both
    // logs.paths and the service's logs, so the counts are equal, not 1).
    assert!(old["count"].as_u64() > Some(0), "{answer:#}");
    assert_eq!(old["previous_count"], old["count"], "{answer:#}");
    assert_eq!(new["previous_count"], 0, "{answer:#}");
    // Without a start to the range, new is not said.
    let all = d.json("/api/v1/groups?level=error");
    assert!(all["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["new"].is_null() && g["previous_count"].is_null()));
}

/// Many new kinds of errors in one sample (an attacker who can write to the
/// log, or a bug printing a new message each time): the most frequent few
/// are alerted one by one and the rest together, so the Telegram alerts
/// that follow (a burst, a kill) still find room; all are counted.
#[test]
fn a_flood_of_new_kinds_is_alerted_as_a_few_and_one_for_the_rest() {
    let (fake, _dir, log, d) = start_with_bot();
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    // 300 kinds, the first seen three times: one write, one sample.
    let kind = |i: u64| {
        let w: Vec<String> = (0..3).map(|k| letters(i, k)).collect();
        line("ERROR", &format!("{} failed", w.join(" ")))
    };
    let text: String = std::iter::repeat_n(kind(0), 2)
        .chain((0..300).map(kind))
        .collect();
    append(&log, &text);
    wait_ticks(&d, t, 2);
    let mut singles = Vec::new();
    let mut together = Vec::new();
    // A sample's events are sent after its tick: wait for them, not for a time.
    eventually(
        "the alert for the rest of the new groups",
        Duration::from_secs(20),
        || {
            while let Ok(e) = rx.try_recv() {
                match e {
                    Event::ErrorGroup {
                        template, count, ..
                    } => singles.push((template, count)),
                    Event::ManyErrorGroups { new, back, top, .. } => {
                        together.push((new, back, top));
                        // What comes after is not this sample's.
                        break;
                    }
                    _ => {}
                }
            }
            if together.is_empty() {
                Err(singles.len())
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(
        singles.len(),
        diagbot::daemon::new_errors::ALERTED_PER_SAMPLE,
        "{singles:?}"
    );
    assert_eq!(singles[0].1, 3, "the most frequent first: {singles:?}");
    let groups = d.json("/api/v1/groups?level=error")["groups"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(together.len(), 1, "{together:?}");
    let (new, back, top) = &together[0];
    assert_eq!(
        (*new + singles.len() as u64, *back),
        (groups - 1, 0),
        "all but the baseline's"
    );
    assert_eq!(top.len(), 3);
    // Six alerts in all, escaped, and the counter has every new group.
    let sent = fake.wait_sent(6);
    let many = sent
        .iter()
        .find(|m| m.text.contains("<b>Many new errors</b>"))
        .expect("the alert for the rest");
    assert_telegram_html(&many.text);
    assert!(
        many.text
            .contains(&format!("crypto-bot: {new} more new error groups in")),
        "{}",
        many.text
    );
    let counted = metric(
        &d.get("/metrics").1,
        &format!("diagbot_error_groups_new_total{{service=\"{SERVICE}\"}}"),
    );
    assert_eq!(counted, (groups - 1) as f64);
    assert_eq!(
        metric(
            &d.get("/metrics").1,
            "diagbot_telegram_events_dropped_total"
        ),
        0.0
    );
}

/// A flood of new kinds of errors in one service's log (an attacker who
/// can write to it, or a bug printing a new message each time): the
/// watches stay within `groups.budget`, their least recently seen groups
/// merged into "other", and `/metrics` shows the heap each holds.
#[test]
fn a_flood_of_new_kinds_of_errors_stays_within_the_groups_budget() {
    const BUDGET: f64 = 256.0 * 1024.0;
    let dir = tempfile::tempdir().unwrap();
    let log = service_log(dir.path());
    let d = start(dir.path(), &log, "[groups]\nbudget = \"256KiB\"\n");
    let mut t = wait_ticks(&d, 0, 1);
    let heap = |d: &TestDaemon| {
        metric(
            &d.get("/metrics").1,
            &format!("diagbot_error_groups_heap_bytes{{service=\"{SERVICE}\"}}"),
        )
    };
    let mut most = 0.0f64;
    for batch in 0..4u64 {
        let lines: String = (0..500)
            .map(|i| {
                let n = batch * 500 + i;
                let words: Vec<String> = (0..60).map(|k| letters(n, k)).collect();
                line("ERROR", &words.join(" "))
            })
            .collect();
        append(&log, &lines);
        t = wait_ticks(&d, t, 2);
        // The groups within the budget; on top, what the watch knows of the
        // kinds it saw (ids, first and last seen: under 100 bytes a kind).
        let now = heap(&d);
        let known = 100.0 * 2000.0;
        assert!(
            now > 0.0 && now <= BUDGET + known,
            "batch {batch}: {now} bytes"
        );
        most = most.max(now);
    }
    // 2000 groups of 600-byte lines would hold about 4 MiB.
    assert!(most > BUDGET / 2.0, "the watch held {most} bytes at most");
    // The groups the log showed first were merged away; the newest stay.
    let watches = d.state.error_watches.lock().unwrap();
    assert!(watches[SERVICE].groups_heap_size() as f64 <= BUDGET);
}

/// Without a daemon, each command that asks one says so and how to start
/// it, and exits 2: a mute, the list of mutes, and any `--remote`.
#[test]
fn without_a_daemon_the_commands_that_ask_one_say_to_start_it() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["groups", "mute", "0123456789abcdef", "--remote", &url],
        vec!["groups", "mutes", "--remote", &url],
        vec!["status", "--remote", &url],
        vec!["groups", "--remote", &url],
    ] {
        let (code, _, err) = diagbot(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("cannot reach the daemon at {url}/api/v1/"))
                && err.contains("(is `diagbot serve` running?)"),
            "{args:?}: {err}"
        );
    }
}

/// Nine letters made of `n` and `salt` (no digits, which would be masked):
/// a word of its own for each pair.
fn letters(n: u64, salt: u64) -> String {
    let mut x = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    (0..9)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// A request id in every line's header (`[req-<uuid> …]`) is header, not
/// message: three failed requests of one kind are one new error, alerted
/// once (it was one group, and one alert, per request).
#[test]
fn a_request_id_in_the_header_makes_one_alert_for_one_kind_of_error() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let log = dir.path().join("logs/crypto-bot.log");
    let stamp = || {
        chrono::Local::now()
            .format("%Y-%m-%d %H:%M:%S,%3f")
            .to_string()
    };
    let request =
        |n: u32| format!("[req-{n:08x}-4b7a-4f0e-9a51-3c2f1b9e8d{n:02x} 113d3a99c3da401f - - -]");
    let mut baseline = String::new();
    for n in 0..12 {
        baseline.push_str(&format!(
            "{} 2513 INFO bot.api {} GET /orders/{n} status: 200\n",
            stamp(),
            request(n)
        ));
    }
    std::fs::write(&log, baseline).unwrap();
    let d = start(dir.path(), &log, &telegram_config(api, ""));
    let mut rx = d.state.events.subscribe();
    let t = wait_ticks(&d, 0, 1);
    for n in 20..23 {
        append(
            &log,
            &format!(
                "{} 2513 ERROR bot.api {} POST /orders failed: exchange timeout after 30s\n",
                stamp(),
                request(n)
            ),
        );
    }
    wait_ticks(&d, t, 2);
    let got = group_events(&d, &mut rx);
    assert_eq!(got.len(), 1, "one kind of error, one alert: {got:?}");
    assert_eq!(got[0].1, "POST <path> failed: exchange timeout after <num>");
    let sent = fake.wait_sent(1);
    assert_eq!(
        sent.iter().filter(|s| s.text.contains("New error")).count(),
        1
    );
}

/// Issue 26, 10 and 11: mutes are capped (the next is refused with 409 and
/// the reason, nothing written), and `/mutes` in Telegram over a full list
/// with 64-character `by` fields is one message within Telegram's limit,
/// saying it was cut (it was 5,537 characters, refused by the Bot API).
#[test]
fn mutes_are_capped_and_a_long_list_fits_one_telegram_message() {
    let (fake, _dir, _log, d) = start_with_bot();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let by = "b".repeat(64);
    let post = |n: usize| {
        let mut r = agent
            .post(&d.url("/api/v1/groups/mute"))
            .header("Content-Type", "application/json")
            .send(
                serde_json::json!({ "id": format!("{n:016x}"), "by": by, "force": true })
                    .to_string(),
            )
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let max = diagbot::history::groups::MAX_MUTES;
    // An id no watch has seen is refused unless forced.
    let mut r = agent
        .post(&d.url("/api/v1/groups/mute"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({ "id": "00000000000000ff" }).to_string())
        .unwrap();
    let said = r.body_mut().read_to_string().unwrap();
    assert_eq!(r.status().as_u16(), 404, "{said}");
    assert!(said.contains("has been seen here"), "{said}");
    assert_eq!(
        d.json("/api/v1/groups/mutes")["mutes"],
        serde_json::json!([])
    );
    for n in 0..max {
        let (code, body) = post(n + 1);
        assert_eq!(code, 200, "mute {n}: {body}");
    }
    let (code, body) = post(max + 1);
    assert_eq!(code, 409, "{body}");
    assert!(
        body.contains("the most there may be: unmute one first"),
        "{body}"
    );
    // Muting one already muted again is not a new one.
    assert_eq!(post(1).0, 200);
    assert_eq!(
        d.json("/api/v1/groups/mutes")["mutes"]
            .as_array()
            .unwrap()
            .len(),
        max
    );
    fake.say(OPERATOR, "/mutes");
    let sent = fake.wait_sent(1);
    let list = &sent[0].text;
    assert!(list.starts_with("<b>mutes</b>"), "{list}");
    assert!(
        list.chars().count() <= 4096,
        "{} characters",
        list.chars().count()
    );
    assert!(list.contains("cut to fit Telegram's limit"), "{list}");
    assert_telegram_html(list);
}
