//! Timestamps at the start of log lines.
//!
//! Hand-written byte parsers, one per family, tried in turn: they run on every
//! line of a windowed scan, so they must not allocate. Naive times (no zone in
//! the line) are read as local time. A year-less timestamp (syslog, Android)
//! takes the latest year that does not put it after the file's modification
//! time: a log cannot hold a line written after it was last modified.

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

/// A parsed timestamp: the wall-clock time as written, and the zone if the line gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTime {
    pub naive: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl ParsedTime {
    /// The instant, reading a zone-less time as local time.
    pub fn to_datetime(self) -> Option<DateTime<FixedOffset>> {
        match self.offset {
            Some(off) => off.from_local_datetime(&self.naive).single(),
            None => Local
                .from_local_datetime(&self.naive)
                .earliest()
                .map(|t| t.fixed_offset()),
        }
    }
}

/// What a year-less timestamp needs to pick its year: the file's modification time.
#[derive(Debug, Clone, Copy)]
pub struct YearHint {
    latest: NaiveDateTime,
}

impl YearHint {
    /// `modified` is the file's mtime as local wall-clock time. A line may
    /// stand up to an hour past it and still be this year: the kernel stamps
    /// mtimes with a coarse clock that lags the writer's by a few
    /// milliseconds (a line of 10:00:01 in a file modified at 10:00:00.998 is
    /// not from last year), and a local clock repeats an hour when DST ends.
    pub fn new(modified: NaiveDateTime) -> Self {
        YearHint {
            latest: modified + chrono::Duration::hours(1),
        }
    }

    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        let local: DateTime<Local> = t.into();
        YearHint::new(local.naive_local())
    }

    /// The latest year in which `month/day time` is not after the file's mtime.
    /// Tries a few years back so that 29 February finds a leap year.
    fn resolve(&self, month: u32, day: u32, time: chrono::NaiveTime) -> Option<NaiveDateTime> {
        let start = self.latest.year();
        (0..8).find_map(|back| {
            let date = NaiveDate::from_ymd_opt(start - back, month, day)?;
            let at = date.and_time(time);
            (at <= self.latest).then_some(at)
        })
    }
}

/// How far into a line a timestamp may start (access logs put it after the client address).
const SEARCH_WINDOW: usize = 80;

/// Finds the timestamp a log line starts with, if any.
pub fn parse_line_timestamp(line: &[u8], hint: &YearHint) -> Option<ParsedTime> {
    let line = &line[..line.len().min(SEARCH_WINDOW + 40)];
    let start = skip_prefix(line);
    if let Some(t) = parse_at(&line[start..], hint) {
        return Some(t);
    }
    // Common Log Format and friends: `host - - [10/Oct/2000:13:55:36 -0700] ...`.
    let open = memchr::memchr(b'[', &line[..line.len().min(SEARCH_WINDOW)])?;
    if open < start {
        return None;
    }
    parse_at(&line[open + 1..], hint)
}

/// Skips what may stand before a timestamp: spaces, `[`, and an RFC 5424 `<PRI>1 `.
fn skip_prefix(line: &[u8]) -> usize {
    let mut i = 0;
    if line.first() == Some(&b'<') {
        let digits = count_digits(&line[1..]);
        if (1..=3).contains(&digits) && line.get(1 + digits) == Some(&b'>') {
            i = 2 + digits;
            if line.get(i..i + 2) == Some(b"1 ") {
                i += 2;
            }
        }
    }
    while matches!(line.get(i), Some(b' ' | b'[')) {
        i += 1;
    }
    i
}

fn parse_at(s: &[u8], hint: &YearHint) -> Option<ParsedTime> {
    let first = *s.first()?;
    if first.is_ascii_digit() {
        parse_iso(s)
            .or_else(|| parse_slash_date(s))
            .or_else(|| parse_clf(s))
            .or_else(|| parse_month_day(s, hint))
            .or_else(|| parse_epoch(s))
    } else if first.is_ascii_alphabetic() {
        parse_syslog(s, hint).or_else(|| parse_ctime(s))
    } else {
        None
    }
}

