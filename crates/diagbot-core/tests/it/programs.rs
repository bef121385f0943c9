//! Logs written by real programs (`testdata/programs`, see its README): every
//! line's time and level as diagbot reads them, against what the program
//! meant.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset};
use diagbot_core::logs::explain::explain_lines;
use diagbot_core::logs::level::Level;

fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/programs")
}

/// A program's own name for a level, as diagbot ranks it.
fn level(stated: &str) -> Option<Level> {
    Some(match stated {
        "-" => return None,
        "emerg" | "alert" | "crit" | "fatal" | "panic" => Level::Fatal,
        "err" | "error" => Level::Error,
        "warn" | "warning" => Level::Warning,
        "info" | "notice" | "log" => Level::Info,
        // Redis's verbose stands between its debug and notice.
        "debug" | "verbose" => Level::Debug,
        other => panic!("a truth file states an unknown level: {other}"),
    })
}

struct Truth {
    line: u64,
    time: Option<DateTime<FixedOffset>>,
    level: Option<Level>,
}

fn truth(path: &Path) -> Vec<Truth> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            Truth {
                line: cols[0].parse().unwrap(),
                time: (cols[1] != "-").then(|| DateTime::parse_from_rfc3339(cols[1]).unwrap()),
                level: level(cols[2]),
            }
        })
        .collect()
}

#[test]
fn every_line_of_real_programs_gets_its_time_and_level() {
    let mut failures = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(programs()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        files += 1;
        let text = std::fs::read(&path).unwrap();
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        let lines = &lines[..lines.len() - usize::from(text.ends_with(b"\n"))];
        let rows = truth(&path.with_extension("truth.tsv"));
        assert_eq!(rows.len(), lines.len(), "{}", path.display());
        // Written an hour after its last line (a year-less time is read as
        // the latest year that is not after the file's last write).
        let last = rows.iter().filter_map(|r| r.time).max();
        let modified = last.map_or(SystemTime::now(), |t| {
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(t.timestamp()).unwrap() + 3600)
        });
        let read = explain_lines(&path, lines, &[], modified).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        for (row, got) in rows.iter().zip(&read.lines) {
            let text = String::from_utf8_lossy(lines[row.line as usize - 1]);
            let own_time = got.timestamp.filter(|_| got.inherits_from.is_none());
            // A zone name with several meanings (IST: India, Israel or
            // Ireland) cannot be read from the line: its wall-clock time is.
            let ambiguous = ["IST", "CST", "BST", "AST"]
                .iter()
                .any(|z| text.contains(&format!(" {z} ")));
            let same = if ambiguous {
                own_time.map(|t| t.naive_local()) == row.time.map(|t| t.naive_local())
            } else {
                own_time == row.time
            };
            if !same {
                failures.push(format!(
                    "{name}:{} time {own_time:?}, meant {:?}\n    {text}",
                    row.line, row.time
                ));
            }
            if got.level != row.level {
                failures.push(format!(
                    "{name}:{} level {:?}, meant {:?}\n    {text}",
                    row.line, got.level, row.level
                ));
            }
        }
    }
    assert!(files >= 10, "the real programs' logs are missing");
    assert!(
        failures.is_empty(),
        "{} lines read otherwise than meant:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
