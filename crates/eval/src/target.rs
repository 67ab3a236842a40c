//! One indicator × area × target: resolution (spec §1), the default status (§2), the other
//! methods (§3) and the forecast (§4), each with its explanation.

use crate::fmt::{diff_unit_en, diff_unit_zh, num, pct, with_unit};
use crate::settings::{Cuts, Settings, StatusSettings};
use crate::stats;
use healthplan_core::{Cmp, Direction, Indicator, RelativeTo, Target, TargetKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// The default status (序时进度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Achieved,
    OnTrack,
    Moderate,
    Insufficient,
    MovingAway,
    /// The target year has come and the target is not met (未完成).
    Missed,
    NoData,
    NotAssessable,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Achieved,
        Status::OnTrack,
        Status::Moderate,
        Status::Insufficient,
        Status::MovingAway,
        Status::Missed,
        Status::NoData,
        Status::NotAssessable,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on_track",
            Status::Moderate => "moderate",
            Status::Insufficient => "insufficient",
            Status::MovingAway => "moving_away",
            Status::Missed => "missed",
            Status::NoData => "no_data",
            Status::NotAssessable => "not_assessable",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Status::Achieved => "已达标",
            Status::OnTrack => "进度正常",
            Status::Moderate => "进度滞后",
            Status::Insufficient => "严重滞后",
            Status::MovingAway => "逆向变化",
            Status::Missed => "未完成",
            Status::NoData => "无数据",
            Status::NotAssessable => "无法评估",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on track",
            Status::Moderate => "moderate progress",
            Status::Insufficient => "insufficient progress",
            Status::MovingAway => "moving away",
            Status::Missed => "missed",
            Status::NoData => "no data",
            Status::NotAssessable => "not assessable",
        }
    }

    /// Goodness rank among the computed statuses (0 best); `None` for no data / not assessable.
    pub fn rank(self) -> Option<u8> {
        match self {
            Status::Achieved => Some(0),
            Status::OnTrack => Some(1),
            Status::Moderate => Some(2),
            Status::Insufficient => Some(3),
            Status::MovingAway => Some(4),
            Status::Missed => Some(5),
            _ => None,
        }
    }
}

/// A target resolved to something a value can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    Compare {
        cmp: Cmp,
        value: f64,
    },
    /// `= value`: met within `tolerance` (absolute: `exact_tolerance` × |value|).
    Exact {
        value: f64,
        tolerance: f64,
    },
    /// Met inside [low, high], and beyond the favourable end when the indicator has one.
    Range {
        low: f64,
        high: f64,
        direction: Direction,
    },
    /// Met when the observation is 实现 (1); 基本实现 is 0.5, 未实现 0.
    Milestone,
}

impl Condition {
    pub fn met(&self, y: f64) -> bool {
        match *self {
            Condition::Compare { cmp, value } => cmp.holds(y, value),
            Condition::Exact { value, tolerance } => Cmp::Le.holds((y - value).abs(), tolerance),
            Condition::Range {
                low,
                high,
                direction,
            } => {
                let above = direction == Direction::Higher || Cmp::Le.holds(y, high);
                let below = direction == Direction::Lower || Cmp::Ge.holds(y, low);
                above && below
            }
            Condition::Milestone => Cmp::Ge.holds(y, 1.0),
        }
    }

    /// The value V that progress is measured towards from a baseline b.
    pub fn goal(&self, b: f64) -> f64 {
        match *self {
            Condition::Compare { value, .. } | Condition::Exact { value, .. } => value,
            Condition::Range {
                direction: Direction::Higher,
                low,
                ..
            } => low,
            Condition::Range {
                direction: Direction::Lower,
                high,
                ..
            } => high,
            Condition::Range { low, high, .. } => {
                if b < low {
                    low
                } else if b > high {
                    high
                } else {
                    b
                }
            }
            Condition::Milestone => 1.0,
        }
    }

    pub fn describe(&self, unit: Option<&str>) -> String {
        match *self {
            Condition::Compare { cmp, value } => {
                let c = match cmp {
                    Cmp::Ge => "≥",
                    Cmp::Gt => ">",
                    Cmp::Le => "≤",
                    Cmp::Lt => "<",
                    Cmp::Eq => "=",
                };
                format!("{c}{}", with_unit(value, unit))
            }
            Condition::Exact { value, .. } => format!("={}", with_unit(value, unit)),
            Condition::Range { low, high, .. } => {
                format!("{}–{}", num(low), with_unit(high, unit))
            }
            Condition::Milestone => "实现".into(),
        }
    }

    /// The share of the way from b to V that y covers. For an exact target it is measured by
    /// distance, so overshooting V counts as distance on the other side.
    pub fn progress(&self, b: f64, y: f64) -> f64 {
        let v = self.goal(b);
        match *self {
            Condition::Exact { .. } => ((b - v).abs() - (y - v).abs()) / (b - v).abs(),
            _ => (y - b) / (v - b),
        }
    }
}

/// A comparison resolved to a condition: `=` becomes an exact target with the plan's tolerance.
fn compare(cmp: Cmp, value: f64, settings: &Settings) -> Condition {
    match cmp {
        Cmp::Eq => Condition::Exact {
            value,
            tolerance: settings.status.exact_tolerance * value.abs(),
        },
        cmp => Condition::Compare { cmp, value },
    }
}

/// Where the baseline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineSource {
    /// The plan's baseline value and year.
    Plan,
    /// The area's own observation in the plan's baseline year.
    AreaObservation,
    /// No usable baseline: the earliest observation stands in (spec §2).
    EarliestObservation,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub year: i32,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baseline {
    pub year: i32,
    pub value: f64,
    pub source: BaselineSource,
}

