//! The search engine: turns a `Query` into a `SearchResult`, reading only what
//! changed since the query last ran when it keeps tails.
//!
//! - `file`: one plain file's part (resumed from its tail, or read whole);
//! - `gzip`: one `.gz` file's part, within the decompression bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};

use crate::logs::cancel::Cancel;
use crate::logs::open::OpenedFile;
use crate::logs::scan::KeptLine;
use crate::logs::scan::{Counting, FileTally, Window};
use crate::logs::tail::{FileId, FileTail, QueryTails, TailLimits, TailStore};
use crate::logs::user_format::{UserFormat, UserFormatError};
use crate::logs::walk::{walk, LogFile, Order, Visit, WalkReport};
use crate::query::MAX_FILES_LISTED;
use crate::query::{
    FileMatches, FileWarning, MatchLine, Query, QueryKind, ResultKind, SearchResult, Skipped,
    TimestampProblem, MAX_LINES_LIMIT, MAX_PATTERN_LEN,
};
use crate::when::TimeBound;
use crate::workers::{pipeline, ScanThreads};
use std::path::Path;
use std::sync::Arc;

mod file;
mod gzip;
mod journal;

pub(crate) use file::end_of_last_line;

use file::{scan_file, FileScan};
pub use gzip::MAX_RATIO;

/// The compiled size a pattern may reach (the regex crate's own default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 2 << 20;
/// The most bytes one `.gz` file is decompressed to, unless configured
/// (`logs.max_decompressed`).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

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
    /// A unit name that is not one.
    #[error("{0}")]
    BadUnit(#[from] crate::journal::BadUnit),
    /// Only the journal was asked, and it could not be read.
    #[error("{0}")]
    Journal(crate::journal::JournalError),
    /// Stopped from outside (a shutdown, or nobody waits for the answer).
    #[error("the scan was cancelled")]
    Cancelled,
    /// No named path could be opened for lack of resources (EMFILE, ENFILE,
    /// ENOMEM, EIO): worth trying again later.
    #[error("no resources to search: {0}")]
    Unavailable(String),
}

/// Reports bytes read, for progress bars.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Runs queries over log files: one-shot (reads everything each time) or
/// incremental (keeps each repeated query's place in each file).
pub struct Engine {
    /// `None`: every search reads everything (one-shot commands).
    tails: Option<Mutex<TailStore>>,
    /// Set once, at shutdown: every scan stops at its next chunk.
    cancel: Cancel,
    /// `logs.max_decompressed`, a live setting.
    max_decompressed: AtomicU64,
    /// Why the last query's tails were not kept, if they were not.
    tails_dropped: Mutex<Option<String>>,
    /// Files are scanned on this many threads at once.
    threads: ScanThreads,
    /// A file is cut into parts of at least this many bytes when threads are spare.
    part_size: u64,
    /// The journal a query's units are read from; `None`: not read here.
    /// A live setting (`[journal]`).
    journal: std::sync::RwLock<Option<crate::journal::Journal>>,
}

/// The least a part of a file scanned on its own thread holds: below it, a
/// thread's start costs more than it saves.
pub const PART_SIZE: u64 = 8 << 20;

impl Engine {
    /// An engine that reads every file in full each time.
    pub fn one_shot() -> Self {
        Engine::with_tails(None)
    }

    fn with_tails(tails: Option<Mutex<TailStore>>) -> Self {
        Engine {
            tails,
            cancel: Cancel::new(),
            max_decompressed: AtomicU64::new(DEFAULT_MAX_DECOMPRESSED),
            tails_dropped: Mutex::new(None),
            threads: ScanThreads::ONE,
            part_size: PART_SIZE,
            journal: Default::default(),
        }
    }

    /// The same engine, reading queries' units from `journal` (`None`: the
    /// journal is not read, and a query that asks for it is told so).
    pub fn with_journal(self, journal: Option<crate::journal::Journal>) -> Self {
        self.set_journal(journal);
        self
    }

    /// Reads queries' units from `journal` from the next search on.
    pub fn set_journal(&self, journal: Option<crate::journal::Journal>) {
        if let Ok(mut j) = self.journal.write() {
            *j = journal;
        }
    }

