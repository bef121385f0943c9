//! Masking the variable parts of a message's tokens before they are matched:
//! numbers, hex, IPs, UUIDs, paths and times become typed placeholders
//! (`<num>`, `<hex>`, `<ip>`, `<uuid>`, `<path>`, `<time>`), so that lines
//! that differ only in them share a template from the first line on.
//!
//! A token is masked whole when all of it (less brackets and punctuation
//! around it) is one of those; else its parts between `=`, `:`, `,`,
//! brackets and quotes are (`uid=0` → `uid=<num>`, `[1.2.3.4]` → `[<ip>]`).
//! Digits glued to letters (`dn228`, `ssh2`, `jk2_init()`) are left alone:
//! they are as likely names as values, and the grouper treats a token with
//! digits as a likely variable anyway.

/// Bytes stripped from the start of a token before it is classified.
fn is_opener(b: u8) -> bool {
    matches!(b, b'(' | b'[' | b'{' | b'<' | b'"' | b'\'')
}

/// Bytes stripped from the end of a token before it is classified.
fn is_closer(b: u8) -> bool {
    matches!(
        b,
        b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b',' | b';' | b'.' | b':' | b'!' | b'?'
    )
}

/// Where a token is cut into parts that are masked one by one.
fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'=' | b':'
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b'"'
            | b'\''
            | b'@'
            | b'#'
            | b'|'
    )
}

/// Appends `token`, masked, to `out`.
pub fn mask_token(token: &[u8], out: &mut Vec<u8>) {
    // Most tokens are words: every value masked below has a digit or a
    // slash, but for a UUID of letters only, which is 36 bytes long.
    if token.len() < 36 && !token.iter().any(|&b| b.is_ascii_digit() || b == b'/') {
        out.extend_from_slice(token);
        return;
    }
    let start = token
        .iter()
        .position(|&b| !is_opener(b))
        .unwrap_or(token.len());
    let end = token[start..]
        .iter()
        .rposition(|&b| !is_closer(b))
        .map_or(start, |i| start + i + 1);
    if let Some(kind) = classify(&token[start..end]) {
        out.extend_from_slice(&token[..start]);
        out.extend_from_slice(kind);
        out.extend_from_slice(&token[end..]);
        return;
    }
    if let Some(prefix) = uuid_with_prefix(&token[start..end]) {
        out.extend_from_slice(&token[..start + prefix]);
        out.extend_from_slice(b"<uuid>");
        out.extend_from_slice(&token[end..]);
        return;
    }
    let underscored = memchr::memchr(b'_', &token[start..end]).is_some();
    if underscored && masked_underscored(&token[start..end], out, (&token[..start], &token[end..]))
    {
        return;
    }
    // Part by part: a digit-free token has nothing to mask.
    if !token.iter().any(u8::is_ascii_digit) {
        out.extend_from_slice(token);
        return;
    }
    let mut part = 0;
    for (i, &b) in token.iter().enumerate() {
        if is_delimiter(b) {
            mask_part(&token[part..i], out);
            out.push(b);
            part = i + 1;
        }
    }
    mask_part(&token[part..], out);
}

/// `req-7d1c0e52-4b7a-4f0e-9a51-3c2f1b9e8d40`: a word, a `-` or `_`, and a
/// UUID (request and trace ids): the length of the prefix kept.
fn uuid_with_prefix(s: &[u8]) -> Option<usize> {
    let sep = s.iter().position(|&b| b == b'-' || b == b'_')?;
    let (word, rest) = (&s[..sep], &s[sep + 1..]);
    (!word.is_empty() && word.iter().all(u8::is_ascii_alphabetic) && is_uuid(rest))
        .then_some(sep + 1)
}

/// An identifier of a name and numbers joined by `_` (`blk_-1608999687919862906`,
/// `job_1445144423722_0020_000001`, `appattempt_1445_0001`): each number of
/// three digits or more is a value (`blk_<num>`, `job_<num>_<num>_<num>`).
/// Shorter numbers and names without a number part (`jk2_init`) are kept.
/// Writes it between `around`'s two parts and says so; else writes nothing.
fn masked_underscored(s: &[u8], out: &mut Vec<u8>, around: (&[u8], &[u8])) -> bool {
    let mut parts = s.split(|&b| b == b'_');
    let Some(name) = parts.next() else {
        return false;
    };
    if name.is_empty() || !name.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let number = |p: &[u8]| {
        let digits = p.strip_prefix(b"-").unwrap_or(p);
        digits.len() >= 3 && digits.iter().all(u8::is_ascii_digit)
    };
    if !parts.clone().any(number) {
        return false;
    }
    out.extend_from_slice(around.0);
    // A first part that is a number too (`30546173_4261722401`) is one.
    if number(name) {
        out.extend_from_slice(b"<num>");
    } else {
        out.extend_from_slice(name);
    }
    for p in parts {
        out.push(b'_');
        if number(p) {
            out.extend_from_slice(b"<num>");
        } else {
            out.extend_from_slice(p);
        }
    }
    out.extend_from_slice(around.1);
    true
}

