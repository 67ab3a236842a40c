//! Indicator tables. Word tables reach us in the text layout of the exports (and of
//! [`crate::docx`]): each cell on a line led by a tab, a cell's further paragraphs on untabbed
//! lines, and a blank line before each new row. The header is found by its keywords; rows are
//! aligned to it even when cells were merged.

use crate::lexicon::{bare_cmp, direction_of, PREFIX_WORDS, SUFFIX_WORDS};
use crate::num::parse_f64;
use crate::text::{Doc, Line};
use crate::Warning;
use healthplan_core::{
    Baseline, Cmp, Direction, Indicator, Property, RelativeTo, Span, Target, TargetKind,
    PERCENTAGE_POINTS,
};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(20\d{2}|19\d{2})\s*年").expect("valid regex"));
static HEADER_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"序号|指标|名称|领域|编号").expect("valid regex"));
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:第[一二三四五六七八九十百零〇\d]+[章节篇部分]|[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十]+[）)]|专栏|附件)")
        .expect("valid regex")
});

/// One cell of the text layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Paragraphs of the cell joined by `\n`.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

impl Cell {
    /// Text with line breaks and spaces inside removed.
    pub fn flat(&self) -> String {
        self.text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
            .collect()
    }
}

/// A table in the text layout: lines `first..=last` of the cleaned text.
#[derive(Debug, Clone)]
pub struct Region {
    pub first_line: usize,
    pub last_line: usize,
    pub rows: Vec<Vec<Cell>>,
}

/// An indicator table found in the text.
#[derive(Debug, Clone)]
pub struct FoundTable {
    pub first_line: usize,
    pub last_line: usize,
    pub caption: Option<String>,
    pub baseline_year: Option<i32>,
    pub target_years: Vec<i32>,
    pub indicators: Vec<Indicator>,
}

impl FoundTable {
    pub fn contains_line(&self, no: usize) -> bool {
        (self.first_line..=self.last_line).contains(&no)
    }
}

fn next_nonblank<'a>(lines: &'a [Line<'a>], from: usize) -> Option<&'a Line<'a>> {
    lines[from..].iter().find(|l| !l.is_blank())
}

/// All tables in the tab-cell layout whose first cell looks like a header.
pub fn regions(doc: &Doc) -> Vec<Region> {
    let lines = &doc.lines;
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if !(l.is_cell() && HEADER_WORD.is_match(l.text)) {
            i += 1;
            continue;
        }
        let first = i;
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            let m = &lines[j];
            if m.is_cell() {
                last = j;
            } else if !m.is_blank() {
                let short = m.text.trim().chars().count() <= 30;
                let more = next_nonblank(lines, j + 1).is_some_and(|n| n.is_cell());
                if short && more && !HEADING.is_match(m.text) {
                    last = j;
                } else {
                    break;
                }
            }
            j += 1;
        }
        out.push(Region {
            first_line: first,
            last_line: last,
            rows: cells_of(&lines[first..=last]),
        });
        i = last + 1;
    }
    out
}

fn cells_of(lines: &[Line]) -> Vec<Vec<Cell>> {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut blanks = 0;
    for l in lines {
        // A whole row on one line, cells between tabs.
        if l.is_cell() && l.text[1..].trim_end().contains('\t') {
            let mut row = Vec::new();
            let mut at = l.start;
            for (k, part) in l.text.split('\t').enumerate() {
                let n = part.chars().count();
                if k > 0 {
                    row.push(Cell {
                        text: part.trim().to_string(),
                        start: at,
                        end: at + n,
                    });
                }
                at += n + 1;
            }
            rows.push(row);
            blanks = 1;
            continue;
        }
        if l.is_cell() {
            if blanks > 0 || rows.is_empty() {
                rows.push(Vec::new());
            }
            blanks = 0;
            let text = &l.text[1..];
            if let Some(r) = rows.last_mut() {
                r.push(Cell {
                    text: text.trim_end().to_string(),
                    start: l.start + 1,
                    end: l.end(),
                });
            }
        } else if l.is_blank() {
            blanks += 1;
        } else if let Some(c) = rows.last_mut().and_then(|r| r.last_mut()) {
            for _ in 0..=blanks {
                c.text.push('\n');
            }
            c.text.push_str(l.text.trim_end());
            c.end = l.end();
            blanks = 0;
        }
    }
    rows
}

