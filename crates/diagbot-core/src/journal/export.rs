//! The journal export format (`journalctl -o export`), read entry by entry.
//!
//! An entry is a run of fields ended by an empty line. A field is
//! `NAME=value\n` when its value is text without a newline, else `NAME\n`,
//! the value's length as a little-endian u64, the bytes, and `\n`. Only the
//! fields diagbot uses are kept, and a value is kept up to `max_value`
//! bytes: the rest is skipped unread into memory, so a huge MESSAGE costs
//! no more than a long line does.

use std::io::{self, BufRead, Read};

/// One journal entry, as far as diagbot reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// `__CURSOR`: where a later read resumes.
    pub cursor: String,
    /// `__REALTIME_TIMESTAMP`: when the journal received it, in µs since the epoch.
    pub realtime_us: Option<i64>,
    /// `_SOURCE_REALTIME_TIMESTAMP`: when its sender says it was written.
    pub source_realtime_us: Option<i64>,
    /// `_SYSTEMD_UNIT`.
    pub unit: Option<String>,
    /// `PRIORITY`, 0 (emerg) to 7 (debug).
    pub priority: Option<u8>,
    /// `_TRANSPORT=stdout`: a line a service wrote to its stdout or stderr,
    /// whose `PRIORITY` journald gave it (`SyslogLevel=`, info by default).
    pub from_stream: bool,
    /// `MESSAGE`'s bytes, at most `max_value` of them.
    pub message: Vec<u8>,
    /// `MESSAGE` was longer than `max_value` bytes and was cut.
    pub message_cut: bool,
}

/// Reads entries from `input`, keeping at most `max_value` bytes of a value.
pub struct ExportReader<R> {
    input: R,
    max_value: usize,
    field: Vec<u8>,
    /// Bytes read so far.
    pub bytes: u64,
}

impl<R: BufRead> ExportReader<R> {
    /// A reader of `input` that keeps at most `max_value` bytes of a value.
    pub fn new(input: R, max_value: usize) -> Self {
        ExportReader {
            input,
            max_value,
            field: Vec::new(),
            bytes: 0,
        }
    }

    /// The next entry, or `None` at the end of the input. An entry cut
    /// short by the end of the input is still returned (its fields as read).
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        let mut entry = Entry::default();
        let mut fields = 0;
        loop {
            self.field.clear();
            let bound = self.max_value as u64 + 256;
            let n = Read::take(self.input.by_ref(), bound).read_until(b'\n', &mut self.field)?;
            self.bytes += n as u64;
            if n == 0 {
                return Ok((fields > 0).then_some(entry));
            }
            let ended = self.field.last() == Some(&b'\n');
            if ended {
                self.field.pop();
            }
            if self.field.is_empty() {
                if fields == 0 {
                    continue;
                }
                return Ok(Some(entry));
            }
            fields += 1;
            match self.field.iter().position(|&b| b == b'=') {
                Some(eq) => {
                    if !ended {
                        // A text value past the bound: skip to its end.
                        self.skip_line()?;
                    }
                    let (name, value) = self.field.split_at(eq);
                    let name = name.to_vec();
                    keep(&mut entry, &name, &value[1..], !ended, self.max_value);
                }
                // The input ended inside a field's name.
                None if !ended => return Ok(Some(entry)),
                None => {
                    let name = std::mem::take(&mut self.field);
                    self.binary_value(&mut entry, &name)?;
                    self.field = name;
                }
            }
        }
    }

    fn skip_line(&mut self) -> io::Result<()> {
        self.bytes += self.input.skip_until(b'\n')? as u64;
        Ok(())
    }

    /// A value of `len` little-endian bytes, then `\n`: kept up to the bound.
    fn binary_value(&mut self, entry: &mut Entry, name: &[u8]) -> io::Result<()> {
        let mut len = [0u8; 8];
        self.input.read_exact(&mut len)?;
        let len = u64::from_le_bytes(len);
        let kept = len.min(self.max_value as u64) as usize;
        let mut value = vec![0; kept];
        self.input.read_exact(&mut value)?;
        let rest = len - kept as u64 + 1;
        let skipped = io::copy(&mut Read::take(self.input.by_ref(), rest), &mut io::sink())?;
        if skipped < rest {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.bytes += 8 + len + 1;
        keep(entry, name, &value, len > kept as u64, self.max_value);
        Ok(())
    }
}

