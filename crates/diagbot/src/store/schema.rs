//! Opening the file for writing: what is checked first (ours, not newer,
//! not corrupt), the pragmas every connection gets, and the migrations,
//! versioned by `PRAGMA user_version`.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// The schema this diagbot writes; a file with a higher version is left alone.
pub const VERSION: i64 = 3;
/// "DGBT": tells diagbot's file from another program's SQLite file.
pub const APPLICATION_ID: i64 = 0x4447_4254;
/// The page cache, in KiB (negative `cache_size` is KiB): about 1 MiB.
const CACHE_KIB: i64 = 1024;
/// The WAL is truncated to this after a checkpoint.
const JOURNAL_LIMIT: i64 = 4 << 20;

/// Each migration takes the schema from its index to the next version.
pub const MIGRATIONS: [&str; 3] = [
    "
    CREATE TABLE series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE raw (
        series INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT NULL,
        PRIMARY KEY (series, t)) WITHOUT ROWID;
    CREATE TABLE five_minutes (
        series INTEGER NOT NULL, t INTEGER NOT NULL,
        min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
        count INTEGER NOT NULL, last REAL NOT NULL,
        PRIMARY KEY (series, t)) WITHOUT ROWID;
    CREATE TABLE hourly (
        series INTEGER NOT NULL, t INTEGER NOT NULL,
        min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
        count INTEGER NOT NULL, last REAL NOT NULL,
        PRIMARY KEY (series, t)) WITHOUT ROWID;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind TEXT NOT NULL,
        service TEXT, message TEXT NOT NULL);
    CREATE INDEX events_by_time ON events (t);
    -- Up to when each rollup tier is complete (unix seconds, exclusive).
    CREATE TABLE rolled (tier TEXT PRIMARY KEY, until INTEGER NOT NULL);
",
    "
    -- The error groups each service's logs have shown (new-error alerts):
    -- id is the group's hash (its hex is the group id) as a signed integer.
    CREATE TABLE known_groups (
        service TEXT NOT NULL, id INTEGER NOT NULL,
        template TEXT, level TEXT,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        PRIMARY KEY (service, id)) WITHOUT ROWID;
    -- Groups whose alerts are silenced, until a time (unix seconds) or for good (NULL).
    CREATE TABLE mutes (
        id INTEGER PRIMARY KEY, until INTEGER,
        since INTEGER NOT NULL, by TEXT NOT NULL);
",
    "
    -- Where each service's new-error watch stopped in its unit's journal:
    -- the last entry's cursor and time (µs), so a restart reads on from there.
    CREATE TABLE journal_cursors (
        service TEXT PRIMARY KEY, cursor TEXT NOT NULL, last_us INTEGER NOT NULL)
        WITHOUT ROWID;
",
];

/// Why the store could not be opened; the daemon then runs without history.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenError {
    /// The file or its directory cannot be written.
    ReadOnly(String),
    /// Written by a newer diagbot: left untouched.
    Newer { found: i64 },
    /// Anything else SQLite or the file system said.
    Failed(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::ReadOnly(why) => write!(f, "{why}"),
            OpenError::Newer { found } => write!(
                f,
                "the database is from a newer diagbot (schema {found}, this one knows {VERSION}); it is left untouched"
            ),
            OpenError::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// Opens (or creates) the writer's connection at `path`, capped at
/// `max_size` bytes. A corrupt or foreign file is moved aside to
/// `PATH.corrupt-TIMESTAMP` (warned about) and a fresh one started.
pub fn open_writer(path: &Path, max_size: u64) -> Result<Connection, OpenError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            OpenError::ReadOnly(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
        if let Err(e) = probe_writable(dir) {
            return Err(OpenError::ReadOnly(format!(
                "the directory {} cannot be written ({e})",
                dir.display()
            )));
        }
    }
    // The store's files are opened where they are named, never through a
    // link: a link planted there (dangling or not) would have diagbot
    // create or write a database wherever it points.
    for file in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ] {
        if std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(OpenError::Failed(format!(
                "{} is a symbolic link: not followed (remove it, or set storage.path to the file itself)",
                file.display()
            )));
        }
    }
    match open_checked(path, max_size) {
        Ok(conn) => Ok(conn),
        Err(Unusable::Bad(why)) => {
            let aside = move_aside(path).map_err(|e| {
                OpenError::Failed(format!(
                    "{} is unusable ({why}) and cannot be moved aside: {e}",
                    path.display()
                ))
            })?;
            tracing::warn!(
                "history: {} was unusable ({why}); moved aside to {}, starting a fresh one",
                path.display(),
                aside.display()
            );
            open_checked(path, max_size).map_err(|e| match e {
                Unusable::Bad(why) | Unusable::Other(OpenError::Failed(why)) => {
                    OpenError::Failed(why)
                }
                Unusable::Other(e) => e,
            })
        }
        Err(Unusable::Other(e)) => Err(e),
    }
}

