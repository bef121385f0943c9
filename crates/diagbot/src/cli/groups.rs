//! `diagbot groups`: lines grouped by template, most frequent first; or,
//! with `--assign`, each line's group.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use diagbot_core::groups::{self, GroupSummary, GroupsQuery, GroupsResult, LevelFilter};
use diagbot_core::query::JournalScope;
use diagbot_core::when::TimeBound;

use super::args::{exit_unless_nothing_read, load_settings, parse_when};
use crate::present::visible::one_line;
use crate::present::{format, warnings};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GroupsArgs {
    /// Mutes: `mute ID [--for 7d]`, `unmute ID`, `mutes` (through the running daemon).
    #[command(subcommand)]
    pub mutes: Option<super::mutes::MuteCommand>,
    /// A log file or directory (searched recursively, `.gz` included); repeatable.
    /// Default: the configured paths (logs.paths and the services' logs; /var/log
    /// without a configuration).
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A systemd unit whose journal entries are grouped (`bot` means
    /// `bot.service`); repeatable. Without --path, --unit or --journal: the
    /// configured services' units are read too.
    #[arg(long = "unit", value_name = "UNIT")]
    pub units: Vec<String>,
    /// Group the whole systemd journal's entries.
    #[arg(long)]
    pub journal: bool,
    /// The configuration file whose paths are read without --path, and whose
    /// [[formats]] read the files.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only lines at or after WHEN: a duration back from now (90s, 15m, 1h, 2d) or a time.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub since: Option<TimeBound>,
    /// Only lines at or before WHEN.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub until: Option<TimeBound>,
    /// Group lines at this level or worse: any, trace, debug, info, warning, error, fatal
    /// (`any`: lines without a level too).
    #[arg(long, value_name = "LEVEL", default_value = "warning", value_parser = LevelFilter::parse)]
    pub level: LevelFilter,
    /// Keep at most N groups; the least recently seen are merged into "other".
    /// Default: groups.max (5000); the daemon's own bound (1000) with --remote.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long, conflicts_with = "assign")]
    pub json: bool,
    /// Print `PATH:LINE<TAB>GROUP_ID` for every line grouped, in file order.
    #[arg(long)]
    pub assign: bool,
    /// Ask the diagbot daemon at this URL (http://HOST:PORT) instead of reading
    /// here: its answer, cached, over its own paths (or --path, within them).
    #[arg(long, value_name = "URL", conflicts_with_all = ["assign", "config"])]
    pub remote: Option<String>,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?} is not a number of groups (1 or more)")),
    }
}

pub fn run(mut args: GroupsArgs) -> anyhow::Result<ExitCode> {
    if let Some(command) = args.mutes.take() {
        return super::mutes::run(command);
    }
    let result = match &args.remote {
        Some(url) => ask(url, &args)?,
        None => group_here(&args)?,
    };
    let nothing_read =
        super::render::nothing_read(result.files_searched, result.bytes_scanned, &result.skipped);
    let exit = exit_unless_nothing_read(nothing_read, result.lines_considered);
    if args.assign {
        print_assigned(&result)?;
    } else if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_groups(&result, args.level);
    }
    Ok(exit)
}

/// The daemon's answer to the same question (`GET /api/v1/groups`).
fn ask(url: &str, args: &GroupsArgs) -> anyhow::Result<GroupsResult> {
    let mut params = vec![("level", args.level.name().to_string())];
    if let Some(max) = args.max {
        params.push(("max", max.to_string()));
    }
    if let Some(b) = &args.since {
        params.push(("since", b.canonical()));
    }
    if let Some(b) = &args.until {
        params.push(("until", b.canonical()));
    }
    if !args.paths.is_empty() {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        params.push(("paths", paths.join(",")));
    }
    for unit in &asked_journal(args)?.units {
        params.push(("unit", unit.clone()));
    }
    if args.journal {
        params.push(("journal", "true".into()));
    }
    super::remote::get_json(url, "/api/v1/groups", &params)
}

/// Groups the files here, as configured.
fn group_here(args: &GroupsArgs) -> anyhow::Result<GroupsResult> {
    let asked = asked_journal(args)?;
    let (settings, _) = load_settings(args.config.as_deref())?;
    let named_nothing = args.paths.is_empty() && asked.is_empty();
    let (paths, journal) = if named_nothing {
        (
            settings.core.log_paths.clone(),
            settings.core.service_units(),
        )
    } else {
        (args.paths.clone(), asked)
    };
    let query = GroupsQuery {
        journal,
        journal_source: settings.core.journal(),
        since: args.since.clone(),
        until: args.until.clone(),
        level: args.level,
        max_groups: args.max.unwrap_or(settings.core.groups.max),
        formats: settings.core.formats,
        assign: args.assign,
        max_decompressed: settings.core.max_decompressed,
        ..GroupsQuery::new(paths)
    };
    let now = chrono::Local::now().fixed_offset();
    Ok(groups::run(&query, now, &|_| {})?)
}

/// The journal's entries `--unit` and `--journal` ask for (a bad name refused).
fn asked_journal(args: &GroupsArgs) -> anyhow::Result<JournalScope> {
    if args.journal {
        return Ok(JournalScope::whole());
    }
    Ok(JournalScope::units(&args.units)?)
}

/// `PATH:LINE<TAB>ID`, one per grouped line, in file order.
fn print_assigned(result: &GroupsResult) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for a in &result.assigned {
        let (path, id) = (&result.paths[a.file as usize], result.id_of(a));
        for line in a.first_line..a.first_line + u64::from(a.lines) {
            writeln!(out, "{}:{line}\t{id}", one_line(path))?;
        }
    }
    out.flush()
}

fn print_groups(result: &GroupsResult, level: LevelFilter) {
    let at = match level {
        LevelFilter::Any => "lines".to_string(),
        LevelFilter::AtLeast(l) => format!("{} lines and worse", l.name()),
    };
    println!(
        "{} groups of {} {at} in {} of {} files; {} scanned",
        result.groups.len(),
        result.lines_considered,
        files_with_lines(result),
        result.files_searched,
        format::bytes(result.bytes_scanned),
    );
    for w in &result.warnings {
        println!(
            "warning: {}: {}",
            one_line(&w.path),
            warnings::sentence(w, "--since/--until")
        );
    }
    for (i, g) in result.groups.iter().enumerate() {
        print_group(i + 1, g);
    }
    if let Some(o) = &result.other {
        println!(
            "\nother: {} older groups merged, {} lines ({}…{})",
            o.groups,
            o.count,
            time(o.first_seen),
            time(o.last_seen)
        );
    }
    for s in &result.skipped {
        println!("skipped: {}: {}", one_line(&s.path), one_line(&s.reason));
    }
}

/// Files with a grouped line.
fn files_with_lines(result: &GroupsResult) -> usize {
    let mut files: Vec<&String> = result.groups.iter().flat_map(|g| &g.files).collect();
    files.sort();
    files.dedup();
    files.len()
}

fn print_group(rank: usize, g: &GroupSummary) {
    println!("\n{rank:>3}. {}", one_line(&g.template));
    println!(
        "     {} · {} · {}× ({:.1}%) · first {} · last {}",
        g.id,
        g.level.map_or("no level", |l| l.name()),
        g.count,
        g.share * 100.0,
        time(g.first_seen),
        time(g.last_seen)
    );
    let more = if g.more_files > 0 {
        format!(" and {} more", g.more_files)
    } else {
        String::new()
    };
    println!("     in {}{more}", one_line(&g.files.join(", ")));
    println!("     e.g. {}", one_line(&g.example));
}

fn time(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}
