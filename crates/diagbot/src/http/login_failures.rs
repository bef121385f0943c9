//! Wrong tokens per client address, to slow down guessing: past
//! [`FREE_FAILURES`] wrong tokens within [`WINDOW`], an address's next
//! sign-in attempts are answered 429 (with `Retry-After`) until the window
//! from its first failure has passed, right token or not. The map is
//! bounded: expired windows go first, then the oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens an address may send within a window before it waits.
pub const FREE_FAILURES: u32 = 5;
/// How long a window of failures lasts.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses followed at most.
const MAX_ADDRESSES: usize = 4096;

#[derive(Debug, Default)]
pub struct LoginFailures {
    by_address: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginFailures {
    /// How long `ip` must wait before its next attempt is heard; `None`: now.
    pub fn wait(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let map = self.lock();
        let &(since, failures) = map.get(&ip)?;
        let left = WINDOW.checked_sub(now.duration_since(since))?;
        (failures >= FREE_FAILURES && !left.is_zero()).then_some(left)
    }

    /// A wrong token from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self.lock();
        if !map.contains_key(&ip) && map.len() >= MAX_ADDRESSES {
            map.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            if map.len() >= MAX_ADDRESSES {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, (since, _))| *since)
                    .map(|(ip, _)| *ip);
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.by_address.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_its_free_failures_until_the_window_passes() {
        let f = LoginFailures::default();
        let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 2].into(), [127, 0, 0, 3].into());
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(f.wait(a, t0), None);
            f.failed(a, t0);
        }
        let waited = f.wait(a, t0 + Duration::from_secs(10));
        assert_eq!(waited, Some(Duration::from_secs(50)));
        assert_eq!(f.wait(b, t0), None, "another address is not slowed");
        assert_eq!(f.wait(a, t0 + WINDOW), None, "the window passed");
        f.failed(a, t0 + WINDOW);
        assert_eq!(f.wait(a, t0 + WINDOW), None, "a new window starts at one");
    }

    #[test]
    fn the_map_stays_bounded() {
        let f = LoginFailures::default();
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            f.failed(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert_eq!(f.lock().len(), MAX_ADDRESSES);
    }
}
