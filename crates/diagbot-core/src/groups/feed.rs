//! Reading a query's files into a grouper, with the engine's own parts:
//! the same walk (each file opened once, as a search opens it: no symlink
//! followed, regular files only), each file's timestamp format learned
//! from its first lines as a search learns it, chunked reads (`pread`, `.gz`
//! through a decoder) and each line's time and level read with
//! [`TimeReader`].
//!
//! Files are read one after another, in the walk's order, on the calling
//! thread: Drain's groups depend on the order of the lines, and a fixed order
//! gives the same groups (and ids) in every run.
//!
//! A line without a timestamp of its own, in a file whose lines have one, is
//! a continuation of the line above (a traceback's `File …` lines): it joins
//! that line's event. The event's level is its first line's: a `WARNING`
//! line followed by a traceback is a warning (the code chose to log it so).
//! An error marker (`Traceback (most recent call last):`, a panic) below an
//! event under warning level, or without a level, starts an error event of
//! its own: a crash the service's stderr wrote between its log lines. So
//! `groups` and `errors` see the same events.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};

use chrono::{DateTime, FixedOffset};

use super::answer::{summarize, Assigned, GroupsResult, OtherSummary};
use super::drain::{Grouper, GrouperOptions, LogEntry, Steps, MAX_STEPS};
use super::message::message_span;
use super::{GroupsQuery, LevelFilter};
use crate::engine::{lines_warning, nothing_opened, window_of, Progress, SearchError};
use crate::logs::cancel::{Cancel, Cancellable};
use crate::logs::format::{FileFormat, LineHead, TimeReader};
use crate::logs::learn::learn_file;
use crate::logs::level::Level;
use crate::logs::lines::Splitter;
use crate::logs::open::OpenedFile;
use crate::logs::read::{for_each_chunk, Counted, ReadAt};
use crate::logs::scan::{continues_event, Window};
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::{CompiledUserFormat, UserFormat};
use crate::logs::walk::{walk, LogFile, Visit};
use crate::query::{FileWarning, Skipped};

/// The bytes of an event's first line kept until the event is grouped: far
/// more than a header and a cut template need.
const KEPT_LINE: usize = 8 << 10;

/// Groups the lines of `query`'s files; `now` ends relative windows and
/// `progress` hears of the bytes read.
pub fn run(
    query: &GroupsQuery,
    now: DateTime<FixedOffset>,
    progress: Progress<'_>,
) -> Result<GroupsResult, SearchError> {
    run_with(query, now, progress, &Cancel::new())
}

/// As [`run`], stopped (with [`SearchError::Cancelled`]) when `cancel` is
/// set: the files' reads check it every chunk.
pub fn run_with(
    query: &GroupsQuery,
    now: DateTime<FixedOffset>,
    progress: Progress<'_>,
    cancel: &Cancel,
) -> Result<GroupsResult, SearchError> {
    let formats = query
        .formats
        .iter()
        .map(UserFormat::compile)
        .collect::<Result<Vec<_>, _>>()?;
    if query.paths.is_empty() && query.journal.is_empty() {
        return Err(SearchError::NoPaths);
    }
    let window = window_of(&query.since, &query.until, now)?;
    let steps = steps_of(query.step, window, now);
    let mut grouper = Grouper::new(GrouperOptions {
        max_groups: query.max_groups,
        steps,
        ..GrouperOptions::default()
    });
    let mut paths: Vec<String> = Vec::new();
    let mut feed = Feed {
        grouper: &mut grouper,
        level: query.level,
        window,
        assign: query.assign,
        assigned: Vec::new(),
        considered: 0,
        touched: None,
    };
    let mut result = empty_result(steps);
    let mut noted = Vec::new();
    let report = walk(
        &query.paths,
        &query.anchors,
        // Drain's groups depend on the lines' order: always the same one.
        Visit::OPEN_BY_PATH,
        cancel,
        |file, opened| {
            let Some(opened) = opened else { return };
            let index = paths.len();
            let path = file.path.display().to_string();
            paths.push(path.clone());
            let reading = Reading {
                formats: &formats,
                max_decompressed: query.max_decompressed,
                cancel,
            };
            match feed.file(index as u32, file, opened, reading, progress) {
                Ok(read) => {
                    result.files_searched += 1;
                    result.bytes_scanned += read.bytes;
                    result.lines_read += read.lines;
                    if !window.is_open() {
                        result.warnings.extend(warning(&path, &read));
                    }
                    if let Some(reason) = read.note {
                        noted.push(Skipped { path, reason });
                    }
                }
                Err(reason) => noted.push(Skipped { path, reason }),
            }
        },
    );
    if cancel.is_cancelled() {
        return Err(SearchError::Cancelled);
    }
    if !query.journal.is_empty() {
        let index = paths.len() as u32;
        match feed.journal(index, query, cancel) {
            Ok(read) => {
                paths.push(read.name);
                result.files_searched += 1;
                result.bytes_scanned += read.bytes;
                result.lines_read += read.entries;
                noted.extend(read.note.map(|reason| Skipped {
                    path: paths[index as usize].clone(),
                    reason,
                }));
            }
            Err(crate::journal::JournalError::Cancelled) => return Err(SearchError::Cancelled),
            Err(e) if query.paths.is_empty() => return Err(SearchError::Journal(e)),
            Err(e) => noted.push(Skipped {
                path: "journal".into(),
                reason: e.to_string(),
            }),
        }
    }
    if !query.paths.is_empty() {
        if let Some(e) = nothing_opened(&report) {
            return Err(e);
        }
    }
    let mut skipped = report.skipped;
    skipped.extend(noted);
    let (assigned, considered) = (std::mem::take(&mut feed.assigned), feed.considered);
    result.skipped = skipped;
    result.lines_considered = considered;
    fill_groups(&mut result, &grouper, paths, assigned);
    Ok(result)
}

