//! How diagbot reads a file, line by line: the format it learns, and for each
//! line the time, the level, and why nothing was found where that happens.
//! Pure (no I/O), for a command that tests formats on a sample of a file.

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::logs::format::{FileFormat, TimeReader};
use crate::logs::learn::learn_from_lines;
use crate::logs::level::Level;
use crate::logs::timestamp::search::WINDOW;
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::{CompiledUserFormat, UserFormat, UserFormatError};

/// How a file's lines are read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileExplanation {
    /// The format learned from the first lines (`None`: they showed no timestamp).
    pub format: Option<String>,
    /// Lines of the sample that showed a timestamp (the first 200 at most).
    pub sampled_lines: u32,
    /// The header learned from them: how many fields after the time, and
    /// whether `|` parts them (`None`: none learned; the per-line rules read).
    pub header: Option<crate::logs::header::HeaderShape>,
    /// User formats not tried because their glob does not match the path.
    pub formats_not_applying: Vec<String>,
    /// The first lines, one by one.
    pub lines: Vec<LineExplanation>,
}

/// How one line is read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineExplanation {
    /// From 1.
    pub line_number: u64,
    /// What read the timestamp: the file's format (its name), or `"search"`
    /// when the format did not match and another form was found.
    pub matched_by: Option<String>,
    /// The line's time, read or taken from the line above.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// The text read as the timestamp.
    pub time_text: Option<String>,
    /// A line without a timestamp takes the time of this line above it.
    pub inherits_from: Option<u64>,
    /// The line's level.
    pub level: Option<Level>,
    /// Where the message starts, in bytes: after the learned header (or, in
    /// a file too short to learn one, where the per-line rules put it).
    pub message_start: usize,
    /// The header fields between the time and the message, by kind (none
    /// when no header was learned).
    pub header: Vec<HeaderField>,
    /// A user format's `message` group.
    pub message: Option<String>,
    /// Why no timestamp was found.
    pub problem: Option<String>,
}

/// One header field of a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeaderField {
    /// Its kind: `level`, `number`, `bracketed`, `separator`, `key=value`,
    /// `name:`, `name`, `word`.
    pub kind: &'static str,
    /// Its text.
    pub text: String,
}

/// Explains how the lines of the file at `path` (last modified at `modified`)
/// are read with the user `formats` (the same learning and reading as a search).
pub fn explain_lines(
    path: &Path,
    lines: &[impl AsRef<[u8]>],
    formats: &[UserFormat],
    modified: SystemTime,
) -> Result<FileExplanation, UserFormatError> {
    let compiled = formats
        .iter()
        .map(UserFormat::compile)
        .collect::<Result<Vec<_>, _>>()?;
    let hint = YearHint::from_system_time(modified);
    let learned = learn_from_lines(lines.iter().map(AsRef::as_ref), &compiled, path, hint);
    let format_name = learned.format.name();
    let reader = TimeReader::new(&learned.format, &compiled, hint);
    let mut last_timed = None;
    let explained = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line = line.as_ref();
            let line_number = i as u64 + 1;
            let head = reader.read(line);
            let time = head.time;
            let message = match &learned.format {
                FileFormat::User(choice) => compiled
                    .get(choice.index)
                    .and_then(|f| f.read(line, choice.anchor, &hint))
                    .and_then(|r| r.message)
                    .map(|(s, e)| String::from_utf8_lossy(&line[s..e]).into_owned()),
                _ => None,
            };
            let problem = time
                .is_none()
                .then(|| why_no_time(&learned.format, &compiled, line, &hint));
            let inherits_from = if time.is_some() {
                last_timed = Some(line_number);
                None
            } else {
                last_timed
            };
            let leveled = head.level(line).is_some();
            let message_start = crate::groups::message::message_span(line, &head, leveled).start;
            let header = match (head.header, head.time) {
                (Some(shape), Some(t)) => crate::logs::header::header_fields(line, t.end, shape)
                    .into_iter()
                    .map(|(kind, span)| HeaderField {
                        kind: kind.name(),
                        text: String::from_utf8_lossy(&line[span]).into_owned(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            LineExplanation {
                line_number,
                message_start,
                header,
                matched_by: time.map(|_| {
                    if head.by_format {
                        format_name.clone().unwrap_or_default()
                    } else {
                        "search".to_string()
                    }
                }),
                timestamp: time.and_then(|t| t.time.to_datetime()),
                time_text: time
                    .map(|t| String::from_utf8_lossy(&line[t.start..t.end]).into_owned()),
                inherits_from,
                level: head.level(line),
                message,
                problem,
            }
        })
        .collect();
    Ok(FileExplanation {
        format: format_name,
        sampled_lines: learned.sampled,
        header: match learned.format {
            FileFormat::Builtin(f) => f.header,
            _ => None,
        },
        formats_not_applying: compiled
            .iter()
            .filter(|f| !f.applies_to(path))
            .map(|f| f.name.clone())
            .collect(),
        lines: explained,
    })
}

fn why_no_time(
    format: &FileFormat,
    compiled: &[CompiledUserFormat],
    line: &[u8],
    hint: &YearHint,
) -> String {
    let nothing_else = format!("no other date and time starts in its first {WINDOW} bytes");
    match format {
        FileFormat::Unknown => {
            format!("no date and time starts in its first {WINDOW} bytes")
        }
        FileFormat::Builtin(f) => {
            format!(
                "the file's format ({}) does not match; {nothing_else}",
                f.name()
            )
        }
        FileFormat::User(choice) => match compiled.get(choice.index) {
            Some(f) => format!("{}; {nothing_else}", f.diagnose(line, hint)),
            None => nothing_else,
        },
    }
}
