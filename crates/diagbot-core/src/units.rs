//! The units the core's own sentences use (trend texts, event descriptions,
//! restart loops): MiB and spans of time. One definition, so "6.4 MiB/min"
//! and "52 min" read the same in every message. Front ends format their own
//! figures (diagbot's `present` module); these are for words the core writes.

/// Bytes in a MiB.
pub const MIB: f64 = (1u64 << 20) as f64;

/// Bytes as MiB, for `{:.0} MiB` or `{:.1} MiB/min`.
pub fn mib(bytes: f64) -> f64 {
    bytes / MIB
}

/// "8 min", or "40 s" under a minute.
pub fn minutes(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}

/// "40 s", "58 min", "4 h": for spans that may run to hours.
pub fn long_span(secs: f64) -> String {
    if secs < 2.0 * 3600.0 {
        minutes(secs)
    } else {
        format!("{:.0} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_the_unit_a_person_expects() {
        assert_eq!(minutes(40.0), "40 s");
        assert_eq!(minutes(59.4), "59 s");
        assert_eq!(minutes(60.0), "1 min");
        assert_eq!(minutes(3120.0), "52 min");
        assert_eq!(long_span(3480.0), "58 min");
        assert_eq!(long_span(7199.0), "120 min");
        assert_eq!(long_span(4.0 * 3600.0), "4 h");
    }

    #[test]
    fn mib_of_bytes() {
        assert_eq!(mib(6.4 * MIB), 6.4);
        assert_eq!(mib((552u64 << 20) as f64), 552.0);
    }
}
