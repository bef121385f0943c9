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
use crate::journal::{pcre_literal, Entry, Journal, JournalError, JournalTally, Request};
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
        grep: literal_prefilter(search.kind),
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
            // A grep's levels are its matching lines' (errors count every
            // line); a count alone does not count them, as for files.
            let level = entry.level();
            if search.max_lines > 0 {
                tally.levels.count(level);
            }
            level
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

/// The PCRE2 pattern journalctl may select entries by (`--grep`, run with
/// case): a literal (no regex syntax, or `-F`) that matches every MESSAGE the
/// query's own matcher matches, and few others. With `-i` the literal must be
/// ASCII, each letter spelled with its cases: journalctl's PCRE2 folds case
/// in ASCII only (in byte mode), while the regex crate folds Unicode, where
/// `k` also matches U+212A (KELVIN SIGN) and `s` U+017F (LONG S); those are
/// spelled out as the characters themselves, which read the same in PCRE2's
/// byte and UTF modes. Anything else is matched here only.
fn literal_prefilter(kind: &QueryKind) -> Option<String> {
    let QueryKind::Grep {
        pattern,
        ignore_case,
        fixed_strings,
    } = kind
    else {
        return None;
    };
    let literal = *fixed_strings || !pattern.chars().any(regex_syntax_char);
    if !literal || pattern.is_empty() || pattern.contains('\n') {
        return None;
    }
    if !*ignore_case {
        return Some(pcre_literal(pattern));
    }
    if !pattern.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(pattern.len() * 4);
    for c in pattern.chars() {
        match c.to_ascii_lowercase() {
            'k' => out.push_str("(?:k|K|\u{212A})"),
            's' => out.push_str("(?:s|S|\u{17F})"),
            l if l.is_ascii_lowercase() => {
                out.push('[');
                out.push(l);
                out.push(l.to_ascii_uppercase());
                out.push(']');
            }
            _ => out.push_str(&pcre_literal(c.encode_utf8(&mut [0; 4]))),
        }
    }
    Some(out)
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
    fn only_a_literal_goes_to_journalctl_with_its_cases_spelled_out() {
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
            Some("a\\.b\\ \\(x\\)")
        );
        // Case folded as the regex crate folds it: k and s have a third case.
        assert_eq!(
            literal_prefilter(&grep("Ok 5s", true, false)).as_deref(),
            Some("[oO](?:k|K|\u{212A})\\ 5(?:s|S|\u{17F})")
        );
        assert_eq!(literal_prefilter(&grep("café", true, false)), None);
        assert_eq!(
            literal_prefilter(&grep("connection refused", false, false)).as_deref(),
            Some("connection\\ refused")
        );
        assert_eq!(literal_prefilter(&grep("a.b", false, false)), None);
        assert_eq!(literal_prefilter(&grep("", false, false)), None);
        assert_eq!(literal_prefilter(&QueryKind::Errors), None);
    }
}
