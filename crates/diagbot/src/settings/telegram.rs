//! `[telegram]`: the bot's token, where the Bot API is, who may ask and who
//! gets alerts.

use std::path::PathBuf;
use std::time::Duration;

use diagbot_core::config::units::Human;
use diagbot_core::config::{ConfigError, Locator};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::secret::{read_token, Secret};

/// Where the Telegram Bot API is, unless configured otherwise.
pub const DEFAULT_TELEGRAM_API: &str = "https://api.telegram.org";

/// `[telegram]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTelegram {
    /// The token BotFather gave (empty: the bot is off).
    pub token: Spanned<String>,
    /// A file holding the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<Spanned<PathBuf>>,
    /// The Bot API server.
    pub api_url: Spanned<String>,
    /// Chats whose commands are answered.
    pub allowed_chats: Vec<i64>,
    /// Chats alerts go to.
    pub alert_chats: Vec<i64>,
    /// The same alert at most once per this.
    pub alert_cooldown: Human<Duration>,
    /// Messages kept while Telegram is unreachable.
    pub outbox_size: Spanned<usize>,
    /// Commands an allowed chat may send per second, on average.
    pub commands_per_second: Spanned<f64>,
    /// Commands an allowed chat may send at once.
    pub command_burst: Spanned<u32>,
}

impl Default for RawTelegram {
    fn default() -> Self {
        RawTelegram {
            token: Spanned::new(0..0, String::new()),
            token_file: None,
            api_url: Spanned::new(0..0, DEFAULT_TELEGRAM_API.into()),
            allowed_chats: Vec::new(),
            alert_chats: Vec::new(),
            alert_cooldown: Human(Duration::from_secs(600)),
            outbox_size: Spanned::new(0..0, 100),
            commands_per_second: Spanned::new(0..0, 1.0),
            command_burst: Spanned::new(0..0, 5),
        }
    }
}

/// How fast an allowed chat may ask: a bucket of `burst` commands that
/// refills at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Commands refilled per second.
    pub per_second: f64,
    /// Commands that may come at once.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 1.0,
            burst: 5.0,
        }
    }
}

/// The Telegram bot; present only when a token is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramSettings {
    /// The bot's token.
    pub token: Secret,
    /// Where the token was read from, when from a file.
    pub token_file: Option<PathBuf>,
    /// The Bot API server, without a trailing slash.
    pub api_url: String,
    /// Chats whose commands are answered (empty: nobody's).
    pub allowed_chats: Vec<i64>,
    /// Chats alerts go to.
    pub alert_chats: Vec<i64>,
    /// The same alert is sent at most once per this.
    pub alert_cooldown: Duration,
    /// Messages waiting to be sent before the oldest are dropped.
    pub outbox_size: usize,
    /// Commands an allowed chat may send per second, on average.
    pub commands_per_second: f64,
    /// Commands an allowed chat may send at once.
    pub command_burst: u32,
}

impl TelegramSettings {
    /// The chats' rate limit.
    pub fn rate_limit(&self) -> RateLimit {
        RateLimit {
            per_second: self.commands_per_second,
            burst: f64::from(self.command_burst),
        }
    }
}

impl RawTelegram {
    /// Checks the section; no token is no bot (`None`).
    pub fn check(&self, at: &Locator) -> Result<Option<TelegramSettings>, ConfigError> {
        let file = self.token_file.as_ref();
        let token = read_token(self.token.get_ref(), file.map(|f| f.get_ref().as_path())).map_err(
            |(key, problem)| {
                let span = match key {
                    "token_file" => file.map_or(self.token.span(), Spanned::span),
                    _ => self.token.span(),
                };
                at.error(span, &format!("telegram.{key}"), problem)
            },
        )?;
        if token.is_empty() {
            return Ok(None);
        }
        // A BotFather token is "123456789:AA..."; anything else would only fail later, less clearly.
        let well_formed = token.expose().split_once(':').is_some_and(|(id, secret)| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !well_formed {
            return Err(at.error(
                file.map_or(self.token.span(), Spanned::span),
                "telegram.token",
                "is not a bot token as BotFather gives them (digits, a colon, then letters, digits, _ and -)",
            ));
        }
        let api_url = self
            .api_url
            .get_ref()
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(at.error(
                self.api_url.span(),
                "telegram.api_url",
                format!("{api_url:?} is not an http:// or https:// URL"),
            ));
        }
        let outbox_size = *self.outbox_size.get_ref();
        if !(1..=100_000).contains(&outbox_size) {
            return Err(at.error(
                self.outbox_size.span(),
                "telegram.outbox_size",
                "must be from 1 to 100000",
            ));
        }
        let per_second = *self.commands_per_second.get_ref();
        if !(per_second > 0.0 && per_second <= 1000.0) {
            return Err(at.error(
                self.commands_per_second.span(),
                "telegram.commands_per_second",
                "must be more than 0 and at most 1000",
            ));
        }
        let burst = *self.command_burst.get_ref();
        if !(1..=1000).contains(&burst) {
            return Err(at.error(
                self.command_burst.span(),
                "telegram.command_burst",
                "must be from 1 to 1000",
            ));
        }
        Ok(Some(TelegramSettings {
            token,
            token_file: file.map(|f| f.get_ref().clone()),
            api_url,
            allowed_chats: self.allowed_chats.clone(),
            alert_chats: self.alert_chats.clone(),
            alert_cooldown: self.alert_cooldown.0,
            outbox_size,
            commands_per_second: per_second,
            command_burst: burst,
        }))
    }
}

impl From<Option<&TelegramSettings>> for RawTelegram {
    /// As [`super::http::RawHttp`]'s: a token from a file is written as the file.
    fn from(t: Option<&TelegramSettings>) -> Self {
        let Some(t) = t else {
            return RawTelegram::default();
        };
        RawTelegram {
            token: Spanned::new(0..0, String::new()),
            token_file: t.token_file.clone().map(|f| Spanned::new(0..0, f)),
            api_url: Spanned::new(0..0, t.api_url.clone()),
            allowed_chats: t.allowed_chats.clone(),
            alert_chats: t.alert_chats.clone(),
            alert_cooldown: Human(t.alert_cooldown),
            outbox_size: Spanned::new(0..0, t.outbox_size),
            commands_per_second: Spanned::new(0..0, t.commands_per_second),
            command_burst: Spanned::new(0..0, t.command_burst),
        }
    }
}
