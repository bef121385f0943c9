//! An incremental refresh must give exactly what a full rescan of the same
//! files gives, whatever happened to the files in between: appends, partial
//! last lines, rotation by rename, copytruncate, gzip of rotated files; and
//! whatever the files' formats, even while a short file's learned format
//! still changes as lines come in (day/month order, epochs after a prefix).
//! The warnings of time windows and the `unknown` level counts are part of
//! the answers compared.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, TimeZone};
use diagbot_core::engine::Engine;
use diagbot_core::logs::tail::TailLimits;
use diagbot_core::query::{GrepPattern, Query};
use diagbot_core::when::TimeBound;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    /// Lines of these kinds, each with the next sequence number.
    Append(Vec<u8>),
    /// A line of this kind without its newline.
    AppendPartial(u8),
    /// `app.log` → `app.log.1` (an older `.1` is gzipped first), new empty `app.log`.
    Rotate,
    /// Copy `app.log` aside and truncate it in place.
    CopyTruncate,
    /// Gzip `app.log.1` to `app.log.1.gz`.
    GzipRotated,
    /// Nothing changes.
    Nothing,
}

/// Kinds of lines `Logs::line` writes.
const KINDS: u8 = 8;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec(0u8..KINDS, 1..12).prop_map(Step::Append),
        2 => (0u8..KINDS).prop_map(Step::AppendPartial),
        1 => Just(Step::Rotate),
        1 => Just(Step::CopyTruncate),
        1 => Just(Step::GzipRotated),
        1 => Just(Step::Nothing),
    ]
}

struct Logs {
    dir: PathBuf,
    seq: u64,
    rotations: u64,
}

fn base_time() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 1, 27, 10, 0, 0)
        .unwrap()
}

