//! Opening the database from the global options; every storage-backed command starts here.

use crate::Globals;
use anyhow::Context;
use healthplan_store::{Store, StoreConfig};

/// Opens (creating and migrating if needed) the database `--data-dir` / `DATABASE_URL` name.
pub async fn open(g: &Globals) -> anyhow::Result<Store> {
    let config = StoreConfig::new(&g.data_dir, g.database_url.clone());
    let what = match &config.database_url {
        Some(_) => "the database named by DATABASE_URL".to_string(),
        None => format!("the database in {}", config.sqlite_path().display()),
    };
    Store::open(&config)
        .await
        .with_context(|| format!("cannot open {what}"))
}

/// The operator's capabilities at the command line: every right (the operator owns the
/// database), judged on the stored area tree.
pub struct Local {
    pub caps: healthplan_access::Caps,
}

impl Local {
    pub async fn of(store: &Store) -> anyhow::Result<Local> {
        let policy = healthplan_app::load_policy(store).await?;
        Ok(Local {
            caps: healthplan_access::Caps::local(policy, &actor()),
        })
    }

    fn right<T>(r: Option<T>) -> anyhow::Result<T> {
        r.ok_or_else(|| anyhow::anyhow!("the command line lacks a right it always has"))
    }

    pub fn reader(&self) -> healthplan_access::ReadScope {
        self.caps.reader()
    }
    pub fn editor(&self) -> anyhow::Result<healthplan_access::PlanEditor> {
        Self::right(self.caps.plan_editor())
    }
    pub fn registry(&self) -> anyhow::Result<healthplan_access::RegistryAdmin> {
        Self::right(self.caps.registry_admin())
    }
    pub fn bulk(&self) -> anyhow::Result<healthplan_access::BulkWriter> {
        Self::right(self.caps.bulk_writer())
    }
    pub fn users(&self) -> anyhow::Result<healthplan_access::UserAdmin> {
        Self::right(self.caps.user_admin())
    }
}

/// Who the audit log records for changes made from the command line:
/// `HEALTHPLAN_ACTOR`, else the login name, prefixed `cli:`.
pub fn actor() -> String {
    let name = ["HEALTHPLAN_ACTOR", "USER", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{}", name.trim())
}

/// Prints to stdout; a closed pipe (`healthplan plan export 1 --json | head`) ends the
/// output quietly instead of panicking like `println!`.
pub fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Reads data values from a CSV with columns
/// `element,area_code,period,value,numerator,denominator,status,comment` (only the first
/// four are required; `numerator`+`denominator` make a ratio; `value` is a number, a yes/no
/// (`true`/`false`/`是`/`否`) or text). Errors name the file, line and field.
pub fn parse_data_values_csv(
    name: &str,
    text: &str,
) -> anyhow::Result<Vec<healthplan_core::DataValue>> {
    use anyhow::anyhow;
    use healthplan_core::{AreaCode, DataValue, Period, Value, ValueStatus};
    let (mut rdr, header) = crate::csvin::open(name, text)?;
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(c_el), Some(c_area), Some(c_period)) = (
        col("element"),
        col("area_code").or(col("area")),
        col("period"),
    ) else {
        return Err(anyhow!(
            "{name} line 1: the header must have the columns element,area_code,period,value (found {})",
            header.join(",")
        ));
    };
    let (c_value, c_num, c_den) = (col("value"), col("numerator"), col("denominator"));
    let (c_status, c_comment) = (col("status"), col("comment"));
    let mut out = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| crate::csvin::error(name, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let at =
            |field: &str, reason: String| anyhow!("{name} line {line}, field {field}: {reason}");
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let area =
            AreaCode::parse(get(Some(c_area))).map_err(|e| at("area_code", e.to_string()))?;
        let period: Period = get(Some(c_period))
            .parse()
            .map_err(|e: healthplan_core::CoreError| at("period", e.to_string()))?;
        let number = |field: &str, s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| at(field, format!("{s:?} is not a number")))
        };
        let value = match (get(c_num), get(c_den), get(c_value)) {
            ("", "", "") => {
                return Err(at("value", "no value, and no numerator/denominator".into()))
            }
            (n, d, _) if !n.is_empty() || !d.is_empty() => Value::Ratio {
                numerator: number("numerator", n)?,
                denominator: number("denominator", d)?,
            },
            (_, _, v) => match v {
                "true" | "是" | "yes" => Value::Boolean { value: true },
                "false" | "否" | "no" => Value::Boolean { value: false },
                v => match v.parse::<f64>() {
                    Ok(x) => Value::Number { value: x },
                    Err(_) => Value::Text {
                        value: v.to_string(),
                    },
                },
            },
        };
        let mut dv =
            DataValue::new(get(Some(c_el)), area, period, value).map_err(|e| match &e {
                healthplan_core::CoreError::Invalid { field, reason } => at(field, reason.clone()),
                other => at("value", other.to_string()),
            })?;
        if let s @ ("draft" | "submitted" | "approved" | "returned") = get(c_status) {
            dv.status = ValueStatus::parse(s).map_err(|e| at("status", e.to_string()))?;
        } else if !get(c_status).is_empty() {
            return Err(at(
                "status",
                format!(
                    "unknown status {:?} (draft, submitted, approved, returned)",
                    get(c_status)
                ),
            ));
        }
        dv.comment = Some(get(c_comment).to_string()).filter(|c| !c.is_empty());
        out.push(dv);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthplan_core::{Area, AreaCode, AreaLevel, Value};

    const GOOD: &str = "element,area_code,period,value,numerator,denominator,status,comment
