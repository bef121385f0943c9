//! The accept loop: HTTP/1.1 connections served by hyper with the limits a
//! long-lived daemon needs. At most `MAX_CONNECTIONS` at once (well under the
//! unit's `LimitNOFILE`), at most a quarter of them from one address, and
//! when all are taken the oldest idle one makes room ([`super::connections`]);
//! a connection that sends
//! no complete request head within `HEAD_TIMEOUT` — a slow client, a
//! half-sent request, or an idle keep-alive — is closed; when `accept`
//! fails (EMFILE) the loop backs off instead of spinning, and keeps serving.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::connections::{Admission, Connections};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// A request head (or the next one on a kept-alive connection) must arrive
/// within this, or within `http.request_timeout` when that is shorter.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait after `accept` failed (out of file descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The router's service for one connection: each request carries the
/// client's address (for the per-client limit), and the connection is
/// marked busy while a request is in progress.
fn with_peer(
    router: Router,
    ip: std::net::IpAddr,
    busy: Arc<AtomicBool>,
) -> TowerToHyperService<
    impl tower::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone,
> {
    use tower::ServiceExt;
    let done = Arc::clone(&busy);
    TowerToHyperService::new(
        router
            .map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
                busy.store(true, Ordering::Relaxed);
                req.extensions_mut().insert(super::clients::Peer(ip));
                req
            })
            .map_response(move |response| {
                done.store(false, Ordering::Relaxed);
                response
            }),
    )
}

/// Serves `router` on `listener` until `stop`, then lets requests in flight
/// finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: impl Future<Output = ()>,
    grace: Duration,
    request_timeout: impl Fn() -> Duration,
    refused: impl Fn() + Send + Sync + 'static,
) {
    let connections = Connections::new(MAX_CONNECTIONS);
    let graceful = GracefulShutdown::new();
    let service = router;
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let ticket = match connections.admit(peer.ip()) {
            Admission::In(ticket) => ticket,
            // Its address holds its share, or every place serves a request:
            // closed at once rather than queued holding a descriptor.
            Admission::OverClientLimit | Admission::Full => {
                refused();
                drop(stream);
                continue;
            }
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEAD_TIMEOUT.min(request_timeout()))
            // Room for a request target up to `MAX_URI` (answered 414 in
            // JSON past it); past this hyper answers on its own.
            .max_buf_size(4 * super::MAX_URI)
            .serve_connection(
                TokioIo::new(stream),
                with_peer(service.clone(), peer.ip(), Arc::clone(&ticket.busy)),
            );
        let watched = graceful.watch(connection);
        let mut closed = ticket.closed.clone();
        tokio::spawn(async move {
            // A client that goes away or times out is no error of ours; a
            // connection closed to make room is dropped here.
            tokio::select! {
                _ = watched => {}
                _ = closed.wait_for(|c| *c) => {}
            }
            drop(ticket);
        });
    }
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {grace:?}; stopping anyway");
    }
}
