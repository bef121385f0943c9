//! The level in a line's header: the fields around its timestamp, before the message.
//!
//! Fields are split at blanks and `|`. A level word counts:
//! - in the first field after the timestamp, in any case (`INFO`, `Info`,
//!   `info`, zap's tab-separated `info`, .NET's `info:`);
//! - in the next three fields, in upper case (`- bot - ERROR -`) or marked
//!   (`[notice]`, `<warn>`, `error:` after a syslog tag);
//! - before the timestamp, in upper case or marked (`ERROR 2026-…`, `[WARN] …`);
//! - as a letter where formats put one (`E0127 10:00:00` klog, `E, [` Ruby,
//!   `E/Tag:` logcat, `1234 5678 E Tag:` logcat after pids).
//!
//! A `level=info` field (logfmt) counts wherever it stands in the header.
//!
//! The header ends where prose starts: two plain words in a row (`retry
//! failed. Warning: …`) or a sentence's full stop; words inside a quoted
//! value (`msg="… ERROR …"`) are never the level. A word glued to more
//! (`ERROR_CODE_7`, `on_error`, `bcast-error`, `error.log`) is not a level.

use super::memo;
use super::structured::is_level_key;
use super::words::{level_from_text, level_letter, level_word};
use super::Level;

/// Reads the level of the line a container runtime wraps.
pub type PayloadReader = fn(&[u8]) -> Option<Level>;

/// Fields after the timestamp that may hold the level.
const FIELDS_AFTER_TIME: usize = 4;
/// How far into a line the header may reach when there is no timestamp.
const HEAD: usize = 160;
/// How far after the timestamp the header may reach.
const AFTER_TIME: usize = 96;

/// `payload`: how to read the line a container runtime wraps (CRI's
/// `stdout F …`), or `None` when this line is already such a payload.
pub fn header_level(
    line: &[u8],
    time: Option<(usize, usize)>,
    payload: Option<PayloadReader>,
) -> Option<Level> {
    match (time, payload) {
        // The usual line: a timestamp first. Its header's result depends only
        // on the bytes the walk reads after the timestamp, which repeat from
        // line to line: remembered.
        (Some((0, end)), Some(_)) => memo::remembered(line, end, || walk(line, time, payload)),
        _ => walk(line, time, payload).level,
    }
}

/// The header's level, and what the walk read to find it.
pub struct Walked {
    /// The header's level (`None`: it has none).
    pub level: Option<Level>,
    /// The walk read `line[..examined]` and nothing after.
    pub examined: usize,
    /// The result depends only on the bytes read after the timestamp: not on
    /// a carried line, nor on what stands before the timestamp.
    pub remembrable: bool,
}

impl Walked {
    fn by_prefix(level: Option<Level>) -> Walked {
        Walked {
            level,
            examined: 0,
            remembrable: false,
        }
    }
}

/// The header rules, read in full.
pub fn walk(line: &[u8], time: Option<(usize, usize)>, payload: Option<PayloadReader>) -> Walked {
    let limit = match time {
        Some((_, end)) => (end + AFTER_TIME).max(HEAD),
        None => HEAD,
    };
    let head = &line[..line.len().min(limit)];
    if let Some(level) = leading_letter(head, time.map(|t| t.0)) {
        return Walked::by_prefix(Some(level));
    }
    let (before, after) = match time {
        Some((start, end)) => (start.min(head.len()), end.min(head.len())),
        None => (0, 0),
    };
    match prefix_level(&head[..before]) {
        Prefix::Level(level) => return Walked::by_prefix(Some(level)),
        // `the job 2026-01-27 10:00:00 ERROR …`: a date in running text, no header.
        Prefix::Prose => return Walked::by_prefix(None),
        Prefix::Fields => {}
    }
    if let Some(level) = redis_symbol(head, time) {
        return Walked::by_prefix(Some(level));
    }
    fields_after(line, head, after, time.and(payload))
}

/// `E0127 10:00:00.123` (klog, glog), `E, [2026-…` (Ruby), `E/Tag(12):` (logcat),
/// `[E 260127 10:00:00 …]` (Tornado).
fn leading_letter(head: &[u8], time_start: Option<usize>) -> Option<Level> {
    match head {
        [l, b'0'..=b'9', ..] if time_start == Some(1) => level_letter(*l),
        [l, b',', b' ', b'[', ..] => level_letter(*l),
        [l, b'/', c, ..] if c.is_ascii_alphanumeric() => level_letter(*l),
        [b'[', l, b' ', d, ..] if d.is_ascii_digit() => level_letter(*l),
        _ => None,
    }
}

