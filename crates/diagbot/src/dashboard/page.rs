//! The dashboard's HTML: the range links, what history could not answer,
//! the status now, the charts, the latest events and the cache's size. A
//! pure function of what the handler gathered, so it is tested with values
//! made in the test; everything from outside is escaped.

use std::fmt::Write;
use std::time::Duration;

use diagbot_core::probe::Status;
use serde_json::json;

use super::charts::{self, Frame};
use super::range::Range;
use super::{escape, groups, svg};
use crate::history::model::{EventRecord, HistoryAnswer};
use crate::present::{format, StatusView, SwapView};
use diagbot_core::groups::{GroupsResult, DAEMON_MAX_GROUPS};

/// Events listed, newest first.
pub const LATEST_EVENTS: usize = 20;
/// The page refreshes no more often than this, however short `health.sample_interval` is.
pub const MIN_REFRESH: Duration = Duration::from_secs(1);

/// What the page is made of.
pub struct Page<'a> {
    pub range: Range,
    /// A `?range=` that is not one of the ranges, said on the page.
    pub unknown_range: Option<&'a str>,
    pub frame: Frame,
    /// The status, or why it could not be read.
    pub status: Result<&'a Status, String>,
    /// The history, or why there is none.
    pub history: Result<&'a HistoryAnswer, String>,
    /// The refresh queries' names.
    pub queries: &'a [String],
    /// How often the page's script fetches again (`health.sample_interval`).
    pub refresh: Duration,
    /// The range's error groups, or why there are none.
    pub groups: Result<&'a GroupsResult, String>,
    /// This daemon's URL, for the command lines the page suggests.
    pub daemon: &'a str,
}

