//! Reading a configuration: the file's text parsed with spans, environment
//! overrides laid over it (`DIAGBOT_CACHE__TTL=1s` sets `cache.ttl`), then
//! deserialised into the caller's raw schema. Every error says where it is:
//! a span in the file becomes its line, a span in an override names the
//! variable.
//!
//! Each override's value is parsed alone and its spans moved past the end of
//! the file (each to its own offset), so they never collide with the file's
//! and a span alone tells which source a mistake came from.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::ConfigError;

/// Environment variables with this prefix override config keys.
pub const ENV_PREFIX: &str = "DIAGBOT_";
/// Not overrides: the config file's own location, `--remote`'s token, and
/// test-only variables.
const ENV_NOT_KEYS: [&str; 4] = [
    "DIAGBOT_CONFIG",
    "DIAGBOT_TOKEN",
    "DIAGBOT_LOGHUB",
    "DIAGBOT_FUZZ_CASES",
];

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

/// A configuration's text and the name its errors use.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file's path as given, or `(defaults)`.
    pub name: String,
    /// The file, if there is one.
    pub path: Option<PathBuf>,
    /// Its text (empty without a file).
    pub text: String,
}

impl Source {
    /// Reads `file`, or stands for the defaults when there is none.
    pub fn read(file: Option<&Path>) -> Result<Source, ConfigError> {
        match file {
            Some(path) => Ok(Source {
                name: path.display().to_string(),
                path: Some(path.to_path_buf()),
                text: read_config_file(path).map_err(|why| ConfigError::Read {
                    path: path.to_path_buf(),
                    why,
                })?,
            }),
            None => Ok(Source::text("(defaults)", "")),
        }
    }

    /// Text already read; `name` is used in messages.
    pub fn text(name: &str, text: &str) -> Source {
        Source {
            name: name.to_string(),
            path: None,
            text: text.to_string(),
        }
    }
}

/// The most a configuration file may hold: a commented example is 7 KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads a configuration file: never waits on it (a FIFO), reads only a
/// regular file (not a device such as `/dev/zero`), and at most
/// [`MAX_CONFIG_BYTES`], at start and on every reload alike. A symlink is
/// followed: the administrator may keep the file elsewhere.
fn read_config_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let kind = if meta.file_type().is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(std::io::Error::other(format!(
            "{kind}: a configuration must be a regular file"
        )));
    }
    let too_big = || {
        std::io::Error::other(format!(
            "larger than {} KiB: not a configuration file",
            MAX_CONFIG_BYTES >> 10
        ))
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    // The file may grow while it is read: the cap holds for what is read.
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    Ok(text)
}

/// Turns spans into places: a line of the file, or an override's variable.
#[derive(Debug, Clone)]
pub struct Locator {
    name: String,
    text: String,
    /// Each override: its variable, its dotted key, and its span.
    overrides: Vec<(String, String, Range<usize>)>,
}

impl Locator {
    /// For values that come from no file and no variable: the defaults.
    pub fn defaults() -> Locator {
        Locator {
            name: "(defaults)".into(),
            text: String::new(),
            overrides: Vec::new(),
        }
    }

