//! The Telegram bot against a fake Bot API that this suite serves on
//! 127.0.0.1:0: it scripts updates, answers `GetMe`, `GetUpdates`,
//! `SendMessage` and `SendChatAction` (teloxide capitalises method names), can
//! answer 429 or be unreachable, and records what the bot sent.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{eventually, metric, setup, TestDaemon, Text};
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use diagbot_core::health::Event;
use diagbot_core::probe::oom::OomKill;
use serde_json::{json, Value};

const TOKEN: &str = "123456789:AAFakeTokenForTestsOnly_xyz-0123456789";
pub(crate) const OPERATOR: i64 = 4242;
const STRANGER: i64 = 666;

#[derive(Debug, Clone)]
pub(crate) struct Sent {
    chat: i64,
    pub(crate) text: String,
    parse_mode: Option<String>,
    at: Instant,
}

/// How the fake answers the next `SendMessage`.
#[derive(Debug, Clone, Copy)]
enum Answer {
    RetryAfter(u64),
    /// 400 "can't parse entities", to HTML only.
    CantParseHtml,
}

#[derive(Default)]
struct FakeState {
    updates: VecDeque<Value>,
    next_update: u64,
    sent: Vec<Sent>,
    actions: Vec<(i64, String)>,
    script: VecDeque<Answer>,
    send_attempts: Vec<Instant>,
    wrong_token: bool,
}

#[derive(Clone, Default)]
pub(crate) struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.0.lock().unwrap()
    }

    /// A message from `chat`, delivered at the next `GetUpdates`.
    pub(crate) fn say(&self, chat: i64, text: &str) {
        let mut s = self.lock();
        s.next_update += 1;
        let id = s.next_update;
        s.updates.push_back(json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": 1_772_186_400,
                "chat": { "id": chat, "type": "private", "first_name": "Op" },
                "from": { "id": chat, "is_bot": false, "first_name": "Op" },
                "text": text,
            }
        }));
    }

    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// Waits until `n` messages were sent (at most 30 s) and returns them.
    pub(crate) fn wait_sent(&self, n: usize) -> Vec<Sent> {
        eventually(
            &format!("{n} messages sent"),
            Duration::from_secs(30),
            || {
                let sent = self.sent();
                if sent.len() >= n {
                    Ok(sent)
                } else {
                    Err(sent)
                }
            },
        )
    }

    /// Waits until the answer to `/cache` was sent to the operator (at most
    /// 30 s) and returns all sent so far.
    pub(crate) fn wait_cache_answer(&self) -> Vec<Sent> {
        eventually(
            "the answer to /cache sent to the operator",
            Duration::from_secs(30),
            || {
                let sent = self.sent();
                if sent
                    .iter()
                    .any(|s| s.chat == OPERATOR && s.text.starts_with("<b>cache</b>"))
                {
                    Ok(sent)
                } else {
                    Err(sent)
                }
            },
        )
    }
}

