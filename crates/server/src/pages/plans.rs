//! The plans list and a plan's page (sections with tasks and their latest
//! progress, the indicator table with a status chip per indicator).

use super::{is_htmx, render, Page, PageResult};
use crate::auth::Auth;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use healthplan_app::EvaluationRun;
use healthplan_core::{PlanDocument, Section, TaskProgress};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/plans", get(plans))
        .route("/plans/{id}", get(plan))
}
#[derive(Debug, Deserialize, Default)]
pub struct AsOfQuery {
    pub as_of: Option<i32>,
    pub area: Option<String>,
}

impl AsOfQuery {
    pub fn year(&self, clock: &healthplan_app::clock::Clock) -> i32 {
        self.as_of
            .filter(|&y| healthplan_core::Period::plausible_year(y))
            .unwrap_or_else(|| clock.last_full_year())
    }
}

async fn plans(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let done: PageResult = async {
        let caps = auth.signed_in()?;
        let plans = state.app.store().list_plans(&caps.reader()).await?;
        Ok(render(
            &state,
            &auth,
            "/plans",
            Page::new(
                "plans.html",
                json!({"plans": plans, "can_import": caps.plan_editor().is_some()}),
            ),
        ))
    }
    .await;
    page_result!(state, auth, "/plans", done)
}

/// A section with its tasks, for the tree.
#[derive(Serialize)]
struct SectionView {
    label: String,
    title: String,
    tasks: Vec<serde_json::Value>,
    children: Vec<SectionView>,
}

fn sections(
    list: &[Section],
    doc: &PlanDocument,
    progress: &BTreeMap<String, &TaskProgress>,
) -> Vec<SectionView> {
    list.iter()
        .map(|s| SectionView {
            label: s.label.clone(),
            title: s.title.clone(),
            tasks: s
                .tasks
                .iter()
                .filter_map(|id| doc.tasks.iter().find(|t| &t.id == id))
                .map(|t| task_view(t, progress.get(&t.id).copied()))
                .collect(),
            children: sections(&s.children, doc, progress),
        })
        .collect()
}

pub fn task_view(t: &healthplan_core::Task, latest: Option<&TaskProgress>) -> serde_json::Value {
    let r = t.responsible.as_ref();
    json!({
        "id": t.id,
        "text": t.text,
        "lead": r.and_then(|r| r.lead.clone()),
        "partners": r.map(|r| r.units.iter().skip(1).cloned().collect::<Vec<_>>()).unwrap_or_default(),
        "each": r.is_some_and(|r| r.mode == healthplan_core::ResponsibilityMode::EachResponsible),
        "progress": latest,
    })
}

/// The latest progress report of each task in the plan's own area (or any area).
pub fn latest_progress<'a>(
    progress: &'a [TaskProgress],
    area: Option<&healthplan_core::AreaCode>,
) -> BTreeMap<String, &'a TaskProgress> {
    let mut out: BTreeMap<String, &TaskProgress> = BTreeMap::new();
    for p in progress {
        if area.is_some_and(|a| &p.area != a) {
            continue;
        }
        let newer = out.get(&p.task_id).is_none_or(|q| q.period < p.period);
        if newer {
            out.insert(p.task_id.clone(), p);
        }
    }
    out
}

/// The headline status of each indicator in one area, from an evaluation.
pub fn statuses(run: &EvaluationRun, area_name: &str) -> BTreeMap<usize, serde_json::Value> {
    run.evaluation
        .results
        .iter()
        .filter(|r| r.area == area_name)
        .map(|r| {
            (
                r.indicator,
                // The baseline the evaluation used (the document's, else the data's), as the
                // report prints it.
                json!({"status": r.status.key(), "summary": r.summary_zh, "summary_en": r.summary_en,
                       "latest": r.observations.last(),
                       "baseline": r.headline().and_then(|h| h.baseline)}),
            )
        })
        .collect()
}

async fn plan_page(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    id: i64,
    q: AsOfQuery,
) -> PageResult {
    let caps = auth.signed_in()?;
    let scope = caps.reader();
    let store = state.app.store();
    let summary = store.plan_summary(&scope, id).await?;
    let doc = store.plan(&scope, id).await?;
    let progress = store.list_task_progress(&scope, id).await?;
    let latest = latest_progress(&progress, summary.area_code.as_ref());
    let as_of = q.year(state.app.clock());
    let run = state
        .app
        .evaluate_plan(&scope, id, as_of, &state.config.settings)
        .await?;
    let area_name = run.evaluation.plan_area.clone();
    let st = statuses(&run, &area_name);
    let indicators: Vec<serde_json::Value> = doc
        .indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| {
            json!({
                "index": i,
                "name": ind.name,
                "unit": ind.unit,
                "baseline": ind.baseline,
                "targets": ind.targets.iter().map(|t| json!({"year": t.year, "text": t.text})).collect::<Vec<_>>(),
                "property": ind.property,
                "lead": ind.lead_department(),
                "element": ind.element,
                "domain": ind.domain,
                "eval": st.get(&i),
            })
        })
        .collect();
    // Tasks outside any section still show.
    let listed: std::collections::HashSet<&str> = {
        fn walk<'a>(s: &'a [Section], out: &mut std::collections::HashSet<&'a str>) {
            for x in s {
                out.extend(x.tasks.iter().map(String::as_str));
                walk(&x.children, out);
            }
        }
        let mut out = std::collections::HashSet::new();
        walk(&doc.sections, &mut out);
        out
    };
    let loose: Vec<serde_json::Value> = doc
        .tasks
        .iter()
        .filter(|t| !listed.contains(t.id.as_str()))
        .map(|t| task_view(t, latest.get(&t.id).copied()))
        .collect();
    let ctx = json!({
        "plan": summary,
        "doc": {"title": doc.title, "area": doc.area, "kind": doc.kind, "period": doc.period},
        "sections": sections(&doc.sections, &doc, &latest),
        "loose_tasks": loose,
        "indicators": indicators,
        "as_of": as_of,
        "synthetic": run.synthetic,
        "rollup": run.evaluation.rollups.areas.iter().find(|a| a.area == area_name).map(|a| &a.total),
        "can_edit": caps.plan_editor().is_some_and(|e| e.check_optional_area(summary.area_code.as_ref()).is_ok()),
        "tab": if headers.get("hx-target").is_some() { "" } else { "all" },
    });
    let template = if is_htmx(headers) {
        "plan_partial.html"
    } else {
        "plan.html"
    };
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}"),
        Page::new(template, ctx),
    ))
}

async fn plan(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let path = format!("/plans/{id}");
    page_result!(
        state,
        auth,
        &path,
        plan_page(&state, &auth, &headers, id, q).await
    )
}
