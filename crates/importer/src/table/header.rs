//! The header of an indicator table: what each column holds, read from the header's words
//! over one or more rows, and for a bare year column (`2022年`) from its cells.

use super::cells::{feature, is_serial, property_of, Feature};
use regex::Regex;
use std::sync::LazyLock;

static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})\s*年?").expect("valid regex"));
/// A period such as `2021—2025年` heads a schedule, not a target year.
static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:19|20)\d{2}\s*年?\s*[-—–~～至到]\s*(?:19|20)\d{2}").expect("valid regex")
});

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Col {
    Serial,
    Name,
    Domain,
    Unit,
    Baseline(Option<i32>),
    /// The year of the baseline, in a column of its own (`年份` under `基线值`).
    BaselineYear,
    Target(i32),
    /// A parent level's target: `national`, `province`, `city`, `district` or `county`, and
    /// the year when the header gives it.
    Reference(&'static str, Option<i32>),
    Property,
    Lead,
    Remark,
    /// A bare year (`2022年`): the baseline or a target, as the cells decide.
    Year(i32),
    /// `目标值` over the target years of the next header row.
    TargetGroup,
    Other,
}

impl Col {
    /// A column that wants the next header row to complete it (a year, or the years).
    fn wants_sub(&self) -> bool {
        matches!(
            self,
            Col::Baseline(None) | Col::TargetGroup | Col::Reference(_, None)
        )
    }
}

/// The single year a header names; `None` for none or a period.
fn single_year(h: &str) -> Option<i32> {
    if PERIOD.is_match(h) {
        return None;
    }
    let mut years = YEAR
        .captures_iter(h)
        .filter(|c| c.get(0).is_some_and(|m| m.as_str().ends_with('年')) || h.len() <= 6)
        .filter_map(|c| c[1].parse::<i32>().ok());
    let y = years.next()?;
    years.next().is_none().then_some(y)
}

/// The level of a parent's target column (`国家目标值`, `省2025年目标`, `2030年市指标值`).
fn level_of(h: &str) -> Option<&'static str> {
    if h.contains("全国") || h.contains("国家") {
        return Some("national");
    }
    // `全市`/`本区` name the plan's own area.
    let own = [
        "全市", "本市", "全区", "本区", "全县", "本县", "市县", "县市",
    ];
    let rest = own.iter().fold(h.to_string(), |s, w| s.replace(w, ""));
    if rest.contains('省') {
        Some("province")
    } else if rest.contains('市') {
        Some("city")
    } else if rest.contains('区') && !rest.contains("地区") {
        Some("district")
    } else if rest.contains('县') {
        Some("county")
    } else {
        None
    }
}

const BASELINE_WORDS: &[&str] = &[
    "基期",
    "基线",
    "现状",
    "基数",
    "基准",
    "基础值",
    "现值",
    "基础",
];
const MARKED: &[&str] = &["目标", "预期", "规划", "指标值", "到", "至", "力争"];

/// Classifies one header text (line breaks and spaces removed).
pub fn classify(h: &str) -> Col {
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    if h.is_empty() {
        return Col::Other;
    }
    if has(&["序号", "编号"]) {
        return Col::Serial;
    }
    if has(&["属性", "性质", "类型"]) {
        return Col::Property;
    }
    if has(&[
        "牵头",
        "责任单位",
        "责任部门",
        "负责单位",
        "负责部门",
        "主管部门",
        "责任主体",
    ]) {
        return Col::Lead;
    }
    if has(&["备注", "说明"]) {
        return Col::Remark;
    }
    if has(&["领域", "类别", "分类", "维度"]) {
        return Col::Domain;
    }
    if h == "单位" || has(&["计量单位", "指标单位"]) {
        return Col::Unit;
    }
    if has(&["年份", "年度"]) && single_year(h).is_none() {
        return Col::BaselineYear;
    }
    let year = single_year(h);
    if has(BASELINE_WORDS) {
        return Col::Baseline(year);
    }
    if PERIOD.is_match(h) {
        return Col::Other;
    }
    if let Some(level) = level_of(h) {
        if year.is_some() || has(&["目标", "指标值", "预期", "规划"]) {
            return Col::Reference(level, year);
        }
    }
    if let Some(y) = year {
        return if has(MARKED) {
            Col::Target(y)
        } else {
            Col::Year(y)
        };
    }
    if has(&["目标", "指标值", "预期值", "规划值"]) {
        return Col::TargetGroup;
    }
    if has(&["指标", "名称", "项目", "内容"]) {
        return Col::Name;
    }
    Col::Other
}

