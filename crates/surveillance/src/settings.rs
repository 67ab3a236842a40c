//! Detector settings, per series step and per disease, with the defaults of
//! `docs/early-warning.md`. Loaded from TOML text; no I/O here.

use crate::error::SurveillanceError;
use crate::series::Step;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// EARS C1 and C2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ears {
    /// Alarm when C ≥ this.
    pub threshold: f64,
    /// Baseline length in steps.
    pub baseline: usize,
    /// Fewest reported (non-missing) baseline values needed to evaluate.
    pub min_baseline: usize,
    /// Floor on the baseline standard deviation (a zero sd would make any excess infinite).
    pub min_sd: f64,
}

impl Default for Ears {
    fn default() -> Self {
        Ears {
            threshold: 3.0,
            baseline: 7,
            min_baseline: 5,
            min_sd: 0.5,
        }
    }
}

/// EARS C3: the C2 terms of t, t−1 and t−2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarsC3 {
    /// Alarm when Σ max(0, C2 − 1) > this.
    pub threshold: f64,
    pub baseline: usize,
    pub min_baseline: usize,
    pub min_sd: f64,
}

impl Default for EarsC3 {
    fn default() -> Self {
        let e = Ears::default();
        EarsC3 {
            threshold: 2.0,
            baseline: e.baseline,
            min_baseline: e.min_baseline,
            min_sd: e.min_sd,
        }
    }
}

/// Poisson CUSUM on a moving baseline mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cusum {
    pub k: f64,
    pub h: f64,
    /// Baseline length in steps, ending `guard` steps before t.
    pub baseline: usize,
    pub guard: usize,
    pub min_baseline: usize,
    /// Floor on the baseline mean m (z divides by √m).
    pub min_mean: f64,
    /// Steps S remembers: S_t sums at most the last `memory` increments (see the docs).
    pub memory: usize,
}

impl Default for Cusum {
    fn default() -> Self {
        Cusum {
            k: 1.04,
            h: 2.26,
            baseline: 7,
            guard: 2,
            min_baseline: 5,
            min_mean: 0.5,
            memory: 28,
        }
    }
}

/// The moving percentile method of China's infectious-disease automated alert system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MovingPercentile {
    /// Percentile of the historical 7-day counts, 50–90.
    pub percentile: f64,
    /// Previous years looked at.
    pub years: usize,
    /// Adjacent 7-day blocks on each side of the same period in each year.
    pub adjacent: usize,
    /// Fewest historical blocks needed (5 = one year with ±2 blocks).
    pub min_blocks: usize,
}

impl Default for MovingPercentile {
    fn default() -> Self {
        MovingPercentile {
            percentile: 80.0,
            years: 3,
            adjacent: 2,
            min_blocks: 5,
        }
    }
}

/// Farrington flexible (Noufaily et al. 2013), weekly series only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Farrington {
    /// Years of history wanted.
    pub b: usize,
    /// Fewest whole years of history to evaluate at all (fewer than `b` are used when that is
    /// all there is).
    pub min_years: usize,
    /// Half-width of the reference windows, in weeks.
    pub w: usize,
    /// Levels of the seasonal factor (1 = the original Farrington windows only).
    pub no_periods: usize,
    /// Most recent weeks left out of the baseline.
    pub past_weeks_not_included: usize,
    /// Anscombe residual above which a past week is down-weighted.
    pub weights_threshold: f64,
    pub reweight: bool,
    /// One-sided: the bound is the (1 − alpha) quantile of the negative binomial.
    pub alpha: f64,
    pub trend: bool,
    pub p_threshold_trend: f64,
    /// No alarm unless the last `limit_weeks` weeks (the current one included) hold at least
    /// `limit_cases` cases.
    pub limit_cases: f64,
    pub limit_weeks: usize,
}

impl Default for Farrington {
    fn default() -> Self {
        Farrington {
            b: 5,
            min_years: 3,
            w: 3,
            no_periods: 10,
            past_weeks_not_included: 26,
            weights_threshold: 2.58,
            reweight: true,
            alpha: 0.005,
            trend: true,
            p_threshold_trend: 0.05,
            limit_cases: 5.0,
            limit_weeks: 4,
        }
    }
}

