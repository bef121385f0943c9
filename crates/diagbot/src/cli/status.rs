//! `diagbot status`: how the host stands (memory, swap, load, CPU, disks,
//! uptime), how each configured service stands (state, RSS against its limit,
//! restarts, last result), and diagbot's own footprint. Memory trends need
//! samples over time, which the daemon takes: `--remote` asks it.

use std::path::PathBuf;
use std::process::ExitCode;

use std::fmt::Write;

use clap::Args;
use comfy_table::{Cell, CellAlignment};
use diagbot_core::probe::host::HostCollector;
use diagbot_core::probe::{self, Status};

use super::render::table;
use crate::present::{HostView, ServiceView, StatusView, SwapView};

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
            let (settings, _) = super::args::load_settings(args.config.as_deref())?;
            // A new collector: its one reading samples CPU use for a moment.
            probe::status(
                &settings.core,
                &HostCollector::new(settings.core.proc_root.clone()),
            )
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
    let view = StatusView::of(status);
    let mut out = String::new();
    render_host(&mut out, &view.host);
    if !view.services.is_empty() {
        render_services(&mut out, &view.services);
    }
    if !view.host.unavailable.is_empty() {
        let _ = writeln!(out, "\nunavailable:");
        for u in &view.host.unavailable {
            let _ = writeln!(out, "  {}: {}", u.source, u.reason);
        }
    }
    out
}

fn render_host(out: &mut String, host: &HostView) {
    let mut t = table();
    let mut row = |what: &str, value: String| {
        t.add_row(vec![Cell::new(what), Cell::new(value)]);
    };
    if let Some(m) = &host.memory {
        row(
            "memory",
            format!("{} ({} used)", m.summary(), m.used_percent),
        );
    }
    match &host.swap {
        Some(SwapView::NoSwap) => row("swap", "none".into()),
        Some(SwapView::InUse(used)) => row("swap", used.clone()),
        None => {}
    }
    let lines = [
        ("load", &host.load),
        ("cpu", &host.cpu),
        ("uptime", &host.uptime),
        ("diagbot", &host.diagbot),
        ("history", &host.history),
    ];
    for (what, value) in lines {
        if let Some(value) = value {
            row(what, value.clone());
        }
    }
    let _ = writeln!(out, "{t}");
    if !host.disks.is_empty() {
        let mut disks = table();
        disks.set_header(["DISK", "DEVICE", "USED", "AVAILABLE", "SIZE"]);
        let right = CellAlignment::Right;
        for d in &host.disks {
            disks.add_row(vec![
                Cell::new(&d.mount),
                Cell::new(&d.device),
                Cell::new(&d.used_percent).set_alignment(right),
                Cell::new(&d.available).set_alignment(right),
                Cell::new(&d.size).set_alignment(right),
            ]);
        }
        let _ = writeln!(out, "\n{disks}");
    }
    if let Some(trend) = &host.memory_trend {
        let _ = writeln!(out, "\nhost memory: {trend}");
    }
}

fn render_services(out: &mut String, services: &[ServiceView]) {
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
    let or_dash = |v: Option<&str>| Cell::new(v.unwrap_or("-"));
    let right = CellAlignment::Right;
    for s in services {
        let limit = s.limit.as_ref().map(|l| {
            let share = l
                .used_percent
                .as_ref()
                .map(|p| format!(" ({p} used)"))
                .unwrap_or_default();
            format!("{}{share}, {}", l.size, l.source.as_deref().unwrap_or("?"))
        });
        t.add_row(vec![
            Cell::new(&s.name),
            or_dash(s.state.as_deref()),
            or_dash(s.pid.as_deref()).set_alignment(right),
            or_dash(s.rss.as_deref()).set_alignment(right),
            or_dash(limit.as_deref()),
            or_dash(s.restarts.map(|r| r.to_string()).as_deref()).set_alignment(right),
            or_dash(s.last_result.as_deref()),
            or_dash(s.running.as_deref()),
        ]);
    }
    let _ = writeln!(out, "\n{t}");
    for s in services {
        if let Some(trend) = &s.memory_trend {
            let _ = writeln!(out, "{}: memory {trend}", s.name);
        }
        if let Some(found) = &s.restart_loop {
            let _ = writeln!(out, "{}: restart loop: {found}", s.name);
        }
        if let Some(processes) = &s.processes {
            let _ = writeln!(out, "{}: {processes}", s.name);
        }
        for u in &s.unavailable {
            let _ = writeln!(out, "{}: {} unavailable: {}", s.name, u.source, u.reason);
        }
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
