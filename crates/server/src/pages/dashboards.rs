//! What leaders read: the area dashboard (indicators × sub-areas by status), the indicator
//! page (chart, sub-area bars, every method, the value history), the department page, the
//! assessment ranking and the alignment of a child plan with its parent.

use super::plans::{latest_progress, task_view, AsOfQuery};
use super::{is_htmx, render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use healthplan_app::eval::IndicatorResult;
use healthplan_app::store::{AuditFilter, DataValueFilter};
use healthplan_app::EvaluationRun;
use healthplan_core::AreaCode;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/plans/{id}/dashboard", get(dashboard))
        .route("/plans/{id}/indicators/{index}", get(indicator))
        .route("/plans/{id}/departments", get(departments))
        .route("/plans/{id}/assessment", get(assessment))
        .route("/plans/{id}/alignment", get(alignment))
}

async fn evaluate(
    state: &AppState,
    auth: &Auth,
    id: i64,
    as_of: i32,
) -> Result<EvaluationRun, ApiError> {
    let scope = auth.signed_in()?.reader();
    Ok(state
        .app
        .evaluate_plan(&scope, id, as_of, &state.config.settings)
        .await?)
}

/// The area a page looks at: the one asked for when the plan covers it, else the plan's own.
fn chosen_area(run: &EvaluationRun, asked: Option<&str>) -> Option<(AreaCode, String)> {
    let asked = asked.and_then(|a| AreaCode::parse(a).ok());
    let code = asked
        .filter(|a| run.scope.name(a).is_some())
        .or_else(|| {
            run.scope
                .root
                .clone()
                .filter(|r| run.scope.name(r).is_some())
        })
        .or_else(|| run.scope.areas.values().next().cloned())?;
    let name = run.scope.name(&code)?.to_string();
    Some((code, name))
}

fn result<'a>(run: &'a EvaluationRun, i: usize, area: &str) -> Option<&'a IndicatorResult> {
    run.evaluation
        .results
        .iter()
        .find(|r| r.indicator == i && r.area == area)
}

