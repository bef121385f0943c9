//! An OOM kill in words: one row per kill, each part `None` where no source
//! said it, so each medium writes its own "unknown".

use diagbot_core::probe::oom::OomKill;

use super::format;

#[derive(Debug, Clone, PartialEq)]
pub struct OomRow {
    /// "2026-02-27 10:00:00".
    pub time: Option<String>,
    pub pid: Option<String>,
    /// The victim's name.
    pub process: Option<String>,
    /// Its RSS when killed.
    pub rss: Option<String>,
    /// The configured service it belonged to.
    pub service: Option<String>,
    /// How the service came back: "restart 3" (systemd's counter), "as pid
    /// 1207" (a process match, as the watch saw it).
    pub restarted: Option<String>,
    pub cgroup: Option<String>,
    /// What saw the kill: "kernel log, journal of crypto-bot.service".
    pub seen_in: String,
}

impl OomRow {
    pub fn of(kill: &OomKill) -> Self {
        OomRow {
            time: kill.time.as_ref().map(format::time),
            pid: kill.pid.map(|p| p.to_string()),
            process: kill.process.clone(),
            rss: kill.rss_bytes.map(format::bytes),
            service: kill.service.clone(),
            restarted: match (kill.restart_counter, kill.returned_as) {
                (Some(c), _) => Some(format!("restart {c}")),
                (None, Some(pid)) => Some(format!("as pid {pid}")),
                (None, None) => None,
            },
            cgroup: kill.cgroup.clone(),
            seen_in: kill.sources.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::fixture;

    #[test]
    fn a_named_kill_and_one_only_a_journal_saw() {
        let report = fixture::oom_report();
        let named = OomRow::of(&report.kills[0]);
        assert_eq!(named.time.as_deref(), Some("2026-02-27 10:00:00"));
        assert_eq!(named.rss.as_deref(), Some("552.2 MiB"));
        assert_eq!(named.seen_in, "kernel log, journal of crypto-bot.service");
        let unnamed = OomRow::of(&report.kills[1]);
        assert_eq!(
            (unnamed.time, unnamed.pid, unnamed.process),
            (None, None, None)
        );
    }
}