/// `path` with `suffix` after its name: `diagbot.db-wal`.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

enum Unusable {
    /// Corrupt, or not diagbot's: moved aside.
    Bad(String),
    Other(OpenError),
}

fn open_checked(path: &Path, max_size: u64) -> Result<Connection, Unusable> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Unusable::Other(classify(path, &e)))?;
    // The first read of the header tells a file that is not SQLite at all.
    let (app, version): (i64, i64) = conn
        .query_row(
            "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| bad_or_other(path, e))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(|e| bad_or_other(path, e))?;
    let fresh = app == 0 && version == 0 && tables == 0;
    if !fresh && app != APPLICATION_ID {
        return Err(Unusable::Bad("not a diagbot history file".into()));
    }
    if version > VERSION {
        return Err(Unusable::Other(OpenError::Newer { found: version }));
    }
    if !fresh {
        let check: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| bad_or_other(path, e))?;
        if check != "ok" {
            return Err(Unusable::Bad(format!("integrity check: {check}")));
        }
    }
    let setup = || -> rusqlite::Result<()> {
        if fresh {
            // Only before the first table: later it would need a VACUUM.
            conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
        }
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // A reader's short transaction may hold a lock for a moment: wait rather than fail.
        conn.busy_timeout(std::time::Duration::from_millis(500))?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = -{CACHE_KIB};
             PRAGMA journal_size_limit = {JOURNAL_LIMIT};
             PRAGMA foreign_keys = OFF;"
        ))?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let pages = (max_size as i64 / page_size.max(512)).max(16);
        let _: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get(0)
        })?;
        Ok(())
    };
    setup().map_err(|e| bad_or_other(path, e))?;
    migrate(&conn, version).map_err(|e| bad_or_other(path, e))?;
    Ok(conn)
}

/// Runs the migrations from `from` up to [`VERSION`], each in a transaction.
fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let to = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to}; COMMIT;"
        ))?;
    }
    Ok(())
}

/// A file SQLite calls corrupt or not a database is moved aside; anything
/// else (permissions, a full disk) is not the file's fault.
fn bad_or_other(path: &Path, e: rusqlite::Error) -> Unusable {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => Unusable::Bad(e.to_string()),
        _ => Unusable::Other(classify(path, &e)),
    }
}

fn classify(path: &Path, e: &rusqlite::Error) -> OpenError {
    use rusqlite::ErrorCode::{CannotOpen, ReadOnly};
    match e.sqlite_error_code() {
        Some(ReadOnly | CannotOpen) => {
            OpenError::ReadOnly(format!("{} cannot be written: {e}", path.display()))
        }
        _ => OpenError::Failed(format!("{}: {e}", path.display())),
    }
}

/// Creates and removes a file in `dir`: the one sure test that it can be written.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".diagbot-write-test-{}", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

/// Renames the file (and its WAL and shared memory) to `PATH.corrupt-TIMESTAMP`.
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    let mut n = 1;
    while aside.exists() {
        aside = PathBuf::from(format!("{}.corrupt-{stamp}-{n}", path.display()));
        n += 1;
    }
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{suffix}", aside.display()));
        }
    }
    Ok(aside)
}

/// The schema version written in the file at `path`, read without changing it.
pub fn version_of(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}
