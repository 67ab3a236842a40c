//! Reporting rounds as people see them: a reporter's form (its areas × the indicators its
//! departments answer for, with last period's value beside each) and the planner's overview
//! (who has submitted, who is late, what awaits approval).

use crate::{App, AppError, Result};
use healthplan_access::Caps;
use healthplan_core::validate::{previous_period, ValueRule};
use healthplan_core::{
    AreaCode, DataValue, Date, Period, PlanDocument, Round, Value, ValueStatus, ValueType,
};
use healthplan_exchange::template::{TemplateRow, TemplateSpec};
use healthplan_store::{DataValueFilter, ValueKey};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One field of a reporter's form.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormRow {
    pub area: AreaCode,
    pub area_name: String,
    /// Position of the indicator in the plan.
    pub indicator: usize,
    pub name: String,
    pub unit: Option<String>,
    pub element: String,
    pub lead: Option<String>,
    /// Entered as numerator and denominator (the indicator has a formula).
    pub ratio: bool,
    pub factor: f64,
    /// Last period's value as the indicator shows it.
    pub last: Option<f64>,
    /// What is stored for this period, if anything.
    pub current: Option<DataValue>,
}

/// A form row with what entry needs beside it: the validation rule and last period's
/// value.
#[derive(Debug, Clone)]
pub struct FormCell {
    pub row: FormRow,
    pub rule: ValueRule,
    pub previous: Option<Value>,
}

/// What a template re-import saved.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateImport {
    /// Values saved (as drafts, or submitted when asked).
    pub saved: Vec<DataValue>,
    /// Warnings the file confirmed with a comment, and notes.
    pub warnings: Vec<String>,
}

/// One line of the planner's overview: an area and a lead department.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverviewRow {
    pub area: AreaCode,
    pub area_name: String,
    pub department: String,
    pub total: usize,
    pub missing: usize,
    pub draft: usize,
    pub submitted: usize,
    pub returned: usize,
    pub approved: usize,
    /// The deadline has passed and something is still not submitted.
    pub late: bool,
}

/// The number a stored value shows for an indicator with this factor.
pub fn shown(v: &DataValue, factor: f64) -> Option<f64> {
    match &v.value {
        healthplan_core::Value::Number { value } => Some(*value),
        healthplan_core::Value::Ratio {
            numerator,
            denominator,
        } => Some(factor * numerator / denominator),
        healthplan_core::Value::Boolean { value } => Some(f64::from(u8::from(*value))),
        healthplan_core::Value::Text { .. } => None,
    }
}

struct Line {
    index: usize,
    name: String,
    unit: Option<String>,
    element: String,
    lead: Option<String>,
    ratio: bool,
    factor: f64,
}

impl App {
    /// The plan indicators a round asks for: linked ones, led by one of the round's
    /// departments when it names any.
    async fn round_lines(&self, caps: &Caps, round: &Round) -> Result<Vec<Line>> {
        let doc = self.store().plan(&caps.reader(), round.plan_id).await?;
        let policy = self.policy();
        let wanted: Vec<String> = round
            .departments
            .iter()
            .map(|d| policy.department_key(d))
            .collect();
        Ok(doc
            .indicators
            .iter()
            .enumerate()
            .filter_map(|(index, ind)| {
                let element = ind.element.clone()?;
                let lead = ind.lead_department().map(String::from);
                if !wanted.is_empty()
                    && !lead
                        .as_deref()
                        .is_some_and(|l| wanted.contains(&policy.department_key(l)))
                {
                    return None;
                }
                Some(Line {
                    index,
                    name: ind.name.clone(),
                    unit: ind.unit.clone(),
                    element,
                    lead,
                    ratio: ind.formula.is_some(),
                    factor: ind.formula.as_ref().map_or(1.0, |f| f.factor),
                })
            })
            .collect())
    }

    async fn values_of(
        &self,
        caps: &Caps,
        lines: &[Line],
        period: Period,
    ) -> Result<HashMap<ValueKey, DataValue>> {
        if lines.is_empty() {
            return Ok(HashMap::new());
        }
        let filter = DataValueFilter {
            elements: lines.iter().map(|l| l.element.clone()).collect(),
            period: Some(period),
            ..Default::default()
        };
        Ok(self
            .store()
            .list_data_values(&caps.reader(), &filter)
            .await?
            .into_iter()
            .map(|v| (ValueKey::of(&v), v))
            .collect())
    }

