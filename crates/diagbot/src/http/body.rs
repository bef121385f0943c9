//! A request's body is read whole, within [`BODY_TIMEOUT`] and up to
//! [`MAX_BODY`] bytes, before a handler sees it: a client that drips a body
//! out byte by byte holds one of its address's places (`clients`) for 5 s,
//! not for the whole `http.request_timeout`. The read is inside that
//! per-address limit on purpose: outside it, requests waiting for their
//! bodies were bounded by nothing but the connections, and one address held
//! all of its 128 (two addresses every one of the 256, `/healthz` included).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::ApiError;

/// Largest request body accepted (a sign-in form or a mute is well under it).
pub const MAX_BODY: usize = 16 << 10;
/// How long a request's body may take to arrive once its head has.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The middleware: the request goes on with its body read whole, or is
/// answered 413 (too large), 408 (too slow) or 400 (cut off).
pub async fn read_whole(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let read = Limited::new(body, MAX_BODY).collect();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Ok(Err(e)) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {e}"),
            )
            .into_response()
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
            .into_response()
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is over {} KiB", MAX_BODY >> 10),
    )
    .into_response()
}
