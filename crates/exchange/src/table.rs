//! The flat value table, as CSV and as an .xlsx sheet: columns
//! `element,area_code,period,value,numerator,denominator,status,comment` (only the first three
//! and a value or a numerator/denominator are required). Both go through the same row reader
//! and the same checker, so their errors differ only in where they point (`line 3, field
//! value` or `数据!D3`).

use crate::check::{check, Blank, Cell, Options, Parsed, Places, RawInput, Record, Rules};
use crate::error::{ExchangeError, Location, RowError};
use crate::xlsx::{self, Limits};
use crate::{Import, MAX_TEXT_BYTES};
use healthplan_core::validate::Input;
use healthplan_core::{AreaCode, DataValue, Period, Value, ValueStatus};
use rust_xlsxwriter::{Format, Workbook};

/// The columns, in the order the writers use.
pub const COLUMNS: [&str; 8] = [
    "element",
    "area_code",
    "period",
    "value",
    "numerator",
    "denominator",
    "status",
    "comment",
];
/// The sheet the XLSX table is written to and read from.
pub const TABLE_SHEET: &str = "数据";

/// Column positions found in a header.
struct Columns {
    element: usize,
    area: usize,
    period: usize,
    value: Option<usize>,
    numerator: Option<usize>,
    denominator: Option<usize>,
    status: Option<usize>,
    comment: Option<usize>,
    names: Vec<String>,
}

impl Columns {
    fn find(header: &[String], at: &str) -> Result<Columns, ExchangeError> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let col = |n: &[&str]| names.iter().position(|h| n.contains(&h.as_str()));
        let (Some(element), Some(area), Some(period)) = (
            col(&["element", "数据元素"]),
            col(&["area_code", "area", "地区代码"]),
            col(&["period", "报告期"]),
        ) else {
            return Err(ExchangeError::malformed(
                at,
                format!(
                    "表头须包含 element,area_code,period,value 列（实为 {}）",
                    names.join(",")
                ),
                format!(
                    "the header must have the columns element,area_code,period,value (found {})",
                    names.join(",")
                ),
            ));
        };
        let (value, numerator, denominator) = (
            col(&["value", "本期值"]),
            col(&["numerator", "分子"]),
            col(&["denominator", "分母"]),
        );
        if value.is_none() && (numerator.is_none() || denominator.is_none()) {
            return Err(ExchangeError::malformed(
                at,
                "表头须包含 value 列，或 numerator 和 denominator 列",
                "the header needs a value column, or numerator and denominator columns",
            ));
        }
        Ok(Columns {
            element,
            area,
            period,
            value,
            numerator,
            denominator,
            status: col(&["status", "状态"]),
            comment: col(&["comment", "备注"]),
            names,
        })
    }
}

/// Where a row sits, to name a field of it.
enum RowAt<'a> {
    Line(u64),
    Sheet(&'a str, u32),
}

impl RowAt<'_> {
    fn at(&self, col: usize, cols: &Columns) -> Location {
        match self {
            RowAt::Line(line) => Location::Line {
                line: *line,
                field: cols.names.get(col).cloned().unwrap_or_default(),
            },
            RowAt::Sheet(sheet, row) => Location::cell(sheet, *row, col.min(16_383) as u16),
        }
    }
}

