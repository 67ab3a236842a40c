//! What the annual report says, written from the evaluation in the style of a government
//! monitoring report: the summary, the per-domain tables, the indicators that lag, task
//! completion, the assessment ranking, the comparison of areas and the methods appendix.

use crate::charts::{self, AreaBar, Trend};
use crate::doc::{Align, Block, Builder, Col, Cover, Doc, Level, SYNTHETIC};
use std::collections::BTreeMap;

const L: Align = Align::Left;
const C: Align = Align::Center;
use crate::fmt::{is_milestone, num, pct, target, value, with_unit};
use crate::input::ReportInput;
use healthplan_core::PlanDocument;
use healthplan_eval::assess::{indicator_lead, Part, ScoreCard};
use healthplan_eval::evaluate::{AreaRollup, Rollup, TaskCompletion, NO_DOMAIN, NO_LEAD};
use healthplan_eval::target::{Status, TargetAssessment};
use healthplan_eval::IndicatorResult;

/// Statuses that call for attention, worst first.
const LAGGING: [Status; 3] = [Status::MovingAway, Status::Insufficient, Status::Moderate];

/// How many of the most lagging indicators the summary names.
const NAMED_IN_SUMMARY: usize = 3;

/// An indicator's lead department: the indicator's own `lead` field, else the lead unit of
/// the first task whose target statements name the indicator.
pub fn lead_of(plan: &PlanDocument, indicator: usize) -> Option<String> {
    if indicator >= plan.indicators.len() {
        return None;
    }
    indicator_lead(plan, indicator).or_else(|| {
        plan.tasks.iter().find_map(|t| {
            let names_it = t.targets.iter().any(|&k| {
                plan.target_statements
                    .get(k)
                    .is_some_and(|s| s.indicator == Some(indicator))
            });
            names_it
                .then(|| t.responsible.as_ref().and_then(|r| r.lead.clone()))
                .flatten()
        })
    })
}

/// `已达标1项，进度正常2项` over the statuses with a non-zero count, in the statuses' order.
pub fn count_phrase(r: &Rollup) -> String {
    Status::ALL
        .iter()
        .filter_map(|s| {
            let n = r.counts.get(s.key()).copied().unwrap_or(0);
            (n > 0).then(|| format!("{}{n}项", s.zh()))
        })
        .collect::<Vec<_>>()
        .join("，")
}

fn counts(r: &Rollup) -> Vec<(Status, usize)> {
    Status::ALL
        .iter()
        .map(|s| (*s, r.counts.get(s.key()).copied().unwrap_or(0)))
        .collect()
}

/// Worst first: moving away, insufficient, moderate; then the smallest r.
fn lag_order(a: &&IndicatorResult, b: &&IndicatorResult) -> std::cmp::Ordering {
    let sev = |r: &IndicatorResult| LAGGING.iter().position(|s| *s == r.status).unwrap_or(9);
    let r = |x: &IndicatorResult| x.headline().and_then(|h| h.r).unwrap_or(f64::INFINITY);
    sev(a)
        .cmp(&sev(b))
        .then(r(a).total_cmp(&r(b)))
        .then(a.indicator.cmp(&b.indicator))
}

fn unit_of(r: &IndicatorResult) -> Option<&str> {
    r.unit.as_deref().filter(|u| !u.trim().is_empty())
}

fn name_with_unit(r: &IndicatorResult) -> String {
    let star = if r.binding { "★" } else { "" };
    match unit_of(r) {
        Some(u) => format!("{star}{}（{u}）", r.name),
        None => format!("{star}{}", r.name),
    }
}

/// A value and its year as a table cell: `24.77 (2020)` (half-width brackets keep it on one
/// line in a narrow column).
pub fn point(v: f64, year: i32, milestone: bool) -> String {
    format!("{} ({year})", value(v, milestone))
}

fn baseline_cell(r: &IndicatorResult, h: Option<&TargetAssessment>, plan: &PlanDocument) -> String {
    if let Some(b) = h.and_then(|h| h.baseline) {
        return point(b.value, b.year, h.is_some_and(is_milestone));
    }
    plan.indicators
        .get(r.indicator)
        .and_then(|i| i.baseline.as_ref())
        .map(|b| b.text.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "—".into())
}

fn latest_cell(h: Option<&TargetAssessment>) -> String {
    match h.and_then(|h| h.latest.map(|p| (h, p))) {
        Some((h, p)) => point(p.value, p.year, is_milestone(h)),
        None => "—".into(),
    }
}

fn target_cell(h: Option<&TargetAssessment>) -> String {
    match h {
        Some(h) => format!("{} ({})", target(h), h.year),
        None => "—".into(),
    }
}

/// The status, with 恶化 beside it when the indicator is worsening.
fn status_cell(r: &IndicatorResult) -> String {
    if r.worsening {
        format!("{}（恶化）", r.status_zh)
    } else {
        r.status_zh.to_string()
    }
}

fn progress_cell(r: &IndicatorResult) -> String {
    match r.headline().and_then(|h| h.p) {
        Some(p) => pct(p),
        None if r.status == Status::Achieved => "已达标".into(),
        None => "—".into(),
    }
}

/// What the forecast says about the headline target (its year is the target's):
/// `73.82%（73.52–74.11），达标概率约0%`.
pub fn forecast_text(r: &IndicatorResult, year: i32) -> String {
    let Some(h) = r.headline() else {
        return "无目标，未作预测".into();
    };
    if h.year <= year {
        return "目标年份已到，不作预测".into();
    }
    let Some(f) = &h.forecast else {
        return if is_milestone(h) {
            "里程碑目标，不作预测".into()
        } else {
            "数据点不足，未作预测".into()
        };
    };
    let mut s = format!("预计{}", with_unit(f.value, unit_of(r)));
    if let (Some(lo), Some(hi)) = (f.lower, f.upper) {
        s += &format!("（{}–{}）", num(lo), num(hi));
    }
    match (f.probability, h.condition) {
        (Some(p), _) => s += &format!("，达标概率约{:.0}%", p * 100.0),
        (None, Some(c)) if c.met(f.value) => s += "，可望达标",
        (None, Some(_)) => s += "，难以如期达标",
        (None, None) => {}
    }
    s
}

/// The forecast's confidence level: `95%`.
fn confidence(s: &healthplan_eval::Settings) -> String {
    format!("{}%", num(s.forecast.confidence * 100.0))
}

fn lead_text(lead: Option<String>) -> String {
    lead.unwrap_or_else(|| "未明确".into())
}

fn part_cell(p: &Part) -> String {
    if p.scored {
        format!("{}/{}", num(p.points), num(p.max))
    } else {
        "不计分".into()
    }
}

fn percent_cell(c: &ScoreCard) -> String {
    c.percent
        .map(|x| format!("{:.1}%", x))
        .unwrap_or_else(|| "—".into())
}

