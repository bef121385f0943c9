//! The bot's commands: each is parsed into a question for the core (the same
//! `Query`, through the same cache, as the CLI and HTTP ask), and the answer is
//! rendered as Telegram HTML.

use std::path::{Path, PathBuf};

use diagbot_core::logs::level::Level;
use diagbot_core::probe::oom;
use diagbot_core::query::{JournalScope, LineSource, Query, QueryKind, SearchResult};
use diagbot_core::when::TimeBound;

use super::render::{escape, refused, with_lines_and_tail};
use super::views;
use crate::present::refusal::Refusal;
use crate::present::{format, warnings, StatusView};
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Status,
    Services,
    Errors {
        service: Option<String>,
        since: Option<String>,
    },
    Grep {
        pattern: String,
        since: Option<String>,
    },
    Oom {
        since: Option<String>,
    },
    Top {
        service: Option<String>,
        since: Option<String>,
    },
    History {
        service: Option<String>,
        since: Option<String>,
    },
    Explain {
        service: String,
        since: Option<String>,
    },
    Mute {
        id: String,
        span: Option<String>,
        /// An id no watch has seen yet.
        force: bool,
    },
    Unmute {
        id: String,
    },
    Mutes,
    Cache,
}

impl Command {
    /// The name counted in the metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::Status => "status",
            Command::Services => "services",
            Command::Errors { .. } => "errors",
            Command::Grep { .. } => "grep",
            Command::Oom { .. } => "oom",
            Command::Top { .. } => "top",
            Command::History { .. } => "history",
            Command::Explain { .. } => "explain",
            Command::Mute { .. } => "mute",
            Command::Unmute { .. } => "unmute",
            Command::Mutes => "mutes",
            Command::Cache => "cache",
        }
    }

    /// Whether answering may take a while (a scan or a probe).
    pub fn is_slow(&self) -> bool {
        !matches!(self, Command::Help | Command::Cache)
    }
}

