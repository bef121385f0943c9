//! New errors in one service's logs: each tick reads only what was appended
//! to its files since the last, groups the lines at error level or worse
//! (a traceback with the line that opened it) and says which groups are new
//! (never seen before) or back (seen, then silent for the quiet period).
//!
//! Files are followed as the engine's incremental refresh follows them
//! (see [`tail`](crate::logs::tail)): by `(device, inode)` checked against a
//! hash of their first bytes; unchanged size and mtime → skipped; grown →
//! read from the offset after the last complete line; shrunk or a changed
//! head (copytruncate, a rewrite) → read from 0; renamed (rotated) →
//! followed by identity. Each file is opened once per tick by the walk
//! (opening is the check). `.gz` files are not read: rotated files were
//! read while they were plain, and old rotations are history, not news.
//!
//! The first tick reads everything there is: the baseline, known without
//! an alert, so that a restart of diagbot does not alert on old errors.
//!
//! A service's unit journal is followed by its cursor ([`JournalFollow`]):
//! each tick reads the entries after it (at most [`JOURNAL_ENTRIES_PER_TICK`];
//! the rest on the next tick). Without a cursor, the first tick reads the
//! last quiet period's entries as the baseline; a cursor the journal no
//! longer has (vacuumed, rotated away) resumes from the time of the last
//! entry read, and the tick says so. The cursor and that time are what a
//! store keeps, so a restart neither reads again nor alerts again.
//!
//! The known groups ([`KnownGroups`]) are kept apart from the grouper, so
//! that a store can load and save them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use super::drain::{Grouper, GrouperOptions};
use super::feed::{read_journal_timed, read_range, RangeRead};
use super::id::{group_hash, group_id};
use super::known::{KnownGroups, Seen, Sighting};
use super::LevelFilter;
use crate::engine::end_of_last_line;
use crate::logs::cancel::Cancel;
use crate::logs::follow::{next_read, LastRead, NextRead};
use crate::logs::format::{FileFormat, TimeReader};
use crate::logs::learn::{learn_file, Learned};
use crate::logs::level::Level;
use crate::logs::open::{FileId, OpenedFile};
use crate::logs::tail::HeadHash;
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;
use crate::logs::walk::{walk, LogFile, Order};
use crate::query::Skipped;

/// Groups named in a tick's [`TickReport::top`].
pub const TOP_GROUPS: usize = 3;

/// The most journal entries one tick reads: a long silence or a flood is
/// caught up over several ticks, never in one unbounded read.
pub const JOURNAL_ENTRIES_PER_TICK: u64 = 50_000;

/// A unit journal a watch follows, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalFollow {
    /// Where the journal is.
    pub journal: crate::journal::Journal,
    /// The units whose entries are read (full names).
    pub units: Vec<String>,
    /// The cursor of the last entry read.
    pub cursor: Option<String>,
    /// The time of the last entry read (µs since the epoch): where a read
    /// resumes when the cursor is gone.
    pub last_us: Option<i64>,
}

/// What a service's watch has read of one file.
#[derive(Debug, Clone)]
struct Mark {
    head: HeadHash,
    /// Just after the last complete line read.
    offset: u64,
    size: u64,
    modified: Option<SystemTime>,
    learned: Learned,
}

/// A group a tick saw that is news: new, or back after the quiet period.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighted {
    /// The group's stable id.
    pub id: String,
    /// Its template.
    pub template: String,
    /// Its lines' level.
    pub level: Option<Level>,
    /// Its events in this tick.
    pub count: u64,
    /// Its newest line.
    pub example: String,
    /// `None`: new; else back after this many seconds without a line.
    pub back_after_secs: Option<i64>,
}

/// What one tick found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    /// This was the first tick: what it read is the baseline (nothing is news).
    pub baseline: bool,
    /// New groups and groups back, by id.
    pub sighted: Vec<Sighted>,
    /// The tick's most frequent groups: template and events (at most [`TOP_GROUPS`]).
    pub top: Vec<(String, u64)>,
    /// Bytes read.
    pub bytes: u64,
    /// Files not read, and why.
    pub skipped: Vec<Skipped>,
    /// Since the previous tick (what the counts of `sighted` span); `None` on the first.
    pub since_secs: Option<i64>,
}