/// An answer before anything is read.
fn empty_result(steps: Option<Steps>) -> GroupsResult {
    GroupsResult {
        groups: Vec::new(),
        other: None,
        lines_considered: 0,
        lines_read: 0,
        files_searched: 0,
        bytes_scanned: 0,
        skipped: Vec::new(),
        warnings: Vec::new(),
        heap_bytes: 0,
        steps,
        paths: Vec::new(),
        assigned: Vec::new(),
    }
}

/// The grouper's groups (and "other") into `result`, with each assigned
/// line's group by its id.
fn fill_groups(
    result: &mut GroupsResult,
    grouper: &Grouper,
    paths: Vec<String>,
    assigned: Vec<(Assigned, u32)>,
) {
    let (groups, by_serial) = summarize(grouper, &paths, result.steps.as_ref());
    result.assigned = assigned
        .into_iter()
        .map(|(a, serial)| Assigned {
            group: by_serial
                .binary_search_by_key(&serial, |(s, _)| *s)
                .ok()
                .map(|i| by_serial[i].1),
            ..a
        })
        .collect();
    let other = grouper.other();
    result.other = (other.groups > 0).then_some(OtherSummary {
        groups: other.groups,
        count: other.count,
        first_seen: other.first_seen,
        last_seen: other.last_seen,
    });
    result.groups = groups;
    result.heap_bytes = grouper.heap_size() as u64;
    result.paths = paths;
}

/// Steps of `step` seconds from the window's start to its end (now when
/// open), the last one cut short; none without a step or a start.
fn steps_of(step: Option<u64>, window: Window, now: DateTime<FixedOffset>) -> Option<Steps> {
    let seconds = step?.max(1);
    let since = window.since?;
    let until = window.until.unwrap_or(now.timestamp_millis());
    Some(Steps {
        start: since.div_euclid(1000),
        seconds,
        len: Steps::needed(since, until, seconds).min(u64::from(MAX_STEPS)) as u32,
    })
}

/// What reading one file gave.
struct FileRead {
    bytes: u64,
    lines: u64,
    timed: u64,
    note: Option<String>,
}

/// Warns when a time window cannot place a file's lines (as a search does).
fn warning(path: &str, read: &FileRead) -> Option<FileWarning> {
    lines_warning(path, read.lines, read.timed)
}

/// What reading the journal gave.
struct JournalRead {
    name: String,
    bytes: u64,
    entries: u64,
    note: Option<String>,
}

