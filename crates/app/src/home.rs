//! The home page (工作台) of each role, computed here so every door shows the same thing:
//! a leader's KPI tiles and the worst-lagging indicators, a reporter's open forms and
//! returned values, a planner's review queue, late rounds and new alerts; and, for everyone,
//! what changed since the last visit.
//!
//! Each part reads only what the caller's scope allows, through the same store reads the
//! other pages use, and stays cheap: one evaluation per readable plan (leaders), one form per
//! open round (reporters), one queue read (planners).

use crate::rounds::shown;
use crate::{App, Result};
use healthplan_access::Caps;
use healthplan_core::{Alert, AlertStatus, AreaCode, Date, Period, Round, ValueStatus};
use healthplan_eval::{Settings, Status};
use healthplan_store::{AlertFilter, AuditFilter, DataValueFilter, HomeVisit};
use serde::Serialize;
use std::collections::BTreeMap;

/// A plan's indicators by headline status in the plan's own area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanKpi {
    pub plan_id: i64,
    pub title: String,
    pub area: String,
    pub as_of: i32,
    pub achieved: usize,
    pub on_track: usize,
    /// Moderate, insufficient progress or moving away.
    pub lagging: usize,
    pub missed: usize,
    /// No data or not assessable.
    pub no_data: usize,
    /// Count per status key, for the chart.
    pub by_status: BTreeMap<&'static str, usize>,
}

/// An indicator behind its trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lagging {
    pub plan_id: i64,
    pub plan: String,
    pub index: usize,
    pub name: String,
    pub unit: Option<String>,
    pub status: &'static str,
    pub latest: Option<f64>,
    pub latest_year: Option<i32>,
    /// The headline target's text (`≥93`).
    pub target: Option<String>,
    pub target_year: Option<i32>,
    pub binding: bool,
}

/// What a leader or viewer opens on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderHome {
    pub as_of: i32,
    pub plans: Vec<PlanKpi>,
    /// Worst first: missed, moving away, insufficient, moderate; binding before expected.
    pub lagging: Vec<Lagging>,
}

/// An open round the reporter has cells in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueRound {
    pub round: Round,
    pub plan: String,
    /// Whether the round's title leaves the plan unnamed (then the page names it).
    pub show_plan: bool,
    /// Negative once the deadline has passed.
    pub days_left: i32,
    pub cells: usize,
    pub empty: usize,
    pub draft: usize,
    pub submitted: usize,
    pub returned: usize,
    pub approved: usize,
    /// Cells still to enter or send: empty, draft or returned.
    pub left: usize,
}

/// A value sent back to the reporter, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnedItem {
    pub round_id: i64,
    pub round: String,
    pub name: String,
    pub area: AreaCode,
    pub area_name: String,
    pub period: Period,
    pub value: Option<f64>,
    pub comment: Option<String>,
    /// The form, at the row (rows are numbered in the form's order).
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReporterHome {
    pub due: Vec<DueRound>,
    pub returned: Vec<ReturnedItem>,
}

/// Submitted values of one area and period waiting for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiting {
    pub area: AreaCode,
    pub area_name: String,
    pub period: Period,
    pub count: usize,
    /// The approvals page filtered to them.
    pub href: String,
}

/// An open round past its deadline with cells missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LateRound {
    pub round: Round,
    pub days_late: i32,
    /// (area, department) forms not fully submitted.
    pub forms_behind: usize,
    pub cells_missing: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannerHome {
    pub waiting_total: usize,
    pub waiting: Vec<Waiting>,
    pub late: Vec<LateRound>,
    pub open_alerts: usize,
    /// Open alerts, newest first (at most 8).
    pub alerts: Vec<Alert>,
    /// Alerts raised since the last visit.
    pub new_alerts: usize,
}

/// What changed in the caller's scope since the last visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    /// The previous visit (UTC); `None` on the first.
    pub since: Option<String>,
    pub submitted: usize,
    pub approved: usize,
    pub returned: usize,
    pub plans_changed: usize,
    pub new_alerts: usize,
    /// Whether the count stopped at the read limit.
    pub more: bool,
}

/// Audit rows read for "what changed" at most; an office away for a month sees "more".
const CHANGE_WINDOW: i64 = 5_000;

fn days_between(from: Date, to: Date) -> i32 {
    (to.civil() - from.civil()).get_days()
}