/// Reads one row's fields into a record, or its errors.
fn read_row(cells: &[Cell], pos: RowAt<'_>, cols: &Columns, parsed: &mut Parsed) {
    let get = |c: Option<usize>| c.and_then(|c| cells.get(c)).cloned().unwrap_or(Cell::Empty);
    let at = |c: Option<usize>| pos.at(c.unwrap_or(cols.element), cols);
    let before = parsed.errors.len();
    let element = get(Some(cols.element)).as_text();
    if element.is_empty() || element.chars().any(char::is_whitespace) {
        parsed.errors.push(RowError::new(
            at(Some(cols.element)),
            "bad_element",
            format!("数据元素代码“{element}”无效（不能为空或含空格）"),
            format!("bad data element code {element:?} (empty or with spaces)"),
        ));
    }
    let area_text = get(Some(cols.area)).as_text();
    let area = AreaCode::parse(&area_text).map_err(|_| {
        RowError::new(
            at(Some(cols.area)),
            "bad_area",
            format!("地区代码“{area_text}”无效（应为 6、9 或 12 位数字）"),
            format!("bad area code {area_text:?} (6, 9 or 12 digits)"),
        )
    });
    let period_text = get(Some(cols.period)).as_text();
    let period = period_text.parse::<Period>().map_err(|e| {
        RowError::new(
            at(Some(cols.period)),
            "bad_period",
            format!("报告期“{period_text}”无效（应为 2024、2024Q1 或 202403）"),
            e.to_string(),
        )
    });
    let status_text = get(cols.status).as_text();
    let status = match status_text.as_str() {
        "" => Ok(None),
        s => ValueStatus::parse(s).map(Some).map_err(|_| {
            RowError::new(
                at(cols.status),
                "bad_status",
                format!("状态“{s}”无效（draft、submitted、approved、returned）"),
                format!("unknown status {s:?} (draft, submitted, approved, returned)"),
            )
        }),
    };
    let (value, num, den) = (get(cols.value), get(cols.numerator), get(cols.denominator));
    let input = match Input::from_columns(value.raw(), num.raw(), den.raw()) {
        Input::Single(_) => RawInput::Single(value),
        Input::Ratio { .. } => RawInput::Ratio(num, den),
    };
    let (area, period, status) = match (area, period, status) {
        (Ok(a), Ok(p), Ok(s)) if parsed.errors.len() == before => (a, p, s),
        (a, p, s) => {
            parsed
                .errors
                .extend([a.err(), p.err(), s.err()].into_iter().flatten());
            return;
        }
    };
    let comment = Some(get(cols.comment).as_text()).filter(|c| !c.is_empty());
    parsed.records.push(Record {
        element,
        area,
        period,
        input,
        comment,
        status,
        at: Places {
            row: at(Some(cols.element)),
            value: at(cols.value.or(cols.numerator)),
            numerator: at(cols.numerator.or(cols.value)),
            denominator: at(cols.denominator.or(cols.value)),
            comment: at(cols.comment.or(cols.value)),
        },
    });
}

