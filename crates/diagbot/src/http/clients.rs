//! The per-client limit on the API: one client (a script in a loop, a
//! flood) cannot hold every scan slot and the whole answer budget while
//! others wait. Past `MAX_REQUESTS_PER_CLIENT` at once, a client's next
//! request gets 429 with `Retry-After` at once, costing nothing. The
//! accept loop tags each request with its client's address ([`Peer`]).

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::state::AppState;

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
pub async fn limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(Peer(ip)) = req.extensions().get::<Peer>().copied() else {
        return next.run(req).await;
    };
    if UNLIMITED_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Some(_slot) = state.clients.enter(ip, MAX_REQUESTS_PER_CLIENT) else {
        state.metrics.refused_requests.inc();
        let mut response = ApiError {
            error: format!(
                "more than {MAX_REQUESTS_PER_CLIENT} requests at once from {ip}: try again shortly"
            ),
            parameter: None,
            status: StatusCode::TOO_MANY_REQUESTS,
        }
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(req).await
}