impl Feed<'_> {
    /// Groups the journal's entries `query` asks for, each one event, as
    /// the `index`th source.
    fn journal(
        &mut self,
        index: u32,
        query: &GroupsQuery,
        cancel: &Cancel,
    ) -> Result<JournalRead, crate::journal::JournalError> {
        let Some(source) = &query.journal_source else {
            return Err(crate::journal::JournalError::NotAvailable(
                "the journal is not read here: [journal] enabled = false".into(),
            ));
        };
        let request = crate::journal::Request {
            units: query.journal.units.clone(),
            since_us: self.window.since.map(|ms| ms.saturating_mul(1000)),
            until_us: self.window.until.map(|ms| ms.saturating_mul(1000) + 999),
            grep: None,
            after_cursor: None,
        };
        let summary = source.read(&request, KEPT_LINE, cancel, |entry| {
            self.entry(index, &entry);
            std::ops::ControlFlow::Continue(())
        })?;
        Ok(JournalRead {
            name: source.name(),
            bytes: summary.bytes,
            entries: summary.entries,
            note: summary.note,
        })
    }

    /// Groups one journal entry, at the filter's level: its template is made
    /// of its message (a traceback's, of its exception line).
    fn entry(&mut self, index: u32, entry: &crate::journal::Entry) {
        let level = entry.level();
        if !self.level.admits(level) {
            return;
        }
        let time = entry.time();
        let message = super::message::record_message(&entry.message);
        let serial = self.grouper.add(&LogEntry {
            message,
            line: &entry.message,
            level,
            time,
            file: index,
        });
        self.considered += 1;
        if let Some(touched) = self.touched.as_deref_mut() {
            *touched.entry(serial).or_default() += 1;
        }
    }
}

/// What all files are read into.
struct Feed<'g> {
    grouper: &'g mut Grouper,
    level: LevelFilter,
    window: Window,
    assign: bool,
    /// Runs of lines with their group's serial (with `assign`).
    assigned: Vec<(Assigned, u32)>,
    considered: u64,
    /// Events added per group serial (for a caller that asks what a read brought).
    touched: Option<&'g mut HashMap<u32, u64>>,
}

/// The event being read: its first line, until the next line with a timestamp.
struct Pending {
    line: Vec<u8>,
    head: LineHead,
    first_line: u64,
    lines: u32,
    level: Option<Level>,
    time: Option<DateTime<FixedOffset>>,
    /// At the feed's level and in its window: grouped when it ends.
    admitted: bool,
    /// For a bare traceback (no line of the service's above it): its
    /// exception line so far, which its template is made of.
    exception: Option<Vec<u8>>,
}

impl Feed<'_> {
    /// Groups the lines of `opened` (the file the walk opened and checked);
    /// a `.gz` is decompressed to at most `max_decompressed` bytes.
    fn file(
        &mut self,
        index: u32,
        file: &LogFile,
        opened: OpenedFile,
        reading: Reading<'_>,
        progress: Progress<'_>,
    ) -> Result<FileRead, String> {
        let Reading {
            formats,
            max_decompressed,
            cancel,
        } = reading;
        let (handle, size) = (opened.file, opened.size);
        let hint =
            YearHint::from_system_time(opened.modified.unwrap_or_else(std::time::SystemTime::now));
        let learned = learn_file(file, &handle, size, (formats, hint), true);
        let times = TimeReader::new(&learned.format, formats, hint);
        let mut lines = FileLines {
            feed: self,
            times,
            file: index,
            continues: learned.format != FileFormat::Unknown,
            number: 0,
            timed: 0,
            last_time: None,
            pending: None,
            spare: Vec::new(),
            skip_leading: false,
        };
        let mut splitter = Splitter::default();
        let reader = Counted::new(ReadAt::new(&handle, 0).take(size), progress);
        let reader = Cancellable::new(reader, cancel);
        let outcome = if file.compressed {
            let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(reader));
            let bounded = decoder.take(max_decompressed);
            for_each_chunk(bounded, |c| splitter.feed(c, &mut |l, _| lines.line(l)))
        } else {
            for_each_chunk(reader, |c| splitter.feed(c, &mut |l, _| lines.line(l)))
        };
        splitter.finish(&mut |l, _| lines.line(l));
        lines.flush();
        let cut = file.compressed && splitter.bytes >= max_decompressed;
        let note = match outcome {
            Err(e) => Some(format!("read failed: {e}; grouped what was read before")),
            Ok(()) if cut => Some(format!(
                "decompressed to the limit of {max_decompressed} bytes (logs.max_decompressed); grouped what was read"
            )),
            Ok(()) => None,
        };
        Ok(FileRead {
            bytes: splitter.bytes,
            lines: lines.number,
            timed: lines.timed,
            note,
        })
    }
}

