//! Following a service's configured numbers (`numbers = [{ template = … }]`):
//! each tick reads what was appended to its log files since the last, and
//! the entries of its unit's journal after the last one read, and keeps
//! each number's latest value. The daemon makes them history series,
//! gauges and threshold alerts.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::SystemTime;

use super::numbers::template_and_values;
use crate::config::NumberWatch;
use crate::engine::end_of_last_line;
use crate::groups::message::message_span;
use crate::groups::watch::{cursor_gone, JournalFollow, JOURNAL_ENTRIES_PER_TICK};
use crate::journal::{Journal, Request};
use crate::logs::cancel::{Cancel, Cancellable};
use crate::logs::follow::{next_read, Mark, NextRead};
use crate::logs::format::TimeReader;
use crate::logs::learn::learn_file;
use crate::logs::lines::Splitter;
use crate::logs::open::FileId;
use crate::logs::read::{for_each_chunk, ReadAt};
use crate::logs::tail::HeadHash;
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;
use crate::logs::walk::{walk, Visit};

/// One number's latest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latest {
    /// The line's time (seconds since the epoch), or the read's when it had none.
    pub at_secs: f64,
    /// The value.
    pub value: f64,
}

/// One service's configured numbers, followed in its files.
#[derive(Default)]
pub struct NumberFollower {
    files: HashMap<FileId, Mark>,
    latest: HashMap<String, Latest>,
    /// The numbers past their threshold now.
    above: std::collections::HashSet<String>,
    journal: Option<JournalFollow>,
    /// Why the journal's last read failed, if it did.
    journal_problem: Option<String>,
    /// The last read stopped at [`JOURNAL_ENTRIES_PER_TICK`] with more to read.
    journal_behind: bool,
}

/// How far back the first read of a unit's journal goes (a file is read
/// whole the first time; a journal holds every unit's entries for weeks).
pub const FIRST_JOURNAL_SPAN_SECS: i64 = 24 * 3600;

impl NumberFollower {
    /// Whether number `name`, now `past` its threshold or not, just went
    /// past it (said once per crossing).
    pub fn crossed(&mut self, name: &str, past: bool) -> bool {
        if !past {
            self.above.remove(name);
            return false;
        }
        self.above.insert(name.to_string())
    }

    /// Follows `units` of `journal` from the next tick on (`None`: no
    /// journal). The position is kept while the same units are followed.
    pub fn follow_journal(&mut self, follow: Option<(Journal, Vec<String>)>) {
        let before = self.journal.take();
        self.journal = follow.map(|follow| JournalFollow::again(before, follow));
    }

    /// Why the last tick could not read the journal (it is read again, from
    /// where it stopped, at the next).
    pub fn journal_problem(&self) -> Option<&str> {
        self.journal_problem.as_deref()
    }

    /// Whether the last tick stopped reading the journal with entries left
    /// (a day's backlog at start, say): the values may be old ones, not
    /// the latest, until a tick reads to the end.
    pub fn journal_behind(&self) -> bool {
        self.journal_behind
    }

    /// Reads what was appended to the files under `paths` (and the followed
    /// journal) and returns each of `numbers`' latest value so far (by
    /// name), the ones not seen yet left out.
    pub fn tick(
        &mut self,
        paths: &[PathBuf],
        numbers: &[NumberWatch],
        formats: &[CompiledUserFormat],
        cancel: &Cancel,
    ) -> &HashMap<String, Latest> {
        if numbers.is_empty() {
            return &self.latest;
        }
        let mut marks: HashMap<FileId, Mark> = HashMap::with_capacity(self.files.len());
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        walk(paths, &[], Visit::OPEN_BY_PATH, cancel, |file, opened| {
            let Some(opened) = opened else { return };
            if file.compressed {
                return;
            }
            let id = opened.id;
            let prior = self.files.remove(&id);
            let (handle, size, modified) = (opened.file, opened.size, opened.modified);
            let hint = YearHint::from_system_time(modified.unwrap_or_else(SystemTime::now));
            let last = prior.as_ref().map(Mark::last_read);
            let learn = || learn_file(file, &handle, size, (formats, hint), true);
            let (from, learned) = match next_read(last, &handle, size, modified, learn) {
                NextRead::Unchanged => {
                    if let Some(p) = prior {
                        marks.insert(id, p);
                    }
                    return;
                }
                NextRead::Read { from, learned, .. } => (from, learned),
            };
            let (Ok(head), Ok(to)) = (
                HeadHash::of(&handle, size),
                end_of_last_line(&handle, from, size, cancel),
            ) else {
                return;
            };
            let times = TimeReader::new(&learned.format, formats, hint);
            let mut each = |line: &[u8], _: u64| {
                let head = times.read(line);
                let at = head
                    .time
                    .and_then(|t| t.time.to_datetime())
                    .map_or(now, |t| t.timestamp_micros() as f64 / 1e6);
                let leveled = head.level(line).is_some();
                let message = &line[message_span(line, &head, leveled)];
                note_values(&mut self.latest, numbers, message, at);
            };
            let mut splitter = Splitter::default();
            let reader = Cancellable::new(ReadAt::new(&handle, from).take(to - from), cancel);
            let read = for_each_chunk(reader, |c| splitter.feed(c, &mut each));
            splitter.finish(&mut each);
            if read.is_ok() {
                marks.insert(
                    id,
                    Mark {
                        head,
                        offset: to,
                        size,
                        modified,
                        learned,
                    },
                );
            }
        });
        // Files no longer under the paths are forgotten.
        self.files = marks;
        self.read_journal(numbers, formats, now, cancel);
        self.latest
            .retain(|name, _| numbers.iter().any(|n| &n.name == name));
        &self.latest
    }
}

