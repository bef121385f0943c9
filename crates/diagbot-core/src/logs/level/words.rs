//! Level words, in the spellings logging libraries use, and what they mean.

use super::Level;

/// A level word and whether it needs a mark (`[Note]`, `LOG:`) to be one:
/// `note`, `log`, `system`, `config`, `fail` and `verb` are ordinary words too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelWord {
    /// What the word means.
    pub level: Level,
    /// It is a level only in a marked field.
    pub needs_mark: bool,
}

/// A word of up to eight bytes, lower-cased, as one number: comparing
/// numbers is cheaper than comparing slices, and this runs on every line.
const fn pack(word: &[u8]) -> u64 {
    let mut key = 0u64;
    let mut i = 0;
    while i < word.len() {
        key |= (word[i].to_ascii_lowercase() as u64) << (8 * i);
        i += 1;
    }
    key
}

const fn entry(word: &[u8], level: Level, needs_mark: bool) -> (u64, LevelWord) {
    (pack(word), LevelWord { level, needs_mark })
}

/// The level words of up to eight letters, packed (see [`pack`]).
const SHORT_WORDS: [(u64, LevelWord); 45] = [
    entry(b"fatal", Level::Fatal, false),
    entry(b"fata", Level::Fatal, false),
    entry(b"fatl", Level::Fatal, false),
    entry(b"ftl", Level::Fatal, false),
    entry(b"critical", Level::Fatal, false),
    entry(b"crit", Level::Fatal, false),
    entry(b"emerg", Level::Fatal, false),
    entry(b"alert", Level::Fatal, false),
    entry(b"panic", Level::Fatal, false),
    entry(b"pani", Level::Fatal, false),
    entry(b"error", Level::Error, false),
    entry(b"err", Level::Error, false),
    entry(b"erro", Level::Error, false),
    entry(b"eror", Level::Error, false),
    entry(b"severe", Level::Error, false),
    entry(b"fail", Level::Error, true),
    entry(b"warn", Level::Warning, false),
    entry(b"warning", Level::Warning, false),
    entry(b"wrn", Level::Warning, false),
    entry(b"info", Level::Info, false),
    entry(b"inf", Level::Info, false),
    entry(b"notice", Level::Info, false),
    entry(b"note", Level::Info, true),
    entry(b"log", Level::Info, true),
    entry(b"system", Level::Info, true),
    entry(b"debug", Level::Debug, false),
    entry(b"debu", Level::Debug, false),
    entry(b"dbg", Level::Debug, false),
    entry(b"dbug", Level::Debug, false),
    entry(b"fine", Level::Debug, false),
    entry(b"debug1", Level::Debug, false),
    entry(b"debug2", Level::Debug, false),
    entry(b"debug3", Level::Debug, false),
    entry(b"debug4", Level::Debug, false),
    entry(b"debug5", Level::Debug, false),
    entry(b"config", Level::Debug, true),
    entry(b"trace", Level::Trace, false),
    entry(b"trac", Level::Trace, false),
    entry(b"trc", Level::Trace, false),
    entry(b"trce", Level::Trace, false),
    entry(b"finer", Level::Trace, false),
    entry(b"finest", Level::Trace, false),
    entry(b"verbose", Level::Trace, false),
    entry(b"vrb", Level::Trace, false),
    entry(b"verb", Level::Trace, true),
];

/// Buckets of the perfect hash over [`SHORT_WORDS`].
const BUCKETS: usize = 256;

const fn bucket(key: u64, multiplier: u64) -> usize {
    (key.wrapping_mul(multiplier) >> 56) as usize
}

/// A multiplier that sends every short level word to a bucket of its own,
/// found at compile time: a lookup is one multiplication and one comparison.
const MULTIPLIER: u64 = {
    let mut multiplier: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        let mut used = [false; BUCKETS];
        let mut i = 0;
        while i < SHORT_WORDS.len() {
            let b = bucket(SHORT_WORDS[i].0, multiplier);
            if used[b] {
                break;
            }
            used[b] = true;
            i += 1;
        }
        if i == SHORT_WORDS.len() {
            break multiplier;
        }
        multiplier = multiplier.wrapping_add(0x6a09_e667_f3bc_c909) | 1;
    }
};

/// For each bucket, the index of its word in [`SHORT_WORDS`] (`u8::MAX`: none).
const TABLE: [u8; BUCKETS] = {
    let mut table = [u8::MAX; BUCKETS];
    let mut i = 0;
    while i < SHORT_WORDS.len() {
        table[bucket(SHORT_WORDS[i].0, MULTIPLIER)] = i as u8;
        i += 1;
    }
    table
};

fn short_word(key: u64) -> Option<LevelWord> {
    let (word, level) = SHORT_WORDS.get(usize::from(TABLE[bucket(key, MULTIPLIER)]))?;
    (*word == key).then_some(*level)
}

/// The level a word names, whatever its case (`ERROR`, `Error`, `error`, `ERR`,
/// `INF`, `Information`, `DEBUG1`…). The caller decides whether the case and
/// place make it a level.
pub fn level_word(word: &[u8]) -> Option<LevelWord> {
    if word.len() < 3 {
        return None;
    }
    if word.len() <= 8 {
        return short_word(pack(word));
    }
    let long = |w: &[u8]| word.eq_ignore_ascii_case(w);
    let level = if long(b"information") || long(b"informational") {
        Level::Info
    } else if long(b"emergency") {
        Level::Fatal
    } else {
        return None;
    };
    Some(LevelWord {
        level,
        needs_mark: false,
    })
}

/// One-letter levels (Android logcat, glog and klog, Ruby's Logger).
pub fn level_letter(b: u8) -> Option<Level> {
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

/// A syslog severity (0 emerg … 7 debug).
pub fn syslog_severity(n: u64) -> Option<Level> {
    Some(match n {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warning,
        5 | 6 => Level::Info,
        7 => Level::Debug,
        _ => return None,
    })
}

/// pino's and bunyan's numbers (10 trace … 60 fatal).
pub fn numeric_level(n: u64) -> Option<Level> {
    Some(match n {
        10 => Level::Trace,
        20 => Level::Debug,
        30 => Level::Info,
        40 => Level::Warning,
        50 => Level::Error,
        60 => Level::Fatal,
        _ => return syslog_severity(n),
    })
}

/// The level a field that is known to hold one says: a word in any case, a
/// letter, a syslog severity or a pino number (`"level":"warn"`, `level=E`,
/// a user regex's `level` group).
pub fn level_from_text(text: &[u8]) -> Option<Level> {
    let text = text.trim_ascii();
    let text = text
        .strip_prefix(b"[")
        .and_then(|t| t.strip_suffix(b"]"))
        .unwrap_or(text);
    let text = text
        .strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(text);
    if !text.is_empty() && text.iter().all(u8::is_ascii_digit) && text.len() <= 3 {
        let n = text.iter().fold(0u64, |a, &b| a * 10 + u64::from(b - b'0'));
        return numeric_level(n);
    }
    if text.len() == 1 {
        return level_letter(text[0].to_ascii_uppercase());
    }
    level_word(text).map(|w| w.level)
}
