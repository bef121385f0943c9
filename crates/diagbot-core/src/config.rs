//! Configuration: a TOML file, every key overridable from the environment
//! (`DIAGBOT_CACHE__TTL=1s` sets `cache.ttl`), checked into `Settings` in one
//! step. Errors name the file, the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::CacheConfig;
use crate::query::{Query, QueryKind, MAX_LINES_LIMIT};
use crate::when::{parse_duration, TimeBound};

/// The port diagbot listens on by default (on 127.0.0.1).
pub const DEFAULT_PORT: u16 = 9187;
/// Environment variables with this prefix override config keys.
pub const ENV_PREFIX: &str = "DIAGBOT_";
/// Not overrides: the config file's own location, and test-only variables.
const ENV_NOT_KEYS: [&str; 2] = ["DIAGBOT_CONFIG", "DIAGBOT_LOGHUB"];

/// A commented example, printed by `diagbot config example`; it parses to the defaults.
pub const EXAMPLE: &str = include_str!("config_example.toml");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

// ---- the file, as written ----

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    logs: RawLogs,
    cache: RawCache,
    refresh: RawRefresh,
    http: RawHttp,
    log: RawLog,
    system: RawSystem,
    health: RawHealth,
    services: Vec<RawService>,
    telegram: RawTelegram,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTelegram {
    token: String,
    token_file: Option<PathBuf>,
    api_url: String,
    allowed_chats: Vec<i64>,
    alert_chats: Vec<i64>,
    alert_cooldown: Human<Duration>,
    outbox_size: usize,
}

