//! Importing a plan document and reviewing what was extracted: the source text beside the
//! items, the selected item's span highlighted, doubtful items first; a planner corrects,
//! adds and removes items (each edit audited by the store), then confirms and publishes.

use super::{fragment_error, is_htmx, render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use healthplan_core::{
    AppliesTo, Baseline, Direction, Indicator, PlanDocument, PlanStatus, Property, Responsibility,
    ResponsibilityMode, Span,
};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/plans/import", post(import))
        .route("/plans/{id}/review", axum::routing::get(review))
        .route("/plans/{id}/review/indicators", post(add_indicator))
        .route(
            "/plans/{id}/review/indicators/{index}",
            post(edit_indicator),
        )
        .route(
            "/plans/{id}/review/indicators/{index}/delete",
            post(delete_indicator),
        )
        .route("/plans/{id}/review/tasks/{task}", post(edit_task))
        .route("/plans/{id}/review/tasks/{task}/delete", post(delete_task))
        .route("/plans/{id}/review/status", post(set_status))
}

fn editor(auth: &Auth) -> Result<healthplan_access::PlanEditor, ApiError> {
    auth.signed_in()?
        .plan_editor()
        .ok_or_else(|| ApiError::no_right("编辑规划", "edit plans"))
}

async fn import(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let caps = auth.signed_in()?;
        let (name, bytes) = super::upload::file_field(&mut form, "file").await?;
        let id = state.app.import_plan(caps, &name, bytes).await?.id;
        let to = format!("/plans/{id}/review");
        if is_htmx(&headers) {
            let mut r = Html(String::new()).into_response();
            r.headers_mut().insert(
                "hx-redirect",
                to.parse().map_err(|_| ApiError::bad_request("", ""))?,
            );
            Ok(r)
        } else {
            Ok(Redirect::to(&to).into_response())
        }
    }
    .await;
    done.unwrap_or_else(|e| fragment_error(&auth, &e))
}

/// Why an extracted item deserves a second look, most serious first.
fn indicator_doubts(ind: &Indicator) -> Vec<&'static str> {
    let mut d = Vec::new();
    if ind.targets.is_empty() {
        d.push("review.doubt.no_target");
    }
    if ind.unit.as_deref().is_none_or(|u| u.trim().is_empty()) {
        d.push("review.doubt.no_unit");
    }
    if ind.baseline.as_ref().and_then(|b| b.value).is_none() {
        d.push("review.doubt.no_baseline");
    }
    if ind.lead_department().is_none() {
        d.push("review.doubt.no_lead");
    }
    d
}

/// What the importer itself doubted, as shown beside the item.
fn imported_doubts(d: &[healthplan_core::Doubt]) -> Vec<Json> {
    d.iter()
        .map(|x| json!({"code": x.code, "detail": x.detail}))
        .collect()
}

fn indicator_item(i: usize, ind: &Indicator, elements: &BTreeMap<String, String>) -> Json {
    let doubts = indicator_doubts(ind);
    let imported = imported_doubts(&ind.doubts);
    json!({
        "kind": "indicator",
        "index": i,
        "name": ind.name,
        "unit": ind.unit,
        "direction": ind.direction,
        "property": ind.property,
        "baseline_value": ind.baseline.as_ref().and_then(|b| b.value),
        "baseline_year": ind.baseline.as_ref().and_then(|b| b.year),
        "targets": ind.targets.iter().map(|t| format!("{}: {}", t.year, t.text)).collect::<Vec<_>>().join("\n"),
        "lead": ind.lead_department(),
        "applies_to": ind.applies_to.map(AppliesTo::key),
        "applies_to_default": ind.default_applies_to().key(),
        "element": ind.element,
        "element_name": ind.element.as_ref().and_then(|e| elements.get(e)),
        "span": [ind.span.start, ind.span.end],
        "doubt_count": doubts.len() + imported.len(),
        "doubts": doubts,
        "imported_doubts": imported,
    })
}

async fn review_page(state: &AppState, auth: &Auth, id: i64, notice: Option<String>) -> PageResult {
    review_page_with(state, auth, id, notice, None).await
}