fn count_digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Reads exactly `n` digits at `s[at..]`.
fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Reads one or two digits (a space-padded or unpadded day); returns value and length.
fn day_digits(s: &[u8], at: usize) -> Option<(u32, usize)> {
    let n = count_digits(s.get(at..)?).min(3);
    match n {
        1 | 2 => Some((digits(s, at, n)?, n)),
        _ => None,
    }
}

/// `HH:MM:SS` at `at`, followed by an optional `.fff` or `,fff` fraction.
/// Returns the time and the index just past it.
fn time_of_day(s: &[u8], at: usize) -> Option<(chrono::NaiveTime, usize)> {
    let h = digits(s, at, 2)?;
    (s.get(at + 2) == Some(&b':')).then_some(())?;
    let m = digits(s, at + 3, 2)?;
    (s.get(at + 5) == Some(&b':')).then_some(())?;
    let sec = digits(s, at + 6, 2)?;
    let (nanos, end) = fraction(s, at + 8, b".,");
    let time = chrono::NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    Some((time, end))
}

/// A fraction of a second at `at` (a separator from `separators`, then digits):
/// its nanoseconds and the index after it; `(0, at)` when there is none.
fn fraction(s: &[u8], at: usize, separators: &[u8]) -> (u32, usize) {
    if !s.get(at).is_some_and(|b| separators.contains(b)) {
        return (0, at);
    }
    let n = count_digits(&s[at + 1..]);
    if n == 0 {
        return (0, at);
    }
    let nanos = s[at + 1..at + 1 + n.min(9)]
        .iter()
        .enumerate()
        .map(|(i, &b)| u32::from(b - b'0') * 10u32.pow(8 - i as u32))
        .sum();
    (nanos, at + 1 + n)
}

