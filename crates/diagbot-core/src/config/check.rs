//! From the core's raw sections to checked [`Settings`], and back: every rule
//! a value must keep, said with the key and its line.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::{
    unplaced, RawCache, RawCore, RawGroups, RawHealth, RawJournal, RawLogs, RawRefresh,
    RawRefreshQuery, RawSearch, RawSystem,
};
use super::units::Human;
use super::{
    formats, services, ConfigError, GroupsSettings, HealthSettings, JournalSettings, Locator,
    RefreshQuery, Settings, MAX_GROUPS_LIMIT,
};
use crate::cache::CacheConfig;
use crate::query::{GrepPattern, Query, QueryKind, MAX_LINES_LIMIT, MAX_PATTERN_LEN};
use crate::when::TimeBound;

/// The most scans a cache may run at once (tokio's semaphore has its own,
/// far larger, limit; past a few per core more only queue).
pub const MAX_CONCURRENT_LOADS: usize = 1024;
/// Bounds of `logs.max_decompressed`: less would cut ordinary rotations, more is no bound.
const MIN_DECOMPRESSED: u64 = 1 << 20;
const MAX_DECOMPRESSED: u64 = 1 << 40;

/// The most scan threads the daemon may be given (more would only queue on any real machine).
pub const MAX_SEARCH_THREADS: usize = 256;

impl RawCore {
    /// Checks every rule, in the order of the file's sections.
    pub fn check(&self, at: &Locator) -> Result<Settings, ConfigError> {
        let paths = self.logs.paths.get_ref();
        if paths.is_empty() {
            return Err(at.error(
                self.logs.paths.span(),
                "logs.paths",
                "at least one path is needed",
            ));
        }
        let threads = *self.search.threads.get_ref();
        if threads > MAX_SEARCH_THREADS {
            return Err(at.error(
                self.search.threads.span(),
                "search.threads",
                format!("must be from 0 (automatic) to {MAX_SEARCH_THREADS}"),
            ));
        }
        let max_decompressed = self.logs.max_decompressed.get_ref().0;
        if !(MIN_DECOMPRESSED..=MAX_DECOMPRESSED).contains(&max_decompressed) {
            return Err(at.error(
                self.logs.max_decompressed.span(),
                "logs.max_decompressed",
                "must be from 1MiB to 1TiB",
            ));
        }
        let cache = &self.cache;
        if cache.ttl.get_ref().0.is_zero() {
            return Err(at.error(cache.ttl.span(), "cache.ttl", "must be more than 0"));
        }
        if cache.budget.get_ref().0 == 0 {
            return Err(at.error(cache.budget.span(), "cache.budget", "must be more than 0"));
        }
        let loads = *cache.max_concurrent_loads.get_ref();
        if !(1..=MAX_CONCURRENT_LOADS).contains(&loads) {
            return Err(at.error(
                cache.max_concurrent_loads.span(),
                "cache.max_concurrent_loads",
                format!("must be from 1 to {MAX_CONCURRENT_LOADS}"),
            ));
        }
        let interval = self.refresh.interval.get_ref().0;
        if interval < Duration::from_millis(100) {
            return Err(at.error(
                self.refresh.interval.span(),
                "refresh.interval",
                "must be at least 100ms",
            ));
        }
        let health = check_health(&self.health, at)?;
        let groups = check_groups(&self.groups, at)?;
        let services = services::check(&self.services, at)?;
        let formats = formats::check(&self.formats, at)?;
        // A service's logs are searched and may be asked for, as configured paths are.
        let mut log_paths = paths.clone();
        for svc in &services {
            for p in &svc.logs {
                if !log_paths.contains(p) {
                    log_paths.push(p.clone());
                }
            }
        }
        // The services' units are read beside the paths, as every question
        // that names no source reads them (when the journal is read).
        let units: Vec<&str> = services
            .iter()
            .filter(|_| self.journal.enabled)
            .filter_map(|s| s.unit.as_deref())
            .collect();
        let service_units = crate::query::JournalScope::units(&units).unwrap_or_default();
        let mut refresh = Vec::new();
        for (i, q) in self.refresh.queries.iter().enumerate() {
            let mut query = refresh_query(q.get_ref(), &log_paths).map_err(|problem| {
                at.error(
                    q.span(),
                    &format!("refresh.queries[{i}]"),
                    format!("{}: {problem}", q.get_ref().name),
                )
            })?;
            // Warm answers must be read as every other question is (and
            // share its cache key: the bot's /errors is this query).
            query.query = query
                .query
                .with_formats(formats.clone())
                .with_journal(service_units.clone());
            refresh.push(query);
        }
        let system = &self.system;
        let optional = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        let journal_timeout = self.journal.timeout.get_ref().0;
        if journal_timeout < Duration::from_secs(1) {
            return Err(at.error(
                self.journal.timeout.span(),
                "journal.timeout",
                "must be at least 1s",
            ));
        }
        let journal = JournalSettings {
            enabled: self.journal.enabled,
            directory: optional(&self.journal.directory),
            timeout: journal_timeout,
        };
        Ok(Settings {
            log_paths,
            search_threads: threads,
            max_decompressed,
            cache: CacheConfig {
                ttl: cache.ttl.get_ref().0,
                budget_bytes: cache.budget.get_ref().0,
                warn_entries: cache.warn_entries,
                max_concurrent_loads: loads,
            },
            refresh_interval: interval,
            refresh,
            proc_root: system.proc_root.clone(),
            sys_root: system.sys_root.clone(),
            kernel_log: optional(&system.kernel_log),
            kmsg: optional(&system.kmsg),
            systemctl: system.systemctl.clone(),
            journalctl: system.journalctl.clone(),
            journal,
            services,
            health,
            groups,
            formats,
        })
    }
}

