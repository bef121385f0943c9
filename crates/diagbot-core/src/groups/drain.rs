//! The grouper: Drain (He et al., ICWS 2017), bounded.
//!
//! A message's tokens (split at blanks, masked by [`mask`](super::mask))
//! descend a tree of fixed depth: by level and token count, then by its
//! first [`GrouperOptions::prefix_tokens`] tokens (a token with digits, a
//! likely variable, goes down the `<*>` branch). In the leaf, the message
//! joins the group whose template it matches best, if at least
//! [`GrouperOptions::similarity`] of the template's constant tokens are equal
//! to its own; the template then shows `<*>` where they differ. Otherwise
//! it starts a group.
//!
//! Bounded: at most `max_groups` groups; past that, the least recently seen
//! is merged into the "other" bucket, which counts what it holds. Templates
//! are cut at [`MAX_TEMPLATE`] bytes. Lines are grouped in the order given,
//! so the same input gives the same groups.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::id::BuildTokenHasher;
use super::mask::mask_token;
use crate::logs::level::Level;

/// Templates (and the masked message they are matched on) are cut here.
pub const MAX_TEMPLATE: usize = 512;
/// The example line kept per group is cut here.
pub const MAX_EXAMPLE: usize = 512;
/// Files named per group; more are counted.
pub const MAX_FILES: usize = 8;
/// Constant words a message may differ in from a template it joins.
const MAX_CONFLICTS: usize = 1;
/// A variable token in a template.
pub const WILDCARD: &[u8] = b"<*>";
/// The last token of a cut template.
const CUT: &[u8] = "…".as_bytes();

/// How the grouper groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrouperOptions {
    /// At most this many groups; the least recently seen are merged into "other".
    pub max_groups: usize,
    /// The share of a template's constant tokens a message must match to join it.
    pub similarity: f32,
    /// Tokens that choose the leaf (Drain's depth less two).
    pub prefix_tokens: usize,
    /// Children of a tree node before new tokens go down its `<*>` branch.
    pub max_children: usize,
    /// Count each group's events per step of time too (for a sparkline).
    pub steps: Option<Steps>,
}

/// Equal steps of time from `start`: each group counts its events in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    /// The first step's start, in unix seconds.
    pub start: i64,
    /// Each step's length in seconds (at least 1).
    pub seconds: u64,
    /// How many steps (at most [`MAX_STEPS`]).
    pub len: u32,
}

/// The most steps a group counts in: 240 × 4 bytes a group, at most.
pub const MAX_STEPS: u32 = 240;

impl Steps {
    /// How many steps of `seconds` cover `since_ms..until_ms` (milliseconds;
    /// the last step cut short), before any bound: what a query's window
    /// asks for, to check against [`MAX_STEPS`] or to make [`Steps`] of.
    pub fn needed(since_ms: i64, until_ms: i64, seconds: u64) -> u64 {
        let start = since_ms.div_euclid(1000);
        let end = (until_ms + 999).div_euclid(1000);
        u64::try_from(end - start)
            .unwrap_or(0)
            .max(1)
            .div_ceil(seconds.max(1))
    }

    /// The step `time` falls in; `None` before the first or after the last.
    fn index(&self, time: &DateTime<FixedOffset>) -> Option<usize> {
        let offset = time.timestamp().checked_sub(self.start)?;
        let i = u64::try_from(offset).ok()? / self.seconds.max(1);
        (i < u64::from(self.len.min(MAX_STEPS))).then_some(i as usize)
    }
}

impl Default for GrouperOptions {
    fn default() -> Self {
        GrouperOptions {
            max_groups: 5000,
            similarity: 0.5,
            prefix_tokens: 2,
            max_children: 100,
            steps: None,
        }
    }
}

/// One line (with its continuation lines) to group.
#[derive(Debug, Clone, Copy)]
pub struct LogEntry<'a> {
    /// The message, without its header.
    pub message: &'a [u8],
    /// The whole line: the group's example when it is the newest.
    pub line: &'a [u8],
    /// Its level (groups are per level).
    pub level: Option<Level>,
    /// Its time, or that of the line above it.
    pub time: Option<DateTime<FixedOffset>>,
    /// The index of its file in the caller's list.
    pub file: u32,
}

