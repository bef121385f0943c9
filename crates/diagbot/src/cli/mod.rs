//! The command line: one file per subcommand, what they share in `args`,
//! and the rendering in `render`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod config;
mod errors;
mod grep;
mod oom;
mod progress;
mod remote;
pub mod render;
mod serve;
mod status;

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