/// The review page, asking to confirm publication as of `confirm_publish` when given.
async fn review_page_with(
    state: &AppState,
    auth: &Auth,
    id: i64,
    notice: Option<String>,
    confirm_publish: Option<i32>,
) -> PageResult {
    let editor = editor(auth)?;
    let caps = &auth.caps;
    let scope = caps.reader();
    let store = state.app.store();
    let summary = store.plan_summary(&scope, id).await?;
    editor.check_optional_area(summary.area_code.as_ref())?;
    let doc = store.plan(&scope, id).await?;
    let source = store.plan_source_text(&scope, id).await?;
    let elements: BTreeMap<String, String> = store
        .list_data_elements()
        .await?
        .into_iter()
        .map(|e| {
            (
                e.code,
                format!(
                    "{}{}",
                    e.name,
                    e.unit.map(|u| format!("（{u}）")).unwrap_or_default()
                ),
            )
        })
        .collect();
    let mut indicators: Vec<Json> = doc
        .indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| indicator_item(i, ind, &elements))
        .collect();
    // Doubtful items first, the most doubtful at the top; the rest in document order.
    indicators.sort_by_key(|x| std::cmp::Reverse(x["doubt_count"].as_u64().unwrap_or(0)));
    let mut tasks: Vec<Json> = doc
        .tasks
        .iter()
        .map(|t| {
            let doubts: Vec<&str> = if t.responsible.is_none() { vec!["review.doubt.no_units"] } else { vec![] };
            let imported = imported_doubts(&t.doubts);
            json!({
                "id": t.id, "text": t.text, "span": [t.span.start, t.span.end],
                "doubt_count": doubts.len() + imported.len(),
                "imported_doubts": imported,
                "units": t.responsible.as_ref().map(|r| r.units.join("、")).unwrap_or_default(),
                "each": t.responsible.as_ref().is_some_and(|r| r.mode == ResponsibilityMode::EachResponsible),
                "doubts": doubts,
            })
        })
        .collect();
    tasks.sort_by_key(|x| std::cmp::Reverse(x["doubt_count"].as_u64().unwrap_or(0)));
    let statements: Vec<Json> = doc
        .target_statements
        .iter()
        .map(|s| json!({"sentence": s.sentence, "year": s.year, "subject": s.subject, "indicator": s.indicator,
                        "span": [s.span.start, s.span.end], "imported_doubts": imported_doubts(&s.doubts)}))
        .collect();
    let ctx = json!({
        "plan": summary,
        "source": source,
        "indicators": indicators,
        "tasks": tasks,
        "statements": statements,
        "elements": elements,
        "notice": notice,
        "confirm_publish": confirm_publish,
        "as_of": confirm_publish.unwrap_or_else(|| state.app.clock().last_full_year()),
        "doubtful": indicators.iter().chain(tasks.iter()).filter(|x| x["doubt_count"].as_u64().unwrap_or(0) > 0).count(),
        "document_doubts": imported_doubts(&doc.doubts),
    });
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}/review"),
        Page::new("review.html", ctx),
    ))
}

async fn review(State(state): State<Arc<AppState>>, auth: Auth, Path(id): Path<i64>) -> Response {
    let path = format!("/plans/{id}/review");
    page_result!(
        state,
        auth,
        &path,
        review_page(&state, &auth, id, None).await
    )
}

#[derive(Debug, Deserialize)]
pub struct IndicatorForm {
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    property: String,
    #[serde(default)]
    baseline_value: String,
    #[serde(default)]
    baseline_year: String,
    /// One target per line: `2025: ≥90`.
    #[serde(default)]
    targets: String,
    #[serde(default)]
    lead: String,
    /// `plan_area`, `all_levels`, or empty for the default by unit and wording.
    #[serde(default)]
    applies_to: String,
    #[serde(default)]
    element: String,
}

fn invalid(field: &str, zh: String, en: String) -> ApiError {
    ApiError::invalid(field, zh, en)
}