/// A group: a template and what its lines had in common.
#[derive(Debug, Clone)]
pub struct Group {
    /// Numbers groups in order of creation, never reused (evicted groups' lines go to "other").
    pub serial: u32,
    tokens: Vec<Box<[u8]>>,
    /// Its lines' level.
    pub level: Option<Level>,
    /// Events (a line and its continuation lines) in it.
    pub count: u64,
    /// The earliest time of its events.
    pub first_seen: Option<DateTime<FixedOffset>>,
    /// The latest time of its events.
    pub last_seen: Option<DateTime<FixedOffset>>,
    /// Indexes of the files it was seen in (at most [`MAX_FILES`]).
    pub files: Vec<u32>,
    /// Files beyond `files`.
    pub more_files: u32,
    /// The newest line (cut at [`MAX_EXAMPLE`] bytes).
    pub example: Vec<u8>,
    /// Events in each of [`GrouperOptions::steps`] (empty without them;
    /// an event without a time is in none).
    pub counts: Vec<u32>,
    example_time: Option<DateTime<FixedOffset>>,
    node: u32,
    tick: u64,
}

impl Group {
    /// The template: tokens joined by a blank, variables as `<*>` or typed (`<num>`).
    pub fn template(&self) -> String {
        let mut out = Vec::with_capacity(self.tokens.iter().map(|t| t.len() + 1).sum());
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(t);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Its heap bytes, the box that holds it included.
    fn heap_size(&self) -> usize {
        std::mem::size_of::<Group>()
            + self.tokens.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.tokens.iter().map(|t| t.len()).sum::<usize>()
            + self.files.capacity() * 4
            + self.example.capacity()
            + self.counts.capacity() * 4
    }

    fn see(&mut self, event: &LogEntry<'_>, tick: u64, steps: Option<&Steps>) {
        self.count += 1;
        self.tick = tick;
        if let Some((steps, time)) = steps.zip(event.time.as_ref()) {
            if let Some(i) = steps.index(time) {
                if self.counts.is_empty() {
                    self.counts = vec![0; steps.len.min(MAX_STEPS) as usize];
                }
                self.counts[i] = self.counts[i].saturating_add(1);
            }
        }
        if let Some(t) = event.time {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
        if self.example.is_empty() || self.example_time.is_none_or(|e| event.time >= Some(e)) {
            self.example.clear();
            self.example
                .extend_from_slice(&event.line[..event.line.len().min(MAX_EXAMPLE)]);
            self.example_time = event.time;
        }
        if self.files.last() != Some(&event.file) && !self.files.contains(&event.file) {
            if self.files.len() < MAX_FILES {
                self.files.push(event.file);
            } else {
                self.more_files += 1;
            }
        }
    }
}

/// The groups merged away to stay within `max_groups`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtherBucket {
    /// Groups merged into it.
    pub groups: u64,
    /// Their events.
    pub count: u64,
    /// The earliest time of those events.
    pub first_seen: Option<DateTime<FixedOffset>>,
    /// The latest.
    pub last_seen: Option<DateTime<FixedOffset>>,
}

/// A tree node: children by token, a `<*>` child, and in leaves, groups.
#[derive(Default)]
struct Node {
    children: HashMap<Box<[u8]>, u32, BuildTokenHasher>,
    wildcard: Option<u32>,
    groups: Vec<u32>,
    /// The node above (`None`: a root), so that a leaf left empty by a
    /// merged group can be taken out of the tree.
    parent: Option<u32>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.children.is_empty() && self.wildcard.is_none()
    }
}

/// Groups messages by template, online and bounded.
pub struct Grouper {
    options: GrouperOptions,
    roots: HashMap<(Option<Level>, u32), u32, BuildTokenHasher>,
    nodes: Vec<Node>,
    /// Boxed: a freed slot keeps 8 bytes, not a whole group's.
    slots: Vec<Option<Box<Group>>>,
    free: Vec<u32>,
    /// Nodes taken out of the tree, for reuse.
    free_nodes: Vec<u32>,
    live: usize,
    /// (tick when pushed, slot): the least recently seen first; stale entries are skipped.
    recency: BinaryHeap<Reverse<(u64, u32)>>,
    tick: u64,
    next_serial: u32,
    other: OtherBucket,
    masked: Vec<u8>,
    spans: Vec<(u32, u32)>,
    /// Templates compared with a line, over all lines: the work grouping did.
    comparisons: std::cell::Cell<u64>,
}

