//! A file's header, learned like its timestamp: which fields after the time
//! stand before the message on most of its first lines.
//!
//! The fields after the time are cut at blanks (a bracketed field with
//! blanks inside is one field: `[pool worker 3 on 9000]`), or at `|` when
//! the time is followed by one (`time|component|pid|message`). Position by
//! position, a field is header when most sampled lines hold a field of the
//! same kind there and it is not yet the message:
//!
//! - kinds that messages do not open with the same way on most lines: a
//!   level word, a number, a bracketed field, a lone separator (`-`, `,`), a
//!   `key=value`, a name labelled with a colon (`com.example.Client:`,
//!   `sshd[24200]:`);
//! - a word or a name with digits (`CBS`, `node-7`, `Step_LSC`) when it is a
//!   column: its values say nothing of what follows them (the next words of
//!   the lines with one value are many), where a message's first word
//!   mostly decides its next ones (the same template); or when a level, a
//!   bracketed field or a labelled name follows it (`dn228 Nov 9 12:01:01
//!   dn228/dn228 crond[2915]:`) — a number alone after it may be the
//!   message's own (`Retry 2 …` in a file of one kind of line).
//!
//! A labelled name ends the header: its colon introduces the message.
//!
//! The message is the rest: in pipe mode, what follows the last header
//! column. No rule is for one system; each is a property of log headers,
//! tested on generated headers (`tests/it/headers.rs`).

use super::level::words::{level_letter, level_word};

/// Header fields a file may have after its time.
pub const MAX_HEADER_FIELDS: usize = 10;
/// Sampled lines needed to learn a header (fewer: the per-line rules).
pub const MIN_LINES: usize = 8;
/// The most values a column of words takes in a sample (components, types).
const MAX_CATEGORIES: usize = 16;
/// The share of lines a position must agree on.
const AGREE: f64 = 0.9;

/// A file's learned header: how many fields after the time, and how they are parted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct HeaderShape {
    /// Fields after the time that are header.
    pub fields: u8,
    /// Fields are parted by `|` (else by blanks).
    pub pipes: bool,
    /// The header field where most lines state their level, if one does.
    pub level_at: Option<u8>,
}

/// What a header field is, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `INFO`, `warn`, `[error]`, `E`.
    Level,
    /// Digits, perhaps with `.`, `:`, `-` (`148`, `2005.06.03`).
    Number,
    /// `[main]`, `(pid 3)`, `<0>`.
    Bracketed,
    /// `-`, `,`, `--`, `>`.
    Separator,
    /// `tid=12`.
    KeyValue,
    /// A name ending with a colon: `com.example.Client:`, `sshd[24200]:`.
    Labelled,
    /// Letters and digits: `node-7`, `R02-M1-N0`, `dn228`.
    Mixed,
    /// Letters only: `CBS`, `combo`.
    Word,
}

impl FieldKind {
    /// Kinds that are header wherever most lines agree on them.
    fn header_by_kind(self) -> bool {
        !matches!(self, FieldKind::Mixed | FieldKind::Word)
    }

    /// Kinds that say a header stands before them, whatever came between.
    fn marks_header(self) -> bool {
        matches!(
            self,
            FieldKind::Level | FieldKind::Bracketed | FieldKind::Labelled
        )
    }

    /// The kind's name in `formats test`.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Level => "level",
            FieldKind::Number => "number",
            FieldKind::Bracketed => "bracketed",
            FieldKind::Separator => "separator",
            FieldKind::KeyValue => "key=value",
            FieldKind::Labelled => "name:",
            FieldKind::Mixed => "name",
            FieldKind::Word => "word",
        }
    }
}

/// The kind of field `f`.
pub fn kind_of(f: &[u8]) -> FieldKind {
    if is_level(f) {
        return FieldKind::Level;
    }
    if matches!(f, b"-" | b"--" | b"," | b">" | b"|" | b":" | b"::") {
        return FieldKind::Separator;
    }
    if matches!(f.first(), Some(b'[' | b'(' | b'<' | b'{')) {
        return FieldKind::Bracketed;
    }
    if f.iter().any(u8::is_ascii_digit)
        && f.iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b':' | b'-' | b'+' | b','))
    {
        return FieldKind::Number;
    }
    if f.len() > 1 && f.ends_with(b":") {
        return FieldKind::Labelled;
    }
    if f.iter().skip(1).any(|&b| b == b'=') {
        return FieldKind::KeyValue;
    }
    if f.iter().any(u8::is_ascii_digit) {
        return FieldKind::Mixed;
    }
    FieldKind::Word
}

