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
        Detector::MovingPercentile(m) => {
            moving_percentile(m, s.step, s.values, range, bounds, emit)
        }
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

/// The reported values of the baseline window `[t − guard − len, t − guard)`, when the window
/// lies within the series and holds at least `min` of them.
fn baseline<'a>(
    values: &'a [f64],
    t: usize,
    guard: usize,
    len: usize,
    min: usize,
) -> Option<impl Iterator<Item = f64> + Clone + 'a> {
    let hi = t.checked_sub(guard)?;
    let lo = hi.checked_sub(len)?;
    let reported = values.get(lo..hi)?.iter().copied().filter(|v| !v.is_nan());
    (reported.clone().count() >= min.max(1)).then_some(reported)
}

fn count_mean(values: impl Iterator<Item = f64>) -> (usize, f64) {
    let (n, sum) = values.fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    (n, sum / n as f64)
}

/// Mean and sample sd (n − 1) of the baseline, in two passes: a running sum of squares loses
/// the sd to cancellation on large counts.
fn mean_sd(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (n, mean) = count_mean(values.clone());
    if n < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - 1) as f64).sqrt())
}

/// x_t, the baseline mean and the effective sd (floored at `min_sd`) at each t of `range`,
/// or why not.
fn c_stats(
    e: &Ears,
    guard: usize,
    values: &[f64],
    range: Range<usize>,
    mut f: impl FnMut(usize, Result<(f64, f64, f64), Skip>),
) {
    for t in range {
        let out = match values.get(t).copied().filter(|v| !v.is_nan()) {
            None => Err(Skip::Missing),
            Some(x) => match baseline(values, t, guard, e.baseline, e.min_baseline) {
                None => Err(Skip::ShortHistory),
                Some(b) => {
                    let (mean, sd) = mean_sd(b);
                    Ok((x, mean, sd.max(e.min_sd)))
                }
            },
        };
        f(t, out);
    }
}

fn c_value(x: f64, mean: f64, sd: f64) -> f64 {
    if sd > 0.0 {
        (x - mean) / sd
    } else {
        zero_sd(x, mean)
    }
}

