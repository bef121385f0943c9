//! Why a probe could not read its source. The I/O error is kept whole, so
//! advice follows the cause: access is said to be missing only when the
//! kernel said so (`PermissionDenied`), and a file that is not there is "not
//! found". The messages are the ones `Unavailable` reasons have always shown.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// Why a probe could not read its source; [`ProbeError::cause`] says what
/// advice fits.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Opening, listing or reading a file failed. `context` leads the message
    /// ("/proc/meminfo", "cannot open"); without it the error speaks alone,
    /// where the source's name already says which file it is.
    #[error("{}{source}", context_prefix(.context))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What leads the message; `None`: the error alone.
        context: Option<String>,
        /// The error the kernel gave.
        #[source]
        source: io::Error,
    },
    /// A command could not be started: not installed, or not executable.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command, as configured (`journalctl`, a path).
        command: String,
        /// Why it could not start.
        #[source]
        source: io::Error,
    },
    /// The command started, but waiting for it to exit failed.
    #[error("{command}: cannot wait: {source}")]
    Wait {
        /// The command, as configured.
        command: String,
        /// Why the wait failed.
        #[source]
        source: io::Error,
    },
    /// The command ran and failed; `said` is the first line it wrote to
    /// stderr, `stderr` all it wrote (up to 64 KiB).
    #[error("{command} {first_arg} failed ({status}): {said}")]
    Exit {
        /// The command, as configured.
        command: String,
        /// Its first argument (`show`, `-u`), to say which call failed.
        first_arg: String,
        /// How it exited.
        status: ExitStatus,
        /// The first line of its stderr, trimmed; empty if it wrote none.
        said: String,
        /// Its whole stderr, up to 64 KiB.
        stderr: String,
    },
    /// The source was read but does not hold what was asked of it.
    #[error("{0}")]
    Malformed(String),
    /// systemd knows no such unit.
    #[error("{0}: no such unit")]
    NoSuchUnit(String),
    /// Neither cgroup v2 nor v1 has memory files for the path.
    #[error("no memory files for cgroup {cgroup} under {} (v2: {}, v1: {})", .base.display(), .v2.display(), .v1.display())]
    NoCgroupMemory {
        /// The cgroup path asked for (`/system.slice/bot.service`).
        cgroup: String,
        /// The cgroup file system under the configured `/sys` root.
        base: PathBuf,
        /// Where the v2 files were looked for.
        v2: PathBuf,
        /// Where the v1 memory controller's files were looked for.
        v1: PathBuf,
    },
}

fn context_prefix(context: &Option<String>) -> String {
    context
        .as_deref()
        .map(|c| format!("{c}: "))
        .unwrap_or_default()
}

/// What stopped a read, as far as advice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The kernel refused access: group membership or a capability would help.
    AccessDenied,
    /// The file (or the command) is not there.
    NotFound,
    /// Anything else: the message says what.
    Other,
}

impl ProbeError {
    /// `path` could not be read: "PATH: error".
    pub fn read(path: &Path, source: io::Error) -> Self {
        ProbeError::Io {
            path: path.to_path_buf(),
            context: Some(path.display().to_string()),
            source,
        }
    }

    /// `path` could not be read, said without it: "error" (the source's
    /// name, shown beside the reason, is the path).
    pub fn bare(path: &Path, source: io::Error) -> Self {
        ProbeError::Io {
            path: path.to_path_buf(),
            context: None,
            source,
        }
    }

    /// `path` could not be read; `context` says what was being done: "CONTEXT: error".
    pub fn doing(context: impl Into<String>, path: &Path, source: io::Error) -> Self {
        ProbeError::Io {
            path: path.to_path_buf(),
            context: Some(context.into()),
            source,
        }
    }

    /// The kind of the I/O error behind this one, if an I/O error is behind it.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            ProbeError::Io { source, .. }
            | ProbeError::Spawn { source, .. }
            | ProbeError::Wait { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// What stopped the read, as far as advice goes: access, a missing file, or other.
    pub fn cause(&self) -> Cause {
        cause_of(self.io_kind())
    }

    /// The file or command the error is about, when there is one.
    pub fn subject(&self) -> Option<String> {
        match self {
            ProbeError::Io { path, .. } => Some(path.display().to_string()),
            ProbeError::Spawn { command, .. } | ProbeError::Wait { command, .. } => {
                Some(command.clone())
            }
            _ => None,
        }
    }
}

/// The advice-worthy cause of an I/O error of `kind`.
fn cause_of(kind: Option<io::ErrorKind>) -> Cause {
    match kind {
        Some(io::ErrorKind::PermissionDenied) => Cause::AccessDenied,
        Some(io::ErrorKind::NotFound) => Cause::NotFound,
        _ => Cause::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    #[test]
    fn the_cause_follows_the_kernels_answer() {
        let path = Path::new("/var/log/kern.log");
        // EACCES and EPERM are both "permission denied".
        for code in [13, 1] {
            assert_eq!(
                ProbeError::bare(path, os(code)).cause(),
                Cause::AccessDenied
            );
        }
        assert_eq!(ProbeError::bare(path, os(2)).cause(), Cause::NotFound);
        assert_eq!(ProbeError::bare(path, os(5)).cause(), Cause::Other, "EIO");
        let spawn = ProbeError::Spawn {
            command: "journalctl".into(),
            source: os(2),
        };
        assert_eq!(spawn.cause(), Cause::NotFound);
        assert_eq!(ProbeError::Malformed("x".into()).cause(), Cause::Other);
    }

    #[test]
    fn messages_read_as_before() {
        let path = Path::new("/proc/meminfo");
        assert_eq!(
            ProbeError::read(path, os(2)).to_string(),
            "/proc/meminfo: No such file or directory (os error 2)"
        );
        assert_eq!(
            ProbeError::bare(path, os(13)).to_string(),
            "Permission denied (os error 13)"
        );
        assert_eq!(
            ProbeError::doing("cannot open", Path::new("/dev/kmsg"), os(1)).to_string(),
            "cannot open: Operation not permitted (os error 1)"
        );
        let spawn = ProbeError::Spawn {
            command: "/nonexistent/journalctl".into(),
            source: os(2),
        };
        assert_eq!(
            spawn.to_string(),
            "cannot run /nonexistent/journalctl: No such file or directory (os error 2)"
        );
    }
}
