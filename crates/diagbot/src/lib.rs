//! diagbot's front ends: the command line, the daemon with its HTTP API and
//! metrics, the Telegram bot, and systemd integration. They compute nothing themselves: each
//! turns a request into a `Query` for `diagbot-core` and renders the answer.

pub mod cli;
pub mod daemon;
pub mod http;
pub mod logging;
pub mod present;
pub mod systemd;
pub mod telegram;
