//! Incremental tails: what a query has already read of each file.
//!
//! A file is known by `(device, inode)`, checked against a hash of its first
//! bytes (inodes are reused). Its tail remembers the offset just after the last
//! complete line and the tally of everything before it, so a refresh:
//! - skips a file whose size and mtime are unchanged;
//! - reads a grown file from the offset;
//! - rereads from 0 a file that shrank (copytruncate) or whose head changed;
//! - follows a renamed file by its identity (`app.log` → `app.log.1`);
//! - reads a `.gz` file once: rotated files do not change.
//!
//! The store is bounded by a number of queries and a byte budget (not a
//! number of files: a tail costs about 400 bytes, so 8 MiB keeps up with
//! 20,000 files), the least recently used query's tails dropped first. A
//! dropped tail only costs a full rescan, and [`TailStore::put`] says why. Tails are kept from a query's second run on: a question asked
//! once (a new pattern typed by a user) leaves nothing behind. Queries known
//! to repeat (the background refresh's) keep theirs from the first run.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::FileExt;
use std::time::SystemTime;

use crate::logs::learn::Learned;
use crate::logs::scan::FileTally;

/// How many leading bytes identify a file's content.
const HEAD_BYTES: usize = 1024;

/// A hash of a file's first bytes: a file replaced or rewritten under the
/// same inode no longer starts with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadHash {
    len: usize,
    hash: u64,
}

impl HeadHash {
    /// The hash of the first bytes of `file`, `size` bytes long.
    pub fn of(file: &File, size: u64) -> std::io::Result<HeadHash> {
        let len = (size as usize).min(HEAD_BYTES);
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, 0)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        buf.hash(&mut hasher);
        Ok(HeadHash {
            len,
            hash: hasher.finish(),
        })
    }

    /// Whether `file` (now `size` bytes long) still starts with the same bytes.
    pub fn still_matches(&self, file: &File, size: u64) -> bool {
        if (size as usize) < self.len {
            return false;
        }
        let mut buf = vec![0u8; self.len];
        if file.read_exact_at(&mut buf, 0).is_err() {
            return false;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        buf.hash(&mut hasher);
        hasher.finish() == self.hash
    }
}

/// What a query has read of one file.
#[derive(Debug, Clone)]
pub struct FileTail {
    /// The hash of the file's first bytes when it was read.
    pub head: HeadHash,
    /// Just after the last complete line read (for `.gz`, the compressed size).
    pub offset: u64,
    /// Its size when it was read.
    pub size: u64,
    /// Its modification time when it was read.
    pub modified: Option<SystemTime>,
    /// The tally of `[0, offset)`.
    pub tally: FileTally,
    /// The tally of an unfinished last line, `[offset, size)`: part of the answer,
    /// read again at the next refresh.
    pub partial: Option<Box<FileTally>>,
    /// The file's timestamp format: kept while the file only grows once its
    /// sample was full, learned again at each refresh until then (the tally
    /// is kept only if the format did not change).
    pub learned: Learned,
    /// Why a `.gz` file was read only in part (decompression bound), said again
    /// each time the tail answers for it.
    pub cut: Option<String>,
}

impl FileTail {
    /// The heap bytes this tail holds.
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<FileTail>()
            + self.tally.heap_size()
            + self
                .partial
                .as_ref()
                .map_or(0, |p| std::mem::size_of::<FileTally>() + p.heap_size())
            + self.cut.as_ref().map_or(0, String::capacity)
    }
}

/// A file's identity: device and inode, which survive a rename (rotation).
pub type FileId = (u64, u64);

/// The tails of one query.
#[derive(Debug, Default)]
pub struct QueryTails {
    /// Boxed: the map's empty buckets then cost a pointer, not a tail.
    pub files: HashMap<FileId, Box<FileTail>>,
    /// The journal's part, resumed from its cursor.
    pub journal: Option<Box<crate::journal::JournalTally>>,
    last_used: u64,
}

impl QueryTails {
    /// The heap bytes these tails hold.
    pub fn heap_size(&self) -> usize {
        self.files.values().map(|t| t.heap_size()).sum::<usize>()
            + self.files.capacity() * std::mem::size_of::<(FileId, Box<FileTail>)>()
            + self.journal.as_ref().map_or(0, |j| j.heap_size())
    }
}

/// How much the tail store keeps.
#[derive(Debug, Clone, Copy)]
pub struct TailLimits {
    /// Queries whose tails are kept.
    pub max_queries: usize,
    /// Their heap bytes together.
    pub max_bytes: usize,
}

impl Default for TailLimits {
    fn default() -> Self {
        TailLimits {
            max_queries: 64,
            max_bytes: 8 << 20,
        }
    }
}

/// How many recently run queries are remembered (as 8-byte hashes) to tell a
/// repeated query from a one-off.
const RECENT_KEYS: usize = 1024;

/// Tails of recent queries, by canonical query key.
#[derive(Debug, Default)]
pub struct TailStore {
    limits: TailLimits,
    queries: HashMap<String, (QueryTails, usize)>,
    tick: u64,
    recent: VecDeque<u64>,
    recent_set: HashSet<u64>,
}

impl TailStore {
    /// An empty store with these limits.
    pub fn new(limits: TailLimits) -> Self {
        TailStore {
            limits,
            ..TailStore::default()
        }
    }

    /// The bytes all queries' tails may take together: one query's more are not kept.
    pub fn budget(&self) -> usize {
        self.limits.max_bytes
    }

    /// Takes a query's tails out for a refresh (a concurrent refresh of the same
    /// query then starts from scratch rather than sharing half-updated state).
    pub fn take(&mut self, key: &str) -> QueryTails {
        self.queries.remove(key).map(|(t, _)| t).unwrap_or_default()
    }

    /// Puts a query's tails back (from its second run on), then drops least
    /// recently used ones over the limits. `Err` says why this query's own
    /// tails were not kept (its next run reads everything again).
    pub fn put(&mut self, key: String, mut tails: QueryTails) -> Result<(), String> {
        if !self.seen_before(&key) {
            return Ok(()); // asked once so far: kept from its second run
        }
        tails.files.shrink_to_fit();
        let size = tails.heap_size() + key.len();
        if size > self.limits.max_bytes {
            return Err(format!(
                "the tails of its {} files take {size} bytes, over the tail budget of {} bytes",
                tails.files.len(),
                self.limits.max_bytes
            ));
        }
        self.tick += 1;
        tails.last_used = self.tick;
        self.queries.insert(key, (tails, size));
        while self.queries.len() > self.limits.max_queries || self.bytes() > self.limits.max_bytes {
            let oldest = self
                .queries
                .iter()
                .min_by_key(|(_, (t, _))| t.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.queries.remove(&k);
                }
                None => break,
            }
        }
        Ok(())
    }

    /// Marks `key` as a query known to repeat (a background refresh): its
    /// tails are kept from its first run on.
    pub fn expect_repeats(&mut self, key: &str) {
        self.seen_before(key);
    }

    /// Whether `key` ran before; remembers it either way.
    fn seen_before(&mut self, key: &str) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let hash = hasher.finish();
        if self.recent_set.contains(&hash) {
            return true;
        }
        if self.recent.len() >= RECENT_KEYS {
            if let Some(old) = self.recent.pop_front() {
                self.recent_set.remove(&old);
            }
        }
        self.recent.push_back(hash);
        self.recent_set.insert(hash);
        false
    }

    /// The heap bytes of all kept tails.
    pub fn bytes(&self) -> usize {
        self.queries.values().map(|(_, size)| size).sum()
    }

    /// Queries whose tails are kept.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether no query's tails are kept.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}
