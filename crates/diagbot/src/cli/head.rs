//! The first lines of a log file, plain or gzipped: what `formats test`
//! explains. As many as a search learns the file's format from (its first
//! 256 KiB), and at least as many as asked for; each line cut at the
//! engine's line limit, so a file without newlines cannot fill the memory.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;
use diagbot_core::logs::learn::HEAD_BYTES;
use diagbot_core::logs::open::{open_path, Opened};
use diagbot_core::logs::read::MAX_LINE;

/// A file's first lines (without their line ends) and when it was last written.
pub struct Head {
    pub lines: Vec<Vec<u8>>,
    pub modified: SystemTime,
}

/// Reads the head of the log file at `path`, with at least `wanted` lines
/// unless the file ends first.
pub fn read(path: &Path, wanted: usize) -> anyhow::Result<Head> {
    let cannot = || format!("cannot read {}", path.display());
    // Opened as a search opens it: no symlink followed, never waiting on a FIFO.
    let opened = match open_path(path, None) {
        Ok(Opened::File(f)) => f,
        Ok(Opened::Dir(..)) => {
            anyhow::bail!("{} is a directory: give one log file", path.display())
        }
        Err(e) => anyhow::bail!("{}: {}", cannot(), e.reason),
    };
    let file = opened.file;
    // A file that cannot say when it was written is taken as written now.
    let modified = opened.modified.unwrap_or_else(SystemTime::now);
    let compressed = path.extension().is_some_and(|e| e == "gz");
    let lines = if compressed {
        lines(flate2::read::MultiGzDecoder::new(file), wanted)
    } else {
        lines(file, wanted)
    }
    .with_context(cannot)?;
    Ok(Head { lines, modified })
}

fn lines(reader: impl Read, wanted: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut reader = BufReader::new(reader);
    let mut lines = Vec::new();
    let mut bytes = 0;
    while bytes < HEAD_BYTES || lines.len() < wanted {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        bytes += n;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else if n == MAX_LINE {
            // The rest of an overlong line is not read, as in a search.
            reader.skip_until(b'\n')?;
        }
        lines.push(line);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_ends_and_stop_past_the_head_and_the_count() {
        let text = "a\r\nb\nc";
        assert_eq!(
            lines(text.as_bytes(), 1).unwrap(),
            [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        let many = "x\n".repeat(HEAD_BYTES);
        assert_eq!(lines(many.as_bytes(), 3).unwrap().len(), HEAD_BYTES / 2);
        assert_eq!(
            lines(many.as_bytes(), HEAD_BYTES).unwrap().len(),
            HEAD_BYTES
        );
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_one_read() {
        let text = format!("{}\nnext\n", "y".repeat(MAX_LINE + 10));
        let read = lines(text.as_bytes(), 2).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].len(), MAX_LINE);
        assert_eq!(read[1], b"next");
    }
}
