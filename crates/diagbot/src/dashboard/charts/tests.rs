//! The charts, the SVG and the page from a history answer made here: the
//! origin story's climb, kill and restart, as the store would answer it.

use super::*;
use crate::dashboard::page::{self, Page};
use crate::dashboard::svg;
use crate::history::model::{EventRecord, HistoryAnswer, Series};
use crate::present::fixture;

const NOW: i64 = 1_790_000_000;
const MIB: f64 = 1048576.0;

/// An hour of crypto-bot's RSS a minute apart: 150 MiB climbing 6.4 MiB a
/// minute until the kill at minute 40, then from 150 MiB again.
fn origin_story() -> HistoryAnswer {
    let rss: Vec<(i64, f64, f64, f64)> = (0..60)
        .map(|m| {
            let t = NOW - 3600 + m * 60;
            let climb = if m < 40 { m } else { m - 40 };
            let v = 150.0 * MIB + climb as f64 * 6.4 * MIB;
            (t, v, v, v)
        })
        .collect();
    let flat = |v: f64| -> Vec<(i64, f64, f64, f64)> {
        (0..60).map(|m| (NOW - 3600 + m * 60, v, v, v)).collect()
    };
    let series = |name: &str, unit: &str, points| Series {
        name: name.into(),
        unit: unit.into(),
        step_seconds: 60,
        points,
    };
    HistoryAnswer {
        series: vec![
            series("host.memory_used", "bytes", flat(600.0 * MIB)),
            series("host.load1", "load", flat(0.5)),
            series("service.crypto-bot.rss", "bytes", rss),
            series("query.<script>alert(1)</script>.matches", "lines", flat(7.0)),
        ],
        events: vec![
            EventRecord {
                time: NOW - 3600 + 40 * 60,
                kind: "oom_kill".into(),
                service: Some("crypto-bot".into()),
                message: "OOM kill in crypto-bot: python3 (pid 908) killed at 552 MiB RSS <script>alert(2)</script>".into(),
            },
            EventRecord {
                time: NOW - 3600 + 41 * 60,
                kind: "restart".into(),
                service: Some("crypto-bot".into()),
                message: "crypto-bot restarted (restart 4, last result oom-kill)".into(),
            },
            EventRecord {
                time: NOW - 86400,
                kind: "restart".into(),
                service: Some("crypto-bot".into()),
                message: "a day ago, outside the range".into(),
            },
        ],
    }
}

fn queries() -> Vec<String> {
    vec!["<script>alert(1)</script>".into()]
}

fn chart<'a>(charts: &'a [Chart], id: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no chart {id} in {charts:#?}"))
}

#[test]
fn a_service_chart_has_its_samples_limit_projection_and_events() {
    let frame = Frame::of(Range::Hour, NOW);
    let status = fixture::status();
    let history = origin_story();
    let charts = build(frame, &status, Some(&history), &queries());
    let bot = chart(&charts, "service-0");
    assert_eq!(bot.title, "crypto-bot RSS");
    let rss = &bot.lines[0];
    // The 60 samples, then the status's value now.
    assert_eq!(rss.points.len(), 61);
    assert_eq!(rss.points[39].1, 150.0 * MIB + 39.0 * 6.4 * MIB);
    assert_eq!(
        rss.points[40].1,
        150.0 * MIB,
        "the restart starts low again"
    );
    assert_eq!(rss.points[60], (NOW, 167772160.0));
    assert_eq!(bot.limit.as_ref().map(|l| l.value), Some(943718400.0));
    // The fixture's trend: +111848 B/s, the limit in 3120 s, past the
    // quarter hour drawn ahead: the projection stops at the frame's end.
    let p = bot
        .projection
        .as_ref()
        .expect("a climbing service is projected");
    assert_eq!(p.from, (NOW, 227540992.0));
    assert_eq!(p.to, (NOW + 900, 227540992.0 + 111848.0 * 900.0));
    assert!(p.text.contains("reached in about 52 min"), "{}", p.text);
    let kinds: Vec<&str> = bot.markers.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["oom_kill", "restart"],
        "the day-old one is out of range"
    );
    assert!(bot.markers[0].text.contains("killed at 552 MiB RSS"));
    assert!(bot.markers[0].text.starts_with(&utc(NOW - 1200)));
    // The host's chart has no service's events; the other services none.
    assert!(chart(&charts, "host-memory").markers.is_empty());
    assert!(chart(&charts, "service-2").markers.is_empty());
    // The query's counts, without a value now (counts come only from history).
    let q = chart(&charts, "query-0");
    assert_eq!(q.title, "<script>alert(1)</script>: new matches per 5 min");
    assert_eq!(q.lines[0].points.len(), 60);
}

