//! The time of day after a date, and what follows it: fraction, AM/PM, zone.

use super::digits::{digit_run, fraction_nanos, glued_to_more, small};
use super::{DateForm, Layout, Reading, ZoneStyle};
use crate::logs::timestamp::names;

/// A time of day and what follows it: fraction, AM/PM, zone.
pub(super) struct TimeOfDay {
    hour: u32,
    minute: u32,
    second: u32,
    seconds: bool,
    pub(super) sep: u8,
    nanos: u32,
    frac_digits: u8,
    frac_sep: u8,
    pm: Option<bool>,
    offset: Option<i32>,
    zone: ZoneStyle,
    end: usize,
}

impl TimeOfDay {
    /// Where the time (with its fraction, AM/PM and zone) ends in the line.
    pub(super) fn end(&self) -> usize {
        self.end
    }
}

pub(super) struct TimeAfter {
    pub(super) date_time_sep: u8,
    pub(super) time: TimeOfDay,
}

impl TimeAfter {
    #[inline(always)]
    pub(super) fn into_reading(
        self,
        date: DateForm,
        date_sep: u8,
        short_year: bool,
        fields: [u32; 3],
    ) -> Reading {
        let t = self.time;
        Reading {
            layout: Layout {
                date,
                weekday: false,
                date_sep,
                short_year,
                date_time_sep: self.date_time_sep,
                time_sep: t.sep,
                seconds: t.seconds,
                clock12: t.pm.is_some(),
                year_after_time: false,
            },
            fields,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            nanos: t.nanos,
            pm: t.pm,
            offset: t.offset,
            epoch: 0,
            frac_digits: t.frac_digits,
            frac_sep: t.frac_sep,
            zone: t.zone,
            end: t.end,
        }
    }
}

/// The separator after a date (one of `allowed`; spaces may be one to three)
/// and the time of day after it. After `yyyyMMdd` (`compact_date`) the time
/// may be `HHmmss` too, and after a `T` also `HHmm`.
pub(super) fn time_after(
    s: &[u8],
    at: usize,
    allowed: &[u8],
    compact_date: bool,
) -> Option<TimeAfter> {
    let c = *s.get(at)?;
    let (date_time_sep, start) = if c == b' ' && allowed.contains(&b' ') {
        let spaces = s[at..].iter().take(3).take_while(|&&b| b == b' ').count();
        (b' ', at + spaces)
    } else if c != b' ' && allowed.contains(&c) {
        (c, at + 1)
    } else {
        return None;
    };
    let time = read_time(s, start, compact_date, date_time_sep, date_time_sep == b'_')?;
    Some(TimeAfter {
        date_time_sep,
        time,
    })
}

/// `10:00:00`, `9:05`, `10.00.00`, `100000` (when `compact` is allowed), then
/// `.123` or `,123`, ` PM`, and a zone.
pub(super) fn read_time(
    s: &[u8],
    at: usize,
    compact_date: bool,
    date_time_sep: u8,
    dash_ok: bool,
) -> Option<TimeOfDay> {
    let n = digit_run(s, at);
    // Digits without separators are a time only where ISO 8601's basic form
    // puts them: after `yyyyMMdd` or a `T` (`000123 2026-…` is no time).
    let compact = compact_date || date_time_sep == b'T';
    let (hour, minute, second, seconds, sep, p) = match n {
        1 | 2 => {
            let hour = small(s, at, n);
            let sep = *s.get(at + n)?;
            if !(sep == b':' || sep == b'.' || (dash_ok && sep == b'-')) {
                return None;
            }
            let m = at + n + 1;
            if digit_run(s, m) != 2 {
                return None;
            }
            let minute = small(s, m, 2);
            let mut p = m + 2;
            let mut second = 0;
            let has_seconds = s.get(p) == Some(&sep) && digit_run(s, p + 1) == 2;
            if has_seconds {
                second = small(s, p + 1, 2);
                p += 3;
            } else if sep != b':' {
                return None; // `10.30` is a number, not a time
            }
            (hour, minute, second, has_seconds, sep, p)
        }
        6 if compact => (
            small(s, at, 2),
            small(s, at + 2, 2),
            small(s, at + 4, 2),
            true,
            0,
            at + 6,
        ),
        4 if date_time_sep == b'T' => (small(s, at, 2), small(s, at + 2, 2), 0, false, 0, at + 4),
        _ => return None,
    };
    finish_time(s, hour, minute, second, seconds, sep, p)
}

