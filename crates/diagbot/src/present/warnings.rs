//! A time window's warnings in words: a file whose lines have no timestamp
//! diagbot reads, or few, is never a silent zero on any screen.

use diagbot_core::query::{FileWarning, TimestampProblem};

/// "no timestamps recognised in 1200 lines; `window` cannot select its
/// lines", where `window` is how the medium names the time window.
pub fn sentence(w: &FileWarning, window: &str) -> String {
    match w.problem {
        TimestampProblem::NoTimestamps => format!(
            "no timestamps recognised in {} lines; {window} cannot select its lines",
            w.lines
        ),
        TimestampProblem::FewTimestamps => format!(
            "timestamps recognised in only {} of {} lines; {window} may miss some of its lines",
            w.lines_with_time, w.lines
        ),
    }
}

/// What to run to see why, and what to do about it.
pub const HINT: &str = "`diagbot formats test FILE` shows how its lines are read; \
                        a [[formats]] entry in the configuration reads other timestamps";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_says_its_counts_and_what_the_window_cannot_do() {
        let w = |problem, lines_with_time| FileWarning {
            path: "/var/log/x.log".into(),
            problem,
            lines_with_time,
            lines: 1200,
        };
        assert_eq!(
            sentence(&w(TimestampProblem::NoTimestamps, 0), "--since/--until"),
            "no timestamps recognised in 1200 lines; --since/--until cannot select its lines"
        );
        assert_eq!(
            sentence(&w(TimestampProblem::FewTimestamps, 12), "the window"),
            "timestamps recognised in only 12 of 1200 lines; the window may miss some of its lines"
        );
    }
}
