//! Scanning one byte range of one file with ripgrep's searcher.
//!
//! A scan adds to a `FileTally`: match and level counts (lines without a
//! level as `unknown`), a ring of the last N matching lines, the number of
//! lines read (the base for line numbers when the next scan resumes at the
//! offset), the last timestamp seen (the time of continuation lines that
//! follow), and how many lines had a timestamp of their own (what a time
//! window's warnings are made of). Scanning `[0, a)` then `[a, b)` into the
//! same tally gives what scanning `[0, b)` gives: that is what makes refreshes
//! incremental. Timestamps are read with the file's learned format
//! (`ScanSpec::times`), levels from the header around them.
//!
//! Two ways through the searcher:
//! - fast: only matching lines reach the sink; a matching line without a
//!   timestamp gets the one above it later, by reading back from its offset.
//!   Used for plain files when the query has no time window.
//! - tracking: every line reaches the sink (passthru) so that the time of each
//!   line is known. Used for time windows and for compressed files (which
//!   cannot be read backwards).
//!
//! `errors` looks at every line and matches no pattern: its lines come from
//! the line splitter error groups read through ([`crate::logs::lines`]), and
//! it counts events ([`OpenEvent`]) by the same rule ([`continues_event`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use chrono::{DateTime, FixedOffset};
use grep_matcher::LineTerminator;
use grep_regex::RegexMatcher;
use grep_searcher::{
    BinaryDetection, MmapChoice, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch,
};

use crate::logs::format::TimeReader;
use crate::logs::level::Level;
use crate::logs::lines::Splitter;
use crate::logs::read::{for_each_chunk, MAX_LINE};
use crate::query::{LevelCounts, MAX_LINE_TEXT};

/// How far back a continuation line looks for the timestamp of the line above.
const TIMESTAMP_LOOKBACK: u64 = 256 << 10;

/// What a scan counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Lines matching the pattern.
    Matches,
    /// Every line by level; error lines are the matches.
    Levels,
}

/// A time window in milliseconds since the epoch, both ends inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Lines before this instant are outside.
    pub since: Option<i64>,
    /// Lines after this instant are outside.
    pub until: Option<i64>,
}

impl Window {
    /// Whether the window has neither end: every line is in it.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// A line with no known time is outside every window but the open one.
    pub fn contains(&self, ts: Option<&DateTime<FixedOffset>>) -> bool {
        if self.is_open() {
            return true;
        }
        let Some(ms) = ts.map(DateTime::timestamp_millis) else {
            return false;
        };
        self.since.is_none_or(|s| ms >= s) && self.until.is_none_or(|u| ms <= u)
    }
}

/// Everything a scan needs besides the bytes.
pub struct ScanSpec<'a> {
    /// The pattern (for `errors`, the error-level rule's).
    pub matcher: &'a RegexMatcher,
    /// Whether to count matching lines, or every line by level.
    pub counting: Counting,
    /// The lines to count.
    pub window: Window,
    /// How many of the last matching lines to keep.
    pub max_lines: usize,
    /// Keep `FileTally::lines` right even when no line numbers are shown
    /// (needed to resume a tail; costs a count of newlines).
    pub count_lines: bool,
    /// The file's timestamp format (learned from its first lines) and year hint.
    pub times: TimeReader<'a>,
}

impl ScanSpec<'_> {
    /// Whether every line must pass through the sink (see the module docs).
    pub fn tracks_every_line(&self, compressed: bool) -> bool {
        compressed || self.counting == Counting::Levels || !self.window.is_open()
    }
}

/// One kept matching line, before it is given its path.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptLine {
    /// Its number in the file, from 1.
    pub line_number: u64,
    /// Byte offset of the line in the file (decompressed for `.gz`).
    pub offset: u64,
    /// Its timestamp, or the last one above it.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// The line had no timestamp and the one above it is still to be looked up.
    pub timestamp_pending: bool,
    /// Its level, from the line's header.
    pub level: Option<Level>,
    /// The line, lossily decoded, cut to `MAX_LINE_TEXT` bytes.
    pub text: String,
    /// Whether `text` was cut.
    pub truncated: bool,
}

