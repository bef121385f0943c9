//! Series names and units: `host.memory_used`, `service.NAME.rss`,
//! `query.NAME.matches`, ... — what the store keeps and the API takes.

/// The host's series, in the order a default answer lists them.
pub const HOST_SERIES: [&str; 4] = [
    "host.memory_used",
    "host.memory_available",
    "host.swap_used",
    "host.load1",
];
/// The kernel's OOM kill count (kept for the restart; not drawn by default).
pub const HOST_OOM_KILLS: &str = "host.oom_kills";
/// What is kept of each service: `service.NAME.WHAT`.
pub const SERVICE_FIGURES: [&str; 7] = [
    "rss",
    "restarts",
    "oom_kills",
    "slope",
    "limit",
    "pid",
    "errors",
];

pub fn service(name: &str, what: &str) -> String {
    format!("service.{name}.{what}")
}

pub fn query(name: &str) -> String {
    format!("query.{name}.matches")
}

/// The name of the number explain is sure a service's memory climbs with,
/// as a log number: `log.SERVICE.explained`.
pub const EXPLAINED: &str = "explained";

/// A number a service's configuration follows in its logs: `log.SERVICE.NAME`.
pub fn log_number(service: &str, name: &str) -> String {
    format!("log.{service}.{name}")
}

/// The unit of a valid series name; `None` for a name that is not one.
pub fn unit_of(name: &str) -> Option<&'static str> {
    if let Some(host) = name.strip_prefix("host.") {
        return match host {
            "memory_used" | "memory_available" | "swap_used" => Some("bytes"),
            "load1" => Some("load"),
            "oom_kills" => Some("count"),
            _ => None,
        };
    }
    if let Some(rest) = name.strip_prefix("service.") {
        let (svc, what) = rest.rsplit_once('.')?;
        if svc.is_empty() {
            return None;
        }
        return match what {
            "rss" | "limit" => Some("bytes"),
            "restarts" | "oom_kills" | "pid" => Some("count"),
            "slope" => Some("bytes/s"),
            "errors" => Some("lines"),
            _ => None,
        };
    }
    if let Some(rest) = name.strip_prefix("log.") {
        let (svc, number) = rest.rsplit_once('.')?;
        return (!svc.is_empty() && !number.is_empty()).then_some("value");
    }
    let q = name.strip_prefix("query.")?.strip_suffix(".matches")?;
    (!q.is_empty()).then_some("lines")
}

/// The series of a default answer: the host's, and each service's RSS.
pub fn defaults(services: &[String]) -> Vec<String> {
    let mut out: Vec<String> = HOST_SERIES.iter().map(|s| s.to_string()).collect();
    out.extend(services.iter().map(|s| service(s, "rss")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_units_and_others_are_refused() {
        assert_eq!(unit_of("host.memory_used"), Some("bytes"));
        assert_eq!(unit_of("service.crypto.bot.rss"), Some("bytes"));
        assert_eq!(unit_of("query.errors.matches"), Some("lines"));
        assert_eq!(unit_of("host.nope"), None);
        assert_eq!(unit_of("service..rss"), None);
        assert_eq!(unit_of("query..matches"), None);
        assert_eq!(unit_of("rss"), None);
    }
}
