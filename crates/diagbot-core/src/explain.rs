//! Explaining a leak: which number in a service's own log lines its memory
//! climbs with (`Cache size: <num> entries`, r 0.99, about 7 MiB each),
//! without a rule written for it.
//!
//! Every numeric variable of every template in the service's logs is a
//! candidate ([`numbers`]); the service's memory samples, cut into process
//! instances, are set against each ([`correlate`]): by steps, within each
//! instance, so a restart's drop and a counter that never resets say
//! nothing, and a number that only counts time drops out. The front ends
//! only render the [`Explanation`].

pub mod correlate;
pub mod follow;
pub mod numbers;
pub mod scan;

use serde::{Deserialize, Serialize};

use crate::units::{long_span, mib};
use correlate::{judge_best, steps, Sample, Step, Verdict};
pub use numbers::{NumberKey, Numbers};

/// Steps (pooled over instances) a number needs before any verdict.
pub const MIN_STEPS: usize = 8;

/// r from which a number is said to go with memory.
pub const LIKELY_R: f64 = 0.5;

/// r from which a number is sure enough to be named in the memory trend
/// and alerts (with [`SURE_STEPS`] steps).
pub const SURE_R: f64 = 0.8;

/// Steps a sure number needs.
pub const SURE_STEPS: usize = 20;

/// One run of the service's main process, as the samples saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instance {
    /// Its main PID, when known.
    pub pid: Option<u32>,
    /// Its memory samples, oldest first.
    pub samples: Vec<Sample>,
}

/// What the explanation is given besides the numbers.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The service's instances, oldest first.
    pub instances: Vec<Instance>,
    /// Its climb now (the trend's slope), bytes per second.
    pub climb_bytes_per_sec: Option<f64>,
    /// OOM kills of it within the span.
    pub oom_kills: usize,
    /// The span the samples cover, seconds.
    pub span_secs: f64,
    /// How precisely the samples' times are known, seconds (a store keeps
    /// whole seconds: 1; samples taken live: 0).
    pub resolution_secs: f64,
}

/// One number and what its steps say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The message template (`Cache size: <num> entries`).
    pub template: String,
    /// Which `<num>` of it, from 1.
    pub variable: u8,
    /// r of its steps with memory's (time's share out); `None` without a verdict.
    pub r: Option<f64>,
    /// Memory per unit of it (Theil–Sen over the steps).
    pub bytes_per_unit: Option<f64>,
    /// Instances whose steps count.
    pub instances: usize,
    /// Steps behind r.
    pub samples: usize,
    /// Its value as the last instance that ended had it (at its death).
    pub last_value: Option<f64>,
    /// Where its lines come from.
    pub source: String,
    /// Why it is not an explanation, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_because: Option<String>,
}

impl Candidate {
    /// Named in the memory trend and alerts: r and steps past the bar.
    pub fn is_sure(&self) -> bool {
        self.r.is_some_and(|r| r >= SURE_R) && self.samples >= SURE_STEPS
    }

    /// "`Cache size: <num> entries`", with which number of it when the
    /// template has several: the name a chart gives it.
    pub fn name(&self) -> String {
        format!("`{}`{}", self.template, slot_note(self))
    }

    /// "it climbs with `Cache size: <num> entries` (r 0.99, about 7.1 MiB
    /// each)": what the memory trend and the alerts say of a sure candidate.
    pub fn phrase(&self) -> String {
        let mut about = format!("r {:.2}", self.r.unwrap_or_default());
        if let Some(per) = self.bytes_per_unit.filter(|b| *b > 0.0) {
            about.push_str(&format!(", about {} each", size(per)));
        }
        format!("it climbs with {} ({about})", self.name())
    }
}

/// The answer to "why does it climb?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The service, by its configured name.
    pub service: String,
    /// Numbers that go with memory (r ≥ [`LIKELY_R`]), best first.
    pub candidates: Vec<Candidate>,
    /// Numbers looked at that do not, the most telling first (a few).
    pub not_with: Vec<Candidate>,
    /// Numbers looked at.
    pub looked_at: usize,
    /// Why nothing explains it, when nothing does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The whole answer for a person.
    pub text: String,
}

