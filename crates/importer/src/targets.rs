//! Targets written in the prose: `到2022年和2030年，全市居民健康素养水平分别不低于25%和35%`.
//!
//! A `。`-sentence qualifies when it names a target year. Its clauses (split at ，；：) are
//! scanned for values; consecutive values joined by 和/、/及 form a list that pairs with the
//! years (`分别`), or repeats one value for every year. The subject is the wording before the
//! comparator, or the noun after a count (`引进2-3个高水平团队`).

use crate::lexicon::{bare_cmp, direction_of, CHANGE_WORDS, PREFIX_WORDS, SUFFIX_WORDS, UNITS};
use crate::num::{chinese_small, parse_f64};
use crate::table::{text_base_year, FoundTable};
use crate::text::Doc;
use crate::Counted;
use healthplan_core::{Cmp, Doubt, PlanDocument, RelativeTo, Span, TargetKind, TargetStatement};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static YEAR_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})(\s*年)?").expect("valid regex"));
static BASE_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"在\s*((?:(?:19|20)\d{2}\s*年?\s*[和、及与]?\s*)+)(?:的)?基础上")
        .expect("valid regex")
});
static CMP_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:比|较|与|同|从)\s*((?:19|20)\d{2})\s*年(?:底|末)?").expect("valid regex")
});
static ATOM: LazyLock<Regex> = LazyLock::new(|| {
    let mut units: Vec<&str> = UNITS.iter().map(|(w, _)| *w).collect();
    units.sort_by_key(|u| std::cmp::Reverse(u.len()));
    let alt = units
        .iter()
        .map(|u| regex::escape(u))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&format!(
        r"(\d+(?:\.\d+)?)(?:\s*([%％‰]))?(?:\s*[-~～—–]\s*(\d+(?:\.\d+)?))?\s*({alt})?"
    ))
    .expect("valid regex")
});
static CN_LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:达到|达|提升到|提高到)([一二三四五六七八九十]{1,2})(级)").expect("valid regex")
});
static YEAR_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:力争|争取|预计|计划)?(?:到|至|于)?\s*(?:(?:19|20)\d{2}\s*年?\s*(?:底|末)?\s*[和、及与,，]?\s*)+(?:底|末|前)?")
        .expect("valid regex")
});
/// Who a short subject such as `贫血率` borrows from the subject before it.
static POPULATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(.*?(?:儿童|居民|人群|学生|妇女|老年人|孕产妇|患者|青少年|职工|市民|婴儿|新生儿|人口))",
    )
    .expect("valid regex")
});
/// Verbs before a count of what the plan itself does, not of what it aims at.
const NOT_TARGET_VERBS: &[&str] = &[
    "实施", "开展", "组织", "涵盖", "包括", "举办", "召开", "印发", "出台", "制定", "提出", "部署",
];

/// Verbs between a comparator and a count: `至少建成1家`.
pub(crate) const COUNT_VERBS: &[&str] = &[
    "建成", "建设", "建立", "引进", "培育", "打造", "创建", "新增", "培养", "开展", "配备", "设置",
    "建有", "获批", "组建", "创成", "完成", "招聘", "推出",
];

/// The year a plan's targets count from: the table's baseline year or the five-year plan the
/// text names (十四五 → 2020); a bare `2020年` at or before it states a baseline, not a target.
pub fn base_year(doc: &Doc, tables: &[FoundTable]) -> Option<i32> {
    let table = tables.iter().filter_map(|t| t.baseline_year).max();
    let text = text_base_year(doc.text);
    table.into_iter().chain(text).max().or_else(|| {
        // Else the year before the document's latest written date (2020-05-13, 2020年5月13日).
        static DATE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"((?:19|20)\d{2})(?:-\d{1,2}-\d{1,2}|年\d{1,2}月\d{1,2}日)")
                .expect("valid regex")
        });
        DATE.captures_iter(doc.text)
            .filter_map(|c| c[1].parse::<i32>().ok())
            .max()
            .map(|y| y - 1)
    })
}

#[derive(Debug, Clone)]
struct YearGroup {
    /// Byte offset in the sentence.
    start: usize,
    years: Vec<i32>,
    /// Read from a five-year plan's name (`“十四五”末` → 2025), not written as a year.
    named: bool,
}

