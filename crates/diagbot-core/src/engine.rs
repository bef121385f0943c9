//! The search engine: turns a `Query` into a `SearchResult`, reading only what
//! changed since the query last ran when it keeps tails.

use std::fs::File;
use std::io::{BufReader, Read};
use std::num::NonZeroU64;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use rustix::fs::Advice;

use crate::logs::format::TimeReader;
use crate::logs::learn::{learn_from_reader, Learned};
use crate::logs::read::{Counted, ReadAt};
use crate::logs::scan::{
    resolve_pending_timestamps, scan_region, Counting, FileTally, KeptLine, ScanSpec, Window,
};
use crate::logs::split::{cut_points, join_part};
use crate::logs::tail::{FileTail, HeadHash, QueryTails, TailLimits, TailStore};
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::{CompiledUserFormat, UserFormat, UserFormatError};
use crate::logs::walk::{collect_files, identity, LogFile};
use crate::query::{
    FileMatches, FileWarning, MatchLine, Query, QueryKind, ResultKind, SearchResult, Skipped,
    TimestampProblem, MAX_LINES_LIMIT, MAX_PATTERN_LEN,
};
use crate::workers::{for_each_done, ScanThreads};

/// The compiled size a pattern may reach (the regex crate's own default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 2 << 20;

/// Why a search gave no answer: a mistake in the query, or nothing to read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// The pattern is not a regex the matcher accepts.
    #[error("invalid pattern {pattern:?}: {message}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// The matcher's reason.
        message: String,
    },
    /// The pattern is over `MAX_PATTERN_LEN` bytes.
    #[error("pattern is {len} bytes long; the limit is {MAX_PATTERN_LEN}")]
    PatternTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// More kept lines asked for than `MAX_LINES_LIMIT`.
    #[error("max_lines is {0}; the limit is {MAX_LINES_LIMIT}")]
    TooManyLines(usize),
    /// The query names no file or directory.
    #[error("no paths to search")]
    NoPaths,
    /// `--since` at or after `--until`: nothing could ever match, which is a mistake, not a quiet zero.
    #[error("the window is empty: since {since} is not before until {until}")]
    EmptyWindow {
        /// The window's start, as given.
        since: String,
        /// Its end, as given.
        until: String,
    },
    /// None of the paths exists or can be read: the first one's reason.
    #[error("nothing could be searched: {0}")]
    NothingSearchable(String),
    /// The scan could not go on (a worker thread failed).
    #[error("the scan failed: {0}")]
    ScanFailed(String),
    /// A user-defined format's pattern or regex does not compile.
    #[error("{0}")]
    InvalidFormat(#[from] UserFormatError),
}

/// Reports bytes read, for progress bars.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Runs queries over log files: one-shot (reads everything each time) or
/// incremental (keeps each repeated query's place in each file).
pub struct Engine {
    /// `None`: every search reads everything (one-shot commands).
    tails: Option<Mutex<TailStore>>,
    /// Files are scanned on this many threads at once.
    threads: ScanThreads,
    /// A file is cut into parts of at least this many bytes when threads are spare.
    part_size: u64,
}

/// The least a part of a file scanned on its own thread holds: below it, a
/// thread's start costs more than it saves.
pub const PART_SIZE: u64 = 8 << 20;

impl Engine {
    /// An engine that reads every file in full each time.
    pub fn one_shot() -> Self {
        Engine {
            tails: None,
            threads: ScanThreads::ONE,
            part_size: PART_SIZE,
        }
    }

    /// An engine that remembers what each query read, so refreshes read only what changed.
    pub fn incremental(limits: TailLimits) -> Self {
        Engine {
            tails: Some(Mutex::new(TailStore::new(limits))),
            threads: ScanThreads::ONE,
            part_size: PART_SIZE,
        }
    }

    /// The same engine scanning files on `threads` (the answers do not change).
    pub fn with_threads(mut self, threads: ScanThreads) -> Self {
        self.set_threads(threads);
        self
    }

    /// Scans files on `threads` from the next search on.
    pub fn set_threads(&mut self, threads: ScanThreads) {
        self.threads = threads;
    }

    /// The same engine, cutting files into parts of at least `bytes` (default
    /// [`PART_SIZE`]; tests use small parts on small files).
    pub fn with_part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// The threads its searches use.
    pub fn threads(&self) -> ScanThreads {
        self.threads
    }

    /// Keeps `query`'s tails from its next run on, even the first: it is known
    /// to repeat (the background refresh).
    pub fn expect_repeats(&self, query: &Query) {
        if let Some(Ok(mut store)) = self.tails.as_ref().map(|s| s.lock()) {
            store.expect_repeats(&query.canonical());
        }
    }