impl From<&Settings> for RawCore {
    /// The settings as they would be written: what `config check` prints, and
    /// what loads back to the same settings.
    fn from(s: &Settings) -> Self {
        let text = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        RawCore {
            logs: RawLogs {
                paths: unplaced(s.log_paths.clone()),
                max_decompressed: unplaced(Human(s.max_decompressed)),
            },
            search: RawSearch {
                threads: unplaced(s.search_threads),
            },
            cache: RawCache {
                ttl: unplaced(Human(s.cache.ttl)),
                budget: unplaced(Human(s.cache.budget_bytes)),
                warn_entries: s.cache.warn_entries,
                max_concurrent_loads: unplaced(s.cache.max_concurrent_loads),
            },
            refresh: RawRefresh {
                interval: unplaced(Human(s.refresh_interval)),
                queries: s.refresh.iter().map(|q| unplaced(raw_query(q))).collect(),
            },
            system: RawSystem {
                proc_root: s.proc_root.clone(),
                sys_root: s.sys_root.clone(),
                kernel_log: text(&s.kernel_log),
                kmsg: text(&s.kmsg),
                systemctl: s.systemctl.clone(),
                journalctl: s.journalctl.clone(),
            },
            journal: RawJournal {
                enabled: s.journal.enabled,
                directory: text(&s.journal.directory),
                timeout: unplaced(Human(s.journal.timeout)),
            },
            health: RawHealth::from(&s.health),
            groups: RawGroups::from(&s.groups),
            services: s.services.iter().map(services::raw).collect(),
            formats: s.formats.iter().map(formats::raw).collect(),
        }
    }
}

