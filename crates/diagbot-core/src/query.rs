//! The question and its answer: `Query` (a value whose canonical form is the
//! cache key) and `SearchResult` (bounded by construction, and able to say how
//! many heap bytes it holds, which is its weight in the cache).

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::logs::level::Level;
use crate::logs::user_format::UserFormat;
use crate::when::TimeBound;

/// The most matching lines a result keeps.
pub const MAX_LINES_LIMIT: usize = 1000;
/// The most bytes of one line a result keeps; the rest is cut.
pub const MAX_LINE_TEXT: usize = 1000;
/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;

/// The two kinds of question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryKind {
    /// Lines matching a pattern.
    Grep {
        /// The pattern, a regex unless `fixed_strings`.
        pattern: String,
        /// Matched without regard to case.
        ignore_case: bool,
        /// The pattern is a literal string, not a regex.
        fixed_strings: bool,
    },
    /// Line counts by level, and the last error lines.
    Errors,
}

/// What a grep looks for: the pattern, and how it is matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrepPattern {
    /// The pattern, a regex unless `fixed_strings`.
    pub pattern: String,
    /// Matched without regard to case.
    pub ignore_case: bool,
    /// The pattern is a literal string, not a regex.
    pub fixed_strings: bool,
}

impl GrepPattern {
    /// A regex, matched with case.
    pub fn regex(pattern: impl Into<String>) -> Self {
        GrepPattern {
            pattern: pattern.into(),
            ignore_case: false,
            fixed_strings: false,
        }
    }

    /// The same pattern, matched with or without regard to case.
    pub fn ignore_case(self, ignore_case: bool) -> Self {
        GrepPattern {
            ignore_case,
            ..self
        }
    }

    /// The same pattern, read as a literal string or as a regex.
    pub fn fixed_strings(self, fixed_strings: bool) -> Self {
        GrepPattern {
            fixed_strings,
            ..self
        }
    }
}

impl From<String> for GrepPattern {
    fn from(pattern: String) -> Self {
        GrepPattern::regex(pattern)
    }
}

impl From<&str> for GrepPattern {
    fn from(pattern: &str) -> Self {
        GrepPattern::regex(pattern)
    }
}

/// A question, built by the constructor of its kind ([`Query::grep`],
/// [`Query::errors`]), which keeps its paths sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    /// What is asked: a grep or the errors.
    pub kind: QueryKind,
    /// Files or directories, sorted and without repeats: outside this crate
    /// only the constructors set them ([`Query::paths`] reads them).
    pub(crate) paths: Vec<PathBuf>,
    /// The window's start: lines before it are not counted.
    pub since: Option<TimeBound>,
    /// The window's end: lines after it are not counted.
    pub until: Option<TimeBound>,
    /// How many of the last matching lines to keep (0: counts only).
    pub max_lines: usize,
    /// User-defined formats, tried first on the files their globs match.
    pub formats: Arc<[UserFormat]>,
    /// The configured paths the searched ones may lie beneath: below one,
    /// no symlink is followed (see [`crate::logs::open`]). Not part of the
    /// question: the same paths give the same answer.
    pub anchors: Arc<[PathBuf]>,
    /// The journal's entries read besides the files: some units', or all.
    pub journal: JournalScope,
}

/// Which of the systemd journal's entries a question reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JournalScope {
    /// Full unit names (`bot.service`), sorted and without repeats.
    pub units: Vec<String>,
    /// Every entry, of any unit or none (`--journal`).
    pub whole: bool,
}

impl JournalScope {
    /// The entries of `units` (`bot` is `bot.service`); a name that is not a
    /// unit name is refused.
    pub fn units<S: AsRef<str>>(units: &[S]) -> Result<Self, crate::journal::BadUnit> {
        Ok(JournalScope {
            units: crate::journal::unit_names(units)?,
            whole: false,
        })
    }

    /// Every entry of the journal.
    pub fn whole() -> Self {
        JournalScope {
            units: Vec::new(),
            whole: true,
        }
    }

    /// Whether no entry is read.
    pub fn is_empty(&self) -> bool {
        !self.whole && self.units.is_empty()
    }

