//! Why a question was not answered, in one vocabulary: the layers below the
//! front ends (grouping, history, explain) refuse with a [`Refusal`], and
//! each front end says it once, its own way — HTTP as 400 or 503 JSON
//! (`http::ApiError`), the CLI as its message and exit code 2, Telegram as a
//! `⚠` line.

use diagbot_core::engine::SearchError;

/// Why a question was not answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The question is wrong: the parameter to fix and why.
    Bad {
        parameter: &'static str,
        message: String,
    },
    /// The daemon cannot answer now (stopping, history off, a failed read):
    /// not the asker's doing, worth trying again.
    Unavailable(String),
}

impl Refusal {
    pub fn bad(parameter: &'static str, message: impl Into<String>) -> Refusal {
        Refusal::Bad {
            parameter,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Refusal {
        Refusal::Unavailable(message.into())
    }

    /// A failed search as a refusal: the parameter that caused it, or
    /// unavailable when the asker could not have done better.
    pub fn of_search(e: &SearchError) -> Refusal {
        let message = e.to_string();
        match e {
            SearchError::InvalidPattern { .. } | SearchError::PatternTooLong { .. } => {
                Refusal::bad("pattern", message)
            }
            SearchError::TooManyLines(_) => Refusal::bad("max_lines", message),
            SearchError::BadUnit(_) => Refusal::bad("unit", message),
            SearchError::EmptyWindow { .. } => Refusal::bad("since", message),
            SearchError::Journal(_)
            | SearchError::Cancelled
            | SearchError::Unavailable(_)
            | SearchError::ScanFailed(_) => Refusal::Unavailable(message),
            SearchError::NoPaths
            | SearchError::NothingSearchable(_)
            | SearchError::InvalidFormat(_) => Refusal::bad("paths", message),
        }
    }

    /// The parameter at fault, if the asker can fix one.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            Refusal::Bad { parameter, .. } => Some(parameter),
            Refusal::Unavailable(_) => None,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Bad { message, .. } | Refusal::Unavailable(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_error_names_the_parameter_to_fix_or_says_try_again() {
        let bad = Refusal::of_search(&SearchError::TooManyLines(5000));
        assert_eq!(bad.parameter(), Some("max_lines"));
        let busy = Refusal::of_search(&SearchError::Cancelled);
        assert_eq!(busy.parameter(), None);
        assert!(matches!(busy, Refusal::Unavailable(_)));
    }
}
