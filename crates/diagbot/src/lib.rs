//! diagbot's front ends: the command line, the daemon with its HTTP API and
//! metrics, the Telegram bot, and systemd integration. They compute nothing themselves: each
//! turns a request into a `Query` for `diagbot-core` and renders the answer.
//! What they show is built once in [`present`] (figures and views), which
//! every front end uses and which uses none of them.
//!
//! # Modules, in layers
//!
//! Each layer uses only the layers above it (`tests/it/modules.rs` checks
//! that no two modules import each other).
//!
//! - Configuration and presentation, used by all:
//!   - [`settings`]: the whole configuration file, read and checked once.
//!   - [`present`]: figures and views of the core's answers (tables, HTML, text).
//!   - [`logging`]: diagbot's own log.
//! - What the daemon keeps:
//!   - [`store`]: the history file (SQLite): samples, rollups, events, known groups.
//!   - [`metrics`]: the Prometheus registry and exposition.
//!   - [`state`]: what the daemon's parts share (`AppState`: settings, cache,
//!     health watch, events, store), and the loops' heartbeat.
//!   - [`history`]: the history as front ends ask for it (series, steps, the
//!     feed that turns samples and alerts into store writes).
//!   - [`grouping`]: a groups answer as the daemon gives it (through the cache,
//!     with `new` from the store).
//! - Front ends, none of which imports another:
//!   - [`http`]: the API, `/metrics`, `/healthz`, and the limits it keeps on
//!     its clients (`http::Limits`).
//!   - [`dashboard`]: the web page and its charts (served by `http`).
//!   - [`telegram`]: the bot's commands and alerts.
//!   - [`systemd`]: readiness, status and the watchdog.
//!   - [`cli`]: one file per subcommand; reads files itself or asks a daemon.
//! - Composition:
//!   - [`daemon`]: starts the background tasks and the front ends and stops them.
//!   - [`footprint`]: the daemon's own memory levers (allocator, mapped code).

pub mod cli;
pub mod daemon;
pub mod dashboard;
pub mod footprint;
pub mod grouping;
pub mod history;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod present;
pub mod settings;
pub mod state;
pub mod store;
pub mod systemd;
pub mod telegram;

#[cfg(test)]
mod fuzz;