#[derive(Debug, Clone, PartialEq)]
enum Col {
    Serial,
    Name,
    Domain,
    Unit,
    Baseline(Option<i32>),
    Target(i32),
    Reference(String),
    Property,
    Other,
}

fn year_in(s: &str) -> Option<i32> {
    YEAR.captures(s).and_then(|c| c[1].parse().ok())
}

fn classify(h: &str, base_year: Option<i32>) -> Col {
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    if has(&["序号", "编号"]) {
        return Col::Serial;
    }
    if has(&["属性", "性质", "类型"]) {
        return Col::Property;
    }
    if has(&["领域", "类别", "分类", "维度"]) {
        return Col::Domain;
    }
    if h == "单位" || has(&["计量单位", "指标单位"]) {
        return Col::Unit;
    }
    if has(&["基期", "基线", "现状", "基数", "基准", "基础值", "现值"]) {
        return Col::Baseline(year_in(h));
    }
    // A period such as `2021—2025年` heads a schedule, not a target year.
    static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:19|20)\d{2}\s*年?\s*[-—–~～至到]\s*(?:19|20)\d{2}").expect("valid regex")
    });
    if YEAR.find_iter(h).count() > 1 || PERIOD.is_match(h) {
        return Col::Other;
    }
    if let Some(y) = year_in(h) {
        let level = if has(&["全国", "国家"]) {
            Some("national")
        } else if h.contains('省') {
            Some("province")
        } else if h.contains('市') && !h.contains("本市") {
            Some("city")
        } else if h.contains('区') && !h.contains("本区") {
            Some("district")
        } else {
            None
        };
        if let Some(level) = level {
            return Col::Reference(format!("{level}_{y}"));
        }
        if base_year.is_some_and(|b| y <= b) && !has(&["目标", "预期"]) {
            return Col::Baseline(Some(y));
        }
        return Col::Target(y);
    }
    if has(&["目标值", "指标值", "预期值", "规划值"]) {
        return Col::Other;
    }
    if has(&["指标", "名称", "项目", "内容"]) {
        return Col::Name;
    }
    Col::Other
}

/// Columns of a header over one or more rows. A group cell such as `目标值` over a second
/// row of years stands for those year columns.
fn header_cols(rows: &[Vec<Cell>], base: Option<i32>) -> Vec<Col> {
    let class = |c: &Cell| classify(&c.flat(), base);
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut cols: Vec<Col> = first.iter().map(class).collect();
    let mut texts: Vec<String> = first.iter().map(Cell::flat).collect();
    let mut groups: Vec<usize> = first
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let t = c.flat();
            year_in(&t).is_none()
                && ["目标", "指标值", "预期值", "规划值"]
                    .iter()
                    .any(|w| t.contains(w))
        })
        .map(|(i, _)| i)
        .collect();
    for r in &rows[1..] {
        let sub: Vec<Col> = r.iter().map(class).collect();
        let yearly = !sub.is_empty()
            && sub
                .iter()
                .all(|c| matches!(c, Col::Target(_) | Col::Reference(_) | Col::Baseline(_)));
        match groups.first().copied() {
            Some(g) if yearly => {
                let n = sub.len();
                cols.splice(g..=g, sub);
                texts.splice(g..=g, r.iter().map(|c| format!("{}目标", c.flat())));
                groups.remove(0);
                for later in &mut groups {
                    *later += n - 1;
                }
            }
            _ => {
                cols.extend(sub);
                texts.extend(r.iter().map(Cell::flat));
            }
        }
    }
    // `2020年 | 2025年目标`: a bare year before the years marked as targets is the baseline.
    let marked = |t: &str| ["目标", "预期", "规划"].iter().any(|w| t.contains(w));
    let first_marked = cols
        .iter()
        .zip(&texts)
        .filter_map(|(c, t)| match c {
            Col::Target(y) if marked(t) => Some(*y),
            _ => None,
        })
        .min();
    if let Some(m) = first_marked {
        for (c, t) in cols.iter_mut().zip(&texts) {
            if let Col::Target(y) = *c {
                if y < m && !marked(t) {
                    *c = Col::Baseline(Some(y));
                }
            }
        }
    }
    cols
}

