//! The accept loop: HTTP/1.1 connections served by hyper with the limits a
//! long-lived daemon needs. At most `MAX_CONNECTIONS` at once (well under the
//! unit's `LimitNOFILE`; past it a new connection is closed at once, so the
//! ones being served keep their file descriptors); a connection that sends
//! no complete request head within `HEAD_TIMEOUT` — a slow client, a
//! half-sent request, or an idle keep-alive — is closed; when `accept`
//! fails (EMFILE) the loop backs off instead of spinning, and keeps serving.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// A request head (or the next one on a kept-alive connection) must arrive
/// within this, or within `http.request_timeout` when that is shorter.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait after `accept` failed (out of file descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The router's service for one connection: each request carries the
/// client's address (for the per-client limit).
fn with_peer(
    router: Router,
    ip: std::net::IpAddr,
) -> TowerToHyperService<
    impl tower::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone,
> {
    use tower::ServiceExt;
    TowerToHyperService::new(router.map_request(
        move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(super::clients::Peer(ip));
            req
        },
    ))
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
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Full: closed at once rather than queued holding a descriptor.
            refused();
            drop(stream);
            continue;
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEAD_TIMEOUT.min(request_timeout()))
            // Room for a request target up to `MAX_URI` (answered 414 in
            // JSON past it); past this hyper answers on its own.
            .max_buf_size(4 * super::MAX_URI)
            .serve_connection(TokioIo::new(stream), with_peer(service.clone(), peer.ip()));
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is no error of ours.
            let _ = watched.await;
            drop(slot);
        });
    }
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {grace:?}; stopping anyway");
    }
}
