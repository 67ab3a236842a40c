//! Plan alerts: what a re-evaluation, a round's deadline and (through the surveillance
//! checks) an outbreak detector find, recorded so an alert is raised when a subject's state
//! changes into an alarming one — once, not at every check. A plan's subjects are (indicator,
//! area, target) and (indicator, area) for worsening: a new period that leaves a state as it
//! was raises nothing, and areas without a value for the period judged say nothing.

use crate::evaluation::EvaluationRun;
use crate::{App, AppError, Result};
use healthplan_access::Caps;
use healthplan_core::{Alert, AlertKind, AlertLevel, Date, Finding};
use healthplan_eval::{IndicatorResult, Settings, Status};
use healthplan_store::{StoreError, ValueKey};

/// A forecast whose chance of meeting the target is below this is said in the alert (a miss
/// with at least 80 % probability).
pub const FORECAST_ALERT_BELOW: f64 = 0.2;

fn alarming(s: Status) -> bool {
    matches!(
        s,
        Status::Moderate | Status::Insufficient | Status::MovingAway | Status::Missed
    )
}

fn status_level(s: Status, binding: bool) -> AlertLevel {
    match s {
        Status::MovingAway | Status::Insufficient | Status::Missed => AlertLevel::Critical,
        _ if binding => AlertLevel::Critical,
        _ => AlertLevel::Warning,
    }
}

/// The findings of one evaluated indicator in one area: one per target with a computed
/// status, and one for worsening.
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
    let base = |subject: String, state: String, alarming: bool| Finding {
        kind: AlertKind::Status,
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
    // No data and not assessable say nothing.
    for t in r.targets.iter().filter(|t| t.status.rank().is_some()) {
        let mut f = base(
            format!("target:{plan_id}:{}:{area}:{}", r.indicator, t.year),
            t.status.key().to_string(),
            alarming(t.status),
        );
        f.level = status_level(t.status, r.binding);
        f.title_zh = format!(
            "{}：{}年目标{}（{}）",
            r.name,
            t.year,
            t.status.zh(),
            r.area
        );
        f.title_en = format!(
            "{}: {} target {} ({})",
            r.name,
            t.year,
            t.status.en(),
            r.area
        );
        f.message_zh = format!("《{plan_title}》{as_of}年评估：{}", t.explanation_zh);
        f.message_en = format!(
            "{plan_title}, evaluated as of {as_of}: {}",
            t.explanation_en
        );
        if let Some(fc) = t
            .forecast
            .as_ref()
            .filter(|fc| fc.probability.is_some_and(|p| p < FORECAST_ALERT_BELOW))
        {
            f.message_zh += &format!("；预测：{}", fc.explanation_zh);
            f.message_en += &format!("; forecast: {}", fc.explanation_en);
        }
        out.push(f);
    }
    if let Some(h) = r.headline().filter(|h| h.latest.is_some()) {
        let mut f = base(
            format!("worsening:{plan_id}:{}:{area}", r.indicator),
            if h.worsening { "worsening" } else { "steady" }.into(),
            h.worsening,
        );
        f.title_zh = format!("{}：恶化（{}）", r.name, r.area);
        f.title_en = format!("{}: worsening ({})", r.name, r.area);
        f.message_zh = format!(
            "《{plan_title}》{as_of}年评估：{}",
            h.worsening_zh.clone().unwrap_or_default()
        );
        f.message_en = format!(
            "{plan_title}, evaluated as of {as_of}: {}",
            h.worsening_en.clone().unwrap_or_default()
        );
        out.push(f);
    }
    out
}

/// What an evaluation run finds: only (indicator, area) pairs with a value for the year the
/// run is as of (sub-areas only see indicators that apply to them).
fn run_findings(run: &EvaluationRun) -> Vec<Finding> {
    let as_of = run.evaluation.as_of;
    let mut findings = Vec::new();
    for r in &run.evaluation.results {
        let Some(area) = run.scope.code(&r.area) else {
            continue;
        };
        if !r.observations.iter().any(|p| p.year == as_of) {
            continue;
        }
        let ind = &run.plan.indicators[r.indicator];
        findings.extend(indicator_findings(
            run.plan_id,
            &run.plan.title,
            as_of,
            r,
            area,
            ind.lead_department(),
            ind.element.as_deref(),
        ));
    }
    findings
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
        let findings = self.plan_findings(plan_id, as_of, settings).await?;
        let raised = self.store().record_findings(&findings).await?;
        self.notify_alerts(&raised).await;
        Ok(raised)
    }

    async fn plan_findings(
        &self,
        plan_id: i64,
        as_of: i32,
        settings: &Settings,
    ) -> Result<Vec<Finding>> {
        let system = self.local_caps("system");
        let run = self
            .evaluate_plan(&system.reader(), plan_id, as_of, settings)
            .await?;
        Ok(run_findings(&run))
    }

    /// The plan's findings as of the latest year up to `up_to` with an approved value, so
    /// a check never judges an area on older data than the last check did.
    async fn latest_findings(
        &self,
        plan_id: i64,
        up_to: i32,
        settings: &Settings,
    ) -> Result<Vec<Finding>> {
        let system = self.local_caps("system");
        let run = self
            .evaluate_plan(&system.reader(), plan_id, up_to, settings)
            .await?;
        let latest = run
            .evaluation
            .results
            .iter()
            .flat_map(|r| r.observations.iter().map(|p| p.year))
            .max();
        match latest {
            None => Ok(Vec::new()),
            Some(y) if y == up_to => Ok(run_findings(&run)),
            Some(y) => self.plan_findings(plan_id, y, settings).await,
        }
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
            AppError::no_right(
                "您的角色无权运行预警检查",
                "your role may not run alert checks",
            )
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
        let raised = self.store().record_findings(&findings).await?;
        self.notify_alerts(&raised).await;
        Ok(raised)
    }

    /// After a yearly value was approved: re-evaluates the plans measured by its element
    /// as of its year (or a later year that has data) and notes in the value's audit log how
    /// many alerts the approval raised.
    pub async fn check_after_approval(
        &self,
        value: &ValueKey,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        if !matches!(value.period, healthplan_core::Period::Year(_)) {
            return Ok(Vec::new());
        }
        let mut findings = Vec::new();
        for plan in self.store().plans_linking(&value.element).await? {
            findings.extend(self.latest_findings(plan, 2100, settings).await?);
        }
        let raised = self
            .store()
            .record_approval_findings(value, &findings)
            .await?;
        self.notify_alerts(&raised).await;
        Ok(raised)
    }

    /// Every plan as of its latest year with data up to `up_to`, and every round: the
    /// periodic check.
    pub async fn check_all_alerts(
        &self,
        up_to: i32,
        today: Date,
        settings: &Settings,
    ) -> Result<Vec<Alert>> {
        let system = self.local_caps("system");
        let mut findings = Vec::new();
        for p in self.store().list_plans(&system.reader()).await? {
            findings.extend(self.latest_findings(p.id, up_to, settings).await?);
        }
        let mut raised = self.store().record_findings(&findings).await?;
        self.notify_alerts(&raised).await;
        raised.extend(self.check_round_alerts(today).await?);
        Ok(raised)
    }
}

#[cfg(test)]
mod tests;
