//! `/top [since]`: the most frequent groups of warning lines and worse, as
//! `diagbot groups` shows them, fitted under Telegram's limit.

use diagbot_core::groups::{self, GroupsQuery, GroupsResult};
use diagbot_core::when::TimeBound;

use super::render::{escape, length, refused};
use crate::present::refusal::Refusal;
use crate::state::AppState;

/// What a `/top` message may measure (as [`super::render`] counts: the HTML source).
const BUDGET: usize = 4000;
/// A template longer than this is cut (at a character boundary) and marked.
const MAX_TEMPLATE_CHARS: usize = 200;

/// Groups the configured logs' warning lines and worse (since `since`) and renders the top ones.
pub async fn top(
    state: &AppState,
    (paths, journal): (Vec<std::path::PathBuf>, diagbot_core::query::JournalScope),
    since: Option<TimeBound>,
    said: Option<&str>,
) -> String {
    let settings = state.settings();
    let mut query = GroupsQuery::new(paths);
    query.journal = journal;
    query.journal_source = settings.core.journal();
    query.formats = settings.core.formats.clone();
    query.max_decompressed = settings.core.max_decompressed;
    // As the HTTP API's: a bounded grouper, one grouping at a time.
    query.max_groups = groups::DAEMON_MAX_GROUPS;
    query.since = since;
    let Ok(_turn) = state.groups_in_flight.acquire().await else {
        return "diagbot is stopping".to_string();
    };
    // Cached: the same question as `GET /api/v1/groups`'s default.
    match state.diag.groups(&query).await {
        Ok((result, _)) => render(&result, said),
        Err(e) => refused(&Refusal::of_search(&e)),
    }
}

/// The head, then one entry per group, most frequent first, while they fit;
/// the rest counted, with the command that lists them all.
pub fn render(r: &GroupsResult, since: Option<&str>) -> String {
    let window = since
        .map(|s| format!(" since {}", escape(s)))
        .unwrap_or_default();
    let mut out = format!(
        "<b>top</b>{window}: {} groups of {} warning lines and worse in {} files",
        r.groups.len(),
        r.lines_considered,
        r.files_searched
    );
    let since_arg = since
        .map(|s| format!(" --since {}", escape(s)))
        .unwrap_or_default();
    let all = format!("<code>diagbot groups{since_arg}</code>");
    for (i, g) in r.groups.iter().enumerate() {
        let entry = format!(
            "\n{}× {} <code>{}</code> <i>last {}</i>",
            g.count,
            g.level.map_or("-", |l| l.name()),
            escape(&cut(&g.template)),
            g.last_seen
                .map_or_else(|| "-".into(), |t| t.format("%m-%d %H:%M").to_string())
        );
        let rest = r.groups.len() - i;
        let note = format!("\n<i>{rest} more group(s): {all}</i>");
        if length(&out) + length(&entry) + length(&note) > BUDGET {
            out.push_str(&note);
            return out;
        }
        out.push_str(&entry);
    }
    out
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_TEMPLATE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::render::TELEGRAM_LIMIT;

    fn grouped(text: &str) -> GroupsResult {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.log");
        std::fs::write(&path, text).expect("write log");
        let now = chrono::Local::now().fixed_offset();
        groups::run(&GroupsQuery::new(vec![path]), now, &|_| {}).expect("grouped")
    }

    #[test]
    fn templates_are_escaped() {
        let r = grouped(
            "2026-01-27 10:00:00 ERROR <script>alert(1)</script> & \"x\" failed 12\n\
             2026-01-27 10:00:01 ERROR <script>alert(1)</script> & \"x\" failed 13\n",
        );
        let html = render(&r, Some("1h<b>"));
        assert!(
            html.starts_with("<b>top</b> since 1h&lt;b&gt;: 1 groups of 2"),
            "{html}"
        );
        assert!(html.contains(
            "2× error <code>&lt;script&gt;alert(&lt;num&gt;)&lt;/script&gt; &amp; &quot;x&quot; failed &lt;num&gt;</code>"
        ), "{html}");
    }

    #[test]
    fn many_long_groups_fit_under_the_limit_and_the_rest_are_counted() {
        let mut text = String::new();
        for i in 0..300 {
            let long =
                format!("{}{} ", "w".repeat(30), char::from(b'a' + (i % 26) as u8)).repeat(12);
            text.push_str(&format!(
                "2026-01-27 10:00:00 ERROR kind{} {long}\n",
                "x".repeat(i % 50 + 1)
            ));
        }
        let r = grouped(&text);
        assert!(r.groups.len() > 50, "{}", r.groups.len());
        let html = render(&r, None);
        assert!(length(&html) <= TELEGRAM_LIMIT, "{}", length(&html));
        let shown = html.matches("<code>").count() - 1; // the last is the command
        let note = format!(
            "\n<i>{} more group(s): <code>diagbot groups</code></i>",
            r.groups.len() - shown
        );
        assert!(html.ends_with(&note), "{html}");
        assert!(html.contains('…'));
    }
}
