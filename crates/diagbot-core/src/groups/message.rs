//! Where a line's message begins: its header (timestamp, level, pid,
//! component, syslog tag) is not part of its template.
//!
//! The header is what the timestamp reader and the level rules read: the
//! fields before the timestamp (HPC's `id node component state`, a
//! Thunderbird line's epoch), the timestamp, and after it, walking at most
//! [`MAX_FIELDS`] fields:
//! - a level word (`INFO`, `[notice]`, `<warn>`) ends the header, with the
//!   brackets and separators right after it (`- INFO [main] - …`);
//! - a syslog tag (`sshd[24200]:`, `crond(pam_unix)[2915]:`, `kernel:`) ends
//!   it too, so a level the message states (`error: …`) stays in the message;
//! - two plain words in a row are prose: the message began before them.
//!
//! Numbers, `-` and `|` right after the timestamp (pids, thread ids, flags)
//! are header as well.

use crate::logs::format::LineHead;
use crate::logs::level::words::level_word;

/// Fields after the timestamp the header may span.
pub const MAX_FIELDS: usize = 8;
/// A timestamp found this far into a line (not by the file's format) still
/// opens a header; further on it is part of the message.
const HEADER_REACH: usize = 40;

/// Keys whose value is a JSON line's message, in the spellings loggers use.
const MESSAGE_KEYS: [&[u8]; 5] = [
    b"\"msg\"",
    b"\"message\"",
    b"\"MESSAGE\"",
    b"\"@m\"",
    b"\"@mt\"",
];

/// Where `line`'s message is: the value of a JSON line's message key (its
/// other keys are the header), else from [`message_start`] to the end.
pub fn message_span(line: &[u8], head: &LineHead, leveled: bool) -> std::ops::Range<usize> {
    if crate::logs::timestamp::search::is_json(line) {
        if let Some(span) = MESSAGE_KEYS.iter().find_map(|k| json_string_after(line, k)) {
            return span;
        }
    }
    message_start(line, head, leveled).min(line.len())..line.len()
}

/// The span of the JSON string value of `key` (quoted) in `line`, without
/// its quotes; escapes are left as written.
fn json_string_after(line: &[u8], key: &[u8]) -> Option<std::ops::Range<usize>> {
    let at = memchr::memmem::find(line, key)? + key.len();
    let mut i = at;
    while line.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if line.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while line.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if line.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    while j < line.len() {
        match line[j] {
            b'\\' => j += 2,
            b'"' => return Some(start..j),
            _ => j += 1,
        }
    }
    None
}

/// The offset in `line` where its message starts.
/// `leveled`: the level rules found a level in the line's header (else a
/// level word is the message's: HPC's lone `warning`).
pub fn message_start(line: &[u8], head: &LineHead, leveled: bool) -> usize {
    // A learned header says where its message starts, line after line.
    if let (Some(shape), Some(t)) = (head.header, head.time) {
        return crate::logs::header::message_start(line, t.end, shape);
    }
    let after = match head.time {
        Some(t) if head.by_format || t.start <= HEADER_REACH => t.end,
        _ => 0,
    };
    // The rest of the timestamp's own field: `]` after `[Sun Dec 04 … 2005`.
    let mut at = after;
    if at > 0 {
        while at < line.len() && !line[at].is_ascii_whitespace() {
            at += 1;
        }
    }
    let body = skip_numbers(line, at);
    let mut previous_plain = false;
    let mut fields = Fields { line, at: body };
    for _ in 0..MAX_FIELDS {
        let Some((start, end)) = fields.next() else {
            break;
        };
        let f = &line[start..end];
        if leveled && is_level(f) {
            return skip_trailers(line, end);
        }
        if is_syslog_tag(f) {
            return skip_blanks(line, end);
        }
        let plain = is_plain(f);
        if plain && previous_plain {
            break;
        }
        previous_plain = plain;
    }
    body
}

/// Fields of `line` from `at`: `(start, end)` of each run of non-blanks.
struct Fields<'a> {
    line: &'a [u8],
    at: usize,
}

impl Iterator for Fields<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = skip_blanks(self.line, self.at);
        let end = start
            + self.line[start..]
                .iter()
                .take_while(|b| !b.is_ascii_whitespace())
                .count();
        self.at = end;
        (end > start).then_some((start, end))
    }
}

