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

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::drain::{Group, Grouper, GrouperOptions};
use super::feed::{read_journal_timed, read_range, RangeRead};
use super::id::{group_hash, group_id};
use super::known::{KnownGroups, Seen, Sighting};
use super::LevelFilter;
use crate::engine::end_of_last_line;
use crate::logs::cancel::Cancel;
use crate::logs::follow::{next_read, Mark, NextRead};
use crate::logs::format::{FileFormat, TimeReader};
use crate::logs::learn::{learn_file, Learned};
use crate::logs::level::Level;
use crate::logs::open::{FileId, OpenedFile};
use crate::logs::tail::HeadHash;
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;
use crate::logs::walk::{walk, LogFile, Visit};
use crate::query::Skipped;

/// Groups named in a tick's [`TickReport::top`].
pub const TOP_GROUPS: usize = 3;

/// Groups each tick remembers for [`TickReport::top`] (its most frequent):
/// what a window's counts are summed from, bounded however many groups a
/// tick touches.
const RECENT_PER_TICK: usize = 64;

/// Ticks remembered for [`TickReport::top`], whatever the window.
const RECENT_TICKS: usize = 120;

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

impl JournalFollow {
    /// Follows `units` of `journal`, going on from where `before` stopped
    /// when it followed the same units.
    pub fn again(
        before: Option<JournalFollow>,
        (journal, units): (crate::journal::Journal, Vec<String>),
    ) -> Self {
        let (cursor, last_us) = match before {
            Some(j) if j.units == units => (j.cursor, j.last_us),
            _ => (None, None),
        };
        JournalFollow {
            journal,
            units,
            cursor,
            last_us,
        }
    }

    /// The request for the entries after the position: after the cursor,
    /// else from the last entry's time, else from `first_since_us`.
    pub fn request(&self, first_since_us: i64) -> crate::journal::Request {
        crate::journal::Request {
            units: self.units.clone(),
            after_cursor: self.cursor.clone(),
            since_us: self
                .cursor
                .is_none()
                .then(|| self.last_us.unwrap_or(first_since_us)),
            ..Default::default()
        }
    }

    /// Moves the position past a read whose last entry had `last_cursor`
    /// and `last_us` (a read of nothing leaves it).
    pub fn advance(&mut self, last_cursor: Option<String>, last_us: Option<i64>) {
        if last_cursor.is_some() {
            self.cursor = last_cursor;
            self.last_us = last_us.or(self.last_us);
        }
    }
}