/// Context the sections share.
struct Ctx<'a> {
    input: &'a ReportInput,
    plan: &'a PlanDocument,
    year: i32,
    own: Option<&'a str>,
    own_rollup: Option<&'a AreaRollup>,
    /// The own area's results in plan order.
    results: Vec<&'a IndicatorResult>,
    /// The own area's task completion per lead.
    tasks: Vec<&'a TaskCompletion>,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a ReportInput) -> Ctx<'a> {
        let ev = input.evaluation();
        let own = input.own_area();
        let mut results: Vec<&IndicatorResult> = ev
            .results
            .iter()
            .filter(|r| Some(r.area.as_str()) == own)
            .collect();
        results.sort_by_key(|r| r.indicator);
        let tasks = ev
            .task_completion
            .iter()
            .flatten()
            .filter(|t| Some(t.area.as_str()) == own)
            .collect();
        Ctx {
            input,
            plan: input.plan(),
            year: input.year(),
            own,
            own_rollup: ev
                .rollups
                .areas
                .iter()
                .find(|a| Some(a.area.as_str()) == own),
            results,
            tasks,
        }
    }

    fn area(&self, label: &'a str) -> &'a str {
        self.input.area_name(label)
    }

    fn own_name(&self) -> &'a str {
        self.own.map(|a| self.area(a)).unwrap_or("")
    }

    fn lagging(&self) -> Vec<&'a IndicatorResult> {
        let mut v: Vec<&IndicatorResult> = self
            .results
            .iter()
            .copied()
            .filter(|r| LAGGING.contains(&r.status))
            .collect();
        v.sort_by(lag_order);
        v
    }

    /// How many domains (专项行动) the own area's indicators fall in.
    fn domains(&self) -> usize {
        self.own_rollup.map_or(0, |o| o.domains.len())
    }

    fn multi_area(&self) -> bool {
        self.input.evaluation().areas.len() > 1
    }
}

/// Task totals of the own area: (total, completed, in progress, delayed, not started, no report).
fn task_totals(tasks: &[&TaskCompletion]) -> [usize; 6] {
    tasks.iter().fold([0; 6], |a, t| {
        [
            a[0] + t.total,
            a[1] + t.completed,
            a[2] + t.in_progress,
            a[3] + t.delayed,
            a[4] + t.not_started,
            a[5] + t.no_report,
        ]
    })
}

/// The summary paragraphs (一、总体情况).
pub fn summary(input: &ReportInput) -> Vec<String> {
    summary_of(&Ctx::new(input))
}

fn summary_of(c: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    match c.own_rollup.map(|a| &a.total) {
        Some(t) if t.total > 0 => {
            let mut s = format!("纳入监测的{}项指标中，{}。", t.total, count_phrase(t));
            let good = t.counts.get("achieved").copied().unwrap_or(0)
                + t.counts.get("on_track").copied().unwrap_or(0);
            if let Some(share) = t.share_achieved_or_on_track {
                s += &format!(
                    "达标或进度正常的{good}项，占可评估指标（{}项）的{}",
                    t.assessed,
                    pct(share)
                );
                match t.progress_index {
                    Some(ix) => s += &format!("，指标进展指数为{}。", num(ix)),
                    None => s += "。",
                }
            }
            if !t.binding.is_empty() {
                let ok = t
                    .binding
                    .iter()
                    .filter(|b| matches!(b.status, Status::Achieved | Status::OnTrack))
                    .count();
                s += &format!(
                    "约束性指标{}项，其中达标或进度正常{ok}项。",
                    t.binding.len()
                );
            }
            out.push(s);
            let lagging = c.lagging();
            let missed = c
                .results
                .iter()
                .filter(|r| r.status == Status::Missed)
                .count();
            let worsening = c.results.iter().filter(|r| r.worsening).count();
            let mut watch = Vec::new();
            if missed > 0 {
                watch.push(format!("目标年份已到但未完成目标的指标{missed}项"));
            }
            if worsening > 0 {
                watch.push(format!("比基线或上一年明显变差的指标{worsening}项"));
            }
            if !watch.is_empty() {
                out.push(format!("{}（详见第三部分）。", watch.join("，")));
            }
            if lagging.is_empty() {
                out.push("本年度没有进度滞后或逆向变化的指标。".into());
            } else {
                let named: Vec<String> = lagging
                    .iter()
                    .take(NAMED_IN_SUMMARY)
                    .map(|r| {
                        format!(
                            "{}（{}，牵头单位：{}）",
                            r.name,
                            r.status_zh,
                            lead_text(lead_of(c.plan, r.indicator))
                        )
                    })
                    .collect();
                out.push(format!(
                    "进度滞后或逆向变化的指标共{}项，其中{}{}，需重点关注。",
                    lagging.len(),
                    named.join("、"),
                    if lagging.len() > NAMED_IN_SUMMARY {
                        "等较为突出"
                    } else {
                        "进展偏慢"
                    }
                ));
            }
        }
        _ => out.push("本规划未设置可监测的指标，本报告仅评价任务推进情况。".into()),
    }
    if !c.tasks.is_empty() {
        let [total, done, going, delayed, not_started, no_report] = task_totals(&c.tasks);
        let mut parts = vec![format!("已完成{done}项")];
        for (n, label) in [
            (going, "按期推进"),
            (delayed, "滞后"),
            (not_started, "未开始"),
            (no_report, "未报送进展"),
        ] {
            if n > 0 {
                parts.push(format!("{label}{n}项"));
            }
        }
        let rate = if total > 0 {
            done as f64 / total as f64
        } else {
            0.0
        };
        out.push(format!(
            "列入监测的{total}项重点任务中，{}，完成率{}。",
            parts.join("，"),
            pct(rate)
        ));
    } else if !c.plan.tasks.is_empty() {
        out.push(format!(
            "规划部署重点任务{}项，本次未提供任务进展数据，未评价任务完成情况。",
            c.plan.tasks.len()
        ));
    }
    out.extend(assessment_sentences(c));
    out
}

fn indicator_row(c: &Ctx, k: usize, r: &IndicatorResult) -> Vec<String> {
    let h = r.headline();
    vec![
        (k + 1).to_string(),
        name_with_unit(r),
        baseline_cell(r, h, c.plan),
        latest_cell(h),
        target_cell(h),
        status_cell(r),
        progress_cell(r),
    ]
}

const INDICATOR_COLS: [Col; 7] = [
    ("序号", 6, C),
    ("指标", 27, L),
    ("基线值", 15, C),
    ("最新值", 15, C),
    ("目标值", 15, C),
    ("状态", 11, C),
    ("完成进程", 11, C),
];

fn indicator_note(c: &Ctx) -> String {
    format!(
        "注：★为约束性指标；括号内为年份；最新值为{}年及以前的最新监测值；完成进程＝（最新值－基线值）÷（目标值－基线值）；状态按序时进度法判定（见附件{}）。",
        c.year,
        methods_number(c)
    )
}

fn domain_label(d: &str) -> &str {
    if d == NO_DOMAIN {
        "其他指标"
    } else {
        d
    }
}

