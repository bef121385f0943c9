//! The core's sections of the file, as written: one description of each key
//! (its name, type and default), read by the loader and written back by
//! `config check` and `config example`. Keys with rules beyond their type keep
//! their span, so that a broken rule names its line.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::units::Human;
use super::{GroupsSettings, HealthSettings};
use crate::cache::CacheConfig;

/// A default value: it has no place in the file.
pub(crate) fn unplaced<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// `[logs]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLogs {
    /// Files or directories to search.
    pub paths: Spanned<Vec<PathBuf>>,
    /// The most bytes one `.gz` file is decompressed to; past it the file is cut.
    pub max_decompressed: Spanned<Human<u64>>,
}

impl Default for RawLogs {
    fn default() -> Self {
        RawLogs {
            paths: unplaced(vec![PathBuf::from("/var/log")]),
            max_decompressed: unplaced(Human(crate::engine::DEFAULT_MAX_DECOMPRESSED)),
        }
    }
}

/// `[search]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSearch {
    /// Files the daemon scans at once; 0: automatic (1 on up to two cores, else half of them).
    pub threads: Spanned<usize>,
}

impl Default for RawSearch {
    fn default() -> Self {
        RawSearch {
            threads: unplaced(0),
        }
    }
}

/// `[cache]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCache {
    /// Answers expire after this.
    pub ttl: Spanned<Human<Duration>>,
    /// The most memory cached answers take together.
    pub budget: Spanned<Human<u64>>,
    /// Warn when more answers than this are cached.
    pub warn_entries: u64,
    /// Scans running at once.
    pub max_concurrent_loads: Spanned<usize>,
}

impl Default for RawCache {
    fn default() -> Self {
        let d = CacheConfig::default();
        RawCache {
            ttl: unplaced(Human(d.ttl)),
            budget: unplaced(Human(d.budget_bytes)),
            warn_entries: d.warn_entries,
            max_concurrent_loads: unplaced(d.max_concurrent_loads),
        }
    }
}

/// `[refresh]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRefresh {
    /// How often the queries are computed anew.
    pub interval: Spanned<Human<Duration>>,
    /// The queries kept warm.
    pub queries: Vec<Spanned<RawRefreshQuery>>,
}

impl Default for RawRefresh {
    fn default() -> Self {
        let q = |name: &str, pattern: Option<&str>| RawRefreshQuery {
            name: name.into(),
            kind: if pattern.is_some() { "grep" } else { "errors" }.into(),
            pattern: pattern.map(Into::into),
            ignore_case: false,
            since: None,
            max_lines: 20,
        };
        RawRefresh {
            interval: unplaced(Human(Duration::from_secs(300))),
            queries: [
                q("errors", None),
                q("warnings", Some(r"\b(WARN|WARNING|Warning)\b")),
                q("tracebacks", Some("Traceback|panicked at|Exception")),
                q("oom", Some("Out of memory|oom-kill|OOM|Killed process")),
                RawRefreshQuery {
                    ignore_case: true,
                    ..q("timeouts", Some("timed? ?out"))
                },
            ]
            .into_iter()
            .map(unplaced)
            .collect(),
        }
    }
}

/// One entry of `refresh.queries`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefreshQuery {
    /// What logs and status lines call it.
    pub name: String,
    /// `grep` (the default) or `errors`.
    #[serde(default = "grep_kind")]
    pub kind: String,
    /// The regex, for `grep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Case-insensitive matching.
    #[serde(default)]
    pub ignore_case: bool,
    /// A window back from now (`1h`) or a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Lines kept.
    #[serde(default = "twenty")]
    pub max_lines: usize,
}

fn grep_kind() -> String {
    "grep".into()
}

fn twenty() -> usize {
    20
}

/// `[system]`: where the machine's files and commands are (fixture trees in tests).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSystem {
    /// `/proc`.
    pub proc_root: PathBuf,
    /// `/sys`.
    pub sys_root: PathBuf,
    /// A file with the kernel's messages; empty: kmsg, then `journalctl -k`.
    pub kernel_log: String,
    /// The kernel's log device; empty: not read.
    pub kmsg: String,
    /// The `systemctl` command.
    pub systemctl: String,
    /// The `journalctl` command.
    pub journalctl: String,
}

impl Default for RawSystem {
    fn default() -> Self {
        RawSystem {
            proc_root: PathBuf::from("/proc"),
            sys_root: PathBuf::from("/sys"),
            kernel_log: String::new(),
            kmsg: "/dev/kmsg".into(),
            systemctl: "systemctl".into(),
            journalctl: "journalctl".into(),
        }
    }
}

/// `[journal]`: the systemd journal as a log source.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawJournal {
    /// Read the journal (through `system.journalctl`) for the services'
    /// units and for `--unit`/`--journal`; false: never.
    pub enabled: bool,
    /// A directory of journal files (another machine's, a copy); empty: the system's journal.
    pub directory: String,
    /// The longest one read of the journal may take.
    pub timeout: Spanned<Human<Duration>>,
}

