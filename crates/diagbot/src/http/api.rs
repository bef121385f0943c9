//! The API's handlers: each turns its parameters into a `Query`, asks the
//! cache, and returns the same JSON as `diagbot … --json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Query as Params, RawQuery, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use diagbot_core::cache::HitOrLoad;
use diagbot_core::groups::{self, GroupsQuery, LevelFilter};
use diagbot_core::query::{GrepPattern, JournalScope, Query, MAX_LINES_LIMIT};
use diagbot_core::when::TimeBound;
use serde_json::json;

use super::budget::Budgeted;
use super::error::ApiError;
use super::HttpState;
use crate::grouping;
use crate::present::refusal::Refusal;
use crate::state::AppState;

type RawParams = Params<BTreeMap<String, String>>;

pub async fn grep(
    State(http): State<HttpState>,
    RawQuery(raw): RawQuery,
    Params(params): RawParams,
) -> Result<Response, ApiError> {
    let pattern = params
        .get("pattern")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad("pattern", "pattern is required"))?;
    let pattern = GrepPattern::regex(pattern.clone())
        .ignore_case(flag(&params, "ignore_case")?)
        .fixed_strings(flag(&params, "fixed_strings")?);
    let allowed = ["pattern", "ignore_case", "fixed_strings"];
    let asked = Asked {
        params: &params,
        raw: raw.as_deref(),
        own: &allowed,
    };
    answer(&http, |paths| Query::grep(pattern, paths), asked).await
}

pub async fn errors(
    State(http): State<HttpState>,
    RawQuery(raw): RawQuery,
    Params(params): RawParams,
) -> Result<Response, ApiError> {
    let asked = Asked {
        params: &params,
        raw: raw.as_deref(),
        own: &[],
    };
    answer(&http, Query::errors, asked).await
}

/// A log query's parameters: by name (the last of a repeated one), the raw
/// query string (for the repeatable `unit`), and the kind's own names.
struct Asked<'a> {
    params: &'a BTreeMap<String, String>,
    raw: Option<&'a str>,
    own: &'a [&'a str],
}

/// The journal's entries `unit=` (repeatable) and `journal=true` ask for;
/// `None` when neither is given.
fn requested_journal(
    params: &BTreeMap<String, String>,
    raw: Option<&str>,
) -> Result<Option<JournalScope>, ApiError> {
    if flag(params, "journal")? {
        return Ok(Some(JournalScope::whole()));
    }
    let pairs: Vec<(String, String)> = raw
        .map(serde_urlencoded::from_str)
        .transpose()
        .map_err(|e| ApiError::bad("unit", format!("cannot read the query string: {e}")))?
        .unwrap_or_default();
    let units: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "unit")
        .map(|(_, v)| v.as_str())
        .collect();
    if units.is_empty() {
        return Ok(None);
    }
    JournalScope::units(&units)
        .map(Some)
        .map_err(|e| ApiError::bad("unit", e.to_string()))
}

pub async fn cache(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let stats = state.diag.cache().stats();
    let (tail_queries, tail_bytes) = state.diag.engine().tail_usage();
    Json(json!({ "cache": stats, "tails": { "queries": tail_queries, "bytes": tail_bytes } }))
}

pub async fn status(
    State(state): State<Arc<AppState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = state
        .status()
        .await
        .map_err(|e| ApiError::internal(format!("status failed: {e}")))?;
    json_value(status)
}

pub async fn oom(
    State(state): State<Arc<AppState>>,
    Params(params): RawParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    reject_unknown(&params, &["since"])?;
    let since = bound(&params, "since")?.map(|b| b.resolve(chrono::Local::now().fixed_offset()));
    let settings = state.settings();
    let mut report = blocking("oom report", move || {
        diagbot_core::probe::oom::report(&settings.core, since)
    })
    .await?;
    state.fill_returns(&mut report);
    json_value(report)
}

