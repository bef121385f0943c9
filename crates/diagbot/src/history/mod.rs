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

use crate::present::refusal::Refusal;
use crate::state::AppState;
use crate::store::Availability;

/// The answer to `req` from the daemon's store: refused as bad when its
/// names, range or step are wrong, as unavailable when history is off (and
/// why) or the read failed.
pub async fn answer(
    state: &AppState,
    req: &model::HistoryRequest,
) -> Result<model::HistoryAnswer, Refusal> {
    plan::check(req)?;
    let ctx = context(state);
    let step = plan::step_of(req, &ctx)?;
    let store = std::sync::Arc::clone(&state.store);
    if store.path().is_none() {
        let why = match store.availability() {
            Availability::Off(why) => why,
            Availability::On => "no history file".into(),
        };
        return Err(Refusal::unavailable(format!("history is off: {why}")));
    }
    let req = req.clone();
    let failed =
        |e: &dyn std::fmt::Display| Refusal::unavailable(format!("reading history failed: {e}"));
    tokio::task::spawn_blocking(move || store.read(|conn| plan::read(conn, &req, step, &ctx)))
        .await
        .map_err(|e| failed(&e))?
        .map_err(|e| failed(&e))
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
