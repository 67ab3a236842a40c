//! Indicator tables. Word tables reach us in the text layout of the exports (and of
//! [`crate::docx`] and [`crate::layout`]): each cell on a line led by a tab, a cell's further
//! paragraphs on untabbed lines, and a blank line before each new row. The header is read by
//! its words ([`header`]); each data row is lined up with it by content ([`align`]), so merged
//! and missing cells land in the right column; what was guessed is kept as a doubt.

mod align;
mod cells;
mod header;
mod tasks;

pub use tasks::{task_tables, TaskRow, TaskTable};

pub use cells::{cell_target, normalise_unit, split_unit, trailing_group_start};
pub(crate) use header::is_header_text;

/// Whether a header text names the indicator column (`指标名称`).
pub(crate) fn is_name_header(h: &str) -> bool {
    header::classify(&h.replace(' ', "")) == Col::Name
}

/// Whether a header text names the domain column (`领域`, `类别`).
pub(crate) fn is_domain_header(h: &str) -> bool {
    header::classify(&h.replace(' ', "")) == Col::Domain
}

use crate::lexicon::{direction_known, direction_of};
use crate::text::{Doc, Line};
use crate::{Counted, Warning};
use cells::{
    direction_of_words, feature, is_bare_number, is_dash, is_known_unit, is_serial, nth_value,
    own_year, parse_baseline, property_of, split_names, Feature,
};
use header::{Col, Header, YearReading};
use healthplan_core::{Direction, Doubt, Indicator, Span};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static HEADER_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"序号|指标|名称|领域|编号").expect("valid regex"));
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:第[一二三四五六七八九十百零〇\d]+[章节篇部分]|[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十]+[）)]|专栏|附件)")
        .expect("valid regex")
});

/// A table's caption (`表1`, `续表`, `表1（续）`): the next table starts there.
static CAPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:续表|附表|表\s*[\d一二三四五六七八九十]+)|[（(]续[）)]\s*$")
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
        // The header row may begin with a cell before the one that names it (`类别`).
        let mut first = i;
        while first > 0
            && lines[first - 1].is_cell()
            && out.last().is_none_or(|r: &Region| r.last_line < first - 1)
        {
            first -= 1;
        }
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            let m = &lines[j];
            if m.is_cell() {
                last = j;
            } else if !m.is_blank() {
                let short = m.text.trim().chars().count() <= 30;
                let more = next_nonblank(lines, j + 1).is_some_and(|n| n.is_cell());
                if short && more && !HEADING.is_match(m.text) && !CAPTION.is_match(m.text) {
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

/// What the document says about its own dates, for reading bare year columns.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The plan's own date: the issue date, else the year before its period, else the year
    /// before a five-year plan it names. A bare year column not after it is history.
    pub plan_year: Option<i32>,
    /// The baseline year the text states (`基准值为2020年数据`).
    pub stated_base: Option<i32>,
    /// The baseline year implied by the plan's period (`2023—2030年` → 2022, `十四五` → 2020).
    pub implied_base: Option<i32>,
}

impl Context {
    pub fn of(doc: &Doc) -> Context {
        static DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^\s*((?:19|20)\d{2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$")
                .expect("valid regex")
        });
        static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"[（(]\s*((?:19|20)\d{2})\s*年?\s*[-—–~～至]\s*(?:19|20)\d{2}\s*年?\s*[)）]",
            )
            .expect("valid regex")
        });
        static STATED: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:基准值|基期值|基线值|现状值|基期|基准年|基线年|基年)[^。，,；\n]{0,8}?(?:为|是)\s*((?:19|20)\d{2})\s*年|以\s*((?:19|20)\d{2})\s*年\s*(?:为|作为)\s*(?:基期|基准年|基线|基年)")
                .expect("valid regex")
        });
        let prose = || doc.lines.iter().filter(|l| !l.is_cell());
        let issued = prose()
            .filter_map(|l| DATE_LINE.captures(l.text))
            .filter_map(|c| c[1].parse::<i32>().ok())
            .max();
        let period = prose()
            .filter(|l| !l.is_blank())
            .take(5)
            .find_map(|l| PERIOD.captures(l.text))
            .and_then(|c| c[1].parse::<i32>().ok())
            .map(|y| y - 1);
        let five_year = text_base_year(doc.text);
        let stated_base = prose()
            .find_map(|l| STATED.captures(l.text))
            .and_then(|c| c.get(1).or(c.get(2)))
            .and_then(|y| y.as_str().parse().ok());
        Context {
            plan_year: issued.or(period).or(five_year),
            stated_base,
            implied_base: period.or(five_year),
        }
    }
}