/// Up to four indicators to chart: binding ones first, then the most lagging, each with
/// data and a numeric target.
fn key_trends(c: &Ctx) -> Vec<Trend> {
    let mut picks: Vec<&IndicatorResult> = c
        .results
        .iter()
        .copied()
        .filter(|r| {
            r.headline()
                .is_some_and(|h| h.goal.is_some() && !is_milestone(h) && h.latest.is_some())
        })
        .collect();
    let priority = |r: &IndicatorResult| {
        let lag = LAGGING.iter().position(|s| *s == r.status);
        (!r.binding, lag.is_none(), lag.unwrap_or(9), r.indicator)
    };
    picks.sort_by_key(|r| priority(r));
    picks
        .into_iter()
        .take(4)
        .filter_map(|r| {
            let h = r.headline()?;
            let goal = h.goal?;
            Some(Trend {
                name: r.name.clone(),
                name_en: r
                    .code
                    .clone()
                    .unwrap_or_else(|| format!("Indicator {}", r.indicator + 1)),
                unit: r.unit.clone(),
                observations: r
                    .observations
                    .iter()
                    .filter(|p| p.year <= c.year)
                    .map(|p| (p.year, p.value))
                    .collect(),
                baseline: h.baseline.map(|b| (b.year, b.value)),
                target: Some((h.year, goal, target(h))),
                forecast: h
                    .forecast
                    .as_ref()
                    .map(|f| (f.year, f.value, f.lower, f.upper)),
            })
        })
        .collect()
}

/// The ranked cards of one peer group with the highest and the lowest rank, ties together.
fn extremes<'a>(cards: &[&'a ScoreCard]) -> Option<(Vec<&'a ScoreCard>, Vec<&'a ScoreCard>)> {
    let ranked: Vec<&ScoreCard> = cards.iter().copied().filter(|x| x.rank > 0).collect();
    let last = ranked.iter().map(|x| x.rank).max()?;
    if ranked.len() < 2 || last == 1 {
        return None;
    }
    let at = |k: usize| ranked.iter().copied().filter(|x| x.rank == k).collect();
    Some((at(1), at(last)))
}

/// The peer groups of a ranking in order of first appearance.
fn peer_groups(cards: &[ScoreCard]) -> Vec<(String, Vec<&ScoreCard>)> {
    let mut out: Vec<(String, Vec<&ScoreCard>)> = Vec::new();
    for x in cards.iter().filter(|x| x.rank > 0) {
        let g = x.peer_group.clone().unwrap_or_default();
        match out.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(x),
            None => out.push((g, vec![x])),
        }
    }
    out
}

/// `A得分率最高` or `A、B得分率并列最高`.
fn names_tied(names: Vec<String>, what: &str) -> String {
    if names.len() > 1 {
        format!("{}{what}并列", names.join("、"))
    } else {
        format!("{}{what}", names.concat())
    }
}

/// The assessment sentences of the summary: in the group of areas directly under the plan's
/// area (else the first group) and among departments, who ranks first and last, ties named.
fn assessment_sentences(c: &Ctx) -> Vec<String> {
    let a = c.input.assessment();
    let mut out = Vec::new();
    let groups = peer_groups(&a.areas);
    let group = groups
        .iter()
        .find(|(g, _)| Some(g.as_str()) == c.own)
        .or(groups.first());
    if let Some((g, cards)) = group {
        if let Some((hi, lo)) = extremes(cards) {
            let name = |x: &&ScoreCard| c.area(&x.name).to_string();
            out.push(format!(
                "考核结果显示，{}下辖{}个地区中，{}最高，为{}；{}最低，为{}。",
                c.area(g),
                cards.len(),
                names_tied(hi.iter().map(name).collect(), "得分率"),
                percent_cell(hi[0]),
                names_tied(lo.iter().map(name).collect(), "得分率"),
                percent_cell(lo[0])
            ));
        }
    }
    let depts: Vec<&ScoreCard> = a.departments.iter().filter(|x| x.rank > 0).collect();
    if let Some((hi, lo)) = extremes(&depts) {
        out.push(format!(
            "参加考核的{}个牵头单位中，{}最高（{}），{}最低（{}）。",
            depts.len(),
            names_tied(hi.iter().map(|x| x.name.clone()).collect(), "得分率"),
            percent_cell(hi[0]),
            names_tied(lo.iter().map(|x| x.name.clone()).collect(), "得分率"),
            percent_cell(lo[0])
        ));
    }
    out
}

/// A value with its unit and year as a sentence says it: `2025年为85.3%`.
fn value_in(v: f64, year: i32, r: &IndicatorResult, milestone: bool) -> String {
    if milestone {
        format!("{year}年{}", value(v, true))
    } else {
        format!("{year}年为{}", with_unit(v, unit_of(r)))
    }
}

/// `婴儿死亡率（2025年为2.02‰，目标≤2‰）`.
fn with_numbers(r: &IndicatorResult) -> String {
    let Some(h) = r.headline() else {
        return r.name.clone();
    };
    let target = match h.condition {
        Some(c) if !is_milestone(h) => c.describe(unit_of(r)),
        _ => target(h),
    };
    match h.latest {
        Some(p) => format!(
            "{}（{}，{}年目标{}）",
            r.name,
            value_in(p.value, p.year, r, is_milestone(h)),
            h.year,
            target
        ),
        None => format!("{}（{}年目标{}）", r.name, h.year, target),
    }
}

/// Results grouped by domain in the plan's order, for plans with more than one domain.
fn by_domain<'a>(
    c: &Ctx<'a>,
    rs: &[&'a IndicatorResult],
) -> Vec<(String, Vec<&'a IndicatorResult>)> {
    let mut out: Vec<(String, Vec<&IndicatorResult>)> = Vec::new();
    for r in rs {
        let d = domain_label(r.domain.as_deref().unwrap_or(NO_DOMAIN)).to_string();
        match out.iter_mut().find(|(k, _)| *k == d) {
            Some((_, v)) => v.push(r),
            None => out.push((d, vec![r])),
        }
    }
    if c.domains() < 2 {
        out = vec![(String::new(), rs.to_vec())];
    }
    out
}