fn mask_part(part: &[u8], out: &mut Vec<u8>) {
    // `/10.0.0.1`, `#42`: a sign or slash before a value is kept.
    let lead = part
        .iter()
        .take_while(|b| matches!(b, b'/' | b'-' | b'+' | b'#' | b'$'))
        .count();
    match classify(&part[lead..]) {
        Some(kind) => {
            out.extend_from_slice(&part[..lead]);
            out.extend_from_slice(kind);
        }
        None => out.extend_from_slice(part),
    }
}

/// The placeholder for a whole value, or `None` when `s` is not one.
pub fn classify(s: &[u8]) -> Option<&'static [u8]> {
    let first = *s.first()?;
    if first == b'/' || s.starts_with(b"./") || s.starts_with(b"~/") || has_scheme(s) {
        return is_path(s).then_some(b"<path>");
    }
    if is_uuid(s) {
        return Some(b"<uuid>");
    }
    if s.len() > 2 && (s.starts_with(b"0x") || s.starts_with(b"0X")) {
        return s[2..].iter().all(u8::is_ascii_hexdigit).then_some(b"<hex>");
    }
    if first.is_ascii_digit() {
        if let Some(kind) = numeric(s) {
            return Some(kind);
        }
        if is_month_name_date(s) {
            return Some(b"<time>");
        }
        if is_version(s) {
            return Some(b"<num>");
        }
    }
    // A long run of hex digits with a digit in it: a hash, an id, an address.
    let hex = s.len() >= 8
        && s.iter().all(u8::is_ascii_hexdigit)
        && s.iter().any(u8::is_ascii_digit)
        && s.iter().any(u8::is_ascii_alphabetic);
    hex.then_some(b"<hex>")
}

/// `scheme://…`: letters, then `://` (the first `:`, as a scheme has none).
fn has_scheme(s: &[u8]) -> bool {
    memchr::memchr(b':', s).is_some_and(|i| {
        i > 0 && s[i + 1..].starts_with(b"//") && s[..i].iter().all(u8::is_ascii_alphabetic)
    })
}

/// A path has a letter after its first slash (`/10.0.0.1` is an address).
fn is_path(s: &[u8]) -> bool {
    s.len() > 1 && s.iter().any(u8::is_ascii_alphabetic)
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Digits with separators: an IPv4 address (with a port), a time or date, a
/// number (with a unit: `12ms`, `3.5GB`, `80%`).
fn numeric(s: &[u8]) -> Option<&'static [u8]> {
    let body = s
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'.' | b':' | b'-' | b'/' | b','))
        .count();
    let (value, unit) = s.split_at(body);
    let unit_ok = unit.is_empty()
        || (unit.len() <= 3 && unit.iter().all(u8::is_ascii_alphabetic))
        || unit == b"%";
    if !unit_ok || !value.last().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if is_ipv4(value) {
        return unit.is_empty().then_some(b"<ip>");
    }
    let seps = |c: u8| value.iter().filter(|&&b| b == c).count();
    let time = seps(b':') > 0 || seps(b'-') == 2 || seps(b'/') == 2 || seps(b'.') == 2;
    if time && unit.is_empty() {
        return Some(b"<time>");
    }
    // `1,234.5`, `-3`, `12ms`; not `1-2-3-4` or `a/b` shapes.
    let plain = value
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b','));
    (plain && seps(b'.') <= 1).then_some(b"<num>")
}

/// A date with an English month name, and its time if glued on:
/// `07/Dec/2026:16:21:35.455` (Common Log Format), `27-Jan-2026`.
fn is_month_name_date(s: &[u8]) -> bool {
    let day = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=2).contains(&day) || !matches!(s.get(day), Some(b'/' | b'-')) {
        return false;
    }
    let sep = s[day];
    let Some(month) = s.get(day + 1..day + 4) else {
        return false;
    };
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let month_ok = MONTHS.iter().any(|m| month.eq_ignore_ascii_case(&m[..]));
    let rest = &s[day + 4..];
    month_ok
        && rest.first() == Some(&sep)
        && rest[1..].iter().take_while(|b| b.is_ascii_digit()).count() == 4
        && rest[5..]
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.'))
}

