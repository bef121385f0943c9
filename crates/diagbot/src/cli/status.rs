//! `diagbot status`: how the host stands (memory, swap, load, CPU, disks,
//! uptime), how each configured service stands (state, RSS against its limit,
//! restarts, last result), and diagbot's own footprint. Memory trends need
//! samples over time, which the daemon takes: `--remote` asks it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use comfy_table::{Cell, CellAlignment};
use diagbot_core::probe::service::ServiceStatus;
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
    /// Ask a running daemon (with its memory trends) instead of reading here.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let status: Status = match &args.remote {
        Some(url) => super::remote::get_json(url, "/api/v1/status", &[])?,
        None => {
            let (settings, _) = super::load_settings(args.config.as_deref())?;
            probe::status(&settings)
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status));
        if args.remote.is_none() && !status.services.is_empty() {
            println!("\nmemory trends come from the daemon's samples: diagbot status --remote http://127.0.0.1:9187");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The status as tables, as printed.
fn render(status: &Status) -> String {
    use std::fmt::Write;
    let mut out = String::new();
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
        let cache = status
            .diagbot
            .cache
            .map(|c| {
                format!(
                    ", cache {} answers in {} of {}",
                    c.entries,
                    human_bytes(c.bytes),
                    human_bytes(c.budget_bytes)
                )
            })
            .unwrap_or_default();
        row("diagbot", format!("RSS {}{cache}", human_bytes(rss)));
    }
    let _ = writeln!(out, "{t}");
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
        let _ = writeln!(out, "\n{disks}");
    }
    if let Some(trend) = &status.host_memory_trend {
        let _ = writeln!(out, "\nhost memory: {}", trend.text);
    }
    if !status.services.is_empty() {
        render_services(&mut out, &status.services);
    }
    if !host.unavailable.is_empty() {
        let _ = writeln!(out, "\nunavailable:");
        for u in &host.unavailable {
            let _ = writeln!(out, "  {}: {}", u.source, u.reason);
        }
    }
    out
}

fn render_services(out: &mut String, services: &[ServiceStatus]) {
    use std::fmt::Write;
    let mut t = table();
    t.set_header([
        "SERVICE",
        "STATE",
        "PID",
        "RSS",
        "LIMIT",
        "RESTARTS",
        "LAST RESULT",
        "RUNNING",
    ]);
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for s in services {
        let state = match (&s.state, &s.sub_state) {
            (Some(a), Some(b)) => format!("{a} ({b})"),
            (Some(a), None) => a.clone(),
            _ => "-".into(),
        };
        let limit = s.memory_limit_bytes.map(|l| {
            let share = s
                .memory_used_percent
                .map(|p| format!(" ({p:.0} % used)"))
                .unwrap_or_default();
            format!(
                "{}{share}, {}",
                human_bytes(l),
                s.memory_limit_source.as_deref().unwrap_or("?")
            )
        });
        let right = CellAlignment::Right;
        t.add_row(vec![
            Cell::new(&s.name),
            Cell::new(state),
            Cell::new(or_dash(s.main_pid.map(|p| p.to_string()))).set_alignment(right),
            Cell::new(or_dash(s.rss_bytes.map(human_bytes))).set_alignment(right),
            Cell::new(or_dash(limit)),
            Cell::new(or_dash(s.restarts.map(|r| r.to_string()))).set_alignment(right),
            Cell::new(or_dash(s.last_result.clone())),
            Cell::new(or_dash(s.running_secs.map(duration))),
        ]);
    }
    let _ = writeln!(out, "\n{t}");
    for s in services {
        if let Some(trend) = &s.memory_trend {
            let _ = writeln!(out, "{}: memory {}", s.name, trend.text);
            if let Some(found) = &trend.restart_loop {
                let _ = writeln!(out, "{}: restart loop: {}", s.name, found.text);
            }
        }
        for u in &s.unavailable {
            let _ = writeln!(out, "{}: {} unavailable: {}", s.name, u.source, u.reason);
        }
    }
}

/// "3 d 4 h", "2 h 5 min", "40 s".
fn duration(secs: f64) -> String {
    let s = secs as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86400, s / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::fixture;

    /// Every part of a status, as people read it (the expected text is
    /// what `diagbot status` printed before the renderers shared a view).
    #[test]
    fn tables_of_a_status_with_every_part() {
        assert_eq!(
            render(&fixture::status()),
            include_str!("../../tests/fixtures/render/cli_status.txt")
        );
    }

    #[test]
    fn no_swap_reads_none_and_empty_parts_are_left_out() {
        assert_eq!(
            render(&fixture::bare_status()),
            include_str!("../../tests/fixtures/render/cli_status_bare.txt")
        );
    }
}
