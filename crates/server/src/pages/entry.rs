//! Data collection in the browser: rounds (list, open), the reporter's form with inline
//! validation, the planner's overview, the approval queue and task progress with evidence.
//! Validation is the shared rule set of `healthplan_core::validate`, run on the server; the
//! page only shows what it says.

use super::plans::latest_progress;
use super::{fragment_error, is_htmx, render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::rounds::{shown, FormCell};
use healthplan_app::store::{DataValueFilter, EvidenceFile, TaskKey, ValueKey};
use healthplan_core::validate::{self, Input, Raw, Severity};
use healthplan_core::{
    AreaCode, DataValue, Date, NewRound, Period, PlanDocument, ReviewDecision, TaskProgress,
    TaskStatus, ValueStatus,
};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rounds", get(rounds).post(open_round))
        .route("/rounds/{id}", get(form))
        .route("/rounds/{id}/save", post(save))
        .route("/rounds/{id}/check", post(check))
        .route("/rounds/{id}/template", post(upload_template))
        .route("/rounds/{id}/overview", get(overview))
        .route("/rounds/{id}/close", post(close))
        .route("/approvals", get(approvals))
        .route("/approvals/decide", post(decide))
        .route(
            "/plans/{id}/tasks/{task}/progress",
            get(progress).post(save_progress),
        )
        .route("/plans/{id}/tasks/{task}/evidence", post(upload_evidence))
        .route("/plans/{id}/tasks/{task}/review", post(review_progress))
}

async fn rounds_page(state: &AppState, auth: &Auth, error: Option<String>) -> PageResult {
    let caps = auth.signed_in()?;
    let scope = caps.reader();
    let store = state.app.store();
    let rounds = store.list_rounds(&scope).await?;
    let mut plans = Vec::new();
    if caps.round_manager().is_some() {
        let policy = state.app.policy();
        for p in store.list_plans(&scope).await? {
            let Some(root) = &p.area_code else { continue };
            let doc = store.plan(&scope, p.id).await?;
            let mut departments: Vec<String> = doc
                .indicators
                .iter()
                .filter_map(|i| i.lead_department().map(String::from))
                .collect();
            departments.sort();
            departments.dedup();
            let areas: Vec<Json> = policy
                .areas()
                .subtree(root)
                .into_iter()
                .filter(|a| scope.area(a))
                .map(|a| json!({"code": a, "name": policy.areas().name(&a), "top": &a == root}))
                .collect();
            plans.push(
                json!({"id": p.id, "title": p.title, "areas": areas, "departments": departments}),
            );
        }
    }
    Ok(render(
        state,
        auth,
        "/rounds",
        Page::new(
            "rounds.html",
            json!({
                "rounds": rounds,
                "plans": plans,
                "error": error,
                "can_open": caps.round_manager().is_some(),
                "next_year": state.app.clock().last_full_year() + 1,
                "today": state.app.clock().today(),
            }),
        ),
    ))
}

async fn rounds(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/rounds",
        rounds_page(&state, &auth, None).await
    )
}

/// The form a planner fills to open a round (areas and departments repeat).
#[derive(Debug, Deserialize)]
pub struct RoundForm {
    plan_id: i64,
    title: String,
    period: String,
    deadline: String,
    #[serde(default)]
    area: Vec<String>,
    #[serde(default)]
    department: Vec<String>,
}

async fn open_round(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    axum_extra::extract::Form(f): axum_extra::extract::Form<RoundForm>,
) -> Response {
    let done: PageResult = async {
        let manager = auth
            .signed_in()?
            .round_manager()
            .ok_or_else(|| ApiError::no_right("发起填报轮次", "open reporting rounds"))?;
        let invalid = |field: &str, e: String| ApiError::invalid(field, e.clone(), e);
        let round = NewRound {
            plan_id: f.plan_id,
            title: f.title.trim().to_string(),
            period: f
                .period
                .trim()
                .parse()
                .map_err(|e: healthplan_core::CoreError| invalid("period", e.to_string()))?,
            deadline: Date::parse(f.deadline.trim())
                .map_err(|e| invalid("deadline", e.to_string()))?,
            areas: f
                .area
                .iter()
                .map(|a| AreaCode::parse(a).map_err(|e| invalid("area", e.to_string())))
                .collect::<Result<_, _>>()?,
            departments: f.department.clone(),
        };
        match state.app.store().open_round(&manager, &round).await {
            Ok(r) => Ok(Redirect::to(&format!("/rounds/{}/overview", r.id)).into_response()),
            Err(e) => {
                let e = ApiError::from(e);
                let msg = e.message(auth.lang).to_string();
                rounds_page(&state, &auth, Some(msg)).await
            }
        }
    }
    .await;
    page_result!(state, auth, "/rounds", done)
}

