//! Requests in flight per client address, for the API's per-client limit
//! (`http::clients`): a place is taken per request and given back when the
//! request ends; an address leaves the map with its last request, so the map
//! holds no more than the connections open.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Requests in flight, by client address (an address leaves the map with its last request).
#[derive(Debug, Default)]
pub struct Clients {
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

/// One request's place; given back when dropped (answered, or the client left).
pub struct Slot<'c> {
    clients: &'c Clients,
    ip: IpAddr,
}

impl Clients {
    /// A place for one more request of `ip`, unless it has `limit` already.
    pub fn enter(&self, ip: IpAddr, limit: usize) -> Option<Slot<'_>> {
        let mut map = self.lock();
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot { clients: self, ip })
    }

    /// Requests of `ip` in flight.
    pub fn in_flight(&self, ip: IpAddr) -> usize {
        self.lock().get(&ip).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self.clients.lock();
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_past_its_limit_is_refused_until_one_of_its_requests_ends() {
        let clients = Clients::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = clients.enter(a, 2).unwrap();
        let _second = clients.enter(a, 2).unwrap();
        assert!(clients.enter(a, 2).is_none());
        assert!(
            clients.enter(b, 2).is_some(),
            "another client is not held up"
        );
        drop(first);
        assert!(clients.enter(a, 2).is_some());
    }

    #[test]
    fn an_address_leaves_the_map_with_its_last_request() {
        let clients = Clients::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        drop(clients.enter(a, 1));
        assert_eq!(clients.in_flight(a), 0);
        assert!(clients.lock().is_empty());
    }
}
