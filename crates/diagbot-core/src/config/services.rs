//! `[[services]]`: each one a systemd unit, a process match, or both.

use toml::Spanned;

use super::raw::{unplaced, RawNumber, RawProcess, RawService};
use super::units::Human;
use super::{ConfigError, Locator, NumberWatch, ProcessMatch, ServiceConfig};

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
        if name.chars().any(char::is_control) {
            return Err(fail(
                "name",
                format!("{name:?}: control characters (a line break, a tab) cannot be in a name: it is a label in /metrics and a line in alerts"),
            ));
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
        if s.numbers.len() > MAX_NUMBERS {
            return Err(fail(
                "numbers",
                named(&format!("at most {MAX_NUMBERS} numbers a service")),
            ));
        }
        let mut numbers: Vec<NumberWatch> = Vec::new();
        for (j, n) in s.numbers.iter().enumerate() {
            let number = number(n).map_err(|m| fail(&format!("numbers[{j}]"), named(&m)))?;
            if numbers.iter().any(|o| o.name == number.name) {
                return Err(fail(
                    &format!("numbers[{j}].name"),
                    named(&format!("the name {:?} is used twice", number.name)),
                ));
            }
            numbers.push(number);
        }
        out.push(ServiceConfig {
            name: name.to_string(),
            unit,
            process,
            logs: s.logs.clone(),
            memory_limit: s.memory_limit.map(|l| l.0),
            numbers,
        });
    }
    Ok(out)
}

/// Numbers followed per service: each is read from every line appended.
pub const MAX_NUMBERS: usize = 16;

/// A `numbers` entry checked: a template with the `<num>` it names, a name
/// fit for a series and a label.
fn number(n: &RawNumber) -> Result<NumberWatch, String> {
    let template = n.template.split_whitespace().collect::<Vec<_>>().join(" ");
    let nums = template.matches("<num>").count();
    if nums == 0 {
        return Err(format!(
            "template {template:?} has no <num> (write it as `diagbot explain` shows it)"
        ));
    }
    let variable = n.variable.unwrap_or(1);
    if variable == 0 || usize::from(variable) > nums {
        return Err(format!(
            "variable {variable}: the template has {nums} <num> (from 1)"
        ));
    }
    let name = match &n.name {
        Some(name) => name.clone(),
        None => template
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty() && *w != "num")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("_"),
    };
    let fit = !name.is_empty()
        && name.len() <= 48
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !fit {
        return Err(format!(
            "name {name:?}: lower-case letters, digits and _ only, at most 48"
        ));
    }
    if name == "explained" {
        return Err("name \"explained\" is diagbot's own (the number explain is sure of)".into());
    }
    if n.warn_above.is_some_and(|w| !w.is_finite()) {
        return Err("warn_above must be a number".into());
    }
    Ok(NumberWatch {
        name,
        template,
        slot: variable - 1,
        warn_above: n.warn_above,
    })
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
        numbers: svc
            .numbers
            .iter()
            .map(|n| RawNumber {
                template: n.template.clone(),
                variable: Some(n.slot + 1),
                name: Some(n.name.clone()),
                warn_above: n.warn_above,
            })
            .collect(),
    })
}
