//! The rules for one reported value, shared by every way data comes in: the web form, the
//! XLSX template re-import, CSV, and DHIS2 / ADX import. Pure: raw input and a [`ValueRule`]
//! in, a typed [`Value`] and a list of [`Issue`]s out, each with a stable code and a message
//! in Chinese and English.
//!
//! ```
//! use healthplan_core::validate::{validate, Input, Raw, ValueRule};
//! use healthplan_core::ValueType;
//! let rule = ValueRule::new(ValueType::Number).with_unit("%");
//! let out = validate(&rule, &Input::Single(Raw::Text("120")), None);
//! assert_eq!(out.issues[0].zh, "超出取值范围 0–100");
//! assert_eq!(out.issues[0].en, "out of range 0–100");
//! ```

use crate::data::{Value, ValueType};
use crate::error::CoreError;
use crate::indicator::Indicator;
use crate::period::{Period, MIN_YEAR};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A change from last period above this share is a warning the reporter confirms with a
/// comment.
pub const DEFAULT_MAX_JUMP: f64 = 0.5;
/// Longest text value, comment or note, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest name or title (area, department, element, account, round, token, plan), in
/// characters.
pub const MAX_NAME_CHARS: usize = 200;

/// How one data item is reported and what values it may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub struct ValueRule {
    value_type: ValueType,
    unit: Option<String>,
    ratio_factor: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    max_jump: Option<f64>,
}

/// The serde shape of [`ValueRule`]; deserialisation goes through the checking constructors.
#[derive(Serialize, Deserialize)]
struct RuleFields {
    value_type: ValueType,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    ratio_factor: Option<f64>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default = "default_jump")]
    max_jump: Option<f64>,
}

fn default_jump() -> Option<f64> {
    Some(DEFAULT_MAX_JUMP)
}

impl TryFrom<RuleFields> for ValueRule {
    type Error = CoreError;
    fn try_from(f: RuleFields) -> Result<Self, CoreError> {
        let mut r = ValueRule::new(f.value_type)
            .with_bounds(f.min, f.max)?
            .with_max_jump(f.max_jump)?;
        if let Some(u) = f.unit {
            r = r.with_unit(&u);
        }
        if let Some(factor) = f.ratio_factor {
            r = r.with_ratio(factor)?;
        }
        Ok(r)
    }
}

impl From<ValueRule> for RuleFields {
    fn from(r: ValueRule) -> Self {
        RuleFields {
            value_type: r.value_type,
            unit: r.unit,
            ratio_factor: r.ratio_factor,
            min: r.min,
            max: r.max,
            max_jump: r.max_jump,
        }
    }
}

impl ValueRule {
    /// A rule with no unit, no explicit bounds, the default jump share.
    pub fn new(value_type: ValueType) -> ValueRule {
        ValueRule {
            value_type,
            unit: None,
            ratio_factor: None,
            min: None,
            max: None,
            max_jump: Some(DEFAULT_MAX_JUMP),
        }
    }

    /// The rule an indicator implies: its unit, and numerator/denominator entry with the
    /// formula's factor when the formula has a denominator.
    pub fn for_indicator(ind: &Indicator, value_type: ValueType) -> ValueRule {
        let mut r = ValueRule::new(value_type);
        if let Some(u) = &ind.unit {
            r = r.with_unit(u);
        }
        match &ind.formula {
            // A validated formula's factor is finite and non-zero.
            Some(f) if f.denominator.is_some() && value_type == ValueType::Number => {
                r.ratio_factor = Some(f.factor).filter(|x| x.is_finite() && *x > 0.0);
                r
            }
            _ => r,
        }
    }

    pub fn with_unit(mut self, unit: &str) -> ValueRule {
        let u = unit.trim();
        self.unit = (!u.is_empty()).then(|| u.to_string());
        self
    }

    /// Entered as numerator and denominator; the value is `factor × numerator / denominator`
    /// (100 for a percentage, 1000 for ‰, 100000 for 1/10万).
    pub fn with_ratio(mut self, factor: f64) -> Result<ValueRule, CoreError> {
        if !factor.is_finite() || factor <= 0.0 {
            return Err(CoreError::invalid(
                "ratio factor",
                format!("{factor} must be a positive number"),
            ));
        }
        if self.value_type != ValueType::Number {
            return Err(CoreError::invalid(
                "ratio factor",
                "only number items can be entered as numerator and denominator",
            ));
        }
        self.ratio_factor = Some(factor);
        Ok(self)
    }

    /// Explicit bounds; each side given replaces the one derived from the unit.
    pub fn with_bounds(
        mut self,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Result<ValueRule, CoreError> {
        if min.is_some_and(|x| !x.is_finite()) || max.is_some_and(|x| !x.is_finite()) {
            return Err(CoreError::invalid(
                "bounds",
                "bounds must be finite numbers",
            ));
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return Err(CoreError::invalid(
                    "bounds",
                    format!("minimum {lo} is above maximum {hi}"),
                ));
            }
        }
        self.min = min;
        self.max = max;
        Ok(self)
    }

