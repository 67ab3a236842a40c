//! The detectors. Each runs over a range of time points of one series and reports an
//! [`Outcome`] per point; the definitions are those of `docs/early-warning.md`.

use crate::farrington;
use crate::series::{Series, Step};
use crate::settings::{Cusum, Detector, Ears, Method, MovingPercentile};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What one detector found at one time point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub method: Method,
    /// Index of the time point in the series.
    pub index: usize,
    /// The count judged: x_t, or for the moving percentile the 7-day count ending at t.
    pub observed: f64,
    /// The baseline's expected count (mean, CUSUM m, median of the historical blocks,
    /// Farrington's predicted mean; 0 for the fixed threshold).
    pub expected: f64,
    /// The count above which (for C1/C2/fixed: at or above which) the observation alarms,
    /// given the rest of the baseline.
    pub threshold: f64,
    /// The detector's statistic: C1, C2, C3, S_t, the 7-day count, the weekly count, x_t.
    pub statistic: f64,
    /// The statistic's alarm limit: 3, 3, 2, h, the percentile, the upper bound, the cases.
    pub limit: f64,
    pub alarm: bool,
}

/// Why a detector said nothing at a time point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// The value at t (or a day of the current 7-day block) is missing.
    Missing,
    /// Too little reported history before t.
    ShortHistory,
    /// Farrington runs on weekly series only.
    WeeklyOnly,
    /// Farrington: fewer than `limit_cases` cases in the last `limit_weeks` weeks, so no alarm
    /// is possible and no bound is computed.
    FewCases,
    /// Farrington: the regression could not be fitted.
    NoFit,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Assessed(Assessment),
    Skipped {
        method: Method,
        index: usize,
        reason: Skip,
    },
}

impl Outcome {
    pub fn alarm(&self) -> Option<&Assessment> {
        match self {
            Outcome::Assessed(a) if a.alarm => Some(a),
            _ => None,
        }
    }
}

/// Runs one detector over `range` (clipped to the series). `bounds` asks for every threshold;
/// without it a detector may leave `threshold` at NaN where the alarm is decided without it
/// (Farrington's quantile search), which the sweep uses.
pub(crate) fn run(
    d: &Detector,
    s: &Series,
    range: Range<usize>,
    bounds: bool,
    emit: &mut impl FnMut(Outcome),
) {
    let range = range.start.min(s.len())..range.end.min(s.len());
    if range.is_empty() {
        return;
    }
    match d {
        Detector::EarsC1(e) => ears(Method::EarsC1, e, 0, s.values, range, emit),
        Detector::EarsC2(e) => ears(Method::EarsC2, e, 2, s.values, range, emit),
        Detector::EarsC3(c) => {
            let e = Ears {
                threshold: c.threshold,
                baseline: c.baseline,
                min_baseline: c.min_baseline,
                min_sd: c.min_sd,
            };
            ears_c3(&e, s.values, range, emit)
        }
        Detector::Cusum(c) => cusum(c, s.values, range, emit),
        Detector::MovingPercentile(m) => moving_percentile(m, s.step, s.values, range, emit),
        Detector::Farrington(f) => {
            if s.step != Step::Week {
                for index in range {
                    emit(skipped(Method::Farrington, index, Skip::WeeklyOnly));
                }
                return;
            }
            let mut scratch = farrington::Scratch::default();
            for index in range {
                emit(farrington::assess(f, s.values, index, bounds, &mut scratch));
            }
        }
        Detector::FixedThreshold(f) => {
            for index in range {
                emit(match s.values.get(index).copied().filter(|v| !v.is_nan()) {
                    None => skipped(Method::FixedThreshold, index, Skip::Missing),
                    Some(x) => Outcome::Assessed(Assessment {
                        method: Method::FixedThreshold,
                        index,
                        observed: x,
                        expected: 0.0,
                        threshold: f.cases,
                        statistic: x,
                        limit: f.cases,
                        alarm: x >= f.cases,
                    }),
                });
            }
        }
    }
}

pub(crate) fn skipped(method: Method, index: usize, reason: Skip) -> Outcome {
    Outcome::Skipped {
        method,
        index,
        reason,
    }
}

