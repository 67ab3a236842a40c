//! Responsible units (责任单位) written at the end of a task paragraph.

use healthplan_core::{Doubt, Responsibility, ResponsibilityMode};
use regex::Regex;
use std::sync::LazyLock;

const OPEN: &[char] = &['（', '(', '〔', '[', '【', '［'];
const CLOSE: &[char] = &['）', ')', '〕', ']', '】', '］'];

static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:牵头责任单位|主要责任单位|责任单位|责任部门|牵头单位|牵头部门|负责单位|主责单位|责任主体)\s*[:：]\s*")
        .expect("valid regex")
});
/// Remarks in parentheses inside a unit name: `(含…)`, `（以下简称…）`.
static NESTED_REMARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[（(](?:含|包括|以下简称|下同)[^（()）]*[）)]").expect("valid regex")
});
/// Parts that are remarks, not units.
static REMARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:下同|以下同|.*牵头单位.*|.*排在第一.*|.*排名第一.*|.*以下简称.*|(?:有关|相关)\p{Han}{0,6}(?:单位|部门))$")
        .expect("valid regex")
});
/// The ending that says who answers, and how.
static DUTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(按职责分工负责|按职责分别负责|分别负责|各负其责|共同负责|负责|牵头)$")
        .expect("valid regex")
});
/// Generic "and other units" tails.
static TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:等有关单位|等相关单位|等有关部门|等相关部门|等单位|等部门|有关单位|相关单位|有关部门|相关部门|等)$")
        .expect("valid regex")
});
/// Endings of an organisation's name, for lists written without 负责 or a prefix.
static ORG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:局|委|部|办|厅|署|海关|政府|委员会|协会|联合会|工会|妇联|残联|团市委|团区委|团县委|台|报社|分局|支行|银行|公司|集团|管委会|街道|办事处|红十字会|法院|检察院|科协|乡镇|镇|乡)$")
        .expect("valid regex")
});
/// A collective unit: `各区`, `各乡镇`, `各县（市、区）`, `各镇（街道）`.
static COLLECTIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^各\p{Han}{1,8}$").expect("valid regex"));

/// A responsibility list found in a line: where it starts (byte offset in the line) and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub responsibility: Responsibility,
    /// What was guessed in reading the list.
    pub doubts: Vec<Doubt>,
}

/// Finds the bracketed list of responsible units at the very end of `line`.
pub fn find(line: &str) -> Option<Found> {
    let trimmed = line.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '。' | '；' | ';' | '.' | '，' | ',' | '\u{3000}')
    });
    let last = trimmed.chars().last()?;
    // `牵头单位：A；配合单位：B、各乡镇（街道）` ends in a bracket that is part of a name.
    if !CLOSE.contains(&last) || labelled_outside_brackets(trimmed) {
        return find_unbracketed(trimmed);
    }
    // Walk back to the matching opener, any bracket kind, counting depth.
    let mut depth = 0usize;
    let mut open_at = None;
    for (i, c) in trimmed.char_indices().rev() {
        if CLOSE.contains(&c) {
            depth += 1;
        } else if OPEN.contains(&c) {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                open_at = Some(i);
                break;
            }
        }
    }
    let open_at = open_at?;
    let end = trimmed.len();
    let raw = &trimmed[open_at..end];
    let inner_start = open_at + raw.chars().next()?.len_utf8();
    let inner_end = end - last.len_utf8();
    if inner_start > inner_end {
        return None;
    }
    let (responsibility, doubts) = parse(raw, &trimmed[inner_start..inner_end])?;
    Some(Found {
        start: open_at,
        end,
        responsibility,
        doubts,
    })
}

/// Whether the line's last `责任单位：`-style label stands outside any bracket.
fn labelled_outside_brackets(line: &str) -> bool {
    static LABEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:责任单位|牵头单位|责任部门|负责单位)\s*[:：]").expect("valid regex")
    });
    let Some(m) = LABEL.find_iter(line).last() else {
        return false;
    };
    let before = &line[..m.start()];
    let depth: i32 = before
        .chars()
        .map(|c| i32::from(OPEN.contains(&c)) - i32::from(CLOSE.contains(&c)))
        .sum();
    depth <= 0
}