    /// The largest change from last period, as a share of last period's value, before a
    /// warning; `None` turns the check off.
    pub fn with_max_jump(mut self, share: Option<f64>) -> Result<ValueRule, CoreError> {
        if share.is_some_and(|s| !s.is_finite() || s < 0.0) {
            return Err(CoreError::invalid(
                "max_jump",
                "the jump share must be a non-negative number",
            ));
        }
        self.max_jump = share;
        Ok(self)
    }

    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    /// `Some(factor)` when the item is entered as numerator and denominator.
    pub fn ratio_factor(&self) -> Option<f64> {
        self.ratio_factor
    }

    pub fn max_jump(&self) -> Option<f64> {
        self.max_jump
    }

    /// The bounds in force: explicit ones, else those the unit implies (see [`unit_bounds`]).
    pub fn bounds(&self) -> (Option<f64>, Option<f64>) {
        let (lo, hi) = self.unit.as_deref().map_or((None, None), unit_bounds);
        (self.min.or(lo), self.max.or(hi))
    }

    /// The number a value stands for under this rule (a ratio times the factor, a boolean as
    /// 1/0); `None` for text.
    pub fn numeric(&self, value: &Value) -> Option<f64> {
        match value {
            Value::Number { value } => Some(*value),
            Value::Ratio {
                numerator,
                denominator,
            } => Some(self.ratio_factor.unwrap_or(1.0) * numerator / denominator),
            Value::Boolean { value } => Some(if *value { 1.0 } else { 0.0 }),
            Value::Text { .. } => None,
        }
    }
}

/// Bounds a unit implies: `%` 0–100, `‰` 0–1000, `1/10万` 0–100000, `岁` 0–150, and ≥ 0 for
/// counts, money, durations and any rate written with `/` or `每`. Unknown units: none.
pub fn unit_bounds(unit: &str) -> (Option<f64>, Option<f64>) {
    let u: String = unit.chars().filter(|c| !c.is_whitespace()).collect();
    match u.as_str() {
        "%" | "％" | "百分比" => return (Some(0.0), Some(100.0)),
        "‰" | "1/千" | "/千" | "千分比" => return (Some(0.0), Some(1000.0)),
        "‱" | "1/万" | "/万" => return (Some(0.0), Some(10_000.0)),
        "1/10万" | "/10万" | "1/100000" | "/100000" | "1/十万" => {
            return (Some(0.0), Some(100_000.0))
        }
        "岁" | "年龄" => return (Some(0.0), Some(150.0)),
        _ => {}
    }
    const NON_NEGATIVE: [&str; 28] = [
        "人",
        "人次",
        "万人",
        "万人次",
        "个",
        "张",
        "家",
        "所",
        "次",
        "例",
        "名",
        "户",
        "台",
        "辆",
        "元",
        "万元",
        "亿元",
        "天",
        "日",
        "小时",
        "分钟",
        "年",
        "月",
        "平方米",
        "米",
        "公里",
        "千米",
        "项",
    ];
    if NON_NEGATIVE.contains(&u.as_str()) || u.contains('/') || u.contains('每') {
        (Some(0.0), None)
    } else {
        (None, None)
    }
}

/// How serious an issue is: errors refuse the value; warnings pass once the reporter
/// confirms them with a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// Which entry field an issue is about (so a form or a sheet can point at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Value,
    Numerator,
    Denominator,
    Comment,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Value => "value",
            Field::Numerator => "numerator",
            Field::Denominator => "denominator",
            Field::Comment => "comment",
        }
    }
}

/// Stable issue codes; the strings never change, so clients may switch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// Nothing entered where a value is needed.
    Empty,
    NotANumber,
    NotABoolean,
    TextTooLong,
    /// A NUL or another control character (tabs and line breaks aside).
    ControlCharacter,
    /// The item is entered as numerator and denominator, but one value came.
    RatioRequired,
    /// A numerator and denominator came for an item that takes one value.
    RatioNotAllowed,
    OutOfRange,
    DenominatorNotPositive,
    NumeratorNegative,
    NumeratorAboveDenominator,
    /// A change from last period above the rule's share (a warning).
    Jump,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Empty => "empty",
            IssueCode::NotANumber => "not_a_number",
            IssueCode::NotABoolean => "not_a_boolean",
            IssueCode::TextTooLong => "text_too_long",
            IssueCode::ControlCharacter => "control_character",
            IssueCode::RatioRequired => "ratio_required",
            IssueCode::RatioNotAllowed => "ratio_not_allowed",
            IssueCode::OutOfRange => "out_of_range",
            IssueCode::DenominatorNotPositive => "denominator_not_positive",
            IssueCode::NumeratorNegative => "numerator_negative",
            IssueCode::NumeratorAboveDenominator => "numerator_above_denominator",
            IssueCode::Jump => "jump",
        }
    }
}

/// One finding about one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    pub field: Field,
    pub zh: String,
    pub en: String,
}