/// Redis: `1234:M 27 Jan 2026 10:00:00.123 # Warning`: `#` warning, `*` notice,
/// `.` debug, `-` verbose (read as debug: Redis ranks it above its debug), right after the time, in a line that opens with `pid:role`.
fn redis_symbol(head: &[u8], time: Option<(usize, usize)>) -> Option<Level> {
    let (_, end) = time?;
    let pid = head.iter().take_while(|b| b.is_ascii_digit()).count();
    let role = head.get(pid..pid + 3)?;
    if pid == 0 || role[0] != b':' || !role[1].is_ascii_uppercase() || role[2] != b' ' {
        return None;
    }
    let level = match head.get(end..end + 3)? {
        b" # " => Level::Warning,
        b" * " => Level::Info,
        b" . " => Level::Debug,
        b" - " => Level::Debug,
        _ => return None,
    };
    Some(level)
}

/// Blanks, control bytes and `|` (NLog's `2026-… 10:00:00.1234|INFO|…`).
fn is_separator(b: u8) -> bool {
    b <= b' ' || b == b'|'
}

/// The fields of `s[at..]`: runs of bytes between blanks and `|`, each with
/// the number of unescaped `"` it holds (counted in the same pass).
/// How far a bracketed field may reach for its `]`.
const BRACKET_REACH: usize = 64;

struct Fields<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], usize);

    fn next(&mut self) -> Option<(&'a [u8], usize)> {
        let s = self.s;
        let mut p = self.at;
        while p < s.len() && is_separator(s[p]) {
            p += 1;
        }
        let start = p;
        // A bracketed field with blanks inside is one field (a thread:
        // `[pool worker 3 on 9000]`), when it closes within a short reach.
        if s.get(p) == Some(&b'[') {
            let reach = &s[p..s.len().min(p + BRACKET_REACH)];
            if let Some(close) = reach.iter().position(|&b| b == b']') {
                let inside = &reach[1..close];
                // One that holds a level word is read word by word (`[10:00:00 INF]`).
                let words = || inside.split(|&b| b == b' ');
                if inside.contains(&b' ')
                    && !inside.iter().any(|&b| b == b'[' || b == b'\n')
                    && !words().any(|w| level_word(w).is_some())
                {
                    self.at = p + close + 1;
                    return Some((&s[start..self.at], 0));
                }
            }
        }
        let mut quotes = 0;
        while p < s.len() && !is_separator(s[p]) {
            if s[p] == b'"' && (p == start || s[p - 1] != b'\\') {
                quotes += 1;
            }
            p += 1;
        }
        self.at = p;
        (p > start).then(|| (&s[start..p], quotes))
    }
}

impl Fields<'_> {
    /// The end of what was read: the last field and the byte that ended it.
    fn examined(&self) -> usize {
        (self.at + 1).min(self.s.len())
    }
}

fn fields(s: &[u8], at: usize) -> Fields<'_> {
    Fields { s, at }
}

/// What stands before the timestamp.
enum Prefix {
    Level(Level),
    /// Two plain words in a row: the timestamp is part of a message.
    Prose,
    Fields,
}

fn prefix_level(prefix: &[u8]) -> Prefix {
    let mut previous_plain = false;
    for (f, _) in fields(prefix, 0) {
        let Field::Word(w) = classify(f) else {
            previous_plain = false;
            continue;
        };
        if previous_plain && w.plain {
            return Prefix::Prose;
        }
        if w.marked || (w.upper && w.letters >= 3) {
            if let Some(level) = w.level() {
                return Prefix::Level(level);
            }
        }
        previous_plain = w.plain;
    }
    Prefix::Fields
}

fn fields_after(line: &[u8], head: &[u8], start: usize, payload: Option<PayloadReader>) -> Walked {
    let mut fields = fields(head, start);
    let (level, remembrable) = match fields_after_in(line, head, start, payload, &mut fields) {
        Outcome::Header(level) => (level, true),
        Outcome::Carried(level) => (level, false),
    };
    Walked {
        level,
        examined: fields.examined(),
        remembrable,
    }
}

/// What the walk over the fields found.
enum Outcome {
    /// The level (or none) of this line's header.
    Header(Option<Level>),
    /// The level of the line a container runtime carries in this one.
    Carried(Option<Level>),
}

