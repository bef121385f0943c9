//! Where in a line a timestamp may start, and the search for the first one.
//!
//! A timestamp may follow a prefix (a sequence number, a host, a source file,
//! a `[component]`, a syslog header): every token boundary in the first
//! [`WINDOW`] bytes is a candidate start. JSON lines are read by their time
//! keys (`"time":`, `"@timestamp":`, …) wherever those stand. A position is
//! described by an [`Anchor`] so that a file's format can say where its
//! timestamps are, and later lines can be read there directly.

use memchr::memmem;

use super::grammar::{read_at, Reading};

/// How far into a line a timestamp may start.
pub const WINDOW: usize = 128;

/// Where a timestamp stands in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// `offset` bytes into the whitespace-separated field `index` (from 0).
    /// A whitespace-separated field of the line.
    Field {
        /// The field's index, from 0.
        index: u16,
        /// Bytes into the field.
        offset: u16,
    },
    /// The value of a time key: `"time":` in JSON, `time=` in logfmt.
    Key(TimeKey),
}

/// A time key of JSON or logfmt lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeKey {
    /// Index into `TIME_KEYS`.
    key: u8,
    json: bool,
}

/// Keys whose value is the time of the line, in JSON and logfmt logs.
const TIME_KEYS: [&str; 12] = [
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "t",
    "@t",
    "date",
    "datetime",
    "asctime",
    "$date",
    "__REALTIME_TIMESTAMP",
    // log4j2's JsonLayout (seconds only; its nanoseconds are another key).
    "epochSecond",
];

impl TimeKey {
    /// The key as written in lines.
    pub fn name(&self) -> &'static str {
        TIME_KEYS[usize::from(self.key)]
    }

    /// Whether it is a JSON key (quoted) rather than logfmt's `key=`.
    pub fn is_json(&self) -> bool {
        self.json
    }
}

/// A timestamp found in a line.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// The date and time read.
    pub reading: Reading,
    /// Where it starts in the line.
    pub start: usize,
    /// Where it stands, for the file's format.
    pub anchor: Anchor,
}

impl Found {
    /// Whether the search (without a file's format) may take it: weak forms
    /// (epoch numbers, `MMdd`, …) only at the very start of a line or as the
    /// value of a time key, so that a number in a message is not a time.
    pub fn stands_alone(&self) -> bool {
        !self.reading.layout.is_weak() || self.start <= 1 || matches!(self.anchor, Anchor::Key(_))
    }
}

