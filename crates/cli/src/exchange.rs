//! `healthplan data import|export|template|mapping`: data files in and out through
//! `healthplan_app::exchange` (CSV, XLSX table or template, DHIS2 JSON, ADX), values written
//! through `healthplan_app::App` so aggregates update. A file with any bad row changes
//! nothing unless `--skip-bad-rows` is given. DHIS2 JSON and ADX codes go through the stored
//! mapping table (`healthplan data mapping load`) unless `--mapping` names a file.

use anyhow::{anyhow, Context};
use healthplan_app::exchange::{self as ex, FileIn};
use healthplan_app::formats::template::{read_template, template_ids, write_template};
use healthplan_app::formats::{ExchangeError, Import, Limits, Mapping, TemplateRow, TemplateSpec};
use healthplan_app::store::{DataValueFilter, Store};
use healthplan_app::App;
use healthplan_core::validate::previous_period;
use healthplan_core::{AreaCode, DataElement, DataValue, Direction, Indicator, Period, ValueRule};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// element,area_code,period,value,numerator,denominator,status,comment
    Csv,
    /// The same table on a `数据` sheet; importing also takes a filled template.
    Xlsx,
    /// DHIS2 dataValueSets JSON (codes through the mapping table).
    #[value(name = "dhis2-json")]
    Dhis2Json,
    /// ADX XML (codes through the mapping table).
    Adx,
}

impl Format {
    fn from_name(path: &Path) -> Option<Format> {
        ex::Format::from_name(&path.file_name()?.to_string_lossy()).map(Format::from)
    }
}

impl From<ex::Format> for Format {
    fn from(f: ex::Format) -> Format {
        match f {
            ex::Format::Csv => Format::Csv,
            ex::Format::Xlsx => Format::Xlsx,
            ex::Format::Dhis2Json => Format::Dhis2Json,
            ex::Format::Adx => Format::Adx,
        }
    }
}

impl From<Format> for ex::Format {
    fn from(f: Format) -> ex::Format {
        match f {
            Format::Csv => ex::Format::Csv,
            Format::Xlsx => ex::Format::Xlsx,
            Format::Dhis2Json => ex::Format::Dhis2Json,
            Format::Adx => ex::Format::Adx,
        }
    }
}

#[derive(clap::Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// Taken from the file name when not given (.csv, .xlsx, .json, .xml/.adx).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Code mapping for DHIS2 JSON and ADX: a CSV of kind,local_code,dhis2_code (default:
    /// the stored table).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Import the good rows and list the bad ones instead of refusing the file.
    #[arg(long)]
    skip_bad_rows: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    format: Format,
    #[arg(long)]
    out: PathBuf,
    /// Code mapping for DHIS2 JSON and ADX: a CSV of kind,local_code,dhis2_code (default:
    /// the stored table).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// DHIS2 data set code written on the document (DHIS2 JSON and ADX).
    #[arg(long)]
    data_set: Option<String>,
    /// Only this data element.
    #[arg(long)]
    element: Option<String>,
    /// Only this area.
    #[arg(long)]
    area: Option<AreaCode>,
    /// Only this period.
    #[arg(long)]
    period: Option<Period>,
}

#[derive(clap::Args)]
pub struct TemplateArgs {
    /// Stored plan id (`healthplan plan list`).
    #[arg(long)]
    plan: i64,
    /// The area; the form has a row per indicator for it and for each of its children.
    #[arg(long)]
    area: AreaCode,
    #[arg(long)]
    period: Period,
    #[arg(long)]
    out: PathBuf,
    /// Who fills it in, shown on the form (default: the area's name).
    #[arg(long)]
    reporter: Option<String>,
    /// Shown on the form, e.g. 2025-01-31.
    #[arg(long)]
    deadline: Option<String>,
}

fn read_file(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    Ok((name, bytes))
}

/// The `--mapping` file, when given (the stored table is used otherwise).
fn load_mapping(path: Option<&Path>) -> anyhow::Result<Option<Mapping>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let (name, bytes) = read_file(path)?;
    Ok(Some(ex::read_mapping_csv(&name, &bytes)?))
}