/// A header cell, not a value: header rows hold only these.
pub fn is_header_text(t: &str) -> bool {
    // `2025年`, `到2030年`, `（2020年）`, or a header cut short by a line end (`2025年目`,
    // `2025`).
    static BARE_YEAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[（(]?(?:到|至)?(?:19|20)\d{2}(?:\s*年\D*)?$").expect("valid regex")
    });
    static VALUE_START: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[≥≤<>＜＞]|\d+(?:\.\d+)?(?:[^\d年.]|$))").expect("valid regex")
    });
    if t.is_empty() {
        return true;
    }
    if is_serial(t) || property_of(t).is_some() && t.chars().count() <= 4 {
        return false;
    }
    let words = !matches!(classify(t), Col::Other | Col::Year(_));
    if (words && !VALUE_START.is_match(t)) || BARE_YEAR.is_match(t) {
        return true;
    }
    !matches!(
        feature(t),
        Feature::Number
            | Feature::Compared
            | Feature::NumberWithYear
            | Feature::Change
            | Feature::Dash
            | Feature::Org
    )
}

/// The header's columns, with the (flattened) header text of each.
#[derive(Debug, Clone)]
pub struct Header {
    pub cols: Vec<Col>,
    pub texts: Vec<String>,
}

/// Columns of a header over one or more rows (each a list of flattened cell texts). A group
/// cell such as `目标值` or `基线值` over a second row of years stands for those columns.
/// `width`, the number of cells a data row has, says how many group cells take sub-headers
/// when a .txt leaves out the merged-away cells of the second row (so positions do not tell):
/// target groups always do, a baseline or reference group without a year only as the width
/// requires.
/// `years_in_cells`: the data cells carry their own years (`78.3（2021年）`), so a baseline
/// group without a year needs none from the row below.
pub fn header(rows: &[Vec<String>], width: Option<usize>, years_in_cells: bool) -> Header {
    let Some(first) = rows.first() else {
        return Header {
            cols: Vec::new(),
            texts: Vec::new(),
        };
    };
    let mut texts: Vec<String> = first.clone();
    let mut cols: Vec<Col> = texts.iter().map(|t| classify(t)).collect();
    for r in &rows[1..] {
        // A cell merged down from the first row repeats its text; it adds nothing.
        let r: Vec<String> = r
            .iter()
            .map(|t| {
                if first.contains(t) {
                    String::new()
                } else {
                    t.clone()
                }
            })
            .collect();
        let subs: Vec<&String> = r.iter().filter(|t| !t.is_empty()).collect();
        if subs.is_empty() {
            continue;
        }
        let mut groups: Vec<usize> = (0..cols.len())
            .filter(|&i| cols[i].wants_sub() && !(years_in_cells && cols[i] == Col::Baseline(None)))
            .collect();
        // A second row with a cell under every column (merged-away cells empty) says by
        // position which group each sub-header belongs to.
        let positional = r.len() > cols.len() && sub_like_all(&subs);
        if positional {
            let mut p = 0;
            let mut keep = Vec::new();
            for (i, col) in cols.iter().enumerate() {
                let here = r.get(p).is_some_and(|t| !t.is_empty());
                if col.wants_sub() && here {
                    keep.push(i);
                    let run = r[p..].iter().take_while(|t| !t.is_empty()).count();
                    p += if *col == Col::TargetGroup { run } else { 1 };
                } else {
                    p += 1;
                }
            }
            groups = keep;
        } else if let Some(w) = width {
            // Each group taking subs turns one column into its subs.
            let needed = (cols.len() + subs.len()).checked_sub(w);
            if let Some(n) = needed.filter(|&n| n >= 1 && n < groups.len()) {
                let mut keep: Vec<usize> = groups
                    .iter()
                    .copied()
                    .filter(|&i| cols[i] == Col::TargetGroup)
                    .collect();
                for &g in &groups {
                    if keep.len() >= n {
                        break;
                    }
                    if !keep.contains(&g) {
                        keep.push(g);
                    }
                }
                keep.truncate(n);
                keep.sort_unstable();
                groups = keep;
            }
        }
        let sub_like = sub_like_all(&subs);
        if sub_like && !groups.is_empty() {
            // Baseline and reference groups take one sub-header each; target groups the rest.
            let mut counts = vec![1usize; groups.len()];
            if subs.len() > groups.len() {
                let extra = subs.len() - groups.len();
                let g = groups
                    .iter()
                    .position(|&i| cols[i] == Col::TargetGroup)
                    .unwrap_or(groups.len() - 1);
                counts[g] += extra;
            } else {
                for c in counts.iter_mut().skip(subs.len()) {
                    *c = 0;
                }
            }
            let mut next = subs.iter();
            let mut new_cols = Vec::new();
            let mut new_texts = Vec::new();
            for (i, (c, t)) in cols.iter().zip(&texts).enumerate() {
                let n = groups
                    .iter()
                    .position(|&g| g == i)
                    .and_then(|k| counts.get(k).copied())
                    .unwrap_or(0);
                if n == 0 {
                    new_cols.push(c.clone());
                    new_texts.push(t.clone());
                    continue;
                }
                for s in next.by_ref().take(n) {
                    let joined = format!("{t}{s}");
                    let col = match classify(s) {
                        Col::BaselineYear => Col::BaselineYear,
                        _ => classify(&joined),
                    };
                    new_cols.push(col);
                    new_texts.push(joined);
                }
            }
            cols = new_cols;
            texts = new_texts;
        } else if r.len() == cols.len() {
            // The header's words run on into a second row.
            for (t, s) in texts.iter_mut().zip(&r) {
                t.push_str(s);
            }
            cols = texts.iter().map(|t| classify(t)).collect();
        } else {
            cols.extend(r.iter().map(|t| classify(t)));
            texts.extend(r.iter().cloned());
        }
    }
    Header { cols, texts }
}