/// Splits at top-level separators only, so `各县（市、区）政府` stays whole.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, c) in s.char_indices() {
        if OPEN.contains(&c) {
            depth += 1;
        } else if CLOSE.contains(&c) {
            depth -= 1;
        } else if depth <= 0 && matches!(c, '、' | '，' | ',' | '；' | ';') {
            parts.push(&s[from..i]);
            from = i + c.len_utf8();
        }
    }
    parts.push(&s[from..]);
    parts
}

/// `…。责任单位：区卫生健康局、区教育局` without brackets, ending the line (or alone on it),
/// or a last sentence `区卫生健康局牵头，区财政局、区人社局配合`.
fn find_unbracketed(line: &str) -> Option<Found> {
    static TAIL_LIST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:牵头责任单位|主要责任单位|责任单位|牵头单位|牵头部门|责任部门|负责单位|主责单位)\s*[:：][^。！？]*$")
            .expect("valid regex")
    });
    static LEAD_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|[。！？；;])\s*(由?[^。！？；;，,、]{2,30}?牵头(?:负责)?(?:[，,；;][^。！？]{2,160}?(?:配合|参与|协助|按职责分工负责|分别负责|负责))?)$")
            .expect("valid regex")
    });
    if let Some(m) = TAIL_LIST.find(line) {
        let raw = m.as_str();
        let (responsibility, doubts) = parse(raw, raw)?;
        return Some(Found {
            start: m.start(),
            end: m.end(),
            responsibility,
            doubts,
        });
    }
    let m = LEAD_SENTENCE.captures(line)?.get(1)?;
    let raw = m.as_str();
    let (responsibility, mut doubts) = parse(raw, raw)?;
    // Without brackets or a 责任单位 label only organisation names make it a list.
    if !responsibility.units.iter().all(|u| is_org(u)) {
        return None;
    }
    doubts.extend(
        Doubt::new(
            "units_guessed",
            &format!("未加括号的「{raw}」按责任单位读取"),
        )
        .ok(),
    );
    Some(Found {
        start: m.start(),
        end: m.end(),
        responsibility,
        doubts,
    })
}

/// An organisation's name, or a collective one (`各乡镇（街道）`); a note in brackets after
/// the name (`区委宣传部（区委网信办）`) does not decide.
fn is_org(u: &str) -> bool {
    let core = match u.find(['（', '(']) {
        Some(i) if i > 0 => &u[..i],
        _ => u,
    };
    ORG.is_match(core) || ORG.is_match(u) || COLLECTIVE.is_match(core)
}

/// `牵头单位：甲；配合单位：乙、丙` reads as one list led by 甲.
static HELPERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[；;，,。\s]*(?:主要)?(?:配合单位|协助单位|参与单位|协办单位|协作单位|协同单位|配合部门|参与部门|协作部门)\s*[:：]")
        .expect("valid regex")
});

