//! The grammar of a date and time as logs write them.
//!
//! [`read_at`] reads the date and time that starts at one position of a line:
//! a date (three numeric fields with `-`, `/` or `.` between them or none, or a
//! month name), a separator, a time of day (`:` or `.` between fields, or none),
//! an optional fraction, AM/PM and zone; or epoch seconds, milliseconds,
//! microseconds or nanoseconds. It returns the [`Layout`] (how the time is
//! written: what the lines of one file share) and the raw fields. Which
//! numeric field is the day, the month or a two-digit year is left open: a
//! file decides that (see [`DateOrder`] and the learner), not a single line.
//!
//! Byte parsing by hand, no allocation: it runs on every line of a scan. The
//! date forms are read here; the time of day and zone in `clock`, digit runs
//! in `digits`, and the fixed-position fast path ([`read_fixed`]) in `fixed`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};

use super::names;
use super::{ParsedTime, YearHint};

/// The unit of an epoch timestamp, told by its number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpochUnit {
    /// Ten digits: `1769508000`.
    Seconds,
    /// Thirteen: `1769508000123`.
    Millis,
    /// Sixteen.
    Micros,
    /// Nineteen.
    Nanos,
}

/// How the date part is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateForm {
    /// `2026-01-27`, `2026/01/27`, `2026.01.27`.
    YearFirst,
    /// `27/01/2026` or `01/27/2026`: day and month order decided per file.
    YearLast,
    /// `17/06/09`: three two-digit fields, which one is the year decided per file.
    TwoDigitTriple,
    /// `27 Jan 2026`, `10/Oct/2000`, `27-Jan-26`.
    DayMonthName,
    /// `Jan 27, 2026`, `Jun 14 2026`.
    MonthNameDayYear,
    /// `2026 Jan 27`, `2026-Jan-27`.
    YearMonthName,
    /// `Jun 14` (syslog): no year, unless one follows the time (ctime).
    MonthNameDay,
    /// `01-27` (Android logcat): no year; order decided per file.
    NumericPair,
    /// `20260127` (ISO 8601 basic), also `20260127100000` with the time glued on.
    Compact8,
    /// `260127` (`yyMMdd`, old MySQL, Tornado).
    Compact6,
    /// `0127` (`MMdd`, glog and Kubernetes' klog, after the level letter).
    Compact4,
    /// Seconds (or ms, µs, ns) since 1970.
    Epoch(EpochUnit),
}

/// How a date and time is written, apart from its values, fraction and zone
/// (which may vary from line to line of one file: Go trims trailing zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// How the date is written.
    pub date: DateForm,
    /// A weekday name comes first (`Tue Jan 27`).
    pub weekday: bool,
    /// Between the date fields (`-`, `/`, `.`, ` `; `,` for `Jan 27, 2026`; 0 for none).
    pub date_sep: u8,
    /// The year has two digits.
    pub short_year: bool,
    /// Between date and time (`T`, ` `, `_`, `:`, `-`, `.`; 0 for none).
    pub date_time_sep: u8,
    /// Between hours, minutes and seconds (`:`, `.`, `-`; 0 for `HHmmss`).
    pub time_sep: u8,
    /// The time has seconds.
    pub seconds: bool,
    /// A 12-hour clock with AM/PM.
    pub clock12: bool,
    /// ctime and date(1): `Sun Dec 04 04:47:44 2005`.
    pub year_after_time: bool,
}

impl Layout {
    /// Forms that a number in a message could take by chance: accepted only
    /// where a file's lines put them, at the start of a line, or after a time key.
    pub fn is_weak(&self) -> bool {
        match self.date {
            DateForm::Epoch(_) | DateForm::Compact4 | DateForm::Compact6 => true,
            // `20260127100000`: fourteen digits in a row could be any number.
            DateForm::Compact8 => self.date_time_sep == 0,
            DateForm::NumericPair => true,
            DateForm::MonthNameDay => !self.seconds && !self.year_after_time,
            _ => false,
        }
    }

