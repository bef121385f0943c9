//! The HTTP API (axum): JSON under `/api/v1/`, Prometheus text at `/metrics`,
//! `/healthz`. Every error is JSON `{"error": …, "parameter": …}`.

use std::sync::Arc;

use axum::extract::{FromRef, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::dashboard::login;
use crate::state::AppState;

pub mod api;
pub mod body;
pub mod budget;
pub mod clients;
pub mod connections;
mod error;
pub mod host;
pub mod login_failures;
pub mod serve;

pub use error::ApiError;

/// What the HTTP front end keeps for itself beside the daemon's shared
/// state: the limits that protect it from its clients.
#[derive(Clone)]
pub struct HttpState {
    /// What every front end shares.
    pub app: Arc<AppState>,
    /// This front end's own limits.
    pub limits: Arc<Limits>,
}

/// The HTTP front end's limits on what its clients can hold.
#[derive(Default)]
pub struct Limits {
    /// The byte budget of answers being computed or sent.
    pub answers_in_flight: budget::Budget,
    /// Requests in flight per client address.
    pub clients: clients::Clients,
    /// Wrong tokens per address, to slow down guessing.
    pub login_failures: login_failures::LoginFailures,
}

// Handlers that need only the shared state ask for it alone.
impl FromRef<HttpState> for Arc<AppState> {
    fn from_ref(http: &HttpState) -> Self {
        Arc::clone(&http.app)
    }
}

impl FromRef<HttpState> for Arc<Limits> {
    fn from_ref(http: &HttpState) -> Self {
        Arc::clone(&http.limits)
    }
}

/// Longest request target accepted (a pattern is at most 4 KiB, escaped up to three times that).
pub const MAX_URI: usize = 16 << 10;

/// The daemon's routes, each with the HTTP front end's limits (new for this router).
pub fn router(app: Arc<AppState>) -> Router {
    let state = HttpState {
        app,
        limits: Arc::default(),
    };
    Router::new()
        .route("/api/v1/grep", get(api::grep))
        .route("/api/v1/errors", get(api::errors))
        .route("/api/v1/groups", get(api::groups))
        .route("/api/v1/groups/mutes", get(api::mutes))
        .route("/api/v1/groups/mute", post(api::mute))
        .route("/api/v1/groups/unmute", post(api::unmute))
        .route("/api/v1/cache", get(api::cache))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/oom", get(api::oom))
        .route("/api/v1/history", get(api::history))
        .route("/api/v1/explain", get(api::explain))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .merge(crate::dashboard::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(api::one_value_each))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state.app),
            count_requests,
        ))
        // Inside the client limit: a request waiting for its body holds one
        // of its address's 64 places (for at most the body's 5 s), so an
        // address cannot hold every connection with bodies it never sends.
        .layer(middleware::from_fn(body::read_whole))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            clients::limit,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state.app),
            time_limit,
        ))
        .layer(middleware::from_fn(uri_limit))
        .with_state(state)
}

/// Routes that take POST (a JSON body) rather than GET.
const POST_ROUTES: [&str; 2] = ["/api/v1/groups/mute", "/api/v1/groups/unmute"];

/// 405 with the documented JSON body, and the methods that are allowed.
async fn method_not_allowed(req: Request) -> Response {
    let post = POST_ROUTES.contains(&req.uri().path());
    let allowed = if post { "POST" } else { "GET" };
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed here: use {allowed}", req.method()),
    )
    .into_response();
    response.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_static(if post { "POST" } else { "GET,HEAD" }),
    );
    response
}

/// 414 with the documented JSON body for a request target past `MAX_URI`.
async fn uri_limit(req: Request, next: Next) -> Response {
    let length = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if length > MAX_URI {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {length} bytes, over the {MAX_URI} accepted"),
        )
        .into_response();
    }
    next.run(req).await
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such route: {}", req.uri().path()),
    )
}

/// With a token configured, every request needs it: `Authorization: Bearer
/// TOKEN`, or the dashboard's cookie; a browser asking for the dashboard
/// without it gets the login form (see `dashboard::login`).
async fn authorize(State(http): State<HttpState>, req: Request, next: Next) -> Response {
    let settings = http.app.settings();
    if settings.http.token.is_empty() {
        let named = req
            .headers()
            .get(header::HOST)
            .map(|h| h.to_str().unwrap_or("\u{fffd}"));
        if !host::names_this_daemon(named, settings.http.listen, &settings.http.allowed_hosts) {
            return ApiError::new(StatusCode::MISDIRECTED_REQUEST, format!(
                    "Host {:?} does not name this daemon: without http.token only {}, localhost and http.allowed_hosts are answered (against DNS rebinding)",
                    named.unwrap_or_default(),
                    settings.http.listen.ip()
                ))
            .into_response();
        }
    }
    // A request that tries a token (the form, `?token=` on a page, a Bearer
    // header, the cookie) from an address that has sent too many wrong ones
    // waits, right token or not (else a guess could still be told right);
    // wrong ones are counted.
    let attempt = login::is_attempt(req.method(), req.uri(), req.headers())
        .then(|| req.extensions().get::<clients::Peer>().map(|p| p.0));
    if let Some(Some(ip)) = attempt {
        if let Some(wait) = http
            .limits
            .login_failures
            .wait(ip, std::time::Instant::now())
        {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many wrong tokens from {ip}: try again in {} s",
                    wait.as_secs().max(1)
                ),
            )
            .into_response();
            if let Ok(v) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    }
    let counted = |response: Response| {
        if let Some(Some(ip)) = attempt {
            if response.status() == StatusCode::UNAUTHORIZED {
                http.limits
                    .login_failures
                    .failed(ip, std::time::Instant::now());
            }
        }
        response
    };
    match login::gate(req.method(), req.uri(), req.headers(), &settings.http.token) {
        login::Gate::Pass => counted(next.run(req).await),
        login::Gate::Respond(response) => counted(response),
        login::Gate::Refuse => {
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token")
                    .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            counted(response)
        }
    }
}

/// Answers 408 when a request runs past `http.request_timeout`, read per
/// request so that a reload applies at once.
async fn time_limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let limit = state.settings().http.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request took longer than {} (http.request_timeout)",
                diagbot_core::config::units::write_duration(limit)
            ),
        )
        .into_response(),
    }
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
        .get_or_create(&crate::metrics::RequestLabels {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
