//! The data-collection template: one reporter's form for one reporting round as an .xlsx,
//! and its re-import.
//!
//! The visible sheet `填报表` has label cells locked (the sheet is protected, without a
//! password: it guides, it does not secure), value cells unlocked with data-validation ranges,
//! last period's value beside each, and a comment column. A very hidden sheet `_ids` names the
//! round, reporter and period and, per data row, its sheet row, element, area and the version
//! of the value it was pre-filled with, so the re-import knows exactly which cell is which and
//! refuses a cell whose value changed after the download (a lost update otherwise). The reader trusts none of it: it matches the
//! ids against the spec the caller rebuilds for that round and reporter, checks the visible
//! labels still match, and validates every value with the spec's rules.

use crate::check::{check, Blank, Cell, Options, Parsed, Places, RawInput, Record, Rules};
use crate::error::{cell_ref, ExchangeError, Location, RowError};
use crate::xlsx::{self, Limits};
use crate::Import;
use calamine::{Data, Reader};
use healthplan_core::validate::num;
use healthplan_core::{AreaCode, Period, Value, ValueRule, ValueType};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign,
    FormatBorder, Formula, Workbook, Worksheet,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The visible sheet a reporter fills.
pub const SHEET: &str = "填报表";
/// The very hidden sheet with the ids.
pub const IDS_SHEET: &str = "_ids";
const GUIDE_SHEET: &str = "填报说明";
const MARKER: &str = "healthplan-template";
const VERSION: &str = "2";

/// One reporter's form for one reporting round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSpec {
    /// The reporting round's id, as the caller names it.
    pub round: String,
    pub plan_title: String,
    pub period: Period,
    /// Shown as written, e.g. `2025-01-31`.
    #[serde(default)]
    pub deadline: Option<String>,
    /// The reporter (a department or a lower government), as the caller names it.
    pub reporter: String,
    pub rows: Vec<TemplateRow>,
}

/// One (area, data element) line of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRow {
    pub area: AreaCode,
    pub area_name: String,
    /// The indicator's code or id, shown to the reporter.
    pub indicator: String,
    /// The data element the value is stored under.
    pub element: String,
    /// The indicator's name.
    pub name: String,
    /// Type, unit, numerator/denominator entry and bounds.
    pub rule: ValueRule,
    /// Last period's value, shown beside the field and used for the jump check.
    #[serde(default)]
    pub previous: Option<Value>,
    /// A value already entered this period, pre-filled.
    #[serde(default)]
    pub current: Option<Value>,
    /// The stored version of `current` (`None`: nothing stored yet). A re-import is refused
    /// cell by cell where the version now differs from the template's.
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What the hidden sheet says a filled template is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateIds {
    pub round: String,
    pub reporter: String,
    pub period: Period,
}

// Visible sheet layout (0-based columns).
const C_AREA: u16 = 0;
const C_AREA_NAME: u16 = 1;
const C_INDICATOR: u16 = 2;
const C_ELEMENT: u16 = 3;
const C_NAME: u16 = 4;
const C_UNIT: u16 = 5;
const C_RANGE: u16 = 6;
const C_PREVIOUS: u16 = 7;
const C_VALUE: u16 = 8;
const C_NUM: u16 = 9;
const C_DEN: u16 = 10;
const C_COMMENT: u16 = 11;
const COLUMNS: [(&str, f64); 12] = [
    ("地区代码", 12.0),
    ("地区名称", 14.0),
    ("指标代码", 10.0),
    ("数据元素代码", 14.0),
    ("指标名称", 32.0),
    ("单位", 8.0),
    ("取值范围", 22.0),
    ("上期值", 12.0),
    ("本期值", 12.0),
    ("分子", 12.0),
    ("分母", 12.0),
    ("备注（变化较大时必填）", 32.0),
];
const HEADER_ROW: u32 = 4;
const FIRST_ROW: u32 = HEADER_ROW + 1;
/// Rows a sheet can hold below the header.
const MAX_ROWS: usize = 1_000_000;

struct Formats {
    title: Format,
    info: Format,
    header: Format,
    label: Format,
    input: Format,
    input_text: Format,
}

impl Formats {
    fn new() -> Formats {
        let grey = rust_xlsxwriter::Color::RGB(0xF2F2F2);
        let yellow = rust_xlsxwriter::Color::RGB(0xFFF8DC);
        let boxed = Format::new().set_border(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            info: Format::new().set_text_wrap(),
            header: boxed
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(rust_xlsxwriter::Color::RGB(0xD9E1F2)),
            label: boxed.clone().set_background_color(grey),
            input: boxed.clone().set_unlocked().set_background_color(yellow),
            input_text: boxed
                .set_unlocked()
                .set_text_wrap()
                .set_background_color(yellow),
        }
    }
}

