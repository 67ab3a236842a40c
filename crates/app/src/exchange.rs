//! Data files in and out for the command line and the server alike: CSV, the XLSX table,
//! DHIS2 `dataValueSets` JSON and ADX, through the stored code mapping table (or one given
//! for the call). Reading checks every row with the store's element rules, known areas, last
//! period's values and what the caller may write; a file with a bad row writes nothing unless
//! the caller asks to skip bad rows.

use crate::{App, AppError, Result};
use healthplan_access::{Caps, ReadScope, ValueWriter};
use healthplan_core::validate::previous_period;
use healthplan_core::{AreaCode, DataElement, DataValue, Period, Value, ValueRule, ValueStatus};
use healthplan_exchange::mapping::MapRow;
use healthplan_exchange::{
    adx, dhis2, table, CodeKind, ExchangeError, Import, Limits, Mapping, Options, RowError, Rules,
};
use healthplan_store::{DataValueFilter, ImportCount, MappingKind, MappingRow, Store, ValueKey};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// element,area_code,period,value,numerator,denominator,status,comment
    Csv,
    /// The same table on a `数据` sheet.
    Xlsx,
    /// DHIS2 dataValueSets JSON.
    Dhis2Json,
    /// ADX XML.
    Adx,
}

impl Format {
    /// By file extension (.csv/.txt, .xlsx, .json, .xml/.adx).
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "txt" => Format::Csv,
            "xlsx" => Format::Xlsx,
            "json" => Format::Dhis2Json,
            "xml" | "adx" => Format::Adx,
            _ => return None,
        })
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Dhis2Json => "json",
            Format::Adx => "adx.xml",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Dhis2Json => "application/json",
            Format::Adx => "application/adx+xml",
        }
    }
}

fn kind_to_exchange(k: MappingKind) -> CodeKind {
    match k {
        MappingKind::Element => CodeKind::Element,
        MappingKind::OrgUnit => CodeKind::OrgUnit,
        MappingKind::Period => CodeKind::Period,
    }
}

fn kind_from_exchange(k: CodeKind) -> MappingKind {
    match k {
        CodeKind::Element => MappingKind::Element,
        CodeKind::OrgUnit => MappingKind::OrgUnit,
        CodeKind::Period => MappingKind::Period,
    }
}

/// The exchange crate's table from stored rows; a row mapping a code twice names itself.
pub fn mapping_of(rows: &[MappingRow]) -> Result<Mapping> {
    let mut m = Mapping::new();
    for (i, r) in rows.iter().enumerate() {
        m.insert(kind_to_exchange(r.kind), &r.local_code, &r.dhis2_code)
            .map_err(|e| AppError::Input(format!("第 {} 行 / row {}: {e}", i + 1, i + 1)))?;
    }
    Ok(m)
}

/// The rows of a table, as the store keeps them.
pub fn rows_of(m: &Mapping) -> Vec<MappingRow> {
    m.rows()
        .into_iter()
        .map(
            |MapRow {
                 kind,
                 local_code,
                 dhis2_code,
             }| MappingRow {
                kind: kind_from_exchange(kind),
                local_code,
                dhis2_code,
            },
        )
        .collect()
}

/// A `kind,local_code,dhis2_code` CSV (UTF-8 or GB18030); errors name the file and line.
pub fn read_mapping_csv(name: &str, bytes: &[u8]) -> Result<Mapping> {
    let text = crate::text::decode_text(name, bytes)?;
    Mapping::from_csv(&text).map_err(|error| AppError::Exchange {
        file: name.to_string(),
        error,
    })
}

/// The stored mapping table.
pub async fn stored_mapping(store: &Store) -> Result<Mapping> {
    mapping_of(&store.list_mapping().await?)
}

/// What the store says about elements and areas: one rule per declared element (unit,
/// numerator/denominator and bounds from the first indicator the scope reads that uses it).
pub async fn known(store: &Store, scope: &ReadScope) -> Result<Known> {
    let elements = store.list_data_elements().await?;
    let types: HashMap<&str, &DataElement> =
        elements.iter().map(|e| (e.code.as_str(), e)).collect();
    let mut rules: HashMap<String, ValueRule> = HashMap::new();
    for p in store.list_plans(scope).await? {
        for pi in store.plan_indicators(scope, p.id).await? {
            let Some(code) = pi.indicator.element.clone() else {
                continue;
            };
            if let Some(e) = types.get(code.as_str()) {
                rules
                    .entry(code)
                    .or_insert_with(|| ValueRule::for_indicator(&pi.indicator, e.value_type));
            }
        }
    }
    for e in &elements {
        rules
            .entry(e.code.clone())
            .or_insert_with(|| ValueRule::new(e.value_type));
    }
    let areas = store
        .list_areas()
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    Ok(Known {
        rules,
        stored: HashMap::new(),
        areas,
        writer: None,
    })
}

