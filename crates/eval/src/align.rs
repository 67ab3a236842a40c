//! Alignment of a child plan's targets with its parent's (spec §7), and with the parent-level
//! reference columns some tables carry (饶平's `city_2030`, `province_2030`).

use crate::data::normalise_name;
use crate::evaluate::indicator_targets;
use crate::fmt::num;
use crate::settings::Settings;
use healthplan_core::{Cmp, Direction, Indicator, PlanDocument, RelativeTo, Target, TargetKind};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    Stricter,
    Equal,
    Weaker,
    NotComparable,
}

impl Alignment {
    pub fn key(self) -> &'static str {
        match self {
            Alignment::Stricter => "stricter",
            Alignment::Equal => "equal",
            Alignment::Weaker => "weaker",
            Alignment::NotComparable => "not_comparable",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Alignment::Stricter => "更严格",
            Alignment::Equal => "一致",
            Alignment::Weaker => "较宽松",
            Alignment::NotComparable => "不可比",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignmentLine {
    pub indicator: String,
    pub parent_indicator: String,
    /// `parent`, or the reference level (`city`, `province`) of the child's own table.
    pub against: String,
    pub year: i32,
    pub parent_year: Option<i32>,
    pub child_target: String,
    pub parent_target: Option<String>,
    pub child_resolved: Option<String>,
    pub parent_resolved: Option<String>,
    pub result: Alignment,
    pub result_zh: &'static str,
    pub reason_zh: String,
    pub reason_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignmentReport {
    pub child: String,
    pub parent: Option<String>,
    pub counts: BTreeMap<&'static str, usize>,
    pub lines: Vec<AlignmentLine>,
    /// Child indicators with no counterpart in the parent (by name or synonym).
    pub unmatched: Vec<String>,
}

type Bound = Option<(f64, bool)>;

/// The set of values meeting a target: an interval with open/closed ends.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Set {
    lo: Bound,
    hi: Bound,
}

#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Set(Set),
    Milestone,
    /// Reference-relative: compared by delta when both name the same series.
    Delta(String, Set),
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn cmp_set(cmp: Cmp, v: f64) -> Set {
    match cmp {
        Cmp::Ge => Set {
            lo: Some((v, true)),
            hi: None,
        },
        Cmp::Gt => Set {
            lo: Some((v, false)),
            hi: None,
        },
        Cmp::Le => Set {
            lo: None,
            hi: Some((v, true)),
        },
        Cmp::Lt => Set {
            lo: None,
            hi: Some((v, false)),
        },
        Cmp::Eq => Set {
            lo: Some((v, true)),
            hi: Some((v, true)),
        },
    }
}

/// A's lower bound excludes at least what B's does.
fn lo_within(a: Bound, b: Bound) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((av, ac)), Some((bv, bc))) => {
            (av > bv && !close(av, bv)) || (close(av, bv) && (bc || !ac))
        }
    }
}

fn hi_within(a: Bound, b: Bound) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((av, ac)), Some((bv, bc))) => {
            (av < bv && !close(av, bv)) || (close(av, bv) && (bc || !ac))
        }
    }
}

fn subset(a: &Set, b: &Set) -> bool {
    lo_within(a.lo, b.lo) && hi_within(a.hi, b.hi)
}

fn clamp_to(s: Set, lo: f64, hi: f64) -> Set {
    let lo_b = match s.lo {
        Some((v, c)) if v > lo || close(v, lo) => Some((v, c)),
        _ => Some((lo, true)),
    };
    let hi_b = match s.hi {
        Some((v, c)) if v < hi || close(v, hi) => Some((v, c)),
        _ => Some((hi, true)),
    };
    Set { lo: lo_b, hi: hi_b }
}

fn describe(s: &Set) -> String {
    match (s.lo, s.hi) {
        (Some((a, _)), Some((b, _))) if close(a, b) => format!("={}", num(a)),
        (Some((a, ac)), Some((b, bc))) => format!(
            "{}{}, {}{}",
            if ac { "[" } else { "(" },
            num(a),
            num(b),
            if bc { "]" } else { ")" }
        ),
        (Some((a, true)), None) => format!("≥{}", num(a)),
        (Some((a, false)), None) => format!(">{}", num(a)),
        (None, Some((b, true))) => format!("≤{}", num(b)),
        (None, Some((b, false))) => format!("<{}", num(b)),
        (None, None) => "any".into(),
    }
}

fn describe_resolved(r: &Resolved) -> String {
    match r {
        Resolved::Set(s) => describe(s),
        Resolved::Milestone => "实现".into(),
        Resolved::Delta(series, s) => format!("{series} {}", describe(s)),
    }
}