/// The children of `area` the evaluation covers, in code order.
fn children(state: &AppState, run: &EvaluationRun, area: &AreaCode) -> Vec<(AreaCode, String)> {
    let policy = state.app.policy();
    run.scope
        .areas
        .iter()
        .filter(|(_, c)| policy.areas().ancestors(c).first() == Some(area))
        .map(|(n, c)| (c.clone(), n.clone()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect()
}

/// The path from the plan's area down to `area`, for breadcrumbs.
fn trail(state: &AppState, run: &EvaluationRun, area: &AreaCode) -> Vec<Json> {
    let policy = state.app.policy();
    let mut chain: Vec<AreaCode> = policy.areas().ancestors(area);
    chain.reverse();
    chain.push(area.clone());
    chain
        .into_iter()
        .filter_map(|c| run.scope.name(&c).map(|n| json!({"code": c, "name": n})))
        .collect()
}

async fn dashboard_page(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    id: i64,
    q: AsOfQuery,
) -> PageResult {
    let as_of = q.year(state.app.clock());
    let run = evaluate(state, auth, id, as_of).await?;
    let Some((area, area_name)) = chosen_area(&run, q.area.as_deref()) else {
        return Err(ApiError::not_found("可查看的地区", "a readable area").into());
    };
    let mut columns = vec![(area.clone(), area_name.clone())];
    columns.extend(children(state, &run, &area));
    let rows: Vec<Json> = run
        .plan
        .indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| {
            json!({
                "index": i,
                "name": ind.name,
                "unit": ind.unit,
                "binding": ind.property == Some(healthplan_core::Property::Binding),
                "cells": columns.iter().map(|(c, n)| {
                    let r = result(&run, i, n);
                    json!({"area": c, "status": r.map(|r| r.status.key()).unwrap_or("no_data"),
                           "latest": r.and_then(|r| r.observations.last())})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let rollup = run
        .evaluation
        .rollups
        .areas
        .iter()
        .find(|a| a.area == area_name)
        .map(|a| &a.total);
    let binding: Vec<Json> = run
        .evaluation
        .results
        .iter()
        .filter(|r| r.binding && r.area == area_name)
        .map(|r| json!({"index": r.indicator, "name": r.name, "status": r.status.key()}))
        .collect();
    let ctx = json!({
        "plan": run.summary,
        "as_of": as_of,
        "area": {"code": area, "name": area_name},
        "trail": trail(state, &run, &area),
        "columns": columns.iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
        "rows": rows,
        "rollup": rollup,
        "binding": binding,
        "synthetic": run.synthetic,
        "statuses": ["achieved", "on_track", "moderate", "insufficient", "moving_away", "no_data", "not_assessable"],
    });
    let template = if is_htmx(headers) {
        "dashboard_partial.html"
    } else {
        "dashboard.html"
    };
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}/dashboard"),
        Page::new(template, ctx),
    ))
}

async fn dashboard(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let path = format!("/plans/{id}/dashboard");
    page_result!(
        state,
        auth,
        &path,
        dashboard_page(&state, &auth, &headers, id, q).await
    )
}

/// What the indicator chart draws, as JSON for the page's script.
fn chart(r: &IndicatorResult, unit: Option<&str>) -> Json {
    let head = r.headline();
    let targets: Vec<Json> = r
        .targets
        .iter()
        .filter_map(|t| {
            t.goal
                .map(|g| json!({"year": t.year, "goal": g, "text": t.text}))
        })
        .collect();
    let trajectory = head.and_then(|h| {
        let b = h.baseline?;
        let g = h.goal?;
        Some(json!([[b.year, b.value], [h.year, g]]))
    });
    json!({
        "name": r.name,
        "unit": unit,
        "observations": r.observations.iter().map(|p| json!([p.year, p.value])).collect::<Vec<_>>(),
        "baseline": head.and_then(|h| h.baseline).map(|b| json!({"year": b.year, "value": b.value})),
        "targets": targets,
        "trajectory": trajectory,
        "forecast": head.and_then(|h| h.forecast.as_ref()).map(|f| json!({
            "year": f.year, "value": f.value, "lower": f.lower, "upper": f.upper,
            "from": r.observations.last().map(|p| json!([p.year, p.value])),
        })),
    })
}

async fn indicator_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    index: usize,
    q: AsOfQuery,
) -> PageResult {
    let as_of = q.year(state.app.clock());
    let run = evaluate(state, auth, id, as_of).await?;
    let ind = run
        .plan
        .indicators
        .get(index)
        .ok_or_else(|| ApiError::not_found("指标", "indicator"))?;
    let Some((area, area_name)) = chosen_area(&run, q.area.as_deref()) else {
        return Err(ApiError::not_found("可查看的地区", "a readable area").into());
    };
    let r = result(&run, index, &area_name);
    let bars: Vec<Json> = children(state, &run, &area)
        .into_iter()
        .filter_map(|(c, n)| {
            let r = result(&run, index, &n)?;
            let last = r.observations.last()?;
            Some(json!({"code": c, "name": n, "value": last.value, "year": last.year, "status": r.status.key()}))
        })
        .collect();
    // The stored values of this area, newest first, each with its audit trail.
    let mut history = Vec::new();
    let mut actors: Vec<String> = Vec::new();
    if let Some(element) = &ind.element {
        let scope = auth.caps.reader();
        let mut records = state
            .app
            .store()
            .data_value_records(
                &scope,
                &DataValueFilter {
                    element: Some(element.clone()),
                    area: Some(area.clone()),
                    ..Default::default()
                },
            )
            .await?;
        records.sort_by_key(|r| std::cmp::Reverse(r.value.period));
        for rec in records.into_iter().take(12) {
            let audit = state
                .app
                .store()
                .audit_log(&AuditFilter {
                    entity: Some("data_value".into()),
                    entity_key: Some(healthplan_app::store::ValueKey::of(&rec.value).to_string()),
                    ..Default::default()
                })
                .await?;
            actors.push(rec.updated_by.clone());
            actors.extend(rec.reviewed_by.clone());
            actors.extend(audit.iter().map(|a| a.actor.clone()));
            history.push(json!({"record": rec, "audit": audit}));
        }
    }
    // Who did it, by name (`cli:…` as a command-line import).
    let known = super::people(state, &actors).await;
    let people: std::collections::BTreeMap<&str, String> = actors
        .iter()
        .map(|a| (a.as_str(), super::person(a, &known, auth.lang)))
        .collect();
    let ctx = json!({
        "plan": run.summary,
        "as_of": as_of,
        "index": index,
        "indicator": {"name": ind.name, "unit": ind.unit, "lead": ind.lead_department(), "element": ind.element,
                       "property": ind.property, "direction": ind.direction,
                       "baseline": ind.baseline, "targets": ind.targets.iter().map(|t| json!({"year": t.year, "text": t.text})).collect::<Vec<_>>()},
        "area": {"code": area, "name": area_name},
        "trail": trail(state, &run, &area),
        "result": r,
        "chart": r.map(|r| chart(r, ind.unit.as_deref())),
        "bars": bars,
        "history": history,
        "people": people,
        "synthetic": run.synthetic,
    });
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}/indicators/{index}"),
        Page::new("indicator.html", ctx),
    ))
}

