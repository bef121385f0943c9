//! The engine's integration tests, compiled as one test binary (one link
//! instead of one per file): searching real files, the cache facade,
//! incremental refreshes against full rescans, timestamps and levels on the
//! formats corpus and the loghub samples, and property and fuzz tests of the
//! readers.

mod diagnostics;
mod formats;
mod fuzz;
mod grammar_props;
mod groups_loghub;
mod headers;
mod hostile_files;
mod incremental;
mod journal;
mod loghub;
mod programs;
mod search;