fn parse(raw: &str, inner: &str) -> Option<(Responsibility, Vec<Doubt>)> {
    let (has_prefix, body) = match PREFIX.find(inner) {
        Some(m) => (true, &inner[m.end()..]),
        None => (false, inner),
    };
    let body = HELPERS.replace_all(body, "、");
    let body = NESTED_REMARK.replace_all(&body, "");
    let mut units: Vec<String> = Vec::new();
    let mut duty: Option<String> = None;
    let mut doubts = Vec::new();
    for part in split_top(&body) {
        let mut p = part.trim().trim_matches('\u{3000}').to_string();
        if p.is_empty() || REMARK.is_match(&p) {
            continue;
        }
        if let Some(m) = DUTY.find(&p) {
            duty = Some(m.as_str().to_string());
            p.truncate(m.start());
        }
        // `由甲牵头，乙配合`: the roles are words around the names.
        static ROLE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:牵头|配合|参与|协助|协同|共同)$").expect("valid regex")
        });
        let p = p.trim().strip_prefix('由').unwrap_or(p.trim()).to_string();
        if ROLE.is_match(&p) && duty.is_none() {
            duty = Some("负责".to_string());
        }
        let p = ROLE.replace(&p, "").to_string();
        let p = TAIL.replace(p.trim(), "").trim().to_string();
        if p.is_empty() {
            continue;
        }
        // `甲局和乙局`: two organisations joined by a word, split by a guess.
        match split_joined(&p) {
            Some((a, b)) => {
                doubts.extend(
                    Doubt::new(
                        "units_split_guess",
                        &format!("「{p}」按两个单位「{a}」「{b}」读取"),
                    )
                    .ok(),
                );
                units.push(a);
                units.push(b);
            }
            None => units.push(p),
        }
    }
    if units.is_empty() {
        return None;
    }
    let plausible = units.iter().all(|u| {
        let n = u.chars().count();
        (2..=40).contains(&n)
            && !u.chars().any(|c| {
                c.is_ascii_digit() || matches!(c, '：' | ':' | '。' | '…' | '%' | '％' | '“' | '”')
            })
    });
    if !plausible {
        return None;
    }
    let stated = has_prefix || duty.is_some();
    if !stated && !units.iter().all(|u| is_org(u)) {
        return None;
    }
    // Service bodies (`县融媒体中心`) are units too, but alone they do not make a list.
    let body_like = |u: &str| {
        is_org(u)
            || ["中心", "医院", "学校", "站", "所", "馆", "院"]
                .iter()
                .any(|w| u.ends_with(w))
    };
    for u in units.iter().filter(|u| !body_like(u)) {
        doubts.extend(
            Doubt::new(
                "unit_name_unusual",
                &format!("「{u}」不像单位名称，请核对责任单位的拆分"),
            )
            .ok(),
        );
    }
    let mode = match duty.as_deref() {
        Some("分别负责" | "按职责分工负责" | "按职责分别负责" | "各负其责") => {
            ResponsibilityMode::EachResponsible
        }
        _ => ResponsibilityMode::LeadFirst,
    };
    Some((
        Responsibility {
            raw: raw.to_string(),
            lead: units.first().cloned(),
            units,
            mode,
        },
        doubts,
    ))
}

/// `市卫生健康局和市教育局` → both, when each side is an organisation's name on its own.
fn split_joined(p: &str) -> Option<(String, String)> {
    for w in ["和", "及", "与"] {
        for (i, _) in p.match_indices(w) {
            let (a, b) = (&p[..i], &p[i + w.len()..]);
            if a.chars().count() >= 3 && b.chars().count() >= 3 && is_org(a) && is_org(b) {
                return Some((a.to_string(), b.to_string()));
            }
        }
    }
    None
}

/// The units of a task-allocation table's row, `raw` being the lead cell and the assisting
/// cell joined by `；`: the columns say what the cells are, so no wording is needed.
pub fn from_table(raw: &str) -> Option<(Responsibility, Vec<Doubt>)> {
    parse(raw, &format!("责任单位：{raw}"))
}

/// A line listing only assisting units (`主要协作单位：A、B`), which completes the list of the
/// line above.
pub fn helper_line(line: &str) -> Option<Found> {
    let t = line.trim();
    let m = HELPERS.find(t).filter(|m| m.start() == 0)?;
    let (responsibility, doubts) = parse(t, &format!("责任单位：{}", &t[m.end()..]))?;
    Some(Found {
        start: line.len() - line.trim_start().len(),
        end: line.trim_end().len(),
        responsibility,
        doubts,
    })
}