/// `GET /api/v1/explain?service=NAME[&since=WHEN]`: which number in the
/// service's log lines its memory climbs with.
pub async fn explain(
    State(state): State<Arc<AppState>>,
    Params(params): RawParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    use crate::history::explain::answer;
    reject_unknown(&params, &["service", "since"])?;
    let Some(name) = params.get("service").filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad(
            "service",
            "service= names the service to explain",
        ));
    };
    // Unix seconds too: what `diagbot explain --remote` sends.
    let since = match params.get("since").and_then(|s| unix_seconds(s)) {
        Some(secs) => Some(secs),
        None => bound(&params, "since")?.map(|b| {
            b.resolve(chrono::Local::now().fixed_offset())
                .div_euclid(1000)
        }),
    };
    json_value(answer(&state, name, since).await?)
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "uptime_seconds": state.started.elapsed().as_secs(),
        "history": state.history_state(),
    }))
}

/// The most series one history question names (each answers up to 2000 points).
pub const MAX_SERIES: usize = 256;

/// `GET /api/v1/history?series=…&since=…&until=…&step=…`: `series` may
/// repeat or be comma-separated (default: the host's and each service's
/// RSS); since defaults to 24 h ago, until to now.
pub async fn history(
    State(state): State<Arc<AppState>>,
    Params(pairs): Params<Vec<(String, String)>>,
) -> Result<Json<crate::history::model::HistoryAnswer>, ApiError> {
    let mut series = Vec::new();
    let mut single = BTreeMap::new();
    for (key, value) in pairs {
        match key.as_str() {
            "series" => series.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            "since" | "until" | "step" => {
                single.insert(key, value);
            }
            other => {
                return Err(ApiError::bad(other, format!("unknown parameter {other:?}")));
            }
        }
    }
    // A name asked twice is answered once (1,480 copies of one name were a 53 MB answer).
    let mut asked = std::collections::HashSet::new();
    series.retain(|name| asked.insert(name.clone()));
    if series.len() > MAX_SERIES {
        return Err(ApiError::bad(
            "series",
            format!("at most {MAX_SERIES} series in one question"),
        ));
    }
    if series.is_empty() {
        series = crate::history::default_series(&state);
    }
    let now = chrono::Local::now().fixed_offset();
    // Unix seconds too: what the dashboard's script sends.
    let at = |name: &str, default: i64| -> Result<i64, ApiError> {
        if let Some(secs) = single.get(name).and_then(|s| unix_seconds(s)) {
            return Ok(secs);
        }
        Ok(bound(&single, name)?.map_or(default, |b| b.resolve(now).div_euclid(1000)))
    };
    let until = at("until", now.timestamp() + 1)?;
    let since = at("since", now.timestamp() - 86_400)?;
    let step = step_param(single.get("step").map(String::as_str))?;
    let req = crate::history::model::HistoryRequest {
        series,
        since,
        until,
        step,
    };
    Ok(Json(crate::history::answer(&state, &req).await?))
}

/// `/metrics`: OpenMetrics for a scraper that asks for it, else the
/// Prometheus text format. The cache's pending maintenance runs first, so its
/// entries and bytes are those of the answers cached now.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> impl IntoResponse {
    state.diag.cache().maintain().await;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = state.metrics.render(accept);
    ([(header::CONTENT_TYPE, content_type)], body)
}

