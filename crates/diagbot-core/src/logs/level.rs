//! Log levels, read from a line's header, never from its message.
//!
//! In order: markers that make a line an error wherever it comes from
//! (tracebacks, panics, Java exceptions); a syslog `<PRI>`; a JSON level key;
//! the header fields around the timestamp, logfmt's `level=` among them
//! (see [`header`]). A level word later in the message (`… Warning: …`, `no
//! error found`) or inside an identifier (`ERROR_CODE_7`) is not the line's
//! level. A line with none has no level (`unknown` in the counts).
//!
//! - [`words`]: the spellings (`WARN`, `Warning`, `wrn`, `Information`, `E`, pino's `50`).
//! - [`header`]: the header fields.
//! - [`structured`]: markers, `<PRI>` and JSON.

use serde::{Deserialize, Serialize};

use crate::logs::timestamp::{find_line_timestamp, YearHint};

pub mod header;
mod memo;
pub mod structured;
pub mod words;

pub use words::level_from_text;

/// A line's level, from the most to the least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The service cannot go on (`FATAL`, `CRITICAL`, `PANIC`, `EMERG`, `ALERT`).
    Fatal,
    /// Something failed (`ERROR`, `ERR`, `SEVERE`, tracebacks and panics).
    Error,
    /// Something may be wrong (`WARN`, `WARNING`).
    Warning,
    /// Normal operation (`INFO`, `NOTICE`, `Information`).
    Info,
    /// Detail for debugging (`DEBUG`, `FINE`, `CONFIG`).
    Debug,
    /// The finest detail (`TRACE`, `FINER`, `FINEST`, `Verbose`).
    Trace,
}

impl Level {
    /// Every level, most severe first: the order of `LevelCounts`.
    pub const ALL: [Level; 6] = [
        Level::Fatal,
        Level::Error,
        Level::Warning,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    /// The level's name in JSON and in counts.
    pub fn name(self) -> &'static str {
        match self {
            Level::Fatal => "fatal",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// Error and worse: what `diagbot errors` lists.
    pub fn is_error(self) -> bool {
        matches!(self, Level::Fatal | Level::Error)
    }

    /// The level's place in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The level of a line whose timestamp (if any) stands at `line[start..end]`.
pub fn header_level(line: &[u8], time: Option<(usize, usize)>) -> Option<Level> {
    level_with(line, time, true)
}

/// `carried`: whether a line carried inside this one (a CRI or Docker JSON
/// line's payload) may be read; it is read once, never nested further.
fn level_with(line: &[u8], time: Option<(usize, usize)>, carried: bool) -> Option<Level> {
    if let Some(level) = structured::error_marker(line) {
        return Some(level);
    }
    if let Some(level) = structured::syslog_priority(line) {
        return Some(level);
    }
    if crate::logs::timestamp::search::is_json(line) {
        return structured::json_level(line, |inner| {
            carried.then(|| payload_level(inner)).flatten()
        });
    }
    let payload: header::PayloadReader = payload_level;
    header::header_level(line, time, carried.then_some(payload))
}

/// The level of the application line a container runtime wraps.
fn payload_level(line: &[u8]) -> Option<Level> {
    let hint = YearHint::new(chrono::NaiveDateTime::MAX);
    let time = find_line_timestamp(line, &hint).map(|t| (t.start, t.end));
    level_with(line, time, false)
}

/// The level of a line on its own: its timestamp found by the search.
pub fn detect_level(line: &[u8]) -> Option<Level> {
    let hint = YearHint::new(chrono::NaiveDateTime::MAX);
    let time = find_line_timestamp(line, &hint).map(|t| (t.start, t.end));
    header_level(line, time)
}

#[cfg(test)]
mod tests;
