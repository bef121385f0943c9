//! `diagbot status`: how the host stands (memory, swap, load, CPU, disks,
//! uptime) and diagbot's own footprint.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use comfy_table::{Cell, CellAlignment};
use diagbot_core::probe::{self, Status};

use super::render::{human_bytes, table};

#[derive(Args)]
pub struct StatusArgs {
    /// The configuration file (for `system.proc_root`); as `serve` finds it otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let (settings, _) = super::load_settings(args.config.as_deref())?;
    let status = probe::status(&settings.proc_root);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print(&status);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(status: &Status) {
    let host = &status.host;
    let mut t = table();
    let mut row = |what: &str, value: String| {
        t.add_row(vec![Cell::new(what), Cell::new(value)]);
    };
    if let Some(m) = &host.memory {
        row(
            "memory",
            format!(
                "{} used of {}, {} available ({:.0} % used)",
                human_bytes(m.used_bytes),
                human_bytes(m.total_bytes),
                human_bytes(m.available_bytes),
                100.0 * m.used_bytes as f64 / m.total_bytes.max(1) as f64
            ),
        );
    }
    if let Some(s) = &host.swap {
        row(
            "swap",
            if s.total_bytes == 0 {
                "none".to_string()
            } else {
                format!(
                    "{} used of {}",
                    human_bytes(s.used_bytes),
                    human_bytes(s.total_bytes)
                )
            },
        );
    }
    if let Some([a, b, c]) = host.load {
        row("load", format!("{a:.2} {b:.2} {c:.2}"));
    }
    if let Some(cpu) = host.cpu_percent {
        row("cpu", format!("{cpu:.0} % busy"));
    }
    if let Some(up) = host.uptime_secs {
        let minutes = (up / 60.0) as u64;
        row(
            "uptime",
            format!(
                "{} d {} h {} min",
                minutes / 1440,
                minutes / 60 % 24,
                minutes % 60
            ),
        );
    }
    if let Some(rss) = status.diagbot.rss_bytes {
        row("diagbot", format!("RSS {}", human_bytes(rss)));
    }
    println!("{t}");
    if !host.disks.is_empty() {
        let mut disks = table();
        disks.set_header(["DISK", "DEVICE", "USED", "AVAILABLE", "SIZE"]);
        for d in &host.disks {
            disks.add_row(vec![
                Cell::new(&d.mount),
                Cell::new(&d.device),
                Cell::new(format!("{:.0} %", d.used_percent)).set_alignment(CellAlignment::Right),
                Cell::new(human_bytes(d.available_bytes)).set_alignment(CellAlignment::Right),
                Cell::new(human_bytes(d.total_bytes)).set_alignment(CellAlignment::Right),
            ]);
        }
        println!("\n{disks}");
    }
    if !host.unavailable.is_empty() {
        println!("\nunavailable:");
        for u in &host.unavailable {
            println!("  {}: {}", u.source, u.reason);
        }
    }
}
