//! The journal's part of a search: the entries of the query's units (or the
//! whole journal) in its window, each one record, counted and kept as a
//! file's matching lines are.
//!
//! `journalctl` narrows what it sends by unit, by time (`--since`/`--until`,
//! on the journal's receive time) and, for a case-sensitive literal, by
//! `--grep`; every entry it sends is still matched here with the query's own
//! matcher, so the answer is what reading every entry would give.

use std::ops::ControlFlow;

use grep_matcher::Matcher;
use grep_regex::RegexMatcher;

use super::Progress;
use crate::journal::{Entry, Journal, JournalError, JournalTally, Request};
use crate::logs::cancel::Cancel;
use crate::logs::level::Level;
use crate::logs::read::MAX_LINE;
use crate::logs::scan::{Counting, Window};
use crate::query::{JournalScope, LineSource, MatchLine, QueryKind, MAX_LINE_TEXT};

/// What the journal's part of one search asks.
pub(super) struct JournalSearch<'a> {
    pub scope: &'a JournalScope,
    pub kind: &'a QueryKind,
    pub matcher: &'a RegexMatcher,
    pub counting: Counting,
    pub window: Window,
    pub max_lines: usize,
}

/// Reads the entries `search` selects from `journal`: those after `prior`'s
/// cursor, added to `prior`'s counts (an incremental refresh), or all of them.
/// A cursor the journal no longer has (vacuumed, another machine's) is
/// dropped, and the entries read from the start.
pub(super) fn search_journal(
    journal: &Journal,
    search: &JournalSearch<'_>,
    prior: Option<JournalTally>,
    cancel: &Cancel,
    progress: Progress<'_>,
) -> Result<JournalTally, JournalError> {
    let resumed = prior.as_ref().is_some_and(|p| p.cursor.is_some());
    match read_entries(journal, search, prior, cancel, progress) {
        Err(JournalError::Failed(why)) if resumed && why.contains("cursor") => {
            tracing::warn!(
                "{}: the saved cursor is gone ({why}); reading it again from the start",
                journal.name()
            );
            read_entries(journal, search, None, cancel, progress)
        }
        other => other,
    }
}

fn read_entries(
    journal: &Journal,
    search: &JournalSearch<'_>,
    prior: Option<JournalTally>,
    cancel: &Cancel,
    progress: Progress<'_>,
) -> Result<JournalTally, JournalError> {
    let mut tally = prior.unwrap_or_default();
    let request = Request {
        units: search.scope.units.clone(),
        since_us: search.window.since.map(|ms| ms.saturating_mul(1000)),
        // The window's end is inclusive to the millisecond.
        until_us: search
            .window
            .until
            .map(|ms| ms.saturating_mul(1000).saturating_add(999)),
        contains: literal_prefilter(search.kind),
        after_cursor: tally.cursor.clone(),
    };
    let mut read_bytes = 0u64;
    let summary = journal.read(&request, MAX_LINE, cancel, |entry| {
        // Progress by entry (journalctl's output is not counted as it streams).
        read_bytes += entry.message.len() as u64 + 64;
        if read_bytes > 1 << 20 {
            progress(read_bytes);
            read_bytes = 0;
        }
        add_entry(search, &mut tally, entry);
        ControlFlow::Continue(())
    })?;
    progress(read_bytes);
    tally.entries += summary.entries;
    tally.bytes = summary.bytes;
    tally.note = summary.note;
    if summary.last_cursor.is_some() {
        tally.cursor = summary.last_cursor;
    }
    Ok(tally)
}

fn add_entry(search: &JournalSearch<'_>, tally: &mut JournalTally, entry: Entry) {
    if entry.message_cut {
        tally.long_lines_cut += 1;
    }
    let level = match search.counting {
        Counting::Levels => {
            let level = entry.level();
            tally.levels.count(level);
            if !level.is_some_and(Level::is_error) {
                return;
            }
            level
        }
        Counting::Matches => {
            if !search.matcher.is_match(&entry.message).unwrap_or(false) {
                return;
            }
            entry.level()
        }
    };
    tally.matches += 1;
    if search.max_lines == 0 {
        return;
    }
    tally.ring.push_back(record_line(entry, level));
    if tally.ring.len() > search.max_lines {
        tally.ring.pop_front();
    }
}

/// A kept entry as an answer's line.
fn record_line(entry: Entry, level: Option<Level>) -> MatchLine {
    let cut = entry.message.len().min(MAX_LINE_TEXT);
    let text = String::from_utf8_lossy(&entry.message[..cut]).into_owned();
    MatchLine {
        path: String::new(),
        line_number: 0,
        timestamp: entry.time(),
        level,
        text,
        truncated: cut < entry.message.len() || entry.message_cut,
        source: LineSource::Journal,
        unit: entry.unit,
        cursor: Some(entry.cursor),
    }
}

/// The literal journalctl may select entries by: a case-sensitive pattern
/// with nothing but literal characters in it (PCRE2 and the regex crate
/// read those alike). Anything else is matched here only.
fn literal_prefilter(kind: &QueryKind) -> Option<String> {
    let QueryKind::Grep {
        pattern,
        ignore_case,
        fixed_strings,
    } = kind
    else {
        return None;
    };
    if *ignore_case || pattern.is_empty() || pattern.contains('\n') {
        return None;
    }
    let literal = *fixed_strings || !pattern.chars().any(regex_syntax_char);
    literal.then(|| pattern.clone())
}

/// Whether `c` may mean something other than itself in a regex.
fn regex_syntax_char(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_case_sensitive_literal_goes_to_journalctl() {
        let grep = |p: &str, i, f| QueryKind::Grep {
            pattern: p.into(),
            ignore_case: i,
            fixed_strings: f,
        };
        assert_eq!(
            literal_prefilter(&grep("timeout", false, false)).as_deref(),
            Some("timeout")
        );
        assert_eq!(
            literal_prefilter(&grep("a.b (x)", false, true)).as_deref(),
            Some("a.b (x)")
        );
        assert_eq!(
            literal_prefilter(&grep("connection refused", false, false)).as_deref(),
            Some("connection refused")
        );
        assert_eq!(literal_prefilter(&grep("a.b", false, false)), None);
        assert_eq!(literal_prefilter(&grep("timeout", true, false)), None);
        assert_eq!(literal_prefilter(&grep("", false, false)), None);
        assert_eq!(literal_prefilter(&QueryKind::Errors), None);
    }
}