async fn indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let path = format!("/plans/{id}/indicators/{index}");
    page_result!(
        state,
        auth,
        &path,
        indicator_page(&state, &auth, id, index, q).await
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct DepartmentQuery {
    name: Option<String>,
    as_of: Option<i32>,
}

async fn departments_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    q: DepartmentQuery,
) -> PageResult {
    let as_of = AsOfQuery {
        as_of: q.as_of,
        area: None,
    }
    .year(state.app.clock());
    let run = evaluate(state, auth, id, as_of).await?;
    let policy = state.app.policy();
    let key = |n: &str| policy.department_key(n);
    // Every department the plan names, as lead or partner.
    let mut all: BTreeSet<String> = BTreeSet::new();
    for t in &run.plan.tasks {
        if let Some(r) = &t.responsible {
            all.extend(r.units.iter().cloned());
        }
    }
    for ind in &run.plan.indicators {
        if let Some(l) = ind.lead_department() {
            all.insert(l.to_string());
        }
    }
    let selected = q.name.filter(|n| all.contains(n));
    let mut detail = Json::Null;
    if let Some(name) = &selected {
        let k = key(name);
        let progress = state
            .app
            .store()
            .list_task_progress(&auth.caps.reader(), id)
            .await?;
        let latest = latest_progress(&progress, run.scope.root.as_ref());
        let mut lead = Vec::new();
        let mut partner = Vec::new();
        for t in &run.plan.tasks {
            let Some(r) = &t.responsible else { continue };
            let view = task_view(t, latest.get(&t.id).copied());
            if r.lead.as_deref().is_some_and(|l| key(l) == k) {
                lead.push(view);
            } else if r.units.iter().any(|u| key(u) == k) {
                partner.push(view);
            }
        }
        let area_name = run.evaluation.plan_area.clone();
        let indicators: Vec<Json> = run
            .plan
            .indicators
            .iter()
            .enumerate()
            .filter(|(_, i)| i.lead_department().is_some_and(|l| key(l) == k))
            .map(|(i, ind)| {
                let r = result(&run, i, &area_name);
                json!({"index": i, "name": ind.name, "status": r.map(|r| r.status.key()).unwrap_or("no_data"),
                       "latest": r.and_then(|r| r.observations.last())})
            })
            .collect();
        detail = json!({"name": name, "lead": lead, "partner": partner, "indicators": indicators});
    }
    let ctx = json!({
        "plan": run.summary,
        "as_of": as_of,
        "departments": all,
        "selected": selected,
        "detail": detail,
        "synthetic": run.synthetic,
    });
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}/departments"),
        Page::new("department.html", ctx),
    ))
}

async fn departments(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<DepartmentQuery>,
) -> Response {
    let path = format!("/plans/{id}/departments");
    page_result!(
        state,
        auth,
        &path,
        departments_page(&state, &auth, id, q).await
    )
}

async fn assessment(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let path = format!("/plans/{id}/assessment");
    let done: PageResult = async {
        let as_of = q.year(state.app.clock());
        let run = evaluate(&state, &auth, id, as_of).await?;
        let a = run.assess();
        Ok(render(
            &state,
            &auth,
            &path,
            Page::new(
                "assessment.html",
                json!({"plan": run.summary, "as_of": as_of, "assessment": a, "synthetic": run.synthetic}),
            ),
        ))
    }
    .await;
    page_result!(state, auth, &path, done)
}

#[derive(Debug, Deserialize, Default)]
pub struct AlignQuery {
    parent: Option<i64>,
}

async fn alignment(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<AlignQuery>,
) -> Response {
    let path = format!("/plans/{id}/alignment");
    let done: PageResult = async {
        let scope = auth.signed_in()?.reader();
        let store = state.app.store();
        let summary = store.plan_summary(&scope, id).await?;
        let policy = state.app.policy();
        // Candidate parents: readable plans of an area above this plan's.
        let above: Vec<AreaCode> = summary
            .area_code
            .as_ref()
            .map(|a| policy.areas().ancestors(a))
            .unwrap_or_default();
        let parents: Vec<healthplan_app::store::PlanSummary> = store
            .list_plans(&scope)
            .await?
            .into_iter()
            .filter(|p| p.id != id && p.area_code.as_ref().is_some_and(|a| above.contains(a)))
            .collect();
        let parent = q.parent.or_else(|| parents.first().map(|p| p.id));
        let report = state
            .app
            .align_plans(&scope, id, parent, &state.config.settings)
            .await?;
        Ok(render(
            &state,
            &auth,
            &path,
            Page::new(
                "alignment.html",
                json!({"plan": summary, "parents": parents, "parent": parent, "report": report}),
            ),
        ))
    }
    .await;
    page_result!(state, auth, &path, done)
}