/// `A（…）、B（…）`, or per domain `健康生活领域：A（…）；健康服务领域：B（…）`.
fn listed(c: &Ctx, rs: &[&IndicatorResult], each: impl Fn(&IndicatorResult) -> String) -> String {
    by_domain(c, rs)
        .into_iter()
        .map(|(d, v)| {
            let items: Vec<String> = v.iter().map(|r| each(r)).collect();
            if d.is_empty() {
                items.join("、")
            } else {
                format!("{d}{}项：{}", v.len(), items.join("、"))
            }
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn achieved_paragraphs(c: &Ctx) -> Vec<String> {
    let achieved: Vec<&IndicatorResult> = c
        .results
        .iter()
        .copied()
        .filter(|r| r.status == Status::Achieved)
        .collect();
    if achieved.is_empty() {
        return vec![format!("截至{}年，尚无指标达到规划目标值。", c.year)];
    }
    let mut out = vec![format!(
        "截至{}年，{}项指标达到规划目标值。{}。",
        c.year,
        achieved.len(),
        listed(c, &achieved, with_numbers)
    )];
    let early: Vec<&IndicatorResult> = achieved
        .iter()
        .copied()
        .filter(|r| r.headline().is_some_and(|h| h.year > c.year))
        .collect();
    if !early.is_empty() {
        let names: Vec<String> = early
            .iter()
            .map(|r| {
                format!(
                    "{}（{}年目标）",
                    r.name,
                    r.headline().map_or(c.year, |h| h.year)
                )
            })
            .collect();
        out.push(format!(
            "其中{}项指标提前实现规划目标：{}。",
            early.len(),
            names.join("、")
        ));
    }
    out
}

/// The change from the baseline in the indicator's unit: `提高12.3个百分点`, `下降15.2%`.
fn change_text(r: &IndicatorResult, b: f64, y: f64) -> String {
    let verb = if y >= b { "提高" } else { "下降" };
    let d = (y - b).abs();
    match unit_of(r) {
        Some("%") => format!("{verb}{}个百分点", num(d)),
        _ if b != 0.0 => format!("{verb}{}", pct(d / b.abs())),
        _ => format!("{verb}{}", with_unit(d, unit_of(r))),
    }
}

/// How many of the fastest-moving indicators the progress section names.
const GAINS: usize = 5;

fn gains_paragraph(c: &Ctx) -> Option<String> {
    let mut gains: Vec<(&IndicatorResult, f64, f64, i32, f64, i32)> = c
        .results
        .iter()
        .filter_map(|r| {
            let h = r.headline().filter(|h| !is_milestone(h))?;
            let (b, y, p) = (h.baseline?, h.latest?, h.p?);
            (p > 0.0 && y.year > b.year).then_some((*r, p, b.value, b.year, y.value, y.year))
        })
        .collect();
    if gains.is_empty() {
        return None;
    }
    gains.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.indicator.cmp(&b.0.indicator)));
    let items: Vec<String> = gains
        .iter()
        .take(GAINS)
        .map(|(r, p, b, by, y, yy)| {
            let unit = unit_of(r);
            let reached = if r.status == Status::Achieved {
                "已达到目标".to_string()
            } else {
                format!("完成目标进程的{}", pct(*p))
            };
            format!(
                "{}由{by}年的{}{}到{yy}年的{}，{}，{reached}",
                r.name,
                with_unit(*b, unit),
                if y >= b { "提高" } else { "降低" },
                with_unit(*y, unit),
                change_text(r, *b, *y)
            )
        })
        .collect();
    Some(format!(
        "从基线以来的变化看，进展较快的指标有：{}。",
        items.join("；")
    ))
}

fn tasks_paragraphs(b: &mut Builder, c: &Ctx) {
    if c.tasks.is_empty() {
        if !c.plan.tasks.is_empty() {
            b.para(format!(
                "规划部署重点任务{}项，本次未提供{}的任务进展数据，未评价任务完成情况。",
                c.plan.tasks.len(),
                c.own_name()
            ));
        }
        return;
    }
    let [total, done, going, delayed, not_started, no_report] = task_totals(&c.tasks);
    let mut leads: Vec<&&TaskCompletion> = c.tasks.iter().filter(|t| t.completed > 0).collect();
    leads.sort_by(|a, b| {
        b.completion_rate
            .total_cmp(&a.completion_rate)
            .then(a.lead.cmp(&b.lead))
    });
    let best: Vec<String> = leads
        .iter()
        .filter(|t| t.lead != NO_LEAD)
        .take(3)
        .map(|t| {
            format!(
                "{}（完成{}项，完成率{}）",
                t.lead,
                t.completed,
                pct(t.completion_rate)
            )
        })
        .collect();
    let mut s = format!(
        "{}个牵头单位牵头的{total}项重点任务中，已完成{done}项，按期推进{going}项，滞后{delayed}项，未开始{not_started}项，未报送进展{no_report}项，完成率{}（见表{}）。",
        c.tasks.len(),
        pct(rate(done, total)),
        b.next_table()
    );
    if !best.is_empty() {
        s += &format!("完成较好的有{}。", best.join("、"));
    }
    b.para(s);
    let mut rows: Vec<Vec<String>> = c
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.lead.clone(),
                t.total.to_string(),
                t.completed.to_string(),
                t.in_progress.to_string(),
                t.delayed.to_string(),
                t.not_started.to_string(),
                t.no_report.to_string(),
                pct(t.completion_rate),
            ]
        })
        .collect();
    rows.push(vec![
        "合计".into(),
        total.to_string(),
        done.to_string(),
        going.to_string(),
        delayed.to_string(),
        not_started.to_string(),
        no_report.to_string(),
        pct(rate(done, total)),
    ]);
    b.table(
        &format!("{}年重点任务完成情况（按牵头单位）", c.year),
        &[
            ("牵头单位", 27, L),
            ("任务数", 10, C),
            ("已完成", 10, C),
            ("按期推进", 11, C),
            ("滞后", 9, C),
            ("未开始", 10, C),
            ("未报送", 10, C),
            ("完成率", 13, C),
        ],
        rows,
        None,
    );
}

fn rate(done: usize, total: usize) -> f64 {
    if total > 0 {
        done as f64 / total as f64
    } else {
        0.0
    }
}

/// The areas sorted by their share achieved or on track, best first.
fn areas_by_share<'a>(c: &Ctx<'a>) -> Vec<&'a AreaRollup> {
    let mut areas: Vec<&AreaRollup> = c.input.evaluation().rollups.areas.iter().collect();
    let share = |a: &AreaRollup| a.total.share_achieved_or_on_track.unwrap_or(-1.0);
    areas.sort_by(|x, y| share(y).total_cmp(&share(x)).then(x.area.cmp(&y.area)));
    areas
}

fn areas_paragraph(b: &mut Builder, c: &Ctx) {
    let areas = areas_by_share(c);
    let rated: Vec<&&AreaRollup> = areas
        .iter()
        .filter(|a| a.total.share_achieved_or_on_track.is_some())
        .collect();
    let share = |a: &AreaRollup| a.total.share_achieved_or_on_track.unwrap_or(0.0);
    if let (Some(best), Some(worst), true) = (rated.first(), rated.last(), rated.len() > 1) {
        b.para(format!(
            "分地区看，{}个地区中，{}达标或进度正常的指标占比最高（{}），{}最低（{}），各地区指标状态构成见图{}。",
            areas.len(),
            c.area(&best.area),
            pct(share(best)),
            c.area(&worst.area),
            pct(share(worst)),
            b.next_figure()
        ));
    } else {
        b.para(format!("各地区指标状态构成见图{}。", b.next_figure()));
    }
    let bars: Vec<AreaBar> = areas
        .iter()
        .enumerate()
        .map(|(k, a)| AreaBar {
            name: c.area(&a.area).to_string(),
            name_en: format!("Area {}", k + 1),
            counts: counts(&a.total),
        })
        .collect();
    b.chart(
        "各地区指标状态构成",
        charts::area_comparison(&bars, crate::fonts::script()),
    );
}

