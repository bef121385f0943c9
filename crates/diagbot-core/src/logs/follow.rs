//! The one decision a repeated read of a file makes, whoever reads it (the
//! search engine's tails, the daemon's new-error watch): skip it, resume it
//! where the last read stopped, or read it again from the start; and keep
//! its timestamp format or learn it again.
//!
//! - size and mtime unchanged, and the same head → skip;
//! - the same head and at least as long, read with the same format → resume
//!   from the offset after the last complete line read;
//! - else (shrunk, a changed head: copytruncate, a rewrite) → from 0.
//!
//! A settled format is kept while the file keeps its head; else it is learned
//! (again). A renamed (rotated) file is found by its identity, the caller's
//! key for its last read.

use std::fs::File;
use std::time::SystemTime;

use super::learn::Learned;
use super::tail::HeadHash;

/// What the last read of a file saw.
#[derive(Debug, Clone, Copy)]
pub struct LastRead<'a> {
    /// A hash of its first bytes.
    pub head: &'a HeadHash,
    /// Just after the last complete line read.
    pub offset: u64,
    /// Its size then.
    pub size: u64,
    /// Its mtime then.
    pub modified: Option<SystemTime>,
    /// The format it was read with.
    pub learned: &'a Learned,
}

/// Where a follower's last read of a file stopped (the new-error watch's,
/// the configured numbers'): what [`next_read`] compares with next time.
#[derive(Debug, Clone)]
pub struct Mark {
    /// A hash of its first bytes.
    pub head: HeadHash,
    /// Just after the last complete line read.
    pub offset: u64,
    /// Its size then.
    pub size: u64,
    /// Its mtime then.
    pub modified: Option<SystemTime>,
    /// The format it was read with.
    pub learned: Learned,
}

impl Mark {
    /// The last read, as [`next_read`] takes it.
    pub fn last_read(&self) -> LastRead<'_> {
        LastRead {
            head: &self.head,
            offset: self.offset,
            size: self.size,
            modified: self.modified,
            learned: &self.learned,
        }
    }
}

/// What to do with the file now.
#[derive(Debug)]
pub enum NextRead {
    /// Nothing changed: the last read's answer stands.
    Unchanged,
    /// Read from `from` (0: from the start) with `learned`; `resumed` says
    /// that the last read's counts go on (else they start anew).
    Read {
        /// Where the read starts.
        from: u64,
        /// Whether it goes on from the last read.
        resumed: bool,
        /// The file's format.
        learned: Learned,
    },
}

/// Decides the next read of `file` (now `size` bytes, written at
/// `modified`) after `last`; `learn` reads its format when it must be learned.
pub fn next_read(
    last: Option<LastRead<'_>>,
    file: &File,
    size: u64,
    modified: Option<SystemTime>,
    learn: impl FnOnce() -> Learned,
) -> NextRead {
    let Some(last) = last else {
        return NextRead::Read {
            from: 0,
            resumed: false,
            learned: learn(),
        };
    };
    // Size and mtime first: the head is read only when they say nothing
    // changed or a read is due. (The head is checked too: mtime has coarse
    // granularity, and a truncate-and-rewrite to the same size within one
    // tick would otherwise go unseen.)
    let same_head = last.head.still_matches(file, size);
    if same_head && last.size == size && last.modified == modified {
        return NextRead::Unchanged;
    }
    let learned = if same_head && last.learned.complete {
        last.learned.clone()
    } else {
        learn()
    };
    let resumed = same_head && size >= last.offset && last.learned.format == learned.format;
    NextRead::Read {
        from: if resumed { last.offset } else { 0 },
        resumed,
        learned,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::logs::learn::learn_from_reader;
    use crate::logs::timestamp::YearHint;

    fn learn(file: &File, path: &std::path::Path) -> Learned {
        let hint = YearHint::from_system_time(SystemTime::now());
        learn_from_reader(file, &[], path, hint)
    }

    /// Each change a log file goes through, and the read it gets.
    #[test]
    fn unchanged_skips_grown_resumes_and_rewritten_reads_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let line = "2026-01-27 10:00:00 ERROR a\n";
        std::fs::write(&path, line).unwrap();
        let open = || File::open(&path).unwrap();
        let meta = |f: &File| {
            let m = f.metadata().unwrap();
            (m.len(), m.modified().ok())
        };
        let file = open();
        let (size, modified) = meta(&file);
        let NextRead::Read {
            from: 0,
            resumed: false,
            learned,
        } = next_read(None, &file, size, modified, || learn(&file, &path))
        else {
            panic!("a first read starts at 0");
        };
        let head = HeadHash::of(&file, size).unwrap();
        let last = LastRead {
            head: &head,
            offset: size,
            size,
            modified,
            learned: &learned,
        };
        let again = next_read(Some(last), &file, size, modified, || unreachable!());
        assert!(matches!(again, NextRead::Unchanged));

        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        let file = open();
        let (grown, modified) = meta(&file);
        let relearn = || learn(&file, &path);
        match next_read(Some(last), &file, grown, modified, relearn) {
            NextRead::Read { from, resumed, .. } => {
                assert_eq!((from, resumed), (size, true));
            }
            NextRead::Unchanged => panic!("grown"),
        }

        // Rewritten with another head (copytruncate, then a new line).
        std::fs::write(&path, "2026-01-28 11:00:00 INFO b\n").unwrap();
        let file = open();
        let (size, modified) = meta(&file);
        match next_read(Some(last), &file, size, modified, || learn(&file, &path)) {
            NextRead::Read { from, resumed, .. } => assert_eq!((from, resumed), (0, false)),
            NextRead::Unchanged => panic!("rewritten"),
        }
    }
}
