//! `[[services]]`: each one a systemd unit, a process match, or both.

use toml::Spanned;

use super::raw::{unplaced, RawProcess, RawService};
use super::units::Human;
use super::{ConfigError, Locator, ProcessMatch, ServiceConfig};

/// Checks every service; a mistake names its own table's line.
pub(super) fn check(
    raw: &[Spanned<RawService>],
    at: &Locator,
) -> Result<Vec<ServiceConfig>, ConfigError> {
    let mut out: Vec<ServiceConfig> = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let s = spanned.get_ref();
        let name = s.name.trim();
        let key = format!("services[{i}]");
        let fail = |field: &str, problem: String| {
            let key = if field.is_empty() {
                key.clone()
            } else {
                format!("{key}.{field}")
            };
            at.error(spanned.span(), &key, problem)
        };
        if name.is_empty() {
            return Err(fail("name", "a service needs a name".into()));
        }
        let named = |m: &str| format!("{name}: {m}");
        if out.iter().any(|o| o.name == name) {
            return Err(fail("name", named("the name is used twice")));
        }
        let process = match &s.process {
            None => None,
            Some(RawProcess {
                pidfile: Some(p),
                name: None,
                cmdline: None,
            }) => Some(ProcessMatch::Pidfile(p.clone())),
            Some(RawProcess {
                pidfile: Some(_), ..
            }) => {
                return Err(fail(
                    "process",
                    named("give pidfile, or name and/or cmdline, not both"),
                ))
            }
            Some(RawProcess {
                name: None,
                cmdline: None,
                ..
            }) => return Err(fail("process", named("give name, cmdline or pidfile"))),
            Some(RawProcess { name, cmdline, .. }) => {
                if let Some(c) = cmdline {
                    grep_regex::RegexMatcher::new(c).map_err(|e| {
                        fail("process.cmdline", named(&format!("invalid regex: {e}")))
                    })?;
                }
                Some(ProcessMatch::Pattern {
                    name: name.clone(),
                    cmdline: cmdline.clone(),
                })
            }
        };
        let unit = s
            .unit
            .as_ref()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &unit {
            crate::journal::unit_name(u).map_err(|e| fail("unit", named(&e.to_string())))?;
        }
        if unit.is_none() && process.is_none() {
            return Err(fail("", named("give a unit, a process match, or both")));
        }
        if s.memory_limit.is_some_and(|l| l.0 == 0) {
            return Err(fail("memory_limit", named("must be more than 0")));
        }
        out.push(ServiceConfig {
            name: name.to_string(),
            unit,
            process,
            logs: s.logs.clone(),
            memory_limit: s.memory_limit.map(|l| l.0),
        });
    }
    Ok(out)
}

/// The table a service is written back as.
pub(super) fn raw(svc: &ServiceConfig) -> Spanned<RawService> {
    let process = svc.process.as_ref().map(|p| match p {
        ProcessMatch::Pattern { name, cmdline } => RawProcess {
            name: name.clone(),
            cmdline: cmdline.clone(),
            pidfile: None,
        },
        ProcessMatch::Pidfile(path) => RawProcess {
            name: None,
            cmdline: None,
            pidfile: Some(path.clone()),
        },
    });
    unplaced(RawService {
        name: svc.name.clone(),
        unit: svc.unit.clone(),
        process,
        logs: svc.logs.clone(),
        memory_limit: svc.memory_limit.map(Human),
    })
}