/// One entry in export format, as `systemd-journal-remote` takes it: a value
/// with a newline or a byte below space is written in the binary form.
/// (Tests and benchmarks write journal files with it.)
pub fn export_entry(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        if value.iter().any(|&b| b < b' ' && b != b'\t') {
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        } else {
            out.push(b'=');
        }
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

/// Puts the field `name=value` into `entry` if diagbot uses it.
fn keep(entry: &mut Entry, name: &[u8], value: &[u8], cut: bool, max_value: usize) {
    let number = || std::str::from_utf8(value).ok()?.trim().parse::<i64>().ok();
    match name {
        b"MESSAGE" => {
            let kept = value.len().min(max_value);
            entry.message = value[..kept].to_vec();
            entry.message_cut = cut || kept < value.len();
        }
        b"__CURSOR" => entry.cursor = String::from_utf8_lossy(value).into_owned(),
        b"__REALTIME_TIMESTAMP" => entry.realtime_us = number(),
        b"_SOURCE_REALTIME_TIMESTAMP" => entry.source_realtime_us = number(),
        b"_SYSTEMD_UNIT" => entry.unit = Some(String::from_utf8_lossy(value).into_owned()),
        b"PRIORITY" => entry.priority = number().and_then(|p| u8::try_from(p).ok()),
        b"_TRANSPORT" => entry.from_stream = value == b"stdout",
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(name: &str, value: &[u8]) -> Vec<u8> {
        let mut field = format!("{name}\n").into_bytes();
        field.extend_from_slice(&(value.len() as u64).to_le_bytes());
        field.extend_from_slice(value);
        field.push(b'\n');
        field
    }

    fn read_all(input: &[u8], max_value: usize) -> Vec<Entry> {
        let mut reader = ExportReader::new(input, max_value);
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry().unwrap() {
            entries.push(entry);
        }
        assert_eq!(reader.bytes, input.len() as u64);
        entries
    }

    #[test]
    fn text_and_binary_fields_make_one_entry_each_up_to_the_empty_line() {
        let mut input = b"__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1767000000000000\n\
            _SYSTEMD_UNIT=bot.service\nPRIORITY=3\nMESSAGE=failed\n_HOSTNAME=h\n\n"
            .to_vec();
        input.extend_from_slice(b"__CURSOR=s=1;i=2\n_SOURCE_REALTIME_TIMESTAMP=1767000000500000\n");
        input.extend(binary("MESSAGE", b"Traceback:\n  bad \xff\nValueError: x"));
        input.extend_from_slice(b"\n");
        let entries = read_all(&input, 1000);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].cursor, "s=1;i=1");
        assert_eq!(entries[0].realtime_us, Some(1_767_000_000_000_000));
        assert_eq!(entries[0].unit.as_deref(), Some("bot.service"));
        assert_eq!(entries[0].priority, Some(3));
        assert_eq!(entries[0].message, b"failed");
        assert_eq!(entries[1].source_realtime_us, Some(1_767_000_000_500_000));
        assert_eq!(entries[1].priority, None);
        assert_eq!(entries[1].message, b"Traceback:\n  bad \xff\nValueError: x");
        assert!(!entries[1].message_cut);
    }

    #[test]
    fn what_export_entry_writes_reads_back() {
        let message: &[u8] = b"Traceback (most recent call last):\n  x\nValueError: \xff";
        let mut input = export_entry(&[
            ("__CURSOR", b"c1"),
            ("MESSAGE", message),
            ("PRIORITY", b"3"),
        ]);
        input.extend(export_entry(&[("__CURSOR", b"c2"), ("MESSAGE", b"plain")]));
        let entries = read_all(&input, 1000);
        assert_eq!(entries[0].message, message);
        assert_eq!(entries[0].priority, Some(3));
        assert_eq!(entries[1].message, b"plain");
    }

    #[test]
    fn a_huge_message_is_cut_at_the_bound_and_the_next_entry_still_read() {
        let huge = vec![b'x'; 200_000];
        let mut input = b"__CURSOR=a\n".to_vec();
        input.extend(binary("MESSAGE", &huge));
        input.extend_from_slice(b"\n__CURSOR=b\nMESSAGE=");
        input.extend_from_slice(&huge);
        input.extend_from_slice(b"\nPRIORITY=4\n\n__CURSOR=c\nMESSAGE=next\n\n");
        let entries = read_all(&input, 1000);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].message.len(), 1000);
        assert!(entries[0].message_cut);
        assert_eq!(entries[1].message.len(), 1000);
        assert!(entries[1].message_cut);
        assert_eq!(entries[1].priority, Some(4));
        assert_eq!(entries[2].message, b"next");
    }

    #[test]
    fn a_stream_cut_mid_entry_gives_what_was_read_and_a_cut_binary_value_fails() {
        let entries = read_all(b"__CURSOR=a\nMESSAGE=one\n\n__CURSOR=b\nMESS", 100);
        assert_eq!(entries.len(), 2);
        let mut cut = b"__CURSOR=a\n".to_vec();
        cut.extend(&binary("MESSAGE", b"0123456789")[..12]);
        let mut reader = ExportReader::new(&cut[..], 100);
        assert!(reader.next_entry().is_err());
    }
}
