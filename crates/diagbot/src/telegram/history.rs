//! `/history [service] [since]`: what the history store kept over a range
//! (default the last 24 h), as `diagbot history` says it: a sparkline per
//! series — the host's memory and load and each service's RSS, or one
//! service's RSS — with where it started, ended and peaked, then the
//! range's latest events. Fitted under Telegram's limit.

use std::fmt::Write;

use diagbot_core::when::TimeBound;

use super::render::{escape, length, refused};
use crate::history::model::{HistoryAnswer, HistoryRequest, Series};
use crate::history::series;
use crate::present::format;
use crate::state::AppState;

/// What a `/history` message may measure (the HTML source).
const BUDGET: usize = 4000;
/// Points a sparkline has, about.
const POINTS: i64 = 24;
/// Events listed, newest first.
const EVENTS: usize = 5;
/// The range when none is said.
const DEFAULT_SINCE: &str = "24h";

/// The history of `service` (all, when `None`) since `since` (24 h ago when `None`).
pub async fn history(state: &AppState, service: Option<&str>, since: Option<&str>) -> String {
    let said = since.unwrap_or(DEFAULT_SINCE);
    let bound = match TimeBound::parse(said) {
        Ok(b) => b,
        Err(e) => {
            return format!(
                "⚠ <b>{}</b> is not a time: {}",
                escape(said),
                escape(&e.to_string())
            )
        }
    };
    let services = crate::history::service_names(state);
    let names = match service {
        None => series::defaults(&services)
            .into_iter()
            .filter(|s| s != "host.memory_available")
            .collect(),
        Some(name) if services.iter().any(|s| s == name) => vec![series::service(name, "rss")],
        // "/history 999y": a time that is not one, not a service.
        Some(word) if word.starts_with(|c: char| c.is_ascii_digit()) => {
            let why = TimeBound::parse(word)
                .err()
                .map_or(String::new(), |e| e.to_string());
            return format!("⚠ <b>{}</b> is not a time: {}", escape(word), escape(&why));
        }
        Some(name) => {
            return format!(
                "⚠ no service <b>{}</b>; the services: {}",
                escape(name),
                if services.is_empty() {
                    "none configured".to_string()
                } else {
                    escape(&services.join(", "))
                }
            )
        }
    };
    let now = chrono::Utc::now();
    let until = now.timestamp() + 1;
    let since_secs = bound.resolve(now.fixed_offset()).div_euclid(1000);
    if since_secs >= until {
        return format!("⚠ <b>{}</b> is not in the past", escape(said));
    }
    let req = HistoryRequest {
        series: names,
        since: since_secs,
        until,
        // About POINTS bars, each a whole number of minutes.
        step: Some((((until - since_secs) / POINTS).max(60) as u64).div_ceil(60) * 60),
    };
    match crate::history::answer(state, &req).await {
        Ok(answer) => render(&answer, said, service),
        Err(refusal) => refused(&refusal),
    }
}

/// A line per series while they fit, then the latest events.
pub fn render(answer: &HistoryAnswer, since: &str, service: Option<&str>) -> String {
    let mut out = format!("<b>history</b> since {}", escape(since));
    if let Some(s) = answer.series.first() {
        let _ = write!(out, ", a bar every {}", step(s.step_seconds));
    }
    let all = format!("<code>diagbot history --since {}</code>", escape(since));
    for (i, s) in answer.series.iter().enumerate() {
        let line = format!("\n<b>{}</b> {}", escape(&label(&s.name)), figures(s));
        let note = format!("\n<i>{} more series: {all}</i>", answer.series.len() - i);
        if length(&out) + length(&line) + length(&note) > BUDGET {
            out.push_str(&note);
            return out;
        }
        out.push_str(&line);
    }
    let events: Vec<_> = answer
        .events
        .iter()
        .rev()
        .filter(|e| service.is_none() || e.service.as_deref() == service)
        .collect();
    if events.is_empty() {
        out.push_str("\n<i>no events in this range</i>");
        return out;
    }
    let _ = write!(
        out,
        "\n<b>events</b> (the latest {} of {}):",
        events.len().min(EVENTS),
        events.len()
    );
    for e in events.into_iter().take(EVENTS) {
        let line = format!(
            "\n{} <i>{}</i> {}",
            clock(e.time),
            escape(&e.kind),
            escape(&format!(
                "{}{}",
                e.service
                    .as_ref()
                    .map_or(String::new(), |s| format!("{s}: ")),
                cut(&e.message)
            ))
        );
        if length(&out) + length(&line) > BUDGET {
            break;
        }
        out.push_str(&line);
    }
    out
}

