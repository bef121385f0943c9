//! Learning a file's timestamp format from its first lines.
//!
//! Every timestamp the grammar finds in the first [`SAMPLE_LINES`] lines that
//! have one (within the first [`HEAD_BYTES`]) votes for its (place, layout);
//! the pair found in most lines wins, the earlier place on a tie (a line's
//! timestamp is its first). Forms a number could take by chance (epoch
//! numbers, `MMdd`) must stand at the same place in two lines at least and
//! half of the sampled lines.
//! Which numeric field is the day, the month or a two-digit year is the order
//! that reads the most sampled lines as valid dates not after the file's
//! last write (one `13/01` settles `dd/MM`). User formats whose glob matches
//! the file vote first and win if they read half of the sampled lines.
//!
//! The learned format depends only on the file's first bytes, so a refresh
//! that reads appended bytes keeps it; while a file is too short to fill the
//! sample, the format is learned again at each refresh (see the engine).

use std::cmp::Reverse;
use std::io::Read;
use std::path::Path;

use crate::logs::format::{BuiltinFormat, FileFormat, UserChoice};
use crate::logs::timestamp::grammar::{Layout, Reading};
use crate::logs::timestamp::search::{anchor_at, for_each_timestamp, Anchor};
use crate::logs::timestamp::YearHint;
use crate::logs::user_format::CompiledUserFormat;

/// Lines with a timestamp candidate that the learner looks at.
pub const SAMPLE_LINES: u32 = 200;
/// How much of the start of a file the learner reads at most.
pub const HEAD_BYTES: usize = 256 << 10;
/// Distinct (place, layout) pairs followed; more are ignored (garbage input).
const MAX_CANDIDATES: usize = 64;

/// A learned format, and whether the sample was full (it will not change as the file grows).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Learned {
    /// The format that read most of the sampled lines.
    pub format: FileFormat,
    /// The sample was full: the format will not change as the file grows.
    pub complete: bool,
    /// Lines that had a candidate timestamp.
    pub sampled: u32,
}

struct Candidate {
    anchor: Anchor,
    layout: Layout,
    lines: u32,
    /// Sum of the start offsets: the earlier place wins a tie.
    start_sum: u64,
    /// Lines each of `layout.orders()` read as a valid date.
    valid: [u32; 3],
    first: Reading,
    /// The last sampled line that counted (a line votes once per candidate).
    last_line: u32,
}

struct UserVotes {
    index: usize,
    lines: u32,
    anchors: Vec<(Anchor, u32)>,
}

/// Looks at a file's first lines, one at a time, then decides its format.
pub struct Learner<'a> {
    users: &'a [CompiledUserFormat],
    user_votes: Vec<UserVotes>,
    hint: YearHint,
    candidates: Vec<Candidate>,
    sampled: u32,
    line_no: u32,
    /// The first lines' starts, from which the header is learned once the
    /// timestamp's place is known.
    kept: Vec<Vec<u8>>,
    /// Whether to learn the header at all (a grep does not read it).
    header: bool,
}

/// Lines kept to learn a header from, and how much of each.
const KEPT_LINES: usize = 200;
const KEPT_BYTES: usize = 512;