fn progress_section(b: &mut Builder, c: &Ctx) {
    b.heading(Level::One, "主要进展和成效");
    let mut sub = 0;
    if !c.results.is_empty() {
        b.heading(Level::Two, "指标目标实现情况");
        for p in achieved_paragraphs(c) {
            b.para(p);
        }
        if let Some(p) = gains_paragraph(c) {
            b.para(p);
        }
        sub += 1;
    }
    if !c.plan.tasks.is_empty() {
        b.heading(Level::Two, "重点任务推进情况");
        tasks_paragraphs(b, c);
        sub += 1;
    }
    if c.multi_area() {
        b.heading(Level::Two, "各地区进展情况");
        areas_paragraph(b, c);
        sub += 1;
    }
    if sub == 0 {
        b.para("本规划未设置可监测的指标和重点任务。");
    }
}

/// What one lead department is asked to do, gathered from the problems found.
#[derive(Default)]
struct Asks<'a> {
    missed: Vec<&'a IndicatorResult>,
    lagging: Vec<&'a IndicatorResult>,
    worsening: Vec<&'a IndicatorResult>,
    no_data: Vec<&'a IndicatorResult>,
    /// Tasks delayed, not started or without a report.
    tasks: usize,
}

impl Asks<'_> {
    fn count(&self) -> usize {
        self.missed.len()
            + self.lagging.len()
            + self.worsening.len()
            + self.no_data.len()
            + self.tasks
    }
}

fn names(rs: &[&IndicatorResult]) -> String {
    rs.iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

/// `A、B（牵头单位：Z）；C（牵头单位：Y）`: indicators grouped by their lead.
fn by_lead(c: &Ctx, rs: &[&IndicatorResult], each: impl Fn(&IndicatorResult) -> String) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for r in rs {
        let lead = lead_text(lead_of(c.plan, r.indicator));
        match groups.iter_mut().find(|(l, _)| *l == lead) {
            Some((_, v)) => v.push(each(r)),
            None => groups.push((lead, vec![each(r)])),
        }
    }
    groups
        .into_iter()
        .map(|(l, v)| format!("{}（牵头单位：{l}）", v.join("、")))
        .collect::<Vec<_>>()
        .join("；")
}

/// The worsening note of an indicator (its headline target's), when it is worsening.
fn worsening_of(r: &IndicatorResult) -> Option<&str> {
    r.worsening
        .then(|| r.headline().and_then(|h| h.worsening_zh.as_deref()))
        .flatten()
        .map(|w| w.trim_start_matches("恶化："))
}

fn problems_section<'a>(b: &mut Builder, c: &Ctx<'a>) -> BTreeMap<String, Asks<'a>> {
    b.heading(Level::One, "存在的问题");
    let mut asks: BTreeMap<String, Asks> = BTreeMap::new();
    let lead = |r: &IndicatorResult| lead_text(lead_of(c.plan, r.indicator));
    let missed: Vec<&IndicatorResult> = c
        .results
        .iter()
        .copied()
        .filter(|r| r.status == Status::Missed)
        .collect();
    let lagging = c.lagging();
    let worsening: Vec<&IndicatorResult> = c
        .results
        .iter()
        .copied()
        .filter(|r| worsening_of(r).is_some())
        .collect();
    let no_data: Vec<&IndicatorResult> = c
        .results
        .iter()
        .copied()
        .filter(|r| r.status == Status::NoData)
        .collect();
    let mut lows: Vec<&&TaskCompletion> = c
        .tasks
        .iter()
        .filter(|t| t.delayed + t.not_started + t.no_report > 0 && t.lead != NO_LEAD)
        .collect();
    let behind = |t: &TaskCompletion| t.delayed + t.not_started + t.no_report;
    lows.sort_by(|a, b| behind(b).cmp(&behind(a)).then(a.lead.cmp(&b.lead)));
    if missed.is_empty()
        && lagging.is_empty()
        && worsening.is_empty()
        && no_data.is_empty()
        && lows.is_empty()
    {
        b.para(format!(
            "截至{}年，未发现未完成目标、进度滞后、出现恶化或缺少监测数据的指标，重点任务均按期推进。",
            c.year
        ));
        return asks;
    }
    if !missed.is_empty() {
        b.heading(Level::Two, "部分指标未完成目标");
        b.para(format!(
            "{}项指标的目标年份已到，但未达到目标值：{}。",
            missed.len(),
            by_lead(c, &missed, with_numbers)
        ));
        for r in &missed {
            asks.entry(lead(r)).or_default().missed.push(r);
        }
    }
    if !lagging.is_empty() {
        b.heading(Level::Two, "部分指标进度滞后");
        let n = |s: Status| lagging.iter().filter(|r| r.status == s).count();
        b.para(format!(
            "按序时进度，{}项指标未达到应有进度，其中进度滞后{}项、严重滞后{}项、逆向变化{}项（见表{}）：{}。",
            lagging.len(),
            n(Status::Moderate),
            n(Status::Insufficient),
            n(Status::MovingAway),
            b.next_table(),
            by_lead(c, &lagging, |r| format!("{}（{}）", r.name, r.status_zh))
        ));
        lagging_table(b, c, &lagging);
        for r in &lagging {
            asks.entry(lead(r)).or_default().lagging.push(r);
        }
    }
    if !worsening.is_empty() {
        b.heading(Level::Two, "部分指标出现恶化");
        b.para(format!(
            "{}项指标的最新值比基线或上一年明显变差，需警惕：{}。",
            worsening.len(),
            by_lead(c, &worsening, |r| format!(
                "{}（{}）",
                r.name,
                worsening_of(r).unwrap_or("")
            ))
        ));
        for r in &worsening {
            asks.entry(lead(r)).or_default().worsening.push(r);
        }
    }
    if !no_data.is_empty() {
        b.heading(Level::Two, "部分指标缺少监测数据");
        b.para(format!(
            "截至{}年，{}项指标没有监测数据，无法评估进展：{}。",
            c.year,
            no_data.len(),
            by_lead(c, &no_data, |r| r.name.clone())
        ));
        for r in &no_data {
            asks.entry(lead(r)).or_default().no_data.push(r);
        }
    }
    if !lows.is_empty() {
        b.heading(Level::Two, "部分重点任务推进滞后");
        let named: Vec<String> = lows
            .iter()
            .map(|t| {
                let mut parts = Vec::new();
                for (n, label) in [
                    (t.delayed, "滞后"),
                    (t.not_started, "未开始"),
                    (t.no_report, "未报送进展"),
                ] {
                    if n > 0 {
                        parts.push(format!("{label}{n}项"));
                    }
                }
                format!("{}（{}）", t.lead, parts.join("，"))
            })
            .collect();
        b.para(format!(
            "重点任务推进不平衡，{}个牵头单位有任务滞后、未开始或未报送进展：{}。",
            lows.len(),
            named.join("、")
        ));
        for t in &lows {
            asks.entry(t.lead.clone()).or_default().tasks += behind(t);
        }
    }
    asks
}

