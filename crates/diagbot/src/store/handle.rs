//! What the daemon holds: the writer thread's channel, whether history is
//! on (and why not), and the read-only connection.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use rusqlite::Connection;

use super::groups::{Mute, SeenRow};
use super::retention::Limits;
use super::schema;
use super::writer::{Job, Writer};
use super::{StoreError, Tick};

/// Ticks waiting for the writer before new ones are dropped (counted).
const QUEUE: usize = 64;
/// After a full disk, how long history pauses before a write is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether history is being kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Availability {
    On,
    /// Off, and why: what `status`, `/healthz` and `/api/v1/history` say.
    Off(String),
}

/// The daemon's store: written through a channel, read on its own connection.
pub struct Store {
    path: Option<PathBuf>,
    jobs: Option<SyncSender<Job>>,
    availability: Arc<Mutex<Availability>>,
    reader: Mutex<Option<Connection>>,
    failures: Counter,
    /// The lock beside the database, held while the store is open.
    _lock: Option<std::fs::File>,
}

impl Store {
    /// A store that keeps nothing, saying `why`.
    pub fn off(why: impl Into<String>) -> Store {
        Store {
            path: None,
            jobs: None,
            availability: Arc::new(Mutex::new(Availability::Off(why.into()))),
            reader: Mutex::new(None),
            failures: Counter::default(),
            _lock: None,
        }
    }

    /// Opens the file at `path` and starts its writer thread; when it cannot
    /// be opened, a store that keeps nothing and says why (logged as an error).
    /// `failures` counts ticks not written.
    pub fn open(
        path: &Path,
        max_size: u64,
        limits: Limits,
        failures: Counter,
        retry_after: Duration,
    ) -> Store {
        // One daemon per store: a second one would record each event twice.
        let lock = match super::lock::take(path) {
            Ok(lock) => lock,
            Err(why) => {
                // A directory that cannot be written is said as at any
                // start (what the operator can fix), before the lock's own reason.
                let why = match schema::open_writer(path, max_size) {
                    Err(e) => e.to_string(),
                    Ok(_) => why,
                };
                tracing::error!("history off: {why}");
                let store = Store::off(why);
                return Store { failures, ..store };
            }
        };
        let conn = match schema::open_writer(path, max_size) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!("history off: {e}");
                let store = Store::off(e.to_string());
                return Store { failures, ..store };
            }
        };
        let availability = Arc::new(Mutex::new(Availability::On));
        let writer = Writer::new(
            conn,
            limits,
            Arc::clone(&availability),
            failures.clone(),
            retry_after,
        )
        .with_file(path, max_size);
        let (tx, rx) = sync_channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("diagbot-history".into())
            .spawn(move || writer.run(rx));
        if let Err(e) = spawned {
            tracing::error!("history off: its writer thread could not start: {e}");
            let store = Store::off(format!("its writer thread could not start: {e}"));
            return Store { failures, ..store };
        }
        tracing::info!("history kept in {}", path.display());
        Store {
            path: Some(path.to_path_buf()),
            jobs: Some(tx),
            availability,
            reader: Mutex::new(None),
            failures,
            _lock: Some(lock),
        }
    }

    /// Whether history is kept now, and why not.
    pub fn availability(&self) -> Availability {
        self.availability
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The file, when one was opened.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Hands a tick to the writer; dropped (and counted) when it is behind.
    pub fn record(&self, tick: Tick) {
        let Some(jobs) = &self.jobs else { return };
        match jobs.try_send(Job::Tick(tick)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.failures.inc();
                tracing::warn!("history: the writer is behind; a tick was dropped");
            }
            Err(TrySendError::Disconnected(_)) => {
                self.failures.inc();
            }
        }
    }

    /// Asks the writer for rollups, retention, a checkpoint and a vacuum step.
    pub fn maintain(&self, now: i64) {
        if let Some(jobs) = &self.jobs {
            // Blocking is fine: the writer takes one job at a time, briefly.
            let _ = jobs.send(Job::Maintain { now });
        }
    }

    /// Hands what a service's new-error watch saw to the writer (waiting
    /// for room: these are few, and losing them would make old errors news).
    pub fn save_seen(&self, service: &str, seen: Vec<SeenRow>) {
        if seen.is_empty() {
            return;
        }
        let Some(jobs) = &self.jobs else { return };
        let job = Job::Seen {
            service: service.to_string(),
            seen,
        };
        if jobs.send(job).is_err() {
            self.failures.inc();
        }
    }

    /// Hands where a service's new-error watch stopped in its unit's journal
    /// to the writer (waiting for room: losing it would read entries again).
    pub fn save_journal_cursor(&self, service: &str, cursor: String, last_us: i64) {
        let Some(jobs) = &self.jobs else { return };
        let job = Job::JournalCursor {
            service: service.to_string(),
            cursor,
            last_us,
        };
        if jobs.send(job).is_err() {
            self.failures.inc();
        }
    }

    /// Sets `mute` through the writer, and waits until it is written. Blocking.
    pub fn mute(&self, mute: Mute) -> Result<(), StoreError> {
        let jobs = self.writer()?;
        let (tx, rx) = std::sync::mpsc::channel();
        jobs.send(Job::Mute { mute, done: tx })
            .map_err(|_| StoreError::Stopped)?;
        rx.recv().map_err(|_| StoreError::Stopped)?
    }

    /// Removes the mute of `id` through the writer; says whether there was one. Blocking.
    pub fn unmute(&self, id: u64) -> Result<bool, StoreError> {
        let jobs = self.writer()?;
        let (tx, rx) = std::sync::mpsc::channel();
        jobs.send(Job::Unmute { id, done: tx })
            .map_err(|_| StoreError::Stopped)?;
        rx.recv().map_err(|_| StoreError::Stopped)?
    }

    /// The writer's channel, or why there is none.
    fn writer(&self) -> Result<&SyncSender<Job>, StoreError> {
        self.jobs.as_ref().ok_or_else(|| self.why_off())
    }

    /// Why history is off (for a store with no writer or no file).
    fn why_off(&self) -> StoreError {
        match self.availability() {
            Availability::Off(why) => StoreError::Off(why),
            Availability::On => StoreError::Off("no history file".into()),
        }
    }

    /// Waits until every job handed over so far is done (at shutdown, in tests).
    pub fn flush(&self) {
        if let Some(jobs) = &self.jobs {
            let (tx, rx) = std::sync::mpsc::channel();
            if jobs.send(Job::Flush(tx)).is_ok() {
                let _ = rx.recv();
            }
        }
    }

    /// Runs `read` on the read-only connection (opened on first use) in one
    /// short transaction. Blocking: call it off the async threads.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        if let Availability::Off(why) = self.availability() {
            if self.jobs.is_none() {
                return Err(StoreError::Off(why));
            }
        }
        let Some(path) = &self.path else {
            return Err(self.why_off());
        };
        let mut reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        if reader.is_none() {
            *reader = Some(super::read::open_read_only(path)?);
        }
        let Some(conn) = reader.as_mut() else {
            return Err(self.why_off());
        };
        let result = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
            let value = read(&tx)?;
            tx.finish()?;
            Ok(value)
        })();
        result.map_err(|e: rusqlite::Error| {
            // A connection that failed is opened anew next time; a corrupt
            // file is the writer's to replace.
            *reader = None;
            if super::writer::is_corrupt(&e) {
                if let Some(jobs) = &self.jobs {
                    let _ = jobs.try_send(Job::Corrupt(e.to_string()));
                }
            }
            StoreError::from(e)
        })
    }
}
