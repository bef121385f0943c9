//! What can be wrong with a configuration, with where it is said: the file
//! and line (from the parser's own spans) or the environment variable, and
//! the key.

use std::path::PathBuf;

/// A configuration that cannot be used, and where the mistake is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {why}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why: said in the message, and not again as a source (a chain
        /// printed whole would repeat it).
        why: std::io::Error,
    },
    /// The file does not parse, a value has the wrong form, or a rule is broken.
    #[error("{file}{}: {}{problem}", line.map(|l| format!(":{l}")).unwrap_or_default(), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
    File {
        /// The file's name (`(defaults)` when there is none).
        file: String,
        /// The line the mistake is on, when the parser knows it.
        line: Option<usize>,
        /// The dotted key (`services[2].process`), when known.
        key: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// An environment override (`DIAGBOT_CACHE__TTL`) that does not parse or fit.
    #[error("{var}: {}{problem}", key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
    Env {
        /// The variable.
        var: String,
        /// The key it sets.
        key: Option<String>,
        /// What is wrong.
        problem: String,
    },
}

impl ConfigError {
    /// The dotted key the error is about, if known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::File { key, .. } | ConfigError::Env { key, .. } => key.as_deref(),
        }
    }
}