    /// The orders its numeric date fields may be read in, the likeliest first.
    pub fn orders(&self) -> &'static [DateOrder] {
        match self.date {
            // `/` is the US habit (month first); `.` and `-` the European one.
            DateForm::YearLast if self.date_sep == b'/' => &[DateOrder::Mdy, DateOrder::Dmy],
            DateForm::YearLast => &[DateOrder::Dmy, DateOrder::Mdy],
            // Hadoop and Spark write `yy/MM/dd`.
            DateForm::TwoDigitTriple => &[DateOrder::Ymd, DateOrder::Dmy, DateOrder::Mdy],
            DateForm::NumericPair => &[DateOrder::Mdy, DateOrder::Dmy],
            _ => &[DateOrder::Ymd],
        }
    }
}

/// Which numeric date field is which, for forms that do not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOrder {
    /// Year, month, day (ISO 8601).
    Ymd,
    /// Day, month, year (European).
    Dmy,
    /// Month, day, year (US).
    Mdy,
}

/// How a zone was written: only to describe a file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ZoneStyle {
    /// No zone: local time.
    #[default]
    None,
    /// `Z`: UTC.
    Z,
    /// `+0100`
    Offset,
    /// `+01:00`
    OffsetColon,
    /// `UTC`, `CET`
    Name,
}

/// One date and time read from a line, before the file's reading of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The form it was written in.
    pub layout: Layout,
    /// Numeric forms: the fields as written; named and unambiguous forms: year, month, day.
    pub fields: [u32; 3],
    /// Hour of the day, 0-23 (0-12 on a 12-hour clock until `pm` applies).
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second (0 when the form has none).
    pub second: u32,
    /// Nanoseconds of the fraction.
    pub nanos: u32,
    /// `Some(true)` for PM, `Some(false)` for AM, on a 12-hour clock.
    pub pm: Option<bool>,
    /// Seconds east of UTC, when the line gives a zone.
    pub offset: Option<i32>,
    /// Seconds since the epoch, for epoch forms.
    pub epoch: i64,
    /// Digits of the fraction, as written.
    pub frac_digits: u8,
    /// The fraction's separator (`.` or `,`; 0 for none).
    pub frac_sep: u8,
    /// How the zone was written.
    pub zone: ZoneStyle,
    /// Index just past the timestamp.
    pub end: usize,
}

/// The date of a reading: with its year, or month and day only.
enum CalendarDate {
    Full(i32, u32, u32),
    YearLess(u32, u32),
}

impl Reading {
    /// The time this reading stands for, with the date fields taken in `order`.
    #[inline]
    pub fn resolve(&self, order: DateOrder, hint: &YearHint) -> Option<ParsedTime> {
        if let DateForm::Epoch(_) = self.layout.date {
            let utc = DateTime::from_timestamp(self.epoch, self.nanos)?;
            return Some(ParsedTime {
                naive: utc.naive_utc(),
                offset: FixedOffset::east_opt(0),
            });
        }
        let time = self.time_of_day()?;
        let naive = match self.calendar_date(order, hint)? {
            CalendarDate::Full(y, m, d) => NaiveDate::from_ymd_opt(y, m, d)?.and_time(time),
            CalendarDate::YearLess(m, d) => hint.resolve(m, d, time)?,
        };
        Some(ParsedTime {
            naive,
            offset: self.offset.and_then(FixedOffset::east_opt),
        })
    }

    /// Resolves with the first of the layout's orders that gives a date not
    /// after the file's last write: what one line says on its own.
    pub fn resolve_alone(&self, hint: &YearHint) -> Option<ParsedTime> {
        self.layout
            .orders()
            .iter()
            .filter_map(|&o| self.resolve(o, hint))
            .find(|t| !hint.is_future(t.naive))
    }

    /// Whether the date fields can be a date in some order: a reading that
    /// cannot (`42 Jan 10 …`) must not hide a real timestamp inside it.
    fn plausible(&self) -> bool {
        let [a, b, c] = self.fields;
        let day = |d: u32| (1..=31).contains(&d);
        let month = |m: u32| (1..=12).contains(&m);
        match self.layout.date {
            DateForm::Epoch(_) => true,
            DateForm::YearLast | DateForm::NumericPair => {
                (day(a) && month(b)) || (month(a) && day(b))
            }
            DateForm::TwoDigitTriple => (month(b) && (day(a) || day(c))) || (month(a) && day(b)),
            _ => month(b) && day(c),
        }
    }

