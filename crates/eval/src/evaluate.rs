//! Plan-level evaluation: every indicator × area, and the roll-ups of spec §5.

use crate::data::{Observations, References, TaskStatuses};
use crate::settings::Settings;
use crate::target::{assess_target, Context, Point, Status, TargetAssessment};
use healthplan_core::{AppliesTo, Direction, PlanDocument, Property, Target, TaskStatus};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where the evaluated areas sit: the plan's own area and each sub-area's parent, by the
/// area labels the observations use. Empty: the plan's area is its own, every other area
/// sits directly under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AreaTree {
    pub root: Option<String>,
    pub parents: BTreeMap<String, String>,
}

pub struct EvaluationInput<'a> {
    pub plan: &'a PlanDocument,
    pub tree: &'a AreaTree,
    pub observations: &'a Observations,
    pub references: &'a References,
    pub tasks: Option<&'a TaskStatuses>,
    pub as_of: i32,
    pub settings: &'a Settings,
}

/// One indicator in one area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorResult {
    /// Index into the plan's indicators.
    pub indicator: usize,
    pub name: String,
    pub code: Option<String>,
    pub area: String,
    pub domain: Option<String>,
    pub unit: Option<String>,
    pub direction: Direction,
    pub property: Option<Property>,
    pub binding: bool,
    pub applies_to: AppliesTo,
    /// The headline target's worsening flag (spec §2), beside any status.
    pub worsening: bool,
    /// The final target's year; its status is the indicator's headline status.
    pub headline_year: Option<i32>,
    pub status: Status,
    pub status_zh: &'static str,
    /// "2022年目标：已达标；2030年目标：进度正常".
    pub summary_zh: String,
    pub summary_en: String,
    pub explanation_zh: String,
    pub explanation_en: String,
    pub observations: Vec<Point>,
    pub targets: Vec<TargetAssessment>,
}

