//! diagbot's engine: everything that decides and computes, no network code.
//!
//! - [`query`]: the question (`Query`, whose canonical form is the cache key) and
//!   the bounded answer (`SearchResult`).
//! - [`logs`]: finding log files, reading timestamps and levels, scanning with
//!   ripgrep's searcher, and the incremental tails that make refreshes cheap.
//! - [`engine`]: runs a query over the files.
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

#![warn(missing_docs)]

pub mod cache;
pub mod config;
pub mod diagnostics;
pub mod engine;
pub mod health;
pub mod logs;
pub mod probe;
pub mod process;
pub mod query;
pub mod trend;
pub mod units;
pub mod when;

pub use engine::{Engine, SearchError};
pub use query::{GrepPattern, Query, QueryKind, SearchResult};
