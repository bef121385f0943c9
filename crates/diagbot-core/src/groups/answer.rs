//! The answer to a [`GroupsQuery`](super::GroupsQuery): groups most frequent
//! first, what was merged into "other", and what could not be read.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::drain::{Group, Grouper, Steps};
use super::id::group_id;
use crate::logs::level::Level;
use crate::query::{FileWarning, Skipped};

/// One group, as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Stable across runs: a hash of the template and the level.
    pub id: String,
    /// The message's constant words, variables as `<*>` or typed (`<num>`, `<ip>`, …).
    pub template: String,
    /// Its lines' level (`None`: they have none).
    pub level: Option<Level>,
    /// Events: lines, each with its continuation lines (a traceback).
    pub count: u64,
    /// `count` over all the events grouped (in `other` too).
    pub share: f64,
    /// The earliest time seen.
    pub first_seen: Option<DateTime<FixedOffset>>,
    /// The latest time seen.
    pub last_seen: Option<DateTime<FixedOffset>>,
    /// The files it was seen in (at most 8, then `more_files`).
    pub files: Vec<String>,
    /// Files beyond `files`.
    #[serde(default)]
    pub more_files: u32,
    /// The newest line of the group (cut at 512 bytes).
    pub example: String,
    /// Whether the group was first seen within the range: filled by the
    /// daemon from its history store's first-seen times (`null` without a
    /// store, without `since`, or for a group the store never saw).
    #[serde(default)]
    pub new: Option<bool>,
    /// The count in the previous range of the same length: filled by the
    /// daemon's API from a second grouping (`null` without `since`, from
    /// the command line without `--remote`, or when that grouping merged
    /// groups into "other" and this one is not among those kept).
    #[serde(default)]
    pub previous_count: Option<u64>,
    /// Its events in each of [`GroupsResult::steps`] (only when steps were asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counts: Vec<u32>,
}

/// The least recently seen groups, merged to stay within the bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherSummary {
    /// How many groups it holds.
    pub groups: u64,
    /// Their events.
    pub count: u64,
    /// The earliest time of those events.
    pub first_seen: Option<DateTime<FixedOffset>>,
    /// The latest.
    pub last_seen: Option<DateTime<FixedOffset>>,
}

/// A run of lines of one file that went into one group (a line and its continuation lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    /// Index of the file in [`GroupsResult::paths`].
    pub file: u32,
    /// The first line's number, from 1.
    pub first_line: u64,
    /// How many lines.
    pub lines: u32,
    /// Index in [`GroupsResult::groups`]; `None`: merged into "other".
    pub group: Option<u32>,
}

/// What `diagbot groups` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupsResult {
    /// The groups, most events first.
    pub groups: Vec<GroupSummary>,
    /// The groups merged away (`None`: none were).
    pub other: Option<OtherSummary>,
    /// Lines grouped (with continuation lines).
    pub lines_considered: u64,
    /// Lines read.
    pub lines_read: u64,
    /// Files read.
    pub files_searched: u64,
    /// Bytes read (decompressed for `.gz`).
    pub bytes_scanned: u64,
    /// Files not read, and why.
    pub skipped: Vec<Skipped>,
    /// Files a time window could not place.
    pub warnings: Vec<FileWarning>,
    /// The grouper's heap bytes at the end.
    pub heap_bytes: u64,
    /// The steps of time each group's `counts` are in (only when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Steps>,
    /// The files read, in order (what [`Assigned::file`] indexes).
    #[serde(skip)]
    pub paths: Vec<String>,
    /// Each grouped run of lines, in file order (with `assign` only).
    #[serde(skip)]
    pub assigned: Vec<Assigned>,
}