async fn bot_api(
    State(fake): State<Fake>,
    UrlPath((bot, method)): UrlPath<(String, String)>,
    body: Option<Json<Value>>,
) -> axum::response::Response {
    if bot != format!("bot{TOKEN}") {
        fake.lock().wrong_token = true;
        let body = json!({"ok": false, "error_code": 401, "description": "Unauthorized"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    match method.to_ascii_lowercase().as_str() {
        "getme" => Json(json!({ "ok": true, "result": {
            "id": 1, "is_bot": true, "first_name": "diagbot", "username": "diagbot_test_bot",
            "can_join_groups": false, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        }}))
        .into_response(),
        "getupdates" => {
            let offset = body["offset"].as_u64().unwrap_or(0);
            let updates: Vec<Value> = {
                let mut s = fake.lock();
                s.updates
                    .retain(|u| u["update_id"].as_u64().unwrap() >= offset);
                s.updates.iter().cloned().collect()
            };
            if updates.is_empty() {
                // A real server holds the request; a short wait keeps the poller from spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Json(json!({ "ok": true, "result": updates })).into_response()
        }
        "sendchataction" => {
            fake.lock().actions.push((
                body["chat_id"].as_i64().unwrap(),
                body["action"].as_str().unwrap_or("").to_string(),
            ));
            Json(json!({ "ok": true, "result": true })).into_response()
        }
        "sendmessage" => {
            let mut s = fake.lock();
            s.send_attempts.push(Instant::now());
            match s.script.front().copied() {
                Some(Answer::RetryAfter(secs)) => {
                    s.script.pop_front();
                    let body = json!({
                        "ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {secs}"),
                        "parameters": { "retry_after": secs }
                    });
                    return (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                }
                Some(Answer::CantParseHtml) if body["parse_mode"] == "HTML" => {
                    s.script.pop_front();
                    let body = json!({
                        "ok": false, "error_code": 400,
                        "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"
                    });
                    return (StatusCode::BAD_REQUEST, Json(body)).into_response();
                }
                _ => {}
            }
            let chat = body["chat_id"].as_i64().unwrap();
            let text = body["text"].as_str().unwrap().to_string();
            s.sent.push(Sent {
                chat,
                text: text.clone(),
                parse_mode: body["parse_mode"].as_str().map(str::to_string),
                at: Instant::now(),
            });
            let id = s.sent.len();
            Json(json!({ "ok": true, "result": {
                "message_id": id, "date": 1_772_186_400,
                "chat": { "id": chat, "type": "private", "first_name": "Op" },
                "from": { "id": 1, "is_bot": true, "first_name": "diagbot" },
                "text": text,
            }}))
            .into_response()
        }
        other => (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error_code": 404, "description": format!("Not Found: {other}")})),
        )
            .into_response(),
    }
}

/// Serves the fake on `listener` (bound by the caller) from a thread of its own.
fn serve_fake_on(listener: std::net::TcpListener, fake: Fake) {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new()
                .route("/{bot}/{method}", axum::routing::post(bot_api))
                .with_state(fake);
            axum::serve(listener, app).await.unwrap();
        });
    });
}

pub(crate) fn serve_fake(fake: Fake) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    serve_fake_on(listener, fake);
    addr
}

pub(crate) fn telegram_config(api: SocketAddr, extra: &str) -> String {
    format!(
        "[telegram]\ntoken = {TOKEN:?}\napi_url = \"http://{api}\"\nallowed_chats = [{OPERATOR}]\nalert_chats = [{OPERATOR}]\n{extra}"
    )
}

