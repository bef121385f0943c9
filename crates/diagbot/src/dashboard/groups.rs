//! The dashboard's error groups: the range's most frequent groups of warning
//! lines and worse (the answer `/api/v1/groups` gives), each with a
//! sparkline of its lines per step of time. `assets/app.js` draws the same
//! elements from the same JSON; everything from a log is escaped.

use std::fmt::Write;

use diagbot_core::groups::{GroupSummary, GroupsResult, Steps};

use super::charts::utc;
use super::escape;
use super::range::Range;

/// Groups shown, most lines first (the sentence above the table counts all).
pub const TOP_GROUPS: usize = 10;
/// The sparkline's size in SVG units.
pub const SPARK_WIDTH: f64 = 120.0;
pub const SPARK_HEIGHT: f64 = 24.0;

/// What a range's sparklines count per bar: per hour, but per 5 minutes
/// over an hour and per 6 hours over 30 days (120 bars, not 720).
pub fn step(range: Range) -> u64 {
    match range {
        Range::QuarterHour => 60,
        Range::Hour => 300,
        Range::SixHours | Range::Day | Range::Week => 3600,
        Range::Month => 6 * 3600,
    }
}

/// The step in the column's heading: "hour", "5 min", "6 h".
pub fn step_name(seconds: u64) -> String {
    match seconds {
        3600 => "hour".into(),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{} min", s / 60),
    }
}

/// The inside of the page's `#groups`: the table, or why there is none.
/// `daemon` is this daemon's URL: the command it suggests asks the same
/// daemon, so it gives the same groups (and `new`) wherever it is run.
pub fn render(answer: &Result<&GroupsResult, String>, range: Range, daemon: &str) -> String {
    let answer = match answer {
        Ok(answer) => answer,
        Err(reason) => {
            return format!(
                r#"<p class="note">The error groups could not be read: {}</p>"#,
                escape::text(reason)
            )
        }
    };
    let mut out = String::new();
    if answer.groups.is_empty() {
        let _ = write!(
            out,
            r#"<p class="none">No warning or error lines in the last {}.</p>"#,
            range.name()
        );
        unplaced(&mut out, answer);
        return out;
    }
    let shown = answer.groups.len().min(TOP_GROUPS);
    let _ = write!(
        out,
        r#"<p class="groups-summary">{} in the last {}, in {}{}. All of them: <code>diagbot groups --since {} --remote {}</code></p>"#,
        warnings_and_errors(events(answer)),
        range.name(),
        counted(answer.groups.len() as u64, "group"),
        match &answer.other {
            Some(o) => format!(" and {} merged into “other”", counted(o.groups, "group")),
            None => String::new(),
        },
        range.name(),
        escape::text(daemon)
    );
    let step = answer.steps.map_or(step(range), |s| s.seconds);
    let _ = write!(
        out,
        r#"<table class="groups"><thead><tr><th>level</th><th>group</th><th>count</th><th>last seen</th><th>per {}</th></tr></thead><tbody>"#,
        escape::text(&step_name(step))
    );
    for g in &answer.groups[..shown] {
        row(&mut out, g, answer.steps.as_ref());
    }
    out.push_str("</tbody></table>");
    if answer.groups.iter().all(|g| g.new.is_none()) {
        out.push_str(NEW_UNKNOWN);
    }
    unplaced(&mut out, answer);
    out
}

/// Said when no group is known to be new or old: only a `[[services]]`
/// entry's new-error watch records when a group was first seen.
const NEW_UNKNOWN: &str = r#"<p class="note">Which groups are new is known for the logs of a [[services]] entry, whose new-error watch records when each group was first seen; none of these is.</p>"#;

/// Files named in the note on lines the range could not place.
pub const UNPLACED_NAMED: usize = 5;

/// The files whose lines have no timestamp diagbot reads: the range cannot
/// place them, so their errors are not above, and the page says so.
fn unplaced(out: &mut String, answer: &GroupsResult) {
    let files = &answer.warnings;
    if files.is_empty() {
        return;
    }
    let mut names: Vec<String> = files
        .iter()
        .take(UNPLACED_NAMED)
        .map(|w| w.path.clone())
        .collect();
    if files.len() > UNPLACED_NAMED {
        names.push(format!("{} more", files.len() - UNPLACED_NAMED));
    }
    let _ = write!(
        out,
        r#"<p class="note unplaced">Not counted: lines without a timestamp diagbot reads, in {}: {}. <code>diagbot formats test FILE</code> shows how a file is read.</p>"#,
        counted(files.len() as u64, "file"),
        escape::text(&names.join(", "))
    );
}

/// The events grouped (a line with its continuation lines is one): the
/// groups' counts and "other"'s, as the table's column counts them.
fn events(answer: &GroupsResult) -> u64 {
    answer.groups.iter().map(|g| g.count).sum::<u64>()
        + answer.other.as_ref().map_or(0, |o| o.count)
}

/// "1 warning or error", "3 warnings or errors".
fn warnings_and_errors(n: u64) -> String {
    if n == 1 {
        "1 warning or error".into()
    } else {
        format!("{n} warnings or errors")
    }
}

