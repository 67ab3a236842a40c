//! Outbreak detectors over daily and weekly surveillance count series: EARS C1, C2 and C3, a
//! Poisson CUSUM, the moving percentile method of China's infectious-disease automated alert
//! system, Farrington flexible (weekly), and a fixed threshold for rare diseases.
//!
//! Pure: a series and settings in, assessments and signals out. Definitions, defaults and the
//! handling of a zero sd, missing values and a short history are in `docs/early-warning.md`.
//!
//! Two entry points: [`evaluate_at`] judges one time point (a value that just arrived) with
//! every configured detector, and [`sweep`] runs them over a whole series.

mod detect;
pub mod error;
mod farrington;
pub mod series;
pub mod settings;

pub use detect::{Assessment, Outcome, Skip};
pub use error::SurveillanceError;
pub use series::{Series, Step, MAX_COUNT};
pub use settings::{
    Cusum, Detector, Disease, Ears, EarsC3, Farrington, FixedThreshold, Method, MovingPercentile,
    Settings,
};

use healthplan_core::Period;
use serde::{Deserialize, Serialize};

/// An alarm, ready for an alert: which detector, when, the numbers, and why in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub method: Method,
    /// The day or ISO week.
    pub period: Period,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    pub statistic: f64,
    pub limit: f64,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// What every detector says at time point `index` (one outcome per detector, in order).
pub fn assess_at(series: &Series, index: usize, detectors: &[Detector]) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(detectors.len());
    for d in detectors {
        detect::run(d, series, index..index + 1, true, &mut |o| out.push(o));
    }
    out
}

/// The signals raised at time point `index` by the configured detectors: the check to run
/// when a value has just arrived (write it into the series first).
pub fn evaluate_at(series: &Series, index: usize, detectors: &[Detector]) -> Vec<Signal> {
    assess_at(series, index, detectors)
        .iter()
        .filter_map(Outcome::alarm)
        .filter_map(|a| signal(series, a))
        .collect()
}

/// Runs every detector over the whole series and hands each outcome to `on_outcome` (detector
/// by detector, in time order; [`Outcome::alarm`] picks the alarms). No allocation per point.
/// To save work where nobody reads it, a point that did not alarm may carry NaN for Farrington's
/// `threshold` and the moving percentile's `expected`, `threshold` and `limit` ([`assess_at`]
/// always fills them).
pub fn sweep(series: &Series, detectors: &[Detector], mut on_outcome: impl FnMut(&Outcome)) {
    for d in detectors {
        detect::run(d, series, 0..series.len(), false, &mut |o| on_outcome(&o));
    }
}

/// Every signal of a whole series.
pub fn sweep_signals(series: &Series, detectors: &[Detector]) -> Vec<Signal> {
    let mut out = Vec::new();
    sweep(series, detectors, |o| {
        if let Some(s) = o.alarm().and_then(|a| signal(series, a)) {
            out.push(s);
        }
    });
    out
}

fn num(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The signal for an assessment (alarm or not), with its explanation; `None` when the index
/// has no period (beyond the supported years).
pub fn signal(series: &Series, a: &Assessment) -> Option<Signal> {
    let period = series.period(a.index)?;
    let (x, e, thr, st, lim) = (
        num(a.observed),
        num(a.expected),
        num(a.threshold),
        num(a.statistic),
        num(a.limit),
    );
    let (unit_zh, unit_en) = match series.step {
        Step::Day => ("天", "days"),
        Step::Week => ("周", "weeks"),
    };
    let (zh, en) = match a.method {
        Method::EarsC1 | Method::EarsC2 => {
            let (name, lag) = if a.method == Method::EarsC1 {
                ("C1", "t−7…t−1")
            } else {
                ("C2", "t−9…t−3")
            };
            (
                format!("EARS {name}：{period} 病例数 {x}，基线（{lag}）均值 {e}，{name} = {st} ≥ {lim}（报警界值 {thr}）"),
                format!("EARS {name}: {period} count {x}, baseline ({lag}) mean {e}, {name} = {st} ≥ {lim} (alarm at {thr})"),
            )
        }
        Method::EarsC3 => (
            format!("EARS C3：{period} 病例数 {x}，近3{unit_zh} C2 超出量之和 {st} > {lim}（基线均值 {e}）"),
            format!("EARS C3: {period} count {x}, summed C2 excess over the last 3 {unit_en} {st} > {lim} (baseline mean {e})"),
        ),
        Method::Cusum => (
            format!("累积和：{period} 病例数 {x}，基线均值 {e}，累积和 S = {st} ≥ h = {lim}"),
            format!("Poisson CUSUM: {period} count {x}, baseline mean {e}, S = {st} ≥ h = {lim}"),
        ),
        Method::MovingPercentile => {
            let span = if series.step == Step::Day { "7天" } else { "本周" };
            let span_en = if series.step == Step::Day { "7-day" } else { "weekly" };
            (
                format!("移动百分位数法：截至 {period} 的{span}病例数 {x}，超过历年同期及相邻期的百分位数界值 {lim}（中位数 {e}）"),
                format!("Moving percentile: the {span_en} count to {period} is {x}, above the percentile {lim} of the same and adjacent periods in earlier years (median {e})"),
            )
        }
        Method::Farrington => (
            format!("Farrington 灵活法：{period} 病例数 {x}，模型期望 {e}，超过上限 {thr}"),
            format!("Farrington flexible: {period} count {x}, expected {e}, above the upper bound {thr}"),
        ),
        Method::FixedThreshold => (
            format!("固定阈值法：{period} 报告 {x} 例，达到 {lim} 例即预警"),
            format!("Fixed threshold: {x} case(s) reported for {period}; {lim} raises an alert"),
        ),
    };
    Some(Signal {
        method: a.method,
        period,
        observed: a.observed,
        expected: a.expected,
        threshold: a.threshold,
        statistic: a.statistic,
        limit: a.limit,
        explanation_zh: zh,
        explanation_en: en,
    })
}

#[cfg(test)]
mod tests;