/// Checks `html` against Telegram's HTML rules: only its tags, balanced; `&`
/// only in the four entities; no bare `<` or `>`.
pub(crate) fn assert_telegram_html(html: &str) {
    const TAGS: [&str; 8] = ["b", "i", "u", "s", "code", "pre", "a", "blockquote"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(['<', '>', '&']) {
        let (c, after) = (rest.as_bytes()[i], &rest[i..]);
        match c {
            b'&' => {
                let entity = ["&lt;", "&gt;", "&amp;", "&quot;"]
                    .iter()
                    .find(|e| after.starts_with(**e))
                    .unwrap_or_else(|| panic!("a bare & in {html:?}"));
                rest = &after[entity.len()..];
            }
            b'>' => panic!("a bare > in {html:?}"),
            _ => {
                let end = after
                    .find('>')
                    .unwrap_or_else(|| panic!("an open < in {html:?}"));
                let tag = &after[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    assert_eq!(open.pop().as_deref(), Some(name), "unbalanced in {html:?}");
                } else {
                    let name = tag.split_whitespace().next().unwrap();
                    assert!(TAGS.contains(&name), "tag <{name}> in {html:?}");
                    open.push(name.to_string());
                }
                rest = &after[end + 1..];
            }
        }
    }
    assert!(open.is_empty(), "unclosed {open:?} in {html:?}");
}

/// A log with lines that must arrive escaped, and invalid UTF-8.
fn hostile_log(dir: &std::path::Path) {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(
        b"2026-02-27 10:00:00 ERROR <script>alert(1)</script> & </b> <i>not markup\n",
    );
    bytes.extend_from_slice(b"2026-02-27 10:00:01 ERROR bad bytes \xff\xfe here\n");
    for i in 0..300 {
        bytes.extend_from_slice(
            format!(
                "2026-02-27 10:01:{:02} ERROR request {i} failed: upstream timed out <&>\n",
                i % 60
            )
            .as_bytes(),
        );
    }
    std::fs::write(dir.join("hostile.log"), bytes).unwrap();
}

#[test]
fn commands_are_answered_from_the_same_queries_and_escaped() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    // A generous rate limit: this test is about answers, not pacing.
    let (_dir, logs, config_file) = setup(&telegram_config(
        api,
        "commands_per_second = 1000
",
    ));
    hostile_log(&logs);
    let d = TestDaemon::start(&config_file);

    fake.say(OPERATOR, "/help");
    let help = &fake.wait_sent(1)[0];
    assert_eq!(help.chat, OPERATOR);
    assert_eq!(help.parse_mode.as_deref(), Some("HTML"));
    assert!(
        help.text
            .contains("/grep &lt;pattern&gt; [service] [since]"),
        "{}",
        help.text
    );

    // An unknown command gets the help.
    fake.say(OPERATOR, "/frobnicate");
    assert_eq!(fake.wait_sent(2)[1].text, help.text);

    // /grep: 300 lines arrive under the limit, markup intact, the newest kept.
    fake.say(OPERATOR, "/grep timed out");
    let grep = fake.wait_sent(3)[2].clone();
    assert!(grep.text.chars().count() < 4096, "{}", grep.text.len());
    assert_telegram_html(&grep.text);
    assert!(grep.text.contains("300 matching lines"), "{}", grep.text);
    assert!(grep
        .text
        .contains("request 299 failed: upstream timed out &lt;&amp;&gt;"));
    assert!(
        grep.text
            .contains("not shown; all of them: <code>diagbot grep"),
        "{}",
        grep.text
    );
    // The same answer the HTTP API gives.
    let api_answer = d.json("/api/v1/grep?pattern=timed%20out");
    assert_eq!(api_answer["matches"], 300);

    // /errors: the hostile line escaped, invalid UTF-8 replaced.
    // /errors is what the background refresh keeps warm: no scan of its own.
    d.wait_for_first_refresh();
    let loads = metric(&d.get("/metrics").1, "diagbot_cache_loads_total");
    fake.say(OPERATOR, "/errors");
    let errors = fake.wait_sent(4)[3].clone();
    assert_telegram_html(&errors.text);
    assert!(
        // app.log's 3 (its traceback is part of its line) and hostile.log's 302.
        errors.text.starts_with("<b>errors</b>: 305 errors"),
        "{}",
        errors.text
    );
    assert_eq!(
        metric(&d.get("/metrics").1, "diagbot_cache_loads_total"),
        loads
    );
    fake.say(OPERATOR, "/grep script|bad bytes");
    let hostile = fake.wait_sent(5)[4].clone();
    assert_telegram_html(&hostile.text);
    assert!(
        hostile
            .text
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/b&gt; &lt;i&gt;not markup"),
        "{}",
        hostile.text
    );
    assert!(
        hostile.text.contains("bad bytes \u{fffd}\u{fffd} here"),
        "{}",
        hostile.text
    );

    // A bad regex is a clear message, not a failure.
    fake.say(OPERATOR, "/grep (unclosed");
    let bad = fake.wait_sent(6)[5].clone();
    assert!(bad.text.contains("invalid pattern"), "{}", bad.text);

    fake.say(OPERATOR, "/status");
    let status = fake.wait_sent(7)[6].clone();
    assert_telegram_html(&status.text);
    assert!(status.text.contains("<b>memory</b>"), "{}", status.text);
    fake.say(OPERATOR, "/cache");
    let cache = fake.wait_sent(8)[7].clone();
    assert!(cache.text.starts_with("<b>cache</b>"), "{}", cache.text);
    fake.say(OPERATOR, "/oom 1h");
    let oom = fake.wait_sent(9)[8].clone();
    assert_telegram_html(&oom.text);
    assert!(
        oom.text.contains("OOM kill(s)</b> since 1h"),
        "{}",
        oom.text
    );

    let metrics = d.get("/metrics").1;
    assert_eq!(
        metric(
            &metrics,
            "diagbot_telegram_commands_total{command=\"grep\"}"
        ),
        3.0
    );
    assert!(metric(&metrics, "diagbot_telegram_updates_total") >= 9.0);
    assert!(metric(&metrics, "diagbot_telegram_sent_total") >= 9.0);
    assert!(!fake.lock().wrong_token);
}

