//! Where the kernel log is read from — the configured file, else
//! `/dev/kmsg`, else `journalctl -k` — and, when the kernel counted kills no
//! log names, what to tell the operator. Access advice ("needs group adm") is
//! given only for a source the kernel refused; a file that is not there is
//! "not found", and another failure is said in its own words.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, FixedOffset, Local, TimeZone};

use super::{parse_timed_line, KernelLogParser, OomKill};
use crate::config::Settings;
use crate::logs::timestamp::YearHint;
use crate::probe::{run_lines, Cause, ProbeError, Unavailable};

/// What reading the kernel log came to.
pub(super) struct KernelLog {
    pub kills: Vec<OomKill>,
    /// The source the kills were read from; none when every source failed.
    pub read_from: Option<String>,
    /// Why each source tried failed (or, for the journal, hid the kernel's lines).
    misses: Vec<Miss>,
}

/// A place the kernel log can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    File,
    Kmsg,
    Journal,
}

/// One source that gave no kernel log, and why.
#[derive(Debug)]
struct Miss {
    place: Place,
    /// The file, or "journalctl -k".
    name: String,
    cause: Cause,
    /// The cause in words: "/x/kern.log not found", or the error itself.
    text: String,
}

impl Miss {
    fn new(place: Place, name: &str, error: &ProbeError) -> Self {
        let cause = match (place, error) {
            // journalctl says itself when it may not read the system journal.
            (Place::Journal, ProbeError::Exit { stderr, .. }) if journal_hidden(stderr) => {
                Cause::AccessDenied
            }
            _ => error.cause(),
        };
        let text = match (cause, error.subject()) {
            (Cause::NotFound, Some(missing)) => format!("{missing} not found"),
            _ if place == Place::Journal => error.to_string(),
            _ => format!("{name}: {error}"),
        };
        Miss {
            place,
            name: name.to_string(),
            cause,
            text,
        }
    }

    /// What would let diagbot read this source.
    fn access(&self) -> String {
        match self.place {
            Place::File => format!("group adm (for {})", self.name),
            Place::Kmsg => format!("CAP_SYSLOG (for {})", self.name),
            Place::Journal => "group systemd-journal (for journalctl -k)".to_string(),
        }
    }
}

/// journalctl run by a user outside `systemd-journal` (and `adm`) reads only
/// that user's journal, which holds no kernel lines, and says so on stderr:
/// "Hint: You are currently not seeing messages from other users and the
/// system", or "No journal files were opened due to insufficient permissions".
fn journal_hidden(stderr: &str) -> bool {
    stderr.contains("not seeing") || stderr.contains("insufficient permissions")
}

/// Kills from the first kernel log source that can be read: the configured
/// file, `/dev/kmsg`, `journalctl -k`. Each failure is also `unavailable`.
pub(super) fn read(settings: &Settings, unavailable: &mut Vec<Unavailable>) -> KernelLog {
    let mut misses = Vec::new();
    let mut fail = |place: Place, name: String, e: ProbeError| {
        misses.push(Miss::new(place, &name, &e));
        unavailable.push(Unavailable::new(name, e));
    };
    if let Some(path) = &settings.kernel_log {
        match read_file(path) {
            Ok(kills) => return KernelLog::read(kills, path, misses),
            Err(e) => fail(Place::File, path.display().to_string(), e),
        }
    }
    if let Some(kmsg) = &settings.kmsg {
        match boot_time(&settings.proc_root).and_then(|boot| read_kmsg(kmsg, boot)) {
            Ok(kills) => return KernelLog::read(kills, kmsg, misses),
            Err(e) => fail(Place::Kmsg, kmsg.display().to_string(), e),
        }
    }
    let hint = YearHint::from_system_time(std::time::SystemTime::now());
    let mut parser = KernelLogParser::new("kernel log (journalctl -k)");
    match run_lines(
        &settings.journalctl,
        &["-k", "--no-pager", "-o", "short-iso"],
        |line| parse_timed_line(&mut parser, line, &hint),
    ) {
        // journalctl exits 0 when it has no journal at all: nothing was read.
        Ok(stderr) if stderr.contains("No journal files were found") => {
            fail(
                Place::Journal,
                "journalctl -k".into(),
                ProbeError::Malformed(stderr.lines().next().unwrap_or("").trim().to_string()),
            );
            KernelLog {
                kills: Vec::new(),
                read_from: None,
                misses,
            }
        }
        Ok(stderr) => {
            if journal_hidden(&stderr) {
                misses.push(Miss {
                    place: Place::Journal,
                    name: "journalctl -k".into(),
                    cause: Cause::AccessDenied,
                    text: stderr.lines().next().unwrap_or("").trim().to_string(),
                });
            }
            KernelLog {
                kills: parser.finish(),
                read_from: Some("journalctl -k".into()),
                misses,
            }
        }
        Err(e) => {
            fail(Place::Journal, "journalctl -k".into(), e);
            KernelLog {
                kills: Vec::new(),
                read_from: None,
                misses,
            }
        }
    }
}