/// `host.memory_used` → "memory used", `service.bot.rss` → "bot RSS".
fn label(name: &str) -> String {
    if let Some(host) = name.strip_prefix("host.") {
        return match host {
            "load1" => "load".to_string(),
            other => other.replace('_', " "),
        };
    }
    match name
        .strip_prefix("service.")
        .and_then(|r| r.rsplit_once('.'))
    {
        Some((svc, "rss")) => format!("{svc} RSS"),
        Some((svc, what)) => format!("{svc} {what}"),
        None => name.to_string(),
    }
}

/// `<code>▁▂▅█</code> 150.0 MiB → 420.0 MiB, peak 550.0 MiB`.
fn figures(s: &Series) -> String {
    if s.points.is_empty() {
        return "<i>nothing recorded</i>".to_string();
    }
    let means: Vec<f64> = s.points.iter().map(|p| p.3).collect();
    let peak = s.points.iter().map(|p| p.2).fold(f64::MIN, f64::max);
    let value = |v: f64| match s.unit.as_str() {
        "bytes" => format::bytes(v.max(0.0) as u64),
        "load" => format!("{v:.2}"),
        _ => format!("{v:.0}"),
    };
    format!(
        "<code>{}</code> {} → {}, peak {}",
        format::sparkline(&means),
        value(means[0]),
        value(means[means.len() - 1]),
        value(peak)
    )
}

/// "1 h", "15 min", "2 d".
fn step(secs: u64) -> String {
    match secs {
        s if s % 86400 == 0 => format!("{} d", s / 86400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `11-29 13:40` in UTC, as the events' times are stored.
fn clock(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |t| t.format("%m-%d %H:%M").to_string())
}

/// An event's message, at most 200 characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::model::EventRecord;
    use crate::telegram::render::TELEGRAM_LIMIT;

    fn series(name: &str, unit: &str, values: &[f64]) -> Series {
        Series {
            name: name.into(),
            unit: unit.into(),
            step_seconds: 3600,
            points: values
                .iter()
                .enumerate()
                .map(|(i, &v)| (1_790_000_000 + i as i64 * 3600, v * 0.9, v * 1.1, v))
                .collect(),
        }
    }

    #[test]
    fn each_series_is_a_sparkline_with_where_it_went_and_events_are_escaped() {
        const MIB: f64 = 1048576.0;
        let answer = HistoryAnswer {
            series: vec![
                series("host.memory_used", "bytes", &[400.0 * MIB, 500.0 * MIB]),
                series("host.load1", "load", &[0.5, 1.25]),
                series(
                    "service.<b>bot</b>.rss",
                    "bytes",
                    &[150.0 * MIB, 550.0 * MIB, 160.0 * MIB],
                ),
                series("service.idle.rss", "bytes", &[]),
            ],
            events: vec![EventRecord {
                time: 1_790_003_600,
                kind: "oom_kill".into(),
                service: Some("<b>bot</b>".into()),
                message: "killed at 552 MiB <script>".into(),
            }],
        };
        let text = render(&answer, "24h", None);
        assert!(
            text.starts_with("<b>history</b> since 24h, a bar every 1 h"),
            "{text}"
        );
        assert!(
            text.contains(
                "\n<b>memory used</b> <code>▁█</code> 400.0 MiB → 500.0 MiB, peak 550.0 MiB"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n<b>load</b> <code>▁█</code> 0.50 → 1.25, peak 1.38"),
            "{text}"
        );
        assert!(
            text.contains(
                "<b>&lt;b&gt;bot&lt;/b&gt; RSS</b> <code>▁█▁</code> 150.0 MiB → 160.0 MiB"
            ),
            "{text}"
        );
        assert!(
            text.contains("<b>idle RSS</b> <i>nothing recorded</i>"),
            "{text}"
        );
        assert!(
            text.contains(
                "<i>oom_kill</i> &lt;b&gt;bot&lt;/b&gt;: killed at 552 MiB &lt;script&gt;"
            ),
            "{text}"
        );
        assert!(!text.contains("<script>"));
    }

    #[test]
    fn many_series_and_long_events_stay_under_the_limit() {
        let answer = HistoryAnswer {
            series: (0..200)
                .map(|i| series(&format!("service.worker-{i}.rss"), "bytes", &[1e6; 24]))
                .collect(),
            events: (0..50)
                .map(|i| EventRecord {
                    time: 1_790_000_000 + i,
                    kind: "restart".into(),
                    service: Some("w".into()),
                    message: "&".repeat(1000),
                })
                .collect(),
        };
        let text = render(&answer, "7d", None);
        assert!(text.chars().count() < TELEGRAM_LIMIT, "{}", text.len());
        assert!(
            text.contains("more series: <code>diagbot history --since 7d</code>"),
            "{text}"
        );
        let few = HistoryAnswer {
            series: vec![],
            ..answer
        };
        let text = render(&few, "7d", Some("w"));
        assert!(text.chars().count() < TELEGRAM_LIMIT, "{}", text.len());
        assert!(text.contains("(the latest 5 of 50)"), "{text}");
        assert_eq!(label("host.swap_used"), "swap used");
    }
}
