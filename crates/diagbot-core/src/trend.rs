//! Memory trends: is a service's memory climbing toward an OOM kill, and when
//! would it get there?
//!
//! The slope is Theil–Sen (the median of the slopes between every pair of
//! samples): one spike or one drop does not move it, as it would a
//! least-squares line. A garbage-collected process climbs and falls back in a
//! sawtooth, and the slopes inside each climb would read as growth; so when
//! there are enough samples, growth must also show in the troughs (the lowest
//! sample of the later half of the window above that of the earlier half)
//! before it is called a climb, and memory that just fell back far below the
//! line is not climbing now.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::{mib, minutes};

/// One measurement: seconds from any fixed origin, and bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it was taken, in seconds (the daemon counts from the epoch).
    pub at_secs: f64,
    /// Memory in use, in bytes.
    pub bytes: f64,
}

/// Fewer samples than this, and there is no verdict.
pub const MIN_SAMPLES: usize = 5;
/// A shorter span, and [`analyse`] gives no verdict; [`analyse_with`] takes
/// its own (`health.trend_min_span`).
pub const MIN_SPAN: Duration = Duration::from_secs(10 * 60);
/// From this many samples on, the troughs must climb too.
const TROUGH_CHECK_FROM: usize = 12;
/// Growth below this is flat: 1 % of the current size per hour, and at least 1 MiB per hour.
const MIN_GROWTH_PER_HOUR: f64 = 0.01;
const MIN_BYTES_PER_HOUR: f64 = crate::units::MIB;

/// The verdict on a run of memory samples. Growth is judged against a
/// threshold of 1 % of the latest size per hour, and at least 1 MiB per hour.
/// Serialised with the verdict in `verdict` (`too_few_samples`, `flat`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Trend {
    /// Not enough to say anything.
    TooFewSamples {
        /// Samples there are.
        samples: usize,
        /// Seconds from the first to the last.
        span_secs: f64,
        /// Seconds they must span before there is a verdict.
        need_span_secs: f64,
    },
    /// Not climbing: the slope is within the threshold, the troughs do not
    /// rise, or memory just fell back far below the line.
    Flat {
        /// The slope all the same, in bytes per second.
        bytes_per_sec: f64,
    },
    /// Shrinking faster than the threshold.
    Falling {
        /// The slope, in bytes per second (negative).
        bytes_per_sec: f64,
    },
    /// Growing; `limit_in_secs` is when the limit is reached at this rate, if there is a limit.
    Climbing {
        /// The slope, in bytes per second.
        bytes_per_sec: f64,
        /// Seconds until the limit at this rate (0 when already past it).
        limit_in_secs: Option<f64>,
    },
}

impl Trend {
    /// The slope, when there is a verdict.
    pub fn bytes_per_sec(&self) -> Option<f64> {
        match self {
            Trend::TooFewSamples { .. } => None,
            Trend::Flat { bytes_per_sec }
            | Trend::Falling { bytes_per_sec }
            | Trend::Climbing { bytes_per_sec, .. } => Some(*bytes_per_sec),
        }
    }

