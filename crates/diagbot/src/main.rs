//! diagbot: diagnostics for small servers.

use std::process::ExitCode;

/// mimalloc (without transparent huge pages, which would commit 2 MiB at a
/// time): in the 24-hour soak, glibc's malloc let RSS grow 12 % as the log set
/// grew, mimalloc 8 % (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match diagbot::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("diagbot: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