/// Applies the form to an indicator; every field is checked and the error names it.
fn apply(ind: &mut Indicator, f: &IndicatorForm) -> Result<(), ApiError> {
    let name = f.name.trim();
    if name.is_empty() {
        return Err(invalid(
            "name",
            "指标名称不能为空".into(),
            "the name is empty".into(),
        ));
    }
    ind.name = name.to_string();
    ind.unit = Some(f.unit.trim().to_string()).filter(|u| !u.is_empty());
    ind.direction = match f.direction.as_str() {
        "lower" => Direction::Lower,
        "qualitative" => Direction::Qualitative,
        "higher" => Direction::Higher,
        _ => ind.direction,
    };
    ind.property = match f.property.as_str() {
        "binding" => Some(Property::Binding),
        "expected" => Some(Property::Expected),
        "advocacy" => Some(Property::Advocacy),
        _ => None,
    };
    let value = match f.baseline_value.trim() {
        "" => None,
        v => Some(
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    invalid(
                        "baseline_value",
                        format!("基线值“{v}”不是数字"),
                        format!("baseline {v:?} is not a number"),
                    )
                })?,
        ),
    };
    let year = match f.baseline_year.trim() {
        "" => None,
        y => Some(
            y.parse::<i32>()
                .ok()
                .filter(|&y| healthplan_core::Period::plausible_year(y))
                .ok_or_else(|| {
                    invalid(
                        "baseline_year",
                        format!("基线年份“{y}”无效"),
                        format!("baseline year {y:?} is not a year"),
                    )
                })?,
        ),
    };
    ind.baseline = match (value, year) {
        (None, None) => None,
        (value, year) => Some(Baseline {
            value,
            year,
            text: value.map(super::num).unwrap_or_default(),
        }),
    };
    let mut targets = Vec::new();
    for (n, line) in f
        .targets
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (y, text) = line.split_once([':', '：']).ok_or_else(|| {
            invalid(
                "targets",
                format!("第{}行应写作“年份: 目标”", n + 1),
                format!("line {} must read `year: target`", n + 1),
            )
        })?;
        let year: i32 = y
            .trim()
            .parse()
            .ok()
            .filter(|&y| healthplan_core::Period::plausible_year(y))
            .ok_or_else(|| {
                invalid(
                    "targets",
                    format!("第{}行的年份“{}”无效", n + 1, y.trim()),
                    format!("line {}: {:?} is not a year", n + 1, y.trim()),
                )
            })?;
        let t = healthplan_app::importer::table::cell_target(
            text.trim(),
            year,
            ind.direction,
            ind.unit.as_deref(),
        )
        .ok_or_else(|| {
            invalid(
                "targets",
                format!("第{}行的目标“{}”无法识别", n + 1, text.trim()),
                format!("line {}: cannot read the target {:?}", n + 1, text.trim()),
            )
        })?;
        targets.push(t);
    }
    targets.sort_by_key(|t| t.year);
    ind.targets = targets;
    ind.extra.remove("lead");
    ind.lead = Some(f.lead.trim().to_string()).filter(|l| !l.is_empty());
    ind.applies_to = match f.applies_to.as_str() {
        "plan_area" => Some(AppliesTo::PlanArea),
        "all_levels" => Some(AppliesTo::AllLevels),
        _ => None,
    };
    // The select offers "—" first: without it a browser sends the first element and links
    // an unlinked indicator to it.
    ind.element = Some(f.element.trim().to_string()).filter(|e| !e.is_empty());
    // A person has checked the item: the importer's doubts are settled.
    ind.doubts.clear();
    ind.validate("indicator")
        .map_err(|e| invalid("indicator", e.to_string(), e.to_string()))
}

async fn store_edit(
    state: &AppState,
    auth: &Auth,
    id: i64,
    edit: impl FnOnce(&mut PlanDocument) -> Result<(), ApiError>,
) -> Result<PlanDocument, ApiError> {
    let editor = editor(auth)?;
    let mut doc = state.app.store().plan(&auth.caps.reader(), id).await?;
    edit(&mut doc)?;
    doc.validate()
        .map_err(|e| invalid("document", e.to_string(), e.to_string()))?;
    state.app.update_plan(&editor, id, &doc).await?;
    Ok(doc)
}

async fn edit_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Form(f): Form<IndicatorForm>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let doc = store_edit(&state, &auth, id, |doc| {
            let ind = doc
                .indicators
                .get_mut(index)
                .ok_or_else(|| ApiError::not_found("指标", "indicator"))?;
            apply(ind, &f)
        })
        .await?;
        let elements: BTreeMap<String, String> = state
            .app
            .store()
            .list_data_elements()
            .await?
            .into_iter()
            .map(|e| (e.code, e.name))
            .collect();
        let item = indicator_item(index, &doc.indicators[index], &elements);
        Ok(render(
            &state,
            &auth,
            &format!("/plans/{id}/review"),
            Page::new(
                "review_item_partial.html",
                json!({"item": item, "plan": {"id": id}, "elements": elements, "saved": true}),
            ),
        ))
    }
    .await;
    done.unwrap_or_else(|e| fragment_error(&auth, &e))
}

async fn add_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<IndicatorForm>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        store_edit(&state, &auth, id, |doc| {
            let mut ind = Indicator {
                name: String::new(),
                unit: None,
                direction: Direction::Higher,
                property: None,
                domain: None,
                baseline: None,
                targets: Vec::new(),
                references: BTreeMap::new(),
                span: Span::UNKNOWN,
                source: healthplan_core::Source::Table,
                code: None,
                element: None,
                formula: None,
                aggregation: None,
                lead: None,
                applies_to: None,
                doubts: Vec::new(),
                extra: BTreeMap::new(),
            };
            apply(&mut ind, &f)?;
            doc.indicators.push(ind);
            Ok(())
        })
        .await?;
        review_page(
            &state,
            &auth,
            id,
            Some(crate::i18n::t(auth.lang, "review.added")),
        )
        .await
    }
    .await;
    page_result!(state, auth, &path, done)
}