fn lagging_table(b: &mut Builder, c: &Ctx, lagging: &[&IndicatorResult]) {
    let rows = lagging
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let h = r.headline();
            vec![
                (k + 1).to_string(),
                name_with_unit(r),
                r.status_zh.to_string(),
                latest_cell(h),
                target_cell(h),
                lead_text(lead_of(c.plan, r.indicator)),
                forecast_text(r, c.year),
            ]
        })
        .collect();
    b.table(
        &format!("{}年进度滞后和逆向变化指标", c.year),
        &[
            ("序号", 6, C),
            ("指标", 22, L),
            ("状态", 11, C),
            ("最新值", 13, C),
            ("目标值", 13, C),
            ("牵头单位", 11, C),
            ("趋势预测", 24, L),
        ],
        rows,
        Some(format!(
            "注：牵头单位取指标标注的牵头单位，未标注的取对应任务的牵头单位；趋势预测为历年数据线性回归外推至目标年的数值，括号内为{}预测区间，仅供参考。",
            confidence(c.input.settings())
        )),
    );
}

/// 四、下一步工作建议: one numbered item per lead department with something to do, most
/// first, each asking for what the data showed.
fn suggestions_section(b: &mut Builder, c: &Ctx, asks: BTreeMap<String, Asks>) {
    b.heading(Level::One, "下一步工作建议");
    let mut asks: Vec<(String, Asks)> = asks.into_iter().collect();
    asks.sort_by(|(a, x), (b, y)| y.count().cmp(&x.count()).then(a.cmp(b)));
    let mut k = 0;
    for (lead, a) in &asks {
        let mut parts = Vec::new();
        if !a.missed.is_empty() {
            parts.push(format!(
                "对未完成目标的{}，深入分析原因，制定整改措施，在下一阶段接续推进",
                names(&a.missed)
            ));
        }
        if !a.lagging.is_empty() {
            let away: Vec<&IndicatorResult> = a
                .lagging
                .iter()
                .copied()
                .filter(|r| r.status == Status::MovingAway)
                .collect();
            let year = a
                .lagging
                .iter()
                .filter_map(|r| r.headline().map(|h| h.year))
                .max()
                .unwrap_or(c.year);
            let mut s = format!(
                "加快推进进度滞后的{}{}，确保{year}年目标如期实现",
                names(&a.lagging),
                if a.lagging.len() > 1 {
                    format!("{}项指标", a.lagging.len())
                } else {
                    String::new()
                }
            );
            if !away.is_empty() {
                s += &format!("，其中{}出现逆向变化，要查明原因、扭转趋势", names(&away));
            }
            parts.push(s);
        }
        if !a.worsening.is_empty() {
            parts.push(format!(
                "密切关注{}的变差趋势，及时采取干预措施",
                names(&a.worsening)
            ));
        }
        if !a.no_data.is_empty() {
            parts.push(format!(
                "建立{}的数据采集和报送机制，尽快补齐监测数据",
                names(&a.no_data)
            ));
        }
        if a.tasks > 0 {
            parts.push(format!(
                "加快推进{}项滞后、未开始或未报送进展的重点任务，按时报送进展",
                a.tasks
            ));
        }
        k += 1;
        let who = if lead == "未明确" {
            match &c.input.issuer {
                Some(i) => format!("{i}（明确牵头单位）"),
                None => "明确牵头单位".to_string(),
            }
        } else {
            lead.clone()
        };
        b.para(format!("{k}.{who}：{}。", parts.join("；")));
    }
    if k == 0 {
        b.para(format!(
            "1.各牵头单位：巩固已取得的成效，保持工作力度，按时报送{}年监测数据和任务进展。",
            c.year + 1
        ));
    }
}

/// 附件1: every indicator's values by domain, the key trends and the areas compared.
fn indicators_attachment(b: &mut Builder, c: &Ctx) {
    b.attachment(&format!("{}年主要指标监测情况", c.year));
    let Some(own) = c.own_rollup.filter(|_| !c.results.is_empty()) else {
        b.para("本规划未设置可监测的指标。");
        return;
    };
    let by_domain = own.domains.len() > 1;
    for d in &own.domains {
        let rows: Vec<Vec<String>> = c
            .results
            .iter()
            .filter(|r| r.domain.as_deref().unwrap_or(NO_DOMAIN) == d.scope)
            .enumerate()
            .map(|(k, r)| indicator_row(c, k, r))
            .collect();
        let title = if by_domain {
            let name = domain_label(&d.scope);
            b.heading(Level::One, name);
            b.para(format!(
                "该领域纳入监测指标{}项，{}，各项指标进展见表{}。",
                d.total,
                count_phrase(d),
                b.next_table()
            ));
            format!("{}年{name}指标进展情况", c.year)
        } else {
            b.para(format!(
                "各项指标{}年进展情况见表{}。",
                c.year,
                b.next_table()
            ));
            format!("{}年主要指标进展情况", c.year)
        };
        b.table(&title, &INDICATOR_COLS, rows, Some(indicator_note(c)));
    }
    let panels = key_trends(c);
    if !panels.is_empty() {
        if by_domain {
            b.heading(Level::One, "重点指标趋势");
        }
        b.para(format!(
            "重点指标的历年监测值、序时进度线、目标值和趋势预测见图{}（共{}项，约束性指标和进度滞后的指标优先）。",
            b.next_figure(),
            panels.len()
        ));
        b.chart(
            "重点指标趋势与目标",
            charts::trends(&panels, crate::fonts::script()),
        );
    }
    if c.multi_area() {
        if by_domain {
            b.heading(Level::One, "各地区指标进展");
        }
        areas_table(b, c);
    }
}