HL01,440300,2023,25.4,,,approved,
HL02,440300,2024Q1,,3,1200,,
HL06,440300,202403,已建立,,,draft,备注
HL07,440300,2024,是,,,,
";

    #[test]
    fn reads_every_value_kind() {
        let v = parse_data_values_csv("values.csv", GOOD).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].value, Value::Number { value: 25.4 });
        assert_eq!(v[0].status, healthplan_core::ValueStatus::Approved);
        assert_eq!(
            v[1].value,
            Value::Ratio {
                numerator: 3.0,
                denominator: 1200.0
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
                "line 4, field period: invalid period `2024Q5`",
            ),
            ("HL01,440300,2024-03,1,,,,", "line 4, field period"),
            ("HL01,4403,2024,1,,,,", "line 4, field area_code"),
            ("HL01,440300,2024,,1,0,,", "line 4, field denominator"),
            (
                "HL01,440300,2024,,x,5,,",
                "line 4, field numerator: \"x\" is not a number",
            ),
            ("HL01,440300,2024,,,,,", "line 4, field value"),
            ("HL01,440300,2024,1,,,done,", "line 4, field status"),
            (
                "HL01,440300,2024",
                "line 4: the row has 3 fields but the header has 8",
            ),
        ] {
            let text = GOOD.lines().take(3).collect::<Vec<_>>().join("\n") + "\n" + row + "\n";
            let e = parse_data_values_csv("values.csv", &text)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("values.csv ") && e.contains(want),
                "{want}\n got: {e}"
            );
        }
    }

    /// The file is read whole before anything is written, and the write is one
    /// transaction: a file broken halfway leaves the database as it was.
    #[tokio::test]
    async fn a_file_broken_halfway_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig::new(dir.path(), None);
        let store = Store::open(&config).await.unwrap();
        let gd = Area::new(
            AreaCode::parse("440000").unwrap(),
            "广东省",
            AreaLevel::Province,
            None,
        )
        .unwrap();
        let sz = Area::new(
            AreaCode::parse("440300").unwrap(),
            "深圳市",
            AreaLevel::City,
            Some(&gd),
        )
        .unwrap();
        store.import_areas("test", &[gd, sz]).await.unwrap();
        let good = parse_data_values_csv("values.csv", GOOD).unwrap();
        store.import_data_values("test", &good).await.unwrap();
        let before = store.row_counts().await.unwrap();

        let broken = GOOD
            .replace("HL02,440300,2024Q1", "HL02,440300,2024Q5")
            .replace("25.4", "26");
        let e = parse_data_values_csv("values.csv", &broken)
            .unwrap_err()
            .to_string();
        assert!(e.contains("values.csv line 3, field period"), "{e}");
        // A file that parses but names an unknown area is refused by the store, whole.
        let unknown = GOOD
            .replace("HL07,440300", "HL07,449999")
            .replace("25.4", "26");
        let parsed = parse_data_values_csv("values.csv", &unknown).unwrap();
        let e = store
            .import_data_values("test", &parsed)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("449999"), "{e}");
        assert_eq!(store.row_counts().await.unwrap(), before);
        assert_eq!(
            store.all_data_values().await.unwrap()[0].value,
            Value::Number { value: 25.4 }
        );
    }
}
