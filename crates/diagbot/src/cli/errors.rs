//! `diagbot errors`: line counts by level, and the last error lines.

use std::process::ExitCode;

use clap::Args;
use diagbot_core::Query;

use super::args::{exit_for_answer, LogArgs};
use super::render;

#[derive(Args)]
pub struct ErrorsArgs {
    #[command(flatten)]
    pub logs: LogArgs,
}

pub fn run(args: ErrorsArgs) -> anyhow::Result<ExitCode> {
    let mut asked = args.logs.query(Query::errors)?;
    asked.query.max_lines = args.logs.max_lines;
    let result = args.logs.answer(asked)?;
    let exit = exit_for_answer(&result);
    if args.logs.json {
        render::print_json(&result)?;
    } else {
        render::print_errors(&result, args.logs.verbose);
    }
    Ok(exit)
}