/// `Z`, `+02:00`, `+0200` or `-07` after a time.
fn zone(s: &[u8], at: usize) -> Option<FixedOffset> {
    match s.get(at)? {
        b'Z' => FixedOffset::east_opt(0),
        sign @ (b'+' | b'-') => {
            let h = digits(s, at + 1, 2)?;
            let rest = at + 3;
            let m = if s.get(rest) == Some(&b':') {
                digits(s, rest + 1, 2)?
            } else {
                digits(s, rest, 2).unwrap_or(0)
            };
            let secs = (h * 3600 + m * 60) as i32;
            FixedOffset::east_opt(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

/// True when the timestamp is not glued to more letters or digits (`2026-01-27T10:00:00abc`).
fn ends_cleanly(s: &[u8], at: usize) -> bool {
    s.get(at).is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// ISO 8601 / RFC 3339 / Python logging: `2026-01-27T10:00:00.123+02:00`, `2026-01-27 10:00:00,123`.
fn parse_iso(s: &[u8]) -> Option<ParsedTime> {
    let y = digits(s, 0, 4)?;
    (s.get(4) == Some(&b'-') && s.get(7) == Some(&b'-')).then_some(())?;
    let mo = digits(s, 5, 2)?;
    let d = digits(s, 8, 2)?;
    matches!(s.get(10), Some(b'T' | b' ')).then_some(())?;
    let (time, end) = time_of_day(s, 11)?;
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let offset = zone(s, end);
    Some(ParsedTime {
        naive: date.and_time(time),
        offset,
    })
}

/// `yy/MM/dd HH:mm:ss` (Hadoop, Spark) and `yyyy/MM/dd HH:mm:ss` (nginx).
fn parse_slash_date(s: &[u8]) -> Option<ParsedTime> {
    let (y, at) = if s.get(4) == Some(&b'/') {
        (digits(s, 0, 4)? as i32, 5)
    } else if s.get(2) == Some(&b'/') {
        (2000 + digits(s, 0, 2)? as i32, 3)
    } else {
        return None;
    };
    let mo = digits(s, at, 2)?;
    (s.get(at + 2) == Some(&b'/')).then_some(())?;
    let d = digits(s, at + 3, 2)?;
    (s.get(at + 5) == Some(&b' ')).then_some(())?;
    let (time, end) = time_of_day(s, at + 6)?;
    ends_cleanly(s, end).then_some(())?;
    Some(ParsedTime {
        naive: NaiveDate::from_ymd_opt(y, mo, d)?.and_time(time),
        offset: None,
    })
}

/// Common Log Format: `10/Oct/2000:13:55:36 -0700`.
fn parse_clf(s: &[u8]) -> Option<ParsedTime> {
    let d = digits(s, 0, 2)?;
    (s.get(2) == Some(&b'/')).then_some(())?;
    let mo = month(s.get(3..6)?)?;
    (s.get(6) == Some(&b'/')).then_some(())?;
    let y = digits(s, 7, 4)?;
    (s.get(11) == Some(&b':')).then_some(())?;
    let (time, end) = time_of_day(s, 12)?;
    let offset = if s.get(end) == Some(&b' ') {
        zone(s, end + 1)
    } else {
        None
    };
    Some(ParsedTime {
        naive: NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_time(time),
        offset,
    })
}

/// Android logcat: `01-27 10:00:00.123` (no year).
fn parse_month_day(s: &[u8], hint: &YearHint) -> Option<ParsedTime> {
    let mo = digits(s, 0, 2)?;
    (s.get(2) == Some(&b'-')).then_some(())?;
    let d = digits(s, 3, 2)?;
    (s.get(5) == Some(&b' ')).then_some(())?;
    let (time, end) = time_of_day(s, 6)?;
    ends_cleanly(s, end).then_some(())?;
    Some(ParsedTime {
        naive: hint.resolve(mo, d, time)?,
        offset: None,
    })
}

/// Seconds since the epoch at the start of a line: `1769508000` or `1769508000.123`,
/// taken only between 2001 and 2286 so that a plain number is not mistaken for one.
fn parse_epoch(s: &[u8]) -> Option<ParsedTime> {
    let n = count_digits(s);
    if n != 10 {
        return None;
    }
    let secs = i64::from(digits(s, 0, 10)?);
    let (nanos, end) = fraction(s, 10, b".");
    ends_cleanly(s, end).then_some(())?;
    let utc = DateTime::from_timestamp(secs, nanos)?;
    Some(ParsedTime {
        naive: utc.naive_utc(),
        offset: FixedOffset::east_opt(0),
    })
}

/// Syslog: `Jun 14 15:16:01`, `Jun  4 15:16:01`, and with a year, `Jun 14 2026 15:16:01`.
fn parse_syslog(s: &[u8], hint: &YearHint) -> Option<ParsedTime> {
    let (mo, d, at) = month_and_day(s, 0)?;
    if let Some(y) = digits(s, at, 4).filter(|_| s.get(at + 4) == Some(&b' ')) {
        let (time, _) = time_of_day(s, at + 5)?;
        return Some(ParsedTime {
            naive: NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_time(time),
            offset: None,
        });
    }
    let (time, end) = time_of_day(s, at)?;
    ends_cleanly(s, end).then_some(())?;
    Some(ParsedTime {
        naive: hint.resolve(mo, d, time)?,
        offset: None,
    })
}

/// `Jun 14 ` or `Jun  4 ` at `at`: the month, the day, and the index after the space that follows.
fn month_and_day(s: &[u8], at: usize) -> Option<(u32, u32, usize)> {
    let mo = month(s.get(at..at + 3)?)?;
    (s.get(at + 3) == Some(&b' ')).then_some(())?;
    let mut i = at + 4;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let (d, n) = day_digits(s, i)?;
    i += n;
    (s.get(i) == Some(&b' ')).then_some(())?;
    Some((mo, d, i + 1))
}

/// ctime / Apache error log: `Sun Dec 04 04:47:44 2005` (also with a fraction).
fn parse_ctime(s: &[u8]) -> Option<ParsedTime> {
    weekday(s.get(0..3)?)?;
    (s.get(3) == Some(&b' ')).then_some(())?;
    let (mo, d, at) = month_and_day(s, 4)?;
    let (time, end) = time_of_day(s, at)?;
    (s.get(end) == Some(&b' ')).then_some(())?;
    let y = digits(s, end + 1, 4)?;
    Some(ParsedTime {
        naive: NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_time(time),
        offset: None,
    })
}

fn month(s: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| m[..] == *s)
        .map(|i| i as u32 + 1)
}

fn weekday(s: &[u8]) -> Option<()> {
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    DAYS.iter().any(|d| d[..] == *s).then_some(())
}

#[cfg(test)]
mod tests;
