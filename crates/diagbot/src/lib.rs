//! diagbot's front ends: the command line, the daemon with its HTTP API and
//! metrics, the Telegram bot, and systemd integration. They compute nothing themselves: each
//! turns a request into a `Query` for `diagbot-core` and renders the answer.
//! What they show is built once in [`present`] (figures and views), which
//! every front end uses and which uses none of them.

pub mod budget;
pub mod cli;
pub mod clients;
pub mod daemon;
pub mod dashboard;
pub mod footprint;
pub mod grouping;
pub mod heartbeat;
pub mod history;
pub mod http;
pub mod logging;
pub mod login_failures;
pub mod metrics;
pub mod present;
pub mod settings;
pub mod state;
pub mod store;
pub mod systemd;
pub mod telegram;

#[cfg(test)]
mod fuzz;