/// A level word alone or marked (`INFO`, `warn`, `[error]`, `<E>`), or a lone
/// level letter (`I`, `W`, `E`, as logcat and glog write).
fn is_level(f: &[u8]) -> bool {
    level_of(f).is_some()
}

/// A field without the marks around a level word: `[notice]`, `<warn>`,
/// `(E)`, `ERROR:` are `notice`, `warn`, `E`, `ERROR`.
pub(crate) fn level_marks_off(f: &[u8]) -> &[u8] {
    let inner = f
        .strip_prefix(b"[")
        .or_else(|| f.strip_prefix(b"<"))
        .or_else(|| f.strip_prefix(b"("))
        .unwrap_or(f);
    inner
        .strip_suffix(b"]")
        .or_else(|| inner.strip_suffix(b">"))
        .or_else(|| inner.strip_suffix(b")"))
        .or_else(|| inner.strip_suffix(b":"))
        .unwrap_or(inner)
}

/// The level field `f` names, if it is one.
fn level_of(f: &[u8]) -> Option<crate::logs::level::Level> {
    let inner = level_marks_off(f);
    if let [b] = inner {
        return level_letter(*b);
    }
    let cased = inner.iter().all(u8::is_ascii_uppercase)
        || inner.iter().skip(1).all(u8::is_ascii_lowercase);
    if !cased || !inner.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    level_word(inner).map(|w| w.level)
}

/// Where the fields after a time that ends at `end` start: past the rest of
/// the time's own field (`]` after `[Sun Dec 04 … 2005`) and blanks.
fn after_time(line: &[u8], end: usize, pipes: bool) -> usize {
    let mut at = end.min(line.len());
    if pipes {
        // The time's closing bracket: `[01.27 08:00:01]|…`.
        while at < line.len() && matches!(line[at], b']' | b')') {
            at += 1;
        }
    } else {
        while at < line.len() && !line[at].is_ascii_whitespace() {
            at += 1;
        }
    }
    at
}

/// Whether the fields after a time ending at `end` are parted by `|`.
fn pipe_after(line: &[u8], end: usize) -> bool {
    line.get(end..).and_then(|rest| {
        rest.iter()
            .find(|b| !b.is_ascii_whitespace() && !matches!(b, b']' | b')'))
    }) == Some(&b'|')
}

/// The fields of `line` from `at`: `(start, end)` each, at most `max`.
pub fn fields(line: &[u8], at: usize, pipes: bool, max: usize) -> Vec<(usize, usize)> {
    Fields { line, i: at, pipes }.take(max).collect()
}

/// The fields of a line after its time, one by one (no allocation: it runs
/// on every line grouped).
struct Fields<'a> {
    line: &'a [u8],
    i: usize,
    pipes: bool,
}

impl Iterator for Fields<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let line = self.line;
        let mut i = self.i;
        if self.pipes {
            while i < line.len() && line[i] == b' ' {
                i += 1;
            }
            if i < line.len() && line[i] == b'|' {
                i += 1;
            }
            while i < line.len() && line[i] == b' ' {
                i += 1;
            }
            if i >= line.len() {
                self.i = i;
                return None;
            }
            let end = memchr::memchr(b'|', &line[i..]).map_or(line.len(), |p| i + p);
            let mut e = end;
            while e > i && line[e - 1] == b' ' {
                e -= 1;
            }
            self.i = end;
            return Some((i, e));
        }
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            self.i = i;
            return None;
        }
        let start = i;
        if let Some(close) = closer(line[i]) {
            // A bracketed field is one, blanks inside and all.
            let mut depth = 0usize;
            while i < line.len() {
                if line[i] == line[start] {
                    depth += 1;
                } else if line[i] == close {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
        }
        while i < line.len() && !line[i].is_ascii_whitespace() {
            i += 1;
        }
        self.i = i;
        Some((start, i))
    }
}

fn closer(open: u8) -> Option<u8> {
    match open {
        b'[' => Some(b']'),
        b'(' => Some(b')'),
        b'{' => Some(b'}'),
        _ => None,
    }
}

/// A sampled line and its fields after the time.
type SplitLine<'l> = (&'l [u8], Vec<(usize, usize)>);