    /// The journal searches read now.
    fn journal(&self) -> Option<crate::journal::Journal> {
        self.journal.read().ok().and_then(|j| j.clone())
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

    /// The threads its searches use.
    pub fn threads(&self) -> ScanThreads {
        self.threads
    }

    /// The same engine, cutting files into parts of at least `bytes` (default
    /// [`PART_SIZE`]; tests use small parts on small files).
    pub fn with_part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// Decompresses at most `bytes` of each `.gz` file from now on.
    pub fn set_max_decompressed(&self, bytes: u64) {
        self.max_decompressed.store(bytes, Ordering::Relaxed);
    }

    /// Stops every scan, running or to come, at its next chunk (shutdown).
    pub fn cancel_all(&self) {
        self.cancel.cancel();
    }

    /// A flag that stops one scan ([`Engine::search_with`]), and is set by
    /// [`Engine::cancel_all`] too.
    pub fn cancel_token(&self) -> Cancel {
        self.cancel.child()
    }

    /// Why the tails of the last query that ran were not kept (the refresh logs it).
    pub fn tails_dropped(&self) -> Option<String> {
        self.tails_dropped.lock().ok().and_then(|d| d.clone())
    }

    /// An engine that remembers what each query read, so refreshes read only what changed.
    pub fn incremental(limits: TailLimits) -> Self {
        Engine::with_tails(Some(Mutex::new(TailStore::new(limits))))
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

    /// Answers `query` over its paths as they are `now`; `progress` hears
    /// of the bytes read.
    pub fn search(
        &self,
        query: &Query,
        now: DateTime<FixedOffset>,
        progress: Progress<'_>,
    ) -> Result<SearchResult, SearchError> {
        self.search_with(query, now, progress, &self.cancel_token())
    }

    /// Keeps `next` for the query's next refresh, unless the answer was
    /// partial or the tails were given up while the files were read
    /// (`given_up` says why; then the next refresh reads everything anew).
    fn keep_tails(
        &self,
        store: &Mutex<TailStore>,
        key: String,
        next: QueryTails,
        result: &SearchResult,
        given_up: Option<String>,
    ) {
        let dropped = if result.partial.is_some() {
            Some("a resource error made the answer partial".to_string())
        } else if given_up.is_some() {
            given_up
        } else {
            store.lock().ok().and_then(|mut s| s.put(key, next).err())
        };
        if let Ok(mut d) = self.tails_dropped.lock() {
            *d = dropped;
        }
    }

    /// As [`Engine::search`], stopped when `cancel` is set.
    pub fn search_with(
        &self,
        query: &Query,
        now: DateTime<FixedOffset>,
        progress: Progress<'_>,
        cancel: &Cancel,
    ) -> Result<SearchResult, SearchError> {
        let started = Instant::now();
        let matcher = compile(query)?;
        let formats = query
            .formats
            .iter()
            .map(UserFormat::compile)
            .collect::<Result<Vec<_>, _>>()?;
        if query.paths().is_empty() && query.journal.is_empty() {
            return Err(SearchError::NoPaths);
        }
        let window = window_of(&query.since, &query.until, now)?;
        let counting = match query.kind {
            QueryKind::Grep { .. } => Counting::Matches,
            QueryKind::Errors => Counting::Levels,
        };
        let key = query.canonical();
        // A window that moves with the clock changes old answers: nothing to resume.
        let store = self.tails.as_ref().filter(|_| !query.has_relative_window());
        let mut previous = store
            .and_then(|s| s.lock().ok().map(|mut s| s.take(&key)))
            .unwrap_or_default();
        let prior_journal = previous.journal.take().map(|j| *j);
        let setup = FileScan {
            count_lines: store.is_some(),
            matcher: &matcher,
            counting,
            window,
            max_lines: query.max_lines,
            formats: &formats,
            max_decompressed: self.max_decompressed.load(Ordering::Relaxed),
            cancel,
            // A file asked about on its own is cut into parts for the threads;
            // in a tree the threads take a file each.
            parts: if lone_file(query) {
                self.threads
            } else {
                ScanThreads::ONE
            },
            part_size: self.part_size,
        };
        let previous = Mutex::new(previous);
        let tail_budget = store.and_then(|s| s.lock().ok().map(|s| s.budget()));
        let mut gather = Gather::new(counting, tail_budget);
        // The walk opens each file on this thread; scan threads read them as
        // they come, and the answer is put back in the walk's order.
        let mut report = WalkReport::default();
        let scan = |(file, opened): (LogFile, OpenedFile)| {
            let outcome = scan_file(&setup, &file, opened, &previous, progress);
            (file.path.display().to_string(), outcome)
        };
        let journal = self.journal();
        let part = JournalPart {
            source: journal.as_ref(),
            prior: prior_journal,
            matcher: &matcher,
            counting,
            window,
        };
        let from_journal = search_journal(query, part, cancel, progress);
        pipeline(
            self.threads,
            |push| {
                if query.paths().is_empty() {
                    return;
                }
                // On several threads the costliest files go first; the answer is
                // put in path order below either way.
                let order = if self.threads.count.get() > 1 {
                    Order::CostliestFirst
                } else {
                    Order::ByPath
                };
                report = walk(
                    query.paths(),
                    &query.anchors,
                    Visit { open: true, order },
                    cancel,
                    |file, opened| {
                        if let Some(opened) = opened {
                            push((file.clone(), opened));
                        }
                    },
                );
            },
            scan,
            |index, (path, outcome)| match outcome {
                Ok(scanned) => gather.add(index, path, scanned, &window, query.max_lines),
                Err(e) => gather.failed(index, path, &e),
            },
        );
        if cancel.is_cancelled() {
            return Err(SearchError::Cancelled);
        }
        let from_journal = match from_journal {
            Some(Err(crate::journal::JournalError::Cancelled)) => {
                return Err(SearchError::Cancelled)
            }
            Some(Err(e)) if query.paths().is_empty() => return Err(SearchError::Journal(e)),
            other => other,
        };
        if from_journal.is_none() || !query.paths().is_empty() {
            if let Some(e) = nothing_opened(&report) {
                return Err(e);
            }
        }
        let (mut result, next, given_up) =
            gather.finish(report, from_journal, journal.as_ref(), query.max_lines);
        if let Some(store) = store {
            self.keep_tails(store, key, next, &result, given_up);
        }
        result.elapsed = started.elapsed();
        Ok(result)
    }
}

/// The journal's part of one search: where it is read, and what a
/// previous run of the same question left to resume from.
struct JournalPart<'a> {
    source: Option<&'a crate::journal::Journal>,
    prior: Option<crate::journal::JournalTally>,
    matcher: &'a RegexMatcher,
    counting: Counting,
    window: Window,
}

/// The journal's part of `query`, when it asks for one.
fn search_journal(
    query: &Query,
    part: JournalPart<'_>,
    cancel: &Cancel,
    progress: Progress<'_>,
) -> Option<Result<crate::journal::JournalTally, crate::journal::JournalError>> {
    if query.journal.is_empty() {
        return None;
    }
    let Some(source) = part.source else {
        return Some(Err(crate::journal::JournalError::NotAvailable(
            "the journal is not read here: [journal] enabled = false".into(),
        )));
    };
    let search = journal::JournalSearch {
        scope: &query.journal,
        kind: &query.kind,
        matcher: part.matcher,
        counting: part.counting,
        window: part.window,
        max_lines: query.max_lines,
    };
    Some(journal::search_journal(
        source, &search, part.prior, cancel, progress,
    ))
}

/// Adds the journal's part to `result`: its counts, its `files[]` entry,
/// and a note when journalctl saw only part of it, or could not be read
/// (said once, as a skipped source). Returns its kept lines.
fn add_journal(
    result: &mut SearchResult,
    part: Result<crate::journal::JournalTally, crate::journal::JournalError>,
    source: Option<&crate::journal::Journal>,
) -> Vec<MatchLine> {
    let name = source.map_or("journal".into(), |j| j.name());
    let tally = match part {
        Ok(tally) => tally,
        Err(e) => {
            if !matches!(e, crate::journal::JournalError::NotAvailable(_)) {
                // A failure that may pass: the answer is not cached.
                result.partial.get_or_insert_with(|| e.to_string());
            }
            result.skipped.push(Skipped {
                path: name,
                reason: e.to_string(),
            });
            return Vec::new();
        }
    };
    result.files_searched += 1;
    result.bytes_scanned += tally.bytes;
    result.matches += tally.matches;
    result.levels.add(&tally.levels);
    result.long_lines_cut += tally.long_lines_cut;
    // Listed whenever it was read: how many entries it had is part of the answer.
    result.files.push(FileMatches {
        path: name.clone(),
        source: crate::query::LineSource::Journal,
        entries: Some(tally.entries),
        matches: tally.matches,
        // Not learned: each entry carries its time.
        timestamp_format: Some(
            "the journal's own (_SOURCE_REALTIME_TIMESTAMP, __REALTIME_TIMESTAMP)".into(),
        ),
    });
    if let Some(note) = tally.note {
        result.skipped.push(Skipped {
            path: name,
            reason: note,
        });
    }
    tally.ring.into_iter().collect()
}

/// The answer as the files come in, in any order: what is listed per file
/// carries the file's place in the walk and is put in that order at the end,
/// so the answer does not depend on the thread count.
struct Gather {
    result: SearchResult,
    kept: Vec<Kept>,
    next: QueryTails,
    tails: TailsGathered,
    listed: Vec<(usize, FileMatches)>,
    warned: Vec<(usize, FileWarning)>,
    cut: Vec<(usize, Skipped)>,
    /// Files that could not be read (after the walk opened them), or only in part.
    noted: Vec<(usize, Skipped)>,
    degraded: Option<(usize, String)>,
}

impl Gather {
    /// The answer from what the scans gave, in path order, with the
    /// journal's part; and the tails the next refresh resumes from, or why
    /// they were given up.
    fn finish(
        self,
        report: WalkReport,
        from_journal: Option<Result<crate::journal::JournalTally, crate::journal::JournalError>>,
        journal: Option<&crate::journal::Journal>,
        max_lines: usize,
    ) -> (SearchResult, QueryTails, Option<String>) {
        let Gather {
            mut result,
            kept,
            mut next,
            tails,
            listed,
            warned,
            cut,
            noted,
            degraded,
        } = self;
        let (listed, not_listed) = first_in_path_order(listed, MAX_FILES_LISTED, |f| &f.path);
        result.files = listed;
        result.files_not_listed += not_listed;
        result.warnings = in_path_order(warned, |w| &w.path);
        result.cut = in_path_order(cut, |c| &c.path);
        result.skipped = report.skipped;
        result
            .skipped
            .sort_by(|a, b| Path::new(&a.path).cmp(Path::new(&b.path)));
        result.skipped.extend(in_path_order(noted, |n| &n.path));
        result.partial = report.degraded.or(degraded.map(|(_, why)| why));
        let journal_lines = match from_journal {
            Some(part) => {
                // What the next refresh resumes from (a failed read: nothing, read again).
                next.journal = part.as_ref().ok().map(|t| Box::new(t.clone()));
                add_journal(&mut result, part, journal)
            }
            None => Vec::new(),
        };
        result.lines = last_lines(kept, journal_lines, max_lines);
        (result, next, tails.given_up)
    }

