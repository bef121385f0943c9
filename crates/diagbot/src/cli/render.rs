//! Human output (aligned tables) and JSON.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use diagbot_core::logs::level::Level;
use diagbot_core::query::{LineSource, MatchLine, Skipped};
use diagbot_core::SearchResult;

use crate::present::visible::{self, one_line};
use crate::present::{format, warnings};

pub fn print_json(result: &SearchResult) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(result)?);
    Ok(())
}

pub fn print_grep(result: &SearchResult, verbose: bool) {
    println!("{}", summary(result, "matching lines"));
    print_warnings(result);
    if verbose {
        print_formats(result);
    }
    print_lines(result);
    print_skipped(result, verbose);
}

pub fn print_errors(result: &SearchResult, verbose: bool) {
    // Events: a traceback or a multi-line message is one (with its line above).
    let what = if result.matches == 1 {
        "error"
    } else {
        "errors"
    };
    println!("{}", summary(result, what));
    print_warnings(result);
    if verbose {
        print_formats(result);
    }
    let mut table = table();
    table.set_header(["LEVEL", "EVENTS"]);
    for level in Level::ALL {
        table.add_row(vec![
            Cell::new(level.name()),
            Cell::new(result.levels.get(level)).set_alignment(CellAlignment::Right),
        ]);
    }
    // Lines whose header names no level are counted too, not left unseen.
    table.add_row(vec![
        Cell::new("(no level)"),
        Cell::new(result.levels.unknown()).set_alignment(CellAlignment::Right),
    ]);
    println!("\n{table}");
    print_lines(result);
    print_skipped(result, verbose);
}

fn summary(result: &SearchResult, what: &str) -> String {
    let journal = result
        .files
        .iter()
        .find(|f| f.source == LineSource::Journal);
    // Files past the listed ones count too.
    let listed = result.files.len() + result.files_not_listed as usize;
    let (with, searched, journal) = match journal {
        Some(j) => (
            listed - 1,
            result.files_searched.saturating_sub(1),
            format!(" and the journal ({} entries)", j.entries.unwrap_or(0)),
        ),
        None => (listed, result.files_searched, String::new()),
    };
    let place = if searched == 0 && !journal.is_empty() {
        format!(
            "in the journal{}",
            journal.trim_start_matches(" and the journal")
        )
    } else {
        format!("in {with} of {searched} files{journal}")
    };
    format!(
        "{} {what} {place}; {} scanned in {:.0?}{}",
        result.matches,
        format::bytes(result.bytes_scanned),
        result.elapsed,
        if result.long_lines_cut > 0 {
            format!("; {} overlong lines cut", result.long_lines_cut)
        } else {
            String::new()
        }
    )
}

/// One line per file a time window could not place, right under the summary.
fn print_warnings(result: &SearchResult) {
    for w in &result.warnings {
        println!(
            "warning: {}: {}",
            one_line(&w.path),
            warnings::sentence(w, "--since/--until")
        );
    }
    if !result.warnings.is_empty() {
        println!("({})", warnings::HINT);
    }
}

/// `-v`: the timestamp format learned for each file with matches.
fn print_formats(result: &SearchResult) {
    if result.files.is_empty() {
        return;
    }
    println!("\ntimestamp formats:");
    if result.files_not_listed > 0 {
        println!(
            "(the first {} files with matches; {} more are not listed)",
            result.files.len(),
            result.files_not_listed
        );
    }
    let mut table = table();
    for f in &result.files {
        let format = f.timestamp_format.as_deref().unwrap_or("none recognised");
        table.add_row([one_line(&f.path).as_ref(), format]);
    }
    println!("{table}");
}