/// Parameters every log query takes: since, until, max_lines, paths, unit,
/// journal; `query` builds the question of its kind over the paths. Without
/// paths, units or the journal, the configured paths and services' units are read.
async fn answer(
    http: &HttpState,
    query: impl FnOnce(Vec<PathBuf>) -> Query,
    asked: Asked<'_>,
) -> Result<Response, ApiError> {
    let state = &http.app;
    const COMMON: [&str; 6] = ["since", "until", "max_lines", "paths", "unit", "journal"];
    let params = asked.params;
    reject_unknown(params, &[&COMMON[..], asked.own].concat())?;
    let settings = state.settings();
    let (paths, journal) = requested_sources(params, asked.raw, &settings.core)?;
    let mut query = query(paths)
        .with_formats(settings.core.formats.clone())
        .beneath(&settings.core.log_paths)
        .with_journal(journal);
    query.since = bound(params, "since")?;
    query.until = bound(params, "until")?;
    if let Some(n) = params.get("max_lines") {
        query.max_lines = n
            .parse()
            .ok()
            .filter(|n| *n <= MAX_LINES_LIMIT)
            .ok_or_else(|| {
                ApiError::bad(
                    "max_lines",
                    format!("max_lines must be a number from 0 to {MAX_LINES_LIMIT}"),
                )
            })?;
    }
    // The answer's worst case is reserved before it exists, and held until it is sent.
    let reservation = http.limits.answers_in_flight.reserve(query.max_lines).await;
    let (result, how) = state
        .diag
        .answer(&query)
        .await
        .map_err(|e| Refusal::of_search(&e))?;
    let json = serde_json::to_vec(result.as_ref())
        .map_err(|e| ApiError::internal(format!("cannot write the answer: {e}")))?;
    drop(result);
    let mut response = Response::new(axum::body::Body::new(Budgeted::new(json, reservation)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        "x-diagbot-cache",
        HeaderValue::from_static(cache_header(how)),
    );
    Ok(response)
}

/// The files and the journal's entries a log question reads: those named
/// (`paths`, `unit`, `journal`), else the configured paths and the
/// configured services' units.
fn requested_sources(
    params: &BTreeMap<String, String>,
    raw: Option<&str>,
    core: &diagbot_core::config::Settings,
) -> Result<(Vec<PathBuf>, JournalScope), ApiError> {
    let named_paths = params.get("paths").is_some_and(|p| !p.is_empty());
    Ok(match requested_journal(params, raw)? {
        Some(scope) if !named_paths => (Vec::new(), scope),
        Some(scope) => (requested_paths(params, &core.log_paths)?, scope),
        None if named_paths => (
            requested_paths(params, &core.log_paths)?,
            JournalScope::default(),
        ),
        None => (core.log_paths.clone(), core.service_units()),
    })
}

/// `paths` (comma-separated, each within the configured log paths), else the configured ones.
fn requested_paths(
    params: &BTreeMap<String, String>,
    configured: &[PathBuf],
) -> Result<Vec<PathBuf>, ApiError> {
    match params.get("paths").filter(|p| !p.is_empty()) {
        Some(list) => list
            .split(',')
            .map(|p| within(Path::new(p.trim()), configured))
            .collect(),
        None => Ok(configured.to_vec()),
    }
}

/// `GET /api/v1/groups?since&until&level&max&paths`: what `diagbot groups
/// --json` prints. Run on the blocking pool each time (not cached yet).
pub async fn groups(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    Params(params): RawParams,
) -> Result<Response, ApiError> {
    reject_unknown(
        &params,
        &[
            "since", "until", "level", "max", "paths", "step", "previous", "unit", "journal",
        ],
    )?;
    let settings = state.settings();
    let (paths, journal) = requested_sources(&params, raw.as_deref(), &settings.core)?;
    let mut query = GroupsQuery::new(paths);
    query.journal = journal;
    query.journal_source = settings.core.journal();
    query.since = bound(&params, "since")?;
    query.until = bound(&params, "until")?;
    if let Some(level) = params.get("level") {
        query.level = LevelFilter::parse(level).map_err(|e| ApiError::bad("level", e))?;
    }
    query.max_groups = MAX_GROUPS_LIMIT;
    if let Some(max) = params.get("max") {
        query.max_groups = max
            .parse()
            .ok()
            .filter(|n| (1..=MAX_GROUPS_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad(
                    "max",
                    format!("max must be a number from 1 to {MAX_GROUPS_LIMIT}"),
                )
            })?;
    }
    query.step = step_param(params.get("step").map(String::as_str))?;
    // `previous_count` unless asked not to (the dashboard does not show it).
    let previous = !params.contains_key("previous") || flag(&params, "previous")?;
    let (result, how) = grouping::answer(&state, query, previous).await?;
    let mut response = json_value(&result)?.into_response();
    response.headers_mut().insert(
        "x-diagbot-cache",
        HeaderValue::from_static(cache_header(how)),
    );
    Ok(response)
}

/// What `POST /api/v1/groups/mute` takes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// The group id (16 hex digits).
    pub id: String,
    /// How long: 90s, 15m, 1h, 7d; none: until unmuted.
    #[serde(default, rename = "for")]
    pub span: Option<String>,
    /// Who asks (shown in the list; default `api`).
    #[serde(default)]
    pub by: Option<String>,
    /// Mute an id no watch has seen yet.
    #[serde(default)]
    pub force: bool,
}

