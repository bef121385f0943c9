//! Retention: each tier kept for its time, events for the hourly tier's time
//! and at most `max_events`; and the cap: at `max_size`, the oldest tier
//! gives up its oldest rows first.

use rusqlite::{params, Connection};

use super::Tier;

/// How long each tier is kept, in seconds, and how many events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub raw: i64,
    pub five_minutes: i64,
    pub hourly: i64,
    pub max_events: u64,
    /// Known error groups kept per service, the most recently seen (what
    /// the daemon's watch keeps in memory: more would never be read).
    pub max_known_groups: u64,
}

impl Limits {
    pub fn of(tier: Tier, limits: &Limits) -> i64 {
        match tier {
            Tier::Raw => limits.raw,
            Tier::FiveMinutes => limits.five_minutes,
            Tier::Hourly => limits.hourly,
        }
    }
}

/// Deletes what is older than its tier's retention, and events past the count.
pub fn by_age(conn: &Connection, now: i64, limits: &Limits) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM series")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for tier in Tier::ALL {
        let cutoff = now - Limits::of(tier, limits);
        // Per series, so the primary key (series, t) finds the rows.
        let mut delete = tx.prepare_cached(&format!(
            "DELETE FROM {} WHERE series = ?1 AND t < ?2",
            tier.table()
        ))?;
        for id in &ids {
            delete.execute(params![id, cutoff])?;
        }
    }
    tx.execute("DELETE FROM events WHERE t < ?1", [now - limits.hourly])?;
    tx.execute(
        "DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        [limits.max_events as i64],
    )?;
    tx.commit()
}

/// Frees about a sixteenth of the cap by deleting the oldest rows of the
/// oldest tier that has any (hourly, then 5-minute, then raw, then events),
/// a quarter of a tier at a time. Returns what was trimmed, for the warning.
pub fn trim_to_cap(conn: &Connection) -> rusqlite::Result<String> {
    let pragma = |p: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
    };
    let want_free = (pragma("max_page_count")? / 16).max(4);
    let mut trimmed = Vec::new();
    let tables = ["hourly", "five_minutes", "raw", "events"];
    for _ in 0..64 {
        if pragma("freelist_count")? >= want_free {
            break;
        }
        let Some(table) = tables.iter().find(|t| {
            conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {t})"), [], |r| {
                r.get::<_, bool>(0)
            })
            .unwrap_or(false)
        }) else {
            break;
        };
        let rows: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        let cutoff: i64 = conn.query_row(
            &format!("SELECT t FROM {table} ORDER BY t LIMIT 1 OFFSET ?1"),
            [rows / 4],
            |r| r.get(0),
        )?;
        // At least the oldest instant goes, so each round frees something.
        let deleted = conn.execute(&format!("DELETE FROM {table} WHERE t <= ?1"), [cutoff])?;
        trimmed.push(format!("{deleted} rows of {table} up to {cutoff}"));
    }
    Ok(if trimmed.is_empty() {
        "nothing left to trim".into()
    } else {
        trimmed.join(", ")
    })
}
