//! DHIS2 exchange for planners: the code mapping table (view, edit a row, upload a CSV), and
//! values out and in as DHIS2 JSON or ADX through the same code as the API.

use super::{render, Page, PageResult};
use crate::api::exchange::{import, mapping_editor, ValuesImported};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::exchange::{self as ex};
use healthplan_app::store::{MappingKind, MappingRow};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/exchange", get(page))
        .route("/exchange/mapping.csv", get(mapping_csv))
        .route("/exchange/mapping/row", post(put_row))
        .route("/exchange/mapping/delete", post(delete_row))
        .route("/exchange/mapping/upload", post(upload_mapping))
        .route("/exchange/values", post(upload_values))
}

/// What the last action did, shown above the page.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    /// A refused file's rows: (place, message).
    rows: Vec<(String, String)>,
    result: Option<ValuesImported>,
}

fn message(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

async fn exchange_page(state: &AppState, auth: &Auth, out: Outcome) -> PageResult {
    let caps = auth.signed_in()?;
    mapping_editor(auth)?;
    let store = state.app.store();
    let rows = store.list_mapping().await?;
    let plans = store.list_plans(&caps.reader()).await?;
    let lang = auth.lang;
    let result = out.result.map(|r| {
        json!({
            "inserted": r.inserted, "updated": r.updated, "unchanged": r.unchanged,
            "skipped": r.skipped.iter().map(|e| json!({"at": e.at.to_string(), "message": message(lang, &e.zh, &e.en)})).collect::<Vec<_>>(),
            "warnings": r.warnings.iter().map(|e| json!({"at": e.at.to_string(), "message": message(lang, &e.zh, &e.en)})).collect::<Vec<_>>(),
        })
    });
    Ok(render(
        state,
        auth,
        "/exchange",
        Page::new(
            "exchange.html",
            json!({
                "rows": rows.iter().map(|r| json!({
                    "kind": r.kind,
                    "kind_label": crate::i18n::t(lang, &format!("exchange.kind_{}", r.kind.as_str())),
                    "local_code": r.local_code,
                    "dhis2_code": r.dhis2_code,
                })).collect::<Vec<_>>(),
                "can_import": caps.bulk_writer().is_some() || caps.value_writer().is_some(),
                "kinds": MappingKind::ALL.iter().map(|k| json!({
                    "code": k.as_str(),
                    "label": crate::i18n::t(lang, &format!("exchange.kind_{}", k.as_str())),
                })).collect::<Vec<_>>(),
                "plans": plans.iter().map(|p| json!({"id": p.id, "title": p.title})).collect::<Vec<_>>(),
                "notice": out.notice,
                "error": out.error,
                "error_rows": out.rows.iter().map(|(at, m)| json!({"at": at, "message": m})).collect::<Vec<_>>(),
                "result": result,
            }),
        ),
    ))
}

async fn page(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/exchange",
        exchange_page(&state, &auth, Outcome::default()).await
    )
}

/// Shows the page with what an action did; 401/403 become the error page.
async fn outcome(state: &AppState, auth: &Auth, r: Result<Outcome, ApiError>) -> Response {
    let page = match r {
        Ok(out) => exchange_page(state, auth, out).await,
        Err(e) if matches!(e.status.as_u16(), 401 | 403) => Err(e.into()),
        Err(e) => {
            let rows = e
                .rejection
                .as_deref()
                .map(|r| {
                    r.errors
                        .iter()
                        .map(|x| (x.at.to_string(), message(auth.lang, &x.zh, &x.en)))
                        .collect()
                })
                .unwrap_or_default();
            let out = Outcome {
                error: Some(message(auth.lang, &e.zh, &e.en)),
                rows,
                ..Outcome::default()
            };
            exchange_page(state, auth, out).await
        }
    };
    page_result!(state, auth, "/exchange", page)
}

fn notice(auth: &Auth, key: &str) -> Outcome {
    Outcome {
        notice: Some(crate::i18n::t(auth.lang, key)),
        ..Outcome::default()
    }
}