async fn form_rows(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> Result<(healthplan_core::Round, PlanDocument, Vec<FormCell>), ApiError> {
    let caps = auth.signed_in()?;
    Ok(state.app.form_cells(caps, id).await?)
}

/// One row as the template shows it, with what was typed and what the server said.
fn row_json(
    i: usize,
    r: &FormCell,
    typed: Option<&Typed>,
    issues: &[validate::Issue],
    saved: Option<&str>,
    lang: crate::i18n::Lang,
) -> Json {
    let current = r.row.current.as_ref();
    let (v, n, d) = match (typed, current.map(|c| &c.value)) {
        (Some(t), _) => (t.value.clone(), t.numerator.clone(), t.denominator.clone()),
        (
            None,
            Some(healthplan_core::Value::Ratio {
                numerator,
                denominator,
            }),
        ) => (
            String::new(),
            super::num(*numerator),
            super::num(*denominator),
        ),
        (None, Some(healthplan_core::Value::Number { value })) => {
            (super::num(*value), String::new(), String::new())
        }
        (None, Some(healthplan_core::Value::Boolean { value })) => (
            (if *value { "是" } else { "否" }).to_string(),
            String::new(),
            String::new(),
        ),
        (None, Some(healthplan_core::Value::Text { value })) => {
            (value.clone(), String::new(), String::new())
        }
        (None, None) => Default::default(),
    };
    let (min, max) = r.rule.bounds();
    json!({
        "i": i,
        "key": format!("{}|{}|{}|{}", r.row.element, r.row.area, r.row.indicator, current.map_or(0, |c| c.version)),
        "area": r.row.area, "area_name": r.row.area_name,
        "indicator": r.row.indicator, "name": r.row.name, "unit": r.row.unit, "lead": r.row.lead,
        "ratio": r.rule.ratio_factor().is_some(),
        "min": min, "max": max,
        "last": r.row.last,
        "value": v, "numerator": n, "denominator": d,
        "comment": typed.map(|t| t.comment.clone()).or_else(|| current.and_then(|c| c.comment.clone())).unwrap_or_default(),
        "status": current.map(|c| c.status.as_str()),
        "version": current.map(|c| c.version),
        "review_comment": current.and_then(|c| c.review_comment.clone()),
        "locked": current.is_some_and(|c| matches!(c.status, ValueStatus::Submitted | ValueStatus::Approved)),
        "issues": issues.iter().map(|x| json!({
            "severity": match x.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "code": x.code.as_str(), "field": x.field.as_str(),
            "message": match lang { crate::i18n::Lang::Zh => &x.zh, crate::i18n::Lang::En => &x.en },
        })).collect::<Vec<_>>(),
        "saved": saved,
    })
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    id: i64,
    results: HashMap<usize, (Typed, Vec<validate::Issue>, Option<String>)>,
    notice: Option<String>,
) -> PageResult {
    let (round, doc, rows) = form_rows(state, auth, id).await?;
    if rows.is_empty() && auth.caps.reviewer().is_some() {
        return Ok(Redirect::to(&format!("/rounds/{id}/overview")).into_response());
    }
    let json_rows: Vec<Json> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let res = results.get(&i);
            row_json(
                i,
                r,
                res.map(|x| &x.0),
                res.map_or(&[][..], |x| &x.1[..]),
                res.and_then(|x| x.2.as_deref()),
                auth.lang,
            )
        })
        .collect();
    let errors = results
        .values()
        .filter(|r| r.1.iter().any(|i| i.blocks(Some(&r.0.comment))))
        .count();
    let tasks: Vec<Json> = {
        let writer = auth.caps.progress_writer();
        doc.tasks
            .iter()
            .filter(|t| {
                writer.as_ref().is_some_and(|w| {
                    round
                        .areas
                        .iter()
                        .any(|a| w.check(round.plan_id, &t.id, a).is_ok())
                })
            })
            .map(|t| json!({"id": t.id, "text": t.text}))
            .collect()
    };
    // A form whose every row is submitted or approved reads as read-only, with a banner.
    let locked = json_rows.iter().filter(|r| r["locked"] == true).count();
    let ctx = json!({
        "round": round,
        "plan_title": doc.title,
        "all_locked": !json_rows.is_empty() && locked == json_rows.len(),
        "some_locked": locked > 0 && locked < json_rows.len(),
        "rows": json_rows,
        "tasks": tasks,
        "errors": errors,
        "notice": notice,
        "past_deadline": state.app.clock().today() > round.deadline,
    });
    let _ = is_htmx(headers);
    Ok(render(
        state,
        auth,
        &format!("/rounds/{id}"),
        Page::new("round_form.html", ctx),
    ))
}

