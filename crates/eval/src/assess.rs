//! Assessment (考核, spec §6): points for binding indicators and tasks per area and per lead
//! department, ranked, with every line of the working kept.

use crate::data::TaskStatuses;
use crate::evaluate::{own_area, PlanEvaluation};
use crate::fmt::num;
use crate::settings::{AssessmentSettings, Settings};
use crate::target::Status;
use healthplan_core::{PlanDocument, TaskStatus};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkingLine {
    /// `indicator` or `task`.
    pub part: &'static str,
    pub item: String,
    pub status: String,
    pub status_zh: String,
    pub weight: f64,
    /// Points this line can earn.
    pub available: f64,
    pub multiplier: f64,
    pub points: f64,
    pub text_zh: String,
    pub text_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub scored: bool,
    pub max: f64,
    pub points: f64,
    pub note_zh: Option<String>,
    pub note_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreCard {
    pub rank: usize,
    pub name: String,
    pub total: f64,
    pub max: f64,
    /// total / max · 100; the ranking key (cards whose parts were not all scored stay fair).
    pub percent: Option<f64>,
    pub indicator_part: Part,
    pub task_part: Part,
    pub working: Vec<WorkingLine>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub plan: String,
    pub as_of: i32,
    pub scheme: AssessmentSettings,
    pub areas: Vec<ScoreCard>,
    pub departments: Vec<ScoreCard>,
}

fn not_scored(zh: &str, en: &str) -> Part {
    Part {
        scored: false,
        max: 0.0,
        points: 0.0,
        note_zh: Some(zh.into()),
        note_en: Some(en.into()),
    }
}

fn status_multiplier(s: &AssessmentSettings, st: Status) -> Option<f64> {
    let m = &s.indicator_multipliers;
    Some(match st {
        Status::Achieved => m.achieved,
        Status::OnTrack => m.on_track,
        Status::Moderate => m.moderate,
        Status::Insufficient => m.insufficient,
        Status::MovingAway => m.moving_away,
        Status::Missed => m.missed,
        Status::NoData => m.no_data,
        Status::NotAssessable => return None,
    })
}

/// Indicator part over (name, status) of the binding indicators in scope.
fn indicator_part(
    s: &AssessmentSettings,
    items: &[(String, Status)],
    lines: &mut Vec<WorkingLine>,
) -> Part {
    let scored: Vec<&(String, Status)> = items
        .iter()
        .filter(|(_, st)| *st != Status::NotAssessable)
        .collect();
    let weight = |n: &str| s.weights.get(n).copied().unwrap_or(1.0);
    let sum_w: f64 = scored.iter().map(|(n, _)| weight(n)).sum();
    let mut points = 0.0;
    for (name, st) in items {
        let w = weight(name);
        match status_multiplier(s, *st) {
            Some(m) if sum_w > 0.0 => {
                let avail = s.indicator_points * w / sum_w;
                let p = avail * m;
                points += p;
                lines.push(WorkingLine {
                    part: "indicator",
                    item: name.clone(),
                    status: st.key().into(),
                    status_zh: st.zh().into(),
                    weight: w,
                    available: avail,
                    multiplier: m,
                    points: p,
                    text_zh: format!("{name}：{}，{} × {} = {}分", st.zh(), num(avail), num(m), num(p)),
                    text_en: format!("{name}: {}, {} × {} = {} points", st.en(), num(avail), num(m), num(p)),
                });
            }
            _ => lines.push(WorkingLine {
                part: "indicator",
                item: name.clone(),
                status: st.key().into(),
                status_zh: st.zh().into(),
                weight: w,
                available: 0.0,
                multiplier: 0.0,
                points: 0.0,
                text_zh: format!("{name}：无法评估，不计分，其分值由其余约束性指标分摊"),
                text_en: format!("{name}: not assessable, left out; its share goes to the other binding indicators"),
            }),
        }
    }
    if scored.is_empty() {
        return not_scored(
            "约束性指标均无法评估，指标部分不计分",
            "no binding indicator is assessable: indicator part not scored",
        );
    }
    Part {
        scored: true,
        max: s.indicator_points,
        points,
        note_zh: None,
        note_en: None,
    }
}

fn task_key(st: Option<TaskStatus>) -> (&'static str, &'static str, &'static str) {
    match st {
        Some(TaskStatus::Completed) => ("completed", "已完成", "completed"),
        Some(TaskStatus::InProgress) => ("in_progress", "按期推进", "in progress on time"),
        Some(TaskStatus::Delayed) => ("delayed", "滞后", "delayed"),
        Some(TaskStatus::NotStarted) => ("not_started", "未开始", "not started"),
        None => (
            "no_report",
            "未报送（按未开始计）",
            "no report (scored as not started)",
        ),
    }
}

fn task_part(
    s: &AssessmentSettings,
    items: &[(String, Option<TaskStatus>)],
    lines: &mut Vec<WorkingLine>,
) -> Part {
    let n = items.len() as f64;
    let m = &s.task_multipliers;
    let mut points = 0.0;
    for (id, st) in items {
        let mult = match st {
            Some(TaskStatus::Completed) => m.completed,
            Some(TaskStatus::InProgress) => m.in_progress,
            Some(TaskStatus::Delayed) => m.delayed,
            Some(TaskStatus::NotStarted) | None => m.not_started,
        };
        let avail = s.task_points / n;
        let p = avail * mult;
        points += p;
        let (k, zh, en) = task_key(*st);
        lines.push(WorkingLine {
            part: "task",
            item: id.clone(),
            status: k.into(),
            status_zh: zh.into(),
            weight: 1.0,
            available: avail,
            multiplier: mult,
            points: p,
            text_zh: format!(
                "任务{id}：{zh}，{} × {} = {}分",
                num(avail),
                num(mult),
                num(p)
            ),
            text_en: format!(
                "task {id}: {en}, {} × {} = {} points",
                num(avail),
                num(mult),
                num(p)
            ),
        });
    }
    Part {
        scored: true,
        max: s.task_points,
        points,
        note_zh: None,
        note_en: None,
    }
}

fn card(name: &str, ind: Part, task: Part, working: Vec<WorkingLine>) -> ScoreCard {
    let max = ind.max + task.max;
    let total = ind.points + task.points;
    let part_zh = |label: &str, p: &Part| {
        if p.scored {
            format!("{label}{}/{}", num(p.points), num(p.max))
        } else {
            format!("{label}不计分")
        }
    };
    let part_en = |label: &str, p: &Part| {
        if p.scored {
            format!("{label} {}/{}", num(p.points), num(p.max))
        } else {
            format!("{label} not scored")
        }
    };
    let explanation_zh = format!(
        "{name}：得分{}/{}（{}，{}）",
        num(total),
        num(max),
        part_zh("指标", &ind),
        part_zh("任务", &task)
    );
    let explanation_en = format!(
        "{name}: {}/{} ({}, {})",
        num(total),
        num(max),
        part_en("indicators", &ind),
        part_en("tasks", &task)
    );
    ScoreCard {
        rank: 0,
        name: name.to_string(),
        total,
        max,
        percent: (max > 0.0).then(|| total / max * 100.0),
        indicator_part: ind,
        task_part: task,
        working,
        explanation_zh,
        explanation_en,
    }
}

/// Competition ranking (1, 2, 2, 4) by percent, highest first; unscored cards last.
fn rank(cards: &mut [ScoreCard]) {
    cards.sort_by(|a, b| {
        let ka = a.percent.unwrap_or(f64::NEG_INFINITY);
        let kb = b.percent.unwrap_or(f64::NEG_INFINITY);
        kb.total_cmp(&ka).then_with(|| a.name.cmp(&b.name))
    });
    let mut prev: Option<(f64, usize)> = None;
    for (i, c) in cards.iter_mut().enumerate() {
        let k = c.percent.unwrap_or(f64::NEG_INFINITY);
        c.rank = match prev {
            Some((pk, r)) if (pk - k).abs() <= 1e-9 || (pk == k) => r,
            _ => i + 1,
        };
        prev = Some((k, c.rank));
    }
}

/// The lead department of an indicator: its `lead` field (the table's 牵头单位 column), or
/// an older document's `"lead"` kept among the unknown fields.
pub fn indicator_lead(plan: &PlanDocument, i: usize) -> Option<String> {
    plan.indicators
        .get(i)?
        .lead_department()
        .map(str::to_string)
}

pub fn assess(
    plan: &PlanDocument,
    eval: &PlanEvaluation,
    tasks: Option<&TaskStatuses>,
    settings: &Settings,
) -> Assessment {
    let s = &settings.assessment;
    let has_binding = eval.results.iter().any(|r| r.binding);
    let no_tasks_zh = "未提供任务进展数据（--tasks），任务部分不计分";
    let no_tasks_en = "no task status data (--tasks): task part not scored";

    let mut areas = Vec::new();
    for area in &eval.areas {
        let mut working = Vec::new();
        let ind = if has_binding {
            let items: Vec<(String, Status)> = eval
                .results
                .iter()
                .filter(|r| &r.area == area && r.binding)
                .map(|r| (r.name.clone(), r.status))
                .collect();
            indicator_part(s, &items, &mut working)
        } else {
            not_scored(
                "规划没有约束性指标，指标部分不计分",
                "the plan has no binding (约束性) indicators: indicator part not scored",
            )
        };
        let task = match tasks {
            None => not_scored(no_tasks_zh, no_tasks_en),
            Some(_) if plan.tasks.is_empty() => not_scored(
                "规划没有任务，任务部分不计分",
                "the plan has no tasks: task part not scored",
            ),
            Some(ts) => {
                let items: Vec<(String, Option<TaskStatus>)> = plan
                    .tasks
                    .iter()
                    .map(|t| {
                        (
                            t.id.clone(),
                            ts.status.get(&(t.id.clone(), area.clone())).copied(),
                        )
                    })
                    .collect();
                task_part(s, &items, &mut working)
            }
        };
        areas.push(card(area, ind, task, working));
    }
    rank(&mut areas);

    // Departments: the lead units of tasks (and of indicators carrying a `lead` field),
    // scored on the plan's own area.
    let own = own_area(plan, &eval.areas);
    let mut leads: Vec<String> = plan
        .tasks
        .iter()
        .filter_map(|t| t.responsible.as_ref().and_then(|r| r.lead.clone()))
        .chain((0..plan.indicators.len()).filter_map(|i| indicator_lead(plan, i)))
        .collect();
    leads.sort();
    leads.dedup();
    let any_indicator_lead = (0..plan.indicators.len()).any(|i| indicator_lead(plan, i).is_some());
    let mut departments = Vec::new();
    for lead in &leads {
        let mut working = Vec::new();
        let ind = if !any_indicator_lead {
            not_scored(
                "指标未标注牵头单位，部门考核只计任务部分",
                "indicators carry no lead department: departments are scored on tasks only",
            )
        } else {
            let items: Vec<(String, Status)> = eval
                .results
                .iter()
                .filter(|r| {
                    r.area == own
                        && r.binding
                        && indicator_lead(plan, r.indicator).as_deref() == Some(lead)
                })
                .map(|r| (r.name.clone(), r.status))
                .collect();
            if items.is_empty() {
                not_scored(
                    "该部门没有牵头的约束性指标，指标部分不计分",
                    "no binding indicator led by this department: indicator part not scored",
                )
            } else {
                indicator_part(s, &items, &mut working)
            }
        };
        let mine: Vec<&healthplan_core::Task> = plan
            .tasks
            .iter()
            .filter(|t| t.responsible.as_ref().and_then(|r| r.lead.as_ref()) == Some(lead))
            .collect();
        let task = match tasks {
            None => not_scored(no_tasks_zh, no_tasks_en),
            Some(_) if mine.is_empty() => not_scored(
                "该部门没有牵头任务，任务部分不计分",
                "no task led by this department: task part not scored",
            ),
            Some(ts) => {
                let items: Vec<(String, Option<TaskStatus>)> = mine
                    .iter()
                    .map(|t| {
                        (
                            t.id.clone(),
                            ts.status.get(&(t.id.clone(), own.clone())).copied(),
                        )
                    })
                    .collect();
                task_part(s, &items, &mut working)
            }
        };
        departments.push(card(lead, ind, task, working));
    }
    rank(&mut departments);
    Assessment {
        plan: plan.title.clone(),
        as_of: eval.as_of,
        scheme: s.clone(),
        areas,
        departments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::tests::scenario;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn areas_ranked_with_the_working() {
        let (plan, ev, tasks) = scenario();
        let a = assess(&plan, &ev, Some(&tasks), &Settings::default());
        let county = &a.areas[0];
        assert_eq!((county.rank, county.name.as_str()), (1, "饶平县"));
        // 4 binding indicators × 17.5: on track, achieved, on track, insufficient (×0.3).
        assert!(
            close(county.indicator_part.points, 57.75),
            "{:?}",
            county.indicator_part
        );
        // 3 tasks × 10: completed, in progress (×0.8), no report (×0).
        assert!(close(county.task_part.points, 18.0));
        assert!(close(county.total, 75.75) && close(county.max, 100.0));
        assert_eq!(
            county.explanation_zh,
            "饶平县：得分75.75/100（指标57.75/70，任务18/30）"
        );
        assert_eq!(county.working.len(), 7);
        assert!(
            county
                .working
                .iter()
                .any(|w| w.text_zh == "建立健康科普专家库：严重滞后，17.5 × 0.3 = 5.25分"),
            "{:#?}",
            county.working
        );
        assert!(county.working.iter().any(|w| w.status == "no_report"));
        let town = &a.areas[1];
        assert_eq!(town.rank, 2);
        assert!(close(town.total, 5.25 + 4.0), "{}", town.total);
    }

    #[test]
    fn indicator_lead_reads_the_field_then_older_documents_extra() {
        let (mut plan, _, _) = scenario();
        let i = (0..plan.indicators.len())
            .find(|&i| plan.indicators[i].lead.is_some())
            .expect("the scenario names a lead department");
        let lead = plan.indicators[i].lead.take();
        assert_eq!(indicator_lead(&plan, i), None);
        plan.indicators[i].extra.insert(
            "lead".into(),
            serde_json::Value::String(lead.clone().unwrap_or_default()),
        );
        assert_eq!(indicator_lead(&plan, i), lead);
        assert_eq!(indicator_lead(&plan, plan.indicators.len()), None);
    }

    #[test]
    fn departments_scored_on_tasks_and_led_indicators() {
        let (plan, ev, tasks) = scenario();
        let a = assess(&plan, &ev, Some(&tasks), &Settings::default());
        let hw = &a.departments[0];
        assert_eq!(hw.name, "县卫生健康局");
        assert!(close(hw.indicator_part.points, 70.0) && close(hw.task_part.points, 15.0));
        let edu = &a.departments[1];
        assert!(!edu.indicator_part.scored && close(edu.max, 30.0) && close(edu.total, 24.0));
        assert!(close(edu.percent.unwrap(), 80.0));
        assert_eq!(edu.rank, 2);
    }

    #[test]
    fn no_binding_indicators_and_no_tasks_are_said_not_invented() {
        let (mut plan, ev, _) = scenario();
        for i in &mut plan.indicators {
            i.property = None;
        }
        let mut ev = ev;
        for r in &mut ev.results {
            r.binding = false;
        }
        let a = assess(&plan, &ev, None, &Settings::default());
        let c = &a.areas[0];
        assert!(!c.indicator_part.scored && !c.task_part.scored);
        assert!(c
            .indicator_part
            .note_zh
            .as_deref()
            .unwrap()
            .contains("没有约束性指标"));
        assert!(c.percent.is_none());
    }

    #[test]
    fn scheme_numbers_are_settings() {
        let (plan, ev, tasks) = scenario();
        let s = Settings::from_toml("[assessment]\nindicator_points = 60\ntask_points = 40\n[assessment.indicator_multipliers]\ninsufficient = 0.5\n[assessment.weights]\n\"居民健康素养水平\" = 2\n").unwrap();
        let a = assess(&plan, &ev, Some(&tasks), &s);
        let c = a.areas.iter().find(|c| c.name == "饶平县").unwrap();
        // weights 2,1,1,1 of 60: 24 + 12 + 12 + 12×0.5
        assert!(
            close(c.indicator_part.points, 54.0),
            "{:?}",
            c.indicator_part
        );
        assert!(close(c.task_part.points, 40.0 / 3.0 * 1.8));
    }
}