    fn time_of_day(&self) -> Option<NaiveTime> {
        let hour = match self.pm {
            None => self.hour,
            Some(_) if !(1..=12).contains(&self.hour) => return None,
            Some(false) => self.hour % 12,
            Some(true) => self.hour % 12 + 12,
        };
        // A leap second (`23:59:60`) is chrono's 59 s plus a second of nanoseconds.
        let (second, nanos) = if self.second == 60 {
            (59, self.nanos.checked_add(1_000_000_000)?)
        } else {
            (self.second, self.nanos)
        };
        NaiveTime::from_hms_nano_opt(hour, self.minute, second, nanos)
    }

    fn calendar_date(&self, order: DateOrder, hint: &YearHint) -> Option<CalendarDate> {
        let [a, b, c] = self.fields;
        let year = |y: u32, short: bool| {
            if short {
                hint.two_digit_year(y)
            } else {
                y as i32
            }
        };
        Some(match self.layout.date {
            DateForm::YearFirst
            | DateForm::DayMonthName
            | DateForm::MonthNameDayYear
            | DateForm::YearMonthName
            | DateForm::Compact8 => CalendarDate::Full(year(a, self.layout.short_year), b, c),
            DateForm::Compact6 => CalendarDate::Full(hint.two_digit_year(a), b, c),
            DateForm::YearLast => match order {
                DateOrder::Dmy => CalendarDate::Full(year(c, self.layout.short_year), b, a),
                DateOrder::Mdy => CalendarDate::Full(year(c, self.layout.short_year), a, b),
                DateOrder::Ymd => return None,
            },
            DateForm::TwoDigitTriple => match order {
                DateOrder::Ymd => CalendarDate::Full(hint.two_digit_year(a), b, c),
                DateOrder::Dmy => CalendarDate::Full(hint.two_digit_year(c), b, a),
                DateOrder::Mdy => CalendarDate::Full(hint.two_digit_year(c), a, b),
            },
            DateForm::NumericPair => match order {
                DateOrder::Dmy => CalendarDate::YearLess(b, a),
                _ => CalendarDate::YearLess(a, b),
            },
            DateForm::MonthNameDay if self.layout.year_after_time => {
                CalendarDate::Full(a as i32, b, c)
            }
            DateForm::MonthNameDay | DateForm::Compact4 => CalendarDate::YearLess(b, c),
            DateForm::Epoch(_) => return None,
        })
    }
}

mod clock;
mod digits;
mod fixed;

use clock::{read_time, time_after, TimeAfter};
use digits::{digit_run, fraction_nanos, glued_to_more, number, small};
pub use fixed::read_fixed;

/// Reads the date and time that starts at `s[at]`, if one does.
pub fn read_at(s: &[u8], at: usize) -> Option<Reading> {
    let first = *s.get(at)?;
    let reading = if first.is_ascii_digit() {
        read_numeric_date(s, at, false)?
    } else if first.is_ascii_uppercase() {
        read_named(s, at)?
    } else {
        return None;
    };
    (!glued_to_more(s, reading.end) && reading.plausible()).then_some(reading)
}

/// A date that opens with a weekday or a month name.
fn read_named(s: &[u8], at: usize) -> Option<Reading> {
    let n = names::letters(s, at);
    if !names::is_weekday(&s[at..at + n]) {
        return read_month_first(s, at, false);
    }
    // `Sun Dec 04 …`, `Tue, 27 Jan 2026 …`, `Tue 2026-01-27 …`
    let mut p = at + n;
    if s.get(p) == Some(&b',') {
        p += 1;
    }
    if s.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let mut reading = if s.get(p)?.is_ascii_digit() {
        read_numeric_date(s, p, true)?
    } else {
        read_month_first(s, p, true)?
    };
    reading.layout.weekday = true;
    Some(reading)
}