fn skip_blanks(line: &[u8], at: usize) -> usize {
    at + line[at..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

/// Skips separators and numbers (`- 1234 |`, `[1234]`) from `at`.
fn skip_numbers(line: &[u8], mut at: usize) -> usize {
    let fields = Fields { line, at };
    for (start, end) in fields {
        let f = &line[start..end];
        let inner = f.trim_ascii_start().strip_prefix(b"[").unwrap_or(f);
        let inner = inner.strip_suffix(b"]").unwrap_or(inner);
        let numeric = !inner.is_empty()
            && inner
                .iter()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'|' | b':'));
        if !numeric {
            return start;
        }
        at = end;
    }
    skip_blanks(line, at)
}

/// After a level word: separators and bracketed fields (`- [main] -`), and
/// a class name labelled with a colon (`com.example.Foo:`).
fn skip_trailers(line: &[u8], end: usize) -> usize {
    let fields = Fields { line, at: end };
    let mut message = skip_blanks(line, end);
    for (start, end) in fields {
        let f = &line[start..end];
        let separator = f.iter().all(|b| matches!(b, b'-' | b'|' | b':' | b'>'));
        let bracketed = f[0] == b'[' && f.ends_with(b"]");
        let class = f.len() > 1
            && f.ends_with(b":")
            && memchr::memchr(b'.', f).is_some()
            && f[..f.len() - 1]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'));
        if !(separator || bracketed || class) {
            break;
        }
        message = skip_blanks(line, end);
    }
    message
}

/// A level word on its own or marked: `ERROR`, `info`, `[notice]`, `<warn>`, `(E)`.
fn is_level(f: &[u8]) -> bool {
    let inner = crate::logs::header::level_marks_off(f);
    let cased = inner.iter().all(u8::is_ascii_uppercase)
        || inner.iter().skip(1).all(u8::is_ascii_lowercase);
    cased
        && inner.iter().all(u8::is_ascii_alphabetic)
        && level_word(inner).is_some_and(|w| !w.needs_mark || inner.len() < f.len())
}

/// `sshd[24200]:`, `crond(pam_unix)[2915]:`, `kernel:`, `bot[797]:`.
fn is_syslog_tag(f: &[u8]) -> bool {
    let Some(name) = f.strip_suffix(b":") else {
        return false;
    };
    let name = match name.strip_suffix(b"]") {
        Some(n) => match memchr::memrchr(b'[', n) {
            Some(i) if n[i + 1..].iter().all(u8::is_ascii_digit) => &n[..i],
            _ => return false,
        },
        None => name,
    };
    !name.is_empty()
        && (name[0].is_ascii_alphabetic() || name[0] == b'/')
        && name.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'(' | b')')
        })
}

/// A word of running text: letters only, perhaps capitalised.
fn is_plain(f: &[u8]) -> bool {
    f.iter().all(u8::is_ascii_alphabetic) && f.iter().skip(1).all(u8::is_ascii_lowercase)
}

/// Whether `line` opens a Python traceback: as an event's first line, one
/// with nothing of the service's own above it (a crash its stderr wrote),
/// whose template is made of its exception line.
pub(crate) fn is_bare_traceback(line: &[u8]) -> bool {
    line.starts_with(b"Traceback (most recent call last)")
}

/// The part of a record with no header of its own (a journal entry's
/// MESSAGE) that its template is made of: its first line, or, for a Python
/// traceback, its last unindented line — the exception's type and message,
/// which say what failed (`ConnectionError: exchange timeout after 30s`),
/// where the first line says only that something did.
pub fn record_message(text: &[u8]) -> &[u8] {
    let mut lines = text.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    if !is_bare_traceback(first) {
        return without_level_prefix(first);
    }
    text.split(|&b| b == b'\n')
        .rev()
        .find(|l| l.first().is_some_and(|b| !b.is_ascii_whitespace()))
        .unwrap_or(first)
}

