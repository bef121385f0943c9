//! History that outlives a restart: the store (SQLite, raw samples and
//! rollups, events) and the answers read from it for `diagbot history`,
//! `/api/v1/history` and the dashboard.
//!
//! `model` is the shape every front end shares; the store fills it.

pub mod model;

/// Why history cannot answer.
#[derive(Debug, Clone)]
pub struct HistoryUnavailable(pub String);
pub async fn answer(
    _state: &crate::state::AppState,
    _req: &model::HistoryRequest,
) -> Result<model::HistoryAnswer, HistoryUnavailable> {
    Err(HistoryUnavailable("history is off".into()))
}
