//! From a question to an answer over a store's connection: the step (chosen
//! from the range when not given), the tier read (the finest that has the
//! range at that step), the buckets merged to the step, and the events.

use rusqlite::Connection;

use super::model::{EventRecord, HistoryAnswer, HistoryRequest, Series, MAX_POINTS};
use super::series;
use crate::present::refusal::Refusal;
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
pub fn step_of(req: &HistoryRequest, ctx: &Context) -> Result<u64, Refusal> {
    let range = (req.until - req.since).max(1) as u64;
    match req.step {
        Some(0) => Err(Refusal::Bad {
            parameter: "step",
            message: "step must be at least 1 second".into(),
        }),
        Some(step) if range.div_ceil(step) > MAX_POINTS as u64 => Err(Refusal::Bad {
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
pub fn check(req: &HistoryRequest) -> Result<(), Refusal> {
    if let Some(bad) = req.series.iter().find(|s| series::unit_of(s).is_none()) {
        return Err(Refusal::Bad {
            parameter: "series",
            message: format!(
                "{bad:?} is not a series: host.memory_used, host.memory_available, host.swap_used, host.load1, service.NAME.rss (or .restarts, .oom_kills, .slope, .limit, .errors), query.NAME.matches"
            ),
        });
    }
    if req.since >= req.until {
        return Err(Refusal::Bad {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use prometheus_client::metrics::counter::Counter;

    use super::*;
    use crate::store::retention::Limits;
    use crate::store::writer::Writer;
    use crate::store::{Availability, Tick};

    fn ctx(now: i64) -> Context {
        Context {
            now,
            sample_secs: 30,
            retention: crate::settings::StorageSettings::default().retention,
        }
    }

    fn req(since: i64, until: i64, step: Option<u64>) -> HistoryRequest {
        HistoryRequest {
            series: vec!["host.memory_used".into()],
            since,
            until,
            step,
        }
    }

    /// The step comes from the range (no finer than the sampling), and the
    /// tier read is the finest that still holds the range's start.
    #[test]
    fn the_step_and_tier_follow_the_range() {
        let now = 1_800_000_000;
        let c = ctx(now);
        let day = 86_400;
        assert_eq!(step_of(&req(now - 3600, now, None), &c).unwrap(), 30);
        assert_eq!(step_of(&req(now - day, now, None), &c).unwrap(), 60);
        assert_eq!(step_of(&req(now - 30 * day, now, None), &c).unwrap(), 1800);
        assert_eq!(tier_for(60, now - day, &c), Tier::Raw);
        assert_eq!(tier_for(60, now - 3 * day, &c), Tier::FiveMinutes);
        assert_eq!(tier_for(1800, now - 30 * day, &c), Tier::FiveMinutes);
        assert_eq!(tier_for(7200, now - 200 * day, &c), Tier::Hourly);
        let too_fine = step_of(&req(now - day, now, Some(10)), &c).unwrap_err();
        assert_eq!(too_fine.parameter(), Some("step"));
    }

    /// Figures for BENCHMARKS.md: the write cost of a tick (19 series, as for
    /// a host and two services) and a 30-day query of 5-minute rollups.
    /// `cargo test --release -p diagbot --lib history::plan::tests::bench -- --ignored --nocapture`
    #[test]
    #[ignore = "a benchmark: run by hand, in release"]
    fn bench_write_and_query() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.db");
        let conn = crate::store::schema::open_writer(&path, 64 << 20).unwrap();
        let limits = Limits {
            raw: 2 * 86_400,
            five_minutes: 30 * 86_400,
            hourly: 365 * 86_400,
            max_events: 100_000,
            max_known_groups: 20_000,
        };
        let mut writer = Writer::new(
            conn,
            limits,
            Arc::new(Mutex::new(Availability::On)),
            Counter::default(),
            Duration::from_secs(60),
        );
        let now = chrono::Utc::now().timestamp();
        let mut names: Vec<String> = crate::history::series::HOST_SERIES
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.push("host.oom_kills".into());
        for svc in ["bot", "api"] {
            for what in crate::history::series::SERVICE_FIGURES {
                names.push(crate::history::series::service(svc, what));
            }
        }
        let ticks = 5760; // 48 h at 30 s: the raw tier full
        let mut times = Vec::with_capacity(ticks);
        for i in 0..ticks {
            let tick = Tick {
                at: now - (ticks - i) as i64 * 30,
                values: names
                    .iter()
                    .map(|n| (n.clone(), i as f64 * 1000.0))
                    .collect(),
                events: Vec::new(),
            };
            let started = Instant::now();
            writer.tick(&tick);
            times.push(started.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        let p99 = times[times.len() * 99 / 100];
        println!(
            "write: {ticks} ticks of {} series: median {median:?}, p99 {p99:?}",
            names.len()
        );
        let maintained = Instant::now();
        writer.maintain(now);
        println!(
            "maintenance (rollups of 48 h, retention, checkpoint): {:?}",
            maintained.elapsed()
        );

        // 30 days of 5-minute rollups for the default series (host and two services' RSS).
        let series = crate::history::series::defaults(&["bot".into(), "api".into()]);
        let tx = writer.conn.transaction().unwrap();
        for name in &series {
            tx.execute("INSERT OR IGNORE INTO series (name) VALUES (?1)", [name])
                .unwrap();
            let id: i64 = tx
                .query_row("SELECT id FROM series WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .unwrap();
            let start = (now - 30 * 86_400) / 300 * 300;
            for k in 0..8640 {
                tx.execute(
                    "INSERT OR REPLACE INTO five_minutes VALUES (?1, ?2, 1, 3, 20, 10, 2)",
                    [id, start + k * 300],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        let mut reader = crate::store::read::open_read_only(&path).unwrap();
        let question = HistoryRequest {
            series,
            since: now - 30 * 86_400,
            until: now,
            step: None,
        };
        let c = ctx(now);
        let step = step_of(&question, &c).unwrap();
        let mut reads = Vec::new();
        let mut points = 0;
        for _ in 0..21 {
            let started = Instant::now();
            let tx = reader.transaction().unwrap();
            let answer = read(&tx, &question, step, &c).unwrap();
            drop(tx);
            reads.push(started.elapsed());
            points = answer.series.iter().map(|s| s.points.len()).sum::<usize>();
        }
        reads.sort();
        println!(
            "query: 30 days of 5-minute rollups, {} series, step {step} s, {points} points: median {:?}, max {:?}",
            question.series.len(),
            reads[reads.len() / 2],
            reads[reads.len() - 1]
        );
        let size = std::fs::metadata(&path).unwrap().len();
        println!("file: {} KiB", size / 1024);
    }
}
