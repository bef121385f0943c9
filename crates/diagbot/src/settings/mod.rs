//! The daemon's whole configuration: the engine's sections (from
//! `diagbot-core`) and the front ends' own — `[http]`, `[log]`,
//! `[telegram]` — read from one file with one schema, checked together.
//!
//! A reload keeps the *startup* part (what is bound or built once: the
//! listening address, the cache's size and TTL, the bot's token, server,
//! outbox and cooldown, the log format, `[storage]`) and swaps the *live* part
//! (everything else, `[[formats]]` included); [`DaemonSettings::startup_changes`] names each startup
//! key a reload could not apply.

mod http;
mod log;
mod secret;
mod storage;
mod telegram;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diagbot_core::config::raw::RawCore;
use diagbot_core::config::raw::{
    RawCache, RawFormat, RawGroups, RawHealth, RawJournal, RawLogs, RawRefresh, RawSearch,
    RawService, RawSystem,
};
use diagbot_core::config::{self, ConfigError, Settings, Source};
use serde::{Deserialize, Serialize};
use toml::Spanned;

pub use self::http::{HttpSettings, RawHttp, DEFAULT_PORT};
pub use self::log::{LogSettings, RawLog};
pub use self::secret::Secret;
pub use self::storage::{default_path, RawStorage, Retention, StorageSettings};
pub use self::telegram::{RateLimit, RawTelegram, TelegramSettings, DEFAULT_TELEGRAM_API};

/// A commented example, printed by `diagbot config example`; it loads to the defaults.
pub const EXAMPLE: &str = include_str!("example.toml");

/// The whole file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFile {
    logs: RawLogs,
    search: RawSearch,
    cache: RawCache,
    refresh: RawRefresh,
    http: RawHttp,
    log: RawLog,
    system: RawSystem,
    journal: RawJournal,
    health: RawHealth,
    groups: RawGroups,
    telegram: RawTelegram,
    storage: RawStorage,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    services: Vec<Spanned<RawService>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    formats: Vec<Spanned<RawFormat>>,
}

/// Everything the daemon and the commands are configured to do.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSettings {
    /// Where the settings came from (`None`: defaults and environment only).
    pub source: Option<PathBuf>,
    /// The engine's settings.
    pub core: Settings,
    /// The HTTP API.
    pub http: HttpSettings,
    /// diagbot's own log.
    pub log: LogSettings,
    /// The Telegram bot, when a token is set.
    pub telegram: Option<TelegramSettings>,
    /// The history store.
    pub storage: StorageSettings,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        match load_str("", "(defaults)", &BTreeMap::new()) {
            Ok(s) => s,
            Err(e) => unreachable!("the defaults break a rule: {e}"),
        }
    }
}