/// What scanning a file so far has found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTally {
    /// Matching lines.
    pub matches: u64,
    /// Lines by level (a `Levels` scan).
    pub levels: LevelCounts,
    /// The last matching lines, at most the spec's `max_lines`.
    pub ring: VecDeque<KeptLine>,
    /// Lines read so far: the next line's number is `lines + 1`.
    pub lines: u64,
    /// The last timestamp read: the time of the lines below it that have none.
    pub last_timestamp: Option<DateTime<FixedOffset>>,
    /// Lines over the line limit, whose tail was not searched.
    pub long_lines_cut: u64,
    /// Lines whose timestamp was looked for (every line of a tracking scan).
    pub checked_lines: u64,
    /// Of those, lines with a timestamp of their own: with `checked_lines`,
    /// what a time window's warnings say about a file.
    pub timed_lines: u64,
    /// The last event of a `Levels` scan, which lines without a timestamp
    /// below it continue (see [`OpenEvent`]).
    pub open_event: Option<OpenEvent>,
}

/// The event a `Levels` scan read last, still open to the lines below it
/// that have no timestamp of their own (a traceback, a stack trace, a
/// multi-line message): they are part of it, neither counted nor kept on
/// their own. An error event's shown text gains its exception line: the last
/// unindented line below its first continuation line (`ValueError: bad
/// input`, a Java `Caused by:`), which says what failed.
///
/// An error marker (`Traceback (most recent call last):`, a panic, `Exception
/// in thread`) below an event under warning level (or without a level)
/// starts an error event of its own: a crash that a service's stderr wrote
/// between its log lines, not something the line above chose to log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenEvent {
    /// Its level, from its first line.
    pub level: Option<Level>,
    /// It was counted (it is in the window).
    pub counted: bool,
    /// It is the ring's last line.
    pub kept: bool,
    /// Lines below it so far.
    pub continued: u32,
}

impl FileTally {
    /// An empty tally that goes on where `self` stopped: for the unfinished last line.
    pub fn continuation(&self) -> FileTally {
        FileTally {
            lines: self.lines,
            last_timestamp: self.last_timestamp,
            open_event: self.open_event,
            ..FileTally::default()
        }
    }

    /// Adds a tally of the bytes that follow this one's.
    pub fn extend(&mut self, later: &FileTally, max_lines: usize) {
        self.matches += later.matches;
        self.levels.add(&later.levels);
        self.ring.extend(later.ring.iter().cloned());
        while self.ring.len() > max_lines {
            self.ring.pop_front();
        }
        self.lines = later.lines;
        self.last_timestamp = later.last_timestamp.or(self.last_timestamp);
        self.long_lines_cut += later.long_lines_cut;
        self.checked_lines += later.checked_lines;
        self.timed_lines += later.timed_lines;
        self.open_event = later.open_event.or(self.open_event);
    }

    /// The heap bytes of the kept lines: a tally's weight in the tail store.
    pub fn heap_size(&self) -> usize {
        self.ring.capacity() * std::mem::size_of::<KeptLine>()
            + self.ring.iter().map(|l| l.text.capacity()).sum::<usize>()
    }
}

/// What one region scan read.
#[derive(Debug, Default)]
pub struct RegionRead {
    /// Bytes read (decompressed for `.gz`).
    pub bytes: u64,
}

/// Scans the lines of `reader` (a region starting at line `tally.lines + 1`,
/// byte `start_offset`) into `tally`. On a read error, `tally` keeps what was
/// read before it.
pub fn scan_region<R: Read>(
    spec: &ScanSpec<'_>,
    reader: R,
    start_offset: u64,
    compressed: bool,
    tally: &mut FileTally,
) -> io::Result<RegionRead> {
    if spec.counting == Counting::Levels {
        return scan_events(spec, reader, start_offset, tally);
    }
    let tracking = spec.tracks_every_line(compressed);
    // When every line reaches the sink, the sink numbers them: neither the
    // searcher nor the splitter needs to count line ends (a tenth of an
    // `errors` scan).
    let searcher = take_searcher(spec.max_lines > 0 && !tracking, tracking);
    let mut lines = LineSplitter {
        searcher,
        sink: TallySink {
            spec,
            tally,
            base_line: 0,
            start_offset: 0,
            tracking,
            seen: 0,
        },
        count_lines: (spec.max_lines > 0 || spec.count_lines) && !tracking,
        offset: start_offset,
        carry: Vec::new(),
        carry_offset: start_offset,
        carry_cut: false,
        bytes: 0,
    };
    lines.sink.base_line = lines.sink.tally.lines;
    let outcome = for_each_chunk(reader, |chunk| lines.feed(chunk));
    lines.finish();
    let bytes = lines.bytes;
    give_back_searcher(lines.searcher);
    outcome.map(|()| RegionRead { bytes })
}