    /// Gathers an answer; with `tail_budget`, the files' tails too, up to that many bytes.
    fn new(counting: Counting, tail_budget: Option<usize>) -> Self {
        Gather {
            result: SearchResult {
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
                files_not_listed: 0,
                skipped: Vec::new(),
                warnings: Vec::new(),
                lines: Vec::new(),
                cut: Vec::new(),
                partial: None,
                elapsed: Default::default(),
            },
            kept: Vec::new(),
            next: QueryTails::default(),
            tails: TailsGathered {
                budget: tail_budget.unwrap_or(0),
                bytes: 0,
                given_up: tail_budget
                    .is_none()
                    .then(|| "a one-shot search keeps no tails".to_string()),
            },
            listed: Vec::new(),
            warned: Vec::new(),
            cut: Vec::new(),
            noted: Vec::new(),
            degraded: None,
        }
    }

    /// Keeps the first resource error in the walk's order, whatever order files finish in.
    fn degrade(&mut self, index: usize, why: String) {
        if self
            .degraded
            .as_ref()
            .is_none_or(|(first, _)| index < *first)
        {
            self.degraded = Some((index, why));
        }
    }

    fn failed(&mut self, index: usize, path: String, e: &std::io::Error) {
        if crate::logs::open::resource_error(e) {
            self.degrade(index, format!("{path}: {e}"));
        }
        let reason = e.to_string();
        self.noted.push((index, Skipped { path, reason }));
    }