/// Finds the indicator tables. `warnings` gets rows that could not be read; more indicators
/// than one plan may hold is an error.
pub fn find_tables(doc: &Doc, warnings: &mut Vec<Warning>) -> Result<Vec<FoundTable>, Counted> {
    let ctx = Context::of(doc);
    let mut out = Vec::new();
    let mut count = 0;
    for r in regions(doc) {
        // A region's rows bound its indicators; stop before reading a flood.
        if count + r.rows.len() > 4 * Counted::Indicators.max() {
            return Err(Counted::Indicators);
        }
        if let Some(t) = read_table(doc, &r, &ctx, warnings) {
            count += t.indicators.len();
            if count > Counted::Indicators.max() {
                return Err(Counted::Indicators);
            }
            out.push(t);
        }
    }
    Ok(out)
}

/// Per line of `doc`: whether one of `tables` holds it.
pub fn covered(doc: &Doc, tables: &[FoundTable]) -> Vec<bool> {
    let mut out = vec![false; doc.lines.len()];
    for t in tables {
        for c in out.iter_mut().take(t.last_line + 1).skip(t.first_line) {
            *c = true;
        }
    }
    out
}

/// A data row lined up with the header: the text of each column, and what was guessed.
#[derive(Debug, Clone)]
struct RowRec {
    start: usize,
    end: usize,
    texts: Vec<String>,
    doubts: Vec<Doubt>,
}

fn doubt(code: &str, detail: String) -> Option<Doubt> {
    Doubt::new(code, &detail).ok()
}

/// Rows before the first data row are the header; a single cell spanning the whole table
/// just above the data is a domain row, and one at the top is a caption.
fn header_rows(rows: &[Vec<Cell>]) -> Option<(usize, usize)> {
    let data = |r: &Vec<Cell>| r.iter().any(|c| !header::is_header_text(&c.flat()));
    let mut first_data = rows.iter().position(data)?;
    // Domain rows (`一、健康水平`) above the first data row read as header words.
    let domain = |r: &[Cell]| {
        lone_first(r)
            && !matches!(
                header::classify(&r[0].flat()),
                Col::Year(_)
                    | Col::Target(_)
                    | Col::Baseline(_)
                    | Col::BaselineYear
                    | Col::Reference(..)
                    | Col::TargetGroup
            )
    };
    while first_data > 1 && domain(&rows[first_data - 1]) {
        first_data -= 1;
    }
    let mut top = 0;
    while top + 1 < first_data && rows[top].len() == 1 {
        top += 1;
    }
    (top < first_data).then_some((top, first_data))
}

/// A row that says something only in its first cell: one cell merged across the table, or a
/// first cell followed by empty, unmerged ones (a domain row, or a caption).
fn lone_first(row: &[Cell]) -> bool {
    row.first().is_some_and(|c| !c.flat().is_empty())
        && row[1..].iter().all(|c| c.flat().is_empty())
}

