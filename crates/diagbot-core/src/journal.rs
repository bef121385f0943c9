//! The systemd journal as a log source, read through `journalctl`.
//!
//! Why `journalctl` and not the journal files: it is the reader systemd
//! keeps in step with its own file format (compression, compact mode,
//! sealing), and it selects entries with the journal's indexes — by unit,
//! by time, and by a pattern with `--grep` — before they are formatted, so
//! a narrow question formats few entries (BENCHMARKS.md, "The journal"). Its
//! export format is the cheapest of its outputs to produce and to parse
//! ([`export`]). Each run is bounded: a deadline, a cancel flag, and a
//! watchdog that kills it and any child it started ([`child`]).
//!
//! An entry is one record: its time is `_SOURCE_REALTIME_TIMESTAMP` when its
//! sender gave one, else `__REALTIME_TIMESTAMP`; its level is its
//! `PRIORITY` (0–2 fatal, 3 error, 4 warning, 5–6 info, 7 debug), or the
//! level of its MESSAGE's own header when it has none, or when it is a line
//! of a service's stdout at the priority journald gives them all (info);
//! its text is MESSAGE,
//! lossily decoded, multi-line or not.

use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, TimeZone};

use crate::logs::cancel::Cancel;
use crate::logs::level::{detect_level, Level};

pub mod child;
pub mod export;
pub mod unit;

pub use export::Entry;
pub use unit::{unit_name, unit_names, BadUnit};

/// How long one `journalctl` run may take unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the journal is and how it is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Journal {
    /// The `journalctl` to run (`system.journalctl`).
    pub journalctl: String,
    /// A directory of journal files (`journalctl --directory`); `None`: the system's journal.
    pub directory: Option<PathBuf>,
    /// The longest one run may take: past it the run is killed and the answer fails.
    pub timeout: Duration,
}

/// Which entries one read asks for. Every part narrows `journalctl`'s own
/// selection; the caller still checks each entry (a pattern especially), so
/// the answer is what a full read would give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Full unit names (`bot.service`); empty: every unit.
    pub units: Vec<String>,
    /// Entries received at or after this many µs since the epoch.
    pub since_us: Option<i64>,
    /// Entries received at or before this many µs since the epoch.
    pub until_us: Option<i64>,
    /// A PCRE2 pattern the entry's MESSAGE must match, with case (`--grep`):
    /// one that selects no fewer entries than the caller's own matcher.
    pub grep: Option<String>,
    /// Entries after this cursor only.
    pub after_cursor: Option<String>,
}

/// Why the journal could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// No `journalctl`, or no journal where it looks.
    #[error("journal: not available ({0})")]
    NotAvailable(String),
    /// The journal is there but diagbot may not read it.
    #[error("journal: permission denied ({0}); diagbot needs the group systemd-journal (or adm)")]
    PermissionDenied(String),
    /// `journalctl` failed or stopped mid-stream.
    #[error("journal: journalctl failed ({0})")]
    Failed(String),
    /// The read passed its deadline and was stopped.
    #[error("journal: no answer from journalctl within {0:?}; it was stopped")]
    TimedOut(Duration),
    /// Stopped from outside.
    #[error("journal: the read was cancelled")]
    Cancelled,
}

/// What searching the journal has found so far: the journal's part of an
/// answer, and, kept between refreshes, where the next one resumes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalTally {
    /// Matching entries (for `errors`, entries at error level or worse).
    pub matches: u64,
    /// Entries by level (`errors`).
    pub levels: crate::query::LevelCounts,
    /// Entries read.
    pub entries: u64,
    /// Bytes of export format read by the last read.
    pub bytes: u64,
    /// Entries whose MESSAGE passed the line limit (the rest was not searched).
    pub long_lines_cut: u64,
    /// The last matching entries, oldest first.
    pub ring: std::collections::VecDeque<crate::query::MatchLine>,
    /// A warning journalctl gave (it sees part of the journal).
    pub note: Option<String>,
    /// The cursor of the last entry read: where a refresh resumes.
    pub cursor: Option<String>,
}