/// `/grep@diagbot_bot timeout 1h` → `Grep { "timeout", Some("1h") }`. Anything
/// that is not a known command asks for help.
pub fn parse(text: &str) -> Command {
    let text = text.trim();
    let (head, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    // In groups commands come as /cmd@botname.
    let name = head.split('@').next().unwrap_or(head).to_ascii_lowercase();
    let rest = rest.trim();
    let since = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match name.as_str() {
        "/status" => Command::Status,
        "/services" => Command::Services,
        "/errors" => {
            let (service, range) = service_and_range(rest);
            Command::Errors {
                service: since(service),
                since: since(range),
            }
        }
        "/oom" => Command::Oom { since: since(rest) },
        "/top" => {
            let (service, range) = service_and_range(rest);
            Command::Top {
                service: since(service),
                since: since(range),
            }
        }
        "/history" => {
            let (service, range) = service_and_range(rest);
            Command::History {
                service: since(service),
                since: since(range),
            }
        }
        "/explain" if !rest.is_empty() => {
            let (service, range) = service_and_range(rest);
            if service.is_empty() {
                Command::Help
            } else {
                Command::Explain {
                    service: service.to_string(),
                    since: since(range),
                }
            }
        }
        "/cache" => Command::Cache,
        "/mutes" => Command::Mutes,
        "/mute" if !rest.is_empty() => {
            // `/mute ID [for] [force]`.
            let mut words: Vec<&str> = rest.split_whitespace().collect();
            let force = words.last() == Some(&"force");
            if force {
                words.pop();
            }
            Command::Mute {
                id: words.first().copied().unwrap_or_default().to_string(),
                span: since(&words.get(1..).map(|w| w.join(" ")).unwrap_or_default()),
                force,
            }
        }
        "/unmute" if !rest.is_empty() => Command::Unmute {
            id: rest.to_string(),
        },
        "/grep" if !rest.is_empty() => {
            // A last word that reads as a time is the window: "/grep timed out 1h".
            match rest.rsplit_once(char::is_whitespace) {
                Some((pattern, last)) if TimeBound::parse(last).is_ok() => Command::Grep {
                    pattern: pattern.trim().to_string(),
                    since: Some(last.to_string()),
                },
                _ => Command::Grep {
                    pattern: rest.to_string(),
                    since: None,
                },
            }
        }
        _ => Command::Help,
    }
}

/// A service and a range in either order: a last word that reads as a
/// time is the range ("bot 7d"); or the first, when the other word is not
/// one ("1h bot"); a lone word is whichever it reads as.
fn service_and_range(rest: &str) -> (&str, &str) {
    match rest.rsplit_once(char::is_whitespace) {
        Some((svc, last)) if TimeBound::parse(last).is_ok() => (svc.trim(), last),
        Some((first, svc)) if TimeBound::parse(first.trim()).is_ok() => (svc, first.trim()),
        _ if TimeBound::parse(rest).is_ok() => ("", rest),
        _ => (rest, ""),
    }
}

pub const HELP: &str = "<b>diagbot</b> answers:
/status — host memory, load, disks and services
/services — each service: state, RSS against its limit, restarts, trend
/errors [service] [since] — error counts and the last errors
/grep &lt;pattern&gt; [service] [since] — the last lines matching a regex
/oom [since] — OOM kills with their victims
/top [service] [since] — the most frequent kinds of warning and error
/history [service] [since] — memory, load and RSS over time (default 24h), and the events
/explain &lt;service&gt; [since] — which number in its log lines its memory climbs with (default 24h)
/mute &lt;id&gt; [for] [force] — no new-error alerts for a group (for 90s, 15m, 1h, 7d; else until /unmute; force: one not seen yet)
/unmute &lt;id&gt; — alerts for the group again
/mutes — the groups muted
/cache — diagbot's own cache
<i>since</i> is 90s, 15m, 1h, 2d or a time such as 2026-02-27T10:00; a <i>service</i> \
is read in its log files and its unit's journal (without one: every configured log).";

/// The answer to `cmd`, as Telegram HTML.
/// The reply to `cmd`, fitted to Telegram's length like every message.
pub async fn answer(state: &AppState, cmd: &Command) -> String {
    super::render::fit(&unfitted(state, cmd).await)
}

async fn unfitted(state: &AppState, cmd: &Command) -> String {
    match cmd {
        Command::Help => HELP.to_string(),
        Command::Status => status(state, false).await,
        Command::Services => status(state, true).await,
        Command::Errors { service, since } => match sources(state, service.as_deref()) {
            Ok(sources) => search(state, Query::errors, sources, since.as_deref()).await,
            Err(msg) => msg,
        },
        Command::Grep { pattern, since } => {
            // A last word that names a service reads as the service.
            let settings = state.settings();
            let named = pattern
                .rsplit_once(char::is_whitespace)
                .filter(|(_, last)| settings.core.services.iter().any(|s| s.name == *last));
            let (pattern, service) = match named {
                Some((p, svc)) => (p.trim(), Some(svc)),
                None => (pattern.as_str(), None),
            };
            let grep = |paths| Query::grep(pattern, paths);
            match sources(state, service) {
                Ok(sources) => search(state, grep, sources, since.as_deref()).await,
                Err(msg) => msg,
            }
        }
        Command::Oom { since } => oom_kills(state, since.as_deref()).await,
        Command::Top { service, since } => {
            let sources = match sources(state, service.as_deref()) {
                Ok(s) => s,
                Err(msg) => return msg,
            };
            match parse_since(since.as_deref()) {
                Ok(bound) => super::top::top(state, sources, bound, since.as_deref()).await,
                Err(msg) => msg,
            }
        }
        Command::History { service, since } => {
            super::history::history(state, service.as_deref(), since.as_deref()).await
        }
        Command::Explain { service, since } => explain(state, service, since.as_deref()).await,
        Command::Mute { id, span, force } => {
            super::mutes::mute(state, id, span.as_deref(), *force).await
        }
        Command::Unmute { id } => super::mutes::unmute(state, id).await,
        Command::Mutes => super::mutes::list(state).await,
        Command::Cache => cache(state),
    }
}

fn parse_since(since: Option<&str>) -> Result<Option<TimeBound>, String> {
    since
        .map(|s| {
            TimeBound::parse(s).map_err(|e| {
                format!(
                    "⚠ <b>{}</b> is not a time: {}",
                    escape(s),
                    escape(&e.to_string())
                )
            })
        })
        .transpose()
}

/// What a command reads: a service's log files and unit journal, or every
/// configured path and the services' units; an unknown service is said.
pub fn sources(
    state: &AppState,
    service: Option<&str>,
) -> Result<(Vec<PathBuf>, JournalScope), String> {
    let settings = state.settings();
    let core = &settings.core;
    let Some(name) = service else {
        return Ok((core.log_paths.clone(), core.service_units()));
    };
    let Some(svc) = core.services.iter().find(|s| s.name == name) else {
        let known: Vec<&str> = core.services.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "⚠ no service is named <b>{}</b>; the services: {}",
            escape(name),
            escape(&known.join(", "))
        ));
    };
    let unit = svc.unit.as_deref().filter(|_| core.journal.enabled);
    let journal = JournalScope::units(&unit.into_iter().collect::<Vec<_>>()).unwrap_or_default();
    Ok((svc.logs.clone(), journal))
}

