//! Reading a service's log files and its unit's journal into [`Numbers`]:
//! every line since a time, its message (the learned header left out) and
//! its time, as the searches read them.

use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;

use super::Numbers;
use crate::groups::message::{message_span, record_message};
use crate::journal::{Journal, JournalError, Request};
use crate::logs::cancel::{Cancel, Cancellable};
use crate::logs::format::{FileFormat, TimeReader};
use crate::logs::learn::learn_file;
use crate::logs::lines::Splitter;
use crate::logs::read::{for_each_chunk, ReadAt};
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;
use crate::logs::walk::{walk, Visit};
use crate::query::Skipped;

/// What a scan read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanSummary {
    /// Files read.
    pub files: usize,
    /// Lines with a time within the span.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files not read, and why.
    pub skipped: Vec<Skipped>,
}

/// The most a `.gz` is decompressed to.
const MAX_DECOMPRESSED: u64 = 256 << 20;

/// Reads the lines of the files under `paths` written at `since_secs` or
/// later (seconds since the epoch) into `numbers`. Lines without a time of
/// their own (a traceback) are left out: a gauge is logged on a line of its own.
pub fn read_numbers(
    paths: &[PathBuf],
    since_secs: f64,
    formats: &[CompiledUserFormat],
    cancel: &Cancel,
    numbers: &mut Numbers,
) -> ScanSummary {
    let mut summary = ScanSummary::default();
    let walked = walk(paths, &[], Visit::OPEN_BY_PATH, cancel, |file, opened| {
        let Some(opened) = opened else { return };
        // A file last written before the span holds none of it.
        let modified = opened.modified.unwrap_or_else(std::time::SystemTime::now);
        let written = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if written < since_secs {
            return;
        }
        let hint = YearHint::from_system_time(modified);
        let (handle, size) = (opened.file, opened.size);
        let learned = learn_file(file, &handle, size, (formats, hint), true);
        let times = crate::logs::format::TimeReader::new(&learned.format, formats, hint);
        let source = file.path.file_name().map_or_else(
            || file.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut each = |line: &[u8], _: u64| {
            let head = times.read(line);
            let Some(at) = head.time.and_then(|t| t.time.to_datetime()) else {
                return;
            };
            let at = at.timestamp_micros() as f64 / 1e6;
            if at < since_secs {
                return;
            }
            summary.lines += 1;
            let leveled = head.level(line).is_some();
            numbers.add(at, &line[message_span(line, &head, leveled)], &source);
        };
        let mut splitter = Splitter::default();
        let reader = Cancellable::new(ReadAt::new(&handle, 0).take(size), cancel);
        let outcome = if file.compressed {
            let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(reader));
            for_each_chunk(decoder.take(MAX_DECOMPRESSED), |c| {
                splitter.feed(c, &mut each)
            })
        } else {
            for_each_chunk(reader, |c| splitter.feed(c, &mut each))
        };
        splitter.finish(&mut each);
        summary.files += 1;
        summary.bytes += splitter.bytes;
        if let Err(e) = outcome {
            summary.skipped.push(Skipped {
                path: file.path.display().to_string(),
                reason: format!("read failed: {e}; what was read counts"),
            });
        }
    });
    summary.skipped.extend(walked.skipped);
    summary
}

/// The most of a journal entry's MESSAGE read: a gauge is a short line.
pub(crate) const KEPT_MESSAGE: usize = 8 << 10;

/// A journal entry's message as a number is read from: its first line,
/// without a header of its own (a service that writes its own timestamp and
/// level to stdout) or a `LEVEL:name:` prefix.
pub(crate) fn entry_message<'m>(
    message: &'m [u8],
    formats: &[CompiledUserFormat],
    hint: YearHint,
) -> &'m [u8] {
    let first = record_message(message);
    let times = TimeReader::new(&FileFormat::Unknown, formats, hint);
    let head = times.read(first);
    if head.time.is_some() {
        &first[message_span(first, &head, head.level(first).is_some())]
    } else {
        first
    }
}

/// Reads the entries of `unit`'s journal written at `since_secs` or later
/// into `numbers`, as `journal`: each at the journal's time, its message
/// without a header of its own (a service that writes its own timestamp
/// and level to stdout) or a `LEVEL:name:` prefix. Returns the entries read.
pub fn read_journal_numbers(
    journal: &Journal,
    unit: &str,
    since_secs: f64,
    formats: &[CompiledUserFormat],
    cancel: &Cancel,
    numbers: &mut Numbers,
) -> Result<u64, JournalError> {
    let request = Request {
        units: vec![unit.to_string()],
        since_us: Some((since_secs * 1e6) as i64),
        ..Request::default()
    };
    let hint = YearHint::from_system_time(std::time::SystemTime::now());
    let source = journal.name();
    let summary = journal.read(&request, KEPT_MESSAGE, cancel, |entry| {
        let Some(at) = entry.time() else {
            return ControlFlow::Continue(());
        };
        let at = at.timestamp_micros() as f64 / 1e6;
        numbers.add(at, entry_message(&entry.message, formats, hint), &source);
        ControlFlow::Continue(())
    })?;
    Ok(summary.entries)
}