fn read_table(
    doc: &Doc,
    region: &Region,
    ctx: &Context,
    warnings: &mut Vec<Warning>,
) -> Option<FoundTable> {
    let mut rows = region.rows.clone();
    // A data row has its serial number first, or second after a domain cell.
    let by_serial = |rows: &[Vec<Cell>]| {
        rows.iter()
            .position(|r| r.iter().take(2).any(|c| is_serial(&c.text)))
    };
    let (mut top, mut first_data) = header_rows(&rows)?;
    let header_len: usize = rows[top..first_data].iter().map(Vec::len).sum();
    if by_serial(&rows) == Some(0)
        || rows[first_data..]
            .iter()
            .any(|r| r.len() > header_len + header_len / 2 + 1)
    {
        // Rows not separated by blank lines: cut them at the serial numbers.
        let split = split_by_serial(&rows);
        if let Some(h) = by_serial(&split).filter(|&h| h > 0) {
            rows = split;
            top = 0;
            first_data = h;
        }
    }
    let head: Vec<Vec<String>> = rows[top..first_data]
        .iter()
        .map(|r| r.iter().map(Cell::flat).collect())
        .collect();
    // The usual length of a data row: how many leaf columns the header has.
    let mut lengths: BTreeMap<usize, usize> = BTreeMap::new();
    for r in rows[first_data..].iter().filter(|r| r.len() > 1) {
        *lengths.entry(r.len()).or_default() += 1;
    }
    let width = lengths
        .iter()
        .max_by_key(|&(len, n)| (*n, *len))
        .map(|(len, _)| *len);
    let years_in_cells = rows[first_data..]
        .iter()
        .flatten()
        .any(|c| feature(&c.text) == Feature::NumberWithYear);
    let mut hdr = header::header(&head, width, years_in_cells);
    if !hdr.cols.contains(&Col::Name)
        || !hdr
            .cols
            .iter()
            .any(|c| matches!(c, Col::Target(_) | Col::Reference(..) | Col::Year(_)))
    {
        return None;
    }
    let recs = data_rows(doc, &rows[first_data..], &hdr, warnings);
    // Bare year columns are read once the cells are known.
    let columns: Vec<Vec<String>> = (0..hdr.cols.len())
        .map(|c| recs.iter().map(|r| r.texts[c].clone()).collect())
        .collect();
    let reading = header::resolve_years(&mut hdr, &columns, ctx.plan_year);
    let header_base = hdr.cols.iter().find_map(|c| match c {
        Col::Baseline(y) => *y,
        _ => None,
    });
    let target_years: Vec<i32> = hdr
        .cols
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
    let guessed = match reading {
        Some(YearReading::Guessed(d)) => doubt("header_guessed", d),
        _ => None,
    };
    let mut indicators = Vec::new();
    for rec in &recs {
        indicators.extend(indicators_of(
            rec,
            &hdr,
            ctx,
            &target_years,
            guessed.as_ref(),
        ));
    }
    if indicators.is_empty() {
        return None;
    }
    // Without a year in the header, the latest year the baseline cells name.
    let baseline_year = header_base.or_else(|| {
        indicators
            .iter()
            .filter_map(|i| i.baseline.as_ref().and_then(|b| b.year))
            .max()
    });
    Some(FoundTable {
        first_line: region.first_line,
        last_line: region.last_line,
        caption,
        baseline_year,
        target_years,
        indicators,
    })
}

