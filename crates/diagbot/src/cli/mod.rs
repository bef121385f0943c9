//! The command line: one file per subcommand, and the rendering they share.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use diagbot_core::when::TimeBound;

mod config;
mod errors;
mod grep;
mod oom;
mod progress;
mod remote;
pub mod render;
mod serve;
mod status;

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
    /// How the host stands: memory, swap, load, CPU, disks, uptime.
    Status(status::StatusArgs),
    /// OOM kills: when, the victim, its RSS and cgroup; and the kernel's count.
    Oom(oom::OomArgs),
    /// Run the daemon: background refresh, HTTP API and metrics.
    Serve(serve::ServeArgs),
    /// Check or print a configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

/// What every log command takes.
#[derive(Args)]
pub struct LogArgs {
    /// A log file or directory (searched recursively, `.gz` included); repeatable.
    /// Default: /var/log, or the daemon's configured paths with --remote.
    #[arg(long = "path", value_name = "PATH")]
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
    /// Ask the diagbot daemon at this URL (http://HOST:PORT) instead of scanning here.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

impl LogArgs {
    /// The paths to search: those given, else the default.
    pub fn paths(&self) -> Vec<PathBuf> {
        if self.paths.is_empty() {
            vec![PathBuf::from(DEFAULT_LOG_PATH)]
        } else {
            self.paths.clone()
        }
    }

    /// Fills `query`'s time window and answers it, here or from the daemon
    /// (which, without `--path`, searches its own configured paths).
    pub fn answer(
        &self,
        mut query: diagbot_core::Query,
    ) -> anyhow::Result<diagbot_core::SearchResult> {
        query.since = self.since.clone();
        query.until = self.until.clone();
        match &self.remote {
            Some(url) => remote::ask(url, &query, !self.paths.is_empty()),
            None => progress::search_with_progress(&query),
        }
    }
}

/// The configuration every command that needs one reads: `explicit`, else the
/// file `serve` would find; with the environment's overrides. Returns the file read.
pub fn load_settings(
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<(diagbot_core::config::Settings, Option<PathBuf>)> {
    let env = environment();
    let file = diagbot_core::config::find_config_file(explicit, &env);
    let settings = diagbot_core::config::load(file.as_deref(), &env)?;
    Ok((settings, file))
}

/// The process environment, for config overrides.
pub fn environment() -> std::collections::BTreeMap<String, String> {
    std::env::vars().collect()
}

fn parse_when(s: &str) -> Result<TimeBound, String> {
    TimeBound::parse(s).map_err(|e| e.to_string())
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Grep(args) => grep::run(args),
        Command::Errors(args) => errors::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Status(args) => status::run(args),
        Command::Oom(args) => oom::run(args),
        Command::Config(command) => config::run(command),
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
