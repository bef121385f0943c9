//! diagbot: diagnostics for small servers.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("diagbot: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