/// Reads CSV text (already decoded) and checks every row.
pub fn read_csv(text: &str, rules: &dyn Rules, opts: Options) -> Result<Import, ExchangeError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ExchangeError::TooLarge {
            size: text.len(),
            limit: MAX_TEXT_BYTES,
        });
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| {
            ExchangeError::malformed("line 1", format!("无法读取表头（{e}）"), e.to_string())
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let cols = Columns::find(&header, "line 1")?;
    let mut parsed = Parsed::default();
    for record in rdr.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            ExchangeError::malformed(
                format!("line {line}"),
                format!("CSV 格式错误（{e}）"),
                e.to_string(),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            parsed.errors.push(RowError::new(
                Location::Line {
                    line,
                    field: String::new(),
                },
                "bad_row",
                format!("该行有 {} 列，表头有 {} 列", record.len(), header.len()),
                format!(
                    "the row has {} fields but the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let cells: Vec<Cell> = record
            .iter()
            .map(|f| Cell::text(crate::csv_cells::restore(f)))
            .collect();
        read_row(&cells, RowAt::Line(line), &cols, &mut parsed);
    }
    check(parsed, rules, opts, Blank::Refuse)
}

/// Reads the value table from the `数据` sheet of an .xlsx (or the first sheet).
pub fn read_xlsx_table(
    bytes: &[u8],
    rules: &dyn Rules,
    opts: Options,
    limits: &Limits,
) -> Result<Import, ExchangeError> {
    let mut wb = xlsx::open(bytes, limits)?;
    let names = calamine::Reader::sheet_names(&wb);
    let sheet = names
        .iter()
        .find(|s| s.as_str() == TABLE_SHEET)
        .or(names.first())
        .cloned()
        .ok_or_else(|| ExchangeError::WrongSheet {
            expected: TABLE_SHEET.into(),
            found: String::new(),
        })?;
    let range = xlsx::range(&mut wb, &sheet)?;
    let Some((r0, c0)) = range.start() else {
        return Err(ExchangeError::malformed(
            format!("{sheet}!A1"),
            "工作表是空的",
            "the sheet is empty",
        ));
    };
    let (r1, c1) = range.end().unwrap_or((r0, c0));
    let header: Vec<String> = (0..=c1)
        .map(|c| xlsx::cell(range.get_value((r0, c))).as_text())
        .collect();
    let cols = Columns::find(
        &header,
        &format!("{sheet}!{}", crate::error::cell_ref(r0, 0)),
    )?;
    let mut parsed = Parsed::default();
    for r in r0 + 1..=r1 {
        let cells: Vec<Cell> = (0..=c1)
            .map(|c| xlsx::cell(range.get_value((r, c))))
            .collect();
        if cells.iter().all(|c| matches!(c, Cell::Empty)) {
            continue;
        }
        read_row(&cells, RowAt::Sheet(&sheet, r), &cols, &mut parsed);
    }
    check(parsed, rules, opts, Blank::Refuse)
}

/// A number written so that reading it back gives the same `f64`.
pub(crate) fn number_text(x: f64) -> String {
    x.to_string()
}

/// The fields of one value in table order after the first three.
fn value_fields(v: &DataValue) -> [String; 3] {
    match &v.value {
        Value::Number { value } => [number_text(*value), String::new(), String::new()],
        Value::Ratio {
            numerator,
            denominator,
        } => [
            String::new(),
            number_text(*numerator),
            number_text(*denominator),
        ],
        Value::Boolean { value } => [value.to_string(), String::new(), String::new()],
        Value::Text { value } => [value.clone(), String::new(), String::new()],
    }
}

/// The values as CSV with the [`COLUMNS`] header; reading it back gives the same values.
pub fn write_csv(values: &[DataValue]) -> String {
    let rows: Vec<([String; 3], String)> = values
        .iter()
        .map(|v| (value_fields(v), v.period.to_string()))
        .collect();
    let body = values
        .iter()
        .zip(&rows)
        .map(|(v, ([value, num, den], period))| {
            vec![
                v.element.as_str(),
                v.area.as_str(),
                period,
                value,
                num,
                den,
                v.status.as_str(),
                v.comment.as_deref().unwrap_or(""),
            ]
        });
    crate::csv_cells::to_csv(std::iter::once(COLUMNS.to_vec()).chain(body))
}

/// The values as an .xlsx with one `数据` sheet in the [`COLUMNS`] layout.
pub fn write_xlsx_table(values: &[DataValue]) -> Result<Vec<u8>, ExchangeError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(TABLE_SHEET)?;
    let bold = Format::new().set_bold();
    for (c, h) in (0u16..).zip(COLUMNS) {
        ws.write_string_with_format(0, c, h, &bold)?;
    }
    for (i, v) in values.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| ExchangeError::Xlsx("too many rows".into()))?;
        ws.write_string(r, 0, &v.element)?;
        ws.write_string(r, 1, v.area.as_str())?;
        ws.write_string(r, 2, v.period.to_string())?;
        match &v.value {
            Value::Number { value } => {
                ws.write_number(r, 3, *value)?;
            }
            Value::Ratio {
                numerator,
                denominator,
            } => {
                ws.write_number(r, 4, *numerator)?;
                ws.write_number(r, 5, *denominator)?;
            }
            Value::Boolean { value } => {
                ws.write_boolean(r, 3, *value)?;
            }
            Value::Text { value } => {
                ws.write_string(r, 3, value)?;
            }
        }
        ws.write_string(r, 6, v.status.as_str())?;
        if let Some(c) = &v.comment {
            ws.write_string(r, 7, c)?;
        }
    }
    for (c, w) in [
        (0u16, 14.0),
        (1, 12.0),
        (2, 10.0),
        (3, 14.0),
        (4, 12.0),
        (5, 12.0),
        (6, 10.0),
        (7, 40.0),
    ] {
        ws.set_column_width(c, w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::checks;

    const GOOD: &str = "element,area_code,period,value,numerator,denominator,status,comment
HL01,440300,2023,25.4,,,approved,
HL02,440300,2024Q1,,3,1200,,
HL06,440300,202403,已建立,,,draft,备注
HL07,440300,2024,是,,,,
";

    #[test]
    fn reads_every_value_kind() {
        let v = read_csv(GOOD, &checks(), Options::default())
            .unwrap()
            .values;
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].value, Value::Number { value: 25.4 });
        assert_eq!(v[0].status, ValueStatus::Approved);
        assert_eq!(
            v[1].value,
            Value::Ratio {
                numerator: 3.0,
                denominator: 1200.0
            }
        );
        assert_eq!(
            v[2].value,
            Value::Text {
                value: "已建立".into()
            }
        );
        assert_eq!(v[2].comment.as_deref(), Some("备注"));
        assert_eq!(v[3].value, Value::Boolean { value: true });
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        for (row, want) in [
            (
                "HL01,440300,2024Q5,1,,,,",
                "line 4, field period: 报告期“2024Q5”无效",
            ),
            (
                "HL01,4403,2024,1,,,,",
                "line 4, field area_code: 地区代码“4403”无效",
            ),
            (
                "HL02,440300,2024,,1,0,,",
                "line 4, field denominator: 分母须大于 0",
            ),
            (
                "HL02,440300,2024,,x,5,,",
                "line 4, field numerator: 不是数字：“x”",
            ),
            (
                "HL02,440300,2024,,6,5,,",
                "line 4, field numerator: 分子（6）大于分母（5）",
            ),
            ("HL01,440300,2024,,,,,", "line 4, field value: 未填写"),
            (
                "HL01,440300,2024,101,,,,",
                "line 4, field value: 超出取值范围 0–100 / out of range 0–100",
            ),
            (
                "HL01,440300,2024,abc,,,,",
                "line 4, field value: 不是数字：“abc” / not a number: \"abc\"",
            ),
            (
                "HL07,440300,2024,也许,,,,",
                "line 4, field value: 应填“是”或“否”",
            ),
            (
                "HL01,440300,2024,1,,,done,",
                "line 4, field status: 状态“done”无效",
            ),
            ("HL01,440300,2024", "line 4: 该行有 3 列，表头有 8 列"),
            (
                "XX,440300,2024,1,,,,",
                "line 4, field element: 未知的数据元素“XX”",
            ),
            (
                "HL01,440300,2023,25,,,,",
                "line 4, field element: 与 line 2, field element 重复",
            ),
        ] {
            let text = GOOD.lines().take(3).collect::<Vec<_>>().join("\n") + "\n" + row + "\n";
            let e = read_csv(&text, &checks(), Options::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{want}\n got: {e}");
            assert!(e.starts_with("1 处错误"), "{e}");
        }
        let e = read_csv("a,b\n1,2\n", &checks(), Options::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 1: 表头须包含"), "{e}");
    }

    #[test]
    fn csv_and_xlsx_round_trip() {
        let values = read_csv(GOOD, &checks(), Options::default())
            .unwrap()
            .values;
        let again = read_csv(&write_csv(&values), &checks(), Options::default())
            .unwrap()
            .values;
        assert_eq!(again, values);
        let bytes = write_xlsx_table(&values).unwrap();
        let from_xlsx = read_xlsx_table(&bytes, &checks(), Options::default(), &Limits::default())
            .unwrap()
            .values;
        assert_eq!(from_xlsx, values);
    }

    #[test]
    fn xlsx_errors_name_the_cell() {
        let values = read_csv(GOOD, &checks(), Options::default())
            .unwrap()
            .values;
        let bytes = write_xlsx_table(&values).unwrap();
        let bad = crate::testing::fill(
            &bytes,
            TABLE_SHEET,
            &[("D2", crate::testing::Fill::Text("二十五"))],
        )
        .unwrap();
        let e = read_xlsx_table(&bad, &checks(), Options::default(), &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("数据!D2: 不是数字：“二十五”"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}", data in proptest::collection::vec(proptest::num::u8::ANY, 0..500)) {
            let _ = read_csv(&s, &checks(), Options::default());
            let with_header = format!("element,area_code,period,value,numerator,denominator,status,comment\n{s}");
            let _ = read_csv(&with_header, &checks(), Options { skip_bad_rows: true });
            let _ = read_xlsx_table(&data, &checks(), Options::default(), &Limits::default());
        }
    }
}