impl IndicatorResult {
    pub fn headline(&self) -> Option<&TargetAssessment> {
        self.targets.iter().max_by_key(|t| t.year)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingLine {
    pub indicator: String,
    pub area: String,
    pub status: Status,
    pub status_zh: &'static str,
}

/// Counts and indices over a set of indicator results (spec §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollup {
    pub scope: String,
    pub total: usize,
    pub counts: BTreeMap<&'static str, usize>,
    /// Indicators with a computed status (not no_data / not_assessable).
    pub assessed: usize,
    /// (achieved + on_track) / assessed.
    pub share_achieved_or_on_track: Option<f64>,
    /// Mean of clamp(p, 0, 1)·100 over indicators with a p (achieved counts as 100).
    pub progress_index: Option<f64>,
    pub progress_indicators: usize,
    pub binding: Vec<BindingLine>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRollup {
    pub area: String,
    pub total: Rollup,
    pub domains: Vec<Rollup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollups {
    pub plan: Rollup,
    pub areas: Vec<AreaRollup>,
}

/// Task completion of one lead department in one area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskCompletion {
    pub lead: String,
    pub area: String,
    pub total: usize,
    pub not_started: usize,
    pub in_progress: usize,
    pub completed: usize,
    pub delayed: usize,
    /// Tasks with no status row for the area.
    pub no_report: usize,
    pub completion_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEvaluation {
    pub plan: String,
    /// The label of the plan's own area in the results.
    pub plan_area: String,
    /// Each sub-area's parent (area label → parent label): who is ranked against whom.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parents: BTreeMap<String, String>,
    pub as_of: i32,
    pub areas: Vec<String>,
    pub results: Vec<IndicatorResult>,
    pub rollups: Rollups,
    pub task_completion: Option<Vec<TaskCompletion>>,
}

pub const NO_LEAD: &str = "（未指定牵头单位）";
pub const NO_DOMAIN: &str = "（未分组）";

/// The indicator's targets: its table targets, then prose statements naming it for years the
/// table does not cover.
pub fn indicator_targets(plan: &PlanDocument, i: usize) -> Vec<Target> {
    let mut out = plan.indicators[i].targets.clone();
    for s in &plan.target_statements {
        if s.indicator == Some(i) && !out.iter().any(|t| t.year == s.year) {
            if let Ok(t) = s.target() {
                out.push(t);
            }
        }
    }
    out.sort_by_key(|t| t.year);
    out
}

/// The area label that stands for the plan's own area in the data.
pub fn own_area(plan: &PlanDocument, areas: &[String]) -> String {
    if areas.contains(&plan.area) || areas.len() != 1 {
        plan.area.clone()
    } else {
        areas[0].clone()
    }
}

pub fn evaluate_indicator(input: &EvaluationInput, i: usize, area: &str) -> IndicatorResult {
    let ind = &input.plan.indicators[i];
    let obs = input.observations.get(i, area);
    let refs = input
        .references
        .series
        .iter()
        .filter(|((_, k), _)| *k == i)
        .map(|((s, _), v)| (s.as_str(), v.as_slice()))
        .collect();
    let ctx = Context {
        indicator: ind,
        observations: obs,
        references: refs,
        as_of: input.as_of,
        settings: input.settings,
    };
    let targets: Vec<TargetAssessment> = indicator_targets(input.plan, i)
        .iter()
        .map(|t| assess_target(&ctx, t))
        .collect();
    let head = targets.iter().max_by_key(|t| t.year);
    let (status, ezh, een) = match head {
        Some(h) => (h.status, h.explanation_zh.clone(), h.explanation_en.clone()),
        None => (
            Status::NotAssessable,
            "指标没有目标，无法评估".into(),
            "the indicator has no target: not assessable".into(),
        ),
    };
    IndicatorResult {
        indicator: i,
        name: ind.name.clone(),
        code: ind.code.clone(),
        area: area.to_string(),
        domain: ind.domain.clone(),
        unit: ind.unit.clone(),
        direction: ind.direction,
        property: ind.property,
        binding: ind.property == Some(Property::Binding),
        applies_to: ind.applies_to(),
        worsening: head.is_some_and(|h| h.worsening),
        headline_year: head.map(|h| h.year),
        status,
        status_zh: status.zh(),
        summary_zh: targets
            .iter()
            .map(|t| format!("{}年目标：{}", t.year, t.status.zh()))
            .collect::<Vec<_>>()
            .join("；"),
        summary_en: targets
            .iter()
            .map(|t| format!("{} target: {}", t.year, t.status.en()))
            .collect::<Vec<_>>()
            .join("; "),
        explanation_zh: ezh,
        explanation_en: een,
        observations: obs
            .iter()
            .map(|p| Point {
                year: p.0,
                value: p.1,
            })
            .collect(),
        targets,
    }
}

pub fn rollup<'a>(scope: &str, results: impl IntoIterator<Item = &'a IndicatorResult>) -> Rollup {
    let mut counts: BTreeMap<&'static str, usize> =
        Status::ALL.iter().map(|s| (s.key(), 0)).collect();
    let mut total = 0;
    let mut progress = Vec::new();
    let mut binding = Vec::new();
    for r in results {
        total += 1;
        *counts.entry(r.status.key()).or_default() += 1;
        if r.status == Status::Achieved {
            progress.push(100.0);
        } else if let Some(p) = r.headline().and_then(|h| h.p) {
            progress.push(p.clamp(0.0, 1.0) * 100.0);
        }
        if r.binding {
            binding.push(BindingLine {
                indicator: r.name.clone(),
                area: r.area.clone(),
                status: r.status,
                status_zh: r.status_zh,
            });
        }
    }
    let assessed: usize = Status::ALL
        .iter()
        .filter(|s| s.rank().is_some())
        .map(|s| counts[s.key()])
        .sum();
    let good = counts["achieved"] + counts["on_track"];
    let share = (assessed > 0).then(|| good as f64 / assessed as f64);
    let index =
        (!progress.is_empty()).then(|| progress.iter().sum::<f64>() / progress.len() as f64);
    let parts_zh: Vec<String> = Status::ALL
        .iter()
        .filter(|s| counts[s.key()] > 0)
        .map(|s| format!("{}{}项", s.zh(), counts[s.key()]))
        .collect();
    let parts_en: Vec<String> = Status::ALL
        .iter()
        .filter(|s| counts[s.key()] > 0)
        .map(|s| format!("{} {}", counts[s.key()], s.en()))
        .collect();
    let mut explanation_zh = format!("{scope}：共{total}项指标，{}", parts_zh.join("、"));
    let mut explanation_en = format!("{scope}: {total} indicators, {}", parts_en.join(", "));
    if let Some(sh) = share {
        explanation_zh += &format!(
            "；达标或进度正常占比{:.1}%（{good}/{assessed}）",
            sh * 100.0
        );
        explanation_en += &format!(
            "; achieved or on track {:.1}% ({good}/{assessed})",
            sh * 100.0
        );
    }
    if let Some(ix) = index {
        explanation_zh += &format!("；进展指数{ix:.1}（{}项平均）", progress.len());
        explanation_en += &format!("; progress index {ix:.1} (mean of {})", progress.len());
    }
    if !binding.is_empty() {
        let b = binding
            .iter()
            .filter(|b| matches!(b.status, Status::Achieved | Status::OnTrack))
            .count();
        explanation_zh += &format!("；约束性指标{}项，其中达标或进度正常{b}项", binding.len());
        explanation_en += &format!(
            "; {} binding indicators, {b} achieved or on track",
            binding.len()
        );
    }
    Rollup {
        scope: scope.to_string(),
        total,
        counts,
        assessed,
        share_achieved_or_on_track: share,
        progress_index: index,
        progress_indicators: progress.len(),
        binding,
        explanation_zh,
        explanation_en,
    }
}

pub fn task_completion(plan: &PlanDocument, tasks: &TaskStatuses) -> Vec<TaskCompletion> {
    let areas: BTreeSet<&String> = tasks.status.keys().map(|k| &k.1).collect();
    let mut out = Vec::new();
    for area in areas {
        let mut by_lead: BTreeMap<String, TaskCompletion> = BTreeMap::new();
        for t in &plan.tasks {
            let lead = t
                .responsible
                .as_ref()
                .and_then(|r| r.lead.clone())
                .unwrap_or_else(|| NO_LEAD.to_string());
            let c = by_lead.entry(lead.clone()).or_insert(TaskCompletion {
                lead,
                area: area.clone(),
                total: 0,
                not_started: 0,
                in_progress: 0,
                completed: 0,
                delayed: 0,
                no_report: 0,
                completion_rate: 0.0,
            });
            c.total += 1;
            match tasks.status.get(&(t.id.clone(), area.clone())) {
                Some(TaskStatus::NotStarted) => c.not_started += 1,
                Some(TaskStatus::InProgress) => c.in_progress += 1,
                Some(TaskStatus::Completed) => c.completed += 1,
                Some(TaskStatus::Delayed) => c.delayed += 1,
                None => c.no_report += 1,
            }
        }
        for mut c in by_lead.into_values() {
            c.completion_rate = c.completed as f64 / c.total as f64;
            out.push(c);
        }
    }
    out
}

/// Evaluates every indicator of the plan in every area of the data (the plan's own area
/// when there is no data at all).
pub fn evaluate(input: &EvaluationInput) -> PlanEvaluation {
    let mut areas = input.observations.areas();
    if areas.is_empty() {
        areas.push(input.plan.area.clone());
    }
    let own = input
        .tree
        .root
        .clone()
        .unwrap_or_else(|| own_area(input.plan, &areas));
    let mut results = Vec::new();
    for area in &areas {
        for (i, ind) in input.plan.indicators.iter().enumerate() {
            // A count or total of the whole area says nothing about a sub-area.
            if ind.applies_to() == AppliesTo::PlanArea && *area != own {
                continue;
            }
            results.push(evaluate_indicator(input, i, area));
        }
    }
    let plan_scope = if input.plan.title.is_empty() {
        "plan".to_string()
    } else {
        input.plan.title.clone()
    };
    let mut area_rollups = Vec::new();
    for area in &areas {
        let mine: Vec<&IndicatorResult> = results.iter().filter(|r| &r.area == area).collect();
        let mut domains: Vec<String> = mine
            .iter()
            .map(|r| r.domain.clone().unwrap_or_else(|| NO_DOMAIN.into()))
            .collect();
        domains.sort();
        domains.dedup();
        area_rollups.push(AreaRollup {
            area: area.clone(),
            total: rollup(area, mine.iter().copied()),
            domains: domains
                .iter()
                .map(|d| {
                    rollup(
                        d,
                        mine.iter()
                            .copied()
                            .filter(|r| r.domain.as_deref().unwrap_or(NO_DOMAIN) == d),
                    )
                })
                .collect(),
        });
    }
    PlanEvaluation {
        plan: input.plan.title.clone(),
        plan_area: own,
        parents: input.tree.parents.clone(),
        as_of: input.as_of,
        rollups: Rollups {
            plan: rollup(&plan_scope, &results),
            areas: area_rollups,
        },
        task_completion: input.tasks.map(|t| task_completion(input.plan, t)),
        areas,
        results,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{parse_references, parse_tasks, parse_values};

    pub(crate) const RAOPING: &str =
        include_str!("../../cli/tests/eval_fixtures/raoping_style.json");
    const VALUES: &str = include_str!("../../cli/tests/eval_fixtures/raoping_values.csv");
    const REFS: &str = include_str!("../../cli/tests/eval_fixtures/raoping_reference.csv");
    const TASKS: &str = include_str!("../../cli/tests/eval_fixtures/raoping_tasks.csv");

    pub(crate) fn scenario() -> (PlanDocument, PlanEvaluation, TaskStatuses) {
        let plan = PlanDocument::from_json(RAOPING).unwrap();
        let (obs, e1) = parse_values(&plan, VALUES).unwrap();
        let (refs, e2) = parse_references(&plan, REFS).unwrap();
        let (tasks, e3) = parse_tasks(&plan, TASKS).unwrap();
        assert!(e1.is_empty() && e2.is_empty() && e3.is_empty());
        let settings = Settings::default();
        let ev = evaluate(&EvaluationInput {
            plan: &plan,
            tree: &AreaTree::default(),
            observations: &obs,
            references: &refs,
            tasks: Some(&tasks),
            as_of: 2021,
            settings: &settings,
        });
        (plan, ev, tasks)
    }

    fn status(ev: &PlanEvaluation, name: &str, area: &str) -> Status {
        ev.results
            .iter()
            .find(|r| r.name == name && r.area == area)
            .unwrap()
            .status
    }

    #[test]
    fn statuses_per_area() {
        let (_, ev, _) = scenario();
        assert_eq!(ev.areas, vec!["钱东镇", "饶平县"]);
        let want = [
            ("居民健康素养水平", Status::OnTrack),
            ("婴儿死亡率", Status::Achieved),
            ("个人卫生支出占卫生总费用的比重", Status::NoData),
            ("产前筛查率", Status::Moderate),
            ("常住人口", Status::Insufficient),
            ("人均预期寿命", Status::NotAssessable),
            ("经常参加体育锻炼人数比例", Status::OnTrack),
            ("建立健康科普专家库", Status::Insufficient),
        ];
        for (name, st) in want {
            assert_eq!(status(&ev, name, "饶平县"), st, "{name}");
        }
        // The town's own 2017 value is its baseline.
        let town = ev
            .results
            .iter()
            .find(|r| r.area == "钱东镇" && r.indicator == 0)
            .unwrap();
        assert_eq!(town.status, Status::Insufficient);
        let b = town.headline().unwrap().baseline.unwrap();
        assert_eq!(
            (b.value, b.source),
            (18.0, crate::BaselineSource::AreaObservation)
        );
        let lit = ev
            .results
            .iter()
            .find(|r| r.area == "饶平县" && r.indicator == 0)
            .unwrap();
        assert_eq!(lit.summary_zh, "2022年目标：已达标；2030年目标：进度正常");
    }

    #[test]
    fn rollups() {
        let (_, ev, _) = scenario();
        let a = &ev
            .rollups
            .areas
            .iter()
            .find(|a| a.area == "饶平县")
            .unwrap()
            .total;
        assert_eq!(a.total, 8);
        assert_eq!(
            [
                a.counts["achieved"],
                a.counts["on_track"],
                a.counts["moderate"],
                a.counts["insufficient"],
                a.counts["moving_away"],
                a.counts["no_data"],
                a.counts["not_assessable"]
            ],
            [1, 2, 1, 2, 0, 1, 1]
        );
        assert_eq!(a.assessed, 6);
        assert_eq!(a.share_achieved_or_on_track, Some(0.5));
        let want = (100.0 + 11.22 / 15.82 * 100.0 + 5.0 / 6.0 * 100.0 + 20.0 + 10.0 + 0.0) / 6.0;
        assert!(
            (a.progress_index.unwrap() - want).abs() < 1e-9,
            "{:?} vs {want}",
            a.progress_index
        );
        let binding: Vec<&str> = a.binding.iter().map(|b| b.indicator.as_str()).collect();
        assert_eq!(
            binding,
            vec![
                "居民健康素养水平",
                "婴儿死亡率",
                "经常参加体育锻炼人数比例",
                "建立健康科普专家库"
            ]
        );
        // 常住人口 counts the whole county: the town is not judged on it.
        assert_eq!(ev.rollups.plan.total, 15);
        assert!(!ev
            .results
            .iter()
            .any(|r| r.area == "钱东镇" && r.name == "常住人口"));
        assert!(a.explanation_zh.starts_with("饶平县：共8项指标，已达标1项、进度正常2项、进度滞后1项、严重滞后2项、无数据1项、无法评估1项；达标或进度正常占比50.0%（3/6）；进展指数47.4"), "{}", a.explanation_zh);
        assert!(
            a.explanation_en
                .contains("4 binding indicators, 3 achieved or on track"),
            "{}",
            a.explanation_en
        );
        let domains: Vec<&str> = ev.rollups.areas[1]
            .domains
            .iter()
            .map(|d| d.scope.as_str())
            .collect();
        assert!(domains.contains(&"健康生活") && domains.contains(&NO_DOMAIN));
    }

    proptest::proptest! {
        #[test]
        fn row_order_does_not_change_the_evaluation(seed in proptest::prelude::any::<u64>()) {
            let (plan, want, _) = scenario();
            let mut lines: Vec<&str> = VALUES.lines().skip(1).collect();
            let mut s = seed;
            for k in (1..lines.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                lines.swap(k, (s >> 33) as usize % (k + 1));
            }
            let text = format!("indicator,area,year,value\n{}\n", lines.join("\n"));
            let (obs, e) = parse_values(&plan, &text).unwrap();
            proptest::prop_assert!(e.is_empty());
            let (refs, _) = parse_references(&plan, REFS).unwrap();
            let (tasks, _) = parse_tasks(&plan, TASKS).unwrap();
            let settings = Settings::default();
            let got = evaluate(&EvaluationInput {
                plan: &plan,
                tree: &AreaTree::default(),
                observations: &obs,
                references: &refs,
                tasks: Some(&tasks),
                as_of: 2021,
                settings: &settings,
            });
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn plan_area_indicators_are_not_judged_for_sub_areas() {
        let (mut plan, _, _) = scenario();
        let (obs, _) = parse_values(&plan, VALUES).unwrap();
        let tree = AreaTree {
            root: Some("饶平县".into()),
            parents: BTreeMap::from([("钱东镇".to_string(), "饶平县".to_string())]),
        };
        let settings = Settings::default();
        let run = |plan: &PlanDocument| {
            evaluate(&EvaluationInput {
                plan,
                tree: &tree,
                observations: &obs,
                references: &References::default(),
                tasks: None,
                as_of: 2021,
                settings: &settings,
            })
        };
        let has = |ev: &PlanEvaluation, name: &str, area: &str| {
            ev.results.iter().any(|r| r.name == name && r.area == area)
        };
        // 常住人口 (万人) is a count of the whole county: judged for it, never for the town.
        let ev = run(&plan);
        assert!(has(&ev, "常住人口", "饶平县") && !has(&ev, "常住人口", "钱东镇"));
        assert!(has(&ev, "居民健康素养水平", "钱东镇"));
        assert_eq!(ev.plan_area, "饶平县");
        assert_eq!(ev.parents["钱东镇"], "饶平县");
        // The planner's choice overrides the default both ways.
        let pop = plan
            .indicators
            .iter()
            .position(|i| i.name == "常住人口")
            .unwrap();
        plan.indicators[pop].applies_to = Some(AppliesTo::AllLevels);
        plan.indicators[0].applies_to = Some(AppliesTo::PlanArea);
        let ev = run(&plan);
        assert!(has(&ev, "常住人口", "钱东镇"));
        assert!(!has(&ev, "居民健康素养水平", "钱东镇"));
        let r = ev.results.iter().find(|r| r.indicator == 0).unwrap();
        assert_eq!(r.applies_to, AppliesTo::PlanArea);
    }

    #[test]
    fn task_completion_per_lead() {
        let (_, ev, _) = scenario();
        let tc = ev.task_completion.unwrap();
        let hw = tc
            .iter()
            .find(|c| c.lead == "县卫生健康局" && c.area == "饶平县")
            .unwrap();
        assert_eq!((hw.total, hw.completed, hw.no_report), (2, 1, 1));
        assert_eq!(hw.completion_rate, 0.5);
        let edu = tc
            .iter()
            .find(|c| c.lead == "县教育局" && c.area == "钱东镇")
            .unwrap();
        assert_eq!(edu.delayed, 1);
    }
}
