//! `diagbot history`: what the store kept over a range — min, max and mean
//! per step for each series, and the events — read from the database file
//! (read-only) or asked of the daemon with `--remote`.

use std::fmt::Write;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use comfy_table::{Cell, CellAlignment};
use diagbot_core::when::TimeBound;

use super::args::{load_settings, parse_when, refused};
use super::render::table;
use crate::history::model::{HistoryAnswer, HistoryRequest};
use crate::history::{plan, series};
use crate::present::format::sparkline;

/// Rows a table aims for when no step is asked.
const TABLE_ROWS: u64 = 24;

#[derive(Clone, Copy, ValueEnum)]
pub enum Metric {
    /// Each service's RSS (the default with --service).
    Rss,
    /// The host's used and available memory, and swap.
    Memory,
    /// The host's 1-minute load.
    Load,
    /// Error lines: the service's with --service, else the `errors` refresh query's.
    Errors,
}

#[derive(Args)]
pub struct HistoryArgs {
    /// Only this service (its RSS unless --metric says otherwise).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Which figures: rss, memory, load or errors. Default: the host's memory
    /// and load and each service's RSS.
    #[arg(long, value_enum)]
    pub metric: Option<Metric>,
    /// From WHEN: a duration back from now (24h, 7d) or a time.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true, default_value = "24h")]
    pub since: TimeBound,
    /// Until WHEN (default: now).
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub until: Option<TimeBound>,
    /// Seconds per point (60, 5m, 1h). Default: about 24 rows over the range.
    #[arg(long, value_name = "STEP", value_parser = parse_step)]
    pub step: Option<u64>,
    /// Print one JSON object (as /api/v1/history answers) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Ask the diagbot daemon at this URL instead of reading the database file.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The configuration file (for storage.path and the services).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_step(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .or_else(|_| diagbot_core::when::parse_duration(s).map(|d| d.as_secs()))
        .map_err(|_| format!("{s:?} is not a step such as 60, 5m or 1h"))
}

