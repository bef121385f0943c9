//! Shared by the tests that run a process out of file descriptors (each in a
//! test binary of its own, since the limit is the whole process's):
//! included with `#[path]` by `crates/diagbot-core/tests/fd_limit.rs` and
//! `crates/diagbot/tests/refresh_fd_limit.rs`.

use std::fs;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Lowers the soft limit so that exactly `spare` more descriptors can be
/// opened, checked by opening them; returns what to restore.
pub fn leave_spare(spare: u64) -> Rlimit {
    let before = getrlimit(Resource::Nofile);
    let free = |soft: u64| {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(soft),
                maximum: before.maximum,
            },
        )
        .unwrap();
        let mut probes = Vec::new();
        while let Ok(f) = fs::File::open("/dev/null") {
            probes.push(f);
        }
        probes.len() as u64
    };
    let highest: u64 = fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .max()
        .unwrap();
    let mut soft = highest + 1 + spare;
    loop {
        let n = free(soft);
        if n == spare {
            return before;
        }
        soft = soft + spare - n;
    }
}