/// One file's lines, as they come.
struct FileLines<'f, 'g, 't> {
    feed: &'f mut Feed<'g>,
    times: TimeReader<'t>,
    file: u32,
    /// Lines without a timestamp continue the line above (the file has timestamps).
    continues: bool,
    number: u64,
    timed: u64,
    last_time: Option<DateTime<FixedOffset>>,
    pending: Option<Pending>,
    /// The buffer of the last event grouped, reused for the next.
    spare: Vec<u8>,
    /// Continuation lines before the first line with a timestamp are dropped
    /// (a read resumed mid-file: they belong to an event already grouped).
    skip_leading: bool,
}

impl FileLines<'_, '_, '_> {
    fn line(&mut self, line: &[u8]) {
        self.number += 1;
        let head = self.times.read(line);
        let own = head.time.and_then(|t| t.time.to_datetime());
        if own.is_some() {
            self.last_time = own;
            self.timed += 1;
        }
        if head.time.is_none() && self.continues {
            if let Some(p) = self
                .pending
                .as_mut()
                .filter(|p| continues_event(p.level, line))
            {
                p.lines += 1;
                let unindented = line.first().is_some_and(|b| !b.is_ascii_whitespace());
                if let Some(exception) = p.exception.as_mut().filter(|_| unindented) {
                    exception.clear();
                    exception.extend_from_slice(&line[..line.len().min(KEPT_LINE)]);
                }
                return;
            }
            if self.skip_leading {
                // A resumed read: the event these lines continue was grouped before.
                return;
            }
        }
        self.skip_leading = false;
        self.flush();
        let level = head.level(line);
        let admitted =
            self.feed.level.admits(level) && self.feed.window.contains(self.last_time.as_ref());
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        // Only an event that will be grouped keeps its text; the others are
        // followed only to know where they end.
        if admitted {
            buf.extend_from_slice(&line[..line.len().min(KEPT_LINE)]);
        }
        self.pending = Some(Pending {
            line: buf,
            head,
            first_line: self.number,
            lines: 1,
            level,
            time: self.last_time,
            admitted,
            exception: (admitted && super::message::is_bare_traceback(line)).then(Vec::new),
        });
    }

    /// Groups the pending event, if it is at the level and in the window.
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let feed = &mut *self.feed;
        if p.admitted {
            let leveled = p.level.is_some();
            let span = message_span(&p.line, &p.head, leveled);
            // A bare traceback is known by its exception, as Sentry groups.
            let (message, line) = match p.exception.as_deref().filter(|e| !e.is_empty()) {
                Some(exception) => (exception, exception),
                None => (&p.line[span], &p.line[..]),
            };
            let serial = feed.grouper.add(&LogEntry {
                message,
                line,
                level: p.level,
                time: p.time,
                file: self.file,
            });
            feed.considered += u64::from(p.lines);
            if let Some(touched) = feed.touched.as_deref_mut() {
                *touched.entry(serial).or_default() += 1;
            }
            if feed.assign {
                let run = Assigned {
                    file: self.file,
                    first_line: p.first_line,
                    lines: p.lines,
                    group: None,
                };
                feed.assigned.push((run, serial));
            }
        }
        self.spare = p.line;
    }
}

/// How a grouping reads each file: with the configured formats, a `.gz`
/// decompressed to at most `max_decompressed` bytes, stopped by `cancel`.
#[derive(Clone, Copy)]
struct Reading<'a> {
    formats: &'a [CompiledUserFormat],
    max_decompressed: u64,
    cancel: &'a Cancel,
}

/// Where a ranged read ([`read_range`]) reads and what it keeps.
pub struct RangeRead<'a> {
    /// The file, opened as the walk opens it.
    pub file: &'a File,
    /// From this offset (the start of a line) ...
    pub from: u64,
    /// ... to this one (just after a newline).
    pub to: u64,
    /// Reads each line's timestamp and level.
    pub times: TimeReader<'a>,
    /// Lines without a timestamp continue the line above (the file has timestamps).
    pub continues: bool,
    /// Which lines are grouped.
    pub level: LevelFilter,
    /// Stops the read at its next chunk.
    pub cancel: &'a Cancel,
}

/// What a ranged read gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RangeOutcome {
    /// Bytes read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines grouped (with their continuation lines).
    pub considered: u64,
}