/// What a file is checked against; unlike `healthplan_exchange::Checks` it can be held across an `await`.
pub struct Known {
    /// By element code.
    pub rules: HashMap<String, ValueRule>,
    /// Stored values by (element, area, period), for the jump checks.
    pub stored: HashMap<(String, AreaCode, Period), Value>,
    pub areas: HashSet<AreaCode>,
    /// When set, a row this writer may not write is a row error.
    pub writer: Option<ValueWriter>,
}

impl Rules for Known {
    fn rule(&self, element: &str, _area: &AreaCode) -> Option<&ValueRule> {
        self.rules.get(element)
    }

    fn previous(&self, element: &str, area: &AreaCode, period: Period) -> Option<&Value> {
        let p = previous_period(period)?;
        self.stored.get(&(element.to_string(), area.clone(), p))
    }

    fn area_known(&self, area: &AreaCode) -> bool {
        self.areas.contains(area)
    }

    fn may_write(&self, element: &str, area: &AreaCode) -> bool {
        self.writer.as_ref().is_none_or(|w| w.allows(element, area))
    }
}

/// Rules that remember which earlier values a file's jump checks asked for, so only those
/// are loaded from the store.
struct Recorder<'a> {
    inner: &'a Known,
    asked: RefCell<BTreeSet<(String, Period)>>,
}

impl Rules for Recorder<'_> {
    fn rule(&self, element: &str, area: &AreaCode) -> Option<&ValueRule> {
        self.inner.rule(element, area)
    }

    fn previous(&self, element: &str, _area: &AreaCode, period: Period) -> Option<&Value> {
        if let Some(p) = previous_period(period) {
            self.asked.borrow_mut().insert((element.to_string(), p));
        }
        None
    }

    fn area_known(&self, area: &AreaCode) -> bool {
        self.inner.area_known(area)
    }

    fn may_write(&self, element: &str, area: &AreaCode) -> bool {
        self.inner.may_write(element, area)
    }
}

fn read(
    format: Format,
    name: &str,
    bytes: &[u8],
    map: &Mapping,
    rules: &dyn Rules,
    opts: Options,
) -> Result<Result<Import, ExchangeError>> {
    Ok(match format {
        Format::Csv => table::read_csv(&crate::text::decode_text(name, bytes)?, rules, opts),
        Format::Xlsx => table::read_xlsx_table(bytes, rules, opts, &Limits::default()),
        Format::Dhis2Json => dhis2::read_json(bytes, map, rules, opts),
        Format::Adx => adx::read_adx(bytes, map, rules, opts),
    })
}

/// A data file to read.
#[derive(Debug, Clone, Copy)]
pub struct FileIn<'a> {
    /// Named in every message.
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub format: Format,
    /// A table for this file only; `None` uses the stored one.
    pub mapping: Option<&'a Mapping>,
    pub skip_bad_rows: bool,
}

/// Reads and checks a whole file: every row against the element rules, the area tree, last
/// period's stored values (that `scope` reads) and `checks.writer`.
pub async fn read_values(
    store: &Store,
    scope: &ReadScope,
    file: FileIn<'_>,
    mut checks: Known,
) -> Result<Import> {
    let stored;
    let map = match file.mapping {
        Some(m) => m,
        None => {
            stored = stored_mapping(store).await?;
            &stored
        }
    };
    let opts = Options {
        skip_bad_rows: file.skip_bad_rows,
    };
    let failed = |error| AppError::Exchange {
        file: file.name.to_string(),
        error,
    };
    // First pass: learn which earlier values the jump checks need; a file that cannot be
    // read at all fails here.
    let recorder = Recorder {
        inner: &checks,
        asked: RefCell::new(BTreeSet::new()),
    };
    if let Err(e) = read(file.format, file.name, file.bytes, map, &recorder, opts)? {
        // Row errors are reported by the second pass, with the jump checks added.
        if !matches!(e, ExchangeError::Rejected(_)) {
            return Err(failed(e));
        }
    }
    let asked = recorder.asked.into_inner();
    for (element, period) in asked {
        let filter = DataValueFilter {
            element: Some(element),
            period: Some(period),
            ..Default::default()
        };
        for v in store.list_data_values(scope, &filter).await? {
            checks
                .stored
                .insert((v.element.clone(), v.area.clone(), v.period), v.value);
        }
    }
    read(file.format, file.name, file.bytes, map, &checks, opts)?.map_err(failed)
}