#[test]
fn strangers_get_one_refusal_with_their_chat_id_and_no_data() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let (_dir, _logs, config_file) = setup(&telegram_config(api, ""));
    let d = TestDaemon::start(&config_file);
    fake.say(STRANGER, "/status");
    fake.say(STRANGER, "/errors");
    fake.say(STRANGER, "/grep .");
    // Then the operator, so we know the stranger's messages were all handled:
    // their refusals were queued before its answer, and are sent in turn.
    fake.say(OPERATOR, "/cache");
    let sent = fake.wait_cache_answer();
    let sent_to_stranger: Vec<&Sent> = sent.iter().filter(|s| s.chat == STRANGER).collect();
    assert_eq!(sent_to_stranger.len(), 1, "{sent:#?}");
    assert!(sent_to_stranger[0]
        .text
        .contains(&format!("<code>{STRANGER}</code>")));
    assert!(!sent_to_stranger[0].text.contains("memory"));
    let metrics = d.get("/metrics").1;
    assert_eq!(metric(&metrics, "diagbot_telegram_refused_total"), 3.0);
}

/// With `[[formats]]` configured, /errors is still the refresh's own query (a
/// cache hit), a window selects lines only the format reads, and files whose
/// lines it cannot place are the answer's last line, escaped.
#[test]
fn formats_apply_and_window_warnings_are_the_last_line() {
    use crate::formats::{SHOP_FORMAT, SHOP_LOG};
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let (_dir, logs, config_file) = setup(&telegram_config(
        api,
        &format!("commands_per_second = 1000\n{SHOP_FORMAT}"),
    ));
    std::fs::write(logs.join("shop-1.log"), SHOP_LOG).unwrap();
    std::fs::write(
        logs.join("odd<&>.log"),
        "payment 9 has no time\npayment 10 neither\n",
    )
    .unwrap();
    let d = TestDaemon::start(&config_file);
    d.wait_for_first_refresh();
    let loads = metric(&d.get("/metrics").1, "diagbot_cache_loads_total");
    fake.say(OPERATOR, "/errors");
    let errors = fake.wait_sent(1)[0].clone();
    assert!(
        errors.text.starts_with("<b>errors</b>: 6 errors"),
        "app.log's 3 (a traceback is part of its line) and shop-1.log's 3: {}",
        errors.text
    );
    assert!(!errors.text.contains('⚠'), "{}", errors.text);
    assert_eq!(
        metric(&d.get("/metrics").1, "diagbot_cache_loads_total"),
        loads,
        "/errors was not the refresh's query"
    );

    let warning = "\n<i>⚠ odd&lt;&amp;&gt;.log: no timestamps recognised in 2 lines; \
                   the window cannot select its lines</i>";
    fake.say(OPERATOR, "/grep payment 2026-01-27T10:30:00");
    let grep = fake.wait_sent(2)[1].clone();
    assert_telegram_html(&grep.text);
    assert!(
        grep.text.contains("2 matching lines in 1 of 3 files"),
        "{}",
        grep.text
    );
    assert!(grep.text.contains("payment 4 failed"), "{}", grep.text);
    assert!(grep.text.ends_with(warning), "{}", grep.text);
    fake.say(OPERATOR, "/errors 2026-01-27T10:30:00");
    let windowed = fake.wait_sent(3)[2].clone();
    assert_telegram_html(&windowed.text);
    assert!(windowed.text.ends_with(warning), "{}", windowed.text);
}