/// Numbers named under "Not with".
const NOT_WITH_SHOWN: usize = 3;

/// Explains `service`'s `memory` by the `numbers` of its logs.
pub fn explain(service: &str, memory: &Memory, numbers: &Numbers) -> Explanation {
    let mut judged: Vec<Candidate> = numbers
        .iter()
        .map(|(key, series)| candidate(key, series, memory))
        .collect();
    judged.sort_by(|a, b| {
        b.r.unwrap_or(-2.0)
            .total_cmp(&a.r.unwrap_or(-2.0))
            .then(b.samples.cmp(&a.samples))
            .then(a.template.cmp(&b.template))
    });
    let looked_at = judged.len();
    let (mut candidates, rest): (Vec<Candidate>, Vec<Candidate>) = judged
        .into_iter()
        .partition(|c| c.r.is_some_and(|r| r >= LIKELY_R) && c.samples >= MIN_STEPS);
    for c in &mut candidates {
        c.not_because = None;
    }
    // The most telling refusals: those with a verdict (steps enough) first.
    let mut not_with: Vec<Candidate> = rest
        .into_iter()
        .filter(|c| c.samples >= MIN_STEPS || c.not_because.is_some())
        .collect();
    not_with.sort_by_key(|c| std::cmp::Reverse(c.samples));
    not_with.truncate(NOT_WITH_SHOWN);
    let reason = candidates
        .is_empty()
        .then(|| why_nothing(memory, numbers, looked_at, &not_with));
    let text = words(service, memory, &candidates, &not_with, reason.as_deref());
    Explanation {
        service: service.to_string(),
        candidates,
        not_with,
        looked_at,
        reason,
        text,
    }
}

fn candidate(key: &NumberKey, series: &numbers::NumberSeries, memory: &Memory) -> Candidate {
    let points: Vec<(f64, f64)> = series.points.iter().copied().collect();
    let mut all: Vec<Step> = Vec::new();
    let mut instances = 0;
    let mut last_value = None;
    let last = memory.instances.len().saturating_sub(1);
    for (i, instance) in memory.instances.iter().enumerate() {
        // Its own lines only: between the last sample of the one before and
        // its own first, the dying process may still have logged.
        let since = instance.samples.first().map_or(f64::INFINITY, |s| s.0);
        let (found, ended_with) = steps(&instance.samples, &points, since, memory.resolution_secs);
        if !found.is_empty() {
            instances += 1;
        }
        all.extend(found);
        if i < last {
            last_value = ended_with.or(last_value);
        }
    }
    let mut c = Candidate {
        template: key.template.clone(),
        variable: key.slot + 1,
        r: None,
        bytes_per_unit: None,
        instances,
        samples: all.len(),
        last_value,
        source: series.source.clone(),
        not_because: None,
    };
    if all.len() < MIN_STEPS {
        let n = all.len();
        let s = if n == 1 { "" } else { "s" };
        c.not_because = Some(format!("{n} step{s}, {MIN_STEPS} needed"));
        return c;
    }
    let (verdict, used) = judge_best(&all, MIN_STEPS);
    c.samples = used;
    match verdict {
        Verdict::Correlates { r, bytes_per_unit } => {
            c.r = Some(r);
            c.bytes_per_unit = bytes_per_unit;
            if r < LIKELY_R {
                c.not_because = Some(format!("r {r:.2}"));
            }
        }
        Verdict::GrowsWithTime => {
            c.not_because = Some(GROWS_WITH_TIME.into());
        }
        Verdict::Constant => {
            c.not_because = Some("its steps do not vary".into());
        }
    }
    c
}

