//! The numbers in a service's log lines, as series: one per numeric
//! variable of each message template (`Cache size: <num> entries` gives one
//! series; `moved <num> of <num>` two). Bounded: at most a number of series
//! (the most recently seen are kept) of at most a number of points each.

use std::collections::{HashMap, VecDeque};

use crate::groups::mask::mask_token;

/// Series kept unless told otherwise.
pub const MAX_SERIES: usize = 200;

/// Points kept per series: past it, every other one goes (the series still
/// spans the whole time, at a coarser step, as a trend's ring does).
pub const MAX_POINTS: usize = 1024;

/// Numeric variables read per template; a longer line is a table, not a gauge.
const MAX_SLOTS: usize = 8;

/// Templates longer than this are not tracked (a dump, not a gauge).
const MAX_TEMPLATE: usize = 256;

/// One numeric variable of one template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NumberKey {
    /// The message's template, its numbers masked (`Cache size: <num> entries`).
    pub template: String,
    /// Which `<num>` of it, from 0.
    pub slot: u8,
}

/// A number's values over time.
#[derive(Debug, Clone, Default)]
pub struct NumberSeries {
    /// (seconds since the epoch, value), oldest first.
    pub points: VecDeque<(f64, f64)>,
    /// Where its lines came from (a file name, a unit).
    pub source: String,
    last_seen: f64,
}

/// The numbers of the lines read so far.
#[derive(Debug)]
pub struct Numbers {
    series: HashMap<NumberKey, NumberSeries>,
    max_series: usize,
    max_points: usize,
    /// Series dropped to stay within `max_series`.
    pub dropped: u64,
}

impl Default for Numbers {
    fn default() -> Self {
        Numbers::new(MAX_SERIES, MAX_POINTS)
    }
}

impl Numbers {
    /// At most `max_series` series of at most `max_points` points.
    pub fn new(max_series: usize, max_points: usize) -> Self {
        Numbers {
            series: HashMap::new(),
            max_series: max_series.max(1),
            max_points: max_points.max(2),
            dropped: 0,
        }
    }

    /// Takes in one line's message, written at `at_secs`, from `source`.
    pub fn add(&mut self, at_secs: f64, message: &[u8], source: &str) {
        let Some((template, values)) = template_and_values(message) else {
            return;
        };
        for (slot, value) in values.into_iter().enumerate().take(MAX_SLOTS) {
            let Some(value) = value else { continue };
            let key = NumberKey {
                template: template.clone(),
                slot: slot as u8,
            };
            self.push(key, at_secs, value, source);
        }
    }

    fn push(&mut self, key: NumberKey, at_secs: f64, value: f64, source: &str) {
        if !self.series.contains_key(&key) && self.series.len() >= self.max_series {
            // The least recently seen goes.
            let oldest = self
                .series
                .iter()
                .min_by(|a, b| a.1.last_seen.total_cmp(&b.1.last_seen))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.series.remove(&oldest);
                self.dropped += 1;
            }
        }
        let max = self.max_points;
        let series = self.series.entry(key).or_insert_with(|| NumberSeries {
            source: source.to_string(),
            ..NumberSeries::default()
        });
        series.points.push_back((at_secs, value));
        series.last_seen = series.last_seen.max(at_secs);
        if series.points.len() > max {
            // Keep the newest, and every other one before it.
            let last = series.points.len() - 1;
            let mut i = 0;
            series.points.retain(|_| {
                let keep = (last - i) % 2 == 0;
                i += 1;
                keep
            });
        }
    }

    /// The series, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&NumberKey, &NumberSeries)> {
        self.series.iter()
    }

    /// How many series there are.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no line had a number.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Bytes held on the heap (an estimate: tables by capacity).
    pub fn heap_size(&self) -> usize {
        self.series
            .iter()
            .map(|(k, s)| {
                k.template.capacity()
                    + s.source.capacity()
                    + s.points.capacity() * std::mem::size_of::<(f64, f64)>()
            })
            .sum::<usize>()
            + self.series.capacity() * (std::mem::size_of::<(NumberKey, NumberSeries)>() + 1)
    }
}

/// A message's template (its numbers and other values masked) and the value
/// of each of its `<num>`s in order (`None` where a token holds more than
/// one value: an address, a time). `None` for a message without a number,
/// or too long to be a gauge.
pub fn template_and_values(message: &[u8]) -> Option<(String, Vec<Option<f64>>)> {
    let mut template = Vec::with_capacity(message.len());
    let mut values: Vec<Option<f64>> = Vec::new();
    for token in message
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
    {
        if !template.is_empty() {
            template.push(b' ');
        }
        let start = template.len();
        mask_token(token, &mut template);
        let masked = &template[start..];
        let nums = count(masked, b"<num>");
        if nums == 1 && count(masked, b"<") == 1 {
            values.push(first_number(token));
        } else {
            // Keeps the slots in step with the template's `<num>`s.
            values.extend(std::iter::repeat_n(None, nums));
        }
        if template.len() > MAX_TEMPLATE {
            return None;
        }
    }
    if values.iter().all(Option::is_none) {
        return None;
    }
    Some((String::from_utf8_lossy(&template).into_owned(), values))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// The first number in `token` (`61`, `size=61`, `12ms`, `-3.5`).
fn first_number(token: &[u8]) -> Option<f64> {
    let start = token.iter().position(u8::is_ascii_digit)?;
    let negative = start > 0 && token[start - 1] == b'-';
    let len = token[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    let text = std::str::from_utf8(&token[start..start + len]).ok()?;
    let value: f64 = text.trim_end_matches('.').parse().ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: &Numbers, template: &str, slot: u8) -> Vec<f64> {
        let key = NumberKey {
            template: template.into(),
            slot,
        };
        n.series
            .get(&key)
            .map(|s| s.points.iter().map(|p| p.1).collect())
            .unwrap_or_default()
    }

    #[test]
    fn each_number_of_each_template_is_a_series() {
        let mut n = Numbers::default();
        n.add(1.0, b"Cache size: 61 entries", "bot.log");
        n.add(2.0, b"Cache size: 66 entries", "bot.log");
        n.add(2.0, b"moved 3 of 12 items in 40ms", "bot.log");
        n.add(3.0, b"peer 10.0.0.1:443 size=7", "bot.log");
        n.add(3.0, b"no numbers here", "bot.log");
        assert_eq!(values(&n, "Cache size: <num> entries", 0), [61.0, 66.0]);
        assert_eq!(values(&n, "moved <num> of <num> items in <num>", 1), [12.0]);
        assert_eq!(values(&n, "moved <num> of <num> items in <num>", 2), [40.0]);
        // The address is no gauge; the size after it is the template's one number.
        assert_eq!(values(&n, "peer <ip> size=<num>", 0), [7.0]);
        assert_eq!(n.len(), 5);
    }

    #[test]
    fn the_most_recently_seen_series_are_kept() {
        let mut n = Numbers::new(2, 3);
        n.add(1.0, b"a 1", "x");
        n.add(2.0, b"b 1", "x");
        n.add(3.0, b"a 2", "x");
        n.add(4.0, b"c 1", "x");
        assert_eq!(n.len(), 2);
        assert_eq!(n.dropped, 1);
        assert!(values(&n, "b <num>", 0).is_empty());
        for i in 0..10 {
            n.add(5.0 + f64::from(i), format!("a {i}").as_bytes(), "x");
        }
        // Thinned to the bound, the newest kept.
        let kept = values(&n, "a <num>", 0);
        assert!(kept.len() <= 3, "{kept:?}");
        assert_eq!(kept.last(), Some(&9.0));
    }
}