/// Reads and checks the settings from `file` (if any) and `env`'s overrides.
pub fn load(
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<DaemonSettings, ConfigError> {
    let source = Source::read(file)?;
    from_source(&source, env)
}

/// As [`load`], from text already read; `name` is used in messages.
pub fn load_str(
    text: &str,
    name: &str,
    env: &BTreeMap<String, String>,
) -> Result<DaemonSettings, ConfigError> {
    from_source(&Source::text(name, text), env)
}

fn from_source(
    source: &Source,
    env: &BTreeMap<String, String>,
) -> Result<DaemonSettings, ConfigError> {
    let (raw, at) = config::source::parse::<RawFile>(source, env)?;
    let core = RawCore {
        logs: raw.logs,
        search: raw.search,
        cache: raw.cache,
        refresh: raw.refresh,
        system: raw.system,
        journal: raw.journal,
        health: raw.health,
        groups: raw.groups,
        services: raw.services,
        formats: raw.formats,
    }
    .check(&at)?;
    Ok(DaemonSettings {
        source: source.path.clone(),
        core,
        http: raw.http.check(&at)?,
        log: raw.log.check(&at)?,
        telegram: raw.telegram.check(&at)?,
        storage: raw.storage.check(&at)?,
    })
}

impl DaemonSettings {
    /// The effective settings as TOML: `diagbot config check`. It loads back
    /// to the same settings; a secret given inline is not written (its key
    /// is left empty with a note), one read from a file is written as the file.
    pub fn to_toml(&self) -> String {
        let core = RawCore::from(&self.core);
        let raw = RawFile {
            logs: core.logs,
            search: core.search,
            cache: core.cache,
            refresh: core.refresh,
            http: RawHttp::from(&self.http),
            log: RawLog::from(&self.log),
            system: core.system,
            journal: core.journal,
            health: core.health,
            groups: core.groups,
            telegram: RawTelegram::from(self.telegram.as_ref()),
            storage: RawStorage::from(&self.storage),
            services: core.services,
            formats: core.formats,
        };
        let mut text = match toml::to_string(&raw) {
            Ok(t) => t,
            Err(e) => return format!("# cannot write the settings: {e}\n"),
        };
        if self.http.token_file.is_none() && !self.http.token.is_empty() {
            text = note_hidden(&text, "[http]");
        }
        if self
            .telegram
            .as_ref()
            .is_some_and(|t| t.token_file.is_none())
        {
            text = note_hidden(&text, "[telegram]");
        }
        text
    }

    /// Keys of the startup part that differ in `new`: they take effect at the next start.
    pub fn startup_changes(&self, new: &DaemonSettings) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |key: &'static str, same: bool| {
            if !same {
                changed.push(key);
            }
        };
        check("http.listen", self.http.listen == new.http.listen);
        check(
            "search.threads",
            self.core.search_threads == new.core.search_threads,
        );
        check("cache.ttl", self.core.cache.ttl == new.core.cache.ttl);
        check(
            "cache.budget",
            self.core.cache.budget_bytes == new.core.cache.budget_bytes,
        );
        check("log.format", self.log.json == new.log.json);
        // The store is opened once, at start.
        let (old_store, new_store) = (&self.storage, &new.storage);
        check("storage.enabled", old_store.enabled == new_store.enabled);
        check("storage.path", old_store.path == new_store.path);
        check("storage.max_size", old_store.max_size == new_store.max_size);
        check(
            "storage.retention",
            old_store.retention == new_store.retention,
        );
        // Each service's groups are kept in a grouper made at start with this bound.
        check("groups.max", self.core.groups.max == new.core.groups.max);
        let bot = |s: &DaemonSettings| {
            s.telegram.as_ref().map(|t| {
                (
                    t.token.clone(),
                    t.api_url.clone(),
                    t.outbox_size,
                    t.alert_cooldown,
                )
            })
        };
        let (old_bot, new_bot) = (bot(self), bot(new));
        check(
            "telegram.token",
            old_bot.as_ref().map(|b| &b.0) == new_bot.as_ref().map(|b| &b.0),
        );
        check(
            "telegram.api_url",
            old_bot.as_ref().map(|b| &b.1) == new_bot.as_ref().map(|b| &b.1),
        );
        check(
            "telegram.outbox_size",
            old_bot.as_ref().map(|b| b.2) == new_bot.as_ref().map(|b| b.2),
        );
        check(
            "telegram.alert_cooldown",
            old_bot.as_ref().map(|b| b.3) == new_bot.as_ref().map(|b| b.3),
        );
        changed
    }

    /// `new`'s live part with this one's startup part: what a reload applies.
    pub fn reloaded(&self, new: DaemonSettings) -> DaemonSettings {
        let mut applied = new;
        applied.http.listen = self.http.listen;
        applied.core.search_threads = self.core.search_threads;
        applied.core.cache.ttl = self.core.cache.ttl;
        applied.core.cache.budget_bytes = self.core.cache.budget_bytes;
        applied.log.json = self.log.json;
        applied.storage = self.storage.clone();
        applied.core.groups.max = self.core.groups.max;
        applied.telegram = match (&self.telegram, applied.telegram) {
            // The bot runs with its startup token, server, outbox and cooldown;
            // its chat lists are live.
            (Some(old), Some(new)) => Some(TelegramSettings {
                allowed_chats: new.allowed_chats,
                alert_chats: new.alert_chats,
                ..old.clone()
            }),
            (Some(old), None) => Some(TelegramSettings {
                allowed_chats: Vec::new(),
                alert_chats: Vec::new(),
                ..old.clone()
            }),
            (None, _) => None,
        };
        applied
    }
}

/// Marks the empty `token` of `section` as a secret that is set but not shown.
fn note_hidden(text: &str, section: &str) -> String {
    let Some(start) = text.find(&format!("{section}\n")) else {
        return text.to_string();
    };
    let line = "\ntoken = \"\"";
    match text[start..].find(line) {
        Some(at) => {
            let end = start + at + line.len();
            format!("{}   # set, not shown{}", &text[..end], &text[end..])
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
