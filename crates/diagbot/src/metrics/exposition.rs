//! Which text `/metrics` answers in. The registry writes OpenMetrics 1.0.0;
//! a scraper that asks for it by name (Prometheus does) gets it with its own
//! content type. Anyone else (curl, `promtool check metrics`, an older
//! scraper) gets the Prometheus text format 0.0.4, which differs in a few
//! lines: a counter's family is named with its `_total`, and there is no
//! `# EOF`. A `*/*` does not pick OpenMetrics: it names no format.

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    OpenMetrics,
    PrometheusText,
}

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Exposition {
    /// The format for a request's `Accept` header (none: the text format).
    /// OpenMetrics when it is named (version 1.0.0 or no version) with a
    /// quality at least that of any text/plain the header also names.
    pub fn for_accept(accept: Option<&str>) -> Exposition {
        let mut openmetrics = 0.0f32;
        let mut text = 0.0f32;
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let mut quality = 1.0f32;
            let mut version = None;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => quality = value.parse().unwrap_or(0.0),
                    "version" => version = Some(value.to_string()),
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v == "1.0.0") =>
                {
                    openmetrics = openmetrics.max(quality);
                }
                "text/plain" | "text/*" | "*/*" => text = text.max(quality),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Exposition::OpenMetrics
        } else {
            Exposition::PrometheusText
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => OPENMETRICS,
            Exposition::PrometheusText => PROMETHEUS_TEXT,
        }
    }

    /// `openmetrics` (as the registry wrote it) in this format.
    pub fn render(self, openmetrics: String) -> String {
        match self {
            Exposition::OpenMetrics => openmetrics,
            Exposition::PrometheusText => to_prometheus_text(&openmetrics),
        }
    }
}

/// OpenMetrics as the registry writes it, in the text format 0.0.4: counter
/// families take their samples' `_total` name, `unknown` is `untyped`, and
/// `# EOF` and `# UNIT` go.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(if tail == "unknown" && prefix == "# TYPE " {
                    "untyped"
                } else {
                    tail
                });
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_asks_by_name_and_gets_openmetrics() {
        // What Prometheus 2.x sends.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Exposition::for_accept(Some(prometheus)),
            Exposition::OpenMetrics
        );
        assert_eq!(
            Exposition::for_accept(Some("application/openmetrics-text")),
            Exposition::OpenMetrics
        );
    }

    #[test]
    fn curl_and_older_scrapers_get_the_text_format() {
        for accept in [
            None,
            Some("*/*"),
            Some("text/plain"),
            Some("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"),
            Some("application/openmetrics-text;version=0.0.1"),
            Some("application/openmetrics-text;q=0"),
            Some("application/json"),
        ] {
            assert_eq!(
                Exposition::for_accept(accept),
                Exposition::PrometheusText,
                "{accept:?}"
            );
        }
    }

    #[test]
    fn counters_take_their_total_name_and_eof_goes() {
        let om = "# HELP diagbot_refresh_runs Background refresh runs.\n# TYPE diagbot_refresh_runs counter\ndiagbot_refresh_runs_total 3\n# HELP diagbot_cache_entries Answers.\n# TYPE diagbot_cache_entries gauge\ndiagbot_cache_entries 2\n# EOF\n";
        assert_eq!(
            to_prometheus_text(om),
            "# HELP diagbot_refresh_runs_total Background refresh runs.\n# TYPE diagbot_refresh_runs_total counter\ndiagbot_refresh_runs_total 3\n# HELP diagbot_cache_entries Answers.\n# TYPE diagbot_cache_entries gauge\ndiagbot_cache_entries 2\n"
        );
    }
}
