//! Opening is the check: a log file is opened first, then what was opened is
//! examined, never a path checked and then opened again by name.
//!
//! diagbot reads with more rights than whoever writes into a log directory.
//! Between a check of a name and an open of it, that writer can rename a
//! symlink to a secret, or a FIFO, onto the name. So every open here:
//! - does not follow a symlink in the last component (`O_NOFOLLOW`), and
//!   below a root, in none (each directory is opened relative to its parent's fd);
//! - does not wait for a FIFO's writer (`O_NONBLOCK`), and leaks no fd into
//!   children (`O_CLOEXEC`) nor takes a terminal (`O_NOCTTY`);
//! - is followed by `fstat` of the fd: only a regular file is read, and when
//!   the caller saw the name before (a directory listing), it must be the same
//!   file `(device, inode)`.
//!
//! `O_NONBLOCK` stays set: it changes nothing for a regular file.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path};
use std::time::SystemTime;

use rustix::fs::{FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

/// `(device, inode)`: a file's identity, which survives a rename.
pub type FileId = (u64, u64);

/// How every file and directory is opened (see the module docs).
const FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

/// Why a file was not opened or not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    /// What the user is told (the `skipped` reason).
    pub reason: String,
    /// A lack of resources (fds, memory) or an I/O error, not a property of
    /// the file: an answer missing this file is degraded, and is not cached.
    pub resource: bool,
}

impl OpenError {
    fn of(errno: Errno) -> Self {
        if errno == Errno::LOOP {
            return OpenError::skip("a symbolic link: not followed (name the file it points to)");
        }
        OpenError {
            reason: std::io::Error::from(errno).to_string(),
            resource: is_resource(errno),
        }
    }

    /// A reason that is the file's own (its type, a swap), not a lack of resources.
    pub fn skip(reason: &str) -> Self {
        OpenError {
            reason: reason.to_string(),
            resource: false,
        }
    }

    /// From an I/O error while reading.
    pub fn io(e: &std::io::Error) -> Self {
        OpenError {
            reason: e.to_string(),
            resource: resource_error(e),
        }
    }
}

/// EMFILE, ENFILE, ENOMEM, EIO: the machine's state, not the file's.
fn is_resource(errno: Errno) -> bool {
    [Errno::MFILE, Errno::NFILE, Errno::NOMEM, Errno::IO].contains(&errno)
}

/// Whether `e` is a resource error (see [`OpenError::resource`]).
pub fn resource_error(e: &std::io::Error) -> bool {
    Errno::from_io_error(e).is_some_and(is_resource)
}

/// A regular file, open, and what `fstat` said of it.
#[derive(Debug)]
pub struct OpenedFile {
    /// The open file; reads go through it only.
    pub file: File,
    /// Its identity.
    pub id: FileId,
    /// Its size when opened.
    pub size: u64,
    /// Its modification time when opened.
    pub modified: Option<SystemTime>,
}

/// What an open gave: a regular file or a directory (anything else is an error).
#[derive(Debug)]
pub enum Opened {
    /// A regular file.
    File(OpenedFile),
    /// A directory, to list and to open entries relative to.
    Dir(OwnedFd, FileId),
}

/// Opens `name` relative to `dir` (no symlink followed), and checks by
/// `fstat` that it is a regular file or a directory, and `expected` when given.
pub fn open_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    expected: Option<FileId>,
) -> Result<Opened, OpenError> {
    let fd = rustix::fs::openat(dir, name, FLAGS, Mode::empty()).map_err(OpenError::of)?;
    examine(fd, expected)
}

/// Opens a path given by the user or the configuration: the components
/// up to `anchor` (a configured path the requested one lies beneath) are the
/// administrator's and resolved by the kernel; below it, and for the last
/// component always, no symlink is followed.
pub fn open_path(path: &Path, anchor: Option<&Path>) -> Result<Opened, OpenError> {
    let rest = anchor.and_then(|a| path.strip_prefix(a).ok()).filter(|r| {
        !r.as_os_str().is_empty() && r.components().all(|c| matches!(c, Component::Normal(_)))
    });
    let (Some(anchor), Some(rest)) = (anchor, rest) else {
        let fd = rustix::fs::openat(CWD, path, FLAGS, Mode::empty()).map_err(OpenError::of)?;
        return examine(fd, None);
    };
    let mut current = match open_path(anchor, None)? {
        Opened::Dir(fd, _) => fd,
        Opened::File(_) => return Err(OpenError::skip("not a directory")),
    };
    let mut names = rest.components().peekable();
    while let Some(Component::Normal(name)) = names.next() {
        match open_at(current.as_fd(), name, None)? {
            Opened::Dir(fd, _) if names.peek().is_some() => current = fd,
            last if names.peek().is_none() => return Ok(last),
            Opened::File(_) | Opened::Dir(..) => return Err(OpenError::skip("not a directory")),
        }
    }
    Err(OpenError::skip("not a file or directory"))
}

/// `fstat` of what was opened decides what it is.
fn examine(fd: OwnedFd, expected: Option<FileId>) -> Result<Opened, OpenError> {
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| OpenError::io(&e))?;
    let id = (meta.dev(), meta.ino());
    if expected.is_some_and(|e| e != id) {
        return Err(OpenError::skip(
            "changed while opening (replaced between listing and opening): not read",
        ));
    }
    match FileType::from_raw_mode(meta.mode()) {
        FileType::RegularFile => Ok(Opened::File(OpenedFile {
            size: meta.len(),
            modified: meta.modified().ok(),
            id,
            file,
        })),
        FileType::Directory => Ok(Opened::Dir(file.into(), id)),
        other => Err(OpenError::skip(not_regular(other))),
    }
}

/// The reason a file of this type is not read.
pub fn not_regular(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "not a regular file (a FIFO): not read",
        FileType::Socket => "not a regular file (a socket): not read",
        FileType::CharacterDevice | FileType::BlockDevice => {
            "not a regular file (a device): not read"
        }
        FileType::Symlink => "a symbolic link: not followed (name the file it points to)",
        _ => "not a regular file or directory",
    }
}

#[cfg(test)]
mod tests;
