//! Which files a query reads: the named files, and every log file under the
//! named directories (recursively, in a fixed order), each opened as it is
//! reached (see [`open`](super::open): opening is the check).
//!
//! A directory is listed through its own fd, and its entries are examined
//! (`fstatat`, no symlink followed) and opened (`openat`) relative to it: a
//! directory renamed or swapped for a symlink mid-walk cannot lead the walk
//! elsewhere. A file opened is the one listed (same device and inode), else
//! it is skipped as changed. Only the fds of the directories being walked
//! are held (at most `MAX_DEPTH` + 1), and the one file being read.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType};

use super::cancel::Cancel;
use super::open::{not_regular, open_at, open_path, FileId, OpenError, Opened, OpenedFile};
use crate::query::Skipped;

/// A file to scan, as the walk found it.
#[derive(Debug, Clone)]
pub struct LogFile {
    /// Where it is.
    pub path: PathBuf,
    /// A gzip file (by its name).
    pub compressed: bool,
    /// Its size when listed.
    pub size: u64,
}

/// Names under a directory that are not text logs: login records, journald's binary files.
const BINARY_NAMES: [&str; 5] = ["wtmp", "btmp", "lastlog", "faillog", "utmp"];
const BINARY_EXTENSIONS: [&str; 3] = ["journal", "journal~", "db"];
/// Compressed rotations diagbot cannot open (only gzip is read).
const UNSUPPORTED_COMPRESSION: [&str; 4] = ["xz", "zst", "bz2", "lz4"];
/// Directories deeper than this below a named path are not walked: the walk
/// holds one fd per level.
pub const MAX_DEPTH: usize = 32;

/// How a walk went, besides the files it handed over.
#[derive(Debug, Default)]
pub struct WalkReport {
    /// What was left out, and why.
    pub skipped: Vec<Skipped>,
    /// Named paths that could be opened.
    pub roots_opened: usize,
    /// The first resource error met (EMFILE, ENFILE, ENOMEM, EIO): files may
    /// be missing for reasons that are not theirs.
    pub degraded: Option<String>,
}

impl WalkReport {
    /// Records a file or directory left out.
    pub fn skip(&mut self, path: &Path, e: &OpenError) {
        if e.resource && self.degraded.is_none() {
            self.degraded = Some(format!("{}: {}", path.display(), e.reason));
        }
        self.skipped.push(skip(path, &e.reason));
    }
}

/// The order a directory's entries are visited in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By name: paths come out in order.
    ByPath,
    /// The costliest files first (see `scan_cost`), for scan threads that
    /// take files as they come; the caller puts what it lists in path order.
    CostliestFirst,
}

/// How [`walk`] visits the files: whether it opens each, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// Open each file before `on_file` sees it; without, `on_file` gets `None`.
    pub open: bool,
    /// The order a directory's entries are visited in.
    pub order: Order,
}

impl Visit {
    /// Open each file, in path order (for answers that depend on the order).
    pub const OPEN_BY_PATH: Visit = Visit {
        open: true,
        order: Order::ByPath,
    };
    /// List the files without opening them (a progress bar's total).
    pub const LIST: Visit = Visit {
        open: false,
        order: Order::ByPath,
    };
}

/// Visits every file under `paths`, in `visit.order`, each once (by identity).
/// `anchors` are the configured paths a named path may lie beneath (see
/// [`open_path`]). With `visit.open`, each file is opened before `on_file` sees it;
/// without, `on_file` gets `None` (a listing, for a progress bar's total).
/// Stops early when `cancel` is set.
pub fn walk(
    paths: &[PathBuf],
    anchors: &[PathBuf],
    visit: Visit,
    cancel: &Cancel,
    mut on_file: impl FnMut(&LogFile, Option<OpenedFile>),
) -> WalkReport {
    let mut walker = Walker {
        report: WalkReport::default(),
        seen: std::collections::HashSet::new(),
        open: visit.open,
        order: visit.order,
        cancel,
        on_file: &mut on_file,
    };
    for path in paths {
        if cancel.is_cancelled() {
            break;
        }
        let anchor = anchors
            .iter()
            .filter(|a| path.starts_with(a))
            .max_by_key(|a| a.as_os_str().len());
        match open_path(path, anchor.map(PathBuf::as_path)) {
            Err(e) => walker.report.skip(path, &e),
            Ok(Opened::File(file)) => {
                walker.report.roots_opened += 1;
                // A file named itself and within a named directory is read once.
                if walker.seen.insert(file.id) {
                    let size = file.size;
                    walker.file(path.clone(), size, Some(file));
                }
            }
            Ok(Opened::Dir(fd, _)) => {
                walker.report.roots_opened += 1;
                walker.dir(path, fd, 0);
            }
        }
    }
    walker.report
}

/// Lists `paths` without opening the files.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<LogFile>, Vec<Skipped>) {
    let mut files = Vec::new();
    let report = walk(paths, &[], Visit::LIST, &Cancel::new(), |f, _| {
        files.push(f.clone())
    });
    (files, report.skipped)
}

struct Walker<'w> {
    report: WalkReport,
    /// Files handed over already: overlapping paths name some twice.
    seen: std::collections::HashSet<FileId>,
    open: bool,
    order: Order,
    cancel: &'w Cancel,
    on_file: &'w mut dyn FnMut(&LogFile, Option<OpenedFile>),
}

