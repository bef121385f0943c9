//! Which files a query reads: the named files, and every log file under the
//! named directories (recursively, symlinks not followed, in a fixed order).

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::query::Skipped;

/// A file to scan.
#[derive(Debug, Clone)]
pub struct LogFile {
    /// Its path, as given or found in a directory.
    pub path: PathBuf,
    /// Whether it is gzipped (read through a decoder, never incrementally).
    pub compressed: bool,
}

/// Names under a directory that are not text logs: login records, journald's binary files.
const BINARY_NAMES: [&str; 5] = ["wtmp", "btmp", "lastlog", "faillog", "utmp"];
const BINARY_EXTENSIONS: [&str; 3] = ["journal", "journal~", "db"];
/// Compressed rotations diagbot cannot open (only gzip is read).
const UNSUPPORTED_COMPRESSION: [&str; 4] = ["xz", "zst", "bz2", "lz4"];

/// Expands `paths` into the files to scan, and what was left out and why.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<LogFile>, Vec<Skipped>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => skipped.push(skip(path, &e.to_string())),
            Ok(meta) if meta.is_file() => files.push(log_file(path)),
            Ok(meta) if meta.is_dir() => walk_dir(path, &mut files, &mut skipped),
            Ok(_) => skipped.push(skip(path, "not a regular file or directory")),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    (files, skipped)
}

fn walk_dir(dir: &Path, files: &mut Vec<LogFile>, skipped: &mut Vec<Skipped>) {
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = error_path(&e).unwrap_or_else(|| dir.to_path_buf());
                skipped.push(skip(&path, &io_reason(&e)));
                continue;
            }
        };
        let is_file = entry.file_type().is_some_and(|t| t.is_file());
        if !is_file {
            continue;
        }
        let path = entry.path();
        match not_a_text_log(path) {
            Some(reason) => skipped.push(skip(path, reason)),
            None => files.push(log_file(path)),
        }
    }
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

fn log_file(path: &Path) -> LogFile {
    LogFile {
        path: path.to_path_buf(),
        compressed: path.extension().is_some_and(|e| e == "gz"),
    }
}

fn skip(path: &Path, reason: &str) -> Skipped {
    Skipped {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn io_reason(e: &ignore::Error) -> String {
    match e.io_error() {
        Some(io) => io.to_string(),
        None => e.to_string(),
    }
}

/// `(device, inode)`: a file's identity, which survives a rename.
pub fn identity(meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}
