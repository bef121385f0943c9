//! `diagbot grep`: search logs for a pattern.

use std::process::ExitCode;

use clap::Args;
use diagbot_core::{GrepPattern, Query};

use super::args::{exit_for_answer, LogArgs};
use super::render;

#[derive(Args)]
pub struct GrepArgs {
    /// A regular expression (Rust regex syntax), or a literal with -F.
    pub pattern: String,
    #[command(flatten)]
    pub logs: LogArgs,
    /// Ignore case.
    #[arg(short = 'i', long)]
    pub ignore_case: bool,
    /// Take the pattern as a literal string.
    #[arg(short = 'F', long)]
    pub fixed_strings: bool,
    /// Print only the number of matching lines.
    #[arg(long)]
    pub count: bool,
}

pub fn run(args: GrepArgs) -> anyhow::Result<ExitCode> {
    let pattern = GrepPattern::regex(args.pattern)
        .ignore_case(args.ignore_case)
        .fixed_strings(args.fixed_strings);
    let mut asked = args.logs.query(|paths| Query::grep(pattern, paths))?;
    asked.query.max_lines = if args.count { 0 } else { args.logs.max_lines };
    let result = args.logs.answer(asked)?;
    let exit = exit_for_answer(&result);
    if args.count && !args.logs.json {
        println!("{}", result.matches);
    } else if args.logs.json {
        render::print_json(&result)?;
    } else {
        render::print_grep(&result, args.logs.verbose);
    }
    Ok(exit)
}