    /// Queries and bytes held by the tail store.
    pub fn tail_usage(&self) -> (usize, usize) {
        self.tails
            .as_ref()
            .and_then(|t| t.lock().ok())
            .map_or((0, 0), |t| (t.len(), t.bytes()))
    }

    /// Runs `query` over its files: `now` ends relative windows (`1h` back from
    /// it), and `progress` hears of the bytes read.
    pub fn search(
        &self,
        query: &Query,
        now: DateTime<FixedOffset>,
        progress: Progress<'_>,
    ) -> Result<SearchResult, SearchError> {
        let started = Instant::now();
        let matcher = compile(query)?;
        let formats = query
            .formats
            .iter()
            .map(UserFormat::compile)
            .collect::<Result<Vec<_>, _>>()?;
        if query.paths().is_empty() {
            return Err(SearchError::NoPaths);
        }
        let (files, mut skipped) = collect_files(query.paths());
        let none_exist = query.paths().iter().all(|p| std::fs::metadata(p).is_err());
        if let (true, Some(first)) = (none_exist, skipped.first()) {
            return Err(SearchError::NothingSearchable(format!(
                "{}: {}",
                first.path, first.reason
            )));
        }
        let window = Window {
            since: query.since.as_ref().map(|b| b.resolve(now)),
            until: query.until.as_ref().map(|b| b.resolve(now)),
        };
        if let (Some(since), Some(until)) = (window.since, window.until) {
            if since >= until {
                let at = |ms: i64| {
                    chrono::DateTime::from_timestamp_millis(ms).map_or(ms.to_string(), |t| {
                        t.with_timezone(now.offset()).to_rfc3339()
                    })
                };
                return Err(SearchError::EmptyWindow {
                    since: at(since),
                    until: at(until),
                });
            }
        }
        let counting = match query.kind {
            QueryKind::Grep { .. } => Counting::Matches,
            QueryKind::Errors => Counting::Levels,
        };
        let key = query.canonical();
        // A window that moves with the clock changes old answers: nothing to resume.
        let store = self.tails.as_ref().filter(|_| !query.has_relative_window());
        let previous = Mutex::new(
            store
                .and_then(|s| s.lock().ok().map(|mut s| s.take(&key)))
                .unwrap_or_default(),
        );
        let mut next = QueryTails::default();
        let mut keep_tails = store.is_some();

        let mut result = SearchResult {
            kind: match counting {
                Counting::Matches => ResultKind::Grep,
                Counting::Levels => ResultKind::Errors,
            },
            matches: 0,
            levels: Default::default(),
            files_searched: 0,
            bytes_scanned: 0,
            long_lines_cut: 0,
            files: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            lines: Vec::new(),
            elapsed: Default::default(),
        };
        // Threads beyond one per file scan parts of large files.
        let per_file = self.threads.count.get() / files.len().max(1);
        let setup = FileScan {
            parts: ScanThreads::new(per_file),
            part_size: self.part_size,
            count_lines: store.is_some(),
            matcher: &matcher,
            counting,
            window,
            max_lines: query.max_lines,
            formats: &formats,
        };
        // The largest files first, so that no thread is left with a big one at the end.
        let mut order: Vec<usize> = (0..files.len()).collect();
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        // Files finish in any order; what is listed per file is put back in
        // the files' order at the end, so the answer does not depend on threads.
        let mut kept: Vec<(usize, KeptLine)> = Vec::new();
        let mut listed: Vec<(usize, FileMatches)> = Vec::new();
        let mut warned: Vec<(usize, FileWarning)> = Vec::new();
        let mut noted: Vec<(usize, Skipped)> = Vec::new();
        let scan = |file: &LogFile| scan_file(&setup, file, &previous, progress);
        for_each_done(&files, &order, self.threads, scan, |index, outcome| {
            let path = &paths[index];
            let mut scanned = match outcome {
                Ok(s) => s,
                Err(reason) => {
                    noted.push((
                        index,
                        Skipped {
                            path: path.clone(),
                            reason,
                        },
                    ));
                    return;
                }
            };
            result.files_searched += 1;
            result.bytes_scanned += scanned.bytes;
            let ring = std::mem::take(&mut scanned.answer.ring);
            let answer = &scanned.answer;
            result.matches += answer.matches;
            result.levels.add(&answer.levels);
            result.long_lines_cut += answer.long_lines_cut;
            if answer.matches > 0 {
                let timestamp_format = scanned.learned.format.name();
                listed.push((
                    index,
                    FileMatches {
                        path: path.clone(),
                        matches: answer.matches,
                        timestamp_format,
                    },
                ));
            }
            if !window.is_open() {
                warned.extend(timestamp_warning(path, answer).map(|w| (index, w)));
            }
            kept.extend(ring.into_iter().map(|l| (index, l)));
            // Bounded as files come in, not only at the end: many files' lines add up.
            if kept.len() > 2 * query.max_lines {
                keep_last(&mut kept, query.max_lines);
            }
            if let Some(reason) = scanned.note {
                noted.push((
                    index,
                    Skipped {
                        path: path.clone(),
                        reason,
                    },
                ));
            }
            match scanned.tail {
                Some((id, tail)) => {
                    next.files.insert(id, tail);
                }
                None => keep_tails = false,
            }
        });
        keep_last(&mut kept, query.max_lines);
        result.lines = kept
            .into_iter()
            .map(|(i, l)| MatchLine {
                path: paths[i].clone(),
                line_number: l.line_number,
                timestamp: l.timestamp,
                level: l.level,
                text: l.text,
                truncated: l.truncated,
            })
            .collect();
        result.files = in_file_order(listed);
        result.warnings = in_file_order(warned);
        skipped.extend(in_file_order(noted));
        result.skipped = skipped;
        if let (Some(store), true) = (store, keep_tails) {
            if let Ok(mut s) = store.lock() {
                s.put(key, next);
            }
        }
        result.elapsed = started.elapsed();
        Ok(result)
    }
}

