//! `previous_count` in a groups answer: each group's count in the range of
//! the same length just before the asked one, from a second grouping of
//! that range (cached as any grouping is: a relative range such as
//! `since=1d` keeps one cache key, `2d` to `1d` ago). It costs what the
//! asked grouping costs, once per cache lifetime.

use std::collections::HashMap;

use diagbot_core::groups::{GroupsQuery, GroupsResult};
use diagbot_core::when::TimeBound;

use crate::state::AppState;

/// The range of the same length just before `since..until` (until: now);
/// `None` without a start.
pub fn range(since: &TimeBound, until: Option<&TimeBound>) -> Option<(TimeBound, TimeBound)> {
    match (since, until) {
        (TimeBound::Ago(s), None) => Some((TimeBound::Ago(s.checked_mul(2)?), TimeBound::Ago(*s))),
        (TimeBound::Ago(s), Some(TimeBound::Ago(u))) => {
            let length = s.checked_sub(*u)?;
            Some((TimeBound::Ago(s.checked_add(length)?), TimeBound::Ago(*s)))
        }
        (since, until) => {
            let now = chrono::Local::now().fixed_offset();
            let at = |millis: i64| {
                chrono::DateTime::from_timestamp_millis(millis)
                    .map(|t| TimeBound::At(t.fixed_offset()))
            };
            let s = since.resolve(now);
            let u = until.map_or(now.timestamp_millis(), |u| u.resolve(now));
            (u > s).then_some(())?;
            Some((at(s.checked_sub(u - s)?)?, at(s)?))
        }
    }
}

/// Fills `previous_count` from a grouping of the previous range of the
/// same length. A group not in that answer had no line there (0), unless
/// that answer merged groups into "other" (then it is not known: `null`).
pub async fn fill(state: &AppState, query: &GroupsQuery, result: &mut GroupsResult) {
    let Some(since) = &query.since else { return };
    let Some((from, to)) = range(since, query.until.as_ref()) else {
        return;
    };
    let previous = GroupsQuery {
        since: Some(from),
        until: Some(to),
        // Only the counts are wanted there, not their steps.
        step: None,
        ..query.clone()
    };
    let answer = match state.diag.groups(&previous).await {
        Ok((answer, _)) => answer,
        Err(e) => {
            tracing::warn!("groups: the previous range was not grouped: {e}");
            return;
        }
    };
    let counts: HashMap<&str, u64> = answer
        .groups
        .iter()
        .map(|g| (g.id.as_str(), g.count))
        .collect();
    for g in &mut result.groups {
        g.previous_count = match counts.get(g.id.as_str()) {
            Some(&n) => Some(n),
            None if answer.other.is_none() => Some(0),
            None => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_previous_range_has_the_same_length() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(
            range(&TimeBound::Ago(h(24)), None),
            Some((TimeBound::Ago(h(48)), TimeBound::Ago(h(24))))
        );
        assert_eq!(
            range(&TimeBound::Ago(h(3)), Some(&TimeBound::Ago(h(1)))),
            Some((TimeBound::Ago(h(5)), TimeBound::Ago(h(3))))
        );
        let at = |s: &str| TimeBound::parse(s).unwrap();
        assert_eq!(
            range(
                &at("2026-01-27T10:00:00+00:00"),
                Some(&at("2026-01-27T12:00:00+00:00"))
            ),
            Some((
                at("2026-01-27T08:00:00+00:00"),
                at("2026-01-27T10:00:00+00:00")
            ))
        );
        assert_eq!(
            range(&TimeBound::Ago(h(1)), Some(&TimeBound::Ago(h(2)))),
            None
        );
    }
}
