//! Chunks of a file cut into whole lines, each with its byte offset: what
//! every question that looks at each line reads through (the level counts of
//! `errors`, error groups, the daemon's new-error watch). A grep reads through
//! ripgrep's searcher instead, which skips the lines that do not match.
//!
//! A line split across chunks is carried over; one longer than [`MAX_LINE`]
//! is passed in its first `MAX_LINE` bytes and counted as cut. Lines come
//! without their `\n` (or `\r\n`); the last one, unfinished, comes at
//! [`Splitter::finish`].

use super::read::MAX_LINE;

/// Cuts chunks into lines.
#[derive(Debug, Default)]
pub struct Splitter {
    carry: Vec<u8>,
    /// The carried line passed `MAX_LINE` bytes; the rest of it is dropped.
    cut: bool,
    /// The offset of the next byte fed.
    offset: u64,
    /// The offset of the carried line.
    carry_offset: u64,
    /// Bytes fed.
    pub bytes: u64,
    /// Lines longer than `MAX_LINE`, passed in part.
    pub long_lines_cut: u64,
}

impl Splitter {
    /// A splitter whose first byte is at `offset` in the file.
    pub fn at(offset: u64) -> Self {
        Splitter {
            offset,
            carry_offset: offset,
            ..Splitter::default()
        }
    }

    /// Hands `each` every line that `chunk` ends, with its offset.
    pub fn feed(&mut self, chunk: &[u8], each: &mut dyn FnMut(&[u8], u64)) {
        let chunk_offset = self.offset;
        self.offset += chunk.len() as u64;
        self.bytes += chunk.len() as u64;
        let mut rest = chunk;
        let mut rest_offset = chunk_offset;
        if !self.carry.is_empty() || self.cut {
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                self.carry_more(rest);
                return;
            };
            self.carry_more(&rest[..nl]);
            each(trim_cr(&self.carry), self.carry_offset);
            self.carry.clear();
            self.cut = false;
            rest = &rest[nl + 1..];
            rest_offset += nl as u64 + 1;
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', rest) {
            each(trim_cr(&rest[start..nl]), rest_offset + start as u64);
            start = nl + 1;
        }
        self.carry_offset = rest_offset + start as u64;
        self.carry_more(&rest[start..]);
    }

    fn carry_more(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.carry.len());
        if bytes.len() > room && !self.cut {
            self.cut = true;
            self.long_lines_cut += 1;
        }
        self.carry
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Hands `each` the unfinished last line, if any.
    pub fn finish(&mut self, each: &mut dyn FnMut(&[u8], u64)) {
        if !self.carry.is_empty() || self.cut {
            each(trim_cr(&self.carry), self.carry_offset);
            self.carry.clear();
            self.cut = false;
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_arrive_whole_with_their_offsets() {
        let mut s = Splitter::at(100);
        let mut got: Vec<(String, u64)> = Vec::new();
        let mut each = |l: &[u8], at: u64| got.push((String::from_utf8_lossy(l).into_owned(), at));
        s.feed(b"one\r\ntw", &mut each);
        s.feed(b"o\nthr", &mut each);
        s.feed(b"ee", &mut each);
        s.finish(&mut each);
        assert_eq!(
            got,
            [
                ("one".to_string(), 100),
                ("two".to_string(), 105),
                ("three".to_string(), 109)
            ]
        );
        assert_eq!(s.bytes, 14);
    }

    #[test]
    fn an_overlong_line_is_cut_and_counted_once() {
        let mut s = Splitter::default();
        let mut lens = Vec::new();
        let mut each = |l: &[u8], _: u64| lens.push(l.len());
        let long = vec![b'x'; MAX_LINE / 2 + 1];
        s.feed(&long, &mut each);
        s.feed(&long, &mut each);
        s.feed(&long, &mut each);
        s.feed(b"\nnext\n", &mut each);
        assert_eq!(lens, [MAX_LINE, 4]);
        assert_eq!(s.long_lines_cut, 1);
    }
}