    /// "+6.7 MiB/min over 60 min, limit 900 MiB reached in about 52 min", or,
    /// once `latest` is past the limit, "..., over its limit of 400 MiB by 20 MiB":
    /// never "reached in about 0 s".
    pub fn describe(&self, span_secs: f64, limit: Option<f64>, latest: Option<f64>) -> String {
        let over = match (limit, latest) {
            (Some(l), Some(v)) if v >= l => Some(format!(
                "over its limit of {:.0} MiB by {:.0} MiB",
                mib(l),
                mib(v - l)
            )),
            _ => None,
        };
        let words = match self {
            Trend::TooFewSamples {
                samples,
                span_secs,
                need_span_secs,
            } => format!(
                "no trend yet: {samples} sample{} over {} (it needs at least {MIN_SAMPLES}, spanning {})",
                if *samples == 1 { "" } else { "s" },
                minutes(*span_secs),
                minutes(*need_span_secs)
            ),
            Trend::Flat { .. } => format!("flat over {}", minutes(span_secs)),
            Trend::Falling { bytes_per_sec } => format!(
                "falling, {:.1} MiB/min over {}",
                mib(bytes_per_sec * 60.0),
                minutes(span_secs)
            ),
            Trend::Climbing {
                bytes_per_sec,
                limit_in_secs,
            } => {
                let mut text = format!(
                    "+{:.1} MiB/min over {}",
                    mib(bytes_per_sec * 60.0),
                    minutes(span_secs)
                );
                if let (Some(limit), Some(eta), None) = (limit, limit_in_secs, &over) {
                    text.push_str(&format!(
                        ", limit {:.0} MiB reached in about {}",
                        mib(limit),
                        minutes(*eta)
                    ));
                }
                text
            }
        };
        match over {
            Some(over) => format!("{words}, {over}"),
            None => words,
        }
    }
}

/// What the daemon says of one memory trend: the verdict, the figures it came
/// from, the process instance it is about, a restart loop if there is one,
/// and all of it in words (`text`). This is the `memory_trend` object of
/// `/api/v1/status`; every field round-trips through serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendReport {
    /// The verdict on the current instance's samples (when not running: on the last instance's).
    pub trend: Trend,
    /// Samples behind the verdict.
    pub samples: usize,
    /// Seconds from the first of them to the last.
    pub span_secs: f64,
    /// The limit the memory is measured against; `None` without one.
    pub limit_bytes: Option<u64>,
    /// The newest sample.
    pub latest_bytes: Option<u64>,
    /// The process instance the trend is about; none for the host.
    pub instance: Option<InstanceReport>,
    /// Set when the service keeps dying and being started again.
    pub restart_loop: Option<RestartLoop>,
    /// The number in the service's log lines its memory climbs with, once
    /// [`explain`](crate::explain) is sure of one (the daemon sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<crate::explain::Candidate>,
    /// The whole report in one line for a person.
    pub text: String,
}

/// One run of a service's process, from its start (or diagbot's first sample
/// of it) to its death.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceReport {
    /// The main PID, when known.
    pub pid: Option<u32>,
    /// Whether it runs now; if not, this is the last instance, which died.
    pub running: bool,
    /// When it has been as it is (RFC 3339, UTC): running since it started
    /// (its process's start when known, else diagbot's first sample of it),
    /// or not running since its last sample.
    #[serde(default)]
    pub since: String,
    /// The same time in seconds since the epoch. Deprecated: `since` says it
    /// as every other time in the answers does; this key goes in 0.4.
    pub since_secs: f64,
    /// Whether an earlier instance died while diagbot watched.
    pub after_restart: bool,
}

impl InstanceReport {
    /// The report of an instance that has been running (or not) since `since_secs`.
    pub fn new(pid: Option<u32>, running: bool, since_secs: f64, after_restart: bool) -> Self {
        let since = chrono::DateTime::from_timestamp(since_secs.floor() as i64, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        InstanceReport {
            pid,
            running,
            since,
            since_secs,
            after_restart,
        }
    }
}

/// A service that died and was started again more than `health.restart_loop`
/// times within `health.restart_loop_window`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartLoop {
    /// Deaths within the window.
    pub deaths: usize,
    /// OOM kills among the deaths.
    pub oom_kills: usize,
    /// From the first death counted to the last.
    pub over_secs: f64,
    /// The median climb before each death, when the instances climbed.
    pub climb_bytes_per_sec: Option<f64>,
    /// "killed 4 times in 3 h, each time after climbing ~6.4 MiB/min from
    /// ~143 MiB to ~525 MiB (OOM kill each time; pids 908, 1207, 1302, 1400)".
    pub text: String,
}

/// The trend of `samples` (in time order), and when `limit` bytes would be reached.
pub fn analyse(samples: &[Sample], limit: Option<f64>) -> Trend {
    analyse_with(samples, limit, MIN_SPAN)
}

