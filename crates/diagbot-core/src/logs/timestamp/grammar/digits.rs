//! Digit runs and their values: the bytes every form is made of.

/// The length of the run of digits at `s[at..]`, counting at most 20.
#[inline]
pub(super) fn digit_run(s: &[u8], at: usize) -> usize {
    let mut n = 0;
    while n < 20 && at + n < s.len() && s[at + n].is_ascii_digit() {
        n += 1;
    }
    n
}

/// The value of `n` digits at `at` (the caller has counted them).
#[inline]
pub(super) fn number(s: &[u8], at: usize, n: usize) -> u64 {
    let mut value = 0u64;
    for &b in &s[at..at + n] {
        value = value * 10 + u64::from(b - b'0');
    }
    value
}

#[inline]
pub(super) fn small(s: &[u8], at: usize, n: usize) -> u32 {
    number(s, at, n) as u32
}

/// Nanoseconds of a fraction written with `n` digits at `at` (digits past nine ignored).
pub(super) fn fraction_nanos(s: &[u8], at: usize, n: usize) -> u32 {
    let used = n.min(9);
    small(s, at, used) * 10u32.pow((9 - used) as u32)
}

pub(super) fn glued_to_more(s: &[u8], at: usize) -> bool {
    s.get(at).is_some_and(u8::is_ascii_alphanumeric)
}
