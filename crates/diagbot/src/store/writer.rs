//! The writer: one thread owns the writer connection and takes jobs from a
//! channel: a sample tick (one transaction), maintenance (rollups,
//! retention, checkpoint, vacuum), or a flush. A full disk pauses history
//! (the ticks in between are dropped, counted) and it is tried again later;
//! the cap is kept by trimming the oldest tier and trying the tick again.

use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use rusqlite::{params, Connection};

use super::groups::{self, Mute, SeenRow};
use super::handle::Availability;
use super::retention::{self, Limits};
use super::{is_full, rollup, StoreError, Tick};

/// What the writer thread is asked to do.
pub enum Job {
    Tick(Tick),
    /// Rollups, retention, checkpoint and vacuum, as of `now` (unix seconds).
    Maintain {
        now: i64,
    },
    /// Answered once every job before it is done.
    Flush(std::sync::mpsc::Sender<()>),
    /// What a service's new-error watch saw since the last.
    Seen {
        service: String,
        seen: Vec<SeenRow>,
    },
    /// Where a service's new-error watch stopped in its unit's journal.
    JournalCursor {
        service: String,
        cursor: String,
        last_us: i64,
    },
    /// Sets a mute; answered when written (or why not).
    Mute {
        mute: Mute,
        done: std::sync::mpsc::Sender<Result<(), StoreError>>,
    },
    /// Removes a mute; answered with whether there was one.
    Unmute {
        id: u64,
        done: std::sync::mpsc::Sender<Result<bool, StoreError>>,
    },
    /// A read found the file corrupt: it is replaced at the next write.
    Corrupt(String),
}

pub struct Writer {
    pub conn: Connection,
    pub limits: Limits,
    pub availability: Arc<Mutex<Availability>>,
    pub failures: Counter,
    /// After a full disk, when to try again.
    pub retry_after: Duration,
    paused_until: Option<Instant>,
    series: HashMap<String, i64>,
    /// `storage.max_size` in pages, as the connection was opened with.
    cap_pages: i64,
    /// The file and its cap, when the writer may open it anew.
    file: Option<(std::path::PathBuf, u64)>,
    /// The file's device and inode as opened: its name must still name it.
    identity: Option<(u64, u64)>,
    /// Why the file must be replaced at the next write (it is corrupt).
    replace: Option<String>,
    /// History was said to be off by a failure: said on again once it writes.
    failing: bool,
}

impl Writer {
    pub fn new(
        conn: Connection,
        limits: Limits,
        availability: Arc<Mutex<Availability>>,
        failures: Counter,
        retry_after: Duration,
    ) -> Writer {
        let cap_pages = conn
            .query_row("PRAGMA max_page_count", [], |r| r.get(0))
            .unwrap_or(i64::MAX);
        Writer {
            cap_pages,
            conn,
            limits,
            availability,
            failures,
            retry_after,
            paused_until: None,
            series: HashMap::new(),
            file: None,
            identity: None,
            replace: None,
            failing: false,
        }
    }

    /// Watches the file at `path` (opened with cap `max_size`): deleted,
    /// replaced or corrupt while running, it is opened anew as at start.
    pub fn with_file(mut self, path: &std::path::Path, max_size: u64) -> Writer {
        self.identity = identity(path);
        self.file = Some((path.to_path_buf(), max_size));
        self
    }