impl Issue {
    fn error(code: IssueCode, field: Field, zh: String, en: String) -> Issue {
        Issue {
            severity: Severity::Error,
            code,
            field,
            zh,
            en,
        }
    }

    /// Whether this issue stops the value being saved: every error, and a warning the
    /// reporter has not confirmed with a comment.
    pub fn blocks(&self, comment: Option<&str>) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Warning => comment.is_none_or(|c| c.trim().is_empty()),
        }
    }
}

impl fmt::Display for Issue {
    /// Chinese first, then English: `超出取值范围 0–100 / out of range 0–100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}

/// One raw cell or field as it arrived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    Bool(bool),
}

impl Raw<'_> {
    pub fn is_empty(&self) -> bool {
        match self {
            Raw::Empty => true,
            Raw::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// What was entered for one item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<'a> {
    Single(Raw<'a>),
    Ratio {
        numerator: Raw<'a>,
        denominator: Raw<'a>,
    },
}

impl<'a> Input<'a> {
    /// The usual shape of a row with value, numerator and denominator columns: a ratio when
    /// either part is filled, the value otherwise.
    pub fn from_columns(value: Raw<'a>, numerator: Raw<'a>, denominator: Raw<'a>) -> Input<'a> {
        if numerator.is_empty() && denominator.is_empty() {
            Input::Single(value)
        } else {
            Input::Ratio {
                numerator,
                denominator,
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Input::Single(r) => r.is_empty(),
            Input::Ratio {
                numerator,
                denominator,
            } => numerator.is_empty() && denominator.is_empty(),
        }
    }
}

/// The result of validating one entry: the value when no error was found, and every issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub value: Option<Value>,
    pub issues: Vec<Issue>,
}

impl Checked {
    /// The value, if nothing blocks it given the reporter's comment.
    pub fn accepted(&self, comment: Option<&str>) -> Option<&Value> {
        if self.issues.iter().any(|i| i.blocks(comment)) {
            None
        } else {
            self.value.as_ref()
        }
    }
}

/// Validates one entry against its rule and last period's value (`previous`): type, then
/// shape (single value or numerator/denominator), range, ratio parts, and the jump.
pub fn validate(rule: &ValueRule, input: &Input<'_>, previous: Option<&Value>) -> Checked {
    match parse(rule, input) {
        Ok(value) => {
            let issues = check_value(rule, &value, previous);
            let ok = issues.iter().all(|i| i.severity != Severity::Error);
            Checked {
                value: ok.then_some(value),
                issues,
            }
        }
        Err(issues) => Checked {
            value: None,
            issues,
        },
    }
}

/// Turns raw input into a typed value, or the type and shape errors.
pub fn parse(rule: &ValueRule, input: &Input<'_>) -> Result<Value, Vec<Issue>> {
    let unit = rule.unit.as_deref();
    match (*input, rule.value_type) {
        (Input::Ratio { .. }, ValueType::Boolean | ValueType::Text) => Err(vec![Issue::error(
            IssueCode::RatioNotAllowed,
            Field::Numerator,
            "该项只填一个值，不填分子分母".into(),
            "this item takes one value, not a numerator and denominator".into(),
        )]),
        (
            Input::Ratio {
                numerator,
                denominator,
            },
            ValueType::Number,
        ) => {
            let n = number(numerator, Field::Numerator, unit);
            let d = number(denominator, Field::Denominator, unit);
            match (n, d) {
                (Ok(numerator), Ok(denominator)) => Ok(Value::Ratio {
                    numerator,
                    denominator,
                }),
                (n, d) => Err(n.err().into_iter().chain(d.err()).collect()),
            }
        }
        (Input::Single(raw), _) if rule.ratio_factor.is_some() && !raw.is_empty() => {
            Err(vec![Issue::error(
                IssueCode::RatioRequired,
                Field::Value,
                "须分别填写分子和分母".into(),
                "enter the numerator and the denominator".into(),
            )])
        }
        (Input::Single(raw), ValueType::Number) => number(raw, Field::Value, unit)
            .map(|value| Value::Number { value })
            .map_err(|e| vec![e]),
        (Input::Single(raw), ValueType::Boolean) => boolean(raw)
            .map(|value| Value::Boolean { value })
            .map_err(|e| vec![e]),
        (Input::Single(raw), ValueType::Text) => text(raw).map_err(|e| vec![e]),
    }
}

fn empty(field: Field) -> Issue {
    let (zh, en) = match field {
        Field::Numerator => ("未填写分子", "no numerator"),
        Field::Denominator => ("未填写分母", "no denominator"),
        _ => ("未填写", "no value"),
    };
    Issue::error(IssueCode::Empty, field, zh.into(), en.into())
}

/// A number as people type it: full-width digits, thousands separators (`1,234`), and a
/// trailing `%` when the unit is `%`, are accepted; `NaN`, `inf` and words are not.
fn number(raw: Raw<'_>, field: Field, unit: Option<&str>) -> Result<f64, Issue> {
    let not_a_number = |shown: String| {
        Issue::error(
            IssueCode::NotANumber,
            field,
            format!("不是数字：“{shown}”"),
            format!("not a number: \"{shown}\""),
        )
    };
    match raw {
        Raw::Number(x) if x.is_finite() => Ok(x),
        Raw::Number(x) => Err(not_a_number(x.to_string())),
        Raw::Bool(b) => Err(not_a_number(if b { "TRUE" } else { "FALSE" }.into())),
        Raw::Empty => Err(empty(field)),
        Raw::Text(s) if s.trim().is_empty() => Err(empty(field)),
        Raw::Text(s) => parse_number(s, unit).ok_or_else(|| not_a_number(shorten(s.trim()))),
    }
}

fn parse_number(s: &str, unit: Option<&str>) -> Option<f64> {
    let mut t: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '－' | '−' => '-',
            '＋' => '+',
            '％' => '%',
            c => c,
        })
        .collect();
    if matches!(unit, Some("%" | "％")) {
        if let Some(rest) = t.strip_suffix('%') {
            t = rest.trim_end().to_string();
        }
    }
    if t.contains(',') {
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        let int = int.strip_prefix(['-', '+']).unwrap_or(int);
        let groups: Vec<&str> = int.split(',').collect();
        let grouped = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups.iter().skip(1).all(|g| g.len() == 3)
            && frac.bytes().all(|b| b.is_ascii_digit());
        if !grouped {
            return None;
        }
        t = t.replace(',', "");
    }
    // Only plain decimal notation (with an optional exponent): no `inf`, `NaN`, hex.
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && t.bytes().any(|b| b.is_ascii_digit());
    t.parse::<f64>().ok().filter(|x| ok && x.is_finite())
}

fn boolean(raw: Raw<'_>) -> Result<bool, Issue> {
    let bad = |shown: String| {
        Issue::error(
            IssueCode::NotABoolean,
            Field::Value,
            format!("应填“是”或“否”：“{shown}”"),
            format!("expected yes or no: \"{shown}\""),
        )
    };
    match raw {
        Raw::Bool(b) => Ok(b),
        Raw::Number(1.0) => Ok(true),
        Raw::Number(0.0) => Ok(false),
        Raw::Number(x) => Err(bad(x.to_string())),
        Raw::Empty => Err(empty(Field::Value)),
        Raw::Text(s) => match s.trim().to_lowercase().as_str() {
            "" => Err(empty(Field::Value)),
            "是" | "true" | "yes" | "y" | "1" | "√" => Ok(true),
            "否" | "false" | "no" | "n" | "0" | "×" => Ok(false),
            _ => Err(bad(shorten(s.trim()))),
        },
    }
}

fn text(raw: Raw<'_>) -> Result<Value, Issue> {
    let s = match raw {
        Raw::Empty => return Err(empty(Field::Value)),
        Raw::Text(s) => s.trim().to_string(),
        Raw::Number(x) => x.to_string(),
        Raw::Bool(b) => if b { "是" } else { "否" }.to_string(),
    };
    if s.is_empty() {
        return Err(empty(Field::Value));
    }
    check_text(&s, Field::Value)?;
    Ok(Value::Text { value: s })
}

/// Why entered text cannot be stored: a control character (PostgreSQL refuses NUL, and
/// none belongs in a name or a note), or more than `max` characters (an Excel cell holds
/// 32,767, and every export must still open). Tabs and line breaks are text.
fn text_problem(s: &str, max: usize) -> Option<(IssueCode, String, String)> {
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        let c = c as u32;
        return Some((
            IssueCode::ControlCharacter,
            format!("含有控制字符 U+{c:04X}"),
            format!("contains the control character U+{c:04X}"),
        ));
    }
    let n = s.chars().count();
    (n > max).then(|| {
        (
            IssueCode::TextTooLong,
            format!("文字过长（{n} 字，上限 {max} 字）"),
            format!("text too long ({n} characters, at most {max})"),
        )
    })
}

