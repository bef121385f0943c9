//! Label values as the exposition formats require them. prometheus-client
//! writes a label value as it is given, and service, query and number names
//! come from the configuration: a `"` in one would end the value and let
//! the rest of the name write series of its own.

use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// A label value written with `\`, `"` and line breaks escaped.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelText(pub String);

impl EncodeLabelValue for LabelText {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        write_escaped(encoder, &self.0)
    }
}

/// `value` into `out` as a label value's text: `\\`, `\"`, `\n`.
pub fn write_escaped(out: &mut impl Write, value: &str) -> std::fmt::Result {
    for c in value.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '"' => out.write_str("\\\"")?,
            '\n' => out.write_str("\\n")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// `value` escaped, for label sets written as pairs of strings.
pub fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let _ = write_escaped(&mut out, value);
    out
}

impl From<&str> for LabelText {
    fn from(s: &str) -> Self {
        LabelText(s.to_string())
    }
}

impl From<String> for LabelText {
    fn from(s: String) -> Self {
        LabelText(s)
    }
}

impl std::fmt::Display for LabelText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
