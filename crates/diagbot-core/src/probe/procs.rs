//! Processes under a `/proc` root: finding them by name, command line or
//! pidfile, and reading their RSS, start time and cgroup.

use std::path::Path;

use grep_matcher::Matcher;
use grep_regex::RegexMatcher;

use super::ProbeError;
use crate::config::ProcessMatch;

/// The most bytes of a pidfile read: a PID and a newline need a dozen.
const PIDFILE_BYTES: u64 = 64;

/// The PID in `path`. The service writes its pidfile, so it is opened as a
/// log is (no symlink followed, never waiting on a FIFO, regular files only),
/// at most [`PIDFILE_BYTES`] are read, and what it holds is never quoted
/// back: a pidfile made a symlink to a secret must not show the secret.
fn read_pidfile(path: &Path) -> Result<u32, ProbeError> {
    use std::io::Read;
    let cannot =
        |why: &str| ProbeError::Malformed(format!("cannot read pidfile {}: {why}", path.display()));
    let context = || format!("cannot read pidfile {}", path.display());
    let opened = match crate::logs::open::open_path(path, None) {
        Ok(crate::logs::open::Opened::File(f)) => f,
        Ok(crate::logs::open::Opened::Dir(..)) => return Err(cannot("a directory")),
        Err(e) => {
            return Err(ProbeError::doing(
                context(),
                path,
                std::io::Error::other(e.reason),
            ))
        }
    };
    let mut text = String::new();
    (&opened.file)
        .take(PIDFILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| ProbeError::doing(context(), path, e))?;
    text.trim().parse().map_err(|_| {
        ProbeError::Malformed(format!(
            "pidfile {} does not hold a PID (its content is not shown)",
            path.display()
        ))
    })
}

/// The PIDs under `proc_root` that `matcher` selects, lowest first; an error
/// says why none could be looked for.
pub fn find(proc_root: &Path, matcher: &ProcessMatch) -> Result<Vec<u32>, ProbeError> {
    match matcher {
        ProcessMatch::Pidfile(path) => {
            let pid = read_pidfile(path)?;
            // A stale pidfile names a process that is gone.
            Ok(if proc_root.join(pid.to_string()).is_dir() {
                vec![pid]
            } else {
                Vec::new()
            })
        }
        ProcessMatch::Pattern { name, cmdline } => {
            let regex = cmdline
                .as_deref()
                .map(RegexMatcher::new)
                .transpose()
                .map_err(|e| ProbeError::Malformed(format!("process.cmdline: {e}")))?;
            let entries = std::fs::read_dir(proc_root).map_err(|e| {
                ProbeError::doing(format!("cannot list {}", proc_root.display()), proc_root, e)
            })?;
            let own = std::process::id();
            let mut pids: Vec<u32> = entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&pid| pid != own)
                .filter(|&pid| matches(proc_root, pid, name.as_deref(), regex.as_ref()))
                .collect();
            pids.sort_unstable();
            Ok(pids)
        }
    }
}

fn matches(proc_root: &Path, pid: u32, name: Option<&str>, cmdline: Option<&RegexMatcher>) -> bool {
    let dir = proc_root.join(pid.to_string());
    // Kernel threads and processes gone meanwhile have no command line.
    let Ok(raw) = std::fs::read(dir.join("cmdline")) else {
        return false;
    };
    if raw.is_empty() {
        return false;
    }
    let args: Vec<&[u8]> = raw.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
    if let Some(name) = name {
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        // comm is cut to 15 bytes; argv[0]'s file name is not.
        let argv0 = args
            .first()
            .map(|a| a.rsplit(|&b| b == b'/').next().unwrap_or(a))
            .unwrap_or_default();
        if comm.trim_end() != name && argv0 != name.as_bytes() {
            return false;
        }
    }
    if let Some(regex) = cmdline {
        let joined = args.join(&b' ');
        if !regex.is_match(&joined).unwrap_or(false) {
            return false;
        }
    }
    true
}