impl Grouper {
    /// An empty grouper.
    pub fn new(options: GrouperOptions) -> Self {
        Grouper {
            options: GrouperOptions {
                max_groups: options.max_groups.max(1),
                ..options
            },
            roots: HashMap::default(),
            nodes: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            free_nodes: Vec::new(),
            live: 0,
            recency: BinaryHeap::new(),
            tick: 0,
            next_serial: 0,
            other: OtherBucket::default(),
            masked: Vec::new(),
            spans: Vec::new(),
            comparisons: std::cell::Cell::new(0),
        }
    }

    /// Templates compared with a line so far, over all lines added: bounded
    /// per line (a leaf's newest groups only), so grouping stays linear.
    pub fn comparisons(&self) -> u64 {
        self.comparisons.get()
    }

    /// The live groups by serial (a group merged into "other" is not there).
    pub fn by_serial(&self) -> HashMap<u32, &Group> {
        self.groups().map(|g| (g.serial, g)).collect()
    }

    /// Groups `event`; returns the serial of its group.
    pub fn add(&mut self, event: &LogEntry<'_>) -> u32 {
        self.tokenize(event.message);
        self.tick += 1;
        let tick = self.tick;
        let key = (event.level, self.spans.len() as u32);
        let leaf = self.descend(key);
        if let Some(leaf) = leaf {
            if let Some(slot) = self.best_match(leaf) {
                let masked = &self.masked;
                let spans = &self.spans;
                let Some(group) = self.slots[slot as usize].as_mut() else {
                    unreachable!("leaves hold live slots only")
                };
                for (t, &(a, b)) in group.tokens.iter_mut().zip(spans) {
                    if **t != masked[a as usize..b as usize] && **t != *WILDCARD {
                        *t = WILDCARD.into();
                    }
                }
                group.see(event, tick, self.options.steps.as_ref());
                return group.serial;
            }
        }
        self.create(key, event, tick)
    }