/// Every line of the region, each event counted by level (`errors`): read
/// through the line splitter that error groups read through (every line is
/// looked at; there is no pattern to skip lines by, as a grep's searcher does).
fn scan_events<R: Read>(
    spec: &ScanSpec<'_>,
    reader: R,
    start_offset: u64,
    tally: &mut FileTally,
) -> io::Result<RegionRead> {
    let base_line = tally.lines;
    let mut sink = TallySink {
        spec,
        tally,
        base_line,
        start_offset,
        tracking: true,
        seen: 0,
    };
    let mut splitter = Splitter::at(start_offset);
    let mut number = base_line;
    let outcome = for_each_chunk(reader, |chunk| {
        splitter.feed(chunk, &mut |line, offset| {
            number += 1;
            sink.on_line(line, number, offset, true);
        });
    });
    // An unfinished last line is read but not counted among the lines: the
    // next read (or the scan of the rest) starts with it.
    splitter.finish(&mut |line, offset| sink.on_line(line, number + 1, offset, true));
    sink.tally.lines = number;
    sink.tally.long_lines_cut += splitter.long_lines_cut;
    outcome.map(|()| RegionRead {
        bytes: splitter.bytes,
    })
}

thread_local! {
    /// Searchers kept between scans, one per setting of (line numbers, passthru):
    /// each holds buffers of about 72 KiB that would otherwise be allocated and
    /// freed for every file, fragmenting a long-running daemon's heap.
    static SEARCHERS: std::cell::RefCell<[Option<Searcher>; 4]> = const { std::cell::RefCell::new([None, None, None, None]) };
}

fn searcher_slot(line_numbers: bool, passthru: bool) -> usize {
    usize::from(line_numbers) * 2 + usize::from(passthru)
}

fn take_searcher(line_numbers: bool, passthru: bool) -> Searcher {
    let kept = SEARCHERS.with(|s| s.borrow_mut()[searcher_slot(line_numbers, passthru)].take());
    kept.unwrap_or_else(|| {
        SearcherBuilder::new()
            .line_terminator(LineTerminator::byte(b'\n'))
            .memory_map(MmapChoice::never())
            // NUL bytes are ordinary bytes: a log with a NUL run (a crash) is still searched.
            .binary_detection(BinaryDetection::none())
            .line_number(line_numbers)
            .passthru(passthru)
            .build()
    })
}

fn give_back_searcher(searcher: Searcher) {
    let slot = searcher_slot(searcher.line_number(), searcher.passthru());
    SEARCHERS.with(|s| s.borrow_mut()[slot] = Some(searcher));
}

/// Cuts a stream of chunks into whole lines and searches them, chunk by chunk,
/// with the right line numbers and file offsets. A line split across chunks is
/// carried over; one longer than `MAX_LINE` is searched in its first `MAX_LINE` bytes.
struct LineSplitter<'s, 't> {
    searcher: Searcher,
    sink: TallySink<'s, 't>,
    count_lines: bool,
    /// File offset of the next byte fed.
    offset: u64,
    /// The start of a line not yet ended.
    carry: Vec<u8>,
    carry_offset: u64,
    /// The carried line passed `MAX_LINE` bytes; the rest of it is dropped.
    carry_cut: bool,
    bytes: u64,
}

impl LineSplitter<'_, '_> {
    fn feed(&mut self, chunk: &[u8]) {
        let chunk_offset = self.offset;
        self.offset += chunk.len() as u64;
        self.bytes += chunk.len() as u64;
        let mut body = chunk;
        let mut body_offset = chunk_offset;
        if !self.carry.is_empty() || self.carry_cut {
            let Some(newline) = memchr::memchr(b'\n', chunk) else {
                self.carry_more(chunk);
                return;
            };
            self.carry_more(&chunk[..newline]);
            self.carry.push(b'\n');
            let carried = std::mem::take(&mut self.carry);
            self.search(&carried, self.carry_offset, Some(1));
            self.carry = carried;
            self.carry.clear();
            self.carry_cut = false;
            body = &chunk[newline + 1..];
            body_offset = chunk_offset + newline as u64 + 1;
        }
        match memchr::memrchr(b'\n', body) {
            Some(last) => {
                let whole = &body[..=last];
                let newlines = if self.sink.tracking {
                    None // the sink counts them
                } else if self.count_lines {
                    Some(memchr::memchr_iter(b'\n', whole).count() as u64)
                } else {
                    Some(0)
                };
                self.search(whole, body_offset, newlines);
                self.carry.extend_from_slice(&body[last + 1..]);
                self.carry_offset = body_offset + last as u64 + 1;
            }
            None => {
                self.carry.extend_from_slice(body);
                self.carry_offset = body_offset;
            }
        }
    }