/// Rare diseases: one case (or `cases`) raises an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedThreshold {
    pub cases: f64,
}

impl Default for FixedThreshold {
    fn default() -> Self {
        FixedThreshold { cases: 1.0 }
    }
}

/// One configured detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Detector {
    EarsC1(Ears),
    EarsC2(Ears),
    EarsC3(EarsC3),
    Cusum(Cusum),
    MovingPercentile(MovingPercentile),
    Farrington(Farrington),
    FixedThreshold(FixedThreshold),
}

/// Which detector, without its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    EarsC1,
    EarsC2,
    EarsC3,
    Cusum,
    MovingPercentile,
    Farrington,
    FixedThreshold,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::EarsC1,
        Method::EarsC2,
        Method::EarsC3,
        Method::Cusum,
        Method::MovingPercentile,
        Method::Farrington,
        Method::FixedThreshold,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Method::EarsC1 => "ears_c1",
            Method::EarsC2 => "ears_c2",
            Method::EarsC3 => "ears_c3",
            Method::Cusum => "cusum",
            Method::MovingPercentile => "moving_percentile",
            Method::Farrington => "farrington",
            Method::FixedThreshold => "fixed_threshold",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Method::EarsC1 => "EARS C1",
            Method::EarsC2 => "EARS C2",
            Method::EarsC3 => "EARS C3",
            Method::Cusum => "累积和（CUSUM）",
            Method::MovingPercentile => "移动百分位数法",
            Method::Farrington => "Farrington 灵活法",
            Method::FixedThreshold => "固定阈值法",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Method::EarsC1 => "EARS C1",
            Method::EarsC2 => "EARS C2",
            Method::EarsC3 => "EARS C3",
            Method::Cusum => "Poisson CUSUM",
            Method::MovingPercentile => "moving percentile",
            Method::Farrington => "Farrington flexible",
            Method::FixedThreshold => "fixed threshold",
        }
    }
}

impl Detector {
    pub fn method(&self) -> Method {
        match self {
            Detector::EarsC1(_) => Method::EarsC1,
            Detector::EarsC2(_) => Method::EarsC2,
            Detector::EarsC3(_) => Method::EarsC3,
            Detector::Cusum(_) => Method::Cusum,
            Detector::MovingPercentile(_) => Method::MovingPercentile,
            Detector::Farrington(_) => Method::Farrington,
            Detector::FixedThreshold(_) => Method::FixedThreshold,
        }
    }

    /// Every detector with its default settings.
    pub fn defaults() -> Vec<Detector> {
        vec![
            Detector::EarsC1(Ears::default()),
            Detector::EarsC2(Ears::default()),
            Detector::EarsC3(EarsC3::default()),
            Detector::Cusum(Cusum::default()),
            Detector::MovingPercentile(MovingPercentile::default()),
            Detector::Farrington(Farrington::default()),
            Detector::FixedThreshold(FixedThreshold::default()),
        ]
    }

    /// Steps before a time point the detector reads to judge it: how much of a series an
    /// arrival check must load.
    pub fn history(&self, step: Step) -> usize {
        match self {
            // C2's 2-step guard, and C3 adds C2 at the two steps before.
            Detector::EarsC1(e) | Detector::EarsC2(e) => e.baseline + 3,
            Detector::EarsC3(e) => e.baseline + 5,
            Detector::Cusum(c) => c.memory + c.guard + c.baseline,
            Detector::MovingPercentile(m) => {
                m.years * step.per_year() + (m.adjacent + 1) * step.per_week()
            }
            Detector::Farrington(f) => {
                let weeks = f.b * 52 + f.w + 1 + f.past_weeks_not_included;
                match step {
                    Step::Week => weeks,
                    Step::Day => weeks * 7,
                }
            }
            Detector::FixedThreshold(_) => 0,
        }
    }

