//! The connections being served, so that one client cannot hold them all.
//! Each address may hold at most [`MAX_PER_CLIENT`] (half of them all): a
//! new one past that closes the address's own oldest connection with no
//! request in progress (idle between requests, or still sending its first
//! head). When every place is taken, the oldest such connection of anyone
//! makes room. Only when none is idle is the new one refused. So a flood
//! of half-open connections cannot lock out a health probe, from another
//! address or from the flood's own: an address has at most 64 requests in
//! progress (`http::clients`), fewer than its share of connections.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Connections one client address may hold: half of them all, more than
/// the requests it may have in progress (`clients::MAX_REQUESTS_PER_CLIENT`).
pub const MAX_PER_CLIENT: usize = 128;

/// What a new connection got.
pub enum Admission {
    /// Served; the place is given back when the ticket drops.
    In(Ticket),
    /// Its address holds its share already: closed.
    OverClientLimit,
    /// Every place is taken by requests in progress: closed.
    Full,
}

struct Entry {
    ip: IpAddr,
    busy: Arc<AtomicBool>,
    close: tokio::sync::watch::Sender<bool>,
}

#[derive(Default)]
struct Table {
    /// By the order they were opened.
    open: BTreeMap<u64, Entry>,
    per_ip: HashMap<IpAddr, usize>,
    next: u64,
}

/// The connections being served.
#[derive(Clone)]
pub struct Connections {
    table: Arc<Mutex<Table>>,
    max: usize,
}

/// One connection's place, and how it is told to close.
pub struct Ticket {
    table: Arc<Mutex<Table>>,
    id: u64,
    /// Set while a request is in progress.
    pub busy: Arc<AtomicBool>,
    /// Becomes true when the connection must close to make room.
    pub closed: tokio::sync::watch::Receiver<bool>,
}

impl Connections {
    pub fn new(max: usize) -> Connections {
        Connections {
            table: Arc::default(),
            max,
        }
    }

    /// A place for a new connection from `ip`, making room when full.
    pub fn admit(&self, ip: IpAddr) -> Admission {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if t.per_ip.get(&ip).copied().unwrap_or(0) >= MAX_PER_CLIENT.min(self.max) {
            if !close_oldest_idle(&mut t, Some(ip)) {
                return Admission::OverClientLimit;
            }
        } else if t.open.len() >= self.max && !close_oldest_idle(&mut t, None) {
            return Admission::Full;
        }
        let id = t.next;
        t.next += 1;
        let busy = Arc::new(AtomicBool::new(false));
        let (close, closed) = tokio::sync::watch::channel(false);
        t.open.insert(
            id,
            Entry {
                ip,
                busy: Arc::clone(&busy),
                close,
            },
        );
        *t.per_ip.entry(ip).or_insert(0) += 1;
        Admission::In(Ticket {
            table: Arc::clone(&self.table),
            id,
            busy,
            closed,
        })
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open
            .len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Closes the oldest connection with no request in progress (of `ip`
/// only, when given); whether there was one.
fn close_oldest_idle(t: &mut Table, ip: Option<IpAddr>) -> bool {
    let idle = t
        .open
        .iter()
        .find(|(_, e)| ip.is_none_or(|ip| e.ip == ip) && !e.busy.load(Ordering::Relaxed))
        .map(|(id, _)| *id);
    let Some(entry) = idle.and_then(|id| t.open.remove(&id)) else {
        return false;
    };
    let _ = entry.close.send(true);
    forget(&mut t.per_ip, entry.ip);
    true
}

fn forget(per_ip: &mut HashMap<IpAddr, usize>, ip: IpAddr) {
    if let Some(n) = per_ip.get_mut(&ip) {
        *n -= 1;
        if *n == 0 {
            per_ip.remove(&ip);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = t.open.remove(&self.id) {
            forget(&mut t.per_ip, e.ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn past_its_share_an_address_closes_its_own_oldest_idle_connection() {
        let c = Connections::new(256);
        let mut held = Vec::new();
        for _ in 0..MAX_PER_CLIENT {
            match c.admit(ip(2)) {
                Admission::In(t) => held.push(t),
                _ => panic!("within its share"),
            }
        }
        let Admission::In(newest) = c.admit(ip(2)) else {
            panic!("room made among its own")
        };
        assert!(*held[0].closed.borrow(), "its oldest idle one closed");
        assert!(!*held[1].closed.borrow());
        assert_eq!(c.len(), MAX_PER_CLIENT, "still its share, no more");
        for t in &held[1..] {
            t.busy.store(true, Ordering::Relaxed);
        }
        newest.busy.store(true, Ordering::Relaxed);
        assert!(
            matches!(c.admit(ip(2)), Admission::OverClientLimit),
            "all its own busy: refused"
        );
        assert!(matches!(c.admit(ip(3)), Admission::In(_)), "others get in");
    }

    #[test]
    fn when_full_the_oldest_idle_connection_makes_room_and_busy_ones_stay() {
        let c = Connections::new(4);
        let tickets: Vec<Ticket> = (1..=4)
            .map(|i| match c.admit(ip(i)) {
                Admission::In(t) => t,
                _ => panic!("room"),
            })
            .collect();
        tickets[0].busy.store(true, Ordering::Relaxed);
        let Admission::In(_new) = c.admit(ip(9)) else {
            panic!("room made")
        };
        assert!(
            !*tickets[0].closed.borrow(),
            "a request in progress is kept"
        );
        assert!(*tickets[1].closed.borrow(), "the oldest idle one is closed");
        assert_eq!(c.len(), 4);
        for t in &tickets {
            t.busy.store(true, Ordering::Relaxed);
        }
        drop(_new);
        let Admission::In(t10) = c.admit(ip(10)) else {
            panic!("the dropped one's place")
        };
        t10.busy.store(true, Ordering::Relaxed);
        assert!(
            matches!(c.admit(ip(11)), Admission::Full),
            "all busy: refused"
        );
    }
}
