//! Importing a plan document and reviewing what was extracted: the source text beside the
//! items, the selected item's span highlighted, doubtful items first; a planner corrects,
//! adds and removes items (each edit audited by the store), then confirms and publishes.

use super::{fragment_error, is_htmx, render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use healthplan_app::plans::{PlanChange, PlanEdit};
use healthplan_app::store::StoreError;
use healthplan_app::AppError;
use healthplan_core::{
    AppliesTo, Baseline, Direction, Indicator, PlanDocument, PlanStatus, Property, Responsibility,
    ResponsibilityMode,
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
        .route(
            "/plans/{id}/review/proposals/{index}",
            post(decide_proposal),
        )
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

/// A proposed indicator beside the sentences it came from, with its fields for editing.
fn proposal_item(k: usize, p: &healthplan_core::Proposal, doc: &PlanDocument) -> Json {
    let ind = &p.indicator;
    let sentences: Vec<Json> = p
        .statements
        .iter()
        .filter_map(|&i| doc.target_statements.get(i))
        .map(
            |s| json!({"sentence": s.sentence, "year": s.year, "span": [s.span.start, s.span.end]}),
        )
        .collect();
    json!({
        "index": k,
        "decision": p.decision,
        "name": ind.name,
        "unit": ind.unit,
        "direction": ind.direction,
        "property": ind.property,
        "baseline_value": ind.baseline.as_ref().and_then(|b| b.value),
        "baseline_year": ind.baseline.as_ref().and_then(|b| b.year),
        "targets": ind.targets.iter().map(|t| format!("{}: {}", t.year, t.text)).collect::<Vec<_>>().join("\n"),
        "span": [ind.span.start, ind.span.end],
        "sentences": sentences,
        "imported_doubts": imported_doubts(&ind.doubts),
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
    let proposals: Vec<Json> = doc
        .proposals
        .iter()
        .enumerate()
        .map(|(k, p)| proposal_item(k, p, &doc))
        .collect();
    let undecided = doc
        .proposals
        .iter()
        .filter(|p| p.decision.is_none())
        .count();
    let merge_into: Vec<Json> = doc
        .indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| json!({"index": i, "name": ind.name, "unit": ind.unit}))
        .collect();
    let ctx = json!({
        "plan": summary,
        "proposals": proposals,
        "undecided": undecided,
        "merge_into": merge_into,
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
    /// The plan version the page showed.
    #[serde(default)]
    version: Option<i64>,
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

/// One edit through `app::edit_plan`, made on the plan version the page showed; a stale
/// version is answered "changed by someone else, reload".
async fn store_edit(
    state: &AppState,
    auth: &Auth,
    id: i64,
    version: Option<i64>,
    change: PlanChange,
) -> Result<PlanEdit, ApiError> {
    let caps = auth.signed_in()?;
    state
        .app
        .edit_plan(caps, id, version, change)
        .await
        .map_err(|e| match e {
            AppError::Store(StoreError::VersionConflict { stored, .. }) => {
                let say = |lang| crate::i18n::t(lang, "prose.stale");
                ApiError::new(
                    StatusCode::CONFLICT,
                    "version_conflict",
                    say(Lang::Zh),
                    say(Lang::En),
                )
                .field("version")
                .with_current(json!({ "version": stored }))
            }
            e => e.into(),
        })
}

/// The page's plan version after an htmx edit: swapped into the page out of band, so the
/// next form sends it (assets/app.js copies it into each form on submit); the indicator
/// partial writes the same element itself.
fn version_oob(version: i64) -> String {
    format!("<input type=\"hidden\" id=\"plan-version\" value=\"{version}\" hx-swap-oob=\"true\">")
}

async fn edit_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Form(f): Form<IndicatorForm>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let mut ind = state
            .app
            .store()
            .plan(&auth.signed_in()?.reader(), id)
            .await?
            .indicators
            .get(index)
            .cloned()
            .ok_or_else(|| ApiError::not_found("指标", "indicator"))?;
        apply(&mut ind, &f)?;
        let change = PlanChange::ReplaceIndicator(index, Box::new(ind));
        let edit = store_edit(&state, &auth, id, f.version, change).await?;
        let elements: BTreeMap<String, String> = state
            .app
            .store()
            .list_data_elements()
            .await?
            .into_iter()
            .map(|e| (e.code, e.name))
            .collect();
        let item = indicator_item(index, &edit.document.indicators[index], &elements);
        // `saved` also swaps the page's version out of band (the partial's last element).
        Ok(render(
            &state,
            &auth,
            &format!("/plans/{id}/review"),
            Page::new(
                "review_item_partial.html",
                json!({"item": item, "plan": {"id": id, "version": edit.version}, "elements": elements, "saved": true}),
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
        let mut ind = Indicator::new(
            String::new(),
            Direction::Higher,
            healthplan_core::Source::Table,
        );
        apply(&mut ind, &f)?;
        let change = PlanChange::AddIndicator(Box::new(ind));
        store_edit(&state, &auth, id, f.version, change).await?;
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

/// What a plain edit form sends beside its fields: the plan version it was shown.
#[derive(Debug, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    version: Option<i64>,
}

async fn delete_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Form(f): Form<VersionForm>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        let change = PlanChange::RemoveIndicator(index);
        store_edit(&state, &auth, id, f.version, change).await?;
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
    #[serde(default)]
    version: Option<i64>,
}

async fn edit_task(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    Form(f): Form<TaskForm>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let units: Vec<String> = f
            .units
            .split(['、', ',', '，', ';', '；'])
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        let responsible = (!units.is_empty()).then(|| Responsibility {
            raw: f.units.trim().to_string(),
            lead: units.first().cloned(),
            units,
            mode: if f.each.is_some() {
                ResponsibilityMode::EachResponsible
            } else {
                ResponsibilityMode::LeadFirst
            },
        });
        let change = PlanChange::CorrectTask {
            id: task,
            text: f.text,
            responsible,
        };
        let edit = store_edit(&state, &auth, id, f.version, change).await?;
        Ok(Html(format!(
            "<span class=\"notice\" role=\"status\">{}</span>{}",
            minijinja::HtmlEscape(&crate::i18n::t(auth.lang, "review.saved")),
            version_oob(edit.version)
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
    Form(f): Form<VersionForm>,
) -> Response {
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        store_edit(&state, &auth, id, f.version, PlanChange::RemoveTask(task)).await?;
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

/// A planner's choice on one proposal: the button pressed (`choice`), the proposal's fields
/// as the planner left them (used by `edit`), and the indicator to merge into.
#[derive(Debug, Deserialize)]
pub struct ProposalForm {
    choice: String,
    #[serde(default)]
    version: Option<i64>,
    /// The index of the plan's indicator that takes the targets (`merge`).
    #[serde(default)]
    into: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    baseline_value: String,
    #[serde(default)]
    baseline_year: String,
    #[serde(default)]
    targets: String,
}

/// Accept, edit then accept, merge or reject a proposal: the same `app` operation (and audit)
/// as `POST /api/v1/plans/{id}/proposals/{index}`.
async fn decide_proposal(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Form(f): Form<ProposalForm>,
) -> Response {
    use healthplan_app::proposals::Choice;
    let path = format!("/plans/{id}/review");
    let done: PageResult = async {
        let choice = match f.choice.as_str() {
            "accept" => Choice::Accept,
            "reject" => Choice::Reject,
            "merge" => Choice::Merge(f.into.trim().parse().map_err(|_| {
                invalid(
                    "into",
                    "请选择要并入的指标".into(),
                    "choose the indicator to merge into".into(),
                )
            })?),
            "edit" => {
                let doc = state
                    .app
                    .store()
                    .plan(&auth.signed_in()?.reader(), id)
                    .await?;
                let mut ind = doc
                    .proposals
                    .get(index)
                    .ok_or_else(|| ApiError::not_found("拟新增指标", "proposal"))?
                    .indicator
                    .clone();
                // The proposal's fields the form does not show keep their values.
                let form = IndicatorForm {
                    name: f.name.clone(),
                    unit: f.unit.clone(),
                    direction: f.direction.clone(),
                    property: ind.property.map(property_key).unwrap_or_default().into(),
                    baseline_value: f.baseline_value.clone(),
                    baseline_year: f.baseline_year.clone(),
                    targets: f.targets.clone(),
                    lead: ind.lead.clone().unwrap_or_default(),
                    applies_to: String::new(),
                    element: String::new(),
                    version: f.version,
                };
                apply(&mut ind, &form)?;
                Choice::Edit(Box::new(ind))
            }
            other => {
                return Err(invalid(
                    "choice",
                    format!("未知的处理方式“{other}”"),
                    format!("unknown choice {other:?}"),
                )
                .into())
            }
        };
        let notice = match &choice {
            Choice::Accept => "prose.accepted",
            Choice::Edit(_) => "prose.edited",
            Choice::Merge(_) => "prose.merged",
            Choice::Reject => "prose.rejected",
        };
        store_edit(
            &state,
            &auth,
            id,
            f.version,
            PlanChange::Decide(index, choice),
        )
        .await?;
        review_page(&state, &auth, id, Some(crate::i18n::t(auth.lang, notice))).await
    }
    .await;
    page_result!(state, auth, &path, done)
}

fn property_key(p: Property) -> &'static str {
    match p {
        Property::Binding => "binding",
        Property::Expected => "expected",
        Property::Advocacy => "advocacy",
    }
}