    /// Adds to the carried line, keeping at most `MAX_LINE` bytes of it.
    fn carry_more(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.carry.len());
        if bytes.len() > room && !self.carry_cut {
            self.carry_cut = true;
            self.sink.tally.long_lines_cut += 1;
        }
        self.carry
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Searches the unfinished last line, if any.
    fn finish(&mut self) {
        if !self.carry.is_empty() || self.carry_cut {
            let carried = std::mem::take(&mut self.carry);
            self.search(&carried, self.carry_offset, Some(0));
        }
    }

    /// Searches whole lines starting at `offset`, holding `newlines` line
    /// ends (`None`: as many as the lines the sink saw).
    fn search(&mut self, lines: &[u8], offset: u64, newlines: Option<u64>) {
        self.sink.start_offset = offset;
        self.sink.seen = 0;
        // The sink never fails: its error type is only there for the trait.
        let _ = self
            .searcher
            .search_slice(self.sink.spec.matcher, lines, &mut self.sink);
        self.sink.base_line += newlines.unwrap_or(self.sink.seen);
        self.sink.tally.lines = self.sink.base_line;
    }
}

struct TallySink<'s, 't> {
    spec: &'s ScanSpec<'s>,
    tally: &'t mut FileTally,
    base_line: u64,
    start_offset: u64,
    tracking: bool,
    /// Lines the current slice has passed to the sink (all of them when tracking).
    seen: u64,
}

impl TallySink<'_, '_> {
    /// The number of a line in the current slice, from 1: counted here when
    /// every line passes, else the searcher's.
    fn number(&mut self, searcher_number: Option<u64>) -> u64 {
        self.seen += 1;
        if self.tracking {
            self.seen
        } else {
            searcher_number.unwrap_or(0)
        }
    }

    /// Takes one line (without its line end).
    fn on_line(&mut self, line: &[u8], line_number: u64, offset: u64, is_match: bool) {
        let spec = self.spec;
        let mut timestamp = None;
        let mut head = None;
        if self.tracking {
            let read = spec.times.read(line);
            self.tally.checked_lines += 1;
            let own = read.time.and_then(|t| t.time.to_datetime());
            if let Some(t) = own {
                self.tally.last_timestamp = Some(t);
                self.tally.timed_lines += 1;
            }
            if spec.counting == Counting::Levels
                && spec.times.has_timestamps()
                && read.time.is_none()
                && self.continue_event(line)
            {
                return;
            }
            head = Some(read);
            timestamp = self.tally.last_timestamp;
            if !is_match || !spec.window.contains(timestamp.as_ref()) {
                return;
            }
        }
        let level = match spec.counting {
            Counting::Levels => {
                let read = head.get_or_insert_with(|| spec.times.read(line));
                let level = read.level(line);
                self.tally.levels.count(level);
                self.tally.open_event = Some(OpenEvent {
                    level,
                    counted: true,
                    ..OpenEvent::default()
                });
                if !level.is_some_and(Level::is_error) {
                    return;
                }
                level
            }
            // A grep's levels are its matching lines' (errors count every
            // line). A count alone reads no line's header, and stays as fast
            // as a count can be: its levels are not counted.
            Counting::Matches if spec.max_lines == 0 => None,
            Counting::Matches => {
                let level = head
                    .get_or_insert_with(|| spec.times.read(line))
                    .level(line);
                self.tally.levels.count(level);
                level
            }
        };
        self.tally.matches += 1;
        if spec.max_lines == 0 {
            return;
        }
        let head = head.unwrap_or_else(|| spec.times.read(line));
        let mut pending = false;
        if !self.tracking {
            timestamp = head.time.and_then(|t| t.time.to_datetime());
            pending = timestamp.is_none();
        }
        let cut = line.len().min(MAX_LINE_TEXT);
        self.tally.ring.push_back(KeptLine {
            line_number,
            offset,
            timestamp,
            timestamp_pending: pending,
            level: level.or_else(|| head.level(line)),
            text: String::from_utf8_lossy(&line[..cut]).into_owned(),
            truncated: cut < line.len(),
        });
        if self.tally.ring.len() > spec.max_lines {
            self.tally.ring.pop_front();
        }
        if let Some(open) = &mut self.tally.open_event {
            open.kept = true;
        }
    }