/// The stored table as `kind,local_code,dhis2_code` CSV, the form `mapping load` reads.
async fn mapping_csv(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let r = async {
        auth.signed_in()?;
        let m = ex::stored_mapping(state.app.store()).await?;
        Ok::<_, ApiError>(m.to_csv())
    }
    .await;
    match r {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    super::upload::attachment("dhis2-mapping.csv"),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => page_result!(state, auth, "/exchange", Err(e.into())),
    }
}

#[derive(Debug, Deserialize)]
pub struct RowForm {
    kind: String,
    local_code: String,
    #[serde(default)]
    dhis2_code: String,
}

fn kind(s: &str) -> Result<MappingKind, ApiError> {
    MappingKind::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!("未知的类型“{s}”"),
            format!("unknown kind {s:?}"),
        )
    })
}

async fn put_row(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<RowForm>,
) -> Response {
    let r = async {
        let by = mapping_editor(&auth)?;
        let row = MappingRow::new(kind(&f.kind)?, &f.local_code, &f.dhis2_code);
        state.app.store().put_mapping_row(&by, &row).await?;
        Ok(notice(&auth, "exchange.saved"))
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn delete_row(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<RowForm>,
) -> Response {
    let r = async {
        let by = mapping_editor(&auth)?;
        state
            .app
            .store()
            .delete_mapping_row(&by, kind(&f.kind)?, &f.local_code)
            .await?;
        Ok(notice(&auth, "exchange.removed"))
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn upload_mapping(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    mut form: Multipart,
) -> Response {
    let r = async {
        let by = mapping_editor(&auth)?;
        let (name, bytes) = super::upload::file_field(&mut form, "file").await?;
        let m = ex::read_mapping_csv(&name, &bytes)?;
        let n = state
            .app
            .store()
            .replace_mapping(&by, &ex::rows_of(&m))
            .await?;
        let text = crate::i18n::t(auth.lang, "exchange.loaded");
        Ok(Outcome {
            notice: Some(format!(
                "{name}: {text} +{} ~{} −{} ={}",
                n.inserted, n.updated, n.deleted, n.unchanged
            )),
            ..Outcome::default()
        })
    }
    .await;
    outcome(&state, &auth, r).await
}

/// Reads the text fields and the file of the values upload form.
async fn values_form(
    form: &mut Multipart,
) -> Result<(ex::Format, bool, String, Vec<u8>), ApiError> {
    let bad = |e: String| {
        ApiError::bad_request(
            format!("上传内容无法读取：{e}"),
            format!("the upload cannot be read: {e}"),
        )
    };
    let (mut format, mut skip, mut file) = (None, false, None);
    while let Some(field) = form.next_field().await.map_err(|e| bad(e.body_text()))? {
        match field.name() {
            Some("format") => {
                let v = field.text().await.map_err(|e| bad(e.body_text()))?;
                format = Some(match v.as_str() {
                    "adx" => ex::Format::Adx,
                    _ => ex::Format::Dhis2Json,
                });
            }
            Some("skip_bad_rows") => skip = true,
            Some("file") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "upload".into());
                let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let (name, bytes) = file.filter(|(_, b)| !b.is_empty()).ok_or_else(|| {
        ApiError::invalid("file", "请选择要上传的文件", "choose a file to upload")
    })?;
    let format = format
        .or_else(|| ex::Format::from_name(&name))
        .unwrap_or(ex::Format::Dhis2Json);
    Ok((format, skip, name, bytes))
}

async fn upload_values(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    mut form: Multipart,
) -> Response {
    let r = async {
        let caps = auth.signed_in()?;
        mapping_editor(&auth)?;
        let (format, skip, name, bytes) = values_form(&mut form).await?;
        let result = import(&state, caps, format, &name, &bytes, skip).await?;
        let text = crate::i18n::t(auth.lang, "exchange.imported");
        Ok(Outcome {
            notice: Some(format!("{name}: {text}")),
            result: Some(result),
            ..Outcome::default()
        })
    }
    .await;
    outcome(&state, &auth, r).await
}