/// Whether `line` is a JSON object (its first non-blank byte is `{`).
pub fn is_json(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Calls `visit` with each timestamp in `line`, in order: the values of JSON
/// time keys, or else every start in the window (skipping positions inside a
/// timestamp already found). Stops when `visit` returns true.
pub fn for_each_timestamp(line: &[u8], mut visit: impl FnMut(Found) -> bool) {
    // A JSON line's time is its time key's value; dates inside its other
    // values (a message) are searched for only when it has none.
    let mut keyed = false;
    if is_json(line) {
        for key in 0..TIME_KEYS.len() {
            let key = TimeKey {
                key: key as u8,
                json: true,
            };
            if let Some(start) = locate_key(line, key) {
                if let Some(reading) = read_at(line, start) {
                    keyed = true;
                    let anchor = Anchor::Key(key);
                    if visit(Found {
                        reading,
                        start,
                        anchor,
                    }) {
                        return;
                    }
                }
            }
        }
    }
    if keyed {
        return;
    }
    let limit = line.len().min(WINDOW);
    let mut field: u16 = 0;
    let mut field_start = 0;
    let mut seen_text = false;
    let mut in_space = true;
    let mut skip_until = 0;
    for p in 0..limit {
        let b = line[p];
        if b.is_ascii_whitespace() {
            in_space = true;
            continue;
        }
        if in_space {
            if seen_text {
                field = field.saturating_add(1);
            }
            field_start = p;
            seen_text = true;
            in_space = false;
        }
        if p < skip_until || !may_start(line, p) {
            continue;
        }
        let Some(reading) = read_at(line, p) else {
            continue;
        };
        let anchor = key_before(line, p).map_or(
            Anchor::Field {
                index: field,
                offset: (p - field_start).min(usize::from(u16::MAX)) as u16,
            },
            Anchor::Key,
        );
        if visit(Found {
            reading,
            start: p,
            anchor,
        }) {
            return;
        }
        skip_until = reading.end;
    }
}

/// The anchor of position `p` in `line`: the time key before it, or its field and offset.
pub fn anchor_at(line: &[u8], p: usize) -> Anchor {
    if let Some(key) = key_before(line, p) {
        return Anchor::Key(key);
    }
    let mut index: u16 = 0;
    let mut field_start = 0;
    let mut seen_text = false;
    let mut in_space = true;
    for (i, b) in line.iter().enumerate().take(p + 1) {
        if b.is_ascii_whitespace() {
            in_space = true;
        } else if in_space {
            if seen_text {
                index = index.saturating_add(1);
            }
            field_start = i;
            seen_text = true;
            in_space = false;
        }
    }
    Anchor::Field {
        index,
        offset: (p.saturating_sub(field_start)).min(usize::from(u16::MAX)) as u16,
    }
}

/// Whether a timestamp may start at `line[p]`: a digit or a capital letter
/// at the start of a token (after a blank, a bracket, a quote, `=`, `:`, `,`
/// or `|`), not inside a word (`web-01`) or a number (`10.10.34.11`).
fn may_start(line: &[u8], p: usize) -> bool {
    let b = line[p];
    if !(b.is_ascii_digit() || b.is_ascii_uppercase()) {
        return false;
    }
    let Some(&prev) = p.checked_sub(1).and_then(|i| line.get(i)) else {
        return true;
    };
    if prev.is_ascii_alphanumeric() {
        // klog and glog glue the date to the level letter: `I0127 10:00:00.123456`.
        return p == 1 && matches!(prev, b'I' | b'W' | b'E' | b'F') && b.is_ascii_digit();
    }
    match prev {
        b' ' | b'\t' | b'[' | b'(' | b'{' | b'<' | b'>' | b'"' | b'\'' | b'=' | b'|' | b';' => true,
        // `ts:2026-…`, `a,2026-…`; but not `10:00` or `1,234`.
        b':' | b',' => p < 2 || !line[p - 2].is_ascii_digit(),
        _ => false,
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'$' | b'-')
}

/// The time key whose value starts at `line[p]`, if any: `"time":"…`,
/// `"ts":1769…`, `time=…`, `ts="…`.
fn key_before(line: &[u8], p: usize) -> Option<TimeKey> {
    let mut q = p;
    if q > 0 && line[q - 1] == b'"' {
        q -= 1;
    }
    let mut r = q;
    while r > 0 && line[r - 1] == b' ' {
        r -= 1;
    }
    if r >= 2 && line[r - 1] == b':' && line[r - 2] == b'"' {
        let end = r - 2;
        let start = memchr::memrchr(b'"', &line[..end])? + 1;
        return time_key(&line[start..end], true);
    }
    if q > 0 && line[q - 1] == b'=' {
        let end = q - 1;
        let start = line[..end]
            .iter()
            .rposition(|&b| !is_key_byte(b))
            .map_or(0, |i| i + 1);
        let at_boundary = start == 0 || line[start - 1].is_ascii_whitespace();
        return at_boundary
            .then(|| time_key(&line[start..end], false))
            .flatten();
    }
    None
}

fn time_key(name: &[u8], json: bool) -> Option<TimeKey> {
    TIME_KEYS
        .iter()
        .position(|k| k.as_bytes() == name)
        .map(|key| TimeKey {
            key: key as u8,
            json,
        })
}

/// Where the value of `key` starts in `line` (past an opening quote).
pub fn locate_key(line: &[u8], key: TimeKey) -> Option<usize> {
    let name = key.name().as_bytes();
    let value = if key.json {
        // `"name":` — a quote inside a JSON string is escaped, so this is a key.
        let mut at = 0;
        loop {
            let hit = at + memmem::find(&line[at..], name)?;
            let end = hit + name.len();
            if hit >= 1 && line[hit - 1] == b'"' && line.get(end..end + 2) == Some(b"\":") {
                let mut v = end + 2;
                while line.get(v) == Some(&b' ') {
                    v += 1;
                }
                break v;
            }
            at = hit + 1;
        }
    } else {
        let mut at = 0;
        loop {
            let hit = at + memmem::find(&line[at..], name)?;
            let end = hit + name.len();
            let boundary = hit == 0 || line[hit - 1].is_ascii_whitespace();
            if boundary && line.get(end) == Some(&b'=') {
                break end + 1;
            }
            at = hit + 1;
        }
    };
    Some(value + usize::from(line.get(value) == Some(&b'"')))
}

/// Where `anchor` points in `line`, if the line has that field or key.
pub fn locate(line: &[u8], anchor: Anchor) -> Option<usize> {
    match anchor {
        Anchor::Field { index, offset } => {
            let mut p = line.iter().position(|b| !b.is_ascii_whitespace())?;
            for _ in 0..index {
                p += line[p..].iter().position(u8::is_ascii_whitespace)?;
                p += line[p..].iter().position(|b| !b.is_ascii_whitespace())?;
            }
            let at = p + usize::from(offset);
            (at < line.len()).then_some(at)
        }
        Anchor::Key(key) => locate_key(line, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors(line: &str) -> Vec<(usize, Anchor)> {
        let mut out = Vec::new();
        for_each_timestamp(line.as_bytes(), |f| {
            out.push((f.start, f.anchor));
            false
        });
        out
    }

    #[test]
    fn fields_and_keys() {
        let thunderbird = "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: x";
        assert_eq!(
            anchors(thunderbird),
            [
                (
                    2,
                    Anchor::Field {
                        index: 1,
                        offset: 0
                    }
                ),
                (
                    30,
                    Anchor::Field {
                        index: 4,
                        offset: 0
                    }
                )
            ]
        );
        let clf = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200"#;
        assert_eq!(
            anchors(clf),
            [(
                19,
                Anchor::Field {
                    index: 3,
                    offset: 1
                }
            )]
        );
        let json = r#"{"level":"info","ts":1769508000.5,"msg":"x"}"#;
        let found = anchors(json);
        assert!(matches!(found[0].1, Anchor::Key(k) if k.name() == "ts" && k.is_json()));
        let logfmt = "level=info ts=2026-01-27T10:00:00Z msg=x";
        assert!(matches!(anchors(logfmt)[0].1, Anchor::Key(k) if k.name() == "ts" && !k.is_json()));
    }

    #[test]
    fn locating_anchors() {
        let line = b"a  bb [2026-01-27 10:00:00] x";
        assert_eq!(
            locate(
                line,
                Anchor::Field {
                    index: 2,
                    offset: 1
                }
            ),
            Some(7)
        );
        assert_eq!(
            locate(
                line,
                Anchor::Field {
                    index: 9,
                    offset: 0
                }
            ),
            None
        );
        let json = br#"{"msg":"\"time\":1","time":"2026-01-27T10:00:00Z"}"#;
        let key = time_key(b"time", true).unwrap();
        assert_eq!(locate(json, Anchor::Key(key)), Some(28));
    }

    #[test]
    fn numbers_inside_numbers_are_not_starts() {
        // An IP address and a version are not dates.
        assert!(anchors("10.10.34.11:3888 ok").is_empty());
        assert!(anchors("v1.2.2026 10:00:00").is_empty());
    }
}
