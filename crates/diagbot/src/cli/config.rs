//! `diagbot config check [FILE]` and `diagbot config example`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration and print the effective settings (secrets masked).
    Check {
        /// The file to check (else the one `serve` would read).
        file: Option<PathBuf>,
    },
    /// Print a commented example configuration.
    Example,
}

pub fn run(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Example => print!("{}", crate::settings::EXAMPLE),
        ConfigCommand::Check { file } => {
            let (settings, file) = super::args::load_settings(file.as_deref())?;
            match &file {
                Some(f) => println!("# {} is valid; effective settings:", f.display()),
                None => {
                    println!("# no config file; effective settings (defaults and environment):")
                }
            }
            print!("{}", settings.to_toml());
        }
    }
    Ok(ExitCode::SUCCESS)
}