/// An exchange error with the file name on every line.
fn explain(name: &str, e: ExchangeError) -> anyhow::Error {
    match e {
        ExchangeError::Rejected(r) => anyhow!("{}", r.render(Some(name))),
        other => anyhow!("{name}: {other}"),
    }
}

/// The data element an indicator's values are stored under: its link.
fn element_of(ind: &Indicator) -> Option<String> {
    ind.element.clone()
}

pub async fn import(store: Store, a: ImportArgs) -> anyhow::Result<()> {
    let (name, bytes) = read_file(&a.file)?;
    let format = a.format.or_else(|| Format::from_name(&a.file)).with_context(|| {
        format!("{name}: cannot tell the format from the name; give --format csv|xlsx|dhis2-json|adx")
    })?;
    let is_template = format == Format::Xlsx
        && !matches!(
            template_ids(&bytes, &Limits::default()),
            Err(ExchangeError::WrongSheet { .. })
        );
    if is_template {
        let import = import_template(&store, &name, &bytes).await?;
        return write(store, &name, import).await;
    }
    let map = load_mapping(a.mapping.as_deref())?;
    let app = App::open(store).await?;
    let caps = crate::store::Local::of(app.store()).await?.caps;
    let done = app
        .import_file(
            &caps,
            FileIn {
                name: &name,
                bytes: &bytes,
                format: format.into(),
                mapping: map.as_ref(),
                skip_bad_rows: a.skip_bad_rows,
            },
        )
        .await?;
    let values = done.count.inserted + done.count.updated + done.count.unchanged;
    report(
        &name,
        &Import {
            values: Vec::new(),
            skipped: done.skipped,
            warnings: done.warnings,
        },
    );
    if values == 0 {
        return crate::store::print(&format!("{name}: no values to import\n"));
    }
    crate::store::print(&format!(
        "{name}: {values} values; {}\n",
        crate::area::describe(done.count)
    ))
}

/// Prints the warnings and skipped rows of an import.
fn report(name: &str, import: &Import) {
    for w in &import.warnings {
        eprintln!("warning: {name} {w}");
    }
    if !import.skipped.is_empty() {
        eprintln!(
            "{name}: {} 处错误，所在行已跳过 / {} error(s), their rows skipped:",
            import.skipped.len(),
            import.skipped.len()
        );
        for e in &import.skipped {
            eprintln!("skipped: {name} {e}");
        }
    }
}

/// Writes a filled template's values through the app (one transaction).
async fn write(store: Store, name: &str, import: Import) -> anyhow::Result<()> {
    report(name, &import);
    if import.values.is_empty() {
        return crate::store::print(&format!("{name}: no values to import\n"));
    }
    let local = crate::store::Local::of(&store).await?;
    let app = App::open(store).await?;
    let n = app
        .import_data_values(&local.bulk()?, &import.values)
        .await
        .with_context(|| format!("{name}: nothing was imported"))?;
    crate::store::print(&format!(
        "{name}: {} values; {}\n",
        import.values.len(),
        crate::area::describe(n)
    ))
}

/// The CLI's own round ids: `plan{ID}-{AREA}-{PERIOD}`, so a filled template names the form
/// to rebuild. (The server binds templates to real reporting rounds.)
fn round_id(plan: i64, area: &AreaCode, period: Period) -> String {
    format!("plan{plan}-{area}-{period}")
}

fn parse_round(round: &str) -> Option<(i64, AreaCode, Period)> {
    let mut parts = round.strip_prefix("plan")?.split('-');
    let (p, a, pe) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((p.parse().ok()?, AreaCode::parse(a).ok()?, pe.parse().ok()?))
}