/// Everything about one indicator in one area that target assessment needs.
pub struct Context<'a> {
    pub indicator: &'a Indicator,
    /// The area's observations, sorted by year (all years; only ≤ as-of are used).
    pub observations: &'a [(i32, f64)],
    /// Reference series of this indicator by series name.
    pub references: BTreeMap<&'a str, &'a [(i32, f64)]>,
    pub as_of: i32,
    pub settings: &'a Settings,
}

impl Context<'_> {
    fn unit(&self) -> Option<&str> {
        self.indicator.unit.as_deref().filter(|u| !u.is_empty())
    }

    fn used(&self) -> Vec<(i32, f64)> {
        let mut v: Vec<(i32, f64)> = self
            .observations
            .iter()
            .copied()
            .filter(|p| p.0 <= self.as_of)
            .collect();
        v.sort_by_key(|p| p.0);
        v
    }

    /// The plan's baseline value, reading 实现/基本实现/未实现 for milestones.
    fn plan_baseline(&self) -> Option<(i32, f64)> {
        let b = self.indicator.baseline.as_ref()?;
        let year = b.year?;
        let value = b.value.or_else(|| crate::data::parse_milestone(&b.text))?;
        Some((year, value))
    }

    pub fn baseline(&self) -> Option<Baseline> {
        let used = self.used();
        if let Some((year, value)) = self.plan_baseline() {
            if let Some(p) = used.iter().find(|p| p.0 == year) {
                return Some(Baseline {
                    year,
                    value: p.1,
                    source: if (p.1 - value).abs() <= 1e-12 {
                        BaselineSource::Plan
                    } else {
                        BaselineSource::AreaObservation
                    },
                });
            }
            return Some(Baseline {
                year,
                value,
                source: BaselineSource::Plan,
            });
        }
        used.first().map(|p| Baseline {
            year: p.0,
            value: p.1,
            source: BaselineSource::EarliestObservation,
        })
    }
}

/// A method's verdict beside the default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodResult {
    pub method: &'static str,
    pub category: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// The ratio or index the category is cut from.
    pub ratio: Option<f64>,
    pub values: BTreeMap<&'static str, f64>,
    /// CAGR could not be used (zero or a sign change) and the linear form was.
    pub fallback_linear: bool,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// Forecast of the value in the target year (§4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub year: i32,
    /// `ols` (≥ 3 points), `linear` (2 points).
    pub method: &'static str,
    pub points: usize,
    pub value: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub confidence: Option<f64>,
    /// P(Y_T meets the target) under the normal approximation.
    pub probability: Option<f64>,
    pub clamped: bool,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// The assessment of one target of one indicator in one area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetAssessment {
    pub year: i32,
    pub kind: TargetKind,
    pub text: String,
    pub condition: Option<Condition>,
    /// The resolved threshold V (towards which progress is measured).
    pub goal: Option<f64>,
    pub resolution_zh: Option<String>,
    pub resolution_en: Option<String>,
    pub baseline: Option<Baseline>,
    /// The value judged: the latest up to the as-of year, or once the target year has come
    /// the value of that year (else the latest before it).
    pub latest: Option<Point>,
    /// The target year has come: the status is final (achieved or missed).
    pub is_final: bool,
    pub status: Status,
    pub status_zh: &'static str,
    /// Why the status is not_assessable / no_data.
    pub reason_zh: Option<String>,
    pub reason_en: Option<String>,
    /// Worse than the baseline or the previous observation (spec §2), beside any status.
    pub worsening: bool,
    pub worsening_zh: Option<String>,
    pub worsening_en: Option<String>,
    pub p: Option<f64>,
    pub s: Option<f64>,
    pub r: Option<f64>,
    pub methods: Vec<MethodResult>,
    pub forecast: Option<Forecast>,
    /// Why there is no forecast (the target year has come, too few points).
    pub forecast_note_zh: Option<String>,
    pub forecast_note_en: Option<String>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

struct Unresolved {
    zh: String,
    en: String,
}

fn unresolved(zh: String, en: String) -> Unresolved {
    Unresolved { zh, en }
}

/// 实现 / 基本实现 / 未实现 for 1 / 0.5 / 0 (and the nearest of them otherwise).
pub fn milestone_label(v: f64) -> &'static str {
    if v >= 0.75 {
        "实现"
    } else if v >= 0.25 {
        "基本实现"
    } else {
        "未实现"
    }
}

