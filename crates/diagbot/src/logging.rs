//! diagbot's own log: to journald when systemd gave us a journal stream
//! (`JOURNAL_STREAM`), else readable lines (or JSON) on stderr. The level comes
//! from `RUST_LOG`, else the config's `log.level`, which a reload can change.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter};

use crate::state::LogLevelSetter;

/// Starts the log; returns what sets a reloaded `log.level` (none when
/// `RUST_LOG` decides the level: it wins over the config).
pub fn init(level: &str, json: bool) -> Option<LogLevelSetter> {
    let from_env = EnvFilter::try_from_default_env().ok();
    let by_env = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(level));
    let (filter, handle) = reload::Layer::new(filter);
    let setter: Option<LogLevelSetter> = (!by_env).then(|| {
        Box::new(move |level: &str| {
            let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        }) as LogLevelSetter
    });
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(journald) => {
                let _ = registry.with(journald).try_init();
                return setter;
            }
            Err(e) => eprintln!("diagbot: journald not reachable ({e}); logging to stderr"),
        }
    }
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        registry.with(stderr.json()).try_init()
    } else {
        registry.with(stderr).try_init()
    };
    setter
}