/// Past the burst (`telegram.command_burst`), one notice and then silence.
#[test]
fn a_burst_of_commands_is_slowed_down_politely() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let (_dir, _logs, config_file) = setup(&telegram_config(api, "command_burst = 3\n"));
    let d = TestDaemon::start(&config_file);
    for _ in 0..8 {
        fake.say(OPERATOR, "/cache");
    }
    // Every command handled (its answer, or the notice, queued when it was
    // read), and every answer that was started sent.
    let sent = eventually(
        "the 8 commands handled and their answers sent",
        Duration::from_secs(30),
        || {
            let metrics = d.get("/metrics").1;
            let sent = fake.sent();
            let answers = sent
                .iter()
                .filter(|s| s.text.starts_with("<b>cache</b>"))
                .count() as f64;
            let handled = metric(&metrics, "diagbot_telegram_updates_total") >= 8.0
                && metric(
                    &metrics,
                    "diagbot_telegram_commands_total{command=\"cache\"}",
                ) == answers
                && metric(&metrics, "diagbot_telegram_outbox") == 0.0
                && sent.len() >= 4;
            if handled {
                Ok(sent)
            } else {
                Err(Text(format!("{sent:#?}\n{metrics}")))
            }
        },
    );
    let answers = sent
        .iter()
        .filter(|s| s.text.starts_with("<b>cache</b>"))
        .count();
    let notices = sent
        .iter()
        .filter(|s| s.text.starts_with("Slow down"))
        .count();
    assert_eq!((answers, notices), (3, 1), "{sent:#?}");
    // The notice says the limits configured, not the defaults.
    let notice = sent
        .iter()
        .find(|s| s.text.starts_with("Slow down"))
        .unwrap();
    assert_eq!(
        notice.text,
        "Slow down, please: 1 command a second (bursts of 3)."
    );
}

fn oom_event(pid: u32) -> Event {
    Event::OomKill {
        service: Some("crypto-bot".into()),
        victim: Some(OomKill {
            time: None,
            pid: Some(pid),
            process: Some("python3".into()),
            rss_bytes: Some(552 << 20),
            total_vm_bytes: None,
            cgroup: None,
            constraint: None,
            service: Some("crypto-bot".into()),
            restart_counter: None,
            returned_as: None,
            sources: vec!["kernel log".into()],
        }),
        ran_secs: None,
    }
}

