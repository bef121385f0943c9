//! `diagbot formats test FILE`: how a file's first lines are read — which
//! format matched, the time and level, and why not where nothing did — with
//! the configured `[[formats]]` and the same learning as a search.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::SecondsFormat;
use clap::{Args, Subcommand};
use comfy_table::{Cell, CellAlignment};
use diagbot_core::logs::explain::{explain_lines, FileExplanation, LineExplanation};
use diagbot_core::logs::user_format::UserFormat;
use serde::Serialize;

use super::{args, head, render};
use crate::present::visible::one_line;

/// The most characters of a line shown; `--json` has the times, not the text.
const TEXT_CHARS: usize = 100;

#[derive(Subcommand)]
pub enum FormatsCommand {
    /// Show how a log file's first lines are read: which format matched
    /// (a [[formats]] entry, a built-in form learned from the file, or none),
    /// the time and level read, and why not where no time was found.
    ///
    /// Exits 0 when a timestamp was read in at least one of the lines shown,
    /// 1 when in none, 2 on an error (a file that cannot be read, a bad
    /// configuration).
    Test(TestArgs),
}

#[derive(Args)]
pub struct TestArgs {
    /// The log file (plain or .gz).
    pub file: PathBuf,
    /// The configuration whose [[formats]] are tried (else $DIAGBOT_CONFIG,
    /// /etc/diagbot/diagbot.toml, ./diagbot.toml; none: the built-in forms only).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How many lines to show, from the first.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub lines: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `--json` prints: the explanation, with the file and where its format comes from.
#[derive(Serialize)]
struct Report<'a> {
    path: String,
    /// `"user"` (a `[[formats]]` entry), `"builtin"`, or `null` (no format).
    format_source: Option<&'static str>,
    #[serde(flatten)]
    explanation: &'a FileExplanation,
}

pub fn run(command: FormatsCommand) -> anyhow::Result<ExitCode> {
    let FormatsCommand::Test(args) = command;
    let (settings, _) = args::load_settings(args.config.as_deref())?;
    let formats = settings.core.formats;
    let wanted = args.lines as usize;
    let head = head::read(&args.file, wanted)?;
    // Learned from the whole head, as a search learns; shown for the first lines.
    let mut explanation = explain_lines(&args.file, &head.lines, &formats, head.modified)?;
    explanation.lines.truncate(wanted);
    let report = Report {
        path: args.file.display().to_string(),
        format_source: source(&explanation, &formats),
        explanation: &explanation,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report, &head.lines);
    }
    let any_time = explanation.lines.iter().any(|l| l.timestamp.is_some());
    Ok(if any_time {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn source(explanation: &FileExplanation, formats: &[UserFormat]) -> Option<&'static str> {
    let name = explanation.format.as_deref()?;
    Some(if formats.iter().any(|f| f.name == name) {
        "user"
    } else {
        "builtin"
    })
}

fn print_human(report: &Report<'_>, texts: &[Vec<u8>]) {
    let e = report.explanation;
    println!("{}", report.path);
    match (&e.format, report.format_source) {
        (Some(name), Some("user")) => println!(
            "format: {name} (from [[formats]]), learned from {} timestamped lines",
            e.sampled_lines
        ),
        (Some(name), _) => println!(
            "format: {name} (built-in), learned from {} timestamped lines",
            e.sampled_lines
        ),
        (None, _) => {
            println!("format: none; no line of the file's start has a timestamp diagbot reads")
        }
    }
    match e.header.filter(|_| report.format_source == Some("builtin")) {
        Some(h) if h.fields > 0 => println!(
            "header: {} field(s) after the time{}, learned from the same lines; the message follows",
            h.fields,
            if h.pipes { ", parted by |" } else { "" }
        ),
        Some(_) => println!("header: none after the time; the message follows it"),
        // A user format's regex says where its message is; else too few lines.
        None => {}
    }
    if !e.formats_not_applying.is_empty() {
        println!(
            "not tried, their glob does not match the file: {}",
            e.formats_not_applying.join(", ")
        );
    }
    let mut table = render::table();
    table.set_header(["LINE", "MATCHED BY", "TIME", "LEVEL", "TEXT"]);
    for line in &e.lines {
        let text = texts
            .get(line.line_number as usize - 1)
            .map(|t| shown(t))
            .unwrap_or_default();
        table.add_row(vec![
            Cell::new(line.line_number).set_alignment(CellAlignment::Right),
            Cell::new(line.matched_by.as_deref().unwrap_or("-")),
            Cell::new(time(line)),
            Cell::new(line.level.map_or("-", |l| l.name())),
            Cell::new(text),
        ]);
        if let Some(why) = why(line) {
            table.add_row(vec!["", "", "", "", &why]);
        }
        let message = texts
            .get(line.line_number as usize - 1)
            .and_then(|t| t.get(line.message_start..))
            .map(shown)
            .unwrap_or_default();
        let fields: Vec<String> = line
            .header
            .iter()
            .map(|f| format!("{} `{}`", f.kind, shown(f.text.as_bytes())))
            .collect();
        // Where the learned header ends, line by line.
        if e.header.is_some() && line.timestamp.is_some() {
            let parts = if fields.is_empty() {
                format!("↳ message: {message}")
            } else {
                format!("↳ header: {} · message: {message}", fields.join(" · "))
            };
            table.add_row(vec!["", "", "", "", &parts]);
        }
    }
    println!("\n{table}");
}

fn time(line: &LineExplanation) -> String {
    line.timestamp.map_or_else(
        || "-".to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false),
    )
}

/// Why a line has no time of its own, and whose time it takes.
fn why(line: &LineExplanation) -> Option<String> {
    let problem = line.problem.as_deref()?;
    let takes = match line.inherits_from {
        Some(n) => format!("; it takes the time of line {n}"),
        None => "; no line above has one, so no time window selects it".to_string(),
    };
    Some(format!("↳ no timestamp: {problem}{takes}"))
}

/// A line as the terminal may show it: on one line, nothing in it acting
/// (see `present::visible`), cut short.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let head: String = text.chars().take(TEXT_CHARS).collect();
    let mut out = one_line(&head).into_owned();
    if text.chars().nth(TEXT_CHARS).is_some() {
        out.push('…');
    }
    out
}