    /// The live groups, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.slots.iter().flatten().map(|g| &**g)
    }

    /// What was merged away.
    pub fn other(&self) -> &OtherBucket {
        &self.other
    }

    /// Bytes the grouper holds on the heap (an estimate within a few percent:
    /// hash tables are counted by capacity).
    pub fn heap_size(&self) -> usize {
        let entry = std::mem::size_of::<(Box<[u8]>, u32)>() + 1;
        let nodes: usize = self
            .nodes
            .iter()
            .map(|n| {
                n.children.capacity() * entry
                    + n.children.keys().map(|k| k.len()).sum::<usize>()
                    + n.groups.capacity() * 4
            })
            .sum();
        nodes
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.roots.capacity() * (std::mem::size_of::<((Option<Level>, u32), u32)>() + 1)
            + self.slots.capacity() * std::mem::size_of::<Option<Box<Group>>>()
            + self.groups().map(Group::heap_size).sum::<usize>()
            + self.free.capacity() * 4
            + self.free_nodes.capacity() * 4
            + self.recency.capacity() * 16
            + self.masked.capacity()
            + self.spans.capacity() * 8
    }

    /// Splits `message` at blanks into masked tokens, up to [`MAX_TEMPLATE`] bytes.
    fn tokenize(&mut self, message: &[u8]) {
        self.masked.clear();
        self.spans.clear();
        for token in message
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
        {
            if self.masked.len() >= MAX_TEMPLATE {
                let start = self.masked.len() as u32;
                self.masked.extend_from_slice(CUT);
                self.spans.push((start, self.masked.len() as u32));
                break;
            }
            let start = self.masked.len();
            mask_token(token, &mut self.masked);
            if self.masked.len() > MAX_TEMPLATE {
                // One token past the bound (a megabyte without a blank) is cut too.
                self.masked.truncate(MAX_TEMPLATE);
                self.spans.push((start as u32, self.masked.len() as u32));
                let cut = self.masked.len() as u32;
                self.masked.extend_from_slice(CUT);
                self.spans.push((cut, self.masked.len() as u32));
                break;
            }
            self.spans.push((start as u32, self.masked.len() as u32));
        }
    }

    fn token(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.masked[a as usize..b as usize]
    }

    /// The leaf for the current tokens, if the tree has one.
    fn descend(&self, key: (Option<Level>, u32)) -> Option<u32> {
        let mut node = *self.roots.get(&key)?;
        for i in 0..self.options.prefix_tokens.min(self.spans.len()) {
            let token = self.token(i);
            let n = &self.nodes[node as usize];
            node = if is_variable(token) {
                n.wildcard?
            } else {
                match n.children.get(token) {
                    Some(&child) => child,
                    None => n.wildcard?,
                }
            };
        }
        Some(node)
    }

    /// The leaf for the current tokens, made if need be.
    fn descend_or_grow(&mut self, key: (Option<Level>, u32)) -> u32 {
        let mut node = match self.roots.get(&key) {
            Some(&n) => n,
            None => {
                let n = self.new_node(None);
                self.roots.insert(key, n);
                n
            }
        };
        for i in 0..self.options.prefix_tokens.min(self.spans.len()) {
            let (a, b) = self.spans[i];
            let token = &self.masked[a as usize..b as usize];
            let variable = is_variable(token);
            let n = &self.nodes[node as usize];
            let existing = if variable {
                n.wildcard
            } else {
                n.children.get(token).copied()
            };
            let full = n.children.len() >= self.options.max_children;
            node = match existing {
                Some(child) => child,
                None if variable || full => match self.nodes[node as usize].wildcard {
                    Some(w) => w,
                    None => {
                        let w = self.new_node(Some(node));
                        self.nodes[node as usize].wildcard = Some(w);
                        w
                    }
                },
                None => {
                    let child = self.new_node(Some(node));
                    let key: Box<[u8]> = self.masked[a as usize..b as usize].into();
                    self.nodes[node as usize].children.insert(key, child);
                    child
                }
            };
        }
        node
    }

    fn new_node(&mut self, parent: Option<u32>) -> u32 {
        let node = Node {
            parent,
            ..Node::default()
        };
        if let Some(n) = self.free_nodes.pop() {
            self.nodes[n as usize] = node;
            return n;
        }
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// Takes `node` out of the tree when it holds nothing, then its parent
    /// if that is left empty: merged groups do not leave their branches
    /// behind (a flood of new kinds of lines would grow the tree for ever).
    fn prune(&mut self, mut node: u32) {
        while self.nodes[node as usize].is_empty() {
            let parent = self.nodes[node as usize].parent;
            // Its map's memory is given back; the slot is reused.
            self.nodes[node as usize] = Node::default();
            self.free_nodes.push(node);
            match parent {
                Some(p) => {
                    let up = &mut self.nodes[p as usize];
                    if up.wildcard == Some(node) {
                        up.wildcard = None;
                    } else {
                        up.children.retain(|_, child| *child != node);
                    }
                    node = p;
                }
                None => {
                    self.roots.retain(|_, root| *root != node);
                    return;
                }
            }
        }
    }

    /// The group in `leaf` the current tokens match best, if it matches enough.
    fn best_match(&self, leaf: u32) -> Option<u32> {
        let mut best: Option<(f32, usize, u32)> = None;
        // Only the newest groups of a leaf are compared: lines whose first
        // tokens are all variables share one leaf, and comparing each line
        // with thousands of groups made grouping quadratic (50,000 distinct
        // lines took over a minute).
        let groups = &self.nodes[leaf as usize].groups;
        let newest = &groups[groups.len().saturating_sub(MAX_LEAF_SCAN)..];
        self.comparisons
            .set(self.comparisons.get() + newest.len() as u64);
        for &slot in newest {
            let Some(group) = &self.slots[slot as usize] else {
                continue;
            };
            let (mut equal, mut wild, mut conflicts) = (0usize, 0usize, 0usize);
            for (i, t) in group.tokens.iter().enumerate() {
                let m = self.token(i);
                if **t == *WILDCARD {
                    wild += 1;
                } else if **t == *m {
                    equal += 1;
                } else if is_constant(t) && is_constant(m) {
                    conflicts += 1;
                } else if (is_placeholder(t) != is_placeholder(m)
                    && (is_constant(t) || is_constant(m)))
                    || value_type_conflict(t, m)
                    || label_conflict(t, m)
                {
                    // A word where the others had a number (`****` for a fan's speed);
                    // a value under another name (`LOGIN(uid=<num>)`, `(uid=<num>)`).
                    conflicts = usize::MAX;
                    break;
                }
            }
            // Two words that differ where neither looks like a value are
            // two messages, however much else they share (`Bye Bye` and
            // `disconnected by user`); one may be a name (`Invalid user admin`).
            if conflicts > MAX_CONFLICTS {
                continue;
            }
            let n = group.tokens.len().max(1);
            let sim = equal as f32 / n as f32;
            let better = best.is_none_or(|(s, w, _)| sim > s || (sim == s && wild > w));
            if better {
                best = Some((sim, wild, slot));
            }
        }
        let (sim, _, slot) = best?;
        let all_wild = self.spans.is_empty()
            || self.slots[slot as usize]
                .as_ref()
                .is_some_and(|g| g.tokens.iter().all(|t| **t == *WILDCARD));
        (sim >= self.options.similarity || all_wild).then_some(slot)
    }

    fn create(&mut self, key: (Option<Level>, u32), event: &LogEntry<'_>, tick: u64) -> u32 {
        if self.live >= self.options.max_groups {
            self.evict();
        }
        let node = self.descend_or_grow(key);
        let serial = self.next_serial;
        self.next_serial = self.next_serial.saturating_add(1);
        let tokens = (0..self.spans.len())
            .map(|i| self.token(i).into())
            .collect();
        let mut group = Group {
            serial,
            tokens,
            level: event.level,
            count: 0,
            first_seen: None,
            last_seen: None,
            files: Vec::new(),
            more_files: 0,
            example: Vec::new(),
            counts: Vec::new(),
            example_time: None,
            node,
            tick,
        };
        group.see(event, tick, self.options.steps.as_ref());
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(Box::new(group));
                s
            }
            None => {
                self.slots.push(Some(Box::new(group)));
                (self.slots.len() - 1) as u32
            }
        };
        self.nodes[node as usize].groups.push(slot);
        self.recency.push(Reverse((tick, slot)));
        self.live += 1;
        serial
    }

    /// Merges the least recently seen groups into "other" until the heap is
    /// at most `bytes` (or no group is left); returns how many were merged.
    /// In batches sized from the groups' mean size, the heap measured again
    /// after each (freed slots are kept for reuse, so it does not fall by
    /// exactly what the merged groups held).
    pub fn shrink_to(&mut self, bytes: usize) -> u64 {
        let mut merged = 0;
        loop {
            let heap = self.heap_size();
            if heap <= bytes || self.live == 0 {
                return merged;
            }
            let held: usize = self.groups().map(Group::heap_size).sum();
            let mean = (held / self.live).max(1);
            let batch = ((heap - bytes) / mean).clamp(1, self.live);
            for _ in 0..batch {
                let live = self.live;
                self.evict();
                if self.live == live {
                    return merged;
                }
                merged += 1;
            }
        }
    }

    /// Merges the least recently seen group into "other".
    fn evict(&mut self) {
        while let Some(Reverse((tick, slot))) = self.recency.pop() {
            let Some(group) = &self.slots[slot as usize] else {
                continue;
            };
            if group.tick != tick {
                // Seen since it was pushed: back in, at its last sighting.
                self.recency.push(Reverse((group.tick, slot)));
                continue;
            }
            let Some(group) = self.slots[slot as usize].take() else {
                continue;
            };
            self.nodes[group.node as usize]
                .groups
                .retain(|&s| s != slot);
            self.prune(group.node);
            self.free.push(slot);
            self.live -= 1;
            let other = &mut self.other;
            other.groups += 1;
            other.count += group.count;
            other.first_seen = match (other.first_seen, group.first_seen) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            other.last_seen = other.last_seen.max(group.last_seen);
            return;
        }
    }
}

