//! One error shape for the whole API:
//! `{"error": {"code": "…", "message": "…", "field": "…", "current": …}}`, with the message in
//! Chinese or English from the request's language. Handlers return [`ApiError`]; the
//! [`localize`] middleware writes the message in the caller's language.

use crate::i18n::Lang;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use healthplan_access::Denied;
use healthplan_app::store::StoreError;
use healthplan_app::AppError;
use serde::Serialize;
use serde_json::Value as JsonValue;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `unauthorized`, `forbidden`, `not_found`, `invalid`,
    /// `version_conflict`, `locked`, `workflow`, `csrf`, `throttled`, …
    pub code: &'static str,
    /// For people, in the request's language (`Accept-Language`, or the page's choice).
    pub message: String,
    /// The field or location the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a version conflict: the value as it is stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<JsonValue>,
    /// On a refused data file: `rows`, every refused field with where it sits
    /// (`{"at": {"kind": "path", "path": "dataValues[3]"}, "code": "unmapped_element",
    /// "message": "…"}`), and `unmapped`, the codes no mapping row names
    /// (`{"kind": "数据元素 data element", "code": "DE_X"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rows: Option<JsonValue>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub zh: String,
    pub en: String,
    pub field: Option<String>,
    /// Boxed: rare, and it keeps the error small.
    pub current: Option<Box<JsonValue>>,
    pub retry_after: Option<u32>,
    /// A refused file's rows and unmapped codes.
    pub rejection: Option<Box<healthplan_app::formats::Rejection>>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            zh: zh.into(),
            en: en.into(),
            field: None,
            current: None,
            retry_after: None,
            rejection: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn invalid(field: &str, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", zh, en).field(field)
    }

    pub fn bad_request(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", zh, en)
    }

    /// A fault of the server's (logged where it happened), never the caller's.
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后重试",
            "internal error; please try again later",
        )
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "请先登录，或提供有效的 API 令牌",
            "sign in, or send a valid API token",
        )
    }

    /// The caller's role has no right to this kind of action at all.
    pub fn no_right(what_zh: &str, what_en: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("您的角色无权{what_zh}"),
            format!("your role may not {what_en}"),
        )
    }

    pub fn not_found(what_zh: &str, what_en: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what_zh}不存在"),
            format!("{what_en} not found"),
        )
    }

    fn with_current_if(self, cond: bool, current: impl FnOnce() -> JsonValue) -> ApiError {
        if cond {
            self.with_current(current())
        } else {
            self
        }
    }

    pub fn with_current(mut self, current: JsonValue) -> ApiError {
        self.current = Some(Box::new(current));
        self
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub(crate) fn body(&self, lang: Lang) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message(lang).to_string(),
                field: self.field.clone(),
                current: self.current.as_deref().cloned(),
                rows: self.rejection.as_deref().map(|r| rejection_json(r, lang)),
            },
        }
    }
}

/// A refused file's rows and unmapped codes, messages in the caller's language.
fn rejection_json(r: &healthplan_app::formats::Rejection, lang: Lang) -> JsonValue {
    let rows: Vec<JsonValue> = r
        .errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at,
                "place": e.at.to_string(),
                "code": e.code,
                "message": match lang { Lang::Zh => &e.zh, Lang::En => &e.en },
            })
        })
        .collect();
    let unmapped: Vec<JsonValue> = r
        .unmapped
        .iter()
        .map(|(kind, code)| serde_json::json!({"kind": kind, "code": code}))
        .collect();
    serde_json::json!({"errors": rows, "unmapped": unmapped})
}

/// A data or mapping file refused: 422 `rejected` listing every bad row when it was read row
/// by row, 422 `invalid` when it cannot be read at all.
fn exchange_error(file: &str, e: healthplan_app::formats::ExchangeError) -> ApiError {
    use healthplan_app::formats::ExchangeError;
    let status = match &e {
        ExchangeError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match e {
        ExchangeError::Rejected(r) => {
            let n = r.errors.len();
            let codes: Vec<String> = r.unmapped.iter().map(|(_, c)| c.clone()).collect();
            let (zh_codes, en_codes) = if codes.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!("；未映射的代码：{}", codes.join("、")),
                    format!("; unmapped codes: {}", codes.join(", ")),
                )
            };
            let mut err = ApiError::new(
                status,
                "rejected",
                format!("{file}：{n} 处错误，未导入任何数据{zh_codes}"),
                format!("{file}: {n} error(s), nothing imported{en_codes}"),
            )
            .field("file");
            err.rejection = Some(Box::new(r));
            err
        }
        other => {
            let m = format!("{file}: {other}");
            ApiError::new(status, "invalid", m.clone(), m).field("file")
        }
    }
}

/// What the store calls a record, as a Chinese reader calls it.
fn entity_zh(entity: &str) -> &str {
    match entity {
        "plan" => "计划",
        "round" => "填报轮次",
        "alert" => "预警",
        "area" => "地区",
        "data element" => "数据元",
        "data value" => "数据",
        "evidence" => "佐证材料",
        "indicator" => "指标",
        "mapping row" => "映射行",
        "proposal" => "建议指标",
        "task report" => "任务进展",
        "task" => "任务",
        "token" => "令牌",
        "user" => "用户",
        "watched series" => "监测序列",
        "department" => "部门",
        other => other,
    }
}

/// `计划 999 不存在`; an indicator by its place (`计划 1 的第 4 项指标不存在`).
fn not_found_zh(entity: &str, key: &str) -> String {
    if let Some((i, plan)) = key.split_once(" of plan ") {
        if let Ok(i) = i.parse::<usize>() {
            return format!("计划 {plan} 的第 {} 项{}不存在", i + 1, entity_zh(entity));
        }
    }
    format!("{} {key} 不存在", entity_zh(entity))
}

