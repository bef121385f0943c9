//! The HTTP API (axum): JSON under `/api/v1/`, Prometheus text at `/metrics`,
//! `/healthz`. Every error is JSON `{"error": …, "parameter": …}`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::daemon::AppState;

pub mod api;
pub mod metrics;

/// Largest request body accepted (the API takes none; this bounds what a client can push).
const MAX_BODY: usize = 16 << 10;

pub fn router(state: Arc<AppState>) -> Router {
    let timeout = state
        .settings()
        .request_timeout
        .max(Duration::from_millis(100));
    Router::new()
        .route("/api/v1/grep", get(api::grep))
        .route("/api/v1/errors", get(api::errors))
        .route("/api/v1/cache", get(api::cache))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/oom", get(api::oom))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            count_requests,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

#[derive(Serialize)]
pub struct ApiError {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(skip)]
    pub status: StatusCode,
}

impl ApiError {
    pub fn bad(parameter: &str, error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            parameter: Some(parameter.to_string()),
            status: StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

async fn not_found(req: Request) -> ApiError {
    ApiError {
        error: format!("no such route: {}", req.uri().path()),
        parameter: None,
        status: StatusCode::NOT_FOUND,
    }
}

/// With a token configured, every request needs `Authorization: Bearer TOKEN`.
async fn authorize(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let settings = state.settings();
    if settings.token.is_empty() {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|t| constant_time_eq(t.as_bytes(), settings.token.expose().as_bytes())) {
        return next.run(req).await;
    }
    let mut response = ApiError {
        error: "missing or wrong bearer token".into(),
        parameter: None,
        status: StatusCode::UNAUTHORIZED,
    }
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn count_requests(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let response = next.run(req).await;
    state
        .metrics
        .http_requests
        .get_or_create(&metrics::RequestLabels {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
