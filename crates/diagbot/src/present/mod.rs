//! What the front ends show — the CLI's tables, the bot's HTML, the
//! dashboard — built once from the core's answers: figures in the units people
//! read ([`format`]), and views of a status and of OOM kills whose parts are
//! plain, unescaped text ([`status`], [`oom`]), and a time window's warnings
//! ([`warnings`]). Each front end puts a view in
//! its medium: the CLI in comfy-table, Telegram in HTML with every part
//! escaped. This module knows no medium, so every front end can use it and it
//! uses none of them.

pub mod format;
pub mod oom;
pub mod refusal;
pub mod status;
pub mod visible;
pub mod warnings;

pub use oom::OomRow;
pub use status::{DiskView, HostView, LimitView, MemoryView, ServiceView, StatusView, SwapView};

#[cfg(test)]
pub(crate) mod fixture;
