//! The binary's integration tests, compiled as one test binary (one link
//! instead of one per file): the CLI, `config check`, the daemon and its API,
//! the health watch on fixture trees, the Telegram bot against a fake Bot API,
//! the module graph, and the attacks of issue 11 against a real daemon.

mod adversarial;
mod browser;
mod cli;
mod common;
mod config;
mod daemon;
mod dashboard;
mod docs;
mod explain;
mod formats;
mod groups;
mod health;
mod history;
mod journal;
mod modules;
mod new_errors;
mod prometheus;
mod telegram;
