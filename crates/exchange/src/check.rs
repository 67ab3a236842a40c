//! The one checker every reader ends in: records read from a file → data values, or every
//! refused field with its place in the file.

use crate::error::{ExchangeError, Location, Rejection, RowError};
use healthplan_core::validate::{self, check_text, previous_period, Field, Input, Raw};
use healthplan_core::{AreaCode, DataValue, Period, Value, ValueRule, ValueStatus};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What the caller knows that a file cannot say: which elements exist and how they are
/// reported, last period's values, which areas exist, and what the uploader may write.
pub trait Rules {
    /// The rule for `element` reported for `area`; `None` when the element is unknown.
    fn rule(&self, element: &str, area: &AreaCode) -> Option<&ValueRule>;
    /// Last period's value (the period before `period`) of this element and area.
    fn previous(&self, element: &str, area: &AreaCode, period: Period) -> Option<&Value>;
    fn area_known(&self, _area: &AreaCode) -> bool {
        true
    }
    fn may_write(&self, _element: &str, _area: &AreaCode) -> bool {
        true
    }
}

/// A ready-made [`Rules`] from maps, for callers that load what they need up front.
#[derive(Default)]
pub struct Checks<'a> {
    /// By element code.
    pub rules: HashMap<String, ValueRule>,
    /// Stored values by (element, area, period); the jump check looks up the period before.
    pub stored: HashMap<(String, AreaCode, Period), Value>,
    /// Known areas; `None` accepts any valid code (the store still refuses unknown ones).
    pub areas: Option<HashSet<AreaCode>>,
    /// Whether the uploader may write this element for this area; `None` allows all.
    #[allow(clippy::type_complexity)]
    pub may_write: Option<Box<dyn Fn(&str, &AreaCode) -> bool + 'a>>,
}

impl Rules for Checks<'_> {
    fn rule(&self, element: &str, _area: &AreaCode) -> Option<&ValueRule> {
        self.rules.get(element)
    }

    fn previous(&self, element: &str, area: &AreaCode, period: Period) -> Option<&Value> {
        let p = previous_period(period)?;
        self.stored.get(&(element.to_string(), area.clone(), p))
    }

    fn area_known(&self, area: &AreaCode) -> bool {
        self.areas.as_ref().is_none_or(|a| a.contains(area))
    }

    fn may_write(&self, element: &str, area: &AreaCode) -> bool {
        self.may_write.as_ref().is_none_or(|f| f(element, area))
    }
}

/// Choices the caller makes for a whole import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Import the good rows and list the bad ones instead of refusing the file.
    pub skip_bad_rows: bool,
}

/// What a file gives for writing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    pub values: Vec<DataValue>,
    /// Rows left out with [`Options::skip_bad_rows`], each with its errors.
    pub skipped: Vec<RowError>,
    /// Warnings the file confirmed with a comment, and notes (e.g. a comment without a
    /// value, which cannot be saved); nothing here stopped the import.
    pub warnings: Vec<RowError>,
}

/// One raw cell or field, owned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Cell {
    pub(crate) fn raw(&self) -> Raw<'_> {
        match self {
            Cell::Empty => Raw::Empty,
            Cell::Text(s) => Raw::Text(s),
            Cell::Number(x) => Raw::Number(*x),
            Cell::Bool(b) => Raw::Bool(*b),
        }
    }

    pub(crate) fn text(s: &str) -> Cell {
        if s.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }

    /// The cell as text, for codes and comments.
    pub(crate) fn as_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(x) => x.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawInput {
    Single(Cell),
    Ratio(Cell, Cell),
}

/// Where each field of a record sits in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Places {
    pub row: Location,
    pub value: Location,
    pub numerator: Location,
    pub denominator: Location,
    pub comment: Location,
}

impl Places {
    /// Every field at the same place.
    #[cfg(test)]
    pub(crate) fn same(at: Location) -> Places {
        Places {
            row: at.clone(),
            value: at.clone(),
            numerator: at.clone(),
            denominator: at.clone(),
            comment: at,
        }
    }

    fn of(&self, f: Field) -> &Location {
        match f {
            Field::Value => &self.value,
            Field::Numerator => &self.numerator,
            Field::Denominator => &self.denominator,
            Field::Comment => &self.comment,
        }
    }
}