/// A line that is only a label such as `责任单位：`, its list on the next line.
pub fn is_prefix_only(line: &str) -> bool {
    let t = line.trim().trim_matches('\u{3000}');
    PREFIX.find(t).is_some_and(|m| m.end() == t.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(line: &str) -> Option<(Vec<String>, ResponsibilityMode)> {
        find(line).map(|f| (f.responsibility.units, f.responsibility.mode))
    }

    #[test]
    fn forms_of_unit_lists() {
        let (u, m) = units("加强建设。[责任单位:市卫生健康委、市委组织部,各区政府(含新区管委会、深汕特别合作区管委会,下同),排在第一的责任单位为牵头单位,下同]").unwrap();
        assert_eq!(u, ["市卫生健康委", "市委组织部", "各区政府"]);
        assert_eq!(m, ResponsibilityMode::LeadFirst);
        let (u, m) = units(
            "做好工作。（市卫生健康局、市委组织部、市统计局有关单位，各县（市、区）政府分别负责）",
        )
        .unwrap();
        assert_eq!(
            u,
            [
                "市卫生健康局",
                "市委组织部",
                "市统计局",
                "各县（市、区）政府"
            ]
        );
        assert_eq!(m, ResponsibilityMode::EachResponsible);
        let (u, _) = units("x（市市场监督管理局、市农业农村局、市卫生健康局、分别负责）").unwrap();
        assert_eq!(u.len(), 3);
        let (u, m) = units("x（市人力资源社会保障局、市中医药局按职责分工负责）").unwrap();
        assert_eq!(u, ["市人力资源社会保障局", "市中医药局"]);
        assert_eq!(m, ResponsibilityMode::EachResponsible);
        let (u, _) =
            units("x（市卫生健康局、市科学技术协会负责，排在第一位的为牵头单位，下同）").unwrap();
        assert_eq!(u, ["市卫生健康局", "市科学技术协会"]);
        let (u, _) = units("x〔区委宣传部（文化广电旅游体育局）、区教育局〕").unwrap();
        assert_eq!(u, ["区委宣传部（文化广电旅游体育局）", "区教育局"]);
        let (u, _) = units("x【区卫生健康局，区财政局；区民政局】").unwrap();
        assert_eq!(u.len(), 3);
        assert!(units("建设胸痛、卒中中心（胸痛中心、卒中中心、创伤中心）").is_none());
        assert!(units("成立推进委员会（以下简称推进委员会）").is_none());
        assert!(units("人均预期寿命（岁）").is_none());
        let (u, _) =
            units("加强建设。牵头单位：区卫生健康局；配合单位：区教育局、区民政局").unwrap();
        assert_eq!(u, ["区卫生健康局", "区教育局", "区民政局"]);
        let (u, _) = units("责任单位：区卫生健康局、各街道。").unwrap();
        let (u2, _) = units("牵头单位：县卫生健康局；配合单位：县民政局、各乡镇（街道）").unwrap();
        assert_eq!(u2, ["县卫生健康局", "县民政局", "各乡镇（街道）"]);
        assert_eq!(u, ["区卫生健康局", "各街道"]);
        let (u, m) = units("x（区体育局牵头负责）").unwrap();
        assert_eq!(
            (u, m),
            (vec!["区体育局".to_string()], ResponsibilityMode::LeadFirst)
        );
        let (u, _) = units("x（区体育局牵头，区教育局、区总工会参与）").unwrap();
        assert_eq!(u, ["区体育局", "区教育局", "区总工会"]);
        let (u, _) = units("加强建设。（由区卫生健康局牵头，区教育局、区民政局配合）").unwrap();
        assert_eq!(u, ["区卫生健康局", "区教育局", "区民政局"]);
        let (u, _) = units("x（县生态环境局、县住房城乡建设局，各乡镇）").unwrap();
        assert_eq!(u, ["县生态环境局", "县住房城乡建设局", "各乡镇"]);
        let (u, _) = units("x（市民政局、市卫生健康委，各县（市、区））").unwrap();
        assert_eq!(u, ["市民政局", "市卫生健康委", "各县（市、区）"]);
        let f = find("推动建设。区卫生健康局牵头，区发展改革局、区财政局配合。").unwrap();
        assert_eq!(
            f.responsibility.units,
            ["区卫生健康局", "区发展改革局", "区财政局"]
        );
        assert_eq!(f.doubts[0].code, "units_guessed");
        assert!(find("坚持以人民为中心，政府牵头，部门协作，全社会参与。").is_none());
        let f = find("x（市卫生健康局和市教育局负责）").unwrap();
        assert_eq!(f.responsibility.units, ["市卫生健康局", "市教育局"]);
        assert_eq!(f.doubts[0].code, "units_split_guess");
        let (u, _) = units("x（县文化和旅游局、区住房和城乡建设局负责）").unwrap();
        assert_eq!(u, ["县文化和旅游局", "区住房和城乡建设局"]);
        assert!(is_prefix_only("责任单位："));
        let (u, _) = units("牵头责任单位:县卫健委、县民政局").unwrap();
        assert_eq!(u, ["县卫健委", "县民政局"]);
        let h = helper_line(
            "主要协作单位:各乡镇人民政府、经济开发区管委会,县政府有关部门、有关直属单位",
        )
        .unwrap();
        assert_eq!(
            h.responsibility.units,
            ["各乡镇人民政府", "经济开发区管委会", "县政府"]
        );
        assert!(!is_prefix_only("责任单位：区卫生健康局"));
        assert!(units("(").is_none());
        assert!(units("）").is_none());
    }
}
