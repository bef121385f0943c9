//! History that outlives a restart: the store (SQLite, raw samples and
//! rollups, events) and the answers read from it for `diagbot history`,
//! `/api/v1/history` and the dashboard.
//!
//! `model` is the shape every front end shares; the store fills it.

pub mod model;