/// `line` without a `LEVEL:name:` prefix (Python's default logging format,
/// `ERROR:root:payment failed`, as a service writes it to the journal): the
/// level and the logger's name are header, not message.
fn without_level_prefix(line: &[u8]) -> &[u8] {
    let Some(colon) = memchr::memchr(b':', line) else {
        return line;
    };
    let level = &line[..colon];
    if !is_level(level) || !level.iter().all(u8::is_ascii_uppercase) {
        return line;
    }
    let rest = &line[colon + 1..];
    let name_end = rest
        .iter()
        .position(|&b| b == b':' || b.is_ascii_whitespace());
    match name_end {
        Some(i) if i > 0 && rest[i] == b':' => rest[i + 1..].trim_ascii_start(),
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::format::TimeReader;

    #[test]
    fn a_python_level_and_logger_prefix_is_header() {
        assert_eq!(
            record_message(b"ERROR:root:payment failed"),
            b"payment failed"
        );
        assert_eq!(
            record_message(b"WARNING:bot.api:slow reply: 3 s"),
            b"slow reply: 3 s"
        );
        // Not such a prefix: left as it is.
        assert_eq!(record_message(b"Error: disk full"), b"Error: disk full");
        assert_eq!(record_message(b"ERROR: disk full"), b"ERROR: disk full");
        assert_eq!(record_message(b"NOTE:x y:z"), b"NOTE:x y:z");
    }

    #[test]
    fn a_tracebacks_template_is_made_of_its_exception_line() {
        let traceback = b"Traceback (most recent call last):\n  File \"bot.py\", line 3, in f\n    fetch()\nConnectionError: exchange timeout after 30s\n";
        assert_eq!(
            record_message(traceback),
            b"ConnectionError: exchange timeout after 30s"
        );
        assert_eq!(
            record_message(b"payment failed\n  detail"),
            b"payment failed"
        );
        assert_eq!(
            record_message(b"Traceback (most recent call last):"),
            b"Traceback (most recent call last):"
        );
    }
    use crate::logs::learn::learn_from_lines;
    use crate::logs::timestamp::YearHint;

    /// The message of the last of `lines`, read as a file of them reads it.
    fn message(lines: &[&str]) -> String {
        let hint = YearHint::new(
            chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default(),
        );
        let path = std::path::Path::new("x.log");
        let learned = learn_from_lines(lines.iter().map(|l| l.as_bytes()), &[], path, hint);
        let reader = TimeReader::new(&learned.format, &[], hint);
        let line = lines[lines.len() - 1].as_bytes();
        let head = reader.read(line);
        let at = message_start(line, &head, head.level(line).is_some());
        String::from_utf8_lossy(&line[at..]).into_owned()
    }

    #[test]
    fn a_json_line_s_message_is_its_message_key() {
        let line =
            br#"{"level":"error","ts":1769508000.5,"msg":"db timeout \"x\"","caller":"db.go:12"}"#;
        let head = LineHead {
            time: None,
            by_format: false,
            given_level: None,
            header: None,
        };
        let span = message_span(line, &head, true);
        assert_eq!(&line[span], br#"db timeout \"x\""#);
        let plain = b"2026-01-27 10:00:00 ERROR db timeout";
        let reader_head = LineHead {
            time: None,
            by_format: false,
            given_level: None,
            header: None,
        };
        assert_eq!(message_span(plain, &reader_head, true).end, plain.len());
    }

    #[test]
    fn python_logging_component_and_level() {
        let l = "2026-01-27 07:46:41,266 - http.client - ERROR - order 565697 rejected: insufficient balance";
        assert_eq!(message(&[l]), "order 565697 rejected: insufficient balance");
    }

    #[test]
    fn bracketed_level_and_component() {
        let apache = "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6";
        assert_eq!(
            message(&[apache]),
            "mod_jk child workerEnv in error state 6"
        );
        let zk = "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200";
        assert_eq!(message(&[zk]), "Notification time out: 3200");
    }

    #[test]
    fn syslog_tag_ends_the_header_and_a_stated_level_stays() {
        let l = "Dec 10 06:55:46 LabSZ sshd[24200]: error: Received disconnect from 1.2.3.4";
        assert_eq!(message(&[l]), "error: Received disconnect from 1.2.3.4");
        let t = "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root";
        assert_eq!(message(&[t, t]), "session closed for user root");
    }

    #[test]
    fn fields_before_the_time_and_a_flag_after_it_are_header() {
        let l = "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component alt0 is in the unavailable state (HWID=1973)";
        assert_eq!(
            message(&[l, l]),
            "Component State Change: Component alt0 is in the unavailable state (HWID=1973)"
        );
    }

    #[test]
    fn a_level_word_without_a_level_is_the_message() {
        let l = "134681 node-246 unix.hw state_change.unavailable 1077804742 1 warning";
        assert_eq!(message(&[l, l]), "warning");
    }

    #[test]
    fn prose_is_never_header() {
        let l = "2026-01-27 07:46:41,266 worker started the job: all fine";
        assert_eq!(message(&[l]), "worker started the job: all fine");
        assert_eq!(message(&["no timestamp here: ok"]), "no timestamp here: ok");
    }
}
