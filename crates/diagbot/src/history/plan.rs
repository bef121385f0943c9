//! From a question to an answer over a store's connection: the step (chosen
//! from the range when not given), the tier read (the finest that has the
//! range at that step), the buckets merged to the step, and the events.

use rusqlite::Connection;

use super::model::{EventRecord, HistoryAnswer, HistoryRequest, Series, MAX_POINTS};
use super::series;
use crate::settings::Retention;
use crate::store::{self, Bucket, Tier};

/// Steps a chosen step is rounded up to, in seconds.
const NICE_STEPS: [u64; 20] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172_800, 604_800,
];

/// What a question needs besides itself: how often raw samples come, and how long each tier is kept.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: i64,
    pub sample_secs: u64,
    pub retention: Retention,
}

/// A question that cannot be answered, and the parameter at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest {
    pub parameter: &'static str,
    pub message: String,
}

/// The smallest nice step at least `secs`.
pub fn nice_step(secs: u64) -> u64 {
    NICE_STEPS
        .iter()
        .copied()
        .find(|&s| s >= secs)
        .unwrap_or_else(|| secs.div_ceil(86_400) * 86_400)
}

/// The step for `req`: as given (at most [`MAX_POINTS`] over the range),
/// else the range over [`MAX_POINTS`], no finer than the sampling.
pub fn step_of(req: &HistoryRequest, ctx: &Context) -> Result<u64, BadRequest> {
    let range = (req.until - req.since).max(1) as u64;
    match req.step {
        Some(0) => Err(BadRequest {
            parameter: "step",
            message: "step must be at least 1 second".into(),
        }),
        Some(step) if range.div_ceil(step) > MAX_POINTS as u64 => Err(BadRequest {
            parameter: "step",
            message: format!(
                "a step of {step} s gives {} points over the range; at most {MAX_POINTS} per series",
                range.div_ceil(step)
            ),
        }),
        Some(step) => Ok(step),
        None => Ok(nice_step(
            range.div_ceil(MAX_POINTS as u64).max(ctx.sample_secs),
        )),
    }
}

/// The tier to read: the finest no finer than `step` that still holds
/// `since`; else the finest that holds it; else the hourly.
pub fn tier_for(step: u64, since: i64, ctx: &Context) -> Tier {
    let kept = |t: Tier| {
        let secs = match t {
            Tier::Raw => ctx.retention.raw,
            Tier::FiveMinutes => ctx.retention.five_minutes,
            Tier::Hourly => ctx.retention.hourly,
        };
        since >= ctx.now - secs.as_secs() as i64
    };
    Tier::ALL
        .into_iter()
        .find(|&t| t.span_secs() as u64 <= step && kept(t))
        .or_else(|| Tier::ALL.into_iter().find(|&t| kept(t)))
        .unwrap_or(Tier::Hourly)
}

/// Checks the names and the range; the answer itself is [`read`]'s.
pub fn check(req: &HistoryRequest) -> Result<(), BadRequest> {
    if let Some(bad) = req.series.iter().find(|s| series::unit_of(s).is_none()) {
        return Err(BadRequest {
            parameter: "series",
            message: format!(
                "{bad:?} is not a series: host.memory_used, host.memory_available, host.swap_used, host.load1, service.NAME.rss (or .restarts, .oom_kills, .slope, .limit, .errors), query.NAME.matches"
            ),
        });
    }
    if req.since >= req.until {
        return Err(BadRequest {
            parameter: "since",
            message: "since must be before until".into(),
        });
    }
    Ok(())
}

/// Answers `req` (already [`check`]ed) from `conn`.
pub fn read(
    conn: &Connection,
    req: &HistoryRequest,
    step: u64,
    ctx: &Context,
) -> rusqlite::Result<HistoryAnswer> {
    let tier = tier_for(step, req.since, ctx);
    let step = step.max(tier.span_secs() as u64);
    let mut answer = HistoryAnswer::default();
    for name in &req.series {
        let buckets = match store::read::series_id(conn, name)? {
            Some(id) => store::read::buckets(conn, tier, id, req.since, req.until)?,
            None => Vec::new(),
        };
        answer.series.push(Series {
            name: name.clone(),
            unit: series::unit_of(name).unwrap_or("").to_string(),
            step_seconds: step,
            points: points(&buckets, step as i64),
        });
    }
    answer.events = store::read::events(conn, req.since, req.until)?
        .into_iter()
        .map(|e| EventRecord {
            time: e.time,
            kind: e.kind,
            service: e.service,
            message: e.message,
        })
        .collect();
    Ok(answer)
}

/// Buckets merged into steps: `(step start, min, max, mean)`.
fn points(buckets: &[Bucket], step: i64) -> Vec<(i64, f64, f64, f64)> {
    store::rollup_spans(buckets, step)
        .iter()
        .take(MAX_POINTS)
        .map(|b| (b.t, b.min, b.max, b.mean()))
        .collect()
}
