//! What the subcommands share: the log arguments, the configuration they
//! read, the environment, and grep's exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use diagbot_core::when::TimeBound;
use diagbot_core::workers::ScanThreads;

use super::{progress, remote};

/// Where logs are searched when no `--path` is given.
pub const DEFAULT_LOG_PATH: &str = "/var/log";

/// What every log command takes.
#[derive(Args)]
pub struct LogArgs {
    /// A log file or directory (searched recursively, `.gz` included); repeatable.
    /// Default: the configured paths (logs.paths and the services' logs; /var/log
    /// without a configuration), or the daemon's with --remote.
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A systemd unit whose journal entries are read (`bot` means
    /// `bot.service`, as in journalctl -u); repeatable. Without --path,
    /// --unit or --journal: the configured services' units are read too.
    #[arg(long = "unit", value_name = "UNIT")]
    pub units: Vec<String>,
    /// Read the whole systemd journal, every unit's entries and the kernel's.
    #[arg(long)]
    pub journal: bool,
    /// The configuration file whose paths are searched without --path, and
    /// whose [[formats]] read the files (else $DIAGBOT_CONFIG,
    /// /etc/diagbot/diagbot.toml, ./diagbot.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only lines at or after WHEN: a duration back from now (90s, 15m, 1h, 2d) or a time (2026-01-27T10:00:00).
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub since: Option<TimeBound>,
    /// Only lines at or before WHEN.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub until: Option<TimeBound>,
    /// How many of the last matching lines to show (`--lines` is the same).
    #[arg(long, value_name = "N", default_value_t = 20, visible_alias = "lines")]
    pub max_lines: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// List every file skipped (or read incompletely) and why, not just the counts.
    #[arg(short, long)]
    pub verbose: bool,
    /// Ask the diagbot daemon at this URL (http://HOST:PORT) instead of scanning here.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Scan this many files (or parts of a large file) at once. Default: the
    /// number of cores (also for 0), like ripgrep. The answer is the same for any number.
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

impl LogArgs {
    /// The question `build` makes over the paths to search: those given, else
    /// the configured ones; read with the configured `[[formats]]` (the
    /// daemon uses its own paths and formats with --remote).
    pub fn query(
        &self,
        build: impl FnOnce(Vec<PathBuf>) -> diagbot_core::Query,
    ) -> anyhow::Result<Asked> {
        let asked_journal = self.asked_journal()?;
        if self.remote.is_some() {
            let paths = if self.paths.is_empty() && asked_journal.is_empty() {
                vec![PathBuf::from(DEFAULT_LOG_PATH)]
            } else {
                self.paths.clone()
            };
            return Ok(Asked {
                query: build(paths).with_journal(asked_journal),
                max_decompressed: diagbot_core::engine::DEFAULT_MAX_DECOMPRESSED,
                journal: None,
            });
        }
        // Read even with --path: the formats say how the given files read.
        let (settings, _) = load_settings(self.config.as_deref())?;
        let journal = settings.core.journal();
        let (paths, scope) = if self.named_nothing() {
            (
                settings.core.log_paths.clone(),
                settings.core.service_units(),
            )
        } else {
            (self.paths.clone(), asked_journal)
        };
        Ok(Asked {
            query: build(paths)
                .with_formats(settings.core.formats)
                .with_journal(scope),
            max_decompressed: settings.core.max_decompressed,
            journal,
        })
    }

    /// Whether neither files nor the journal were named: the configured
    /// paths and the services' units are read.
    fn named_nothing(&self) -> bool {
        self.paths.is_empty() && self.units.is_empty() && !self.journal
    }

    /// The journal's entries `--unit` and `--journal` ask for; a name that
    /// is not a unit name is refused here, before anything runs.
    fn asked_journal(&self) -> anyhow::Result<diagbot_core::query::JournalScope> {
        use diagbot_core::query::JournalScope;
        if self.journal {
            return Ok(JournalScope::whole());
        }
        Ok(JournalScope::units(&self.units)?)
    }

    /// Fills `query`'s time window and answers it, here or from the daemon
    /// (which, without `--path`, searches its own configured paths).
    pub fn answer(&self, asked: Asked) -> anyhow::Result<diagbot_core::SearchResult> {
        let Asked {
            mut query,
            max_decompressed,
            journal,
        } = asked;
        query.since = self.since.clone();
        query.until = self.until.clone();
        match &self.remote {
            Some(url) => remote::ask(url, &query, !self.named_nothing()),
            None => {
                let threads = self
                    .threads
                    .filter(|&n| n > 0)
                    .map_or_else(ScanThreads::all_cores, ScanThreads::new);
                let engine = diagbot_core::Engine::one_shot()
                    .with_threads(threads)
                    .with_journal(journal);
                // The configured bound on `.gz` files holds here too.
                engine.set_max_decompressed(max_decompressed);
                progress::search_with_progress(&engine, &query)
            }
        }
    }
}

/// A question built from the arguments and the configuration, with what of
/// the configuration answering it here needs.
pub struct Asked {
    /// The question; its window is filled by [`LogArgs::answer`].
    pub query: diagbot_core::Query,
    /// `logs.max_decompressed` of the configuration read.
    max_decompressed: u64,
    /// The journal of the configuration read (`None`: off, or asked remotely).
    journal: Option<diagbot_core::journal::Journal>,
}

/// A refused question as the command line says it: the option to fix
/// first (the main function prints it and exits 2).
pub fn refused(refusal: crate::present::refusal::Refusal) -> anyhow::Error {
    match refusal.parameter() {
        Some(option) => anyhow::anyhow!("--{}: {refusal}", option.replace('_', "-")),
        None => anyhow::anyhow!("{refusal}"),
    }
}

/// The configured service named `name`, or an error naming the services
/// there are.
pub fn configured_service<'s>(
    settings: &'s crate::settings::DaemonSettings,
    name: &str,
) -> anyhow::Result<&'s diagbot_core::config::ServiceConfig> {
    let services = &settings.core.services;
    services.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        anyhow::anyhow!(
            "no service {name:?} in the configuration (services: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )
    })
}