async fn form(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let path = format!("/rounds/{id}");
    page_result!(
        state,
        auth,
        &path,
        form_page(&state, &auth, &headers, id, HashMap::new(), None).await
    )
}

/// What was typed in one row.
#[derive(Debug, Clone, Default)]
struct Typed {
    value: String,
    numerator: String,
    denominator: String,
    comment: String,
}

impl Typed {
    fn is_empty(&self) -> bool {
        self.value.trim().is_empty()
            && self.numerator.trim().is_empty()
            && self.denominator.trim().is_empty()
    }

    fn input(&self) -> Input<'_> {
        fn raw(s: &str) -> Raw<'_> {
            if s.trim().is_empty() {
                Raw::Empty
            } else {
                Raw::Text(s.trim())
            }
        }
        Input::from_columns(
            raw(&self.value),
            raw(&self.numerator),
            raw(&self.denominator),
        )
    }
}

/// The posted form: `v.3`, `n.3`, `d.3`, `c.3` for row 3, and `action`.
fn typed_rows(fields: &[(String, String)]) -> BTreeMap<usize, Typed> {
    let mut out: BTreeMap<usize, Typed> = BTreeMap::new();
    for (k, v) in fields {
        let Some((kind, i)) = k.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let t = out.entry(i).or_default();
        match kind {
            "v" => t.value = v.clone(),
            "n" => t.numerator = v.clone(),
            "d" => t.denominator = v.clone(),
            "c" => t.comment = v.clone(),
            _ => {}
        }
    }
    out
}

/// Validates and stores every filled row the caller may write; rows with problems are shown
/// again with the messages and are not stored.
async fn save(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let path = format!("/rounds/{id}");
    let done: PageResult = async {
        if auth.signed_in()?.value_writer().is_none() {
            return Err(ApiError::no_right("填报数据", "enter values").into());
        }
        let submit = fields.iter().any(|(k, v)| k == "action" && v == "submit");
        let (round, _, rows) = form_rows(&state, &auth, id).await?;
        if !round.open {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "closed",
                "该填报轮次已关闭",
                "this round is closed",
            )
            .into());
        }
        let typed = typed_rows(&fields);
        let mut results: HashMap<usize, (Typed, Vec<validate::Issue>, Option<String>)> =
            HashMap::new();
        // The rows to store with the version each replaces, the form row each came from,
        // and the warnings a comment confirmed (shown as notes once saved).
        let mut batch: Vec<(DataValue, Option<i64>)> = Vec::new();
        let mut from_row: Vec<(usize, Typed, Vec<validate::Issue>)> = Vec::new();
        let mut refused = 0;
        for (i, r) in rows.iter().enumerate() {
            let t = typed.get(&i).cloned().unwrap_or_default();
            let current = r.row.current.as_ref();
            if current
                .is_some_and(|c| matches!(c.status, ValueStatus::Submitted | ValueStatus::Approved))
            {
                continue;
            }
            if t.is_empty() {
                // Submitting with an untouched draft row submits the draft as it is.
                if let (true, Some(c)) = (submit, current) {
                    let mut v = c.clone();
                    v.status = ValueStatus::Submitted;
                    batch.push((v, Some(c.version)));
                    from_row.push((i, t, vec![]));
                }
                continue;
            }
            // What was typed becomes a value (or the messages why not) by the element's rule.
            let checked = validate::validate(&r.rule, &t.input(), r.previous.as_ref());
            let comment = Some(t.comment.trim()).filter(|c| !c.is_empty());
            let Some(value) = checked.accepted(comment).cloned() else {
                refused += 1;
                results.insert(i, (t, checked.issues, None));
                continue;
            };
            let mut v =
                match DataValue::new(&r.row.element, r.row.area.clone(), round.period, value) {
                    Ok(v) => v,
                    Err(e) => {
                        refused += 1;
                        results.insert(i, (t, vec![], Some(e.to_string())));
                        continue;
                    }
                };
            v.status = if submit {
                ValueStatus::Submitted
            } else {
                ValueStatus::Draft
            };
            v.comment = comment.map(String::from);
            let notes: Vec<_> = checked
                .issues
                .into_iter()
                .filter(|x| x.severity == Severity::Warning)
                .collect();
            batch.push((v, current.map(|c| c.version)));
            from_row.push((i, t, notes));
        }
        // All or nothing, through the one entry flow (rules, versions, alerts): a form with
        // a refused row stores none, and the rows keep what was typed.
        let mut saved = 0;
        if refused > 0 {
            for (i, t, _) in from_row {
                results.entry(i).or_insert((t, vec![], None));
            }
        } else if !batch.is_empty() {
            match state.app.enter_values(auth.signed_in()?, &batch).await {
                Ok(stored) => {
                    saved = stored.len();
                    for (i, _, notes) in from_row {
                        if !notes.is_empty() {
                            results.insert(i, (Typed::default(), notes, None));
                        }
                    }
                }
                Err(healthplan_app::AppError::Refused(r)) => {
                    refused = 1;
                    for (k, (i, t, _)) in from_row.into_iter().enumerate() {
                        let issues = if k == r.index {
                            r.issues.clone()
                        } else {
                            vec![]
                        };
                        results.insert(i, (t, issues, None));
                    }
                }
                Err(e) => {
                    let e = ApiError::from(e);
                    if e.status == axum::http::StatusCode::UNAUTHORIZED {
                        return Err(e.into());
                    }
                    refused = from_row.len();
                    let msg = e.message(auth.lang).to_string();
                    for (i, t, _) in from_row {
                        results.insert(i, (t, vec![], Some(msg.clone())));
                    }
                }
            }
        }
        let key = if submit {
            "form.submitted_n"
        } else {
            "form.saved_n"
        };
        let mut notice = crate::i18n::t(auth.lang, key).replacen("{}", &saved.to_string(), 1);
        if refused > 0 {
            notice.push_str(&crate::i18n::t(auth.lang, "form.refused_n").replacen(
                "{}",
                &refused.to_string(),
                1,
            ));
        }
        form_page(&state, &auth, &headers, id, results, Some(notice)).await
    }
    .await;
    page_result!(state, auth, &path, done)
}