fn is_serial(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.len() <= 4 && t.chars().all(|c| c.is_ascii_digit())
}

/// Finds the indicator tables. `warnings` gets rows that could not be read.
pub fn find_tables(doc: &Doc, warnings: &mut Vec<Warning>) -> Vec<FoundTable> {
    let base = text_base_year(doc.text);
    let mut out = Vec::new();
    for region in regions(doc) {
        if let Some(t) = read_table(doc, &region, base, warnings) {
            out.push(t);
        }
    }
    out
}

/// The year before the plan's period when the text names it as a five-year plan
/// (`十四五` → 2020), the latest such mention winning.
pub fn text_base_year(text: &str) -> Option<i32> {
    const PLANS: &[(&str, i32)] = &[
        ("十二五", 2010),
        ("十三五", 2015),
        ("十四五", 2020),
        ("十五五", 2025),
        ("十六五", 2030),
    ];
    PLANS
        .iter()
        .filter(|(w, _)| text.contains(w))
        .map(|&(_, y)| y)
        .max()
}

/// Rows split by serial numbers, for tables whose rows are not separated by blank lines.
fn split_by_serial(rows: &[Vec<Cell>]) -> Vec<Vec<Cell>> {
    let cells: Vec<Cell> = rows.iter().flatten().cloned().collect();
    let mut out: Vec<Vec<Cell>> = vec![Vec::new()];
    let mut next = 1u32;
    for c in cells {
        if is_serial(&c.text) && c.text.trim().parse::<u32>().ok() == Some(next) {
            out.push(Vec::new());
            next += 1;
        }
        if let Some(r) = out.last_mut() {
            r.push(c);
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

fn read_table(
    doc: &Doc,
    region: &Region,
    base: Option<i32>,
    warnings: &mut Vec<Warning>,
) -> Option<FoundTable> {
    let mut rows = region.rows.clone();
    // A data row has its serial number first, or second after a domain cell.
    let first_data = |rows: &[Vec<Cell>]| {
        rows.iter()
            .position(|r| r.iter().take(2).any(|c| is_serial(&c.text)))
    };
    // Without serial numbers the first row is the header.
    let mut hdr_rows = match first_data(&rows) {
        Some(h) => h,
        None if rows.len() >= 2 => 1,
        None => return None,
    };
    let header_len: usize = rows[..hdr_rows].iter().map(Vec::len).sum();
    if hdr_rows == 0
        || rows[hdr_rows..]
            .iter()
            .any(|r| r.len() > header_len + header_len / 2 + 1)
    {
        let split = split_by_serial(&rows);
        if let Some(h) = first_data(&split).filter(|&h| h > 0) {
            rows = split;
            hdr_rows = h;
        }
    }
    if hdr_rows == 0 {
        return None;
    }
    let cols = header_cols(&rows[..hdr_rows], base);
    if !cols.contains(&Col::Name)
        || !cols
            .iter()
            .any(|c| matches!(c, Col::Target(_) | Col::Reference(_)))
    {
        return None;
    }
    let baseline_year = cols.iter().find_map(|c| match c {
        Col::Baseline(y) => *y,
        _ => None,
    });
    let target_years: Vec<i32> = cols
        .iter()
        .filter_map(|c| match c {
            Col::Target(y) => Some(*y),
            _ => None,
        })
        .collect();
    let caption = doc.lines[..region.first_line]
        .iter()
        .rev()
        .find(|l| !l.is_blank())
        .map(|l| l.text.trim().to_string());
    let mut indicators = Vec::new();
    let mut domain: Option<String> = None;
    for row in &rows[hdr_rows..] {
        if row.iter().all(|c| c.flat().is_empty()) {
            continue;
        }
        let line = Some(doc.lines.partition_point(|l| l.start < row[0].start));
        let assigned = align(&cols, row);
        let get = |want: &dyn Fn(&Col) -> bool| -> Option<&Cell> {
            assigned
                .iter()
                .find(|(c, _)| want(c))
                .and_then(|(_, cell)| *cell)
        };
        let Some(name_cell) = get(&|c| *c == Col::Name) else {
            warnings.push(Warning {
                line,
                message: "table row without an indicator name was skipped / 表格行缺少指标名称"
                    .into(),
            });
            continue;
        };
        if let Some(d) = get(&|c| *c == Col::Domain).map(Cell::flat) {
            if !d.is_empty() {
                domain = Some(d);
            }
        }
        let serial = get(&|c| *c == Col::Serial)
            .filter(|c| is_serial(&c.text))
            .map(|c| c.text.trim().to_string());
        let unit_cell = get(&|c| *c == Col::Unit).map(Cell::flat);
        let property = get(&|c| *c == Col::Property).and_then(|c| property_of(&c.flat()));
        let baseline_cell = get(&|c| matches!(c, Col::Baseline(_)));
        let span = Span::new(
            row.first().map_or(0, |c| c.start),
            row.last().map_or(0, |c| c.end),
        );
        let name_text: String = name_cell
            .text
            .split('\n')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("");
        let names = split_names(&name_text);
        let n = names.len();
        for (k, (name, unit)) in names.into_iter().enumerate() {
            let unit = unit_cell.clone().filter(|u| !u.is_empty()).or(unit);
            let lexical = direction_of(&name);
            let mut targets = Vec::new();
            let mut references = BTreeMap::new();
            for (col, cell) in &assigned {
                let Some(cell) = cell else { continue };
                let text = nth_value(&cell.flat(), k, n);
                match col {
                    Col::Target(y) => {
                        if let Some(t) = cell_target(&text, *y, lexical, unit.as_deref()) {
                            targets.push(t);
                        }
                    }
                    Col::Reference(key) => {
                        let y = key
                            .rsplit('_')
                            .next()
                            .and_then(|y| y.parse().ok())
                            .unwrap_or(0);
                        if let Some(t) = cell_target(&text, y, lexical, unit.as_deref()) {
                            references.insert(key.clone(), t);
                        }
                    }
                    _ => {}
                }
            }
            let numeric = targets.iter().any(|t| t.value.is_some());
            let direction = if unit.is_none() && !numeric {
                Direction::Qualitative
            } else {
                lexical
            };
            let baseline = baseline_cell.and_then(|c| {
                let col_year = assigned.iter().find_map(|(col, _)| match col {
                    Col::Baseline(y) => *y,
                    _ => None,
                });
                parse_baseline(&nth_value(&c.flat(), k, n), col_year)
            });
            let mut extra = BTreeMap::new();
            if let Some(s) = &serial {
                let row_id = if n > 1 {
                    format!("{s}{}", (b'a' + k as u8) as char)
                } else {
                    s.clone()
                };
                extra.insert("row".to_string(), serde_json::Value::String(row_id));
            }
            indicators.push(Indicator {
                name,
                unit,
                direction,
                property,
                domain: domain.clone(),
                baseline,
                targets,
                references,
                span,
                code: None,
                formula: None,
                aggregation: None,
                lead: None,
                doubts: Vec::new(),
                extra,
            });
        }
    }
    if indicators.is_empty() {
        return None;
    }
    Some(FoundTable {
        first_line: region.first_line,
        last_line: region.last_line,
        caption,
        baseline_year,
        target_years,
        indicators,
    })
}

/// Assigns the cells of a data row to the header's columns. A row shorter than the header had
/// cells merged: a missing domain continues the row above, and a target cell spanning several
/// target columns gives each the same value.
fn align<'a>(cols: &[Col], row: &'a [Cell]) -> Vec<(Col, Option<&'a Cell>)> {
    let cells: Vec<&Cell> = row.iter().collect();
    let mut cols: Vec<Col> = cols.to_vec();
    let mut out: Vec<(Col, Option<&Cell>)> = Vec::new();
    if cells.len() < cols.len() {
        if let Some(d) = cols.iter().position(|c| *c == Col::Domain) {
            // A vertically merged domain cell: absent from the continuation rows.
            let missing = match cols.iter().position(|c| *c == Col::Serial) {
                Some(s) if d < s => cells.get(s - 1).is_some_and(|c| is_serial(&c.text)),
                Some(s) => {
                    cells.get(d).is_some_and(|c| {
                        c.text.contains(['（', '(']) || c.flat().chars().count() > 8
                    }) && cells.get(s).is_some_and(|c| is_serial(&c.text))
                }
                None => true,
            };
            if missing {
                out.push((Col::Domain, None));
                cols.remove(d);
            }
        }
    }
    let mid_from = cols
        .iter()
        .position(|c| matches!(c, Col::Target(_) | Col::Reference(_)))
        .unwrap_or(cols.len());
    let mid_to = cols
        .iter()
        .rposition(|c| matches!(c, Col::Target(_) | Col::Reference(_)))
        .map_or(mid_from, |p| p + 1);
    let head = &cols[..mid_from];
    let mid = &cols[mid_from..mid_to];
    let tail = &cols[mid_to..];
    let mut rest: &[&Cell] = &cells;
    for c in head {
        let (cell, r) = match rest.split_first() {
            Some((x, r)) => (Some(*x), r),
            None => (None, rest),
        };
        out.push((c.clone(), cell));
        rest = r;
    }
    let tail_n = tail.len().min(rest.len().saturating_sub(1));
    let (mid_cells, tail_cells) = rest.split_at(rest.len() - tail_n);
    let skip = tail.len() - tail_n;
    for c in &tail[..skip] {
        out.push((c.clone(), None));
    }
    for (c, cell) in tail[skip..].iter().zip(tail_cells) {
        out.push((c.clone(), Some(*cell)));
    }
    let k = mid_cells.len();
    for (j, c) in mid.iter().enumerate() {
        let cell = if k == 0 {
            None
        } else if j < k {
            // With fewer cells than columns, the last cell spans the columns left.
            Some(mid_cells[j.min(k - 1)])
        } else {
            Some(mid_cells[k - 1])
        };
        out.push((c.clone(), cell));
    }
    out
}

fn property_of(s: &str) -> Option<Property> {
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
fn split_names(name: &str) -> Vec<(String, Option<String>)> {
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
fn nth_value(cell: &str, k: usize, n: usize) -> String {
    if n <= 1 {
        return cell.to_string();
    }
    let parts: Vec<&str> = cell
        .split(['，', ',', '、', '；', ';', '/'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.len() == n {
        parts[k].trim().to_string()
    } else {
        cell.to_string()
    }
}

fn is_dash(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .all(|c| matches!(c, '—' | '-' | '–' | '─' | '－' | '/' | '／' | '　' | '…'))
        || matches!(s, "无" | "暂无" | "空")
}

fn parse_baseline(text: &str, col_year: Option<i32>) -> Option<Baseline> {
    let t = text.trim();
    if is_dash(t) {
        return None;
    }
    static OWN_YEAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[（(]\s*((?:19|20)\d{2})\s*年?\s*[）)]").expect("valid regex")
    });
    let (body, year) = match OWN_YEAR.captures(t) {
        Some(c) => (
            OWN_YEAR.replace(t, "").trim().to_string(),
            c[1].parse().ok(),
        ),
        None => (t.to_string(), col_year),
    };
    let value = leading_number(&body).map(|(v, _)| v);
    Some(Baseline {
        value,
        year,
        text: t.to_string(),
    })
}

/// A number at the start of `s` and the rest after it.
fn leading_number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let v = parse_f64(&s[..end])?;
    Some((v, &s[end..]))
}

/// Reads a table cell as a target for `year`.
pub fn cell_target(text: &str, year: i32, d: Direction, unit: Option<&str>) -> Option<Target> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
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
    if !t.chars().any(|c| c.is_ascii_digit()) {
        let milestone = ["实现", "完成", "建成", "达标", "全覆盖", "建立"]
            .iter()
            .any(|w| t.contains(w))
            && !t.contains("水平");
        let kind = if milestone {
            TargetKind::Milestone
        } else {
            TargetKind::Qualitative
        };
        return mk(kind, None, None, None, unit_s, None);
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
    static CHANGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:比|较)?(?:((?:19|20)\d{2})年?)?(?:基础上)?(提高|提升|增长|增加|上升|降低|下降|减少)(\d+(?:\.\d+)?)(%|％|个百分点)")
            .expect("valid regex")
    });
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
    let (v, after) = leading_number(rest)?;
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
        assert!(cell_target("—", 2030, Direction::Higher, None).is_none());
        let b = parse_baseline("27.97（2021年）", Some(2020)).unwrap();
        assert_eq!((b.value, b.year), (Some(27.97), Some(2021)));
    }
}