/// Keeps the last `max_lines` of `kept` across files: by time (lines without
/// one first), then by the file's place in the search, then by line number.
fn keep_last(kept: &mut Vec<(usize, KeptLine)>, max_lines: usize) {
    kept.sort_by(|(pa, a), (pb, b)| {
        let time = |l: &KeptLine| l.timestamp.map(|t| t.timestamp_millis());
        time(a)
            .cmp(&time(b))
            .then(pa.cmp(pb))
            .then(a.line_number.cmp(&b.line_number))
    });
    let drop = kept.len().saturating_sub(max_lines);
    kept.drain(..drop);
}

/// The values of `(file index, value)` pairs, in the files' order (stable
/// for several values of one file).
fn in_file_order<T>(mut pairs: Vec<(usize, T)>) -> Vec<T> {
    pairs.sort_by_key(|(index, _)| *index);
    pairs.into_iter().map(|(_, value)| value).collect()
}

fn compile(query: &Query) -> Result<RegexMatcher, SearchError> {
    if query.max_lines > MAX_LINES_LIMIT {
        return Err(SearchError::TooManyLines(query.max_lines));
    }
    let (pattern, ignore_case, fixed) = match &query.kind {
        QueryKind::Grep {
            pattern,
            ignore_case,
            fixed_strings,
        } => (pattern.as_str(), *ignore_case, *fixed_strings),
        // Every line reaches the sink and is sorted by level there.
        QueryKind::Errors => ("", false, false),
    };
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(SearchError::PatternTooLong { len: pattern.len() });
    }
    RegexMatcherBuilder::new()
        .case_insensitive(ignore_case)
        .fixed_strings(fixed)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .line_terminator(Some(b'\n'))
        .build(pattern)
        .map_err(|e| SearchError::InvalidPattern {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })
}

/// Warns when a time window cannot place a file's lines: none or under
/// half of them have a timestamp.
fn timestamp_warning(path: &str, tally: &FileTally) -> Option<FileWarning> {
    let (lines, timed) = (tally.checked_lines, tally.timed_lines);
    let problem = if lines == 0 {
        return None;
    } else if timed == 0 {
        TimestampProblem::NoTimestamps
    } else if timed * 2 < lines {
        TimestampProblem::FewTimestamps
    } else {
        return None;
    };
    Some(FileWarning {
        path: path.to_string(),
        problem,
        lines_with_time: timed,
        lines,
    })
}

/// What every file of one search is scanned with.
struct FileScan<'a> {
    /// Threads for the parts of one large file (with the file pool's priority).
    parts: ScanThreads,
    /// The least bytes of a part.
    part_size: u64,
    /// Keep line counts even without kept lines (to resume tails).
    count_lines: bool,
    matcher: &'a RegexMatcher,
    counting: Counting,
    window: Window,
    max_lines: usize,
    formats: &'a [CompiledUserFormat],
}

/// One file's part of an answer.
struct ScannedFile {
    answer: FileTally,
    bytes: u64,
    /// The state to resume from next time; `None` when it must not be trusted.
    tail: Option<((u64, u64), FileTail)>,
    /// Something the user should know: the file changed under us, a corrupt gzip.
    note: Option<String>,
    learned: Learned,
}

