//! The code mapping table between healthplan and a DHIS2 instance: data elements, org units
//! (areas) and periods, one row per code, editable by a planner and storable as rows or CSV
//! (`kind,local_code,dhis2_code`).
//!
//! Rules: a kind with no rows maps every code to itself (so two healthplan instances, or a
//! DHIS2 that uses the same codes, need no table); once a kind has rows, every code of that
//! kind must be mapped and unmapped ones are reported by name. Periods always convert by rule
//! (see [`crate::period`]); period rows override single periods. A ratio element `X` is
//! exchanged as two DHIS2 data elements, mapped as `X.num` and `X.den`.

use crate::error::ExchangeError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Suffixes of the two elements a ratio is exchanged as (the same the analytics engine uses).
pub const NUM_SUFFIX: &str = ".num";
pub const DEN_SUFFIX: &str = ".den";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Element,
    OrgUnit,
    Period,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Element => "element",
            CodeKind::OrgUnit => "org_unit",
            CodeKind::Period => "period",
        }
    }

    /// How a message names the kind: `数据元素 data element`.
    pub fn label(self) -> &'static str {
        match self {
            CodeKind::Element => "数据元素 data element",
            CodeKind::OrgUnit => "组织机构 org unit",
            CodeKind::Period => "报告期 period",
        }
    }

    pub fn parse(s: &str) -> Option<CodeKind> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "element" | "data_element" | "dataelement" | "de" => CodeKind::Element,
            "org_unit" | "orgunit" | "area" | "ou" => CodeKind::OrgUnit,
            "period" | "pe" => CodeKind::Period,
            _ => return None,
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapRow {
    pub kind: CodeKind,
    pub local_code: String,
    pub dhis2_code: String,
}

/// Local ↔ DHIS2 codes per kind, one to one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<MapRow>", into = "Vec<MapRow>")]
pub struct Mapping {
    to_dhis2: BTreeMap<(CodeKind, String), String>,
    to_local: BTreeMap<(CodeKind, String), String>,
}

impl Mapping {
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// Adds a row; a code already mapped on either side is refused (imports must be
    /// unambiguous both ways).
    pub fn insert(&mut self, kind: CodeKind, local: &str, dhis2: &str) -> Result<(), String> {
        let (local, dhis2) = (local.trim(), dhis2.trim());
        if local.is_empty() || dhis2.is_empty() {
            return Err("代码不能为空 / empty code".into());
        }
        if let Some(d) = self.to_dhis2.get(&(kind, local.to_string())) {
            return Err(format!(
                "本地代码 {local} 已映射到 {d} / local code {local} is already mapped to {d}"
            ));
        }
        if let Some(l) = self.to_local.get(&(kind, dhis2.to_string())) {
            return Err(format!(
                "DHIS2 代码 {dhis2} 已映射到 {l} / DHIS2 code {dhis2} is already mapped to {l}"
            ));
        }
        self.to_dhis2
            .insert((kind, local.to_string()), dhis2.to_string());
        self.to_local
            .insert((kind, dhis2.to_string()), local.to_string());
        Ok(())
    }

    pub fn rows(&self) -> Vec<MapRow> {
        self.to_dhis2
            .iter()
            .map(|((kind, local), dhis2)| MapRow {
                kind: *kind,
                local_code: local.clone(),
                dhis2_code: dhis2.clone(),
            })
            .collect()
    }

    pub fn has(&self, kind: CodeKind) -> bool {
        self.to_dhis2.keys().any(|(k, _)| *k == kind)
    }

    /// The DHIS2 code for a local one; identity when the kind has no rows. Periods: only an
    /// explicit row (callers convert otherwise).
    pub fn to_dhis2(&self, kind: CodeKind, local: &str) -> Option<String> {
        match self.to_dhis2.get(&(kind, local.to_string())) {
            Some(d) => Some(d.clone()),
            None if kind != CodeKind::Period && !self.has(kind) => Some(local.to_string()),
            None => None,
        }
    }

    /// The local code for a DHIS2 one, by the same rules.
    pub fn to_local(&self, kind: CodeKind, dhis2: &str) -> Option<String> {
        match self.to_local.get(&(kind, dhis2.to_string())) {
            Some(l) => Some(l.clone()),
            None if kind != CodeKind::Period && !self.has(kind) => Some(dhis2.to_string()),
            None => None,
        }
    }

