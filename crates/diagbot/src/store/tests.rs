#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;

use super::retention::Limits;
use super::writer::Writer;
use super::*;

const DAY: i64 = 86_400;

fn limits() -> Limits {
    Limits {
        raw: 2 * DAY,
        five_minutes: 30 * DAY,
        hourly: 365 * DAY,
        max_events: 100,
        max_known_groups: 20_000,
    }
}

fn writer(path: &std::path::Path, max_size: u64) -> Writer {
    let conn = schema::open_writer(path, max_size).unwrap();
    Writer::new(
        conn,
        limits(),
        Arc::new(Mutex::new(Availability::On)),
        Counter::default(),
        Duration::ZERO,
    )
}

fn tick(at: i64, value: f64) -> Tick {
    Tick {
        at,
        values: vec![("service.bot.rss".into(), value)],
        events: Vec::new(),
    }
}

fn count(w: &Writer, table: &str) -> i64 {
    w.conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Each 5-minute and hourly rollup has its raw samples' min, max and mean.
#[test]
fn rollups_equal_their_raw_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir.path().join("h.db"), 64 << 20);
    let start = 1_700_000_000 / 3600 * 3600;
    let values: Vec<f64> = (0..240).map(|i| ((i * 37) % 101) as f64).collect();
    for (i, v) in values.iter().enumerate() {
        w.tick(&tick(start + i as i64 * 30, *v));
    }
    w.maintain(start + 2 * 3600);
    let id = read::series_id(&w.conn, "service.bot.rss")
        .unwrap()
        .unwrap();
    let five = read::buckets(&w.conn, Tier::FiveMinutes, id, start, start + 7200).unwrap();
    assert_eq!(five.len(), 24);
    for (k, b) in five.iter().enumerate() {
        let raw = &values[k * 10..k * 10 + 10];
        assert_eq!(b.t, start + k as i64 * 300);
        assert_eq!(b.min, raw.iter().copied().fold(f64::MAX, f64::min));
        assert_eq!(b.max, raw.iter().copied().fold(f64::MIN, f64::max));
        assert!((b.mean() - raw.iter().sum::<f64>() / 10.0).abs() < 1e-9);
        assert_eq!(b.last, raw[9]);
    }
    let hours = read::buckets(&w.conn, Tier::Hourly, id, start, start + 7200).unwrap();
    assert_eq!(hours.len(), 2);
    let first = &values[..120];
    assert!((hours[0].mean() - first.iter().sum::<f64>() / 120.0).abs() < 1e-9);
    assert_eq!(hours[0].count, 120);
    assert_eq!(
        hours[1].max,
        values[120..].iter().copied().fold(f64::MIN, f64::max)
    );
}

/// Raw samples go after their retention, rollups and events after theirs.
#[test]
fn retention_trims_by_age_and_events_by_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir.path().join("h.db"), 64 << 20);
    let now = 1_700_000_000;
    for i in 0..10 {
        let mut t = tick(now - 3 * DAY + i * 600, 1.0);
        t.events = (0..20)
            .map(|k| StoredEvent {
                time: t.at,
                kind: "restart".into(),
                service: Some("bot".into()),
                message: format!("restart {i}.{k}"),
            })
            .collect();
        w.tick(&t);
    }
    w.tick(&tick(now - 60, 2.0));
    w.maintain(now);
    // Only the recent sample is still raw; the old ones live on as rollups.
    assert_eq!(count(&w, "raw"), 1);
    assert!(count(&w, "five_minutes") >= 10);
    assert_eq!(count(&w, "events"), 100);
    w.maintain(now + 400 * DAY);
    assert_eq!(
        count(&w, "raw") + count(&w, "five_minutes") + count(&w, "hourly"),
        0
    );
    assert_eq!(count(&w, "events"), 0);
}