/// A process's resident memory (`VmRSS` in its status), in bytes.
pub fn rss_bytes(proc_root: &Path, pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(proc_root.join(pid.to_string()).join("status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// How long ago a process started, in seconds, from its start time in clock
/// ticks after boot and the host's uptime; to the hundredth of a second that
/// both are given in (the difference of two floats showed `3599.9999999995`).
pub fn running_secs(proc_root: &Path, pid: u32, uptime_secs: f64) -> Option<f64> {
    let start_ticks = start_ticks(proc_root, pid)? as f64;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let secs = (uptime_secs - start_ticks / ticks).max(0.0);
    Some((secs * 100.0).round() / 100.0)
}

/// When a process started, in clock ticks after boot (field 22 of its `stat`).
pub fn start_ticks(proc_root: &Path, pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    // The name in parentheses may hold spaces; fields count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 22 (starttime) is the 20th after the name.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// A process's parent (field 4 of its `stat`).
pub fn parent(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 4 (ppid) is the 2nd after the name.
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// A process match's `pids` split into what it counts and what it does
/// not: the oldest match (the service's first process) and the matches
/// that descend from it, which are its workers; and the other matches (a
/// second copy, another user's program whose command line also matches).
/// A match whose ancestry cannot be read is counted.
pub fn oldest_tree(proc_root: &Path, pids: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let oldest = pids
        .iter()
        .min_by_key(|&&p| (start_ticks(proc_root, p).unwrap_or(u64::MAX), p));
    let Some(&root) = oldest else {
        return (Vec::new(), Vec::new());
    };
    pids.iter()
        .partition(|&&p| descends_from(proc_root, p, root).unwrap_or(true))
}

/// Whether `pid` is `root` or below it; `None` when its ancestry breaks off.
fn descends_from(proc_root: &Path, pid: u32, root: u32) -> Option<bool> {
    let mut at = pid;
    // Deep enough for any real tree; a loop in a fixture ends too.
    for _ in 0..64 {
        if at == root {
            return Some(true);
        }
        match parent(proc_root, at)? {
            0 | 1 => return Some(false),
            up => at = up,
        }
    }
    Some(false)
}

/// The process's cgroup paths: (cgroup v2 path, cgroup v1 memory controller path).
pub fn cgroups(proc_root: &Path, pid: u32) -> (Option<String>, Option<String>) {
    let text =
        std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup")).unwrap_or_default();
    let mut v2 = None;
    let mut v1_memory = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            v1_memory = Some(path.to_string());
        }
    }
    (v2, v1_memory)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process started 12.34 s after boot, read at an uptime of 3612.35 s,
    /// has run 3600.01 s, not a float's `3600.0099999999998`.
    #[test]
    fn running_time_is_given_to_the_hundredth() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("77")).unwrap();
        let ticks = rustix::param::clock_ticks_per_second();
        let start = 1234 * ticks / 100;
        let fields = std::iter::repeat_n("0", 17).collect::<Vec<_>>().join(" ");
        let stat = format!("77 (my bot) S 1 {fields} {start} 0 0\n");
        std::fs::write(dir.path().join("77/stat"), stat).unwrap();
        assert_eq!(start_ticks(dir.path(), 77), Some(start));
        let secs = running_secs(dir.path(), 77, 3612.35).unwrap();
        assert_eq!(secs.to_string(), "3600.01");
    }

    /// A service writes its pidfile: made a symlink to a secret it must not
    /// show the secret, and made a FIFO it must not hang the sampler.
    #[test]
    fn a_hostile_pidfile_neither_leaks_nor_hangs() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = dir.path().join("proc");
        std::fs::create_dir_all(proc_root.join("4242")).unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "root:s3cr3tMARK:20228\n").unwrap();
        let pidfile = dir.path().join("bot.pid");
        let find_with = |path: &Path| find(&proc_root, &ProcessMatch::Pidfile(path.to_path_buf()));

        std::fs::write(&pidfile, "4242\n").unwrap();
        assert_eq!(find_with(&pidfile).unwrap(), [4242]);

        std::fs::write(&pidfile, "root:s3cr3tMARK:20228\n").unwrap();
        let garbage = find_with(&pidfile).unwrap_err().to_string();
        assert!(!garbage.contains("s3cr3tMARK"), "{garbage}");

        std::fs::remove_file(&pidfile).unwrap();
        std::os::unix::fs::symlink(&secret, &pidfile).unwrap();
        let link = find_with(&pidfile).unwrap_err().to_string();
        assert!(!link.contains("s3cr3tMARK"), "{link}");
        assert!(link.contains("symbolic link"), "{link}");

        std::fs::remove_file(&pidfile).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&pidfile)
            .status()
            .unwrap();
        assert!(made.success());
        // Returns at once (a blocking open would never return: no writer).
        let fifo = find_with(&pidfile).unwrap_err().to_string();
        assert!(fifo.contains("FIFO"), "{fifo}");
    }
}