    /// The scope's part of a cache key: empty when it reads nothing, so a
    /// question over files keeps the key it had.
    pub fn key(&self) -> String {
        if self.whole {
            " journal=all".to_string()
        } else if self.units.is_empty() {
            String::new()
        } else {
            format!(" units={:?}", self.units)
        }
    }
}

impl Query {
    /// Lines matching `pattern` — a regex (`"ERROR|panic"`), or a
    /// [`GrepPattern`] with its options — in `paths`.
    pub fn grep(pattern: impl Into<GrepPattern>, paths: Vec<PathBuf>) -> Self {
        let GrepPattern {
            pattern,
            ignore_case,
            fixed_strings,
        } = pattern.into();
        Query::new(
            QueryKind::Grep {
                pattern,
                ignore_case,
                fixed_strings,
            },
            paths,
        )
    }

    /// Line counts by level, and the last error lines, in `paths`.
    pub fn errors(paths: Vec<PathBuf>) -> Self {
        Query::new(QueryKind::Errors, paths)
    }

    fn new(kind: QueryKind, mut paths: Vec<PathBuf>) -> Self {
        paths.sort();
        paths.dedup();
        Query {
            kind,
            paths,
            since: None,
            until: None,
            max_lines: 20,
            formats: Arc::default(),
            anchors: Arc::default(),
            journal: JournalScope::default(),
        }
    }

    /// The same question, reading the journal's entries of `scope` too.
    pub fn with_journal(self, journal: JournalScope) -> Self {
        Query { journal, ..self }
    }

    /// The same question, with the files' lines read by the user `formats`
    /// too (the configured ones: [`Settings::formats`](crate::config::Settings::formats)).
    pub fn with_formats(self, formats: Arc<[UserFormat]>) -> Self {
        Query { formats, ..self }
    }

    /// The same question, over paths requested beneath `anchors` (the
    /// configured paths): see [`Query::anchors`].
    pub fn beneath(mut self, anchors: &[PathBuf]) -> Self {
        self.anchors = anchors.into();
        self
    }

    /// The files and directories searched, sorted and without repeats.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The cache key: every parameter that changes the answer, in one fixed order.
    /// Relative bounds stay relative (`since=1h`), so "the last hour" is one key.
    pub fn canonical(&self) -> String {
        let mut key = match &self.kind {
            QueryKind::Grep {
                pattern,
                ignore_case,
                fixed_strings,
            } => format!(
                "grep i={} F={} pattern={:?}",
                u8::from(*ignore_case),
                u8::from(*fixed_strings),
                pattern
            ),
            QueryKind::Errors => "errors".to_string(),
        };
        let bound =
            |b: &Option<TimeBound>| b.as_ref().map_or("-".to_string(), TimeBound::canonical);
        key.push_str(&format!(
            " since={} until={} max_lines={} paths={:?}",
            bound(&self.since),
            bound(&self.until),
            self.max_lines,
            self.paths
        ));
        key.push_str(&formats_key(&self.formats));
        key.push_str(&self.journal.key());
        key
    }

    /// True when the window moves with the clock, so a stored tail cannot be reused.
    pub fn has_relative_window(&self) -> bool {
        [&self.since, &self.until]
            .iter()
            .any(|b| matches!(b, Some(TimeBound::Ago(_))))
    }
}

/// Where a line was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineSource {
    /// A log file (`path`, `line_number`).
    #[default]
    File,
    /// The systemd journal (`unit`, `cursor`).
    Journal,
}

impl LineSource {
    fn is_file(&self) -> bool {
        *self == LineSource::File
    }
}