/// Target-year groups of a sentence; reference years (比2015年, 在2019年基础上) and periods
/// (2019—2030年) are left out.
fn year_groups(s: &str, base: Option<i32>) -> Vec<YearGroup> {
    let mut excluded: Vec<(usize, usize)> = Vec::new();
    for m in BASE_REF.find_iter(s) {
        excluded.push((m.start(), m.end()));
    }
    for m in CMP_REF.find_iter(s) {
        excluded.push((m.start(), m.end()));
    }
    // Titles in 《》.
    let mut depth = 0usize;
    let mut from = 0;
    for (i, c) in s.char_indices() {
        if c == '《' {
            if depth == 0 {
                from = i;
            }
            depth += 1;
        } else if c == '》' && depth > 0 {
            depth -= 1;
            if depth == 0 {
                excluded.push((from, i));
            }
        }
    }
    let mut groups: Vec<YearGroup> = Vec::new();
    let mut last_end: Option<usize> = None;
    let toks: Vec<regex::Captures> = YEAR_TOKEN.captures_iter(s).collect();
    for (ti, c) in toks.iter().enumerate() {
        let m = c.get(0).expect("group 0");
        let (st, en) = (m.start(), m.end());
        let prev = s[..st].chars().next_back();
        if prev.is_some_and(|p| p.is_ascii_digit() || p == '.')
            || s[c.get(1).expect("year").end()..]
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_digit())
        {
            continue;
        }
        if excluded.iter().any(|&(a, b)| st >= a && st < b) {
            continue;
        }
        let has_nian = c.get(2).is_some();
        // `2022、2030年`: a year without 年 counts when the next token has it.
        let next_has_nian = toks.get(ti + 1).is_some_and(|n| {
            n.get(2).is_some()
                && s[en..n.get(0).expect("group 0").start()]
                    .trim()
                    .chars()
                    .all(|c| matches!(c, '和' | '、' | '及' | '与' | ',' | '，'))
        });
        if !has_nian && !next_has_nian {
            continue;
        }
        let after = s[en..].trim_start();
        // Periods, dates and "since".
        if after.starts_with(['—', '-', '–', '~', '～', '至'])
            && after[after.chars().next().map_or(0, char::len_utf8)..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        if prev.is_some_and(|p| matches!(p, '—' | '-' | '–' | '~' | '～')) {
            continue;
        }
        static DATE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^\d{1,2}\s*月").expect("valid regex"));
        if DATE.is_match(after)
            || [
                "以来", "起", "开始", "以前", "之前", "前后", "度", "版", "第", "工作", "要点",
                "计划", "报告", "公报", "统计",
            ]
            .iter()
            .any(|w| after.starts_with(w))
        {
            continue;
        }
        let year: i32 = c[1].parse().unwrap_or(0);
        let joined = last_end.is_some_and(|e| {
            s[e..st]
                .trim()
                .chars()
                .all(|c| matches!(c, '和' | '、' | '及' | '与' | ',' | '，'))
                && s[e..st].chars().count() <= 2
        });
        // At or before the base year it is history (到2020年 in a plan starting 2021).
        if base.is_some_and(|b| year <= b) {
            continue;
        }
        let en2 = match after.chars().next() {
            Some(c @ ('底' | '末')) => s.len() - after.len() + c.len_utf8(),
            _ => en,
        };
        match groups.last_mut() {
            Some(g) if joined => g.years.push(year),
            _ => groups.push(YearGroup {
                start: st,
                years: vec![year],
                named: false,
            }),
        }
        last_end = Some(en2.min(s.len()));
    }
    // `到“十四五”末`: the last year of a five-year plan.
    static PLAN_END: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[“\x22]?十([一二三四五六七])五[”\x22]?(?:时期|期间)?(?:期)?末")
            .expect("valid regex")
    });
    for c in PLAN_END.captures_iter(s) {
        let Some(n) = chinese_small(&c[1]) else {
            continue;
        };
        let year = 2010 + 5 * (n as i32 + 10 - 11);
        let start = c.get(0).map_or(0, |m| m.start());
        if base.is_some_and(|b| year <= b) || excluded.iter().any(|&(a, b)| start >= a && start < b)
        {
            continue;
        }
        groups.push(YearGroup {
            start,
            years: vec![year],
            named: true,
        });
    }
    groups.sort_by_key(|g| g.start);
    groups
}

/// A number found in a clause, with what sits around it.
#[derive(Debug, Clone)]
struct Atom {
    /// Byte offsets in the clause: the value expression, before prefix words.
    start: usize,
    end: usize,
    value: f64,
    value_hi: Option<f64>,
    unit: Option<String>,
    /// From a comparator word before the value.
    prefix: Option<Option<Cmp>>,
    /// Start of the prefix word (where the subject ends).
    prefix_start: usize,
    /// Sign of a relative change (提高10%).
    change: Option<f64>,
    /// `比全国平均水平高5个百分点`: the reference series and the comparator.
    series: Option<(&'static str, Cmp)>,
    suffix: Option<Cmp>,
}

fn strip_tail<'a, 'w>(s: &'a str, words: &[&'w str]) -> Option<(&'a str, &'w str)> {
    words
        .iter()
        .filter(|w| s.ends_with(*w))
        .max_by_key(|w| w.len())
        .map(|w| (&s[..s.len() - w.len()], *w))
}