/// Refuses a text value or comment with a control character or longer than
/// [`MAX_TEXT_CHARS`].
pub fn check_text(s: &str, field: Field) -> Result<(), Issue> {
    match text_problem(s, MAX_TEXT_CHARS) {
        Some((code, zh, en)) => Err(Issue::error(code, field, zh, en)),
        None => Ok(()),
    }
}

/// Refuses a name or title with a control character or longer than [`MAX_NAME_CHARS`].
pub fn check_name(field: &str, s: &str) -> Result<(), CoreError> {
    check_field(field, s, MAX_NAME_CHARS)
}

/// Refuses a comment, note or other free text with a control character or longer than
/// [`MAX_TEXT_CHARS`].
pub fn check_note(field: &str, s: &str) -> Result<(), CoreError> {
    check_field(field, s, MAX_TEXT_CHARS)
}

fn check_field(field: &str, s: &str, max: usize) -> Result<(), CoreError> {
    match text_problem(s, max) {
        Some((_, zh, en)) => Err(CoreError::invalid(field, format!("{en} / {zh}"))),
        None => Ok(()),
    }
}

/// The first 40 characters of what was typed, for a message.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The range, ratio and jump checks for an already typed value.
pub fn check_value(rule: &ValueRule, value: &Value, previous: Option<&Value>) -> Vec<Issue> {
    let mut issues = Vec::new();
    if let Value::Ratio {
        numerator,
        denominator,
    } = value
    {
        let (n, d) = (*numerator, *denominator);
        if d <= 0.0 || d.is_nan() {
            issues.push(Issue::error(
                IssueCode::DenominatorNotPositive,
                Field::Denominator,
                format!("分母须大于 0（填写了 {}）", num(d)),
                format!("the denominator must be greater than 0 (got {})", num(d)),
            ));
        }
        if n < 0.0 {
            issues.push(Issue::error(
                IssueCode::NumeratorNegative,
                Field::Numerator,
                format!("分子不能为负数（填写了 {}）", num(n)),
                format!("the numerator must not be negative (got {})", num(n)),
            ));
        }
        if d > 0.0 && n > d {
            issues.push(Issue::error(
                IssueCode::NumeratorAboveDenominator,
                Field::Numerator,
                format!("分子（{}）大于分母（{}）", num(n), num(d)),
                format!(
                    "the numerator ({}) is greater than the denominator ({})",
                    num(n),
                    num(d)
                ),
            ));
        }
        if !issues.is_empty() {
            return issues;
        }
    }
    if let Value::Text { value } = value {
        if let Err(e) = check_text(value, Field::Value) {
            issues.push(e);
        }
    }
    let Some(x) = (!matches!(value, Value::Boolean { .. } | Value::Text { .. }))
        .then(|| rule.numeric(value))
        .flatten()
    else {
        return issues;
    };
    if let Some(issue) = range_issue(rule, value, x) {
        issues.push(issue);
        return issues;
    }
    if let Some(issue) = jump_issue(rule, x, previous) {
        issues.push(issue);
    }
    issues
}

