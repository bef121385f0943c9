//! Figures in the units people read: sizes in KiB to TiB, spans in days,
//! hours and minutes, shares in percent, memory growth per minute. Every front
//! end formats a figure here, so one size reads the same on every screen.
//! (The core's own sentences — trend texts, events — use `diagbot_core::units`.)

use chrono::{DateTime, FixedOffset};
use diagbot_core::units;

/// "552.2 MiB", "20.0 KiB", "512 B": binary units, one decimal above bytes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How long something has run, to the two largest units: "40 s", "5 min",
/// "2 h 5 min", "3 d 4 h".
pub fn duration(secs: f64) -> String {
    let s = secs as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86400, s / 3600 % 24),
    }
}

/// A host's uptime, as `uptime` says it, to the minute: "1 d 1 h 1 min".
pub fn uptime(secs: f64) -> String {
    let minutes = (secs / 60.0) as u64;
    format!(
        "{} d {} h {} min",
        minutes / 1440,
        minutes / 60 % 24,
        minutes % 60
    )
}

/// "18 %": whole percent.
pub fn percent(p: f64) -> String {
    format!("{p:.0} %")
}

/// Memory growth: "+6.4 MiB/min", "-0.5 MiB/min" (the unit of the trend texts).
pub fn rate(bytes_per_sec: f64) -> String {
    format!("{:+.1} MiB/min", units::mib(bytes_per_sec * 60.0))
}

/// "2026-02-27 10:00:00", in the time's own offset.
pub fn time(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `▁▂▄█`: each value's height between the series' least and greatest.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| {
            let share = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            BARS[((share * 7.0).round() as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes((562_104 + 3316) * 1024), "552.2 MiB");
        assert_eq!(bytes(25 << 30), "25.0 GiB");
        assert_eq!(bytes(3 << 40), "3.0 TiB");
        assert_eq!(bytes(5000 << 40), "5000.0 TiB");
    }

    #[test]
    fn spans_to_the_two_largest_units() {
        assert_eq!(duration(42.9), "42 s");
        assert_eq!(duration(300.0), "5 min");
        assert_eq!(duration(3600.0), "1 h 0 min");
        assert_eq!(duration(7500.0), "2 h 5 min");
        assert_eq!(duration(3.0 * 86400.0 + 4.0 * 3600.0 + 59.0), "3 d 4 h");
        assert_eq!(uptime(90061.0), "1 d 1 h 1 min");
        assert_eq!(uptime(59.0), "0 d 0 h 0 min");
    }

    #[test]
    fn shares_rates_and_times() {
        assert_eq!(percent(17.78), "18 %");
        assert_eq!(percent(99.9), "100 %");
        assert_eq!(rate(6.4 * units::MIB / 60.0), "+6.4 MiB/min");
        assert_eq!(rate(-0.5 * units::MIB / 60.0), "-0.5 MiB/min");
        let t = DateTime::parse_from_rfc3339("2026-02-27T10:00:00+01:00").unwrap();
        assert_eq!(time(&t), "2026-02-27 10:00:00");
    }

    #[test]
    fn a_sparkline_rises_with_its_values() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0]), "▁▂▃█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▁▁");
    }
}