/// One value as read, before checking.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub element: String,
    pub area: AreaCode,
    pub period: Period,
    pub input: RawInput,
    pub comment: Option<String>,
    pub status: Option<ValueStatus>,
    pub at: Places,
}

/// What a reader found before checking: records, and rows it could not even read.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub records: Vec<Record>,
    pub errors: Vec<RowError>,
    /// Rows left out on purpose (e.g. deleted in DHIS2), reported as warnings.
    pub notes: Vec<RowError>,
    pub unmapped: BTreeSet<(String, String)>,
}

/// How a blank value is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blank {
    /// Not reported (a template's empty cell).
    Skip,
    /// An error (a CSV row must carry a value).
    Refuse,
}

/// Checks every record; all or nothing unless `opts.skip_bad_rows`.
pub(crate) fn check(
    parsed: Parsed,
    rules: &dyn Rules,
    opts: Options,
    blank: Blank,
) -> Result<Import, ExchangeError> {
    let Parsed {
        records,
        mut errors,
        notes,
        unmapped,
    } = parsed;
    let mut out = Import {
        warnings: notes,
        ..Import::default()
    };
    let mut seen: HashMap<(String, AreaCode, Period), Location> = HashMap::new();
    for r in records {
        check_one(r, rules, blank, &mut seen, &mut errors, &mut out);
    }
    if errors.is_empty() {
        return Ok(out);
    }
    if opts.skip_bad_rows {
        out.skipped = errors;
        return Ok(out);
    }
    Err(ExchangeError::Rejected(Rejection { errors, unmapped }))
}

