//! Every few minutes, for each service with logs (files or its unit's
//! journal): which number in its log
//! lines its memory climbs with (`history::explain`). A sure answer is kept
//! in the state, where `status` and the memory alerts name it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::ticker::every;
use crate::state::AppState;

/// How often the services are explained again: a leak climbs for tens of
/// minutes, and each answer reads a day of the service's logs.
pub const EXPLAIN_EVERY: Duration = Duration::from_secs(600);

/// The first round waits this long: the daemon's start (its seed, the
/// new-error baselines, the first refresh) comes first.
pub const FIRST_AFTER: Duration = Duration::from_secs(60);

pub async fn run(state: Arc<AppState>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    tokio::select! {
        _ = &mut stop => return,
        _ = tokio::time::sleep(FIRST_AFTER) => {}
    }
    every(
        state,
        |_| EXPLAIN_EVERY,
        stop,
        |state| async move { explain_all(&state).await },
    )
    .await
}

/// Explains each service once; keeps the sure answers, forgets the others.
pub async fn explain_all(state: &AppState) {
    let settings = state.settings();
    // A unit's journal is part of a service's logs when the journal is read.
    let journal = settings.core.journal.enabled;
    let names: Vec<String> = settings
        .core
        .services
        .iter()
        .filter(|s| !s.logs.is_empty() || (journal && s.unit.is_some()))
        .map(|s| s.name.clone())
        .collect();
    for name in names {
        let sure = match crate::history::explain::answer(state, &name, None).await {
            Ok(explanation) => explanation.candidates.into_iter().find(|c| c.is_sure()),
            Err(why) => {
                tracing::debug!(service = name, "not explained: {why}");
                None
            }
        };
        let mut explained = state.explained.lock().unwrap_or_else(|p| p.into_inner());
        match sure {
            Some(found) => {
                let new = explained
                    .get(&name)
                    .is_none_or(|old| old.template != found.template);
                if new {
                    tracing::info!(service = name, "memory: {}", found.phrase());
                }
                explained.insert(name, found);
            }
            None => {
                explained.remove(&name);
            }
        }
    }
}