/// Spec §1. `obs_year` is the year of the value being judged (for reference series).
fn resolve(
    ctx: &Context,
    t: &Target,
    obs_year: Option<i32>,
) -> Result<(Condition, Option<(String, String)>), Unresolved> {
    let unit = ctx.unit();
    match t.kind {
        TargetKind::Threshold => Ok((
            compare(
                t.cmp.unwrap_or(Cmp::Ge),
                t.value.unwrap_or_default(),
                ctx.settings,
            ),
            None,
        )),
        TargetKind::Range => Ok((
            Condition::Range {
                low: t.value.unwrap_or_default(),
                high: t.value_hi.unwrap_or_default(),
                direction: ctx.indicator.direction,
            },
            None,
        )),
        TargetKind::Milestone => Ok((Condition::Milestone, None)),
        TargetKind::Qualitative => Err(unresolved(
            format!("定性目标“{}”，须人工评定", t.text),
            format!(
                "qualitative target \"{}\": status is entered by a person",
                t.text
            ),
        )),
        TargetKind::RelativeChange => {
            let pct_v = t.value.unwrap_or_default();
            let (r_year, r) = match t.relative_to.as_ref().unwrap_or(&RelativeTo::Baseline) {
                RelativeTo::Baseline => match ctx.plan_baseline() {
                    Some((y, v)) => {
                        let v = ctx.used().iter().find(|p| p.0 == y).map_or(v, |p| p.1);
                        (y, v)
                    }
                    None => {
                        return Err(unresolved(
                            "相对目标缺少基线值（规划未给出基线）".into(),
                            "relative target: the baseline value is missing from the plan".into(),
                        ))
                    }
                },
                RelativeTo::Year(y) => {
                    // Only what was known at the as-of year.
                    let obs = ctx.used().iter().find(|p| p.0 == *y).map(|p| p.1);
                    let plan = ctx.plan_baseline().filter(|b| b.0 == *y).map(|b| b.1);
                    match obs.or(plan) {
                        Some(v) => (*y, v),
                        None => {
                            return Err(unresolved(
                                format!("相对目标缺少{y}年的观测值"),
                                format!("relative target: the observed value of {y} is missing"),
                            ))
                        }
                    }
                }
                RelativeTo::Series(s) => {
                    return Err(unresolved(
                        format!("相对变化目标的参照“{s}”不是基线或年份"),
                        format!(
                        "relative change against {s:?}, which is neither the baseline nor a year"
                    ),
                    ))
                }
            };
            let v = if t.in_percentage_points() {
                r + pct_v
            } else {
                r * (1.0 + pct_v / 100.0)
            };
            let cmp = if pct_v < 0.0 {
                Cmp::Le
            } else if pct_v > 0.0 {
                Cmp::Ge
            } else {
                match ctx.indicator.direction {
                    Direction::Lower => Cmp::Le,
                    Direction::Higher => Cmp::Ge,
                    Direction::Qualitative => Cmp::Eq,
                }
            };
            let how = if t.in_percentage_points() {
                format!(
                    "{} {} {}",
                    num(r),
                    if pct_v < 0.0 { "−" } else { "+" },
                    num(pct_v.abs())
                )
            } else {
                format!(
                    "{} × (1 {} {}%)",
                    num(r),
                    if pct_v < 0.0 { "−" } else { "+" },
                    num(pct_v.abs())
                )
            };
            Ok((
                compare(cmp, v, ctx.settings),
                Some((
                    format!(
                        "参照值{}（{r_year}年），V = {how} = {}",
                        with_unit(r, unit),
                        num(v)
                    ),
                    format!(
                        "reference value {} ({r_year}), V = {how} = {}",
                        with_unit(r, unit),
                        num(v)
                    ),
                )),
            ))
        }
        TargetKind::ReferenceRelative => {
            let name = match &t.relative_to {
                Some(RelativeTo::Series(s)) => s.clone(),
                Some(RelativeTo::Baseline) => "baseline".into(),
                Some(RelativeTo::Year(y)) => y.to_string(),
                None => String::new(),
            };
            let series = ctx.references.get(name.as_str()).copied().unwrap_or(&[]);
            let year = obs_year.unwrap_or(ctx.as_of);
            let hit = series
                .iter()
                .find(|p| p.0 == year)
                .or_else(|| series.iter().rev().find(|p| p.0 <= ctx.as_of));
            let Some(&(ry, rv)) = hit else {
                return Err(unresolved(
                    format!(
                        "缺少参照序列“{name}”{year}年（或{}年及以前）的数值",
                        ctx.as_of
                    ),
                    format!(
                        "reference series {name:?} has no value for {year} (nor any up to {})",
                        ctx.as_of
                    ),
                ));
            };
            let delta = t.value.unwrap_or_default();
            let v = rv + delta;
            let cmp = t.cmp.unwrap_or(if delta < 0.0 {
                Cmp::Le
            } else if delta > 0.0 {
                Cmp::Ge
            } else {
                match ctx.indicator.direction {
                    Direction::Lower => Cmp::Le,
                    _ => Cmp::Ge,
                }
            });
            Ok((
                compare(cmp, v, ctx.settings),
                Some((
                    format!(
                        "参照序列“{name}”{ry}年值{}，V = {} + {} = {}",
                        with_unit(rv, unit),
                        num(rv),
                        num(delta),
                        num(v)
                    ),
                    format!(
                        "reference series {name:?} {ry} = {}, V = {} + {} = {}",
                        with_unit(rv, unit),
                        num(rv),
                        num(delta),
                        num(v)
                    ),
                )),
            ))
        }
    }
}