    fn add(
        &mut self,
        index: usize,
        path: String,
        mut scanned: file::ScannedFile,
        window: &Window,
        max_lines: usize,
    ) {
        let result = &mut self.result;
        result.files_searched += 1;
        result.bytes_scanned += scanned.bytes;
        let ring = std::mem::take(&mut scanned.answer.ring);
        let answer = &scanned.answer;
        result.matches += answer.matches;
        result.levels.add(&answer.levels);
        result.long_lines_cut += answer.long_lines_cut;
        if answer.matches > 0 {
            let file = FileMatches {
                path: path.clone(),
                source: crate::query::LineSource::File,
                entries: None,
                matches: answer.matches,
                timestamp_format: scanned.learned.format.name(),
            };
            self.listed.push((index, file));
            // Held at most twice the listed files meanwhile, not one per file.
            if self.listed.len() >= 2 * MAX_FILES_LISTED {
                let all = std::mem::take(&mut self.listed);
                let (kept, dropped) = first_pairs_in_path_order(all, MAX_FILES_LISTED, |f| &f.path);
                self.listed = kept;
                self.result.files_not_listed += dropped;
            }
        }
        if !window.is_open() {
            let warning = timestamp_warning(&path, answer);
            self.warned.extend(warning.map(|w| (index, w)));
        }
        // Only the last `max_lines` lines of all files are answered: keep no more meanwhile.
        let shared: Arc<str> = path.as_str().into();
        self.kept
            .extend(ring.into_iter().map(|l| (Arc::clone(&shared), l)));
        if self.kept.len() > 4 * max_lines.max(64) {
            self.kept = last_kept(std::mem::take(&mut self.kept), max_lines);
        }
        let notes = scanned.notes;
        if notes.resource {
            let why = notes.note.as_deref().unwrap_or("read failed");
            self.degrade(index, format!("{path}: {why}"));
        }
        if let Some(reason) = notes.cut {
            let path = path.clone();
            self.cut.push((index, Skipped { path, reason }));
        }
        if let Some(reason) = notes.note {
            self.noted.push((index, Skipped { path, reason }));
        }
        if let Some(given_up) = self.tails.add(&mut self.next, scanned.tail) {
            self.tails.given_up = Some(given_up);
        }
    }
}

/// The tails a search gathers for its next run, weighed as they come: a
/// query over more files than the tail budget holds gives them up at the
/// budget, rather than building them all and dropping them at the end
/// (100,000 files' tails are 30 MB).
struct TailsGathered {
    budget: usize,
    bytes: usize,
    /// Why the tails are not kept (then no more are gathered).
    given_up: Option<String>,
}

impl TailsGathered {
    /// Adds one file's tail to `next`; `Some(why)` when the tails are given up here.
    fn add(
        &mut self,
        next: &mut QueryTails,
        tail: Option<(FileId, Box<FileTail>)>,
    ) -> Option<String> {
        if self.given_up.is_some() {
            return None;
        }
        let Some((id, tail)) = tail else {
            *next = QueryTails::default();
            return Some("a file changed while it was read".to_string());
        };
        self.bytes += tail.heap_size() + std::mem::size_of::<(FileId, Box<FileTail>)>();
        if self.bytes > self.budget {
            let files = next.files.len() + 1;
            *next = QueryTails::default();
            return Some(format!(
                "the tails of its first {files} files took {} bytes, over the tail budget of {} bytes",
                self.bytes, self.budget
            ));
        }
        next.files.insert(id, tail);
        None
    }
}

/// The time window of `since` and `until` as of `now`; one that is empty
/// is a mistake to say, not a quiet zero.
pub(crate) fn window_of(
    since: &Option<TimeBound>,
    until: &Option<TimeBound>,
    now: DateTime<FixedOffset>,
) -> Result<Window, SearchError> {
    let window = Window {
        since: since.as_ref().map(|b| b.resolve(now)),
        until: until.as_ref().map(|b| b.resolve(now)),
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        if since >= until {
            let at = |ms: i64| {
                DateTime::from_timestamp_millis(ms).map_or(ms.to_string(), |t| {
                    t.with_timezone(now.offset()).to_rfc3339()
                })
            };
            return Err(SearchError::EmptyWindow {
                since: at(since),
                until: at(until),
            });
        }
    }
    Ok(window)
}

/// The error of a walk that opened none of the named paths: the first one's
/// reason, as unavailable when resources ran out.
pub(crate) fn nothing_opened(report: &WalkReport) -> Option<SearchError> {
    if report.roots_opened > 0 {
        return None;
    }
    let first = report.skipped.first()?;
    let what = format!("{}: {}", first.path, first.reason);
    Some(match report.degraded {
        Some(_) => SearchError::Unavailable(what),
        None => SearchError::NothingSearchable(what),
    })
}

/// Whether `query` names one plain file (by its path's metadata: a
/// scheduling hint only; the file is opened and checked by the walk).
fn lone_file(query: &Query) -> bool {
    match query.paths() {
        [path] => std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()),
        _ => false,
    }
}