impl KernelLog {
    fn read(kills: Vec<OomKill>, from: &Path, misses: Vec<Miss>) -> Self {
        KernelLog {
            kills,
            read_from: Some(from.display().to_string()),
            misses,
        }
    }

    /// What to say of `unnamed` kills the kernel counted but no log read names.
    pub fn note(&self, unnamed: u64) -> String {
        let head = format!(
            "the kernel counted {unnamed} OOM kill(s) since boot whose victim diagbot cannot name"
        );
        let denied: Vec<String> = self
            .misses
            .iter()
            .filter(|m| m.cause == Cause::AccessDenied)
            .map(Miss::access)
            .collect();
        if !denied.is_empty() {
            return format!("{head}: reading the kernel log needs {}", or_list(&denied));
        }
        if let Some(from) = &self.read_from {
            return format!(
                "{head}: the kernel log read ({from}) no longer holds them \
                 (rotated away, or overwritten in the kernel's ring buffer)"
            );
        }
        let why: Vec<&str> = self.misses.iter().map(|m| m.text.as_str()).collect();
        format!(
            "{head}: no kernel log could be read ({}); diagbot reads it from system.kernel_log \
             (a file such as /var/log/kern.log), system.kmsg (/dev/kmsg, with CAP_SYSLOG) \
             or journalctl -k (in group systemd-journal)",
            why.join("; ")
        )
    }
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A kernel log file such as kern.log, read line by line (it may be large).
/// It lies in a log directory others write to: opened as every log is (no
/// symlink followed, no FIFO waited on, a regular file only).
fn read_file(path: &Path) -> Result<Vec<OomKill>, ProbeError> {
    use rustix::fs::OFlags;
    use std::io::BufRead;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| ProbeError::bare(path, e))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        let e = std::io::Error::other("not a regular file: not read");
        return Err(ProbeError::bare(path, e));
    }
    let modified = file.metadata().and_then(|m| m.modified());
    let hint =
        YearHint::from_system_time(modified.unwrap_or_else(|_| std::time::SystemTime::now()));
    let mut parser = KernelLogParser::new("kernel log");
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => parse_timed_line(&mut parser, &String::from_utf8_lossy(&line), &hint),
            Err(e) => return Err(ProbeError::bare(path, e)),
        }
    }
    Ok(parser.finish())
}

/// One `/dev/kmsg` record, `6,1234,5000000,-;message` (priority, sequence,
/// microseconds since boot, flags), as (time, message). Continuation lines
/// (` KEY=value`) are not records.
pub fn parse_kmsg_record(
    record: &str,
    boot_epoch_secs: i64,
) -> Option<(DateTime<FixedOffset>, &str)> {
    let (head, message) = record.split_once(';')?;
    let usec: i64 = head.split(',').nth(2)?.parse().ok()?;
    let time = Local
        .timestamp_micros(boot_epoch_secs * 1_000_000 + usec)
        .single()?
        .fixed_offset();
    Some((time, message))
}

/// The kills in the kernel's log device. Each `read` returns one record; the
/// device is opened non-blocking, so reading stops at the newest record.
fn read_kmsg(path: &Path, boot_epoch_secs: i64) -> Result<Vec<OomKill>, ProbeError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| ProbeError::doing("cannot open", path, e))?;
    let mut parser = KernelLogParser::new("kernel log (kmsg)");
    // A record is at most 8 KiB (less the header); a regular file (a fixture) gives many at once.
    let mut buf = vec![0u8; 16 * 1024];
    let mut partial = String::new();
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                partial.push_str(&String::from_utf8_lossy(&buf[..n]));
                while let Some(end) = partial.find('\n') {
                    let record: String = partial.drain(..=end).collect();
                    if let Some((time, message)) =
                        parse_kmsg_record(record.trim_end(), boot_epoch_secs)
                    {
                        parser.line(message, Some(time));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            // The record was overwritten while we read: go on with the next.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => continue,
            Err(e) => return Err(ProbeError::doing("cannot read", path, e)),
        }
    }
    Ok(parser.finish())
}

