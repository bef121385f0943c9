//! One file's part of a search: resumed from its tail when it only grew,
//! else read whole; always through the fd the walk opened (never by name).

use std::fs::File;
use std::io::Read;
use std::num::NonZeroU64;
use std::os::unix::fs::FileExt;

use grep_regex::RegexMatcher;
use rustix::fs::Advice;

use super::gzip::scan_gzip;
use super::Progress;
use crate::logs::cancel::{Cancel, Cancellable};
use crate::logs::follow::{next_read, LastRead, NextRead};
use crate::logs::format::TimeReader;
use crate::logs::learn::{learn_file, Learned};
use crate::logs::open::{resource_error, FileId, OpenedFile};
use crate::logs::read::{Counted, ReadAt};
use crate::logs::scan::{
    resolve_pending_timestamps, scan_region, Counting, FileTally, ScanSpec, Window,
};
use crate::logs::split::{cut_points, join_part};
use crate::logs::tail::{FileTail, HeadHash, QueryTails};
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;
use crate::logs::walk::LogFile;
use crate::workers::{for_each_done, ScanThreads};
use std::sync::Mutex;

/// What every file of one search is scanned with.
pub(super) struct FileScan<'a> {
    /// Keep line counts even without kept lines (to resume tails).
    pub count_lines: bool,
    pub matcher: &'a RegexMatcher,
    pub counting: Counting,
    pub window: Window,
    pub max_lines: usize,
    pub formats: &'a [CompiledUserFormat],
    /// The most bytes a `.gz` file is decompressed to.
    pub max_decompressed: u64,
    pub cancel: &'a Cancel,
    /// Threads for the parts of one large plain file.
    pub parts: ScanThreads,
    /// The least bytes of a part.
    pub part_size: u64,
}

/// Something the user should know about a file read in part.
#[derive(Debug, Default)]
pub(super) struct Notes {
    /// It changed while it was read, or a read failed (listed as skipped).
    pub note: Option<String>,
    /// A `.gz` cut at the decompression bound (listed as cut).
    pub cut: Option<String>,
    /// A read failed for lack of resources (EIO, ENOMEM): the answer is partial.
    pub resource: bool,
}

/// One file's part of an answer.
pub(super) struct ScannedFile {
    pub answer: FileTally,
    pub bytes: u64,
    /// The state to resume from next time; `None` when it must not be trusted.
    pub tail: Option<(FileId, Box<FileTail>)>,
    pub notes: Notes,
    pub learned: Learned,
}

/// Scans `opened` (the file the walk opened and checked).
pub(super) fn scan_file(
    setup: &FileScan<'_>,
    file: &LogFile,
    opened: OpenedFile,
    previous: &Mutex<QueryTails>,
    progress: Progress<'_>,
) -> Result<ScannedFile, std::io::Error> {
    let OpenedFile {
        file: handle,
        id,
        size,
        modified,
    } = opened;
    let max_lines = setup.max_lines;
    let hint = YearHint::from_system_time(modified.unwrap_or_else(std::time::SystemTime::now));
    let prior = previous
        .lock()
        .ok()
        .and_then(|mut tails| tails.files.remove(&id));
    let last = prior.as_deref().map(|t| LastRead {
        head: &t.head,
        offset: t.offset,
        size: t.size,
        modified: t.modified,
        learned: &t.learned,
    });
    let next = next_read(last, &handle, size, modified, || {
        learn_file(
            file,
            &handle,
            size,
            (setup.formats, hint),
            setup.counting == Counting::Levels,
        )
    });
    let (resumed, learned) = match next {
        NextRead::Unchanged => {
            let Some(tail) = prior else {
                unreachable!("nothing is unchanged without a last read")
            };
            return Ok(unchanged(tail, id, max_lines));
        }
        NextRead::Read {
            resumed, learned, ..
        } => (resumed, learned),
    };
    let spec = ScanSpec {
        matcher: setup.matcher,
        counting: setup.counting,
        window: setup.window,
        max_lines,
        count_lines: setup.count_lines,
        times: TimeReader::new(&learned.format, setup.formats, hint),
    };
    if file.compressed {
        return scan_gzip(
            setup,
            &spec,
            handle,
            (size, modified),
            id,
            progress,
            learned.clone(),
        );
    }
    let (offset, mut tally) = match prior.filter(|_| resumed) {
        Some(t) => (t.offset, t.tally),
        None => (0, FileTally::default()),
    };
    let head = HeadHash::of(&handle, size)?;
    let end = end_of_last_line(&handle, offset, size, setup.cancel)?;

    let mut bytes = 0;
    let mut notes = Notes::default();
    let mut range = Range {
        spec: &spec,
        handle: &handle,
        progress,
        cancel: setup.cancel,
        bytes: &mut bytes,
        notes: &mut notes,
    };
    let complete = range.read_in_parts(offset, end, setup.parts, setup.part_size, &mut tally);
    resolve_pending_timestamps(&handle, &spec.times, &mut tally.ring);
    let mut answer = tally.clone();
    let mut partial = None;
    if complete && size > end {
        let mut p = tally.continuation();
        range.read(end, size, &mut p);
        resolve_pending_timestamps(&handle, &spec.times, &mut p.ring);
        answer.extend(&p, max_lines);
        partial = Some(Box::new(p));
    }
    tally.ring.shrink_to_fit();
    let tail = Box::new(FileTail {
        head,
        offset: end,
        size,
        modified,
        tally,
        partial,
        learned: learned.clone(),
        cut: None,
    });
    Ok(ScannedFile {
        tail: (complete && notes.note.is_none()).then_some((id, tail)),
        answer,
        bytes,
        notes,
        learned,
    })
}