/// `Jun 14 15:16:01`, `Jan 27, 2026 10:00:00 AM`, `Jun 14 2026 15:16:01`,
/// and with a weekday before, `Dec 04 04:47:44 2005`.
fn read_month_first(s: &[u8], at: usize, weekday: bool) -> Option<Reading> {
    let n = names::letters(s, at);
    let month = names::month(&s[at..at + n])?;
    let mut p = at + n;
    let sep = *s.get(p)?;
    if !matches!(sep, b' ' | b'-' | b'/' | b'.') {
        return None;
    }
    p += 1;
    if sep == b' ' && s.get(p) == Some(&b' ') {
        p += 1; // `Jun  4`: a space-padded day
    }
    let day_len = digit_run(s, p);
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day = small(s, p, day_len);
    p += day_len;
    let comma = s.get(p) == Some(&b',');
    let after = p + usize::from(comma);
    if s.get(after) == Some(&b' ') && digit_run(s, after + 1) == 4 {
        let year = small(s, after + 1, 4);
        let date_sep = if comma { b',' } else { sep };
        let time = time_after(s, after + 5, b" T", false)?;
        return Some(time.into_reading(
            DateForm::MonthNameDayYear,
            date_sep,
            false,
            [year, month, day],
        ));
    }
    if comma {
        return None;
    }
    let time = time_after(s, p, b" T", false)?;
    let mut reading = time.into_reading(DateForm::MonthNameDay, sep, false, [0, month, day]);
    if weekday {
        // ctime and date(1) put the year last, after the zone if any: `… 04:08:16 UTC 2026`.
        let end = reading.end;
        if s.get(end) == Some(&b' ') && digit_run(s, end + 1) == 4 {
            reading.fields[0] = small(s, end + 1, 4);
            reading.layout.year_after_time = true;
            reading.end = end + 5;
        }
    }
    Some(reading)
}

/// A date that opens with a digit.
fn read_numeric_date(s: &[u8], at: usize, weekday: bool) -> Option<Reading> {
    let n = digit_run(s, at);
    match n {
        10 | 13 | 16 | 19 if !weekday => read_epoch(s, at, n),
        14 => {
            // `20260127100000`: date and time glued together.
            let time = read_time(s, at + 8, true, 0, false)?;
            (time.sep == 0).then_some(())?;
            let fields = [small(s, at, 4), small(s, at + 4, 2), small(s, at + 6, 2)];
            Some(
                TimeAfter {
                    date_time_sep: 0,
                    time,
                }
                .into_reading(DateForm::Compact8, 0, false, fields),
            )
        }
        8 => {
            let fields = [small(s, at, 4), small(s, at + 4, 2), small(s, at + 6, 2)];
            let time = time_after(s, at + 8, b"T ._-", true)?;
            Some(time.into_reading(DateForm::Compact8, 0, false, fields))
        }
        6 => {
            let fields = [small(s, at, 2), small(s, at + 2, 2), small(s, at + 4, 2)];
            // `yyMMdd HHmmss` too: a compact date takes a compact time, as
            // ISO 8601's basic form does (HDFS writes `081109 203615`); but
            // two numbers followed by a time of day with separators are a
            // number and a date (`000123 020101 00:00:00`): a line has one time.
            let time = time_after(s, at + 6, b" ", true)?;
            if time.time.sep == 0 && clock_follows(s, time.time.end()) {
                return None;
            }
            Some(time.into_reading(DateForm::Compact6, 0, true, fields))
        }
        4 => read_year_first(s, at).or_else(|| {
            // `0127 10:00:00.123456` (glog, klog): month and day, then the time.
            let fields = [0, small(s, at, 2), small(s, at + 2, 2)];
            let time = time_after(s, at + 4, b" ", false)?;
            (time.time.sep == b':').then_some(())?;
            Some(time.into_reading(DateForm::Compact4, 0, false, fields))
        }),
        1 | 2 => read_day_or_month_first(s, at, n),
        _ => None,
    }
}