async fn import_template(store: &Store, name: &str, bytes: &[u8]) -> anyhow::Result<Import> {
    let ids = template_ids(bytes, &Limits::default()).map_err(|e| explain(name, e))?;
    let (plan, area, period) = parse_round(&ids.round).ok_or_else(|| {
        anyhow!(
            "{name}: 模板的填报轮次“{}”不是命令行生成的（应为 plan<ID>-<地区>-<报告期>）/ the template's round {:?} was not made by `healthplan data template`",
            ids.round,
            ids.round
        )
    })?;
    // The command line has no reporters yet: the form is rebuilt for the file's reporter.
    let (spec, _) = build_spec(store, plan, &area, period, Some(ids.reporter), None).await?;
    let areas: HashSet<AreaCode> = spec.rows.iter().map(|r| r.area.clone()).collect();
    let may_write = |_: &str, a: &AreaCode| areas.contains(a);
    read_template(bytes, &spec, &may_write, &Limits::default()).map_err(|e| explain(name, e))
}

/// The form for a stored plan's indicators × the area and its children, with last period's
/// and this period's stored values. Also returns the indicators left out, and why.
async fn build_spec(
    store: &Store,
    plan_id: i64,
    area: &AreaCode,
    period: Period,
    reporter: Option<String>,
    deadline: Option<String>,
) -> anyhow::Result<(TemplateSpec, Vec<String>)> {
    let scope = crate::store::Local::of(store).await?.reader();
    let plan = store
        .plan(&scope, plan_id)
        .await
        .with_context(|| format!("plan {plan_id}"))?;
    let all_areas = store.list_areas().await?;
    let top = all_areas.iter().find(|a| &a.code == area).ok_or_else(|| {
        anyhow!("area {area} is not stored; import it with `healthplan area import`")
    })?;
    let mut areas = vec![top];
    areas.extend(all_areas.iter().filter(|a| a.parent.as_ref() == Some(area)));
    let elements: HashMap<String, DataElement> = store
        .list_data_elements()
        .await?
        .into_iter()
        .map(|e| (e.code.clone(), e))
        .collect();
    let mut stored: HashMap<(String, AreaCode, Period), DataValue> = HashMap::new();
    for a in &areas {
        for p in [Some(period), previous_period(period)]
            .into_iter()
            .flatten()
        {
            let filter = DataValueFilter {
                area: Some(a.code.clone()),
                period: Some(p),
                ..Default::default()
            };
            for v in store.list_data_values(&scope, &filter).await? {
                stored.insert((v.element.clone(), v.area.clone(), v.period), v);
            }
        }
    }
    let mut rows = Vec::new();
    let mut left_out = Vec::new();
    for pi in store.plan_indicators(&scope, plan_id).await? {
        let ind = &pi.indicator;
        let Some(element) = element_of(ind) else {
            left_out.push(format!(
                "{}（未关联数据元 / not linked to a data element）",
                ind.name
            ));
            continue;
        };
        let code = ind.code.clone().unwrap_or_else(|| element.clone());
        let Some(declared) = elements.get(&element) else {
            left_out.push(format!(
                "{}（数据元素 {element} 未声明 / element {element} not declared）",
                ind.name
            ));
            continue;
        };
        if ind.direction == Direction::Qualitative
            && declared.value_type == healthplan_core::ValueType::Number
        {
            left_out.push(format!(
                "{}（定性指标却声明为数值 / qualitative but declared as a number）",
                ind.name
            ));
            continue;
        }
        let rule = ValueRule::for_indicator(ind, declared.value_type);
        for a in &areas {
            let at = |p: Option<Period>| {
                p.and_then(|p| stored.get(&(element.clone(), a.code.clone(), p)))
            };
            let current = at(Some(period));
            rows.push(TemplateRow {
                area: a.code.clone(),
                area_name: a.name.clone(),
                indicator: code.clone(),
                element: element.clone(),
                name: ind.name.clone(),
                rule: rule.clone(),
                previous: at(previous_period(period)).map(|v| v.value.clone()),
                current: current.map(|v| v.value.clone()),
                version: current.map(|v| v.version),
                comment: current.and_then(|v| v.comment.clone()),
            });
        }
    }
    let spec = TemplateSpec {
        round: round_id(plan_id, area, period),
        plan_title: plan.title.clone(),
        period,
        deadline,
        reporter: reporter.unwrap_or_else(|| top.name.clone()),
        rows,
    };
    Ok((spec, left_out))
}