#[test]
fn the_projection_stops_at_the_limit_when_it_is_reached_within_the_frame() {
    let frame = Frame::of(Range::Day, NOW);
    let charts = build(frame, &fixture::status(), None, &[]);
    let p = chart(&charts, "service-0").projection.clone();
    let p = p.expect("projected");
    assert_eq!(p.to.0, NOW + 3120, "the limit is 52 min away, within 6 h");
}

#[test]
fn without_history_each_line_is_the_value_now() {
    let frame = Frame::of(Range::SixHours, NOW);
    let status = fixture::status();
    let charts = build(frame, &status, None, &queries());
    let memory = chart(&charts, "host-memory");
    assert_eq!(memory.lines[0].points, [(NOW, 598081536.0)]);
    assert_eq!(memory.lines[1].points, [(NOW, 409600000.0)]);
    assert_eq!(memory.limit.as_ref().map(|l| l.value), Some(1007681536.0));
    assert!(memory.projection.is_some(), "the host's trend climbs");
    assert_eq!(chart(&charts, "host-load").lines[0].points, [(NOW, 1.5)]);
    // A service not running has no value now, and nothing to draw but its
    // limit: no projection from its last instance's climb.
    let stopped = chart(&charts, "service-1");
    assert!(stopped.lines[0].points.is_empty());
    assert_eq!(stopped.projection, None);
    assert!(chart(&charts, "query-0").lines[0].points.is_empty());
    let (samples, counts) = series_names(&status, &queries());
    assert!(samples.contains(&"service.<worker & co>.rss".to_string()));
    assert_eq!(counts, ["query.<script>alert(1)</script>.matches"]);
}