/// The most groups of one leaf a line is compared with (the newest).
const MAX_LEAF_SCAN: usize = 256;

/// A word with no digits and no placeholder: likely part of the message's text.
fn is_constant(token: &[u8]) -> bool {
    !token.iter().any(|b| b.is_ascii_digit() || *b == b'<')
}

/// `key=<num>` against `key=word` (a word of letters): a value where the
/// others had a word, or the reverse (`tty=:<num>`, `tty=NODEVssh`). A
/// dotted name (`rhost=host.example.org`) may stand where an address did.
fn value_type_conflict(a: &[u8], b: &[u8]) -> bool {
    let (Some(i), Some(j)) = (memchr::memchr(b'=', a), memchr::memchr(b'=', b)) else {
        return false;
    };
    let word = |v: &[u8]| {
        !v.is_empty()
            && v.iter()
                .all(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'-'))
    };
    let (va, vb) = (&a[i + 1..], &b[j + 1..]);
    a[..i] == b[..j] && ((is_placeholder(va) && word(vb)) || (word(va) && is_placeholder(vb)))
}

/// Placeholders as [`mask`](super::mask) writes them, and the template's `<*>`.
const PLACEHOLDERS: [&[u8]; 7] = [
    b"<num>", b"<ip>", b"<hex>", b"<uuid>", b"<path>", b"<time>", b"<*>",
];