fn range_issue(rule: &ValueRule, value: &Value, x: f64) -> Option<Issue> {
    let (lo, hi) = rule.bounds();
    let below = lo.is_some_and(|lo| x < lo);
    let above = hi.is_some_and(|hi| x > hi);
    if !below && !above {
        return None;
    }
    let (range_zh, range_en) = match (lo, hi) {
        (Some(lo), Some(hi)) => (
            format!("超出取值范围 {}–{}", num(lo), num(hi)),
            format!("out of range {}–{}", num(lo), num(hi)),
        ),
        (Some(lo), None) => (
            format!("不能小于 {}", num(lo)),
            format!("must be at least {}", num(lo)),
        ),
        (None, Some(hi)) => (
            format!("不能大于 {}", num(hi)),
            format!("must be at most {}", num(hi)),
        ),
        (None, None) => return None,
    };
    Some(match value {
        Value::Ratio { .. } => Issue::error(
            IssueCode::OutOfRange,
            Field::Numerator,
            format!("分子分母算得 {}，{range_zh}", num(x)),
            format!("numerator and denominator give {}, {range_en}", num(x)),
        ),
        _ => Issue::error(IssueCode::OutOfRange, Field::Value, range_zh, range_en),
    })
}

fn jump_issue(rule: &ValueRule, x: f64, previous: Option<&Value>) -> Option<Issue> {
    let limit = rule.max_jump?;
    let prev = rule.numeric(previous?)?;
    if !prev.is_finite() {
        return None;
    }
    let share = if prev == 0.0 {
        if x == 0.0 {
            return None;
        }
        f64::INFINITY
    } else {
        (x - prev).abs() / prev.abs()
    };
    if share <= limit {
        return None;
    }
    let (zh, en) = if share.is_infinite() {
        (
            format!("上期为 0，本期为 {}，请核实并在备注中说明", num(x)),
            format!(
                "last period was 0 and this one is {}; check it and explain in the comment",
                num(x)
            ),
        )
    } else {
        let (p, l) = (pct(share), pct(limit));
        (
            format!(
                "与上期（{}）相比变化 {p}，超过 {l}，请核实并在备注中说明",
                num(prev)
            ),
            format!(
                "changed {p} from last period ({}), more than {l}; check it and explain in the comment",
                num(prev)
            ),
        )
    };
    Some(Issue {
        severity: Severity::Warning,
        code: IssueCode::Jump,
        field: Field::Value,
        zh,
        en,
    })
}
pub use crate::number::num;

fn pct(share: f64) -> String {
    format!("{}%", num((share * 100.0 * 100.0).round() / 100.0))
}