#[test]
fn the_svg_draws_every_point_and_names_the_kill_on_hover() {
    let frame = Frame::of(Range::Hour, NOW);
    let history = origin_story();
    let charts = build(frame, &fixture::status(), Some(&history), &[]);
    let out = svg::render(chart(&charts, "service-0"), frame);
    let path = out
        .split(r#"<path class="series rss" d=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the RSS path");
    assert_eq!(path.matches('M').count() + path.matches('L').count(), 61);
    assert!(out.contains(r#"<line class="limit""#), "{out}");
    assert!(out.contains(r#"<path class="projection""#), "{out}");
    assert!(
        out.contains(r#"<g class="marker oom_kill"><title>"#)
            && out.contains("killed at 552 MiB RSS &lt;script&gt;alert(2)&lt;/script&gt;</title>"),
        "{out}"
    );
    assert!(!out.contains("<script"), "{out}");
    // The kill sits two thirds of the way along the hour, which takes 4/5 of
    // the width between the margins.
    let x = |t: i64| 72.0 + (t - frame.since) as f64 / 4500.0 * (720.0 - 72.0 - 40.0);
    assert!(
        out.contains(&format!(r#"<line x1="{:.1}""#, x(NOW - 1200))),
        "{out}"
    );
}

#[test]
fn a_range_labels_its_axis_and_draws_the_same_samples_elsewhere() {
    let status = fixture::status();
    let history = origin_story();
    let draw = |range| {
        let frame = Frame::of(range, NOW);
        svg::render(
            chart(&build(frame, &status, Some(&history), &[]), "service-0"),
            frame,
        )
    };
    let hour = draw(Range::Hour);
    let week = draw(Range::Week);
    assert!(hour.contains(">-1 h<") && hour.contains(">-30 min<") && hour.contains(">+15 min<"));
    assert!(week.contains(">-7 d<") && week.contains(">-84 h<") && week.contains(">+42 h<"));
    assert_ne!(hour, week);
    assert_eq!(svg::offset(-30 * 86400), "-30 d");
    assert_eq!(svg::offset(5400), "+90 min");
}

#[test]
fn the_page_escapes_what_logs_and_configuration_say() {
    let history = origin_story();
    let status = fixture::status();
    let queries = queries();
    let html = page::render(&Page {
        range: Range::Hour,
        unknown_range: None,
        frame: Frame::of(Range::Hour, NOW),
        status: Ok(&status),
        history: Ok(&history),
        queries: &queries,
        refresh: std::time::Duration::from_secs(30),
        groups: Err("no log paths <configured>".into()),
        daemon: "http://127.0.0.1:9187",
    });
    // Our two script elements and no other.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;: new matches per 5 min"));
    assert!(html.contains("killed at 552 MiB RSS &lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(html.contains("&lt;worker &amp; co&gt;"));
    assert!(html.contains(
        r#"<div id="groups" data-daemon="http://127.0.0.1:9187"><p class="note">The error groups could not be read: no log paths &lt;configured&gt;</p></div>"#
    ));
    // The events, newest first, the out-of-range one too (the list is the answer's).
    let kill = html
        .find("<li class=\"event oom_kill\">")
        .expect("the kill is listed");
    let restart = html
        .find("<li class=\"event restart\">")
        .expect("the restart is listed");
    assert!(restart < kill);
    // A sentence that names its service is not prefixed with it again; one
    // that does not is.
    assert!(
        html.contains("</b> OOM kill in crypto-bot: python3"),
        "{html}"
    );
    assert!(
        html.contains("</b> crypto-bot restarted (restart 4"),
        "{html}"
    );
    assert!(
        html.contains("</b> crypto-bot: a day ago, outside the range"),
        "{html}"
    );
    assert!(html.contains(r#"<p class="note" id="history-note" hidden>"#));
    assert!(html.contains(r#"<p id="cache-size">2 answers in 20.0 KiB of 64.0 MiB</p>"#));
    assert!(html.contains(r#"<a href="?range=1h" data-range="1h" class="active""#));
    // The configuration the script reads is JSON that cannot end its element.
    let config = html
        .split(r#"<script type="application/json" id="dashboard-config">"#)
        .nth(1)
        .and_then(|r| r.split("</script>").next())
        .expect("the config");
    let config: serde_json::Value = serde_json::from_str(config).expect("JSON");
    assert_eq!(config["queries"][0], "<script>alert(1)</script>");
    assert_eq!(config["refresh_ms"], 30000);
    assert_eq!(config["history"], true);
}

#[test]
fn without_history_the_page_says_why_and_shows_the_status() {
    let status = fixture::status();
    let html = page::render(&Page {
        range: Range::SixHours,
        unknown_range: Some("<2y>"),
        frame: Frame::of(Range::SixHours, NOW),
        status: Ok(&status),
        history: Err("the disk is full <really>".into()),
        queries: &[],
        refresh: std::time::Duration::from_millis(100),
        groups: Err("stopping".into()),
        daemon: "http://127.0.0.1:9187",
    });
    assert!(
        html.contains("History is unavailable (the disk is full &lt;really&gt;)"),
        "{html}"
    );
    assert!(html.contains("No range &lt;2y&gt;: showing 6h."));
    assert!(
        html.contains("<td>crypto-bot</td><td>active (running)</td>"),
        "{html}"
    );
    assert!(html
        .contains(r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-service-0""#));
    assert!(html.contains(r#"<li class="none">none in this range</li>"#));
    assert!(
        html.contains(r#""refresh_ms":1000"#),
        "refreshes at most once a second"
    );
    assert!(html.contains(r#""history":false"#));
}

#[test]
fn a_querys_chart_shows_the_matches_found_each_hour_not_the_running_count() {
    // The count of matches in the logs at each refresh, rolled up by hour:
    // 100 → 130, 130 → 190, then a rotation out of the paths (5 → 20).
    let hourly = Series {
        name: "query.errors.matches".into(),
        unit: "lines".into(),
        step_seconds: 3600,
        points: vec![
            (NOW - 3 * 3600, 100.0, 130.0, 115.0),
            (NOW - 2 * 3600, 130.0, 190.0, 160.0),
            (NOW - 3600, 5.0, 20.0, 12.0),
        ],
    };
    let frame = Frame {
        since: NOW - 4 * 3600,
        now: NOW,
        ahead: 0,
    };
    assert_eq!(
        increases(&hourly, frame),
        [
            (NOW - 3 * 3600, 30.0),
            (NOW - 2 * 3600, 60.0),
            (NOW - 3600, 15.0)
        ]
    );
}

#[test]
fn error_groups_and_alerts_are_listed_not_drawn_on_the_memory_chart() {
    let frame = Frame::of(Range::Hour, NOW);
    let status = fixture::status();
    let mut history = origin_story();
    for (i, kind) in [
        "new_error_group",
        "many_error_groups",
        "error_burst",
        "alert",
    ]
    .iter()
    .enumerate()
    {
        history.events.push(EventRecord {
            time: NOW - 600 + i as i64,
            kind: (*kind).into(),
            service: Some("crypto-bot".into()),
            message: "new error in crypto-bot".into(),
        });
    }
    let charts = build(frame, &status, Some(&history), &queries());
    let kinds: Vec<&str> = chart(&charts, "service-0")
        .markers
        .iter()
        .map(|m| m.kind.as_str())
        .collect();
    assert_eq!(kinds, ["oom_kill", "restart"]);
}

/// The cache's size as explain named it: 5 entries a minute from 3 after
/// each start, the kill at minute 40 emptying it.
fn with_the_cache_size(history: &mut HistoryAnswer) -> diagbot_core::probe::Status {
    let entries: Vec<(i64, f64, f64, f64)> = (0..60)
        .map(|m| {
            let v = 3.0 + 5.0 * (if m < 40 { m } else { m - 40 }) as f64;
            (NOW - 3600 + m * 60, v, v, v)
        })
        .collect();
    history.series.push(Series {
        name: "log.crypto-bot.explained".into(),
        unit: "value".into(),
        step_seconds: 60,
        points: entries,
    });
    let mut status = fixture::status();
    let trend = status.services[0]
        .memory_trend
        .as_mut()
        .expect("the fixture's bot has a trend");
    trend.explained_by = Some(diagbot_core::explain::Candidate {
        template: "Cache size: <num> entries <b>".into(),
        variable: 1,
        r: Some(0.987),
        bytes_per_unit: Some(7.1 * MIB),
        instances: 2,
        samples: 58,
        last_value: Some(198.0),
        source: "/var/log/bot.log".into(),
        not_because: None,
    });
    status
}

#[test]
fn the_number_a_climb_is_explained_by_is_drawn_on_its_own_axis() {
    let frame = Frame::of(Range::Hour, NOW);
    let mut history = origin_story();
    let status = with_the_cache_size(&mut history);
    let (samples, _) = series_names(&status, &[]);
    assert!(
        samples.contains(&"log.crypto-bot.explained".to_string()),
        "the page asks history for the explained number: {samples:?}"
    );
    let charts = build(frame, &status, Some(&history), &[]);
    let bot = chart(&charts, "service-0");
    let second = bot.second.as_ref().expect("the bot's climb is explained");
    assert_eq!(second.label, "`Cache size: <num> entries <b>` (r 0.99)");
    assert_eq!(second.points.len(), 60);
    assert_eq!(second.points[39].1, 198.0);
    assert_eq!(
        chart(&charts, "service-1").second,
        None,
        "a climb nobody explained has one axis"
    );
    let out = svg::render(bot, frame);
    // Its own scale on the right, at round values up past its 198 entries,
    // where the RSS's scale reaches 1000 MiB.
    assert!(
        out.contains(r#"<text class="ylabel2 explained" x="684.0" y="16.0">300</text>"#),
        "{out}"
    );
    assert!(
        out.contains(r#"<g class="legend explained"><line x1="78.0" y1="33.0" x2="92.0" y2="33.0"></line><text x="96.0" y="37.0">`Cache size: &lt;num&gt; entries &lt;b&gt;` (r 0.99)</text></g>"#),
        "named with its r, escaped, below the RSS: {out}"
    );
    let path = out
        .split(r#"<path class="series explained" d=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the explained path");
    assert_eq!(path.matches('L').count(), 59);
    // Its highest point is at 198 of the axis's 300.
    let top_y = 200.0 - 24.0 - 198.0 / 300.0 * (200.0 - 12.0 - 24.0);
    assert!(path.contains(&format!(",{top_y:.1}")), "{path}");
    assert_eq!(svg::count(217.8), "218");
    assert_eq!(svg::count(2.5), "2.5");
    assert_eq!(svg::count(48_213.0), "48k");
    assert_eq!(svg::count(3_400_000.0), "3.4M");
}

/// The labels of an SVG's value axis (`ylabel`), bottom up.
fn y_labels(out: &str) -> Vec<String> {
    out.split(r#"<text class="ylabel" "#)
        .skip(1)
        .filter_map(|rest| rest.split('>').nth(1)?.split('<').next())
        .map(String::from)
        .collect()
}

/// The `d` of the path of class `series CLASS`.
fn path_of<'a>(out: &'a str, class: &str) -> &'a str {
    out.split(&format!(r#"<path class="series {class}" d=""#))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {class} path in {out}"))
}

#[test]
fn a_chart_of_two_lines_names_each_in_a_legend_and_one_line_needs_none() {
    let frame = Frame::of(Range::Hour, NOW);
    let charts = build(frame, &fixture::status(), Some(&origin_story()), &[]);
    let memory = svg::render(chart(&charts, "host-memory"), frame);
    assert!(
        memory.contains(r#"<g class="legend used"><line x1="78.0" y1="20.0" x2="92.0" y2="20.0"></line><text x="96.0" y="24.0">used</text></g>"#),
        "{memory}"
    );
    assert!(
        memory.contains(r#"<g class="legend available"><line x1="78.0" y1="33.0" x2="92.0" y2="33.0"></line><text x="96.0" y="37.0">available</text></g>"#),
        "{memory}"
    );
    let load = svg::render(chart(&charts, "host-load"), frame);
    assert!(!load.contains("legend"), "{load}");
}

#[test]
fn value_ticks_are_round_distinct_and_zero_alone_when_all_is_zero() {
    let frame = Frame::of(Range::Hour, NOW);
    let mut status = fixture::status();
    let swap = status.host.swap.as_mut().expect("the fixture has swap");
    swap.used_bytes = 0;
    swap.total_bytes = 0;
    let charts = build(frame, &status, Some(&origin_story()), &[]);
    // The host's 600 MiB used of 961 MiB (its total drawn): round MiB.
    let memory = y_labels(&svg::render(chart(&charts, "host-memory"), frame));
    assert_eq!(memory, ["0 MiB", "500 MiB", "1000 MiB", "1500 MiB"]);
    // No swap: 0 alone, not "1 B / 0 B / 0 B".
    let swap = y_labels(&svg::render(chart(&charts, "host-swap"), frame));
    assert_eq!(swap, ["0"]);
    let load = y_labels(&svg::render(chart(&charts, "host-load"), frame));
    assert_eq!(load, ["0.0", "0.5", "1.0", "1.5", "2.0"]);
}

/// A minute's samples of `name` with the minutes `missing` left out, and
/// one step without a value (NaN) at minute 50.
fn with_holes(name: &str, missing: std::ops::Range<i64>) -> HistoryAnswer {
    let points = (0..60)
        .filter(|m| !missing.contains(m))
        .map(|m| {
            let v = if m == 50 { f64::NAN } else { 100.0 * MIB };
            (NOW - 3600 + m * 60, v, v, v)
        })
        .collect();
    HistoryAnswer {
        series: vec![Series {
            name: name.into(),
            unit: "bytes".into(),
            step_seconds: 60,
            points,
        }],
        events: vec![],
    }
}

#[test]
fn a_time_without_samples_breaks_the_line_instead_of_crossing_it() {
    let frame = Frame::of(Range::Hour, NOW);
    // Stopped from minute 20 to 29, and no value at minute 50.
    let history = with_holes("service.crypto-bot.rss", 20..30);
    let charts = build(frame, &fixture::status(), Some(&history), &[]);
    let out = svg::render(chart(&charts, "service-0"), frame);
    let d = path_of(&out, "rss");
    assert_eq!(d.matches('M').count(), 3, "{d}");
    assert_eq!(d.matches('M').count() + d.matches('L').count(), 50, "{d}");
    let x = |t: i64| 72.0 + (t - frame.since) as f64 / 4500.0 * (720.0 - 72.0 - 40.0);
    assert!(
        d.contains(&format!("M{:.1},", x(NOW - 3600 + 30 * 60))),
        "{d}"
    );
    assert!(
        d.contains(&format!("M{:.1},", x(NOW - 3600 + 51 * 60))),
        "{d}"
    );
    // Two steps apart are still joined (a sample late by a little).
    let history = with_holes("service.crypto-bot.rss", 20..21);
    let charts = build(frame, &fixture::status(), Some(&history), &[]);
    let d = svg::render(chart(&charts, "service-0"), frame);
    assert_eq!(path_of(&d, "rss").matches('M').count(), 2, "only the NaN");
}

#[test]
fn the_errors_of_the_last_minutes_are_drawn_near_now_with_their_own_count() {
    // The count of matches at each refresh, 5 minutes apart: 40 in the
    // logs for most of the hour, 3 more just before now.
    let step = counts_step(3600) as i64;
    assert_eq!(step, 300);
    let start = NOW / step * step;
    let points = (0..12)
        .map(|i| {
            let t = start - (11 - i) * step;
            let n = if i == 11 { 43.0 } else { 40.0 };
            (t, n, n, n)
        })
        .collect();
    let history = HistoryAnswer {
        series: vec![Series {
            name: "query.errors.matches".into(),
            unit: "lines".into(),
            step_seconds: step as u64,
            points,
        }],
        events: vec![],
    };
    let frame = Frame::of(Range::Hour, NOW);
    let queries = vec!["errors".to_string()];
    let charts = build(frame, &fixture::status(), Some(&history), &queries);
    let errors = chart(&charts, "query-0");
    assert_eq!(errors.title, "errors: new matches per 5 min");
    let last = *errors.lines[0].points.last().expect("points");
    assert_eq!(last, (start, 3.0), "the bucket's own count, at its time");
    assert!(
        errors.lines[0].points.iter().all(|p| p.1 <= 3.0),
        "not a running count"
    );
    let out = svg::render(errors, frame);
    let dot = out
        .split(r#"<circle class="latest matches" cx=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|x| x.parse::<f64>().ok())
        .expect("the newest count's dot");
    let x = |t: i64| 72.0 + (t - frame.since) as f64 / 4500.0 * (720.0 - 72.0 - 40.0);
    assert!(
        dot >= x(NOW - 300) && dot <= x(NOW),
        "{dot} within the last 5 min"
    );
}

#[test]
fn a_service_without_a_limit_of_its_own_is_scaled_to_its_own_values() {
    let frame = Frame::of(Range::Hour, NOW);
    let mut status = fixture::status();
    // 50 MiB on a 24 GiB host, the only "limit" the host's memory.
    let svc = &mut status.services[0];
    svc.rss_bytes = Some(50 << 20);
    svc.memory_limit_bytes = Some(24 << 30);
    svc.memory_limit_source = Some(diagbot_core::probe::service::LimitSource::HostMemory);
    svc.memory_trend = None;
    let charts = build(frame, &status, None, &[]);
    let bot = chart(&charts, "service-0");
    assert_eq!(bot.limit, None);
    let out = svg::render(bot, frame);
    assert_eq!(y_labels(&out), ["0 MiB", "20 MiB", "40 MiB", "60 MiB"]);
    assert!(!out.contains(r#"<line class="limit""#), "{out}");
    assert!(
        out.contains(r#"<text class="limit-note" x="676.0" y="24.0">no limit</text>"#),
        "{out}"
    );
    // A limit of its own far above the values is said, not drawn.
    let svc = &mut status.services[0];
    svc.memory_limit_bytes = Some(512 << 20);
    svc.memory_limit_source = Some(diagbot_core::probe::service::LimitSource::Config);
    let charts = build(frame, &status, None, &[]);
    let out = svg::render(chart(&charts, "service-0"), frame);
    assert!(!out.contains(r#"<line class="limit""#), "{out}");
    assert!(out.contains(">limit 512.0 MiB</text>"), "{out}");
    assert_eq!(y_labels(&out), ["0 MiB", "20 MiB", "40 MiB", "60 MiB"]);
}

#[test]
fn each_point_says_its_time_and_value_on_hover() {
    let frame = Frame::of(Range::Hour, NOW);
    let charts = build(frame, &fixture::status(), Some(&origin_story()), &[]);
    let out = svg::render(chart(&charts, "service-0"), frame);
    // The 60 samples and the value now.
    assert_eq!(out.matches(r#"<circle class="point rss""#).count(), 61);
    assert!(
        out.contains(&format!(
            "<title>{} RSS: 399.6 MiB</title></circle>",
            utc(NOW - 3600 + 39 * 60)
        )),
        "{out}"
    );
    // A day at a minute's step has at most HOVER_TARGETS of them.
    let long = Line {
        class: "rss",
        label: "RSS".into(),
        points: (0..1440).map(|m| (NOW - 86400 + m * 60, 1.0)).collect(),
        gap: 120,
    };
    let mut day = chart(&charts, "service-0").clone();
    day.lines = vec![long];
    let out = svg::render(&day, Frame::of(Range::Day, NOW));
    assert_eq!(out.matches(r#"<circle class="point rss""#).count(), 240);
}

#[test]
fn the_quarter_hour_is_offered_and_labels_its_axis() {
    let frame = Frame::of(Range::QuarterHour, NOW);
    let charts = build(frame, &fixture::status(), Some(&origin_story()), &[]);
    let out = svg::render(chart(&charts, "service-0"), frame);
    assert!(
        out.contains(">-15 min<") && out.contains(">-7 min 30 s<") && out.contains(">+3 min 45 s<"),
        "{out}"
    );
    // 15 of the hour's minute samples, and the value now.
    assert_eq!(chart(&charts, "service-0").lines[0].points.len(), 16);
}