/// A store message written in both languages (`english / 中文`, either order) as its two
/// halves, so a page shows only its own language; one language is used for both otherwise.
pub fn split_languages(m: &str) -> (String, String) {
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if let Some((a, b)) = m.split_once(" / ") {
        match (cjk(a), cjk(b)) {
            (true, false) => return (a.trim().to_string(), b.trim().to_string()),
            (false, true) => return (b.trim().to_string(), a.trim().to_string()),
            _ => {}
        }
    }
    (m.to_string(), m.to_string())
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", d.zh, d.en)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Forbidden(d) => d.into(),
            StoreError::NotFound { entity, key } => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                not_found_zh(entity, &key),
                format!("{entity} {key} not found"),
            ),
            StoreError::AlreadyExists { entity, key } => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("{entity} {key} 已存在"),
                format!("{entity} {key} already exists"),
            ),
            StoreError::VersionConflict {
                entity,
                key,
                sent,
                stored,
            } => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!(
                    "{key} 已被他人修改（您提交的版本 {}，当前版本 {}），请刷新后重试",
                    sent.map_or("无".into(), |v| v.to_string()),
                    stored.map_or("无".into(), |v| v.to_string())
                ),
                format!(
                    "{entity} {key} changed meanwhile (you sent version {}, stored is {}); reload and try again",
                    sent.map_or("none".into(), |v| v.to_string()),
                    stored.map_or("none".into(), |v| v.to_string())
                ),
            )
            .field("version")
            // A plan edit's client needs the version to reload at; a value's handler puts
            // the stored value here itself.
            .with_current_if(entity == "plan", || serde_json::json!({ "version": stored })),
            StoreError::Workflow {
                key,
                from: "approved",
                ..
            } => ApiError::new(
                StatusCode::CONFLICT,
                "locked",
                format!("{key} 已审核通过并锁定，需由规划管理人员重新开放后才能修改"),
                format!("{key} is approved and locked; a planner must reopen it first"),
            ),
            StoreError::Workflow { key, from, to } => ApiError::new(
                StatusCode::CONFLICT,
                "workflow",
                format!("{key} 当前状态为 {from}，不能变为 {to}"),
                format!("{key}: status cannot change from {from} to {to}"),
            ),
            StoreError::Invalid(m) => {
                let (zh, en) = split_languages(&m);
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", zh, en)
            }
            StoreError::Core(c) => {
                let m = c.to_string();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Store(s) => s.into(),
            AppError::Exchange { file, error } => exchange_error(&file, error),
            AppError::Input(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
            }
            AppError::Core(c) => {
                let m = c.to_string();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
            }
            AppError::Analytics(a) => {
                let m = a.to_string();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
            }
            AppError::Document { message, .. } => {
                ApiError::invalid("file", message.clone(), message)
            }
            AppError::Panicked(_) => ApiError::internal(),
            AppError::Report(e) => {
                let m = e.to_string();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "report", m.clone(), m)
            }
            AppError::Closed => ApiError::new(
                StatusCode::CONFLICT,
                "closed",
                "该填报轮次已关闭",
                "this round is closed",
            ),
            AppError::Refused(r) => {
                let field = r.issues.first().map_or("value", |i| i.field.as_str());
                let join = |f: fn(&healthplan_core::Issue) -> &str| {
                    r.issues.iter().map(f).collect::<Vec<_>>().join("；")
                };
                ApiError::invalid(field, join(|i| &i.zh), join(|i| &i.en))
            }
        }
    }
}

impl From<healthplan_app::analytics::AnalyticsError> for ApiError {
    fn from(e: healthplan_app::analytics::AnalyticsError) -> ApiError {
        let m = e.to_string();
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body(Lang::Zh))).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r.extensions_mut().insert(self);
        r
    }
}

/// Rewrites an error response's message in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = Lang::of_request(req.headers());
    let mut res = next.run(req).await;
    if lang == Lang::Zh {
        return res;
    }
    let Some(err) = res.extensions_mut().remove::<ApiError>() else {
        return res;
    };
    let status = res.status();
    let headers = res.headers().clone();
    let mut out = (status, Json(err.body(lang))).into_response();
    for (k, v) in &headers {
        if k != header::CONTENT_LENGTH && k != header::CONTENT_TYPE {
            out.headers_mut().insert(k, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_language_store_message_is_split() {
        let (zh, en) =
            split_languages("a comment is required to return / 退回或重新开放需填写意见");
        assert_eq!(zh, "退回或重新开放需填写意见");
        assert_eq!(en, "a comment is required to return");
        let (zh, en) = split_languages("第 2 行：代码不能为空 / row 2: empty code");
        assert_eq!(
            (zh.as_str(), en.as_str()),
            ("第 2 行：代码不能为空", "row 2: empty code")
        );
        let (zh, en) = split_languages("plain");
        assert_eq!((zh.as_str(), en.as_str()), ("plain", "plain"));
    }

    #[test]
    fn a_missing_plan_is_named_in_chinese() {
        let e = ApiError::from(StoreError::NotFound {
            entity: "plan",
            key: "999".into(),
        });
        assert_eq!(e.zh, "计划 999 不存在");
        assert_eq!(e.en, "plan 999 not found");
    }

    /// A panicked task answers 500, never a 400 blaming the caller.
    #[tokio::test]
    async fn a_panicked_task_is_a_server_error() {
        let e = healthplan_app::blocking(|| -> u8 { panic!("a bug") })
            .await
            .unwrap_err();
        let api = ApiError::from(e);
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(api.code, "internal");
    }
}
