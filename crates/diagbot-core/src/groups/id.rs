//! Stable group ids, and the small hash the grouper's tree uses.
//!
//! A group's id is FNV-1a (64 bits) of its level's name and its template:
//! the same template at the same level has the same id in every run and on
//! every machine, so it can be linked to and silenced. (std's hasher is
//! randomly seeded per process and may change between Rust releases.)

use std::hash::{BuildHasher, Hasher};

use crate::logs::level::Level;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(seed, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// The id of the group of `template` at `level`: 16 hex digits.
pub fn group_id(level: Option<Level>, template: &str) -> String {
    format!("{:016x}", group_hash(level, template))
}

/// The number [`group_id`] writes in hex (what the daemon keeps of a known group).
pub fn group_hash(level: Option<Level>, template: &str) -> u64 {
    let name = level.map_or("none", Level::name);
    let h = fnv1a(fnv1a(FNV_OFFSET, name.as_bytes()), b"\0");
    fnv1a(h, template.as_bytes())
}

/// The id of the bucket the least recently seen groups are merged into.
pub const OTHER_ID: &str = "other";

/// A fast, unseeded hasher for the tree's short keys (tokens): the input is
/// the user's own logs, not an adversary's requests, and tokens are cut short.
#[derive(Default, Clone, Copy)]
pub struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        // Spread the low bits the table indexes with.
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        self.0 = h;
    }
}

/// Builds [`TokenHasher`]s.
#[derive(Default, Clone, Copy)]
pub struct BuildTokenHasher;

impl BuildHasher for BuildTokenHasher {
    type Hasher = TokenHasher;

    fn build_hasher(&self) -> TokenHasher {
        TokenHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fixed_values_of_level_and_template() {
        // Fixed across runs and builds: a changed value breaks every saved link and mute.
        let id = group_id(
            Some(Level::Error),
            "order <num> rejected: insufficient balance",
        );
        assert_eq!(id, "1298d872fc13a77e");
        assert_ne!(
            id,
            group_id(
                Some(Level::Warning),
                "order <num> rejected: insufficient balance"
            )
        );
        assert_ne!(id, group_id(Some(Level::Error), "order <num> filled"));
        assert_eq!(
            group_id(None, ""),
            format!("{:016x}", fnv1a(fnv1a(FNV_OFFSET, b"none"), b"\0"))
        );
    }
}
