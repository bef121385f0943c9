//! `diagbot_log_lines_total{service,level}`: lines appended to each service's
//! logs, by level, counted from the incremental reads the health sampler
//! makes. The engine's answer is a total over the files as they are now; the
//! counter takes what each read added. The first read of a service is its
//! baseline (every level at 0), so a restart of diagbot does not count a
//! log's whole past again. When a total goes down (a file rotated away or
//! truncated) that level takes the new total as its baseline: lines are
//! under-counted by at most one sample's worth rather than counted twice.

use std::collections::BTreeMap;
use std::sync::Mutex;

use diagbot_core::logs::level::Level;
use diagbot_core::query::LevelCounts;
use prometheus_client::encoding::EncodeLabelSet;

use super::LabelText;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LogLineLabels {
    pub service: LabelText,
    /// `fatal`, `error`, `warning`, `info`, `debug`, `trace` or `unknown`.
    pub level: &'static str,
}

/// The level labels, in [`LevelCounts`] order.
fn level_names() -> [&'static str; 7] {
    let mut names = ["unknown"; 7];
    for level in Level::ALL {
        names[level.index()] = level.name();
    }
    names
}

#[derive(Default)]
pub struct LogLines {
    pub family: Family<LogLineLabels, Counter>,
    /// Each service's totals as of its latest read.
    last: Mutex<BTreeMap<String, LevelCounts>>,
}

impl LogLines {
    /// Takes in `service`'s totals by level as of a read.
    pub fn record(&self, service: &str, totals: &LevelCounts) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let names = level_names();
        let before = last.get(service).copied();
        for (i, name) in names.iter().enumerate() {
            let labels = LogLineLabels {
                service: service.to_string().into(),
                level: name,
            };
            let counter = self.family.get_or_create(&labels);
            if let Some(before) = before {
                counter.inc_by(totals.0[i].saturating_sub(before.0[i]));
            }
        }
        last.insert(service.to_string(), *totals);
    }

    /// Drops the series of services no longer configured (a reload), so the
    /// label set stays that of the configuration.
    pub fn keep_only(&self, services: &[&str]) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = last
            .keys()
            .filter(|name| !services.contains(&name.as_str()))
            .cloned()
            .collect();
        for service in gone {
            for level in level_names() {
                self.family.remove(&LogLineLabels {
                    service: service.clone().into(),
                    level,
                });
            }
            last.remove(&service);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(error: u64, info: u64) -> LevelCounts {
        let mut c = LevelCounts::default();
        c.0[Level::Error.index()] = error;
        c.0[Level::Info.index()] = info;
        c
    }

    fn value(lines: &LogLines, service: &str, level: &'static str) -> u64 {
        lines
            .family
            .get_or_create(&LogLineLabels {
                service: service.into(),
                level,
            })
            .get()
    }

    #[test]
    fn the_first_read_is_the_baseline_and_later_ones_add_what_was_appended() {
        let lines = LogLines::default();
        lines.record("bot", &counts(500, 9000));
        assert_eq!(value(&lines, "bot", "error"), 0);
        lines.record("bot", &counts(503, 9010));
        assert_eq!(value(&lines, "bot", "error"), 3);
        assert_eq!(value(&lines, "bot", "info"), 10);
        assert_eq!(value(&lines, "bot", "unknown"), 0);
    }

    #[test]
    fn a_total_that_goes_down_never_lowers_the_counter() {
        let lines = LogLines::default();
        lines.record("bot", &counts(10, 10));
        lines.record("bot", &counts(12, 10));
        // Rotated: the total restarts from what the new file holds.
        lines.record("bot", &counts(1, 2));
        assert_eq!(value(&lines, "bot", "error"), 2);
        lines.record("bot", &counts(4, 2));
        assert_eq!(value(&lines, "bot", "error"), 5);
    }

    #[test]
    fn a_service_no_longer_configured_loses_its_series() {
        let lines = LogLines::default();
        lines.record("old", &counts(1, 1));
        lines.record("bot", &counts(1, 1));
        lines.keep_only(&["bot"]);
        let mut text = String::new();
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("diagbot_log_lines", "Lines", lines.family.clone());
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(!text.contains("service=\"old\""), "{text}");
        assert!(text.contains("service=\"bot\""), "{text}");
    }
}
