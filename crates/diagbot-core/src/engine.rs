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
use crate::logs::scan::{Counting, FileTally, Window};
use crate::logs::tail::{QueryTails, TailLimits, TailStore};
use crate::logs::user_format::{UserFormat, UserFormatError};
use crate::logs::walk::walk;
use crate::query::{
    FileMatches, FileWarning, MatchLine, Query, QueryKind, ResultKind, SearchResult, Skipped,
    TimestampProblem, MAX_LINES_LIMIT, MAX_PATTERN_LEN,
};

mod file;
mod gzip;

use file::{scan_file, FileScan};
pub use gzip::MAX_RATIO;

/// The compiled size a pattern may reach (the regex crate's own default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 2 << 20;
/// The most bytes one `.gz` file is decompressed to, unless configured
/// (`logs.max_decompressed`).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SearchError {
    #[error("invalid pattern {pattern:?}: {message}")]
    InvalidPattern { pattern: String, message: String },
    #[error("pattern is {len} bytes long; the limit is {MAX_PATTERN_LEN}")]
    PatternTooLong { len: usize },
    #[error("max_lines is {0}; the limit is {MAX_LINES_LIMIT}")]
    TooManyLines(usize),
    #[error("no paths to search")]
    NoPaths,
    /// `--since` at or after `--until`: nothing could ever match, which is a mistake, not a quiet zero.
    #[error("the window is empty: since {since} is not before until {until}")]
    EmptyWindow { since: String, until: String },
    #[error("nothing could be searched: {0}")]
    NothingSearchable(String),
    #[error("the scan failed: {0}")]
    ScanFailed(String),
    #[error("{0}")]
    InvalidFormat(#[from] UserFormatError),
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

pub struct Engine {
    /// `None`: every search reads everything (one-shot commands).
    tails: Option<Mutex<TailStore>>,
    /// Set once, at shutdown: every scan stops at its next chunk.
    cancel: Cancel,
    /// `logs.max_decompressed`, a live setting.
    max_decompressed: AtomicU64,
    /// Why the last query's tails were not kept, if they were not.
    tails_dropped: Mutex<Option<String>>,
}

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
        }
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
        if query.paths().is_empty() {
            return Err(SearchError::NoPaths);
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
        let previous = store
            .and_then(|s| s.lock().ok().map(|mut s| s.take(&key)))
            .unwrap_or_default();
        let setup = FileScan {
            count_lines: store.is_some(),
            matcher: &matcher,
            counting,
            window,
            max_lines: query.max_lines,
            formats: &formats,
            max_decompressed: self.max_decompressed.load(Ordering::Relaxed),
            cancel,
        };
        let mut gather = Gather::new(counting, previous, store.is_some());
        let report = walk(
            query.paths(),
            &query.anchors,
            true,
            cancel,
            |file, opened| {
                let Some(opened) = opened else { return };
                let path = file.path.display().to_string();
                match scan_file(&setup, file, opened, &mut gather.previous, progress) {
                    Ok(scanned) => gather.add(path, scanned, &window, query.max_lines),
                    Err(e) => gather.failed(path, &e),
                }
            },
        );
        if cancel.is_cancelled() {
            return Err(SearchError::Cancelled);
        }
        if report.roots_opened == 0 {
            if let Some(first) = report.skipped.first() {
                let what = format!("{}: {}", first.path, first.reason);
                return Err(match report.degraded {
                    Some(_) => SearchError::Unavailable(what),
                    None => SearchError::NothingSearchable(what),
                });
            }
        }
        let Gather {
            mut result,
            kept,
            paths,
            next,
            keep_tails,
            skipped,
            degraded,
            ..
        } = gather;
        result.lines = last_lines(kept, &paths, query.max_lines);
        result.skipped = report.skipped;
        result.skipped.extend(skipped);
        result.partial = report.degraded.or(degraded);
        if let Some(store) = store {
            let dropped = if result.partial.is_some() {
                Some("a resource error made the answer partial".to_string())
            } else if !keep_tails {
                Some("a file changed while it was read".to_string())
            } else {
                store.lock().ok().and_then(|mut s| s.put(key, next).err())
            };
            if let Ok(mut d) = self.tails_dropped.lock() {
                *d = dropped;
            }
        }
        result.elapsed = started.elapsed();
        Ok(result)
    }
}

