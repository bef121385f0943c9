//! Error groups as rows: the groups each service is known to have had
//! (first and last seen), and the mutes. Written by the writer thread only;
//! read on the read-only connection.
//!
//! A group's id is a `u64` (its hex is the group id shown everywhere);
//! SQLite keeps it as the `i64` with the same bits.

use rusqlite::{params, Connection};

/// A known group's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRow {
    pub id: u64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// What a tick saw of a group: when, and its template and level when it was news.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRow {
    pub id: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// `(template, level name)`, when known.
    pub described: Option<(String, Option<String>)>,
}

/// A mute: no alert for group `id` until `until` (unix seconds; `None`: for good).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mute {
    /// 16 hex digits.
    pub id: String,
    /// Unix seconds; `None`: until unmuted.
    pub until: Option<i64>,
    /// When it was set, unix seconds.
    pub since: i64,
    /// Who set it (`cli`, `telegram`, `api`).
    pub by: String,
}

impl Mute {
    /// Whether it silences alerts at `now`.
    pub fn active(&self, now: i64) -> bool {
        self.until.is_none_or(|u| now < u)
    }
}

fn to_sql(id: u64) -> i64 {
    id as i64
}

fn from_sql(id: i64) -> u64 {
    id as u64
}

/// The hex id of `id`, as `group_id` writes it.
pub fn hex(id: u64) -> String {
    format!("{id:016x}")
}

/// `s` as a group id's number: 16 hex digits.
pub fn parse_hex(s: &str) -> Option<u64> {
    (s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

/// Saves what `service`'s watch saw: first seen kept earliest, last seen latest.
pub fn save_seen(conn: &Connection, service: &str, seen: &[SeenRow]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO known_groups (service, id, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (service, id) DO UPDATE SET
               first_seen = min(first_seen, excluded.first_seen),
               last_seen = max(last_seen, excluded.last_seen)",
        )?;
        let mut describe = tx.prepare_cached(
            "UPDATE known_groups SET template = ?3, level = ?4 WHERE service = ?1 AND id = ?2",
        )?;
        for s in seen {
            upsert.execute(params![service, to_sql(s.id), s.first_seen, s.last_seen])?;
            if let Some((template, level)) = &s.described {
                describe.execute(params![service, to_sql(s.id), template, level])?;
            }
        }
    }
    tx.commit()
}

/// The groups `service` is known to have had.
pub fn known(conn: &Connection, service: &str) -> rusqlite::Result<Vec<KnownRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, first_seen, last_seen FROM known_groups WHERE service = ?1")?;
    let rows = stmt.query_map([service], |r| {
        Ok(KnownRow {
            id: from_sql(r.get(0)?),
            first_seen: r.get(1)?,
            last_seen: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// When each of `ids` was first seen by any service (ids never seen are left out).
pub fn first_seen(conn: &Connection, ids: &[u64]) -> rusqlite::Result<Vec<(u64, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT min(first_seen) FROM known_groups WHERE id = ?1")?;
    let mut out = Vec::new();
    for &id in ids {
        let first: Option<i64> = stmt.query_row([to_sql(id)], |r| r.get(0))?;
        if let Some(first) = first {
            out.push((id, first));
        }
    }
    Ok(out)
}

/// Sets (or replaces) a mute.
pub fn mute(
    conn: &Connection,
    id: u64,
    until: Option<i64>,
    since: i64,
    by: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO mutes (id, until, since, by) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![to_sql(id), until, since, by])?;
    forget_ended_mutes(conn, since)
}

/// Ended mutes kept at most, the most recently ended (a client setting
/// short mutes in a loop cannot grow the list or the file).
pub const ENDED_MUTES_KEPT: usize = 1000;
/// How long an ended mute is still listed.
pub const ENDED_MUTES_FOR_SECS: i64 = 86_400;

/// Forgets mutes ended more than a day before `now`, and all but the
/// [`ENDED_MUTES_KEPT`] most recently ended.
fn forget_ended_mutes(conn: &Connection, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM mutes WHERE until IS NOT NULL AND until < ?1")?
        .execute([now - ENDED_MUTES_FOR_SECS])?;
    conn.prepare_cached(
        "DELETE FROM mutes WHERE id IN (SELECT id FROM mutes WHERE until IS NOT NULL AND until < ?1
             ORDER BY until DESC LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![now, ENDED_MUTES_KEPT as i64])?;
    Ok(())
}

/// Whether group `id` is one diagbot knows: a service's new-error watch
/// has seen it, or it is muted already.
pub fn is_known(conn: &Connection, id: u64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM known_groups WHERE id = ?1)
             OR EXISTS (SELECT 1 FROM mutes WHERE id = ?1)",
    )?
    .query_row([to_sql(id)], |r| r.get(0))
}

/// Removes a mute; says whether there was one.
pub fn unmute(conn: &Connection, id: u64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM mutes WHERE id = ?1")?
        .execute([to_sql(id)])?;
    Ok(n > 0)
}

/// Every mute, soonest to end first (for good last).
pub fn mutes(conn: &Connection) -> rusqlite::Result<Vec<Mute>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, until, since, by FROM mutes ORDER BY until IS NULL, until, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Mute {
            id: hex(from_sql(r.get(0)?)),
            until: r.get(1)?,
            since: r.get(2)?,
            by: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Keeps at most `max` known groups per service, the most recently seen:
/// logs that show a new kind of error every second (or an attacker who
/// writes them) cannot fill the file with groups.
pub fn by_count(conn: &Connection, max: u64) -> rusqlite::Result<()> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let over: Vec<String> = conn
        .prepare_cached("SELECT service FROM known_groups GROUP BY service HAVING count(*) > ?1")?
        .query_map([max], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for service in over {
        conn.execute(
            "DELETE FROM known_groups WHERE service = ?1 AND id NOT IN
               (SELECT id FROM known_groups WHERE service = ?1 ORDER BY last_seen DESC, id LIMIT ?2)",
            rusqlite::params![service, max],
        )?;
    }
    Ok(())
}

/// Forgets known groups not seen since `cutoff`, and mutes that ended before it.
pub fn by_age(conn: &Connection, cutoff: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM known_groups WHERE last_seen < ?1", [cutoff])?;
    conn.execute("DELETE FROM mutes WHERE until < ?1", [cutoff])?;
    Ok(())
}

/// Where `service`'s watch stopped in its unit's journal: cursor and time (µs).
pub fn journal_cursor(conn: &Connection, service: &str) -> rusqlite::Result<Option<(String, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT cursor, last_us FROM journal_cursors WHERE service = ?1")?;
    let mut rows = stmt.query_map([service], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.next().transpose()
}

/// Saves where `service`'s watch stopped in its unit's journal.
pub fn save_journal_cursor(
    conn: &Connection,
    service: &str,
    cursor: &str,
    last_us: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO journal_cursors (service, cursor, last_us) VALUES (?1, ?2, ?3)
         ON CONFLICT (service) DO UPDATE SET cursor = excluded.cursor, last_us = excluded.last_us",
    )?
    .execute(params![service, cursor, last_us])?;
    Ok(())
}