    /// Takes jobs until the channel closes.
    pub fn run(mut self, jobs: Receiver<Job>) {
        for job in jobs {
            match job {
                Job::Tick(tick) => self.tick(&tick),
                Job::Maintain { now } => self.maintain(now),
                Job::Flush(done) => {
                    let _ = done.send(());
                }
                Job::Seen { service, seen } => {
                    if let Err(e) = groups::save_seen(&self.conn, &service, &seen) {
                        self.failures.inc();
                        tracing::error!(
                            "history: the known error groups of {service} were not saved: {e}"
                        );
                    }
                }
                Job::JournalCursor {
                    service,
                    cursor,
                    last_us,
                } => {
                    if let Err(e) =
                        groups::save_journal_cursor(&self.conn, &service, &cursor, last_us)
                    {
                        self.failures.inc();
                        tracing::error!(
                            "history: the journal cursor of {service} was not saved: {e}"
                        );
                    }
                }
                Job::Mute { mute, done } => {
                    let written = groups::parse_hex(&mute.id)
                        .ok_or_else(|| {
                            StoreError::Failed(format!("{:?} is not a group id", mute.id))
                        })
                        .and_then(|id| {
                            groups::mute(&self.conn, id, mute.until, mute.since, &mute.by)
                                .map_err(StoreError::from)
                        });
                    let _ = done.send(written);
                }
                Job::Unmute { id, done } => {
                    let _ = done.send(groups::unmute(&self.conn, id).map_err(StoreError::from));
                }
                Job::Corrupt(why) => self.corrupt(&why),
            }
        }
    }

    /// Writes one tick in one transaction; at the cap, trims and tries once more.
    pub fn tick(&mut self, tick: &Tick) {
        if let Some(why) = self.replace.take() {
            self.reopen(&format!("it was corrupt ({why})"));
        }
        if self
            .paused_until
            .is_some_and(|until| Instant::now() < until)
        {
            self.failures.inc();
            return;
        }
        let mut result = self.write(tick);
        if result.as_ref().is_err_and(is_full) && self.at_cap() {
            self.trim("a write reached it");
            result = self.write(tick);
        }
        match result {
            Ok(()) => {
                self.paused_until = None;
                if std::mem::take(&mut self.failing) {
                    tracing::info!("history: writing again");
                    self.set(Availability::On);
                }
            }
            Err(e) => self.failed(&e),
        }
    }

    /// A write failed: history pauses (said in `/healthz` and `status`) and
    /// is tried again after `retry_after`; a corrupt file is replaced at the
    /// next write. Logged once per pause, counted each time.
    fn failed(&mut self, e: &rusqlite::Error) {
        if is_corrupt(e) {
            // Counted there, once.
            self.corrupt(&e.to_string());
            return;
        }
        self.failures.inc();
        self.paused_until = Some(Instant::now() + self.retry_after);
        let every = diagbot_core::config::units::write_duration(self.retry_after);
        let why = if is_full(e) {
            format!("the disk is full ({e})")
        } else {
            format!("writes fail ({e})")
        };
        if !self.failing {
            tracing::error!("history: {why}; running without history, trying again every {every}");
        }
        self.failing = true;
        self.set(Availability::Off(format!(
            "paused: {why}; trying again every {every}"
        )));
    }

    /// The file is corrupt: said at once, replaced at the next write.
    fn corrupt(&mut self, why: &str) {
        if self.file.is_none() || self.replace.is_some() {
            return;
        }
        self.failures.inc();
        tracing::error!("history: the file is corrupt ({why}); it is moved aside and a fresh one opened at the next write");
        self.failing = true;
        self.set(Availability::Off(format!(
            "the file is corrupt ({why}): moved aside and opened anew at the next write"
        )));
        self.replace = Some(why.to_string());
        self.paused_until = None;
    }

    /// Opens the file anew as at start (a corrupt one moved aside, a missing
    /// one created); history stays off, saying why, when that fails too.
    fn reopen(&mut self, why: &str) {
        let Some((path, max_size)) = self.file.clone() else {
            return;
        };
        match super::schema::open_writer(&path, max_size) {
            Ok(conn) => {
                tracing::warn!("history: {} opened anew: {why}", path.display());
                self.conn = conn;
                self.series.clear();
                self.identity = identity(&path);
                self.paused_until = None;
            }
            Err(e) => {
                self.failures.inc();
                self.failing = true;
                self.paused_until = Some(Instant::now() + self.retry_after);
                tracing::error!(
                    "history: {} could not be opened anew ({why}): {e}",
                    path.display()
                );
                self.set(Availability::Off(format!(
                    "{e}; trying again every {}",
                    diagbot_core::config::units::write_duration(self.retry_after)
                )));
                self.replace = Some(why.to_string());
            }
        }
    }