/// The answer as the files come in.
struct Gather {
    result: SearchResult,
    kept: Vec<(usize, crate::logs::scan::KeptLine)>,
    paths: Vec<String>,
    previous: QueryTails,
    next: QueryTails,
    keep_tails: bool,
    /// Files that could not be read (after the walk opened them).
    skipped: Vec<Skipped>,
    degraded: Option<String>,
}

impl Gather {
    fn new(counting: Counting, previous: QueryTails, keep_tails: bool) -> Self {
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
                skipped: Vec::new(),
                warnings: Vec::new(),
                lines: Vec::new(),
                cut: Vec::new(),
                partial: None,
                elapsed: Default::default(),
            },
            kept: Vec::new(),
            paths: Vec::new(),
            previous,
            next: QueryTails::default(),
            keep_tails,
            skipped: Vec::new(),
            degraded: None,
        }
    }

    fn failed(&mut self, path: String, e: &std::io::Error) {
        if crate::logs::open::resource_error(e) && self.degraded.is_none() {
            self.degraded = Some(format!("{path}: {e}"));
        }
        self.skipped.push(Skipped {
            path,
            reason: e.to_string(),
        });
    }

    fn add(&mut self, path: String, scanned: file::ScannedFile, window: &Window, max_lines: usize) {
        let result = &mut self.result;
        result.files_searched += 1;
        result.bytes_scanned += scanned.bytes;
        let answer = &scanned.answer;
        result.matches += answer.matches;
        result.levels.add(&answer.levels);
        result.long_lines_cut += answer.long_lines_cut;
        if answer.matches > 0 {
            result.files.push(FileMatches {
                path: path.clone(),
                matches: answer.matches,
                timestamp_format: scanned.learned.format.name(),
            });
        }
        if !window.is_open() {
            result.warnings.extend(timestamp_warning(&path, answer));
        }
        let index = self.paths.len();
        // Only the last `max_lines` lines of all files are answered: keep no more meanwhile.
        self.kept
            .extend(answer.ring.iter().cloned().map(|l| (index, l)));
        if self.kept.len() > 4 * max_lines.max(64) {
            self.kept = last_kept(std::mem::take(&mut self.kept), max_lines);
        }
        self.paths.push(path.clone());
        let notes = scanned.notes;
        if notes.resource && self.degraded.is_none() {
            self.degraded = Some(format!(
                "{path}: {}",
                notes.note.as_deref().unwrap_or("read failed")
            ));
        }
        if let Some(reason) = notes.cut {
            result.cut.push(Skipped {
                path: path.clone(),
                reason,
            });
        }
        if let Some(note) = notes.note {
            self.skipped.push(Skipped { path, reason: note });
        }
        match scanned.tail {
            Some((id, tail)) => {
                self.next.files.insert(id, tail);
            }
            None => self.keep_tails = false,
        }
    }
}

type Kept = (usize, crate::logs::scan::KeptLine);

/// The last lines across files, by time (lines without one first), then path and line.
fn last_kept(mut kept: Vec<Kept>, max_lines: usize) -> Vec<Kept> {
    kept.sort_by(|(pa, a), (pb, b)| {
        let time = |l: &crate::logs::scan::KeptLine| l.timestamp.map(|t| t.timestamp_millis());
        time(a)
            .cmp(&time(b))
            .then(pa.cmp(pb))
            .then(a.line_number.cmp(&b.line_number))
    });
    let drop = kept.len().saturating_sub(max_lines);
    kept.drain(..drop);
    kept
}

fn last_lines(kept: Vec<Kept>, paths: &[String], max_lines: usize) -> Vec<MatchLine> {
    last_kept(kept, max_lines)
        .into_iter()
        .map(|(i, l)| MatchLine {
            path: paths[i].clone(),
            line_number: l.line_number,
            timestamp: l.timestamp,
            level: l.level,
            text: l.text,
            truncated: l.truncated,
        })
        .collect()
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