/// Past `max_size` the oldest tier is trimmed and the file stays under its cap.
#[test]
fn the_file_stays_within_max_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let cap = 256 << 10;
    let mut w = writer(&path, cap);
    let start = 1_700_000_000;
    for i in 0..3000 {
        let mut t = tick(start + i * 30, i as f64);
        t.values
            .extend((0..10).map(|k| (format!("service.s{k}.rss"), i as f64)));
        w.tick(&t);
        if i % 500 == 0 {
            w.maintain(start + i * 30);
        }
    }
    w.maintain(start + 3000 * 30);
    let page_size: i64 = w
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let pages: i64 = w
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    assert!(
        (pages * page_size) as u64 <= cap,
        "{} > {cap}",
        pages * page_size
    );
    // The newest tick made it in: trimming took old rows, not new ones.
    let newest: i64 = w
        .conn
        .query_row("SELECT max(t) FROM raw", [], |r| r.get(0))
        .unwrap();
    assert_eq!(newest, start + 2999 * 30);
    assert_eq!(w.failures.get(), 0);
}

/// A full disk (SQLite's SQLITE_FULL below the cap): counted, history paused
/// and said, and writing again once there is room.
#[test]
fn a_full_disk_pauses_history_and_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir.path().join("h.db"), 64 << 20);
    w.tick(&tick(1_000, 1.0));
    let pages: i64 = w
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    // The disk "fills": SQLite cannot grow the file by a page.
    let _: i64 = w
        .conn
        .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    let big = Tick {
        at: 1_030,
        values: (0..2000)
            .map(|k| (format!("service.s{k}.rss"), 1.0))
            .collect(),
        events: Vec::new(),
    };
    // Not at the configured cap (64 MiB): a full disk, not the cap.
    w.tick(&big);
    assert!(w.failures.get() >= 1);
    assert!(
        matches!(&*w.availability.lock().unwrap(), Availability::Off(why) if why.contains("disk is full"))
    );
    let _: i64 = w
        .conn
        .query_row("PRAGMA max_page_count = 100000", [], |r| r.get(0))
        .unwrap();
    w.tick(&tick(1_060, 3.0));
    assert_eq!(*w.availability.lock().unwrap(), Availability::On);
    assert_eq!(count(&w, "raw"), 2);
}

/// A file that is not SQLite is moved aside and a fresh one started.
#[test]
fn a_corrupt_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diagbot.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let w = writer(&path, 64 << 20);
    assert_eq!(count(&w, "raw"), 0);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("diagbot.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&aside[0])).unwrap(),
        vec![0x5a; 8192]
    );
}

/// Another program's SQLite file is not ours: moved aside too.
#[test]
fn a_foreign_database_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diagbot.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("CREATE TABLE notes (x TEXT)").unwrap();
    drop(other);
    writer(&path, 64 << 20);
    assert!(std::fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("diagbot.db.corrupt-")));
}