/// Mean and sample sd (n − 1) of the reported values in `values[lo..hi]`, if at least `min`.
fn baseline(values: &[f64], lo: usize, hi: usize, min: usize) -> Option<(f64, f64)> {
    let w = values.get(lo..hi)?;
    let (mut n, mut sum) = (0usize, 0.0);
    for &v in w {
        if !v.is_nan() {
            n += 1;
            sum += v;
        }
    }
    if n < min.max(1) {
        return None;
    }
    let mean = sum / n as f64;
    if n < 2 {
        return Some((mean, 0.0));
    }
    let ss: f64 = w
        .iter()
        .filter(|v| !v.is_nan())
        .map(|v| (v - mean) * (v - mean))
        .sum();
    Some((mean, (ss / (n - 1) as f64).sqrt()))
}

/// The baseline window `[t − guard − len, t − guard)`, if it starts within the series.
fn window(t: usize, guard: usize, len: usize) -> Option<(usize, usize)> {
    let hi = t.checked_sub(guard)?;
    Some((hi.checked_sub(len)?, hi))
}

/// C at t: (x − mean, mean, effective sd), or why not.
fn c_stat(e: &Ears, guard: usize, values: &[f64], t: usize) -> Result<(f64, f64, f64), Skip> {
    let x = values
        .get(t)
        .copied()
        .filter(|v| !v.is_nan())
        .ok_or(Skip::Missing)?;
    let (lo, hi) = window(t, guard, e.baseline).ok_or(Skip::ShortHistory)?;
    let (mean, sd) = baseline(values, lo, hi, e.min_baseline).ok_or(Skip::ShortHistory)?;
    Ok((x, mean, sd.max(e.min_sd)))
}

fn ears(
    method: Method,
    e: &Ears,
    guard: usize,
    values: &[f64],
    range: Range<usize>,
    emit: &mut impl FnMut(Outcome),
) {
    for t in range {
        emit(match c_stat(e, guard, values, t) {
            Err(reason) => skipped(method, t, reason),
            Ok((x, mean, sd)) => {
                let c = if sd > 0.0 {
                    (x - mean) / sd
                } else {
                    zero_sd(x, mean)
                };
                Outcome::Assessed(Assessment {
                    method,
                    index: t,
                    observed: x,
                    expected: mean,
                    threshold: mean + e.threshold * sd,
                    statistic: c,
                    limit: e.threshold,
                    alarm: c >= e.threshold,
                })
            }
        });
    }
}

