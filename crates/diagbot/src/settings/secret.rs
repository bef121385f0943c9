//! A secret (an API or bot token) that never prints.

use std::fmt;

/// A secret that never prints: `Debug` shows `"****"`, and nothing serialises it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether `given` is the secret, compared without stopping at the
    /// first difference, so timing does not tell how much of a guess was right.
    pub fn matches(&self, given: &[u8]) -> bool {
        let mine = self.0.as_bytes();
        mine.len() == given.len()
            && mine
                .iter()
                .zip(given)
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
    /// Whether no secret is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"****\""
        })
    }
}

/// A token given inline or in a file (not both), read and trimmed.
pub fn read_token(
    inline: &str,
    file: Option<&std::path::Path>,
) -> Result<Secret, (&'static str, String)> {
    match (file, inline.trim().is_empty()) {
        (Some(_), false) => Err(("token", "give token or token_file, not both".into())),
        (Some(path), true) => std::fs::read_to_string(path)
            .map(|t| Secret::new(t.trim()))
            .map_err(|e| ("token_file", format!("cannot read {}: {e}", path.display()))),
        (None, _) => Ok(Secret::new(inline.trim())),
    }
}