#[test]
fn alerts_wait_out_retry_after_and_repeats_are_held_back() {
    let fake = Fake::default();
    fake.lock().script.push_back(Answer::RetryAfter(1));
    let api = serve_fake(fake.clone());
    let (_dir, _logs, config_file) = setup(&telegram_config(api, "alert_cooldown = \"2s\"\n"));
    let d = TestDaemon::start(&config_file);
    // Wait for the bot to be up (its first poll), then 50 identical OOM alerts.
    fake.say(OPERATOR, "/cache");
    fake.wait_sent(1);
    let raised = Instant::now();
    fake.lock().script.push_back(Answer::RetryAfter(1));
    for i in 0..50 {
        d.state.events.send(oom_event(900 + i)).unwrap();
    }
    let sent = fake.wait_sent(2);
    let alert = &sent[1];
    assert!(alert.text.contains("<b>OOM kill</b>"), "{}", alert.text);
    assert!(
        alert
            .text
            .contains("python3 (pid 900) killed at 552 MiB RSS"),
        "{}",
        alert.text
    );
    assert!(
        alert.at.duration_since(raised) >= Duration::from_secs(1),
        "sent before retry_after ran out"
    );
    // The 429 was one attempt, the alert was sent once.
    assert_eq!(
        sent.iter().filter(|s| s.text.contains("pid 900")).count(),
        1
    );
    // After the cooldown: one summary of the 49 held back.
    let sent = fake.wait_sent(3);
    assert!(
        sent[2]
            .text
            .contains("49 more like this in the last 1 min, held back"),
        "{}",
        sent[2].text
    );
    assert!(
        sent[2].text.contains("pid 949"),
        "the summary shows the latest: {}",
        sent[2].text
    );
    // Nothing more: an answer asked for now comes next, after everything
    // queued before it.
    fake.say(OPERATOR, "/cache");
    let sent = fake.wait_sent(4);
    assert_eq!(sent.len(), 4, "{sent:#?}");
    assert!(sent[3].text.starts_with("<b>cache</b>"), "{sent:#?}");
    let metrics = d.get("/metrics").1;
    assert_eq!(
        metric(&metrics, "diagbot_telegram_alerts_total{kind=\"oom_kill\"}"),
        50.0
    );
    // The history keeps the alerts given out: the first, and the summary.
    let alerts = eventually(
        "the two alerts in the history",
        Duration::from_secs(30),
        || {
            let history = d.json("/api/v1/history?since=10m&series=host.load1");
            let alerts: Vec<String> = history["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "alert")
                .map(|e| e["message"].as_str().unwrap().to_string())
                .collect();
            if alerts.len() == 2 {
                Ok(alerts)
            } else {
                Err(alerts)
            }
        },
    );
    assert!(alerts[0].starts_with("alert to 1 chat(s): "), "{alerts:?}");
    assert!(alerts[0].contains("pid 900"), "{alerts:?}");
    // Text, not Telegram's HTML: the events list shows it as it reads.
    assert!(
        alerts[0].starts_with("alert to 1 chat(s): ⚠ OOM kill · "),
        "{alerts:?}"
    );
    assert!(
        !alerts[0].contains("<b>") && !alerts[0].contains('\n'),
        "{alerts:?}"
    );
    assert!(alerts[1].contains("49 like it held back"), "{alerts:?}");
}

#[test]
fn with_the_bot_api_down_alerts_queue_and_the_http_api_answers() {
    // A port with nothing on it yet: the Bot API is down.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap();
    drop(listener);
    let (_dir, _logs, config_file) = setup(&telegram_config(api, "outbox_size = 3\n"));
    let d = TestDaemon::start(&config_file);
    // The alerter is listening once the bot has started.
    eventually("the bot to start", Duration::from_secs(10), || {
        d.state.events.receiver_count() > 0
    });
    for i in 0..5 {
        d.state
            .events
            .send(Event::Restart {
                service: format!("svc{i}"),
                restarts: 1,
                last_result: None,
                pid: None,
            })
            .unwrap();
    }
    // A send fails; meanwhile the daemon answers.
    eventually("a failed send", Duration::from_secs(20), || {
        metric(&d.get("/metrics").1, "diagbot_telegram_send_failures_total") >= 1.0
    });
    assert_eq!(d.get("/healthz").0, 200);
    assert_eq!(d.json("/api/v1/errors")["kind"], "errors");
    // The outbox kept the newest; with one message in the sender's hands, at most 3 + 1 arrive.
    let listener = std::net::TcpListener::bind(api).unwrap();
    let fake = Fake::default();
    serve_fake_on(listener, fake.clone());
    let sent = fake.wait_sent(3);
    // Once the bot polls again, an answer asked for now is sent after
    // everything queued before it: then no more alerts can arrive.
    fake.say(OPERATOR, "/cache");
    let sent_now = fake.wait_cache_answer();
    let alerts = sent_now
        .iter()
        .filter(|s| s.text.contains(" restarted"))
        .count();
    assert!(alerts <= 4, "{sent_now:#?}");
    assert!(
        sent.iter().any(|s| s.text.contains("svc4 restarted")),
        "{sent:#?}"
    );
    let metrics = d.get("/metrics").1;
    assert!(
        metric(&metrics, "diagbot_telegram_outbox_dropped_total") >= 1.0,
        "{metrics}"
    );
}

/// A slow answer (here a `systemctl` that takes a second) shows "typing" first.
#[test]
fn a_slow_answer_shows_typing() {
    use std::os::unix::fs::PermissionsExt;
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    let systemctl = dir.path().join("systemctl");
    std::fs::write(&systemctl, "#!/bin/sh\nsleep 1\necho ActiveState=active\n").unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (_dir, _logs, config_file) = setup(&format!(
        "[system]\nsystemctl = {systemctl:?}\n[[services]]\nname = \"bot\"\nunit = \"bot.service\"\n{}",
        telegram_config(api, "")
    ));
    let _d = TestDaemon::start(&config_file);
    fake.say(OPERATOR, "/services");
    let sent = fake.wait_sent(1);
    assert!(
        sent[0].text.contains("<b>bot</b> active"),
        "{}",
        sent[0].text
    );
    assert_eq!(fake.lock().actions, vec![(OPERATOR, "typing".to_string())]);
}

/// The real binary, with the Bot API unreachable at first: errors are
/// logged, and the token is in none of its output, nor in `config check` or
/// the metrics.
#[test]
fn the_token_is_never_shown() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap();
    drop(listener);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, _logs, config_file) = setup(&format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n[log]\nlevel = \"debug\"\n{}",
        telegram_config(api, "")
    ));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diagbot"))
        .args(["serve", "--config"])
        .arg(&config_file)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its output, as it comes (read by threads, so no pipe fills).
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|mut pipe| {
        let output = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut pipe, &mut buf) {
                output.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    })
    .collect();
    let logs = || String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    // Until the API answers and the first failed getMe was logged.
    let metrics = eventually("the daemon to answer", Duration::from_secs(20), || {
        let url = format!("http://127.0.0.1:{port}/metrics");
        ureq::get(&url)
            .call()
            .map(|mut r| r.body_mut().read_to_string().unwrap())
    });
    eventually(
        "the first failed getMe in the log",
        Duration::from_secs(20),
        || {
            let logs = logs();
            if logs.contains("telegram: getMe failed") {
                Ok(())
            } else {
                Err(Text(logs))
            }
        },
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    let logs = logs();
    assert!(logs.contains("telegram: getMe failed"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
    let secret = TOKEN.split_once(':').unwrap().1;
    assert!(!logs.contains(secret), "{logs}");
    assert!(!metrics.contains(secret));
    let check = assert_cmd::Command::cargo_bin("diagbot")
        .unwrap()
        .args(["config", "check"])
        .arg(&config_file)
        .output()
        .unwrap();
    let check = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.contains("[telegram]\ntoken = \"\"   # set, not shown"),
        "{check}"
    );
    assert!(!check.contains(secret), "{check}");
}

/// /oom and /services on fixture health data: the original incident.
#[test]
fn oom_and_services_answer_from_fixture_health_data() {
    use std::os::unix::fs::PermissionsExt;
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let dir = tempfile::tempdir().unwrap();
    let kern_log = dir.path().join("kern.log");
    std::fs::write(
        &kern_log,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/kern-oom.log"
        )),
    )
    .unwrap();
    let systemctl = dir.path().join("systemctl");
    std::fs::write(
        &systemctl,
        "#!/bin/sh\nprintf 'ActiveState=failed\\nSubState=failed\\nNRestarts=5\\nResult=oom-kill\\n'\n",
    )
    .unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (_dir, _logs, config_file) = setup(&format!(
        "[system]\nkernel_log = {kern_log:?}\nkmsg = \"\"\nsystemctl = {systemctl:?}\njournalctl = \"/nonexistent/journalctl\"\n\
         [[services]]\nname = \"crypto-bot\"\nunit = \"crypto-bot.service\"\n{}",
        telegram_config(api, "")
    ));
    let _d = TestDaemon::start(&config_file);
    fake.say(OPERATOR, "/oom");
    let oom = fake.wait_sent(1)[0].text.clone();
    assert_telegram_html(&oom);
    assert!(oom.starts_with("<b>1 OOM kill(s)</b>"), "{oom}");
    assert!(
        oom.contains("2026-02-27 10:00:00 python3 (pid 908) RSS 552.2 MiB in crypto-bot"),
        "{oom}"
    );
    fake.say(OPERATOR, "/services");
    let services = fake.wait_sent(2)[1].text.clone();
    assert_telegram_html(&services);
    assert!(
        services.starts_with("<b>crypto-bot</b> failed (failed), 5 restarts, last result oom-kill"),
        "{services}"
    );
}

