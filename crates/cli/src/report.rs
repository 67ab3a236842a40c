//! `healthplan report` (the annual monitoring report as DOCX, HTML or PDF) and
//! `healthplan export` (XLSX: values, evaluation, assessment). Both evaluate and assess the
//! plan with the same loader as `healthplan evaluate`, then hand the results to
//! healthplan-report.

use crate::evaluate::{load_and_evaluate, Inputs, Loaded};
use crate::Globals;
use anyhow::{anyhow, bail, Context};
use healthplan_core::ValueStatus;
use healthplan_report::{Export, ReportInput, ValueKey, ValueMeta};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Docx,
    Html,
    Pdf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Every observation with its status and approver.
    Values,
    /// Every indicator × area × target with its explanation, methods and forecasts.
    Evaluation,
    /// The rankings of areas and lead departments with every line of the working.
    Assessment,
}

/// Options of both commands beyond the data files.
#[derive(clap::Args, Debug)]
pub struct ReportOptions {
    #[command(flatten)]
    pub inputs: Inputs,
    /// The report year: observations up to this year are evaluated.
    #[arg(long, alias = "as-of")]
    pub year: i32,
    /// The data are synthetic demo data: label the cover and every table 演示数据.
    #[arg(long)]
    pub synthetic: bool,
    /// Where to write the file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub options: ReportOptions,
    /// docx, html or pdf (PDF needs LibreOffice); by default the extension of --out.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Who issues the report, printed on the cover (e.g. 健康某某行动推进委员会办公室).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The date printed on the cover (e.g. 2025年3月).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub options: ReportOptions,
    /// Which table to export.
    #[arg(long, value_enum)]
    pub what: What,
}

fn column(header: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.contains(&h.trim().to_lowercase().as_str()))
}