impl Logs {
    fn line(&mut self, kind: u8) -> String {
        self.seq += 1;
        let n = self.seq;
        let ts =
            (base_time() + chrono::Duration::seconds(n as i64)).format("%Y-%m-%d %H:%M:%S,%3f");
        match kind {
            0 => format!("{ts} INFO worker {n} ok\n"),
            1 => format!("{ts} ERROR worker {n} failed\n"),
            2 => format!(
                "{ts} ERROR job {n} crashed\nTraceback (most recent call last):\n  File \"bot.py\", line {n}\nValueError: bad {n}\n"
            ),
            3 => {
                let t = base_time() + chrono::Duration::seconds(n as i64);
                format!("{} host app[1]: WARNING timeout {n}\n", t.format("%b %d %H:%M:%S"))
            }
            4 => format!("\0\0\0 ERROR junk {n}\n"),
            // Day first: the first days of the month read either way, so the
            // file's order (and format) may change as lines come in.
            6 => format!(
                "{:02}/01/2026 10:{:02}:{:02} ERROR worker {n} stuck\n",
                n % 28 + 1,
                n / 60 % 60,
                n % 60
            ),
            // An epoch after a dash, as Thunderbird writes it.
            7 => {
                let t = base_time() + chrono::Duration::seconds(n as i64);
                format!("- {} host app: Warning: slow {n}\n", t.timestamp())
            }
            _ => format!("continuation {n} without a time\n"),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("app.log")
    }

    fn append(&self, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn apply(&mut self, step: &Step) {
        match step {
            Step::Append(kinds) => {
                let text: String = kinds.iter().map(|&k| self.line(k)).collect();
                self.append(&text);
            }
            Step::AppendPartial(kind) => {
                let line = self.line(*kind);
                self.append(line.trim_end_matches('\n'));
            }
            Step::Rotate => {
                let one = self.dir.join("app.log.1");
                if one.exists() {
                    self.rotations += 1;
                    gzip(
                        &one,
                        &self.dir.join(format!("app.log.old{}.gz", self.rotations)),
                    );
                }
                if self.log().exists() {
                    fs::rename(self.log(), &one).unwrap();
                }
                File::create(self.log()).unwrap();
            }
            Step::CopyTruncate => {
                if self.log().exists() {
                    self.rotations += 1;
                    fs::copy(
                        self.log(),
                        self.dir.join(format!("app.log.ct{}", self.rotations)),
                    )
                    .unwrap();
                    OpenOptions::new()
                        .write(true)
                        .open(self.log())
                        .unwrap()
                        .set_len(0)
                        .unwrap();
                }
            }
            Step::GzipRotated => {
                let one = self.dir.join("app.log.1");
                if one.exists() {
                    gzip(&one, &self.dir.join("app.log.1.gz"));
                }
            }
            Step::Nothing => {}
        }
    }
}

fn gzip(from: &Path, to: &Path) {
    let data = fs::read(from).unwrap();
    let mut enc =
        flate2::write::GzEncoder::new(File::create(to).unwrap(), flate2::Compression::fast());
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
    fs::remove_file(from).unwrap();
}

fn queries(dir: &Path) -> Vec<Query> {
    let paths = vec![dir.to_path_buf()];
    let at = |secs: i64| TimeBound::At(base_time() + chrono::Duration::seconds(secs));
    let mut grep = Query::grep("ERROR|Traceback", paths.clone());
    grep.max_lines = 7;
    let mut counting = Query::grep("worker", paths.clone());
    counting.max_lines = 0;
    let mut windowed = Query::grep(
        GrepPattern::regex("error|timeout").ignore_case(true),
        paths.clone(),
    );
    windowed.since = Some(at(15));
    windowed.until = Some(at(60));
    windowed.max_lines = 5;
    let mut errors = Query::errors(paths.clone());
    errors.max_lines = 6;
    let mut errors_windowed = Query::errors(paths);
    errors_windowed.since = Some(at(20));
    errors_windowed.max_lines = 4;
    vec![grep, counting, windowed, errors, errors_windowed]
}

fn now() -> DateTime<FixedOffset> {
    chrono::Local::now().fixed_offset()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn incremental_refresh_equals_full_rescan(
        steps in prop::collection::vec((step(), any::<bool>()), 1..16)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut logs = Logs { dir: dir.path().to_path_buf(), seq: 0, rotations: 0 };
        let incremental = Engine::incremental(TailLimits::default());
        let queries = queries(dir.path());
        for (i, (step, refresh)) in steps.iter().enumerate() {
            logs.apply(step);
            // Several changes may land between two refreshes (a truncate, then
            // enough writes to pass the old offset), and the last step always refreshes.
            if !refresh && i + 1 < steps.len() {
                continue;
            }
            for q in &queries {
                let refreshed = incremental.search(q, now(), &|_| {}).unwrap();
                let full = Engine::one_shot().search(q, now(), &|_| {}).unwrap();
                prop_assert_eq!(
                    refreshed.without_costs(),
                    full.without_costs(),
                    "after step {} ({:?}) for {}", i, step, q.canonical()
                );
            }
        }
    }
}

#[test]
fn a_refresh_reads_only_appended_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Logs {
        dir: dir.path().to_path_buf(),
        seq: 0,
        rotations: 0,
    };
    let text: String = (0..5000).map(|i| logs.line((i % 3) as u8)).collect();
    logs.append(&text);
    let mut q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    q.max_lines = 10;
    let engine = Engine::incremental(TailLimits::default());
    let first = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(first.bytes_scanned, text.len() as u64);
    // Tails are kept from a query's second run on.
    assert_eq!(
        engine.tail_usage().0,
        0,
        "a one-off query left tails behind"
    );
    let second = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(second.bytes_scanned, text.len() as u64);
    assert_eq!(engine.tail_usage().0, 1);

    let unchanged = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(unchanged.bytes_scanned, 0);
    assert_eq!(unchanged.without_costs(), first.without_costs());

    let more: String = (0..10).map(|_| logs.line(1)).collect();
    logs.append(&more);
    let refreshed = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(refreshed.bytes_scanned, more.len() as u64);
    assert_eq!(refreshed.matches, first.matches + 10);
    let lines_before = text.lines().count() as u64;
    assert_eq!(
        refreshed.lines.last().unwrap().line_number,
        lines_before + 10
    );
}

#[test]
fn a_partial_last_line_is_searched_and_read_again_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs {
        dir: dir.path().to_path_buf(),
        seq: 0,
        rotations: 0,
    };
    logs.append("2026-01-27 10:00:00 INFO start\n2026-01-27 10:00:01 ERROR half");
    let mut q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    q.max_lines = 5;
    let engine = Engine::incremental(TailLimits::default());
    engine.search(&q, now(), &|_| {}).unwrap();
    let first = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(first.matches, 1);
    assert_eq!(first.lines[0].text, "2026-01-27 10:00:01 ERROR half");
    logs.append(" done\n");
    let second = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(second.matches, 1);
    assert_eq!(second.lines[0].text, "2026-01-27 10:00:01 ERROR half done");
    assert_eq!(
        second.bytes_scanned,
        "2026-01-27 10:00:01 ERROR half done\n".len() as u64
    );
}

#[test]
fn a_renamed_file_is_followed_not_reread() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs {
        dir: dir.path().to_path_buf(),
        seq: 0,
        rotations: 0,
    };
    let text = "2026-01-27 10:00:00 ERROR one\n".repeat(1000);
    logs.append(&text);
    let q = Query::grep("ERROR", vec![dir.path().to_path_buf()]);
    let engine = Engine::incremental(TailLimits::default());
    engine.search(&q, now(), &|_| {}).unwrap();
    engine.search(&q, now(), &|_| {}).unwrap();
    fs::rename(logs.log(), dir.path().join("app.log.1")).unwrap();
    logs.append("2026-01-27 10:00:01 ERROR two\n");
    let after = engine.search(&q, now(), &|_| {}).unwrap();
    assert_eq!(after.matches, 1001);
    assert_eq!(
        after.bytes_scanned,
        "2026-01-27 10:00:01 ERROR two\n".len() as u64
    );
    assert_eq!(after.files.len(), 2);
}
