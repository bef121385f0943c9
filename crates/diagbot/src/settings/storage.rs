//! `[storage]`: where the history is kept, for how long, and how large it may grow.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diagbot_core::config::units::Human;
use diagbot_core::config::{ConfigError, Locator};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The file's name in whichever directory is chosen.
pub const FILE_NAME: &str = "diagbot.db";
/// Where the history goes without systemd's `StateDirectory`, when it can be written.
pub const SYSTEM_DIR: &str = "/var/lib/diagbot";
/// The smallest cap that holds a schema and a tick.
const MIN_MAX_SIZE: u64 = 64 << 10;

/// `[storage]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawStorage {
    /// Keep history at all.
    pub enabled: bool,
    /// The database file; empty: the default (see [`default_path`]).
    pub path: Spanned<String>,
    /// The most the file may take; past it the oldest data goes.
    pub max_size: Spanned<Human<u64>>,
    pub retention: RawRetention,
}

/// `[storage.retention]` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRetention {
    /// Every sample, as taken.
    pub raw: Human<Duration>,
    /// 5-minute rollups (min, max, mean, last).
    pub five_minutes: Human<Duration>,
    /// Hourly rollups.
    pub hourly: Human<Duration>,
    /// Events are kept for `hourly`, and at most this many.
    pub max_events: u64,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            enabled: true,
            path: Spanned::new(0..0, String::new()),
            max_size: Spanned::new(0..0, Human(64 << 20)),
            retention: RawRetention::default(),
        }
    }
}

impl Default for RawRetention {
    fn default() -> Self {
        let hours = |h: u64| Human(Duration::from_secs(h * 3600));
        RawRetention {
            raw: hours(48),
            five_minutes: hours(30 * 24),
            hourly: hours(365 * 24),
            max_events: 100_000,
        }
    }
}

/// The history store's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageSettings {
    pub enabled: bool,
    /// The file as configured; `None`: [`default_path`], resolved at start.
    pub path: Option<PathBuf>,
    pub max_size: u64,
    pub retention: Retention,
}

/// How long each tier is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    pub raw: Duration,
    pub five_minutes: Duration,
    pub hourly: Duration,
    pub max_events: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        let at = Locator::defaults();
        match RawStorage::default().check(&at) {
            Ok(s) => s,
            Err(e) => unreachable!("the storage defaults break a rule: {e}"),
        }
    }
}

impl RawStorage {
    /// Checks the section: tiers that get coarser keep longer, a cap that holds something.
    pub fn check(&self, at: &Locator) -> Result<StorageSettings, ConfigError> {
        let r = &self.retention;
        let bad = |key: &str, problem: String| at.error(0..0, key, problem);
        if r.raw.0 < Duration::from_secs(60) {
            return Err(bad(
                "storage.retention.raw",
                "must be at least 1m (the trend after a restart is read from it)".into(),
            ));
        }
        if r.five_minutes.0 < r.raw.0 || r.hourly.0 < r.five_minutes.0 {
            return Err(bad(
                "storage.retention",
                "each tier must be kept at least as long as the finer one: raw <= five_minutes <= hourly".into(),
            ));
        }
        let max_size = self.max_size.get_ref().0;
        if max_size < MIN_MAX_SIZE {
            return Err(at.error(
                self.max_size.span(),
                "storage.max_size",
                format!("must be at least {} bytes (64KiB)", MIN_MAX_SIZE),
            ));
        }
        let path = self.path.get_ref().trim();
        if !path.is_empty() && !Path::new(path).is_absolute() {
            return Err(at.error(
                self.path.span(),
                "storage.path",
                format!("{path:?} is not an absolute path"),
            ));
        }
        Ok(StorageSettings {
            enabled: self.enabled,
            path: (!path.is_empty()).then(|| PathBuf::from(path)),
            max_size,
            retention: Retention {
                raw: r.raw.0,
                five_minutes: r.five_minutes.0,
                hourly: r.hourly.0,
                max_events: r.max_events,
            },
        })
    }
}

impl From<&StorageSettings> for RawStorage {
    fn from(s: &StorageSettings) -> Self {
        let path = s
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        RawStorage {
            enabled: s.enabled,
            path: Spanned::new(0..0, path),
            max_size: Spanned::new(0..0, Human(s.max_size)),
            retention: RawRetention {
                raw: Human(s.retention.raw),
                five_minutes: Human(s.retention.five_minutes),
                hourly: Human(s.retention.hourly),
                max_events: s.retention.max_events,
            },
        }
    }
}

impl StorageSettings {
    /// The file: as configured, else [`default_path`] in this environment.
    pub fn resolved_path(&self, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        self.path.clone().unwrap_or_else(|| default_path(env))
    }
}

/// `$STATE_DIRECTORY/diagbot.db` when systemd sets it (`StateDirectory=diagbot`);
/// else `/var/lib/diagbot/diagbot.db` when that directory exists or can be
/// made, and is writable; else `$XDG_STATE_HOME/diagbot/diagbot.db`
/// (`~/.local/state/diagbot/diagbot.db` without it).
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    // systemd may list several directories, separated by colons: the first is ours.
    if let Some(dir) = env("STATE_DIRECTORY").filter(|d| !d.is_empty()) {
        let first = dir.split(':').next().unwrap_or(&dir).to_string();
        return Path::new(&first).join(FILE_NAME);
    }
    let system = Path::new(SYSTEM_DIR);
    if writable_dir(system) {
        return system.join(FILE_NAME);
    }
    let state_home = env("XDG_STATE_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    state_home.join("diagbot").join(FILE_NAME)
}

/// Whether `dir` exists (or was just made) and a file can be created in it.
fn writable_dir(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let probe = dir.join(format!(".diagbot-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}
