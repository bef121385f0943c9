//! Error groups in the store, as the daemon and its front ends use them:
//! the known groups a service's new-error watch starts from and saves, the
//! mutes (set through the one writer, read on the read-only connection),
//! and `new` in a groups answer from the store's first-seen times.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use diagbot_core::groups::{GroupsResult, Seen};

use crate::state::AppState;
use crate::store::groups::{self as rows, Mute, SeenRow};
use crate::store::{Store, StoreError};

/// The groups `service` is known to have had, for its watch's
/// [`KnownGroups::load`](diagbot_core::groups::KnownGroups::load). Blocking.
pub fn known(store: &Store, service: &str) -> Result<Vec<(u64, Seen)>, StoreError> {
    let rows = store.read(|conn| rows::known(conn, service))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                Seen {
                    first_secs: r.first_seen,
                    last_secs: r.last_seen,
                },
            )
        })
        .collect())
}

/// Saves what a watch saw (`changes` from `take_changes`), with the
/// templates and levels of the groups that were news. Blocking.
pub fn save(
    store: &Store,
    service: &str,
    changes: Vec<(u64, Seen)>,
    described: &[(u64, String, Option<String>)],
) {
    let seen = changes
        .into_iter()
        .map(|(id, s)| SeenRow {
            id,
            first_seen: s.first_secs,
            last_seen: s.last_secs,
            described: described
                .iter()
                .find(|(d, _, _)| *d == id)
                .map(|(_, t, l)| (t.clone(), l.clone())),
        })
        .collect();
    store.save_seen(service, seen);
}

/// The ids muted at `now` (hex). Blocking.
pub fn muted(store: &Store, now: i64) -> Result<HashSet<String>, StoreError> {
    let all = store.read(rows::mutes)?;
    Ok(all
        .into_iter()
        .filter(|m| m.active(now))
        .map(|m| m.id)
        .collect())
}

/// The longest mute with an end: past it, times no longer read as dates.
pub const LONGEST_MUTE: Duration = Duration::from_secs(100 * 365 * 86400);

/// Why a mute was not set or removed.
#[derive(Debug, Clone)]
pub enum MuteError {
    /// The id is not a group id.
    BadId(String),
    /// The mute's length is past any date a mute can end on.
    BadSpan(String),
    /// History is off, or the writer failed.
    Unavailable(String),
    /// As many groups are muted as may be: one must end first.
    TooMany(String),
    /// No group of that id has been seen, and the mute was not forced.
    Unknown(String),
}

impl std::fmt::Display for MuteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MuteError::BadId(why)
            | MuteError::BadSpan(why)
            | MuteError::Unavailable(why)
            | MuteError::TooMany(why)
            | MuteError::Unknown(why) => {
                write!(f, "{why}")
            }
        }
    }
}

/// The most groups muted at once (the daemon keeps at most 5000 groups,
/// and a list of mutes must stay readable).
pub const MAX_MUTES: usize = 1000;

/// `id` checked: 16 hex digits, as groups show it.
pub fn parse_id(id: &str) -> Result<u64, MuteError> {
    rows::parse_hex(id.trim()).ok_or_else(|| {
        MuteError::BadId(format!(
            "{id:?} is not a group id (16 hex digits, as `diagbot groups` shows them)"
        ))
    })
}

/// Mutes group `id` for `span` (for good without), set by `by`; returns the mute written.
/// Mutes group `id` for `span` (or until unmuted), said to be by `by`. A
/// group no watch has seen (a typo, an id from another machine) is refused
/// unless `force`: muting one before it first shows is a choice to make.
pub async fn mute(
    state: &AppState,
    id: &str,
    span: Option<Duration>,
    by: &str,
    force: bool,
) -> Result<Mute, MuteError> {
    let number = parse_id(id)?;
    if !force {
        let store = Arc::clone(&state.store);
        let known = blocking(move || store.read(|c| rows::is_known(c, number))).await?;
        if !known {
            return Err(MuteError::Unknown(format!(
                "no group {} has been seen here: check the id (diagbot groups), or mute it before it shows with force",
                rows::hex(number)
            )));
        }
    }
    if span.is_some_and(|d| d > LONGEST_MUTE) {
        return Err(MuteError::BadSpan(format!(
            "a mute lasts at most {} days; leave the length out to mute until unmuted",
            LONGEST_MUTE.as_secs() / 86400
        )));
    }
    let now = chrono::Utc::now().timestamp();
    // Mutes are bounded like everything else a client can add: a mute
    // more than the groups a daemon keeps is not silencing anything real.
    let listed = mutes(state).await?;
    let id_hex = rows::hex(number);
    let active = listed.iter().filter(|m| m.active(now)).count();
    if active >= MAX_MUTES && !listed.iter().any(|m| m.id == id_hex && m.active(now)) {
        return Err(MuteError::TooMany(format!(
            "{active} groups are muted, the most there may be: unmute one first"
        )));
    }
    let mute = Mute {
        id: rows::hex(number),
        until: span.map(|d| now.saturating_add(d.as_secs().min(i64::MAX as u64) as i64)),
        since: now,
        by: by.to_string(),
    };
    let store = Arc::clone(&state.store);
    let written = mute.clone();
    blocking(move || store.mute(written)).await?;
    Ok(mute)
}

/// Unmutes group `id`; says whether it was muted.
pub async fn unmute(state: &AppState, id: &str) -> Result<bool, MuteError> {
    let number = parse_id(id)?;
    let store = Arc::clone(&state.store);
    blocking(move || store.unmute(number)).await
}

/// Every mute (ended ones too, for a day; see `store::groups::ENDED_MUTES_KEPT`).
pub async fn mutes(state: &AppState) -> Result<Vec<Mute>, MuteError> {
    let store = Arc::clone(&state.store);
    blocking(move || store.read(rows::mutes)).await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, MuteError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MuteError::Unavailable(format!("the store failed: {e}")))?
        .map_err(|e| MuteError::Unavailable(e.to_string()))
}

/// Fills each group's `new` in `result`: whether the store first saw it at
/// or after `since_secs` (unix seconds). Groups the store never saw (the
/// watch keeps error lines only) and answers without a start stay `null`;
/// so does everything when history is off.
pub async fn fill_new(state: &AppState, result: &mut GroupsResult, since_secs: Option<i64>) {
    let Some(since) = since_secs else { return };
    let ids: Vec<u64> = result
        .groups
        .iter()
        .filter_map(|g| rows::parse_hex(&g.id))
        .collect();
    if ids.is_empty() || state.store.path().is_none() {
        return;
    }
    let store = Arc::clone(&state.store);
    let firsts = tokio::task::spawn_blocking(move || store.read(|c| rows::first_seen(c, &ids)))
        .await
        .map_err(|e| StoreError::Failed(e.to_string()))
        .and_then(|r| r);
    match firsts {
        Ok(firsts) => {
            let firsts: std::collections::HashMap<u64, i64> = firsts.into_iter().collect();
            for g in &mut result.groups {
                let first = rows::parse_hex(&g.id).and_then(|id| firsts.get(&id));
                g.new = first.map(|&t| t >= since);
            }
        }
        Err(e) => tracing::warn!("groups: first-seen times not read from history: {e}"),
    }
}
