//! The command line: one file per subcommand, what they share in `args`,
//! and the rendering in `render`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod args;
mod config;
mod errors;
mod explain;
mod formats;
mod grep;
mod groups;
mod head;
mod history;
mod mutes;
mod oom;
mod progress;
mod remote;
pub mod render;
mod serve;
mod status;

#[derive(Parser)]
#[command(
    name = "diagbot",
    // The version and the commit it was built from (build.rs).
    version = env!("LONG_VERSION"),
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
    /// Group log lines by template: which kinds of error, how many, since when.
    ///
    /// Lines at --level or worse (default warning), their header (time,
    /// level, pid, component) aside, grouped by what stays the same from line
    /// to line (numbers, addresses, ids and paths shown as <num>, <ip>, <hex>,
    /// <uuid>, <path>, the rest as <*>); a traceback goes with the line above
    /// it. Each group: template, lines, share, first and last seen, level,
    /// files, the newest line, and an id that is the same in every run.
    /// Exit 0 when lines were grouped, 1 when none, 2 on an error.
    ///
    /// `groups mute ID [--for 7d]`, `groups unmute ID` and `groups mutes`
    /// silence a group's new-error alerts: they ask the running daemon,
    /// whose history store keeps the mutes (it is their one writer).
    Groups(groups::GroupsArgs),
    /// How the host and its services stand: memory, swap, load, CPU, disks, uptime, services.
    ///
    /// The host's memory, swap, load, CPU use, uptime and disks; then each
    /// configured service (`[[services]]`: a systemd unit or a process match):
    /// state, main PID, RSS against its memory limit, restarts, last result and
    /// running time. Memory trends, projected OOMs and restart loops need the
    /// daemon's samples over time: `--remote http://127.0.0.1:9187` asks it.
    Status(status::StatusArgs),
    /// OOM kills: when, the victim, its RSS and cgroup; and the kernel's count.
    Oom(oom::OomArgs),
    /// What the daemon kept over time: memory, load, each service's RSS, events.
    ///
    /// Min, max and mean per step for each series, and the events (OOM kills,
    /// restarts, projected OOMs, error bursts) in the range; a sparkline per
    /// series in a terminal. Reads the database file read-only (storage.path)
    /// or asks the daemon with --remote. Exit 0 when something was recorded,
    /// 1 when nothing was, 2 on an error.
    History(history::HistoryArgs),
    /// Which number in a service's own log lines its memory climbs with.
    ///
    /// Every number of every message template in the service's logs is set
    /// against its memory samples (the daemon's history), step by step
    /// within each run of its process: the best is named with r, the
    /// samples behind it and about how much memory each unit of it takes.
    /// Reads the database file read-only (storage.path) and the logs, or asks
    /// the daemon with --remote. Exit 0 when a number was found, 1 when
    /// none, 2 on an error.
    Explain(explain::ExplainArgs),
    /// Run the daemon: background refresh, health sampling, HTTP API, metrics, Telegram.
    ///
    /// Keeps the common questions (errors, warnings, tracebacks, OOM and
    /// timeout lines) answered in a bounded cache refreshed in the background;
    /// samples each service's memory, restarts and OOM kills and warns before a
    /// leak reaches its limit, about restart loops and error bursts; serves the
    /// JSON API and Prometheus metrics on http.listen (127.0.0.1:9187); and,
    /// with telegram.token set, answers and alerts in Telegram. SIGHUP reloads
    /// the configuration; SIGTERM stops within 5 s.
    Serve(serve::ServeArgs),
    /// Check or print a configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Test how a log file's lines are read: timestamps, levels, [[formats]].
    #[command(subcommand)]
    Formats(formats::FormatsCommand),
    /// Print a shell completion script: `diagbot completions bash > /etc/bash_completion.d/diagbot`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `diagbot man > /usr/local/share/man/man1/diagbot.1`;
    /// with `--dir DIR`, write it and every subcommand's page (diagbot-grep.1, …) there.
    Man {
        /// A directory to write every page into.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Grep(args) => grep::run(args),
        Command::Errors(args) => errors::run(args),
        Command::Groups(args) => groups::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Status(args) => status::run(args),
        Command::Oom(args) => oom::run(args),
        Command::History(args) => history::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Config(command) => config::run(command),
        Command::Formats(command) => formats::run(command),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "diagbot",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: None } => {
            // As in the pages written by --dir: `help` has no page to name.
            let command = Cli::command().disable_help_subcommand(true);
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: Some(dir) } => {
            clap_mangen::generate_to(Cli::command(), &dir).map_err(|e| {
                anyhow::anyhow!("cannot write the man pages into {}: {e}", dir.display())
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