    /// Checks every field; the error names the detector and field.
    pub fn validate(&self) -> Result<(), SurveillanceError> {
        let m = self.method().code();
        let bad = |field: &str, reason: &str| {
            Err(SurveillanceError::setting(format!("{m}.{field}"), reason))
        };
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let ears = |threshold: f64, baseline: usize, min_baseline: usize, min_sd: f64| {
            if !threshold.is_finite() {
                return bad("threshold", "须为有限数 / must be a finite number");
            }
            if !(3..=365).contains(&baseline) {
                return bad("baseline", "须在 3–365 之间 / must be 3–365");
            }
            if !(2..=baseline).contains(&min_baseline) {
                return bad(
                    "min_baseline",
                    "须在 2 与 baseline 之间 / must be 2..=baseline",
                );
            }
            if !(min_sd.is_finite() && min_sd >= 0.0) {
                return bad("min_sd", "须为非负数 / must be ≥ 0");
            }
            Ok(())
        };
        match self {
            Detector::EarsC1(e) | Detector::EarsC2(e) => {
                ears(e.threshold, e.baseline, e.min_baseline, e.min_sd)
            }
            Detector::EarsC3(e) => ears(e.threshold, e.baseline, e.min_baseline, e.min_sd),
            Detector::Cusum(c) => {
                if !(c.k.is_finite() && c.k >= 0.0) {
                    return bad("k", "须为非负数 / must be ≥ 0");
                }
                if !positive(c.h) {
                    return bad("h", "须为正数 / must be > 0");
                }
                if !(1..=365).contains(&c.baseline) || c.guard > 365 {
                    return bad("baseline", "baseline 1–365, guard ≤ 365");
                }
                if !(1..=c.baseline).contains(&c.min_baseline) {
                    return bad(
                        "min_baseline",
                        "须在 1 与 baseline 之间 / must be 1..=baseline",
                    );
                }
                if !positive(c.min_mean) {
                    return bad("min_mean", "须为正数 / must be > 0");
                }
                if !(1..=3660).contains(&c.memory) {
                    return bad("memory", "须在 1–3660 之间 / must be 1–3660");
                }
                Ok(())
            }
            Detector::MovingPercentile(p) => {
                if !(50.0..=90.0).contains(&p.percentile) {
                    return bad("percentile", "须在 P50–P90 之间 / must be 50–90");
                }
                if !(1..=10).contains(&p.years) || p.adjacent > 10 {
                    return bad("years", "years 1–10, adjacent ≤ 10");
                }
                if !(1..=p.years * (2 * p.adjacent + 1)).contains(&p.min_blocks) {
                    return bad(
                        "min_blocks",
                        "须在 1 与 years×(2×adjacent+1) 之间 / must be 1..=years×(2×adjacent+1)",
                    );
                }
                Ok(())
            }
            Detector::Farrington(f) => {
                if !(1..=20).contains(&f.b) || !(1..=f.b).contains(&f.min_years) {
                    return bad("b", "b 1–20, min_years 1..=b");
                }
                if f.w > 10 || !(1..=20).contains(&f.no_periods) {
                    return bad("w", "w ≤ 10, no_periods 1–20");
                }
                if f.no_periods > 1 && 52 - 2 * f.w - 1 < f.no_periods - 1 {
                    return bad(
                        "no_periods",
                        "两窗之间的周数不足以分段 / too many periods between windows",
                    );
                }
                if f.past_weeks_not_included > 52 {
                    return bad("past_weeks_not_included", "须 ≤ 52 / must be ≤ 52");
                }
                if !positive(f.weights_threshold) {
                    return bad("weights_threshold", "须为正数 / must be > 0");
                }
                if !(f.alpha > 0.0 && f.alpha < 0.5) {
                    return bad("alpha", "须在 0 与 0.5 之间 / must be in (0, 0.5)");
                }
                if !(f.p_threshold_trend > 0.0 && f.p_threshold_trend <= 1.0) {
                    return bad("p_threshold_trend", "须在 (0, 1] / must be in (0, 1]");
                }
                let cases_ok = f.limit_cases.is_finite() && f.limit_cases >= 0.0;
                if !(cases_ok && (1..=52).contains(&f.limit_weeks)) {
                    return bad("limit_cases", "limit_cases ≥ 0, limit_weeks 1–52");
                }
                Ok(())
            }
            Detector::FixedThreshold(f) => {
                if !positive(f.cases) {
                    return bad("cases", "须为正数 / must be > 0");
                }
                Ok(())
            }
        }
    }
}