/// Learns the header of a file from sampled lines and where each one's time
/// ends (lines without a time are passed over). `None`: too few lines.
pub fn learn_header<'l>(lines: impl IntoIterator<Item = (&'l [u8], usize)>) -> Option<HeaderShape> {
    let lines: Vec<(&[u8], usize)> = lines.into_iter().collect();
    if lines.len() < MIN_LINES {
        return None;
    }
    let piped = lines.iter().filter(|(l, end)| pipe_after(l, *end)).count();
    let pipes = piped as f64 >= AGREE * lines.len() as f64;
    // Enough fields to see past the header into the message's first words.
    let max = MAX_HEADER_FIELDS + 4;
    let split: Vec<SplitLine<'_>> = lines
        .iter()
        .map(|(l, end)| (*l, fields(l, after_time(l, *end, pipes), pipes, max)))
        .collect();
    let n = split.len() as f64;
    let mut header = 0;
    let mut weak = false;
    let mut level_at = None;
    for i in 0..MAX_HEADER_FIELDS {
        // The message must follow on most lines.
        let with_next = split.iter().filter(|(_, f)| f.len() > i + 1).count();
        if (with_next as f64) < AGREE * n {
            break;
        }
        let kinds: Vec<FieldKind> = split
            .iter()
            .filter(|(_, f)| f.len() > i)
            .map(|(l, f)| kind_of(&l[f[i].0..f[i].1]))
            .collect();
        let Some((mut kind, mut count)) = majority(&kinds) else {
            break;
        };
        if is_column_kind(kind) {
            // A column of names holds them with and without digits alike
            // (hosts: `db`, `calvisitor-10-105-160-95`): one kind for it.
            // Not paths (`/orders/7` and `/orders`): a path is what a
            // message is about, never a host's or a component's name.
            let names = split
                .iter()
                .filter_map(|(l, f)| f.get(i).map(|&(a, b)| &l[a..b]))
                .filter(|w| is_column_kind(kind_of(w)) && !w.contains(&b'/'))
                .count();
            if names > count && kinds.contains(&FieldKind::Mixed) {
                (kind, count) = (FieldKind::Mixed, names);
            }
        }
        if (count as f64) < AGREE * n {
            break;
        }
        if kind == FieldKind::Level && level_at.is_none() {
            level_at = Some(i as u8);
        }
        // In pipe mode a column is a column: the message is the last one.
        // A column after a word that is none is the message's own word.
        if pipes || !weak && is_column_kind(kind) && is_column(&split, i, kind) {
            header = i + 1;
            continue;
        }
        if !kind.header_by_kind() {
            // A word that is no column may still be header: when a marked
            // field follows it (a host before a program's tag).
            weak = true;
            continue;
        }
        // A number after such a word may be the message's own (`Retry 2` in
        // a file of one kind of line); a level, a bracketed field or a name
        // with a colon marks a header wherever it stands.
        if !weak || kind.marks_header() {
            header = i + 1;
            weak = false;
        }
        if kind == FieldKind::Labelled {
            // The colon introduces the message.
            break;
        }
    }
    Some(HeaderShape {
        fields: header as u8,
        pipes,
        level_at: level_at.filter(|&at| usize::from(at) < header),
    })
}

fn is_column_kind(kind: FieldKind) -> bool {
    matches!(kind, FieldKind::Word | FieldKind::Mixed)
}

fn majority(kinds: &[FieldKind]) -> Option<(FieldKind, usize)> {
    let mut best: Option<(FieldKind, usize)> = None;
    for &k in kinds {
        let count = kinds.iter().filter(|&&x| x == k).count();
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((k, count));
        }
    }
    best
}