/// Lines each data row up with the header; joins continuation rows to the row above and
/// carries merged-down domains and properties.
fn data_rows(
    doc: &Doc,
    rows: &[Vec<Cell>],
    hdr: &Header,
    warnings: &mut Vec<Warning>,
) -> Vec<RowRec> {
    let cols = &hdr.cols;
    let col_name = |i: usize| hdr.texts.get(i).map_or("", String::as_str).to_string();
    let mut recs: Vec<RowRec> = Vec::new();
    let mut domain_row: Option<String> = None;
    // The first part of a name merged down over the rows of its sub-names (`每千常住人口`).
    let mut name_group: Option<String> = None;
    for row in rows {
        let texts: Vec<String> = row.iter().map(Cell::flat).collect();
        let Some(first_filled) = (0..texts.len()).find(|&i| !texts[i].is_empty()) else {
            continue;
        };
        let line = doc
            .lines
            .partition_point(|l| l.start <= row[first_filled].start)
            .saturating_sub(1);
        // One cell across the whole table, or a first cell and empty ones after it: the domain
        // of the rows below (`一、健康水平`).
        if lone_first(row) && cols.len() > 2 && !is_serial(&texts[0]) {
            domain_row = Some(strip_label(&texts[0]));
            continue;
        }
        let a = align::align(cols, &texts);
        let mut col_texts: Vec<String> = a
            .cell_of
            .iter()
            .map(|c| c.and_then(|k| texts.get(k).cloned()).unwrap_or_default())
            .collect();
        let mut dropped = a.dropped.clone();
        let group = name_in_parts(
            cols,
            &a.cell_of,
            &texts,
            &mut dropped,
            name_group.as_deref(),
        );
        if let (Some((prefix, name)), Some(n)) = (&group, cols.iter().position(|c| *c == Col::Name))
        {
            col_texts[n] = name.clone();
            name_group = Some(prefix.clone());
        } else {
            name_group = None;
        }
        // Only one cell says something new, and it is no value: a name (or other words)
        // wrapped into a row of its own. Cells merged down repeat the row above.
        let fresh: Vec<usize> = (0..cols.len())
            .filter(|&c| {
                !col_texts[c].is_empty() && recs.last().is_none_or(|p| p.texts[c] != col_texts[c])
            })
            .collect();
        let continues = match fresh.as_slice() {
            [c] => {
                !matches!(cols[*c], Col::Serial)
                    && !matches!(feature(&col_texts[*c]), Feature::Serial)
            }
            _ => false,
        };
        if continues && row.len() > 1 {
            if let Some(prev) = recs.last_mut() {
                if let Some(&c) = fresh.first() {
                    prev.texts[c].push_str(&col_texts[c]);
                    prev.end = row.last().map_or(prev.end, |c| c.end);
                    prev.doubts.extend(doubt(
                        "name_joined",
                        format!(
                            "「{}」列的「{}」单独占一行，已接在上一行之后",
                            col_name(c),
                            col_texts[c]
                        ),
                    ));
                    continue;
                }
            }
        }
        let mut doubts = Vec::new();
        for &k in &dropped {
            let t = &texts[k];
            let unit_col = cols.iter().position(|c| *c == Col::Unit);
            if feature(t) == Feature::Unit && unit_col.is_none_or(|u| col_texts[u].is_empty()) {
                match unit_col {
                    Some(u) => col_texts[u] = t.clone(),
                    None => {
                        // No unit column: keep the unit with the name, where units sit.
                        if let Some(n) = cols.iter().position(|c| *c == Col::Name) {
                            col_texts[n] = format!("{}（{t}）", col_texts[n]);
                        }
                    }
                }
                doubts.extend(doubt(
                    "row_realigned",
                    format!("该行比表头多一个单元格「{t}」，按计量单位读取"),
                ));
            } else {
                doubts.extend(doubt(
                    "row_realigned",
                    format!("该行比表头多出单元格「{t}」，表头没有对应的列，未读取"),
                ));
            }
        }
        for &c in &a.skipped {
            let merged_down = matches!(cols[c], Col::Domain);
            let harmless = matches!(cols[c], Col::Remark | Col::Other | Col::Serial);
            if !merged_down && !harmless {
                doubts.extend(doubt(
                    "row_realigned",
                    format!(
                        "该行比表头少单元格，「{}」列按空读取（请核对各列是否错位）",
                        col_name(c)
                    ),
                ));
            }
        }
        // Merged down: an empty domain or property continues the row above.
        let prev = recs.last();
        for (c, col) in cols.iter().enumerate() {
            if !col_texts[c].is_empty() {
                continue;
            }
            match col {
                Col::Domain => {
                    if let Some(p) = prev.map(|p| p.texts[c].clone()) {
                        col_texts[c] = p;
                    }
                }
                Col::Property => {
                    if let Some(p) = prev.map(|p| p.texts[c].clone()).filter(|p| !p.is_empty()) {
                        doubts.extend(doubt(
                            "cell_span_guessed",
                            format!(
                                "「{}」为空，按上一行的「{p}」读取（合并单元格）",
                                col_name(c)
                            ),
                        ));
                        col_texts[c] = p;
                    }
                }
                _ => {}
            }
        }
        // An empty target cell after a target in words: the words span both columns.
        for c in 1..cols.len() {
            let value = |c: &Col| matches!(c, Col::Target(_) | Col::Year(_) | Col::Reference(..));
            if value(&cols[c])
                && value(&cols[c - 1])
                && col_texts[c].is_empty()
                && !a.spanned.contains(&c)
            {
                let left = col_texts[c - 1].clone();
                if feature(&left) == Feature::TargetWords {
                    doubts.extend(doubt(
                        "cell_span_guessed",
                        format!("「{}」为空，按左侧合并单元格「{left}」读取", col_name(c)),
                    ));
                    col_texts[c] = left;
                }
            }
        }
        if let Some(d) = &domain_row {
            if let Some(c) = cols.iter().position(|c| *c == Col::Domain) {
                if col_texts[c].is_empty() {
                    col_texts[c] = d.clone();
                }
            }
        }
        let name_col = cols.iter().position(|c| *c == Col::Name);
        if name_col.is_none_or(|n| col_texts[n].is_empty()) {
            warnings.push(Warning {
                line: Some(line + 1),
                message: "table row without an indicator name was skipped / 表格行缺少指标名称"
                    .into(),
            });
            continue;
        }
        let mut texts_out = col_texts;
        if !cols.contains(&Col::Domain) {
            if let Some(d) = &domain_row {
                texts_out.push(d.clone());
            }
        }
        recs.push(RowRec {
            start: row.first().map_or(0, |c| c.start),
            end: row.last().map_or(0, |c| c.end),
            texts: texts_out,
            doubts,
        });
    }
    // Rows carry one text per column; a domain from domain rows rides after them.
    for r in &mut recs {
        r.texts.resize(cols.len() + 1, String::new());
    }
    recs
}