impl Default for RawTelegram {
    fn default() -> Self {
        RawTelegram {
            token: String::new(),
            token_file: None,
            api_url: DEFAULT_TELEGRAM_API.into(),
            allowed_chats: Vec::new(),
            alert_chats: Vec::new(),
            alert_cooldown: Human(Duration::from_secs(600)),
            outbox_size: 100,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSystem {
    proc_root: PathBuf,
    sys_root: PathBuf,
    kernel_log: String,
    kmsg: String,
    systemctl: String,
    journalctl: String,
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

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawHealth {
    sample_interval: Human<Duration>,
    trend_window: Human<Duration>,
    trend_min_span: Human<Duration>,
    oom_horizon: Human<Duration>,
    error_burst_lines: u64,
    error_burst_window: Human<Duration>,
    restart_loop: u64,
    restart_loop_window: Human<Duration>,
}

impl Default for RawHealth {
    fn default() -> Self {
        let d = HealthSettings::default();
        RawHealth {
            sample_interval: Human(d.sample_interval),
            trend_window: Human(d.trend_window),
            trend_min_span: Human(d.trend_min_span),
            oom_horizon: Human(d.oom_horizon),
            error_burst_lines: d.error_burst_lines,
            error_burst_window: Human(d.error_burst_window),
            restart_loop: d.restart_loop,
            restart_loop_window: Human(d.restart_loop_window),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    unit: Option<String>,
    process: Option<RawProcess>,
    #[serde(default)]
    logs: Vec<PathBuf>,
    memory_limit: Option<Human<u64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    name: Option<String>,
    cmdline: Option<String>,
    pidfile: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLogs {
    paths: Vec<PathBuf>,
}

impl Default for RawLogs {
    fn default() -> Self {
        RawLogs {
            paths: vec![PathBuf::from("/var/log")],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCache {
    ttl: Human<Duration>,
    budget: Human<u64>,
    warn_entries: u64,
    max_concurrent_loads: usize,
}

impl Default for RawCache {
    fn default() -> Self {
        let d = CacheConfig::default();
        RawCache {
            ttl: Human(d.ttl),
            budget: Human(d.budget_bytes),
            warn_entries: d.warn_entries,
            max_concurrent_loads: d.max_concurrent_loads,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawRefresh {
    interval: Human<Duration>,
    queries: Vec<RawRefreshQuery>,
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
            interval: Human(Duration::from_secs(300)),
            queries: vec![
                q("errors", None),
                q("warnings", Some(r"\b(WARN|WARNING|Warning)\b")),
                q("tracebacks", Some("Traceback|panicked at|Exception")),
                q("oom", Some("Out of memory|oom-kill|OOM|Killed process")),
                RawRefreshQuery {
                    ignore_case: true,
                    ..q("timeouts", Some("timed? ?out"))
                },
            ],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefreshQuery {
    name: String,
    #[serde(default = "grep_kind")]
    kind: String,
    pattern: Option<String>,
    #[serde(default)]
    ignore_case: bool,
    since: Option<String>,
    #[serde(default = "twenty")]
    max_lines: usize,
}

fn grep_kind() -> String {
    "grep".into()
}

fn twenty() -> usize {
    20
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawHttp {
    listen: String,
    token: String,
    token_file: Option<PathBuf>,
    request_timeout: Human<Duration>,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: format!("127.0.0.1:{DEFAULT_PORT}"),
            token: String::new(),
            token_file: None,
            request_timeout: Human(Duration::from_secs(30)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    level: String,
    format: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// A duration (`5m`) or a size (`8MiB`) as people write them; a bare number is seconds or bytes.
#[derive(Debug, Clone, Copy)]
struct Human<T>(T);

impl<'de> Deserialize<'de> for Human<Duration> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match HumanInput::deserialize(d)? {
            HumanInput::Number(n) => Ok(Human(Duration::from_secs(n))),
            HumanInput::Text(s) => parse_duration(&s)
                .map(Human)
                .map_err(|e| serde::de::Error::custom(format!("invalid duration: {e}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Human<u64> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match HumanInput::deserialize(d)? {
            HumanInput::Number(n) => Ok(Human(n)),
            HumanInput::Text(s) => parse_size(&s)
                .map(Human)
                .map_err(|e| serde::de::Error::custom(format!("invalid size: {e}"))),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HumanInput {
    Number(u64),
    Text(String),
}

/// `8MiB`, `512 KiB`, `1GB`, `4096`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let digits = s
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let number: f64 = s[..digits]
        .parse()
        .map_err(|_| format!("expected a number in {s:?}"))?;
    let unit: u64 = match s[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?} (use B, KiB, MiB, GiB)"
            ))
        }
    };
    Ok((number * unit as f64) as u64)
}

// ---- checked settings ----

/// A secret that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"****\""
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "****" })
    }
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

/// The most samples one trend holds (Theil–Sen compares every pair): past
/// this, every other sample is dropped, keeping the window at a coarser step.
pub const MAX_TREND_SAMPLES: u64 = 256;

/// Where the Telegram Bot API is, unless configured otherwise.
pub const DEFAULT_TELEGRAM_API: &str = "https://api.telegram.org";

/// The Telegram bot; present only when a token is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramSettings {
    pub token: Secret,
    pub api_url: String,
    /// Chats whose commands are answered (empty: nobody's).
    pub allowed_chats: Vec<i64>,
    /// Chats alerts go to.
    pub alert_chats: Vec<i64>,
    /// The same alert is sent at most once per this.
    pub alert_cooldown: Duration,
    /// Messages waiting to be sent before the oldest are dropped.
    pub outbox_size: usize,
}

/// A service to watch: a systemd unit, a process match, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    pub unit: Option<String>,
    pub process: Option<ProcessMatch>,
    pub logs: Vec<PathBuf>,
    /// Overrides the cgroup's or the unit's limit.
    pub memory_limit: Option<u64>,
}

/// How a service's processes are found without systemd.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessMatch {
    /// The process name (`comm`, or argv\[0\]'s file name) and/or a regex over the command line.
    Pattern {
        name: Option<String>,
        cmdline: Option<String>,
    },
    /// The PID written in a file.
    Pidfile(PathBuf),
}

#[derive(Debug, Clone)]
pub struct RefreshQuery {
    pub name: String,
    pub query: Query,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the settings came from (`None`: defaults and environment only).
    pub source: Option<PathBuf>,
    pub log_paths: Vec<PathBuf>,
    pub cache: CacheConfig,
    pub refresh_interval: Duration,
    pub refresh: Vec<RefreshQuery>,
    pub listen: SocketAddr,
    pub token: Secret,
    pub request_timeout: Duration,
    pub log_level: String,
    pub log_json: bool,
    /// Where `/proc` is (a fixture tree in tests).
    pub proc_root: PathBuf,
    /// A kernel log file to read OOM kills from (else `journalctl -k`).
    pub kernel_log: Option<PathBuf>,
    /// The `journalctl` command.
    pub journalctl: String,
    /// Where `/sys` is (cgroup memory files).
    pub sys_root: PathBuf,
    /// The kernel's log device, read when no kernel log file is set (`None`: skipped).
    pub kmsg: Option<PathBuf>,
    /// The `systemctl` command.
    pub systemctl: String,
    pub services: Vec<ServiceConfig>,
    pub health: HealthSettings,
    pub telegram: Option<TelegramSettings>,
}

impl Settings {
    /// The effective settings as TOML, secrets masked: `diagbot config check`.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let quote = |s: &str| format!("{s:?}");
        let paths: Vec<String> = self
            .log_paths
            .iter()
            .map(|p| quote(&p.display().to_string()))
            .collect();
        out.push_str(&format!("[logs]\npaths = [{}]\n\n", paths.join(", ")));
        out.push_str(&format!(
            "[cache]\nttl = \"{}s\"\nbudget = {}\nwarn_entries = {}\nmax_concurrent_loads = {}\n\n",
            self.cache.ttl.as_secs_f64(),
            self.cache.budget_bytes,
            self.cache.warn_entries,
            self.cache.max_concurrent_loads
        ));
        out.push_str(&format!(
            "[refresh]\ninterval = \"{}s\"\nqueries = [\n",
            self.refresh_interval.as_secs_f64()
        ));
        for q in &self.refresh {
            out.push_str(&format!(
                "  {{ name = {}, query = {} }},\n",
                quote(&q.name),
                quote(&q.query.canonical())
            ));
        }
        out.push_str("]\n\n");
        out.push_str(&format!(
            "[http]\nlisten = \"{}\"\ntoken = {}\nrequest_timeout = \"{}s\"\n\n",
            self.listen,
            quote(if self.token.is_empty() { "" } else { "****" }),
            self.request_timeout.as_secs_f64()
        ));
        out.push_str(&format!(
            "[log]\nlevel = {}\nformat = \"{}\"\n\n",
            quote(&self.log_level),
            if self.log_json { "json" } else { "text" }
        ));
        let path = |p: &Option<PathBuf>| {
            quote(
                &p.as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            )
        };
        out.push_str(&format!(
            "[system]\nproc_root = {}\nsys_root = {}\nkernel_log = {}\nkmsg = {}\nsystemctl = {}\njournalctl = {}\n\n",
            quote(&self.proc_root.display().to_string()),
            quote(&self.sys_root.display().to_string()),
            path(&self.kernel_log),
            path(&self.kmsg),
            quote(&self.systemctl),
            quote(&self.journalctl)
        ));
        let h = &self.health;
        out.push_str(&format!(
            "[health]\nsample_interval = \"{}s\"\ntrend_window = \"{}s\"\ntrend_min_span = \"{}s\"\noom_horizon = \"{}s\"\nerror_burst_lines = {}\nerror_burst_window = \"{}s\"\nrestart_loop = {}\nrestart_loop_window = \"{}s\"\n",
            h.sample_interval.as_secs_f64(),
            h.trend_window.as_secs_f64(),
            h.trend_min_span.as_secs_f64(),
            h.oom_horizon.as_secs_f64(),
            h.error_burst_lines,
            h.error_burst_window.as_secs_f64(),
            h.restart_loop,
            h.restart_loop_window.as_secs_f64()
        ));
        match &self.telegram {
            None => out.push_str("\n[telegram]\ntoken = \"\"   # no token: the bot is off\n"),
            Some(t) => out.push_str(&format!(
                "\n[telegram]\ntoken = \"****\"\napi_url = {}\nallowed_chats = {:?}\nalert_chats = {:?}\nalert_cooldown = \"{}s\"\noutbox_size = {}\n",
                quote(&t.api_url),
                t.allowed_chats,
                t.alert_chats,
                t.alert_cooldown.as_secs_f64(),
                t.outbox_size
            )),
        }
        for svc in &self.services {
            out.push_str(&format!("\n[[services]]\nname = {}\n", quote(&svc.name)));
            if let Some(unit) = &svc.unit {
                out.push_str(&format!("unit = {}\n", quote(unit)));
            }
            match &svc.process {
                Some(ProcessMatch::Pattern { name, cmdline }) => {
                    let mut parts = Vec::new();
                    if let Some(n) = name {
                        parts.push(format!("name = {}", quote(n)));
                    }
                    if let Some(c) = cmdline {
                        parts.push(format!("cmdline = {}", quote(c)));
                    }
                    out.push_str(&format!("process = {{ {} }}\n", parts.join(", ")));
                }
                Some(ProcessMatch::Pidfile(p)) => out.push_str(&format!(
                    "process = {{ pidfile = {} }}\n",
                    quote(&p.display().to_string())
                )),
                None => {}
            }
            let logs: Vec<String> = svc
                .logs
                .iter()
                .map(|p| quote(&p.display().to_string()))
                .collect();
            out.push_str(&format!("logs = [{}]\n", logs.join(", ")));
            if let Some(limit) = svc.memory_limit {
                out.push_str(&format!("memory_limit = {limit}\n"));
            }
        }
        out
    }
}

/// Which file to read: `explicit`, else `$DIAGBOT_CONFIG`, else the first of
/// `/etc/diagbot/diagbot.toml` and `./diagbot.toml` that exists, else none.
pub fn find_config_file(
    explicit: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = env.get("DIAGBOT_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    ["/etc/diagbot/diagbot.toml", "diagbot.toml"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Reads and checks the settings from `file` (if any) and `env` overrides.
pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Settings, ConfigError> {
    let (text, name) = match file {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| err(format!("{}: cannot read: {e}", path.display())))?,
            path.display().to_string(),
        ),
        None => (String::new(), "(defaults)".to_string()),
    };
    load_str(&text, &name, env).map(|mut s| {
        s.source = file.map(Path::to_path_buf);
        s
    })
}

/// As [`load`], from text already read; `name` is used in messages.
pub fn load_str(
    text: &str,
    name: &str,
    env: &BTreeMap<String, String>,
) -> Result<Settings, ConfigError> {
    // The file alone first, so that its errors carry lines.
    let mut table: toml::Table = toml::from_str(text).map_err(|e| located(name, text, &e))?;
    toml::from_str::<RawConfig>(text).map_err(|e| located(name, text, &e))?;
    let overrides = apply_env(&mut table, env)?;
    let raw: RawConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            err(format!(
                "{name} with environment overrides ({}): {}",
                overrides.join(", "),
                e.message()
            ))
        })?;
    check(raw, name, text)
}

/// `DIAGBOT_CACHE__TTL=1s` → `cache.ttl = "1s"`. A value that parses as TOML
/// (a number, `true`, `["a", "b"]`) is taken as such, else as a string.
fn apply_env(
    table: &mut toml::Table,
    env: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    for (name, value) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_NOT_KEYS.contains(&name.as_str()) || key.is_empty() {
            continue;
        }
        let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let (last, parents) = path
            .split_last()
            .ok_or_else(|| err(format!("{name}: empty key")))?;
        let mut node = &mut *table;
        for part in parents {
            let entry = node
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = entry
                .as_table_mut()
                .ok_or_else(|| err(format!("{name}: {part} is not a section")))?;
        }
        node.insert(last.clone(), parsed);
        applied.push(name.clone());
    }
    Ok(applied)
}

/// A parse error with the file, the line and the key it is about.
fn located(name: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let Some(span) = e.span() else {
        return err(format!("{name}: {}", e.message()));
    };
    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let key = key_at(text, span.start);
    let key = key.map(|k| format!("{k}: ")).unwrap_or_default();
    err(format!("{name}:{line}: {key}{}", e.message()))
}

/// The dotted key of the line holding byte `at`, from the nearest `[section]` above.
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let section = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .map(|s| s.trim().trim_matches('[').trim_matches(']').to_string());
    let trimmed = line.trim();
    if trimmed.starts_with('[') {
        return Some(trimmed.trim_matches(|c| c == '[' || c == ']').to_string());
    }
    let key = trimmed.split('=').next()?.trim();
    Some(match section {
        Some(s) if !key.is_empty() => format!("{s}.{key}"),
        _ => key.to_string(),
    })
}

/// The line of `section.key` in `text`, for errors found after parsing.
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            in_section = s.trim() == section;
        } else if in_section && t.split('=').next().map(str::trim) == Some(key) {
            return Some(i + 1);
        }
    }
    None
}

fn check(raw: RawConfig, name: &str, text: &str) -> Result<Settings, ConfigError> {
    let at = |section: &str, key: &str, msg: String| {
        let line = line_of(text, section, key)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        err(format!("{name}{line}: {section}.{key}: {msg}"))
    };
    if raw.logs.paths.is_empty() {
        return Err(at("logs", "paths", "at least one path is needed".into()));
    }
    if raw.cache.ttl.0.is_zero() {
        return Err(at("cache", "ttl", "must be more than 0".into()));
    }
    if raw.cache.budget.0 == 0 {
        return Err(at("cache", "budget", "must be more than 0".into()));
    }
    if raw.refresh.interval.0 < Duration::from_millis(100) {
        return Err(at("refresh", "interval", "must be at least 100ms".into()));
    }
    let listen: SocketAddr = raw.http.listen.parse().map_err(|e| {
        at(
            "http",
            "listen",
            format!(
                "{:?} is not an address such as 127.0.0.1:{DEFAULT_PORT}: {e}",
                raw.http.listen
            ),
        )
    })?;
    let token = match (&raw.http.token_file, raw.http.token.is_empty()) {
        (Some(_), false) => {
            return Err(at(
                "http",
                "token",
                "give token or token_file, not both".into(),
            ))
        }
        (Some(path), true) => std::fs::read_to_string(path)
            .map(|t| t.trim().to_string())
            .map_err(|e| {
                at(
                    "http",
                    "token_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?,
        (None, _) => raw.http.token.clone(),
    };
    if !listen.ip().is_loopback() && token.is_empty() {
        return Err(at(
            "http",
            "listen",
            format!("{listen} is not a loopback address: set http.token (or http.token_file) so that requests need it"),
        ));
    }
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let level = raw.log.level.trim().to_ascii_lowercase();
    // A level, or a tracing directive list such as "warn,diagbot=debug".
    if !LEVELS.contains(&level.as_str()) && !level.contains('=') {
        return Err(at(
            "log",
            "level",
            format!("{:?} is not one of {}", raw.log.level, LEVELS.join(", ")),
        ));
    }
    let format = raw.log.format.as_str();
    if !["text", "json"].contains(&format) {
        return Err(at(
            "log",
            "format",
            format!("{format:?} is neither \"text\" nor \"json\""),
        ));
    }
    let health = check_health(&raw.health).map_err(|(key, msg)| at("health", key, msg))?;
    let telegram = check_telegram(&raw.telegram).map_err(|(key, msg)| at("telegram", key, msg))?;
    let services = check_services(&raw.services).map_err(|m| {
        let line = text
            .lines()
            .position(|l| l.trim() == "[[services]]")
            .map(|l| format!(":{}", l + 1))
            .unwrap_or_default();
        err(format!("{name}{line}: services: {m}"))
    })?;
    // A service's logs are searched and may be asked for, as configured paths are.
    let mut log_paths = raw.logs.paths.clone();
    for svc in &services {
        for p in &svc.logs {
            if !log_paths.contains(p) {
                log_paths.push(p.clone());
            }
        }
    }
    let mut refresh = Vec::new();
    for q in &raw.refresh.queries {
        refresh.push(
            refresh_query(q, &log_paths)
                .map_err(|m| at("refresh", "queries", format!("{}: {m}", q.name)))?,
        );
    }
    Ok(Settings {
        source: None,
        log_paths,
        cache: CacheConfig {
            ttl: raw.cache.ttl.0,
            budget_bytes: raw.cache.budget.0,
            warn_entries: raw.cache.warn_entries,
            max_concurrent_loads: raw.cache.max_concurrent_loads.max(1),
        },
        refresh_interval: raw.refresh.interval.0,
        refresh,
        listen,
        token: Secret(token),
        request_timeout: raw.http.request_timeout.0,
        log_level: raw.log.level,
        log_json: format == "json",
        proc_root: raw.system.proc_root,
        kernel_log: (!raw.system.kernel_log.is_empty())
            .then(|| PathBuf::from(&raw.system.kernel_log)),
        journalctl: raw.system.journalctl,
        sys_root: raw.system.sys_root,
        kmsg: (!raw.system.kmsg.is_empty()).then(|| PathBuf::from(&raw.system.kmsg)),
        systemctl: raw.system.systemctl,
        services,
        health,
        telegram,
    })
}

fn check_telegram(raw: &RawTelegram) -> Result<Option<TelegramSettings>, (&'static str, String)> {
    let token = match (&raw.token_file, raw.token.is_empty()) {
        (Some(_), false) => return Err(("token", "give token or token_file, not both".into())),
        (Some(path), true) => std::fs::read_to_string(path)
            .map(|t| t.trim().to_string())
            .map_err(|e| ("token_file", format!("cannot read {}: {e}", path.display())))?,
        (None, _) => raw.token.trim().to_string(),
    };
    if token.is_empty() {
        return Ok(None);
    }
    // A BotFather token is "123456789:AA..."; anything else would only fail later, less clearly.
    let well_formed = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !well_formed {
        return Err((
            "token",
            "is not a bot token as BotFather gives them (digits, a colon, then letters, digits, _ and -)".into(),
        ));
    }
    let api_url = raw.api_url.trim().trim_end_matches('/').to_string();
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err((
            "api_url",
            format!("{api_url:?} is not an http:// or https:// URL"),
        ));
    }
    if raw.outbox_size == 0 {
        return Err(("outbox_size", "must be at least 1".into()));
    }
    Ok(Some(TelegramSettings {
        token: Secret(token),
        api_url,
        allowed_chats: raw.allowed_chats.clone(),
        alert_chats: raw.alert_chats.clone(),
        alert_cooldown: raw.alert_cooldown.0,
        outbox_size: raw.outbox_size,
    }))
}

fn check_health(raw: &RawHealth) -> Result<HealthSettings, (&'static str, String)> {
    let h = HealthSettings {
        sample_interval: raw.sample_interval.0,
        trend_window: raw.trend_window.0,
        trend_min_span: raw.trend_min_span.0,
        oom_horizon: raw.oom_horizon.0,
        error_burst_lines: raw.error_burst_lines,
        error_burst_window: raw.error_burst_window.0,
        restart_loop: raw.restart_loop,
        restart_loop_window: raw.restart_loop_window.0,
    };
    if h.sample_interval < Duration::from_millis(100) {
        return Err(("sample_interval", "must be at least 100ms".into()));
    }
    if h.restart_loop == 0 {
        return Err(("restart_loop", "must be at least 1".into()));
    }
    if h.trend_min_span > h.trend_window {
        return Err(("trend_min_span", "is longer than trend_window".into()));
    }
    Ok(h)
}

fn check_services(raw: &[RawService]) -> Result<Vec<ServiceConfig>, String> {
    let mut out: Vec<ServiceConfig> = Vec::new();
    for s in raw {
        let name = s.name.trim();
        if name.is_empty() {
            return Err("a service needs a name".into());
        }
        let at = |m: &str| format!("{name}: {m}");
        if out.iter().any(|o| o.name == name) {
            return Err(at("the name is used twice"));
        }
        let process = match &s.process {
            None => None,
            Some(RawProcess {
                pidfile: Some(p),
                name: None,
                cmdline: None,
            }) => Some(ProcessMatch::Pidfile(p.clone())),
            Some(RawProcess {
                pidfile: Some(_), ..
            }) => {
                return Err(at(
                    "process: give pidfile, or name and/or cmdline, not both",
                ))
            }
            Some(RawProcess {
                name: None,
                cmdline: None,
                ..
            }) => return Err(at("process: give name, cmdline or pidfile")),
            Some(RawProcess { name, cmdline, .. }) => {
                if let Some(c) = cmdline {
                    grep_regex::RegexMatcher::new(c)
                        .map_err(|e| at(&format!("process.cmdline: invalid regex: {e}")))?;
                }
                Some(ProcessMatch::Pattern {
                    name: name.clone(),
                    cmdline: cmdline.clone(),
                })
            }
        };
        let unit = s
            .unit
            .as_ref()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if unit.is_none() && process.is_none() {
            return Err(at("give a unit, a process match, or both"));
        }
        if s.memory_limit.is_some_and(|l| l.0 == 0) {
            return Err(at("memory_limit must be more than 0"));
        }
        out.push(ServiceConfig {
            name: name.to_string(),
            unit,
            process,
            logs: s.logs.clone(),
            memory_limit: s.memory_limit.map(|l| l.0),
        });
    }
    Ok(out)
}

fn refresh_query(q: &RawRefreshQuery, paths: &[PathBuf]) -> Result<RefreshQuery, String> {
    let mut query = match (q.kind.as_str(), &q.pattern) {
        ("errors", None) => Query::errors(paths.to_vec()),
        ("errors", Some(_)) => return Err("an errors query takes no pattern".into()),
        ("grep", Some(p)) => {
            let mut query = Query::grep(p.clone(), paths.to_vec());
            query.kind = QueryKind::Grep {
                pattern: p.clone(),
                ignore_case: q.ignore_case,
                fixed_strings: false,
            };
            query
        }
        ("grep", None) => return Err("a grep query needs a pattern".into()),
        (other, _) => return Err(format!("kind {other:?} is neither \"grep\" nor \"errors\"")),
    };
    if q.max_lines > MAX_LINES_LIMIT {
        return Err(format!(
            "max_lines {} is over {MAX_LINES_LIMIT}",
            q.max_lines
        ));
    }
    query.max_lines = q.max_lines;
    if let Some(since) = &q.since {
        query.since = Some(TimeBound::parse(since).map_err(|e| e.to_string())?);
    }
    Ok(RefreshQuery {
        name: q.name.clone(),
        query,
    })
}

#[cfg(test)]
mod tests;
