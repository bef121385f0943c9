//! A chart drawn as SVG text, every label escaped. `assets/app.js` draws
//! the same elements with the same geometry in the browser.

use std::fmt::Write;

use super::charts::{Chart, Frame, Line, Unit};
use super::escape;
use crate::present::format;

/// The drawing's size in SVG units (it scales to the page's width).
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 200.0;
/// Room for the value labels on the left and the time labels below.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// Data to drawing coordinates.
struct Scale {
    frame: Frame,
    top_value: f64,
}

impl Scale {
    fn of(chart: &Chart, frame: Frame) -> Scale {
        let values = chart
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .chain(chart.limit.as_ref().map(|l| l.value))
            .chain(chart.projection.as_ref().map(|p| p.to.1));
        Scale::up_to(values, frame)
    }

    /// The scale of the chart's second line, on its own axis.
    fn of_second(line: &Line, frame: Frame) -> Scale {
        Scale::up_to(line.points.iter().map(|p| p.1), frame)
    }

    /// A tenth of room above the highest value.
    fn up_to(values: impl Iterator<Item = f64>, frame: Frame) -> Scale {
        let max = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
        Scale {
            frame,
            top_value: if max > 0.0 { max * 1.1 } else { 1.0 },
        }
    }

    fn x(&self, t: i64) -> f64 {
        let span = (self.frame.now + self.frame.ahead - self.frame.since).max(1) as f64;
        LEFT + (t - self.frame.since) as f64 / span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        HEIGHT - BOTTOM - v.max(0.0) / self.top_value * (HEIGHT - TOP - BOTTOM)
    }
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

/// A span before or after now: "-6 h", "+90 min", "-15 d".
pub fn offset(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "+" };
    let s = secs.abs();
    if s % 86400 == 0 {
        format!("{sign}{} d", s / 86400)
    } else if s % 3600 == 0 {
        format!("{sign}{} h", s / 3600)
    } else {
        format!("{sign}{} min", s / 60)
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
    axes(&mut out, chart.unit, &scale);
    if let Some(limit) = &chart.limit {
        let y = scale.y(limit.value);
        let _ = write!(
            out,
            r#"<line class="limit" x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"><title>{}</title></line>"#,
            WIDTH - RIGHT,
            escape::text(&format!(
                "{}: {}",
                limit.label,
                value(chart.unit, limit.value)
            ))
        );
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
    out.push_str("</svg>");
    out
}

/// A line and a dot at its newest point, both named on hover.
fn series(out: &mut String, line: &Line, scale: &Scale, say: impl Fn(f64) -> String) {
    let d: Vec<String> = line
        .points
        .iter()
        .enumerate()
        .map(|(i, &(t, v))| {
            let op = if i == 0 { 'M' } else { 'L' };
            format!("{op}{:.1},{:.1}", scale.x(t), scale.y(v))
        })
        .collect();
    let _ = write!(
        out,
        r#"<path class="series {}" d="{}"><title>{}</title></path>"#,
        line.class,
        d.join(" "),
        escape::text(&line.label)
    );
    if let Some(&(t, v)) = line.points.last() {
        let _ = write!(
            out,
            r#"<circle class="latest {}" cx="{:.1}" cy="{:.1}" r="3"><title>{}</title></circle>"#,
            line.class,
            scale.x(t),
            scale.y(v),
            escape::text(&format!("{}: {}", line.label, say(v)))
        );
    }
}

/// The second line's values on the right at 0, half and the top, and its
/// name in the top left corner.
fn second_axis(out: &mut String, line: &Line, scale: &Scale) {
    for share in [0.0, 0.5, 1.0] {
        let v = scale.top_value * share;
        let _ = write!(
            out,
            r#"<text class="ylabel2 {}" x="{:.1}" y="{:.1}">{}</text>"#,
            line.class,
            WIDTH - RIGHT + 4.0,
            scale.y(v) + 4.0,
            escape::text(&count(v))
        );
    }
    let _ = write!(
        out,
        r#"<text class="legend {}" x="{:.1}" y="{:.1}">{}</text>"#,
        line.class,
        LEFT + 6.0,
        TOP + 12.0,
        escape::text(&line.label)
    );
}

/// Grid lines with values at 0, half and the top; times at the range's
/// start, its middle, now and the end of the room ahead.
fn axes(out: &mut String, unit: Unit, scale: &Scale) {
    for share in [0.0, 0.5, 1.0] {
        let v = scale.top_value * share;
        let y = scale.y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"></line><text class="ylabel" x="{:.1}" y="{:.1}">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape::text(&value(unit, v))
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