/// The template as .xlsx bytes.
pub fn write_template(spec: &TemplateSpec) -> Result<Vec<u8>, ExchangeError> {
    check_spec(spec)?;
    let f = Formats::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET)?;
    ws.set_formula_result_default("");
    write_form(ws, spec, &f)?;
    let guide = wb.add_worksheet();
    guide.set_name(GUIDE_SHEET)?;
    write_guide(guide, spec)?;
    let ids = wb.add_worksheet();
    ids.set_name(IDS_SHEET)?;
    write_ids(ids, spec)?;
    ids.set_very_hidden(true);
    Ok(wb.save_to_buffer()?)
}

fn check_spec(spec: &TemplateSpec) -> Result<(), ExchangeError> {
    if spec.rows.is_empty() {
        return Err(ExchangeError::Spec("没有可填报的行 / no rows".into()));
    }
    if spec.rows.len() > MAX_ROWS {
        return Err(ExchangeError::Spec(format!(
            "{} 行超过上限 {MAX_ROWS} / too many rows",
            spec.rows.len()
        )));
    }
    let mut seen = HashMap::new();
    for (i, r) in spec.rows.iter().enumerate() {
        if r.element.trim().is_empty() {
            return Err(ExchangeError::Spec(format!(
                "第 {} 行没有数据元素代码 / row {} has no element",
                i + 1,
                i + 1
            )));
        }
        if let Some(j) = seen.insert((r.element.as_str(), &r.area), i) {
            return Err(ExchangeError::Spec(format!(
                "第 {} 行与第 {} 行重复（{} {}）/ rows {} and {} repeat",
                j + 1,
                i + 1,
                r.area,
                r.element,
                j + 1,
                i + 1
            )));
        }
    }
    Ok(())
}

fn write_form(ws: &mut Worksheet, spec: &TemplateSpec, f: &Formats) -> Result<(), ExchangeError> {
    let last_col = C_COMMENT;
    ws.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{} 数据填报表", spec.plan_title),
        &f.title,
    )?;
    let info = format!(
        "填报轮次：{}　报告期：{}　截止日期：{}　填报单位：{}",
        spec.round,
        spec.period,
        spec.deadline.as_deref().unwrap_or("—"),
        spec.reporter
    );
    ws.merge_range(1, 0, 1, last_col, &info, &f.info)?;
    ws.merge_range(
        2,
        0,
        2,
        last_col,
        "只填写黄色单元格，灰色单元格已锁定。比例类指标填写分子和分母，本期值自动计算。与上期相比变化超过规定幅度时，请在备注中说明原因。详见“填报说明”。",
        &f.info,
    )?;
    ws.set_row_height(2, 30)?;
    for (c, (title, width)) in (0u16..).zip(COLUMNS) {
        ws.write_string_with_format(HEADER_ROW, c, title, &f.header)?;
        ws.set_column_width(c, width)?;
    }
    for (i, r) in spec.rows.iter().enumerate() {
        let row = FIRST_ROW + i as u32;
        write_row(ws, row, r, f)?;
    }
    ws.set_freeze_panes(FIRST_ROW, 0)?;
    // Printed on A4 landscape, all columns on one page wide, the header on every page.
    ws.set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    ws.protect();
    Ok(())
}

