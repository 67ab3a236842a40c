//! Plan alerts: what a re-evaluation, a round's deadline and (through the surveillance
//! checks) an outbreak detector find, recorded so an alert is raised when a subject's state
//! changes into an alarming one — once, not at every check. An evaluation's subjects carry
//! the year it is as of, so judging two years never flips one subject back and forth.

use crate::{App, AppError, Result};
use healthplan_access::{Caps, Denied};
use healthplan_core::{Alert, AlertKind, AlertLevel, Date, Finding, Property};
use healthplan_eval::{IndicatorResult, Settings, Status};
use healthplan_store::StoreError;

/// A forecast whose chance of meeting the target is below this raises a "likely missed"
/// alert (a miss with at least 80 % probability).
pub const FORECAST_ALERT_BELOW: f64 = 0.2;

fn status_level(s: Status) -> AlertLevel {
    match s {
        Status::MovingAway | Status::Insufficient => AlertLevel::Critical,
        _ => AlertLevel::Warning,
    }
}

/// The findings of one evaluated indicator in one area.
fn indicator_findings(
    plan_id: i64,
    plan_title: &str,
    as_of: i32,
    r: &IndicatorResult,
    area: &healthplan_core::AreaCode,
    lead: Option<&str>,
    element: Option<&str>,
) -> Vec<Finding> {
    let link = format!(
        "/plans/{plan_id}/indicators/{}?area={area}&as_of={as_of}",
        r.indicator
    );
    let base = |kind: AlertKind, subject: String, state: String, alarming: bool| Finding {
        kind,
        subject,
        state,
        alarming,
        level: AlertLevel::Warning,
        plan_id: Some(plan_id),
        indicator: Some(r.indicator),
        round_id: None,
        area: area.clone(),
        element: element.map(String::from),
        period: Some(as_of.to_string()),
        department: lead.map(String::from),
        title_zh: String::new(),
        title_en: String::new(),
        message_zh: String::new(),
        message_en: String::new(),
        link: link.clone(),
    };
    let mut out = Vec::new();
    // Status: lagging, off track or moving away (no data and not assessable say nothing).
    if r.status.rank().is_some() {
        let alarming = matches!(
            r.status,
            Status::Moderate | Status::Insufficient | Status::MovingAway
        );
        let mut f = base(
            AlertKind::Status,
            format!("status:{plan_id}:{}:{area}@{as_of}", r.indicator),
            r.status.key().to_string(),
            alarming,
        );
        f.level = status_level(r.status);
        f.title_zh = format!("{}：{}（{}）", r.name, r.status.zh(), r.area);
        f.title_en = format!("{}: {} ({})", r.name, r.status.en(), r.area);
        f.message_zh = format!("《{plan_title}》{as_of}年评估：{}", r.explanation_zh);
        f.message_en = format!(
            "{plan_title}, evaluated as of {as_of}: {}",
            r.explanation_en
        );
        out.push(f);
    }
    // A binding indicator's interim targets that have come due.
    if r.binding {
        let head = r.headline_year;
        for t in r
            .targets
            .iter()
            .filter(|t| t.year <= as_of && Some(t.year) != head && t.status.rank().is_some())
        {
            let missed = t.status != Status::Achieved;
            let mut f = base(
                AlertKind::Interim,
                format!(
                    "interim:{plan_id}:{}:{area}:{}@{as_of}",
                    r.indicator, t.year
                ),
                if missed { "missed" } else { "met" }.into(),
                missed,
            );
            f.level = AlertLevel::Critical;
            f.title_zh = format!("约束性指标未完成{}年目标：{}（{}）", t.year, r.name, r.area);
            f.title_en = format!(
                "Binding indicator missed its {} target: {} ({})",
                t.year, r.name, r.area
            );
            f.message_zh = t.explanation_zh.clone();
            f.message_en = t.explanation_en.clone();
            out.push(f);
        }
    }
    // The headline target's forecast.
    if let Some(fc) = r
        .headline()
        .filter(|h| h.year > as_of && h.status != Status::Achieved)
        .and_then(|h| h.forecast.as_ref())
    {
        if let Some(p) = fc.probability {
            let unlikely = p < FORECAST_ALERT_BELOW;
            let mut f = base(
                AlertKind::Forecast,
                format!(
                    "forecast:{plan_id}:{}:{area}:{}@{as_of}",
                    r.indicator, fc.year
                ),
                if unlikely { "unlikely" } else { "possible" }.into(),
                unlikely,
            );
            f.title_zh = format!("预测{}年难以达标：{}（{}）", fc.year, r.name, r.area);
            f.title_en = format!(
                "Forecast: {} likely missed in {} ({})",
                r.name, fc.year, r.area
            );
            f.message_zh = fc.explanation_zh.clone();
            f.message_en = fc.explanation_en.clone();
            out.push(f);
        }
    }
    out
}