/// The workflow columns of the observations file, when it has them: `status` (draft,
/// submitted, approved, returned or 草稿/已报送/已审核/已退回), `approver`, `approved_at`,
/// `comment` (or 审核状态/审核人/审核时间/备注). Rows the evaluation refused are skipped here.
fn value_meta(l: &Loaded, file: &Path) -> anyhow::Result<BTreeMap<ValueKey, ValueMeta>> {
    let text = l.data_text.strip_prefix('\u{feff}').unwrap_or(&l.data_text);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .with_context(|| format!("{}: header", file.display()))?
        .clone();
    let (Some(ci), Some(ca), Some(cy)) = (
        column(&header, &["indicator", "指标", "indicator_code"]),
        column(&header, &["area", "地区", "区域"]),
        column(&header, &["year", "年份", "年度"]),
    ) else {
        return Ok(BTreeMap::new());
    };
    let cs = column(&header, &["status", "审核状态", "状态"]);
    let cp = column(&header, &["approver", "审核人"]);
    let ct = column(&header, &["approved_at", "审核时间"]);
    let cc = column(&header, &["comment", "备注"]);
    if cs.is_none() && cp.is_none() && ct.is_none() && cc.is_none() {
        return Ok(BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("{}", file.display()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |k: Option<usize>| {
            k.and_then(|k| rec.get(k))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Ok(indicator) =
            healthplan_app::eval::data::find_indicator(&l.plan, cell(Some(ci)).unwrap_or(""))
        else {
            continue;
        };
        let Some(year) = cell(Some(cy)).and_then(|y| y.parse::<i32>().ok()) else {
            continue;
        };
        let raw_area = cell(Some(ca)).unwrap_or("");
        let area = l
            .area_names
            .get(raw_area)
            .cloned()
            .unwrap_or_else(|| raw_area.to_string());
        let status = match cell(cs) {
            None => None,
            Some(s) => Some(parse_status(s).ok_or_else(|| {
                anyhow!(
                    "{}: line {line}, column `status`: {s:?} is not draft, submitted, approved or returned（草稿/已报送/已审核/已退回）",
                    file.display()
                )
            })?),
        };
        out.insert(
            ValueKey {
                indicator,
                area,
                year,
            },
            ValueMeta {
                status,
                approver: cell(cp).map(str::to_string),
                approved_at: cell(ct).map(str::to_string),
                comment: cell(cc).map(str::to_string),
            },
        );
    }
    Ok(out)
}

fn parse_status(s: &str) -> Option<ValueStatus> {
    let zh = match s {
        "草稿" => Some(ValueStatus::Draft),
        "已报送" | "已提交" => Some(ValueStatus::Submitted),
        "已审核" | "已批准" | "审核通过" => Some(ValueStatus::Approved),
        "已退回" | "退回" => Some(ValueStatus::Returned),
        _ => None,
    };
    ValueStatus::parse(&s.to_lowercase()).ok().or(zh)
}

/// Evaluates and assesses the plan and builds the report input: from the files given, or
/// from the stored plan and its stored values.
async fn input(o: &ReportOptions, g: &Globals) -> anyhow::Result<ReportInput> {
    let Some(data) = &o.inputs.data else {
        let id: i64 = o.inputs.plan.parse().map_err(|_| {
            anyhow!(
                "{}: without --data the plan must be a stored plan's id",
                o.inputs.plan
            )
        })?;
        let store = crate::store::open(g).await?;
        let app = healthplan_app::App::open(store).await?;
        let caps = app.local_caps(&crate::store::actor());
        let settings = match &o.inputs.scheme {
            Some(p) => healthplan_app::eval::Settings::from_toml(&crate::evaluate::read_text(p)?)
                .map_err(|e| anyhow!("{}: {e}", p.display()))?,
            None => healthplan_app::eval::Settings::default(),
        };
        let mut input = app
            .report_input(&caps.reader(), id, o.year, &settings)
            .await
            .with_context(|| format!("cannot build the report of plan {id}"))?;
        input.synthetic |= o.synthetic;
        return Ok(input);
    };
    let l = load_and_evaluate(&o.inputs, o.year, g).await?;
    let values = value_meta(&l, data)?;
    let assessment =
        healthplan_app::eval::assess(&l.plan, &l.evaluation, l.tasks.as_ref(), &l.settings);
    let mut input = ReportInput::new(l.plan, l.evaluation, assessment, l.settings)?;
    input.synthetic = o.synthetic;
    input.values = values;
    Ok(input)
}

fn write(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

fn format_of(a: &ReportArgs) -> anyhow::Result<Format> {
    if let Some(f) = a.format {
        return Ok(f);
    }
    let ext = a
        .options
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("docx") => Ok(Format::Docx),
        Some("html" | "htm") => Ok(Format::Html),
        Some("pdf") => Ok(Format::Pdf),
        _ => bail!(
            "{}: say --format docx|html|pdf (the file name has no known extension)",
            a.options.out.display()
        ),
    }
}

pub async fn report(a: ReportArgs, g: &Globals) -> anyhow::Result<()> {
    let format = format_of(&a)?;
    if format == Format::Pdf {
        // Before evaluating anything: PDF needs LibreOffice.
        healthplan_office::require_libreoffice()
            .context("PDF 需要 LibreOffice；--format docx 或 html 不需要")?;
    }
    let mut input = input(&a.options, g).await?;
    input.issuer = a.issuer;
    input.date = a.date;
    let bytes = match format {
        Format::Docx => healthplan_report::to_docx(&input)?,
        Format::Html => healthplan_report::to_html(&input).into_bytes(),
        Format::Pdf => healthplan_report::to_pdf(&input)?,
    };
    if healthplan_report::chart_script() != healthplan_report::Script::Cjk {
        eprintln!(
            "warning: no Chinese font found (install fonts-noto-cjk, or set {}): chart labels are in English or left out",
            healthplan_office::fonts::FONT_ENV
        );
    }
    write(&a.options.out, &bytes)
}

pub async fn export(a: ExportArgs, g: &Globals) -> anyhow::Result<()> {
    let input = input(&a.options, g).await?;
    let what = match a.what {
        What::Values => Export::Values,
        What::Evaluation => Export::Evaluation,
        What::Assessment => Export::Assessment,
    };
    let bytes = healthplan_report::to_xlsx(&input, what)?;
    write(&a.options.out, &bytes)
}