/// A name written in two cells, the first merged down over the rows of the second
/// (`每千常住人口` | `执业（助理）医师数`, then `注册护士数`): the header's name column spans both.
/// Returns (first part, whole name) and takes the first part's cell out of `dropped`. A row
/// below whose first-part cell is empty (merged away) takes `above`.
fn name_in_parts(
    cols: &[Col],
    cell_of: &[Option<usize>],
    texts: &[String],
    dropped: &mut Vec<usize>,
    above: Option<&str>,
) -> Option<(String, String)> {
    let n = cell_of[cols.iter().position(|c| *c == Col::Name)?]?;
    let words = |k: usize| matches!(feature(&texts[k]), Feature::ShortText | Feature::LongText);
    let taken = |k: usize| cell_of.contains(&Some(k));
    if n > 0 && dropped.contains(&(n - 1)) && words(n - 1) && words(n) {
        dropped.retain(|&k| k != n - 1);
        return Some((
            texts[n - 1].clone(),
            format!("{}{}", texts[n - 1], texts[n]),
        ));
    }
    if dropped.contains(&(n + 1)) && words(n + 1) && words(n) {
        dropped.retain(|&k| k != n + 1);
        return Some((texts[n].clone(), format!("{}{}", texts[n], texts[n + 1])));
    }
    let above = above?;
    (n > 0 && texts[n - 1].is_empty() && !taken(n - 1) && words(n))
        .then(|| (above.to_string(), format!("{above}{}", texts[n])))
}

/// `一、健康水平` → `健康水平`.
fn strip_label(s: &str) -> String {
    static LABEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、．.])",
        )
        .expect("valid regex")
    });
    LABEL.replace(s, "").trim().to_string()
}