impl App {
    /// Re-evaluates a plan as of a year on everything stored and records what it finds;
    /// returns the alerts raised.
    pub async fn check_plan_alerts(
        &self,
        plan_id: i64,
        as_of: i32,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        let system = self.local_caps("system");
        let run = self
            .evaluate_plan(&system.reader(), plan_id, as_of, settings)
            .await?;
        let mut findings = Vec::new();
        for r in &run.evaluation.results {
            let Some(area) = run.scope.code(&r.area) else {
                continue;
            };
            let ind = &run.plan.indicators[r.indicator];
            // Only indicators with data are judged; an empty series raises nothing.
            if r.observations.is_empty() {
                continue;
            }
            let binding_note = ind.property == Some(Property::Binding);
            let mut f = indicator_findings(
                plan_id,
                &run.plan.title,
                as_of,
                r,
                area,
                ind.lead_department(),
                ind.element.as_deref(),
            );
            if binding_note {
                for x in &mut f {
                    if x.kind == AlertKind::Status && x.alarming {
                        x.level = AlertLevel::Critical;
                    }
                }
            }
            findings.extend(f);
        }
        Ok(self.store().record_findings(&findings).await?)
    }

    /// Open rounds past their deadline with forms missing, per area and lead department.
    pub async fn check_round_alerts(&self, today: Date) -> Result<Vec<Alert>> {
        let system = self.local_caps("system");
        self.round_alerts(&system, None, today).await
    }

    /// An alert check a planner runs: the plans it edits (or the one named) as of a year,
    /// and the open rounds of those plans as far as its areas reach. Nothing outside the
    /// caller's rights is judged or raised.
    pub async fn run_alert_checks(
        &self,
        caps: &Caps,
        plan: Option<i64>,
        as_of: i32,
        today: Date,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        let editor = caps.plan_editor().ok_or_else(|| {
            AppError::Store(StoreError::Forbidden(Denied {
                zh: "您的角色无权运行预警检查".into(),
                en: "your role may not run alert checks".into(),
            }))
        })?;
        let scope = caps.reader();
        let mut plans = Vec::new();
        for p in self.store().list_plans(&scope).await? {
            if plan.is_some_and(|id| id != p.id) {
                continue;
            }
            match editor.check_optional_area(p.area_code.as_ref()) {
                Ok(()) => plans.push(p.id),
                Err(d) if plan.is_some() => return Err(StoreError::Forbidden(d).into()),
                Err(_) => {}
            }
        }
        if let Some(id) = plan.filter(|_| plans.is_empty()) {
            return Err(StoreError::NotFound {
                entity: "plan",
                key: id.to_string(),
            }
            .into());
        }
        let mut raised = Vec::new();
        for &p in &plans {
            raised.extend(self.check_plan_alerts(p, as_of, settings).await?);
        }
        raised.extend(self.round_alerts(caps, Some(&plans), today).await?);
        raised.retain(|a| scope.area(&a.area));
        Ok(raised)
    }

    /// Late-round alerts of the open rounds `caps` reads (of these plans only, when given).
    async fn round_alerts(
        &self,
        caps: &Caps,
        plans: Option<&[i64]>,
        today: Date,
    ) -> Result<Vec<Alert>> {
        let mut findings = Vec::new();
        for round in self.store().list_rounds(&caps.reader()).await? {
            if !round.open || plans.is_some_and(|p| !p.contains(&round.plan_id)) {
                continue;
            }
            let (_, rows) = self.round_overview(caps, round.id, today).await?;
            for row in rows {
                let subject = format!("round:{}:{}:{}", round.id, row.area, row.department);
                let outstanding = row.missing + row.draft + row.returned;
                findings.push(Finding {
                    kind: AlertKind::RoundLate,
                    subject,
                    state: if row.late { "late" } else { "in_time" }.into(),
                    alarming: row.late,
                    level: AlertLevel::Warning,
                    plan_id: Some(round.plan_id),
                    indicator: None,
                    round_id: Some(round.id),
                    area: row.area.clone(),
                    element: None,
                    period: Some(round.period.to_string()),
                    department: Some(row.department.clone()),
                    title_zh: format!(
                        "填报逾期：{}（{}，{}）",
                        round.title, row.area_name, row.department
                    ),
                    title_en: format!(
                        "Reporting late: {} ({}, {})",
                        round.title, row.area_name, row.department
                    ),
                    message_zh: format!(
                        "截止日期{}已过，仍有{}项未填报或未提交（共{}项）。",
                        round.deadline, outstanding, row.total
                    ),
                    message_en: format!(
                        "The deadline {} has passed with {outstanding} of {} cells not submitted.",
                        round.deadline, row.total
                    ),
                    link: format!("/rounds/{}/overview", round.id),
                });
            }
        }
        Ok(self.store().record_findings(&findings).await?)
    }

    /// After a yearly value of `element` was approved: re-evaluates the plans measured by it
    /// as of that year.
    pub async fn check_after_approval(
        &self,
        element: &str,
        period: healthplan_core::Period,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        let healthplan_core::Period::Year(year) = period else {
            return Ok(Vec::new());
        };
        let mut raised = Vec::new();
        for plan in self.store().plans_linking(element).await? {
            raised.extend(self.check_plan_alerts(plan, year, settings).await?);
        }
        Ok(raised)
    }

    /// Every plan as of each year given, and every round: the periodic check.
    pub async fn check_all_alerts(
        &self,
        years: &[i32],
        today: Date,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        let system = self.local_caps("system");
        let mut raised = Vec::new();
        for p in self.store().list_plans(&system.reader()).await? {
            for &y in years {
                raised.extend(self.check_plan_alerts(p.id, y, settings).await?);
            }
        }
        raised.extend(self.check_round_alerts(today).await?);
        Ok(raised)
    }
}