/// The walk over the fields.
fn fields_after_in(
    line: &[u8],
    head: &[u8],
    start: usize,
    payload: Option<PayloadReader>,
    fields: &mut Fields<'_>,
) -> Outcome {
    let mut counted = 0;
    let mut numbers = 0;
    let mut only_numbers = true;
    let mut previous_plain = false;
    let mut in_quotes = false;
    // The rest of the timestamp's own field (`]`, `"`, `Z]`) opens no quote.
    let mut partial = start > 0 && head.get(start).is_some_and(|&b| !is_separator(b));
    for (f, quotes) in fields.by_ref() {
        let quotes = if std::mem::take(&mut partial) {
            0
        } else {
            quotes
        };
        if in_quotes {
            // Words inside a quoted value (`msg="… ERROR …"`) are the message's.
            in_quotes = quotes % 2 == 0;
            continue;
        }
        in_quotes = quotes % 2 == 1;
        let word = match classify(f) {
            Field::Punct => {
                previous_plain = false; // `bot - ERROR`: a separator, not prose
                continue;
            }
            // `level=info`, `lvl="warn"`: a level by name; other pairs do not count.
            Field::Pair(Some(level)) => return Outcome::Header(Some(level)),
            Field::Pair(None) => {
                previous_plain = false;
                continue;
            }
            Field::Number => {
                numbers += 1;
                None
            }
            Field::Other => {
                only_numbers = false;
                None
            }
            Field::Word(w) => Some(w),
        };
        if let Some(w) = word {
            if previous_plain && w.plain {
                return Outcome::Header(None); // two plain words in a row: the message has begun
            }
            if let (0, true, Some(read)) = (counted, is_container_stream(f), payload) {
                return Outcome::Carried(container_payload(line, head, start, f, read));
            }
            let accepted = if w.letters == 1 {
                // A lone capital counts only bracketed, or after pids (logcat).
                w.marked || (only_numbers && numbers > 0 && w.upper && w.ends_field)
            } else {
                // Right after the time, any case; further on, upper case or marked.
                counted == 0 || w.marked || (w.upper && w.letters >= 3)
            };
            if accepted {
                if let Some(level) = w.level() {
                    return Outcome::Header(Some(level));
                }
            }
            if ends_sentence(f) {
                return Outcome::Header(None);
            }
            previous_plain = w.plain;
            only_numbers = false;
        } else {
            previous_plain = false;
        }
        counted += 1;
        if counted >= FIELDS_AFTER_TIME {
            break;
        }
    }
    Outcome::Header(None)
}

/// CRI (Kubernetes) lines: `2026-…Z stdout F <the application's line>`.
fn is_container_stream(f: &[u8]) -> bool {
    f.first() == Some(&b's') && (f == b"stdout" || f == b"stderr")
}

fn container_payload(
    line: &[u8],
    head: &[u8],
    start: usize,
    stream: &[u8],
    read: PayloadReader,
) -> Option<Level> {
    let at = start + memchr::memmem::find(&head[start..], stream)? + stream.len();
    let tag = line.get(at..at + 3)?;
    if !matches!(tag, b" F " | b" P ") {
        return None;
    }
    read(&line[at + 3..])
}

enum Field<'a> {
    /// `-`, `|`, `***`, `]`: separators.
    Punct,
    /// `key=value` (logfmt): the level when the key names one.
    Pair(Option<Level>),
    /// `1234`, `[1234]`, `#1234]`: pids and counters.
    Number,
    Word(Word<'a>),
    /// `sshd[123]:`, `main.go:12`, `[main]`, `ERROR_CODE_7`: not a level.
    Other,
}

struct Word<'a> {
    text: &'a [u8],
    letters: usize,
    upper: bool,
    /// All upper case, all lower case, or capitalised.
    cased: bool,
    /// Bracketed (`[error]`, `<warn>`, `(info)`) or labelled (`error:`).
    marked: bool,
    /// Nothing follows the word in its field.
    ends_field: bool,
    /// A word of running text: letters only, not all capitals, perhaps
    /// ending with `,` or `.`.
    plain: bool,
}

impl Word<'_> {
    fn level(&self) -> Option<Level> {
        if self.letters == 1 {
            return level_letter(self.text[0]);
        }
        if !self.cased {
            return None; // `eRRor`, `LabSZ`
        }
        let word = level_word(self.text)?;
        (!word.needs_mark || self.marked).then_some(word.level)
    }
}

/// What a field is, in one pass over its first word.
/// A syslog facility and severity joined by a dot, as syslog daemons write
/// them when asked to (`local1.emerg`, `authpriv.notice`, `kern.warn`).
fn facility_severity(f: &[u8]) -> Option<Level> {
    const FACILITIES: &[&[u8]] = &[
        b"kern",
        b"user",
        b"mail",
        b"daemon",
        b"auth",
        b"syslog",
        b"lpr",
        b"news",
        b"uucp",
        b"cron",
        b"authpriv",
        b"ftp",
        b"ntp",
        b"security",
        b"console",
        b"local0",
        b"local1",
        b"local2",
        b"local3",
        b"local4",
        b"local5",
        b"local6",
        b"local7",
    ];
    const SEVERITIES: &[&[u8]] = &[
        b"emerg", b"panic", b"alert", b"crit", b"err", b"error", b"warning", b"warn", b"notice",
        b"info", b"debug",
    ];
    let dot = memchr::memchr(b'.', f)?;
    let (facility, severity) = (&f[..dot], &f[dot + 1..]);
    if !FACILITIES.contains(&facility) || !SEVERITIES.contains(&severity) {
        return None;
    }
    level_from_text(severity)
}

