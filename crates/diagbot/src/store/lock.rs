//! One daemon per store. Two daemons on one `storage.path` would both start
//! with history on and record each new error twice (and alert twice). The
//! first takes an exclusive lock on `PATH.lock` and writes its PID there;
//! the lock goes with the process, however it ends, so a stale file never
//! blocks the next start.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// The lock file beside the database: `diagbot.db.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    super::schema::with_suffix(db, ".lock")
}

/// Takes the store's lock; the reason history is off when another process
/// holds it, or when it cannot be taken.
pub fn take(db: &Path) -> Result<File, String> {
    let path = lock_path(db);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // A link planted at the lock's name is not followed.
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let pid = holder.trim();
        return Err(format!(
            "{} is used by another diagbot{}: one store per daemon (set storage.path)",
            db.display(),
            if pid.is_empty() {
                String::new()
            } else {
                format!(" (pid {pid})")
            }
        ));
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_naming_the_first_and_the_lock_goes_with_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("diagbot.db");
        let first = take(&db).unwrap_or_else(|e| panic!("{e}"));
        let refused = take(&db).expect_err("the store is taken");
        assert!(
            refused.contains(&format!(
                "used by another diagbot (pid {})",
                std::process::id()
            )),
            "{refused}"
        );
        drop(first);
        assert!(take(&db).is_ok(), "released with its holder");
    }

    #[test]
    fn a_link_at_the_locks_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("diagbot.db");
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, lock_path(&db)).unwrap_or_else(|e| panic!("{e}"));
        assert!(take(&db).is_err());
        assert!(!elsewhere.exists(), "nothing created where the link points");
    }
}