/// The configuration every command that needs one reads: `explicit`, else the
/// file `serve` would find; with the environment's overrides. Returns the file read.
pub fn load_settings(
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<(crate::settings::DaemonSettings, Option<PathBuf>)> {
    let env = environment();
    let file = diagbot_core::config::find_config_file(explicit, &env);
    let settings = crate::settings::load(file.as_deref(), &env)?;
    Ok((settings, file))
}

/// The process environment, for config overrides. A variable whose name or
/// value is not UTF-8 cannot be a setting: it is left out (and said, when
/// it looks like one of diagbot's), never a panic.
pub fn environment() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| match (name.to_str(), value.to_str()) {
            (Some(n), Some(v)) => Some((n.to_string(), v.to_string())),
            _ => {
                let name = name.to_string_lossy();
                if name.starts_with(diagbot_core::config::ENV_PREFIX) {
                    eprintln!("diagbot: ignoring {name}: its name or value is not UTF-8");
                }
                None
            }
        })
        .collect()
}

/// A `--since`/`--until` value (`-1h` is an hour back, as `1h` is).
pub fn parse_when(s: &str) -> Result<TimeBound, String> {
    TimeBound::parse(s).map_err(|e| e.to_string())
}

/// A search's exit code: 2 when nothing could be read (said first, on
/// stderr), else grep's: 0 something matched, 1 nothing did.
pub fn exit_for_answer(result: &diagbot_core::SearchResult) -> ExitCode {
    exit_unless_nothing_read(
        super::render::nothing_read(result.files_searched, result.bytes_scanned, &result.skipped),
        result.matches,
    )
}

/// 2 (saying `nothing_read` first, on stderr) when nothing could be read,
/// else grep's exit code for `found`.
pub fn exit_unless_nothing_read(nothing_read: Option<String>, found: u64) -> ExitCode {
    match nothing_read {
        Some(why) => {
            eprintln!("diagbot: error: {why}");
            ExitCode::from(2)
        }
        None => exit_for(found),
    }
}

/// grep's exit codes: 0 something matched, 1 nothing did.
pub fn exit_for(matches: u64) -> ExitCode {
    if matches > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