fn write_row(
    ws: &mut Worksheet,
    row: u32,
    r: &TemplateRow,
    f: &Formats,
) -> Result<(), ExchangeError> {
    let rule = &r.rule;
    ws.write_string_with_format(row, C_AREA, r.area.as_str(), &f.label)?;
    ws.write_string_with_format(row, C_AREA_NAME, &r.area_name, &f.label)?;
    ws.write_string_with_format(row, C_INDICATOR, &r.indicator, &f.label)?;
    ws.write_string_with_format(row, C_ELEMENT, &r.element, &f.label)?;
    ws.write_string_with_format(row, C_NAME, &r.name, &f.label)?;
    ws.write_string_with_format(row, C_UNIT, rule.unit().unwrap_or(""), &f.label)?;
    ws.write_string_with_format(row, C_RANGE, range_text(rule), &f.label)?;
    match r.previous.as_ref().map(|v| shown(rule, v)) {
        Some(Shown::Number(x)) => ws.write_number_with_format(row, C_PREVIOUS, x, &f.label)?,
        Some(Shown::Text(s)) => ws.write_string_with_format(row, C_PREVIOUS, &s, &f.label)?,
        None => ws.write_blank(row, C_PREVIOUS, &f.label)?,
    };
    let (n, d) = (cell_ref(row, C_NUM), cell_ref(row, C_DEN));
    if let Some(factor) = rule.ratio_factor() {
        let formula = format!(
            "=IF(AND(ISNUMBER({n}),ISNUMBER({d}),{d}>0),{n}/{d}*{},\"\")",
            num(factor)
        );
        // The cached result is what viewers that do not recalculate on load show.
        let cached = match &r.current {
            Some(v @ Value::Ratio { .. }) => rule.numeric(v).map(num).unwrap_or_default(),
            _ => String::new(),
        };
        let formula = Formula::new(formula).set_result(cached);
        ws.write_formula_with_format(row, C_VALUE, formula, &f.label)?;
        match &r.current {
            Some(Value::Ratio {
                numerator,
                denominator,
            }) => {
                ws.write_number_with_format(row, C_NUM, *numerator, &f.input)?;
                ws.write_number_with_format(row, C_DEN, *denominator, &f.input)?;
            }
            _ => {
                ws.write_blank(row, C_NUM, &f.input)?;
                ws.write_blank(row, C_DEN, &f.input)?;
            }
        }
        let part = DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
            .set_error_title("分子分母")?
            .set_error_message("请填写不小于 0 的数字")?;
        ws.add_data_validation(row, C_NUM, row, C_NUM, &part)?;
        let den_rule = DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThan(0.0))
            .set_error_title("分母")?
            .set_error_message("分母须为大于 0 的数字")?;
        ws.add_data_validation(row, C_DEN, row, C_DEN, &den_rule)?;
    } else {
        ws.write_blank(row, C_NUM, &f.label)?;
        ws.write_blank(row, C_DEN, &f.label)?;
        match &r.current {
            Some(v) => match shown(rule, v) {
                Shown::Number(x) if rule.value_type() == ValueType::Number => {
                    ws.write_number_with_format(row, C_VALUE, x, &f.input)?
                }
                Shown::Number(x) => {
                    ws.write_string_with_format(row, C_VALUE, x.to_string(), &f.input)?
                }
                Shown::Text(s) => ws.write_string_with_format(row, C_VALUE, &s, &f.input_text)?,
            },
            None => ws.write_blank(row, C_VALUE, &f.input)?,
        };
        ws.add_data_validation(row, C_VALUE, row, C_VALUE, &value_validation(rule)?)?;
    }
    match &r.comment {
        Some(c) => ws.write_string_with_format(row, C_COMMENT, c, &f.input_text)?,
        None => ws.write_blank(row, C_COMMENT, &f.input_text)?,
    };
    let comment_rule = DataValidation::new()
        .allow_text_length(DataValidationRule::LessThanOrEqualTo(
            healthplan_core::validate::MAX_TEXT_CHARS as u32,
        ))
        .set_error_message("备注过长")?;
    ws.add_data_validation(row, C_COMMENT, row, C_COMMENT, &comment_rule)?;
    Ok(())
}

/// The data validation Excel applies while typing; the reader checks again regardless.
fn value_validation(rule: &ValueRule) -> Result<DataValidation, ExchangeError> {
    let dv = DataValidation::new().set_error_style(DataValidationErrorStyle::Stop);
    Ok(match rule.value_type() {
        ValueType::Boolean => dv
            .allow_list_strings(&["是", "否"])?
            .set_error_message("请选择“是”或“否”")?,
        ValueType::Text => dv
            .allow_text_length(DataValidationRule::LessThanOrEqualTo(
                healthplan_core::validate::MAX_TEXT_CHARS as u32,
            ))
            .set_error_message("文字过长")?,
        ValueType::Number => {
            let (lo, hi) = rule.bounds();
            let rule = match (lo, hi) {
                (Some(lo), Some(hi)) => DataValidationRule::Between(lo, hi),
                (Some(lo), None) => DataValidationRule::GreaterThanOrEqualTo(lo),
                (None, Some(hi)) => DataValidationRule::LessThanOrEqualTo(hi),
                (None, None) => DataValidationRule::Between(-1e15, 1e15),
            };
            dv.allow_decimal_number(rule)
                .set_error_title("取值")?
                .set_error_message(format!("请填写数字{}", bounds_hint(lo, hi)))?
        }
    })
}

fn bounds_hint(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("，范围 {}–{}", num(lo), num(hi)),
        (Some(lo), None) => format!("，不小于 {}", num(lo)),
        (None, Some(hi)) => format!("，不大于 {}", num(hi)),
        (None, None) => String::new(),
    }
}

fn range_text(rule: &ValueRule) -> String {
    match rule.value_type() {
        ValueType::Boolean => "是/否".into(),
        ValueType::Text => "文字".into(),
        ValueType::Number => {
            let r = match rule.bounds() {
                (Some(lo), Some(hi)) => format!("{}–{}", num(lo), num(hi)),
                (Some(lo), None) => format!("≥{}", num(lo)),
                (None, Some(hi)) => format!("≤{}", num(hi)),
                (None, None) => String::new(),
            };
            match rule.ratio_factor() {
                Some(_) => format!("{r}（填分子、分母）"),
                None => r,
            }
        }
    }
}

enum Shown {
    Number(f64),
    Text(String),
}

fn shown(rule: &ValueRule, v: &Value) -> Shown {
    match v {
        Value::Boolean { value } => Shown::Text(if *value { "是" } else { "否" }.into()),
        Value::Text { value } => Shown::Text(value.clone()),
        other => Shown::Number(rule.numeric(other).unwrap_or(f64::NAN)),
    }
}

