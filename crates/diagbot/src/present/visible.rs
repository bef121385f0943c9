//! Log text shown, never acted on. An attacker can write any bytes into a
//! watched log; shown raw, some of them act on what is around them: ESC
//! starts a terminal sequence, BEL rings, U+202E shows everything after it
//! reversed (so `exe.txt` can read `txt.exe`). Every front end shows such a
//! character as its name instead — `\x1b`, `U+202E` — by this one rule, and
//! the dashboard's script by its copy of it (`assets/app.js`, `visible`).

/// Whether `c` would act rather than show: a control character other than
/// tab and newline; a bidirectional mark, embedding, override or isolate;
/// the line and paragraph separators (a line break to some readers); or an
/// invisible space (U+200B, U+2060, U+FEFF) that can hide or forge text.
/// The joiners U+200C and U+200D stay: scripts and emoji need them.
pub fn acts(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// How `c` is shown when it [`acts`]: `\x1b` for a control character,
/// `U+202E` for the others.
pub fn name(c: char) -> String {
    if c.is_control() {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// `text` with every character that acts shown by its name.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(acts) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.push_str(&name(c));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// `text` on one line: [`visible`], with a newline named too (a file name
/// can hold one, and would start a row of its own in a table).
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    match visible(text) {
        shown if shown.contains('\n') => shown.replace('\n', "\\x0a").into(),
        shown => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bells_and_bidi_overrides_are_named_and_the_rest_kept() {
        assert_eq!(
            visible("a\u{1b}[31mred\u{7}\tb\n\u{202e}txt.exe\u{2066}é"),
            "a\\x1b[31mred\\x07\tb\nU+202Etxt.exeU+2066é"
        );
        assert_eq!(visible("plain ✓"), "plain ✓");
        assert_eq!(
            visible("a\u{2028}b\u{200b}c\u{feff}d"),
            "aU+2028bU+200BcU+FEFFd"
        );
        // Joiners are kept: a family emoji is one picture, not three.
        assert_eq!(visible("👨\u{200d}👩"), "👨\u{200d}👩");
        assert_eq!(visible("\u{85}"), "\\x85");
        assert_eq!(one_line("a\nb\u{1b}"), "a\\x0ab\\x1b");
    }
}
