//! Cutting a large file into parts that several threads scan at once.
//!
//! A part starts at the start of a line, so no line is cut. A scan that must
//! know each line's time (a time window, `errors`) carries the last
//! timestamp from line to line; there a part starts only at a line with a
//! timestamp of its own, so that it needs nothing from the part before it.
//! The parts' tallies are then joined in order ([`FileTally::extend`]), with
//! line numbers shifted by the lines of the parts before.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::scan::FileTally;

/// How far past a nominal cut the next suitable line start is looked for;
/// past it, that cut is dropped (the parts around it are joined).
const LOOK_AHEAD: u64 = 1 << 20;

/// Where to cut `[from, to)` of `file` into at most `parts` parts of at least
/// `min_part` bytes: offsets of line starts for which `starts_part(line)`
/// holds, with `from` first and `to` last (just `[from, to]`: no cut).
pub fn cut_points(
    file: &File,
    from: u64,
    to: u64,
    parts: usize,
    min_part: u64,
    starts_part: impl Fn(&[u8]) -> bool,
) -> Vec<u64> {
    let len = to.saturating_sub(from);
    let parts = (parts as u64).min(len / min_part.max(1)).max(1);
    let mut cuts = vec![from];
    let mut buf = Vec::new();
    for i in 1..parts {
        let nominal = from + len / parts * i;
        let last = cuts.last().copied().unwrap_or(from);
        if nominal < last + min_part {
            continue;
        }
        if let Some(at) = line_start_after(file, nominal, to, &mut buf, &starts_part) {
            if at < to && to - at >= min_part {
                cuts.push(at);
            }
        }
    }
    cuts.push(to);
    cuts
}

/// The first start of a line past `nominal` (not the line `nominal` is in)
/// and before `to` that `starts_part` accepts, within [`LOOK_AHEAD`] bytes.
fn line_start_after(
    file: &File,
    nominal: u64,
    to: u64,
    buf: &mut Vec<u8>,
    starts_part: &impl Fn(&[u8]) -> bool,
) -> Option<u64> {
    let want = to.saturating_sub(nominal).min(LOOK_AHEAD) as usize;
    buf.resize(want, 0);
    let mut filled = 0;
    while filled < want {
        match file.read_at(&mut buf[filled..], nominal + filled as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    let window = &buf[..filled];
    let mut start = memchr::memchr(b'\n', window)? + 1;
    // Whole lines only: one that runs past the window is not looked at.
    while let Some(len) = memchr::memchr(b'\n', &window[start..]) {
        if starts_part(&window[start..start + len]) {
            return Some(nominal + start as u64);
        }
        start += len + 1;
    }
    None
}

/// Joins `part`, a tally of the bytes that follow `whole`'s and whose line
/// numbers count from the part's own start, onto `whole`.
pub fn join_part(whole: &mut FileTally, mut part: FileTally, max_lines: usize) {
    let before = whole.lines;
    part.lines += before;
    for kept in part.ring.iter_mut() {
        kept.line_number += before;
    }
    whole.extend(&part, max_lines);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn cuts_fall_on_line_starts_that_the_rule_accepts() {
        // Entries of a timestamped line and two continuation lines.
        let entry = "2026-01-27 10:00:00 ERROR x\n  at frame one\n  at frame two\n";
        let text = entry.repeat(2000);
        let f = file_with(&text);
        let cuts = cut_points(&f, 0, text.len() as u64, 4, 10_000, |line| {
            line.starts_with(b"2026")
        });
        assert_eq!(cuts.first(), Some(&0));
        assert_eq!(cuts.last(), Some(&(text.len() as u64)));
        assert_eq!(cuts.len(), 5, "{cuts:?}");
        for &c in &cuts[1..cuts.len() - 1] {
            assert!(text[c as usize..].starts_with("2026"), "{c}");
        }
        assert!(cuts.windows(2).all(|w| w[1] - w[0] >= 10_000));
    }

    #[test]
    fn no_cut_without_room_or_without_a_line_the_rule_accepts() {
        let text = "a line\n".repeat(1000);
        let f = file_with(&text);
        let len = text.len() as u64;
        // Too small for two parts.
        assert_eq!(cut_points(&f, 0, len, 4, len, |_| true), [0, len]);
        // No line starts a part.
        assert_eq!(cut_points(&f, 0, len, 4, 100, |_| false), [0, len]);
        // One line, no newline inside: nowhere to cut.
        let one = "x".repeat(300_000);
        let g = file_with(&one);
        assert_eq!(cut_points(&g, 0, 300_000, 4, 1000, |_| true), [0, 300_000]);
    }
}