/// One kept matching line: a file's line, or a journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchLine {
    /// Where it was read.
    #[serde(default)]
    pub source: LineSource,
    /// The file the line is in (empty for the journal).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Its number in the file, from 1 (0 for the journal).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub line_number: u64,
    /// A journal entry's unit (`_SYSTEMD_UNIT`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A journal entry's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The line's own timestamp, or that of the nearest line above it that has one.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// Its level, read from the line's header (`None`: it has none).
    pub level: Option<Level>,
    /// The line, lossily decoded, without its newline; cut to `MAX_LINE_TEXT` bytes.
    pub text: String,
    /// Whether `text` was cut to `MAX_LINE_TEXT` bytes.
    pub truncated: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many matching lines one file had, or the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMatches {
    /// The file (`journal` for the journal).
    pub path: String,
    /// `journal` for the journal; left out for a file.
    #[serde(default, skip_serializing_if = "LineSource::is_file")]
    pub source: LineSource,
    /// The journal's entries read (left out for a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// Its matching lines.
    pub matches: u64,
    /// The timestamp format learned from the file's first lines (`iso8601
    /// yyyy-MM-dd HH:mm:ss,SSS`, `syslog MMM d HH:mm:ss`, a user format's
    /// name); `None` when they showed none.
    #[serde(default)]
    pub timestamp_format: Option<String>,
}

/// Why a time window may have missed lines of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampProblem {
    /// No line of the file has a timestamp diagbot recognises: a time window finds nothing in it.
    NoTimestamps,
    /// Under half of its lines have one.
    FewTimestamps,
}

/// A searched file whose lines a time window cannot place: never a silent zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWarning {
    /// The file.
    pub path: String,
    /// What is wrong with its timestamps.
    pub problem: TimestampProblem,
    /// Lines with a timestamp diagbot read.
    pub lines_with_time: u64,
    /// All its lines.
    pub lines: u64,
}

/// A file that was not searched, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The path as given or found in a walk.
    pub path: String,
    /// Why, in words (not a log file, unreadable, gone, ...).
    pub reason: String,
}

/// Line counts by level, in `Level::ALL` order, then lines without a level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelCounts(pub [u64; 7]);

impl LevelCounts {
    /// Where lines without a level are counted.
    pub const UNKNOWN: usize = 6;

    /// Counts one line of `level` (`None`: no level).
    pub fn count(&mut self, level: Option<Level>) {
        self.0[level.map_or(Self::UNKNOWN, Level::index)] += 1;
    }

    /// Lines without a level.
    pub fn unknown(&self) -> u64 {
        self.0[Self::UNKNOWN]
    }

    /// Adds another file's or scan's counts to these.
    pub fn add(&mut self, other: &LevelCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// Lines at `level`.
    pub fn get(&self, level: Level) -> u64 {
        self.0[level.index()]
    }
}

impl<'de> Deserialize<'de> for LevelCounts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, u64>::deserialize(d)?;
        let mut counts = LevelCounts::default();
        for level in Level::ALL {
            counts.0[level.index()] = map.get(level.name()).copied().unwrap_or(0);
        }
        counts.0[Self::UNKNOWN] = map.get("unknown").copied().unwrap_or(0);
        Ok(counts)
    }
}

impl Serialize for LevelCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(7))?;
        for level in Level::ALL {
            map.serialize_entry(level.name(), &self.get(level))?;
        }
        map.serialize_entry("unknown", &self.unknown())?;
        map.end()
    }
}

/// Which question a result answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    /// Lines matching a pattern.
    Grep,
    /// Line counts by level, and the last error lines.
    Errors,
}

/// A bounded answer: totals, per-file counts and the last few matching lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Which question this answers.
    pub kind: ResultKind,
    /// Matching lines in all files (for `errors`, lines at error level or worse).
    pub matches: u64,
    /// Line counts by level: of every line read for `errors`, of the
    /// matching lines for `grep` (zeros for a grep that asks for no lines,
    /// a count alone, which reads no line's header).
    pub levels: LevelCounts,
    /// Files read (plain or gzipped), skipped ones not included.
    pub files_searched: u64,
    /// Bytes read to produce this answer (after decompression); a refresh reads only what changed.
    pub bytes_scanned: u64,
    /// Lines longer than the line limit, whose tail was not searched.
    pub long_lines_cut: u64,
    /// Files with at least one match: the first [`MAX_FILES_LISTED`] in
    /// path order (and the journal's part, when it was read).
    pub files: Vec<FileMatches>,
    /// Files with matches past [`MAX_FILES_LISTED`], counted but not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub files_not_listed: u64,
    /// Files not searched, and why.
    pub skipped: Vec<Skipped>,
    /// With a time window: searched files whose lines have no timestamps, or few.
    #[serde(default)]
    pub warnings: Vec<FileWarning>,
    /// The last matching lines, oldest first.
    pub lines: Vec<MatchLine>,
    /// Files read only in part: a `.gz` whose decompressed size passed
    /// `logs.max_decompressed` or a sane ratio (counted up to there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cut: Vec<Skipped>,
    /// Set when the answer is degraded by a lack of resources (EMFILE,
    /// ENFILE, ENOMEM, EIO) on some file: the reason. Such an answer is
    /// returned, never cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    /// Serialised as milliseconds.
    #[serde(with = "millis")]
    pub elapsed: Duration,
}

