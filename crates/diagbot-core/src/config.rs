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
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSystem {
    proc_root: PathBuf,
    kernel_log: String,
    journalctl: String,
}

impl Default for RawSystem {
    fn default() -> Self {
        RawSystem {
            proc_root: PathBuf::from("/proc"),
            kernel_log: String::new(),
            journalctl: "journalctl".into(),
        }
    }
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
        out.push_str(&format!(
            "[system]\nproc_root = {}\nkernel_log = {}\njournalctl = {}\n",
            quote(&self.proc_root.display().to_string()),
            quote(
                &self
                    .kernel_log
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            quote(&self.journalctl)
        ));
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
    let mut refresh = Vec::new();
    for q in &raw.refresh.queries {
        refresh.push(
            refresh_query(q, &raw.logs.paths)
                .map_err(|m| at("refresh", "queries", format!("{}: {m}", q.name)))?,
        );
    }
    Ok(Settings {
        source: None,
        log_paths: raw.logs.paths,
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
    })
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