/// Learns the timestamp format of a file from its first bytes (decompressed for `.gz`).
fn learn_file(
    setup: &FileScan<'_>,
    file: &LogFile,
    handle: &File,
    size: u64,
    hint: YearHint,
) -> Learned {
    let head = ReadAt::new(handle, 0).take(size);
    if file.compressed {
        let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(head));
        learn_from_reader(decoder, setup.formats, &file.path, hint)
    } else {
        learn_from_reader(head, setup.formats, &file.path, hint)
    }
}

fn scan_file(
    setup: &FileScan<'_>,
    file: &LogFile,
    previous: &Mutex<QueryTails>,
    progress: Progress<'_>,
) -> Result<ScannedFile, String> {
    let handle = File::open(&file.path).map_err(|e| e.to_string())?;
    let meta = handle.metadata().map_err(|e| e.to_string())?;
    let id = identity(&meta);
    let size = meta.len();
    let modified = meta.modified().ok();
    let max_lines = setup.max_lines;
    let hint = YearHint::from_system_time(modified.unwrap_or_else(std::time::SystemTime::now));
    let prior = previous
        .lock()
        .ok()
        .and_then(|mut tails| tails.files.remove(&id));
    if let Some(tail) = &prior {
        // Same size and mtime, and still the same file: nothing to read. (The head is
        // checked too: mtime has coarse granularity, and a truncate-and-rewrite to
        // the same size within one tick would otherwise go unseen.)
        if tail.size == size && tail.modified == modified && tail.head.still_matches(&handle, size)
        {
            let mut answer = tail.tally.clone();
            if let Some(p) = &tail.partial {
                answer.extend(p, max_lines);
            }
            let learned = tail.learned.clone();
            return Ok(ScannedFile {
                answer,
                bytes: 0,
                tail: prior.map(|t| (id, t)),
                note: None,
                learned,
            });
        }
    }
    // A settled format is kept while the file keeps its head; else it is learned (again).
    let learned = match &prior {
        Some(t) if t.learned.complete && t.head.still_matches(&handle, size) => t.learned.clone(),
        _ => learn_file(setup, file, &handle, size, hint),
    };
    let spec = ScanSpec {
        matcher: setup.matcher,
        counting: setup.counting,
        window: setup.window,
        max_lines,
        count_lines: setup.count_lines,
        times: TimeReader::new(&learned.format, setup.formats, hint),
    };
    if file.compressed {
        return scan_gzip(&spec, handle, size, modified, id, progress, learned.clone());
    }
    let resumable = prior.filter(|t| {
        size >= t.offset
            && t.head.still_matches(&handle, size)
            && t.learned.format == learned.format
    });
    let (offset, mut tally) = resumable.map_or((0, FileTally::default()), |t| (t.offset, t.tally));
    let head = HeadHash::of(&handle, size).map_err(|e| e.to_string())?;
    let end = end_of_last_line(&handle, offset, size).map_err(|e| e.to_string())?;

    let mut bytes = 0;
    let mut note = None;
    let complete = read_in_parts(
        &spec,
        &handle,
        (offset, end),
        (setup.parts, setup.part_size),
        &mut tally,
        progress,
        &mut bytes,
        &mut note,
    );
    resolve_pending_timestamps(&handle, &spec.times, &mut tally.ring);
    let mut answer = tally.clone();
    let mut partial = None;
    if complete && size > end {
        let mut p = tally.continuation();
        read_range(
            &spec, &handle, end, size, &mut p, progress, &mut bytes, &mut note,
        );
        resolve_pending_timestamps(&handle, &spec.times, &mut p.ring);
        answer.extend(&p, max_lines);
        partial = Some(p);
    }
    let tail = FileTail {
        head,
        offset: end,
        size,
        modified,
        tally,
        partial,
        learned: learned.clone(),
    };
    Ok(ScannedFile {
        tail: (complete && note.is_none()).then_some((id, tail)),
        answer,
        bytes,
        note,
        learned,
    })
}

/// What scanning one part of a file gave.
struct PartRead {
    tally: FileTally,
    bytes: u64,
    note: Option<String>,
    /// All of the part could be read.
    whole: bool,
}

