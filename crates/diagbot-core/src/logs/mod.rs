//! Log files: which to read, how to read them, and what their lines say.
//!
//! - [`walk`], [`read`], [`lines`], [`scan`], [`tail`]: finding files, reading them in
//!   chunks, cutting chunks into lines, scanning with ripgrep's searcher, and what a refresh resumes from;
//!   [`split`]: cutting a large file into parts scanned at once; [`follow`]:
//!   whether a repeated read skips, resumes or rereads a file.
//! - [`timestamp`]: the grammar of dates and times and the search for one in a line.
//! - [`learn`] and [`format`](mod@format): each file's timestamp format, learned from its
//!   first lines, and reading its lines with it.
//! - [`level`]: a line's level, from its header; [`header`]: a file's header
//!   fields, learned from its first lines, and where its message starts.
//! - [`user_format`]: formats users define; [`explain`]: how a file's lines are read.

pub mod cancel;
pub mod explain;
pub mod follow;
pub mod format;
pub mod header;
pub mod learn;
pub mod level;
pub mod lines;
pub mod open;
pub mod read;
pub mod scan;
pub mod split;
pub mod tail;
pub mod timestamp;
pub mod user_format;
pub mod walk;