/// The whole document.
pub fn render(page: &Page) -> String {
    let mut out = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>diagbot</title><link rel="icon" href="/dashboard/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/assets/style.css"></head><body><header><h1>diagbot</h1><nav class="ranges">"#,
    );
    for r in Range::ALL {
        let _ = write!(
            out,
            r#"<a href="?range={0}" data-range="{0}"{1}>{2}</a>"#,
            r.name(),
            if r == page.range {
                r#" class="active" aria-current="page""#
            } else {
                ""
            },
            r.name()
        );
    }
    let _ = write!(
        out,
        r#"</nav><span id="updated">as of {}</span></header><main>"#,
        charts::utc(page.frame.now)
    );
    if let Some(r) = page.unknown_range {
        let _ = write!(
            out,
            r#"<p class="note">No range {}: showing {}.</p>"#,
            escape::text(r),
            page.range.name()
        );
    }
    let _ = write!(
        out,
        r#"<p class="note" id="history-note"{}>{}</p>"#,
        if page.history.is_ok() { " hidden" } else { "" },
        escape::text(&history_note(&page.history))
    );
    match &page.status {
        Ok(status) => {
            status_section(&mut out, status);
            let history = page.history.as_ref().ok().copied();
            out.push_str(r#"<section id="charts">"#);
            for chart in charts::build(page.frame, status, history, page.queries) {
                let _ = write!(
                    out,
                    r#"<figure><figcaption>{}</figcaption>{}</figure>"#,
                    escape::text(&chart.title),
                    svg::render(&chart, page.frame)
                );
            }
            out.push_str("</section>");
        }
        Err(reason) => {
            let _ = write!(
                out,
                r#"<p class="note">The status could not be read: {}</p>"#,
                escape::text(reason)
            );
        }
    }
    let _ = write!(
        out,
        r#"<section><h2>Error groups</h2><div id="groups" data-daemon="{}">{}</div></section>"#,
        escape::text(page.daemon),
        groups::render(&page.groups, page.range, page.daemon)
    );
    out.push_str(r#"<section><h2>Latest events</h2><ul id="events">"#);
    out.push_str(&events(
        page.history
            .as_ref()
            .map_or(&[][..], |h| h.events.as_slice()),
    ));
    out.push_str(r#"</ul></section><section><h2>Cache</h2><p id="cache-size">"#);
    let cache = page.status.as_ref().ok().and_then(|s| s.diagbot.cache);
    out.push_str(&escape::text(&cache.map_or_else(
        || "not known".to_string(),
        |c| cache_size(c.entries, c.bytes, c.budget_bytes),
    )));
    let config = json!({
        "range": page.range.name(),
        "ranges": Range::ALL.map(|r| json!({
            "name": r.name(),
            "seconds": r.seconds(),
            "group_step": groups::step(r),
            "group_step_name": groups::step_name(groups::step(r)),
            "counts_step": charts::counts_step(r.seconds()),
        })),
        "top_groups": groups::TOP_GROUPS,
        "unplaced_named": groups::UNPLACED_NAMED,
        "max_groups": DAEMON_MAX_GROUPS,
        "refresh_ms": page.refresh.max(MIN_REFRESH).as_millis() as u64,
        "queries": page.queries,
        "marker_kinds": charts::MARKER_KINDS,
        "history": page.history.is_ok(),
        "latest_events": LATEST_EVENTS,
    });
    let _ = write!(
        out,
        r#"</p></section></main><script type="application/json" id="dashboard-config">{}</script><script src="/dashboard/assets/app.js"></script></body></html>"#,
        escape::json_in_script(&config)
    );
    out
}

/// Why there are no charts of the past, in a sentence.
fn history_note(history: &Result<&HistoryAnswer, String>) -> String {
    match history {
        Ok(_) => String::new(),
        Err(reason) => format!(
            "History is unavailable ({reason}): the charts show only the values now, the limits and the projections. Reload the page to ask again."
        ),
    }
}

/// "3 answers in 20.0 KiB of 64.0 MiB".
pub fn cache_size(entries: u64, bytes: u64, budget: u64) -> String {
    format!(
        "{entries} answer{} in {} of {}",
        if entries == 1 { "" } else { "s" },
        format::bytes(bytes),
        format::bytes(budget)
    )
}

/// The newest `LATEST_EVENTS` events, newest first, as list items.
pub fn events(events: &[EventRecord]) -> String {
    if events.is_empty() {
        return r#"<li class="none">none in this range</li>"#.into();
    }
    let mut out = String::new();
    for e in events.iter().rev().take(LATEST_EVENTS) {
        let _ = write!(
            out,
            r#"<li class="event {}"><time>{}</time> <b>{}</b> {}{}</li>"#,
            escape::text(&e.kind),
            charts::utc(e.time),
            escape::text(&e.kind),
            // Most sentences name their service already ("bot: pid 4 is gone").
            e.service
                .as_ref()
                .filter(|s| !e.message.contains(s.as_str()))
                .map_or(String::new(), |s| format!("{}: ", escape::text(s))),
            escape::text(&e.message)
        );
    }
    out
}

/// The host's figures and a row per service, as `status` says them.
fn status_section(out: &mut String, status: &Status) {
    let view = StatusView::of(status);
    let host = &view.host;
    out.push_str(r#"<section id="status"><h2>Now</h2><dl class="host">"#);
    let mut item = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            let _ = write!(out, "<dt>{name}</dt><dd>{}</dd>", escape::text(&v));
        }
    };
    item(
        "memory",
        host.memory.as_ref().map(|m| {
            format!(
                "{} used of {} ({}), {} available",
                m.used, m.total, m.used_percent, m.available
            )
        }),
    );
    item("memory trend", host.memory_trend.clone());
    item(
        "swap",
        host.swap.as_ref().map(|s| match s {
            SwapView::NoSwap => "none".to_string(),
            SwapView::InUse(text) => text.clone(),
        }),
    );
    item("load", host.load.clone());
    item("cpu", host.cpu.clone());
    item("uptime", host.uptime.clone());
    item("diagbot", host.diagbot.clone());
    out.push_str("</dl>");
    if !view.services.is_empty() {
        out.push_str("<table class=\"services\"><thead><tr><th>service</th><th>state</th><th>pid</th><th>RSS</th><th>limit</th><th>restarts</th><th>last result</th><th>trend</th></tr></thead><tbody>");
        for s in &view.services {
            let cells = [
                Some(s.name.clone()),
                s.state.clone(),
                s.pid.clone(),
                s.rss.clone(),
                s.limit.as_ref().map(|l| l.size.clone()),
                s.restarts.map(|r| r.to_string()),
                s.last_result.clone(),
                [
                    s.memory_trend.clone(),
                    s.restart_loop.clone(),
                    s.processes.clone(),
                ]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}; {b}")),
            ];
            out.push_str("<tr>");
            for cell in cells {
                let _ = write!(out, "<td>{}</td>", escape::text(&cell.unwrap_or_default()));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    let unavailable: Vec<String> = host
        .unavailable
        .iter()
        .chain(view.services.iter().flat_map(|s| &s.unavailable))
        .map(|u| format!("{}: {}", u.source, u.reason))
        .collect();
    if !unavailable.is_empty() {
        let _ = write!(
            out,
            r#"<p class="note">Not read: {}</p>"#,
            escape::text(&unavailable.join("; "))
        );
    }
    out.push_str("</section>");
}