fn print_lines(result: &SearchResult) {
    if result.lines.is_empty() {
        return;
    }
    let shown = result.lines.len() as u64;
    if result.matches > shown {
        println!("\nlast {shown} of {}:", result.matches);
    } else {
        println!();
    }
    let mut table = table();
    // The journal's lines have a unit where a file's have a path and a number.
    let all_journal = result.lines.iter().all(|l| l.source == LineSource::Journal);
    if all_journal {
        table.set_header(["TIME", "UNIT", "", "TEXT"]);
    } else {
        table.set_header(["TIME", "FILE", "LINE", "TEXT"]);
    }
    for line in &result.lines {
        let (place, number) = match line.source {
            LineSource::File => (
                one_line(&line.path).into_owned(),
                line.line_number.to_string(),
            ),
            LineSource::Journal => (
                one_line(line.unit.as_deref().unwrap_or("journal")).into_owned(),
                String::new(),
            ),
        };
        table.add_row(vec![
            Cell::new(time(line)),
            Cell::new(place),
            Cell::new(number).set_alignment(CellAlignment::Right),
            Cell::new(printable(line)),
        ]);
    }
    println!("{table}");
}

/// Files not searched (or not completely): one line of counts by reason, or,
/// with `-v`, every file and its reason (`--json` always lists them all).
fn print_skipped(result: &SearchResult, verbose: bool) {
    // The journal's trouble is said once, in its own words, whatever -v says.
    for s in result.skipped.iter().filter(|s| is_journal_note(s)) {
        println!("\n{}", s.reason);
    }
    if result.skipped.iter().all(is_journal_note) {
        return;
    }
    if !verbose {
        println!("\n{}", skipped_summary(&result.skipped));
        return;
    }
    println!("\nskipped or incomplete:");
    let mut table = table();
    for s in result.skipped.iter().filter(|s| !is_journal_note(s)) {
        table.add_row([one_line(&s.path), one_line(&s.reason)]);
    }
    println!("{table}");
}

/// When files were asked for and none could be read (every one skipped:
/// unreadable, binary, …), what to say first: a zero from nothing read is
/// not an answer. For any answer: its files searched, bytes read, skipped.
pub fn nothing_read(
    files_searched: u64,
    bytes_scanned: u64,
    skipped: &[Skipped],
) -> Option<String> {
    let files_skipped = skipped.iter().any(|s| !is_journal_note(s));
    (files_searched == 0 && bytes_scanned == 0 && files_skipped)
        .then(|| format!("nothing could be read: {}", skipped_summary(skipped)))
}

/// "5 files skipped or incomplete: 3 binary file (not a text log), 2 …; -v lists them".
pub fn skipped_summary(skipped: &[Skipped]) -> String {
    let mut by_reason: Vec<(&str, usize)> = Vec::new();
    let files: Vec<&Skipped> = skipped.iter().filter(|s| !is_journal_note(s)).collect();
    for s in &files {
        match by_reason.iter_mut().find(|(r, _)| *r == s.reason) {
            Some((_, n)) => *n += 1,
            None => by_reason.push((&s.reason, 1)),
        }
    }
    by_reason.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let n = files.len();
    let reasons: Vec<String> = by_reason
        .iter()
        .map(|(reason, count)| format!("{count} {}", one_line(reason)))
        .collect();
    format!(
        "{n} file{} skipped or incomplete: {}; -v lists them",
        if n == 1 { "" } else { "s" },
        reasons.join(", ")
    )
}

/// A note about the journal (not available, seen in part), not a skipped file.
fn is_journal_note(s: &Skipped) -> bool {
    s.path.starts_with("journal") && s.reason.starts_with("journal:")
}

pub fn table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

fn time(line: &MatchLine) -> String {
    line.timestamp
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// The line with control characters made visible, so log bytes cannot drive
/// the terminal; the lines of an event (its exception line, a journal
/// entry's lines) stand on one row, parted by ` … `.
fn printable(line: &MatchLine) -> String {
    let mut out = String::with_capacity(line.text.len());
    for c in line.text.chars() {
        if c == '\n' {
            out.push_str(" … ");
        } else if visible::acts(c) {
            out.push_str(&visible::name(c));
        } else {
            out.push(c);
        }
    }
    if line.truncated {
        out.push_str(" [cut]");
    }
    out
}
