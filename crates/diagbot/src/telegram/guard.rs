//! Who may ask, and how often. Only allowed chats get answers; any other chat
//! is told its own chat id (so its owner can add it) at most once an hour, and
//! nothing else. Allowed chats are rate-limited with a token bucket (by
//! default about one command a second, bursts of five; `telegram.commands_per_second`
//! and `telegram.command_burst`), and get one polite notice when they run dry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use crate::settings::RateLimit;

/// A refused chat is told so at most once per this.
const REFUSAL_EVERY: Duration = Duration::from_secs(3600);
/// Chats remembered at most (refusals and buckets); the stalest go first.
const MAX_CHATS: usize = 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Answer,
    /// Not allowed: send the refusal.
    Refuse,
    /// Not allowed, and told so within the hour: say nothing.
    Ignore,
    /// Too fast: send the notice (once per dry spell).
    SlowDown,
    /// Too fast, and told so: say nothing.
    Drop,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    warned: bool,
}

pub struct Guard {
    allowed: Vec<i64>,
    rate: RateLimit,
    refused: HashMap<i64, Instant>,
    buckets: HashMap<i64, Bucket>,
}

impl Guard {
    pub fn new(allowed: Vec<i64>, rate: RateLimit) -> Guard {
        Guard {
            allowed,
            rate,
            refused: HashMap::new(),
            buckets: HashMap::new(),
        }
    }

    /// A new allowlist and rate (a reload); what was remembered stays.
    /// The limits in effect.
    pub fn rate(&self) -> RateLimit {
        self.rate
    }

    pub fn set_allowed(&mut self, allowed: Vec<i64>, rate: RateLimit) {
        self.allowed = allowed;
        self.rate = rate;
    }

    pub fn check(&mut self, chat: i64, now: Instant) -> Verdict {
        if !self.allowed.contains(&chat) {
            if self
                .refused
                .get(&chat)
                .is_some_and(|&at| now.duration_since(at) < REFUSAL_EVERY)
            {
                return Verdict::Ignore;
            }
            bound(&mut self.refused, |at| *at);
            self.refused.insert(chat, now);
            return Verdict::Refuse;
        }
        if !self.buckets.contains_key(&chat) {
            bound(&mut self.buckets, |b| b.at);
        }
        let RateLimit { per_second, burst } = self.rate;
        let bucket = self.buckets.entry(chat).or_insert(Bucket {
            tokens: burst,
            at: now,
            warned: false,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.warned = false;
            Verdict::Answer
        } else if bucket.warned {
            Verdict::Drop
        } else {
            bucket.warned = true;
            Verdict::SlowDown
        }
    }
}

/// The notice a chat gets when it runs dry, with the limits in effect.
pub fn slow_down_notice(rate: RateLimit) -> String {
    let RateLimit { per_second, burst } = rate;
    let pace = if per_second >= 1.0 {
        let n = trim(per_second);
        let s = if n == "1" { "" } else { "s" };
        format!("{n} command{s} a second")
    } else {
        format!(
            "one command every {} s",
            trim(1.0 / per_second.max(f64::MIN_POSITIVE))
        )
    };
    format!("Slow down, please: {pace} (bursts of {}).", trim(burst))
}

/// A number as people write it: no trailing `.0`, at most one decimal.
fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// Keeps `map` under `MAX_CHATS` by dropping its stalest entry.
fn bound<V>(map: &mut HashMap<i64, V>, at: impl Fn(&V) -> Instant) {
    if map.len() < MAX_CHATS {
        return;
    }
    if let Some(stalest) = map.iter().min_by_key(|(_, v)| at(v)).map(|(k, _)| *k) {
        map.remove(&stalest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strangers_are_refused_once_an_hour() {
        let mut g = Guard::new(vec![1], RateLimit::default());
        let t = Instant::now();
        assert_eq!(g.check(2, t), Verdict::Refuse);
        assert_eq!(g.check(2, t + Duration::from_secs(60)), Verdict::Ignore);
        assert_eq!(g.check(2, t + Duration::from_secs(3601)), Verdict::Refuse);
    }

    #[test]
    fn an_empty_list_allows_nobody() {
        let mut g = Guard::new(vec![], RateLimit::default());
        assert_eq!(g.check(1, Instant::now()), Verdict::Refuse);
    }

    #[test]
    fn the_notice_says_the_limits_in_effect() {
        let default = slow_down_notice(RateLimit::default());
        assert_eq!(
            default,
            "Slow down, please: 1 command a second (bursts of 5)."
        );
        let configured = slow_down_notice(RateLimit {
            per_second: 0.5,
            burst: 3.0,
        });
        assert_eq!(
            configured,
            "Slow down, please: one command every 2 s (bursts of 3)."
        );
        let fast = slow_down_notice(RateLimit {
            per_second: 2.5,
            burst: 10.0,
        });
        assert_eq!(
            fast,
            "Slow down, please: 2.5 commands a second (bursts of 10)."
        );
    }

    #[test]
    fn bursts_of_five_then_one_a_second() {
        let mut g = Guard::new(vec![1], RateLimit::default());
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(g.check(1, t), Verdict::Answer);
        }
        assert_eq!(g.check(1, t), Verdict::SlowDown);
        assert_eq!(g.check(1, t), Verdict::Drop);
        assert_eq!(g.check(1, t + Duration::from_millis(1000)), Verdict::Answer);
        assert_eq!(
            g.check(1, t + Duration::from_millis(1100)),
            Verdict::SlowDown
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut g = Guard::new(vec![], RateLimit::default());
        let t = Instant::now();
        for chat in 0..5000 {
            g.check(chat, t + Duration::from_millis(chat as u64));
        }
        assert!(g.refused.len() <= MAX_CHATS);
    }
}