fn unit_of(ind: &Indicator, t: &Target) -> Option<String> {
    let norm = |u: &str| {
        let u = u.trim().replace('％', "%");
        (!u.is_empty()).then_some(u)
    };
    match t.unit.as_deref() {
        Some(u) if u != healthplan_core::PERCENTAGE_POINTS => norm(u),
        _ => ind.unit.as_deref().and_then(norm),
    }
}

const ABSOLUTE_UNITS: &[&str] = &[
    "万人",
    "人",
    "人次",
    "万人次",
    "万亿元",
    "亿元",
    "万元",
    "元",
    "个",
    "家",
    "所",
    "张",
    "名",
    "辆",
    "床",
];
const RATE_WORDS: &[&str] = &["每", "率", "比例", "比重", "人均", "占", "千人", "万人口"];

fn is_absolute(ind: &Indicator, unit: Option<&str>) -> bool {
    unit.is_some_and(|u| ABSOLUTE_UNITS.contains(&u))
        && !RATE_WORDS.iter().any(|w| ind.name.contains(w))
}

fn resolve_static(
    ind: &Indicator,
    t: &Target,
    unit: Option<&str>,
) -> Result<Resolved, (String, String)> {
    let set = match t.kind {
        TargetKind::Threshold => cmp_set(t.cmp.unwrap_or(Cmp::Ge), t.value.unwrap_or_default()),
        TargetKind::Range => Set {
            lo: Some((t.value.unwrap_or_default(), true)),
            hi: Some((t.value_hi.unwrap_or_default(), true)),
        },
        TargetKind::Milestone => return Ok(Resolved::Milestone),
        TargetKind::Qualitative => {
            return Err((
                format!("定性目标“{}”不可比", t.text),
                format!("qualitative target \"{}\" is not comparable", t.text),
            ))
        }
        TargetKind::RelativeChange => {
            let b = ind.baseline.as_ref().and_then(|b| Some((b.year, b.value?)));
            let r = match (t.relative_to.as_ref().unwrap_or(&RelativeTo::Baseline), b) {
                (RelativeTo::Baseline, Some((_, v))) => v,
                (RelativeTo::Year(y), Some((Some(by), v))) if *y == by => v,
                _ => {
                    return Err((
                        format!("相对目标“{}”的参照值未知", t.text),
                        format!(
                            "relative target \"{}\": its reference value is unknown",
                            t.text
                        ),
                    ))
                }
            };
            let pct = t.value.unwrap_or_default();
            let v = if t.in_percentage_points() {
                r + pct
            } else {
                r * (1.0 + pct / 100.0)
            };
            let cmp = if pct < 0.0 {
                Cmp::Le
            } else if pct > 0.0 {
                Cmp::Ge
            } else if ind.direction == Direction::Lower {
                Cmp::Le
            } else {
                Cmp::Ge
            };
            cmp_set(cmp, v)
        }
        TargetKind::ReferenceRelative => {
            let series = match &t.relative_to {
                Some(RelativeTo::Series(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            let d = t.value.unwrap_or_default();
            let cmp = t.cmp.unwrap_or(if d < 0.0 { Cmp::Le } else { Cmp::Ge });
            return Ok(Resolved::Delta(series, cmp_set(cmp, d)));
        }
    };
    Ok(Resolved::Set(match unit {
        Some("%") => clamp_to(set, 0.0, 100.0),
        Some("‰") => clamp_to(set, 0.0, 1000.0),
        _ => set,
    }))
}

/// Compares one child target with one parent target.
#[allow(clippy::too_many_arguments)]
fn compare(
    against: &str,
    child_ind: &Indicator,
    ct: &Target,
    parent_ind: &Indicator,
    pt: Option<&Target>,
) -> AlignmentLine {
    let mut line = AlignmentLine {
        indicator: child_ind.name.clone(),
        parent_indicator: parent_ind.name.clone(),
        against: against.to_string(),
        year: ct.year,
        parent_year: pt.map(|t| t.year),
        child_target: ct.text.clone(),
        parent_target: pt.map(|t| t.text.clone()),
        child_resolved: None,
        parent_resolved: None,
        result: Alignment::NotComparable,
        result_zh: Alignment::NotComparable.zh(),
        reason_zh: String::new(),
        reason_en: String::new(),
    };
    let Some(pt) = pt else {
        line.reason_zh = format!("上级没有{}年及以后的目标", ct.year);
        line.reason_en = format!("the parent has no target for {} or later", ct.year);
        return line;
    };
    let cu = unit_of(child_ind, ct);
    let pu = unit_of(parent_ind, pt);
    let c = resolve_static(child_ind, ct, cu.as_deref());
    let p = resolve_static(parent_ind, pt, pu.as_deref());
    // Shown as written (unclamped); compared after clamping to the unit's bounds.
    line.child_resolved = resolve_static(child_ind, ct, None)
        .ok()
        .map(|r| describe_resolved(&r));
    line.parent_resolved = resolve_static(parent_ind, pt, None)
        .ok()
        .map(|r| describe_resolved(&r));
    let set_nc = |line: &mut AlignmentLine, zh: String, en: String| {
        line.reason_zh = zh;
        line.reason_en = en;
    };
    if let (Some(a), Some(b)) = (&cu, &pu) {
        if a != b {
            set_nc(
                &mut line,
                format!("单位不同（{a} 与 {b}）"),
                format!("different units ({a} vs {b})"),
            );
            return line;
        }
    }
    if is_absolute(child_ind, cu.as_deref()) || is_absolute(parent_ind, pu.as_deref()) {
        let u = cu.or(pu).unwrap_or_default();
        set_nc(
            &mut line,
            format!("绝对数或金额（{u}）在不同层级之间不可比"),
            format!("absolute counts or money ({u}) at different levels are not comparable"),
        );
        return line;
    }
    let (c, p) = match (c, p) {
        (Err((zh, en)), _) => {
            set_nc(&mut line, format!("下级：{zh}"), format!("child: {en}"));
            return line;
        }
        (_, Err((zh, en))) => {
            set_nc(&mut line, format!("上级：{zh}"), format!("parent: {en}"));
            return line;
        }
        (Ok(c), Ok(p)) => (c, p),
    };
    let (cs, ps) = match (&c, &p) {
        (Resolved::Milestone, Resolved::Milestone) => {
            line.result = Alignment::Equal;
            line.result_zh = Alignment::Equal.zh();
            line.reason_zh = "双方均为“实现”类目标".into();
            line.reason_en = "both are milestones (实现)".into();
            return line;
        }
        (Resolved::Set(a), Resolved::Set(b)) => (*a, *b),
        (Resolved::Delta(sa, a), Resolved::Delta(sb, b)) if sa == sb => (*a, *b),
        _ => {
            set_nc(
                &mut line,
                "目标类型不同（如数值与“实现”、或参照不同的相对目标）".into(),
                "different kinds of target (a number against a milestone, or relative targets with different references)".into(),
            );
            return line;
        }
    };
    let cd = line.child_resolved.clone().unwrap_or_else(|| describe(&cs));
    let pd = line
        .parent_resolved
        .clone()
        .unwrap_or_else(|| describe(&ps));
    let yr = if pt.year == ct.year {
        format!("{}年", ct.year)
    } else {
        format!("下级{}年对上级{}年", ct.year, pt.year)
    };
    let yr_en = if pt.year == ct.year {
        format!("{}", ct.year)
    } else {
        format!("child {} against parent {}", ct.year, pt.year)
    };
    let (res, zh, en) = match (subset(&cs, &ps), subset(&ps, &cs)) {
        (true, true) => (Alignment::Equal, format!("目标相同：{cd}（{yr}）"), format!("same target {cd} ({yr_en})")),
        (true, false) => (
            Alignment::Stricter,
            format!("下级目标{cd}严于上级目标{pd}（{yr}）"),
            format!("child target {cd} is stricter than the parent's {pd} ({yr_en})"),
        ),
        (false, true) => (
            Alignment::Weaker,
            format!("下级目标{cd}宽于上级目标{pd}（{yr}）"),
            format!("child target {cd} is weaker than the parent's {pd} ({yr_en})"),
        ),
        (false, false) => (
            Alignment::NotComparable,
            format!("下级目标{cd}与上级目标{pd}互不包含（方向不同）"),
            format!("child target {cd} and parent target {pd} do not contain one another (different directions)"),
        ),
    };
    line.result = res;
    line.result_zh = res.zh();
    line.reason_zh = zh;
    line.reason_en = en;
    line
}

fn pick(targets: &[Target], year: i32) -> Option<&Target> {
    targets.iter().find(|t| t.year == year).or_else(|| {
        targets
            .iter()
            .filter(|t| t.year > year)
            .min_by_key(|t| t.year)
    })
}

/// Finds the parent indicator with the same normalised name, else one in a synonym group.
fn find_match(name: &str, parent: &PlanDocument, settings: &Settings) -> Option<usize> {
    let n = normalise_name(name);
    if let Some(i) = parent
        .indicators
        .iter()
        .position(|p| normalise_name(&p.name) == n)
    {
        return Some(i);
    }
    let groups: Vec<Vec<String>> = settings
        .alignment
        .synonyms
        .iter()
        .map(|g| g.iter().map(|s| normalise_name(s)).collect())
        .collect();
    let group = groups.iter().find(|g| g.contains(&n))?;
    parent
        .indicators
        .iter()
        .position(|p| group.contains(&normalise_name(&p.name)))
}

fn counts(lines: &[AlignmentLine]) -> BTreeMap<&'static str, usize> {
    let mut c: BTreeMap<&'static str, usize> = [
        Alignment::Stricter,
        Alignment::Equal,
        Alignment::Weaker,
        Alignment::NotComparable,
    ]
    .iter()
    .map(|a| (a.key(), 0))
    .collect();
    for l in lines {
        *c.entry(l.result.key()).or_default() += 1;
    }
    c
}

/// Every target of every child indicator against the matching parent indicator's target for
/// the same year (else the nearest later one).
pub fn align(child: &PlanDocument, parent: &PlanDocument, settings: &Settings) -> AlignmentReport {
    let mut lines = Vec::new();
    let mut unmatched = Vec::new();
    for (ci, ind) in child.indicators.iter().enumerate() {
        let Some(pi) = find_match(&ind.name, parent, settings) else {
            unmatched.push(ind.name.clone());
            continue;
        };
        let ptargets = indicator_targets(parent, pi);
        for ct in indicator_targets(child, ci) {
            lines.push(compare(
                "parent",
                ind,
                &ct,
                &parent.indicators[pi],
                pick(&ptargets, ct.year),
            ));
        }
    }
    AlignmentReport {
        child: child.title.clone(),
        parent: Some(parent.title.clone()),
        counts: counts(&lines),
        lines,
        unmatched,
    }
}

/// The child's own targets against the reference columns of its table (`city_2030` → level
/// `city`, year from the reference target).
pub fn align_references(child: &PlanDocument, _settings: &Settings) -> AlignmentReport {
    let mut lines = Vec::new();
    for (ci, ind) in child.indicators.iter().enumerate() {
        let mut levels: BTreeMap<String, Vec<Target>> = BTreeMap::new();
        for (key, t) in &ind.references {
            let level = match key.rsplit_once('_') {
                Some((l, y)) if y.parse::<i32>().is_ok() => l.to_string(),
                _ => key.clone(),
            };
            levels.entry(level).or_default().push(t.clone());
        }
        for (level, mut refs) in levels {
            refs.sort_by_key(|t| t.year);
            // The reference level's indicator: same name, no baseline of its own.
            let ref_ind = Indicator {
                baseline: None,
                ..ind.clone()
            };
            for ct in indicator_targets(child, ci) {
                lines.push(compare(&level, ind, &ct, &ref_ind, pick(&refs, ct.year)));
            }
        }
    }
    AlignmentReport {
        child: child.title.clone(),
        parent: None,
        counts: counts(&lines),
        lines,
        unmatched: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const RAOPING: &str = include_str!("../../cli/tests/eval_fixtures/raoping_style.json");
    const GOLD: &str = include_str!("../../../fixtures/gold/indicator_tables.json");

    /// The gold table of one seed document as a plan.
    fn gold_plan(doc_prefix: &str) -> PlanDocument {
        let v: Value = serde_json::from_str(GOLD).unwrap();
        let t = v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["doc"].as_str().unwrap().starts_with(doc_prefix))
            .unwrap();
        PlanDocument {
            title: t["caption"].as_str().unwrap().to_string(),
            indicators: serde_json::from_value(t["indicators"].clone()).unwrap(),
            ..Default::default()
        }
    }

    fn line<'a>(r: &'a AlignmentReport, name: &str, year: i32, against: &str) -> &'a AlignmentLine {
        r.lines
            .iter()
            .find(|l| l.indicator == name && l.year == year && l.against == against)
            .unwrap_or_else(|| panic!("no line {name} {year} {against}"))
    }

    #[test]
    fn raoping_reference_columns() {
        let plan = PlanDocument::from_json(RAOPING).unwrap();
        let r = align_references(&plan, &Settings::default());
        let cases = [
            ("居民健康素养水平", 2022, "city", Alignment::Weaker),
            ("居民健康素养水平", 2030, "city", Alignment::Equal),
            ("居民健康素养水平", 2030, "province", Alignment::Weaker),
            ("婴儿死亡率", 2030, "city", Alignment::Stricter),
            (
                "个人卫生支出占卫生总费用的比重",
                2030,
                "city",
                Alignment::Stricter,
            ),
            ("产前筛查率", 2030, "city", Alignment::Equal),
            ("常住人口", 2030, "city", Alignment::NotComparable),
            ("人均预期寿命", 2030, "city", Alignment::NotComparable),
            ("建立健康科普专家库", 2022, "city", Alignment::Equal),
        ];
        for (name, year, against, want) in cases {
            let l = line(&r, name, year, against);
            assert_eq!(l.result, want, "{name} {year} {against}: {}", l.reason_zh);
        }
        assert!(line(&r, "常住人口", 2030, "city")
            .reason_zh
            .contains("绝对数"));
        assert!(line(&r, "人均预期寿命", 2030, "city")
            .reason_en
            .contains("qualitative"));
        assert_eq!(
            line(&r, "居民健康素养水平", 2022, "city").parent_year,
            Some(2030)
        );
        assert!(!r
            .lines
            .iter()
            .any(|l| l.indicator == "经常参加体育锻炼人数比例"));
        assert_eq!(r.counts.values().sum::<usize>(), r.lines.len());
    }

    #[test]
    fn gold_district_against_gold_city() {
        let child = gold_plan("001"); // 光明区, 2025
        let parent = gold_plan("004"); // 2022 / 2030
        let r = align(&child, &parent, &Settings::default());
        let cases = [
            ("婴儿死亡率", Alignment::Stricter),
            ("孕产妇死亡率", Alignment::Stricter),
            ("居民健康素养水平", Alignment::Stricter),
            ("重大慢性病过早死亡率", Alignment::Stricter),
            ("高血压规范管理率", Alignment::Weaker),
            ("每千人口拥有注册护士数", Alignment::Weaker),
            ("每千人口拥有病床数", Alignment::Weaker),
            ("人均期望寿命", Alignment::NotComparable),
        ];
        for (name, want) in cases {
            let l = line(&r, name, 2025, "parent");
            assert_eq!(l.result, want, "{name}: {}", l.reason_zh);
            assert_eq!(l.parent_year, Some(2030), "{name}");
        }
        assert_eq!(
            line(&r, "高血压规范管理率", 2025, "parent").parent_indicator,
            "高血压患者规范管理率"
        );
        assert!(r.unmatched.contains(&"每万人口拥有全科医生数".to_string()));

        // The other way round: the city's 2030 targets find no parent target in 2030 or later.
        let r = align(&parent, &child, &Settings::default());
        assert_eq!(
            line(&r, "婴儿死亡率", 2022, "parent").result,
            Alignment::Weaker
        );
        let l = line(&r, "婴儿死亡率", 2030, "parent");
        assert_eq!(l.result, Alignment::NotComparable);
        assert!(l.reason_en.contains("no target for 2030 or later"));
    }

    #[test]
    fn synonyms_are_settings() {
        let child = gold_plan("001");
        let parent = gold_plan("004");
        let mut s = Settings::default();
        s.alignment.synonyms.clear();
        let r = align(&child, &parent, &s);
        assert!(r.unmatched.contains(&"高血压规范管理率".to_string()));
        s.alignment.synonyms = vec![vec![
            "高血压规范管理率".into(),
            "高血压患者规范管理率".into(),
        ]];
        let r = align(&child, &parent, &s);
        assert!(!r.unmatched.contains(&"高血压规范管理率".to_string()));
    }

    #[test]
    fn interval_containment() {
        let ge = |v| cmp_set(Cmp::Ge, v);
        assert!(subset(&ge(35.0), &ge(30.0)) && !subset(&ge(30.0), &ge(35.0)));
        assert!(subset(&cmp_set(Cmp::Gt, 30.0), &ge(30.0)));
        assert!(subset(&cmp_set(Cmp::Eq, 100.0), &ge(90.0)));
        assert!(
            !subset(&ge(30.0), &cmp_set(Cmp::Le, 40.0))
                && !subset(&cmp_set(Cmp::Le, 40.0), &ge(30.0))
        );
        // ≥100% and =100% are the same set once clamped to 0–100.
        let a = clamp_to(ge(100.0), 0.0, 100.0);
        let b = clamp_to(cmp_set(Cmp::Eq, 100.0), 0.0, 100.0);
        assert!(subset(&a, &b) && subset(&b, &a));
    }
}