fn areas_table(b: &mut Builder, c: &Ctx) {
    let areas = areas_by_share(c);
    b.para(format!("各地区指标进展情况见表{}。", b.next_table()));
    let rows = areas
        .iter()
        .map(|a| {
            let t = &a.total;
            let n = |s: Status| t.counts.get(s.key()).copied().unwrap_or(0);
            vec![
                c.area(&a.area).to_string(),
                n(Status::Achieved).to_string(),
                n(Status::OnTrack).to_string(),
                n(Status::Moderate).to_string(),
                n(Status::Insufficient).to_string(),
                (n(Status::MovingAway) + n(Status::Missed)).to_string(),
                (n(Status::NoData) + n(Status::NotAssessable)).to_string(),
                t.share_achieved_or_on_track
                    .map(pct)
                    .unwrap_or_else(|| "—".into()),
                t.progress_index.map(num).unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    b.table(
        &format!("{}年各地区指标进展情况", c.year),
        &[
            ("地区", 14, L),
            ("已达标", 9, C),
            ("进度正常", 11, C),
            ("进度滞后", 11, C),
            ("严重滞后", 11, C),
            ("逆向变化或未完成", 11, C),
            ("其他", 8, C),
            ("达标或进度正常占比", 14, C),
            ("进展指数", 11, C),
        ],
        rows,
        Some("注：各地区只评估适用于本级的指标；其他为无数据或无法评估的指标；达标或进度正常占比＝（已达标＋进度正常）÷可评估指标数；进展指数为各指标完成进程（截至100%）的平均值。".into()),
    );
}

fn ranking_table(
    b: &mut Builder,
    c: &Ctx,
    title: &str,
    who: &str,
    cards: &[&ScoreCard],
    area: bool,
) {
    let rows = cards
        .iter()
        .map(|x| {
            vec![
                rank_cell(x),
                if area {
                    c.area(&x.name).to_string()
                } else {
                    x.name.clone()
                },
                num(x.total),
                num(x.max),
                percent_cell(x),
                part_cell(&x.indicator_part),
                part_cell(&x.task_part),
            ]
        })
        .collect();
    let mut notes: Vec<String> = cards
        .iter()
        .flat_map(|x| [&x.indicator_part.note_zh, &x.task_part.note_zh])
        .flatten()
        .cloned()
        .collect();
    notes.sort();
    notes.dedup();
    b.table(
        title,
        &[
            ("名次", 8, C),
            (who, 30, L),
            ("得分", 12, C),
            ("满分", 10, C),
            ("得分率", 12, C),
            ("指标部分", 14, C),
            ("任务部分", 14, C),
        ],
        rows,
        (!notes.is_empty()).then(|| format!("注：{}。", notes.join("；"))),
    );
}

/// `3`, `并列3`, or `—` for a card that is not ranked.
fn rank_cell(x: &ScoreCard) -> String {
    match (x.rank, x.tied) {
        (0, _) => "—".into(),
        (k, true) => format!("并列{k}"),
        (k, false) => k.to_string(),
    }
}

/// The methods attachment comes last: after the indicators and, when there is one, the
/// assessment.
fn methods_number(c: &Ctx) -> usize {
    if has_assessment(c) {
        3
    } else {
        2
    }
}

fn has_assessment(c: &Ctx) -> bool {
    let a = c.input.assessment();
    !a.areas.is_empty() || !a.departments.is_empty()
}

/// 附件: the rankings; `methods` is the number of the methods attachment.
fn assessment_attachment(b: &mut Builder, c: &Ctx, methods: usize) {
    let a = c.input.assessment();
    b.attachment(&format!("{}年考核结果", c.year));
    let s = &a.scheme;
    b.para(format!(
        "按照考核计分方案，约束性指标部分{}分、重点任务部分{}分，按各项指标的评估状态和任务完成情况折算得分，按得分率排名。计分方法见附件{methods}，计分过程见考核明细表（XLSX导出）。",
        num(s.indicator_points),
        num(s.task_points)
    ));
    let both = !a.areas.is_empty() && !a.departments.is_empty();
    if !a.areas.is_empty() {
        if both {
            b.heading(Level::One, "各地区考核排名");
        }
        let unranked: Vec<String> = a
            .areas
            .iter()
            .filter(|x| x.rank == 0)
            .map(|x| format!("{}（得分率{}）", c.area(&x.name), percent_cell(x)))
            .collect();
        if !unranked.is_empty() {
            b.para(format!(
                "地区只与同一上级地区下的同级地区比较排名；{}不参与排名。",
                unranked.join("、")
            ));
        }
        for (g, cards) in peer_groups(&a.areas) {
            let parent = c.area(&g).to_string();
            b.para(format!(
                "{parent}下辖{}个地区的考核得分见表{}。",
                cards.len(),
                b.next_table()
            ));
            ranking_table(
                b,
                c,
                &format!("{}年{parent}下辖地区考核得分", c.year),
                "地区",
                &cards,
                true,
            );
        }
    }
    if !a.departments.is_empty() {
        if both {
            b.heading(Level::One, "各牵头单位考核排名");
        }
        b.para(format!("各牵头单位考核得分见表{}。", b.next_table()));
        let cards: Vec<&ScoreCard> = a.departments.iter().collect();
        ranking_table(
            b,
            c,
            &format!("{}年各牵头单位考核得分", c.year),
            "牵头单位",
            &cards,
            false,
        );
    }
}

fn methods_attachment(b: &mut Builder, c: &Ctx) {
    let s = c.input.settings();
    let st = &s.status;
    b.attachment(METHODS);
    b.heading(Level::One, "指标状态判定（序时进度法）");
    b.para("对每项指标的每个目标年份，记基线值为b（基线年t0）、目标值为V（目标年T）、最新监测值为y（年份t）。完成目标进程p＝（y－b）÷（V－b），时间进度s＝（t－t0）÷（T－t0），进度比r＝p÷s。");
    b.para(format!(
        "判定规则：最新值达到目标的为已达标；r≥{}的为进度正常；{}≤r＜{}的为进度滞后；{}≤r＜{}的为严重滞后；r＜{}，或基线已达到目标而最新值未达到的，为逆向变化；{}年及以前没有监测值的为无数据；定性目标、无法换算的相对目标和目标值等于基线值的为无法评估。目标年份已到的，判定为最终结果：取目标年份的监测值（没有的取此前最新值），达到目标的为已达标，否则为未完成，中期目标同样判定。精确目标（＝V）与目标值相差不超过目标值的{}视为达到；区间目标落在区间内或优于有利一端的视为达到。最新值比基线或上一年变差超过基线的{}的，在状态旁标注恶化。指标的总体状态取其最后一个目标年份的判定结果。",
        num(st.on_track),
        num(st.moderate),
        num(st.on_track),
        num(st.insufficient),
        num(st.moderate),
        num(st.insufficient),
        c.year,
        pct(st.exact_tolerance),
        pct(st.worsening_share)
    ));
    b.para("数量、总量和金额类指标（单位为个、家、所、人、万元、亿元等，或目标写明全区、全市的）只对规划所属地区评估；比率、构成、人均类指标（%、‰、1/10万、岁、每千人等）对规划所属地区和各下辖地区评估。规划编制单位可逐项调整。");
    b.para("基线取规划确定的基线值和基线年；地区在基线年有本地区监测值的，以本地区值为基线；规划未给出基线的，以最早监测值代替并在说明中注明。相对目标（如“比2015年降低20%”“比全国平均水平高5个百分点”）先按基线或参照数据换算为目标值。");
    b.heading(Level::One, "对照方法");
    b.para("在序时进度法之外，同时按以下国际通行方法计算，结果列入评估明细表，供对照参考：");
    let m = &s.methods;
    let cuts = |c: &[f64; 3]| format!("{}／{}／{}", num(c[0]), num(c[1]), num(c[2]));
    b.table(
        "对照方法及分档阈值",
        &[("方法", 22, L), ("计算依据", 50, L), ("分档阈值", 28, C)],
        vec![
            vec![
                "欧盟统计局（Eurostat）".into(),
                "实际年均复合增长率与所需年均复合增长率之比".into(),
                cuts(&m.eurostat),
            ],
            vec![
                "联合国统计司（UNSD 2022）".into(),
                "同上".into(),
                cuts(&m.unsd2022),
            ],
            vec![
                "联合国统计司（UNSD 2023）".into(),
                "按现有增速推算目标年数值，计算其完成目标进程".into(),
                format!("{}／{}", num(m.unsd2023[0]), num(m.unsd2023[1])),
            ],
            vec![
                "可持续发展解决方案网络（SDSN）".into(),
                "实际年均变化量与所需年均变化量之比".into(),
                cuts(&m.sdsn),
            ],
            vec![
                "联合国亚太经社会（UNESCAP）".into(),
                "现状指数＝完成目标进程（0–100）；以时间加权回归预测判断保持、加速或扭转".into(),
                "—".into(),
            ],
        ],
        Some("注：阈值依次为各档下限；增长率因零值或正负变化无法计算时改用线性方法并注明。".into()),
    );
    b.heading(Level::One, "趋势预测");
    b.para(format!(
        "以基线和历年监测值（含基线共3个及以上数据点）做普通最小二乘线性回归，外推至目标年，给出{}预测区间（t分布）和达标概率（正态近似）；只有2个数据点的按直线外推，不给区间。百分比指标的预测值限定在0–100之间。",
        confidence(s)
    ));
    b.heading(Level::One, "汇总指标");
    b.para("达标或进度正常占比＝（已达标＋进度正常指标数）÷可评估指标数（不含无数据和无法评估的指标）。进展指数＝各指标完成进程（限定在0–100%，已达标计100%）的平均值。");
    b.heading(Level::One, "考核计分");
    let a = &s.assessment;
    let im = &a.indicator_multipliers;
    let tm = &a.task_multipliers;
    b.para(format!(
        "每个地区（或牵头单位）满分{}分，其中约束性指标部分{}分，由各约束性指标按权重分配（未设权重的权重相同），得分＝分值×系数：已达标{}、进度正常{}、进度滞后{}、严重滞后{}、逆向变化{}、无数据{}；无法评估的指标不计分，其分值由其余约束性指标分摊。重点任务部分{}分，由各项任务平均分配，系数为：已完成{}、按期推进{}、滞后{}、未开始或未报送{}。某一部分无可计分内容的，该部分不计分，按得分率排名。",
        num(a.indicator_points + a.task_points),
        num(a.indicator_points),
        num(im.achieved),
        num(im.on_track),
        num(im.moderate),
        num(im.insufficient),
        num(im.moving_away),
        num(im.no_data),
        num(a.task_points),
        num(tm.completed),
        num(tm.in_progress),
        num(tm.delayed),
        num(tm.not_started),
    ));
    if !a.weights.is_empty() {
        let w: Vec<String> = a
            .weights
            .iter()
            .map(|(k, v)| format!("{k}权重{}", num(*v)))
            .collect();
        b.para(format!("设定权重的指标：{}。", w.join("；")));
    }
    b.heading(Level::One, "数据说明");
    let ev = c.input.evaluation();
    let obs: Vec<i32> = ev
        .results
        .iter()
        .flat_map(|r| r.observations.iter().map(|p| p.year))
        .collect();
    let used = obs.iter().filter(|y| **y <= c.year).count();
    let mut s = match (obs.iter().min(), obs.iter().max()) {
        (Some(lo), Some(hi)) => format!(
            "本报告使用{}个地区{}年至{}年的监测值{}条，其中{}年及以前的{}条参与评估。",
            ev.areas.len(),
            lo,
            hi,
            obs.len(),
            c.year,
            used
        ),
        _ => "本次评估没有监测值。".into(),
    };
    let approved = c
        .input
        .values
        .values()
        .filter(|m| m.status == Some(healthplan_core::ValueStatus::Approved))
        .count();
    if !c.input.values.is_empty() {
        s += &format!(
            "有审核记录的{}条中，已审核通过{approved}条。",
            c.input.values.len()
        );
    }
    if c.input.synthetic {
        s += &format!("本报告所用数据为{SYNTHETIC}，由系统按规划基线和目标生成，不反映实际情况。");
    }
    b.para(s);
}

const METHODS: &str = "评估方法与参数";

/// The whole report: the body in four parts, the list of attachments and the issuing
/// office, then the attachments.
pub fn build(input: &ReportInput) -> Doc {
    let c = Ctx::new(input);
    let mut b = Builder::new(input.synthetic);
    let title = input.title().to_string();
    let subtitle = format!("{}年度监测评估报告", c.year);
    let area = c.own_name();
    let mut attachments = vec![format!("{}年主要指标监测情况", c.year)];
    if has_assessment(&c) {
        attachments.push(format!("{}年考核结果", c.year));
    }
    attachments.push(METHODS.to_string());
    b.para(format!(
        "为掌握{}实施进展，根据规划监测评估工作安排，对{}{}年度主要指标和重点任务进展情况开展了监测评估。现将有关情况报告如下。{}",
        if title.starts_with('《') || title.starts_with('“') {
            title.clone()
        } else {
            format!("《{title}》")
        },
        area,
        c.year,
        if input.synthetic {
            format!("本报告使用{SYNTHETIC}，仅供演示。")
        } else {
            String::new()
        }
    ));
    b.heading(Level::One, "总体情况");
    for p in summary_of(&c) {
        b.para(p);
    }
    if let Some(own) = c.own_rollup.filter(|o| o.total.total > 0) {
        b.para(format!(
            "各状态指标数见图{}，各项指标的基线值、最新值、目标值和状态见附件1。",
            b.next_figure()
        ));
        b.chart(
            &format!("{}年指标状态分布", c.year),
            charts::status_distribution(&counts(&own.total), crate::fonts::script()),
        );
    }
    progress_section(&mut b, &c);
    let asks = problems_section(&mut b, &c);
    suggestions_section(&mut b, &c, asks);
    b.blocks.push(Block::Enclosures(attachments.clone()));
    b.blocks.push(Block::Signature {
        issuer: input.issuer.clone(),
        date: input.date.clone(),
    });
    indicators_attachment(&mut b, &c);
    if has_assessment(&c) {
        assessment_attachment(&mut b, &c, methods_number(&c));
    }
    methods_attachment(&mut b, &c);
    Doc {
        cover: Cover {
            title: title.clone(),
            subtitle: subtitle.clone(),
            issuer: input.issuer.clone(),
            date: input.date.clone(),
        },
        title: vec![title, subtitle],
        synthetic: input.synthetic,
        blocks: b.blocks,
    }
}
