//! The shapes most logs use, read at fixed positions: the fast path for a
//! file whose format is known.

use super::clock::{finish_time, TimeAfter};
use super::digits::glued_to_more;
use super::{DateForm, Layout, Reading};
use crate::logs::timestamp::names;

/// Reads the two shapes most logs use at fixed positions, for a file whose
/// format is known: `yyyy-MM-dd HH:mm:ss` with the file's separators (ISO
/// 8601, Python, Go, nginx…) and syslog's `MMM dd HH:mm:ss`. For a line it
/// takes it gives exactly what [`read_at`](super::read_at) gives (fraction, AM/PM and zone
/// are read by the same code); `None` leaves the line to `read_at`.
#[inline(always)]
pub fn read_fixed(s: &[u8], at: usize, layout: &Layout) -> Option<Reading> {
    let t = s.get(at..)?;
    let digit = |i: usize| t.get(i).is_some_and(u8::is_ascii_digit);
    let two = |i: usize| u32::from(t[i] - b'0') * 10 + u32::from(t[i + 1] - b'0');
    // `HH:mm:ss` at `i`, and not more digits after it.
    let clock = |i: usize| {
        digit(i)
            && digit(i + 1)
            && t.get(i + 2) == Some(&b':')
            && digit(i + 3)
            && digit(i + 4)
            && t.get(i + 5) == Some(&b':')
            && digit(i + 6)
            && digit(i + 7)
            && !digit(i + 8)
    };
    let plain_clock = layout.time_sep == b':' && layout.seconds && !layout.weekday;
    let (date, fields, time_at) = match layout.date {
        DateForm::YearFirst if plain_clock => {
            let shape = (0..4).all(digit)
                && t.get(4) == Some(&layout.date_sep)
                && digit(5)
                && digit(6)
                && t.get(7) == Some(&layout.date_sep)
                && digit(8)
                && digit(9)
                && t.get(10) == Some(&layout.date_time_sep)
                && clock(11);
            if !shape {
                return None;
            }
            let year = two(0) * 100 + two(2);
            (DateForm::YearFirst, [year, two(5), two(8)], 11)
        }
        DateForm::MonthNameDay
            if plain_clock && layout.date_sep == b' ' && !layout.year_after_time =>
        {
            if t.get(3) != Some(&b' ') || names::letters(t, 0) != 3 {
                return None;
            }
            let month = names::month(&t[..3])?;
            let day = match (t.get(4), digit(5)) {
                (Some(b' '), true) => u32::from(t[5] - b'0'), // `Jun  4`
                (Some(d), true) if d.is_ascii_digit() => two(4),
                _ => return None,
            };
            if t.get(6) != Some(&b' ') || !clock(7) {
                return None;
            }
            (DateForm::MonthNameDay, [0, month, day], 7)
        }
        _ => return None,
    };
    let time = finish_time(
        s,
        two(time_at),
        two(time_at + 3),
        two(time_at + 6),
        true,
        b':',
        at + time_at + 8,
    )?;
    let date_time_sep = if date == DateForm::YearFirst {
        layout.date_time_sep
    } else {
        b' '
    };
    let reading = TimeAfter {
        date_time_sep,
        time,
    }
    .into_reading(date, layout.date_sep, false, fields);
    (!glued_to_more(s, reading.end)).then_some(reading)
}
