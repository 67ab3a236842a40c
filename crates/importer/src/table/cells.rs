//! What one table cell says: a target, a baseline, a unit, a property, and what kind of
//! content it holds (for aligning a row with its header by content).

use crate::lexicon::{bare_cmp, PREFIX_WORDS, SUFFIX_WORDS};
use crate::num::parse_f64;
use healthplan_core::{
    Baseline, Cmp, Direction, Property, RelativeTo, Target, TargetKind, PERCENTAGE_POINTS,
};
use regex::Regex;
use std::sync::LazyLock;

/// Units as tables write them, in a unit column or in brackets after the name.
const KNOWN_UNITS: &[&str] = &[
    "%",
    "‰",
    "岁",
    "人",
    "名",
    "张",
    "床",
    "个",
    "家",
    "所",
    "座",
    "项",
    "次",
    "人次",
    "万人次",
    "天",
    "日",
    "小时",
    "分钟",
    "分",
    "秒",
    "年",
    "月",
    "元",
    "万元",
    "亿元",
    "克",
    "千克",
    "公斤",
    "米",
    "公里",
    "平方米",
    "m2",
    "m²",
    "㎡",
    "辆",
    "台",
    "支",
    "间",
    "条",
    "批",
    "套",
    "倍",
    "级",
    "1/10万",
    "1/万",
    "1/千",
    "1/100万",
    "人/千人",
    "人/万人",
    "张/千人",
    "个百分点",
    "分值",
];

/// The kind of content of a cell, for aligning it with the header's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Empty,
    Dash,
    Serial,
    Property,
    Unit,
    /// A number with a comparator (`≥80`, `80以上`, `控制在5以内`).
    Compared,
    /// A bare number (`80`, `4.8%`).
    Number,
    /// A number with a year of its own (`78.3（2021年）`).
    NumberWithYear,
    /// A change (`比2022年提高10个百分点`, `下降15%`).
    Change,
    /// Words a target cell holds (`持续提高`, `实现`, `保持在95以上`).
    TargetWords,
    /// Organisation names (`区卫生健康局、区教育局`).
    Org,
    /// Text of four Han characters or more.
    LongText,
    /// A few Han characters (`健康水平`).
    ShortText,
}

static ORG_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:局|委|办|部|厅|署|院|会|联|中心|政府|办事处|街道|公司|集团|海关|分局|支队|大队)$",
    )
    .expect("valid regex")
});
static OWN_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[（(]\s*((?:19|20)\d{2})\s*年?\s*[)）]|^\s*((?:19|20)\d{2})\s*年\s*[:：]?")
        .expect("valid regex")
});
static CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:比|较)?(?:((?:19|20)\d{2})年?)?(?:基础上)?(提高|提升|增长|增加|上升|降低|下降|减少)(\d+(?:\.\d+)?)(%|％|个百分点)")
        .expect("valid regex")
});
const TARGET_WORDS: &[&str] = &[
    "实现", "完成", "建成", "建立", "达标", "覆盖", "持续", "逐步", "稳步", "不断", "保持", "提高",
    "提升", "降低", "下降", "减少", "增加", "增长", "改善", "控制", "力争", "达到", "先进", "优于",
    "高于", "低于",
];

fn flat(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect()
}

pub fn is_serial(s: &str) -> bool {
    let t = s.trim().trim_end_matches(['.', '、', '．']);
    !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_digit())
}

pub fn is_known_unit(u: &str) -> bool {
    KNOWN_UNITS.contains(&normalise_unit(u).as_str())
}