fn write_guide(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), ExchangeError> {
    let lines = [
        format!("《{}》数据填报说明", spec.plan_title),
        format!(
            "本表为填报单位“{}”在填报轮次“{}”（报告期 {}）的填报表。",
            spec.reporter, spec.round, spec.period
        ),
        "1. 只在“填报表”的黄色单元格中填写：本期值、分子、分母和备注。灰色单元格已锁定，不要修改、移动或排序行。".into(),
        "2. 数值类指标填写数字，不要填写单位或文字；百分比指标填写百分数中的数字（如 25.4 表示 25.4%）。".into(),
        "3. 比例类指标（取值范围后注明“填分子、分母”）分别填写分子和分母，分子不能大于分母，分母须大于 0；本期值由表格自动计算。".into(),
        "4. 是否类指标在下拉列表中选择“是”或“否”。".into(),
        "5. 本期值与上期值相比变化超过规定幅度（默认 50%）时，须在备注中说明原因，否则系统不予导入。".into(),
        "6. 没有数据的指标留空，不要填 0。".into(),
        "7. 导入时系统会重新检查每个单元格；有任何错误时整表不导入，错误信息会指出单元格（如“填报表!I7”）和原因。".into(),
        "8. 请勿删除或重命名工作表，也不要把本表用于其他填报单位或其他轮次。".into(),
    ];
    let bold = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new().set_text_wrap();
    ws.set_column_width(0, 90)?;
    for (i, line) in lines.iter().enumerate() {
        let fmt = if i == 0 { &bold } else { &wrap };
        ws.write_string_with_format(i as u32, 0, line, fmt)?;
    }
    ws.set_paper_size(9).set_print_fit_to_pages(1, 0);
    ws.protect();
    Ok(())
}

fn write_ids(ws: &mut Worksheet, spec: &TemplateSpec) -> Result<(), ExchangeError> {
    let head: [(&str, String); 5] = [
        (MARKER, VERSION.into()),
        ("round", spec.round.clone()),
        ("reporter", spec.reporter.clone()),
        ("period", spec.period.to_string()),
        ("sheet", SHEET.into()),
    ];
    for (r, (k, v)) in (0u32..).zip(head) {
        ws.write_string(r, 0, k)?;
        ws.write_string(r, 1, v)?;
    }
    let base = 6;
    for (c, h) in (0u16..).zip(["row", "element", "area", "version"]) {
        ws.write_string(base, c, h)?;
    }
    for (i, r) in spec.rows.iter().enumerate() {
        let row = base + 1 + i as u32;
        ws.write_number(row, 0, f64::from(FIRST_ROW + i as u32 + 1))?;
        ws.write_string(row, 1, &r.element)?;
        ws.write_string(row, 2, r.area.as_str())?;
        if let Some(v) = r.version {
            ws.write_number(row, 3, v as f64)?;
        }
    }
    ws.protect();
    Ok(())
}

/// One data row the hidden sheet lists.
struct IdRow {
    /// 0-based sheet row.
    row: u32,
    element: String,
    area: String,
    /// The version of the value the row was pre-filled with.
    version: Option<i64>,
}

fn text_at(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    xlsx::cell(range.get_value((row, col))).as_text()
}

fn wrong(zh: String, en: String) -> ExchangeError {
    ExchangeError::WrongTemplate { zh, en }
}

fn read_ids(range: &calamine::Range<Data>) -> Result<(TemplateIds, Vec<IdRow>), ExchangeError> {
    if text_at(range, 0, 0) != MARKER {
        return Err(wrong(
            "隐藏的标识表（_ids）已损坏，请重新下载模板".into(),
            "the hidden id sheet (_ids) is damaged; download the template again".into(),
        ));
    }
    if text_at(range, 0, 1) != VERSION {
        return Err(wrong(
            format!("模板版本 {} 不受支持，请重新下载模板", text_at(range, 0, 1)),
            format!(
                "template version {} is not supported; download it again",
                text_at(range, 0, 1)
            ),
        ));
    }
    let (end_row, _) = range.end().unwrap_or((0, 0));
    let key = |k: &str| {
        (1..6)
            .find(|&r| text_at(range, r, 0) == k)
            .map(|r| text_at(range, r, 1))
    };
    let period_text = key("period").unwrap_or_default();
    let period: Period = period_text.parse().map_err(|_| {
        wrong(
            format!("标识表中的报告期“{period_text}”无效"),
            format!("bad period {period_text:?} in the id sheet"),
        )
    })?;
    let ids = TemplateIds {
        round: key("round").unwrap_or_default(),
        reporter: key("reporter").unwrap_or_default(),
        period,
    };
    let mut rows = Vec::new();
    for r in 7..=end_row {
        let (n, element, area) = (
            xlsx::cell(range.get_value((r, 0))),
            text_at(range, r, 1),
            text_at(range, r, 2),
        );
        if matches!(n, Cell::Empty) && element.is_empty() && area.is_empty() {
            continue;
        }
        let at = Location::cell(IDS_SHEET, r, 0);
        let row = match n {
            Cell::Number(x)
                if x.fract() == 0.0
                    && x > f64::from(FIRST_ROW)
                    && x <= f64::from(FIRST_ROW) + MAX_ROWS as f64 =>
            {
                x as u32 - 1
            }
            _ => {
                return Err(wrong(
                    format!("标识表 {at} 的行号无效，请重新下载模板"),
                    format!("bad row number at {at}; download the template again"),
                ))
            }
        };
        let version = match xlsx::cell(range.get_value((r, 3))) {
            Cell::Empty => None,
            Cell::Number(x) if x.fract() == 0.0 && (1.0..9e15).contains(&x) => Some(x as i64),
            _ => {
                return Err(wrong(
                    format!("标识表 {at} 行的版本号无效，请重新下载模板"),
                    format!("bad version in the row of {at}; download the template again"),
                ))
            }
        };
        rows.push(IdRow {
            row,
            element,
            area,
            version,
        });
    }
    Ok((ids, rows))
}

