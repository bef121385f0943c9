//! `[log]`: diagbot's own log, its level and its format.

use diagbot_core::config::{ConfigError, Locator};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// `[log]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLog {
    /// A level, or a tracing directive list such as `warn,diagbot=debug`.
    pub level: Spanned<String>,
    /// `text` or `json`.
    pub format: Spanned<String>,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: Spanned::new(0..0, "info".into()),
            format: Spanned::new(0..0, "text".into()),
        }
    }
}

/// diagbot's own log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// The filter (`RUST_LOG` wins over it).
    pub level: String,
    /// JSON lines instead of text.
    pub json: bool,
}

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

impl RawLog {
    /// Checks the section.
    pub fn check(&self, at: &Locator) -> Result<LogSettings, ConfigError> {
        let raw = self.level.get_ref();
        let level = raw.trim().to_ascii_lowercase();
        // A level, or a directive list such as "warn,diagbot=debug".
        if !LEVELS.contains(&level.as_str()) && !level.contains('=') {
            return Err(at.error(
                self.level.span(),
                "log.level",
                format!("{raw:?} is not one of {}", LEVELS.join(", ")),
            ));
        }
        let format = self.format.get_ref().as_str();
        if !["text", "json"].contains(&format) {
            return Err(at.error(
                self.format.span(),
                "log.format",
                format!("{format:?} is neither \"text\" nor \"json\""),
            ));
        }
        Ok(LogSettings {
            level: raw.clone(),
            json: format == "json",
        })
    }
}

impl From<&LogSettings> for RawLog {
    fn from(l: &LogSettings) -> Self {
        RawLog {
            level: Spanned::new(0..0, l.level.clone()),
            format: Spanned::new(0..0, if l.json { "json" } else { "text" }.into()),
        }
    }
}