/// Known group ids kept per service for each group the grouper keeps: a
/// group merged into "other" stays known (no alert when it returns).
pub const KNOWN_PER_GROUP: usize = 4;

/// One service's new-error watch: its files' offsets, its grouper and its known groups.
pub struct ErrorWatch {
    grouper: Grouper,
    known: KnownGroups,
    files: HashMap<FileId, Mark>,
    /// The id each live group had at its last sighting: a template that
    /// grows a variable gets a new id, and is not news for it.
    ids: HashMap<u32, u64>,
    max_groups: usize,
    ticks: u64,
    last_tick_secs: Option<i64>,
    journal: Option<JournalFollow>,
}

impl ErrorWatch {
    /// A watch keeping at most `max_groups` groups (and [`KNOWN_PER_GROUP`]
    /// times as many known ids).
    pub fn new(max_groups: usize) -> Self {
        let max_groups = max_groups.max(1);
        ErrorWatch {
            grouper: Grouper::new(GrouperOptions {
                max_groups,
                ..GrouperOptions::default()
            }),
            known: KnownGroups::new(max_groups.saturating_mul(KNOWN_PER_GROUP)),
            files: HashMap::new(),
            ids: HashMap::new(),
            max_groups,
            ticks: 0,
            last_tick_secs: None,
            journal: None,
        }
    }

    /// Follows `units` of `journal` from the next tick on (`None`: no
    /// journal). The position is kept while the same units are followed.
    pub fn follow_journal(&mut self, follow: Option<(crate::journal::Journal, Vec<String>)>) {
        self.journal = follow.map(|(journal, units)| {
            let (cursor, last_us) = match self.journal.take() {
                Some(j) if j.units == units => (j.cursor, j.last_us),
                _ => (None, None),
            };
            JournalFollow {
                journal,
                units,
                cursor,
                last_us,
            }
        });
    }

    /// Where the journal read stopped: a cursor and its entry's time, for a store.
    pub fn journal_position(&self) -> Option<(String, i64)> {
        let j = self.journal.as_ref()?;
        Some((j.cursor.clone()?, j.last_us.unwrap_or(0)))
    }

    /// Resumes the journal after `cursor` (its entry at `last_us`), as a
    /// store kept it: call after [`ErrorWatch::follow_journal`], before the first tick.
    pub fn resume_journal(&mut self, cursor: String, last_us: i64) {
        if let Some(j) = &mut self.journal {
            j.cursor = Some(cursor);
            j.last_us = Some(last_us);
        }
    }

    /// The known groups: where a store loads them before the first tick and
    /// takes what changed after each ([`KnownGroups::load`], [`KnownGroups::take_changes`]).
    pub fn known_mut(&mut self) -> &mut KnownGroups {
        &mut self.known
    }

    /// Ticks run so far.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Merges the least recently seen groups into "other" until the groups'
    /// heap ([`ErrorWatch::groups_heap_size`]) is at most `bytes` (or no
    /// group is left; what it knows stays known): returns how many merged.
    pub fn shrink_to(&mut self, bytes: usize) -> u64 {
        let merged = self.grouper.shrink_to(bytes);
        let live: std::collections::HashSet<u32> =
            self.grouper.groups().map(|g| g.serial).collect();
        self.ids.retain(|serial, _| live.contains(serial));
        merged
    }

    /// The heap bytes the groups hold (the grouper): what `groups.budget`
    /// bounds. The known ids are bounded by their count.
    pub fn groups_heap_size(&self) -> usize {
        self.grouper.heap_size()
    }

    /// The heap bytes held: the grouper, the known ids, the files' marks.
    pub fn heap_size(&self) -> usize {
        self.grouper.heap_size()
            + self.known.heap_size()
            + self.files.capacity() * (std::mem::size_of::<(FileId, Mark)>() + 1)
            + self.ids.capacity() * (std::mem::size_of::<(u32, u64)>() + 1)
    }