impl<'a> Learner<'a> {
    /// `users` are all the query's formats; those whose glob matches `path` take part.
    pub fn new(users: &'a [CompiledUserFormat], path: &Path, hint: YearHint) -> Self {
        let user_votes = users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.applies_to(path))
            .map(|(index, _)| UserVotes {
                index,
                lines: 0,
                anchors: Vec::new(),
            })
            .collect();
        Learner {
            users,
            user_votes,
            hint,
            candidates: Vec::new(),
            sampled: 0,
            line_no: 0,
            kept: Vec::new(),
            header: true,
        }
    }

    /// The same learner, learning the header too or not.
    pub fn learning_header(self, header: bool) -> Self {
        Learner { header, ..self }
    }

    /// Whether the sample is full.
    pub fn is_full(&self) -> bool {
        self.sampled >= SAMPLE_LINES
    }

    /// Takes one line into the sample (if it shows a timestamp).
    pub fn observe(&mut self, line: &[u8]) {
        if self.is_full() {
            return;
        }
        self.line_no += 1;
        if self.header && self.kept.len() < KEPT_LINES {
            self.kept.push(line[..line.len().min(KEPT_BYTES)].to_vec());
        }
        let mut any = self.observe_users(line);
        let hint = self.hint;
        let line_no = self.line_no;
        let candidates = &mut self.candidates;
        for_each_timestamp(line, |found| {
            let orders = found.reading.layout.orders();
            let mut valid = [false; 3];
            for (slot, &order) in valid.iter_mut().zip(orders) {
                *slot = found
                    .reading
                    .resolve(order, &hint)
                    .is_some_and(|t| !hint.is_future(t.naive));
            }
            if !valid.contains(&true) {
                return false;
            }
            any = true;
            let known = candidates
                .iter()
                .position(|c| c.anchor == found.anchor && c.layout == found.reading.layout);
            let index = match known {
                Some(i) => i,
                None if candidates.len() < MAX_CANDIDATES => {
                    candidates.push(Candidate {
                        anchor: found.anchor,
                        layout: found.reading.layout,
                        lines: 0,
                        start_sum: 0,
                        valid: [0; 3],
                        first: found.reading,
                        last_line: 0,
                    });
                    candidates.len() - 1
                }
                None => return false,
            };
            let c = &mut candidates[index];
            if c.last_line == line_no {
                return false; // a JSON key seen twice in one line
            }
            c.last_line = line_no;
            c.lines += 1;
            c.start_sum += found.start as u64;
            for (count, ok) in c.valid.iter_mut().zip(valid) {
                *count += u32::from(ok);
            }
            false
        });
        if any {
            self.sampled += 1;
        }
    }

    fn observe_users(&mut self, line: &[u8]) -> bool {
        let mut any = false;
        for votes in &mut self.user_votes {
            let format = &self.users[votes.index];
            let Some(reading) = format.read(line, None, &self.hint) else {
                continue;
            };
            any = true;
            votes.lines += 1;
            if !format.has_regex() {
                let anchor = anchor_at(line, reading.time.start);
                let known = votes.anchors.iter().position(|(a, _)| *a == anchor);
                match known {
                    Some(i) => votes.anchors[i].1 += 1,
                    None if votes.anchors.len() < MAX_CANDIDATES => votes.anchors.push((anchor, 1)),
                    None => {}
                }
            }
        }
        any
    }

    /// The format the sample speaks for.
    pub fn decide(&self) -> Learned {
        Learned {
            format: self
                .user_choice()
                .or_else(|| self.builtin_choice())
                .unwrap_or_default(),
            complete: self.is_full(),
            sampled: self.sampled,
        }
    }

    fn user_choice(&self) -> Option<FileFormat> {
        let best = self
            .user_votes
            .iter()
            .enumerate()
            .max_by_key(|(i, v)| (v.lines, Reverse(*i)))
            .map(|(_, v)| v)?;
        if best.lines == 0 || best.lines * 2 < self.sampled {
            return None;
        }
        let anchor = best
            .anchors
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, n))| (*n, Reverse(*i)))
            .map(|(_, (a, _))| *a);
        Some(FileFormat::User(UserChoice {
            index: best.index,
            name: self.users[best.index].name.clone(),
            anchor,
        }))
    }

    fn builtin_choice(&self) -> Option<FileFormat> {
        // A weak form must recur: in two lines at least, and half the sample.
        let trusted = |c: &&Candidate| {
            !c.layout.is_weak()
                || matches!(c.anchor, Anchor::Key(_))
                || (c.lines >= 2 && c.lines * 2 >= self.sampled)
        };
        let best = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| trusted(c))
            .max_by_key(|(i, c)| (c.lines, Reverse(c.start_sum), Reverse(*i)))
            .map(|(_, c)| c)?;
        let orders = best.layout.orders();
        let order = orders
            .iter()
            .zip(best.valid)
            .enumerate()
            .max_by_key(|(i, (_, valid))| (*valid, Reverse(*i)))
            .map(|(_, (o, _))| *o)?;
        let mut format = BuiltinFormat {
            anchor: best.anchor,
            layout: best.layout,
            order,
            frac_digits: best.first.frac_digits,
            frac_sep: best.first.frac_sep,
            zone: best.first.zone,
            header: None,
        };
        let hint = self.hint;
        let timed = self
            .kept
            .iter()
            .filter_map(|l| format.read(l, &hint).map(|t| (&l[..], t.end)));
        format.header = if self.header {
            crate::logs::header::learn_header(timed)
        } else {
            None
        };
        Some(FileFormat::Builtin(format))
    }
}

/// Learns the format of `file` (the walk's `LogFile`, opened as `handle`,
/// `size` bytes) from its first bytes, decompressed for a `.gz`: what every
/// reader of log files learns a file's format by.
/// `header`: learn the header too (what `errors` and groups read; a grep
/// does not: its cost is the first lines' fields, once a file).
pub fn learn_file(
    file: &crate::logs::walk::LogFile,
    handle: &std::fs::File,
    size: u64,
    (users, hint): (&[CompiledUserFormat], YearHint),
    header: bool,
) -> Learned {
    let head = Read::take(crate::logs::read::ReadAt::new(handle, 0), size);
    let learner = Learner::new(users, &file.path, hint).learning_header(header);
    if file.compressed {
        let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(head));
        learn_with(learner, decoder)
    } else {
        learn_with(learner, head)
    }
}

/// Learns the format of the file at `path` from the start of `reader` (at
/// most [`HEAD_BYTES`], stopping once the sample is full). Only whole lines
/// count. A read error ends the sample where it happened.
pub fn learn_from_reader<R: Read>(
    reader: R,
    users: &[CompiledUserFormat],
    path: &Path,
    hint: YearHint,
) -> Learned {
    learn_with(Learner::new(users, path, hint), reader)
}

/// Feeds `learner` the start of `reader` (see [`learn_from_reader`]).
fn learn_with<R: Read>(mut learner: Learner<'_>, reader: R) -> Learned {
    let mut reader = reader.take(HEAD_BYTES as u64);
    let mut buf = vec![0u8; 64 << 10];
    let mut pending: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while !learner.is_full() {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n;
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', &pending[start..]) {
            let line = &pending[start..start + nl];
            learner.observe(line.strip_suffix(b"\r").unwrap_or(line));
            start += nl + 1;
            if learner.is_full() {
                break;
            }
        }
        pending.drain(..start);
    }
    let mut learned = learner.decide();
    // A file longer than the head is settled by its head, full sample or not.
    learned.complete |= total >= HEAD_BYTES;
    learned
}

/// Learns from lines already in memory (all of them count, the last one too).
pub fn learn_from_lines<'l>(
    lines: impl IntoIterator<Item = &'l [u8]>,
    users: &[CompiledUserFormat],
    path: &Path,
    hint: YearHint,
) -> Learned {
    let mut learner = Learner::new(users, path, hint);
    for line in lines {
        if learner.is_full() {
            break;
        }
        learner.observe(line);
    }
    learner.decide()
}
