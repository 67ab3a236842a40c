//! Assessment (考核, spec §6): points for binding indicators and tasks per area and per lead
//! department, ranked, with every line of the working kept.

use crate::data::TaskStatuses;
use crate::evaluate::PlanEvaluation;
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
    /// Competition rank among the peers (1, 2, 2, 4); 0 when not ranked (the plan's own
    /// area, or nothing to score).
    pub rank: usize,
    /// Who the card is ranked against: the parent area of a sub-area, 各部门 for departments;
    /// `None` when not ranked.
    pub peer_group: Option<String>,
    /// How many cards are ranked in the group.
    pub peers: usize,
    /// Another card of the group has the same score.
    pub tied: bool,
    /// "第2名", "并列第2名", "不参与排名（…）".
    pub rank_zh: String,
    pub rank_en: String,
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
                "任务“{id}”：{zh}，{} × {} = {}分",
                num(avail),
                num(mult),
                num(p)
            ),
            text_en: format!(
                "task \"{id}\": {en}, {} × {} = {} points",
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
        peer_group: None,
        peers: 0,
        tied: false,
        rank_zh: String::new(),
        rank_en: String::new(),
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

/// Competition ranking (1, 2, 2, 4) by percent, highest first, within each peer group;
/// cards without a group or without a score are not ranked and say why.
fn rank(cards: &mut [ScoreCard]) {
    cards.sort_by(|a, b| {
        let ka = a.percent.unwrap_or(f64::NEG_INFINITY);
        let kb = b.percent.unwrap_or(f64::NEG_INFINITY);
        a.peer_group
            .is_some()
            .cmp(&b.peer_group.is_some())
            .then_with(|| a.peer_group.cmp(&b.peer_group))
            .then_with(|| kb.total_cmp(&ka))
            .then_with(|| a.name.cmp(&b.name))
    });
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9;
    for i in 0..cards.len() {
        let (group, key) = (cards[i].peer_group.clone(), cards[i].percent);
        let Some(key) = key.filter(|_| group.is_some()) else {
            cards[i].peers = 0;
            let (zh, en) = if group.is_none() {
                (
                    "不参与排名（规划所在地区，不与下级地区比较）",
                    "not ranked (the plan's own area is not ranked against its sub-areas)",
                )
            } else {
                (
                    "不参与排名（无可评分内容）",
                    "not ranked (nothing to score)",
                )
            };
            cards[i].rank_zh = zh.into();
            cards[i].rank_en = en.into();
            continue;
        };
        let peers: Vec<f64> = cards
            .iter()
            .filter(|c| c.peer_group == group)
            .filter_map(|c| c.percent)
            .collect();
        let better = peers.iter().filter(|&&p| p > key && !same(p, key)).count();
        let equal = peers.iter().filter(|&&p| same(p, key)).count();
        let c = &mut cards[i];
        c.rank = better + 1;
        c.peers = peers.len();
        c.tied = equal > 1;
        let g = group.unwrap_or_default();
        if c.tied {
            c.rank_zh = format!(
                "并列第{}名（{g}，{}个同级中{equal}个同分）",
                c.rank, c.peers
            );
            c.rank_en = format!(
                "tied {} of {} ({g}; {equal} share the score)",
                c.rank, c.peers
            );
        } else {
            c.rank_zh = format!("第{}名（{g}，共{}个同级）", c.rank, c.peers);
            c.rank_en = format!("{} of {} ({g})", c.rank, c.peers);
        }
    }
    for c in cards.iter_mut() {
        c.explanation_zh += &format!("；{}", c.rank_zh);
        c.explanation_en += &format!("; {}", c.rank_en);
    }
}

/// A task as people know it: its text, cut to a readable length.
pub fn task_label(t: &healthplan_core::Task) -> String {
    const MAX: usize = 40;
    let text = t.text.trim();
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
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

    let own_label = &eval.plan_area;
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
            if items.is_empty() {
                not_scored(
                    "该地区没有适用的约束性指标，指标部分不计分",
                    "no binding indicator applies to this area: indicator part not scored",
                )
            } else {
                indicator_part(s, &items, &mut working)
            }
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
                // The plan's own area answers for every task; a sub-area only for the tasks
                // it reports on.
                let items: Vec<(String, Option<TaskStatus>)> = plan
                    .tasks
                    .iter()
                    .map(|t| {
                        (
                            task_label(t),
                            ts.status.get(&(t.id.clone(), area.clone())).copied(),
                        )
                    })
                    .filter(|(_, st)| area == own_label || st.is_some())
                    .collect();
                if items.is_empty() {
                    not_scored(
                        "该地区没有承担的任务，任务部分不计分",
                        "no task is assigned to this area: task part not scored",
                    )
                } else {
                    task_part(s, &items, &mut working)
                }
            }
        };
        let mut c = card(area, ind, task, working);
        c.peer_group = if area == own_label {
            None
        } else {
            Some(eval.parents.get(area).unwrap_or(own_label).clone())
        };
        areas.push(c);
    }
    rank(&mut areas);

    // Departments: the lead units of tasks (and of indicators carrying a `lead` field),
    // scored on the plan's own area.
    let own = eval.plan_area.clone();
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
                            task_label(t),
                            ts.status.get(&(t.id.clone(), own.clone())).copied(),
                        )
                    })
                    .collect();
                task_part(s, &items, &mut working)
            }
        };
        let mut c = card(lead, ind, task, working);
        c.peer_group = Some("各牵头部门".into());
        departments.push(c);
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
        // The plan's own area is not ranked against its towns.
        assert_eq!((county.rank, county.name.as_str()), (0, "饶平县"));
        assert!(county.peer_group.is_none() && county.rank_zh.starts_with("不参与排名"));
        // 4 binding indicators × 17.5: on track, achieved, on track, insufficient (×0.3).
        assert!(
            close(county.indicator_part.points, 57.75),
            "{:?}",
            county.indicator_part
        );
        // 3 tasks × 10: completed, in progress (×0.8), no report (×0).
        assert!(close(county.task_part.points, 18.0));
        assert!(close(county.total, 75.75) && close(county.max, 100.0));
        assert!(
            county
                .explanation_zh
                .starts_with("饶平县：得分75.75/100（指标57.75/70，任务18/30）"),
            "{}",
            county.explanation_zh
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
        // Tasks are named by their text.
        assert!(county.working.iter().any(|w| w.item == "开展健康知识普及。"
            && w.text_zh.starts_with("任务“开展健康知识普及。”：已完成")));
        assert!(!county.working.iter().any(|w| w.item.starts_with('t')));
        let town = &a.areas[1];
        assert_eq!((town.rank, town.peers), (1, 1));
        assert_eq!(town.peer_group.as_deref(), Some("饶平县"));
        // The town answers only for the task it reports on (t2, delayed): 30 × 0.4.
        assert!(close(town.task_part.points, 12.0), "{:?}", town.task_part);
        assert_eq!(town.working.iter().filter(|w| w.part == "task").count(), 1);
        assert!(close(town.total, 5.25 + 12.0), "{}", town.total);
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
        assert_eq!(edu.peer_group.as_deref(), Some("各牵头部门"));
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

    /// Cards of a district with two levels below it: ranked per parent, ties shared.
    fn cards(parents: &[(&str, &str)], scores: &[(&str, f64)], own: &str) -> Vec<ScoreCard> {
        let mut out: Vec<ScoreCard> = scores
            .iter()
            .map(|(n, p)| {
                let part = Part {
                    scored: true,
                    max: 100.0,
                    points: *p,
                    note_zh: None,
                    note_en: None,
                };
                let mut c = card(n, part, not_scored("", ""), Vec::new());
                c.peer_group = (*n != own).then(|| {
                    parents
                        .iter()
                        .find(|(a, _)| a == n)
                        .map_or(own, |(_, p)| *p)
                        .to_string()
                });
                c
            })
            .collect();
        rank(&mut out);
        out
    }

    #[test]
    fn peers_are_one_level_under_one_parent_and_ties_share_a_rank() {
        let parents = [
            ("甲区", "市"),
            ("乙区", "市"),
            ("甲一街道", "甲区"),
            ("甲二街道", "甲区"),
            ("甲三街道", "甲区"),
            ("乙一街道", "乙区"),
        ];
        let scores = [
            ("市", 99.0),
            ("甲区", 50.0),
            ("乙区", 60.0),
            ("甲一街道", 70.0),
            ("甲二街道", 70.0),
            ("甲三街道", 10.0),
            ("乙一街道", 0.0),
        ];
        let c = cards(&parents, &scores, "市");
        let get = |n: &str| c.iter().find(|c| c.name == n).unwrap();
        assert_eq!(get("市").rank, 0);
        assert_eq!(
            (get("乙区").rank, get("甲区").rank, get("甲区").peers),
            (1, 2, 2)
        );
        // The district is never ranked against its own streets.
        assert_eq!(get("甲一街道").peer_group.as_deref(), Some("甲区"));
        assert_eq!(
            (
                get("甲一街道").rank,
                get("甲二街道").rank,
                get("甲三街道").rank
            ),
            (1, 1, 3)
        );
        assert!(get("甲一街道").tied && get("甲二街道").tied && !get("甲三街道").tied);
        assert!(
            get("甲二街道").explanation_zh.contains("并列第1名"),
            "{}",
            get("甲二街道").explanation_zh
        );
        assert_eq!((get("乙一街道").rank, get("乙一街道").peers), (1, 1));
        assert!(!get("甲三街道").explanation_zh.contains("并列"));
    }

    proptest::proptest! {
        #[test]
        fn equal_scores_always_share_a_rank(scores in proptest::collection::vec(0u8..5, 1..12)) {
            let named: Vec<(String, f64)> = scores.iter().enumerate().map(|(k, s)| (format!("街道{k}"), *s as f64 * 10.0)).collect();
            let refs: Vec<(&str, f64)> = named.iter().map(|(n, s)| (n.as_str(), *s)).collect();
            let c = cards(&[], &refs, "区");
            for a in &c {
                for b in &c {
                    proptest::prop_assert_eq!(a.total == b.total, a.rank == b.rank);
                }
                let better = c.iter().filter(|b| b.total > a.total).count();
                proptest::prop_assert_eq!(a.rank, better + 1);
                proptest::prop_assert_eq!(a.tied, c.iter().filter(|b| b.total == a.total).count() > 1);
            }
        }
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