/// Checks one row without storing it (inline validation as the reporter types).
async fn check(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let (_, _, rows) = form_rows(&state, &auth, id).await?;
        let typed = typed_rows(&fields);
        let Some((&i, t)) = typed.iter().next() else {
            return Ok(axum::response::Html(String::new()).into_response());
        };
        let r = rows
            .get(i)
            .ok_or_else(|| ApiError::not_found("填报项", "form row"))?;
        let checked = validate::validate(&r.rule, &t.input(), r.previous.as_ref());
        let html: String = checked
            .issues
            .iter()
            .map(|x| {
                let msg = match auth.lang {
                    crate::i18n::Lang::Zh => &x.zh,
                    crate::i18n::Lang::En => &x.en,
                };
                let class = if x.severity == Severity::Error {
                    "error"
                } else {
                    "warning"
                };
                format!(
                    "<span class=\"{class}\">{}</span>",
                    minijinja::HtmlEscape(msg)
                )
            })
            .collect();
        Ok(axum::response::Html(html).into_response())
    }
    .await;
    done.unwrap_or_else(|e| fragment_error(&auth, &e))
}

/// A filled template uploaded from the form page: imported whole or not at all.
async fn upload_template(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Response {
    let path = format!("/rounds/{id}");
    let done: PageResult = async {
        let outcome = match super::upload::file_field(&mut form, "file").await {
            Ok((name, bytes)) => state
                .app
                .import_round_template(auth.signed_in()?, id, &name, &bytes, false)
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        let notice = match outcome {
            Ok(r) => crate::i18n::t(auth.lang, "form.template_saved").replacen(
                "{}",
                &r.saved.len().to_string(),
                1,
            ),
            Err(e) if e.status == axum::http::StatusCode::UNAUTHORIZED => return Err(e.into()),
            Err(e) => e.message(auth.lang).to_string(),
        };
        form_page(&state, &auth, &headers, id, HashMap::new(), Some(notice)).await
    }
    .await;
    page_result!(state, auth, &path, done)
}

async fn overview(State(state): State<Arc<AppState>>, auth: Auth, Path(id): Path<i64>) -> Response {
    let path = format!("/rounds/{id}/overview");
    let done: PageResult = async {
        let caps = auth.signed_in()?;
        let (round, rows) = state
            .app
            .round_overview(caps, id, state.app.clock().today())
            .await?;
        let plan = state
            .app
            .store()
            .plan_summary(&caps.reader(), round.plan_id)
            .await?;
        let totals = json!({
            "total": rows.iter().map(|r| r.total).sum::<usize>(),
            "missing": rows.iter().map(|r| r.missing).sum::<usize>(),
            "submitted": rows.iter().map(|r| r.submitted).sum::<usize>(),
            "approved": rows.iter().map(|r| r.approved).sum::<usize>(),
            "returned": rows.iter().map(|r| r.returned).sum::<usize>(),
            "late": rows.iter().filter(|r| r.late).count(),
        });
        Ok(render(
            &state,
            &auth,
            &path,
            Page::new(
                "overview.html",
                json!({"round": round, "plan": plan, "rows": rows, "totals": totals,
                       "can_close": caps.round_manager().is_some() && round.open}),
            ),
        ))
    }
    .await;
    page_result!(state, auth, &path, done)
}

async fn close(State(state): State<Arc<AppState>>, auth: Auth, Path(id): Path<i64>) -> Response {
    let path = format!("/rounds/{id}/overview");
    let done: PageResult = async {
        let manager = auth
            .signed_in()?
            .round_manager()
            .ok_or_else(|| ApiError::no_right("关闭填报轮次", "close reporting rounds"))?;
        state.app.store().close_round(&manager, id).await?;
        Ok(Redirect::to(&path).into_response())
    }
    .await;
    page_result!(state, auth, &path, done)
}

/// The queue's tab and filters, kept in the address so a filtered queue can be shared and
/// bookmarked. Unknown or malformed values are ignored (the filter is off), never an error.
#[derive(Debug, Deserialize, Default)]
pub struct ApprovalQuery {
    status: Option<String>,
    plan: Option<String>,
    round: Option<String>,
    area: Option<String>,
    period: Option<String>,
    department: Option<String>,
    /// Why the last bulk action was refused, shown above the queue.
    error: Option<String>,
}

impl ApprovalQuery {
    fn view(&self, status: ValueStatus) -> healthplan_app::lists::QueueView {
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        healthplan_app::lists::QueueView {
            status: Some(status),
            plan_id: some(&self.plan).and_then(|p| p.parse().ok()),
            round_id: some(&self.round).and_then(|p| p.parse().ok()),
            area: some(&self.area).and_then(|a| AreaCode::parse(&a).ok()),
            period: some(&self.period).and_then(|p| p.parse().ok()),
            department: some(&self.department),
        }
    }
}

/// A value awaiting (or past) review, with what the reviewer needs to decide.
fn approval_row(
    v: &healthplan_app::store::ValueRecord,
    names: &HashMap<String, (String, Option<String>)>,
    areas: &healthplan_access::AreaIndex,
    previous: Option<f64>,
    people: &HashMap<String, String>,
    lang: crate::i18n::Lang,
) -> Json {
    let (name, unit) = names
        .get(&v.value.element)
        .cloned()
        .unwrap_or((v.value.element.clone(), None));
    json!({
        "element": v.value.element,
        "name": name, "unit": unit,
        "area": v.value.area, "area_name": areas.name(&v.value.area),
        "period": v.value.period,
        "value": shown(&v.value, 1.0),
        "ratio": match &v.value.value { healthplan_core::Value::Ratio { numerator, denominator } => Some(json!([numerator, denominator])), _ => None },
        "previous": previous,
        "status": v.value.status.as_str(),
        "version": v.value.version,
        "comment": v.value.comment,
        "review_comment": v.value.review_comment,
        "updated_by": v.updated_by, "updated_at": v.updated_at,
        "updated_by_name": super::person(&v.updated_by, people, lang),
        "reviewed_by": v.reviewed_by,
    })
}

async fn element_names(
    state: &AppState,
) -> Result<HashMap<String, (String, Option<String>)>, ApiError> {
    Ok(state
        .app
        .store()
        .list_data_elements()
        .await?
        .into_iter()
        .map(|e| (e.code, (e.name, e.unit)))
        .collect())
}

/// The choices of the queue's filters: readable plans, their rounds, areas down to the
/// county level, and the lead departments of the readable plans' indicators.
async fn queue_filters(
    state: &AppState,
    caps: &healthplan_access::Caps,
    view: &healthplan_app::lists::QueueView,
) -> Result<Json, ApiError> {
    let scope = caps.reader();
    let store = state.app.store();
    let plans = store.list_plans(&scope).await?;
    let rounds = store.list_rounds(&scope).await?;
    let mut departments = std::collections::BTreeSet::new();
    for p in &plans {
        for i in store.plan_indicators(&scope, p.id).await? {
            if let Some(d) = i.indicator.lead_department() {
                departments.insert(d.to_string());
            }
        }
    }
    let areas: Vec<Json> = store
        .list_areas()
        .await?
        .into_iter()
        .filter(|a| {
            scope.area(&a.code)
                && (a.level <= healthplan_core::AreaLevel::County
                    || view.area.as_ref() == Some(&a.code))
        })
        .map(|a| json!({"code": a.code, "name": a.name}))
        .collect();
    Ok(json!({
        "plans": plans.iter().map(|p| json!({"id": p.id, "title": p.title})).collect::<Vec<_>>(),
        "rounds": rounds.iter().filter(|r| view.plan_id.is_none_or(|p| r.plan_id == p))
            .map(|r| json!({"id": r.id, "title": r.title, "period": r.period})).collect::<Vec<_>>(),
        "areas": areas,
        "departments": departments,
    }))
}

/// The queue's address with its filters (what the bulk form returns to).
fn approval_query(status: ValueStatus, v: &healthplan_app::lists::QueueView) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("status", status.as_str());
    if let Some(p) = v.plan_id {
        q.append_pair("plan", &p.to_string());
    }
    if let Some(r) = v.round_id {
        q.append_pair("round", &r.to_string());
    }
    if let Some(a) = &v.area {
        q.append_pair("area", a.as_str());
    }
    if let Some(p) = v.period {
        q.append_pair("period", &p.to_string());
    }
    if let Some(d) = &v.department {
        q.append_pair("department", d);
    }
    format!("/approvals?{}", q.finish())
}

async fn approvals(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ApprovalQuery>,
) -> Response {
    let done: PageResult = async {
        let caps = auth.signed_in()?;
        caps.reviewer()
            .ok_or_else(|| ApiError::no_right("审核数据", "review values"))?;
        let status = match q.status.as_deref() {
            Some("approved") => ValueStatus::Approved,
            Some("returned") => ValueStatus::Returned,
            _ => ValueStatus::Submitted,
        };
        let scope = caps.reader();
        let view = q.view(status);
        let records = state.app.review_queue(caps, &view, 500).await?;

        let names = element_names(&state).await?;
        let policy = state.app.policy();
        let actors: Vec<String> = records.iter().map(|r| r.updated_by.clone()).collect();
        let people = super::people(&state, &actors).await;
        let mut rows = Vec::new();
        for r in &records {
            let prev = match validate::previous_period(r.value.period) {
                Some(p) => state
                    .app
                    .store()
                    .data_value(
                        &scope,
                        &ValueKey::new(&r.value.element, r.value.area.clone(), p),
                    )
                    .await?
                    .and_then(|v| shown(&v, 1.0)),
                None => None,
            };
            rows.push(approval_row(
                r,
                &names,
                policy.areas(),
                prev,
                &people,
                auth.lang,
            ));
        }
        Ok(render(
            &state,
            &auth,
            "/approvals",
            Page::new(
                "approvals.html",
                json!({
                    "rows": rows,
                    "status": status.as_str(),
                    "filters": queue_filters(&state, caps, &view).await?,
                    "f": {
                        "plan": view.plan_id, "round": view.round_id, "area": view.area,
                        "period": view.period, "department": view.department,
                    },
                    "query": approval_query(status, &view),
                    "error": q.error,
                }),
            ),
        ))
    }
    .await;
    page_result!(state, auth, "/approvals", done)
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    element: String,
    area: String,
    period: String,
    version: i64,
    decision: String,
    #[serde(default)]
    comment: String,
}

/// Approves, returns or reopens one value; answers with its row (htmx) or the queue.
async fn decide(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    let done: Result<Response, ApiError> = async {
        let reviewer = auth
            .signed_in()?
            .reviewer()
            .ok_or_else(|| ApiError::no_right("审核数据", "review values"))?;
        let decision = match f.decision.as_str() {
            "approve" => ReviewDecision::Approve,
            "return" => ReviewDecision::Return,
            "reopen" => ReviewDecision::Reopen,
            _ => {
                return Err(ApiError::invalid(
                    "decision",
                    "未知的审核操作",
                    "unknown decision",
                ))
            }
        };
        let key = ValueKey::new(
            f.element.trim(),
            crate::api_area("area", &f.area)?,
            crate::api_period("period", &f.period)?,
        );
        let comment = Some(f.comment.trim()).filter(|c| !c.is_empty());
        let result = state
            .app
            .review_data_value(&reviewer, &key, f.version, decision, comment)
            .await;
        let error = match result {
            Ok(v) => {
                crate::state::after_approval(&state, &v);
                None
            }
            Err(e) => Some(ApiError::from(e)),
        };
        if !is_htmx(&headers) {
            return match error {
                Some(e) => Err(e),
                None => Ok(Redirect::to("/approvals").into_response()),
            };
        }
        // The row stays, with its new state or with why the decision was refused.
        let message = error.as_ref().map(|e| e.message(auth.lang).to_string());
        match decided_row(&state, &auth, &key, message).await? {
            Some(row) => Ok(row),
            None => Err(error.unwrap_or_else(|| ApiError::not_found("数据", "value"))),
        }
    }
    .await;
    done.unwrap_or_else(|e| fragment_error(&auth, &e))
}

/// One approval row as it is now, with last period's value and an error to show on it.
async fn decided_row(
    state: &AppState,
    auth: &Auth,
    key: &ValueKey,
    error: Option<String>,
) -> Result<Option<Response>, ApiError> {
    let scope = auth.caps.reader();
    let record = state
        .app
        .store()
        .data_value_records(
            &scope,
            &DataValueFilter {
                element: Some(key.element.clone()),
                area: Some(key.area.clone()),
                period: Some(key.period),
                ..Default::default()
            },
        )
        .await?;
    let Some(r) = record.first() else {
        return Ok(None);
    };
    let prev = match validate::previous_period(key.period) {
        Some(p) => state
            .app
            .store()
            .data_value(&scope, &ValueKey::new(&key.element, key.area.clone(), p))
            .await?
            .and_then(|v| shown(&v, 1.0)),
        None => None,
    };
    let names = element_names(state).await?;
    let policy = state.app.policy();
    let people = super::people(state, std::slice::from_ref(&r.updated_by)).await;
    let mut row = approval_row(r, &names, policy.areas(), prev, &people, auth.lang);
    if let Some(m) = error {
        row["error"] = json!(m);
    }
    Ok(Some(render(
        state,
        auth,
        "/approvals",
        Page::new("approval_row_partial.html", json!({"r": row})),
    )))
}

#[derive(Debug, Deserialize, Default)]
pub struct ProgressQuery {
    area: Option<String>,
    period: Option<String>,
}

async fn progress_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    task: &str,
    q: ProgressQuery,
    notice: Option<String>,
) -> PageResult {
    let caps = auth.signed_in()?;
    let scope = caps.reader();
    let store = state.app.store();
    let summary = store.plan_summary(&scope, id).await?;
    let doc = store.plan(&scope, id).await?;
    let t = doc
        .tasks
        .iter()
        .find(|t| t.id == task)
        .ok_or_else(|| ApiError::not_found(&format!("任务 {task}"), &format!("task {task}")))?;
    let policy = state.app.policy();
    let writer = caps.progress_writer();
    // Areas the caller may report for, else the plan's own area.
    let areas: Vec<AreaCode> = summary
        .area_code
        .as_ref()
        .map(|r| policy.areas().subtree(r))
        .unwrap_or_default()
        .into_iter()
        .filter(|a| scope.area(a))
        .collect();
    let writable: Vec<&AreaCode> = areas
        .iter()
        .filter(|a| {
            writer
                .as_ref()
                .is_some_and(|w| w.check(id, task, a).is_ok())
        })
        .collect();
    let area = q
        .area
        .as_deref()
        .and_then(|a| AreaCode::parse(a).ok())
        .filter(|a| areas.contains(a))
        .or_else(|| writable.first().map(|a| (*a).clone()))
        .or_else(|| summary.area_code.clone())
        .ok_or_else(|| ApiError::not_found("可填报的地区", "an area to report for"))?;
    let period: Period = q
        .period
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(Period::Year(state.app.clock().last_full_year() + 1));
    let reports = store.list_task_progress(&scope, id).await?;
    let mine: Vec<&TaskProgress> = reports.iter().filter(|p| p.task_id == task).collect();
    let current = mine
        .iter()
        .find(|p| p.area == area && p.period == period)
        .copied();
    let key = TaskKey {
        plan_id: id,
        task_id: task.to_string(),
        area: area.clone(),
        period,
    };
    let evidence = store.list_evidence(&scope, &key).await?;
    let latest = latest_progress(&reports, None);
    let ctx = json!({
        "plan": summary,
        "task": super::plans::task_view(t, latest.get(task).copied()),
        "area": {"code": area, "name": policy.areas().name(&area)},
        "areas": areas.iter().map(|a| json!({"code": a, "name": policy.areas().name(a)})).collect::<Vec<_>>(),
        "period": period,
        "current": current,
        "reports": mine,
        "area_names": areas.iter().map(|a| (a.to_string(), policy.areas().name(a))).collect::<BTreeMap<_, _>>(),
        "evidence": evidence,
        "can_write": writer.as_ref().is_some_and(|w| w.check(id, task, &area).is_ok()),
        "can_review": caps.reviewer().is_some_and(|r| r.check_area(&area).is_ok()),
        "statuses": TaskStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "notice": notice,
        "max_mb": state.config.max_evidence_bytes / (1024 * 1024),
    });
    Ok(render(
        state,
        auth,
        &format!("/plans/{id}/tasks/{task}/progress"),
        Page::new("progress.html", ctx),
    ))
}

