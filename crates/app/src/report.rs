//! The annual report's input from stored data: the evaluation and assessment of a stored
//! plan, with who approved each value and whether any of it is demonstration data.

use crate::{App, Result};
use healthplan_access::ReadScope;
use healthplan_core::Period;
use healthplan_eval::Settings;
use healthplan_report::{ReportInput, ValueKey, ValueMeta};
use healthplan_store::DataValueFilter;

impl App {
    /// Evaluates and assesses a stored plan as of `year` on what `scope` may read, and
    /// gathers the workflow facts the report and the values export show.
    pub async fn report_input(
        &self,
        scope: &ReadScope,
        plan_id: i64,
        year: i32,
        settings: &Settings,
    ) -> Result<ReportInput> {
        let run = self.evaluate_plan(scope, plan_id, year, settings).await?;
        let assessment = run.assess();
        let elements: Vec<String> = run
            .plan
            .indicators
            .iter()
            .filter_map(|i| i.element.clone())
            .collect();
        let records = if elements.is_empty() {
            Vec::new()
        } else {
            self.store()
                .data_value_records(
                    scope,
                    &DataValueFilter {
                        elements,
                        ..Default::default()
                    },
                )
                .await?
        };
        let mut values = std::collections::BTreeMap::new();
        for r in records {
            let Period::Year(y) = r.value.period else {
                continue;
            };
            let Some(area) = run.scope.name(&r.value.area) else {
                continue;
            };
            let approved = r.value.status == healthplan_core::ValueStatus::Approved;
            for (i, ind) in run.plan.indicators.iter().enumerate() {
                if ind.element.as_deref() != Some(r.value.element.as_str()) {
                    continue;
                }
                values.insert(
                    ValueKey {
                        indicator: i,
                        area: area.to_string(),
                        year: y,
                    },
                    ValueMeta {
                        status: Some(r.value.status),
                        approver: approved.then(|| r.reviewed_by.clone()).flatten(),
                        approved_at: approved
                            .then(|| r.reviewed_at.as_ref().map(|t| t.chars().take(10).collect()))
                            .flatten(),
                        comment: r.value.comment.clone(),
                    },
                );
            }
        }
        let area_names = run
            .scope
            .areas
            .iter()
            .map(|(name, code)| (code.to_string(), name.clone()))
            .collect();
        let mut input = ReportInput::new(run.plan, run.evaluation, assessment, run.settings)
            .map_err(|e| crate::AppError::Input(e.to_string()))?;
        input.synthetic = run.synthetic;
        input.values = values;
        input.area_names = area_names;
        Ok(input)
    }
}

/// A file to hand out: its name, content type and bytes.
#[derive(Debug, Clone)]
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
/// The content type of an .xlsx file.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The annual report's file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Docx,
    Html,
    Pdf,
}

/// What an XLSX export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportWhat {
    /// Every value with its status and who approved it.
    Values,
    /// Evaluation results with their explanations.
    Evaluation,
    /// The assessment (考核) with its working.
    Assessment,
}

fn plausible(year: i32) -> Result<()> {
    if Period::plausible_year(year) {
        Ok(())
    } else {
        Err(crate::AppError::Input(format!(
            "{year}: 年份不合理 / not a plausible year"
        )))
    }
}

impl App {
    /// The annual monitoring report (年度监测评估报告) of a plan on the approved values
    /// `scope` reads, rendered off the async workers (PDF runs LibreOffice for seconds).
    pub async fn report(
        &self,
        scope: &ReadScope,
        plan_id: i64,
        year: i32,
        format: ReportFormat,
        settings: &Settings,
    ) -> Result<Download> {
        plausible(year)?;
        let input = self.report_input(scope, plan_id, year, settings).await?;
        let name = format!("{}-{}年度监测评估报告", input.plan().title, year);
        let (bytes, content_type, ext) = crate::blocking(move || match format {
            ReportFormat::Docx => healthplan_report::to_docx(&input).map(|b| (b, DOCX, "docx")),
            ReportFormat::Html => Ok((
                healthplan_report::to_html(&input).into_bytes(),
                "text/html; charset=utf-8",
                "html",
            )),
            ReportFormat::Pdf => {
                healthplan_report::to_pdf(&input).map(|b| (b, "application/pdf", "pdf"))
            }
        })
        .await??;
        Ok(Download {
            name: format!("{name}.{ext}"),
            content_type,
            bytes,
        })
    }

    /// An XLSX export of a plan's values, evaluation or assessment.
    pub async fn export(
        &self,
        scope: &ReadScope,
        plan_id: i64,
        year: i32,
        what: ExportWhat,
        settings: &Settings,
    ) -> Result<Download> {
        plausible(year)?;
        let input = self.report_input(scope, plan_id, year, settings).await?;
        let (what, label) = match what {
            ExportWhat::Values => (healthplan_report::Export::Values, "数据"),
            ExportWhat::Evaluation => (healthplan_report::Export::Evaluation, "评估结果"),
            ExportWhat::Assessment => (healthplan_report::Export::Assessment, "考核"),
        };
        let name = format!("{}-{}年{label}.xlsx", input.plan().title, year);
        let bytes = crate::blocking(move || healthplan_report::to_xlsx(&input, what)).await??;
        Ok(Download {
            name,
            content_type: XLSX,
            bytes,
        })
    }
}