/// Answers the question `query` builds over `sources`.
async fn search(
    state: &AppState,
    query: impl FnOnce(Vec<PathBuf>) -> Query,
    (paths, journal): (Vec<PathBuf>, JournalScope),
    since: Option<&str>,
) -> String {
    let since_bound = match parse_since(since) {
        Ok(b) => b,
        Err(msg) => return msg,
    };
    let settings = state.settings();
    let mut query = query(paths)
        .with_formats(settings.core.formats.clone())
        .with_journal(journal);
    query.since = since_bound;
    // /errors asks what the background refresh keeps warm (and what the HTTP
    // API asks by default), with the same formats, so it is answered from the
    // cache at once. A grep is
    // usually new: it asks for as many lines as a message can show.
    if matches!(query.kind, QueryKind::Grep { .. }) {
        query.max_lines = 100;
    }
    match state.diag.answer(&query).await {
        Ok((result, _)) => render_search(&query.kind, since, &result),
        Err(e) => refused(&Refusal::of_search(&e)),
    }
}

fn render_search(kind: &QueryKind, since: Option<&str>, r: &SearchResult) -> String {
    let window = since
        .map(|s| format!(" since {}", escape(s)))
        .unwrap_or_default();
    let since_arg = since
        .map(|s| format!(" --since {}", escape(s)))
        .unwrap_or_default();
    let (head, cli) = match kind {
        QueryKind::Errors => (
            format!(
                "<b>errors</b>{window}: {} error{} ({} fatal) and {} warnings in {} files",
                r.matches,
                if r.matches == 1 { "" } else { "s" },
                r.levels.get(Level::Fatal),
                r.levels.get(Level::Warning),
                r.files_searched
            ),
            format!("<code>diagbot errors{since_arg} --max-lines 1000</code>"),
        ),
        QueryKind::Grep { pattern, .. } => (
            format!(
                "<b>grep</b> <code>{}</code>{window}: {} matching lines in {} of {} files",
                escape(pattern),
                r.matches,
                r.files.len() as u64 + r.files_not_listed,
                r.files_searched
            ),
            format!(
                "<code>diagbot grep '{}'{since_arg} --max-lines 1000</code>",
                escape(pattern)
            ),
        ),
    };
    let mut head = head;
    if !r.skipped.is_empty() {
        head.push_str(&format!(
            "\n<i>{} file(s) could not be read</i>",
            r.skipped.len()
        ));
    }
    let lines: Vec<String> = r
        .lines
        .iter()
        .map(|l| match l.source {
            LineSource::File => format!("{}:{} {}", file_name(&l.path), l.line_number, l.text),
            LineSource::Journal => format!("{} {}", l.unit.as_deref().unwrap_or("journal"), l.text),
        })
        .collect();
    // Lines the answer itself left out (past max_lines) are not shown either.
    let not_in_answer = r.matches.saturating_sub(r.lines.len() as u64);
    with_lines_and_tail(&head, &lines, not_in_answer, &cli, &warnings_line(r))
}

