//! Probes of the machine: what `free -h`, `uptime` and `df -h` tell, read from
//! a configurable `/proc` root so that tests run on fixture trees. A source
//! that cannot be read is reported as unavailable with the reason, never as a
//! silent zero.

pub mod cgroup;
pub mod error;
pub mod host;
pub mod oom;
pub mod procs;
pub mod service;
pub mod systemd;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use host::{HostCollector, HostStatus};
use service::{HostFacts, ServiceStatus, TrendReport};

use crate::config::Settings;
pub use error::{Cause, ProbeError};

/// How long a collector's first reading samples CPU use for, and the
/// shortest window it measures CPU use over afterwards.
pub const CPU_SAMPLE: Duration = Duration::from_millis(250);

/// What `diagbot status` shows: the host, the services, and diagbot itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// Memory, swap, load, CPU, disks and uptime.
    pub host: HostStatus,
    /// The trend of the host's used memory toward its total (from the daemon's samples).
    pub host_memory_trend: Option<TrendReport>,
    /// Each configured service, in the configuration's order.
    pub services: Vec<ServiceStatus>,
    /// diagbot's own footprint.
    pub diagbot: Own,
}

/// diagbot's own footprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Own {
    /// Resident memory; `None` when `/proc/self` could not be read.
    pub rss_bytes: Option<u64>,
    /// Open file descriptors; `None` when `/proc/self/fd` could not be read.
    pub open_fds: Option<u64>,
    /// The daemon's result cache (none for a one-shot command).
    pub cache: Option<crate::cache::CacheStats>,
    /// The daemon's history store: `on: PATH`, or `off: WHY` (none for a one-shot command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// Reads the status now through `host` (whose first reading takes
/// `CPU_SAMPLE` to measure CPU use); trends are left for the daemon, which
/// has samples, to fill in.
pub fn status(settings: &Settings, host: &HostCollector) -> Status {
    let host = host.read();
    let facts = HostFacts {
        memory_total_bytes: host.memory.as_ref().map(|m| m.total_bytes),
        uptime_secs: host.uptime_secs,
    };
    Status {
        services: services(settings, &facts),
        host,
        host_memory_trend: None,
        diagbot: Own {
            rss_bytes: crate::process::resident_bytes(),
            open_fds: crate::process::open_fds(),
            cache: None,
            history: None,
        },
    }
}

/// Each configured service, read now.
pub fn services(settings: &Settings, host: &HostFacts) -> Vec<ServiceStatus> {
    settings
        .services
        .iter()
        .map(|svc| service::probe(settings, svc, host))
        .collect()
}

/// A source that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// What could not be read: `memory`, `disk /home`, `systemd (bot.service)`, ...
    pub source: String,
    /// Why, in the error's own words.
    pub reason: String,
}

impl Unavailable {
    /// `source` could not be read; `reason` is the error, said as text.
    pub fn new(source: impl Into<String>, reason: impl ToString) -> Self {
        Unavailable {
            source: source.into(),
            reason: reason.to_string(),
        }
    }
}

/// Runs `command args`, handing each line of its output to `each` as it comes
/// (the output may be large), and fails with the command's own words when it
/// cannot be run or exits with an error. On success, returns what the command
/// wrote to stderr (up to 64 KiB): a warning there may matter to the caller.
pub(crate) fn run_lines(
    command: &str,
    args: &[&str],
    mut each: impl FnMut(&str),
) -> Result<String, ProbeError> {
    use std::io::{BufRead, Read};
    use std::process::{Command, Stdio};
    let mut child = Command::new(command)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProbeError::Spawn {
            command: command.to_string(),
            source,
        })?;
    // Drained aside, so a chatty stderr cannot stall the child while stdout is read.
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = (&mut err).take(64 * 1024).read_to_string(&mut text);
            text
        })
    });
    if let Some(stdout) = child.stdout.take() {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    each(text.trim_end_matches(['\n', '\r']));
                }
            }
        }
    }
    let status = child.wait().map_err(|source| ProbeError::Wait {
        command: command.to_string(),
        source,
    })?;
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        Ok(stderr)
    } else {
        Err(ProbeError::Exit {
            command: command.to_string(),
            first_arg: args.first().unwrap_or(&"").to_string(),
            status,
            said: stderr.lines().next().unwrap_or("").trim().to_string(),
            stderr,
        })
    }
}