/// Markup Telegram refuses (a bug, were it to happen) still gets the words
/// through, as plain text.
#[test]
fn refused_markup_falls_back_to_plain_text() {
    let fake = Fake::default();
    fake.lock().script.push_back(Answer::CantParseHtml);
    let api = serve_fake(fake.clone());
    let (_dir, _logs, config_file) = setup(&telegram_config(api, ""));
    let _d = TestDaemon::start(&config_file);
    fake.say(OPERATOR, "/help");
    let sent = fake.wait_sent(1);
    assert_eq!(sent[0].parse_mode, None);
    assert!(
        sent[0].text.starts_with("diagbot answers:\n/status"),
        "{}",
        sent[0].text
    );
    assert!(
        sent[0].text.contains("/grep <pattern> [service] [since]"),
        "{}",
        sent[0].text
    );
}

/// A token the Bot API refuses turns the bot off; the daemon goes on.
#[test]
fn a_refused_token_stops_the_bot_not_the_daemon() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let config = telegram_config(api, "").replace(TOKEN, "123456789:AAWrongTokenWrongToken");
    let (_dir, _logs, config_file) = setup(&config);
    let d = TestDaemon::start(&config_file);
    eventually(
        "a getMe with the wrong token",
        Duration::from_secs(10),
        || fake.lock().wrong_token,
    );
    // The bot is off: its alerter, listening since it started, is gone with it.
    eventually("the bot to stop", Duration::from_secs(10), || {
        d.state.events.receiver_count() == 0
    });
    fake.say(OPERATOR, "/help");
    assert!(fake.sent().is_empty());
    assert_eq!(fake.lock().updates.len(), 1, "nobody polled");
    assert_eq!(d.get("/healthz").0, 200);
}

