//! Configuration: a TOML file whose every key can be overridden from the
//! environment (`DIAGBOT_CACHE__TTL=1s` sets `cache.ttl`), checked into
//! [`Settings`] in one step. Errors name the file, the line and the key (or
//! the variable), from the parser's spans.
//!
//! - [`source`]: reading the file, laying the overrides over it, locating errors.
//! - [`raw`]: the core's sections as written, one description of each key.
//! - `check`: the rules, from raw sections to [`Settings`] and back.
//! - `services`: `[[services]]`.
//! - `formats`: `[[formats]]`, users' own log formats.
//! - [`units`]: durations and sizes as people write them.
//!
//! The core knows the sections the engine needs (`logs`, `cache`, `refresh`,
//! `system`, `health`, `groups`, `services`, `formats`); front ends add theirs (HTTP, Telegram,
//! logging) and read the whole file with [`source::parse`].

mod check;
mod error;
mod formats;
pub mod raw;
mod services;
pub mod source;
pub mod units;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use check::MAX_CONCURRENT_LOADS;
pub use error::ConfigError;
pub use source::{find_config_file, Locator, Source, ENV_PREFIX};
pub use units::{parse_size, Human};

use crate::cache::CacheConfig;
use crate::logs::user_format::UserFormat;
use crate::query::Query;
use crate::workers::ScanThreads;

/// The most samples one trend holds (Theil–Sen compares every pair): past
/// this, every other sample is dropped, keeping the window at a coarser step.
pub const MAX_TREND_SAMPLES: u64 = 256;

/// What the engine is configured to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Searched by default, and the only paths a request may name (services' logs included).
    pub log_paths: Vec<PathBuf>,
    /// Files the daemon scans at once (0: automatic); see [`Settings::scan_threads`].
    pub search_threads: usize,
    /// The most bytes one `.gz` file is decompressed to (`logs.max_decompressed`).
    pub max_decompressed: u64,
    /// The result cache.
    pub cache: CacheConfig,
    /// How often the refresh queries run.
    pub refresh_interval: Duration,
    /// The queries kept warm.
    pub refresh: Vec<RefreshQuery>,
    /// Where `/proc` is (a fixture tree in tests).
    pub proc_root: PathBuf,
    /// Where `/sys` is (cgroup memory files).
    pub sys_root: PathBuf,
    /// A kernel log file to read OOM kills from (else kmsg, then `journalctl -k`).
    pub kernel_log: Option<PathBuf>,
    /// The kernel's log device, read when no kernel log file is set (`None`: skipped).
    pub kmsg: Option<PathBuf>,
    /// The `systemctl` command.
    pub systemctl: String,
    /// The `journalctl` command.
    pub journalctl: String,
    /// Whether and where the journal is read as a log source (`[journal]`).
    pub journal: JournalSettings,
    /// The services watched.
    pub services: Vec<ServiceConfig>,
    /// How services' memory is watched.
    pub health: HealthSettings,
    /// Error groups and new-error alerts.
    pub groups: GroupsSettings,
    /// Users' own log formats (`[[formats]]`), checked: every query built
    /// from these settings carries them ([`Query::with_formats`]).
    pub formats: Arc<[UserFormat]>,
}

impl Settings {
    /// The daemon's scan threads: `search.threads`, or 1 on a machine of up to
    /// two cores and half the cores above that; always at a lower CPU priority.
    pub fn scan_threads(&self) -> ScanThreads {
        match self.search_threads {
            0 => ScanThreads::daemon_default(),
            n => ScanThreads::daemon(n),
        }
    }
}

/// `[journal]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSettings {
    /// Read the journal at all.
    pub enabled: bool,
    /// A directory of journal files; `None`: the system's journal.
    pub directory: Option<PathBuf>,
    /// The longest one read may take.
    pub timeout: Duration,
}

impl Settings {
    /// The journal searches read, unless `[journal] enabled = false`.
    pub fn journal(&self) -> Option<crate::journal::Journal> {
        if !self.journal.enabled {
            return None;
        }
        let journal = crate::journal::Journal {
            journalctl: self.journalctl.clone(),
            directory: self.journal.directory.clone(),
            timeout: self.journal.timeout,
        };
        Some(journal)
    }

    /// The journal and the unit (its full name) that `service`'s logs are
    /// followed in tick by tick: none when the journal is off or the
    /// service names no unit.
    pub fn unit_journal(
        &self,
        service: &ServiceConfig,
    ) -> Option<(crate::journal::Journal, Vec<String>)> {
        let unit = crate::journal::unit_name(service.unit.as_deref()?).ok()?;
        Some((self.journal()?, vec![unit]))
    }

