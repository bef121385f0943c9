//! `[[formats]]`: log formats users define, checked the way a search would
//! compile them, so that a pattern which cannot work fails at load, not at
//! every search.

use std::sync::Arc;

use toml::Spanned;

use super::raw::{unplaced, RawFormat};
use super::{ConfigError, Locator};
use crate::logs::user_format::{UserFormat, UserFormatError};

/// Checks every format; a mistake names the line of the key it is in.
pub(super) fn check(
    raw: &[Spanned<RawFormat>],
    at: &Locator,
) -> Result<Arc<[UserFormat]>, ConfigError> {
    let mut out: Vec<UserFormat> = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let f = spanned.get_ref();
        let name = f.name.trim();
        let fail = |field: &str, span: std::ops::Range<usize>, problem: String| {
            at.error(span, &format!("formats[{i}].{field}"), problem)
        };
        if name.is_empty() {
            return Err(fail("name", spanned.span(), "a format needs a name".into()));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(fail(
                "name",
                spanned.span(),
                format!("{name}: the name is used twice"),
            ));
        }
        if f.glob.get_ref().trim().is_empty() {
            return Err(fail(
                "glob",
                f.glob.span(),
                format!("{name}: a format needs a glob (`*.log`, `/opt/app/**/*.log`)"),
            ));
        }
        let format = UserFormat {
            name: name.to_string(),
            glob: f.glob.get_ref().clone(),
            timestamp: f.timestamp.get_ref().clone(),
            regex: f.regex.as_ref().map(|r| r.get_ref().clone()),
        };
        // The same compilation a search does: what passes here cannot fail there.
        if let Err(e) = format.compile() {
            let regex_span = || f.regex.as_ref().map_or(spanned.span(), Spanned::span);
            let (field, span) = match e {
                UserFormatError::Glob { .. } => ("glob", f.glob.span()),
                UserFormatError::Pattern { .. } => ("timestamp", f.timestamp.span()),
                UserFormatError::Regex { .. } | UserFormatError::NoTimeGroup { .. } => {
                    ("regex", regex_span())
                }
            };
            return Err(fail(field, span, e.to_string()));
        }
        out.push(format);
    }
    Ok(out.into())
}

/// The table a format is written back as.
pub(super) fn raw(format: &UserFormat) -> Spanned<RawFormat> {
    unplaced(RawFormat {
        name: format.name.clone(),
        glob: unplaced(format.glob.clone()),
        timestamp: unplaced(format.timestamp.clone()),
        regex: format.regex.clone().map(unplaced),
    })
}