fn atoms(clause: &str) -> Vec<Atom> {
    let mut out = Vec::new();
    // (start, end, value, value_hi, unit) of each number.
    type Raw = (usize, usize, f64, Option<f64>, Option<String>);
    let mut found: Vec<Raw> = Vec::new();
    // Numbers inside quotes or titles name something (`“15分钟健身圈”`), they set no target.
    let quoted = quoted_ranges(clause);
    for c in ATOM.captures_iter(clause) {
        let m = c.get(0).expect("group 0");
        let (st, mut en) = (m.start(), m.end());
        if quoted.iter().any(|&(a, b)| a < st && st < b) {
            continue;
        }
        let prev = clause[..st].chars().next_back();
        if prev.is_some_and(|p| {
            p.is_ascii_alphanumeric()
                || matches!(p, '.' | '∶' | ':' | '/' | '第' | '每' | '约' | '近')
        }) {
            continue;
        }
        let after = &clause[en..];
        let next = after.chars().next();
        if next.is_some_and(|n| {
            (n.is_ascii_alphabetic() && c.get(4).is_none())
                || matches!(
                    n,
                    '∶' | ':'
                        | '年'
                        | '月'
                        | '日'
                        | '号'
                        | '周'
                        | '期'
                        | '类'
                        | '岁'
                        | '余'
                        | '多'
                        | '来'
                )
        }) {
            continue;
        }
        let Some(value) = parse_f64(&c[1]) else {
            continue;
        };
        let value_hi = c.get(3).and_then(|h| parse_f64(h.as_str()));
        let unit = match (c.get(2), c.get(4)) {
            (Some(p), _) => Some(if p.as_str() == "％" {
                "%".to_string()
            } else {
                p.as_str().to_string()
            }),
            (None, Some(u)) => UNITS
                .iter()
                .find(|(w, _)| *w == u.as_str())
                .map(|(_, s)| s.to_string()),
            _ => None,
        };
        // Trailing spaces belong to what follows.
        while clause[..en].ends_with(' ') {
            en -= 1;
        }
        found.push((st, en, value, value_hi, unit));
    }
    for c in CN_LEVEL.captures_iter(clause) {
        let g = c.get(1).expect("numeral");
        if let Some(v) = chinese_small(g.as_str()) {
            found.push((
                g.start(),
                c.get(2).expect("unit").end(),
                v as f64,
                None,
                Some("级".into()),
            ));
        }
    }
    found.sort_by_key(|f| f.0);
    for (st, en, value, value_hi, unit) in found {
        let before = clause[..st].trim_end();
        let (mut b, mut prefix, mut change) = (before, None, None);
        // `至少建成1家`: the comparator may sit before a verb.
        let verb_cut = strip_tail(b, COUNT_VERBS).map(|(x, _)| x.trim_end());
        for cand in [Some(b), verb_cut].into_iter().flatten() {
            let cand_nof = cand.strip_suffix("分别").unwrap_or(cand);
            if let Some((x, w)) = strip_tail(
                cand_nof,
                &PREFIX_WORDS.iter().map(|p| p.0).collect::<Vec<_>>(),
            ) {
                prefix = PREFIX_WORDS.iter().find(|p| p.0 == w).map(|p| p.1);
                b = x;
                break;
            }
            if let Some((x, w)) = strip_tail(
                cand_nof,
                &CHANGE_WORDS.iter().map(|p| p.0).collect::<Vec<_>>(),
            ) {
                change = CHANGE_WORDS.iter().find(|p| p.0 == w).map(|p| p.1);
                b = x;
                break;
            }
        }
        if prefix.is_none() && change.is_none() && b.ends_with("分别") {
            b = &b[..b.len() - "分别".len()];
        }
        // A yearly rate (`每年降低0.5个百分点`) is no value for the target year.
        if change.is_some()
            && [
                "每年",
                "年均",
                "逐年",
                "每年度",
                "较上年度",
                "较上年",
                "比上年",
                "比上一年",
            ]
            .iter()
            .any(|w| b.trim_end().ends_with(w))
        {
            continue;
        }
        static SERIES: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:比|较)?(全国|国家|全省|省|全市|市)(?:同期)?(?:平均)?水平(高出|高于|高|提高|低于|低出|低)$")
                .expect("valid regex")
        });
        let mut series = None;
        if prefix.is_none() && change.is_none() {
            if let Some(c) = SERIES.captures(before) {
                let name = match &c[1] {
                    "全国" | "国家" => "national_average",
                    "全省" | "省" => "province_average",
                    _ => "city_average",
                };
                let cmp = if c[2].starts_with('低') {
                    Cmp::Le
                } else {
                    Cmp::Ge
                };
                series = Some((name, cmp));
                b = &before[..c.get(0).map_or(before.len(), |m| m.start())];
            }
        }
        let after = clause[en..].trim_start();
        let suffix = SUFFIX_WORDS
            .iter()
            .find(|(w, _)| after.starts_with(w))
            .map(|(w, c)| (*w, *c));
        // Qualifiers, not targets: `15岁以上人群`, `600名学生以上的学校`.
        if prefix.is_none() && change.is_none() && series.is_none() {
            if let Some((w, _)) = suffix {
                let rest = &after[w.len()..];
                if rest
                    .chars()
                    .next()
                    .is_some_and(|c| is_han(c) && !matches!(c, '的' | '和' | '及' | '或'))
                {
                    continue;
                }
            }
            let han: String = after.chars().take_while(|c| is_han(*c)).take(6).collect();
            if let Some(p) = han.find("以上").or_else(|| han.find("以下")) {
                let pre = &han[..p];
                if (1..=3).contains(&pre.chars().count()) && !pre.ends_with('及') {
                    continue;
                }
            }
        }
        // Ages are qualifiers (`15岁以上人群`) unless a comparator makes them the value
        // (`达到80岁以上，`).
        let qualifies = |rest: &str| {
            rest.chars()
                .next()
                .is_some_and(|c| is_han(c) && !matches!(c, '的' | '和' | '及' | '或'))
        };
        let qualifier = match suffix {
            Some((w, _)) => qualifies(&after[w.len()..]),
            None => qualifies(after),
        };
        // The second age of a list (`分别不低于79.2岁和80岁`) has its comparator before the first.
        let listed = ["和", "、", "及"].iter().any(|j| {
            before
                .strip_suffix(j)
                .is_some_and(|x| x.trim_end().ends_with("岁"))
        });
        // A life expectancy written without a verb (`2030年人均寿命80岁`) is its value too.
        let life = before.contains("寿命") && after.chars().next().is_none_or(|c| !is_han(c));
        if unit.as_deref() == Some("岁") && ((prefix.is_none() && !listed && !life) || qualifier) {
            continue;
        }
        // A starting point (`从2015年的5.28‰降到…`) is no target.
        static FROM: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"从\s*(?:(?:19|20)\d{2}\s*年(?:底|末)?)?\s*的?$").expect("valid regex")
        });
        if FROM.is_match(before) {
            continue;
        }
        // A count of what the plan does (`实施16项专项行动`) sets no target.
        if prefix.is_none()
            && change.is_none()
            && series.is_none()
            && suffix.is_none()
            && NOT_TARGET_VERBS.iter().any(|w| b.trim_end().ends_with(w))
        {
            continue;
        }
        out.push(Atom {
            start: st,
            end: en,
            value,
            value_hi,
            unit,
            prefix,
            prefix_start: b.len(),
            change,
            series,
            suffix: suffix.map(|s| s.1),
        });
    }
    out
}