    /// Takes `line`, which has no timestamp of its own, into the open event
    /// (see [`OpenEvent`]); false when it starts an event of its own.
    fn continue_event(&mut self, line: &[u8]) -> bool {
        let Some(open) = &mut self.tally.open_event else {
            // Above the first event (a read resumed mid-event is not: its tally has it).
            return false;
        };
        if !continues_event(open.level, line) {
            return false;
        }
        open.continued = open.continued.saturating_add(1);
        let exception = open.counted
            && open.kept
            && open.continued > 1
            && line.first().is_some_and(|b| !b.is_ascii_whitespace());
        if exception {
            if let Some(kept) = self.tally.ring.back_mut() {
                with_exception_line(kept, line);
            }
        }
        true
    }
}

/// Whether `line`, which has no timestamp of its own, continues an event at
/// `level` (see [`OpenEvent`]): always, but for an error marker (a traceback,
/// a panic) below an event under warning level or without one. The one rule
/// of events, for `errors` and `groups` alike.
pub fn continues_event(level: Option<Level>, line: &[u8]) -> bool {
    level.is_some_and(|l| l <= Level::Warning)
        || crate::logs::level::structured::error_marker(line).is_none()
}

/// Shows `line` as the exception line of the kept event `kept`: after its
/// first line, in place of the one shown before; cut to `MAX_LINE_TEXT`.
fn with_exception_line(kept: &mut KeptLine, line: &[u8]) {
    let first = kept.text.find('\n').unwrap_or(kept.text.len());
    kept.text.truncate(first);
    let room = MAX_LINE_TEXT.saturating_sub(kept.text.len() + 1);
    if room == 0 {
        return;
    }
    let cut = line.len().min(room);
    kept.text.push('\n');
    kept.text.push_str(&String::from_utf8_lossy(&line[..cut]));
    kept.truncated |= cut < line.len();
}

impl Sink for TallySink<'_, '_> {
    type Error = io::Error;

    fn matched(&mut self, _: &Searcher, m: &SinkMatch<'_>) -> Result<bool, io::Error> {
        let line_number = self.base_line + self.number(m.line_number());
        let offset = self.start_offset + m.absolute_byte_offset();
        self.on_line(trim_newline(m.bytes()), line_number, offset, true);
        Ok(true)
    }

    fn context(&mut self, _: &Searcher, c: &SinkContext<'_>) -> Result<bool, io::Error> {
        let line_number = self.base_line + self.number(c.line_number());
        let offset = self.start_offset + c.absolute_byte_offset();
        self.on_line(trim_newline(c.bytes()), line_number, offset, false);
        Ok(true)
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Gives kept lines without a timestamp the time of the nearest line above that has one,
/// reading the file backwards from each line (at most `TIMESTAMP_LOOKBACK` bytes).
pub fn resolve_pending_timestamps(
    file: &File,
    times: &TimeReader<'_>,
    ring: &mut VecDeque<KeptLine>,
) {
    for kept in ring.iter_mut().filter(|k| k.timestamp_pending) {
        kept.timestamp = timestamp_above(file, times, kept.offset);
        kept.timestamp_pending = false;
    }
}

fn timestamp_above(
    file: &File,
    times: &TimeReader<'_>,
    offset: u64,
) -> Option<DateTime<FixedOffset>> {
    let mut span = 4096u64;
    loop {
        let start = offset.saturating_sub(span);
        let mut buf = vec![0u8; (offset - start) as usize];
        file.read_exact_at(&mut buf, start).ok()?;
        // Lines above, nearest first; the first one is whole only if the span reached byte 0.
        let mut end = buf.len();
        while let Some(nl) = memchr::memrchr(b'\n', &buf[..end.saturating_sub(1)]) {
            let line = &buf[nl + 1..end];
            if let Some(t) = times.instant(line) {
                return Some(t);
            }
            end = nl + 1;
        }
        if start == 0 {
            let line = &buf[..end];
            return times.instant(line);
        }
        if span >= TIMESTAMP_LOOKBACK {
            return None;
        }
        span *= 4;
    }
}