/// The indicators of one row (one, or several when the name cell lists several).
fn indicators_of(
    rec: &RowRec,
    hdr: &Header,
    ctx: &Context,
    target_years: &[i32],
    guessed: Option<&Doubt>,
) -> Vec<Indicator> {
    let cols = &hdr.cols;
    let text = |want: &dyn Fn(&Col) -> bool| -> Option<&str> {
        cols.iter()
            .position(want)
            .map(|i| rec.texts[i].as_str())
            .filter(|t| !t.is_empty())
    };
    let Some(name_text) = text(&|c| *c == Col::Name) else {
        return Vec::new();
    };
    let domain = text(&|c| *c == Col::Domain)
        .or_else(|| {
            rec.texts
                .get(cols.len())
                .map(String::as_str)
                .filter(|t| !t.is_empty())
        })
        .map(str::to_string);
    let serial = text(&|c| *c == Col::Serial)
        .filter(|t| is_serial(t))
        .map(|t| t.trim_end_matches(['.', '、', '．']).to_string());
    let unit_cell = text(&|c| *c == Col::Unit)
        .filter(|u| !is_dash(u))
        .map(str::to_string);
    let property = text(&|c| *c == Col::Property).and_then(property_of);
    let lead = text(&|c| *c == Col::Lead).and_then(first_unit);
    let remark = text(&|c| *c == Col::Remark).filter(|t| !is_dash(t));
    let baseline_pos = cols.iter().position(|c| matches!(c, Col::Baseline(_)));
    let baseline_col_year = baseline_pos.and_then(|i| match cols[i] {
        Col::Baseline(y) => y,
        _ => None,
    });
    let year_cell = text(&|c| *c == Col::BaselineYear).and_then(|t| {
        static Y: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?:19|20)\d{2}").expect("valid regex"));
        Y.find(t).and_then(|m| m.as_str().parse().ok())
    });
    let span = Span::new(rec.start, rec.end);
    let names = split_names(name_text);
    let n = names.len();
    let mut out = Vec::new();
    for (k, (name, name_unit)) in names.into_iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let mut doubts = rec.doubts.clone();
        doubts.extend(guessed.cloned());
        let unit = unit_cell.clone().or(name_unit.clone());
        if unit_cell.is_none() {
            if let Some(u) = name_unit.as_deref().filter(|u| !is_known_unit(u)) {
                doubts.extend(doubt(
                    "unit_from_name",
                    format!("名称末尾括号中的「{u}」按计量单位读取"),
                ));
            }
        }
        let value_cells: Vec<(usize, String)> = (0..cols.len())
            .filter(|&i| matches!(cols[i], Col::Target(_) | Col::Reference(..)))
            .map(|i| (i, nth_value(&rec.texts[i], k, n)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        // A name that does not say which way is better: the targets' comparators or words do.
        let from_words = || {
            value_cells
                .iter()
                .filter(|(_, t)| {
                    matches!(
                        feature(t),
                        Feature::TargetWords | Feature::Compared | Feature::Change
                    )
                })
                .find_map(|(_, t)| direction_of_words(t))
        };
        let lexical = if direction_known(&name) {
            direction_of(&name)
        } else {
            from_words().unwrap_or_else(|| direction_of(&name))
        };
        let mut targets = Vec::new();
        let mut references = BTreeMap::new();
        let mut bare_guess: Option<String> = None;
        for (i, t) in &value_cells {
            match &cols[*i] {
                Col::Target(y) => {
                    if let Some(tg) = cell_target(t, *y, lexical, unit.as_deref()) {
                        if is_bare_number(t) && !direction_known(&name) {
                            bare_guess.get_or_insert_with(|| t.clone());
                        }
                        targets.push(tg);
                    }
                }
                Col::Reference(level, year) => {
                    let y = match year {
                        Some(y) => *y,
                        None => {
                            let Some(&y) = target_years.iter().max() else {
                                continue;
                            };
                            doubts.extend(doubt(
                                "year_inferred",
                                format!("「{}」列未写年份，按目标年{y}年读取", hdr.texts[*i]),
                            ));
                            y
                        }
                    };
                    if let Some(tg) = cell_target(t, y, lexical, unit.as_deref()) {
                        references.insert(format!("{level}_{y}"), tg);
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
        if let Some(t) = bare_guess.filter(|_| direction != Direction::Qualitative) {
            let (word, sign) = match direction {
                Direction::Lower => ("越低越好", "≤"),
                _ => ("越高越好", "≥"),
            };
            doubts.extend(doubt(
                "direction_guessed",
                format!("名称未表明指标方向，目标「{t}」按{word}读作{sign}{t}"),
            ));
        }
        let baseline = baseline_pos.and_then(|i| {
            let cell = nth_value(&rec.texts[i], k, n);
            let mut b = parse_baseline(&cell, baseline_col_year.or(year_cell))?;
            if b.year.is_none() && own_year(&cell).is_none() {
                if let Some(y) = ctx.stated_base {
                    b.year = Some(y);
                } else if let Some(y) = ctx.implied_base {
                    b.year = Some(y);
                    doubts.extend(doubt(
                        "year_inferred",
                        format!("基线值「{cell}」未写年份，按规划起始前一年{y}年读取"),
                    ));
                }
            }
            Some(b)
        });
        let mut extra = BTreeMap::new();
        if let Some(s) = &serial {
            let row_id = if n > 1 {
                format!("{s}{}", (b'a' + (k as u8 % 26)) as char)
            } else {
                s.clone()
            };
            extra.insert("row".to_string(), serde_json::Value::String(row_id));
        }
        if let Some(r) = remark {
            extra.insert(
                "remark".to_string(),
                serde_json::Value::String(r.to_string()),
            );
        }
        out.push(Indicator {
            unit,
            property,
            domain: domain.clone(),
            baseline,
            targets,
            references,
            span,
            lead: lead.clone(),
            doubts,
            extra,
            ..Indicator::new(name, direction, healthplan_core::Source::Table)
        });
    }
    out
}

/// The first unit of a lead cell (`市卫生健康委、市人力资源社会保障局` → `市卫生健康委`).
fn first_unit(t: &str) -> Option<String> {
    if is_dash(t) {
        return None;
    }
    let mut depth = 0i32;
    let mut end = t.len();
    for (i, c) in t.char_indices() {
        match c {
            '（' | '(' => depth += 1,
            '）' | ')' => depth -= 1,
            '、' | '，' | ',' | '；' | ';' | '\n' if depth <= 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let u = t[..end].trim();
    let u = u.strip_suffix("牵头").unwrap_or(u).trim();
    (!u.is_empty()).then(|| u.to_string())
}
