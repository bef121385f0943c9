//! History that outlives a restart, as front ends see it: series names,
//! what a question means (step, tier, points) and the answer for
//! `diagbot history`, `/api/v1/history` and the dashboard. The SQLite
//! store underneath is `crate::store`; the daemon feeds it (`feed`) and
//! seeds its health watch from it at start (`seed`).
//!
//! `model` is the shape every front end shares; the store fills it.

pub mod explain;
pub mod feed;
pub mod groups;
pub mod model;
pub mod plan;
pub mod seed;
pub mod series;

use crate::state::AppState;
use crate::store::Availability;

/// Why there is no history to answer from: history is off, and why.
#[derive(Debug, Clone)]
pub struct HistoryUnavailable(pub String);

/// A question history cannot answer: 400 with `parameter`, or 503 when off.
#[derive(Debug, Clone)]
pub enum AnswerError {
    Bad(plan::BadRequest),
    Unavailable(HistoryUnavailable),
}

/// The answer to `req` from the daemon's store; off history, why it is off.
/// A request whose names or step are wrong is answered as unavailable with
/// the reason too; [`answer_checked`] tells the two apart.
pub async fn answer(
    state: &AppState,
    req: &model::HistoryRequest,
) -> Result<model::HistoryAnswer, HistoryUnavailable> {
    answer_checked(state, req).await.map_err(|e| match e {
        AnswerError::Bad(bad) => HistoryUnavailable(format!("{}: {}", bad.parameter, bad.message)),
        AnswerError::Unavailable(u) => u,
    })
}

/// As [`answer`], telling a bad question from history being off.
pub async fn answer_checked(
    state: &AppState,
    req: &model::HistoryRequest,
) -> Result<model::HistoryAnswer, AnswerError> {
    plan::check(req).map_err(AnswerError::Bad)?;
    let ctx = context(state);
    let step = plan::step_of(req, &ctx).map_err(AnswerError::Bad)?;
    let store = std::sync::Arc::clone(&state.store);
    if store.path().is_none() {
        let why = match store.availability() {
            Availability::Off(why) => why,
            Availability::On => "history is off".into(),
        };
        return Err(AnswerError::Unavailable(HistoryUnavailable(why)));
    }
    let req = req.clone();
    tokio::task::spawn_blocking(move || store.read(|conn| plan::read(conn, &req, step, &ctx)))
        .await
        .map_err(|e| {
            AnswerError::Unavailable(HistoryUnavailable(format!("reading history failed: {e}")))
        })?
        .map_err(|e| {
            AnswerError::Unavailable(HistoryUnavailable(format!("reading history failed: {e}")))
        })
}

/// The daemon's sampling and retention, as of now.
pub fn context(state: &AppState) -> plan::Context {
    let settings = state.settings();
    plan::Context {
        now: chrono::Utc::now().timestamp(),
        sample_secs: settings.core.health.sample_interval.as_secs().max(1),
        retention: settings.storage.retention,
    }
}

/// The default series for the daemon's configuration.
pub fn default_series(state: &AppState) -> Vec<String> {
    series::defaults(&service_names(state))
}

/// The configured services' names, in their order.
pub fn service_names(state: &AppState) -> Vec<String> {
    state
        .settings()
        .core
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect()
}