impl NumberFollower {
    /// Reads the followed journal's entries after the last one read (at
    /// most [`JOURNAL_ENTRIES_PER_TICK`]; the first time, those of the last
    /// [`FIRST_JOURNAL_SPAN_SECS`]).
    fn read_journal(
        &mut self,
        numbers: &[NumberWatch],
        formats: &[CompiledUserFormat],
        now: f64,
        cancel: &Cancel,
    ) {
        self.journal_behind = false;
        let Some(follow) = &mut self.journal else {
            self.journal_problem = None;
            return;
        };
        let first_since = (now as i64 - FIRST_JOURNAL_SPAN_SECS).saturating_mul(1_000_000);
        let mut request = follow.request(first_since);
        let hint = YearHint::from_system_time(SystemTime::now());
        let mut last_us = None;
        let mut behind = false;
        let mut read = |latest: &mut HashMap<String, Latest>, request: &Request| {
            let mut left = JOURNAL_ENTRIES_PER_TICK;
            behind = false;
            follow
                .journal
                .read(request, super::scan::KEPT_MESSAGE, cancel, |entry| {
                    last_us = entry.realtime_us.or(last_us);
                    if let Some(at) = entry.time() {
                        let message = super::scan::entry_message(&entry.message, formats, hint);
                        note_values(latest, numbers, message, at.timestamp_micros() as f64 / 1e6);
                    }
                    left -= 1;
                    if left == 0 {
                        behind = true;
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
        };
        let mut outcome = read(&mut self.latest, &request);
        // A cursor vacuumed away: resumed from its entry's time.
        if cursor_gone(&outcome) {
            request.after_cursor = None;
            request.since_us = Some(follow.last_us.unwrap_or(first_since));
            outcome = read(&mut self.latest, &request);
        }
        self.journal_behind = behind;
        self.journal_problem = match outcome {
            Ok(summary) => {
                follow.advance(summary.last_cursor, last_us);
                summary.note
            }
            Err(e) => Some(e.to_string()),
        };
    }
}

/// Keeps the value of each of `numbers` that `message` (a line's message,
/// its header left out) holds, as of `at` (seconds since the epoch).
fn note_values(
    latest: &mut HashMap<String, Latest>,
    numbers: &[NumberWatch],
    message: &[u8],
    at: f64,
) {
    let Some((template, values)) = template_and_values(message) else {
        return;
    };
    for n in numbers {
        let Some(shift) = matches(&template, &n.template) else {
            continue;
        };
        // A number of 400 digits is infinite as a float: no value to chart or alert on.
        if let Some(Some(value)) = values
            .get(shift + usize::from(n.slot))
            .filter(|v| v.is_some_and(f64::is_finite))
        {
            latest.insert(
                n.name.clone(),
                Latest {
                    at_secs: at,
                    value: *value,
                },
            );
        }
    }
}

/// Whether a line's `template` is the configured one: the same, or ending
/// with it after a blank (a file too short to learn its header from keeps a
/// header field before its message: `bot: Cache size: <num> entries`). The
/// `<num>`s before it, which shift the slots.
fn matches(template: &str, wanted: &str) -> Option<usize> {
    if template == wanted {
        return Some(0);
    }
    let prefix = template.strip_suffix(wanted)?.strip_suffix(' ')?;
    Some(prefix.matches("<num>").count())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_latest_value_of_each_configured_number_is_kept_as_lines_come() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bot.log");
        let line = |s: &str| format!("2026-01-27 10:00:00,000 INFO bot: {s}\n");
        std::fs::write(
            &log,
            line("Cache size: 5 entries") + &line("Cache size: 7 entries"),
        )
        .unwrap();
        let numbers = [NumberWatch {
            name: "cache_size_entries".into(),
            template: "Cache size: <num> entries".into(),
            slot: 0,
            warn_above: Some(20.0),
        }];
        let mut f = NumberFollower::default();
        let paths = [dir.path().to_path_buf()];
        let got = f.tick(&paths, &numbers, &[], &Cancel::new()).clone();
        assert_eq!(got["cache_size_entries"].value, 7.0);
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(line("Cache size: 61 entries").as_bytes())
            .unwrap();
        file.write_all(line("processed 3 orders").as_bytes())
            .unwrap();
        // A line being written is read once it is whole.
        file.write_all(b"2026-01-27 10:00:01,000 INFO bot: Cache size: 99 ent")
            .unwrap();
        let got = f.tick(&paths, &numbers, &[], &Cancel::new()).clone();
        assert_eq!(got["cache_size_entries"].value, 61.0);
        file.write_all(b"ries\n").unwrap();
        let got = f.tick(&paths, &numbers, &[], &Cancel::new()).clone();
        assert_eq!(got["cache_size_entries"].value, 99.0);
    }
}