/// Scans `[from, to)` into `tally` as [`read_range`] does, cut into parts
/// scanned at once when the range is large and threads are spare; the tally
/// is the one a single scan gives.
#[allow(clippy::too_many_arguments)]
fn read_in_parts(
    spec: &ScanSpec<'_>,
    handle: &File,
    (from, to): (u64, u64),
    (threads, part_size): (ScanThreads, u64),
    tally: &mut FileTally,
    progress: Progress<'_>,
    bytes: &mut u64,
    note: &mut Option<String>,
) -> bool {
    // A scan that carries each line's time starts parts at timestamped lines.
    let tracking = spec.tracks_every_line(false);
    let cuts = if threads.count.get() > 1 {
        cut_points(handle, from, to, threads.count.get(), part_size, |line| {
            !tracking || spec.times.read(line).time.is_some()
        })
    } else {
        vec![from, to]
    };
    if cuts.len() <= 2 {
        return read_range(spec, handle, from, to, tally, progress, bytes, note);
    }
    let ranges: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let order: Vec<usize> = (0..ranges.len()).collect();
    let mut parts: Vec<Option<PartRead>> = ranges.iter().map(|_| None).collect();
    let start = tally.continuation();
    let scan_part = |&(a, b): &(u64, u64)| {
        // The first part goes on from what came before; the others count lines from their start.
        let mut part = if a == from {
            start.clone()
        } else {
            FileTally::default()
        };
        let (mut bytes, mut note) = (0, None);
        let whole = read_range(
            spec, handle, a, b, &mut part, progress, &mut bytes, &mut note,
        );
        PartRead {
            tally: part,
            bytes,
            note,
            whole,
        }
    };
    for_each_done(&ranges, &order, threads, scan_part, |i, done| {
        parts[i] = Some(done)
    });
    let mut complete = true;
    for (i, part) in parts.into_iter().flatten().enumerate() {
        *bytes += part.bytes;
        if i == 0 {
            tally.extend(&part.tally, spec.max_lines);
        } else {
            join_part(tally, part.tally, spec.max_lines);
        }
        if !part.whole {
            // What follows a part read short cannot be joined: its line numbers would be wrong.
            *note = note.take().or(part.note);
            complete = false;
            break;
        }
    }
    complete
}

/// Scans `[from, to)`; returns whether all of it could be read.
#[allow(clippy::too_many_arguments)]
fn read_range(
    spec: &ScanSpec<'_>,
    handle: &File,
    from: u64,
    to: u64,
    tally: &mut FileTally,
    progress: Progress<'_>,
    bytes: &mut u64,
    note: &mut Option<String>,
) -> bool {
    // Twice the kernel's read-ahead for a cold file; advice only, so a failure is harmless.
    let _ = rustix::fs::fadvise(handle, from, NonZeroU64::new(to - from), Advice::Sequential);
    // By offset (`pread`): parts of one file are read by several threads at once,
    // and a shared file position would mix them up.
    let limited = Counted::new(ReadAt::new(handle, from).take(to - from), progress);
    match scan_region(spec, limited, from, false, tally) {
        Ok(read) => {
            *bytes += read.bytes;
            if read.bytes < to - from {
                *note = Some(format!(
                    "file shrank while it was read (truncated or rotated); counted the {} bytes read",
                    read.bytes
                ));
                return false;
            }
            true
        }
        Err(e) => {
            *note = Some(format!("read failed: {e}; counted what was read before"));
            false
        }
    }
}

fn scan_gzip(
    spec: &ScanSpec<'_>,
    handle: File,
    size: u64,
    modified: Option<std::time::SystemTime>,
    id: (u64, u64),
    progress: Progress<'_>,
    learned: Learned,
) -> Result<ScannedFile, String> {
    let head = HeadHash::of(&handle, size).map_err(|e| e.to_string())?;
    let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(Counted::new(handle, progress)));
    let mut tally = FileTally::default();
    let (bytes, note) = match scan_region(spec, decoder, 0, true, &mut tally) {
        Ok(read) => (read.bytes, None),
        Err(e) => (
            0,
            Some(format!(
                "could not decompress all of it ({e}); counted what was read"
            )),
        ),
    };
    let tail = note.is_none().then(|| {
        (
            id,
            FileTail {
                head,
                offset: size,
                size,
                modified,
                tally: tally.clone(),
                partial: None,
                learned: learned.clone(),
            },
        )
    });
    Ok(ScannedFile {
        answer: tally,
        bytes,
        tail,
        note,
        learned,
    })
}

/// The offset just after the last newline in `[from, size)`, or `from` if there is none.
fn end_of_last_line(file: &File, from: u64, size: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 << 10;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut end = size;
    while end > from {
        let start = end.saturating_sub(CHUNK).max(from);
        let chunk = &mut buf[..(end - start) as usize];
        let n = read_at_most(file, chunk, start)?;
        if let Some(i) = memchr::memrchr(b'\n', &chunk[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(from)
}

/// Reads as much of `buf` as the file has at `offset` (it may have shrunk).
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