/// Organisation names, one or a list: the lead column's content.
pub fn is_org_list(s: &str) -> bool {
    let parts: Vec<&str> = s
        .split(['、', '，', ',', '；', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    !parts.is_empty()
        && parts.iter().all(|p| {
            let core = match p.find(['（', '(']) {
                Some(i) if i > 0 => &p[..i],
                _ => p,
            };
            (2..=20).contains(&p.chars().count())
                && (ORG_END.is_match(core) || ORG_END.is_match(p))
                && !p.chars().any(|c| c.is_ascii_digit())
        })
}

pub fn feature(text: &str) -> Feature {
    let t = flat(text);
    if t.is_empty() {
        return Feature::Empty;
    }
    if is_dash(&t) {
        return Feature::Dash;
    }
    if is_serial(&t) {
        return Feature::Serial;
    }
    if property_of(&t).is_some() && t.chars().count() <= 4 {
        return Feature::Property;
    }
    if is_known_unit(&t) {
        return Feature::Unit;
    }
    if CHANGE.is_match(&t) {
        return Feature::Change;
    }
    let digits = t.chars().any(|c| c.is_ascii_digit());
    let han = t.chars().filter(|c| is_han(*c)).count();
    if digits {
        let body = OWN_YEAR.replace_all(&t, "");
        let own_year = body.len() != t.len();
        if let Some((_, rest)) = leading_number(&body) {
            let rest = rest.trim_start_matches(['%', '％', '‰']);
            if own_year {
                return Feature::NumberWithYear;
            }
            if rest.is_empty() {
                return Feature::Number;
            }
            if SUFFIX_WORDS.iter().any(|(w, _)| rest.starts_with(w)) || is_known_unit(rest) {
                return Feature::Compared;
            }
        }
        let prefixed = PREFIX_WORDS.iter().any(|(w, _)| {
            t.starts_with(w) && t[w.len()..].starts_with(|c: char| c.is_ascii_digit())
        });
        if prefixed {
            return Feature::Compared;
        }
        if own_year && han <= 12 {
            return Feature::NumberWithYear;
        }
    }
    if is_org_list(&t) {
        return Feature::Org;
    }
    // Target wording is short; a long text with such a word is a name (`建立…机制`).
    let leads = ["力争", "保持", "持续", "逐步", "稳步", "比", "较"]
        .iter()
        .any(|w| t.starts_with(w));
    if TARGET_WORDS.iter().any(|w| t.contains(w)) && (han <= 8 || (leads && digits)) {
        return Feature::TargetWords;
    }
    if han <= 6 && !digits && !t.contains(['（', '(', '《']) {
        Feature::ShortText
    } else {
        Feature::LongText
    }
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

pub fn property_of(s: &str) -> Option<Property> {
    if s.contains("约束") {
        Some(Property::Binding)
    } else if s.contains("预期") {
        Some(Property::Expected)
    } else if s.contains("倡导") {
        Some(Property::Advocacy)
    } else {
        None
    }
}

/// Splits the trailing parenthesised unit off a name: `每千人口拥有执业（助理）医生数（人）`
/// → (`每千人口拥有执业（助理）医生数`, `人`).
pub fn split_unit(name: &str) -> (String, Option<String>) {
    let t = name.trim();
    let Some(open) = trailing_group_start(t) else {
        return (t.to_string(), None);
    };
    // Both brackets are single chars; slice them off exactly.
    let open_len = t[open..].chars().next().map_or(0, char::len_utf8);
    let close_len = t.chars().last().map_or(0, char::len_utf8);
    let inner = &t[open + open_len..t.len() - close_len];
    let unit = normalise_unit(inner);
    let looks_like_unit = !unit.is_empty()
        && unit.chars().count() <= 8
        && open > 0
        && !unit.contains(['、', '，', ',']);
    if looks_like_unit {
        return (t[..open].trim().to_string(), Some(unit));
    }
    (t.to_string(), None)
}

/// Byte index of the bracket opening the balanced `（…）`/`(…)` group that ends `t`, if any.
pub fn trailing_group_start(t: &str) -> Option<usize> {
    if !(t.ends_with('）') || t.ends_with(')')) {
        return None;
    }
    let mut depth = 0;
    for (i, c) in t.char_indices().rev() {
        match c {
            '）' | ')' => depth += 1,
            '（' | '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

pub fn normalise_unit(u: &str) -> String {
    let u: String = u
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .map(|c| if c == '％' { '%' } else { c })
        .collect();
    if u.starts_with('/') {
        format!("1{u}")
    } else {
        u
    }
}

/// One name cell may hold several indicators, each with its unit: `甲比例（%），乙比例（%）`.
pub fn split_names(name: &str) -> Vec<(String, Option<String>)> {
    let mut parts = Vec::new();
    let mut from = 0;
    let chars: Vec<(usize, char)> = name.char_indices().collect();
    for w in chars.windows(2) {
        let ((_, a), (i, b)) = (w[0], w[1]);
        if matches!(a, '）' | ')') && matches!(b, '，' | ',' | '；' | ';') {
            parts.push(&name[from..i]);
            from = i + b.len_utf8();
        }
    }
    parts.push(&name[from..]);
    let split: Vec<(String, Option<String>)> = parts.iter().map(|p| split_unit(p)).collect();
    if split.len() > 1 && split.iter().all(|(n, u)| u.is_some() && !n.is_empty()) {
        split
    } else {
        vec![split_unit(name)]
    }
}

/// The k-th of n values in a cell written `100，70`; the whole cell when it holds one value.
pub fn nth_value(cell: &str, k: usize, n: usize) -> String {
    if n <= 1 {
        return cell.to_string();
    }
    let parts: Vec<&str> = cell
        .split(['，', ',', '、', '；', ';', '/'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    match parts.get(k) {
        Some(p) if parts.len() == n => p.trim().to_string(),
        _ => cell.to_string(),
    }
}

pub fn is_dash(s: &str) -> bool {
    s.is_empty()
        || s.chars().all(|c| {
            matches!(
                c,
                '—' | '-' | '–' | '─' | '－' | '/' | '／' | '　' | '…' | '\\'
            )
        })
        || matches!(s, "无" | "暂无" | "空" | "不适用")
}

/// A baseline cell: `2.32`, `27.97（2021年）`, `2021年：27.97`, or words.
pub fn parse_baseline(text: &str, col_year: Option<i32>) -> Option<Baseline> {
    let t = text.trim();
    if is_dash(&flat(t)) {
        return None;
    }
    let (body, year) = match OWN_YEAR.captures(t) {
        Some(c) => (
            OWN_YEAR.replace(t, "").trim().to_string(),
            c.get(1).or(c.get(2)).and_then(|y| y.as_str().parse().ok()),
        ),
        None => (t.to_string(), col_year),
    };
    let value = leading_number(&flat(&body)).map(|(v, _)| v);
    Some(Baseline {
        value,
        year,
        text: t.to_string(),
    })
}

/// The year a baseline cell names itself, if any.
pub fn own_year(text: &str) -> Option<i32> {
    OWN_YEAR
        .captures(text)
        .and_then(|c| c.get(1).or(c.get(2)))
        .and_then(|y| y.as_str().parse().ok())
}

/// A number at the start of `s` and the rest after it.
pub fn leading_number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let v = parse_f64(&s[..end])?;
    Some((v, &s[end..]))
}

/// Which way target wording points when the name alone does not say: `逐步降低`, `≤12` →
/// lower.
pub fn direction_of_words(text: &str) -> Option<Direction> {
    const DOWN: &[&str] = &[
        "降低",
        "下降",
        "减少",
        "减低",
        "控制在",
        "不高于",
        "不超过",
        "以下",
        "以内",
        "≤",
        "<",
        "＜",
    ];
    const UP: &[&str] = &[
        "提高",
        "提升",
        "增加",
        "增长",
        "上升",
        "不低于",
        "不少于",
        "以上",
        "改善",
        "≥",
        ">",
        "＞",
    ];
    if DOWN.iter().any(|w| text.contains(w)) {
        Some(Direction::Lower)
    } else if UP.iter().any(|w| text.contains(w)) {
        Some(Direction::Higher)
    } else {
        None
    }
}

/// Reads a table cell as a target for `year`. `None` for an empty or dash cell.
pub fn cell_target(text: &str, year: i32, d: Direction, unit: Option<&str>) -> Option<Target> {
    let t = flat(text);
    if is_dash(&t) {
        return None;
    }
    let mk = |kind, cmp, value, value_hi, unit: Option<String>, rel| {
        Target::new(Target {
            year,
            kind,
            cmp,
            value,
            value_hi,
            unit,
            relative_to: rel,
            text: text.trim().to_string(),
        })
        .ok()
    };
    let unit_s = unit.map(str::to_string);
    let qualitative = |t: &str| {
        let milestone = ["实现", "完成", "建成", "达标", "全覆盖", "建立"]
            .iter()
            .any(|w| t.contains(w))
            && !t.contains("水平");
        let kind = if milestone {
            TargetKind::Milestone
        } else {
            TargetKind::Qualitative
        };
        mk(kind, None, None, None, unit_s.clone(), None)
    };
    if !t.chars().any(|c| c.is_ascii_digit()) {
        return qualitative(&t);
    }
    static REF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(全国|国家|全省|省|全市|市)(?:平均)?水平.*?(高|低|超过|提高|降低)(\d+(?:\.\d+)?)(个百分点|%)?")
            .expect("valid regex")
    });
    if let Some(c) = REF.captures(&t) {
        let series = match &c[1] {
            "全国" | "国家" => "national_average",
            "全省" | "省" => "province_average",
            _ => "city_average",
        };
        let v = parse_f64(&c[3])?;
        let cmp = if matches!(&c[2], "低" | "降低") {
            Cmp::Le
        } else {
            Cmp::Ge
        };
        let u = c.get(4).map(|m| {
            if m.as_str() == "%" {
                "%".to_string()
            } else {
                PERCENTAGE_POINTS.to_string()
            }
        });
        return mk(
            TargetKind::ReferenceRelative,
            Some(cmp),
            Some(v),
            None,
            u,
            Some(RelativeTo::Series(series.into())),
        );
    }
    if let Some(c) = CHANGE.captures(&t) {
        let sign = if matches!(&c[2], "降低" | "下降" | "减少") {
            -1.0
        } else {
            1.0
        };
        let v = parse_f64(&c[3])? * sign;
        let rel = match c.get(1).and_then(|y| y.as_str().parse().ok()) {
            Some(y) => RelativeTo::Year(y),
            None => RelativeTo::Baseline,
        };
        let u = if &c[4] == "个百分点" {
            PERCENTAGE_POINTS
        } else {
            "%"
        };
        return mk(
            TargetKind::RelativeChange,
            None,
            Some(v),
            None,
            Some(u.to_string()),
            Some(rel),
        );
    }
    static RANGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d+(?:\.\d+)?)[%％‰]?[-~～—–至到](\d+(?:\.\d+)?)").expect("valid regex")
    });
    if let Some(c) = RANGE.captures(&t) {
        let lo = parse_f64(&c[1])?;
        let hi = parse_f64(&c[2])?;
        if lo <= hi {
            return mk(TargetKind::Range, None, Some(lo), Some(hi), unit_s, None);
        }
    }
    // Comparator word or sign, the number, a suffix word.
    let mut rest: &str = &t;
    let mut cmp: Option<Cmp> = None;
    for (w, c) in PREFIX_WORDS {
        if let Some(r) = rest.strip_prefix(w) {
            cmp = *c;
            rest = r;
            break;
        }
    }
    // Words with digits that are no plain value (`每年降低0.5个百分点以上`) stay as written.
    let Some((v, after)) = leading_number(rest) else {
        return qualitative(&t);
    };
    let after = after.trim_start_matches(['%', '％', '‰']);
    let after = after.strip_prefix(unit.unwrap_or("\u{0}")).unwrap_or(after);
    if cmp.is_none() {
        cmp = SUFFIX_WORDS
            .iter()
            .find(|(w, _)| after.starts_with(w))
            .map(|(_, c)| *c);
    }
    let cmp = cmp.unwrap_or_else(|| bare_cmp(d));
    mk(
        TargetKind::Threshold,
        Some(cmp),
        Some(v),
        None,
        unit_s,
        None,
    )
}

/// Whether a target cell's wording was read as a plain value (so the direction chose its
/// comparator).
pub fn is_bare_number(text: &str) -> bool {
    feature(text) == Feature::Number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_names() {
        assert_eq!(
            split_unit("每千人口拥有执业（助理）医生数（人）"),
            ("每千人口拥有执业（助理）医生数".into(), Some("人".into()))
        );
        assert_eq!(
            split_unit("孕产妇死亡率（1/10 万）").1.as_deref(),
            Some("1/10万")
        );
        assert_eq!(split_unit("建立机制").1, None);
        let n = split_names("甲提供的比例（%），乙提供的比例（%）");
        assert_eq!(n.len(), 2);
        assert_eq!(nth_value("100，70", 1, 2), "70");
    }

    #[test]
    fn cells() {
        let t = cell_target("≥93", 2022, Direction::Higher, Some("%")).unwrap();
        assert_eq!((t.cmp, t.value), (Some(Cmp::Ge), Some(93.0)));
        let t = cell_target("6", 2022, Direction::Lower, None).unwrap();
        assert_eq!(t.cmp, Some(Cmp::Le));
        let t = cell_target("<25", 2022, Direction::Lower, None).unwrap();
        assert_eq!(t.cmp, Some(Cmp::Lt));
        let t = cell_target("比2015年降低20%", 2030, Direction::Lower, None).unwrap();
        assert_eq!(t.kind, TargetKind::RelativeChange);
        assert_eq!(t.value, Some(-20.0));
        assert_eq!(t.relative_to, Some(RelativeTo::Year(2015)));
        let t = cell_target("比全国平均水平高5个百分点", 2030, Direction::Higher, None).unwrap();
        assert_eq!(t.kind, TargetKind::ReferenceRelative);
        assert_eq!(
            cell_target("实现", 2030, Direction::Higher, None)
                .unwrap()
                .kind,
            TargetKind::Milestone
        );
        assert_eq!(
            cell_target("保持省内先进水平", 2030, Direction::Higher, None)
                .unwrap()
                .kind,
            TargetKind::Qualitative
        );
        let t = cell_target("保持在95以上", 2030, Direction::Higher, None).unwrap();
        assert_eq!((t.cmp, t.value), (Some(Cmp::Ge), Some(95.0)));
        let t = cell_target("力争每年降低0.5个百分点以上", 2025, Direction::Lower, None).unwrap();
        assert_eq!(t.kind, TargetKind::Qualitative);
        assert!(cell_target("—", 2030, Direction::Higher, None).is_none());
        let b = parse_baseline("27.97（2021年）", Some(2020)).unwrap();
        assert_eq!((b.value, b.year), (Some(27.97), Some(2021)));
        let b = parse_baseline("2021年：27.97", None).unwrap();
        assert_eq!((b.value, b.year), (Some(27.97), Some(2021)));
        let b = parse_baseline("已建成基础平台（2022年）", None).unwrap();
        assert_eq!((b.value, b.year), (None, Some(2022)));
    }

    #[test]
    fn features() {
        use Feature::*;
        let cases = [
            ("", Empty),
            ("—", Dash),
            ("12", Serial),
            ("预期性", Property),
            ("1/10万", Unit),
            ("‰", Unit),
            ("≥80", Compared),
            ("95以上", Compared),
            ("保持在95以上", Compared),
            ("4.8", Number),
            ("80%", Number),
            ("78.3（2021年）", NumberWithYear),
            ("比2022年提高10个百分点", Change),
            ("下降15%", Change),
            ("持续提高", TargetWords),
            ("实现", TargetWords),
            ("区卫生健康局、区教育局", Org),
            ("人均预期寿命（岁）", LongText),
            ("健康水平", ShortText),
        ];
        for (text, want) in cases {
            assert_eq!(feature(text), want, "{text}");
        }
    }
}
