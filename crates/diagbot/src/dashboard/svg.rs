//! A chart drawn as SVG text, every label escaped. `assets/app.js` draws
//! the same elements with the same geometry in the browser.

use std::fmt::Write;

use super::charts::{self, Chart, Frame, Level, Line, Unit};
use super::escape;
use super::ticks::{self, Axis, Kind};
use crate::present::format;

/// The drawing's size in SVG units (it scales to the page's width).
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 200.0;
/// Room for the value labels on the left and the time labels below.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// A limit is drawn as a line only up to this many times the chart's
/// highest value: further up it would flatten the values onto the floor
/// (a 50 MiB process against a 24 GiB host), so it is said in words.
pub const LIMIT_REACH: f64 = 4.0;
/// At most this many points of a line carry their value on hover: a day
/// at a minute's step would otherwise add a megabyte to the page.
pub const HOVER_TARGETS: usize = 240;

/// Data to drawing coordinates.
struct Scale {
    frame: Frame,
    axis: Axis,
}

impl Scale {
    /// The lines, the projection and the limit when it is drawn.
    fn of(chart: &Chart, frame: Frame) -> Scale {
        let limit = shown_limit(chart).map_or(0.0, |l| l.value);
        Scale {
            frame,
            axis: ticks::axis(kind(chart.unit), data_max(chart).max(limit)),
        }
    }

    /// The scale of the chart's second line, on its own axis.
    fn of_second(line: &Line, frame: Frame) -> Scale {
        let max = line
            .points
            .iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        Scale {
            frame,
            axis: ticks::axis(Kind::Plain, max),
        }
    }

    fn x(&self, t: i64) -> f64 {
        let span = (self.frame.now + self.frame.ahead - self.frame.since).max(1) as f64;
        LEFT + (t - self.frame.since) as f64 / span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        HEIGHT - BOTTOM - v.max(0.0) / self.axis.top * (HEIGHT - TOP - BOTTOM)
    }
}

/// How the value axis of a chart in `unit` is labelled.
fn kind(unit: Unit) -> Kind {
    match unit {
        Unit::Bytes => Kind::Bytes,
        Unit::Load => Kind::Plain,
        Unit::Lines => Kind::Whole,
    }
}

/// The highest value of the lines and the projection (0 without any).
fn data_max(chart: &Chart) -> f64 {
    chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(chart.projection.as_ref().map(|p| p.to.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// The limit when it is near enough the values to be drawn as a line.
fn shown_limit(chart: &Chart) -> Option<&Level> {
    chart
        .limit
        .as_ref()
        .filter(|l| l.value <= LIMIT_REACH * data_max(chart))
}

/// A value in the chart's unit: "120.0 MiB", "1.50", "42".
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Bytes => format::bytes(v.max(0.0) as u64),
        Unit::Load => format!("{v:.2}"),
        Unit::Lines => format!("{v:.0}"),
    }
}

/// A plain number, short enough for the right axis: "7", "2.5", "12k", "3.4M".
pub fn count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A span before or after now: "-6 h", "+90 min", "-15 d", "-7 min 30 s".
pub fn offset(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "+" };
    let s = secs.abs();
    if s % 86400 == 0 {
        format!("{sign}{} d", s / 86400)
    } else if s % 3600 == 0 {
        format!("{sign}{} h", s / 3600)
    } else if s % 60 == 0 {
        format!("{sign}{} min", s / 60)
    } else {
        format!("{sign}{} min {} s", s / 60, s % 60)
    }
}

/// The chart as an `<svg>` element.
pub fn render(chart: &Chart, frame: Frame) -> String {
    let scale = Scale::of(chart, frame);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        escape::text(&chart.id),
        escape::text(&chart.title)
    );
    axes(&mut out, &scale);
    match shown_limit(chart) {
        Some(limit) => limit_line(&mut out, limit, chart.unit, &scale),
        None => limit_note(&mut out, chart),
    }
    for line in &chart.lines {
        series(&mut out, line, &scale, |v| value(chart.unit, v));
    }
    if let Some(second) = &chart.second {
        let scale = Scale::of_second(second, frame);
        second_axis(&mut out, second, &scale);
        series(&mut out, second, &scale, count);
    }
    if let Some(p) = &chart.projection {
        let _ = write!(
            out,
            r#"<path class="projection" d="M{:.1},{:.1} L{:.1},{:.1}"><title>{}</title></path>"#,
            scale.x(p.from.0),
            scale.y(p.from.1),
            scale.x(p.to.0),
            scale.y(p.to.1),
            escape::text(&p.text)
        );
    }
    for m in &chart.markers {
        let x = scale.x(m.time);
        let _ = write!(
            out,
            r#"<g class="marker {}"><title>{}</title><line x1="{x:.1}" y1="{TOP:.1}" x2="{x:.1}" y2="{:.1}"></line><circle cx="{x:.1}" cy="{TOP:.1}" r="4"></circle></g>"#,
            escape::text(&m.kind),
            escape::text(&m.text),
            HEIGHT - BOTTOM
        );
    }
    legend(&mut out, chart);
    out.push_str("</svg>");
    out
}

fn limit_line(out: &mut String, limit: &Level, unit: Unit, scale: &Scale) {
    let y = scale.y(limit.value);
    let _ = write!(
        out,
        r#"<line class="limit" x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"><title>{}</title></line>"#,
        WIDTH - RIGHT,
        escape::text(&format!("{}: {}", limit.label, value(unit, limit.value)))
    );
}

