//! What systemd knows about a unit: its state from `systemctl show`, and from
//! its journal the OOM kills and restarts systemd recorded:
//!
//! ```text
//! crypto-bot.service: A process of this unit has been killed by the OOM killer.
//! crypto-bot.service: Main process exited, code=killed, status=9/KILL
//! crypto-bot.service: Failed with result 'oom-kill'.
//! crypto-bot.service: Scheduled restart job, restart counter is at 3.
//! ```

use chrono::{DateTime, FixedOffset, Local, TimeZone};
use serde::Serialize;

use super::{run_lines, ProbeError};

/// The properties asked of `systemctl show`.
const PROPERTIES: &str = "LoadState,ActiveState,SubState,MainPID,NRestarts,Result,MemoryCurrent,MemoryMax,ControlGroup,ExecMainStartTimestampMonotonic";

/// What `systemctl show` says of a unit; a property it left empty, `[not
/// set]` or `infinity` is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitState {
    /// `ActiveState`: `active`, `failed`, ...
    pub active_state: Option<String>,
    /// `SubState`: `running`, `auto-restart`, ...
    pub sub_state: Option<String>,
    /// `MainPID`; `None` when there is no main process.
    pub main_pid: Option<u32>,
    /// `NRestarts`: the restarts systemd made on its own.
    pub restarts: Option<u64>,
    /// `success`, `oom-kill`, `exit-code`, ...
    pub result: Option<String>,
    /// `MemoryCurrent`: the unit's memory use, in bytes.
    pub memory_current_bytes: Option<u64>,
    /// `MemoryMax`, in bytes; `None` when unlimited.
    pub memory_max_bytes: Option<u64>,
    /// `ControlGroup`: `/system.slice/bot.service`.
    pub control_group: Option<String>,
    /// When the main process started, in microseconds after boot.
    pub start_monotonic_usec: Option<u64>,
}

/// `systemctl show UNIT`; an error says what failed (no systemd, unknown unit).
pub fn show(systemctl: &str, unit: &str) -> Result<UnitState, ProbeError> {
    let mut text = String::new();
    run_lines(
        systemctl,
        &["show", unit, "--no-pager", "-p", PROPERTIES],
        |line| {
            text.push_str(line);
            text.push('\n');
        },
    )?;
    let state = parse_show(&text);
    if text.lines().any(|l| l == "LoadState=not-found") {
        return Err(ProbeError::NoSuchUnit(unit.to_string()));
    }
    Ok(state)
}

/// `Key=Value` lines; empty values, `[not set]`, `infinity` and a zero PID are unknown.
pub fn parse_show(text: &str) -> UnitState {
    let mut s = UnitState::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if value.is_empty() || value == "[not set]" || value == "infinity" {
            continue;
        }
        let number = || value.parse::<u64>().ok();
        match key {
            "ActiveState" => s.active_state = Some(value.to_string()),
            "SubState" => s.sub_state = Some(value.to_string()),
            "MainPID" => s.main_pid = value.parse().ok().filter(|&p: &u32| p != 0),
            "NRestarts" => s.restarts = number(),
            "Result" => s.result = Some(value.to_string()),
            "MemoryCurrent" => s.memory_current_bytes = number(),
            "MemoryMax" => s.memory_max_bytes = number(),
            "ControlGroup" => s.control_group = Some(value.to_string()),
            "ExecMainStartTimestampMonotonic" => {
                s.start_monotonic_usec = number().filter(|&t| t != 0)
            }
            _ => {}
        }
    }
    s
}

/// An OOM kill or a restart that systemd wrote in a unit's journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitEvent {
    /// When journald recorded the line.
    pub time: DateTime<FixedOffset>,
    /// Which line it was.
    pub kind: UnitEventKind,
}

/// Which of systemd's lines an event is; serialised with the kind in `event`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UnitEventKind {
    /// "A process of this unit has been killed by the OOM killer."
    OomKilled,
    /// "Failed with result 'oom-kill'."
    FailedOomKill,
    /// "Scheduled restart job, restart counter is at N."
    Restart {
        /// The counter's value after the restart (N).
        counter: u64,
    },
}