/// A version: numbers joined by dots, with the letters and marks packagers
/// add (`15.18-0+deb12u1`, `2.6.5-1.358smp`, `1:2.36-9`, `1.0.0~rc1`).
fn is_version(s: &[u8]) -> bool {
    let dotted = s
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit());
    dotted
        && s.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b':' | b'-' | b'_')
        })
}

/// `1.2.3.4` or `1.2.3.4:80`.
fn is_ipv4(s: &[u8]) -> bool {
    let (addr, port) = match memchr::memchr(b':', s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let octets_ok = addr
        .split(|&b| b == b'.')
        .filter(|o| !o.is_empty() && o.len() <= 3 && o.iter().all(u8::is_ascii_digit));
    octets_ok.count() == 4
        && addr.iter().filter(|&&b| b == b'.').count() == 3
        && port.is_none_or(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_numbers_joined_by_underscores_is_an_identifier() {
        let masked = |t: &str| {
            let mut out = Vec::new();
            mask_token(t.as_bytes(), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(masked("blk_-1608999687919862906"), "blk_<num>");
        assert_eq!(
            masked("job_1445144423722_0020_000001"),
            "job_<num>_<num>_<num>"
        );
        assert_eq!(masked("(chunk_-4411223344556677889)"), "(chunk_<num>)");
        assert_eq!(masked("jk2_init()"), "jk2_init()");
        assert_eq!(masked("step_2"), "step_2");
        assert_eq!(masked("30546173_4261722401"), "<num>_<num>");
        assert_eq!(
            masked("[req-7d1c0e52-4b7a-4f0e-9a51-3c2f1b9e8d40"),
            "[req-<uuid>"
        );
        assert_eq!(
            masked("trace_7d1c0e52-4b7a-4f0e-9a51-3c2f1b9e8d40,"),
            "trace_<uuid>,"
        );
    }

    fn masked(t: &str) -> String {
        let mut out = Vec::new();
        mask_token(t.as_bytes(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn whole_values_become_typed_placeholders() {
        assert_eq!(masked("6725"), "<num>");
        assert_eq!(masked("-3.5"), "-<num>");
        assert_eq!(masked("12ms"), "<num>");
        assert_eq!(masked("0x7f3a"), "<hex>");
        assert_eq!(masked("deadbeef01"), "<hex>");
        assert_eq!(masked("218.188.2.4"), "<ip>");
        assert_eq!(masked("[173.234.31.186]"), "[<ip>]");
        assert_eq!(masked("10.0.0.1:8080,"), "<ip>,");
        assert_eq!(masked("550e8400-e29b-41d4-a716-446655440000"), "<uuid>");
        assert_eq!(masked("/etc/httpd/conf/workers2.properties"), "<path>");
        assert_eq!(masked("https://example.com/x?y=1"), "<path>");
        assert_eq!(masked("12:01:01"), "<time>");
        assert_eq!(masked("2005.11.09"), "<time>");
    }

    #[test]
    fn parts_of_tokens_are_masked_and_names_kept() {
        assert_eq!(masked("(uid=0)"), "(uid=<num>)");
        assert_eq!(masked("rhost=218.188.2.4"), "rhost=<ip>");
        assert_eq!(masked("user:57760"), "user:<num>");
        assert_eq!(masked("/10.10.34.11:45307"), "/<ip>:<num>");
        assert_eq!(masked("(HWID=1973)"), "(HWID=<num>)");
        assert_eq!(masked("dn228"), "dn228");
        assert_eq!(masked("ssh2"), "ssh2");
        assert_eq!(masked("jk2_init()"), "jk2_init()");
        assert_eq!(masked("failed"), "failed");
    }

    #[test]
    fn words_pass_unchanged_and_values_without_digits_are_still_seen() {
        assert_eq!(masked("connection,"), "connection,");
        assert_eq!(masked("abcdefab-abcd-abcd-abcd-abcdefabcdef"), "<uuid>");
        assert_eq!(masked("file:///var/log"), "<path>");
        assert_eq!(masked("a:b://c"), "a:b://c");
        assert_eq!(masked("[07/Dec/2026:16:21:35.455]"), "[<time>]");
        assert_eq!(masked("27-Jan-2026"), "<time>");
        assert_eq!(masked("15.18-0+deb12u1"), "<num>");
        assert_eq!(masked("(2.6.5-1.358smp)"), "(<num>)");
        assert_eq!(masked("2.36-9ubuntu1"), "<num>");
        assert_eq!(masked("12-jan"), "12-jan");
        assert_eq!(masked("~/notes"), "<path>");
    }
}