fn why_nothing(
    memory: &Memory,
    numbers: &Numbers,
    looked_at: usize,
    refused: &[Candidate],
) -> String {
    let samples: usize = memory.instances.iter().map(|i| i.samples.len()).sum();
    if samples < MIN_STEPS + 1 {
        return format!(
            "too few memory samples ({samples}); the daemon takes one every health.sample_interval"
        );
    }
    if numbers.is_empty() {
        return "no numbers in its log lines within the span".into();
    }
    // "None climbs with it" is not the whole truth when a number rises
    // steadily, as memory may (it cannot be told from the clock), or has
    // too few steps to be judged: say those too.
    let mut why = format!(
        "none of the {looked_at} numbers in its log lines climbs with its memory step by step"
    );
    let steady: Vec<&str> = refused
        .iter()
        .filter(|c| c.not_because.as_deref() == Some(GROWS_WITH_TIME))
        .map(|c| c.template.as_str())
        .collect();
    if !steady.is_empty() {
        why.push_str(&format!(
            "; `{}` rise{} steadily, as time does, and a leak that keeps pace with the clock cannot be told from that",
            steady.join("`, `"),
            if steady.len() == 1 { "s" } else { "" }
        ));
    }
    let unjudged = refused.iter().filter(|c| c.samples < MIN_STEPS).count();
    if unjudged > 0 {
        why.push_str(&format!(
            "; {unjudged} changed over too few memory samples to judge ({MIN_STEPS} steps needed)"
        ));
    }
    why
}

/// Why a number that rises with time, steadily, is not named.
const GROWS_WITH_TIME: &str = "grows with time, no signal in its steps";

fn words(
    service: &str,
    memory: &Memory,
    candidates: &[Candidate],
    not_with: &[Candidate],
    reason: Option<&str>,
) -> String {
    let mut text = service.to_string();
    match memory.climb_bytes_per_sec {
        Some(rate) if rate > 0.0 => {
            text.push_str(&format!(" climbs +{:.1} MiB/min", mib(rate * 60.0)));
        }
        _ => text.push_str("'s memory"),
    }
    let n = memory.instances.len();
    let mut about = vec![format!("{n} instance{}", if n == 1 { "" } else { "s" })];
    if memory.oom_kills > 0 {
        about.push(format!(
            "{} OOM kill{} in {}",
            memory.oom_kills,
            if memory.oom_kills == 1 { "" } else { "s" },
            long_span(memory.span_secs)
        ));
    }
    text.push_str(&format!(" ({}).", about.join(", ")));
    match candidates.first() {
        Some(best) => {
            text.push_str(&format!(
                "\nIt climbs with `{}`{} ({}): r {:.2} over {} instance{}, {} steps",
                best.template,
                slot_note(best),
                best.source,
                best.r.unwrap_or_default(),
                best.instances,
                if best.instances == 1 { "" } else { "s" },
                best.samples
            ));
            if let Some(per) = best.bytes_per_unit.filter(|b| *b > 0.0) {
                text.push_str(&format!("; about {} each", size(per)));
            }
            if let Some(v) = best.last_value {
                text.push_str(&format!(
                    "; the value was {} when the last instance ended",
                    number(v)
                ));
            }
            text.push('.');
            if !best.is_sure() {
                text.push_str(&format!(
                    " Not sure yet (sure from r {SURE_R} over {SURE_STEPS} steps)."
                ));
            }
            for other in candidates.iter().skip(1).take(2) {
                text.push_str(&format!(
                    "\nAlso with `{}`{}: r {:.2}, {} steps.",
                    other.template,
                    slot_note(other),
                    other.r.unwrap_or_default(),
                    other.samples
                ));
            }
        }
        None => text.push_str(&format!(
            "\nNothing explains it: {}.",
            reason.unwrap_or("-")
        )),
    }
    let refused: Vec<String> = not_with
        .iter()
        .filter_map(|c| {
            let why = c.not_because.as_deref()?;
            Some(format!("`{}`{} ({why})", c.template, slot_note(c)))
        })
        .collect();
    if !refused.is_empty() {
        text.push_str(&format!("\nNot with: {}.", refused.join(", ")));
    }
    text
}

/// `(its 2nd number)` when the template has more than one.
fn slot_note(c: &Candidate) -> String {
    if c.template.matches("<num>").count() > 1 {
        format!(" (its number {})", c.variable)
    } else {
        String::new()
    }
}

fn size(bytes: f64) -> String {
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", mib(bytes))
    } else if bytes >= 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} bytes")
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests;