/// The length of the placeholder `token` starts with, if it starts with one.
fn placeholder_at(token: &[u8]) -> Option<usize> {
    PLACEHOLDERS
        .iter()
        .find(|p| token.starts_with(p))
        .map(|p| p.len())
}

/// The letters of `token` outside its placeholders: a byte scan, no allocation.
fn label(token: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < token.len() {
            if let Some(n) = placeholder_at(&token[i..]) {
                i += n;
                continue;
            }
            i += 1;
            if token[i - 1].is_ascii_alphabetic() {
                return Some(token[i - 1]);
            }
        }
        None
    })
}

/// Two tokens that both hold a named value, named differently: the letters
/// around the values (a field's name) differ (`LOGIN(uid=<num>)` against
/// `(uid=<num>)`, `src=<ip>` against `dst=<ip>`). A field's name is part of
/// the message; its value is not. A bare value (`<ip>,`) has no name: it may
/// stand where a named one did (`LOCAL(<num>)`); nor has a token with digits
/// left after masking (`0e.0[A]`): its letters may be part of a value.
fn label_conflict(a: &[u8], b: &[u8]) -> bool {
    let named_value = |t: &[u8]| {
        !t.iter().any(u8::is_ascii_digit)
            && (0..t.len()).any(|i| t[i] == b'<' && placeholder_at(&t[i..]).is_some())
            && label(t).next().is_some()
    };
    named_value(a) && named_value(b) && !label(a).eq(label(b))
}

/// A typed placeholder alone (`<num>`), perhaps with punctuation around it.
fn is_placeholder(token: &[u8]) -> bool {
    let inner = token.trim_ascii();
    let start = inner.iter().position(|&b| b == b'<');
    let end = inner.iter().rposition(|&b| b == b'>');
    match (start, end) {
        (Some(s), Some(e)) if e > s => inner[..s]
            .iter()
            .chain(&inner[e + 1..])
            .all(|b| b.is_ascii_punctuation()),
        _ => false,
    }
}

