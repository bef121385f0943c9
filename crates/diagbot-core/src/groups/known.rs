//! The error groups a service is known to have had, by id, with when each
//! was first and last seen: what tells a new error from a known one, and a
//! known one back after a quiet spell.
//!
//! A plain in-memory set, so that a store can fill it at start
//! ([`KnownGroups::load`]) and save what changed ([`KnownGroups::take_changes`])
//! after each tick; without a store it holds what was seen since start.
//! Bounded: past `max` ids, the least recently seen are forgotten.

use std::collections::{HashMap, HashSet};

/// When a known group was first and last seen, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// First seen.
    pub first_secs: i64,
    /// Last seen.
    pub last_secs: i64,
}

/// What a sighting of a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    /// Never seen before.
    New,
    /// Seen before, then not for `silent_secs` (at least the quiet period).
    Back {
        /// Since it was last seen.
        silent_secs: i64,
    },
    /// Seen before, and recently.
    Known,
}

/// The known groups of one service, by id ([`group_hash`](super::id::group_hash)).
#[derive(Debug, Clone)]
pub struct KnownGroups {
    by_id: HashMap<u64, Seen>,
    changed: HashSet<u64>,
    max: usize,
}

impl KnownGroups {
    /// An empty set keeping at most `max` ids.
    pub fn new(max: usize) -> Self {
        KnownGroups {
            by_id: HashMap::new(),
            changed: HashSet::new(),
            max: max.max(1),
        }
    }

    /// Adds groups known from before (a store's), without marking them changed;
    /// an id already known keeps the earlier first and the later last sighting.
    pub fn load(&mut self, known: impl IntoIterator<Item = (u64, Seen)>) {
        for (id, seen) in known {
            let entry = self.by_id.entry(id).or_insert(seen);
            entry.first_secs = entry.first_secs.min(seen.first_secs);
            entry.last_secs = entry.last_secs.max(seen.last_secs);
        }
        self.bound();
    }

    /// Records that group `id` was seen at `at_secs`; says whether it is new,
    /// back after at least `quiet_secs` of silence, or known.
    pub fn see(&mut self, id: u64, at_secs: i64, quiet_secs: i64) -> Sighting {
        self.changed.insert(id);
        let sighting = match self.by_id.get_mut(&id) {
            None => {
                self.by_id.insert(
                    id,
                    Seen {
                        first_secs: at_secs,
                        last_secs: at_secs,
                    },
                );
                Sighting::New
            }
            Some(seen) => {
                let silent_secs = at_secs - seen.last_secs;
                seen.last_secs = seen.last_secs.max(at_secs);
                if silent_secs >= quiet_secs {
                    Sighting::Back { silent_secs }
                } else {
                    Sighting::Known
                }
            }
        };
        self.bound();
        sighting
    }

    /// Records `id` as known without a sighting to report (the baseline
    /// read at start, a template that grew a variable): seen at `at_secs`.
    pub fn remember(&mut self, id: u64, at_secs: i64) {
        self.see(id, at_secs, i64::MAX);
    }

    /// Records `id` as known without a sighting to report, seen over
    /// `seen` (the baseline read at start: its lines' own first and last times).
    pub fn remember_seen(&mut self, id: u64, seen: Seen) {
        self.changed.insert(id);
        let entry = self.by_id.entry(id).or_insert(seen);
        entry.first_secs = entry.first_secs.min(seen.first_secs);
        entry.last_secs = entry.last_secs.max(seen.last_secs);
        self.bound();
    }

    /// Whether `id` is known.
    pub fn contains(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// What was seen since the last call, for a store to save: ids and their times.
    pub fn take_changes(&mut self) -> Vec<(u64, Seen)> {
        let changed = std::mem::take(&mut self.changed);
        let mut out: Vec<(u64, Seen)> = changed
            .into_iter()
            .filter_map(|id| self.by_id.get(&id).map(|s| (id, *s)))
            .collect();
        out.sort_unstable_by_key(|(id, _)| *id);
        out
    }

    /// How many ids are known.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The heap bytes held (tables counted by capacity).
    pub fn heap_size(&self) -> usize {
        self.by_id.capacity() * (std::mem::size_of::<(u64, Seen)>() + 1)
            + self.changed.capacity() * (std::mem::size_of::<u64>() + 1)
    }

    /// Forgets the least recently seen eighth when over `max`, so that the
    /// cost of a pass is shared by many insertions.
    fn bound(&mut self) {
        if self.by_id.len() <= self.max {
            return;
        }
        let keep = self.max - self.max / 8;
        let mut lasts: Vec<i64> = self.by_id.values().map(|s| s.last_secs).collect();
        let cut = lasts.len() - keep;
        let (_, &mut threshold, _) = lasts.select_nth_unstable(cut - 1);
        let mut drop = cut;
        self.by_id.retain(|_, s| {
            let gone = drop > 0 && s.last_secs <= threshold;
            drop -= usize::from(gone);
            !gone
        });
        self.changed.retain(|id| self.by_id.contains_key(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_then_known_then_back_after_quiet() {
        let mut k = KnownGroups::new(10);
        assert_eq!(k.see(1, 100, 50), Sighting::New);
        assert_eq!(k.see(1, 120, 50), Sighting::Known);
        assert_eq!(k.see(1, 200, 50), Sighting::Back { silent_secs: 80 });
        assert_eq!(k.see(1, 210, 50), Sighting::Known);
    }

    #[test]
    fn loaded_groups_are_known_and_changes_are_what_was_seen_since() {
        let mut k = KnownGroups::new(10);
        let seen = Seen {
            first_secs: 10,
            last_secs: 20,
        };
        k.load([(7, seen)]);
        assert!(k.take_changes().is_empty());
        assert_eq!(k.see(7, 25, 100), Sighting::Known);
        assert_eq!(k.see(8, 25, 100), Sighting::New);
        let changes = k.take_changes();
        assert_eq!(
            changes,
            vec![
                (
                    7,
                    Seen {
                        first_secs: 10,
                        last_secs: 25
                    }
                ),
                (
                    8,
                    Seen {
                        first_secs: 25,
                        last_secs: 25
                    }
                )
            ]
        );
        assert!(k.take_changes().is_empty());
    }

    #[test]
    fn past_the_bound_the_least_recently_seen_are_forgotten() {
        let mut k = KnownGroups::new(16);
        for id in 0..17u64 {
            k.remember(id, id as i64);
        }
        assert!(k.len() <= 16);
        assert!(!k.contains(0), "the oldest is forgotten");
        assert!(k.contains(16), "the newest is kept");
    }
}