    /// The form of the caller for a round: only the cells it may write.
    pub async fn round_form(&self, caps: &Caps, round_id: i64) -> Result<(Round, Vec<FormRow>)> {
        let round = self.store().round(&caps.reader(), round_id).await?;
        let Some(writer) = caps.value_writer() else {
            return Ok((round, Vec::new()));
        };
        let lines = self.round_lines(caps, &round).await?;
        let now = self.values_of(caps, &lines, round.period).await?;
        let before = match previous_period(round.period) {
            Some(p) => self.values_of(caps, &lines, p).await?,
            None => HashMap::new(),
        };
        let policy = self.policy();
        let mut rows = Vec::new();
        for area in &round.areas {
            let area_name = policy.areas().name(area).unwrap_or("").to_string();
            for l in &lines {
                if !writer.allows(&l.element, area) {
                    continue;
                }
                let key = |p: Period| ValueKey::new(&l.element, area.clone(), p);
                let last = previous_period(round.period)
                    .and_then(|p| before.get(&key(p)))
                    .and_then(|v| shown(v, l.factor));
                rows.push(FormRow {
                    area: area.clone(),
                    area_name: area_name.clone(),
                    indicator: l.index,
                    name: l.name.clone(),
                    unit: l.unit.clone(),
                    element: l.element.clone(),
                    lead: l.lead.clone(),
                    ratio: l.ratio,
                    factor: l.factor,
                    last,
                    current: now.get(&key(round.period)).cloned(),
                });
            }
        }
        Ok((round, rows))
    }

    /// The caller's form with the rule and last value of each cell (the web form, the
    /// template and its re-import all use it).
    pub async fn form_cells(
        &self,
        caps: &Caps,
        round_id: i64,
    ) -> Result<(Round, PlanDocument, Vec<FormCell>)> {
        let (round, rows) = self.round_form(caps, round_id).await?;
        let doc = self.store().plan(&caps.reader(), round.plan_id).await?;
        let types: HashMap<String, ValueType> = self
            .store()
            .list_data_elements()
            .await?
            .into_iter()
            .map(|e| (e.code, e.value_type))
            .collect();
        let prev_period = previous_period(round.period);
        let previous: HashMap<ValueKey, Value> = match prev_period {
            Some(p) if !rows.is_empty() => self
                .store()
                .list_data_values(
                    &caps.reader(),
                    &DataValueFilter {
                        elements: rows.iter().map(|r| r.element.clone()).collect(),
                        period: Some(p),
                        ..Default::default()
                    },
                )
                .await?
                .into_iter()
                .map(|v| (ValueKey::of(&v), v.value))
                .collect(),
            _ => HashMap::new(),
        };
        let cells = rows
            .into_iter()
            .filter_map(|row| {
                let ind = doc.indicators.get(row.indicator)?;
                let vt = types
                    .get(&row.element)
                    .copied()
                    .unwrap_or(ValueType::Number);
                let rule = ValueRule::for_indicator(ind, vt);
                let previous = prev_period
                    .and_then(|p| previous.get(&ValueKey::new(&row.element, row.area.clone(), p)))
                    .cloned();
                Some(FormCell {
                    row,
                    rule,
                    previous,
                })
            })
            .collect();
        Ok((round, doc, cells))
    }

    /// The caller's form as a spreadsheet template (its areas × its indicators).
    pub async fn round_template(&self, caps: &Caps, round_id: i64) -> Result<TemplateSpec> {
        let (round, doc, cells) = self.form_cells(caps, round_id).await?;
        let reporter = caps
            .principal()
            .map(|p| p.display_name.clone())
            .unwrap_or_default();
        Ok(TemplateSpec {
            round: format!("round-{}", round.id),
            plan_title: doc.title.clone(),
            period: round.period,
            deadline: Some(round.deadline.to_string()),
            reporter,
            rows: cells
                .into_iter()
                .map(|c| TemplateRow {
                    area: c.row.area.clone(),
                    area_name: c.row.area_name.clone(),
                    indicator: format!("{}", c.row.indicator + 1),
                    element: c.row.element.clone(),
                    name: c.row.name.clone(),
                    rule: c.rule,
                    previous: c.previous,
                    current: c.row.current.as_ref().map(|v| v.value.clone()),
                    version: c.row.current.as_ref().map(|v| v.version),
                    comment: c.row.current.as_ref().and_then(|v| v.comment.clone()),
                })
                .collect(),
        })
    }

