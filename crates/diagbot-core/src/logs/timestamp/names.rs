//! The words of a timestamp: month and weekday names, AM/PM, and zone names.
//!
//! Names are English, capitalised or upper case (`Jan`, `JAN`, `January`):
//! a lower-case `may` or `mar` is a word of running text far more often than
//! a date.

/// The length of the run of ASCII letters at `s[at..]`, counting at most
/// 16 (no name is longer; a line of letters must not cost a pass per start).
pub fn letters(s: &[u8], at: usize) -> usize {
    s.get(at..).map_or(0, |t| {
        t.iter()
            .take(16)
            .take_while(|b| b.is_ascii_alphabetic())
            .count()
    })
}

/// `word` is `full` or its first three letters, capitalised or in upper case.
fn is_name(word: &[u8], full: &[u8]) -> bool {
    if word.len() != 3 && word.len() != full.len() {
        return false;
    }
    if word.len() > full.len() || !word[0].eq_ignore_ascii_case(&full[0]) {
        return false;
    }
    if !word[0].is_ascii_uppercase() {
        return false;
    }
    let rest = &word[1..];
    let upper = rest.iter().all(u8::is_ascii_uppercase);
    let lower = rest.iter().all(u8::is_ascii_lowercase);
    (upper || lower) && rest.eq_ignore_ascii_case(&full[1..word.len()])
}

const MONTHS: [&[u8]; 12] = [
    b"January",
    b"February",
    b"March",
    b"April",
    b"May",
    b"June",
    b"July",
    b"August",
    b"September",
    b"October",
    b"November",
    b"December",
];

const WEEKDAYS: [&[u8]; 7] = [
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
];

/// The month (1–12) named by `word` (`Jan`, `JAN`, `January`).
pub fn month(word: &[u8]) -> Option<u32> {
    // `Sept` is common enough to take as well.
    if word == b"Sept" || word == b"SEPT" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| is_name(word, m))
        .map(|i| i as u32 + 1)
}

/// Whether `word` is a weekday's name, full or short, in any case.
pub fn is_weekday(word: &[u8]) -> bool {
    WEEKDAYS.iter().any(|d| is_name(word, d))
}

/// `AM`/`PM` (any case) at `s[at..]`, not glued to more letters: whether it is PM, and its length.
pub fn am_pm(s: &[u8], at: usize) -> Option<(bool, usize)> {
    let word = s.get(at..at + 2)?;
    let pm = match word[0].to_ascii_uppercase() {
        b'A' => false,
        b'P' => true,
        _ => return None,
    };
    if !word[1].eq_ignore_ascii_case(&b'M') || s.get(at + 2).is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    Some((pm, 2))
}

/// Zone abbreviations with one meaning, and their offsets in minutes. `CST`,
/// `IST`, `BST` and `AST` each name several zones and are left out: a line
/// that uses them is read as local time.
const ZONES: [(&[u8], i32); 33] = [
    (b"UTC", 0),
    (b"GMT", 0),
    (b"UT", 0),
    (b"Z", 0),
    (b"WET", 0),
    (b"WEST", 60),
    (b"CET", 60),
    (b"CEST", 120),
    (b"EET", 120),
    (b"EEST", 180),
    (b"MSK", 180),
    (b"PKT", 300),
    (b"ICT", 420),
    (b"HKT", 480),
    (b"SGT", 480),
    (b"AWST", 480),
    (b"JST", 540),
    (b"KST", 540),
    (b"AEST", 600),
    (b"AEDT", 660),
    (b"NZST", 720),
    (b"NZDT", 780),
    (b"HST", -600),
    (b"AKST", -540),
    (b"AKDT", -480),
    (b"PST", -480),
    (b"PDT", -420),
    (b"MST", -420),
    (b"MDT", -360),
    (b"EST", -300),
    (b"EDT", -240),
    (b"CDT", -300),
    (b"BRT", -180),
];

/// The offset in seconds of a zone abbreviation (upper case, as written in logs).
pub fn zone_offset(word: &[u8]) -> Option<i32> {
    ZONES
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, minutes)| minutes * 60)
}

/// Whether the abbreviation is UTC itself, which may carry an offset after it (`UTC+01:00`).
pub fn is_utc_name(word: &[u8]) -> bool {
    matches!(word, b"UTC" | b"GMT" | b"UT")
}
