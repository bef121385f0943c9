//! Probes of the machine: what `free -h`, `uptime` and `df -h` tell, read from
//! a configurable `/proc` root so that tests run on fixture trees. A source
//! that cannot be read is reported as unavailable with the reason, never as a
//! silent zero.

pub mod host;
pub mod oom;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use host::{read_host, HostStatus};

/// How long CPU use is sampled for in a status.
pub const CPU_SAMPLE: Duration = Duration::from_millis(250);

/// What `diagbot status` shows: the host, and diagbot itself.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub host: HostStatus,
    pub diagbot: Own,
}

/// diagbot's own footprint.
#[derive(Debug, Clone, Serialize)]
pub struct Own {
    pub rss_bytes: Option<u64>,
    pub open_fds: Option<u64>,
}

/// Reads the status now (takes `CPU_SAMPLE` to measure CPU use).
pub fn status(proc_root: &Path) -> Status {
    Status {
        host: read_host(proc_root, Some(CPU_SAMPLE)),
        diagbot: Own {
            rss_bytes: crate::process::resident_bytes(),
            open_fds: crate::process::open_fds(),
        },
    }
}

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