pub fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let now = chrono::Local::now().fixed_offset();
    let until = args
        .until
        .as_ref()
        .map_or(now.timestamp() + 1, |b| b.resolve(now).div_euclid(1000));
    let since = args.since.resolve(now).div_euclid(1000);
    let local = match &args.remote {
        Some(_) => None,
        None => Some(load_settings(args.config.as_deref())?),
    };
    if let (Some(name), Some((settings, _))) = (&args.service, &local) {
        super::args::configured_service(settings, name)
            .map_err(|e| anyhow::anyhow!("--service: {e}"))?;
    }
    let services: Vec<String> = match (&args.service, &local) {
        (Some(s), _) => vec![s.clone()],
        (None, Some((settings, _))) => settings
            .core
            .services
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        (None, None) => Vec::new(),
    };
    let names = series_for(&args, &services);
    // JSON is the API's answer, so its step is the API's choice (the same
    // question gives the same points); a table is kept to about TABLE_ROWS rows.
    let step = args.step.or_else(|| {
        let range = (until - since).max(1) as u64;
        (!args.json).then(|| plan::nice_step(range.div_ceil(TABLE_ROWS)))
    });
    let req = HistoryRequest {
        series: names,
        since,
        until,
        step,
    };
    let source = match (&args.remote, &local) {
        (Some(url), _) => format!("the daemon at {url}"),
        (None, Some((settings, file))) => local_source(settings, file.as_deref()),
        (None, None) => unreachable!("settings are read without --remote"),
    };
    let mut answer: HistoryAnswer = match (&args.remote, local) {
        (Some(url), _) => {
            let mut params: Vec<(&str, String)> =
                req.series.iter().map(|s| ("series", s.clone())).collect();
            params.push(("since", since.to_string()));
            params.push(("until", until.to_string()));
            if let Some(step) = req.step {
                params.push(("step", step.to_string()));
            }
            super::remote::get_json(url, "/api/v1/history", &params)?
        }
        (None, Some((settings, _))) => read_local(&settings, &req)?,
        (None, None) => unreachable!("settings are read without --remote"),
    };
    // One service's history: its events, not every service's.
    if let Some(name) = &args.service {
        answer
            .events
            .retain(|e| e.service.as_deref() == Some(name.as_str()));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("History from {source}.\n");
        print!("{}", render(&answer, std::io::stdout().is_terminal()));
    }
    let empty = answer.series.iter().all(|s| s.points.is_empty()) && answer.events.is_empty();
    Ok(if empty {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The series the arguments ask for.
fn series_for(args: &HistoryArgs, services: &[String]) -> Vec<String> {
    let each = |what: &str| {
        services
            .iter()
            .map(|s| series::service(s, what))
            .collect::<Vec<_>>()
    };
    match (args.metric, &args.service) {
        (None, None) if args.remote.is_some() => Vec::new(),
        (None, None) => series::defaults(services),
        (None | Some(Metric::Rss), _) => each("rss"),
        (Some(Metric::Memory), _) => series::HOST_SERIES[..3]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        (Some(Metric::Load), _) => vec!["host.load1".into()],
        (Some(Metric::Errors), Some(_)) => each("errors"),
        (Some(Metric::Errors), None) => vec![series::query("errors")],
    }
}

/// Which file a local history comes from, and which configuration named it:
/// two daemons on one machine keep two histories.
fn local_source(settings: &crate::settings::DaemonSettings, file: Option<&Path>) -> String {
    let path = settings.storage.resolved_path(&|k| std::env::var(k).ok());
    match file {
        Some(config) => format!("{} (storage.path of {})", path.display(), config.display()),
        None => format!(
            "{} (the default storage.path; no configuration file)",
            path.display()
        ),
    }
}

/// Reads the configured database file read-only.
fn read_local(
    settings: &crate::settings::DaemonSettings,
    req: &HistoryRequest,
) -> anyhow::Result<HistoryAnswer> {
    let path = settings.storage.resolved_path(&|k| std::env::var(k).ok());
    if !path.exists() {
        anyhow::bail!(
            "no history at {} (storage.path): has `diagbot serve` run with [storage] enabled?",
            path.display()
        );
    }
    plan::check(req).map_err(refused)?;
    let ctx = plan::Context {
        now: chrono::Utc::now().timestamp(),
        sample_secs: settings.core.health.sample_interval.as_secs().max(1),
        retention: settings.storage.retention,
    };
    let step = plan::step_of(req, &ctx).map_err(refused)?;
    let mut conn = crate::store::read::open_read_only(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let version = crate::store::schema::version_of(&conn)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if version > crate::store::schema::VERSION {
        anyhow::bail!(
            "{} is from a newer diagbot (schema {version})",
            path.display()
        );
    }
    let tx = conn.transaction()?;
    let answer = plan::read(&tx, req, step, &ctx)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(answer)
}

/// Tables of points and events; a sparkline per series in a terminal.
fn render(answer: &HistoryAnswer, terminal: bool) -> String {
    let mut out = String::new();
    for s in &answer.series {
        let value = |v: f64| format_value(&s.unit, v);
        let _ = writeln!(
            out,
            "{} ({}, every {} s, {} points)",
            s.name,
            s.unit,
            s.step_seconds,
            s.points.len()
        );
        if s.points.is_empty() {
            let _ = writeln!(out, "  nothing recorded in this range\n");
            continue;
        }
        if terminal {
            let _ = writeln!(
                out,
                "  {}",
                sparkline(&s.points.iter().map(|p| p.3).collect::<Vec<_>>())
            );
        }
        let mut t = table();
        t.set_header(["TIME", "MIN", "MAX", "MEAN"]);
        let right = CellAlignment::Right;
        // Rows less than a minute apart would read alike to the minute.
        let seconds = s.step_seconds < 60;
        for (at, min, max, mean) in &s.points {
            t.add_row(vec![
                Cell::new(clock(*at, seconds)),
                Cell::new(value(*min)).set_alignment(right),
                Cell::new(value(*max)).set_alignment(right),
                Cell::new(value(*mean)).set_alignment(right),
            ]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    if answer.events.is_empty() {
        let _ = writeln!(out, "no events in this range");
    } else {
        let mut t = table();
        t.set_header(["TIME", "KIND", "SERVICE", "WHAT"]);
        for e in &answer.events {
            t.add_row(vec![
                Cell::new(clock(e.time, true)),
                Cell::new(&e.kind),
                Cell::new(e.service.as_deref().unwrap_or("-")),
                Cell::new(&e.message),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    out
}

fn format_value(unit: &str, v: f64) -> String {
    match unit {
        "bytes" => crate::present::format::bytes(v.max(0.0) as u64),
        "load" => format!("{v:.2}"),
        _ => format!("{v:.0}"),
    }
}

/// Local time to the minute, or to the second with `seconds`.
fn clock(at: i64, seconds: bool) -> String {
    use chrono::TimeZone;
    let format = if seconds {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    chrono::Local
        .timestamp_opt(at, 0)
        .single()
        .map_or_else(|| at.to_string(), |t| t.format(format).to_string())
}
