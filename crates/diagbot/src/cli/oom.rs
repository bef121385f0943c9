//! `diagbot oom`: OOM kills with their victims, from the kernel log and the
//! services' journals, and the kernel's and cgroups' own counts.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Local;
use clap::Args;
use comfy_table::{Cell, CellAlignment};
use diagbot_core::probe::oom::{self, OomReport};
use diagbot_core::when::TimeBound;

use super::render::{human_bytes, table};

#[derive(Args)]
pub struct OomArgs {
    /// Only kills at or after WHEN (90s, 15m, 1h, 2d, or a time).
    #[arg(long, value_name = "WHEN", value_parser = super::args::parse_when)]
    pub since: Option<TimeBound>,
    /// The configuration file (for `system.*`); as `serve` finds it otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: OomArgs) -> anyhow::Result<ExitCode> {
    let (settings, _) = super::args::load_settings(args.config.as_deref())?;
    let since = args
        .since
        .as_ref()
        .map(|b| b.resolve(Local::now().fixed_offset()));
    let report = oom::report(&settings.core, since);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    // As grep: 0 when kills were found, 1 when none.
    Ok(if report.kills.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(report: &OomReport) {
    match report.kills_since_boot {
        Some(n) => println!(
            "{} OOM kills in the log; {n} since boot by the kernel's count",
            report.kills.len()
        ),
        None => println!("{} OOM kills in the log", report.kills.len()),
    }
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
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        for k in &report.kills {
            t.add_row(vec![
                Cell::new(
                    k.time
                        .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                ),
                Cell::new(or_dash(k.pid.map(|p| p.to_string())))
                    .set_alignment(CellAlignment::Right),
                Cell::new(k.process.as_deref().unwrap_or("(unknown)")),
                Cell::new(or_dash(k.rss_bytes.map(human_bytes)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(k.service.as_deref().unwrap_or("-")),
                Cell::new(or_dash(
                    k.restart_counter.map(|c| format!("yes, restart {c}")),
                )),
                Cell::new(k.cgroup.as_deref().unwrap_or("-")),
                Cell::new(k.sources.join(", ")),
            ]);
        }
        println!("\n{t}");
    }
    for s in &report.services {
        println!(
            "{}: {} OOM kill(s) counted by its cgroup {}",
            s.service, s.oom_kills, s.cgroup
        );
    }
    if let Some(note) = &report.note {
        println!("\nnote: {note}");
    }
    if !report.unavailable.is_empty() {
        println!("\nunavailable:");
        for u in &report.unavailable {
            println!("  {}: {}", u.source, u.reason);
        }
    }
}
