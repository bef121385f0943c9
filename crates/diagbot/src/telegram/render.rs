//! Telegram HTML: every byte of log text escaped, and messages fitted under
//! Telegram's 4096-character limit without breaking markup. A message is a
//! head (HTML written here) and log lines in one `<pre>` block; when the lines
//! do not fit, the oldest are left out whole and the message says how many and
//! where to see them all.

use crate::present::refusal::Refusal;
use crate::present::visible;

/// Telegram's limit, in UTF-16 code units of the text after entity parsing.
pub const TELEGRAM_LIMIT: usize = 4096;
/// What a message may measure here. The HTML source is counted (tags and
/// entities included), which is never shorter than what Telegram counts.
const BUDGET: usize = 4000;
/// A longer log line is cut (at a character boundary) and marked.
const MAX_LINE_CHARS: usize = 300;

/// A refused question, as the bot says it.
pub fn refused(refusal: &Refusal) -> String {
    format!("⚠ {}", escape(&refusal.to_string()))
}

/// Escapes `<`, `>`, `&` and `"`, and shows control characters as `\xNN`
/// and bidirectional overrides as `U+202E` (see `present::visible`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push(' '),
            c if c.is_control() || visible::acts(c) => out.push_str(&visible::name(c)),
            c => out.push(c),
        }
    }
    out
}

/// Telegram's measure of a string.
pub fn length(html: &str) -> usize {
    html.encode_utf16().count()
}

/// `head`, then `lines` (plain text, newest last) in a `<pre>` block. When
/// they do not all fit, the newest that fit are kept and `where_all` (HTML)
/// follows the count of those left out.
pub fn with_lines(head: &str, lines: &[String], earlier: u64, where_all: &str) -> String {
    with_lines_and_tail(head, lines, earlier, where_all, "")
}

/// As [`with_lines`], with `tail` (HTML, short) as the last line: its room
/// is kept, so fewer log lines are shown rather than the tail cut.
pub fn with_lines_and_tail(
    head: &str,
    lines: &[String],
    earlier: u64,
    where_all: &str,
    tail: &str,
) -> String {
    let escaped: Vec<String> = lines.iter().map(|l| escape(&cut(l))).collect();
    // `earlier`: lines before these that the answer itself did not keep.
    let earlier = usize::try_from(earlier).unwrap_or(usize::MAX);
    let note = |left_out: usize| {
        format!("\n<i>{left_out} earlier line(s) not shown; all of them: {where_all}</i>")
    };
    // Newest first, while they fit with the note that might follow.
    let mut kept: Vec<&str> = Vec::new();
    let mut size = length(head) + length("\n<pre></pre>") + length(tail);
    for (i, line) in escaped.iter().enumerate().rev() {
        let left_out_after = i.saturating_add(earlier);
        let reserve = if left_out_after > 0 {
            length(&note(left_out_after))
        } else {
            0
        };
        let add = length(line) + 1;
        if size + add + reserve > BUDGET {
            break;
        }
        size += add;
        kept.push(line);
    }
    kept.reverse();
    let mut out = head.to_string();
    if !kept.is_empty() {
        out.push_str("\n<pre>");
        out.push_str(&kept.join("\n"));
        out.push_str("</pre>");
    }
    let left_out = (escaped.len() - kept.len()).saturating_add(earlier);
    if left_out > 0 {
        out.push_str(&note(left_out));
    }
    out.push_str(tail);
    out
}

/// A head alone, cut to fit (it is built from short parts, but a list of many
/// services could grow): cut at a line end, never inside a tag.
pub fn fit(html: &str) -> String {
    if length(html) <= BUDGET {
        return html.to_string();
    }
    let mut out = String::new();
    for line in html.lines() {
        if length(&out) + length(line) + 40 > BUDGET {
            out.push_str("<i>… cut to fit Telegram's limit</i>");
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The text of `html` without its tags and with its entities read: what is
/// sent when Telegram refuses the markup.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find('>') {
            Some(end) => &rest[i + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bytes_are_escaped() {
        assert_eq!(
            escape("<script>alert(1)</script> & </b> \"q\"\u{1b}[31m\u{fffd}"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/b&gt; &quot;q&quot;\\x1b[31m\u{fffd}"
        );
        // A bell and a bidirectional override are named, not acted on.
        assert_eq!(escape("a\u{7}\u{202e}txt.exe"), "a\\x07U+202Etxt.exe");
    }

    #[test]
    fn many_lines_keep_the_newest_and_say_how_many_were_left_out() {
        let lines: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "2026-02-27 10:00:{:02} ERROR line {i} <x> & more text here",
                    i % 60
                )
            })
            .collect();
        let html = with_lines("<b>grep</b>", &lines, 0, "<code>diagbot grep x</code>");
        assert!(length(&html) <= TELEGRAM_LIMIT, "{}", length(&html));
        assert!(
            html.contains("line 299 &lt;x&gt;"),
            "the newest line is kept"
        );
        assert!(!html.contains("line 0 "), "the oldest is left out");
        assert!(html.ends_with("all of them: <code>diagbot grep x</code></i>"));
        assert_eq!(html.matches("<pre>").count(), 1);
        assert_eq!(html.matches("</pre>").count(), 1);
    }

    #[test]
    fn a_long_line_is_cut_at_a_character_boundary() {
        let long = "é".repeat(1000);
        let html = with_lines("h", &[long], 0, "x");
        assert!(html.contains(&format!("{}…", "é".repeat(MAX_LINE_CHARS))));
    }

    #[test]
    fn plain_text_reads_the_entities_and_drops_the_tags() {
        assert_eq!(
            plain("<b>grep</b> <code>a&lt;b</code>\n<pre>x &amp;lt; &quot;y&quot;</pre>"),
            "grep a<b\nx &lt; \"y\""
        );
    }

    #[test]
    fn all_lines_that_fit_are_shown_without_a_note() {
        let html = with_lines("h", &["a".into(), "b".into()], 0, "x");
        assert_eq!(html, "h\n<pre>a\nb</pre>");
    }

    #[test]
    fn a_tail_is_the_last_line_and_its_room_is_kept() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("{i} {}", "z".repeat(100)))
            .collect();
        let tail = format!("\n<i>{}</i>", "w".repeat(500));
        let html = with_lines_and_tail("h", &lines, 0, "x", &tail);
        assert!(html.ends_with(&tail), "{html}");
        assert!(length(&html) <= BUDGET, "{}", length(&html));
        assert!(html.contains("99 zzz") && !html.contains("\n0 zzz"));
        assert_eq!(with_lines_and_tail("h", &[], 0, "x", "\nt"), "h\nt");
    }

    /// 600 matches, 100 in the answer, 26 fit: the note counts the 574 not shown.
    #[test]
    fn lines_the_answer_left_out_are_counted_as_not_shown() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("app.log:{i} {}", "y".repeat(140)))
            .collect();
        let html = with_lines("<b>grep</b>", &lines, 500, "<code>diagbot grep x</code>");
        let shown = html.matches("app.log:").count();
        assert!(shown > 0 && shown < 100, "{shown}");
        let expected = format!("{} earlier line(s) not shown", 600 - shown);
        assert!(html.contains(&expected), "{html}");
    }
}
