//! `diagbot groups mute|unmute|mutes`: silencing a group's new-error
//! alerts. Mutes live in the daemon's history store, whose one writer is the
//! daemon: these commands ask the running daemon over HTTP (with
//! `$DIAGBOT_TOKEN`), never write the file themselves.

use std::process::ExitCode;
use std::time::Duration;

use crate::present::visible::one_line;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

/// Where a daemon listens by default (`http.listen`).
const DEFAULT_DAEMON: &str = "http://127.0.0.1:9187";

#[derive(Subcommand)]
pub enum MuteCommand {
    /// Stop new-error alerts for group ID (as `diagbot groups` shows it), for a while or for good.
    ///
    /// The mute is kept in the daemon's history store: this asks the running
    /// daemon (POST /api/v1/groups/mute, with $DIAGBOT_TOKEN when http.token
    /// is set), which writes it through its one writer. The daemon must be
    /// running with history on. The group's lines are still read and
    /// counted; after the mute ends it alerts as any group does (when back
    /// after groups.quiet of silence).
    Mute(MuteArgs),
    /// Lift the mute of group ID (asks the running daemon, as `mute` does).
    Unmute(UnmuteArgs),
    /// List the mutes the daemon keeps: id, until when, since when, set by whom.
    Mutes(DaemonArgs),
}

#[derive(Args)]
pub struct DaemonArgs {
    /// The daemon to ask (its http.listen).
    #[arg(long, value_name = "URL", default_value = DEFAULT_DAEMON)]
    pub remote: String,
}

#[derive(Args)]
pub struct MuteArgs {
    /// The group's id: 16 hex digits.
    pub id: String,
    /// For how long: 90s, 15m, 1h, 7d. Default: until `diagbot groups unmute ID`.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_span)]
    pub span: Option<Duration>,
    /// Mute an id no watch has seen yet (before the group first shows).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Args)]
pub struct UnmuteArgs {
    /// The group's id: 16 hex digits.
    pub id: String,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

fn parse_span(s: &str) -> Result<Duration, String> {
    diagbot_core::when::parse_duration(s)
        .map_err(|_| format!("{s:?} is not a duration such as 90s, 15m, 1h or 7d"))
}

pub fn run(command: MuteCommand) -> anyhow::Result<ExitCode> {
    match command {
        MuteCommand::Mute(args) => {
            let mut body = json!({ "id": args.id, "by": "cli", "force": args.force });
            if let Some(span) = args.span {
                body["for"] = json!(format!("{}s", span.as_secs()));
            }
            let answer: Value =
                super::remote::post_json(&args.daemon.remote, "/api/v1/groups/mute", &body)?;
            let mute = &answer["mute"];
            println!(
                "muted {} {}",
                mute["id"].as_str().unwrap_or(&args.id),
                until(&mute["until"])
            );
            Ok(ExitCode::SUCCESS)
        }
        MuteCommand::Unmute(args) => {
            let answer: Value = super::remote::post_json(
                &args.daemon.remote,
                "/api/v1/groups/unmute",
                &json!({ "id": args.id }),
            )?;
            if answer["unmuted"].as_bool() == Some(true) {
                println!("unmuted {}", args.id);
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{} was not muted", args.id);
                Ok(ExitCode::from(1))
            }
        }
        MuteCommand::Mutes(args) => {
            let answer: Value = super::remote::get_json(&args.remote, "/api/v1/groups/mutes", &[])?;
            let mutes = answer["mutes"].as_array().cloned().unwrap_or_default();
            if mutes.is_empty() {
                println!("no mutes");
                return Ok(ExitCode::from(1));
            }
            for m in &mutes {
                let state = if m["active"].as_bool() == Some(true) {
                    ""
                } else {
                    " (ended)"
                };
                println!(
                    "{} {}{state} · set {} by {}",
                    one_line(m["id"].as_str().unwrap_or("?")),
                    until(&m["until"]),
                    time(m["since"].as_i64()),
                    // A daemon's list is shown, never acted on.
                    one_line(m["by"].as_str().unwrap_or("?"))
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn until(value: &Value) -> String {
    match value.as_i64() {
        Some(t) => format!("until {}", time(Some(t))),
        None => "until unmuted".to_string(),
    }
}

fn time(secs: Option<i64>) -> String {
    secs.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
}