impl crate::cache::Cached for GroupsResult {
    fn heap_size(&self) -> usize {
        let group: usize = self
            .groups
            .iter()
            .map(|g| {
                g.id.capacity()
                    + g.template.capacity()
                    + g.example.capacity()
                    + g.files.iter().map(String::capacity).sum::<usize>()
                    + g.files.capacity() * std::mem::size_of::<String>()
                    + g.counts.capacity() * 4
            })
            .sum();
        let skipped: usize = self
            .skipped
            .iter()
            .map(|s| s.path.capacity() + s.reason.capacity())
            .sum();
        let warnings: usize = self.warnings.iter().map(|w| w.path.capacity()).sum();
        group
            + skipped
            + warnings
            + self.groups.capacity() * std::mem::size_of::<GroupSummary>()
            + self.skipped.capacity() * std::mem::size_of::<Skipped>()
            + self.warnings.capacity() * std::mem::size_of::<FileWarning>()
            + self.paths.iter().map(String::capacity).sum::<usize>()
            + self.paths.capacity() * std::mem::size_of::<String>()
            + self.assigned.capacity() * std::mem::size_of::<Assigned>()
    }

    fn is_partial(&self) -> bool {
        false
    }
}

impl GroupsResult {
    /// The id `assigned` names: the group's, or `other`.
    pub fn id_of(&self, a: &Assigned) -> &str {
        a.group
            .and_then(|g| self.groups.get(g as usize))
            .map_or(super::id::OTHER_ID, |g| g.id.as_str())
    }
}

/// The groups of `grouper`, most events first (ties: earliest first seen,
/// then id), with the ids runs of lines were assigned to (by group serial).
/// With `steps`, every group has a count for each step.
pub fn summarize(
    grouper: &Grouper,
    paths: &[String],
    steps: Option<&Steps>,
) -> (Vec<GroupSummary>, Vec<(u32, u32)>) {
    let step_counts = |g: &Group| -> Vec<u32> {
        match steps {
            Some(s) if g.counts.is_empty() => vec![0; s.len.min(super::drain::MAX_STEPS) as usize],
            _ => g.counts.clone(),
        }
    };
    let live: Vec<&Group> = grouper.groups().collect();
    let total: u64 = live.iter().map(|g| g.count).sum::<u64>() + grouper.other().count;
    // Two groups may end with one template (they took different paths in
    // the tree): one id, so one group.
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut summaries: Vec<(Vec<u32>, GroupSummary)> = Vec::new();
    for g in live {
        let template = g.template();
        let id = group_id(g.level, &template);
        let files = g
            .files
            .iter()
            .filter_map(|&f| paths.get(f as usize).cloned());
        if let Some(&i) = index.get(&id) {
            let (serials, s) = &mut summaries[i];
            serials.push(g.serial);
            s.count += g.count;
            s.first_seen = min_time(s.first_seen, g.first_seen);
            if g.last_seen > s.last_seen {
                s.example = String::from_utf8_lossy(&g.example).into_owned();
            }
            s.last_seen = s.last_seen.max(g.last_seen);
            for f in files {
                if !s.files.contains(&f) {
                    s.files.push(f);
                }
            }
            s.more_files += g.more_files;
            for (sum, c) in s.counts.iter_mut().zip(&g.counts) {
                *sum = sum.saturating_add(*c);
            }
            continue;
        }
        index.insert(id.clone(), summaries.len());
        summaries.push((
            vec![g.serial],
            GroupSummary {
                id,
                template,
                level: g.level,
                count: g.count,
                share: 0.0,
                first_seen: g.first_seen,
                last_seen: g.last_seen,
                files: files.collect(),
                more_files: g.more_files,
                example: String::from_utf8_lossy(&g.example).into_owned(),
                new: None,
                previous_count: None,
                counts: step_counts(g),
            },
        ));
    }
    for (_, s) in &mut summaries {
        s.share = s.count as f64 / total.max(1) as f64;
    }
    summaries.sort_by(|(_, a), (_, b)| {
        b.count
            .cmp(&a.count)
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
    let mut by_serial: Vec<(u32, u32)> = summaries
        .iter()
        .enumerate()
        .flat_map(|(i, (serials, _))| serials.iter().map(move |&s| (s, i as u32)))
        .collect();
    by_serial.sort_unstable();
    (summaries.into_iter().map(|(_, s)| s).collect(), by_serial)
}

/// The earlier of two times, either of which may be unknown.
pub fn min_time(
    a: Option<DateTime<FixedOffset>>,
    b: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
