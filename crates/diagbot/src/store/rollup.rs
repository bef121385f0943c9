//! Rollups: complete 5-minute spans of raw samples, and complete hours of
//! 5-minute rollups, each kept as min, max, sum, count and last (the mean is
//! sum / count, so an hour's mean is its samples' mean). Each tier remembers
//! up to when it is complete; a rollup is written once its span has ended.

use rusqlite::{params, Connection, OptionalExtension};

use super::{Bucket, Tier};

/// Rolls up every span that has ended by `now` and not been rolled yet.
pub fn roll(conn: &Connection, now: i64) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    for tier in [Tier::FiveMinutes, Tier::Hourly] {
        roll_tier(&tx, tier, now)?;
    }
    tx.commit()
}

/// Up to when `tier` is complete (exclusive); `None` before its first rollup.
pub fn rolled_until(conn: &Connection, tier: Tier) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT until FROM rolled WHERE tier = ?1")?
        .query_row([tier.table()], |r| r.get(0))
        .optional()
}

fn roll_tier(conn: &Connection, tier: Tier, now: i64) -> rusqlite::Result<()> {
    let span = tier.span_secs();
    let Some(finer) = tier.finer() else {
        return Ok(());
    };
    // Only what the finer tier has complete, and only spans that have ended.
    let mut to = now.div_euclid(span) * span;
    if finer != Tier::Raw {
        match rolled_until(conn, finer)? {
            Some(t) => to = to.min(t.div_euclid(span) * span),
            None => return Ok(()),
        }
    }
    let from = match rolled_until(conn, tier)? {
        Some(t) => t,
        None => {
            let oldest: Option<i64> =
                conn.query_row(&format!("SELECT min(t) FROM {}", finer.table()), [], |r| {
                    r.get(0)
                })?;
            match oldest {
                Some(t) => t.div_euclid(span) * span,
                None => to,
            }
        }
    };
    if from >= to {
        return Ok(());
    }
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM series")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut insert = conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {} (series, t, min, max, sum, count, last) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        tier.table()
    ))?;
    for id in ids {
        for b in spans(&super::read::buckets(conn, finer, id, from, to)?, span) {
            insert.execute(params![
                id,
                b.t,
                b.min,
                b.max,
                b.sum,
                b.count as i64,
                b.last
            ])?;
        }
    }
    conn.prepare_cached("INSERT OR REPLACE INTO rolled (tier, until) VALUES (?1, ?2)")?
        .execute(params![tier.table(), to])?;
    Ok(())
}

/// `buckets` (oldest first) merged into spans of `span` seconds, each at its start.
pub fn spans(buckets: &[Bucket], span: i64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for b in buckets {
        let start = b.t.div_euclid(span) * span;
        match out.last_mut() {
            Some(last) if last.t == start => last.merge(b),
            _ => out.push(Bucket { t: start, ..*b }),
        }
    }
    out
}