/// Every text a sub-header under a group: a year, or a word such as `目标`.
fn sub_like_all(subs: &[&String]) -> bool {
    subs.iter().all(|t| {
        single_year(t).is_some()
            || matches!(
                classify(t),
                Col::BaselineYear | Col::Target(_) | Col::Year(_)
            )
            || ["数值", "目标", "值"].contains(&t.as_str())
    })
}

/// How a bare year column was read.
#[derive(Debug, Clone, PartialEq)]
pub enum YearReading {
    /// Said by the header or the plan's own date; nothing to check.
    Certain,
    /// Decided by the cells: the text of the doubt.
    Guessed(String),
}

/// Decides each bare year column: the baseline when the year is not after the plan's date, or
/// when its cells are bare numbers while the later year columns carry comparators; a target
/// otherwise. `cells[c]` are the texts of column `c` over the data rows.
pub fn resolve_years(
    h: &mut Header,
    cells: &[Vec<String>],
    plan_year: Option<i32>,
) -> Option<YearReading> {
    let years: Vec<usize> = (0..h.cols.len())
        .filter(|&i| matches!(h.cols[i], Col::Year(_)))
        .collect();
    let first = *years.first()?;
    let year_of = |c: &Col| match c {
        Col::Year(y) | Col::Target(y) => Some(*y),
        _ => None,
    };
    let has_baseline = h.cols.iter().any(|c| matches!(c, Col::Baseline(_)));
    let first_marked = h
        .cols
        .iter()
        .filter_map(|c| match c {
            Col::Target(y) => Some(*y),
            _ => None,
        })
        .min();
    // The latest bare year that is history by the header or the plan's date.
    let history = |y: i32| first_marked.is_some_and(|m| y < m) || plan_year.is_some_and(|p| y <= p);
    let mut reading = None;
    let mut baseline: Option<usize> = None;
    if !has_baseline {
        baseline = years
            .iter()
            .copied()
            .rfind(|&i| year_of(&h.cols[i]).is_some_and(history));
        if baseline.is_some() {
            reading = Some(YearReading::Certain);
        } else if years.len() + count_targets(&h.cols) >= 2 {
            let col = |i: usize| cells.get(i).map(Vec::as_slice).unwrap_or(&[]);
            // A whole number (`29`) reads as a serial number on its own.
            let bare = share(col(first), |f| {
                matches!(f, Feature::Number | Feature::Serial)
            });
            let later: Vec<usize> = (first + 1..h.cols.len())
                .filter(|&i| matches!(h.cols[i], Col::Year(_) | Col::Target(_)))
                .collect();
            let marked = later
                .iter()
                .map(|&i| {
                    share(col(i), |f| {
                        matches!(
                            f,
                            Feature::Compared | Feature::Change | Feature::TargetWords
                        )
                    })
                })
                .fold(0.0, f64::max);
            if bare >= 0.8 && marked >= 0.25 {
                baseline = Some(first);
                reading = Some(YearReading::Guessed(format!(
                    "「{}」列未注明是现状还是目标：该列是不带比较符的数值，其后的年份列带有比较符，按基线值读取",
                    h.texts.get(first).map_or("", String::as_str)
                )));
            }
        }
    }
    for &i in &years {
        let Some(y) = year_of(&h.cols[i]) else {
            continue;
        };
        h.cols[i] = match baseline {
            Some(b) if b == i => Col::Baseline(Some(y)),
            // Older bare years beside the baseline are history, not targets.
            Some(b) if i < b => Col::Other,
            _ => Col::Target(y),
        };
    }
    reading
}