/// `基地（甲基地、乙基地）` → `基地`: an explanatory list after the noun.
fn strip_trailing_group(s: &str) -> &str {
    let t = s.trim_end();
    match crate::table::trailing_group_start(t) {
        Some(i) if i > 0 => &t[..i],
        _ => t,
    }
}

/// Byte ranges of the quoted or titled parts of a clause.
fn quoted_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(char, usize)> = None;
    for (i, c) in s.char_indices() {
        match (open, c) {
            (None, '“' | '《' | '「' | '『') => open = Some((c, i)),
            (Some(('“', a)), '”')
            | (Some(('《', a)), '》')
            | (Some(('「', a)), '」')
            | (Some(('『', a)), '』') => {
                out.push((a, i));
                open = None;
            }
            _ => {}
        }
    }
    out
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Splits at top-level `，；：` (not inside brackets or quotes); returns byte ranges.
fn clauses(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, c) in s.char_indices() {
        match c {
            '（' | '(' | '《' | '“' | '【' | '[' => depth += 1,
            '）' | ')' | '》' | '”' | '】' | ']' => depth -= 1,
            '，' | ',' | '；' | ';' | '：' | ':'
                if depth <= 0
                    && !(c == ':' && s[i + 1..].starts_with(|d: char| d.is_ascii_digit())) =>
            {
                out.push((from, i));
                from = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push((from, s.len()));
    out
}

/// The subjects of `A、B、C` (split at top-level `、`), each long enough to name something.
fn split_subjects(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, c) in s.char_indices() {
        match c {
            '（' | '(' | '“' | '《' => depth += 1,
            '）' | ')' | '”' | '》' => depth -= 1,
            '、' if depth <= 0 => {
                parts.push(s[from..i].trim().to_string());
                from = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(s[from..].trim().to_string());
    if parts.iter().all(|p| p.chars().count() >= 3) {
        parts
    } else {
        vec![s.to_string()]
    }
}

/// Where the words between two value lists divide: at the first `、`, else at the first
/// `和`/`及` (so `地级及以上城市` after a `、` stays whole).
fn list_split(region: &str) -> Option<usize> {
    region.find('、').or_else(|| region.find(['和', '及']))
}

/// The subject around a year phrase: the words after the last year (`建设 2035年人均期望寿命`),
/// or before it when nothing follows (`人均预期寿命2025年达到`).
fn around_year(s: &str) -> &str {
    let han = |t: &str| tidy_subject(t).chars().filter(|c| is_han(*c)).count();
    match YEAR_PHRASE
        .find_iter(s)
        .filter(|m| !m.as_str().trim().is_empty())
        .last()
    {
        // A few words after the year are its verbs (`到2030年将达到`), not a subject.
        Some(m) if m.start() > 0 && han(&s[m.end()..]) > 3 => &s[m.end()..],
        _ => s,
    }
}

/// Cleans a subject: year phrases, list separators and filler words off the ends.
fn tidy_subject(s: &str) -> String {
    // A starting value left by `从2015年的73.25岁` is no part of the subject.
    static TRAILING_VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"的?\d+(?:\.\d+)?\s*(?:[%％‰岁歲]|/10万)?$").expect("valid regex")
    });
    let s = YEAR_PHRASE.replace_all(s, "");
    let s = TRAILING_VALUE.replace(s.trim(), "");
    let mut t: &str = s.trim();
    loop {
        let before = t;
        for w in [
            "、",
            "和",
            "及",
            "与",
            "，",
            ",",
            "的",
            "并",
            "要",
            "使",
            "其中",
            "力争",
            "争取",
            "分别",
            "各",
            " ",
            "将实现",
            "将",
            "進一步",
            "进一步",
            "继续",
            "持续",
            "實現",
            "实现",
            "包括:",
            "包括：",
            "包括",
            ":",
            "：",
            "將",
            "並",
            "與",
            "分別",
        ] {
            t = t.trim_start_matches(w).trim_end_matches(w).trim();
        }
        if t == before {
            break;
        }
    }
    t.to_string()
}

struct List {
    atoms: Vec<Atom>,
}

/// All target statements in the running text (tables and tab-led lines are skipped).
pub fn extract(
    doc: &Doc,
    tables: &[FoundTable],
    base: Option<i32>,
) -> Result<Vec<TargetStatement>, Counted> {
    let mut out = Vec::new();
    let in_table = crate::table::covered(doc, tables);
    for l in &doc.lines {
        if l.is_blank() || l.is_cell() || in_table[l.no] {
            continue;
        }
        let mut from = 0;
        let text = l.text;
        let mut ends: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| matches!(c, '。' | '！' | '？'))
            .map(|(i, c)| i + c.len_utf8())
            .collect();
        if ends.last() != Some(&text.len()) {
            ends.push(text.len());
        }
        for end in ends {
            let sentence = &text[from..end];
            let s_start = from;
            from = end;
            if sentence.trim().is_empty() {
                continue;
            }
            // Traditional characters read through their simplified forms; subjects and
            // sentences are kept as written (the mapping keeps every byte offset).
            let simple = crate::lexicon::simplified(sentence);
            let groups = year_groups(&simple, base);
            if groups.is_empty() {
                continue;
            }
            sentence_targets(l, s_start, (&simple, sentence), &groups, &mut out);
            if out.len() > Counted::TargetStatements.max() {
                return Err(Counted::TargetStatements);
            }
        }
    }
    Ok(out)
}