/// Whether a time of day with separators (`00:00:00`, `9:05`) follows `at`
/// after a blank.
fn clock_follows(s: &[u8], at: usize) -> bool {
    if s.get(at) != Some(&b' ') {
        return false;
    }
    let n = digit_run(s, at + 1);
    (1..=2).contains(&n) && s.get(at + 1 + n) == Some(&b':')
}

/// `2026-01-27 …`, `2026/01/27 …`, `2026.01.27 …`, `2026 Jan 27 …`.
fn read_year_first(s: &[u8], at: usize) -> Option<Reading> {
    let year = small(s, at, 4);
    let sep = *s.get(at + 4)?;
    if !matches!(sep, b'-' | b'/' | b'.' | b' ') {
        return None;
    }
    let p = at + 5;
    if s.get(p).is_some_and(u8::is_ascii_uppercase) {
        let n = names::letters(s, p);
        let month = names::month(&s[p..p + n])?;
        let q = p + n;
        (s.get(q) == Some(&sep)).then_some(())?;
        let day_len = digit_run(s, q + 1);
        (1..=2).contains(&day_len).then_some(())?;
        let day = small(s, q + 1, day_len);
        let time = time_after(s, q + 1 + day_len, b" T:", false)?;
        return Some(time.into_reading(DateForm::YearMonthName, sep, false, [year, month, day]));
    }
    // Numeric fields need a real separator: `2026 01 27` is just numbers.
    if sep == b' ' {
        return None;
    }
    let month_len = digit_run(s, p);
    (1..=2).contains(&month_len).then_some(())?;
    let q = p + month_len;
    (s.get(q) == Some(&sep)).then_some(())?;
    let day_len = digit_run(s, q + 1);
    (1..=2).contains(&day_len).then_some(())?;
    let fields = [year, small(s, p, month_len), small(s, q + 1, day_len)];
    let time = time_after(s, q + 1 + day_len, b"T _-:", false)?;
    Some(time.into_reading(DateForm::YearFirst, sep, false, fields))
}

/// `27/01/2026`, `01/27/2026`, `17/06/09`, `10/Oct/2000`, `27 Jan 2026`, `01-27`.
fn read_day_or_month_first(s: &[u8], at: usize, n: usize) -> Option<Reading> {
    let first = small(s, at, n);
    let sep = *s.get(at + n)?;
    if !matches!(sep, b'-' | b'/' | b'.' | b' ') {
        return None;
    }
    let p = at + n + 1;
    if s.get(p).is_some_and(u8::is_ascii_uppercase) {
        let len = names::letters(s, p);
        let month = names::month(&s[p..p + len])?;
        let q = p + len;
        (s.get(q) == Some(&sep)).then_some(())?;
        let year_len = digit_run(s, q + 1);
        let short = match year_len {
            4 => false,
            2 => true,
            _ => return None,
        };
        let year = small(s, q + 1, year_len);
        // `:` is the Common Log Format's: `10/Oct/2000:13:55:36 -0700`.
        let time = time_after(s, q + 1 + year_len, b" :T", false)?;
        return Some(time.into_reading(DateForm::DayMonthName, sep, short, [year, month, first]));
    }
    if sep == b' ' {
        return None;
    }
    let second_len = digit_run(s, p);
    (1..=2).contains(&second_len).then_some(())?;
    let second = small(s, p, second_len);
    let q = p + second_len;
    if s.get(q) == Some(&sep) && s.get(q + 1).is_some_and(u8::is_ascii_digit) {
        let third_len = digit_run(s, q + 1);
        let third = small(s, q + 1, third_len);
        let form = match third_len {
            4 => DateForm::YearLast,
            2 => DateForm::TwoDigitTriple,
            _ => return None,
        };
        let time = time_after(s, q + 1 + third_len, b" T_-:", false)?;
        return Some(time.into_reading(form, sep, false, [first, second, third]));
    }
    let time = time_after(s, q, b" ", false)?;
    Some(time.into_reading(DateForm::NumericPair, sep, false, [first, second, 0]))
}

