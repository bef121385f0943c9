//! The history store: one SQLite file holding every health sample (raw, for
//! a while), 5-minute and hourly rollups of them, and events. Bounded by
//! construction: each tier is kept for its retention, and the file never
//! grows past `storage.max_size` (the oldest tier is trimmed first).
//!
//! One writer connection, owned by one thread fed through a channel, writes
//! each sample tick in one transaction and runs the rollups and retention;
//! reads go through a separate read-only connection with short transactions,
//! so a checkpoint never waits on a reader for long.
//!
//! This module knows SQLite and rows; what an answer means (series, steps,
//! points) is `crate::history`'s.

pub mod groups;
mod handle;
pub mod lock;
pub mod read;
pub mod retention;
mod rollup;
pub mod schema;
pub mod writer;

pub use handle::{Availability, Store, RETRY_AFTER};
pub use retention::Limits;
pub use rollup::spans as rollup_spans;
pub use schema::OpenError;

/// Why the store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// History is off (`storage.enabled` false, or the file could not be
    /// opened), and why.
    #[error("history is off: {0}")]
    Off(String),
    /// The writer thread is gone: the daemon is stopping.
    #[error("the history writer has stopped")]
    Stopped,
    /// The read or the write failed (SQLite, or the thread running it).
    #[error("{0}")]
    Failed(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Failed(e.to_string())
    }
}

/// A store that cannot answer is the daemon's trouble, never the asker's.
impl From<StoreError> for crate::present::refusal::Refusal {
    fn from(e: StoreError) -> Self {
        crate::present::refusal::Refusal::Unavailable(e.to_string())
    }
}

/// One sample tick: every series' value at `at`, and the events since the last.
#[derive(Debug, Clone, Default)]
pub struct Tick {
    /// Unix seconds.
    pub at: i64,
    /// `(series name, value)`.
    pub values: Vec<(String, f64)>,
    pub events: Vec<StoredEvent>,
}

/// An event as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Unix seconds.
    pub time: i64,
    pub kind: String,
    pub service: Option<String>,
    pub message: String,
}

/// A span of a series at a tier's resolution: a raw sample is a bucket of one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Unix seconds: the sample's time, or the start of the rollup's span.
    pub t: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: u64,
    /// The newest value in the span.
    pub last: f64,
}

impl Bucket {
    pub fn of_sample(t: i64, value: f64) -> Bucket {
        Bucket {
            t,
            min: value,
            max: value,
            sum: value,
            count: 1,
            last: value,
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }

    /// Takes in `later`, which follows this one in time.
    pub fn merge(&mut self, later: &Bucket) {
        self.min = self.min.min(later.min);
        self.max = self.max.max(later.max);
        self.sum += later.sum;
        self.count += later.count;
        self.last = later.last;
    }
}

/// The tiers, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Raw,
    FiveMinutes,
    Hourly,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Raw, Tier::FiveMinutes, Tier::Hourly];

    pub fn table(self) -> &'static str {
        match self {
            Tier::Raw => "raw",
            Tier::FiveMinutes => "five_minutes",
            Tier::Hourly => "hourly",
        }
    }

    /// Seconds per rollup; raw samples come at the sampling interval.
    pub fn span_secs(self) -> i64 {
        match self {
            Tier::Raw => 0,
            Tier::FiveMinutes => 300,
            Tier::Hourly => 3600,
        }
    }

    /// The tier this one is rolled up from.
    pub fn finer(self) -> Option<Tier> {
        match self {
            Tier::Raw => None,
            Tier::FiveMinutes => Some(Tier::Raw),
            Tier::Hourly => Some(Tier::FiveMinutes),
        }
    }
}

/// Whether `e` is SQLite saying the disk (or the cap) is full.
pub(crate) fn is_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

#[cfg(test)]
mod tests;