/// `/history`: the origin story's hour from the store, as sparklines with
/// where each series went, and the kill among the events; one service, a
/// range, and a service that is not there.
#[test]
fn history_shows_the_stored_hour_with_its_kill() {
    let fake = Fake::default();
    let api = serve_fake(fake.clone());
    let (dir, _logs, config_file) = setup(&telegram_config(
        api,
        "commands_per_second = 1000\n\
         [[services]]\nname = \"crypto-bot\"\nprocess = { pidfile = \"/nonexistent/bot.pid\" }\n",
    ));
    let db = dir.path().join("history").join("diagbot.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    crate::common::store_origin_hour(&db, chrono::Utc::now().timestamp());
    let _d = TestDaemon::start(&config_file);

    fake.say(OPERATOR, "/history");
    let all = fake.wait_sent(1)[0].text.clone();
    assert_telegram_html(&all);
    assert!(
        all.starts_with("<b>history</b> since 24h, a bar every 1 h"),
        "{all}"
    );
    assert!(all.contains("\n<b>memory used</b> <code>"), "{all}");
    assert!(all.contains("\n<b>crypto-bot RSS</b> <code>"), "{all}");
    assert!(
        all.contains("<i>oom_kill</i> crypto-bot: OOM kill in crypto-bot: python3 (pid 4242) killed at 550 MiB RSS"),
        "{all}"
    );

    // The last hour of one service, a bar every 3 min: the climb, the
    // kill and the climb again, peaking just before the kill.
    fake.say(OPERATOR, "/history crypto-bot 1h");
    let one = fake.wait_sent(2)[1].text.clone();
    assert_telegram_html(&one);
    assert!(
        one.starts_with("<b>history</b> since 1h, a bar every 3 min"),
        "{one}"
    );
    let line = one
        .lines()
        .find(|l| l.starts_with("<b>crypto-bot RSS</b>"))
        .unwrap_or_else(|| panic!("{one}"));
    assert!(line.contains(", peak 540.0 MiB"), "{line}");
    assert!(!one.contains("memory used"), "{one}");

    fake.say(OPERATOR, "/history <b>nosuch</b>");
    let none = fake.wait_sent(3)[2].text.clone();
    assert_telegram_html(&none);
    assert_eq!(
        none,
        "⚠ no service <b>&lt;b&gt;nosuch&lt;/b&gt;</b>; the services: crypto-bot"
    );
    // A range that is not one is said to be so, not taken for a service.
    fake.say(OPERATOR, "/history 999y");
    let bad = fake.wait_sent(4)[3].text.clone();
    assert!(bad.starts_with("⚠ <b>999y</b> is not a time: "), "{bad}");
    fake.say(OPERATOR, "/history 1h crypto-bot");
    let swapped = fake.wait_sent(5)[4].text.clone();
    assert!(swapped.starts_with("<b>history</b> since 1h"), "{swapped}");
}
