//! Log levels, read from the words a line opens with.
//!
//! Only the head of a line is looked at, and a lowercase word counts only when
//! it is marked as a level (`[error]`, `level=error`, `<error>`): free text such
//! as "no error found" must not turn a line into an error. Tracebacks, Rust
//! panics and Java exceptions are errors wherever their marker line appears.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Fatal,
    Error,
    Warning,
    Info,
    Debug,
    Trace,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Fatal,
        Level::Error,
        Level::Warning,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

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

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How far into a line the level word may stand.
const HEAD: usize = 160;

/// The level of one log line, if it shows one.
pub fn detect_level(line: &[u8]) -> Option<Level> {
    if let Some(level) = error_marker(line) {
        return Some(level);
    }
    let head = &line[..line.len().min(HEAD)];
    let mut i = 0;
    // Words seen so far are all numbers (a timestamp, a pid): then a lone
    // capital letter is an Android/logcat level (`01-27 10:00:00.123 1 2 E Tag: x`).
    let mut only_numbers_before = true;
    while i < head.len() {
        if !head[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < head.len() && head[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = &head[start..i];
        let before = start.checked_sub(1).map(|j| head[j]);
        let after = head.get(i).copied();
        if let Some(level) = classify_word(word, before, after, only_numbers_before) {
            return Some(level);
        }
        // A word glued to digits (`T10`, `2026-01-27T10:00:00Z`) is part of a timestamp.
        let in_timestamp = word.len() == 1 && matches!(word[0], b'T' | b'Z');
        if !in_timestamp {
            only_numbers_before = false;
        }
    }
    None
}

fn classify_word(
    word: &[u8],
    before: Option<u8>,
    after: Option<u8>,
    only_numbers_before: bool,
) -> Option<Level> {
    if word.len() == 1 {
        let letter_level = single_letter(word[0])?;
        // `E/Tag(123): msg` (logcat brief) or ` E ` after the timestamp and pids.
        let slash_form = after == Some(b'/') && before.is_none_or(|b| b == b' ');
        let spaced_form = only_numbers_before && before == Some(b' ') && after == Some(b' ');
        return (slash_form || spaced_form).then_some(letter_level);
    }
    let upper = word.iter().all(|b| b.is_ascii_uppercase());
    let marked = matches!(before, Some(b'[' | b'<' | b'=' | b'(' | b'"'))
        && matches!(after, Some(b']' | b'>' | b' ' | b')' | b',' | b'"') | None);
    let capitalised = word[0].is_ascii_uppercase() && word[1..].iter().all(u8::is_ascii_lowercase);
    let labelled = capitalised && matches!(after, Some(b':' | b']'));
    if !(upper || marked || labelled) {
        return None;
    }
    level_word(word)
}

fn single_letter(b: u8) -> Option<Level> {
    Some(match b {
        b'F' | b'A' => Level::Fatal,
        b'E' => Level::Error,
        b'W' => Level::Warning,
        b'I' => Level::Info,
        b'D' => Level::Debug,
        b'V' => Level::Trace,
        _ => return None,
    })
}

fn level_word(word: &[u8]) -> Option<Level> {
    let mut buf = [0u8; 9];
    if word.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word);
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"fatal" | b"critical" | b"crit" | b"emerg" | b"emergency" | b"alert" | b"panic" => {
            Level::Fatal
        }
        b"error" | b"err" | b"severe" => Level::Error,
        b"warn" | b"warning" => Level::Warning,
        b"info" | b"notice" => Level::Info,
        b"debug" | b"fine" => Level::Debug,
        b"trace" | b"finer" | b"finest" | b"verbose" => Level::Trace,
        _ => return None,
    })
}

/// Lines that mark an error whatever words they open with.
fn error_marker(line: &[u8]) -> Option<Level> {
    const PREFIXES: [&[u8]; 3] = [
        b"Traceback (most recent call last):",
        b"Exception in thread ",
        b"Caused by: ",
    ];
    if PREFIXES.iter().any(|p| line.starts_with(p)) {
        return Some(Level::Error);
    }
    // Rust: `thread 'main' panicked at src/main.rs:3:5:`
    if line.starts_with(b"thread '") && memchr::memmem::find(line, b"' panicked at ").is_some() {
        return Some(Level::Fatal);
    }
    None
}

#[cfg(test)]
mod tests;
