//! Target statements that name no indicator become proposed indicators, one per subject:
//! `到2025年和2030年，全区居民健康素养水平分别不低于30%和35%` proposes 居民健康素养水平 (%),
//! higher is better, with a target for each year. Nothing is monitored until a planner
//! accepts a proposal, so every proposal carries a doubt saying where it came from.

use crate::lexicon::{direction_known, direction_of};
use crate::targets::{norm, COUNT_VERBS};
use healthplan_core::{
    Baseline, Cmp, Direction, Doubt, Indicator, PlanDocument, Property, Proposal, Source, Target,
    TargetKind, TargetStatement, PERCENTAGE_POINTS,
};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The area a subject is scoped to (`全区居民健康素养水平`): the indicator is the same in every
/// plan, so the name leaves it out and links to shared data elements.
static SCOPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:全|我)(?:省|市|区|县|州|盟|旗|镇|国)").expect("valid regex"));
/// `2020年底为22.4%`, `2020年的22.4%`: a year and the value it had.
static YEAR_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})\s*年(?:底|末)?(?:的|为|达到|达|是|已达)?\s*(\d+(?:\.\d+)?)")
        .expect("valid regex")
});
static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})\s*年").expect("valid regex"));
/// The value right after a subject (`居民健康素养水平为22.4%`): a few words, no clause break.
static NEXT_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([^\d，,。；;：:]{0,8}?)(\d+(?:\.\d+)?)\s*(个百分点|年|%|％|‰)?")
        .expect("valid regex")
});

/// What a subject carries beyond the indicator's name in real plans: a place before 人均
/// (`武汉人均期望寿命`, `營口市人均預期壽命`; not `城乡居民…`), the verb after it
/// (`居民健康素养水平将达到`), and a starting value (`婴儿死亡率从2015年的5.28‰降`).
static PLACE_BEFORE_PER_CAPITA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:居民|[\p{Han}]{1,3}(?:省|市|区|县|州|盟|旗|區|縣)|[\p{Han}]{2})(人均)")
        .expect("valid regex")
});
static TRAILING_VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:将|將|要)(?:达|達|实现|實現|提高|提升|降|增|保持|控制).*$")
        .expect("valid regex")
});
static STARTING_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?:从|從|由)(?:(?:19|20)\d{2}\s*年)?的?|的)\d.*$").expect("valid regex")
});

/// The indicator name a subject stands for: `全区建成健康主题公园` counts 健康主题公园.
fn name_of(subject: &str) -> String {
    let s = SCOPE.replace(subject.trim(), "");
    let s = TRAILING_VERB.replace(&s, "");
    let s = STARTING_VALUE.replace(&s, "");
    let s = if s.starts_with("城乡") || s.starts_with("农村") || s.starts_with("城镇") {
        s.trim().to_string()
    } else {
        PLACE_BEFORE_PER_CAPITA.replace(s.trim(), "$1").to_string()
    };
    COUNT_VERBS
        .iter()
        .find_map(|v| s.strip_prefix(v).filter(|rest| rest.chars().count() >= 2))
        .map_or(s.clone(), str::to_string)
}

/// Proposes an indicator for each distinct subject among the statements that name none.
/// `text` is the plan's cleaned text, searched for baselines; `base` the year the plan counts
/// from (a baseline is at or before it, or before the first target year when unknown).
pub fn propose(plan: &PlanDocument, text: &str, base: Option<i32>) -> Vec<Proposal> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (k, s) in plan.target_statements.iter().enumerate() {
        if s.indicator.is_some() {
            continue;
        }
        let key = norm(&name_of(&s.subject));
        if key.is_empty() {
            continue;
        }
        let g = groups.entry(key.clone()).or_default();
        if g.is_empty() {
            order.push(key);
        }
        g.push(k);
    }
    let sentences = baseline_sentences(text, &plan.target_statements);
    order
        .iter()
        .map(|key| {
            let statements = &groups[key];
            let found: Vec<&TargetStatement> = statements
                .iter()
                .map(|&k| &plan.target_statements[k])
                .collect();
            Proposal {
                indicator: indicator(&found, &sentences, base),
                statements: statements.clone(),
                decision: None,
                extra: BTreeMap::new(),
            }
        })
        .collect()
}