fn classify(f: &[u8]) -> Field<'_> {
    if f.len() == 1 && !f[0].is_ascii_alphanumeric() {
        return Field::Punct; // `-`, `|`, `:`: most separators, decided at once
    }
    // Elasticsearch glues its brackets: `[2026-…][INFO ][o.e.Node]`.
    let f = if matches!(f[0], b']' | b')' | b'>') {
        match f.iter().position(|b| !matches!(b, b']' | b')' | b'>')) {
            Some(i) => &f[i..],
            None => return Field::Punct,
        }
    } else {
        f
    };
    // Apache 2.4 names the module first: `[core:error]`, `[ssl:warn]`.
    if f[0] == b'[' {
        if let Some(level) = module_level(f) {
            return Field::Word(level);
        }
    }
    let opener = matches!(f[0], b'[' | b'<' | b'(' | b'"');
    let start = usize::from(opener);
    let mut letters = 0;
    let mut upper = true;
    let mut lower_after_first = true;
    while let Some(&b) = f.get(start + letters) {
        if !b.is_ascii_alphabetic() {
            break;
        }
        upper &= b.is_ascii_uppercase();
        lower_after_first &= letters == 0 || b.is_ascii_lowercase();
        letters += 1;
    }
    // syslogd's `facility.severity` column (`local1.emerg`, `auth.info`).
    if !opener {
        if let Some(level) = facility_severity(f) {
            return Field::Pair(Some(level));
        }
    }
    // logfmt: `level=info`, `lvl="warn"` (the key goes on past the letters: `log.level`).
    if !opener {
        let key_len = letters
            + f[letters..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-'))
                .count();
        if key_len > 0 && f.get(key_len) == Some(&b'=') {
            let value = &f[key_len + 1..];
            let value = value.strip_prefix(b"\"").unwrap_or(value);
            let len = value
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            return Field::Pair(
                is_level_key(&f[..key_len])
                    .then(|| level_from_text(&value[..len]))
                    .flatten(),
            );
        }
    }
    if letters == 0 {
        return if f.iter().any(u8::is_ascii_alphabetic) {
            Field::Other
        } else if f.iter().any(u8::is_ascii_digit) {
            Field::Number
        } else {
            Field::Punct
        };
    }
    let mut end = start + letters;
    // PostgreSQL's `DEBUG1` … `DEBUG5`.
    if f.get(end).is_some_and(|b| (b'1'..=b'5').contains(b))
        && f[start..end].eq_ignore_ascii_case(b"debug")
    {
        end += 1;
    }
    let next = f.get(end).copied();
    let closer = match f[0] {
        b'[' => b']',
        b'<' => b'>',
        b'(' => b')',
        _ => b'"',
    };
    let last = end + 1 == f.len();
    let (whole, marked) = match next {
        None => (true, false),
        Some(b':') => (true, true),
        Some(c) if opener && c == closer => (true, true),
        Some(b',' | b';') => (true, false),
        Some(b']' | b'>' | b')') if last => (true, false), // Serilog's `[10:00:00 INF]`
        Some(b'.') if last => (true, false),               // `failed.`
        // logrus' `INFO[0000]`, Celery's `INFO/MainProcess`.
        Some(b'[' | b'/') if upper => (true, false),
        _ => (false, false),
    };
    if !whole {
        return Field::Other;
    }
    Field::Word(Word {
        text: &f[start..end],
        letters,
        upper,
        // `error`, `Error`, `ERROR`, not `eRRor` or `LabSZ`.
        cased: upper || lower_after_first,
        marked,
        ends_field: next.is_none() && !opener,
        // Upper-case words are labels (`PHP Fatal error:`), not running text.
        plain: !opener && !upper && (next.is_none() || (last && matches!(next, Some(b',' | b'.')))),
    })
}

/// `[module:level]` (Apache 2.4): the level word after the colon, marked.
fn module_level(f: &[u8]) -> Option<Word<'_>> {
    let inner = f.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let colon = memchr::memchr(b':', inner)?;
    let text = &inner[colon + 1..];
    let module_ok = colon > 0
        && inner[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !module_ok || text.is_empty() || !text.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let upper = text.iter().all(u8::is_ascii_uppercase);
    Some(Word {
        text,
        letters: text.len(),
        upper,
        cased: upper || text[1..].iter().all(u8::is_ascii_lowercase),
        marked: true,
        ends_field: false,
        plain: false,
    })
}

/// A field that ends a sentence (`failed.`, `done!`): the message has begun.
fn ends_sentence(f: &[u8]) -> bool {
    match f {
        [.., b, b'.' | b'!' | b'?'] => b.is_ascii_alphabetic(),
        _ => false,
    }
}
