//! The dashboard at `/` and `/dashboard`: the status now and the history as
//! SVG charts drawn here, so the page shows them without JavaScript; its
//! small script (embedded, no CDN, no build step) fetches `/api/v1/status`
//! and `/api/v1/history` every `health.sample_interval` and draws the same
//! charts again, and switches ranges in place. With `http.token` set, a
//! browser signs in once ([`login`]) and carries a cookie ([`auth`]).

pub mod auth;
pub mod charts;
pub mod escape;
pub mod groups;
mod headers;
pub mod login;
pub mod page;
pub mod range;
pub mod svg;
mod ticks;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::grouping;
use crate::history::{self, model::HistoryAnswer, model::HistoryRequest};
use crate::state::AppState;
use charts::Frame;
use diagbot_core::groups::{GroupsQuery, GroupsResult, DAEMON_MAX_GROUPS};
use diagbot_core::when::TimeBound;
use range::Range;

/// The page's addresses.
pub const PAGES: [&str; 2] = ["/", "/dashboard"];
/// Where the script, the style sheet and the icon are served.
pub const ASSETS: &str = "/dashboard/assets/";
/// The assets' names: served without the token (they hold no data), and
/// nothing else beneath `ASSETS` is.
pub const ASSET_FILES: [&str; 3] = ["app.js", "style.css", "icon.svg"];
/// Where the login form posts.
pub const LOGIN: &str = "/login";

const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
const ICON: &str = include_str!("assets/icon.svg");

/// The dashboard's routes, for the HTTP router to merge.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<AppState>: axum::extract::FromRef<S>,
{
    Router::new()
        .route(PAGES[0], get(show))
        .route(PAGES[1], get(show))
        .route("/dashboard/assets/app.js", get(script))
        .route("/dashboard/assets/style.css", get(style))
        .route("/dashboard/assets/icon.svg", get(icon))
        .route(LOGIN, post(login::submit))
}

/// The page for `?range=` (the default range when none or an unknown one is given).
async fn show(
    State(state): State<Arc<AppState>>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let asked = params.get("range");
    let range = asked
        .and_then(|r| Range::parse(r))
        .unwrap_or(Range::DEFAULT);
    let unknown_range = asked.filter(|r| Range::parse(r).is_none());
    let frame = Frame::of(range, chrono::Utc::now().timestamp());
    let settings = state.settings();
    let queries: Vec<String> = settings
        .core
        .refresh
        .iter()
        .map(|q| q.name.clone())
        .collect();
    let status = state.status().await.map_err(|e| e.to_string());
    let history = match &status {
        Ok(status) => read_history(&state, status, &queries, frame).await,
        Err(_) => Err("the status, which names the services, could not be read".into()),
    };
    let groups = read_groups(&state, range, GROUPS_WAIT).await;
    let html = page::render(&page::Page {
        range,
        unknown_range: unknown_range.map(String::as_str),
        frame,
        status: status.as_ref().map_err(Clone::clone),
        history: history.as_ref().map_err(Clone::clone),
        queries: &queries,
        refresh: settings.core.health.sample_interval,
        groups: groups.as_ref().map_err(Clone::clone),
        daemon: &daemon_url(&headers, settings.http.listen),
    });
    (headers::page(), html).into_response()
}

/// The URL the page was asked at (its `Host`), for the commands it
/// suggests; else the listen address (loopback when it listens on every
/// address).
fn daemon_url(headers: &axum::http::HeaderMap, listen: std::net::SocketAddr) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.len() <= 255);
    if let Some(host) = host {
        return format!("http://{host}");
    }
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, listen.port()))
}

/// The samples over the frame, and the refresh queries' counts per hour.
async fn read_history(
    state: &AppState,
    status: &diagbot_core::probe::Status,
    queries: &[String],
    frame: Frame,
) -> Result<HistoryAnswer, String> {
    let (samples, counts) = charts::series_names(status, queries);
    let ask = |series, step| HistoryRequest {
        series,
        since: frame.since,
        until: frame.now + 1,
        step,
    };
    let mut answer = history::answer(state, &ask(samples, None))
        .await
        .map_err(|e| e.to_string())?;
    if !counts.is_empty() {
        let counted = history::answer(
            state,
            &ask(counts, Some(charts::counts_step(frame.now - frame.since))),
        )
        .await
        .map_err(|e| e.to_string())?;
        answer.series.extend(counted.series);
    }
    Ok(answer)
}

/// The page's groups question for `range`: the one its script sends.
pub fn groups_query(state: &AppState, range: Range) -> GroupsQuery {
    let settings = state.settings();
    let mut query = GroupsQuery::new(settings.core.log_paths.clone());
    query.journal = settings.core.service_units();
    query.journal_source = settings.core.journal();
    query.since = Some(TimeBound::Ago(Duration::from_secs(range.seconds() as u64)));
    query.step = Some(groups::step(range));
    query.max_groups = DAEMON_MAX_GROUPS;
    query
}

/// How long the page waits for its error groups before it is served
/// without them (the grouping goes on, and the script's next refresh finds
/// it in the cache).
pub const GROUPS_WAIT: Duration = Duration::from_secs(5);

/// The range's error groups, asked as the page's script asks
/// `/api/v1/groups` (so the two share one cached grouping). The grouping
/// runs as a task of its own, so a page served after `wait` without it
/// does not stop it.
pub async fn read_groups(
    state: &Arc<AppState>,
    range: Range,
    wait: Duration,
) -> Result<GroupsResult, String> {
    let query = groups_query(state, range);
    let state = Arc::clone(state);
    let grouping = tokio::spawn(async move { grouping::answer(&state, query, false).await });
    match tokio::time::timeout(wait, grouping).await {
        Ok(Ok(Ok((answer, _)))) => Ok(answer),
        Ok(Ok(Err(refusal))) => Err(refusal.to_string()),
        Ok(Err(failed)) => Err(format!("the grouping failed: {failed}")),
        Err(_) => Err(format!(
            "they are still being counted (over {} s on these logs); the page's next refresh shows them",
            wait.as_secs_f64()
        )),
    }
}

async fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLE)
}

/// Named in the page, so that browsers do not ask for `/favicon.ico`.
async fn icon() -> impl IntoResponse {
    asset("image/svg+xml", ICON)
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}