/// Groups the lines of `read.from..read.to` of a plain file into `grouper`,
/// adding to `touched` how many events each group serial got: the daemon's
/// incremental read of what was appended. Continuation lines at the start
/// of a range that does not start the file are dropped: the event they
/// continue was grouped by the read before.
pub fn read_range(
    grouper: &mut Grouper,
    read: &RangeRead<'_>,
    touched: &mut HashMap<u32, u64>,
) -> std::io::Result<RangeOutcome> {
    let mut feed = Feed {
        grouper,
        level: read.level,
        window: Window::default(),
        assign: false,
        assigned: Vec::new(),
        considered: 0,
        touched: Some(touched),
    };
    let mut lines = FileLines {
        feed: &mut feed,
        times: read.times,
        file: 0,
        continues: read.continues,
        number: 0,
        timed: 0,
        last_time: None,
        pending: None,
        spare: Vec::new(),
        skip_leading: read.from > 0,
    };
    let mut splitter = Splitter::default();
    let span = read.to.saturating_sub(read.from);
    let reader = Cancellable::new(ReadAt::new(read.file, read.from).take(span), read.cancel);
    let outcome = for_each_chunk(reader, |c| splitter.feed(c, &mut |l, _| lines.line(l)));
    splitter.finish(&mut |l, _| lines.line(l));
    lines.flush();
    let number = lines.number;
    outcome?;
    Ok(RangeOutcome {
        bytes: splitter.bytes,
        lines: number,
        considered: feed.considered,
    })
}

/// Groups at most `max` of the journal entries `request` selects into
/// `grouper` at `level`, adding to `touched` how many events each group
/// serial got: the daemon's incremental read of a unit's journal.
/// `seen` hears each entry's receive time (µs), whether grouped or not.
pub fn read_journal_timed(
    grouper: &mut Grouper,
    source: &crate::journal::Journal,
    request: &crate::journal::Request,
    (level, max): (LevelFilter, u64),
    cancel: &Cancel,
    touched: &mut HashMap<u32, u64>,
    seen: &mut dyn FnMut(Option<i64>),
) -> Result<crate::journal::ReadSummary, crate::journal::JournalError> {
    let mut feed = Feed {
        grouper,
        level,
        window: Window::default(),
        assign: false,
        assigned: Vec::new(),
        considered: 0,
        touched: Some(touched),
    };
    let mut left = max;
    source.read(request, KEPT_LINE, cancel, |entry| {
        seen(entry.realtime_us);
        feed.entry(0, &entry);
        left -= 1;
        if left == 0 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_a_step_each_group_counts_its_lines_in_each_step_of_the_range() {
        use crate::when::TimeBound;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        std::fs::write(
            &log,
            "2026-11-29T09:00:00Z ERROR disk full on /dev/sda1\n\
             2026-11-29T10:05:00Z ERROR disk full on /dev/sda1\n\
             2026-11-29T10:40:00Z ERROR disk full on /dev/sdb2\n\
             2026-11-29T11:10:00Z WARNING slow request 120 ms\n\
             2026-11-29T11:30:00Z ERROR disk full on /dev/sda1\n\
             2026-11-29T12:59:59Z ERROR disk full on /dev/sda1\n",
        )
        .unwrap();
        let mut query = GroupsQuery::new(vec![log]);
        query.since = Some(TimeBound::parse("2026-11-29T10:00:00Z").unwrap());
        query.until = Some(TimeBound::parse("2026-11-29T13:00:00Z").unwrap());
        query.step = Some(3600);
        let now = DateTime::parse_from_rfc3339("2026-11-29T14:00:00Z").unwrap();
        let r = run(&query, now, &|_| {}).unwrap();
        let steps = r.steps.expect("steps");
        assert_eq!((steps.seconds, steps.len), (3600, 3));
        assert_eq!(steps.start, now.timestamp() - 4 * 3600);
        let counts: Vec<(&str, &[u32])> = r
            .groups
            .iter()
            .map(|g| (g.template.as_str(), g.counts.as_slice()))
            .collect();
        assert_eq!(
            counts,
            [
                ("disk full on <path>", &[2, 1, 1][..]),
                ("slow request <num> ms", &[0, 1, 0][..])
            ]
        );
        // Without a step, no counts and none in the JSON.
        query.step = None;
        let r = run(&query, now, &|_| {}).unwrap();
        assert!(r.steps.is_none() && r.groups.iter().all(|g| g.counts.is_empty()));
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains("counts") && !json.contains("steps"),
            "{json}"
        );
    }
}
