//! `healthplan data import|query`: reported values go through `healthplan_app::App`, so the
//! store commit and the analytics aggregates change together.

use crate::Globals;
use anyhow::Context;
use clap::Subcommand;
use healthplan_app::analytics::{AreaSel, Item, PeriodSel, Query};
use healthplan_app::store::Store;
use healthplan_app::App;
use healthplan_core::{Aggregation, AreaCode, DataElement, Period, ValueType};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum DataCmd {
    /// Declare data elements from a CSV with columns code,name,value_type,aggregation
    /// (value_type: number|boolean|text; aggregation: sum|average|weighted|none).
    Elements { file: PathBuf },
    /// Import values from CSV (element,area_code,period,value[,numerator,denominator,status,
    /// comment]), an .xlsx table or filled template, DHIS2 JSON or ADX; every value is
    /// validated, and a file with any bad row changes nothing (unless --skip-bad-rows).
    Import(crate::exchange::ImportArgs),
    /// Export stored values as CSV, .xlsx, DHIS2 JSON or ADX.
    Export(crate::exchange::ExportArgs),
    /// Write the data-collection template (.xlsx) for a plan's indicators × an area and its
    /// children for one period.
    Template(crate::exchange::TemplateArgs),
    /// The stored DHIS2 code mapping table (data elements, org units, periods).
    #[command(subcommand)]
    Mapping(crate::exchange::MappingCmd),
    /// Aggregated values over the area and period trees.
    Query(QueryArgs),
}

#[derive(clap::Args)]
pub struct QueryArgs {
    /// Data element codes (repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    element: Vec<String>,
    /// Indicators: ratio elements, Σnumerator / Σdenominator.
    #[arg(long, value_delimiter = ',')]
    indicator: Vec<String>,
    /// Area codes (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', conflicts_with = "level")]
    area: Vec<AreaCode>,
    /// Every area at this tree level (1 = root) under `--under`.
    #[arg(long, requires = "under")]
    level: Option<u8>,
    #[arg(long)]
    under: Option<AreaCode>,
    /// Periods: `2024`, `2024Q1`, `202403` (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', conflicts_with = "years")]
    period: Vec<Period>,
    /// Each year of a range, e.g. `2020-2025`.
    #[arg(long)]
    years: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: DataCmd, g: &Globals) -> anyhow::Result<()> {
    let store = crate::store::open(g).await?;
    match cmd {
        DataCmd::Elements { file } => declare(&store, &file).await,
        DataCmd::Import(a) => crate::exchange::import(store, a).await,
        DataCmd::Export(a) => crate::exchange::export(&store, a).await,
        DataCmd::Template(a) => crate::exchange::template(&store, a).await,
        DataCmd::Mapping(c) => crate::exchange::mapping(&store, c).await,
        DataCmd::Query(a) => query(&App::open(store).await?, a),
    }
}

/// Declarations are not data values: they go to the store alone (one transaction), and the
/// engine the next command loads reads the new rules.
async fn declare(store: &Store, file: &Path) -> anyhow::Result<()> {
    let (name, text) = read(file)?;
    let elements = parse_elements_csv(&name, &text)?;
    let local = crate::store::Local::of(store).await?;
    store
        .put_data_elements(&local.registry()?, &elements)
        .await
        .with_context(|| format!("{name}: nothing was declared"))?;
    crate::store::print(&format!(
        "{name}: {} data elements declared\n",
        elements.len()
    ))
}

fn read(file: &Path) -> anyhow::Result<(String, String)> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    let text = healthplan_app::text::decode_text(&name, &bytes)?;
    Ok((name, text))
}

/// Reads `code,name,value_type,aggregation`; errors name the file, line and field.
fn parse_elements_csv(name: &str, text: &str) -> anyhow::Result<Vec<DataElement>> {
    let (mut rdr, header) = crate::csvin::open(name, text)?;
    anyhow::ensure!(
        header == ["code", "name", "value_type", "aggregation"],
        "{name} line 1: the header must be code,name,value_type,aggregation (found {})",
        header.join(",")
    );
    let mut out = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| crate::csvin::error(name, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let bad = |i: usize, what: &str| {
            anyhow::anyhow!(
                "{name} line {line}, field {what}: unknown {what} {:?}",
                field(i)
            )
        };
        let value_type: ValueType =
            snake_case_enum(field(2)).ok_or_else(|| bad(2, "value_type"))?;
        let aggregation: Aggregation =
            snake_case_enum(field(3)).ok_or_else(|| bad(3, "aggregation"))?;
        out.push(
            DataElement::new(field(0), field(1), value_type, aggregation)
                .map_err(|e| anyhow::anyhow!("{name} line {line}: {e}"))?,
        );
    }
    Ok(out)
}

/// Parses a unit enum variant by its serde (snake_case) name.
fn snake_case_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn query(app: &App, a: QueryArgs) -> anyhow::Result<()> {
    let items: Vec<Item> = a
        .element
        .into_iter()
        .map(Item::Element)
        .chain(a.indicator.into_iter().map(Item::Indicator))
        .collect();
    anyhow::ensure!(
        !items.is_empty(),
        "give at least one --element or --indicator"
    );
    let areas = match (a.level, a.under) {
        (Some(level), Some(under)) => AreaSel::LevelUnder { level, under },
        _ if !a.area.is_empty() => AreaSel::List(a.area),
        _ => anyhow::bail!("give --area CODE,… or --level N --under CODE"),
    };
    let periods = match a.years {
        Some(r) => {
            let (from, to) = r
                .split_once('-')
                .and_then(|(f, t)| Some((f.trim().parse().ok()?, t.trim().parse().ok()?)))
                .with_context(|| format!("--years {r:?}: expected a range like 2020-2025"))?;
            PeriodSel::EachYear { from, to }
        }
        None if !a.period.is_empty() => PeriodSel::List(a.period),
        None => anyhow::bail!("give --period P,… or --years FROM-TO"),
    };
    let rows = app.query(&Query {
        items,
        areas,
        periods,
    })?;
    let item_name = |i: &Item| match i {
        Item::Element(e) | Item::Indicator(e) => e.clone(),
    };
    if a.json {
        let json: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "item": item_name(&r.item),
                    "kind": if matches!(r.item, Item::Indicator(_)) { "indicator" } else { "element" },
                    "area": r.area.as_str(),
                    "period": r.period.to_string(),
                    "value": r.value,
                    "count": r.count,
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                })
            })
            .collect();
        return crate::store::print(&(serde_json::to_string_pretty(&json)? + "\n"));
    }
    let mut out = String::from("item\tarea\tperiod\tvalue\tcount\tnumerator\tdenominator\n");
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    for r in &rows {
        out += &format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            item_name(&r.item),
            r.area,
            r.period,
            num(r.value),
            r.count,
            num(r.numerator),
            num(r.denominator)
        );
    }
    crate::store::print(&out)
}