/// The answer of a file unchanged since its last read: what that read
/// kept, nothing read again.
fn unchanged(tail: Box<FileTail>, id: FileId, max_lines: usize) -> ScannedFile {
    let mut answer = tail.tally.clone();
    if let Some(p) = &tail.partial {
        answer.extend(p, max_lines);
    }
    let learned = tail.learned.clone();
    let notes = Notes {
        cut: tail.cut.clone(),
        ..Notes::default()
    };
    ScannedFile {
        answer,
        bytes: 0,
        tail: Some((id, tail)),
        notes,
        learned,
    }
}

/// What scanning one part of a file gave.
struct PartRead {
    tally: FileTally,
    bytes: u64,
    notes: Notes,
    /// All of the part could be read.
    whole: bool,
}

/// Reads byte ranges of one plain file.
struct Range<'r> {
    spec: &'r ScanSpec<'r>,
    handle: &'r File,
    progress: Progress<'r>,
    cancel: &'r Cancel,
    bytes: &'r mut u64,
    notes: &'r mut Notes,
}

impl Range<'_> {
    /// Scans `[from, to)` into `tally` as [`Range::read`] does, cut into parts
    /// scanned at once when the range is large and threads are spare; the tally
    /// is the one a single scan gives.
    fn read_in_parts(
        &mut self,
        from: u64,
        to: u64,
        threads: ScanThreads,
        part_size: u64,
        tally: &mut FileTally,
    ) -> bool {
        let (spec, handle, progress, cancel) = (self.spec, self.handle, self.progress, self.cancel);
        // A scan that carries each line's time starts parts at timestamped lines.
        let tracking = spec.tracks_every_line(false);
        let cuts = if threads.count.get() > 1 {
            cut_points(handle, from, to, threads.count.get(), part_size, |line| {
                !tracking || spec.times.read(line).time.is_some()
            })
        } else {
            vec![from, to]
        };
        if cuts.len() <= 2 {
            return self.read(from, to, tally);
        }
        let ranges: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
        let order: Vec<usize> = (0..ranges.len()).collect();
        let mut parts: Vec<Option<PartRead>> = ranges.iter().map(|_| None).collect();
        let start = tally.continuation();
        let scan_part = |&(a, b): &(u64, u64)| {
            // The first part goes on from what came before; the others count lines from their start.
            let mut part = if a == from {
                start.clone()
            } else {
                FileTally::default()
            };
            let (mut bytes, mut notes) = (0, Notes::default());
            let mut range = Range {
                spec,
                handle,
                progress,
                cancel,
                bytes: &mut bytes,
                notes: &mut notes,
            };
            let whole = range.read(a, b, &mut part);
            PartRead {
                tally: part,
                bytes,
                notes,
                whole,
            }
        };
        for_each_done(&ranges, &order, threads, scan_part, |i, done| {
            parts[i] = Some(done)
        });
        let mut complete = true;
        for (i, part) in parts.into_iter().flatten().enumerate() {
            *self.bytes += part.bytes;
            if i == 0 {
                tally.extend(&part.tally, spec.max_lines);
            } else {
                join_part(tally, part.tally, spec.max_lines);
            }
            if !part.whole {
                // What follows a part read short cannot be joined: its line numbers would be wrong.
                self.notes.resource |= part.notes.resource;
                self.notes.note = self.notes.note.take().or(part.notes.note);
                complete = false;
                break;
            }
        }
        complete
    }

    /// Scans `[from, to)`; returns whether all of it could be read.
    fn read(&mut self, from: u64, to: u64, tally: &mut FileTally) -> bool {
        // `pread` through the one fd: no second descriptor per file (a dup
        // is one more way to run out of them).
        let mut reader = ReadAt::new(self.handle, from);
        // Twice the kernel's read-ahead for a cold file; advice only, so a failure is harmless.
        let _ = rustix::fs::fadvise(
            self.handle,
            from,
            NonZeroU64::new(to - from),
            Advice::Sequential,
        );
        let limited = Counted::new((&mut reader).take(to - from), self.progress);
        match scan_region(
            self.spec,
            Cancellable::new(limited, self.cancel),
            from,
            false,
            tally,
        ) {
            Ok(read) => {
                *self.bytes += read.bytes;
                if read.bytes < to - from {
                    self.notes.note = Some(format!(
                        "file shrank while it was read (truncated or rotated); counted the {} bytes read",
                        read.bytes
                    ));
                    return false;
                }
                true
            }
            Err(e) => {
                self.failed(&e);
                false
            }
        }
    }

    fn failed(&mut self, e: &std::io::Error) {
        self.notes.resource |= resource_error(e);
        self.notes.note = Some(format!("read failed: {e}; counted what was read before"));
    }
}

/// The offset just after the last newline in `[from, size)`, or `from` if there is none.
pub(crate) fn end_of_last_line(
    file: &File,
    from: u64,
    size: u64,
    cancel: &Cancel,
) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 << 10;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut end = size;
    while end > from {
        // A long run without a newline is read back chunk by chunk: stoppable too.
        if cancel.is_cancelled() {
            return Err(Cancel::error());
        }
        let start = end.saturating_sub(CHUNK).max(from);
        let chunk = &mut buf[..(end - start) as usize];
        let n = read_at_most(file, chunk, start)?;
        if let Some(i) = memchr::memrchr(b'\n', &chunk[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(from)
}

/// Reads as much of `buf` as the file has at `offset` (it may have shrunk).
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