    /// An error about `key`, at `span` (a span from the parse).
    pub fn error(&self, span: Range<usize>, key: &str, problem: impl Into<String>) -> ConfigError {
        let key = (!key.is_empty()).then(|| key.to_string());
        let problem = problem.into();
        if span.start >= self.text.len() && span.end > 0 {
            if let Some((var, env_key, _)) = self
                .overrides
                .iter()
                .find(|(_, _, r)| r.start <= span.start && span.start <= r.end)
            {
                return ConfigError::Env {
                    var: var.clone(),
                    key: key.or_else(|| Some(env_key.clone())),
                    problem,
                };
            }
        }
        // An empty span is a default value: it has no line.
        let line = (span.end > 0).then(|| {
            self.text[..span.start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1
        });
        ConfigError::File {
            file: self.name.clone(),
            line,
            key,
            problem,
        }
    }
}

/// Parses `source`, lays `env`'s overrides over it and deserialises the
/// result as `T`; with it comes the locator for errors found later.
pub fn parse<T: DeserializeOwned>(
    source: &Source,
    env: &BTreeMap<String, String>,
) -> Result<(T, Locator), ConfigError> {
    let mut locator = Locator {
        name: source.name.clone(),
        text: source.text.clone(),
        overrides: Vec::new(),
    };
    // Each override's value, and where past the file (and the ones before it) it is placed.
    let mut snippets: Vec<(String, Vec<String>, String, usize)> = Vec::new();
    let mut offset = source.text.len() + 1;
    for (var, value) in env {
        let Some(key) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_NOT_KEYS.contains(&var.as_str()) || key.is_empty() {
            continue;
        }
        let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
        // A value that parses as TOML is taken as such, else as a string.
        let literal = if DeValue::parse(value).is_ok() {
            value.clone()
        } else {
            toml::Value::String(value.clone()).to_string()
        };
        locator
            .overrides
            .push((var.clone(), path.join("."), offset..offset + literal.len()));
        snippets.push((var.clone(), path, literal.clone(), offset));
        offset += literal.len() + 1;
    }
    let mut root = DeTable::parse(&source.text).map_err(|e| parse_error(&locator, &e, None))?;
    for (var, path, literal, at) in &snippets {
        let value = DeValue::parse(literal).map_err(|e| parse_error(&locator, &e, None))?;
        insert(root.get_mut(), path, shifted(value, *at)).map_err(|problem| ConfigError::Env {
            var: var.clone(),
            key: Some(path.join(".")),
            problem,
        })?;
    }
    let tree = root.get_ref().clone();
    let raw = T::deserialize(toml::de::Deserializer::from(root))
        .map_err(|e| parse_error(&locator, &e, Some(&tree)))?;
    Ok((raw, locator))
}

/// Sets `path` in `table` to `value`, making the tables on the way.
fn insert<'i>(
    table: &mut DeTable<'i>,
    path: &[String],
    value: Spanned<DeValue<'i>>,
) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("empty key".into());
    };
    let span = value.span();
    let mut node = table;
    for part in parents {
        if node.get(part.as_str()).is_none() {
            node.insert(
                Spanned::new(span.clone(), part.clone().into()),
                Spanned::new(span.clone(), DeValue::Table(DeTable::new())),
            );
        }
        node = match node.get_mut(part.as_str()).map(Spanned::get_mut) {
            Some(DeValue::Table(t)) => t,
            _ => return Err(format!("{part} is not a section")),
        };
    }
    node.insert(Spanned::new(span, last.clone().into()), value);
    Ok(())
}

/// A parse or deserialisation error, located by its span; the key is the
/// deepest one of `root` whose value holds the span.
fn parse_error(locator: &Locator, e: &toml::de::Error, root: Option<&DeTable<'_>>) -> ConfigError {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => {
            let key = root.map(|r| key_at(r, &span)).unwrap_or_default();
            locator.error(span, &key, message)
        }
        None => locator.error(0..0, "", message),
    }
}

/// `services[2].process`: the path to the innermost key or value holding `span`.
fn key_at(table: &DeTable<'_>, span: &Range<usize>) -> String {
    find_in_table(table, span.start).unwrap_or_default()
}

fn holds(range: Range<usize>, at: usize) -> bool {
    range.start <= at && at < range.end.max(range.start + 1)
}

fn find_in_table(table: &DeTable<'_>, at: usize) -> Option<String> {
    table.iter().find_map(|(k, v)| {
        let inner = find_in_value(v.get_ref(), at);
        let here = holds(k.span(), at) || holds(v.span(), at);
        match inner {
            Some(rest) if rest.starts_with('[') => Some(format!("{}{rest}", k.get_ref())),
            Some(rest) => Some(format!("{}.{rest}", k.get_ref())),
            None => here.then(|| k.get_ref().to_string()),
        }
    })
}

/// The path below `value` (starting with `.key` or `[i]`) to what holds `at`.
fn find_in_value(value: &DeValue<'_>, at: usize) -> Option<String> {
    match value {
        DeValue::Table(t) => find_in_table(t, at),
        DeValue::Array(items) => {
            items
                .iter()
                .enumerate()
                .find_map(|(i, item)| match find_in_value(item.get_ref(), at) {
                    Some(rest) if rest.starts_with('[') => Some(format!("[{i}]{rest}")),
                    Some(rest) => Some(format!("[{i}].{rest}")),
                    None => holds(item.span(), at).then(|| format!("[{i}]")),
                })
        }
        _ => None,
    }
}

/// `value` with every span moved `by` bytes on: an override's value is parsed
/// alone, and moved past the file so that its spans name it.
fn shifted<'i>(value: Spanned<DeValue<'i>>, by: usize) -> Spanned<DeValue<'i>> {
    let span = value.span();
    let moved = span.start + by..span.end + by;
    let inner = match value.into_inner() {
        DeValue::Array(items) => {
            let mut out = toml::de::DeArray::new();
            for item in items {
                out.push(shifted(item, by));
            }
            DeValue::Array(out)
        }
        DeValue::Table(table) => {
            let mut out = DeTable::new();
            for (k, v) in table {
                let ks = k.span();
                out.insert(
                    Spanned::new(ks.start + by..ks.end + by, k.into_inner()),
                    shifted(v, by),
                );
            }
            DeValue::Table(out)
        }
        other => other,
    };
    Spanned::new(moved, inner)
}