impl Walker<'_> {
    fn file(&mut self, path: PathBuf, size: u64, opened: Option<OpenedFile>) {
        let compressed = path.extension().is_some_and(|e| e == "gz");
        let file = LogFile {
            path,
            compressed,
            size,
        };
        (self.on_file)(&file, opened);
    }

    fn dir(&mut self, path: &Path, fd: OwnedFd, depth: usize) {
        let names = match list(fd.as_fd()) {
            Ok(names) => names,
            Err(e) => return self.report.skip(path, &e),
        };
        // Each entry is looked at (`statat`) once: here when the costliest
        // files go first, so that scan threads are not left with a big one at
        // the end (ties and directories keep the names' order); else as it
        // is visited.
        let mut entries: Vec<(OsString, Option<Looked>)> = match self.order {
            Order::ByPath => names.into_iter().map(|n| (n, None)).collect(),
            Order::CostliestFirst => names
                .into_iter()
                .map(|n| {
                    let looked = look(fd.as_fd(), &n);
                    (n, Some(looked))
                })
                .collect(),
        };
        if self.order == Order::CostliestFirst {
            entries.sort_by_cached_key(|(name, looked)| {
                let stat = looked.as_ref().and_then(|l| l.as_ref().ok());
                std::cmp::Reverse(stat.map_or(0, |st| scan_cost(name, st)))
            });
        }
        for (name, looked) in entries {
            if self.cancel.is_cancelled() {
                return;
            }
            let child = path.join(&name);
            let looked = looked.unwrap_or_else(|| look(fd.as_fd(), &name));
            if let Err(e) = self.entry(fd.as_fd(), &name, &child, depth, looked) {
                self.report.skip(&child, &e);
            }
        }
    }

    fn entry(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        path: &Path,
        depth: usize,
        looked: Looked,
    ) -> Result<(), OpenError> {
        let stat = looked.map_err(|e| OpenError::io(&e.into()))?;
        let listed = stat.id;
        match FileType::from_raw_mode(stat.mode) {
            FileType::Directory if depth + 1 >= MAX_DEPTH => Err(OpenError::skip(
                "directory nested too deep: not walked (name it in the paths)",
            )),
            FileType::Directory => match open_at(dir, name, Some(listed))? {
                Opened::Dir(fd, _) => {
                    self.dir(path, fd, depth + 1);
                    Ok(())
                }
                Opened::File(_) => Err(OpenError::skip("changed while opening: not read")),
            },
            FileType::RegularFile => {
                if let Some(reason) = not_a_text_log(path) {
                    return Err(OpenError::skip(reason));
                }
                if !self.seen.insert(listed) {
                    return Ok(());
                }
                let opened = if self.open {
                    match open_at(dir, name, Some(listed))? {
                        Opened::File(f) => Some(f),
                        Opened::Dir(..) => {
                            return Err(OpenError::skip("changed while opening: not read"))
                        }
                    }
                } else {
                    None
                };
                let size = opened.as_ref().map_or(stat.size, |f| f.size);
                self.file(path.to_path_buf(), size, opened);
                Ok(())
            }
            other => Err(OpenError::skip(not_regular(other))),
        }
    }
}

/// About how long a regular file takes to scan, for the order files are
/// handed out in: its size, eight times over for a `.gz` (decompressing costs
/// more than searching). 0 for anything else.
fn scan_cost(name: &OsStr, looked: &Brief) -> u64 {
    if FileType::from_raw_mode(looked.mode) != FileType::RegularFile {
        return 0;
    }
    let size = looked.size;
    if name.as_bytes().ends_with(b".gz") {
        size.saturating_mul(8)
    } else {
        size
    }
}

/// What `statat` (not following a symlink) said of a directory's entry.
type Looked = rustix::io::Result<Brief>;

/// The part of an entry's `stat` the walk uses: 32 bytes, not 144, since
/// the costliest-first order holds one per entry of a directory (100,000
/// files are 100,000 of them at once).
#[derive(Debug, Clone, Copy)]
struct Brief {
    id: FileId,
    mode: rustix::fs::RawMode,
    size: u64,
}

fn look(dir: BorrowedFd<'_>, name: &OsStr) -> Looked {
    let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(Brief {
        id: (stat.st_dev, stat.st_ino),
        mode: stat.st_mode,
        size: u64::try_from(stat.st_size).unwrap_or(0),
    })
}

/// The names in a directory, sorted (so paths come out in order).
fn list(dir: BorrowedFd<'_>) -> Result<Vec<OsString>, OpenError> {
    let entries = Dir::read_from(dir).map_err(|e| OpenError::io(&e.into()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| OpenError::io(&e.into()))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    names.sort();
    Ok(names)
}

fn not_a_text_log(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy();
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    let ext = ext.as_deref().unwrap_or("");
    if BINARY_NAMES.iter().any(|b| name.starts_with(b)) || BINARY_EXTENSIONS.contains(&ext) {
        return Some("binary file (not a text log)");
    }
    if UNSUPPORTED_COMPRESSION.contains(&ext) {
        return Some("compressed with a format diagbot does not read (only .gz)");
    }
    None
}

fn skip(path: &Path, reason: &str) -> Skipped {
    Skipped {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// `(device, inode)` of a file's metadata.
pub fn identity(meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}
