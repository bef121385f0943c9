//! A `.gz` file's part of a search: decompressed once (rotated files do not
//! change), within a bound. A few MB of gzip can hold GiBs of lines (a
//! bomb, or a log of one repeated line): decompression stops at
//! `logs.max_decompressed` bytes, or sooner when the output outgrows the
//! input by more than any log compresses, and the file is listed as cut.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::file::{FileScan, Notes, ScannedFile};
use super::Progress;
use crate::logs::cancel::Cancellable;
use crate::logs::learn::Learned;
use crate::logs::open::{resource_error, FileId};
use crate::logs::read::Counted;
use crate::logs::scan::{scan_region, FileTally, ScanSpec};
use crate::logs::tail::{FileTail, HeadHash};

/// The ratio is checked once this much was decompressed: small files never trip it.
const RATIO_AFTER: u64 = 16 << 20;
/// Decompressed bytes per compressed byte past which the output is a bomb,
/// not a log: text logs compress 5–30×, a log of one line repeated about
/// 200×, deflate's limit is about 1030× (a run of one byte).
pub const MAX_RATIO: u64 = 500;

pub(super) fn scan_gzip(
    setup: &FileScan<'_>,
    spec: &ScanSpec<'_>,
    handle: File,
    (size, modified): (u64, Option<SystemTime>),
    id: FileId,
    progress: Progress<'_>,
    learned: Learned,
) -> Result<ScannedFile, io::Error> {
    let head = HeadHash::of(&handle, size)?;
    let compressed = AtomicU64::new(0);
    let input = |n: u64| {
        compressed.fetch_add(n, Ordering::Relaxed);
        progress(n);
    };
    let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(Counted::new(handle, &input)));
    let mut bounded = Bounded {
        inner: decoder,
        read: 0,
        limit: setup.max_decompressed,
        compressed: &compressed,
        cut: None,
    };
    let mut tally = FileTally::default();
    let mut notes = Notes::default();
    let outcome = scan_region(
        spec,
        Cancellable::new(&mut bounded, setup.cancel),
        0,
        true,
        &mut tally,
    );
    let bytes = match outcome {
        Ok(read) => read.bytes,
        Err(e) => {
            notes.resource = resource_error(&e);
            notes.note = Some(format!(
                "could not decompress all of it ({e}); counted what was read"
            ));
            bounded.read
        }
    };
    notes.cut = bounded.cut;
    let tail = notes.note.is_none().then(|| {
        (
            id,
            Box::new(FileTail {
                head,
                offset: size,
                size,
                modified,
                tally: FileTally {
                    ring: tally.ring.iter().cloned().collect(),
                    ..tally.clone()
                },
                partial: None,
                learned: learned.clone(),
                cut: notes.cut.clone(),
            }),
        )
    });
    Ok(ScannedFile {
        answer: tally,
        bytes,
        tail,
        notes,
        learned,
    })
}

/// Ends the decompressed stream at the bound or the ratio, saying why.
struct Bounded<'c, R> {
    inner: R,
    read: u64,
    limit: u64,
    compressed: &'c AtomicU64,
    cut: Option<String>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cut.is_some() {
            return Ok(0);
        }
        // At the limit, one more byte tells a file that ends there from one that goes on.
        if self.read >= self.limit && self.inner.read(&mut [0u8; 1])? > 0 {
            self.cut = Some(format!(
                "decompressed past logs.max_decompressed ({}): only the first {} bytes were searched",
                crate::config::units::write_size(self.limit),
                self.read
            ));
            return Ok(0);
        }
        if self.read >= self.limit {
            return Ok(0);
        }
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        if self.read >= RATIO_AFTER && self.read / compressed > MAX_RATIO {
            self.cut = Some(format!(
                "decompresses over {MAX_RATIO} times its size (a gzip bomb?): only the first {} bytes were searched",
                self.read
            ));
            return Ok(0);
        }
        let room = usize::try_from(self.limit - self.read).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded_read(data: &[u8], limit: u64, compressed: u64) -> (u64, Option<String>) {
        let counter = AtomicU64::new(compressed);
        let mut b = Bounded {
            inner: data,
            read: 0,
            limit,
            compressed: &counter,
            cut: None,
        };
        let mut out = Vec::new();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(out.len() as u64, b.read);
        (b.read, b.cut)
    }

    #[test]
    fn output_past_the_limit_is_cut_and_said() {
        let (read, cut) = bounded_read(&[b'x'; 1000], 300, 1000);
        assert_eq!(read, 300);
        assert!(cut.unwrap().contains("logs.max_decompressed"));
        let (read, cut) = bounded_read(&[b'x'; 1000], 1000, 1000);
        assert_eq!(read, 1000);
        // Exactly the limit and then the end: nothing was left out.
        assert_eq!(cut, None);
        let (read, cut) = bounded_read(&[b'x'; 10], 1000, 10);
        assert_eq!((read, cut), (10, None));
    }

    #[test]
    fn a_ratio_past_any_log_is_cut() {
        let data = vec![b'x'; (RATIO_AFTER + (1 << 20)) as usize];
        let (read, cut) = bounded_read(&data, u64::MAX, 1000);
        assert!(read >= RATIO_AFTER && read < data.len() as u64);
        assert!(cut.unwrap().contains("gzip bomb"));
    }
}