/// A limit too far above the values to draw ("limit 512.0 MiB"), or a
/// service's want of one ("no limit"), in the top right corner.
fn limit_note(out: &mut String, chart: &Chart) {
    let text = match &chart.limit {
        Some(l) => format!("{} {}", l.label, value(chart.unit, l.value)),
        None if chart.says_no_limit => "no limit".to_string(),
        None => return,
    };
    let _ = write!(
        out,
        r#"<text class="limit-note" x="{:.1}" y="{:.1}">{}</text>"#,
        WIDTH - RIGHT - 4.0,
        TOP + 12.0,
        escape::text(&text)
    );
}

/// Each line's name beside a stroke of its colour, one a row in the top
/// left corner, when a chart has more than one line.
fn legend(out: &mut String, chart: &Chart) {
    let lines: Vec<&Line> = chart.lines.iter().chain(chart.second.as_ref()).collect();
    if lines.len() < 2 {
        return;
    }
    for (i, line) in lines.iter().enumerate() {
        let y = TOP + 12.0 + 13.0 * i as f64;
        let _ = write!(
            out,
            r#"<g class="legend {}"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"></line><text x="{:.1}" y="{y:.1}">{}</text></g>"#,
            line.class,
            LEFT + 6.0,
            y - 4.0,
            LEFT + 20.0,
            y - 4.0,
            LEFT + 24.0,
            escape::text(&line.label)
        );
    }
}

/// The path's commands: a point joins the one before with `L` unless it
/// lacks a value or is farther from it than the line's `gap`, where the
/// service was not sampled (stopped, or diagbot was): then `M` starts anew.
fn path(line: &Line, scale: &Scale) -> String {
    let mut d: Vec<String> = Vec::new();
    let mut before: Option<i64> = None;
    for &(t, v) in &line.points {
        if !v.is_finite() {
            before = None;
            continue;
        }
        let joined = before.is_some_and(|b| line.gap == 0 || t - b <= line.gap);
        let op = if joined { 'L' } else { 'M' };
        d.push(format!("{op}{:.1},{:.1}", scale.x(t), scale.y(v)));
        before = Some(t);
    }
    d.join(" ")
}

/// A line, a dot at its newest point, and a hover target on its points
/// (every one, or evenly spaced ones up to [`HOVER_TARGETS`]) saying the
/// time and the value.
fn series(out: &mut String, line: &Line, scale: &Scale, say: impl Fn(f64) -> String) {
    let _ = write!(
        out,
        r#"<path class="series {}" d="{}"><title>{}</title></path>"#,
        line.class,
        path(line, scale),
        escape::text(&line.label)
    );
    if let Some(&(t, v)) = line.points.iter().rev().find(|p| p.1.is_finite()) {
        let title = format!("{}: {}", line.label, say(v));
        dot(out, "latest", line, (scale.x(t), scale.y(v)), 3, &title);
    }
    let every = line.points.len().div_ceil(HOVER_TARGETS).max(1);
    for &(t, v) in line.points.iter().step_by(every) {
        if !v.is_finite() {
            continue;
        }
        let title = format!("{} {}: {}", charts::utc(t), line.label, say(v));
        dot(out, "point", line, (scale.x(t), scale.y(v)), 5, &title);
    }
}

/// A circle of `kind` on `line` at `(x, y)`, saying `title` on hover.
fn dot(out: &mut String, kind: &str, line: &Line, (x, y): (f64, f64), r: u8, title: &str) {
    let _ = write!(
        out,
        r#"<circle class="{kind} {}" cx="{x:.1}" cy="{y:.1}" r="{r}"><title>{}</title></circle>"#,
        line.class,
        escape::text(title)
    );
}

/// The second line's values on the right, at its own round ticks.
fn second_axis(out: &mut String, line: &Line, scale: &Scale) {
    for (v, label) in &scale.axis.ticks {
        let _ = write!(
            out,
            r#"<text class="ylabel2 {}" x="{:.1}" y="{:.1}">{}</text>"#,
            line.class,
            WIDTH - RIGHT + 4.0,
            scale.y(*v) + 4.0,
            escape::text(label)
        );
    }
}

/// Grid lines at the axis's round values; times at the range's start, its
/// middle, now and the end of the room ahead.
fn axes(out: &mut String, scale: &Scale) {
    for (v, label) in &scale.axis.ticks {
        let y = scale.y(*v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"></line><text class="ylabel" x="{:.1}" y="{:.1}">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape::text(label)
        );
    }
    let f = scale.frame;
    let range = f.now - f.since;
    let mut ticks = vec![
        (f.since, offset(-range)),
        (f.since + range / 2, offset(-range / 2)),
        (f.now, "now".to_string()),
    ];
    if f.ahead > 0 {
        ticks.push((f.now + f.ahead, offset(f.ahead)));
        let x = scale.x(f.now);
        let _ = write!(
            out,
            r#"<line class="now" x1="{x:.1}" y1="{TOP:.1}" x2="{x:.1}" y2="{:.1}"></line>"#,
            HEIGHT - BOTTOM
        );
    }
    for (t, label) in ticks {
        let _ = write!(
            out,
            r#"<text class="xlabel" x="{:.1}" y="{:.1}">{}</text>"#,
            scale.x(t),
            HEIGHT - 6.0,
            escape::text(&label)
        );
    }
}
