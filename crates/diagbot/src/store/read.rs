//! Reading: a tier's buckets of one series over a range (the part the tier
//! has not rolled up yet read from the finer tier), the events in a range,
//! and the recent raw samples that seed the health watch after a restart.
//! On the read-only connection, each answer in one short transaction.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{rollup, Bucket, StoredEvent, Tier};

/// The most events one answer carries (the newest are kept).
pub const MAX_EVENTS: i64 = 10_000;

/// Opens `path` read-only: it is never created, written or migrated here.
pub fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA cache_size = -256")?;
    conn.busy_timeout(std::time::Duration::from_millis(500))?;
    Ok(conn)
}

/// Series `name`'s id, if it was ever written.
pub fn series_id(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM series WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()
}

/// Every series name written, sorted.
pub fn series_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM series ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Series `id`'s buckets in `tier` with `since <= t < until`, oldest first;
/// past what `tier` has rolled up, the finer tier's (merged to `tier`'s span).
pub fn buckets(
    conn: &Connection,
    tier: Tier,
    id: i64,
    since: i64,
    until: i64,
) -> rusqlite::Result<Vec<Bucket>> {
    if tier == Tier::Raw {
        let mut stmt = conn.prepare_cached(
            "SELECT t, value FROM raw WHERE series = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
        )?;
        let rows = stmt.query_map(params![id, since, until], |r| {
            Ok(Bucket::of_sample(r.get(0)?, r.get(1)?))
        })?;
        return rows.collect();
    }
    let complete = rollup::rolled_until(conn, tier)?.unwrap_or(i64::MIN);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t, min, max, sum, count, last FROM {} WHERE series = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
        tier.table()
    ))?;
    let mut out: Vec<Bucket> = stmt
        .query_map(params![id, since, until.min(complete)], |r| {
            Ok(Bucket {
                t: r.get(0)?,
                min: r.get(1)?,
                max: r.get(2)?,
                sum: r.get(3)?,
                count: r.get::<_, i64>(4)? as u64,
                last: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if until > complete {
        if let Some(finer) = tier.finer() {
            let tail = buckets(conn, finer, id, since.max(complete), until)?;
            out.extend(rollup::spans(&tail, tier.span_secs()));
        }
    }
    Ok(out)
}

/// Events with `since <= time < until`, oldest first (the newest
/// [`MAX_EVENTS`] when there are more).
pub fn events(conn: &Connection, since: i64, until: i64) -> rusqlite::Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t, kind, service, message FROM
           (SELECT id, t, kind, service, message FROM events WHERE t >= ?1 AND t < ?2
            ORDER BY t DESC, id DESC LIMIT ?3)
         ORDER BY t, id",
    )?;
    let rows = stmt.query_map(params![since, until, MAX_EVENTS], |r| {
        Ok(StoredEvent {
            time: r.get(0)?,
            kind: r.get(1)?,
            service: r.get(2)?,
            message: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The raw samples of the series `name` since `since`: `(time, value)`, oldest first.
pub fn raw_of(conn: &Connection, name: &str, since: i64) -> rusqlite::Result<Vec<(i64, f64)>> {
    let Some(id) = series_id(conn, name)? else {
        return Ok(Vec::new());
    };
    let mut stmt =
        conn.prepare_cached("SELECT t, value FROM raw WHERE series = ?1 AND t >= ?2 ORDER BY t")?;
    let rows = stmt.query_map(params![id, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every raw sample since `since`: `(time, series name, value)`, oldest first.
pub fn raw_since(conn: &Connection, since: i64) -> rusqlite::Result<Vec<(i64, String, f64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.t, s.name, r.value FROM raw r JOIN series s ON s.id = r.series
         WHERE r.t >= ?1 ORDER BY r.t",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}
