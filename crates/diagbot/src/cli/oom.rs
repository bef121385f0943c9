//! `diagbot oom`: OOM kills with their victims, from the kernel log and the
//! services' journals, and the kernel's and cgroups' own counts.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Local;
use clap::Args;
use comfy_table::{Cell, CellAlignment};
use diagbot_core::probe::oom::{self, OomReport};
use diagbot_core::when::TimeBound;

use super::render::table;
use crate::present::OomRow;

#[derive(Args)]
pub struct OomArgs {
    /// Only kills at or after WHEN (90s, 15m, 1h, 2d, or a time).
    #[arg(long, value_name = "WHEN", value_parser = super::args::parse_when, allow_hyphen_values = true)]
    pub since: Option<TimeBound>,
    /// The configuration file (for `system.*`); as `serve` finds it otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Ask the diagbot daemon at this URL (http://HOST:PORT), which reads its own kernel log.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub fn run(args: OomArgs) -> anyhow::Result<ExitCode> {
    let report: OomReport = match &args.remote {
        Some(url) => {
            let since: Vec<(&str, String)> = args
                .since
                .iter()
                .map(|b| ("since", b.canonical()))
                .collect();
            super::remote::get_json(url, "/api/v1/oom", &since)?
        }
        None => {
            let (settings, _) = super::args::load_settings(args.config.as_deref())?;
            let since = args
                .since
                .as_ref()
                .map(|b| b.resolve(Local::now().fixed_offset()));
            oom::report(&settings.core, since)
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    // As grep: 0 when kills were found, 1 when none.
    Ok(if report.kills.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report as a table and notes, as printed.
fn render(report: &OomReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = match report.kills_since_boot {
        Some(n) => writeln!(
            out,
            "{} OOM kills in the log; {n} since boot by the kernel's count",
            report.kills.len()
        ),
        None => writeln!(out, "{} OOM kills in the log", report.kills.len()),
    };
    let _ = writeln!(
        out,
        "kernel log read: {}",
        report.kernel_log.as_deref().unwrap_or("none could be")
    );
    if !report.kills.is_empty() {
        let mut t = table();
        t.set_header([
            "TIME",
            "PID",
            "PROCESS",
            "RSS",
            "SERVICE",
            "RESTARTED",
            "CGROUP",
            "SEEN IN",
        ]);
        let or_dash = |v: Option<&str>| Cell::new(v.unwrap_or("-"));
        let right = CellAlignment::Right;
        for row in report.kills.iter().map(OomRow::of) {
            let restarted = row.restarted.as_ref().map(|how| format!("yes, {how}"));
            t.add_row(vec![
                or_dash(row.time.as_deref()),
                or_dash(row.pid.as_deref()).set_alignment(right),
                Cell::new(row.process.as_deref().unwrap_or("(unknown)")),
                or_dash(row.rss.as_deref()).set_alignment(right),
                or_dash(row.service.as_deref()),
                or_dash(restarted.as_deref()),
                or_dash(row.cgroup.as_deref()),
                Cell::new(&row.seen_in),
            ]);
        }
        let _ = writeln!(out, "\n{t}");
    }
    for s in &report.services {
        let _ = writeln!(
            out,
            "{}: {} OOM kill(s) counted by its cgroup {}",
            s.service, s.oom_kills, s.cgroup
        );
    }
    if let Some(note) = &report.note {
        let _ = writeln!(out, "\nnote: {note}");
    }
    if !report.unavailable.is_empty() {
        let _ = writeln!(out, "\nunavailable:");
        for u in &report.unavailable {
            let _ = writeln!(out, "  {}: {}", u.source, u.reason);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::fixture;

    #[test]
    fn kills_counts_note_and_unavailable_sources() {
        assert_eq!(
            render(&fixture::oom_report()),
            include_str!("../../tests/fixtures/render/cli_oom.txt")
        );
    }
}
