//! Readers that sit under the searcher: one counts raw bytes for progress,
//! the other counts lines and cuts overlong ones.
//!
//! The searcher keeps a whole line in memory to match it, so one 100 MB line
//! (a crash dump, a runaway JSON log) would cost 100 MB of heap. `LineCutter`
//! passes at most `MAX_LINE` bytes of any line and drops the rest up to the
//! newline, so the searcher's buffer stays small whatever the file holds.

use std::io::{self, Read};

/// The longest line the searcher sees; longer ones are cut.
pub const MAX_LINE: usize = 1 << 20;

/// Passes bytes through, counting them and reporting them to a progress callback.
pub struct Counted<'p, R> {
    inner: R,
    pub bytes: u64,
    progress: &'p (dyn Fn(u64) + Sync),
}

impl<'p, R: Read> Counted<'p, R> {
    pub fn new(inner: R, progress: &'p (dyn Fn(u64) + Sync)) -> Self {
        Counted {
            inner,
            bytes: 0,
            progress,
        }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// Cuts lines longer than `max_line` bytes and counts newlines and bytes read.
pub struct LineCutter<R> {
    inner: R,
    max_line: usize,
    /// Bytes of the current line seen so far (kept or dropped).
    run: usize,
    pub bytes_read: u64,
    pub newlines: u64,
    pub lines_cut: u64,
    count_lines: bool,
}

impl<R: Read> LineCutter<R> {
    pub fn new(inner: R, max_line: usize, count_lines: bool) -> Self {
        LineCutter {
            inner,
            max_line,
            run: 0,
            bytes_read: 0,
            newlines: 0,
            lines_cut: 0,
            count_lines,
        }
    }

    /// Drops, in place, the bytes of any line beyond `max_line`; returns the kept length.
    fn cut(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len();
        // Fast path: every line in this chunk, including the one carried in, fits.
        if let (Some(first), Some(last)) = (memchr::memchr(b'\n', buf), memchr::memrchr(b'\n', buf))
        {
            let tail = n - last - 1;
            if self.run + first <= self.max_line && n <= self.max_line && tail <= self.max_line {
                self.run = tail;
                return n;
            }
        } else if self.run + n <= self.max_line {
            self.run += n;
            return n;
        }
        let (mut read, mut write) = (0, 0);
        while read < n {
            let newline = memchr::memchr(b'\n', &buf[read..]).map(|i| read + i);
            let segment_end = newline.unwrap_or(n);
            let len = segment_end - read;
            let room = self.max_line.saturating_sub(self.run);
            let keep = len.min(room);
            if keep < len && self.run <= self.max_line && self.run + len > self.max_line {
                self.lines_cut += 1;
            }
            buf.copy_within(read..read + keep, write);
            write += keep;
            self.run += len;
            match newline {
                Some(i) => {
                    buf[write] = b'\n';
                    write += 1;
                    self.run = 0;
                    read = i + 1;
                }
                None => read = n,
            }
        }
        write
    }
}

impl<R: Read> Read for LineCutter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            self.bytes_read += n as u64;
            let kept = self.cut(&mut buf[..n]);
            if self.count_lines {
                self.newlines += memchr::memchr_iter(b'\n', &buf[..kept]).count() as u64;
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_all(input: &[u8], max_line: usize, chunk: usize) -> (Vec<u8>, u64, u64) {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = LineCutter::new(Chunks(input, chunk), max_line, true);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, r.newlines, r.lines_cut)
    }

    #[test]
    fn short_lines_pass_untouched() {
        let input = b"one\ntwo\nthree\n";
        for chunk in [1, 3, 64] {
            assert_eq!(cut_all(input, 10, chunk), (input.to_vec(), 3, 0));
        }
    }

    #[test]
    fn long_lines_are_cut_at_the_limit_and_counted() {
        let input = b"ab\n0123456789abcdef\ncd\nxyz";
        for chunk in [1, 2, 5, 7, 100] {
            let (out, newlines, cut) = cut_all(input, 4, chunk);
            assert_eq!(out, b"ab\n0123\ncd\nxyz", "chunk {chunk}");
            assert_eq!((newlines, cut), (3, 1));
        }
    }
}
