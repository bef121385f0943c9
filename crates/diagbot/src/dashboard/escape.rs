//! Text from logs, services and the configuration, made safe to put in HTML
//! and SVG: an attacker can write a log line or name a process, so every
//! such byte goes through [`text`] (or [`json_in_script`]) on its way out.

use crate::present::visible;

/// `s` as HTML/XML text or attribute value: `& < > " '` escaped, and a
/// character that would act on the text around it shown by its name
/// ([`visible`](crate::present::visible)).
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if visible::acts(c) => out.push_str(&visible::name(c)),
            c => out.push(c),
        }
    }
    out
}

/// JSON to embed in a `<script type="application/json">`: no `<` can close
/// the element or open a comment (`\u003c` reads back as `<`).
pub fn json_in_script(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            text(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(text("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn json_cannot_close_its_script_element() {
        let v = serde_json::json!({ "q": "</script><script>alert(1)</script>" });
        let out = json_in_script(&v);
        assert!(!out.contains('<'), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, v);
    }
}
