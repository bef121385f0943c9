//! A value axis at round values: 1, 2, 2.5 or 5 × 10^k of the unit shown
//! (bytes in the one binary unit that suits the highest value), so labels
//! read 0, 200, 400, 600 MiB, never 516.2 MiB, and never twice the same.
//! `assets/app.js` does the same arithmetic in the same order, so both
//! drawings agree to the digit.

const BYTE_UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
/// At most this many steps from 0 to the top.
const STEPS: f64 = 4.0;
/// Room above the highest value, so that it does not touch the top.
const HEADROOM: f64 = 1.05;

/// How an axis names its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bytes,
    /// A count: no step below 1.
    Whole,
    /// Any number (a load, a log's number).
    Plain,
}

/// The ticks of a value axis and the value at its top.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub top: f64,
    /// `(value, label)`, from 0 up.
    pub ticks: Vec<(f64, String)>,
}

/// The axis for values from 0 to `max`. Without a positive value, 0 alone.
pub fn axis(kind: Kind, max: f64) -> Axis {
    if !(max > 0.0 && max.is_finite()) {
        return Axis {
            top: 1.0,
            ticks: vec![(0.0, "0".to_string())],
        };
    }
    let (divisor, unit) = shown_unit(kind, max);
    let target = max / divisor * HEADROOM;
    let (step, decimals) = round_step(target / STEPS, kind != Kind::Plain && divisor == 1.0);
    let steps = (target / step).ceil() as u32;
    let ticks = (0..=steps)
        .map(|i| {
            let v = f64::from(i) * step;
            (v * divisor, label(v, decimals, unit))
        })
        .collect();
    Axis {
        top: f64::from(steps) * step * divisor,
        ticks,
    }
}

/// The unit the labels are in, and what a value is divided by to be in it.
fn shown_unit(kind: Kind, max: f64) -> (f64, &'static str) {
    if kind != Kind::Bytes {
        return (1.0, "");
    }
    let mut divisor = 1.0;
    let mut unit = 0;
    while max / divisor >= 1024.0 && unit < BYTE_UNITS.len() - 1 {
        divisor *= 1024.0;
        unit += 1;
    }
    (divisor, BYTE_UNITS[unit])
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at least `at_least` (at least 1 for
/// whole numbers), and the decimals its multiples need.
fn round_step(at_least: f64, whole: bool) -> (f64, usize) {
    if whole && at_least <= 1.0 {
        return (1.0, 0);
    }
    // The power of ten at or below `at_least`, by repeated steps rather than
    // powi, which the browser's ** may round differently.
    let mut power = 1.0;
    let mut exponent: i32 = 0;
    while power * 10.0 <= at_least {
        power *= 10.0;
        exponent += 1;
    }
    while power > at_least {
        power /= 10.0;
        exponent -= 1;
    }
    for (m, extra_decimal) in [(1.0, 0), (2.0, 0), (2.5, 1), (5.0, 0)] {
        if m * power >= at_least {
            return (m * power, (extra_decimal - exponent).max(0) as usize);
        }
    }
    (10.0 * power, (-1 - exponent).max(0) as usize)
}

/// "200 MiB", "0.5", "7".
fn label(v: f64, decimals: usize, unit: &str) -> String {
    if unit.is_empty() {
        format!("{v:.decimals$}")
    } else {
        format!("{v:.decimals$} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1048576.0;

    fn labels(kind: Kind, max: f64) -> Vec<String> {
        axis(kind, max).ticks.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn byte_ticks_are_round_in_the_unit_shown() {
        assert_eq!(
            labels(Kind::Bytes, 516.2 * MIB),
            ["0 MiB", "200 MiB", "400 MiB", "600 MiB"]
        );
        assert_eq!(axis(Kind::Bytes, 516.2 * MIB).top, 600.0 * MIB);
        assert_eq!(
            labels(Kind::Bytes, 50.0 * MIB),
            ["0 MiB", "20 MiB", "40 MiB", "60 MiB"]
        );
        assert_eq!(
            labels(Kind::Bytes, 24.0 * 1024.0 * MIB),
            ["0 GiB", "10 GiB", "20 GiB", "30 GiB"]
        );
        assert_eq!(
            labels(Kind::Bytes, 1.6 * 1024.0 * MIB),
            ["0.0 GiB", "0.5 GiB", "1.0 GiB", "1.5 GiB", "2.0 GiB"]
        );
        assert_eq!(
            labels(Kind::Bytes, 3.0),
            ["0 B", "1 B", "2 B", "3 B", "4 B"]
        );
    }

    #[test]
    fn plain_ticks_may_be_fractions_and_counts_may_not() {
        assert_eq!(labels(Kind::Plain, 0.5), ["0.0", "0.2", "0.4", "0.6"]);
        assert_eq!(
            labels(Kind::Plain, 9.0),
            ["0.0", "2.5", "5.0", "7.5", "10.0"]
        );
        assert_eq!(labels(Kind::Whole, 2.0), ["0", "1", "2", "3"]);
        assert_eq!(labels(Kind::Plain, 198.0), ["0", "100", "200", "300"]);
    }

    #[test]
    fn ticks_are_distinct_and_reach_past_the_highest_value() {
        for kind in [Kind::Bytes, Kind::Whole, Kind::Plain] {
            for max in [1e-3, 0.7, 1.0, 3.0, 999.0, 1023.0, 1025.0, 5e6, 7.3e9, 4e12] {
                let a = axis(kind, max);
                let names = labels(kind, max);
                let mut unique = names.clone();
                unique.dedup();
                assert_eq!(unique, names, "{kind:?} up to {max}");
                assert!(a.top >= max && names.len() <= 6, "{kind:?} {max}: {a:?}");
            }
        }
    }

    #[test]
    fn nothing_but_zeros_is_an_axis_of_zero_alone() {
        for kind in [Kind::Bytes, Kind::Whole, Kind::Plain] {
            assert_eq!(labels(kind, 0.0), ["0"]);
        }
        assert_eq!(labels(Kind::Bytes, f64::NAN), ["0"]);
    }
}