/// Epoch seconds (10 digits, optionally with a fraction), milliseconds (13),
/// microseconds (16) or nanoseconds (19): 2001 to 2286 in every unit.
fn read_epoch(s: &[u8], at: usize, n: usize) -> Option<Reading> {
    if s[at] == b'0' {
        return None;
    }
    let value = number(s, at, n);
    let (unit, per_second) = match n {
        10 => (EpochUnit::Seconds, 1),
        13 => (EpochUnit::Millis, 1_000),
        16 => (EpochUnit::Micros, 1_000_000),
        _ => (EpochUnit::Nanos, 1_000_000_000),
    };
    let secs = value / per_second;
    let mut nanos = ((value % per_second) * (1_000_000_000 / per_second)) as u32;
    let mut end = at + n;
    let mut frac_digits = 0;
    let fraction_allowed = matches!(unit, EpochUnit::Seconds | EpochUnit::Millis);
    if fraction_allowed && s.get(end) == Some(&b'.') {
        let len = digit_run(s, end + 1);
        if len > 0 {
            let frac = fraction_nanos(s, end + 1, len);
            nanos += if unit == EpochUnit::Seconds {
                frac
            } else {
                frac / 1_000
            };
            frac_digits = len.min(9) as u8;
            end += 1 + len;
        }
    }
    Some(Reading {
        layout: Layout {
            date: DateForm::Epoch(unit),
            weekday: false,
            date_sep: 0,
            short_year: false,
            date_time_sep: 0,
            time_sep: 0,
            seconds: true,
            clock12: false,
            year_after_time: false,
        },
        fields: [0; 3],
        hour: 0,
        minute: 0,
        second: 0,
        nanos,
        pm: None,
        offset: Some(0),
        epoch: secs as i64,
        frac_digits,
        frac_sep: b'.',
        zone: ZoneStyle::None,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout_of(s: &str) -> Option<Layout> {
        read_at(s.as_bytes(), 0).map(|r| r.layout)
    }

    #[test]
    fn the_same_layout_whatever_the_fraction_and_zone() {
        let a = layout_of("2026-01-27T10:00:00Z").unwrap();
        let b = layout_of("2026-01-27T10:00:00.5+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.date, DateForm::YearFirst);
    }

    #[test]
    fn dates_alone_and_times_alone_are_not_timestamps() {
        for s in ["2026-01-27", "10:00:00", "2026-01-27 x", "Jan 27", "12345"] {
            assert_eq!(layout_of(s), None, "{s}");
        }
    }

    #[test]
    fn the_fixed_reader_gives_what_the_grammar_gives() {
        for line in [
            "2026-01-27 12:00:00,123 - bot - INFO - x",
            "2026/01/27 12:00:00 [error] x",
            "2026-01-27T12:00:00.123456789Z x",
            "2026-01-27T12:00:00+01:00",
            "Jun 14 15:16:01 combo sshd",
            "Jun  4 15:16:01 combo sshd",
            "2026-01-27 12:00:00 PM x",
        ] {
            let generic = read_at(line.as_bytes(), 0).unwrap();
            let fixed = read_fixed(line.as_bytes(), 0, &generic.layout);
            assert_eq!(fixed, Some(generic), "{line}");
        }
        // Shapes it leaves to the grammar.
        let one_digit = read_at(b"Jun 4 15:16:01 x", 0).unwrap();
        assert_eq!(read_fixed(b"Jun 4 15:16:01 x", 0, &one_digit.layout), None);
    }

    #[test]
    fn ambiguous_fields_are_left_to_the_order() {
        let r = read_at(b"01/02/2026 10:00:00", 0).unwrap();
        let hint = YearHint::new(
            NaiveDate::from_ymd_opt(2026, 12, 31)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        );
        let mdy = r.resolve(DateOrder::Mdy, &hint).unwrap().naive;
        let dmy = r.resolve(DateOrder::Dmy, &hint).unwrap().naive;
        assert_eq!(mdy.to_string(), "2026-01-02 10:00:00");
        assert_eq!(dmy.to_string(), "2026-02-01 10:00:00");
    }
}