/// As [`analyse`], with the span the samples must cover before there is a verdict.
pub fn analyse_with(samples: &[Sample], limit: Option<f64>, min_span: Duration) -> Trend {
    let span_secs = span(samples);
    if samples.len() < MIN_SAMPLES || span_secs < min_span.as_secs_f64() {
        return Trend::TooFewSamples {
            samples: samples.len(),
            span_secs,
            need_span_secs: min_span.as_secs_f64(),
        };
    }
    let slope = theil_sen(samples);
    let latest = samples.last().map_or(0.0, |s| s.bytes);
    let threshold = (latest * MIN_GROWTH_PER_HOUR).max(MIN_BYTES_PER_HOUR) / 3600.0;
    if slope <= -threshold {
        return Trend::Falling {
            bytes_per_sec: slope,
        };
    }
    let troughs_climb = samples.len() < TROUGH_CHECK_FROM
        || trough_rise(samples, span_secs) > threshold / 2.0 * (span_secs / 2.0);
    // Memory that just fell back far below the line (a collection after one
    // climb, before there are enough samples for the trough check) is not climbing now.
    let fell_back = latest < line_at(samples, slope, span_end(samples)) - slope * span_secs / 2.0;
    if slope < threshold || !troughs_climb || fell_back {
        return Trend::Flat {
            bytes_per_sec: slope,
        };
    }
    Trend::Climbing {
        bytes_per_sec: slope,
        limit_in_secs: limit.map(|l| ((l - latest) / slope).max(0.0)),
    }
}

fn span_end(samples: &[Sample]) -> f64 {
    samples.last().map_or(0.0, |s| s.at_secs)
}

/// The Theil–Sen line's value at `at_secs`: its intercept is the median of each sample's.
fn line_at(samples: &[Sample], slope: f64, at_secs: f64) -> f64 {
    let mut intercepts: Vec<f64> = samples
        .iter()
        .map(|s| s.bytes - slope * s.at_secs)
        .collect();
    median(&mut intercepts) + slope * at_secs
}

/// Seconds from the first sample to the last.
pub fn span(samples: &[Sample]) -> f64 {
    match (samples.first(), samples.last()) {
        (Some(a), Some(b)) => b.at_secs - a.at_secs,
        _ => 0.0,
    }
}

/// Theil–Sen looks at this many samples at most, evenly spread (first and last
/// included): 2016 pairs, a 16 KiB scratch list. All 256 samples of a ring
/// would make 32 640 pairs and a 255 KiB list every sample, and the soak showed
/// that churn growing the daemon's RSS.
const MAX_SLOPE_SAMPLES: usize = 64;

/// The median of the slopes between every pair of samples at different times.
pub fn theil_sen(samples: &[Sample]) -> f64 {
    let thinned: Vec<Sample>;
    let samples = if samples.len() > MAX_SLOPE_SAMPLES {
        let last = samples.len() - 1;
        thinned = (0..MAX_SLOPE_SAMPLES)
            .map(|i| samples[i * last / (MAX_SLOPE_SAMPLES - 1)])
            .collect();
        &thinned[..]
    } else {
        samples
    };
    let mut slopes = Vec::with_capacity(samples.len() * samples.len().saturating_sub(1) / 2);
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            let dt = b.at_secs - a.at_secs;
            if dt > 0.0 {
                slopes.push((b.bytes - a.bytes) / dt);
            }
        }
    }
    median(&mut slopes)
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// How much higher the lowest sample of the later half of the window is than
/// the lowest of the earlier half.
fn trough_rise(samples: &[Sample], span_secs: f64) -> f64 {
    let middle = samples.first().map_or(0.0, |s| s.at_secs) + span_secs / 2.0;
    let lowest = |early: bool| {
        samples
            .iter()
            .filter(|s| (s.at_secs < middle) == early)
            .map(|s| s.bytes)
            .fold(f64::INFINITY, f64::min)
    };
    lowest(false) - lowest(true)
}

#[cfg(test)]
mod tests;