fn ears(
    method: Method,
    e: &Ears,
    guard: usize,
    values: &[f64],
    range: Range<usize>,
    emit: &mut impl FnMut(Outcome),
) {
    c_stats(e, guard, values, range, |t, r| {
        emit(match r {
            Err(reason) => skipped(method, t, reason),
            Ok((x, mean, sd)) => {
                let c = c_value(x, mean, sd);
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
        })
    });
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
    // C2 (with its baseline) at every point from two before the range, computed once.
    let from = range.start.saturating_sub(2);
    let mut c2: Vec<Result<(f64, f64, f64, f64), Skip>> = Vec::with_capacity(range.end - from);
    c_stats(e, 2, values, from..range.end, |_, r| {
        c2.push(r.map(|(x, mean, sd)| (x, mean, sd, c_value(x, mean, sd))));
    });
    // The positive part of C2 − 1 at a lag; a lag that cannot be computed adds nothing.
    let term = |t: usize| -> f64 {
        match t.checked_sub(from).and_then(|i| c2.get(i)) {
            Some(Ok((.., c))) => (c - 1.0).max(0.0),
            _ => 0.0,
        }
    };
    for (t, r) in (from..range.end).zip(&c2) {
        if t < range.start {
            continue;
        }
        emit(match *r {
            Err(reason) => skipped(Method::EarsC3, t, reason),
            Ok((x, mean, sd, c)) => {
                let lags = t.checked_sub(1).map_or(0.0, term) + t.checked_sub(2).map_or(0.0, term);
                let c3 = lags + (c - 1.0).max(0.0);
                Outcome::Assessed(Assessment {
                    method: Method::EarsC3,
                    index: t,
                    observed: x,
                    expected: mean,
                    threshold: c3_threshold(e.threshold, lags, mean, sd),
                    statistic: c3,
                    limit: e.threshold,
                    alarm: c3 > e.threshold,
                })
            }
        });
    }
}

/// The count above which C3 exceeds `limit`, given the lags' sum: the x whose own term
/// `C2 − 1` makes up what the lags leave, or 0 when the lags alone exceed the limit (then any
/// count alarms).
fn c3_threshold(limit: f64, lags: f64, mean: f64, sd: f64) -> f64 {
    if lags > limit {
        0.0
    } else {
        (mean + sd * (1.0 + limit - lags)).max(0.0)
    }
}

/// The Poisson CUSUM with a memory of `c.memory` steps. With increments d_i = z_i − k (0 for a
/// missing value), S_t = max(0, S_{t−1} + d_t) is, by Lindley's identity, the largest sum of the
/// latest increments: S_t = P_t − min P_j over j from the last reset (or t − memory) to t, P
/// the running sum of d. That is the usual recursion whenever S has been 0 within the memory
/// (under no excess it returns to 0 within days), and it lets one point be judged from
/// `memory` steps of history while a sweep keeps a sliding minimum.
fn cusum(c: &Cusum, values: &[f64], range: Range<usize>, emit: &mut impl FnMut(Outcome)) {
    let from = range.start.saturating_sub(c.memory);
    // Running sums P over [from − 1, t] (P_{from−1} = 0) and a monotone deque of (index, P)
    // holding the window minimum candidates.
    let mut p_prev = 0.0f64;
    let mut deque: std::collections::VecDeque<(usize, f64)> = std::collections::VecDeque::new();
    // Index (offset by one: i means step i − 1) of the oldest allowed minimum position.
    deque.push_back((from, 0.0));
    for t in from..range.end {
        let x = values.get(t).copied().filter(|v| !v.is_nan());
        let base =
            baseline(values, t, c.guard, c.baseline, c.min_baseline).map(|b| count_mean(b).1);
        // Positions are offset by one: position t + 1 holds P_t.
        let out = match (x, base) {
            (None, _) => {
                // A missing value adds nothing: S carries over.
                push_min(&mut deque, t + 1, p_prev);
                skipped(Method::Cusum, t, Skip::Missing)
            }
            (Some(_), None) => {
                // No baseline: S restarts at 0 here.
                deque.clear();
                deque.push_back((t + 1, p_prev));
                skipped(Method::Cusum, t, Skip::ShortHistory)
            }
            (Some(x), Some(mean)) => {
                let m = mean.max(c.min_mean);
                let root = m.sqrt();
                let d = (x - m) / root - c.k;
                // Drop minimum candidates older than the memory (positions ≥ t + 1 − memory).
                let oldest = (t + 1).saturating_sub(c.memory);
                while deque.front().is_some_and(|&(j, _)| j < oldest) {
                    deque.pop_front();
                }
                let min_before = deque.front().map_or(p_prev, |&(_, v)| v);
                let s_prev = (p_prev - min_before).max(0.0);
                let p = p_prev + d;
                let s = (s_prev + d).max(0.0);
                push_min(&mut deque, t + 1, p);
                p_prev = p;
                Outcome::Assessed(Assessment {
                    method: Method::Cusum,
                    index: t,
                    observed: x,
                    expected: m,
                    // The x that brings S_t to h.
                    threshold: (m + root * (c.h - s_prev + c.k)).max(0.0),
                    statistic: s,
                    limit: c.h,
                    alarm: s >= c.h,
                })
            }
        };
        if t >= range.start {
            emit(out);
        }
    }
}

/// Appends (position, value) to a deque kept increasing in value, so its front is the minimum.
fn push_min(deque: &mut std::collections::VecDeque<(usize, f64)>, pos: usize, v: f64) {
    while deque.back().is_some_and(|&(_, b)| b >= v) {
        deque.pop_back();
    }
    deque.push_back((pos, v));
}

/// The p-th percentile (0–100) of the values, linear interpolation between order statistics
/// (R's default type 7, Excel's PERCENTILE). Reorders `v` (two selections, no full sort).
pub(crate) fn percentile_of(v: &mut [f64], p: f64) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    // The rank (n − 1)·p/100 as a whole part and a remainder in hundredths, so that a rank
    // landing on an order statistic lands on it exactly (14 × 80 / 100 is 11.2, not 11.19…).
    let scaled = (n - 1) as f64 * p;
    let lo = ((scaled / 100.0).floor() as usize).min(n - 1);
    let rest = scaled - 100.0 * lo as f64;
    let (_, &mut a, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    let b = above.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    a + (b - a) * rest / 100.0
}

fn moving_percentile(
    m: &MovingPercentile,
    step: Step,
    values: &[f64],
    range: Range<usize>,
    bounds: bool,
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
        // No count at or below the smallest historical one can exceed a percentile of them; a
        // sweep (which reports only alarms' bounds) then skips the selection.
        let lowest = hist.iter().copied().fold(f64::INFINITY, f64::min);
        if !bounds && current <= lowest {
            emit(Outcome::Assessed(Assessment {
                method: Method::MovingPercentile,
                index: t,
                observed: current,
                expected: f64::NAN,
                threshold: f64::NAN,
                statistic: current,
                limit: f64::NAN,
                alarm: false,
            }));
            continue;
        }
        let limit = percentile_of(&mut hist, m.percentile);
        let alarm = current > limit;
        // The median only where someone will read it.
        let expected = if bounds || alarm {
            percentile_of(&mut hist, 50.0)
        } else {
            f64::NAN
        };
        emit(Outcome::Assessed(Assessment {
            method: Method::MovingPercentile,
            index: t,
            observed: current,
            expected,
            threshold: limit,
            statistic: current,
            limit,
            alarm,
        }));
    }
}