/// The values of `(place, value)` pairs in the order of their paths (the
/// order of a walk by name, whatever order the files were read in; stable
/// for several values of one file).
fn in_path_order<T>(pairs: Vec<(usize, T)>, path: impl Fn(&T) -> &str) -> Vec<T> {
    first_in_path_order(pairs, usize::MAX, path).0
}

/// The first `n` pairs in the order of [`in_path_order`], and how many were left out.
fn first_pairs_in_path_order<T>(
    mut pairs: Vec<(usize, T)>,
    n: usize,
    path: impl Fn(&T) -> &str,
) -> (Vec<(usize, T)>, u64) {
    pairs.sort_by(|(a, x), (b, y)| Path::new(path(x)).cmp(Path::new(path(y))).then(a.cmp(b)));
    let dropped = pairs.len().saturating_sub(n) as u64;
    pairs.truncate(n);
    (pairs, dropped)
}

/// The values of the first `n` pairs in path order, and how many were left out.
fn first_in_path_order<T>(
    pairs: Vec<(usize, T)>,
    n: usize,
    path: impl Fn(&T) -> &str,
) -> (Vec<T>, u64) {
    let (kept, dropped) = first_pairs_in_path_order(pairs, n, path);
    (kept.into_iter().map(|(_, value)| value).collect(), dropped)
}