/// `POST /api/v1/groups/mute` with a JSON body `{"id": …, "for": "7d"}`:
/// no new-error alert for the group until the mute ends. Written through
/// the store's writer before the answer (the mute written). JSON only, so
/// a page of another site cannot send it as a form.
pub async fn mute(
    State(state): State<Arc<AppState>>,
    body: Result<Json<MuteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let span = req
        .span
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            diagbot_core::when::parse_duration(s).map_err(|_| {
                ApiError::bad(
                    "for",
                    format!("{s:?} is not a duration such as 90s, 15m, 1h or 7d"),
                )
            })
        })
        .transpose()?;
    let by = req.by.as_deref().unwrap_or("api");
    // Who muted is shown wherever mutes are listed: nothing that would act.
    let by: String = by
        .chars()
        .filter(|&c| !c.is_control() && !crate::present::visible::acts(c))
        .take(64)
        .collect();
    let mute = crate::history::groups::mute(&state, &req.id, span, &by, req.force)
        .await
        .map_err(mute_error)?;
    Ok(Json(json!({ "mute": mute })))
}

/// What `POST /api/v1/groups/unmute` takes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnmuteRequest {
    pub id: String,
}

/// `POST /api/v1/groups/unmute` with `{"id": …}`: `{"unmuted": true}`, or
/// `false` when it was not muted.
pub async fn unmute(
    State(state): State<Arc<AppState>>,
    body: Result<Json<UnmuteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let was = crate::history::groups::unmute(&state, &req.id)
        .await
        .map_err(mute_error)?;
    Ok(Json(json!({ "id": req.id.trim(), "unmuted": was })))
}

/// `GET /api/v1/groups/mutes`: every mute, with whether it is active now.
pub async fn mutes(
    State(state): State<Arc<AppState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mutes = crate::history::groups::mutes(&state)
        .await
        .map_err(mute_error)?;
    let now = chrono::Utc::now().timestamp();
    let listed: Vec<serde_json::Value> = mutes
        .iter()
        .map(|m| {
            json!({ "id": m.id, "until": m.until, "since": m.since, "by": m.by, "active": m.active(now) })
        })
        .collect();
    Ok(Json(json!({ "mutes": listed })))
}

fn mute_error(e: crate::history::groups::MuteError) -> ApiError {
    use crate::history::groups::MuteError;
    match e {
        MuteError::BadId(why) => ApiError::bad("id", why),
        MuteError::BadSpan(why) => ApiError::bad("for", why),
        MuteError::Unavailable(why) => ApiError::unavailable(why),
        MuteError::Unknown(why) => ApiError {
            error: why,
            parameter: Some("id".into()),
            status: axum::http::StatusCode::NOT_FOUND,
        },
        MuteError::TooMany(why) => ApiError {
            error: why,
            parameter: Some("id".into()),
            status: axum::http::StatusCode::CONFLICT,
        },
    }
}

/// The `x-diagbot-cache` header: how the answer was found.
fn cache_header(how: HitOrLoad) -> &'static str {
    match how {
        HitOrLoad::Hit => "hit",
        HitOrLoad::Loaded => "loaded",
        HitOrLoad::Joined => "joined",
    }
}

/// The most groups a request may keep (and the default).
const MAX_GROUPS_LIMIT: usize = groups::DAEMON_MAX_GROUPS;

/// A 400 for the first parameter not in `allowed`.
/// The API's parameters that may be given more than once (each value adds one).
pub const REPEATABLE: [&str; 2] = ["unit", "series"];

