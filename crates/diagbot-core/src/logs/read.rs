//! Reading a byte range in chunks.
//!
//! No memory maps: a log truncated in place (copytruncate) under a map is a
//! SIGBUS. Plain `read` costs a copy from the page cache; 64 KiB chunks stay
//! in the CPU cache between the copy and the search (measured faster here than
//! 256 KiB or 1 MiB chunks, and than reading ahead on a second thread: see
//! BENCHMARKS.md).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// Bytes per read.
pub const CHUNK: usize = 64 << 10;
/// Lines up to this long are searched whole; longer ones are cut.
pub const MAX_LINE: usize = 1 << 20;

/// Passes bytes through, counting them and reporting them to a progress callback.
pub struct Counted<'p, R> {
    inner: R,
    progress: &'p (dyn Fn(u64) + Sync),
}

impl<'p, R: Read> Counted<'p, R> {
    /// Wraps `inner`, telling `progress` of every read.
    pub fn new(inner: R, progress: &'p (dyn Fn(u64) + Sync)) -> Self {
        Counted { inner, progress }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// Reads a file from an offset with `pread`, leaving the file's own position alone.
pub struct ReadAt<'f> {
    file: &'f File,
    offset: u64,
}

impl<'f> ReadAt<'f> {
    /// Reads `file` from byte `offset` on.
    pub fn new(file: &'f File, offset: u64) -> Self {
        ReadAt { file, offset }
    }
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

thread_local! {
    /// One chunk buffer per scanning thread, kept between scans: allocating and
    /// freeing 64 KiB per file fragments a long-running daemon's heap.
    static CHUNK_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Calls `consume` with each chunk of `reader`, in order. A read error ends
/// the loop after the chunks read before it were consumed.
pub fn for_each_chunk<R: Read>(mut reader: R, mut consume: impl FnMut(&[u8])) -> io::Result<()> {
    let mut buf = CHUNK_BUFFER.take();
    buf.resize(CHUNK, 0);
    let outcome = loop {
        match fill(&mut reader, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => consume(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    CHUNK_BUFFER.set(buf);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_whole_and_in_order() {
        let input: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        let mut sizes = Vec::new();
        for_each_chunk(&input[..], |c| {
            sizes.push(c.len());
            out.extend_from_slice(c);
        })
        .unwrap();
        assert_eq!(out, input);
        assert_eq!(sizes, [CHUNK, CHUNK, CHUNK, 123]);
    }

    #[test]
    fn a_read_error_is_returned_after_the_chunks_before_it() {
        struct FailAfter(usize);
        impl Read for FailAfter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        let mut seen = 0;
        let err = for_each_chunk(FailAfter(CHUNK), |c| seen += c.len());
        assert_eq!(err.unwrap_err().to_string(), "disk on fire");
        assert_eq!(seen, CHUNK);
    }
}