async fn delete_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        store_edit(&state, &auth, id, |doc| {
            if index >= doc.indicators.len() {
                return Err(ApiError::not_found("指标", "indicator"));
            }
            doc.indicators.remove(index);
            for s in &mut doc.target_statements {
                s.indicator = match s.indicator {
                    Some(i) if i == index => None,
                    Some(i) if i > index => Some(i - 1),
                    other => other,
                };
            }
            Ok(())
        })
        .await?;
        review_page(
            &state,
            &auth,
            id,
            Some(crate::i18n::t(auth.lang, "review.removed")),
        )
        .await
    }
    .await;
    page_result!(state, auth, &path, done)
}

#[derive(Debug, Deserialize)]
pub struct TaskForm {
    text: String,
    /// Responsible units, the lead first, separated by 、 or commas.
    #[serde(default)]
    units: String,
    #[serde(default)]
    each: Option<String>,
}

async fn edit_task(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    Form(f): Form<TaskForm>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        store_edit(&state, &auth, id, |doc| {
            let t = doc
                .tasks
                .iter_mut()
                .find(|t| t.id == task)
                .ok_or_else(|| ApiError::not_found("任务", "task"))?;
            if f.text.trim().is_empty() {
                return Err(invalid(
                    "text",
                    "任务内容不能为空".into(),
                    "the task text is empty".into(),
                ));
            }
            t.text = f.text.trim().to_string();
            t.doubts.clear();
            let units: Vec<String> = f
                .units
                .split(['、', ',', '，', ';', '；'])
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty())
                .collect();
            t.responsible = (!units.is_empty()).then(|| Responsibility {
                raw: f.units.trim().to_string(),
                lead: units.first().cloned(),
                units,
                mode: if f.each.is_some() {
                    ResponsibilityMode::EachResponsible
                } else {
                    ResponsibilityMode::LeadFirst
                },
            });
            Ok(())
        })
        .await?;
        Ok(Html(format!(
            "<span class=\"notice\" role=\"status\">{}</span>",
            minijinja::HtmlEscape(&crate::i18n::t(auth.lang, "review.saved"))
        ))
        .into_response())
    }
    .await;
    done.unwrap_or_else(|e| fragment_error(&auth, &e))
}

async fn delete_task(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        store_edit(&state, &auth, id, |doc| {
            let before = doc.tasks.len();
            doc.tasks.retain(|t| t.id != task);
            if doc.tasks.len() == before {
                return Err(ApiError::not_found("任务", "task"));
            }
            fn unlist(sections: &mut [healthplan_core::Section], task: &str) {
                for s in sections {
                    s.tasks.retain(|t| t != task);
                    unlist(&mut s.children, task);
                }
            }
            unlist(&mut doc.sections, &task);
            Ok(())
        })
        .await?;
        review_page(
            &state,
            &auth,
            id,
            Some(crate::i18n::t(auth.lang, "review.removed")),
        )
        .await
    }
    .await;
    page_result!(state, auth, &path, done)
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
    as_of: Option<i32>,
    /// Publishing makes the plan public: the first post asks, the second (`confirm=yes`) does.
    #[serde(default)]
    confirm: Option<String>,
}

/// Confirms, returns to draft, or publishes (with the evaluation as of a year).
async fn set_status(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        let editor = editor(&auth)?;
        let store = state.app.store();
        let notice = match f.status.as_str() {
            "published" => {
                let as_of = f
                    .as_of
                    .unwrap_or_else(|| state.app.clock().last_full_year());
                if f.confirm.as_deref() != Some("yes") {
                    return review_page_with(&state, &auth, id, None, Some(as_of)).await;
                }
                let run = state
                    .app
                    .evaluate_plan(&auth.caps.reader(), id, as_of, &state.config.settings)
                    .await?;
                let snapshot = json!({
                    "title": run.plan.title, "area": run.plan.area, "as_of": as_of,
                    "synthetic": run.synthetic, "document": run.plan, "evaluation": run.evaluation,
                });
                store.publish_plan(&editor, id, as_of, &snapshot).await?;
                "review.published"
            }
            s => {
                let status = PlanStatus::parse(s)
                    .map_err(|e| invalid("status", e.to_string(), e.to_string()))?;
                store.set_plan_status(&editor, id, status).await?;
                "review.status_changed"
            }
        };
        review_page(&state, &auth, id, Some(crate::i18n::t(auth.lang, notice))).await
    }
    .await;
    page_result!(state, auth, &path, done)
}
