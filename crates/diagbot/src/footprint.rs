//! What the daemon's resident memory is made of, and the two levers it
//! pulls itself, however it is run (the unit, a shell, a container):
//!
//! - **The allocator gives freed memory back at once.** mimalloc keeps freed
//!   pages for a while (1 s by default in mimalloc 3); an idle
//!   daemon never reaches the point where the delay is checked again, so
//!   the peak of a burst of large answers stayed resident. Set in code at
//!   start; `MIMALLOC_PURGE_DELAY` in the environment still wins.
//! - **Only code that runs stays mapped.** Most of an idle daemon's
//!   resident memory was its binary's code: the kernel maps up to 64 KiB
//!   around each page of code run (fault-around) and reads ahead, so a
//!   start that runs a little of everything left most of a 15 MB binary
//!   resident. After start-up the binary's pages are given back and its
//!   mappings marked random-access: from then on a page of code is mapped
//!   when it runs, alone. See BENCHMARKS.md, "Footprint".

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`, the same
/// in mimalloc 2 and 3; the Rust bindings do not name it). A test checks it
/// against its default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Variables that set the purge delay from outside: the current name and
/// mimalloc's older one.
const PURGE_DELAY_VARS: [&str; 2] = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"];

/// Freed memory goes back to the system at once, unless the environment
/// set the delay.
pub fn return_freed_memory_at_once() {
    if PURGE_DELAY_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return;
    }
    set(PURGE_DELAY, 0);
}

/// The option's value now.
pub fn purge_delay_ms() -> i64 {
    get(PURGE_DELAY)
}

/// Gives back the pages of the binary mapped so far (start-up code: the
/// configuration, the first scans, the store's schema) and has later faults
/// map only the page that runs. Best effort: a kernel without
/// `MADV_PAGEOUT` (before 5.4) or a system-call filter that refuses it
/// leaves things as they were, which is said at debug level.
pub fn map_only_code_that_runs() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let exe = exe.to_string_lossy();
    for (start, end) in code_mappings(&maps, &exe) {
        if let Err(e) = advise_random_and_page_out(start, end - start) {
            tracing::debug!("the binary's pages stay mapped: {e}");
            return;
        }
    }
    // Its pages cached but not mapped would be mapped again around the next
    // page run: they go too (other processes' mappings keep theirs).
    if let Ok(file) = std::fs::File::open("/proc/self/exe") {
        let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
    }
}

/// The read-only mappings (code and constants) of the file `exe` in a
/// `/proc/PID/maps` text, as (start, end) addresses.
fn code_mappings(maps: &str, exe: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let (range, rest) = line.split_once(' ')?;
            let (perms, rest) = rest.split_once(' ')?;
            // Offset, device and inode, then the path (which may hold blanks).
            let path = rest.splitn(4, ' ').nth(3)?.trim_start();
            if path != exe || perms.as_bytes().get(1) != Some(&b'-') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                usize::from_str_radix(start, 16).ok()?,
                usize::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

#[allow(unsafe_code)]
fn advise_random_and_page_out(start: usize, len: usize) -> std::io::Result<()> {
    use rustix::mm::{madvise, Advice};
    let addr = start as *mut std::ffi::c_void;
    // SAFETY: the range is a read-only file mapping of this binary, taken
    // from /proc/self/maps. Neither advice changes what a read of it gives:
    // random access only stops read-ahead, and a paged-out page of a file
    // is read from the file again when it is next touched.
    unsafe {
        madvise(addr, len, Advice::Random)?;
        madvise(addr, len, Advice::LinuxPageOut)?;
    }
    Ok(())
}

#[allow(unsafe_code)]
fn set(option: libmimalloc_sys::mi_option_t, value: i64) {
    // SAFETY: mi_option_set takes any option number and value; it writes
    // one integer in mimalloc's option table (atomically).
    unsafe { libmimalloc_sys::mi_option_set(option, value as std::ffi::c_long) }
}

#[allow(unsafe_code)]
fn get(option: libmimalloc_sys::mi_option_t) -> i64 {
    // SAFETY: mi_option_get reads one integer of mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_get(option) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binarys_read_only_mappings_are_found_by_path_and_permission() {
        let maps = "\
55d0a0000000-55d0a0400000 r--p 00000000 fe:00 1 /usr/bin/diagbot
55d0a0400000-55d0a1000000 r-xp 00400000 fe:00 1 /usr/bin/diagbot
55d0a1000000-55d0a1010000 rw-p 01000000 fe:00 1 /usr/bin/diagbot
7f0000000000-7f0000100000 r-xp 00000000 fe:00 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000300000 rw-p 00000000 00:00 0 
7f0000400000-7f0000500000 r-xp 00000000 fe:00 3 /usr/bin/diagbot (deleted)
";
        assert_eq!(
            code_mappings(maps, "/usr/bin/diagbot"),
            [
                (0x55d0a0000000, 0x55d0a0400000),
                (0x55d0a0400000, 0x55d0a1000000)
            ],
            "the writable data, other files and anonymous memory are left alone"
        );
    }

    /// In this very process: the kernel took the advice on exactly the
    /// binary's read-only mappings (`rr`, random read, in their VmFlags;
    /// none on its writable data), and the process runs on. (How much RSS
    /// it gives back is measured in BENCHMARKS.md: other test threads fault
    /// pages back in meanwhile.)
    #[test]
    fn the_code_mappings_are_advised_and_the_process_runs_on() {
        map_only_code_that_runs();
        let exe = std::fs::read_link("/proc/self/exe").unwrap_or_default();
        let exe = exe.to_string_lossy().into_owned();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
        let (mut code, mut advised, mut data_advised) = (0, 0, 0);
        let mut current: Option<bool> = None; // Some(read-only?) for our mappings
        for line in smaps.lines() {
            let range = line.split(' ').next().unwrap_or_default();
            if range.contains('-') && range.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                current = line
                    .ends_with(exe.as_str())
                    .then(|| !code_mappings(line, &exe).is_empty());
                if current == Some(true) {
                    code += 1;
                }
            } else if let Some(flags) = line.strip_prefix("VmFlags:") {
                let random = flags.split_whitespace().any(|f| f == "rr");
                match current {
                    Some(true) if random => advised += 1,
                    Some(false) if random => data_advised += 1,
                    _ => {}
                }
            }
        }
        assert!(code > 0, "no read-only mapping of {exe}");
        assert_eq!(
            advised, code,
            "every read-only mapping of the binary is advised"
        );
        assert_eq!(data_advised, 0, "its writable data is left alone");
    }

    /// The option number is the purge delay: before it is set, it has the
    /// purge delay's default in mimalloc 3 (1000 ms), which none of its
    /// neighbours has (the deprecated options 0, use_numa_nodes 0).
    #[test]
    fn the_option_set_is_the_purge_delay() {
        if PURGE_DELAY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            return;
        }
        assert_eq!(purge_delay_ms(), 1000, "mimalloc's default purge delay");
        return_freed_memory_at_once();
        assert_eq!(purge_delay_ms(), 0);
    }
}
