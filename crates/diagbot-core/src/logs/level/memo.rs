//! The level of recent headers, remembered by the bytes that decided it.
//!
//! Reading a header's fields costs more than anything else done to a line,
//! and the lines of a log mostly repeat a few headers (` - worker - INFO - `).
//! For a line that starts with its timestamp, the header rules read only
//! bytes after the timestamp, up to the byte that ended the deciding field
//! (`header::Walked::examined`): a line with the same bytes there has the same
//! level. Two headers that both match a line have read the same bytes, so any
//! match is the answer.
//!
//! The table is small and per thread: 16 sets chosen by the first 4 bytes
//! after the timestamp (fewer than a header ever reads), 16 headers each,
//! replaced in turn.

use std::cell::RefCell;

use super::header::Walked;
use super::Level;

const SETS: usize = 16;
const WAYS: usize = 16;
/// The longest header read remembered, in bytes.
const LONGEST: usize = 48;

#[derive(Clone, Copy)]
struct Slot {
    /// Bytes read after the timestamp (0: empty slot).
    len: u8,
    /// The walk reached the end of the line: only a line ending there matches.
    line_end: bool,
    level: Option<Level>,
    /// The first (up to) 8 bytes, and the mask of those that count: one
    /// comparison turns most other headers away.
    first: u64,
    mask: u64,
    bytes: [u8; LONGEST],
}

const EMPTY: Slot = Slot {
    len: 0,
    line_end: false,
    level: None,
    first: 0,
    mask: 0,
    bytes: [0; LONGEST],
};

struct Table {
    sets: [[Slot; WAYS]; SETS],
    /// The way each set replaces next.
    next: [u8; SETS],
}

thread_local! {
    static TABLE: RefCell<Table> = const {
        RefCell::new(Table {
            sets: [[EMPTY; WAYS]; SETS],
            next: [0; SETS],
        })
    };
}

/// The first 8 bytes of `rest` as a number (zeros past its end).
fn first_word(rest: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = rest.len().min(8);
    word[..n].copy_from_slice(&rest[..n]);
    u64::from_le_bytes(word)
}

fn set_of(first: u64) -> usize {
    ((first as u32).wrapping_mul(0x9e37_79b1) >> 28) as usize
}

fn mask_of(len: usize) -> u64 {
    if len >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * len)) - 1
    }
}

impl Slot {
    fn matches(&self, rest: &[u8], first: u64) -> bool {
        let len = usize::from(self.len);
        len > 0
            && first & self.mask == self.first
            && rest.len() >= len
            && (!self.line_end || rest.len() == len)
            && (len <= 8 || rest[8..len] == self.bytes[8..len])
    }
}

/// The level of the header that starts at `line[start..]` (just after a
/// timestamp at the start of the line): remembered, or walked by `walk`.
pub fn remembered(line: &[u8], start: usize, walk: impl FnOnce() -> Walked) -> Option<Level> {
    let rest = &line[start.min(line.len())..];
    let first = first_word(rest);
    let set = set_of(first);
    let hit = TABLE.with_borrow(|table| {
        table.sets[set]
            .iter()
            .find(|slot| slot.matches(rest, first))
            .map(|slot| slot.level)
    });
    if let Some(level) = hit {
        return level;
    }
    // Walked outside the borrow: a carried line's header comes back here.
    let walked = walk();
    let read = walked.examined.saturating_sub(start);
    if walked.remembrable && walked.examined > start && read <= LONGEST {
        TABLE.with_borrow_mut(|table| {
            let way = usize::from(table.next[set]);
            table.next[set] = ((way + 1) % WAYS) as u8;
            let slot = &mut table.sets[set][way];
            slot.len = read as u8;
            slot.line_end = walked.examined == line.len();
            slot.level = walked.level;
            slot.mask = mask_of(read);
            slot.first = first & slot.mask;
            slot.bytes[..read].copy_from_slice(&rest[..read]);
        });
    }
    walked.level
}
