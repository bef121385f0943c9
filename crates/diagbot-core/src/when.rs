//! `WHEN` arguments: a duration back from now (`90s`, `15m`, `1h`, `2d`) or an
//! absolute time (`2026-01-27T10:00:00`, `2026-01-27 10:00`, RFC 3339).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};

/// One end of a search window (`since`, `until`): relative to when the query
/// runs, or a fixed time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TimeBound {
    /// This long before the moment the query runs.
    Ago(Duration),
    /// This moment, whenever the query runs.
    At(DateTime<FixedOffset>),
}

/// A `WHEN` argument that is neither a duration nor a time.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid time {input:?}: expected a duration such as 90s, 15m, 1h, 2d or a time such as 2026-01-27T10:00:00 or '2026-01-27 10:00'")]
pub struct BadTime {
    /// The argument as given.
    pub input: String,
}

impl TimeBound {
    /// A duration ([`parse_duration`]'s forms) is [`TimeBound::Ago`]; else a
    /// time (RFC 3339, or `2026-01-27[ T]10:00[:00]` and `2026-01-27` in local
    /// time) is [`TimeBound::At`].
    pub fn parse(input: &str) -> Result<TimeBound, BadTime> {
        let s = input.trim();
        // `-1h` is `1h` back, as people write "an hour ago" on a time line.
        let ago = s
            .strip_prefix('-')
            .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(s);
        if let Ok(d) = parse_duration(ago) {
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

    /// As cache keys write it: `Ago` in whole seconds (`3600s`), `At` in RFC 3339.
    pub fn canonical(&self) -> String {
        match self {
            TimeBound::Ago(d) => format!("{}s", d.as_secs()),
            TimeBound::At(t) => t.to_rfc3339(),
        }
    }
}

/// `90s`, `15m`, `1h`, `2d`, `1w`, sums such as `1h30m` or `1h 30m`, a
/// space between number and unit (`5 m`) and decimals (`2.5h`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let expected = || {
        format!("{s:?} is not a duration: expected a number and a unit (ms, s, m, h, d, w), such as 90s, 15m, 2.5h or 1h30m")
    };
    let mut total_ms: f64 = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("empty duration: expected a number and a unit, such as 90s or 15m".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if digits == 0 {
            return Err(expected());
        }
        let n: f64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms: f64 = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" | "sec" | "secs" => 1000.0,
            "m" | "min" | "mins" => 60_000.0,
            "h" | "hour" | "hours" => 3_600_000.0,
            "d" | "day" | "days" => 86_400_000.0,
            "w" | "week" | "weeks" => 604_800_000.0,
            "" => {
                return Err(format!(
                    "{s:?}: a number needs a unit (ms, s, m, h, d or w), such as 90s"
                ))
            }
            other => {
                return Err(format!(
                    "unknown unit {other:?} in {s:?} (use ms, s, m, h, d or w)"
                ))
            }
        };
        rest = rest[unit_len..].trim_start();
        total_ms += n * unit_ms;
    }
    // Past u64 milliseconds a duration is no duration anyone means; saturate.
    Ok(Duration::from_millis(total_ms.min(u64::MAX as f64) as u64))
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
        // As people type them.
        assert_eq!(parse_duration("5 m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2.5h"), Ok(Duration::from_secs(9000)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        let e = parse_duration("5").unwrap_err();
        assert!(e.contains("needs a unit"), "{e}");
        let e = parse_duration("soon").unwrap_err();
        assert!(e.contains("such as 90s, 15m, 2.5h"), "{e}");
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

    #[test]
    fn a_minus_sign_is_the_same_time_back() {
        assert_eq!(
            TimeBound::parse("-1h"),
            Ok(TimeBound::Ago(Duration::from_secs(3600)))
        );
        assert_eq!(TimeBound::parse("-1h"), TimeBound::parse("1h"));
        let err = TimeBound::parse("-soon").unwrap_err();
        assert!(err.to_string().contains("-soon"), "{err}");
    }
}