    /// Whether the file's name still names the file open, and its header
    /// is still SQLite's: checked each maintenance (each minute).
    fn check_file(&mut self) {
        let Some((path, _)) = self.file.clone() else {
            return;
        };
        let now = identity(&path);
        if now.is_none() || now != self.identity {
            self.failures.inc();
            let what = if now.is_none() { "deleted" } else { "replaced" };
            tracing::error!(
                "history: {} was {what} while running; what it held is lost, a fresh one is made",
                path.display()
            );
            self.reopen(&format!("it was {what} while running"));
            return;
        }
        let mut header = [0u8; 16];
        let read = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
        if read.is_ok() && &header != b"SQLite format 3\0" {
            self.corrupt("its header is not SQLite's");
        }
    }

    fn set(&self, to: Availability) {
        *self.availability.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }

    fn write(&mut self, tick: &Tick) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO raw (series, t, value) VALUES (?1, ?2, ?3)",
            )?;
            for (name, value) in &tick.values {
                if !value.is_finite() {
                    continue;
                }
                let id = series_id(&tx, &mut self.series, name)?;
                insert.execute(params![id, tick.at, value])?;
            }
            let mut event = tx.prepare_cached(
                "INSERT INTO events (t, kind, service, message) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in &tick.events {
                event.execute(params![e.time, e.kind, e.service, e.message])?;
            }
        }
        let committed = tx.commit();
        if committed.is_err() {
            // Ids cached in a transaction that did not commit may not exist.
            self.series.clear();
        }
        committed
    }

    /// Whether the file is at `max_size` (rather than the disk being full).
    fn at_cap(&self) -> bool {
        let pages = |p: &str| -> i64 {
            self.conn
                .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
                .unwrap_or(0)
        };
        // Against the configured cap: SQLite saying full below it is the disk.
        pages("page_count") + 2 >= self.cap_pages
    }

    fn trim(&mut self, why: &str) {
        match retention::trim_to_cap(&self.conn) {
            Ok(trimmed) => tracing::warn!(
                "history: the file is at storage.max_size ({why}); the oldest data was trimmed: {trimmed}"
            ),
            Err(e) => tracing::error!("history: trimming to storage.max_size failed: {e}"),
        }
        self.series.clear();
    }

    /// Rollups, retention by age and count, then the WAL and free pages given back.
    pub fn maintain(&mut self, now: i64) {
        self.check_file();
        let work = || -> rusqlite::Result<()> {
            rollup::roll(&self.conn, now)?;
            retention::by_age(&self.conn, now, &self.limits)?;
            groups::by_age(&self.conn, now - self.limits.hourly)?;
            groups::by_count(&self.conn, self.limits.max_known_groups)?;
            Ok(())
        };
        if let Err(e) = work() {
            if is_full(&e) && self.at_cap() {
                self.trim("a rollup reached it");
            } else if is_corrupt(&e) {
                self.corrupt(&e.to_string());
            } else {
                self.failures.inc();
                tracing::error!("history: maintenance failed: {e}");
            }
        }
        // A vacuum step that fails or a checkpoint that finds readers is
        // tried next time; one that finds the file corrupt replaces it.
        let _ = self.conn.execute_batch("PRAGMA incremental_vacuum");
        let checkpoint = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        if let Err(e) = &checkpoint {
            if is_corrupt(e) {
                self.corrupt(&e.to_string());
            }
        }
        self.series.clear();
    }
}

/// Whether `e` is SQLite finding the file corrupt, or not a database.
pub fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// The device and inode `path` names now; `None` when it names nothing.
fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The id of series `name`, made on first use.
fn series_id(
    conn: &Connection,
    known: &mut HashMap<String, i64>,
    name: &str,
) -> rusqlite::Result<i64> {
    if let Some(id) = known.get(name) {
        return Ok(*id);
    }
    conn.prepare_cached("INSERT OR IGNORE INTO series (name) VALUES (?1)")?
        .execute([name])?;
    let id = conn
        .prepare_cached("SELECT id FROM series WHERE name = ?1")?
        .query_row([name], |r| r.get(0))?;
    known.insert(name.to_string(), id);
    Ok(id)
}
