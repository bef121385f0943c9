//! A groups answer as the daemon gives it (`/api/v1/groups`, the
//! dashboard): over the configured formats, beneath the configured paths,
//! through the result cache, with `new` from the history store and
//! `previous_count` from a grouping of the range before ([`previous`]).

pub mod previous;

use diagbot_core::cache::HitOrLoad;
use diagbot_core::groups::{GroupsQuery, GroupsResult, Steps, MAX_STEPS};

use crate::present::refusal::Refusal;
use crate::state::AppState;

/// The answer to `query` (its paths as asked; formats, anchors and the
/// `.gz` limit taken from the settings), and whether it came from the cache.
/// With `previous`, `previous_count` is filled (a second grouping).
pub async fn answer(
    state: &AppState,
    mut query: GroupsQuery,
    previous: bool,
) -> Result<(GroupsResult, HitOrLoad), Refusal> {
    let settings = state.settings();
    query.formats = settings.core.formats.clone();
    // Requested paths are opened beneath the configured ones, as a search's are.
    query.anchors = settings.core.log_paths.clone();
    query.max_decompressed = settings.core.max_decompressed;
    check_steps(&query)?;
    // One grouping at a time (each holds a grouper while it runs): the
    // others wait, within the request timeout, and then find it cached.
    let _turn = state
        .groups_in_flight
        .acquire()
        .await
        .map_err(|_| Refusal::Unavailable("stopping".into()))?;
    // The grouping stops when the request ends early (a timeout, a client
    // gone: the cache's load is dropped) or at shutdown.
    let (result, how) = state
        .diag
        .groups(&query)
        .await
        .map_err(|e| Refusal::of_search(&e))?;
    // `new` comes from the store as it is now, after the cached grouping:
    // a cached answer does not keep a stale one.
    let since_secs = query.since.as_ref().map(|b| {
        b.resolve(chrono::Local::now().fixed_offset())
            .div_euclid(1000)
    });
    let mut result = result.as_ref().clone();
    crate::history::groups::fill_new(state, &mut result, since_secs).await;
    if previous {
        previous::fill(state, &query, &mut result).await;
    }
    Ok((result, how))
}

/// A `step` needs the range's start, and gives at most [`MAX_STEPS`] counts a group.
fn check_steps(query: &GroupsQuery) -> Result<(), Refusal> {
    let Some(step) = query.step else {
        return Ok(());
    };
    let Some(since) = &query.since else {
        return Err(Refusal::bad(
            "step",
            "step counts from the range's start: give since too",
        ));
    };
    if step == 0 {
        return Err(Refusal::bad("step", "step must be at least 1 second"));
    }
    let now = chrono::Local::now().fixed_offset();
    let until = query
        .until
        .as_ref()
        .map_or(now.timestamp_millis(), |u| u.resolve(now));
    let steps = Steps::needed(since.resolve(now), until, step);
    if steps > u64::from(MAX_STEPS) {
        return Err(Refusal::bad(
            "step",
            format!("a step of {step} s gives {steps} counts over the range; at most {MAX_STEPS}"),
        ));
    }
    Ok(())
}
