//! The per-client limit on the API: one client (a script in a loop, a
//! flood) cannot hold every scan slot and the whole answer budget while
//! others wait. Past `MAX_REQUESTS_PER_CLIENT` at once, a client's next
//! request gets 429 with `Retry-After` at once, costing nothing. The
//! accept loop tags each request with its client's address ([`Peer`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, HttpState};

/// Requests one client address may have in flight (a quarter of the connections).
pub const MAX_REQUESTS_PER_CLIENT: usize = 64;

/// The client's address, put on each request by the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

/// Paths never limited: they are cheap (no scan, no large answer), and a
/// liveness probe or a scrape refused under a flood from its own address
/// would restart, or mark down, a daemon that is answering.
pub const UNLIMITED_PATHS: [&str; 2] = ["/healthz", "/metrics"];

/// The middleware: 429 past the limit (requests without a peer, in tests
/// that call the router directly, are not limited).
pub async fn limit(State(http): State<HttpState>, req: Request, next: Next) -> Response {
    let Some(Peer(ip)) = req.extensions().get::<Peer>().copied() else {
        return next.run(req).await;
    };
    if UNLIMITED_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Some(_slot) = http.limits.clients.enter(ip, MAX_REQUESTS_PER_CLIENT) else {
        http.app.metrics.refused_requests.inc();
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {MAX_REQUESTS_PER_CLIENT} requests at once from {ip}: try again shortly"
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(req).await
}

// Requests in flight per address: a place is taken per request and given
// back when it ends; an address leaves the map with its last request, so the
// map holds no more than the connections open.

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