fn indicator(found: &[&TargetStatement], sentences: &[&str], base: Option<i32>) -> Indicator {
    let first = found[0];
    let name = name_of(&first.subject);
    let unit = unit_of(found);
    let direction = direction(&name, found);
    let mut targets: Vec<Target> = Vec::new();
    for s in found {
        if targets.iter().any(|t| t.year == s.year) {
            continue;
        }
        if let Ok(mut t) = s.target() {
            t.text = s.short_text();
            targets.push(t);
        }
    }
    targets.sort_by_key(|t| t.year);
    let years: Vec<String> = targets.iter().map(|t| t.year.to_string()).collect();
    let cutoff = base.or_else(|| targets.first().map(|t| t.year - 1));
    let baseline = cutoff.and_then(|c| baseline(&name, unit.as_deref(), sentences, c));
    let mut doubts = Vec::new();
    let mut add = |code: &str, detail: String| doubts.extend(Doubt::new(code, &detail).ok());
    add(
        "proposed_from_statements",
        format!(
            "由正文{}条目标表述提出（{}年）：表中没有这项指标，请接受、修改、并入已有指标或拒绝",
            found.len(),
            years.join("、")
        ),
    );
    if baseline.is_none() {
        add(
            "no_baseline",
            format!("发展基础/现状中没有写明“{name}”某年数值的句子，基线留空"),
        );
    }
    if unit.is_none() {
        add(
            "no_unit",
            "目标表述只写了相对变化，未写出指标本身的单位".to_string(),
        );
    }
    Indicator {
        unit,
        property: Some(Property::Expected),
        baseline,
        targets,
        span: first.span,
        doubts,
        ..Indicator::new(name, direction, Source::Statement)
    }
}

/// The indicator's own unit: a threshold's or range's; a change in percentage points means a
/// percentage; a relative change in % says nothing about the unit.
fn unit_of(found: &[&TargetStatement]) -> Option<String> {
    let own = found.iter().find_map(|s| match s.kind {
        TargetKind::RelativeChange | TargetKind::ReferenceRelative => None,
        _ => s.unit.clone().filter(|u| u != PERCENTAGE_POINTS),
    });
    own.or_else(|| {
        found
            .iter()
            .any(|s| s.unit.as_deref() == Some(PERCENTAGE_POINTS))
            .then(|| "%".to_string())
    })
}

/// The comparators and changes say which way is better; the name decides when they do not
/// (a range, a bare count), and words only (`实现`) make it qualitative.
fn direction(name: &str, found: &[&TargetStatement]) -> Direction {
    let said = found.iter().find_map(|s| match (s.kind, s.cmp, s.value) {
        (TargetKind::RelativeChange, _, Some(v)) if v < 0.0 => Some(Direction::Lower),
        (TargetKind::RelativeChange, _, Some(v)) if v > 0.0 => Some(Direction::Higher),
        (_, Some(Cmp::Le | Cmp::Lt), _) => Some(Direction::Lower),
        (_, Some(Cmp::Ge | Cmp::Gt), _) => Some(Direction::Higher),
        _ => None,
    });
    let words_only = found
        .iter()
        .all(|s| matches!(s.kind, TargetKind::Milestone | TargetKind::Qualitative));
    match said {
        Some(d) => d,
        None if words_only => Direction::Qualitative,
        None if direction_known(name) => direction_of(name),
        None => Direction::Higher,
    }
}

/// Sentences that may state a baseline: every `。`/`；` sentence of the text except the target
/// statements' own.
fn baseline_sentences<'a>(text: &'a str, statements: &[TargetStatement]) -> Vec<&'a str> {
    let targets: std::collections::HashSet<&str> =
        statements.iter().map(|s| s.sentence.trim()).collect();
    text.split(['。', '；', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && !targets.iter().any(|t| t.contains(s)))
        .collect()
}