async fn progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    Query(q): Query<ProgressQuery>,
) -> Response {
    let path = format!("/plans/{id}/tasks/{task}/progress");
    page_result!(
        state,
        auth,
        &path,
        progress_page(&state, &auth, id, &task, q, None).await
    )
}

#[derive(Debug, Deserialize)]
pub struct ProgressForm {
    area: String,
    period: String,
    status: String,
    note: String,
    version: Option<i64>,
    action: Option<String>,
}

async fn save_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    Form(f): Form<ProgressForm>,
) -> Response {
    let path = format!("/plans/{id}/tasks/{task}/progress");
    let done: PageResult = async {
        let writer = auth
            .signed_in()?
            .progress_writer()
            .ok_or_else(|| ApiError::no_right("填报任务进展", "report task progress"))?;
        let area = crate::api_area("area", &f.area)?;
        let period = crate::api_period("period", &f.period)?;
        let status = TaskStatus::parse(&f.status)
            .ok_or_else(|| ApiError::invalid("status", "未知的任务状态", "unknown task status"))?;
        if f.note.trim().is_empty() {
            return Err(
                ApiError::invalid("note", "请填写进展情况", "describe the progress").into(),
            );
        }
        let p = TaskProgress {
            plan_id: id,
            task_id: task.clone(),
            area: area.clone(),
            period,
            status,
            note: f.note.trim().to_string(),
            workflow: if f.action.as_deref() == Some("submit") {
                ValueStatus::Submitted
            } else {
                ValueStatus::Draft
            },
            version: f.version.unwrap_or(1),
            review_comment: None,
        };
        state
            .app
            .store()
            .put_task_progress(&writer, &p, f.version)
            .await?;
        let q = ProgressQuery {
            area: Some(area.to_string()),
            period: Some(period.to_string()),
        };
        let notice = crate::i18n::t(auth.lang, "progress.saved");
        progress_page(&state, &auth, id, &task, q, Some(notice)).await
    }
    .await;
    page_result!(state, auth, &path, done)
}

