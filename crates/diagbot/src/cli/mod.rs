//! The command line: one file per subcommand, and the rendering they share.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use diagbot_core::when::TimeBound;

mod errors;
mod grep;
mod progress;
mod render;

/// Where logs are searched when no `--path` is given.
pub const DEFAULT_LOG_PATH: &str = "/var/log";

#[derive(Parser)]
#[command(
    name = "diagbot",
    version,
    about = "Diagnostics for small servers: log errors, search, memory and OOM kills"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Search logs for a pattern: counts, and the last matching lines.
    Grep(grep::GrepArgs),
    /// Count log lines by level and show the last error lines.
    Errors(errors::ErrorsArgs),
}

/// What every log command takes.
#[derive(Args)]
pub struct LogArgs {
    /// A log file or directory (searched recursively, `.gz` included); repeatable.
    #[arg(long = "path", value_name = "PATH", default_value = DEFAULT_LOG_PATH)]
    pub paths: Vec<PathBuf>,
    /// Only lines at or after WHEN: a duration back from now (90s, 15m, 1h, 2d) or a time (2026-01-27T10:00:00).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub since: Option<TimeBound>,
    /// Only lines at or before WHEN.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub until: Option<TimeBound>,
    /// How many of the last matching lines to show.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_lines: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

fn parse_when(s: &str) -> Result<TimeBound, String> {
    TimeBound::parse(s).map_err(|e| e.to_string())
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Grep(args) => grep::run(args),
        Command::Errors(args) => errors::run(args),
    }
}

/// grep's exit codes: 0 something matched, 1 nothing did.
fn exit_for(matches: u64) -> ExitCode {
    if matches > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
