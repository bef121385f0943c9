//! `diagbot serve`: the daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::daemon::{self, Control};
use crate::logging;
use crate::state::AppState;

/// How long blocking work (scans, cancelled by then) gets to end at exit.
const SHUTDOWN_BLOCKING: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Args)]
pub struct ServeArgs {
    /// The configuration file (else $DIAGBOT_CONFIG, /etc/diagbot/diagbot.toml, ./diagbot.toml, or defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How diagbot's own log is written on stderr.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Listen on ADDR (such as 127.0.0.1:9200) instead of http.listen; it
    /// holds across reloads, as DIAGBOT_HTTP__LISTEN does.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // `--listen` is the environment's override, so a reload keeps it too.
    let listen = args.listen;
    let environment = move || {
        let mut env = super::args::environment();
        if let Some(listen) = listen {
            env.insert("DIAGBOT_HTTP__LISTEN".into(), listen.to_string());
        }
        env
    };
    let file = diagbot_core::config::find_config_file(args.config.as_deref(), &environment());
    let settings = crate::settings::load(file.as_deref(), &environment())?;
    let json = match args.log_format {
        Some(LogFormat::Json) => true,
        Some(LogFormat::Text) => false,
        None => settings.log.json,
    };
    let log_level = logging::init(&settings.log.level, json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .thread_keep_alive(std::time::Duration::from_secs(24 * 3600))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("cannot listen on {} (http.listen)", settings.http.listen))?;
        let addr = listener.local_addr()?;
        println!("diagbot listening on http://{addr}");
        println!(
            "  config: {}",
            file.as_ref()
                .map_or("defaults (no config file)".to_string(), |f| f
                    .display()
                    .to_string())
        );
        let core = &settings.core;
        let paths: Vec<String> = core
            .log_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        println!("  watching: {}", paths.join(", "));
        let names: Vec<&str> = core.refresh.iter().map(|q| q.name.as_str()).collect();
        println!(
            "  refreshing every {:?}: {}",
            core.refresh_interval,
            names.join(", ")
        );
        let services: Vec<&str> = core.services.iter().map(|s| s.name.as_str()).collect();
        println!(
            "  services: {} (sampled every {:?})",
            if services.is_empty() {
                "none configured".to_string()
            } else {
                services.join(", ")
            },
            core.health.sample_interval
        );
        match &settings.telegram {
            Some(t) => println!(
                "  telegram: on, {} allowed chat(s), {} alert chat(s){}",
                t.allowed_chats.len(),
                t.alert_chats.len(),
                if t.allowed_chats.is_empty() {
                    " (nobody is answered yet: a chat that writes is told its id for telegram.allowed_chats)"
                } else {
                    ""
                }
            ),
            None => println!("  telegram: off (no telegram.token)"),
        }
        tracing::info!(%addr, "listening");
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(forward_signals(tx));
        let reloader: daemon::Reloader =
            Box::new(move || crate::settings::load(file.as_deref(), &environment()));
        let state = AppState::with_log_level(settings, log_level);
        println!("  history: {}", state.history_state());
        println!("  dashboard: http://{addr}/");
        println!("  try: curl 'http://{addr}/api/v1/errors' or curl 'http://{addr}/metrics'");
        daemon::run(state, listener, rx, reloader).await
    })?;
    // Dropping a runtime waits for its blocking threads without a bound; a
    // read stuck in the kernel (a hung filesystem) would hold the exit past
    // systemd's stop timeout. Scans were cancelled; give them a moment.
    runtime.shutdown_timeout(SHUTDOWN_BLOCKING);
    Ok(ExitCode::SUCCESS)
}

/// SIGHUP reloads; SIGTERM and SIGINT stop.
async fn forward_signals(tx: mpsc::Sender<Control>) -> anyhow::Result<()> {
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        let msg = tokio::select! {
            _ = hup.recv() => Control::Reload,
            _ = term.recv() => Control::Stop,
            _ = int.recv() => Control::Stop,
        };
        if tx.send(msg).await.is_err() {
            return Ok(());
        }
    }
}