    /// Reads `kind,local_code,dhis2_code` rows; errors name the line.
    pub fn from_csv(text: &str) -> Result<Mapping, ExchangeError> {
        let err = |line: u64, zh: String, en: String| ExchangeError::Mapping {
            at: format!(" line {line}"),
            zh,
            en,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| err(1, format!("无法读取表头（{e}）"), e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        if header != ["kind", "local_code", "dhis2_code"] {
            return Err(err(
                1,
                format!(
                    "表头须为 kind,local_code,dhis2_code（实为 {}）",
                    header.join(",")
                ),
                format!(
                    "the header must be kind,local_code,dhis2_code (found {})",
                    header.join(",")
                ),
            ));
        }
        let mut m = Mapping::new();
        for record in rdr.records() {
            let record =
                record.map_err(|e| err(0, format!("CSV 格式错误（{e}）"), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            if record.len() != 3 {
                return Err(err(
                    line,
                    format!("应有 3 列，实有 {} 列", record.len()),
                    format!("expected 3 fields, found {}", record.len()),
                ));
            }
            let kind_text = record.get(0).unwrap_or("");
            let kind = CodeKind::parse(kind_text).ok_or_else(|| {
                err(
                    line,
                    format!("未知的类型“{kind_text}”（element、org_unit、period）"),
                    format!("unknown kind {kind_text:?} (element, org_unit, period)"),
                )
            })?;
            m.insert(
                kind,
                crate::csv_cells::restore(record.get(1).unwrap_or("")),
                crate::csv_cells::restore(record.get(2).unwrap_or("")),
            )
            .map_err(|e| err(line, e.clone(), e))?;
        }
        Ok(m)
    }

    pub fn to_csv(&self) -> String {
        let rows = self.rows();
        let body = rows.iter().map(|r| {
            vec![
                r.kind.as_str(),
                r.local_code.as_str(),
                r.dhis2_code.as_str(),
            ]
        });
        crate::csv_cells::to_csv(
            std::iter::once(vec!["kind", "local_code", "dhis2_code"]).chain(body),
        )
    }
}

impl TryFrom<Vec<MapRow>> for Mapping {
    type Error = String;
    fn try_from(rows: Vec<MapRow>) -> Result<Self, String> {
        let mut m = Mapping::new();
        for r in rows {
            m.insert(r.kind, &r.local_code, &r.dhis2_code)?;
        }
        Ok(m)
    }
}

impl From<Mapping> for Vec<MapRow> {
    fn from(m: Mapping) -> Self {
        m.rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_csv() {
        let text = "kind,local_code,dhis2_code\nelement,HL01,DE_LIT\norg_unit,440300,OU_SZ\nelement,HL02.num,DE_IMR_N\nperiod,2024,2024July\n";
        let m = Mapping::from_csv(text).unwrap();
        assert_eq!(
            m.to_dhis2(CodeKind::Element, "HL01").as_deref(),
            Some("DE_LIT")
        );
        assert_eq!(
            m.to_local(CodeKind::Element, "DE_IMR_N").as_deref(),
            Some("HL02.num")
        );
        // A kind with rows maps only what it lists.
        assert_eq!(m.to_dhis2(CodeKind::Element, "HL03"), None);
        assert_eq!(m.to_dhis2(CodeKind::Period, "2023"), None);
        assert_eq!(Mapping::from_csv(&m.to_csv()).unwrap(), m);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), m);
        // No rows of a kind: codes pass through.
        let empty = Mapping::new();
        assert_eq!(
            empty.to_local(CodeKind::OrgUnit, "440300").as_deref(),
            Some("440300")
        );
    }

    #[test]
    fn refuses_ambiguous_or_malformed_tables() {
        for (text, want) in [
            (
                "kind,local_code,dhis2_code\nelement,A,X\nelement,B,X\n",
                "line 3: DHIS2 代码 X 已映射到 A",
            ),
            (
                "kind,local_code,dhis2_code\nelement,A,X\nelement,A,Y\n",
                "line 3: 本地代码 A 已映射到 X",
            ),
            (
                "kind,local_code,dhis2_code\nthing,A,X\n",
                "line 2: 未知的类型“thing”",
            ),
            (
                "kind,local_code,dhis2_code\nelement,A\n",
                "line 2: 应有 3 列",
            ),
            (
                "kind,local,dhis2\n",
                "line 1: 表头须为 kind,local_code,dhis2_code",
            ),
            (
                "kind,local_code,dhis2_code\nelement,,X\n",
                "line 2: 代码不能为空",
            ),
        ] {
            let e = Mapping::from_csv(text).unwrap_err().to_string();
            assert!(e.contains(want), "{want}\n got {e}");
            assert!(e.starts_with("映射表 line"), "{e}");
        }
    }
}
