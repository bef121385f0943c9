//! Log files: which to read, how to read them, and what their lines say.

pub mod explain;
pub mod format;
pub mod learn;
pub mod level;
pub mod read;
pub mod scan;
pub mod tail;
pub mod timestamp;
pub mod user_format;
pub mod walk;