/// The middleware: a parameter of the API given twice is a 400 naming it,
/// unless it is [`REPEATABLE`] (the handlers read one value by name, and
/// the last of two silently won).
pub async fn one_value_each(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/") {
        if let Some(repeated) = req.uri().query().and_then(repeated_param) {
            return ApiError::bad(
                &repeated,
                format!(
                    "{repeated:?} is given more than once; it takes one value (only {} repeat)",
                    REPEATABLE.join(" and ")
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The first parameter of `query` given twice that may not be.
fn repeated_param(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let mut seen = std::collections::HashSet::new();
    pairs
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !REPEATABLE.contains(&name.as_str()))
        .find(|name| !seen.insert(name.clone()))
}

fn reject_unknown(params: &BTreeMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::bad(
            unknown,
            format!("unknown parameter {unknown:?}"),
        )),
        None => Ok(()),
    }
}

/// Runs blocking probe work off the async workers; a panic there becomes a 500.
async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("{what} failed: {e}")))
}

/// `step=`: seconds (`60`) or a duration (`5m`, `1h`); none when absent or empty.
fn step_param(value: Option<&str>) -> Result<Option<u64>, ApiError> {
    value
        .filter(|s| !s.is_empty())
        .map(|s| {
            diagbot_core::when::parse_duration(s)
                .map(|d| d.as_secs())
                .or_else(|_| s.parse::<u64>())
                .map_err(|_| {
                    ApiError::bad("step", format!("{s:?} is not a step such as 60, 5m or 1h"))
                })
        })
        .transpose()
}

fn bound(params: &BTreeMap<String, String>, name: &str) -> Result<Option<TimeBound>, ApiError> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| TimeBound::parse(v).map_err(|e| ApiError::bad(name, e.to_string())))
        .transpose()
}

fn flag(params: &BTreeMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("false" | "0" | "") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad(
            name,
            format!("{name} must be true or false, not {other:?}"),
        )),
    }
}

/// A requested path, if it lies within one of the configured log paths,
/// judged by its text alone: absolute, without `..`, beneath a configured
/// path (or beneath where that path really is). Nothing on disk is looked at
/// here, so there is nothing to race: the engine opens the path beneath the
/// configured one without following any symlink below it (see
/// `diagbot_core::logs::open`). A path outside gets the same answer whether
/// or not it exists.
fn within(path: &Path, allowed: &[PathBuf]) -> Result<PathBuf, ApiError> {
    let outside = || {
        ApiError::bad(
            "paths",
            format!(
                "{} is not a path within the configured log paths",
                path.display()
            ),
        )
    };
    let clean = lexical(path).ok_or_else(outside)?;
    allowed
        .iter()
        .find_map(|a| {
            if clean.starts_with(a) {
                return Some(clean.clone());
            }
            // Named by its real location: mapped back to the configured path.
            let real = a.canonicalize().ok()?;
            let rest = clean.strip_prefix(&real).ok()?;
            Some(if rest.as_os_str().is_empty() {
                a.clone()
            } else {
                a.join(rest)
            })
        })
        .ok_or_else(outside)
}

/// `path` without `.` components, if it is absolute and has no `..`.
fn lexical(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    if !path.is_absolute() {
        return None;
    }
    let mut clean = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::Normal(_) => clean.push(c),
            Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(clean)
}

/// `s` as unix seconds when it is all digits (and not a bare count of
/// seconds ago, which a time bound never is: those carry a unit).
fn unix_seconds(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An answer as JSON; failing to write one is the daemon's fault (500), never a `null`.
fn json_value(answer: impl serde::Serialize) -> Result<Json<serde_json::Value>, ApiError> {
    serde_json::to_value(answer)
        .map(Json)
        .map_err(|e| ApiError::internal(format!("cannot write the answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_within_by_its_text_and_dot_dot_never_is() {
        let allowed = [PathBuf::from("/var/log/app")];
        let ok = |p: &str| within(Path::new(p), &allowed).ok();
        assert_eq!(ok("/var/log/app/x.log"), Some("/var/log/app/x.log".into()));
        assert_eq!(
            ok("/var/log/app/./x.log"),
            Some("/var/log/app/x.log".into())
        );
        assert_eq!(ok("/var/log/app"), Some("/var/log/app".into()));
        assert_eq!(ok("/var/log/app/../../../etc/shadow"), None);
        assert_eq!(ok("/var/log/application.log"), None);
        assert_eq!(ok("var/log/app/x.log"), None);
        assert_eq!(ok("/etc/shadow"), None);
    }
}
