//! diagbot: diagnostics for small servers.

use std::process::ExitCode;

fn main() -> ExitCode {
    match diagbot::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("diagbot: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