    /// Reads what was appended to the files under `paths` and groups its
    /// error lines; `now_secs` is the tick's time, `quiet_secs` the silence
    /// after which a known group is back. The first tick is the baseline.
    pub fn tick(
        &mut self,
        paths: &[PathBuf],
        formats: &[CompiledUserFormat],
        (now_secs, quiet_secs): (i64, i64),
        cancel: &Cancel,
    ) -> TickReport {
        let baseline = self.ticks == 0;
        self.ticks += 1;
        let mut report = TickReport {
            baseline,
            since_secs: self.last_tick_secs.map(|t| now_secs - t),
            ..TickReport::default()
        };
        self.last_tick_secs = Some(now_secs);
        let mut touched: HashMap<u32, u64> = HashMap::new();
        let mut marks: HashMap<FileId, Mark> = HashMap::with_capacity(self.files.len());
        let walked = walk(paths, &[], (true, Order::ByPath), cancel, |file, opened| {
            let Some(opened) = opened else { return };
            if file.compressed {
                return;
            }
            let id = opened.id;
            let prior = self.files.remove(&id);
            match read_appended(
                &mut self.grouper,
                file,
                opened,
                prior.clone(),
                formats,
                cancel,
                &mut touched,
            ) {
                Ok((mark, bytes)) => {
                    report.bytes += bytes;
                    marks.insert(id, mark);
                }
                Err(e) => {
                    // Read again from the last good offset next time.
                    if let Some(p) = prior {
                        marks.insert(id, p);
                    }
                    report.skipped.push(Skipped {
                        path: file.path.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        });
        report.skipped.extend(walked.skipped);
        // Files no longer under the paths are forgotten.
        self.files = marks;
        self.read_journal((now_secs, quiet_secs), cancel, &mut touched, &mut report);
        self.judge(&touched, baseline, (now_secs, quiet_secs), &mut report);
        if self.ids.len() > 2 * self.max_groups {
            let live = self.grouper.by_serial();
            self.ids.retain(|serial, _| live.contains_key(serial));
        }
        report
    }

    /// Reads the followed journal's entries after its cursor into the grouper.
    fn read_journal(
        &mut self,
        (now_secs, quiet_secs): (i64, i64),
        cancel: &Cancel,
        touched: &mut HashMap<u32, u64>,
        report: &mut TickReport,
    ) {
        let Some(follow) = &mut self.journal else {
            return;
        };
        let mut request = crate::journal::Request {
            units: follow.units.clone(),
            after_cursor: follow.cursor.clone(),
            ..Default::default()
        };
        if follow.cursor.is_none() {
            // No position yet: the last quiet period is the baseline (or
            // what came after the last entry known).
            let since = follow
                .last_us
                .unwrap_or((now_secs - quiet_secs).saturating_mul(1_000_000));
            request.since_us = Some(since);
        }
        let limits = (LevelFilter::AtLeast(Level::Error), JOURNAL_ENTRIES_PER_TICK);
        let mut last_us = None;
        let mut read = |grouper: &mut Grouper, request: &crate::journal::Request| {
            let mut seen = |t: Option<i64>| last_us = t.or(last_us);
            read_journal_timed(
                grouper,
                &follow.journal,
                request,
                limits,
                cancel,
                touched,
                &mut seen,
            )
        };
        let mut outcome = read(&mut self.grouper, &request);
        if matches!(&outcome, Err(crate::journal::JournalError::Failed(why)) if why.contains("cursor"))
        {
            let since = follow
                .last_us
                .unwrap_or((now_secs - quiet_secs) * 1_000_000);
            report.skipped.push(Skipped {
                path: follow.journal.name(),
                reason: format!(
                    "journal: the saved cursor is gone (vacuumed or rotated away);                      resumed from the last entry's time, {}",
                    chrono::DateTime::from_timestamp_micros(since)
                        .map_or(since.to_string(), |t| t.to_rfc3339())
                ),
            });
            request.after_cursor = None;
            request.since_us = Some(since);
            outcome = read(&mut self.grouper, &request);
        }
        match outcome {
            Ok(summary) => {
                report.bytes += summary.bytes;
                if summary.last_cursor.is_some() {
                    follow.cursor = summary.last_cursor;
                    follow.last_us = last_us.or(follow.last_us);
                }
                if let Some(note) = summary.note {
                    report.skipped.push(Skipped {
                        path: follow.journal.name(),
                        reason: note,
                    });
                }
            }
            Err(e) => report.skipped.push(Skipped {
                path: follow.journal.name(),
                reason: e.to_string(),
            }),
        }
    }

    /// Says which touched groups are news, and which were the most frequent.
    fn judge(
        &mut self,
        touched: &HashMap<u32, u64>,
        baseline: bool,
        (now_secs, quiet_secs): (i64, i64),
        report: &mut TickReport,
    ) {
        let live = self.grouper.by_serial();
        let mut top: Vec<(String, u64)> = Vec::new();
        for (&serial, &count) in touched {
            // Merged into "other" within this tick: too rare to be news.
            let Some(group) = live.get(&serial) else {
                continue;
            };
            let template = group.template();
            let id = group_hash(group.level, &template);
            let before = self.ids.insert(serial, id);
            top.push((template.clone(), count));
            let grew = before.is_some_and(|b| b != id && self.known.contains(b));
            if baseline || grew {
                // The lines' own times, if they have them: a group last seen
                // days ago in the baseline is back when it returns, and one
                // first seen days ago is not new to a store.
                let last = group
                    .last_seen
                    .map_or(now_secs, |t| t.timestamp().min(now_secs));
                let first = group.first_seen.map_or(last, |t| t.timestamp().min(last));
                self.known.remember_seen(
                    id,
                    Seen {
                        first_secs: first,
                        last_secs: last,
                    },
                );
                continue;
            }
            let back_after_secs = match self.known.see(id, now_secs, quiet_secs) {
                Sighting::New => None,
                Sighting::Back { silent_secs } => Some(silent_secs),
                Sighting::Known => continue,
            };
            report.sighted.push(Sighted {
                id: group_id(group.level, &template),
                template,
                level: group.level,
                count,
                example: String::from_utf8_lossy(&group.example).into_owned(),
                back_after_secs,
            });
        }
        report.sighted.sort_by(|a, b| a.id.cmp(&b.id));
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP_GROUPS);
        report.top = top;
    }
}

/// Reads `opened` from where `prior` left it (or from 0: a new, truncated or
/// rewritten file) to its last complete line; returns its new mark and the bytes read.
fn read_appended(
    grouper: &mut Grouper,
    file: &LogFile,
    opened: OpenedFile,
    prior: Option<Mark>,
    formats: &[CompiledUserFormat],
    cancel: &Cancel,
    touched: &mut HashMap<u32, u64>,
) -> std::io::Result<(Mark, u64)> {
    let OpenedFile {
        file: handle,
        size,
        modified,
        ..
    } = opened;
    let hint = YearHint::from_system_time(modified.unwrap_or_else(SystemTime::now));
    let last = prior.as_ref().map(|p| LastRead {
        head: &p.head,
        offset: p.offset,
        size: p.size,
        modified: p.modified,
        learned: &p.learned,
    });
    let learn = || learn_file(file, &handle, size, (formats, hint), true);
    let (from, learned) = match next_read(last, &handle, size, modified, learn) {
        NextRead::Unchanged => {
            let Some(p) = prior else {
                unreachable!("nothing is unchanged without a last read")
            };
            return Ok((p, 0));
        }
        NextRead::Read { from, learned, .. } => (from, learned),
    };
    let head = HeadHash::of(&handle, size)?;
    let to = end_of_last_line(&handle, from, size, cancel)?;
    let read = RangeRead {
        file: &handle,
        from,
        to,
        times: TimeReader::new(&learned.format, formats, hint),
        continues: learned.format != FileFormat::Unknown,
        level: LevelFilter::AtLeast(Level::Error),
        cancel,
    };
    let outcome = read_range(grouper, &read, touched)?;
    let mark = Mark {
        head,
        offset: to,
        size,
        modified,
        learned,
    };
    Ok((mark, outcome.bytes))
}

#[cfg(test)]
mod tests;
