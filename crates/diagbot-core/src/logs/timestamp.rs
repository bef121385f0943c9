//! Timestamps in log lines, read by a grammar rather than from a list.
//!
//! - [`grammar`]: what a date and time looks like (numeric fields in any order
//!   and with any separators or none, month names, 12- or 24-hour clocks,
//!   zones, epoch numbers), read at one position of a line.
//! - [`search`]: where in a line one may start (after a prefix, in the first
//!   128 bytes, or as the value of a JSON or logfmt time key), and the search
//!   for the first one.
//! - [`names`]: month, weekday and zone names.
//!
//! A file's own format (which form, where in the line, which field is the day)
//! is learned from its first lines by `logs::learn` and read by
//! `logs::format`; [`find_line_timestamp`] is the search a line gets on its own.
//!
//! Naive times (no zone in the line) are local time. A year-less timestamp
//! (syslog, logcat) takes the latest year that does not put it after the
//! file's modification time: a log cannot hold a line written after it was
//! last modified.

use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone, Timelike,
};

pub mod grammar;
pub mod names;
pub mod search;

/// A parsed timestamp: the wall-clock time as written, and the zone if the line gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTime {
    /// The date and time as written.
    pub naive: NaiveDateTime,
    /// The zone the line gave (`None`: local time).
    pub offset: Option<FixedOffset>,
}

impl ParsedTime {
    /// The instant, reading a zone-less time as local time.
    pub fn to_datetime(self) -> Option<DateTime<FixedOffset>> {
        let offset = match self.offset {
            Some(off) => off,
            None => local_offset(self.naive)?,
        };
        offset.from_local_datetime(&self.naive).single()
    }
}

/// A quarter hour of wall-clock time: local offsets change only on quarter hours.
type QuarterHour = (NaiveDate, u32);

thread_local! {
    /// The local offset of the last quarter hour a zone-less time fell in.
    /// chrono's `Local` reads the clock and looks the zone up on every call,
    /// which cost more than the rest of reading a timestamp.
    static LOCAL_OFFSET: std::cell::Cell<Option<(QuarterHour, Option<FixedOffset>)>> =
        const { std::cell::Cell::new(None) };
}

/// The offset of local time at the wall-clock time `naive` (the earlier one
/// when the clocks go back; none in the hour skipped when they go forward).
fn local_offset(naive: NaiveDateTime) -> Option<FixedOffset> {
    let quarter = (naive.date(), naive.hour() * 4 + naive.minute() / 15);
    if let Some((_, offset)) = LOCAL_OFFSET.get().filter(|(q, _)| *q == quarter) {
        return offset;
    }
    let offset = Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset().timezone());
    LOCAL_OFFSET.set(Some((quarter, offset)));
    offset
}

/// A timestamp found in a line, and where it stands (`line[start..end]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTime {
    /// The time read.
    pub time: ParsedTime,
    /// Where the timestamp starts in the line.
    pub start: usize,
    /// Where it ends (exclusive).
    pub end: usize,
}

/// What year-less and two-digit-year timestamps need: the file's modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearHint {
    latest: NaiveDateTime,
}

impl YearHint {
    /// `modified` is the file's mtime as local wall-clock time. A line may
    /// stand up to 26 hours past it and still be this year: a year-less
    /// line names no zone, and its writer's clock may keep another zone
    /// than diagbot's (zones span UTC−12 to UTC+14: a syslog line of 18:00
    /// written in UTC reads as 6 hours ahead to a diagbot in New York);
    /// the kernel stamps mtimes with a coarse clock that lags the writer's;
    /// and a local clock repeats an hour when DST ends.
    pub fn new(modified: NaiveDateTime) -> Self {
        YearHint {
            latest: modified
                .checked_add_signed(chrono::Duration::hours(26))
                .unwrap_or(modified),
        }
    }

    /// The rule for a file last modified at `t`.
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        let local: DateTime<Local> = t.into();
        YearHint::new(local.naive_local())
    }

    /// The latest year in which `month/day time` is not after the file's mtime.
    /// Tries a few years back so that 29 February finds a leap year.
    pub fn resolve(&self, month: u32, day: u32, time: chrono::NaiveTime) -> Option<NaiveDateTime> {
        let start = self.latest.year();
        (0..8).find_map(|back| {
            let date = NaiveDate::from_ymd_opt(start - back, month, day)?;
            let at = date.and_time(time);
            (at <= self.latest).then_some(at)
        })
    }

    /// `yy` as 20yy, or as 19yy when 20yy would be more than a year after the file's mtime.
    pub fn two_digit_year(&self, yy: u32) -> i32 {
        let year = 2000 + yy as i32;
        if year > self.latest.year() + 1 {
            year - 100
        } else {
            year
        }
    }

    /// Whether `t` is after the latest time a line of the file can have
    /// (its mtime and the slack for zones, as [`YearHint::new`]).
    pub fn is_future(&self, t: NaiveDateTime) -> bool {
        t > self.latest
    }
}

/// The first timestamp of a line read on its own (no file format known).
pub fn find_line_timestamp(line: &[u8], hint: &YearHint) -> Option<LineTime> {
    find_line_timestamp_preferring(line, hint, None)
}

/// The search, where a file's format failed on a line: the first timestamp
/// the line shows on its own; one in the file's layout takes the file's order
/// of date fields rather than its own guess.
pub fn find_line_timestamp_preferring(
    line: &[u8],
    hint: &YearHint,
    prefer: Option<(grammar::Layout, grammar::DateOrder)>,
) -> Option<LineTime> {
    let mut out = None;
    search::for_each_timestamp(line, |found| {
        if !found.stands_alone() {
            return false;
        }
        let time = match prefer {
            Some((layout, order)) if layout == found.reading.layout => {
                found.reading.resolve(order, hint)
            }
            _ => found.reading.resolve_alone(hint),
        };
        let Some(time) = time else {
            return false;
        };
        out = Some(LineTime {
            time,
            start: found.start,
            end: found.reading.end,
        });
        true
    });
    out
}

/// The time of the first timestamp of a line read on its own.
pub fn parse_line_timestamp(line: &[u8], hint: &YearHint) -> Option<ParsedTime> {
    find_line_timestamp(line, hint).map(|t| t.time)
}

#[cfg(test)]
mod tests;