impl JournalTally {
    /// The heap bytes it holds: its weight in the tail store.
    pub fn heap_size(&self) -> usize {
        self.ring.capacity() * std::mem::size_of::<crate::query::MatchLine>()
            + self
                .ring
                .iter()
                .map(|l| {
                    l.text.capacity()
                        + l.unit.as_ref().map_or(0, String::capacity)
                        + l.cursor.as_ref().map_or(0, String::capacity)
                })
                .sum::<usize>()
            + self.cursor.as_ref().map_or(0, String::capacity)
    }
}

/// What a finished read saw besides its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Entries read.
    pub entries: u64,
    /// Bytes of export format read.
    pub bytes: u64,
    /// The cursor of the last entry read.
    pub last_cursor: Option<String>,
    /// A warning `journalctl` gave while answering (it sees only part of
    /// the journal, say), in words.
    pub note: Option<String>,
}

impl Journal {
    /// The system's journal through `journalctl`.
    pub fn system(journalctl: impl Into<String>) -> Self {
        Journal {
            journalctl: journalctl.into(),
            directory: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The journal files in `directory` instead of the system's.
    pub fn in_directory(self, directory: PathBuf) -> Self {
        Journal {
            directory: Some(directory),
            ..self
        }
    }

    /// How this journal is named in answers: `journal`, or `journal DIR`.
    pub fn name(&self) -> String {
        match &self.directory {
            Some(dir) => format!("journal {}", dir.display()),
            None => "journal".to_string(),
        }
    }

    /// The arguments of `journalctl` for `request`: each value one argument.
    pub fn args(&self, request: &Request) -> Vec<String> {
        let mut args = vec![
            "--no-pager".to_string(),
            "--all".to_string(),
            "--output=export".to_string(),
            "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,_SOURCE_REALTIME_TIMESTAMP,_TRANSPORT"
                .to_string(),
        ];
        if let Some(dir) = &self.directory {
            args.push(format!("--directory={}", dir.display()));
        }
        for unit in &request.units {
            args.push(format!("--unit={unit}"));
        }
        let at = |us: i64| {
            format!(
                "@{}.{:06}",
                us.div_euclid(1_000_000),
                us.rem_euclid(1_000_000)
            )
        };
        if let Some(since) = request.since_us {
            args.push(format!("--since={}", at(since)));
        }
        if let Some(until) = request.until_us {
            args.push(format!("--until={}", at(until)));
        }
        if let Some(pattern) = &request.grep {
            args.push("--case-sensitive=true".to_string());
            args.push(format!("--grep={pattern}"));
        }
        if let Some(cursor) = &request.after_cursor {
            args.push(format!("--after-cursor={cursor}"));
        }
        args
    }

    /// Reads the entries `request` selects, oldest first, handing each to
    /// `each` until it says to stop. At most `max_value` bytes of a MESSAGE are kept.
    pub fn read(
        &self,
        request: &Request,
        max_value: usize,
        cancel: &Cancel,
        mut each: impl FnMut(Entry) -> ControlFlow<()>,
    ) -> Result<ReadSummary, JournalError> {
        let args = self.args(request);
        let (running, stdout) = child::start(&self.journalctl, &args, cancel, self.timeout)
            .map_err(|e| {
                JournalError::NotAvailable(format!("cannot run {}: {e}", self.journalctl))
            })?;
        let mut reader =
            export::ExportReader::new(BufReader::with_capacity(64 << 10, stdout), max_value);
        let mut summary = ReadSummary::default();
        let mut stopped_early = false;
        let mut read_error = None;
        loop {
            match reader.next_entry() {
                Ok(Some(entry)) => {
                    summary.entries += 1;
                    summary.last_cursor = Some(entry.cursor.clone());
                    if each(entry).is_break() {
                        stopped_early = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    stopped_early = true;
                    break;
                }
            }
        }
        summary.bytes = reader.bytes;
        drop(reader);
        let ended = running.finish(stopped_early);
        match ended.stopped {
            Some(child::Stopped::Cancelled) => return Err(JournalError::Cancelled),
            Some(child::Stopped::TimedOut) => return Err(JournalError::TimedOut(self.timeout)),
            None => {}
        }
        if cancel.is_cancelled() {
            return Err(JournalError::Cancelled);
        }
        if let Some(e) = read_error {
            return Err(JournalError::Failed(format!(
                "its output could not be read: {e}"
            )));
        }
        let said = ended.stderr.trim();
        let status = ended
            .status
            .map_err(|e| JournalError::Failed(format!("cannot wait for it: {e}")))?;
        // With `--grep`, journalctl exits 1 when no entry matches: silently,
        // having sent nothing. That is an answer (none), not a failure.
        let no_match = request.grep.is_some()
            && summary.entries == 0
            && status.code() == Some(1)
            && said.is_empty();
        if !status.success() && !stopped_early && !no_match {
            return Err(exit_error(status, said));
        }
        summary.note = hidden(said).then(|| {
            "journal: journalctl sees only part of the journal; diagbot needs the group \
             systemd-journal (or adm)"
                .to_string()
        });
        Ok(summary)
    }
}

/// The error a failed run's exit and stderr say.
fn exit_error(status: std::process::ExitStatus, said: &str) -> JournalError {
    use std::os::unix::process::ExitStatusExt;
    let first = said
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if let Some(signal) = status.signal() {
        return JournalError::Failed(format!("killed by signal {signal} mid-stream"));
    }
    let lower = said.to_ascii_lowercase();
    if lower.contains("permission denied") || lower.contains("insufficient permissions") {
        return JournalError::PermissionDenied(first.to_string());
    }
    if lower.contains("no such file or directory") || lower.contains("no journal files") {
        return JournalError::NotAvailable(first.to_string());
    }
    let code = status.code().unwrap_or(-1);
    if first.is_empty() {
        JournalError::Failed(format!("exit status {code}"))
    } else {
        JournalError::Failed(format!("exit status {code}: {first}"))
    }
}

/// journalctl run outside `systemd-journal` (and `adm`) reads only its own
/// user's journal and says so on stderr.
fn hidden(stderr: &str) -> bool {
    stderr.contains("not seeing") || stderr.contains("insufficient permissions")
}

/// `literal` as a PCRE2 pattern that matches it and nothing else: every
/// ASCII character that is not a letter or digit is escaped (in PCRE2 a
/// backslash before such a character always means the character itself).
pub fn pcre_literal(literal: &str) -> String {
    let mut pattern = String::with_capacity(literal.len() * 2);
    for c in literal.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

impl Entry {
    /// When it was written: its sender's time when given, else the journal's.
    pub fn time(&self) -> Option<DateTime<FixedOffset>> {
        let us = self.source_realtime_us.or(self.realtime_us)?;
        let utc = DateTime::from_timestamp_micros(us)?;
        Some(Local.from_utc_datetime(&utc.naive_utc()).fixed_offset())
    }

    /// Its level: `PRIORITY`, else its MESSAGE's own header. A line a
    /// service wrote to stdout or stderr has the priority journald gave
    /// every such line (info, unless the service prefixed `<N>`): there the
    /// level its MESSAGE's header states (`ERROR:root:…`, a traceback) wins.
    pub fn level(&self) -> Option<Level> {
        let stated = || detect_level(self.first_line());
        match self.priority {
            Some(6) if self.from_stream => stated().or(Some(Level::Info)),
            Some(p) => Some(priority_level(p)),
            None => stated(),
        }
    }

    /// MESSAGE's first line, where a header would be.
    pub fn first_line(&self) -> &[u8] {
        let end = memchr::memchr(b'\n', &self.message).unwrap_or(self.message.len());
        &self.message[..end]
    }

    /// MESSAGE as text, lossily decoded.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.message).into_owned()
    }
}

/// The level of a syslog priority, as journalctl's `-p` names them.
pub fn priority_level(priority: u8) -> Level {
    match priority {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warning,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

#[cfg(test)]
mod tests;