/// The round, reporter and period a filled template says it is for, so the caller can
/// rebuild the matching spec before [`read_template`].
pub fn template_ids(bytes: &[u8], limits: &Limits) -> Result<TemplateIds, ExchangeError> {
    let mut wb = xlsx::open(bytes, limits)?;
    let ids = xlsx::range(&mut wb, IDS_SHEET).map_err(|_| ExchangeError::WrongSheet {
        expected: SHEET.into(),
        found: xlsx::sheet_list(&wb),
    })?;
    Ok(read_ids(&ids)?.0)
}

/// Reads a filled template against `spec` (the form the caller would hand this reporter for
/// this round now). Blank value cells are not reported; everything else must pass, or
/// nothing is returned. `may_write` is asked for every row; a refused row names its cell.
pub fn read_template(
    bytes: &[u8],
    spec: &TemplateSpec,
    may_write: &dyn Fn(&str, &AreaCode) -> bool,
    limits: &Limits,
) -> Result<Import, ExchangeError> {
    let mut wb = xlsx::open(bytes, limits)?;
    let names = wb.sheet_names();
    if !names.iter().any(|s| s == SHEET) || !names.iter().any(|s| s == IDS_SHEET) {
        return Err(ExchangeError::WrongSheet {
            expected: SHEET.into(),
            found: xlsx::sheet_list(&wb),
        });
    }
    let (ids, id_rows) = read_ids(&xlsx::range(&mut wb, IDS_SHEET)?)?;
    for (zh, en, found, want) in [
        ("填报轮次", "round", ids.round.clone(), spec.round.clone()),
        (
            "填报单位",
            "reporter",
            ids.reporter.clone(),
            spec.reporter.clone(),
        ),
        (
            "报告期",
            "period",
            ids.period.to_string(),
            spec.period.to_string(),
        ),
    ] {
        if found != want {
            return Err(wrong(
                format!("这份模板的{zh}是“{found}”，当前是“{want}”"),
                format!("this template is for {en} {found:?}, not {want:?}"),
            ));
        }
    }
    let sheet = xlsx::range(&mut wb, SHEET)?;
    let by_key: HashMap<(&str, &str), &TemplateRow> = spec
        .rows
        .iter()
        .map(|r| ((r.element.as_str(), r.area.as_str()), r))
        .collect();
    let mut parsed = Parsed::default();
    for id in id_rows {
        let at = |col: u16| Location::cell(SHEET, id.row, col);
        let Some(row) = by_key.get(&(id.element.as_str(), id.area.as_str())) else {
            parsed.errors.push(RowError::new(
                at(C_AREA),
                "not_in_template",
                format!("该行（{} {}）不在本次填报范围内", id.area, id.element),
                format!("this row ({} {}) is not in this form", id.area, id.element),
            ));
            continue;
        };
        let shown_area = text_at(&sheet, id.row, u32::from(C_AREA));
        let shown_element = text_at(&sheet, id.row, u32::from(C_ELEMENT));
        if shown_area != id.area || shown_element != id.element {
            parsed.errors.push(RowError::new(
                at(C_AREA),
                "moved_row",
                format!(
                    "本行应为 {} {}，实为 {} {}：请勿移动、排序或改写锁定的单元格",
                    id.area, id.element, shown_area, shown_element
                ),
                format!(
                    "this row should be {} {} but shows {} {}; do not move, sort or edit locked cells",
                    id.area, id.element, shown_area, shown_element
                ),
            ));
            continue;
        }
        let get = |col: u16| xlsx::cell(sheet.get_value((id.row, u32::from(col))));
        let ratio = row.rule.ratio_factor().is_some();
        let input = if ratio {
            RawInput::Ratio(get(C_NUM), get(C_DEN))
        } else {
            RawInput::Single(get(C_VALUE))
        };
        let comment = Some(get(C_COMMENT).as_text()).filter(|c| !c.is_empty());
        let blank = match &input {
            RawInput::Single(v) => matches!(v, Cell::Empty),
            RawInput::Ratio(n, d) => matches!((n, d), (Cell::Empty, Cell::Empty)),
        };
        if id.version != row.version && !(blank && comment.is_none()) {
            let shown = |v: Option<i64>, none: &str| v.map_or(none.to_string(), |v| v.to_string());
            parsed.errors.push(RowError::new(
                at(if ratio { C_NUM } else { C_VALUE }),
                "stale",
                format!(
                    "该项在模板下载后已被修改（模板中版本 {}，当前版本 {}），请重新下载模板再填报",
                    shown(id.version, "无"),
                    shown(row.version, "无")
                ),
                format!(
                    "changed since this template was downloaded (version {} in the template, {} now); download it again",
                    shown(id.version, "none"),
                    shown(row.version, "none")
                ),
            ));
            continue;
        }
        parsed.records.push(Record {
            element: row.element.clone(),
            area: row.area.clone(),
            period: spec.period,
            input,
            comment,
            status: None,
            at: Places {
                row: at(if ratio { C_NUM } else { C_VALUE }),
                value: at(C_VALUE),
                numerator: at(C_NUM),
                denominator: at(C_DEN),
                comment: at(C_COMMENT),
            },
        });
    }
    let rules = SpecRules {
        rows: by_key,
        may_write,
    };
    check(parsed, &rules, Options::default(), Blank::Skip)
}