/// `2020年，全区居民健康素养水平为22.4%`: the latest value at or before `cutoff` that a sentence
/// gives for the indicator by name.
fn baseline(name: &str, unit: Option<&str>, sentences: &[&str], cutoff: i32) -> Option<Baseline> {
    let key = norm(name);
    // (year, value as written)
    let mut best: Option<(i32, String)> = None;
    for s in sentences {
        let flat = norm(s);
        let Some(at) = flat.find(&key) else {
            continue;
        };
        let (before, after) = (&flat[..at], &flat[at + key.len()..]);
        // `由2015年的10%提高到2020年的22.4%`: each year with its value.
        let mut pairs: Vec<(i32, String)> = YEAR_VALUE
            .captures_iter(after)
            .filter_map(|c| Some((c[1].parse().ok()?, c[2].to_string())))
            .collect();
        if pairs.is_empty() {
            let Some(c) = NEXT_VALUE.captures(after) else {
                continue;
            };
            let words = &c[1];
            let tail = c.get(3).map(|m| m.as_str());
            if ["比", "较", "提高", "下降", "降低", "增长", "增加", "减少"]
                .iter()
                .any(|w| words.contains(w))
                || matches!(tail, Some("个百分点" | "年"))
            {
                continue;
            }
            let unit_ok = match (unit, tail) {
                (Some(u), Some(t)) => norm(u).replace('％', "%") == t.replace('％', "%"),
                _ => true,
            };
            if !unit_ok {
                continue;
            }
            let Some(year) = YEAR
                .captures_iter(before)
                .filter_map(|c| c[1].parse::<i32>().ok())
                .last()
            else {
                continue;
            };
            pairs.push((year, c[2].to_string()));
        }
        for (year, v) in pairs {
            if year <= cutoff && best.as_ref().is_none_or(|b| year > b.0) {
                best = Some((year, v));
            }
        }
    }
    let (year, text) = best?;
    Some(Baseline {
        value: Some(text.parse().ok()?),
        year: Some(year),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import_text;

    fn proposals(text: &str) -> Vec<Proposal> {
        import_text(text, "p.txt").unwrap().plan.proposals
    }

    /// The review page shows a proposal's targets as `year: text` and reads them back with
    /// the table's cell reader when a planner edits it.
    #[test]
    fn every_proposed_target_reads_back_as_a_cell() {
        let text = include_str!("../../../fixtures/corpus/c09_heshan.txt");
        for p in proposals(text) {
            let ind = &p.indicator;
            for t in &ind.targets {
                let back =
                    crate::table::cell_target(&t.text, t.year, ind.direction, ind.unit.as_deref());
                let back =
                    back.unwrap_or_else(|| panic!("{}: {:?} does not read back", ind.name, t.text));
                assert_eq!(
                    (back.kind, back.value),
                    (t.kind, t.value),
                    "{}: {:?}",
                    ind.name,
                    t.text
                );
            }
        }
    }

    #[test]
    fn names_leave_out_places_verbs_and_starting_values() {
        for (subject, name) in [
            ("武汉人均期望寿命", "人均期望寿命"),
            ("我省人均预期寿命", "人均预期寿命"),
            ("全省居民人均预期寿命", "人均预期寿命"),
            ("營口市人均預期壽命將達到", "人均預期壽命"),
            ("居民健康素养水平將達(dá)到", "居民健康素养水平"),
            ("婴儿死亡率的5.28‰降", "婴儿死亡率"),
            ("婴儿死亡率从2015年的5.28‰降", "婴儿死亡率"),
            ("城乡居民人均可支配收入", "城乡居民人均可支配收入"),
            ("居民健康素养水平", "居民健康素养水平"),
            ("全区建成健康主题公园", "健康主题公园"),
            ("15岁以上人群吸烟率", "15岁以上人群吸烟率"),
            ("5岁以下儿童死亡率", "5岁以下儿童死亡率"),
        ] {
            assert_eq!(name_of(subject), name, "{subject}");
        }
    }

    #[test]
    fn one_place_and_one_verb_do_not_split_a_subject() {
        // r24 (甘肃) and r29 (武汉) in fixtures/real: the same indicator named two ways.
        let p = proposals(
            "健康样例行动方案\n为推进健康样例建设，制定本方案。\n\
             我省人均预期寿命2030年提高到76岁。\n\
             到2020年全省居民人均预期寿命从2015年的73.25岁增长到74岁。\n\
             到2030年,婴儿死亡率从2015年的5.28‰降到2030年的≤5‰、孕产妇死亡率降低到12/10万。\n",
        );
        let names: Vec<&str> = p.iter().map(|p| p.indicator.name.as_str()).collect();
        assert_eq!(
            names,
            ["人均预期寿命", "婴儿死亡率", "孕产妇死亡率"],
            "{p:#?}"
        );
        assert_eq!(
            p[0].indicator
                .targets
                .iter()
                .map(|t| t.year)
                .collect::<Vec<_>>(),
            [2020, 2030]
        );
        assert_eq!(p[1].indicator.direction, Direction::Lower);
        assert_eq!(p[2].indicator.unit.as_deref(), Some("1/10万"));
        assert_eq!(p[2].indicator.targets[0].text, "≤12/10万");
    }

    #[test]
    fn one_proposal_per_subject_with_years_merged_and_a_baseline() {
        let p = proposals(
            "健康枫林行动实施方案\n为推进“十四五”时期健康枫林建设，制定本方案。\n一、发展基础\n2020年，全区居民健康素养水平为22.4%，婴儿死亡率为3.1‰。\n\
             二、主要目标\n到2025年和2030年，全区居民健康素养水平分别不低于30%和35%，婴儿死亡率分别控制在3‰和2.5‰以下。\n\
             到2025年，居民健康素养水平达到30%。到2025年，健康社区比例比2023年提高20%。\n",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        let lit = &p[0].indicator;
        assert_eq!(lit.name, "居民健康素养水平");
        assert_eq!(lit.source, Source::Statement);
        assert_eq!(lit.unit.as_deref(), Some("%"));
        assert_eq!(lit.direction, Direction::Higher);
        assert_eq!(
            lit.targets.iter().map(|t| t.year).collect::<Vec<_>>(),
            [2025, 2030]
        );
        assert_eq!(p[0].statements.len(), 3, "the repeated sentence joins it");
        let b = lit.baseline.as_ref().unwrap();
        assert_eq!((b.value, b.year), (Some(22.4), Some(2020)));
        assert!(lit
            .doubts
            .iter()
            .any(|d| d.code == "proposed_from_statements"));
        let imr = &p[1].indicator;
        assert_eq!(imr.direction, Direction::Lower);
        assert_eq!(imr.unit.as_deref(), Some("‰"));
        assert_eq!(imr.baseline.as_ref().unwrap().value, Some(3.1));
        let parks = &p[2].indicator;
        assert_eq!(
            parks.unit, None,
            "a relative change says nothing of the unit"
        );
        assert!(parks.baseline.is_none());
        assert!(parks.doubts.iter().any(|d| d.code == "no_baseline"));
        assert!(parks.doubts.iter().any(|d| d.code == "no_unit"));
    }

    #[test]
    fn statements_naming_a_table_indicator_propose_nothing() {
        let plan = import_text(
            "健康样例行动\n主要指标\n\t序号\t指标\t2020年\t2025年\n\t1\t居民健康素养水平（%）\t22\t≥30\n\n\
             到2025年，全区居民健康素养水平不低于30%，吸烟率降至20%以下。\n",
            "t.txt",
        )
        .unwrap()
        .plan;
        assert_eq!(plan.indicators.len(), 1);
        assert_eq!(plan.proposals.len(), 1, "{:#?}", plan.proposals);
        assert_eq!(plan.proposals[0].indicator.name, "居民吸烟率");
        assert_eq!(plan.proposals[0].indicator.direction, Direction::Lower);
    }

    #[test]
    fn a_change_from_an_earlier_year_is_no_baseline() {
        let s = ["2020年，居民健康素养水平比2015年提高5个百分点"];
        assert!(baseline("居民健康素养水平", Some("%"), &s, 2020).is_none());
        let s = ["居民健康素养水平由2015年的10%提高到2020年的22.4%"];
        let b = baseline("居民健康素养水平", Some("%"), &s, 2020).unwrap();
        assert_eq!((b.value, b.year), (Some(22.4), Some(2020)));
        let s = ["2020年居民健康素养水平为22.4%"];
        assert!(baseline("居民健康素养水平", Some("%"), &s, 2019).is_none());
    }
}
