//! diagbot: diagnostics for small servers.

use std::process::ExitCode;

/// mimalloc (without transparent huge pages, which would commit 2 MiB at a
/// time): in the 24-hour soak, glibc's malloc let RSS grow 12 % as the log set
/// grew, mimalloc 8 % (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    diagbot::footprint::return_freed_memory_at_once();
    quiet_on_broken_pipe();
    match diagbot::cli::run() {
        Ok(code) => code,
        // A reader that went away (`| head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("diagbot: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `diagbot grep … | head`: when the reader goes away, stop quietly (exit 0,
/// as ripgrep does) instead of a panic and a backtrace. `print!` panics on a
/// closed stdout; this hook tells that panic from every other one.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