/// The rest of a time of day once hours, minutes and seconds are read (`p`
/// is just past them): checks, fraction, AM/PM, zone.
#[inline(always)]
pub(super) fn finish_time(
    s: &[u8],
    hour: u32,
    minute: u32,
    second: u32,
    seconds: bool,
    sep: u8,
    mut p: usize,
) -> Option<TimeOfDay> {
    if minute > 59 || second > 60 {
        return None;
    }
    let (mut nanos, mut frac_digits, mut frac_sep) = (0, 0, 0);
    if seconds {
        let mark = s.get(p).copied();
        let len = digit_run(s, p + 1);
        // `:` before milliseconds only after a `:` time, and at most three
        // digits: a count of milliseconds, which some writers do not pad
        // (`10:00:00:123`, `10:00:00:96` is 96 ms).
        let fraction = match mark {
            Some(b'.' | b',') => len > 0,
            Some(b':') => sep == b':' && (1..=3).contains(&len),
            _ => false,
        };
        if fraction {
            nanos = if mark == Some(b':') {
                small(s, p + 1, len) * 1_000_000
            } else {
                fraction_nanos(s, p + 1, len)
            };
            frac_digits = len.min(9) as u8;
            frac_sep = mark.unwrap_or(b'.');
            p += 1 + len;
        }
    }
    let mut pm = None;
    let space = usize::from(s.get(p) == Some(&b' '));
    if let Some((is_pm, len)) = names::am_pm(s, p + space) {
        pm = Some(is_pm);
        p += space + len;
    }
    if pm.is_none() && hour > 23 {
        return None;
    }
    let (offset, zone, end) = read_zone(s, p);
    Some(TimeOfDay {
        hour,
        minute,
        second,
        seconds,
        sep,
        nanos,
        frac_digits,
        frac_sep,
        pm,
        offset,
        zone,
        end,
    })
}

/// A zone after a time: `Z`, `+01:00`, `+0100`, `+01`, ` +0100`, ` UTC`,
/// `UTC+01:00`, ` CET`. Returns the offset, how it was written, and the index after it.
fn read_zone(s: &[u8], at: usize) -> (Option<i32>, ZoneStyle, usize) {
    let none = (None, ZoneStyle::None, at);
    match s.get(at) {
        Some(b'Z') if !glued_to_more(s, at + 1) => (Some(0), ZoneStyle::Z, at + 1),
        Some(b'+' | b'-') => numeric_offset(s, at, false).unwrap_or(none),
        Some(b' ') => match s.get(at + 1) {
            // With a space before it, a full offset, or two digits that a
            // blank or the end follows (PostgreSQL's ` +03`); ` -07x` could be anything.
            Some(b'+' | b'-') => numeric_offset(s, at + 1, true)
                .or_else(|| {
                    let after = s.get(at + 4);
                    (after.is_none_or(u8::is_ascii_whitespace) && digit_run(s, at + 2) == 2)
                        .then(|| numeric_offset(s, at + 1, false))
                        .flatten()
                })
                .unwrap_or(none),
            Some(b) if b.is_ascii_uppercase() => named_zone(s, at + 1).unwrap_or(none),
            _ => none,
        },
        Some(b) if b.is_ascii_uppercase() => named_zone(s, at).unwrap_or(none),
        _ => none,
    }
}

/// `+01:00`, `+0100`, or (unless `full`) `+01`, at `s[at]` (the sign).
fn numeric_offset(s: &[u8], at: usize, full: bool) -> Option<(Option<i32>, ZoneStyle, usize)> {
    let sign = if s[at] == b'-' { -1 } else { 1 };
    let run = digit_run(s, at + 1);
    let (hours, minutes, style, end) = match run {
        2 if s.get(at + 3) == Some(&b':') && digit_run(s, at + 4) == 2 => (
            small(s, at + 1, 2),
            small(s, at + 4, 2),
            ZoneStyle::OffsetColon,
            at + 6,
        ),
        2 if !full => (small(s, at + 1, 2), 0, ZoneStyle::Offset, at + 3),
        4 => (
            small(s, at + 1, 2),
            small(s, at + 3, 2),
            ZoneStyle::Offset,
            at + 5,
        ),
        _ => return None,
    };
    if hours > 14 || minutes > 59 || glued_to_more(s, end) {
        return None;
    }
    Some((
        Some(sign * (hours as i32 * 3600 + minutes as i32 * 60)),
        style,
        end,
    ))
}

/// `UTC`, `GMT+01:00`, `CET` at `s[at]`.
fn named_zone(s: &[u8], at: usize) -> Option<(Option<i32>, ZoneStyle, usize)> {
    let n = names::letters(s, at);
    let word = s.get(at..at + n)?;
    let offset = names::zone_offset(word)?;
    let end = at + n;
    if names::is_utc_name(word) && matches!(s.get(end), Some(b'+' | b'-')) {
        if let Some((extra, _, after)) = numeric_offset(s, end, false) {
            return Some((extra, ZoneStyle::Name, after));
        }
    }
    if glued_to_more(s, end) {
        return None;
    }
    Some((Some(offset), ZoneStyle::Name, end))
}
