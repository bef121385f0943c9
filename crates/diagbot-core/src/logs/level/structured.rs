//! Levels that a line states outright: error markers, syslog priorities
//! and JSON level keys.

use super::words::{level_from_text, syslog_severity};
use super::Level;

/// Lines that mark an error whatever words they open with: Python
/// tracebacks, Java's uncaught exceptions and causes, Rust panics.
pub fn error_marker(line: &[u8]) -> Option<Level> {
    if !matches!(line.first(), Some(b'T' | b'E' | b'C' | b't')) {
        return None; // the one-byte test spares every other line four comparisons
    }
    const PREFIXES: [&[u8]; 3] = [
        b"Traceback (most recent call last):",
        b"Exception in thread ",
        b"Caused by: ",
    ];
    if PREFIXES.iter().any(|p| line.starts_with(p)) {
        return Some(Level::Error);
    }
    // Rust: `thread 'main' panicked at src/main.rs:3:5:`
    let head = &line[..line.len().min(256)];
    if line.starts_with(b"thread '") && memchr::memmem::find(head, b"' panicked at ").is_some() {
        return Some(Level::Fatal);
    }
    None
}

/// A syslog `<PRI>` at the start of the line (RFC 3164 and 5424, `/dev/kmsg`):
/// its severity is `PRI % 8`.
pub fn syslog_priority(line: &[u8]) -> Option<Level> {
    let rest = line.strip_prefix(b"<")?;
    let digits = rest
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=3).contains(&digits) || rest.get(digits) != Some(&b'>') {
        return None;
    }
    let pri = rest[..digits]
        .iter()
        .fold(0u64, |a, &b| a * 10 + u64::from(b - b'0'));
    (pri <= 191).then(|| syslog_severity(pri % 8)).flatten()
}

/// Keys that hold a level, in JSON and logfmt logs.
const LEVEL_KEYS: [&[u8]; 10] = [
    b"level",
    b"lvl",
    b"severity",
    b"loglevel",
    b"log.level",
    b"levelname",
    b"@l",
    b"@level",
    b"PRIORITY",
    // MongoDB's severity letter: `"s":"W"`.
    b"s",
];

/// The level of a JSON line: a level key's value (a word, or a pino or
/// syslog number); else, for Docker's `{"log":"…"}`, the level of the
/// logged line itself.
pub fn json_level(line: &[u8], inner: impl Fn(&[u8]) -> Option<Level>) -> Option<Level> {
    for key in LEVEL_KEYS {
        if let Some(value) = json_value(line, key) {
            return level_from_text(value);
        }
    }
    let at = json_key(line, b"log")?;
    let text = line.get(at..)?.strip_prefix(b"\"")?;
    inner(text)
}

/// Where the value of `"key":` starts (after blanks).
fn json_key(line: &[u8], key: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let hit = from + memchr::memmem::find(&line[from..], key)?;
        let end = hit + key.len();
        if hit >= 1 && line[hit - 1] == b'"' && line.get(end..end + 2) == Some(b"\":") {
            let blanks = line[end + 2..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            return Some(end + 2 + blanks);
        }
        from = hit + 1;
    }
}

/// The value of `"key":`: a string's content or a number's digits.
fn json_value<'l>(line: &'l [u8], key: &[u8]) -> Option<&'l [u8]> {
    let at = json_key(line, key)?;
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', s)?;
        return Some(&s[..end]);
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    (digits > 0).then(|| &rest[..digits])
}

/// Whether a logfmt or JSON key names the level.
pub fn is_level_key(key: &[u8]) -> bool {
    LEVEL_KEYS.contains(&key)
}