/// Category of a ratio cut into four: labels best first.
fn cut(
    ratio: f64,
    cuts: &Cuts,
    labels: [(&'static str, &'static str, &'static str); 4],
) -> (&'static str, &'static str, &'static str) {
    let ratio = ratio + 1e-9;
    if ratio >= cuts[0] {
        labels[0]
    } else if ratio >= cuts[1] {
        labels[1]
    } else if ratio >= cuts[2] {
        labels[2]
    } else {
        labels[3]
    }
}

const PROGRESS_LABELS: [(&str, &str, &str); 4] = [
    ("significant_progress", "显著进展", "significant progress"),
    ("moderate_progress", "中等进展", "moderate progress"),
    ("insufficient_progress", "进展不足", "insufficient progress"),
    ("moving_away", "背离目标", "moving away"),
];

/// The numbers every method starts from once the shared pre-checks pass.
#[derive(Clone, Copy)]
struct Core {
    b: f64,
    t0: f64,
    y: f64,
    t: f64,
    v: f64,
    big_t: f64,
}

/// CAGR pair, or `None` when zero or a sign change makes it meaningless.
fn cagr(c: &Core) -> Option<(f64, f64)> {
    if c.b == 0.0 || c.y / c.b <= 0.0 || c.v / c.b <= 0.0 {
        return None;
    }
    let a = (c.y / c.b).powf(1.0 / (c.t - c.t0)) - 1.0;
    let r = (c.v / c.b).powf(1.0 / (c.big_t - c.t0)) - 1.0;
    (r != 0.0).then_some((a, r))
}

fn linear_ratio(c: &Core) -> f64 {
    ((c.y - c.b) / (c.t - c.t0)) / ((c.v - c.b) / (c.big_t - c.t0))
}

fn shared(
    method: &'static str,
    category: &'static str,
    zh: &'static str,
    en: &'static str,
    why_zh: &str,
    why_en: &str,
) -> MethodResult {
    MethodResult {
        method,
        category,
        label_zh: zh,
        label_en: en,
        ratio: None,
        values: BTreeMap::new(),
        fallback_linear: false,
        explanation_zh: why_zh.into(),
        explanation_en: why_en.into(),
    }
}

const FALLBACK_ZH: &str = "（数值为零或变号，无法用年均增长率，改用线性）";
const FALLBACK_EN: &str = " (zero or sign change: CAGR unusable, linear used instead)";

fn ratio_method(method: &'static str, cuts: &Cuts, c: &Core) -> MethodResult {
    let (ratio, values, fb) = match cagr(c) {
        Some((a, r)) => (
            a / r,
            BTreeMap::from([("cagr_actual", a), ("cagr_required", r)]),
            false,
        ),
        None => (linear_ratio(c), BTreeMap::new(), true),
    };
    let (cat, zh, en) = cut(ratio, cuts, PROGRESS_LABELS);
    let (ezh, een) = match (values.get("cagr_actual"), values.get("cagr_required")) {
        (Some(a), Some(r)) => (
            format!(
                "实际年均增长率{:.3}%，所需年均增长率{:.3}%，比值{:.3}，{zh}",
                a * 100.0,
                r * 100.0,
                ratio
            ),
            format!(
                "actual CAGR {:.3}%, required CAGR {:.3}%, ratio {:.3}: {en}",
                a * 100.0,
                r * 100.0,
                ratio
            ),
        ),
        _ => (
            format!(
                "实际年均变化与所需年均变化之比{:.3}{FALLBACK_ZH}，{zh}",
                ratio
            ),
            format!(
                "actual/required linear pace {:.3}{FALLBACK_EN}: {en}",
                ratio
            ),
        ),
    };
    let mut values = values;
    values.insert("ratio", ratio);
    MethodResult {
        method,
        category: cat,
        label_zh: zh,
        label_en: en,
        ratio: Some(ratio),
        values,
        fallback_linear: fb,
        explanation_zh: ezh,
        explanation_en: een,
    }
}

fn unsd2023(c: &Core, cuts: [f64; 2]) -> MethodResult {
    let (proj, fb, a) = match cagr(c) {
        Some((a, _)) => (c.y * (1.0 + a).powf(c.big_t - c.t), false, Some(a)),
        None => (
            c.y + (c.y - c.b) / (c.t - c.t0) * (c.big_t - c.t),
            true,
            None,
        ),
    };
    let ratio = (proj - c.b) / (c.v - c.b);
    let (cat, zh, en) = if ratio + 1e-9 >= cuts[0] {
        ("on_track", "有望实现", "on track")
    } else if ratio + 1e-9 >= cuts[1] {
        (
            "fair_progress",
            "有一定进展，需加快",
            "fair progress, acceleration needed",
        )
    } else {
        (
            "stagnation_or_regression",
            "停滞或倒退",
            "stagnation or regression",
        )
    };
    let mut values = BTreeMap::from([("projected", proj), ("ratio", ratio)]);
    if let Some(a) = a {
        values.insert("cagr_actual", a);
    }
    MethodResult {
        method: "unsd2023",
        category: cat,
        label_zh: zh,
        label_en: en,
        ratio: Some(ratio),
        values,
        fallback_linear: fb,
        explanation_zh: format!(
            "按{}推算{}年值{}，预计完成比例{:.3}{}，{zh}",
            if fb {
                "线性趋势"
            } else {
                "实际年均增长率"
            },
            c.big_t as i32,
            num(proj),
            ratio,
            if fb { FALLBACK_ZH } else { "" }
        ),
        explanation_en: format!(
            "projected {} value {} from the {} ({:.3} of the way){}: {en}",
            c.big_t as i32,
            num(proj),
            if fb { "linear trend" } else { "actual CAGR" },
            ratio,
            if fb { FALLBACK_EN } else { "" }
        ),
    }
}

fn sdsn(c: &Core, cuts: &Cuts) -> MethodResult {
    let pace = (c.y - c.b) / (c.t - c.t0);
    let need = (c.v - c.b) / (c.big_t - c.t0);
    let ratio = pace / need;
    let (cat, zh, en) = cut(
        ratio,
        cuts,
        [
            ("on_track", "按期推进", "on track"),
            ("moderately_improving", "温和改善", "moderately improving"),
            ("stagnating", "停滞", "stagnating"),
            ("decreasing", "倒退", "decreasing"),
        ],
    );
    MethodResult {
        method: "sdsn",
        category: cat,
        label_zh: zh,
        label_en: en,
        ratio: Some(ratio),
        values: BTreeMap::from([("pace", pace), ("required_pace", need), ("ratio", ratio)]),
        fallback_linear: false,
        explanation_zh: format!(
            "年均变化{}，所需年均变化{}，比值{:.3}，{zh}",
            num(pace),
            num(need),
            ratio
        ),
        explanation_en: format!(
            "pace {} a year against {} required, ratio {:.3}: {en}",
            num(pace),
            num(need),
            ratio
        ),
    }
}

/// UNESCAP: current status index and anticipated progress from a time-weighted regression
/// (weight of a point = years since the first point + 1, so recent points count more).
fn escap(c: &Core, points: &[(i32, f64)], cond: &Condition) -> MethodResult {
    let p = (c.y - c.b) / (c.v - c.b);
    let csi = (p * 100.0).clamp(0.0, 100.0);
    let regress = p < 0.0;
    let first = points.first().map_or(0, |p| p.0);
    let pts: Vec<(f64, f64)> = points.iter().map(|p| (p.0 as f64, p.1)).collect();
    let w: Vec<f64> = points
        .iter()
        .map(|p| p.0 as f64 - first as f64 + 1.0)
        .collect();
    let mut values = BTreeMap::from([("csi", csi), ("current_progress", p)]);
    let status_zh = if regress {
        format!("当前状态指数0（倒退，进程{}）", pct(p))
    } else {
        format!("当前状态指数{:.1}", csi)
    };
    let status_en = if regress {
        format!("current status index 0 (regress: {} of the way)", pct(p))
    } else {
        format!("current status index {csi:.1}")
    };
    let Some(line) = stats::wls(&pts, &w) else {
        return MethodResult {
            method: "escap",
            category: "not_assessable",
            label_zh: "无法评估",
            label_en: "not assessable",
            ratio: Some(csi),
            values,
            fallback_linear: false,
            explanation_zh: format!("{status_zh}；观测点不足两个年份，无法预测"),
            explanation_en: format!(
                "{status_en}; fewer than two years of data, no anticipated progress"
            ),
        };
    };
    let f = line.at(c.big_t);
    values.insert("anticipated", f);
    let (cat, zh, en) = if cond.met(f) {
        ("maintain", "保持", "maintain progress")
    } else if (f - c.b) * (c.v - c.b) >= 0.0 {
        ("accelerate", "需加速", "accelerate")
    } else {
        ("reverse", "需扭转", "reverse trend")
    };
    MethodResult {
        method: "escap",
        category: cat,
        label_zh: zh,
        label_en: en,
        ratio: Some(csi),
        values,
        fallback_linear: false,
        explanation_zh: format!(
            "{status_zh}；时间加权回归预测{}年值{}，{zh}",
            c.big_t as i32,
            num(f)
        ),
        explanation_en: format!(
            "{status_en}; time-weighted regression anticipates {} in {}: {en}",
            num(f),
            c.big_t as i32
        ),
    }
}

fn unit_bounds(unit: Option<&str>) -> Option<(f64, f64)> {
    match unit? {
        "%" | "％" => Some((0.0, 100.0)),
        "‰" => Some((0.0, 1000.0)),
        _ => None,
    }
}

/// Spec §4: OLS with a prediction interval from ≥ 3 points, a straight line from 2.
pub fn forecast(
    points: &[(i32, f64)],
    year: i32,
    cond: Option<&Condition>,
    unit: Option<&str>,
    confidence: f64,
) -> Option<Forecast> {
    let pts: Vec<(f64, f64)> = points.iter().map(|p| (p.0 as f64, p.1)).collect();
    let line = stats::ols(&pts)?;
    let x = year as f64;
    let raw = line.at(x);
    let mut lower = None;
    let mut upper = None;
    let mut probability = None;
    let mut conf = None;
    let method = if pts.len() >= 3 { "ols" } else { "linear" };
    if let (Some(se), true) = (line.prediction_se(x), pts.len() >= 3) {
        let q = stats::t_quantile(0.5 + confidence / 2.0, line.n as f64 - 2.0);
        lower = Some(raw - q * se);
        upper = Some(raw + q * se);
        conf = Some(confidence);
        probability = cond.and_then(|c| match *c {
            Condition::Compare { cmp, value } if se > 0.0 => match cmp {
                Cmp::Ge | Cmp::Gt => Some(1.0 - stats::normal_cdf((value - raw) / se)),
                Cmp::Le | Cmp::Lt => Some(stats::normal_cdf((value - raw) / se)),
                Cmp::Eq => None,
            },
            Condition::Exact { value, tolerance } if se > 0.0 => Some(
                stats::normal_cdf((value + tolerance - raw) / se)
                    - stats::normal_cdf((value - tolerance - raw) / se),
            ),
            Condition::Range {
                low,
                high,
                direction,
            } if se > 0.0 => {
                let up = match direction {
                    Direction::Higher => 1.0,
                    _ => stats::normal_cdf((high - raw) / se),
                };
                let down = match direction {
                    Direction::Lower => 0.0,
                    _ => stats::normal_cdf((low - raw) / se),
                };
                Some(up - down)
            }
            Condition::Milestone => None,
            c => Some(if c.met(raw) { 1.0 } else { 0.0 }),
        });
    }
    let mut value = raw;
    let mut clamped = false;
    if let Some((lo, hi)) = unit_bounds(unit) {
        let c = |v: f64| v.clamp(lo, hi);
        clamped = c(value) != value
            || lower.is_some_and(|l| c(l) != l)
            || upper.is_some_and(|u| c(u) != u);
        value = c(value);
        lower = lower.map(c);
        upper = upper.map(c);
    }
    let (ezh, een) = match (lower, upper) {
        (Some(l), Some(u)) => (
            format!(
                "按{}个点的最小二乘趋势，预计{year}年{}（{:.0}%预测区间{}–{}）{}",
                pts.len(),
                with_unit(value, unit),
                confidence * 100.0,
                num(l),
                num(u),
                probability.map_or(String::new(), |p| format!("，达标概率{}", pct(p)))
            ),
            format!(
                "OLS trend over {} points: {} in {year} ({:.0}% prediction interval {}–{}){}",
                pts.len(),
                with_unit(value, unit),
                confidence * 100.0,
                num(l),
                num(u),
                probability.map_or(String::new(), |p| format!(
                    ", probability of meeting the target {}",
                    pct(p)
                ))
            ),
        ),
        _ => (
            format!(
                "仅两个点，直线外推{year}年{}，无预测区间",
                with_unit(value, unit)
            ),
            format!(
                "two points only: straight extrapolation gives {} in {year}, no interval",
                with_unit(value, unit)
            ),
        ),
    };
    Some(Forecast {
        year,
        method,
        points: pts.len(),
        value,
        lower,
        upper,
        confidence: conf,
        probability,
        clamped,
        explanation_zh: ezh,
        explanation_en: een,
    })
}

/// Worsening (恶化, spec §2): y worse than the baseline, or than the observation before it, in
/// the indicator's direction by more than `share` of that value.
fn worsening(
    direction: Direction,
    b: Baseline,
    earlier: &[(i32, f64)],
    y: Point,
    share: f64,
    unit: Option<&str>,
) -> Option<(String, String)> {
    let sign = match direction {
        Direction::Higher => -1.0,
        Direction::Lower => 1.0,
        Direction::Qualitative => return None,
    };
    let worse = |from: f64| sign * (y.value - from) > share * from.abs() + 1e-12;
    let change = |from: f64| {
        let d = y.value - from;
        let rel = if from != 0.0 {
            format!("（{}）", pct(d.abs() / from.abs()))
        } else {
            String::new()
        };
        (
            format!(
                "{}{}{}{rel}",
                if d > 0.0 { "上升" } else { "下降" },
                num(d.abs()),
                diff_unit_zh(unit)
            ),
            format!(
                "{} {}{}",
                if d > 0.0 { "up" } else { "down" },
                num(d.abs()),
                diff_unit_en(unit)
            ),
        )
    };
    let limit = pct(share);
    if y.year > b.year && worse(b.value) {
        let (cz, ce) = change(b.value);
        return Some((
            format!(
                "恶化：较基线{}（{}年）{cz}，变差超过{limit}",
                with_unit(b.value, unit),
                b.year
            ),
            format!(
                "worsening: {ce} from the baseline {} ({}), worse by more than {limit}",
                with_unit(b.value, unit),
                b.year
            ),
        ));
    }
    let prev = earlier.iter().rev().find(|p| p.0 < y.year)?;
    worse(prev.1).then(|| {
        let (cz, ce) = change(prev.1);
        (
            format!(
                "恶化：较{}年{}{cz}，变差超过{limit}",
                prev.0,
                with_unit(prev.1, unit)
            ),
            format!(
                "worsening: {ce} from {} in {}, worse by more than {limit}",
                with_unit(prev.1, unit),
                prev.0
            ),
        )
    })
}

/// The cut of r that gave a status (every explanation states the rule used).
fn rule_text(status: Status, r: Option<f64>, st: &StatusSettings) -> String {
    let r = r.map(|r| format!("{r:.2}")).unwrap_or_default();
    let (on, mo, ins) = (num(st.on_track), num(st.moderate), num(st.insufficient));
    match status {
        Status::OnTrack => format!("r = {r} ≥ {on}"),
        Status::Moderate => format!("{mo} ≤ r = {r} < {on}"),
        Status::Insufficient => format!("{ins} ≤ r = {r} < {mo}"),
        Status::MovingAway => format!("r = {r} < {ins}"),
        _ => String::new(),
    }
}

/// Assesses one target (spec §1–§4).
pub fn assess_target(ctx: &Context, t: &Target) -> TargetAssessment {
    let unit = ctx.unit();
    // Once the target year has come the verdict is final and judged on the value of that
    // year (else the latest before it).
    let is_final = ctx.as_of >= t.year;
    let used: Vec<(i32, f64)> = ctx
        .used()
        .into_iter()
        .filter(|p| !is_final || p.0 <= t.year)
        .collect();
    let latest = used.last().map(|p| Point {
        year: p.0,
        value: p.1,
    });
    let baseline = ctx.baseline();
    let resolved = resolve(ctx, t, latest.map(|l| l.year));
    let mut out = TargetAssessment {
        year: t.year,
        kind: t.kind,
        text: t.text.clone(),
        condition: None,
        goal: None,
        resolution_zh: None,
        resolution_en: None,
        baseline,
        latest,
        is_final,
        status: Status::NotAssessable,
        status_zh: Status::NotAssessable.zh(),
        reason_zh: None,
        reason_en: None,
        worsening: false,
        worsening_zh: None,
        worsening_en: None,
        p: None,
        s: None,
        r: None,
        methods: Vec::new(),
        forecast: None,
        forecast_note_zh: None,
        forecast_note_en: None,
        explanation_zh: String::new(),
        explanation_en: String::new(),
    };
    if is_final {
        out.forecast_note_zh = Some(format!("目标年份已到（{}年），不再预测", t.year));
        out.forecast_note_en = Some(format!("the target year {} has come: no forecast", t.year));
    }
    let cond = match resolved {
        Ok((c, note)) => {
            out.condition = Some(c);
            if let Some((zh, en)) = note {
                out.resolution_zh = Some(zh);
                out.resolution_en = Some(en);
            }
            Some(c)
        }
        Err(u) => {
            out.reason_zh = Some(u.zh);
            out.reason_en = Some(u.en);
            None
        }
    };
    let target_zh = match cond {
        Some(c) => format!("{}年目标{}", t.year, c.describe(unit)),
        None => format!("{}年目标“{}”", t.year, t.text),
    };
    let target_en = match cond {
        Some(c) => format!("{} target {}", t.year, c.describe(unit)),
        None => format!("{} target \"{}\"", t.year, t.text),
    };
    if t.kind == TargetKind::Qualitative {
        out.explanation_zh = format!(
            "{}：{}",
            Status::NotAssessable.zh(),
            out.reason_zh.clone().unwrap_or_default()
        );
        out.explanation_en = format!(
            "not assessable: {}",
            out.reason_en.clone().unwrap_or_default()
        );
        return out;
    }
    let (Some(y), Some(b)) = (latest, baseline) else {
        let st = Status::NoData;
        let upto = if is_final { t.year } else { ctx.as_of };
        out.status = st;
        out.status_zh = st.zh();
        out.reason_zh = Some(format!("{upto}年及以前无观测值"));
        out.reason_en = Some(format!("no observation up to {upto}"));
        out.explanation_zh = format!("{upto}年及以前无观测值，{}（{target_zh}）", st.zh());
        out.explanation_en = format!("no observation up to {upto}: {} ({target_en})", st.en());
        return out;
    };
    if let Some((zh, en)) = worsening(
        ctx.indicator.direction,
        b,
        &used,
        y,
        ctx.settings.status.worsening_share,
        unit,
    ) {
        out.worsening = true;
        out.worsening_zh = Some(zh);
        out.worsening_en = Some(en);
    }
    let Some(cond) = cond else {
        out.status = Status::NotAssessable;
        out.status_zh = Status::NotAssessable.zh();
        out.explanation_zh = format!(
            "{}年值{}，{}：{}",
            y.year,
            with_unit(y.value, unit),
            Status::NotAssessable.zh(),
            out.reason_zh.clone().unwrap_or_default()
        );
        out.explanation_en = format!(
            "{} value {}: not assessable: {}",
            y.year,
            with_unit(y.value, unit),
            out.reason_en.clone().unwrap_or_default()
        );
        return out;
    };
    let v = cond.goal(b.value);
    out.goal = Some(v);
    let met_y = cond.met(y.value);
    let met_b = cond.met(b.value);
    let same = (v - b.value).abs() <= 1e-12 * v.abs().max(1.0);
    let core = Core {
        b: b.value,
        t0: b.year as f64,
        y: y.value,
        t: y.year as f64,
        v,
        big_t: t.year as f64,
    };
    // When the baseline already meets the target, p = (y − b)/(V − b) measures nothing.
    let computable = !same && !met_b && y.year > b.year && t.year > b.year;
    if computable {
        let p = cond.progress(b.value, y.value);
        let s = ((y.year - b.year) as f64 / (t.year - b.year) as f64).min(1.0);
        out.p = Some(p);
        out.s = Some(s);
        out.r = Some(p / s);
    }
    let st = &ctx.settings.status;
    let mut why: Option<(String, String)> = None;
    let status = if met_y {
        Status::Achieved
    } else if is_final {
        Status::Missed
    } else if met_b {
        why = Some((
            format!(
                "基线{}已达标，{}年值不再达标",
                with_unit(b.value, unit),
                y.year
            ),
            format!(
                "the baseline {} met the target and the {} value no longer does",
                with_unit(b.value, unit),
                y.year
            ),
        ));
        Status::MovingAway
    } else if same {
        why = Some((
            format!(
                "目标值与基线值相同（V = b = {}）且未达标，无法计算进程",
                num(v)
            ),
            format!(
                "the target equals the baseline (V = b = {}) and is not met: progress is undefined",
                num(v)
            ),
        ));
        Status::NotAssessable
    } else if y.year <= b.year {
        why = Some((
            format!("基线年（{}年）之后无观测值，无法计算进程", b.year),
            format!(
                "no observation after the baseline year {}: progress is undefined",
                b.year
            ),
        ));
        Status::NotAssessable
    } else if t.year <= b.year {
        why = Some((
            format!("目标年{}不晚于基线年{}", t.year, b.year),
            format!(
                "target year {} is not after the baseline year {}",
                t.year, b.year
            ),
        ));
        Status::NotAssessable
    } else {
        // A cut is reached within floating-point noise (1e-9), so r = 0.95 is on track.
        let r = out.r.unwrap_or_default() + 1e-9;
        if r >= st.on_track {
            Status::OnTrack
        } else if r >= st.moderate {
            Status::Moderate
        } else if r >= st.insufficient {
            Status::Insufficient
        } else {
            Status::MovingAway
        }
    };
    out.status = status;
    out.status_zh = status.zh();
    if let Some((zh, en)) = &why {
        if status == Status::NotAssessable {
            out.reason_zh = Some(zh.clone());
            out.reason_en = Some(en.clone());
        }
    }

    // Explanation, in the spec's wording, stating the rule used.
    let d = y.value - b.value;
    let (dir_zh, dir_en) = if d > 0.0 {
        ("提高", "up")
    } else if d < 0.0 {
        ("下降", "down")
    } else {
        ("持平", "unchanged")
    };
    let base_note_zh = match b.source {
        BaselineSource::Plan => format!("{}年", b.year),
        BaselineSource::AreaObservation => format!("{}年，本地区观测值", b.year),
        BaselineSource::EarliestObservation => format!("{}年，规划无基线，取最早观测值", b.year),
    };
    let base_note_en = match b.source {
        BaselineSource::Plan => format!("{}", b.year),
        BaselineSource::AreaObservation => format!("{}, this area's own observation", b.year),
        BaselineSource::EarliestObservation => {
            format!(
                "{}, no baseline in the plan: earliest observation used",
                b.year
            )
        }
    };
    let change_zh = if d == 0.0 {
        "持平".to_string()
    } else {
        format!("{dir_zh}{}{}", num(d.abs()), diff_unit_zh(unit))
    };
    let change_en = if d == 0.0 {
        "unchanged".to_string()
    } else {
        format!("{dir_en} {}{}", num(d.abs()), diff_unit_en(unit))
    };
    let show = |v: f64| {
        if cond == Condition::Milestone {
            milestone_label(v).to_string()
        } else {
            with_unit(v, unit)
        }
    };
    let (change_zh, change_en) = if cond == Condition::Milestone {
        (String::new(), String::new())
    } else {
        (change_zh, format!(", {change_en}"))
    };
    let progress_zh = match (out.p, out.s) {
        (Some(p), Some(s)) => format!("，完成目标进程{}，时间进度{}", pct(p), pct(s)),
        _ => String::new(),
    };
    let progress_en = match (out.p, out.s) {
        (Some(p), Some(s)) => format!(
            "; {} of the way to the target, {} of the time elapsed",
            pct(p),
            pct(s)
        ),
        _ => String::new(),
    };
    let (mut zh, mut en) = if is_final {
        let stand_in_zh = if y.year < t.year {
            format!("（{}年无观测值，取{}年值）", t.year, y.year)
        } else {
            String::new()
        };
        let stand_in_en = if y.year < t.year {
            format!(" ({} has no value, {} used)", t.year, y.year)
        } else {
            String::new()
        };
        let (verb_zh, verb_en) = if met_y {
            ("达到", "meets")
        } else {
            ("未达到", "does not meet")
        };
        (
            format!(
                "目标年份已到，{}年实际值{}{stand_in_zh}，{verb_zh}{}的目标，{}（{target_zh}；较基线{}（{base_note_zh}）{change_zh}{progress_zh}）",
                y.year,
                show(y.value),
                cond.describe(unit),
                status.zh(),
                show(b.value)
            ),
            format!(
                "the target year has come: the {} value {}{stand_in_en} {verb_en} the target {}: {} ({target_en}; {}{change_en} from the baseline {} ({base_note_en}){progress_en})",
                y.year,
                show(y.value),
                cond.describe(unit),
                status.en(),
                show(y.value),
                show(b.value)
            ),
        )
    } else {
        let (rule_zh, rule_en) = if status == Status::Achieved {
            (
                format!("实际值满足{}", cond.describe(unit)),
                format!("the value meets {}", cond.describe(unit)),
            )
        } else if why.is_some() {
            (String::new(), String::new())
        } else {
            let rule = rule_text(status, out.r, st);
            (rule.clone(), rule)
        };
        let mut zh = format!(
            "{}年值{}，较基线{}（{base_note_zh}）{change_zh}{progress_zh}，{}（{target_zh}",
            y.year,
            show(y.value),
            show(b.value),
            status.zh()
        );
        let mut en = format!(
            "{} value {}{change_en} from the baseline {} ({base_note_en}){progress_en}: {} ({target_en}",
            y.year,
            show(y.value),
            show(b.value),
            status.en()
        );
        for (z, e) in [(rule_zh, rule_en)]
            .into_iter()
            .chain(why.clone())
            .filter(|(z, _)| !z.is_empty())
        {
            zh += &format!("；{z}");
            en += &format!("; {e}");
        }
        zh += "）";
        en += ")";
        (zh, en)
    };
    if let (Some(rz), Some(re)) = (&out.resolution_zh, &out.resolution_en) {
        zh += &format!("；{rz}");
        en += &format!("; {re}");
    }
    if let (Some(wz), Some(we)) = (&out.worsening_zh, &out.worsening_en) {
        zh += &format!("；{wz}");
        en += &format!("; {we}");
    }
    out.explanation_zh = zh;
    out.explanation_en = en;

    // Other methods (§3), after the same pre-checks as the default.
    let m = &ctx.settings.methods;
    let pre: Option<(&'static str, &'static str, &'static str, String, String)> = match status {
        Status::Achieved => Some((
            "achieved",
            "已达标",
            "achieved",
            "已达到目标".into(),
            "target met".into(),
        )),
        Status::Missed => Some((
            "missed",
            "未完成",
            "missed",
            "目标年份已到，未达到目标".into(),
            "the target year has come and the target is not met".into(),
        )),
        Status::MovingAway if met_b && !met_y => Some((
            "moving_away",
            "背离目标",
            "moving away",
            why.clone().map(|w| w.0).unwrap_or_default(),
            why.clone().map(|w| w.1).unwrap_or_default(),
        )),
        Status::NotAssessable => Some((
            "not_assessable",
            "无法评估",
            "not assessable",
            out.reason_zh.clone().unwrap_or_default(),
            out.reason_en.clone().unwrap_or_default(),
        )),
        _ => None,
    };
    let mut points: Vec<(i32, f64)> = used.clone();
    if !points.iter().any(|p| p.0 == b.year) {
        points.push((b.year, b.value));
        points.sort_by_key(|p| p.0);
    }
    if cond != Condition::Milestone {
        out.methods = match pre {
            Some((cat, zh, en, wz, we)) => ["eurostat", "unsd2022", "unsd2023", "sdsn", "escap"]
                .into_iter()
                .map(|name| {
                    let mut r = shared(name, cat, zh, en, &wz, &we);
                    // Show the numbers anyway when they exist.
                    if computable {
                        let full = match name {
                            "eurostat" => ratio_method(name, &m.eurostat, &core),
                            "unsd2022" => ratio_method(name, &m.unsd2022, &core),
                            "unsd2023" => unsd2023(&core, m.unsd2023),
                            "sdsn" => sdsn(&core, &m.sdsn),
                            _ => escap(&core, &points, &cond),
                        };
                        r.ratio = full.ratio;
                        r.values = full.values;
                        r.fallback_linear = full.fallback_linear;
                    }
                    r
                })
                .collect(),
            None => vec![
                ratio_method("eurostat", &m.eurostat, &core),
                ratio_method("unsd2022", &m.unsd2022, &core),
                unsd2023(&core, m.unsd2023),
                sdsn(&core, &m.sdsn),
                escap(&core, &points, &cond),
            ],
        };
        if !is_final {
            out.forecast = forecast(
                &points,
                t.year,
                Some(&cond),
                unit,
                ctx.settings.forecast.confidence,
            );
            if out.forecast.is_none() {
                out.forecast_note_zh = Some("数据点不足（少于两个年份），无法预测".into());
                out.forecast_note_en = Some("fewer than two years of data: no forecast".into());
            }
        }
    } else if !is_final {
        out.forecast_note_zh = Some("里程碑目标不作预测".into());
        out.forecast_note_en = Some("milestone targets are not forecast".into());
    }
    out
}

#[cfg(test)]
mod tests;