/// The last line of an answer whose window could not place some files'
/// lines (a few named, the rest counted); empty when there are none.
fn warnings_line(r: &SearchResult) -> String {
    const NAMED: usize = 3;
    if r.warnings.is_empty() {
        return String::new();
    }
    let named: Vec<String> = r
        .warnings
        .iter()
        .take(NAMED)
        .map(|w| {
            let said = format!(
                "{}: {}",
                file_name(&w.path),
                warnings::sentence(w, "the window")
            );
            escape(&said)
        })
        .collect();
    let more = match r.warnings.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!("; {n} more file(s) too"),
    };
    format!("\n<i>⚠ {}{more}</i>", named.join("; "))
}

/// A path's last part: what a phone's width has room for.
fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or(path.to_string(), |f| f.to_string_lossy().into_owned())
}

async fn status(state: &AppState, services_only: bool) -> String {
    match state.status().await {
        Ok(status) => views::status(&StatusView::of(&status), services_only),
        Err(e) => format!("⚠ status failed: {}", escape(&e.to_string())),
    }
}

async fn oom_kills(state: &AppState, since: Option<&str>) -> String {
    let since_ms = match parse_since(since) {
        Ok(b) => b.map(|b| b.resolve(chrono::Local::now().fixed_offset())),
        Err(msg) => return msg,
    };
    let settings = state.settings();
    match tokio::task::spawn_blocking(move || oom::report(&settings.core, since_ms)).await {
        Ok(mut report) => {
            state.fill_returns(&mut report);
            views::oom(&report, since)
        }
        Err(e) => format!("⚠ the OOM report failed: {}", escape(&e.to_string())),
    }
}

async fn explain(state: &AppState, service: &str, since: Option<&str>) -> String {
    let since = match parse_since(since) {
        Ok(b) => b.map(|b| {
            b.resolve(chrono::Local::now().fixed_offset())
                .div_euclid(1000)
        }),
        Err(msg) => return msg,
    };
    match crate::history::explain::answer(state, service, since).await {
        Ok(explanation) => format!("<pre>{}</pre>", escape(&explanation.text)),
        Err(refusal) => refused(&refusal),
    }
}