async fn upload_evidence(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    mut form: Multipart,
) -> Response {
    let path = format!("/plans/{id}/tasks/{task}/progress");
    let done: PageResult = async {
        let writer = auth
            .signed_in()?
            .progress_writer()
            .ok_or_else(|| ApiError::no_right("上传佐证材料", "upload evidence"))?;
        let mut area = None;
        let mut period = None;
        let mut file = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(e.body_text(), e.body_text()))?
        {
            match field.name() {
                Some("area") => area = Some(field.text().await.unwrap_or_default()),
                Some("period") => period = Some(field.text().await.unwrap_or_default()),
                Some("file") => {
                    let name = field
                        .file_name()
                        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                        .unwrap_or_else(|| "upload".into());
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| ApiError::bad_request(e.body_text(), e.body_text()))?;
                    file = Some((name, bytes.to_vec()));
                }
                _ => {}
            }
        }
        let area = crate::api_area("area", area.as_deref().unwrap_or(""))?;
        let period = crate::api_period("period", period.as_deref().unwrap_or(""))?;
        let (name, bytes) = file.filter(|f| !f.1.is_empty()).ok_or_else(|| {
            ApiError::invalid("file", "请选择要上传的文件", "choose a file to upload")
        })?;
        let content_type =
            super::upload::evidence_type(&name, &bytes, state.config.max_evidence_bytes)?;
        let key = TaskKey {
            plan_id: id,
            task_id: task.clone(),
            area: area.clone(),
            period,
        };
        state
            .app
            .store()
            .add_evidence(
                &writer,
                &key,
                &EvidenceFile {
                    file_name: name,
                    content_type: content_type.into(),
                    bytes,
                },
            )
            .await?;
        let q = ProgressQuery {
            area: Some(area.to_string()),
            period: Some(period.to_string()),
        };
        progress_page(
            &state,
            &auth,
            id,
            &task,
            q,
            Some(crate::i18n::t(auth.lang, "progress.uploaded")),
        )
        .await
    }
    .await;
    page_result!(state, auth, &path, done)
}

