//! Whether a number's steps go with memory's: within each process instance,
//! each memory sample takes the number's last value at or before it; the
//! samples where the number changed cut the instance into steps; a step's
//! change in memory is set against its change in the number (and its length
//! in time). Correlating changes, not levels: anything that grows with time
//! correlates with a linear leak's levels, and says nothing.

/// One memory sample: (seconds since the epoch, bytes).
pub type Sample = (f64, f64);

/// One step: how long it took, how much memory and the number changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Its length in time.
    pub secs: f64,
    /// Memory's change over it.
    pub bytes: f64,
    /// The number's change over it.
    pub value: f64,
}

/// The steps of one instance: its memory `samples` (oldest first), the
/// number's `points` (oldest first), and `since`: values logged before it
/// may be an earlier process's. `resolution`: a sample's time is known to
/// within this many seconds after it (a store keeps whole seconds); a sample
/// with a line logged within that span of it cannot be ordered against the
/// line, and is left out. Also the value the instance ended with.
pub fn steps(
    samples: &[Sample],
    points: &[(f64, f64)],
    since: f64,
    resolution: f64,
) -> (Vec<Step>, Option<f64>) {
    let mut out = Vec::new();
    let mut at = 0;
    let mut current: Option<f64> = None;
    // The last sample where the number took a new value: (time, bytes, value).
    let mut mark: Option<(f64, f64, f64)> = None;
    for &(t, bytes) in samples {
        while at < points.len() && points[at].0 <= t {
            if points[at].0 >= since {
                current = Some(points[at].1);
            }
            at += 1;
        }
        if points.get(at).is_some_and(|p| p.0 < t + resolution) {
            continue;
        }
        let Some(value) = current else { continue };
        match mark {
            None => mark = Some((t, bytes, value)),
            Some((t0, b0, v0)) if value != v0 => {
                out.push(Step {
                    secs: t - t0,
                    bytes: bytes - b0,
                    value: value - v0,
                });
                mark = Some((t, bytes, value));
            }
            Some(_) => {}
        }
    }
    (out, current)
}

/// Pearson's r of `xs` and `ys`; `None` when either does not vary.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(xs), mean(ys));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (xs[i] - mx, ys[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    // Relative to the values' size: float noise in a constant is no variance.
    let tiny = |s: f64, m: f64| s <= 1e-12 * (m * m + 1.0) * n as f64;
    if tiny(sxx, mx) || tiny(syy, my) {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// What the steps say of a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Its steps go with memory's: r (with time's share taken out when
    /// the steps' lengths vary), and bytes per unit of it.
    Correlates {
        /// Pearson's r of the steps (partial, time's share out).
        r: f64,
        /// Memory per unit of the number.
        bytes_per_unit: Option<f64>,
    },
    /// Its steps are all alike, or alike to time's: it counts time.
    GrowsWithTime,
    /// It never changes, or memory never does, in the steps there are.
    Constant,
}

/// Steps whose lengths in time vary this much (coefficient of variation)
/// let time's share be taken out of both.
const TIME_VARIES: f64 = 0.05;

/// A number that follows the clock this closely is the clock's.
const CLOCK_LIKE: f64 = 0.95;

/// The verdict on `steps` (pooled over instances).
pub fn judge(steps: &[Step]) -> Verdict {
    let secs: Vec<f64> = steps.iter().map(|s| s.secs).collect();
    let bytes: Vec<f64> = steps.iter().map(|s| s.bytes).collect();
    let value: Vec<f64> = steps.iter().map(|s| s.value).collect();
    let Some(r_bytes) = pearson(&value, &bytes) else {
        // Steps of one size: a tick count (uptime, a timestamp), or a
        // number that never moves with anything.
        let alike = pearson(&value, &value).is_none() && steps.len() >= 2;
        return if alike {
            Verdict::GrowsWithTime
        } else {
            Verdict::Constant
        };
    };
    let r = match (
        pearson(&value, &secs),
        pearson(&bytes, &secs),
        variation(&secs),
    ) {
        (Some(vt), _, Some(cv)) if cv >= TIME_VARIES && vt.abs() >= CLOCK_LIKE => {
            return Verdict::GrowsWithTime;
        }
        (Some(vt), Some(bt), Some(cv)) if cv >= TIME_VARIES => {
            // Partial correlation: what is left once time's share is out.
            let denom = ((1.0 - vt * vt) * (1.0 - bt * bt)).sqrt();
            if denom <= 1e-9 {
                r_bytes
            } else {
                (r_bytes - vt * bt) / denom
            }
        }
        _ => r_bytes,
    };
    Verdict::Correlates {
        r: r.clamp(-1.0, 1.0),
        bytes_per_unit: theil_sen(&value, &bytes),
    }
}

/// Lengths of step tried: memory that grows between a number's lines is
/// caught at a sample after the line, and the growth between the line and
/// that sample is noise at a step's two ends; steps of two or three lines
/// carry more of the signal against the same noise.
pub const STEP_LENGTHS: [usize; 3] = [1, 2, 3];

/// The best verdict over steps of one, two and three lines (each with at
/// least `min` steps), and the steps it is over.
pub fn judge_best(steps: &[Step], min: usize) -> (Verdict, usize) {
    let mut best: Option<(Verdict, usize)> = None;
    for k in STEP_LENGTHS {
        let merged: Vec<Step> = steps
            .chunks_exact(k)
            .map(|c| Step {
                secs: c.iter().map(|s| s.secs).sum(),
                bytes: c.iter().map(|s| s.bytes).sum(),
                value: c.iter().map(|s| s.value).sum(),
            })
            .collect();
        // Longer steps are tried only with twice the steps a verdict needs:
        // the best of three tries on few steps finds chance correlations (a
        // counter that merely ticks with the clock, over 9 steps, at r 0.87).
        if k > 1 && merged.len() < 2 * min {
            break;
        }
        let verdict = judge(&merged);
        let better = match (&best, &verdict) {
            (None, _) => true,
            (Some((Verdict::Correlates { r: old, .. }, _)), Verdict::Correlates { r, .. }) => {
                r > old
            }
            (Some((Verdict::Correlates { .. }, _)), _) => false,
            (Some(_), Verdict::Correlates { .. }) => true,
            (Some(_), _) => false,
        };
        if better {
            best = Some((verdict, merged.len()));
        }
    }
    best.unwrap_or((Verdict::Constant, 0))
}

/// Standard deviation over mean, for positive values.
fn variation(v: &[f64]) -> Option<f64> {
    let n = v.len() as f64;
    if n < 2.0 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return None;
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    Some(var.sqrt() / mean)
}

/// Pairs Theil–Sen looks at (the newest): its cost is their square.
const MAX_PAIRS: usize = 400;

/// The median of the slopes between every two points (Theil–Sen): robust to
/// a step that caught a garbage collection or a burst.
pub fn theil_sen(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    let from = n.saturating_sub(MAX_PAIRS);
    let mut slopes = Vec::new();
    for i in from..n {
        for j in i + 1..n {
            let dx = xs[j] - xs[i];
            if dx != 0.0 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    Some(slopes[slopes.len() / 2])
}