impl Default for RawJournal {
    fn default() -> Self {
        RawJournal {
            enabled: true,
            directory: String::new(),
            timeout: unplaced(Human(crate::journal::DEFAULT_TIMEOUT)),
        }
    }
}

/// `[health]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHealth {
    /// How often services and the host are sampled.
    pub sample_interval: Spanned<Human<Duration>>,
    /// How far back a trend looks.
    pub trend_window: Human<Duration>,
    /// No trend before the samples span this long.
    pub trend_min_span: Spanned<Human<Duration>>,
    /// Warn when a limit would be reached within this.
    pub oom_horizon: Human<Duration>,
    /// More error lines than this within the window is a burst.
    pub error_burst_lines: u64,
    /// The burst window.
    pub error_burst_window: Human<Duration>,
    /// More deaths than this within the window is a restart loop.
    pub restart_loop: Spanned<u64>,
    /// The restart-loop window.
    pub restart_loop_window: Human<Duration>,
}

impl Default for RawHealth {
    fn default() -> Self {
        RawHealth::from(&HealthSettings::default())
    }
}

impl From<&HealthSettings> for RawHealth {
    fn from(h: &HealthSettings) -> Self {
        RawHealth {
            sample_interval: unplaced(Human(h.sample_interval)),
            trend_window: Human(h.trend_window),
            trend_min_span: unplaced(Human(h.trend_min_span)),
            oom_horizon: Human(h.oom_horizon),
            error_burst_lines: h.error_burst_lines,
            error_burst_window: Human(h.error_burst_window),
            restart_loop: unplaced(h.restart_loop),
            restart_loop_window: Human(h.restart_loop_window),
        }
    }
}

/// `[groups]`: error groups (`diagbot groups`) and new-error alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawGroups {
    /// The most groups kept per service (and by `diagbot groups` without `--max`).
    pub max: Spanned<usize>,
    /// A known error group silent this long alerts as "back" when it returns.
    pub quiet: Spanned<Human<Duration>>,
    /// Alert when a service's logs show an error group not seen before.
    pub alerts: bool,
    /// The heap all services' error groups may take in the daemon.
    pub budget: Spanned<Human<u64>>,
}

impl Default for RawGroups {
    fn default() -> Self {
        RawGroups::from(&GroupsSettings::default())
    }
}

impl From<&GroupsSettings> for RawGroups {
    fn from(g: &GroupsSettings) -> Self {
        RawGroups {
            max: unplaced(g.max),
            quiet: unplaced(Human(g.quiet)),
            alerts: g.alerts,
            budget: unplaced(Human(g.budget_bytes)),
        }
    }
}

/// One `[[services]]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Its name in status, alerts and metrics.
    pub name: String,
    /// A systemd unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A process match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<RawProcess>,
    /// Its logs.
    #[serde(default)]
    pub logs: Vec<PathBuf>,
    /// Overrides the cgroup's or the unit's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Human<u64>>,
    /// Numbers in its log lines to keep as series (and alert on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<RawNumber>,
}

/// One of a service's `numbers = [{ ... }]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNumber {
    /// The message template, as `diagbot explain` and `groups` write it.
    pub template: String,
    /// Which `<num>` of it, from 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<u8>,
    /// Its name in the history and metrics (default: from the template's words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Alert when it goes past this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_above: Option<f64>,
}

/// A service's `process = { ... }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcess {
    /// `comm`, or argv\[0\]'s file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A regex over the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// A file holding the PID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pidfile: Option<PathBuf>,
}

/// One `[[formats]]` table: a log format the built-in grammar does not read.
/// The values a rule may refuse keep their span, so a mistake names its line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormat {
    /// Shown as the files' `timestamp_format`.
    pub name: String,
    /// The files it applies to: a glob on the file name, or on the path when it holds a `/`.
    pub glob: Spanned<String>,
    /// A chrono strftime pattern (`%d.%m.%Y %H:%M:%S%.3f`).
    pub timestamp: Spanned<String>,
    /// A regex with a named group `time`, and optionally `level` and `message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<Spanned<String>>,
}

/// Every section the engine reads: the part of the file `diagbot-core`
/// knows. Front ends add their own sections beside these.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCore {
    /// `[logs]`.
    pub logs: RawLogs,
    /// `[search]`.
    pub search: RawSearch,
    /// `[cache]`.
    pub cache: RawCache,
    /// `[refresh]`.
    pub refresh: RawRefresh,
    /// `[system]`.
    pub system: RawSystem,
    /// `[journal]`.
    pub journal: RawJournal,
    /// `[health]`.
    pub health: RawHealth,
    /// `[groups]`.
    pub groups: RawGroups,
    /// `[[services]]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Spanned<RawService>>,
    /// `[[formats]]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<Spanned<RawFormat>>,
}
