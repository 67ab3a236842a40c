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
