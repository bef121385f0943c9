//! CPU use between two readings of `/proc/stat`'s `cpu` line. A reading is
//! kept from one status to the next, so the busy share is measured over the
//! time between them instead of by sleeping; a window of a few ticks says
//! little (one tick of one CPU is 1 % of a second), so until enough ticks
//! have passed the last measure stands.

use std::time::Duration;

use crate::probe::ProbeError;

/// Cumulative ticks since boot, summed over all CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CpuTimes {
    busy: u64,
    total: u64,
    /// CPUs counted (`cpuN` lines), at least 1.
    cpus: u64,
}

impl CpuTimes {
    /// The `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, ...
    pub(super) fn parse(stat: &str) -> Result<CpuTimes, ProbeError> {
        let line = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .ok_or_else(|| ProbeError::Malformed("stat has no cpu line".into()))?;
        let values: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        if values.len() < 4 {
            return Err(ProbeError::Malformed(format!(
                "stat cpu line unreadable: {line:?}"
            )));
        }
        let total: u64 = values.iter().sum();
        // idle and iowait are not busy.
        let idle = values[3] + values.get(4).copied().unwrap_or(0);
        let cpus = stat
            .lines()
            .filter(|l| {
                l.strip_prefix("cpu")
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count() as u64;
        Ok(CpuTimes {
            busy: total - idle,
            total,
            cpus: cpus.max(1),
        })
    }

    /// The ticks all CPUs together count in `window`.
    pub(super) fn ticks_in(&self, window: Duration) -> u64 {
        let per_sec = rustix::param::clock_ticks_per_second();
        (per_sec as f64 * window.as_secs_f64()) as u64 * self.cpus
    }
}

/// The previous reading and the last busy share measured.
#[derive(Debug, Default)]
pub(super) struct CpuMeter {
    last: Option<CpuTimes>,
    percent: Option<f64>,
}

impl CpuMeter {
    /// The last share measured.
    pub(super) fn percent(&self) -> Option<f64> {
        self.percent
    }

    /// Takes reading `now`: the busy share since the previous reading when at
    /// least `min_ticks` have passed (and `now` becomes the previous reading),
    /// else the last share measured, if any.
    pub(super) fn update(&mut self, now: CpuTimes, min_ticks: u64) -> Option<f64> {
        let Some(prev) = self.last else {
            self.last = Some(now);
            return self.percent;
        };
        if now.total < prev.total {
            // Counters went back (a fixture rewritten): start again from here.
            self.last = Some(now);
            return self.percent;
        }
        let total = now.total - prev.total;
        if total < min_ticks {
            return self.percent;
        }
        let busy = now.busy.saturating_sub(prev.busy);
        // No tick passed (a fixture that never changes): no CPU was used.
        let percent = if total == 0 {
            0.0
        } else {
            100.0 * busy as f64 / total as f64
        };
        self.last = Some(now);
        self.percent = Some(percent);
        self.percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(stat: &str) -> CpuTimes {
        CpuTimes::parse(stat).unwrap()
    }

    #[test]
    fn busy_total_and_cpus_from_proc_stat() {
        let t =
            times("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400\ncpu1 50 0 50 400\nintr 1\n");
        assert_eq!(
            t,
            CpuTimes {
                busy: 200,
                total: 1000,
                cpus: 2
            }
        );
        assert!(CpuTimes::parse("intr 1\n").is_err());
        assert!(CpuTimes::parse("cpu 1 2\n").is_err());
    }

    #[test]
    fn use_is_measured_since_the_previous_reading_once_enough_ticks_passed() {
        let mut meter = CpuMeter::default();
        assert_eq!(meter.update(times("cpu 100 0 100 800\n"), 25), None);
        // 10 ticks later: too few to say anything yet.
        assert_eq!(meter.update(times("cpu 105 0 100 805\n"), 25), None);
        // 1000 ticks after the first reading, 500 of them busy.
        assert_eq!(meter.update(times("cpu 400 0 300 1300\n"), 25), Some(50.0));
        // A short window keeps the last measure, and the baseline.
        assert_eq!(meter.update(times("cpu 410 0 300 1300\n"), 25), Some(50.0));
        // 100 more ticks since the 50 % reading, all busy.
        assert_eq!(meter.update(times("cpu 500 0 300 1300\n"), 25), Some(100.0));
        // Counters that went back restart the window.
        assert_eq!(meter.update(times("cpu 1 0 1 8\n"), 25), Some(100.0));
        assert_eq!(meter.update(times("cpu 1 0 1 108\n"), 25), Some(0.0));
    }
}
