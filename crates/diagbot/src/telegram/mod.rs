//! The Telegram bot: commands by long polling, and alerts. Three tasks share
//! one bounded outbox:
//!
//! - the poller reads updates, checks each chat against the allowlist and the
//!   rate limit, and answers commands from the same queries and cache as the
//!   CLI and HTTP;
//! - the alerter turns health events into alerts, each key at most once per
//!   cooldown, with a summary of the repeats held back;
//! - the sender delivers the outbox, waiting out `retry_after` on 429 and
//!   backing off on 5xx and network errors.
//!
//! None of them blocks the rest of the daemon: with Telegram down, the HTTP
//! API and refreshes go on, and the outbox drops its oldest messages. The
//! token never appears in a log line or an error (teloxide hides it in
//! network errors; every other message is scrubbed here too).

pub mod commands;
pub mod guard;
pub mod history;
pub mod mutes;
pub mod outbox;
pub mod render;
pub mod top;
pub mod views;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::settings::TelegramSettings;
use diagbot_core::health::Event;
use teloxide::payloads::{GetUpdatesSetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{AllowedUpdate, ChatAction, ChatId, ParseMode, UpdateKind};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::broadcast::error::RecvError;

use crate::history::feed;
use crate::state::AppState;
use guard::{Guard, Verdict};
use outbox::{Cooldowns, Outbox, Outgoing, Release};

/// The long-polling wait; under the HTTP client's 17 s timeout.
const POLL_SECS: u32 = 10;
/// Backoff after a failed request: from the first step, doubling to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A command that takes longer than this shows "typing".
const TYPING_AFTER: Duration = Duration::from_millis(700);

/// Runs the bot until `stop` completes.
pub async fn run(state: Arc<AppState>, settings: TelegramSettings, stop: impl Future<Output = ()>) {
    let bot = match make_bot(&settings) {
        Ok(bot) => bot,
        Err(e) => {
            tracing::error!("telegram: not started: {}", scrub(&e, &settings));
            return;
        }
    };
    let outbox = Arc::new(Outbox::new(settings.outbox_size));
    let bot_ref = &bot;
    let poller = poll(&state, bot_ref, &outbox, &settings);
    let sender = send(&state, bot_ref, &outbox, &settings);
    let alerter = alert(&state, &outbox, &settings);
    tokio::select! {
        _ = stop => {}
        _ = poller => {}
        _ = sender => {}
        _ = alerter => {}
    }
}

fn make_bot(settings: &TelegramSettings) -> Result<Bot, String> {
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let url = reqwest::Url::parse(&format!("{}/", settings.api_url))
        .map_err(|e| format!("telegram.api_url {:?}: {e}", settings.api_url))?;
    Ok(Bot::with_client(settings.token.expose(), client).set_api_url(url))
}

/// The token replaced, wherever it is in `text`.
fn scrub(text: &str, settings: &TelegramSettings) -> String {
    let token = settings.token.expose();
    if token.is_empty() {
        return text.to_string();
    }
    text.replace(token, "****")
}

/// How long to wait before trying again, or `None` when trying again is useless.
fn retry_wait(e: &RequestError, backoff: &mut Duration) -> Option<Duration> {
    match e {
        RequestError::RetryAfter(secs) => Some(secs.duration()),
        // A 5xx, a proxy's HTML page, the network: Telegram may be back soon.
        RequestError::Network(_)
        | RequestError::InvalidJson { .. }
        | RequestError::Io(_)
        | RequestError::Api(ApiError::Unknown(_)) => {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(BACKOFF_MAX);
            Some(wait)
        }
        // A chat that blocked the bot, a bad token, a malformed message: no use.
        _ => None,
    }
}

async fn poll(state: &Arc<AppState>, bot: &Bot, outbox: &Arc<Outbox>, settings: &TelegramSettings) {
    if !wait_for_bot(bot, settings).await {
        return;
    }
    let mut guard = Guard::new(settings.allowed_chats.clone(), settings.rate_limit());
    let mut offset: i32 = 0;
    let mut backoff = BACKOFF_FIRST;
    loop {
        let updates = bot
            .get_updates()
            .offset(offset)
            .timeout(POLL_SECS)
            .allowed_updates(vec![AllowedUpdate::Message])
            .await;
        let updates = match updates {
            Ok(u) => {
                backoff = BACKOFF_FIRST;
                u
            }
            Err(e) => {
                let wait = retry_wait(&e, &mut backoff).unwrap_or(BACKOFF_MAX);
                tracing::warn!(
                    "telegram: getUpdates failed, again in {wait:?}: {}",
                    scrub(&e.to_string(), settings)
                );
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        for update in updates {
            offset = offset.max(
                i32::try_from(update.id.0)
                    .unwrap_or(i32::MAX)
                    .saturating_add(1),
            );
            state.metrics.telegram.updates.inc();
            let UpdateKind::Message(message) = update.kind else {
                continue;
            };
            let Some(text) = message.text() else {
                continue;
            };
            let chat = message.chat.id.0;
            // The allowlist may change on reload.
            if let Some(t) = &state.settings().telegram {
                guard.set_allowed(t.allowed_chats.clone(), t.rate_limit());
            }
            take(state, bot, outbox, &mut guard, chat, text);
        }
    }
}

/// Asks Telegram who the bot is until it answers: checks the token, and
/// names the bot in the log. False when the token is refused (the bot is off).
async fn wait_for_bot(bot: &Bot, settings: &TelegramSettings) -> bool {
    let mut backoff = BACKOFF_FIRST;
    // Who the bot is: checks the token, and names the bot in the log.
    loop {
        match bot.get_me().await {
            Ok(me) => {
                tracing::info!(
                    bot = %me.username(),
                    allowed_chats = settings.allowed_chats.len(),
                    alert_chats = settings.alert_chats.len(),
                    "telegram: polling for commands"
                );
                return true;
            }
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                tracing::error!("telegram: the token was refused (Unauthorized); the bot is off until it is fixed");
                return false;
            }
            Err(e) => {
                let wait = retry_wait(&e, &mut backoff).unwrap_or(BACKOFF_MAX);
                tracing::warn!(
                    "telegram: getMe failed, again in {wait:?}: {}",
                    scrub(&e.to_string(), settings)
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// One chat's message: answered, refused, or slowed down, as the guard says.
fn take(
    state: &Arc<AppState>,
    bot: &Bot,
    outbox: &Arc<Outbox>,
    guard: &mut Guard,
    chat: i64,
    text: &str,
) {
    match guard.check(chat, Instant::now()) {
        Verdict::Answer => {
            let cmd = commands::parse(text);
            state.metrics.telegram.count_command(cmd.name());
            tokio::spawn(reply(
                Arc::clone(state),
                bot.clone(),
                Arc::clone(outbox),
                chat,
                cmd,
            ));
        }
        Verdict::Refuse => {
            state.metrics.telegram.refused.inc();
            tracing::warn!(
                chat,
                "telegram: a chat that is not allowed wrote; told it its chat id"
            );
            outbox.push(Outgoing {
                chat,
                html: format!(
                    "This diagbot answers only its operators. Your chat id is <code>{chat}</code>: \
                     add it to <code>telegram.allowed_chats</code> if this is yours."
                ),
            });
        }
        Verdict::Ignore => {
            state.metrics.telegram.refused.inc();
            tracing::debug!(chat, "telegram: a refused chat wrote again");
        }
        Verdict::SlowDown => outbox.push(Outgoing {
            chat,
            html: guard::slow_down_notice(guard.rate()),
        }),
        Verdict::Drop => {}
    }
}

/// Answers one command, showing "typing" when it takes a while.
async fn reply(
    state: Arc<AppState>,
    bot: Bot,
    outbox: Arc<Outbox>,
    chat: i64,
    cmd: commands::Command,
) {
    let work = commands::answer(&state, &cmd);
    tokio::pin!(work);
    let html = if cmd.is_slow() {
        tokio::select! {
            html = &mut work => html,
            _ = tokio::time::sleep(TYPING_AFTER) => {
                // Only a courtesy: a failure here changes nothing.
                let _ = bot.send_chat_action(ChatId(chat), ChatAction::Typing).await;
                work.await
            }
        }
    } else {
        work.await
    };
    outbox.push(Outgoing { chat, html });
}

/// Delivers the outbox in order, each message until it is sent or cannot be.
async fn send(state: &AppState, bot: &Bot, outbox: &Outbox, settings: &TelegramSettings) {
    loop {
        let msg = outbox.pop().await;
        state
            .metrics
            .telegram
            .set_outbox(outbox.len(), outbox.dropped());
        let mut backoff = BACKOFF_FIRST;
        let mut html = true;
        loop {
            let sent = if html {
                bot.send_message(ChatId(msg.chat), &msg.html)
                    .parse_mode(ParseMode::Html)
                    .await
            } else {
                bot.send_message(ChatId(msg.chat), render::plain(&msg.html))
                    .await
            };
            match sent {
                Ok(_) => {
                    state.metrics.telegram.sent.inc();
                    break;
                }
                // Markup Telegram will not take is a bug here; the words still go, as plain text.
                Err(RequestError::Api(ApiError::CantParseEntities(why))) if html => {
                    state.metrics.telegram.send_failures.inc();
                    tracing::error!(
                        chat = msg.chat,
                        "telegram: HTML refused ({why}); sending as plain text"
                    );
                    html = false;
                }
                Err(e) => {
                    state.metrics.telegram.send_failures.inc();
                    let text = scrub(&e.to_string(), settings);
                    match retry_wait(&e, &mut backoff) {
                        Some(wait) => {
                            tracing::warn!(
                                chat = msg.chat,
                                "telegram: sending failed, again in {wait:?}: {text}"
                            );
                            tokio::time::sleep(wait).await;
                        }
                        None => {
                            tracing::error!(chat = msg.chat, "telegram: message not sent: {text}");
                            break;
                        }
                    }
                }
            }
        }
        state
            .metrics
            .telegram
            .set_outbox(outbox.len(), outbox.dropped());
    }
}

/// Turns health events into alerts for the alert chats.
async fn alert(state: &AppState, outbox: &Outbox, settings: &TelegramSettings) {
    let mut events = state.events.subscribe();
    let mut cooldowns = Cooldowns::new(settings.alert_cooldown);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let releases = tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    state.metrics.telegram.count_alert(event.kind());
                    cooldowns
                        .admit(&event.key(), &alert_text(&event), Instant::now())
                        .into_iter()
                        .collect::<Vec<_>>()
                }
                Err(RecvError::Lagged(n)) => {
                    state.metrics.telegram.events_dropped.inc_by(n);
                    tracing::warn!("telegram: {n} health events came faster than alerts could be queued; they were dropped");
                    Vec::new()
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => cooldowns.due(Instant::now()),
        };
        // Reloads may change the chats.
        let chats = state
            .settings()
            .telegram
            .as_ref()
            .map_or_else(|| settings.alert_chats.clone(), |t| t.alert_chats.clone());
        record_alerts(state, &releases, chats.len());
        for release in releases {
            for &chat in &chats {
                outbox.push(Outgoing {
                    chat,
                    html: release_html(&release, settings.alert_cooldown),
                });
            }
        }
        state
            .metrics
            .telegram
            .set_outbox(outbox.len(), outbox.dropped());
    }
}

/// Keeps the alerts given to the outbox among the history's events.
fn record_alerts(state: &AppState, releases: &[Release], chats: usize) {
    if releases.is_empty() {
        return;
    }
    let sentences = releases
        .iter()
        .map(|r| {
            // As text: the events list shows it as such (the HTML is Telegram's).
            let text = render::plain(&r.text).replace('\n', " · ");
            match r.held_back {
                0 => format!("alert to {chats} chat(s): {text}"),
                n => format!("alert to {chats} chat(s), {n} like it held back: {text}"),
            }
        })
        .collect();
    let at = chrono::Utc::now().timestamp();
    state.store.record(feed::alerts_tick(at, sentences));
}

fn alert_text(event: &Event) -> String {
    let title = match event {
        Event::OomKill { .. } => "OOM kill",
        Event::Restart { .. } => "Restart",
        Event::Exited { .. } => "Process gone",
        Event::Started { .. } => "Process back",
        Event::RestartLoop { .. } => "Restart loop",
        Event::ProjectedOom { .. } => "Memory climbing",
        Event::ErrorBurst { .. } => "Error burst",
        Event::ErrorGroup {
            back_after_secs: None,
            ..
        } => "New error",
        Event::ErrorGroup { .. } => "Error back",
        Event::ManyErrorGroups { .. } => "Many new errors",
        Event::LogNumberAbove { .. } => "Log number past its threshold",
        Event::CachePressure { .. } => "diagbot's cache",
    };
    let mut html = format!("⚠ <b>{title}</b>\n{}", render::escape(&event.describe()));
    if let Event::ErrorBurst {
        last_line: Some(line),
        ..
    } = event
    {
        html = render::with_lines(
            &html,
            std::slice::from_ref(line),
            0,
            "<code>diagbot errors</code>",
        );
    }
    if let Event::ErrorGroup { example, .. } = event {
        html = render::with_lines(
            &html,
            std::slice::from_ref(example),
            0,
            "<code>diagbot groups</code>",
        );
    }
    render::fit(&html)
}

fn release_html(release: &Release, cooldown: Duration) -> String {
    if release.held_back == 0 {
        release.text.clone()
    } else {
        format!(
            "{}\n<i>{} more like this in the last {} min, held back</i>",
            release.text,
            release.held_back,
            cooldown.as_secs().div_ceil(60)
        )
    }
}