/// Settings of one disease; unset fields take the general ones.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Disease {
    /// A rare disease: the `rare` detectors (one case alerts) instead of the statistical ones.
    pub rare: bool,
    /// Moving-percentile percentile for this disease (P50–P90).
    pub percentile: Option<f64>,
    /// Replaces the general detectors for daily series of this disease.
    pub daily: Option<Vec<Detector>>,
    /// Replaces the general detectors for weekly series of this disease.
    pub weekly: Option<Vec<Detector>>,
}

/// All detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Detectors for daily series.
    pub daily: Vec<Detector>,
    /// Detectors for weekly series.
    pub weekly: Vec<Detector>,
    /// Detectors for rare diseases, daily or weekly.
    pub rare: Vec<Detector>,
    /// Per disease, keyed by the disease's data element code.
    pub diseases: BTreeMap<String, Disease>,
}

impl Default for Settings {
    fn default() -> Self {
        // Weekly series follow seasons that a 7-week baseline mistakes for outbreaks (every
        // influenza season would alarm), so they get the two detectors that compare a week
        // with the same weeks of past years.
        let statistical = |step: Step| -> Vec<Detector> {
            match step {
                Step::Day => vec![
                    Detector::EarsC1(Ears::default()),
                    Detector::EarsC2(Ears::default()),
                    Detector::EarsC3(EarsC3::default()),
                    Detector::Cusum(Cusum::default()),
                    Detector::MovingPercentile(MovingPercentile::default()),
                ],
                Step::Week => vec![
                    Detector::MovingPercentile(MovingPercentile::default()),
                    Detector::Farrington(Farrington::default()),
                ],
            }
        };
        // Class A and specially managed diseases of the PRC infectious disease law, which the
        // national alert system watches with a fixed threshold of one case.
        let rare = [
            "plague",
            "cholera",
            "sars",
            "pulmonary_anthrax",
            "polio",
            "human_avian_influenza",
        ];
        Settings {
            daily: statistical(Step::Day),
            weekly: statistical(Step::Week),
            rare: vec![Detector::FixedThreshold(FixedThreshold::default())],
            diseases: rare
                .iter()
                .map(|d| {
                    let s = Disease {
                        rare: true,
                        ..Disease::default()
                    };
                    (d.to_string(), s)
                })
                .collect(),
        }
    }
}

impl Settings {
    /// Reads settings from TOML text and checks every detector.
    pub fn from_toml(text: &str) -> Result<Settings, SurveillanceError> {
        let s: Settings =
            toml::from_str(text).map_err(|e| SurveillanceError::setting("toml", e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    pub fn to_toml(&self) -> Result<String, SurveillanceError> {
        toml::to_string(self).map_err(|e| SurveillanceError::setting("toml", e.to_string()))
    }

    pub fn validate(&self) -> Result<(), SurveillanceError> {
        let all = self.daily.iter().chain(&self.weekly).chain(&self.rare);
        let per_disease = self
            .diseases
            .values()
            .flat_map(|d| d.daily.iter().chain(&d.weekly).flatten());
        for d in all.chain(per_disease) {
            d.validate()?;
        }
        for (code, d) in &self.diseases {
            if let Some(p) = d.percentile {
                if !(50.0..=90.0).contains(&p) {
                    return Err(SurveillanceError::setting(
                        format!("diseases.{code}.percentile"),
                        "须在 P50–P90 之间 / must be 50–90",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Steps of history the detectors read, the longest of them.
    pub fn history(detectors: &[Detector], step: Step) -> usize {
        detectors.iter().map(|d| d.history(step)).max().unwrap_or(0)
    }

    /// The detectors configured for a disease's series of the given step.
    pub fn detectors(&self, disease: &str, step: Step) -> Vec<Detector> {
        let d = self.diseases.get(disease);
        if d.is_some_and(|d| d.rare) {
            return self.rare.clone();
        }
        let own = d.and_then(|d| match step {
            Step::Day => d.daily.clone(),
            Step::Week => d.weekly.clone(),
        });
        let mut v = own.unwrap_or_else(|| match step {
            Step::Day => self.daily.clone(),
            Step::Week => self.weekly.clone(),
        });
        if let Some(p) = d.and_then(|d| d.percentile) {
            for det in &mut v {
                if let Detector::MovingPercentile(m) = det {
                    m.percentile = p;
                }
            }
        }
        v
    }
}