/// Whether the words at position `i` are a column: what follows a value
/// varies (many next words per value), as a header column's does, where a
/// message's first word mostly decides its next ones. A following word with
/// digits counts by its kind, so values do not make them vary. A column of
/// words is a few categories (a component: at most [`MAX_CATEGORIES`]
/// values); a column of names with digits may be all different (hosts,
/// request ids), a message's first word never is.
fn is_column(split: &[SplitLine<'_>], i: usize, kind: FieldKind) -> bool {
    use std::collections::{HashMap, HashSet};
    let mut next: HashMap<&[u8], HashSet<Vec<u8>>> = HashMap::new();
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for (line, f) in split {
        let Some(&(s, e)) = f.get(i) else { continue };
        let value = &line[s..e];
        let mut sig = Vec::new();
        for &(a, b) in f.iter().skip(i + 1).take(3) {
            // A value (a number, an id, an address) stands as its kind: what
            // varies in one template is not what tells templates apart.
            let word = &line[a..b];
            if word.iter().any(u8::is_ascii_digit) {
                sig.push(kind_of(word) as u8);
            } else {
                sig.extend_from_slice(word);
            }
            sig.push(b' ');
        }
        next.entry(value).or_default().insert(sig);
        *seen.entry(value).or_default() += 1;
    }
    if kind == FieldKind::Word && seen.len() > MAX_CATEGORIES {
        return false;
    }
    // Values seen often enough to judge.
    let judged: Vec<(&&[u8], &usize)> = seen.iter().filter(|(_, &c)| c >= 4).collect();
    if judged.is_empty() {
        // Every value rare: an identifier column (a host, a request id).
        return kind == FieldKind::Mixed;
    }
    let varied = judged
        .iter()
        .filter(|(v, &c)| next[**v].len() >= 2 && next[**v].len() * 4 >= c.min(12))
        .count();
    varied * 2 > judged.len()
}

/// The level word among `line`'s header fields by the learned `shape`, read
/// wherever it stands in the header (`- 1769508900 node-7 … KERNEL WARN`),
/// `None` when none of its header fields is a level word: then the
/// per-line rules decide (a level stated first thing after a syslog tag,
/// `logrotate: ALERT exited abnormally`).
pub fn header_level(
    line: &[u8],
    time_end: usize,
    shape: HeaderShape,
) -> Option<crate::logs::level::Level> {
    let at = usize::from(shape.level_at?);
    let mut fields = Fields {
        line,
        i: after_time(line, time_end, shape.pipes),
        pipes: shape.pipes,
    };
    let (s, e) = fields.nth(at)?;
    level_of(&line[s..e])
}

/// `line`'s header fields by the learned `shape`: each one's kind and span.
pub fn header_fields(
    line: &[u8],
    time_end: usize,
    shape: HeaderShape,
) -> Vec<(FieldKind, std::ops::Range<usize>)> {
    let fields = Fields {
        line,
        i: after_time(line, time_end, shape.pipes),
        pipes: shape.pipes,
    };
    fields
        .take(usize::from(shape.fields))
        .map(|(s, e)| (kind_of(&line[s..e]), s..e))
        .collect()
}

/// Where the message starts in `line`, whose time ends at `time_end`, by
/// the learned `shape`: after its header fields, or at the first field.
pub fn message_start(line: &[u8], time_end: usize, shape: HeaderShape) -> usize {
    let at = after_time(line, time_end, shape.pipes);
    let mut last = line.len();
    let fields = Fields {
        line,
        i: at,
        pipes: shape.pipes,
    };
    for (n, (start, _)) in fields.enumerate() {
        if n == usize::from(shape.fields) {
            return start;
        }
        last = start;
    }
    // Fewer fields than the header: no message but its last field.
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bracketed_field_with_blanks_is_one_field() {
        let line = b"2026 [pool worker 3 on 9000] INFO x: msg";
        let f = fields(line, 4, false, 10);
        let texts: Vec<&[u8]> = f.iter().map(|&(s, e)| &line[s..e]).collect();
        assert_eq!(
            texts,
            [&b"[pool worker 3 on 9000]"[..], b"INFO", b"x:", b"msg"]
        );
    }

    #[test]
    fn pipes_part_columns_and_the_message_is_the_last() {
        let line = b"20260127-9:05:07:123|Step_LSC|30002312|onStandStepChanged 3579";
        let f = fields(line, 20, true, 10);
        let texts: Vec<&[u8]> = f.iter().map(|&(s, e)| &line[s..e]).collect();
        assert_eq!(
            texts,
            [&b"Step_LSC"[..], b"30002312", b"onStandStepChanged 3579"]
        );
    }

    /// Lines with their time ending at `end`.
    fn learned(lines: &[String], end: usize) -> HeaderShape {
        learn_header(lines.iter().map(|l| (l.as_bytes(), end))).unwrap()
    }

    #[test]
    fn in_a_file_of_one_kind_of_line_the_message_s_own_number_is_not_header() {
        let lines: Vec<String> = (0..12)
            .map(|i| format!("2026-01-27 10:00:00 WARN [main] x.Server: Retry {i} of order {i}"))
            .collect();
        let shape = learned(&lines, 19);
        assert_eq!(shape.fields, 3);
        let line = lines[0].as_bytes();
        assert_eq!(
            &line[message_start(line, 19, shape)..],
            b"Retry 0 of order 0"
        );
    }

    #[test]
    fn a_host_column_with_and_without_digits_is_one_column() {
        let hosts = [
            "db",
            "calvisitor-10-105-160-95",
            "build-7",
            "mail",
            "web-12",
        ];
        let tags = ["kernel[0]:", "sshd[812]:", "cron[77]:"];
        let lines: Vec<String> = (0..20)
            .map(|i| {
                format!(
                    "Jul  1 09:00:{i:02} {} {} {}",
                    hosts[i % hosts.len()],
                    tags[i % tags.len()],
                    ["Wake reason: ?", "session opened for user root"][i % 2]
                )
            })
            .collect();
        let shape = learned(&lines, 15);
        assert_eq!(shape.fields, 2, "{shape:?}");
        let line = lines[1].as_bytes();
        assert_eq!(
            &line[message_start(line, 15, shape)..],
            b"session opened for user root"
        );
    }

    #[test]
    fn paths_with_and_without_digits_are_no_column() {
        let mut lines: Vec<String> = (0..12)
            .map(|i| {
                format!("2026-01-27 10:00:00 2513 INFO bot.api [main] GET /orders/{i} status: 200")
            })
            .collect();
        lines.extend((0..3).map(|_| {
            "2026-01-27 10:00:01 2513 ERROR bot.api [main] POST /orders failed: timeout".to_string()
        }));
        let shape = learned(&lines, 19);
        let line = lines[12].as_bytes();
        assert_eq!(
            &line[message_start(line, 19, shape)..],
            b"POST /orders failed: timeout"
        );
    }

    #[test]
    fn a_host_and_a_second_time_before_a_tag_are_header() {
        let lines: Vec<String> = (0..12)
            .map(|i| {
                format!(
                    "- 1131566461 2005.11.09 dn{i} Nov 9 12:01:01 dn{i}/dn{i} crond[29{i}]: session {} for user root",
                    ["opened", "closed"][i % 2]
                )
            })
            .collect();
        let shape = learned(&lines, 12);
        let line = lines[1].as_bytes();
        assert_eq!(
            &line[message_start(line, 12, shape)..],
            b"session closed for user root"
        );
    }

    #[test]
    fn a_column_of_a_few_words_is_header_and_a_message_s_first_word_is_not() {
        let kinds = ["started job", "stopped worker", "failed disk check"];
        let lines: Vec<String> = (0..30)
            .map(|i| {
                format!(
                    "2026-01-27 10:00:00 INFO {} {}",
                    ["CBS", "CSI", "SVC"][i % 3],
                    kinds[(i / 3) % 3]
                )
            })
            .collect();
        let shape = learned(&lines, 19);
        assert_eq!(
            shape,
            HeaderShape {
                fields: 2,
                pipes: false,
                level_at: Some(0)
            }
        );
    }

    /// Found by the groups test: a few kinds of message whose words line up
    /// (word, word, word, number) are no columns, however few their lines.
    #[test]
    fn messages_whose_words_line_up_are_not_columns() {
        let kinds = [
            "disk full on volume",
            "cannot reach upstream",
            "certificate expired for",
            "queue overflow in",
            "lock timeout on table",
            "permission denied reading",
        ];
        let mut lines = Vec::new();
        for (i, k) in kinds.iter().enumerate() {
            for n in 0..=i {
                lines.push(format!("2026-01-27 10:0{i}:0{n},000 ERROR {k} {n}"));
            }
        }
        assert_eq!(learned(&lines, 23).fields, 1);
    }

    #[test]
    fn kinds_by_shape() {
        assert_eq!(kind_of(b"INFO"), FieldKind::Level);
        assert_eq!(kind_of(b"[error]"), FieldKind::Level);
        assert_eq!(kind_of(b"W"), FieldKind::Level);
        assert_eq!(kind_of(b"148"), FieldKind::Number);
        assert_eq!(kind_of(b"[main]"), FieldKind::Bracketed);
        assert_eq!(kind_of(b"-"), FieldKind::Separator);
        assert_eq!(kind_of(b"tid=3"), FieldKind::KeyValue);
        assert_eq!(
            kind_of(b"dfs.DataNode$PacketResponder:"),
            FieldKind::Labelled
        );
        assert_eq!(kind_of(b"node-7"), FieldKind::Mixed);
        assert_eq!(kind_of(b"CBS"), FieldKind::Word);
    }
}