/// The period before `p` at the same level (2024 → 2023, 2024Q1 → 2023Q4, 202401 → 202312):
/// the "last period" of the jump check. `None` before the first plausible year.
pub fn previous_period(p: Period) -> Option<Period> {
    let prev = match p {
        Period::Year(y) => Period::Year(y - 1),
        Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
        Period::Quarter(y, q) => Period::Quarter(y, q - 1),
        Period::Month(y, 1) => Period::Month(y - 1, 12),
        Period::Month(y, m) => Period::Month(y, m - 1),
        Period::Day(..) => Period::from_day_number(p.day_numbers().start - 1)?,
        // The week holding the day seven days before this week's Monday.
        Period::Week(..) => Period::from_day_number(p.day_numbers().start - 7)?.iso_week()?,
    };
    (prev.year() >= MIN_YEAR)
        .then_some(prev)
        .and_then(|p| p.check().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn previous_periods_of_every_kind() {
        let p = |s: &str| s.parse::<Period>().unwrap();
        for (now, before) in [
            ("2025", "2024"),
            ("2025Q1", "2024Q4"),
            ("202503", "202502"),
            ("20250101", "20241231"),
            ("2021W01", "2020W53"),
            ("2024W10", "2024W09"),
        ] {
            assert_eq!(previous_period(p(now)), Some(p(before)), "{now}");
        }
        assert_eq!(previous_period(p("1949")), None);
    }

    fn number_rule(unit: &str) -> ValueRule {
        ValueRule::new(ValueType::Number).with_unit(unit)
    }

    fn codes(c: &Checked) -> Vec<&'static str> {
        c.issues.iter().map(|i| i.code.as_str()).collect()
    }

    fn single(rule: &ValueRule, s: &str) -> Checked {
        validate(rule, &Input::Single(Raw::Text(s)), None)
    }

    /// Every unit bound, on both sides of each edge.
    #[test]
    fn unit_bounds_both_sides_of_each_edge() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            // (unit, value, expected issue code)
            ("%", "0", None),
            ("%", "-0.01", Some("out_of_range")),
            ("%", "100", None),
            ("%", "100.01", Some("out_of_range")),
            ("％", "100.5", Some("out_of_range")),
            ("‰", "1000", None),
            ("‰", "1000.1", Some("out_of_range")),
            ("‰", "-1", Some("out_of_range")),
            ("1/10万", "100000", None),
            ("1/10万", "100001", Some("out_of_range")),
            ("1/10万", "0", None),
            ("岁", "150", None),
            ("岁", "150.1", Some("out_of_range")),
            ("岁", "-0.1", Some("out_of_range")),
            ("人", "0", None),
            ("人", "-1", Some("out_of_range")),
            ("人", "1e9", None),
            ("张/千人", "-0.5", Some("out_of_range")),
            ("张/千人", "6.5", None),
            ("万元", "-3", Some("out_of_range")),
            ("分", "-3", None),
            ("", "-3", None),
        ];
        for (unit, v, want) in cases {
            let c = single(&number_rule(unit), v);
            assert_eq!(
                codes(&c).first().copied(),
                *want,
                "{unit} {v}: {:?}",
                c.issues
            );
            assert_eq!(c.value.is_some(), want.is_none());
        }
    }

    #[test]
    fn range_messages_name_the_bounds() {
        let c = single(&number_rule("%"), "120");
        assert_eq!(c.issues[0].zh, "超出取值范围 0–100");
        assert_eq!(c.issues[0].en, "out of range 0–100");
        assert_eq!(c.issues[0].severity, Severity::Error);
        assert_eq!(
            c.issues[0].to_string(),
            "超出取值范围 0–100 / out of range 0–100"
        );
        let c = single(&number_rule("人"), "-1");
        assert_eq!(c.issues[0].zh, "不能小于 0");
        let r = ValueRule::new(ValueType::Number)
            .with_bounds(None, Some(5.0))
            .unwrap();
        assert_eq!(single(&r, "6").issues[0].en, "must be at most 5");
    }

    /// Explicit bounds replace the derived ones side by side.
    #[test]
    fn explicit_bounds_override_the_unit() {
        let r = number_rule("%").with_bounds(Some(-50.0), None).unwrap();
        assert_eq!(r.bounds(), (Some(-50.0), Some(100.0)));
        for (v, ok) in [
            ("-50", true),
            ("-50.5", false),
            ("100", true),
            ("101", false),
        ] {
            assert_eq!(single(&r, v).value.is_some(), ok, "{v}");
        }
        let r = number_rule("%")
            .with_bounds(Some(60.0), Some(90.0))
            .unwrap();
        for (v, ok) in [("59.9", false), ("60", true), ("90", true), ("90.1", false)] {
            assert_eq!(single(&r, v).value.is_some(), ok, "{v}");
        }
        assert!(number_rule("%").with_bounds(Some(2.0), Some(1.0)).is_err());
        assert!(number_rule("%").with_bounds(Some(f64::NAN), None).is_err());
    }

    #[test]
    fn types_are_checked() {
        let n = ValueRule::new(ValueType::Number);
        let b = ValueRule::new(ValueType::Boolean);
        let t = ValueRule::new(ValueType::Text);
        let cases: Vec<(&ValueRule, Raw, Result<Value, &str>)> = vec![
            (&n, Raw::Text("25.4"), Ok(Value::Number { value: 25.4 })),
            (
                &n,
                Raw::Text(" １２．５ "),
                Ok(Value::Number { value: 12.5 }),
            ),
            (
                &n,
                Raw::Text("1,234.5"),
                Ok(Value::Number { value: 1234.5 }),
            ),
            (&n, Raw::Text("1,23"), Err("not_a_number")),
            (&n, Raw::Text("abc"), Err("not_a_number")),
            (&n, Raw::Text("NaN"), Err("not_a_number")),
            (&n, Raw::Text("inf"), Err("not_a_number")),
            (&n, Raw::Text("0x10"), Err("not_a_number")),
            (&n, Raw::Text("25%"), Err("not_a_number")),
            (&n, Raw::Number(f64::INFINITY), Err("not_a_number")),
            (&n, Raw::Bool(true), Err("not_a_number")),
            (&n, Raw::Number(3.0), Ok(Value::Number { value: 3.0 })),
            (&n, Raw::Text(""), Err("empty")),
            (&n, Raw::Empty, Err("empty")),
            (&b, Raw::Text("是"), Ok(Value::Boolean { value: true })),
            (&b, Raw::Text("否"), Ok(Value::Boolean { value: false })),
            (&b, Raw::Text("TRUE"), Ok(Value::Boolean { value: true })),
            (&b, Raw::Number(0.0), Ok(Value::Boolean { value: false })),
            (&b, Raw::Number(2.0), Err("not_a_boolean")),
            (&b, Raw::Text("也许"), Err("not_a_boolean")),
            (
                &t,
                Raw::Text(" 已建立 "),
                Ok(Value::Text {
                    value: "已建立".into(),
                }),
            ),
            (&t, Raw::Text("  "), Err("empty")),
        ];
        for (rule, raw, want) in cases {
            let c = validate(rule, &Input::Single(raw), None);
            match want {
                Ok(v) => assert_eq!(c.value, Some(v), "{raw:?}: {:?}", c.issues),
                Err(code) => {
                    assert_eq!(c.value, None, "{raw:?}");
                    assert_eq!(codes(&c), [code], "{raw:?}");
                }
            }
        }
        let c = single(&n, "abc");
        assert_eq!(c.issues[0].zh, "不是数字：“abc”");
        // A trailing % is accepted where the unit is %.
        assert_eq!(
            single(&number_rule("%"), "25%").value,
            Some(Value::Number { value: 25.0 })
        );
        let long = "字".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(codes(&single(&t, &long)), ["text_too_long"]);
        assert!(single(&t, &"字".repeat(MAX_TEXT_CHARS)).value.is_some());
    }

    fn ratio(rule: &ValueRule, n: &str, d: &str) -> Checked {
        validate(
            rule,
            &Input::Ratio {
                numerator: Raw::Text(n),
                denominator: Raw::Text(d),
            },
            None,
        )
    }

    #[test]
    fn ratio_rules_both_sides() {
        let r = number_rule("‰").with_ratio(1000.0).unwrap();
        for (n, d, want) in [
            ("3", "1200", None),
            ("0", "1", None),
            ("5", "5", None),
            ("5.01", "5", Some("numerator_above_denominator")),
            ("1", "0", Some("denominator_not_positive")),
            ("0", "-1", Some("denominator_not_positive")),
            ("-1", "5", Some("numerator_negative")),
            ("x", "5", Some("not_a_number")),
            ("", "5", Some("empty")),
        ] {
            let c = ratio(&r, n, d);
            assert_eq!(codes(&c).first().copied(), want, "{n}/{d}: {:?}", c.issues);
            assert_eq!(c.value.is_some(), want.is_none());
        }
        let c = ratio(&r, "", "");
        assert_eq!(codes(&c), ["empty", "empty"]);
        assert_eq!(c.issues[1].field, Field::Denominator);
        // A single value for a ratio item, and a ratio for a yes/no item, are refused.
        assert_eq!(codes(&single(&r, "2.5")), ["ratio_required"]);
        let b = ValueRule::new(ValueType::Boolean);
        assert_eq!(codes(&ratio(&b, "1", "2")), ["ratio_not_allowed"]);
        // A plain number item may still be given as parts; bounds apply to the quotient.
        let pct = number_rule("%").with_bounds(None, Some(0.5)).unwrap();
        assert!(ratio(&pct, "1", "2").value.is_some());
        let c = ratio(&pct, "0", "2");
        assert!(c.value.is_some());
        let c = ratio(
            &number_rule("%")
                .with_ratio(100.0)
                .unwrap()
                .with_bounds(None, Some(40.0))
                .unwrap(),
            "1",
            "2",
        );
        assert_eq!(c.issues[0].zh, "分子分母算得 50，超出取值范围 0–40");
        assert!(ValueRule::new(ValueType::Text).with_ratio(100.0).is_err());
        assert!(number_rule("%").with_ratio(0.0).is_err());
    }

    #[test]
    fn jump_is_a_warning_confirmed_by_a_comment() {
        let r = number_rule("%");
        let prev = Value::Number { value: 20.0 };
        for (v, warn) in [
            ("30", false),
            ("10", false),
            ("30.01", true),
            ("9.99", true),
        ] {
            let c = validate(&r, &Input::Single(Raw::Text(v)), Some(&prev));
            assert_eq!(
                c.issues.iter().any(|i| i.code == IssueCode::Jump),
                warn,
                "{v}"
            );
            assert!(c.value.is_some());
            assert_eq!(c.accepted(None).is_some(), !warn, "{v}");
            assert!(c.accepted(Some("新建社区卫生服务中心")).is_some());
            assert_eq!(c.accepted(Some("  ")).is_some(), !warn);
        }
        let c = validate(&r, &Input::Single(Raw::Text("31")), Some(&prev));
        assert_eq!(c.issues[0].severity, Severity::Warning);
        assert_eq!(
            c.issues[0].zh,
            "与上期（20）相比变化 55%，超过 50%，请核实并在备注中说明"
        );
        // From zero, any change is a jump; no change is not.
        let zero = Value::Number { value: 0.0 };
        assert!(!validate(&r, &Input::Single(Raw::Text("0")), Some(&zero))
            .issues
            .iter()
            .any(|i| i.code == IssueCode::Jump));
        assert!(
            validate(&r, &Input::Single(Raw::Text("1")), Some(&zero)).issues[0]
                .zh
                .starts_with("上期为 0")
        );
        // The share is configurable and can be turned off.
        let strict = r.clone().with_max_jump(Some(0.1)).unwrap();
        assert!(
            validate(&strict, &Input::Single(Raw::Text("22.1")), Some(&prev))
                .accepted(None)
                .is_none()
        );
        let off = r.with_max_jump(None).unwrap();
        assert!(validate(&off, &Input::Single(Raw::Text("99")), Some(&prev))
            .issues
            .is_empty());
        // Ratios compare their factor × num/den with the previous value's.
        let rate = number_rule("‰").with_ratio(1000.0).unwrap();
        let prev = Value::Ratio {
            numerator: 2.0,
            denominator: 1000.0,
        };
        assert!(validate(
            &rate,
            &Input::Ratio {
                numerator: Raw::Number(4.0),
                denominator: Raw::Number(1000.0)
            },
            Some(&prev)
        )
        .issues
        .iter()
        .any(|i| i.code == IssueCode::Jump));
        assert!(validate(
            &rate,
            &Input::Ratio {
                numerator: Raw::Number(2.5),
                denominator: Raw::Number(1000.0)
            },
            Some(&prev)
        )
        .issues
        .is_empty());
    }

    #[test]
    fn rules_follow_the_indicator() {
        let ind: Indicator = serde_json::from_str(
            r#"{"name":"婴儿死亡率","unit":"‰","direction":"lower","formula":{"numerator":"d","denominator":"b","factor":1000}}"#,
        )
        .unwrap();
        let r = ValueRule::for_indicator(&ind, ValueType::Number);
        assert_eq!(r.ratio_factor(), Some(1000.0));
        assert_eq!(r.bounds(), (Some(0.0), Some(1000.0)));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<ValueRule>(&json).unwrap(), r);
        assert!(
            serde_json::from_str::<ValueRule>(r#"{"value_type":"number","min":5,"max":1}"#)
                .is_err()
        );
    }

    #[test]
    fn previous_periods() {
        assert_eq!(
            previous_period(Period::Year(2024)),
            Some(Period::Year(2023))
        );
        assert_eq!(
            previous_period(Period::Quarter(2024, 1)),
            Some(Period::Quarter(2023, 4))
        );
        assert_eq!(
            previous_period(Period::Quarter(2024, 3)),
            Some(Period::Quarter(2024, 2))
        );
        assert_eq!(
            previous_period(Period::Month(2024, 1)),
            Some(Period::Month(2023, 12))
        );
        assert_eq!(
            previous_period(Period::Month(2024, 7)),
            Some(Period::Month(2024, 6))
        );
        assert_eq!(previous_period(Period::Year(MIN_YEAR)), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}", n in proptest::num::f64::ANY, d in proptest::num::f64::ANY) {
            for t in [ValueType::Number, ValueType::Boolean, ValueType::Text] {
                let r = ValueRule::new(t).with_unit("%");
                let prev = Value::Number { value: n };
                let _ = validate(&r, &Input::Single(Raw::Text(&s)), Some(&prev));
                let _ = validate(&r, &Input::Single(Raw::Number(n)), None);
                let _ = validate(&r, &Input::Ratio { numerator: Raw::Number(n), denominator: Raw::Number(d) }, Some(&prev));
            }
        }

        /// A finite number written out is read back as the same number.
        #[test]
        fn numbers_round_trip(x in -1e12f64..1e12) {
            let r = ValueRule::new(ValueType::Number);
            prop_assert_eq!(single(&r, &x.to_string()).value, Some(Value::Number { value: x }));
        }
    }
}