#[derive(Debug, Deserialize)]
pub struct ProgressReview {
    area: String,
    period: String,
    version: i64,
    decision: String,
    #[serde(default)]
    comment: String,
}

async fn review_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task)): Path<(i64, String)>,
    Form(f): Form<ProgressReview>,
) -> Response {
    let path = format!("/plans/{id}/tasks/{task}/progress");
    let done: PageResult = async {
        let reviewer = auth
            .signed_in()?
            .reviewer()
            .ok_or_else(|| ApiError::no_right("审核任务进展", "review task progress"))?;
        let decision = match f.decision.as_str() {
            "approve" => ReviewDecision::Approve,
            "return" => ReviewDecision::Return,
            "reopen" => ReviewDecision::Reopen,
            _ => {
                return Err(
                    ApiError::invalid("decision", "未知的审核操作", "unknown decision").into(),
                )
            }
        };
        let area = crate::api_area("area", &f.area)?;
        let period = crate::api_period("period", &f.period)?;
        let key = TaskKey {
            plan_id: id,
            task_id: task.clone(),
            area: area.clone(),
            period,
        };
        let comment = Some(f.comment.trim()).filter(|c| !c.is_empty());
        state
            .app
            .review_task_progress(&reviewer, &key, f.version, decision, comment)
            .await?;
        let q = ProgressQuery {
            area: Some(area.to_string()),
            period: Some(period.to_string()),
        };
        progress_page(
            &state,
            &auth,
            id,
            &task,
            q,
            Some(crate::i18n::t(auth.lang, "progress.reviewed")),
        )
        .await
    }
    .await;
    page_result!(state, auth, &path, done)
}