fn count_targets(cols: &[Col]) -> usize {
    cols.iter().filter(|c| matches!(c, Col::Target(_))).count()
}

/// Share of the non-empty, non-dash cells whose feature passes `f`.
fn share(cells: &[String], f: impl Fn(Feature) -> bool) -> f64 {
    let feats: Vec<Feature> = cells
        .iter()
        .map(|t| feature(t))
        .filter(|x| !matches!(x, Feature::Empty | Feature::Dash))
        .collect();
    if feats.is_empty() {
        return 0.0;
    }
    feats.iter().filter(|&&x| f(x)).count() as f64 / feats.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(rows: &[Vec<String>]) -> Header {
        header(rows, None, false)
    }

    fn row(s: &str) -> Vec<String> {
        s.split('|').map(|t| t.trim().to_string()).collect()
    }

    #[test]
    fn header_words() {
        assert_eq!(classify("基线值（2022年）"), Col::Baseline(Some(2022)));
        assert_eq!(classify("2020年基期水平"), Col::Baseline(Some(2020)));
        assert_eq!(classify("2025年目标值"), Col::Target(2025));
        assert_eq!(classify("到2025年"), Col::Target(2025));
        assert_eq!(classify("2025年"), Col::Year(2025));
        assert_eq!(
            classify("2030年市指标值"),
            Col::Reference("city", Some(2030))
        );
        assert_eq!(classify("国家目标值"), Col::Reference("national", None));
        assert_eq!(classify("全市2025年目标"), Col::Target(2025));
        assert_eq!(classify("指标性质"), Col::Property);
        assert_eq!(classify("牵头单位"), Col::Lead);
        assert_eq!(classify("备注"), Col::Remark);
        assert_eq!(classify("目标值"), Col::TargetGroup);
        assert_eq!(classify("2021—2025年"), Col::Other);
    }

    #[test]
    fn group_cells_take_the_years_below() {
        let h = header_of(&[
            row("序号|指标名称|基期值|目标值|国家目标|指标属性"),
            row("2021年|2025年|2030年|2030年"),
        ]);
        assert_eq!(
            h.cols,
            [
                Col::Serial,
                Col::Name,
                Col::Baseline(Some(2021)),
                Col::Target(2025),
                Col::Target(2030),
                Col::Reference("national", Some(2030)),
                Col::Property
            ]
        );
    }

    #[test]
    fn a_bare_year_of_plain_numbers_before_compared_targets_is_the_baseline() {
        let mut h = header_of(&[row("序号|指标|2020年|2025年|2030年|属性")]);
        let cells = vec![
            vec![],
            vec![],
            row("79.2|3.6|4.9|21.6"),
            row("≥80|≤3.3|≤4.5|≥28"),
            row("≥81|≤3|≤4|≥35"),
            vec![],
        ];
        let r = resolve_years(&mut h, &cells, None);
        assert!(matches!(r, Some(YearReading::Guessed(_))));
        assert_eq!(h.cols[2], Col::Baseline(Some(2020)));
        assert_eq!(h.cols[3], Col::Target(2025));
        // Targets written as bare numbers too: nothing says 2025 is a baseline.
        let mut h = header_of(&[row("序号|指标|2025年|2030年|属性")]);
        let cells = vec![vec![], vec![], row("80|3"), row("81|2"), vec![]];
        assert_eq!(resolve_years(&mut h, &cells, None), None);
        assert_eq!(h.cols[2], Col::Target(2025));
        // The plan's own date says 2022 is history.
        let mut h = header_of(&[row("序号|指标|2022年|2025年|属性")]);
        let cells = vec![vec![], vec![], row("80|3"), row("81|2"), vec![]];
        assert_eq!(
            resolve_years(&mut h, &cells, Some(2023)),
            Some(YearReading::Certain)
        );
        assert_eq!(h.cols[2], Col::Baseline(Some(2022)));
    }
}