fn check_health(raw: &RawHealth, at: &Locator) -> Result<HealthSettings, ConfigError> {
    let h = HealthSettings {
        sample_interval: raw.sample_interval.get_ref().0,
        trend_window: raw.trend_window.0,
        trend_min_span: raw.trend_min_span.get_ref().0,
        oom_horizon: raw.oom_horizon.0,
        error_burst_lines: raw.error_burst_lines,
        error_burst_window: raw.error_burst_window.0,
        restart_loop: *raw.restart_loop.get_ref(),
        restart_loop_window: raw.restart_loop_window.0,
    };
    if h.sample_interval < Duration::from_millis(100) {
        return Err(at.error(
            raw.sample_interval.span(),
            "health.sample_interval",
            "must be at least 100ms",
        ));
    }
    if h.restart_loop == 0 {
        return Err(at.error(
            raw.restart_loop.span(),
            "health.restart_loop",
            "must be at least 1",
        ));
    }
    if h.trend_min_span > h.trend_window {
        return Err(at.error(
            raw.trend_min_span.span(),
            "health.trend_min_span",
            "is longer than trend_window",
        ));
    }
    Ok(h)
}

fn check_groups(raw: &RawGroups, at: &Locator) -> Result<GroupsSettings, ConfigError> {
    let g = GroupsSettings {
        max: *raw.max.get_ref(),
        quiet: raw.quiet.get_ref().0,
        alerts: raw.alerts,
        budget_bytes: raw.budget.get_ref().0,
    };
    if g.budget_bytes < 64 << 10 {
        return Err(at.error(raw.budget.span(), "groups.budget", "must be at least 64KiB"));
    }
    if !(1..=MAX_GROUPS_LIMIT).contains(&g.max) {
        return Err(at.error(
            raw.max.span(),
            "groups.max",
            format!("must be from 1 to {MAX_GROUPS_LIMIT}"),
        ));
    }
    if g.quiet < Duration::from_secs(1) {
        return Err(at.error(raw.quiet.span(), "groups.quiet", "must be at least 1s"));
    }
    Ok(g)
}

fn refresh_query(q: &RawRefreshQuery, paths: &[PathBuf]) -> Result<RefreshQuery, String> {
    if q.name.chars().any(char::is_control) {
        return Err("control characters (a line break, a tab) cannot be in a name: it is a label in /metrics".into());
    }
    let mut query = match (q.kind.as_str(), &q.pattern) {
        ("errors", None) => Query::errors(paths.to_vec()),
        ("errors", Some(_)) => return Err("an errors query takes no pattern".into()),
        ("grep", Some(p)) => {
            if p.len() > MAX_PATTERN_LEN {
                return Err(format!(
                    "the pattern is longer than {MAX_PATTERN_LEN} bytes"
                ));
            }
            // A pattern that does not compile would fail every refresh.
            grep_regex::RegexMatcherBuilder::new()
                .case_insensitive(q.ignore_case)
                .build(p)
                .map_err(|e| format!("invalid regex: {e}"))?;
            Query::grep(
                GrepPattern::regex(p.clone()).ignore_case(q.ignore_case),
                paths.to_vec(),
            )
        }
        ("grep", None) => return Err("a grep query needs a pattern".into()),
        (other, _) => return Err(format!("kind {other:?} is neither \"grep\" nor \"errors\"")),
    };
    if q.max_lines > MAX_LINES_LIMIT {
        return Err(format!(
            "max_lines {} is over {MAX_LINES_LIMIT}",
            q.max_lines
        ));
    }
    query.max_lines = q.max_lines;
    if let Some(since) = &q.since {
        query.since = Some(TimeBound::parse(since).map_err(|e| e.to_string())?);
    }
    Ok(RefreshQuery {
        name: q.name.clone(),
        query,
    })
}

/// A refresh query as it would be written.
fn raw_query(q: &RefreshQuery) -> RawRefreshQuery {
    let (kind, pattern, ignore_case) = match &q.query.kind {
        QueryKind::Errors => ("errors", None, false),
        QueryKind::Grep {
            pattern,
            ignore_case,
            ..
        } => ("grep", Some(pattern.clone()), *ignore_case),
    };
    RawRefreshQuery {
        name: q.name.clone(),
        kind: kind.into(),
        pattern,
        ignore_case,
        since: q.query.since.as_ref().map(TimeBound::canonical),
        max_lines: q.query.max_lines,
    }
}
