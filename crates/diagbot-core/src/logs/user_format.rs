//! Formats a user defines for files the built-in grammar does not read, or
//! reads differently than they want: a name, a file glob, a chrono strftime
//! pattern for the timestamp, and optionally a regex whose named groups
//! `time`, `level` and `message` say where each part of a line stands.
//!
//! A user format is a candidate of the learner for the files its glob
//! matches, tried before the built-in forms: it becomes a file's format when
//! it reads at least half of the file's sampled lines (see `logs::learn`).

use std::path::Path;

use chrono::format::{parse_and_remainder, Item, Parsed, StrftimeItems};
use chrono::{FixedOffset, NaiveDateTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

use crate::logs::level::{level_from_text, Level};
use crate::logs::timestamp::search::{locate, Anchor, WINDOW};
use crate::logs::timestamp::{LineTime, ParsedTime, YearHint};

/// A user-defined log format, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserFormat {
    /// Shown as the file's `timestamp_format`.
    pub name: String,
    /// The files it applies to: a glob on the file name (`*.log`), or on the
    /// whole path when it holds a `/` (`/var/log/myapp/**/*.log`).
    pub glob: String,
    /// A chrono strftime pattern for the timestamp (`%d.%m.%Y %H:%M:%S%.3f`).
    pub timestamp: String,
    /// A regex (Rust `regex` syntax) with a named group `time`, and optionally
    /// `level` and `message`. Without it the pattern is looked for at every
    /// token start in the first 128 bytes of a line.
    #[serde(default)]
    pub regex: Option<String>,
}

/// Why a user format cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserFormatError {
    /// The glob does not parse.
    #[error("format {name:?}: invalid glob {glob:?}: {message}")]
    Glob {
        /// The format's name.
        name: String,
        /// The glob as written.
        glob: String,
        /// Why it does not parse.
        message: String,
    },
    /// The timestamp pattern is not a strftime pattern chrono reads.
    #[error("format {name:?}: invalid timestamp pattern {pattern:?}: {message}")]
    Pattern {
        /// The format's name.
        name: String,
        /// The pattern as written.
        pattern: String,
        /// Why it cannot be read.
        message: String,
    },
    /// The regex does not compile.
    #[error("format {name:?}: invalid regex: {message}")]
    Regex {
        /// The format's name.
        name: String,
        /// Why the regex does not compile.
        message: String,
    },
    /// The regex has no `time` group to read the timestamp from.
    #[error("format {name:?}: the regex has no named group `time`")]
    NoTimeGroup {
        /// The format's name.
        name: String,
    },
}

/// A user format checked and ready to read lines.
#[derive(Debug, Clone)]
pub struct CompiledUserFormat {
    /// Its name, as configured.
    pub name: String,
    glob: globset::GlobMatcher,
    glob_on_path: bool,
    items: Vec<Item<'static>>,
    regex: Option<RegexParts>,
}

#[derive(Debug, Clone)]
struct RegexParts {
    regex: regex::bytes::Regex,
    time: usize,
    level: Option<usize>,
    message: Option<usize>,
}

/// What a user format read from one line.
#[derive(Debug, Clone, PartialEq)]
pub struct UserReading {
    /// The timestamp and where it stands.
    pub time: LineTime,
    /// From the regex's `level` group: `Some(None)` when the group exists but
    /// holds no level word; `None` when the regex has no such group.
    pub level: Option<Option<Level>>,
    /// Where the regex's `message` group stands.
    pub message: Option<(usize, usize)>,
}