/// "1 group", "3 groups".
fn counted(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn row(out: &mut String, g: &GroupSummary, steps: Option<&Steps>) {
    let _ = write!(
        out,
        r#"<tr data-id="{}"><td>{}</td><td><code title="{}">{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        escape::text(&g.id),
        g.level.map_or("none", |l| l.name()),
        escape::text(&g.example),
        escape::text(&g.template),
        if g.new == Some(true) {
            r#" <b class="new">new</b>"#
        } else {
            ""
        },
        g.count,
        g.last_seen.map_or_else(String::new, |t| utc(t.timestamp())),
        steps.map_or_else(String::new, |s| spark(&g.counts, s))
    );
}

/// Bars of `counts`, the tallest the sparkline's height; each says its
/// step's start and count.
pub fn spark(counts: &[u32], steps: &Steps) -> String {
    let peak = counts.iter().copied().max().unwrap_or(0);
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img" aria-label="{total} in all, at most {peak} per {}">"#,
        escape::text(&step_name(steps.seconds))
    );
    let width = SPARK_WIDTH / counts.len().max(1) as f64;
    for (i, &c) in counts.iter().enumerate().filter(|(_, &c)| c > 0) {
        let height = (f64::from(c) / f64::from(peak) * SPARK_HEIGHT).max(1.0);
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{width:.1}" height="{height:.1}"><title>{}: {c}</title></rect>"#,
            i as f64 * width,
            SPARK_HEIGHT - height,
            utc(steps.start + i as i64 * steps.seconds as i64)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAEMON: &str = "http://127.0.0.1:9187";

    fn group(template: &str, counts: Vec<u32>) -> GroupSummary {
        GroupSummary {
            id: "0123456789abcdef".into(),
            template: template.into(),
            level: Some(diagbot_core::logs::level::Level::Error),
            count: counts.iter().map(|&c| u64::from(c)).sum(),
            share: 1.0,
            first_seen: None,
            last_seen: chrono::DateTime::parse_from_rfc3339("2026-11-29T12:30:00.25+01:00").ok(),
            files: vec![],
            more_files: 0,
            example: "<img src=x onerror=alert(1)> \"quoted\"".into(),
            new: Some(true),
            previous_count: None,
            counts,
        }
    }

    fn answer(groups: Vec<GroupSummary>) -> GroupsResult {
        GroupsResult {
            lines_considered: groups.iter().map(|g| g.count).sum(),
            groups,
            other: None,
            lines_read: 0,
            files_searched: 1,
            bytes_scanned: 0,
            skipped: vec![],
            warnings: vec![],
            heap_bytes: 0,
            steps: Some(Steps {
                start: 1_790_000_000,
                seconds: 3600,
                len: 4,
            }),
            paths: vec![],
            assigned: vec![],
        }
    }

    #[test]
    fn a_group_is_a_row_with_its_escaped_template_and_a_bar_per_busy_hour() {
        let a = answer(vec![group(
            "<script>x</script> failed <num>",
            vec![0, 4, 2, 0],
        )]);
        let html = render(&Ok(&a), Range::SixHours, DAEMON);
        assert!(html.contains("<code title=\"&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot;\">&lt;script&gt;x&lt;/script&gt; failed &lt;num&gt;</code> <b class=\"new\">new</b>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<th>per hour</th>"), "{html}");
        // Two bars: the peak full height, half the peak half of it.
        assert!(html.contains(r#"<rect x="30.0" y="0.0" width="30.0" height="24.0"><title>2026-09-21 15:13:20 UTC: 4</title></rect>"#), "{html}");
        assert!(
            html.contains(r#"<rect x="60.0" y="12.0" width="30.0" height="12.0">"#),
            "{html}"
        );
        assert_eq!(html.matches("<rect").count(), 2);
        assert!(html.contains("<td>2026-11-29 11:30:00 UTC</td>"), "{html}");
        assert!(
            html.contains("6 warnings or errors in the last 6h, in 1 group."),
            "{html}"
        );
    }

    #[test]
    fn only_the_top_groups_are_rows_and_none_says_so() {
        let many: Vec<GroupSummary> = (0..15)
            .map(|i| group(&format!("g{i}"), vec![1, 0, 0, 0]))
            .collect();
        let html = render(&Ok(&answer(many)), Range::Day, DAEMON);
        assert_eq!(html.matches("<tr data-id").count(), TOP_GROUPS);
        assert!(
            html.contains("15 warnings or errors in the last 24h, in 15 groups."),
            "{html}"
        );
        let mut empty = answer(vec![]);
        let none = render(&Ok(&empty), Range::Day, DAEMON);
        assert_eq!(
            none,
            r#"<p class="none">No warning or error lines in the last 24h.</p>"#
        );
        // Files the range cannot place are named (a few), not silently left out.
        empty.warnings = (0..7)
            .map(|i| diagbot_core::query::FileWarning {
                path: format!("/var/log/<{i}>.log"),
                problem: diagbot_core::query::TimestampProblem::NoTimestamps,
                lines_with_time: 0,
                lines: 10,
            })
            .collect();
        let unplaced = render(&Ok(&empty), Range::Day, DAEMON);
        assert!(
            unplaced.contains("in 7 files: /var/log/&lt;0&gt;.log, /var/log/&lt;1&gt;.log, /var/log/&lt;2&gt;.log, /var/log/&lt;3&gt;.log, /var/log/&lt;4&gt;.log, 2 more."),
            "{unplaced}"
        );
        let failed = render(&Err("<b>gone</b>".into()), Range::Day, DAEMON);
        assert!(
            failed.contains("could not be read: &lt;b&gt;gone&lt;/b&gt;"),
            "{failed}"
        );
    }

    #[test]
    fn steps_are_named_as_the_heading_says_them() {
        assert_eq!(step_name(step(Range::Hour)), "5 min");
        assert_eq!(step_name(step(Range::Week)), "hour");
        assert_eq!(step_name(step(Range::Month)), "6 h");
        assert_eq!(Range::Month.seconds() as u64 / step(Range::Month), 120);
    }
}