/// Whether a read failed because its cursor is gone (vacuumed or rotated
/// away): then it is read again from the last entry's time.
pub fn cursor_gone<T>(outcome: &Result<T, crate::journal::JournalError>) -> bool {
    matches!(outcome, Err(crate::journal::JournalError::Failed(why)) if why.contains("cursor"))
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
    /// The most frequent groups of the last [`ErrorWatch::set_top_window`]
    /// (this tick's and the ones before within it): template and events, at
    /// most [`TOP_GROUPS`], largest first.
    pub top: Vec<(String, u64)>,
    /// Other groups seen within that window.
    pub top_more: u64,
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
    /// Each recent tick's time and its most frequent groups (serial, events).
    recent: VecDeque<(i64, Vec<(u32, u64)>)>,
    top_window_secs: i64,
    /// The settled format of each log path read (see [`inherit_header`]).
    headers: HashMap<PathBuf, Learned>,
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
            recent: VecDeque::new(),
            top_window_secs: 300,
            headers: HashMap::new(),
        }
    }

    /// The span [`TickReport::top`] counts over (an error burst's window);
    /// 5 minutes unless set.
    pub fn set_top_window(&mut self, secs: i64) {
        self.top_window_secs = secs.max(0);
    }

    /// Follows `units` of `journal` from the next tick on (`None`: no
    /// journal). The position is kept while the same units are followed.
    pub fn follow_journal(&mut self, follow: Option<(crate::journal::Journal, Vec<String>)>) {
        let before = self.journal.take();
        self.journal = follow.map(|follow| JournalFollow::again(before, follow));
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
            + self
                .recent
                .iter()
                .map(|(_, counts)| counts.capacity() * std::mem::size_of::<(u32, u64)>())
                .sum::<usize>()
            + self.recent.capacity() * std::mem::size_of::<(i64, Vec<(u32, u64)>)>()
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
        let walked = walk(paths, &[], Visit::OPEN_BY_PATH, cancel, |file, opened| {
            let Some(opened) = opened else { return };
            if file.compressed {
                return;
            }
            let id = opened.id;
            let prior = Prior {
                mark: self.files.remove(&id),
                at_path: self.headers.get(&file.path).cloned(),
            };
            let kept = prior.mark.clone();
            match read_appended(
                &mut self.grouper,
                file,
                opened,
                prior,
                (formats, cancel),
                &mut touched,
            ) {
                Ok((mark, bytes)) => {
                    report.bytes += bytes;
                    if has_header(&mark.learned) {
                        remember_header(&mut self.headers, &file.path, &mark.learned);
                    }
                    marks.insert(id, mark);
                }
                Err(e) => {
                    // Read again from the last good offset next time.
                    if let Some(p) = kept {
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
        // No position yet: the last quiet period is the baseline (or what
        // came after the last entry known).
        let first_since = (now_secs - quiet_secs).saturating_mul(1_000_000);
        let mut request = follow.request(first_since);
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
        if cursor_gone(&outcome) {
            let since = follow.last_us.unwrap_or(first_since);
            report.skipped.push(Skipped {
                path: follow.journal.name(),
                reason: format!(
                    "journal: the saved cursor is gone (vacuumed or rotated away); \
                         resumed from the last entry's time, {}",
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
                follow.advance(summary.last_cursor, last_us);
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
        for (&serial, &count) in touched {
            // Merged into "other" within this tick: too rare to be news.
            let Some(group) = live.get(&serial) else {
                continue;
            };
            let template = group.template();
            let id = group_hash(group.level, &template);
            let before = self.ids.insert(serial, id);
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
        // The baseline's counts span the logs' whole past, not the window.
        if !baseline {
            remember_recent(&mut self.recent, self.top_window_secs, touched, now_secs);
        }
        let (top, more) = self.recent_top(&live);
        report.top = top;
        report.top_more = more;
    }

    /// The window's most frequent live groups, and how many others it saw.
    fn recent_top(&self, live: &HashMap<u32, &Group>) -> (Vec<(String, u64)>, u64) {
        let mut sums: HashMap<u32, u64> = HashMap::new();
        for (_, counts) in &self.recent {
            for &(serial, n) in counts {
                *sums.entry(serial).or_default() += n;
            }
        }
        let mut top: Vec<(String, u64)> = sums
            .into_iter()
            .filter_map(|(serial, n)| live.get(&serial).map(|g| (g.template(), n)))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let more = top.len().saturating_sub(TOP_GROUPS) as u64;
        top.truncate(TOP_GROUPS);
        (top, more)
    }
}

/// Reads `opened` from where `prior` left it (or from 0: a new, truncated or
/// rewritten file) to its last complete line; returns its new mark and the bytes read.
fn read_appended(
    grouper: &mut Grouper,
    file: &LogFile,
    opened: OpenedFile,
    prior: Prior,
    (formats, cancel): (&[CompiledUserFormat], &Cancel),
    touched: &mut HashMap<u32, u64>,
) -> std::io::Result<(Mark, u64)> {
    let Prior {
        mark: prior,
        at_path,
    } = prior;
    let OpenedFile {
        file: handle,
        size,
        modified,
        ..
    } = opened;
    let hint = YearHint::from_system_time(modified.unwrap_or_else(SystemTime::now));
    let last = prior.as_ref().map(Mark::last_read);
    let learn = || {
        let learned = learn_file(file, &handle, size, (formats, hint), true);
        inherit_header(learned, at_path.as_ref())
    };
    let (from, learned) = match next_read(last, &handle, size, modified, learn) {
        NextRead::Unchanged => {
            let Some(p) = prior else {
                unreachable!("nothing is unchanged without a last read")
            };
            return Ok((p, 0));
        }
        NextRead::Read { from, learned, .. } => {
            // A file that only grew and whose format was learned again (its
            // header, once enough lines showed it) reads on from where it
            // stopped: the lines before were grouped, and alerted, already.
            let grown = prior
                .as_ref()
                .filter(|p| from == 0 && size >= p.offset && p.head.still_matches(&handle, size));
            (grown.map_or(from, |p| p.offset), learned)
        }
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

/// What the watch knew of a file before this read.
struct Prior {
    /// Its own last read, when it was read before.
    mark: Option<Mark>,
    /// The settled format of the file last at its path (before a rotation).
    at_path: Option<Learned>,
}

/// Settled formats kept by path: one per log a service writes, bounded
/// however many files its directories hold.
const HEADERS_KEPT: usize = 256;

fn has_header(learned: &Learned) -> bool {
    matches!(&learned.format, FileFormat::Builtin(b) if b.header.is_some())
}

fn remember_header(headers: &mut HashMap<PathBuf, Learned>, path: &Path, learned: &Learned) {
    if headers.len() >= HEADERS_KEPT && !headers.contains_key(path) {
        return;
    }
    headers.insert(path.to_path_buf(), learned.clone());
}

/// A new file at a rotated log's path has too few lines to learn its header
/// from; while its own lines show the same time format, it is read with the
/// header the file before it settled, so its templates are the ones the
/// service's errors already have (else each kind would be new again, once
/// with the header in its template and once without, at every rotation).
fn inherit_header(learned: Learned, before: Option<&Learned>) -> Learned {
    let (FileFormat::Builtin(now), Some(FileFormat::Builtin(then))) =
        (&learned.format, before.map(|b| &b.format))
    else {
        return learned;
    };
    let same_time =
        now.anchor == then.anchor && now.layout == then.layout && now.order == then.order;
    if learned.complete || now.header.is_some() || !same_time {
        return learned;
    }
    let mut format = *now;
    format.header = then.header;
    Learned {
        format: FileFormat::Builtin(format),
        ..learned
    }
}

/// Keeps this tick's most frequent groups, and forgets ticks past the window.
fn remember_recent(
    recent: &mut VecDeque<(i64, Vec<(u32, u64)>)>,
    window_secs: i64,
    touched: &HashMap<u32, u64>,
    now_secs: i64,
) {
    let mut counts: Vec<(u32, u64)> = touched.iter().map(|(&s, &n)| (s, n)).collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(RECENT_PER_TICK);
    recent.push_back((now_secs, counts));
    let oldest = now_secs - window_secs;
    while recent.len() > RECENT_TICKS || recent.front().is_some_and(|(t, _)| *t <= oldest) {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests;
