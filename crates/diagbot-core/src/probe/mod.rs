//! Probes of the machine: what `free -h`, `uptime` and `df -h` tell, read from
//! a configurable `/proc` root so that tests run on fixture trees. A source
//! that cannot be read is reported as unavailable with the reason, never as a
//! silent zero.

pub mod host;

use serde::Serialize;

/// A source that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    pub source: String,
    pub reason: String,
}

impl Unavailable {
    pub fn new(source: impl Into<String>, reason: impl ToString) -> Self {
        Unavailable {
            source: source.into(),
            reason: reason.to_string(),
        }
    }
}