/// A kept line and the path of its file.
type Kept = (Arc<str>, KeptLine);

/// The last lines across files, by time (lines without one first), then path and line.
fn last_kept(mut kept: Vec<Kept>, max_lines: usize) -> Vec<Kept> {
    kept.sort_by(|(pa, a), (pb, b)| {
        let time = |l: &KeptLine| l.timestamp.map(|t| t.timestamp_millis());
        time(a)
            .cmp(&time(b))
            .then_with(|| Path::new(&**pa).cmp(Path::new(&**pb)))
            .then(a.line_number.cmp(&b.line_number))
    });
    let drop = kept.len().saturating_sub(max_lines);
    kept.drain(..drop);
    kept
}

/// The last `max_lines` of the files' kept lines and the journal's, by time
/// (lines without one first), then path and line; the journal's entries keep
/// their order among themselves.
fn last_lines(kept: Vec<Kept>, journal: Vec<MatchLine>, max_lines: usize) -> Vec<MatchLine> {
    let files = last_kept(kept, max_lines)
        .into_iter()
        .map(|(path, l)| MatchLine {
            source: crate::query::LineSource::File,
            path: path.to_string(),
            line_number: l.line_number,
            unit: None,
            cursor: None,
            timestamp: l.timestamp,
            level: l.level,
            text: l.text,
            truncated: l.truncated,
        });
    if journal.is_empty() {
        return files.collect();
    }
    let mut lines: Vec<MatchLine> = files.chain(journal).collect();
    lines.sort_by(|a, b| {
        let time = |l: &MatchLine| l.timestamp.map(|t| t.timestamp_millis());
        time(a)
            .cmp(&time(b))
            .then_with(|| Path::new(&a.path).cmp(Path::new(&b.path)))
            .then(a.line_number.cmp(&b.line_number))
    });
    let drop = lines.len().saturating_sub(max_lines);
    lines.drain(..drop);
    lines
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
            message: syntax_error(pattern, ignore_case).unwrap_or_else(|| e.to_string()),
        })
}

/// The syntax error in `pattern` as written, its caret under the user's own
/// text: the matcher's message shows the pattern wrapped in its own group.
/// Only parsed, never compiled: a pattern refused for its size must not be
/// built again without the limit (`.{1000}{1000}` would take gigabytes).
fn syntax_error(pattern: &str, ignore_case: bool) -> Option<String> {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .build()
        .parse(pattern)
        .err()
        .map(|e| e.to_string())
}

/// Warns when a time window cannot place a file's lines: none or under
/// half of them have a timestamp.
fn timestamp_warning(path: &str, tally: &FileTally) -> Option<FileWarning> {
    lines_warning(path, tally.checked_lines, tally.timed_lines)
}

/// Warns when `timed` of a file's `lines` are too few for a time window.
pub(crate) fn lines_warning(path: &str, lines: u64, timed: u64) -> Option<FileWarning> {
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
