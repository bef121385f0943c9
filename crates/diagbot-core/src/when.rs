//! `WHEN` arguments: a duration back from now (`90s`, `15m`, `1h`, `2d`) or an
//! absolute time (`2026-01-27T10:00:00`, `2026-01-27 10:00`, RFC 3339).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TimeBound {
    /// This long before the moment the query runs.
    Ago(Duration),
    At(DateTime<FixedOffset>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid time {input:?}: expected a duration such as 90s, 15m, 1h, 2d or a time such as 2026-01-27T10:00:00 or '2026-01-27 10:00'")]
pub struct BadTime {
    pub input: String,
}

impl TimeBound {
    pub fn parse(input: &str) -> Result<TimeBound, BadTime> {
        let s = input.trim();
        if let Ok(d) = parse_duration(s) {
            return Ok(TimeBound::Ago(d));
        }
        parse_absolute(s).map(TimeBound::At).ok_or_else(|| BadTime {
            input: input.to_string(),
        })
    }

    /// Milliseconds since the epoch at `now`.
    pub fn resolve(&self, now: DateTime<FixedOffset>) -> i64 {
        match self {
            TimeBound::Ago(d) => {
                now.timestamp_millis() - i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
            }
            TimeBound::At(t) => t.timestamp_millis(),
        }
    }

    pub fn canonical(&self) -> String {
        match self {
            TimeBound::Ago(d) => format!("{}s", d.as_secs()),
            TimeBound::At(t) => t.to_rfc3339(),
        }
    }
}

/// `90s`, `15m`, `1h`, `2d`, `1w`, and sums such as `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut total_ms: u64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("expected a number in {s:?}"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("number too large in {s:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" | "sec" | "secs" => 1000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            other => {
                return Err(format!(
                    "unknown unit {other:?} in {s:?} (use s, m, h, d or w)"
                ))
            }
        };
        rest = &rest[unit_len..];
        total_ms = total_ms.saturating_add(n.saturating_mul(unit_ms));
    }
    Ok(Duration::from_millis(total_ms))
}

fn parse_absolute(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    let naive = FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        // Regression: milliseconds were cut to whole seconds, so "100ms" read as 0.
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("1s500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn absolute_times() {
        assert!(matches!(
            TimeBound::parse("2026-01-27T10:00:00"),
            Ok(TimeBound::At(_))
        ));
        assert!(matches!(
            TimeBound::parse("2026-01-27 10:00"),
            Ok(TimeBound::At(_))
        ));
        let t = TimeBound::parse("2026-01-27T10:00:00+02:00").unwrap();
        assert_eq!(t.canonical(), "2026-01-27T10:00:00+02:00");
        let err = TimeBound::parse("yesterday-ish").unwrap_err();
        assert!(err.to_string().contains("yesterday-ish"));
    }
}