fn sentence_targets(
    line: &crate::text::Line,
    s_start: usize,
    (sentence, written): (&str, &str),
    groups: &[YearGroup],
    out: &mut Vec<TargetStatement>,
) {
    let mut last_subject = String::new();
    // Segments between ；, for the statement's sentence and span.
    let segs: Vec<(usize, usize)> = {
        let mut v = Vec::new();
        let mut f = 0;
        for (i, c) in sentence.char_indices() {
            if c == '；' || c == ';' {
                v.push((f, i + c.len_utf8()));
                f = i + c.len_utf8();
            }
        }
        v.push((f, sentence.len()));
        v
    };
    for (c0, c1) in clauses(sentence) {
        let clause = &sentence[c0..c1];
        let oclause = &written[c0..c1];
        service_ratio(line, s_start, sentence, (c0, c1), groups, out);
        let found = atoms(clause);
        if found.is_empty() {
            continue;
        }
        // Group into lists: the next value follows after only a separator.
        let mut lists: Vec<List> = Vec::new();
        for a in found {
            let joins = lists.last().is_some_and(|l| {
                let p = l.atoms.last().expect("non-empty list");
                let gap = &clause[p.end..a.start];
                let gap = SUFFIX_WORDS
                    .iter()
                    .find_map(|(w, _)| gap.trim_start().strip_prefix(w))
                    .unwrap_or(gap);
                a.prefix.is_none()
                    && a.change.is_none()
                    && gap.trim().chars().count() <= 1
                    && gap
                        .trim()
                        .chars()
                        .all(|c| matches!(c, '和' | '、' | '及' | '与' | '或' | '至'))
            });
            if joins {
                if let Some(l) = lists.last_mut() {
                    l.atoms.push(a);
                }
            } else {
                lists.push(List { atoms: vec![a] });
            }
        }
        let n_lists = lists.len();
        for li in 0..n_lists {
            let list = &lists[li];
            let head = &list.atoms[0];
            let tail = list.atoms.last().expect("non-empty list");
            // Before: from the previous list's noun (after its last separator) to the comparator.
            let prev_end = if li == 0 {
                0
            } else {
                lists[li - 1].atoms.last().expect("non-empty").end
            };
            let region_at = prev_end..head.prefix_start.max(prev_end);
            let region = &clause[region_at.clone()];
            let before = if li == 0 {
                &oclause[region_at]
            } else {
                match list_split(region) {
                    Some(i) => &oclause[prev_end + i..head.prefix_start.max(prev_end)],
                    None => "",
                }
            };
            // After: the noun following a count, up to the next list's region split.
            let next_start = if li + 1 < n_lists {
                let nxt = &lists[li + 1].atoms[0];
                let reg = &clause[tail.end..nxt.prefix_start.max(tail.end)];
                tail.end + list_split(reg).unwrap_or(reg.len())
            } else {
                clause.len()
            };
            let mut after = &oclause[tail.end..next_start.max(tail.end)];
            let after_trim = after.trim_start();
            if let Some((w, _)) = SUFFIX_WORDS.iter().find(|(w, _)| after_trim.starts_with(w)) {
                after = &after_trim[w.len()..];
            }
            let after = tidy_subject(strip_trailing_group(
                after
                    .trim_start_matches('的')
                    .trim_end_matches(['。', '！', '？', '；', ';']),
            ));
            let before_t = CMP_REF
                .replace_all(&BASE_REF.replace_all(around_year(before), ""), "")
                .to_string();
            let before_t = tidy_subject(&before_t);
            // Relative change wording (在2019年和2022年基础上提高10%) before the value.
            // Only the words just before the value can name its reference year.
            let mut w0 = head.start.saturating_sub(120);
            while !clause.is_char_boundary(w0) {
                w0 += 1;
            }
            let window = &clause[w0..head.start];
            let rel_years: Vec<i32> = BASE_REF
                .captures(window)
                .or_else(|| CMP_REF.captures(window))
                .map(|c| {
                    YEAR_TOKEN
                        .captures_iter(&c[1])
                        .filter_map(|y| y[1].parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            let before_t = BASE_REF.replace_all(&before_t, "").to_string();
            let before_t = CMP_REF.replace_all(&before_t, "").trim().to_string();
            let before_t = tidy_subject(&before_t);
            let mut subject = format!("{before_t}{after}");
            let mut doubts: Vec<Doubt> = Vec::new();
            if before_t.is_empty() && after.chars().count() <= 3 && !last_subject.is_empty() {
                subject = last_subject.clone();
                doubts.extend(
                    Doubt::new(
                        "subject_inferred",
                        &format!("句中未写指标，沿用前文的「{subject}」"),
                    )
                    .ok(),
                );
            } else if subject.chars().count() <= 4 && !last_subject.is_empty() {
                if let Some(c) = POPULATION.captures(&last_subject) {
                    if !subject.starts_with(&c[1]) {
                        let short = subject.clone();
                        subject = format!("{}{subject}", &c[1]);
                        doubts.extend(
                            Doubt::new(
                                "subject_inferred",
                                &format!("「{short}」按前文补全为「{subject}」"),
                            )
                            .ok(),
                        );
                    }
                }
            }
            if subject.is_empty() {
                continue;
            }
            last_subject = subject.clone();
            // Years in force: the last group before the value, else the first one.
            let pos = c0 + head.start;
            let group = groups
                .iter()
                .rev()
                .find(|g| g.start < pos)
                .or_else(|| groups.first())
                .expect("groups is not empty");
            let years = &group.years;
            let n = list.atoms.len();
            let year_text = years
                .iter()
                .map(|y| format!("{y}年"))
                .collect::<Vec<_>>()
                .join("、");
            if group.named {
                doubts.extend(
                    Doubt::new(
                        "year_inferred",
                        &format!("目标年由规划期末推得：{year_text}"),
                    )
                    .ok(),
                );
            }
            if group.start > pos {
                doubts.extend(
                    Doubt::new(
                        "year_inferred",
                        &format!("数值写在年份之前，按句中的{year_text}读取"),
                    )
                    .ok(),
                );
            }
            // `A、B、C分别下降到X、Y、Z` in one year: each subject takes its value in order.
            let subjects: Vec<String> = match split_subjects(&subject) {
                parts if n > 1 && years.len() == 1 && parts.len() == n => parts,
                _ => vec![subject.clone(); n.max(1)],
            };
            let paired = subjects.len() > 1 && subjects[0] != subjects[1];
            if n != years.len() && n != 1 && !paired {
                doubts.extend(
                    Doubt::new(
                        "year_inferred",
                        &format!(
                            "{n}个数值对应{}个年份（{year_text}），按顺序对应",
                            years.len()
                        ),
                    )
                    .ok(),
                );
            }
            let pairs: Vec<(i32, &Atom, usize)> = if n == years.len() {
                years
                    .iter()
                    .zip(&list.atoms)
                    .enumerate()
                    .map(|(k, (y, a))| (*y, a, k))
                    .collect()
            } else if n == 1 {
                years
                    .iter()
                    .enumerate()
                    .map(|(k, y)| (*y, head, k))
                    .collect()
            } else {
                list.atoms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| (years[k.min(years.len() - 1)], a, k))
                    .collect()
            };
            let list_suffix = tail.suffix;
            let (seg_a, seg_b) = segs
                .iter()
                .copied()
                .find(|&(a, b)| pos >= a && pos < b)
                .unwrap_or((0, sentence.len()));
            let seg_text = written[seg_a..seg_b].trim();
            let lead = written[seg_a..seg_b].len() - written[seg_a..seg_b].trim_start().len();
            let span = Span::new(
                line.char_at(s_start + seg_a + lead),
                line.char_at(s_start + seg_a + lead + seg_text.len()),
            );
            for (year, a, k) in pairs {
                // One crafted sentence can pair thousands of years with thousands of values.
                if out.len() > Counted::TargetStatements.max() {
                    return;
                }
                let unit = a.unit.clone().or_else(|| tail.unit.clone());
                let change = head.change;
                let mut st = TargetStatement {
                    sentence: seg_text.to_string(),
                    span,
                    year,
                    subject: subjects[k.min(subjects.len() - 1)].clone(),
                    kind: TargetKind::Threshold,
                    cmp: None,
                    value: Some(a.value),
                    value_hi: None,
                    unit: unit.clone(),
                    relative_to: None,
                    indicator: None,
                    doubts: doubts.clone(),
                    extra: BTreeMap::new(),
                };
                if let Some((name, cmp)) = head.series {
                    st.kind = TargetKind::ReferenceRelative;
                    st.cmp = Some(cmp);
                    st.relative_to = Some(RelativeTo::Series(name.to_string()));
                } else if let Some(hi) = a.value_hi {
                    if hi < a.value {
                        continue;
                    }
                    st.kind = TargetKind::Range;
                    st.value_hi = Some(hi);
                } else if let Some(sign) =
                    change.filter(|_| matches!(unit.as_deref(), Some("%" | "个百分点")))
                {
                    st.kind = TargetKind::RelativeChange;
                    st.value = Some(sign * a.value);
                    st.relative_to = Some(
                        match rel_years.get(k.min(rel_years.len().saturating_sub(1))) {
                            Some(y) if !rel_years.is_empty() => RelativeTo::Year(*y),
                            _ => RelativeTo::Baseline,
                        },
                    );
                } else if change.is_some() {
                    continue;
                } else {
                    let cmp = match head.prefix {
                        Some(Some(c)) => c,
                        _ => a
                            .suffix
                            .or(list_suffix)
                            .unwrap_or_else(|| bare_cmp(direction_of(&st.subject))),
                    };
                    st.cmp = Some(cmp);
                }
                out.push(st);
            }
        }
    }
}

/// `每2万人口左右有一家社区健康服务机构`: one facility per N people, as the population each
/// facility serves.
fn service_ratio(
    line: &crate::text::Line,
    s_start: usize,
    sentence: &str,
    (c0, c1): (usize, usize),
    groups: &[YearGroup],
    out: &mut Vec<TargetStatement>,
) {
    static RATIO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"每\s*(\d+(?:\.\d+)?)\s*(万|千)?\s*(?:常住)?人口?(左右|以内)?(?:就|至少)?(?:拥有|有|设置|设立|配置|配备|建有|建设)\s*(?:一|1)\s*([家个所辆名张支])([^，。；,;]{2,30})")
            .expect("valid regex")
    });
    let clause = &sentence[c0..c1];
    let Some(c) = RATIO.captures(clause) else {
        return;
    };
    let Some(v) = parse_f64(&c[1]) else { return };
    let pos = c0 + c.get(0).map_or(0, |m| m.start());
    let Some(group) = groups
        .iter()
        .rev()
        .find(|g| g.start < pos)
        .or_else(|| groups.first())
    else {
        return;
    };
    let cmp = match c.get(3).map(|m| m.as_str()) {
        Some("左右") => Cmp::Eq,
        _ => Cmp::Le,
    };
    let unit = format!("{}人", c.get(2).map_or("", |m| m.as_str()));
    let subject = format!("每{}{}服务人口", &c[4], c[5].trim());
    let _ = c1;
    let text = sentence.trim();
    let lead = sentence.len() - sentence.trim_start().len();
    let span = Span::new(
        line.char_at(s_start + lead),
        line.char_at(s_start + lead + text.len()),
    );
    for &year in &group.years {
        out.push(TargetStatement {
            sentence: text.to_string(),
            span,
            year,
            subject: subject.clone(),
            kind: TargetKind::Threshold,
            cmp: Some(cmp),
            value: Some(v),
            value_hi: None,
            unit: Some(unit.clone()),
            relative_to: None,
            indicator: None,
            doubts: Vec::new(),
            extra: BTreeMap::new(),
        });
    }
}

pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '（' | '）' | '(' | ')' | '“' | '”' | '《' | '》')
        })
        .collect()
}

/// Sorted, deduplicated char bigrams.
fn bigrams(s: &str) -> Vec<(char, char)> {
    let v: Vec<char> = s.chars().collect();
    let mut b: Vec<(char, char)> = v.windows(2).map(|w| (w[0], w[1])).collect();
    b.sort_unstable();
    b.dedup();
    b
}

fn dice(x: &[(char, char)], y: &[(char, char)]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * both as f64 / (x.len() + y.len()) as f64
}

/// Links statements to the indicator they name, and tasks to the statements inside them.
pub fn link(plan: &mut PlanDocument) {
    // Distinct names only: a name repeated across tables links to its first indicator.
    type Name = (String, Vec<(char, char)>, usize);
    let mut names: Vec<Name> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, ind) in plan.indicators.iter().enumerate() {
        let n = norm(&ind.name);
        if !n.is_empty() && seen.insert(n.clone()) {
            let b = bigrams(&n);
            names.push((n, b, i));
        }
    }
    let mut memo: std::collections::HashMap<String, Option<usize>> = Default::default();
    for st in &mut plan.target_statements {
        let subj = norm(&st.subject);
        if let Some(hit) = memo.get(&subj) {
            st.indicator = *hit;
            continue;
        }
        let sb = bigrams(&subj);
        let best = names
            .iter()
            .map(|(n, nb, i)| {
                let s = if subj.contains(n.as_str()) || n.contains(subj.as_str()) {
                    1.0
                } else {
                    dice(&sb, nb)
                };
                (*i, s)
            })
            .filter(|&(_, s)| s >= 0.7)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        st.indicator = best.map(|(i, _)| i);
        memo.insert(subj, st.indicator);
    }
    // Statements come in text order, so each task's are a contiguous run.
    let starts: Vec<i64> = plan
        .target_statements
        .iter()
        .map(|s| s.span.start)
        .collect();
    for task in &mut plan.tasks {
        if !task.span.is_known() {
            continue;
        }
        let from = starts.partition_point(|&s| s < task.span.start);
        task.targets = (from..starts.len())
            .take_while(|&i| starts[i] < task.span.end)
            .filter(|&i| plan.target_statements[i].span.end <= task.span.end)
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<TargetStatement> {
        let doc = Doc::new(text);
        extract(&doc, &[], Some(2020)).unwrap()
    }

    #[test]
    fn respective_years_and_values() {
        let s = run("到2022年和2030年，全市居民健康素养水平分别不低于25%和35%。");
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].year, s[0].value, s[0].cmp),
            (2022, Some(25.0), Some(Cmp::Ge))
        );
        assert_eq!((s[1].year, s[1].value), (2030, Some(35.0)));
        assert_eq!(s[0].subject, "全市居民健康素养水平");
    }

    #[test]
    fn relative_change_and_carried_population() {
        let s = run("到2022年和2030年，居民营养健康知识知晓率分别在2019年和2022年基础上提高10%，5岁以下儿童生长迟缓率分别低于7%和5%、贫血率分别低于10%和9%。");
        assert_eq!(s.len(), 6, "{s:#?}");
        assert_eq!(s[0].kind, TargetKind::RelativeChange);
        assert_eq!(s[1].relative_to, Some(RelativeTo::Year(2022)));
        assert_eq!(s[4].subject, "5岁以下儿童贫血率");
        assert_eq!(s[4].cmp, Some(Cmp::Lt));
    }

    #[test]
    fn end_of_a_five_year_plan_is_a_target_year() {
        let s = run("到“十四五”末，每千人口拥有执业（助理）医师数达到3.5人。");
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].year, s[0].value), (2025, Some(3.5)));
        assert!(run("“十三五”末，全区床位数为2000张。").is_empty());
    }

    #[test]
    fn baselines_and_qualifiers_are_not_targets() {
        assert!(run("2020年，我市人均预期寿命达80.62岁，婴儿死亡率下降到2.32‰。").is_empty());
        let s = run("到2022年和2030年，18岁以上居民糖尿病知晓率分别达到50%及以上和60%及以上。");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].value, Some(50.0));
        assert!(run("建成11家医院。").is_empty());
    }

    #[test]
    fn counts_ranges_and_lower_is_better() {
        let s = run("到 2025 年，引进专职科研人员 350 人，引进 2-3 个高水平团队。");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].kind, TargetKind::Range);
        assert_eq!(s[1].subject, "引进高水平团队");
        let s = run("到2022年和2030年，婴儿死亡率分别控制在6‰及以下和4‰及以下，孕产妇死亡率分别下降到15/10万及以下和12/10万及以下。");
        assert_eq!(s.len(), 4);
        assert_eq!(s[2].unit.as_deref(), Some("1/10万"));
        assert!(s.iter().all(|t| t.cmp == Some(Cmp::Le)));
    }
}