impl UserFormat {
    /// Checks the glob, the pattern (it must read back a date and time it
    /// writes) and the regex.
    pub fn compile(&self) -> Result<CompiledUserFormat, UserFormatError> {
        let glob_on_path = self.glob.contains('/');
        let glob = globset::GlobBuilder::new(&self.glob)
            .literal_separator(glob_on_path)
            .build()
            .map_err(|e| UserFormatError::Glob {
                name: self.name.clone(),
                glob: self.glob.clone(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        let pattern_error = |message: String| UserFormatError::Pattern {
            name: self.name.clone(),
            pattern: self.timestamp.clone(),
            message,
        };
        let items = StrftimeItems::new(&self.timestamp)
            .parse_to_owned()
            .map_err(|e| pattern_error(e.to_string()))?;
        check_round_trip(&items).map_err(pattern_error)?;
        let regex = self
            .regex
            .as_deref()
            .map(|r| self.compile_regex(r))
            .transpose()?;
        Ok(CompiledUserFormat {
            name: self.name.clone(),
            glob,
            glob_on_path,
            items,
            regex,
        })
    }

    fn compile_regex(&self, source: &str) -> Result<RegexParts, UserFormatError> {
        let regex = regex::bytes::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| UserFormatError::Regex {
                name: self.name.clone(),
                message: e.to_string(),
            })?;
        let group = |name: &str| regex.capture_names().position(|n| n == Some(name));
        let time = group("time").ok_or_else(|| UserFormatError::NoTimeGroup {
            name: self.name.clone(),
        })?;
        let level = group("level");
        let message = group("message");
        Ok(RegexParts {
            regex,
            time,
            level,
            message,
        })
    }
}

/// A fixed instant written with the pattern and read back must give the same
/// date and time to the minute (as local time, or as UTC for an epoch): the
/// pattern holds a date, or a month and day, and a time of day.
fn check_round_trip(items: &[Item<'static>]) -> Result<(), String> {
    let reference = FixedOffset::east_opt(3600)
        .and_then(|z| z.with_ymd_and_hms(2026, 1, 27, 10, 11, 12).single())
        .ok_or("no reference time")?;
    let written = reference.format_with_items(items.iter()).to_string();
    let hint = YearHint::new(reference.naive_local());
    let same = |read: &ParsedTime, expected: NaiveDateTime| {
        read.naive.date() == expected.date()
            && read.naive.hour() == expected.hour()
            && read.naive.minute() == expected.minute()
    };
    match parse_items(items, &written, &hint) {
        Some(read)
            if same(&read, reference.naive_local()) || same(&read, reference.naive_utc()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "it must hold a date (or a month and day) and a time of day; \
             2026-01-27 10:11:12 +01:00 written with it is {written:?}, which does not read back"
        )),
    }
}

/// Reads `text` with `items`; the rest of `text` may only be blank.
fn parse_items(items: &[Item<'static>], text: &str, hint: &YearHint) -> Option<ParsedTime> {
    let (time, rest) = parse_prefix(items, text, hint)?;
    rest.trim().is_empty().then_some(time)
}

/// Reads a timestamp at the start of `text`; returns it and what follows.
fn parse_prefix<'t>(
    items: &[Item<'static>],
    text: &'t str,
    hint: &YearHint,
) -> Option<(ParsedTime, &'t str)> {
    let mut parsed = Parsed::new();
    let rest = parse_and_remainder(&mut parsed, text, items.iter()).ok()?;
    Some((parsed_time(&parsed, hint)?, rest))
}

fn parsed_time(parsed: &Parsed, hint: &YearHint) -> Option<ParsedTime> {
    let utc = FixedOffset::east_opt(0);
    if parsed.timestamp().is_some() {
        let naive = parsed.to_naive_datetime_with_offset(0).ok()?;
        return Some(ParsedTime { naive, offset: utc });
    }
    let time = parsed.to_naive_time().ok()?;
    let naive = match parsed.to_naive_date() {
        Ok(date) => date.and_time(time),
        // No year in the pattern: the same rule as syslog's.
        Err(_) if parsed.year().is_none() => hint.resolve(parsed.month()?, parsed.day()?, time)?,
        Err(_) => return None,
    };
    Some(ParsedTime {
        naive,
        offset: parsed.offset().and_then(FixedOffset::east_opt),
    })
}

impl CompiledUserFormat {
    /// Whether the format applies to the file at `path`.
    pub fn applies_to(&self, path: &Path) -> bool {
        if self.glob_on_path {
            self.glob.is_match(path)
        } else {
            path.file_name().is_some_and(|n| self.glob.is_match(n))
        }
    }

    /// Whether a regex picks the time (and maybe level and message) out of lines.
    pub fn has_regex(&self) -> bool {
        self.regex.is_some()
    }

    /// Reads `line`: through the regex if there is one; else at `anchor` if
    /// given, or at every token start in the first 128 bytes.
    pub fn read(
        &self,
        line: &[u8],
        anchor: Option<Anchor>,
        hint: &YearHint,
    ) -> Option<UserReading> {
        if let Some(parts) = &self.regex {
            return self.read_with_regex(parts, line, hint);
        }
        let at_start = |start: usize| {
            let (time, end) = self.read_at(line, start, hint)?;
            Some(UserReading {
                time: LineTime { time, start, end },
                level: None,
                message: None,
            })
        };
        match anchor {
            Some(anchor) => at_start(locate(line, anchor)?),
            None => (0..line.len().min(WINDOW))
                .filter(|&p| p == 0 || !line[p - 1].is_ascii_alphanumeric())
                .filter(|&p| !line[p].is_ascii_whitespace())
                .find_map(at_start),
        }
    }

    /// The timestamp starting at `line[start]`, and where it ends.
    pub fn read_at(
        &self,
        line: &[u8],
        start: usize,
        hint: &YearHint,
    ) -> Option<(ParsedTime, usize)> {
        let text = utf8_prefix(line.get(start..)?);
        let (time, rest) = parse_prefix(&self.items, text, hint)?;
        Some((time, start + text.len() - rest.len()))
    }

    /// Why the format does not read `line`, in words.
    pub fn diagnose(&self, line: &[u8], hint: &YearHint) -> String {
        let Some(parts) = &self.regex else {
            return format!(
                "format {:?}: its pattern matches nowhere in the line",
                self.name
            );
        };
        let Some(caps) = parts.regex.captures(line) else {
            return format!("format {:?}: its regex does not match", self.name);
        };
        let text = caps
            .get(parts.time)
            .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
            .unwrap_or_default();
        if parse_items(&self.items, &text, hint).is_none() {
            return format!(
                "format {:?}: the time group {text:?} does not read with its pattern",
                self.name
            );
        }
        format!("format {:?}: no time", self.name)
    }

    fn read_with_regex(
        &self,
        parts: &RegexParts,
        line: &[u8],
        hint: &YearHint,
    ) -> Option<UserReading> {
        let caps = parts.regex.captures(line)?;
        let time_match = caps.get(parts.time)?;
        let text = std::str::from_utf8(time_match.as_bytes()).ok()?;
        let time = parse_items(&self.items, text, hint)?;
        let level = parts
            .level
            .map(|g| caps.get(g).and_then(|m| level_from_text(m.as_bytes())));
        let message = parts
            .message
            .and_then(|g| caps.get(g))
            .map(|m| (m.start(), m.end()));
        Some(UserReading {
            time: LineTime {
                time,
                start: time_match.start(),
                end: time_match.end(),
            },
            level,
            message,
        })
    }
}

/// The longest valid UTF-8 start of `bytes`, at most 256 bytes of it (a timestamp is short).
fn utf8_prefix(bytes: &[u8]) -> &str {
    let bytes = &bytes[..bytes.len().min(256)];
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}