/// A file from a newer diagbot is refused and left exactly as it was.
#[test]
fn a_newer_schema_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diagbot.db");
    drop(writer(&path, 64 << 20));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {}", schema::VERSION + 1))
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = schema::open_writer(&path, 64 << 20).unwrap_err();
    assert_eq!(
        err,
        OpenError::Newer {
            found: schema::VERSION + 1
        }
    );
    assert!(err.to_string().contains("newer diagbot"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// A file of schema 1 (before error groups) migrates to the current
/// schema with its samples and events kept, and then holds known groups and mutes.
#[test]
fn a_schema_1_file_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("diagbot.db");
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(&format!(
        "BEGIN; {}; PRAGMA application_id = {}; PRAGMA user_version = 1; COMMIT;
         INSERT INTO series (id, name) VALUES (1, 'service.bot.rss');
         INSERT INTO raw (series, t, value) VALUES (1, 1700000000, 42.5);
         INSERT INTO events (t, kind, service, message) VALUES (1700000000, 'restart', 'bot', 'bot restarted');",
        schema::MIGRATIONS[0],
        schema::APPLICATION_ID
    ))
    .unwrap();
    drop(old);

    let w = writer(&path, 64 << 20);
    assert_eq!(schema::version_of(&w.conn).unwrap(), schema::VERSION);
    assert_eq!(schema::VERSION, 3);
    let value: f64 = w
        .conn
        .query_row(
            "SELECT value FROM raw WHERE series = 1 AND t = 1700000000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, 42.5);
    assert_eq!(count(&w, "events"), 1);
    assert_eq!(count(&w, "journal_cursors"), 0);

    // The new tables work: seen twice (first kept earliest, last latest), a mute.
    let row = |first, last, described| groups::SeenRow {
        id: u64::MAX - 1,
        first_seen: first,
        last_seen: last,
        described,
    };
    groups::save_seen(&w.conn, "bot", &[row(100, 200, None)]).unwrap();
    groups::save_seen(
        &w.conn,
        "bot",
        &[row(
            150,
            300,
            Some(("db down".into(), Some("error".into()))),
        )],
    )
    .unwrap();
    let known = groups::known(&w.conn, "bot").unwrap();
    assert_eq!(
        known,
        vec![groups::KnownRow {
            id: u64::MAX - 1,
            first_seen: 100,
            last_seen: 300
        }]
    );
    assert!(groups::known(&w.conn, "other").unwrap().is_empty());
    let template: String = w
        .conn
        .query_row("SELECT template FROM known_groups", [], |r| r.get(0))
        .unwrap();
    assert_eq!(template, "db down");
    groups::mute(&w.conn, u64::MAX - 1, Some(500), 400, "cli").unwrap();
    let mutes = groups::mutes(&w.conn).unwrap();
    assert_eq!(mutes.len(), 1);
    assert_eq!(mutes[0].id, "fffffffffffffffe");
    assert!(mutes[0].active(499) && !mutes[0].active(500));
    assert!(groups::unmute(&w.conn, u64::MAX - 1).unwrap());
    assert!(!groups::unmute(&w.conn, u64::MAX - 1).unwrap());
    drop(w);

    // Opened again: nothing to migrate, the rows stay.
    let w = writer(&path, 64 << 20);
    assert_eq!(count(&w, "known_groups"), 1);
    assert_eq!(count(&w, "raw"), 1);
}

#[test]
fn known_groups_are_kept_per_service_up_to_the_cap_the_most_recently_seen() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer(&dir.path().join("diagbot.db"), 64 << 20);
    let now = 1_800_000_000;
    let seen = |n: u64| -> Vec<groups::SeenRow> {
        (0..n)
            .map(|i| groups::SeenRow {
                id: i,
                first_seen: now - 1000,
                last_seen: now - 1000 + i as i64,
                described: Some((format!("kind {i} of error"), Some("error".into()))),
            })
            .collect()
    };
    // A log showing a new kind of error each time, and a quiet service.
    groups::save_seen(&w.conn, "flood", &seen(50)).unwrap();
    groups::save_seen(&w.conn, "quiet", &seen(5)).unwrap();
    groups::by_count(&w.conn, 10).unwrap();
    let kept: Vec<u64> = groups::known(&w.conn, "flood")
        .unwrap()
        .iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(kept.len(), 10);
    assert!(kept.iter().all(|&id| id >= 40), "the newest ten: {kept:?}");
    assert_eq!(groups::known(&w.conn, "quiet").unwrap().len(), 5);
    // The writer's maintenance applies its limit.
    let mut w = w;
    groups::save_seen(&w.conn, "flood", &seen(20_100)).unwrap();
    w.maintain(now);
    assert_eq!(groups::known(&w.conn, "flood").unwrap().len(), 20_000);
}

/// Short mutes set in a loop (an API client, an attacker) cannot grow the
/// list or the file: ended mutes are forgotten after a day, and only the
/// most recently ended are kept.
#[test]
fn ended_mutes_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let conn = schema::open_writer(&dir.path().join("db"), 64 << 20).unwrap();
    let now = 1_800_000_000;
    for id in 0..(groups::ENDED_MUTES_KEPT as u64 + 500) {
        // Each a second long, each set a second after the last.
        let at = now + id as i64;
        groups::mute(&conn, id + 1, Some(at + 1), at, "loop").unwrap();
    }
    // One that is still on, and one for good.
    let later = now + 10_000;
    groups::mute(&conn, 1 << 40, Some(later + 3600), later, "me").unwrap();
    groups::mute(&conn, 1 << 41, None, later, "me").unwrap();
    let all = groups::mutes(&conn).unwrap();
    let active = all.iter().filter(|m| m.active(later)).count();
    assert_eq!(active, 2);
    assert_eq!(all.len(), groups::ENDED_MUTES_KEPT + 2);
    // A day on, the ended ones are forgotten.
    let next_day = later + groups::ENDED_MUTES_FOR_SECS + 10;
    groups::mute(&conn, 1 << 42, None, next_day, "me").unwrap();
    let all = groups::mutes(&conn).unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
}