/// The most files an answer lists in `files`: a directory of 100,000
/// matching files with long names was a 35 MB answer.
pub const MAX_FILES_LISTED: usize = 1000;

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}

impl SearchResult {
    /// Heap bytes held by this result: its weight in the cache.
    pub fn heap_size(&self) -> usize {
        let lines: usize = self
            .lines
            .iter()
            .map(|l| {
                l.path.capacity()
                    + l.text.capacity()
                    + l.unit.as_ref().map_or(0, String::capacity)
                    + l.cursor.as_ref().map_or(0, String::capacity)
            })
            .sum();
        let files: usize = self
            .files
            .iter()
            .map(|f| f.path.capacity() + f.timestamp_format.as_ref().map_or(0, String::capacity))
            .sum();
        let warnings: usize = self.warnings.iter().map(|w| w.path.capacity()).sum();
        let skipped: usize = self
            .skipped
            .iter()
            .chain(&self.cut)
            .map(|s| s.path.capacity() + s.reason.capacity())
            .sum::<usize>()
            + self.partial.as_ref().map_or(0, String::capacity);
        lines
            + files
            + skipped
            + warnings
            + self.lines.capacity() * std::mem::size_of::<MatchLine>()
            + self.files.capacity() * std::mem::size_of::<FileMatches>()
            + (self.skipped.capacity() + self.cut.capacity()) * std::mem::size_of::<Skipped>()
            + self.warnings.capacity() * std::mem::size_of::<FileWarning>()
    }

    /// The same answer, whatever it cost to produce: for comparing a refresh with a full scan.
    pub fn without_costs(&self) -> SearchResult {
        SearchResult {
            bytes_scanned: 0,
            elapsed: Duration::ZERO,
            ..self.clone()
        }
    }
}

/// The user formats' part of a cache key (they change the answer): a hash,
/// to keep the key short; empty without formats.
pub(crate) fn formats_key(formats: &[UserFormat]) -> String {
    if formats.is_empty() {
        return String::new();
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    formats.hash(&mut hasher);
    format!(" formats={:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same files asked in another order, or twice, are the same question
    /// (one cache key), and a path given twice is searched once.
    #[test]
    fn paths_are_sorted_and_without_repeats_whatever_the_constructor() {
        let given = || {
            vec![
                "/var/log/b".into(),
                "/var/log/a".into(),
                "/var/log/b".into(),
            ]
        };
        let sorted: [PathBuf; 2] = ["/var/log/a".into(), "/var/log/b".into()];
        let grep = Query::grep("x", given());
        let errors = Query::errors(given());
        assert_eq!(grep.paths(), sorted);
        assert_eq!(errors.paths(), sorted);
        assert_eq!(
            grep.canonical(),
            Query::grep("x", sorted.to_vec()).canonical()
        );
        assert_eq!(
            errors.canonical(),
            Query::errors(vec!["/var/log/a".into(), "/var/log/b".into()]).canonical()
        );
    }

    #[test]
    fn a_grep_pattern_carries_its_options_into_the_kind() {
        let query = Query::grep(
            GrepPattern::regex("a.b")
                .ignore_case(true)
                .fixed_strings(true),
            vec![],
        );
        assert_eq!(
            query.kind,
            QueryKind::Grep {
                pattern: "a.b".into(),
                ignore_case: true,
                fixed_strings: true,
            }
        );
        assert_ne!(query.canonical(), Query::grep("a.b", vec![]).canonical());
    }
}