/// The OOM kills and restarts in the unit's journal, oldest first, at or after
/// `since` (milliseconds since the epoch).
pub fn unit_journal(
    journalctl: &str,
    unit: &str,
    since: Option<i64>,
) -> Result<Vec<UnitEvent>, ProbeError> {
    let since_arg = since.and_then(|ms| {
        Local
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    });
    let mut args = vec!["-u", unit, "-o", "json", "--no-pager"];
    if let Some(s) = &since_arg {
        args.extend(["--since", s.as_str()]);
    }
    let mut events = Vec::new();
    // The unit's own output is in its journal too: only systemd's lines are parsed.
    run_lines(journalctl, &args, |line| {
        if line.contains("OOM killer") || line.contains("oom-kill") || line.contains("restart") {
            events.extend(parse_journal_line(line));
        }
    })?;
    if let Some(since) = since {
        events.retain(|e| e.time.timestamp_millis() >= since);
    }
    Ok(events)
}

/// One `journalctl -o json` line → the event it records, if any.
pub fn parse_journal_line(line: &str) -> Option<UnitEvent> {
    let entry: serde_json::Value = serde_json::from_str(line).ok()?;
    let message = match entry.get("MESSAGE")? {
        serde_json::Value::String(s) => s.clone(),
        // Messages that are not UTF-8 come as byte arrays.
        serde_json::Value::Array(bytes) => {
            let raw: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => return None,
    };
    let kind = if message.contains("killed by the OOM killer") {
        UnitEventKind::OomKilled
    } else if message.contains("Failed with result 'oom-kill'") {
        UnitEventKind::FailedOomKill
    } else if let Some(rest) = message.split("restart counter is at ").nth(1) {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        UnitEventKind::Restart {
            counter: digits.parse().ok()?,
        }
    } else {
        return None;
    };
    let usec: i64 = entry.get("__REALTIME_TIMESTAMP")?.as_str()?.parse().ok()?;
    let time = Local.timestamp_micros(usec).single()?.fixed_offset();
    Some(UnitEvent { time, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_output_with_unknowns() {
        let s = parse_show(
            "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=1207\nNRestarts=3\n\
             Result=oom-kill\nMemoryCurrent=[not set]\nMemoryMax=infinity\n\
             ControlGroup=/system.slice/crypto-bot.service\nExecMainStartTimestampMonotonic=3605000000\n",
        );
        assert_eq!(s.main_pid, Some(1207));
        assert_eq!(s.restarts, Some(3));
        assert_eq!(s.result.as_deref(), Some("oom-kill"));
        assert_eq!(s.memory_current_bytes, None);
        assert_eq!(s.memory_max_bytes, None);
        assert_eq!(
            s.control_group.as_deref(),
            Some("/system.slice/crypto-bot.service")
        );
        assert_eq!(s.start_monotonic_usec, Some(3_605_000_000));
        assert_eq!(parse_show("MainPID=0\n").main_pid, None);
    }

    #[test]
    fn journal_lines() {
        let line = |usec: u64, msg: &str| {
            serde_json::json!({ "__REALTIME_TIMESTAMP": usec.to_string(), "MESSAGE": msg, "_PID": "1" })
                .to_string()
        };
        let t = 1_772_186_400_000_000;
        let kill = parse_journal_line(&line(
            t,
            "crypto-bot.service: A process of this unit has been killed by the OOM killer.",
        ))
        .unwrap();
        assert_eq!(kill.kind, UnitEventKind::OomKilled);
        assert_eq!(kill.time.timestamp_micros(), t as i64);
        assert_eq!(
            parse_journal_line(&line(
                t,
                "crypto-bot.service: Failed with result 'oom-kill'."
            ))
            .unwrap()
            .kind,
            UnitEventKind::FailedOomKill
        );
        assert_eq!(
            parse_journal_line(&line(
                t,
                "crypto-bot.service: Scheduled restart job, restart counter is at 3."
            ))
            .unwrap()
            .kind,
            UnitEventKind::Restart { counter: 3 }
        );
        assert_eq!(parse_journal_line(&line(t, "bot: fetched 12 prices")), None);
        assert_eq!(parse_journal_line("not json"), None);
        // A message journald stored as bytes.
        let bytes: Vec<u8> = b"x.service: Failed with result 'oom-kill'. \xff".to_vec();
        let raw = serde_json::json!({ "__REALTIME_TIMESTAMP": "1", "MESSAGE": bytes }).to_string();
        assert_eq!(
            parse_journal_line(&raw).unwrap().kind,
            UnitEventKind::FailedOomKill
        );
    }
}
