//! `diagbot explain SERVICE`: which number in a service's own log lines its
//! memory climbs with — from the database file (read-only) and its logs, or
//! asked of the daemon with `--remote`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use diagbot_core::explain::Explanation;
use diagbot_core::logs::cancel::Cancel;
use diagbot_core::when::TimeBound;

use super::args::{load_settings, parse_when};
use crate::history::explain::{explain_service, read_kept, DEFAULT_SPAN_SECS};

#[derive(Args)]
pub struct ExplainArgs {
    /// The service, by its name in the configuration.
    pub service: String,
    /// From WHEN: a duration back from now (24h, 7d) or a time. Default: 24h.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, allow_hyphen_values = true)]
    pub since: Option<TimeBound>,
    /// Print one JSON object (as /api/v1/explain answers) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Ask the diagbot daemon at this URL instead of reading the database file.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The configuration file (for storage.path and the services).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let now = chrono::Local::now().fixed_offset();
    let since = args
        .since
        .as_ref()
        .map_or(now.timestamp() - DEFAULT_SPAN_SECS, |b| {
            b.resolve(now).div_euclid(1000)
        });
    let explanation: Explanation = match &args.remote {
        Some(url) => super::remote::get_json(
            url,
            "/api/v1/explain",
            &[
                ("service", args.service.clone()),
                ("since", since.to_string()),
            ],
        )?,
        None => local(&args, since, now.timestamp())?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        println!("{}", explanation.text);
    }
    Ok(if explanation.candidates.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn local(args: &ExplainArgs, since: i64, now: i64) -> anyhow::Result<Explanation> {
    let settings = load_settings(args.config.as_deref())?.0;
    let service = super::args::configured_service(&settings, &args.service)?;
    let path = settings.storage.resolved_path(&|k| std::env::var(k).ok());
    if !path.exists() {
        anyhow::bail!(
            "no history at {} (storage.path): explain needs the memory samples `diagbot serve` keeps",
            path.display()
        );
    }
    let conn = crate::store::read::open_read_only(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let kept = read_kept(&conn, &service.name, since)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(explain_service(
        &settings.core,
        service,
        &kept,
        (since, now),
        &Cancel::new(),
    ))
}