    /// The configured services' units: what a search reads of the journal
    /// when it is not told (nothing when the journal is off). The refresh
    /// queries read them too.
    pub fn service_units(&self) -> crate::query::JournalScope {
        if !self.journal.enabled {
            return crate::query::JournalScope::default();
        }
        let units: Vec<&str> = self
            .services
            .iter()
            .filter_map(|s| s.unit.as_deref())
            .collect();
        // A configured unit name was checked when the file was read.
        crate::query::JournalScope::units(&units).unwrap_or_default()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let (raw, at) = (raw::RawCore::default(), Locator::defaults());
        // The defaults keep every rule; a test says so.
        match raw.check(&at) {
            Ok(settings) => settings,
            Err(e) => unreachable!("the defaults break a rule: {e}"),
        }
    }
}

/// A query the background refresh keeps warm, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshQuery {
    /// What logs and status lines call it.
    pub name: String,
    /// The question.
    pub query: Query,
}

/// How the daemon watches services' memory.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSettings {
    /// How often each service's RSS and the host's memory are sampled.
    pub sample_interval: Duration,
    /// How far back the trend looks.
    pub trend_window: Duration,
    /// Samples must span this long before a trend is called.
    pub trend_min_span: Duration,
    /// Warn when a limit would be reached within this long.
    pub oom_horizon: Duration,
    /// More error lines than this in a service's logs within the window is a burst (0: off).
    pub error_burst_lines: u64,
    /// The window error bursts are counted over.
    pub error_burst_window: Duration,
    /// More deaths than this within `restart_loop_window` is a restart loop.
    pub restart_loop: u64,
    /// How far back deaths are counted for a restart loop (longer than the
    /// trend window: a bot killed hourly needs hours to show its loop).
    pub restart_loop_window: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            sample_interval: Duration::from_secs(30),
            trend_window: Duration::from_secs(3600),
            trend_min_span: crate::trend::MIN_SPAN,
            oom_horizon: Duration::from_secs(2 * 3600),
            error_burst_lines: 20,
            error_burst_window: Duration::from_secs(300),
            restart_loop: 3,
            restart_loop_window: Duration::from_secs(6 * 3600),
        }
    }
}

/// Error groups (`[groups]`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupsSettings {
    /// The most groups kept per service (the daemon's), and by `diagbot groups` without `--max`.
    pub max: usize,
    /// A known group silent this long alerts as "back" when it returns.
    pub quiet: Duration,
    /// New-error alerts: the daemon groups each service's appended error lines.
    pub alerts: bool,
    /// The heap all services' new-error watches may take together: past it,
    /// the largest watch merges its least recently seen groups into "other".
    pub budget_bytes: u64,
}

impl Default for GroupsSettings {
    fn default() -> Self {
        GroupsSettings {
            max: crate::groups::DEFAULT_MAX_GROUPS,
            quiet: Duration::from_secs(24 * 3600),
            alerts: true,
            budget_bytes: 8 << 20,
        }
    }
}

/// The most groups `groups.max` may keep: each costs up to about 10 KiB.
pub const MAX_GROUPS_LIMIT: usize = 100_000;

/// A service to watch: a systemd unit, a process match, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// Its name in status, alerts and metrics.
    pub name: String,
    /// Its systemd unit.
    pub unit: Option<String>,
    /// How its processes are found without systemd.
    pub process: Option<ProcessMatch>,
    /// Its logs (searched, and allowed in requests' paths).
    pub logs: Vec<PathBuf>,
    /// Overrides the cgroup's or the unit's limit.
    pub memory_limit: Option<u64>,
    /// Numbers in its log lines kept as series, exported and alerted on.
    pub numbers: Vec<NumberWatch>,
}

/// A number in a service's log lines that the daemon keeps (`log.SERVICE.NAME`
/// in the history, `diagbot_log_number{service,name}` in the metrics) and
/// alerts on past `warn_above`.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberWatch {
    /// Its name: lower-case letters, digits and `_`.
    pub name: String,
    /// The message template (`Cache size: <num> entries`).
    pub template: String,
    /// Which `<num>` of it, from 0.
    pub slot: u8,
    /// The threshold, if any.
    pub warn_above: Option<f64>,
}

/// How a service's processes are found without systemd.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessMatch {
    /// The process name (`comm`, or argv\[0\]'s file name) and/or a regex over the command line.
    Pattern {
        /// The name.
        name: Option<String>,
        /// The command-line regex.
        cmdline: Option<String>,
    },
    /// The PID written in a file.
    Pidfile(PathBuf),
}

/// Reads and checks a file of the core's sections only (front ends read the
/// whole file with their own schema), with `env`'s overrides.
pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Settings, ConfigError> {
    let source = Source::read(file)?;
    let (raw, at) = source::parse::<raw::RawCore>(&source, env)?;
    raw.check(&at)
}

/// As [`load`], from text already read; `name` is used in messages.
pub fn load_str(
    text: &str,
    name: &str,
    env: &BTreeMap<String, String>,
) -> Result<Settings, ConfigError> {
    let source = Source::text(name, text);
    let (raw, at) = source::parse::<raw::RawCore>(&source, env)?;
    raw.check(&at)
}

#[cfg(test)]
mod tests;