/// With `min_sd` = 0 and a constant baseline: any excess is infinitely unusual, no excess is 0.
fn zero_sd(x: f64, mean: f64) -> f64 {
    if x > mean {
        f64::INFINITY
    } else if x < mean {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

fn ears_c3(e: &Ears, values: &[f64], range: Range<usize>, emit: &mut impl FnMut(Outcome)) {
    // The positive part of C2 − 1 at a lag; a lag that cannot be computed adds nothing.
    let term = |t: usize| -> f64 {
        match c_stat(e, 2, values, t) {
            Ok((x, mean, sd)) => {
                let c = if sd > 0.0 {
                    (x - mean) / sd
                } else {
                    zero_sd(x, mean)
                };
                (c - 1.0).max(0.0)
            }
            Err(_) => 0.0,
        }
    };
    for t in range {
        emit(match c_stat(e, 2, values, t) {
            Err(reason) => skipped(Method::EarsC3, t, reason),
            Ok((x, mean, sd)) => {
                let lags = t.checked_sub(1).map_or(0.0, term) + t.checked_sub(2).map_or(0.0, term);
                let c2 = if sd > 0.0 {
                    (x - mean) / sd
                } else {
                    zero_sd(x, mean)
                };
                let c3 = lags + (c2 - 1.0).max(0.0);
                Outcome::Assessed(Assessment {
                    method: Method::EarsC3,
                    index: t,
                    observed: x,
                    expected: mean,
                    threshold: (mean + sd * (1.0 + (e.threshold - lags).max(0.0))).max(0.0),
                    statistic: c3,
                    limit: e.threshold,
                    alarm: c3 > e.threshold,
                })
            }
        });
    }
}

fn cusum(c: &Cusum, values: &[f64], range: Range<usize>, emit: &mut impl FnMut(Outcome)) {
    // S_t depends on the whole past: run from the start of the series.
    let mut s_prev = 0.0f64;
    for t in 0..range.end {
        let x = values.get(t).copied().filter(|v| !v.is_nan());
        let base = window(t, c.guard, c.baseline)
            .and_then(|(lo, hi)| baseline(values, lo, hi, c.min_baseline));
        let out = match (x, base) {
            (None, _) => {
                // A missing day leaves S unchanged.
                skipped(Method::Cusum, t, Skip::Missing)
            }
            (Some(_), None) => {
                s_prev = 0.0;
                skipped(Method::Cusum, t, Skip::ShortHistory)
            }
            (Some(x), Some((mean, _))) => {
                let m = mean.max(c.min_mean);
                let root = m.sqrt();
                let z = (x - m) / root;
                let s = (s_prev + z - c.k).max(0.0);
                let a = Assessment {
                    method: Method::Cusum,
                    index: t,
                    observed: x,
                    expected: m,
                    // The x that brings S_t to h.
                    threshold: (m + root * (c.h - s_prev + c.k)).max(0.0),
                    statistic: s,
                    limit: c.h,
                    alarm: s >= c.h,
                };
                s_prev = s;
                Outcome::Assessed(a)
            }
        };
        if t >= range.start {
            emit(out);
        }
    }
}

/// The p-th percentile (0–100) of sorted values, linear interpolation between order statistics
/// (R's default type 7, Excel's PERCENTILE).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p / 100.0;
            let lo = (h.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

fn moving_percentile(
    m: &MovingPercentile,
    step: Step,
    values: &[f64],
    range: Range<usize>,
    emit: &mut impl FnMut(Outcome),
) {
    let block = step.per_week();
    let year = step.per_year();
    // Sum of the block ending at `end`, if all its values are reported.
    let direct = |end: usize| -> Option<f64> {
        let lo = (end + 1).checked_sub(block)?;
        let w = values.get(lo..=end)?;
        w.iter().all(|v| !v.is_nan()).then(|| w.iter().sum())
    };
    // A sweep precomputes every block sum once; a single point sums its few blocks directly.
    let rolling: Option<Vec<f64>> = (range.len() * 16 > values.len()).then(|| {
        let mut out = vec![f64::NAN; values.len()];
        let (mut sum, mut missing) = (0.0, 0usize);
        for (i, &v) in values.iter().enumerate() {
            if v.is_nan() {
                missing += 1;
            } else {
                sum += v;
            }
            if i >= block {
                let old = values[i - block];
                if old.is_nan() {
                    missing -= 1;
                } else {
                    sum -= old;
                }
            }
            if i + 1 >= block && missing == 0 {
                // Exact for whole counts; fractional values may differ from a re-sum by rounding.
                out[i] = sum;
            }
        }
        out
    });
    let block_sum = |end: usize| -> Option<f64> {
        match &rolling {
            Some(r) => r.get(end).copied().filter(|v| !v.is_nan()),
            None => direct(end),
        }
    };
    let mut hist: Vec<f64> = Vec::with_capacity(m.years * (2 * m.adjacent + 1));
    for t in range {
        if values.get(t).is_none_or(|v| v.is_nan()) {
            emit(skipped(Method::MovingPercentile, t, Skip::Missing));
            continue;
        }
        let Some(current) = block_sum(t) else {
            let reason = if t + 1 < block {
                Skip::ShortHistory
            } else {
                Skip::Missing
            };
            emit(skipped(Method::MovingPercentile, t, reason));
            continue;
        };
        hist.clear();
        for j in 1..=m.years {
            let Some(centre) = t.checked_sub(j * year) else {
                break;
            };
            for k in 0..=2 * m.adjacent {
                let end = (centre + k * block).checked_sub(m.adjacent * block);
                if let Some(v) = end.filter(|&e| e < t).and_then(block_sum) {
                    hist.push(v);
                }
            }
        }
        if hist.len() < m.min_blocks {
            emit(skipped(Method::MovingPercentile, t, Skip::ShortHistory));
            continue;
        }
        hist.sort_unstable_by(f64::total_cmp);
        let limit = percentile(&hist, m.percentile);
        emit(Outcome::Assessed(Assessment {
            method: Method::MovingPercentile,
            index: t,
            observed: current,
            expected: percentile(&hist, 50.0),
            threshold: limit,
            statistic: current,
            limit,
            alarm: current > limit,
        }));
    }
}
