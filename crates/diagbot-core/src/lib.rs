//! diagbot's engine: log search, incremental tails, a bounded result cache
//! and a watch over the host's memory. Everything that decides and computes
//! is here, and no network code: the `diagbot` binary's commands, HTTP API
//! and Telegram bot are front ends over this crate.
//!
//! # Brief overview
//!
//! A question is a [`Query`]: the lines matching a pattern ([`Query::grep`]),
//! or the lines by level ([`Query::errors`]), in a set of files and
//! directories, within an optional time window. Its canonical form
//! ([`Query::canonical`]) is its key in the result cache.
//!
//! Front ends ask through [`diagnostics::Diagnostics`]. It looks the query up
//! in the [`cache::ResultCache`] and, on a miss, runs it on the [`Engine`]
//! in tokio's blocking pool; callers asking the same question at once share
//! one scan. The cache holds answers within a byte budget and a TTL, and a
//! timer frees the expired ones, so an idle daemon does not keep them.
//!
//! The [`Engine`] finds the log files (plain or gzipped), reads each line's
//! timestamp and level, and scans with ripgrep's searcher. An incremental
//! engine keeps each repeated query's tails: where it stopped in each file.
//! A refresh then reads only what was appended, and rereads a file that was
//! truncated or replaced. A one-shot engine, for commands run once, reads
//! everything each time.
//!
//! The answer is a [`SearchResult`], bounded whatever the size of the logs:
//! totals, counts by level and by file, and only the last few matching
//! lines. Its heap size is its weight in the cache.
//!
//! Beside the search, a [`health::Watch`] takes samples of the host and its
//! services (read by [`probe`]) and says what changed between them: OOM
//! kills, restarts, restart loops, error bursts, and memory climbing toward
//! a limit ([`trend`]).
//!
//! # Modules
//!
//! - [`query`]: the question (`Query`, whose canonical form is the cache key) and
//!   the bounded answer (`SearchResult`).
//! - [`logs`]: finding log files, reading timestamps and levels, scanning with
//!   ripgrep's searcher, and the incremental tails that make refreshes cheap.
//! - [`engine`]: runs a query over the files.
//! - [`journal`]: the systemd journal as a log source, read through `journalctl`.
//! - [`groups`]: lines grouped by template (log-template mining), bounded, with stable ids.
//! - [`cache`]: the result cache with a byte budget, a TTL enforced by a timer,
//!   and one load for many identical questions.
//! - [`diagnostics`]: the facade front ends call: a query in, an answer out,
//!   through the cache.
//! - [`config`]: the TOML configuration and its environment overrides, checked.
//! - [`health`]: samples over time, trends and the events (kills, restarts, projected OOMs).
//! - [`probe`]: the host, services and OOM kills, from /proc, /sys, systemd and the kernel log.
//! - [`trend`]: whether memory climbs toward a limit, and when it gets there.
//! - [`process`]: diagbot's own RSS and open files.
//! - [`units`]: MiB and spans of time in the core's own sentences.
//! - [`when`]: the ends of a time window: `90s`, `1h` back from now, or a time.
//! - [`workers`]: scan threads (how many, at what priority) and the pool that
//!   scans files in parallel with results in a fixed order.
//!
//! # Example
//!
//! One-shot search for error lines in a directory of logs.
//!
//! ```
//! use diagbot_core::{Engine, Query};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("app.log"),
//!     "2026-01-27 10:00:00 INFO started\n\
//!      2026-01-27 10:00:01 ERROR connection refused\n\
//!      2026-01-27 10:00:02 WARNING retrying\n",
//! )?;
//!
//! let query = Query::errors(vec![dir.path().to_path_buf()]);
//! let now = chrono::Local::now().fixed_offset();
//! // The last argument hears of the bytes read, for a progress bar.
//! let result = Engine::one_shot().search(&query, now, &|_bytes| {})?;
//!
//! assert_eq!(result.files_searched, 1);
//! // Lines at error level or worse.
//! assert_eq!(result.matches, 1);
//! assert_eq!(result.lines.len(), 1);
//! assert!(result.lines[0].text.ends_with("ERROR connection refused"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod cache;
pub mod config;
pub mod diagnostics;
pub mod engine;
pub mod explain;
pub mod groups;
pub mod health;
pub mod journal;
pub mod logs;
pub mod probe;
pub mod process;
pub mod query;
pub mod trend;
pub mod units;
pub mod when;
pub mod workers;

#[cfg(test)]
mod testing;

pub use engine::{Engine, SearchError};
pub use query::{GrepPattern, Query, QueryKind, SearchResult};