pub async fn template(store: &Store, a: TemplateArgs) -> anyhow::Result<()> {
    let (spec, left_out) =
        build_spec(store, a.plan, &a.area, a.period, a.reporter, a.deadline).await?;
    for l in &left_out {
        eprintln!("warning: left out of the template: {l}");
    }
    anyhow::ensure!(
        !spec.rows.is_empty(),
        "plan {}: no indicator has a code and a declared data element, so the form would be empty",
        a.plan
    );
    let bytes = write_template(&spec).map_err(|e| anyhow!("{e}"))?;
    let out = a.out.display().to_string();
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {out}"))?;
    crate::store::print(&format!(
        "{out}: template for round {} ({} rows: {} indicators × {} areas)\n",
        spec.round,
        spec.rows.len(),
        spec.rows.len()
            / spec
                .rows
                .iter()
                .map(|r| &r.area)
                .collect::<HashSet<_>>()
                .len()
                .max(1),
        spec.rows
            .iter()
            .map(|r| &r.area)
            .collect::<HashSet<_>>()
            .len()
    ))
}

pub async fn export(store: &Store, a: ExportArgs) -> anyhow::Result<()> {
    let filter = DataValueFilter {
        element: a.element,
        area: a.area,
        period: a.period,
        ..Default::default()
    };
    let scope = crate::store::Local::of(store).await?.reader();
    let values = store.list_data_values(&scope, &filter).await?;
    let map = match load_mapping(a.mapping.as_deref())? {
        Some(m) => m,
        None => ex::stored_mapping(store).await?,
    };
    let out = a.out.display().to_string();
    let bytes = ex::write_values(a.format.into(), &values, &map, a.data_set.as_deref())
        .map_err(|e| explain(&out, e))?;
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {out}"))?;
    crate::store::print(&format!("{out}: {} values written\n", values.len()))
}

#[derive(clap::Subcommand)]
pub enum MappingCmd {
    /// Print the stored mapping table as CSV (kind,local_code,dhis2_code).
    List,
    /// Replace the stored table with a CSV of kind,local_code,dhis2_code (kind: element,
    /// org_unit or period); all or nothing, every change audited.
    Load { file: PathBuf },
}

pub async fn mapping(store: &Store, cmd: MappingCmd) -> anyhow::Result<()> {
    match cmd {
        MappingCmd::List => {
            let m = ex::stored_mapping(store).await?;
            crate::store::print(&m.to_csv())
        }
        MappingCmd::Load { file } => {
            let (name, bytes) = read_file(&file)?;
            let m = ex::read_mapping_csv(&name, &bytes)?;
            let local = crate::store::Local::of(store).await?;
            let by = local
                .caps
                .mapping_editor()
                .ok_or_else(|| anyhow!("the command line lacks a right it always has"))?;
            let n = store
                .replace_mapping(&by, &ex::rows_of(&m))
                .await
                .with_context(|| format!("{name}: the mapping table was not changed"))?;
            crate::store::print(&format!(
                "{name}: {} rows; {} new, {} changed, {} removed, {} unchanged\n",
                m.rows().len(),
                n.inserted,
                n.updated,
                n.deleted,
                n.unchanged
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ids_read_back() {
        let a = AreaCode::parse("440300").unwrap();
        let id = round_id(3, &a, Period::Quarter(2024, 2));
        assert_eq!(id, "plan3-440300-2024Q2");
        assert_eq!(parse_round(&id), Some((3, a, Period::Quarter(2024, 2))));
        for bad in [
            "",
            "plan",
            "planX-440300-2024",
            "plan1-44-2024",
            "plan1-440300-2024-x",
            "round-1",
        ] {
            assert_eq!(parse_round(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_from_names() {
        for (n, f) in [
            ("a.CSV", Some(Format::Csv)),
            ("a.xlsx", Some(Format::Xlsx)),
            ("a.json", Some(Format::Dhis2Json)),
            ("a.xml", Some(Format::Adx)),
            ("a.xls", None),
            ("a", None),
        ] {
            assert_eq!(Format::from_name(Path::new(n)), f, "{n}");
        }
    }
}
