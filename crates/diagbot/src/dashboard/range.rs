//! The spans the dashboard offers (`?range=`): 15 min, 1 h, 6 h, 24 h, 7 d, 30 d.

/// A span ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// A restart or a spike as it happens, at the sampling's own step.
    QuarterHour,
    Hour,
    SixHours,
    Day,
    Week,
    Month,
}

impl Range {
    /// Every range, shortest first, as the page lists them.
    pub const ALL: [Range; 6] = [
        Range::QuarterHour,
        Range::Hour,
        Range::SixHours,
        Range::Day,
        Range::Week,
        Range::Month,
    ];

    /// What the page shows when the URL names none: a few of the origin
    /// story's hourly climbs.
    pub const DEFAULT: Range = Range::SixHours;

    /// `15m`, `1h`, `6h`, `24h`, `7d` or `30d`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.name() == s)
    }

    /// The name in `?range=`.
    pub fn name(self) -> &'static str {
        match self {
            Range::QuarterHour => "15m",
            Range::Hour => "1h",
            Range::SixHours => "6h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Range::QuarterHour => 900,
            Range::Hour => 3600,
            Range::SixHours => 6 * 3600,
            Range::Day => 24 * 3600,
            Range::Week => 7 * 86400,
            Range::Month => 30 * 86400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for r in Range::ALL {
            assert_eq!(Range::parse(r.name()), Some(r));
        }
        assert_eq!(Range::parse("2h"), None);
        assert_eq!(Range::parse(""), None);
        assert_eq!(Range::Week.seconds(), 604_800);
        assert_eq!(Range::parse("15m"), Some(Range::QuarterHour));
        assert_eq!(Range::ALL[0].seconds(), 900, "the shortest is 15 min");
    }
}