fn check_one(
    r: Record,
    rules: &dyn Rules,
    blank: Blank,
    seen: &mut HashMap<(String, AreaCode, Period), Location>,
    errors: &mut Vec<RowError>,
    out: &mut Import,
) {
    let comment = r
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let input = match &r.input {
        RawInput::Single(c) => Input::Single(c.raw()),
        RawInput::Ratio(n, d) => Input::Ratio {
            numerator: n.raw(),
            denominator: d.raw(),
        },
    };
    if input.is_empty() && blank == Blank::Skip {
        if comment.is_some() {
            out.warnings.push(RowError::new(
                r.at.comment.clone(),
                "comment_without_value",
                "只填了备注、未填数值，备注未保存",
                "a comment without a value is not saved",
            ));
        }
        return;
    }
    let refuse = |code: &str, zh: String, en: String| RowError::new(r.at.row.clone(), code, zh, en);
    let Some(rule) = rules.rule(&r.element, &r.area) else {
        errors.push(refuse(
            "unknown_element",
            format!("未知的数据元素“{}”，请先声明", r.element),
            format!("unknown data element \"{}\"; declare it first", r.element),
        ));
        return;
    };
    if !rules.area_known(&r.area) {
        errors.push(refuse(
            "unknown_area",
            format!("未知的地区代码 {}", r.area),
            format!("unknown area code {}", r.area),
        ));
        return;
    }
    if !rules.may_write(&r.element, &r.area) {
        errors.push(refuse(
            "not_allowed",
            format!("无权填报地区 {} 的 {}", r.area, r.element),
            format!("not allowed to report {} for area {}", r.element, r.area),
        ));
        return;
    }
    let key = (r.element.clone(), r.area.clone(), r.period);
    if let Some(first) = seen.get(&key) {
        errors.push(refuse(
            "duplicate",
            format!("与 {first} 重复（同一数据元素、地区和报告期）"),
            format!("same element, area and period as {first}"),
        ));
        return;
    }
    seen.insert(key, r.at.row.clone());
    let before = errors.len();
    if let Some(c) = comment {
        if let Err(issue) = check_text(c, Field::Comment) {
            errors.push(RowError::from_issue(r.at.comment.clone(), &issue));
        }
    }
    let previous = rules.previous(&r.element, &r.area, r.period);
    let checked = validate::validate(rule, &input, previous);
    for issue in &checked.issues {
        let e = RowError::from_issue(r.at.of(issue.field).clone(), issue);
        if issue.blocks(comment) {
            errors.push(e);
        } else {
            out.warnings.push(e);
        }
    }
    let (Some(value), true) = (checked.value, errors.len() == before) else {
        return;
    };
    match DataValue::new(&r.element, r.area, r.period, value) {
        Ok(mut dv) => {
            dv.comment = comment.map(str::to_string);
            if let Some(s) = r.status {
                dv.status = s;
            }
            out.values.push(dv);
        }
        Err(e) => errors.push(RowError::new(
            r.at.value.clone(),
            "invalid",
            e.to_string(),
            e.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthplan_core::ValueType;

    fn rec(element: &str, value: &str, comment: Option<&str>, line: u64) -> Record {
        Record {
            element: element.into(),
            area: AreaCode::parse("440300").unwrap(),
            period: Period::Year(2024),
            input: RawInput::Single(Cell::text(value)),
            comment: comment.map(str::to_string),
            status: None,
            at: Places::same(Location::Line {
                line,
                field: "value".into(),
            }),
        }
    }

    fn checks() -> Checks<'static> {
        let mut c = Checks::default();
        c.rules.insert(
            "HL01".into(),
            ValueRule::new(ValueType::Number).with_unit("%"),
        );
        c.stored.insert(
            (
                "HL01".into(),
                AreaCode::parse("440300").unwrap(),
                Period::Year(2023),
            ),
            Value::Number { value: 20.0 },
        );
        c
    }

    fn parsed(records: Vec<Record>) -> Parsed {
        Parsed {
            records,
            ..Parsed::default()
        }
    }

    #[test]
    fn all_or_nothing_unless_skipping() {
        let mut rows = vec![
            rec("HL01", "25", None, 2),
            rec("HL01", "120", None, 3),
            rec("XX", "1", None, 4),
        ];
        rows[1].period = Period::Year(2025);
        let e = check(
            parsed(rows.clone()),
            &checks(),
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("2 处错误，未导入任何数据"), "{e}");
        assert!(
            e.contains("line 3, field value: 超出取值范围 0–100 / out of range 0–100"),
            "{e}"
        );
        assert!(e.contains("line 4, field value: 未知的数据元素“XX”"), "{e}");
        let skipped = check(
            parsed(rows),
            &checks(),
            Options {
                skip_bad_rows: true,
            },
            Blank::Refuse,
        )
        .unwrap();
        assert_eq!(skipped.values.len(), 1);
        assert_eq!(skipped.values[0].value, Value::Number { value: 25.0 });
        assert_eq!(skipped.skipped.len(), 2);
    }

    #[test]
    fn jumps_need_a_comment_and_duplicates_are_refused() {
        let e = check(
            parsed(vec![rec("HL01", "35", None, 2)]),
            &checks(),
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err();
        assert_eq!(e.rejection().unwrap().errors[0].code, "jump");
        let ok = check(
            parsed(vec![rec("HL01", "35", Some("新建筛查点"), 2)]),
            &checks(),
            Options::default(),
            Blank::Refuse,
        )
        .unwrap();
        assert_eq!(ok.values[0].comment.as_deref(), Some("新建筛查点"));
        assert_eq!(ok.warnings[0].code, "jump");
        let e = check(
            parsed(vec![rec("HL01", "25", None, 2), rec("HL01", "26", None, 3)]),
            &checks(),
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err();
        assert_eq!(
            e.rejection().unwrap().errors[0].zh,
            "与 line 2, field value 重复（同一数据元素、地区和报告期）"
        );
    }

    #[test]
    fn blanks_and_permissions() {
        let blank = rec("HL01", " ", Some("数据暂缺"), 2);
        let ok = check(
            parsed(vec![blank.clone()]),
            &checks(),
            Options::default(),
            Blank::Skip,
        )
        .unwrap();
        assert!(ok.values.is_empty());
        assert_eq!(ok.warnings[0].code, "comment_without_value");
        let e = check(
            parsed(vec![blank]),
            &checks(),
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err();
        assert_eq!(e.rejection().unwrap().errors[0].code, "empty");
        let mut c = checks();
        c.may_write = Some(Box::new(|_, a: &AreaCode| a.as_str() != "440300"));
        let e = check(
            parsed(vec![rec("HL01", "25", None, 2)]),
            &c,
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err();
        assert_eq!(
            e.rejection().unwrap().errors[0].zh,
            "无权填报地区 440300 的 HL01"
        );
        c.may_write = None;
        c.areas = Some(HashSet::new());
        let e = check(
            parsed(vec![rec("HL01", "25", None, 2)]),
            &c,
            Options::default(),
            Blank::Refuse,
        )
        .unwrap_err();
        assert_eq!(e.rejection().unwrap().errors[0].code, "unknown_area");
    }
}