fn cache(state: &AppState) -> String {
    let s = state.diag.cache().stats();
    format!(
        "<b>cache</b> {} answers, {} of {}\n{} hits, {} misses, {} scans, {} expired",
        s.entries,
        format::bytes(s.bytes),
        format::bytes(s.budget_bytes),
        s.hits,
        s.misses,
        s.loads,
        s.evictions_expired
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(parse("/status"), Command::Status);
        assert_eq!(parse("/status@diagbot_bot"), Command::Status);
        assert_eq!(
            parse("/errors 1h"),
            Command::Errors {
                service: None,
                since: Some("1h".into())
            }
        );
        assert_eq!(
            parse("/errors crypto-bot 1h"),
            Command::Errors {
                service: Some("crypto-bot".into()),
                since: Some("1h".into())
            }
        );
        assert_eq!(
            parse("/grep timed out 15m"),
            Command::Grep {
                pattern: "timed out".into(),
                since: Some("15m".into())
            }
        );
        assert_eq!(
            parse("/grep connection refused"),
            Command::Grep {
                pattern: "connection refused".into(),
                since: None
            }
        );
        assert_eq!(parse("/grep"), Command::Help);
        assert_eq!(parse("/frobnicate"), Command::Help);
        assert_eq!(parse("hello"), Command::Help);
        assert_eq!(parse("/oom"), Command::Oom { since: None });
        assert_eq!(
            parse("/mute@diagbot_bot 1298d872fc13a77e 7d"),
            Command::Mute {
                id: "1298d872fc13a77e".into(),
                span: Some("7d".into()),
                force: false,
            }
        );
        assert_eq!(
            parse("/mute 1298d872fc13a77e"),
            Command::Mute {
                id: "1298d872fc13a77e".into(),
                span: None,
                force: false,
            }
        );
        assert_eq!(
            parse("/mute 1298d872fc13a77e 1h force"),
            Command::Mute {
                id: "1298d872fc13a77e".into(),
                span: Some("1h".into()),
                force: true,
            }
        );
        assert_eq!(
            parse("/mute 1298d872fc13a77e force"),
            Command::Mute {
                id: "1298d872fc13a77e".into(),
                span: None,
                force: true,
            }
        );
        assert_eq!(parse("/mute"), Command::Help);
        let history = |service: Option<&str>, since: Option<&str>| Command::History {
            service: service.map(Into::into),
            since: since.map(Into::into),
        };
        assert_eq!(
            parse("/explain crypto-bot 2h"),
            Command::Explain {
                service: "crypto-bot".into(),
                since: Some("2h".into())
            }
        );
        assert_eq!(parse("/explain"), Command::Help);
        assert_eq!(parse("/history"), history(None, None));
        assert_eq!(parse("/history 7d"), history(None, Some("7d")));
        assert_eq!(
            parse("/history crypto-bot"),
            history(Some("crypto-bot"), None)
        );
        assert_eq!(
            parse("/history@diagbot_bot crypto-bot 2h"),
            history(Some("crypto-bot"), Some("2h"))
        );
        assert_eq!(
            parse("/unmute 1298d872fc13a77e"),
            Command::Unmute {
                id: "1298d872fc13a77e".into()
            }
        );
        assert_eq!(
            parse("/top@diagbot_bot 2h"),
            Command::Top {
                service: None,
                since: Some("2h".into())
            }
        );
        assert_eq!(
            parse("/top bot"),
            Command::Top {
                service: Some("bot".into()),
                since: None
            }
        );
    }

    /// Files a window could not place are the answer's last line, escaped:
    /// three named, the rest counted.
    #[test]
    fn window_warnings_are_the_last_line() {
        use diagbot_core::query::{FileWarning, ResultKind, TimestampProblem};
        let warning = |name: &str| FileWarning {
            path: format!("/var/log/{name}"),
            problem: TimestampProblem::NoTimestamps,
            lines_with_time: 0,
            lines: 40,
        };
        let mut r = SearchResult {
            kind: ResultKind::Grep,
            matches: 0,
            levels: Default::default(),
            files_searched: 5,
            bytes_scanned: 0,
            long_lines_cut: 0,
            files: Vec::new(),
            files_not_listed: 0,
            skipped: Vec::new(),
            warnings: ["a<b>.log", "b.log", "c.log", "d.log", "e.log"]
                .map(warning)
                .to_vec(),
            lines: Vec::new(),
            cut: Vec::new(),
            partial: None,
            elapsed: Default::default(),
        };
        let kind = QueryKind::Grep {
            pattern: "x".into(),
            ignore_case: false,
            fixed_strings: false,
        };
        let html = render_search(&kind, Some("1h"), &r);
        let last = html.lines().last().unwrap();
        assert_eq!(
            last,
            "<i>⚠ a&lt;b&gt;.log: no timestamps recognised in 40 lines; the window cannot \
             select its lines; b.log: no timestamps recognised in 40 lines; the window cannot \
             select its lines; c.log: no timestamps recognised in 40 lines; the window cannot \
             select its lines; 2 more file(s) too</i>"
        );
        r.warnings.clear();
        assert!(!render_search(&kind, Some("1h"), &r).contains('⚠'));
    }
}