struct SpecRules<'a> {
    rows: HashMap<(&'a str, &'a str), &'a TemplateRow>,
    may_write: &'a dyn Fn(&str, &AreaCode) -> bool,
}

impl Rules for SpecRules<'_> {
    fn rule(&self, element: &str, area: &AreaCode) -> Option<&ValueRule> {
        self.rows.get(&(element, area.as_str())).map(|r| &r.rule)
    }

    fn previous(&self, element: &str, area: &AreaCode, _period: Period) -> Option<&Value> {
        self.rows.get(&(element, area.as_str()))?.previous.as_ref()
    }

    fn may_write(&self, element: &str, area: &AreaCode) -> bool {
        (self.may_write)(element, area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fill, Fill};
    use std::io::Read;

    fn area(code: &str) -> AreaCode {
        AreaCode::parse(code).unwrap()
    }

    fn row(
        a: &str,
        element: &str,
        name: &str,
        rule: ValueRule,
        previous: Option<Value>,
    ) -> TemplateRow {
        TemplateRow {
            area: area(a),
            area_name: format!("地区{a}"),
            indicator: element.into(),
            element: element.into(),
            name: name.into(),
            rule,
            previous,
            current: None,
            version: None,
            comment: None,
        }
    }

    /// Rows (Excel row numbers): 6 HL01@440310, 7 HL01@440311, 8 HL02 ratio, 9 HL06 text,
    /// 10 HL07 yes/no.
    fn spec() -> TemplateSpec {
        let pct = ValueRule::new(ValueType::Number).with_unit("%");
        TemplateSpec {
            round: "2024-annual".into(),
            plan_title: "健康示例市行动".into(),
            period: Period::Year(2024),
            deadline: Some("2025-01-31".into()),
            reporter: "示例市卫生健康局".into(),
            rows: vec![
                row(
                    "440310",
                    "HL01",
                    "居民健康素养水平",
                    pct.clone(),
                    Some(Value::Number { value: 20.0 }),
                ),
                row("440311", "HL01", "居民健康素养水平", pct, None),
                row(
                    "440310",
                    "HL02",
                    "婴儿死亡率",
                    ValueRule::new(ValueType::Number)
                        .with_unit("‰")
                        .with_ratio(1000.0)
                        .unwrap(),
                    Some(Value::Ratio {
                        numerator: 3.0,
                        denominator: 1000.0,
                    }),
                ),
                row(
                    "440310",
                    "HL06",
                    "联席会议制度",
                    ValueRule::new(ValueType::Text),
                    None,
                ),
                row(
                    "440310",
                    "HL07",
                    "是否建成健康促进区",
                    ValueRule::new(ValueType::Boolean),
                    None,
                ),
            ],
        }
    }

    fn all(_: &str, _: &AreaCode) -> bool {
        true
    }

    fn read(bytes: &[u8], spec: &TemplateSpec) -> Result<Import, ExchangeError> {
        read_template(bytes, spec, &all, &Limits::default())
    }

    fn entry(bytes: &[u8], name: &str) -> String {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn writes_a_protected_form_with_validations_and_hidden_ids() {
        let bytes = write_template(&spec()).unwrap();
        let mut wb = xlsx::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(wb.sheet_names(), [SHEET, GUIDE_SHEET, IDS_SHEET]);
        let meta = wb.sheets_metadata().to_vec();
        assert_eq!(meta[2].visible, calamine::SheetVisible::VeryHidden);
        let form = xlsx::range(&mut wb, SHEET).unwrap();
        let text = |r: u32, c: u16| text_at(&form, r, u32::from(c));
        assert_eq!(text(0, 0), "健康示例市行动 数据填报表");
        assert!(
            text(1, 0).contains("填报轮次：2024-annual")
                && text(1, 0).contains("截止日期：2025-01-31")
        );
        assert_eq!(text(HEADER_ROW, C_VALUE), "本期值");
        assert_eq!(
            (text(5, C_AREA), text(5, C_ELEMENT), text(5, C_RANGE)),
            ("440310".into(), "HL01".into(), "0–100".into())
        );
        assert_eq!(
            form.get_value((5, u32::from(C_PREVIOUS))),
            Some(&Data::Float(20.0))
        );
        // Last period's ratio is shown as its rate.
        assert_eq!(
            form.get_value((7, u32::from(C_PREVIOUS))),
            Some(&Data::Float(3.0))
        );
        assert_eq!(text(7, C_RANGE), "0–1000（填分子、分母）");
        let xml = entry(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<sheetProtection"), "the form is protected");
        // One validation per value cell (4 single rows), two per ratio row, one per comment.
        assert_eq!(xml.matches("<dataValidation ").count(), 4 + 2 + 5);
        assert!(
            xml.contains("<formula1>0</formula1><formula2>100</formula2>"),
            "{xml}"
        );
        assert!(
            xml.contains("ISNUMBER(J8)"),
            "the ratio row computes its value"
        );
        let ids = template_ids(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            ids,
            TemplateIds {
                round: "2024-annual".into(),
                reporter: "示例市卫生健康局".into(),
                period: Period::Year(2024)
            }
        );
        // Unfilled: nothing to write, nothing wrong.
        let got = read(&bytes, &spec()).unwrap();
        assert!(got.values.is_empty() && got.skipped.is_empty());
    }

    #[test]
    fn a_filled_template_reads_back_every_value() {
        let bytes = write_template(&spec()).unwrap();
        let filled = fill(
            &bytes,
            SHEET,
            &[
                ("I6", Fill::Number(25.4)),
                ("I7", Fill::Text("31")),
                ("J8", Fill::Number(2.0)),
                ("K8", Fill::Number(1000.0)),
                ("I9", Fill::Text("已建立")),
                ("I10", Fill::Text("是")),
                ("L9", Fill::Text("2024年3月建立")),
            ],
        )
        .unwrap();
        let got = read(&filled, &spec()).unwrap();
        let values: Vec<(&str, &str, Value)> = got
            .values
            .iter()
            .map(|v| (v.element.as_str(), v.area.as_str(), v.value.clone()))
            .collect();
        assert_eq!(
            values,
            [
                ("HL01", "440310", Value::Number { value: 25.4 }),
                ("HL01", "440311", Value::Number { value: 31.0 }),
                (
                    "HL02",
                    "440310",
                    Value::Ratio {
                        numerator: 2.0,
                        denominator: 1000.0
                    }
                ),
                (
                    "HL06",
                    "440310",
                    Value::Text {
                        value: "已建立".into()
                    }
                ),
                ("HL07", "440310", Value::Boolean { value: true }),
            ]
        );
        assert_eq!(got.values[3].comment.as_deref(), Some("2024年3月建立"));
        assert!(got.values.iter().all(|v| v.period == Period::Year(2024)));
    }

    #[test]
    fn prefilled_values_read_back_unchanged() {
        let mut s = spec();
        s.rows[0].current = Some(Value::Number { value: 22.5 });
        s.rows[2].current = Some(Value::Ratio {
            numerator: 3.0,
            denominator: 1100.0,
        });
        s.rows[4].current = Some(Value::Boolean { value: false });
        s.rows[4].comment = Some("尚未验收".into());
        let got = read(&write_template(&s).unwrap(), &s).unwrap();
        assert_eq!(got.values.len(), 3);
        assert_eq!(got.values[1].value, s.rows[2].current.clone().unwrap());
        assert_eq!(got.values[2].comment.as_deref(), Some("尚未验收"));
    }

    /// A value changed after the download: its filled cell is refused by name, every such
    /// cell at once, while a cell left blank says nothing.
    #[test]
    fn cells_changed_since_the_download_are_refused() {
        let mut s = spec();
        s.rows[0].current = Some(Value::Number { value: 22.5 });
        s.rows[0].version = Some(3);
        let bytes = write_template(&s).unwrap();
        let filled = fill(&bytes, SHEET, &[("I7", Fill::Number(30.0))]).unwrap();
        let mut now = s.clone();
        now.rows[0].version = Some(4);
        now.rows[1].version = Some(1);
        let Err(ExchangeError::Rejected(r)) = read(&filled, &now) else {
            panic!("stale cells accepted");
        };
        let places: Vec<(String, &str)> = r
            .errors
            .iter()
            .map(|e| (e.at.to_string(), e.code.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                (format!("{SHEET}!I6"), "stale"),
                (format!("{SHEET}!I7"), "stale")
            ]
        );
        assert!(
            r.errors[0].en.contains("version 3 in the template, 4 now"),
            "{}",
            r.errors[0].en
        );
        // The same versions as at the download: read as before.
        assert_eq!(read(&filled, &s).unwrap().values.len(), 2);
        let mut blank = s.clone();
        blank.rows[1].version = Some(1);
        assert!(read(&bytes, &blank).is_ok());
    }

    #[test]
    fn bad_cells_are_named_and_nothing_is_returned() {
        let bytes = write_template(&spec()).unwrap();
        for (cells, want) in [
            (
                vec![("I6", Fill::Number(120.0))],
                "填报表!I6: 超出取值范围 0–100 / out of range 0–100",
            ),
            (
                vec![("I6", Fill::Text("二十五"))],
                "填报表!I6: 不是数字：“二十五”",
            ),
            (
                vec![("J8", Fill::Number(5.0)), ("K8", Fill::Number(4.0))],
                "填报表!J8: 分子（5）大于分母（4）",
            ),
            (vec![("J8", Fill::Number(5.0))], "填报表!K8: 未填写分母"),
            (
                vec![("I10", Fill::Text("也许"))],
                "填报表!I10: 应填“是”或“否”",
            ),
            (
                vec![("I6", Fill::Number(35.0))],
                "填报表!I6: 与上期（20）相比变化 75%，超过 50%",
            ),
            (
                vec![("A6", Fill::Text("440399")), ("I6", Fill::Number(21.0))],
                "填报表!A6: 本行应为 440310 HL01，实为 440399 HL01",
            ),
        ] {
            let mut cells = cells;
            cells.push(("I7", Fill::Number(30.0)));
            let filled = fill(&bytes, SHEET, &cells).unwrap();
            let e = read(&filled, &spec()).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(want), "{want}\n got {text}");
            assert!(text.starts_with("1 处错误，未导入任何数据"), "{text}");
        }
        // The jump passes once explained.
        let filled = fill(
            &bytes,
            SHEET,
            &[
                ("I6", Fill::Number(35.0)),
                ("L6", Fill::Text("扩大了监测样本")),
            ],
        )
        .unwrap();
        let got = read(&filled, &spec()).unwrap();
        assert_eq!(got.values.len(), 1);
        assert_eq!(got.warnings[0].code, "jump");
    }

    #[test]
    fn refuses_the_wrong_file_round_reporter_or_area() {
        let bytes = write_template(&spec()).unwrap();
        let filled = fill(
            &bytes,
            SHEET,
            &[("I6", Fill::Number(21.0)), ("I7", Fill::Number(30.0))],
        )
        .unwrap();
        let mut other = spec();
        other.round = "2025-annual".into();
        let e = read(&filled, &other).unwrap_err().to_string();
        assert!(
            e.contains("这份模板的填报轮次是“2024-annual”，当前是“2025-annual”"),
            "{e}"
        );
        let mut other = spec();
        other.reporter = "另一区卫生健康局".into();
        assert!(read(&filled, &other)
            .unwrap_err()
            .to_string()
            .contains("这份模板的填报单位是“示例市卫生健康局”"));
        let mut other = spec();
        other.period = Period::Year(2023);
        assert!(read(&filled, &other)
            .unwrap_err()
            .to_string()
            .contains("报告期是“2024”"));
        // A row the reporter's current form no longer has.
        let mut other = spec();
        other.rows.remove(1);
        let e = read(&filled, &other).unwrap_err().to_string();
        assert!(
            e.contains("填报表!A7: 该行（440311 HL01）不在本次填报范围内"),
            "{e}"
        );
        // A row for an area the uploader may not write names its cell.
        let only_440310 = |_: &str, a: &AreaCode| a.as_str() == "440310";
        let e = read_template(&filled, &spec(), &only_440310, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("填报表!I7: 无权填报地区 440311 的 HL01"), "{e}");
        // Not a workbook, a workbook without the form, an oversized file.
        let e = read(b"element,area_code\n", &spec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("不是 xlsx 文件"), "{e}");
        let table = crate::table::write_xlsx_table(&[]).unwrap();
        let e = read(&table, &spec()).unwrap_err().to_string();
        assert!(
            e.contains("找不到工作表“填报表”") && e.contains("数据"),
            "{e}"
        );
        let small = Limits {
            max_file: 1000,
            ..Limits::default()
        };
        let e = read_template(&filled, &spec(), &all, &small)
            .unwrap_err()
            .to_string();
        assert!(e.contains("文件过大"), "{e}");
    }

    #[test]
    fn refuses_bad_specs() {
        let mut s = spec();
        s.rows.push(s.rows[0].clone());
        assert!(write_template(&s)
            .unwrap_err()
            .to_string()
            .contains("第 1 行与第 6 行重复"));
        s.rows.clear();
        assert!(write_template(&s).is_err());
    }

    proptest::proptest! {
        /// Arbitrary bytes, and a real template with bytes overwritten, are refused or read,
        /// never a panic.
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2000), at in 0usize..9000, patch in proptest::collection::vec(proptest::num::u8::ANY, 1..64)) {
            let _ = read(&data, &spec());
            let _ = template_ids(&data, &Limits::default());
            let mut bytes = write_template(&spec()).unwrap();
            let at = at % bytes.len();
            for (i, b) in patch.iter().enumerate() {
                if let Some(x) = bytes.get_mut(at + i) {
                    *x = *b;
                }
            }
            let _ = read(&bytes, &spec());
        }
    }
}
