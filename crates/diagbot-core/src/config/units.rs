//! Durations and sizes as people write them (`90s`, `5m`, `8MiB`), read and
//! written back the same way, with the bounds past which a value could only
//! be a mistake (and would make a library panic later).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::when::parse_duration;

/// The longest duration any setting takes: beyond it a value is a typo (and
/// moka panics on a TTL over 1000 years).
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// A duration (`5m`) or a size (`8MiB`) as people write them; a bare number
/// is seconds or bytes. Written back in the largest unit that is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human<T>(pub T);

impl<'de> Deserialize<'de> for Human<Duration> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let duration = match HumanInput::deserialize(d)? {
            HumanInput::Number(n) => Duration::from_secs(n),
            HumanInput::Text(s) => parse_duration(&s)
                .map_err(|e| serde::de::Error::custom(format!("invalid duration: {e}")))?,
        };
        if duration > MAX_DURATION {
            return Err(serde::de::Error::custom(format!(
                "invalid duration: {} is longer than the longest allowed, {}",
                write_duration(duration),
                write_duration(MAX_DURATION)
            )));
        }
        Ok(Human(duration))
    }
}

impl<'de> Deserialize<'de> for Human<u64> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match HumanInput::deserialize(d)? {
            HumanInput::Number(n) => Ok(Human(n)),
            HumanInput::Text(s) => parse_size(&s)
                .map(Human)
                .map_err(|e| serde::de::Error::custom(format!("invalid size: {e}"))),
        }
    }
}

impl Serialize for Human<Duration> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&write_duration(self.0))
    }
}

impl Serialize for Human<u64> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&write_size(self.0))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HumanInput {
    Number(u64),
    Text(String),
}

/// `8MiB`, `512 KiB`, `1GB`, `4096`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let digits = s
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let number: f64 = s[..digits]
        .parse()
        .map_err(|_| format!("expected a number in {s:?}"))?;
    let unit: u64 = match s[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?} (use B, KiB, MiB, GiB)"
            ))
        }
    };
    Ok((number * unit as f64) as u64)
}

/// `90s`, `5m`, `2h`, `100ms`: the largest unit that is exact.
pub fn write_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let units: [(u128, &str); 5] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
        (1, "ms"),
    ];
    let (size, unit) = units
        .into_iter()
        .find(|(size, _)| ms % size == 0)
        .unwrap_or((1, "ms"));
    format!("{}{unit}", ms / size)
}

/// `8MiB`, `512KiB`, or bytes.
pub fn write_size(bytes: u64) -> String {
    match bytes {
        0 => "0".into(),
        b if b % (1 << 30) == 0 => format!("{}GiB", b >> 30),
        b if b % (1 << 20) == 0 => format!("{}MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}KiB", b >> 10),
        b => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_values_read_back() {
        for secs in [0, 1, 59, 60, 90, 3600, 5400, 86_400, 200_000] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse_duration(&write_duration(d)), Ok(d), "{secs}");
        }
        assert_eq!(write_duration(Duration::from_millis(100)), "100ms");
        for bytes in [0, 1, 4096, 8 << 20, (8 << 20) + 1, 3 << 30] {
            assert_eq!(parse_size(&write_size(bytes)), Ok(bytes), "{bytes}");
        }
        assert_eq!(write_size(8 << 20), "8MiB");
    }
}