impl App {
    /// Records this visit and says what changed in the caller's scope since the previous
    /// one (nothing is counted on a first visit).
    pub async fn home_changes(&self, caps: &Caps) -> Result<Changes> {
        let Some(me) = caps.self_service() else {
            return Ok(Changes::default());
        };
        let Some(HomeVisit { audit_id, at }) = self.store().visit_home(&me).await? else {
            return Ok(Changes::default());
        };
        let scope = caps.reader();
        let entries = self
            .store()
            .audit_log(&AuditFilter {
                after_id: Some(audit_id),
                limit: Some(CHANGE_WINDOW),
                ..Default::default()
            })
            .await?;
        let mut out = Changes {
            since: Some(at.clone()),
            more: entries.len() as i64 >= CHANGE_WINDOW,
            ..Default::default()
        };
        let plans: Vec<i64> = self
            .store()
            .list_plans(&scope)
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        for e in &entries {
            match e.entity.as_str() {
                "data_value" => {
                    // element/area/period; a value outside the scope is not counted.
                    let area = e
                        .entity_key
                        .split('/')
                        .nth(1)
                        .and_then(|a| AreaCode::parse(a).ok());
                    if !area.is_some_and(|a| scope.area(&a)) {
                        continue;
                    }
                    let status = e
                        .after
                        .as_ref()
                        .and_then(|a| a.get("status"))
                        .and_then(|s| s.as_str());
                    match status {
                        Some("submitted") => out.submitted += 1,
                        Some("approved") => out.approved += 1,
                        Some("returned") => out.returned += 1,
                        _ => {}
                    }
                }
                "plan"
                    if e.entity_key
                        .parse::<i64>()
                        .is_ok_and(|id| plans.contains(&id)) =>
                {
                    out.plans_changed += 1;
                }
                _ => {}
            }
        }
        out.new_alerts = self
            .store()
            .list_alerts(
                &scope,
                &AlertFilter {
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await?
            .iter()
            .filter(|a| a.created_at > at)
            .count();
        Ok(out)
    }

    /// KPI tiles per readable plan as of `as_of`, and the worst-lagging indicators.
    pub async fn leader_home(&self, caps: &Caps, as_of: i32) -> Result<LeaderHome> {
        let scope = caps.reader();
        let settings = Settings::default();
        let mut plans = Vec::new();
        let mut lagging = Vec::new();
        for p in self.store().list_plans(&scope).await? {
            let run = self.evaluate_plan(&scope, p.id, as_of, &settings).await?;
            let mut kpi = PlanKpi {
                plan_id: p.id,
                title: p.title.clone(),
                area: p.area.clone(),
                as_of,
                achieved: 0,
                on_track: 0,
                lagging: 0,
                missed: 0,
                no_data: 0,
                by_status: BTreeMap::new(),
            };
            let own = &run.evaluation.plan_area;
            for r in run.evaluation.results.iter().filter(|r| &r.area == own) {
                *kpi.by_status.entry(r.status.key()).or_default() += 1;
                match r.status {
                    Status::Achieved => kpi.achieved += 1,
                    Status::OnTrack => kpi.on_track += 1,
                    Status::Moderate | Status::Insufficient | Status::MovingAway => {
                        kpi.lagging += 1
                    }
                    Status::Missed => kpi.missed += 1,
                    Status::NoData | Status::NotAssessable => kpi.no_data += 1,
                }
                if matches!(
                    r.status,
                    Status::Moderate | Status::Insufficient | Status::MovingAway | Status::Missed
                ) {
                    let head = r.headline();
                    lagging.push((
                        severity(r.status),
                        !r.binding,
                        Lagging {
                            plan_id: p.id,
                            plan: p.title.clone(),
                            index: r.indicator,
                            name: r.name.clone(),
                            unit: r.unit.clone(),
                            status: r.status.key(),
                            latest: r.observations.last().map(|o| o.value),
                            latest_year: r.observations.last().map(|o| o.year),
                            target: head.map(|t| t.text.clone()),
                            target_year: head.map(|t| t.year),
                            binding: r.binding,
                        },
                    ));
                }
            }
            plans.push(kpi);
        }
        lagging.sort_by_key(|a| (a.0, a.1));
        Ok(LeaderHome {
            as_of,
            plans,
            lagging: lagging.into_iter().take(10).map(|(_, _, l)| l).collect(),
        })
    }

    /// The reporter's open rounds with what is left to enter, and the values returned to it.
    pub async fn reporter_home(&self, caps: &Caps, today: Date) -> Result<ReporterHome> {
        let scope = caps.reader();
        let store = self.store();
        let titles: BTreeMap<i64, String> = store
            .list_plans(&scope)
            .await?
            .into_iter()
            .map(|p| (p.id, p.title))
            .collect();
        let mut due = Vec::new();
        let mut returned = Vec::new();
        for r in store
            .list_rounds(&scope)
            .await?
            .into_iter()
            .filter(|r| r.open)
        {
            let (_, rows) = self.round_form(caps, r.id).await?;
            if rows.is_empty() {
                continue;
            }
            let count = |s: ValueStatus| {
                rows.iter()
                    .filter(|x| x.current.as_ref().is_some_and(|v| v.status == s))
                    .count()
            };
            let empty = rows.iter().filter(|x| x.current.is_none()).count();
            let (draft, submitted, back, approved) = (
                count(ValueStatus::Draft),
                count(ValueStatus::Submitted),
                count(ValueStatus::Returned),
                count(ValueStatus::Approved),
            );
            for (i, row) in rows.iter().enumerate() {
                if let Some(v) = row
                    .current
                    .as_ref()
                    .filter(|v| v.status == ValueStatus::Returned)
                {
                    returned.push(ReturnedItem {
                        round_id: r.id,
                        round: r.title.clone(),
                        name: row.name.clone(),
                        area: row.area.clone(),
                        area_name: row.area_name.clone(),
                        period: v.period,
                        value: shown(v, row.factor),
                        comment: v.review_comment.clone(),
                        href: format!("/rounds/{}#row-{i}", r.id),
                    });
                }
            }
            let plan = titles.get(&r.plan_id).cloned().unwrap_or_default();
            due.push(DueRound {
                show_plan: !r.title.contains(&plan),
                plan,
                days_left: days_between(today, r.deadline),
                cells: rows.len(),
                empty,
                draft,
                submitted,
                returned: back,
                approved,
                left: empty + draft + back,
                round: r,
            });
        }
        // Most urgent first.
        due.sort_by_key(|d| (d.left == 0, d.days_left));
        Ok(ReporterHome { due, returned })
    }

    /// The planner's review queue by area and period, late rounds and open alerts.
    pub async fn planner_home(&self, caps: &Caps, today: Date) -> Result<PlannerHome> {
        let scope = caps.reader();
        let store = self.store();
        let policy = self.policy();
        let mut waiting: BTreeMap<(AreaCode, Period), usize> = BTreeMap::new();
        if caps.reviewer().is_some() {
            for v in store
                .list_data_values(
                    &scope,
                    &DataValueFilter {
                        status: Some(ValueStatus::Submitted),
                        ..Default::default()
                    },
                )
                .await?
                .into_iter()
                .filter(|v| !v.synthetic)
            {
                *waiting.entry((v.area, v.period)).or_default() += 1;
            }
        }
        let waiting_total = waiting.values().sum();
        let mut waiting: Vec<Waiting> = waiting
            .into_iter()
            .map(|((area, period), count)| Waiting {
                area_name: policy.areas().name(&area).unwrap_or_default().to_string(),
                href: format!("/approvals?area={area}&period={period}"),
                area,
                period,
                count,
            })
            .collect();
        waiting.sort_by_key(|w| std::cmp::Reverse(w.count));
        waiting.truncate(12);
        let mut late = Vec::new();
        for r in store
            .list_rounds(&scope)
            .await?
            .into_iter()
            .filter(|r| r.open)
        {
            if r.deadline >= today {
                continue;
            }
            let (round, rows) = self.round_overview(caps, r.id, today).await?;
            let behind: Vec<_> = rows
                .iter()
                .filter(|x| x.missing + x.draft + x.returned > 0)
                .collect();
            if behind.is_empty() {
                continue;
            }
            late.push(LateRound {
                days_late: days_between(round.deadline, today),
                forms_behind: behind.len(),
                cells_missing: behind
                    .iter()
                    .map(|x| x.missing + x.draft + x.returned)
                    .sum(),
                round,
            });
        }
        let open = store
            .list_alerts(
                &scope,
                &AlertFilter {
                    status: Some(AlertStatus::Open),
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await?;
        Ok(PlannerHome {
            waiting_total,
            waiting,
            late,
            open_alerts: open.len(),
            new_alerts: 0,
            alerts: open.into_iter().take(8).collect(),
        })
    }
}

/// Worst first.
fn severity(s: Status) -> u8 {
    match s {
        Status::Missed => 0,
        Status::MovingAway => 1,
        Status::Insufficient => 2,
        _ => 3,
    }
}