/// Boot time, seconds since the epoch (`btime` in `/proc/stat`).
fn boot_time(proc_root: &Path) -> Result<i64, ProbeError> {
    let path = proc_root.join("stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| ProbeError::bare(&path, e))?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ProbeError::Malformed("no btime line".into()))
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};
    use std::path::Path;

    use super::*;

    const KERN_LOG: &str = "/var/log/kern.log";

    fn file_error(kind: ErrorKind) -> ProbeError {
        ProbeError::bare(Path::new(KERN_LOG), Error::from(kind))
    }

    fn failed(misses: Vec<Miss>) -> KernelLog {
        KernelLog {
            kills: Vec::new(),
            read_from: None,
            misses,
        }
    }

    fn journal_failed(stderr: &str) -> Miss {
        let status = std::process::Command::new("false")
            .status()
            .expect("false runs");
        let error = ProbeError::Exit {
            command: "journalctl".into(),
            first_arg: "-k".into(),
            status,
            said: stderr.lines().next().unwrap_or("").into(),
            stderr: stderr.into(),
        };
        Miss::new(Place::Journal, "journalctl -k", &error)
    }

    /// The regression: a kernel log that is not there was told "needs group adm".
    #[test]
    fn a_missing_file_is_not_found_not_a_matter_of_access() {
        let note = failed(vec![
            Miss::new(Place::File, KERN_LOG, &file_error(ErrorKind::NotFound)),
            journal_failed("No journal files were found."),
        ])
        .note(1);
        assert!(
            note.starts_with(
                "the kernel counted 1 OOM kill(s) since boot whose victim diagbot cannot name: \
                 no kernel log could be read (/var/log/kern.log not found; \
                 journalctl -k failed"
            ),
            "{note}"
        );
        assert!(note.contains("No journal files were found."), "{note}");
        assert!(!note.contains("adm"), "{note}");
    }

    #[test]
    fn an_unreadable_file_needs_group_adm() {
        let note = failed(vec![
            Miss::new(
                Place::File,
                KERN_LOG,
                &file_error(ErrorKind::PermissionDenied),
            ),
            journal_failed("No journal files were found."),
        ])
        .note(2);
        assert_eq!(
            note,
            "the kernel counted 2 OOM kill(s) since boot whose victim diagbot cannot name: \
             reading the kernel log needs group adm (for /var/log/kern.log)"
        );
    }

    /// Each source's own access, said only for the sources that were refused.
    #[test]
    fn every_refused_source_says_its_access() {
        let kmsg = ProbeError::doing(
            "cannot open",
            Path::new("/dev/kmsg"),
            Error::from_raw_os_error(1),
        );
        let note = failed(vec![
            Miss::new(
                Place::File,
                KERN_LOG,
                &file_error(ErrorKind::PermissionDenied),
            ),
            Miss::new(Place::Kmsg, "/dev/kmsg", &kmsg),
            journal_failed("Hint: You are currently not seeing messages from other users and the system.\nNo journal files were opened due to insufficient permissions."),
        ])
        .note(1);
        assert!(
            note.ends_with(
                "reading the kernel log needs group adm (for /var/log/kern.log), \
                 CAP_SYSLOG (for /dev/kmsg) or group systemd-journal (for journalctl -k)"
            ),
            "{note}"
        );
        let kmsg_only = failed(vec![Miss::new(Place::Kmsg, "/dev/kmsg", &kmsg)]).note(1);
        assert!(
            kmsg_only.ends_with("needs CAP_SYSLOG (for /dev/kmsg)"),
            "{kmsg_only}"
        );
    }

    #[test]
    fn a_missing_journalctl_is_not_found() {
        let spawn = ProbeError::Spawn {
            command: "/nonexistent/journalctl".into(),
            source: Error::from(ErrorKind::NotFound),
        };
        let note = failed(vec![Miss::new(Place::Journal, "journalctl -k", &spawn)]).note(2);
        assert!(
            note.contains("(/nonexistent/journalctl not found)"),
            "{note}"
        );
        assert!(!note.contains("needs"), "{note}");
    }

    #[test]
    fn a_log_that_was_read_but_names_none_says_so() {
        let log = KernelLog {
            kills: Vec::new(),
            read_from: Some(KERN_LOG.into()),
            misses: Vec::new(),
        };
        let note = log.note(1);
        assert!(
            note.ends_with(": the kernel log read (/var/log/kern.log) no longer holds them (rotated away, or overwritten in the kernel's ring buffer)"),
            "{note}"
        );
    }

    #[test]
    fn a_read_error_other_than_access_is_said_in_its_own_words() {
        let note = failed(vec![Miss::new(
            Place::File,
            KERN_LOG,
            &ProbeError::bare(Path::new(KERN_LOG), Error::from_raw_os_error(5)),
        )])
        .note(1);
        assert!(
            note.contains("(/var/log/kern.log: Input/output error (os error 5))"),
            "{note}"
        );
    }
}
