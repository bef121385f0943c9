//! Human output (aligned tables) and JSON.

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use diagbot_core::logs::level::Level;
use diagbot_core::query::MatchLine;
use diagbot_core::SearchResult;

use crate::present::format;

pub fn print_json(result: &SearchResult) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(result)?);
    Ok(())
}

pub fn print_grep(result: &SearchResult) {
    println!("{}", summary(result, "matching lines"));
    print_lines(result);
    print_skipped(result);
}

pub fn print_errors(result: &SearchResult) {
    println!("{}", summary(result, "error lines"));
    let mut table = table();
    table.set_header(["LEVEL", "LINES"]);
    for level in Level::ALL {
        table.add_row(vec![
            Cell::new(level.name()),
            Cell::new(result.levels.get(level)).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("\n{table}");
    print_lines(result);
    print_skipped(result);
}

fn summary(result: &SearchResult, what: &str) -> String {
    format!(
        "{} {what} in {} of {} files; {} scanned in {:.0?}{}",
        result.matches,
        result.files.len(),
        result.files_searched,
        format::bytes(result.bytes_scanned),
        result.elapsed,
        if result.long_lines_cut > 0 {
            format!("; {} overlong lines cut", result.long_lines_cut)
        } else {
            String::new()
        }
    )
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
    table.set_header(["TIME", "FILE", "LINE", "TEXT"]);
    for line in &result.lines {
        table.add_row(vec![
            Cell::new(time(line)),
            Cell::new(&line.path),
            Cell::new(line.line_number).set_alignment(CellAlignment::Right),
            Cell::new(printable(line)),
        ]);
    }
    println!("{table}");
}

fn print_skipped(result: &SearchResult) {
    if result.skipped.is_empty() {
        return;
    }
    println!("\nskipped or incomplete:");
    let mut table = table();
    for s in &result.skipped {
        table.add_row([&s.path, &s.reason]);
    }
    println!("{table}");
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

/// The line with control characters made visible, so log bytes cannot drive the terminal.
fn printable(line: &MatchLine) -> String {
    let mut out = String::with_capacity(line.text.len());
    for c in line.text.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if line.truncated {
        out.push_str(" [cut]");
    }
    out
}
