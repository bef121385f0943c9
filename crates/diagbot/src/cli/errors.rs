//! `diagbot errors`: line counts by level, and the last error lines.

use std::process::ExitCode;

use clap::Args;
use diagbot_core::Query;

use super::{exit_for, progress, render, LogArgs};

#[derive(Args)]
pub struct ErrorsArgs {
    #[command(flatten)]
    pub logs: LogArgs,
}

pub fn run(args: ErrorsArgs) -> anyhow::Result<ExitCode> {
    let mut query = Query::errors(args.logs.paths.clone());
    query.since = args.logs.since.clone();
    query.until = args.logs.until.clone();
    query.max_lines = args.logs.max_lines;
    let result = progress::search_with_progress(&query)?;
    if args.logs.json {
        render::print_json(&result)?;
    } else {
        render::print_errors(&result);
    }
    Ok(exit_for(result.matches))
}
