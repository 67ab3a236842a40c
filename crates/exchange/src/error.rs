use healthplan_core::validate::Issue;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use thiserror::Error;

/// Where a field sits in the file a user sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// `填报表!I7`
    Cell { sheet: String, cell: String },
    /// `line 3, field value` (CSV columns, ADX attributes)
    Line { line: u64, field: String },
    /// `dataValues[3].value` (JSON)
    Path { path: String },
}

impl Location {
    pub fn cell(sheet: &str, row: u32, col: u16) -> Location {
        Location::Cell {
            sheet: sheet.to_string(),
            cell: cell_ref(row, col),
        }
    }
}

/// An A1 reference from a 0-based row and column.
pub(crate) fn cell_ref(row: u32, col: u16) -> String {
    let mut letters = Vec::new();
    let mut c = u32::from(col) + 1;
    while c > 0 {
        let r = (c - 1) % 26;
        letters.push(char::from(b'A' + r as u8));
        c = (c - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(u64::from(row) + 1).to_string()
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Cell { sheet, cell } => write!(f, "{sheet}!{cell}"),
            Location::Line { line, field } if field.is_empty() => write!(f, "line {line}"),
            Location::Line { line, field } => write!(f, "line {line}, field {field}"),
            Location::Path { path } => f.write_str(path),
        }
    }
}

/// One refused field of one row, in the same shape for every format:
/// `填报表!I7: 超出取值范围 0–100 / out of range 0–100`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    pub at: Location,
    /// Stable code: a [`healthplan_core::IssueCode`] string, or one of `unknown_element`,
    /// `unknown_area`, `not_allowed`, `duplicate`, `bad_area`, `bad_period`, `bad_element`,
    /// `unmapped_element`, `unmapped_org_unit`, `unsupported`, `incomplete_ratio`,
    /// `not_in_template`, `moved_row`.
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl RowError {
    pub fn new(at: Location, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        RowError {
            at,
            code: code.to_string(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub(crate) fn from_issue(at: Location, issue: &Issue) -> Self {
        RowError::new(at, issue.code.as_str(), &issue.zh, &issue.en)
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} / {}", self.at, self.zh, self.en)
    }
}

/// Why a whole file was refused: every bad field, and the codes no mapping row names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rejection {
    pub errors: Vec<RowError>,
    /// `(kind, code)` pairs, e.g. `("data element", "DE_X")`.
    pub unmapped: BTreeSet<(String, String)>,
}

/// How many row errors a message lists before summarising.
const SHOWN: usize = 50;

impl Rejection {
    /// The summary, the unmapped codes, and one line per error (the first 50), each led by
    /// `file` when given: `values.xlsx 填报表!I7: 超出取值范围 0–100 / out of range 0–100`.
    pub fn render(&self, file: Option<&str>) -> String {
        let n = self.errors.len();
        let mut out = match file {
            Some(f) => format!("{f}: "),
            None => String::new(),
        };
        out += &format!("{n} 处错误，未导入任何数据 / {n} error(s), nothing imported");
        if !self.unmapped.is_empty() {
            let list: Vec<String> = self
                .unmapped
                .iter()
                .map(|(k, c)| format!("{k} {c}"))
                .collect();
            out += &format!("\n未映射的代码 / unmapped codes: {}", list.join(", "));
        }
        for e in self.errors.iter().take(SHOWN) {
            out.push('\n');
            if let Some(f) = file {
                out += &format!("{f} ");
            }
            out += &e.to_string();
        }
        if n > SHOWN {
            out += &format!("\n……另有 {} 处 / … and {} more", n - SHOWN, n - SHOWN);
        }
        out
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

#[derive(Debug, Error)]
pub enum ExchangeError {
    #[error("文件过大（{size} 字节，上限 {limit} 字节）/ file too large ({size} bytes, at most {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("不是 xlsx 文件：{zh} / not an xlsx file: {en}")]
    NotXlsx { zh: String, en: String },
    #[error("疑似压缩炸弹，已拒绝：{zh} / refused as a zip bomb: {en}")]
    ZipBomb { zh: String, en: String },
    #[error("找不到工作表“{expected}”，这不是本系统生成的填报模板（文件中的工作表：{found}）/ no sheet named {expected}: not a healthplan template (sheets: {found})")]
    WrongSheet { expected: String, found: String },
    #[error("模板不符：{zh} / wrong template: {en}")]
    WrongTemplate { zh: String, en: String },
    #[error("{0}")]
    Rejected(Rejection),
    #[error("{at}: {zh} / {en}")]
    Malformed { at: String, zh: String, en: String },
    #[error("映射表{at}: {zh} / mapping table {at}: {en}")]
    Mapping { at: String, zh: String, en: String },
    #[error("以下代码没有映射，未导出任何数据 / unmapped codes, nothing exported: {}", list(.0))]
    Unmapped(Vec<(String, String)>),
    #[error("模板规格有误：{0} / bad template spec")]
    Spec(String),
    #[error("写 xlsx 失败 / cannot write xlsx: {0}")]
    Xlsx(String),
}

fn list(codes: &[(String, String)]) -> String {
    codes
        .iter()
        .map(|(k, c)| format!("{k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ExchangeError {
    pub(crate) fn malformed(
        at: impl Into<String>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ExchangeError::Malformed {
            at: at.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The row errors, when the file was refused row by row.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            ExchangeError::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

impl From<rust_xlsxwriter::XlsxError> for ExchangeError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        ExchangeError::Xlsx(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(6, 3), "D7");
        assert_eq!(cell_ref(9, 25), "Z10");
        assert_eq!(cell_ref(0, 26), "AA1");
        assert_eq!(cell_ref(1_048_575, 16_383), "XFD1048576");
    }
}
