//! diagbot's own footprint, read from `/proc/self`: what the operator of the
//! original bot watched with `free -h`, now logged and exported.

/// Resident memory of this process in bytes (`/proc/self/statm`), if readable.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// Open file descriptors of this process (`/proc/self/fd`), if readable.
pub fn open_fds() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

fn page_size() -> u64 {
    rustix::param::page_size() as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_footprint() {
        let rss = super::resident_bytes().unwrap();
        assert!(rss > 100 << 10 && rss < 1 << 34, "{rss}");
        assert!(super::open_fds().unwrap() >= 3);
    }
}