/// The values as a file; DHIS2 JSON and ADX through `map` (unmapped codes refuse the file).
pub fn write_values(
    format: Format,
    values: &[DataValue],
    map: &Mapping,
    data_set: Option<&str>,
) -> std::result::Result<Vec<u8>, ExchangeError> {
    Ok(match format {
        Format::Csv => table::write_csv(values).into_bytes(),
        Format::Xlsx => table::write_xlsx_table(values)?,
        Format::Dhis2Json => dhis2::write_json(values, map, data_set)?.into_bytes(),
        Format::Adx => adx::write_adx(values, map, data_set)?.into_bytes(),
    })
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileImport {
    /// Values written.
    pub count: ImportCount,
    /// Rows left out with `skip_bad_rows`, each with its errors.
    pub skipped: Vec<RowError>,
    /// Warnings the file confirmed with a comment, and notes.
    pub warnings: Vec<RowError>,
}

impl App {
    /// Reads a data file and writes its values as the caller may: an administrator loads them
    /// as given (bulk, any status); a reporter enters them as drafts, each row checked against
    /// its areas and departments (a row outside them is a named row error). All or nothing
    /// unless `file.skip_bad_rows`.
    pub async fn import_file(&self, caps: &Caps, file: FileIn<'_>) -> Result<FileImport> {
        let scope = caps.reader();
        let mut checks = known(&self.store, &scope).await?;
        let bulk = caps.bulk_writer();
        let writer = if bulk.is_some() {
            None
        } else {
            let w = caps.value_writer().ok_or_else(|| {
                AppError::no_right("您的角色无权导入数据", "your role may not import values")
            })?;
            checks.writer = Some(w.clone());
            Some(w)
        };
        let import = read_values(&self.store, &scope, file, checks).await?;
        let mut out = FileImport {
            skipped: import.skipped,
            warnings: import.warnings,
            ..FileImport::default()
        };
        if import.values.is_empty() {
            return Ok(out);
        }
        if let Some(bulk) = bulk {
            out.count = self.import_data_values(&bulk, &import.values).await?;
            return Ok(out);
        }
        let Some(writer) = writer else {
            return Ok(out);
        };
        let mut rows = Vec::with_capacity(import.values.len());
        for mut v in import.values {
            let current = self.store.data_value(&scope, &ValueKey::of(&v)).await?;
            v.status = match v.status {
                ValueStatus::Submitted => ValueStatus::Submitted,
                _ => ValueStatus::Draft,
            };
            match &current {
                Some(c) if c.value == v.value && c.comment == v.comment && c.status == v.status => {
                    out.count.unchanged += 1;
                    continue;
                }
                Some(_) => out.count.updated += 1,
                None => out.count.inserted += 1,
            }
            rows.push((v, current.map(|c| c.version)));
        }
        self.put_data_values(&writer, &rows).await?;
        Ok(out)
    }

    /// The values the caller reads that match `filter`, as a file.
    pub async fn export_file(
        &self,
        caps: &Caps,
        filter: &DataValueFilter,
        format: Format,
        mapping: Option<&Mapping>,
        data_set: Option<&str>,
    ) -> Result<(Vec<u8>, usize)> {
        let values = self.store.list_data_values(&caps.reader(), filter).await?;
        let stored;
        let map = match mapping {
            Some(m) => m,
            None => {
                stored = stored_mapping(&self.store).await?;
                &stored
            }
        };
        let bytes =
            write_values(format, &values, map, data_set).map_err(|error| AppError::Exchange {
                file: format!("export.{}", format.extension()),
                error,
            })?;
        Ok((bytes, values.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        for (n, f) in [
            ("a.CSV", Some(Format::Csv)),
            ("a.xlsx", Some(Format::Xlsx)),
            ("a.json", Some(Format::Dhis2Json)),
            ("a.xml", Some(Format::Adx)),
            ("a.adx", Some(Format::Adx)),
            ("a.xls", None),
            ("a", None),
        ] {
            assert_eq!(Format::from_name(n), f, "{n}");
        }
    }

    #[test]
    fn stored_rows_and_the_exchange_table_agree() {
        let rows = vec![
            MappingRow::new(MappingKind::Element, "DE1", "abc"),
            MappingRow::new(MappingKind::OrgUnit, "440300", "OU1"),
            MappingRow::new(MappingKind::Period, "2024", "2024"),
        ];
        let m = mapping_of(&rows).unwrap();
        assert_eq!(m.to_dhis2(CodeKind::Element, "DE1").as_deref(), Some("abc"));
        assert_eq!(
            m.to_local(CodeKind::OrgUnit, "OU1").as_deref(),
            Some("440300")
        );
        assert_eq!(rows_of(&m), rows);
        let twice = vec![
            MappingRow::new(MappingKind::Element, "DE1", "abc"),
            MappingRow::new(MappingKind::Element, "DE2", "abc"),
        ];
        let e = mapping_of(&twice).unwrap_err().to_string();
        assert!(e.contains("row 2") && e.contains("abc"), "{e}");
    }
}
