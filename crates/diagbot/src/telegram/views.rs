//! `/status`, `/services` and `/oom` as Telegram HTML: the views of
//! [`present`](crate::present) with every part escaped (names, states, mounts,
//! reasons and trend texts come from the system), in short lines that fit a
//! phone.

use diagbot_core::probe::oom::OomReport;

use super::render::{escape, fit, with_lines};
use crate::present::{HostView, OomRow, ServiceView, StatusView, SwapView};

/// `/status`, or with `services_only` `/services`.
pub fn status(view: &StatusView, services_only: bool) -> String {
    let mut out = Vec::new();
    if !services_only {
        host(&mut out, &view.host);
    }
    if view.services.is_empty() {
        out.push("<i>no services configured ([[services]] in the config)</i>".into());
    }
    for s in &view.services {
        service(&mut out, s);
    }
    fit(&out.join("\n"))
}

fn host(out: &mut Vec<String>, h: &HostView) {
    if let Some(m) = &h.memory {
        out.push(format!("<b>memory</b> {}", escape(&m.summary())));
    }
    if let Some(trend) = &h.memory_trend {
        out.push(format!("  {}", escape(trend)));
    }
    // No swap is not worth a line in a message.
    if let Some(SwapView::InUse(used)) = &h.swap {
        out.push(format!("<b>swap</b> {}", escape(used)));
    }
    if let Some(load) = &h.load {
        out.push(format!("<b>load</b> {}", escape(load)));
    }
    if let Some(cpu) = &h.cpu {
        out.push(format!("<b>cpu</b> {}", escape(cpu)));
    }
    for d in &h.disks {
        out.push(format!(
            "<b>disk</b> {} {} used, {} free",
            escape(&d.mount),
            escape(&d.used_percent),
            escape(&d.available)
        ));
    }
    for u in &h.unavailable {
        out.push(format!(
            "<i>{}: {}</i>",
            escape(&u.source),
            escape(&u.reason)
        ));
    }
}

/// "<b>bot</b> active (running), RSS 160.0 MiB of 900.0 MiB (18 %), 3 restarts,
/// last result oom-kill", then its trend, restart loop and unavailable sources.
fn service(out: &mut Vec<String>, s: &ServiceView) {
    let mut line = format!("<b>{}</b>", escape(&s.name));
    if let Some(state) = &s.state {
        line.push_str(&format!(" {}", escape(state)));
    }
    if let Some(rss) = &s.rss {
        line.push_str(&format!(", RSS {}", escape(rss)));
        if let Some((limit, share)) = s
            .limit
            .as_ref()
            .and_then(|l| Some((&l.size, l.used_percent.as_ref()?)))
        {
            line.push_str(&format!(" of {} ({})", escape(limit), escape(share)));
        }
    }
    if let Some(r) = s.restarts {
        line.push_str(&format!(", {r} restarts"));
    }
    if let Some(result) = s.notable_result() {
        line.push_str(&format!(", last result {}", escape(result)));
    }
    out.push(line);
    if let Some(trend) = &s.memory_trend {
        out.push(format!("  memory {}", escape(trend)));
    }
    if let Some(found) = &s.restart_loop {
        out.push(format!("  <b>restart loop</b>: {}", escape(found)));
    }
    if let Some(processes) = &s.processes {
        out.push(format!("  {}", escape(processes)));
    }
    for u in &s.unavailable {
        out.push(format!(
            "  <i>{} unavailable: {}</i>",
            escape(&u.source),
            escape(&u.reason)
        ));
    }
}

/// `/oom`: the counts, the note, then one line per kill (escaped by `with_lines`).
pub fn oom(report: &OomReport, since: Option<&str>) -> String {
    let mut head = format!("<b>{} OOM kill(s)</b>", report.kills.len());
    if let Some(s) = since {
        head.push_str(&format!(" since {}", escape(s)));
    }
    if let Some(n) = report.kills_since_boot {
        head.push_str(&format!("; {n} since boot by the kernel's count"));
    }
    if let Some(note) = &report.note {
        head.push_str(&format!("\n<i>{}</i>", escape(note)));
    }
    let lines: Vec<String> = report.kills.iter().map(|k| kill(&OomRow::of(k))).collect();
    with_lines(&head, &lines, 0, "<code>diagbot oom</code>")
}

/// "2026-02-27 10:00:00 python3 (pid 908) RSS 552.2 MiB in crypto-bot, restarted (3)".
fn kill(row: &OomRow) -> String {
    let mut line = format!(
        "{} {} (pid {})",
        row.time.as_deref().unwrap_or("-"),
        row.process.as_deref().unwrap_or("unknown"),
        row.pid.as_deref().unwrap_or("?")
    );
    if let Some(rss) = &row.rss {
        line.push_str(&format!(" RSS {rss}"));
    }
    if let Some(s) = &row.service {
        line.push_str(&format!(" in {s}"));
    }
    if let Some(restarted) = &row.restarted {
        line.push_str(&format!(", restarted ({})", escape(restarted)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::fixture;

    /// `/status` and `/services` with every part, system text escaped (the
    /// expected HTML is what the bot sent before the renderers shared a view).
    #[test]
    fn status_and_services_with_every_part() {
        let view = StatusView::of(&fixture::status());
        assert_eq!(
            status(&view, false),
            include_str!("../../tests/fixtures/render/telegram_status.html")
        );
        assert_eq!(
            status(&view, true),
            include_str!("../../tests/fixtures/render/telegram_services.html")
        );
        assert_eq!(
            status(&StatusView::of(&fixture::bare_status()), false),
            include_str!("../../tests/fixtures/render/telegram_status_bare.html")
        );
    }

    #[test]
    fn oom_kills_with_the_note_escaped() {
        assert_eq!(
            oom(&fixture::oom_report(), Some("1h")),
            include_str!("../../tests/fixtures/render/telegram_oom_since.html")
        );
        assert_eq!(
            oom(&fixture::oom_report(), None),
            include_str!("../../tests/fixtures/render/telegram_oom.html")
        );
    }
}