    /// The caller's form as an .xlsx template; `None` when it reports nothing in this round.
    pub async fn round_template_file(
        &self,
        caps: &Caps,
        round_id: i64,
    ) -> Result<Option<crate::report::Download>> {
        let spec = self.round_template(caps, round_id).await?;
        if spec.rows.is_empty() {
            return Ok(None);
        }
        let name = format!("{}-{}-填报模板.xlsx", spec.plan_title, spec.period);
        let bytes = healthplan_exchange::template::write_template(&spec).map_err(|error| {
            AppError::Exchange {
                file: name.clone(),
                error,
            }
        })?;
        Ok(Some(crate::report::Download {
            name,
            content_type: crate::report::XLSX,
            bytes,
        }))
    }

    /// Re-imports a filled template as the form would save it: against the caller's form
    /// for the round as it is now, all or nothing, every refusal naming its cell; each value
    /// replaces the version the template was filled from, so a cell changed since the
    /// download is a conflict, never overwritten.
    pub async fn import_round_template(
        &self,
        caps: &Caps,
        round_id: i64,
        name: &str,
        bytes: &[u8],
        submit: bool,
    ) -> Result<TemplateImport> {
        let writer = caps.value_writer().ok_or_else(|| {
            AppError::no_right("您的角色无权填报数据", "your role may not enter values")
        })?;
        let round = self.store().round(&caps.reader(), round_id).await?;
        if !round.open {
            return Err(AppError::Closed);
        }
        let spec = self.round_template(caps, round_id).await?;
        let may_write = |element: &str, area: &AreaCode| writer.allows(element, area);
        let import = healthplan_exchange::template::read_template(
            bytes,
            &spec,
            &may_write,
            &healthplan_exchange::Limits::default(),
        )
        .map_err(|error| AppError::Exchange {
            file: name.to_string(),
            error,
        })?;
        // The spec's versions are the template's: the reader refused every cell where not.
        let versions: HashMap<(&str, &AreaCode), i64> = spec
            .rows
            .iter()
            .filter_map(|r| Some(((r.element.as_str(), &r.area), r.version?)))
            .collect();
        let rows: Vec<(DataValue, Option<i64>)> = import
            .values
            .into_iter()
            .map(|mut v| {
                v.status = if submit {
                    ValueStatus::Submitted
                } else {
                    ValueStatus::Draft
                };
                let version = versions.get(&(v.element.as_str(), &v.area)).copied();
                (v, version)
            })
            .collect();
        // The one entry flow, as the form and the API: the same rules (the jump from last
        // period too), versions, all or nothing, and the alert follow-up.
        let saved = self.enter_values(caps, &rows).await?;
        Ok(TemplateImport {
            saved,
            warnings: import.warnings.iter().map(|w| w.to_string()).collect(),
        })
    }

    /// Progress of a round per area and lead department, as the caller may see it.
    pub async fn round_overview(
        &self,
        caps: &Caps,
        round_id: i64,
        today: Date,
    ) -> Result<(Round, Vec<OverviewRow>)> {
        let round = self.store().round(&caps.reader(), round_id).await?;
        let lines = self.round_lines(caps, &round).await?;
        let now = self.values_of(caps, &lines, round.period).await?;
        let policy = self.policy();
        let scope = caps.reader();
        let past_deadline = today > round.deadline;
        let mut groups: BTreeMap<(AreaCode, String), OverviewRow> = BTreeMap::new();
        for area in round.areas.iter().filter(|a| scope.area(a)) {
            for l in &lines {
                let department = l
                    .lead
                    .clone()
                    .unwrap_or_else(|| "（未指定牵头单位）".into());
                let row = groups
                    .entry((area.clone(), department.clone()))
                    .or_insert_with(|| OverviewRow {
                        area: area.clone(),
                        area_name: policy.areas().name(area).unwrap_or("").to_string(),
                        department,
                        total: 0,
                        missing: 0,
                        draft: 0,
                        submitted: 0,
                        returned: 0,
                        approved: 0,
                        late: false,
                    });
                row.total += 1;
                match now
                    .get(&ValueKey::new(&l.element, area.clone(), round.period))
                    .map(|v| v.status)
                {
                    None => row.missing += 1,
                    Some(ValueStatus::Draft) => row.draft += 1,
                    Some(ValueStatus::Submitted) => row.submitted += 1,
                    Some(ValueStatus::Returned) => row.returned += 1,
                    Some(ValueStatus::Approved) => row.approved += 1,
                }
                row.late = past_deadline && row.missing + row.draft + row.returned > 0;
            }
        }
        Ok((round, groups.into_values().collect()))
    }
}
