//! What a report is made from: the plan, its evaluation and assessment, the settings used,
//! and what the caller knows about each value (its workflow status and approver).

use crate::ReportError;
use healthplan_core::{PlanDocument, ValueStatus};
use healthplan_eval::{Assessment, PlanEvaluation, Settings};
use std::collections::{BTreeMap, BTreeSet};

/// One observation: indicator index in the plan, area label as in the evaluation, year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueKey {
    pub indicator: usize,
    pub area: String,
    pub year: i32,
}

/// What the caller knows about a value beyond the number (from the store's workflow).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueMeta {
    pub status: Option<ValueStatus>,
    /// Who approved the value (user name), when it is approved.
    pub approver: Option<String>,
    /// When it was approved, as the caller writes it (`2025-01-20`).
    pub approved_at: Option<String>,
    pub comment: Option<String>,
}

/// Everything one report (or XLSX export) is rendered from. Build it with
/// [`ReportInput::new`], which checks that the parts belong together, then set the optional
/// fields.
#[derive(Debug, Clone)]
pub struct ReportInput {
    plan: PlanDocument,
    evaluation: PlanEvaluation,
    assessment: Assessment,
    settings: Settings,
    /// Area label (as in the evaluation) → the name to print; labels not here print as is.
    pub area_names: BTreeMap<String, String>,
    /// Synthetic demo data: every table and the cover say 演示数据.
    pub synthetic: bool,
    /// Per value: status, approver. Values without an entry are exported with blanks.
    pub values: BTreeMap<ValueKey, ValueMeta>,
    /// Who issues the report, printed on the cover (e.g. `健康云浮行动推进委员会办公室`).
    pub issuer: Option<String>,
    /// The date printed on the cover (e.g. `2025年3月`); the renderers read no clock.
    pub date: Option<String>,
}

/// Years as a reader writes them: `2020—2023年、2025年`.
pub fn years_text(years: &BTreeSet<i32>) -> String {
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &y in years {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == y => *hi = y,
            _ => runs.push((y, y)),
        }
    }
    runs.iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                format!("{lo}年")
            } else {
                format!("{lo}—{hi}年")
            }
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// A plan with indicators is reported only for a year it has observations in, and never
/// for a year before its baseline.
fn refuse_year(plan: &PlanDocument, evaluation: &PlanEvaluation) -> Result<(), ReportError> {
    if plan.indicators.is_empty() {
        return Ok(());
    }
    let year = evaluation.as_of;
    let base = plan
        .indicators
        .iter()
        .filter_map(|i| i.baseline.as_ref().and_then(|b| b.year))
        .min()
        .or(plan.period.map(|p| p[0]));
    if let Some(base) = base.filter(|b| year < *b) {
        return Err(ReportError::Year(format!(
            "报告年度{year}年早于规划基线年{base}年，不能生成该年度报告 / the report year {year} is before the plan's baseline year {base}"
        )));
    }
    let years: BTreeSet<i32> = evaluation
        .results
        .iter()
        .flat_map(|r| r.observations.iter().map(|p| p.year))
        .collect();
    if !years.contains(&year) {
        let have = if years.is_empty() {
            format!("{year}年及以前没有任何监测数据 / no observations up to {year}")
        } else {
            format!(
                "有监测数据的年份：{} / years with data: {}",
                years_text(&years),
                years
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(ReportError::Year(format!(
            "{year}年没有监测数据，不能生成{year}年度报告；{have}"
        )));
    }
    Ok(())
}

impl ReportInput {
    /// Checks that the evaluation and assessment were made from this plan for one year and
    /// that every result points at one of its indicators.
    pub fn new(
        plan: PlanDocument,
        evaluation: PlanEvaluation,
        assessment: Assessment,
        settings: Settings,
    ) -> Result<ReportInput, ReportError> {
        if evaluation.plan != plan.title {
            return Err(ReportError::Input(format!(
                "评估结果属于《{}》，不是《{}》 / the evaluation is of another plan",
                evaluation.plan, plan.title
            )));
        }
        if assessment.as_of != evaluation.as_of {
            return Err(ReportError::Input(format!(
                "考核年度{}与评估年度{}不一致 / assessment and evaluation years differ",
                assessment.as_of, evaluation.as_of
            )));
        }
        if let Some(r) = evaluation
            .results
            .iter()
            .find(|r| r.indicator >= plan.indicators.len())
        {
            return Err(ReportError::Input(format!(
                "评估结果指向不存在的第{}项指标（{}） / a result points past the plan's indicators",
                r.indicator + 1,
                r.name
            )));
        }
        if !(1900..=2100).contains(&evaluation.as_of) {
            return Err(ReportError::Input(format!(
                "报告年度{}不合理 / not a plausible year",
                evaluation.as_of
            )));
        }
        refuse_year(&plan, &evaluation)?;
        Ok(ReportInput {
            plan,
            evaluation,
            assessment,
            settings,
            area_names: BTreeMap::new(),
            synthetic: false,
            values: BTreeMap::new(),
            issuer: None,
            date: None,
        })
    }

    pub fn plan(&self) -> &PlanDocument {
        &self.plan
    }

    pub fn evaluation(&self) -> &PlanEvaluation {
        &self.evaluation
    }

    pub fn assessment(&self) -> &Assessment {
        &self.assessment
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The report year: the year the evaluation was made as of.
    pub fn year(&self) -> i32 {
        self.evaluation.as_of
    }

    /// The printed name of an area label.
    pub fn area_name<'a>(&'a self, label: &'a str) -> &'a str {
        self.area_names
            .get(label)
            .map(String::as_str)
            .unwrap_or(label)
    }

    /// The plan's title, or a stand-in when the plan has none.
    pub fn title(&self) -> &str {
        if self.plan.title.trim().is_empty() {
            "规划"
        } else {
            self.plan.title.trim()
        }
    }

    /// The area the report speaks for: the plan's own area when it has results, else the
    /// first evaluated area.
    pub fn own_area(&self) -> Option<&str> {
        let own = healthplan_eval::evaluate::own_area(&self.plan, &self.evaluation.areas);
        self.evaluation
            .areas
            .iter()
            .find(|a| **a == own)
            .or(self.evaluation.areas.first())
            .map(String::as_str)
    }
}