/// A token that is likely a variable: it has digits left after masking.
fn is_variable(token: &[u8]) -> bool {
    token.iter().any(u8::is_ascii_digit) || token == WILDCARD
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds `message` as an error line without a header or time.
    fn add_error(grouper: &mut Grouper, message: &str) -> u32 {
        grouper.add(&LogEntry {
            message: message.as_bytes(),
            line: message.as_bytes(),
            level: Some(Level::Error),
            time: None,
            file: 0,
        })
    }

    /// The group `message` joins (a line without a header, level or time).
    fn group_of(grouper: &mut Grouper, message: &str) -> u32 {
        grouper.add(&LogEntry {
            message: message.as_bytes(),
            line: message.as_bytes(),
            level: None,
            time: None,
            file: 0,
        })
    }

    /// A token longer than the template's bound (a megabyte without a
    /// blank, found by trying a journal entry) is cut like a long template.
    #[test]
    fn one_token_past_the_bound_is_cut_too() {
        let mut g = Grouper::new(GrouperOptions::default());
        let huge = "x".repeat(10_000);
        add_error(&mut g, &huge);
        let template = g.groups().next().unwrap().template();
        assert!(
            template.len() <= MAX_TEMPLATE + CUT.len() + 1,
            "{}",
            template.len()
        );
        assert!(template.ends_with('…'), "{template}");
    }

    /// A value under another name is another message (`LOGIN(uid=0)`
    /// against `(uid=0)`); a bare value, or one with digits left after
    /// masking, may stand where a named one did.
    #[test]
    fn a_value_under_another_name_is_another_message() {
        let mut g = Grouper::new(GrouperOptions::default());
        let a = group_of(&mut g, "session opened for user news by (uid=0)");
        assert_eq!(
            a,
            group_of(&mut g, "session opened for user test by (uid=509)")
        );
        assert_ne!(
            a,
            group_of(&mut g, "session opened for user root by LOGIN(uid=0)")
        );
        let b = group_of(&mut g, "synchronized to 10.0.0.1, stratum 3");
        assert_eq!(b, group_of(&mut g, "synchronized to LOCAL(0), stratum 10"));
        let c = group_of(&mut g, "PCI interrupt 0000:00:02.0[A] -> GSI 16");
        assert_eq!(
            c,
            group_of(&mut g, "PCI interrupt 0000:02:0e.0[A] -> GSI 17")
        );
        assert!(label_conflict(b"src=<ip>", b"dst=<ip>"));
        assert!(!label_conflict(b"src=<ip>", b"src=<ip>:<num>"));
    }

    /// 50,000 distinct lines whose first words vary all end in the
    /// wildcard leaf: each is compared with a bounded number of templates,
    /// not with every group made before it (which was quadratic).
    #[test]
    fn grouping_distinct_lines_compares_a_bounded_number_of_templates_per_line() {
        let mut grouper = Grouper::new(GrouperOptions::default());
        let lines = 50_000u64;
        let word = |n: u64| -> String {
            let mut n = n;
            let mut w = String::new();
            for _ in 0..4 {
                w.push(char::from(b'a' + (n % 26) as u8));
                n /= 26;
            }
            w
        };
        for i in 0..lines {
            let message = format!(
                "{} {} failed because {}",
                word(i),
                word(i * 7 + 3),
                word(i * 13 + 5)
            );
            add_error(&mut grouper, &message);
        }
        let live = grouper.groups().count() as u64;
        assert!(live > 1000, "the lines are distinct: {live} groups");
        let per_line = grouper.comparisons() / lines;
        assert!(
            per_line <= MAX_LEAF_SCAN as u64,
            "{per_line} comparisons per line"
        );
    }

    /// A budget smaller than what the groups hold merges the least recently
    /// seen into "other" until the heap is within it; the newest stay.
    #[test]
    fn shrinking_to_a_budget_merges_the_least_recently_seen_groups() {
        let mut grouper = Grouper::new(GrouperOptions::default());
        let word = |n: u64| -> String {
            (0..6)
                .map(|k| char::from(b'a' + ((n >> (k * 4)) % 16) as u8))
                .collect()
        };
        for i in 0..400u64 {
            let message = format!("{} {} broke: {}", word(i), word(i + 1000), "x".repeat(300));
            add_error(&mut grouper, &message);
        }
        let live = grouper.groups().count();
        assert!(live > 300, "{live} groups");
        let before = grouper.heap_size();
        let target = before / 2;
        let merged = grouper.shrink_to(target);
        assert!(merged > 0);
        assert!(
            grouper.heap_size() <= target,
            "{} > {target}",
            grouper.heap_size()
        );
        assert_eq!(grouper.other().groups, merged);
        assert_eq!(grouper.groups().count() as u64, live as u64 - merged);
        // The newest group is kept.
        let newest = format!("{} {} broke: {}", word(399), word(1399), "x".repeat(300));
        assert!(grouper.groups().any(|g| g.example == newest.as_bytes()));
        // Nothing to merge: shrinking to zero empties it and stops.
        grouper.shrink_to(0);
        assert_eq!(grouper.groups().count(), 0);
    }

    /// Past `max_groups`, a flood of new kinds of lines (each with first
    /// words of its own, of many lengths) keeps the grouper's heap flat: a
    /// merged group's branch of the tree goes with it.
    #[test]
    fn a_flood_of_new_kinds_past_the_bound_keeps_the_heap_flat() {
        let mut grouper = Grouper::new(GrouperOptions {
            max_groups: 50,
            ..GrouperOptions::default()
        });
        let word = |n: u64| -> String {
            (0..8)
                .map(|k| char::from(b'a' + ((n >> (k * 4)) % 16) as u8))
                .collect()
        };
        let mut add = |kinds: std::ops::Range<u64>| {
            for i in kinds {
                // As many words as 3 to 200: each count a tree of its own.
                let again = " again".repeat((i % 198) as usize);
                let message = format!("{} {} gave up{again}", word(i), word(i * 31 + 7));
                add_error(&mut grouper, &message);
            }
            grouper.heap_size()
        };
        let early = add(0..1_000);
        let late = add(1_000..40_000);
        assert!(
            late < early * 2,
            "{early} bytes after 1000 kinds, {late} after 40000"
        );
        assert_eq!(grouper.groups().count(), 50);
    }
}
