//! The web pages: server-rendered minijinja templates with htmx, Chinese first with an
//! English switch, every string from the catalogues in `i18n/`. A handler renders the
//! `*_partial.html` fragment for an htmx request and the full page otherwise.
//!
//! Pages use the same capabilities as the API: a handler asks `Auth` for the right it needs,
//! and the store filters what it reads.

mod admin;
mod alerts;
// Shared with build.rs, which names the assets; here only the tests call it.
#[cfg(test)]
mod asset_name;
mod assets;
mod dashboards;
mod entry;
mod exchange;
mod home;
mod notifications;
mod plans;
mod public;
mod review;
mod session;
mod surveillance;
pub mod upload;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;
use healthplan_core::Role;
use minijinja::{Environment, Value};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The templates, compiled once.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "macros.html",
    "error.html",
    "login.html",
    "home.html",
    "plans.html",
    "plan.html",
    "plan_partial.html",
    "review.html",
    "review_item_partial.html",
    "indicator.html",
    "dashboard.html",
    "dashboard_partial.html",
    "department.html",
    "assessment.html",
    "alignment.html",
    "rounds.html",
    "round_form.html",
    "form_row_partial.html",
    "overview.html",
    "approvals.html",
    "approval_row_partial.html",
    "progress.html",
    "account.html",
    "admin.html",
    "public_plans.html",
    "public_plan.html",
    "alerts.html",
    "surveillance.html",
    "exchange.html",
    "notifications.html",
    "notify_admin.html",
    "glossary.html",
    "search.html",
    "bulk_result.html",
);

pub struct Views {
    env: Environment<'static>,
}

impl Default for Views {
    fn default() -> Self {
        Views::new()
    }
}

pub use healthplan_core::number::num;

fn lang_of(state: &minijinja::State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Zh)
}

impl Views {
    pub fn new() -> Views {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                // Templates are compiled in; the template test fails on a broken one.
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env.add_function(
            "t",
            |state: &minijinja::State, key: &str, args: minijinja::value::Rest<Value>| {
                let mut s = i18n::t(lang_of(state), key);
                for a in args.iter() {
                    if let Some(i) = s.find("{}") {
                        s.replace_range(i..i + 2, &a.to_string());
                    }
                }
                s
            },
        );
        // Pages link assets by their content-hashed names (cached for a year).
        // Safe: built from the compiled-in names (auto-escaping would write `/` as `&#x2f;`).
        env.add_function("asset", |name: &str| {
            Value::from_safe_string(
                assets::asset_path(name).unwrap_or_else(|| format!("/assets/{name}")),
            )
        });
        env.add_filter("num", |v: Value| match f64::try_from(v.clone()) {
            Ok(x) => num(x),
            Err(_) if v.is_none() || v.is_undefined() => "—".into(),
            Err(_) => v.to_string(),
        });
        env.add_filter("when", |v: Value| when(&v.to_string()));
        env.add_filter("pct", |v: Value| match f64::try_from(v) {
            Ok(x) => format!("{}%", num(x * 100.0)),
            Err(_) => "—".into(),
        });
        Views { env }
    }

    fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String, minijinja::Error> {
        self.env
            .get_template(name)?
            .render(Value::from(minijinja::value::Serde(ctx)))
    }
}

/// A stored time as people read it: `2026-12-07 15:47` in the server's time zone (the clock's),
/// not ISO 8601; a value that is not a time is shown as it is.
pub fn when(s: &str) -> String {
    if s.is_empty() || s == "none" || s == "undefined" {
        return "—".into();
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return t
            .to_zoned_datetime(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
    }
    if let Ok(t) = s.parse::<jiff::civil::DateTime>() {
        return t.strftime("%Y-%m-%d %H:%M").to_string();
    }
    s.to_string()
}

/// Who did something, as people read it: the account's display name; a change made at the
/// command line (`cli:…`) or by the server itself says so instead of showing the account.
pub fn person(actor: &str, names: &HashMap<String, String>, lang: Lang) -> String {
    if actor.starts_with("cli:") {
        return i18n::t(lang, "uifix.actor_cli");
    }
    if actor == "system" {
        return i18n::t(lang, "uifix.actor_system");
    }
    names
        .get(actor)
        .cloned()
        .unwrap_or_else(|| actor.to_string())
}

/// Display names of the accounts named (unknown names are left out).
pub async fn people(state: &AppState, actors: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for a in actors {
        let a = a.as_str();
        if out.contains_key(a) || a.starts_with("cli:") {
            continue;
        }
        if let Ok(Some(u)) = state.app.store().user(a).await {
            out.insert(a.to_string(), u.display_name.clone());
        }
    }
    out
}

/// What every page shows around its content.
#[derive(Debug, Serialize)]
struct Chrome {
    lang: &'static str,
    /// The other language, for the switch.
    other_lang: &'static str,
    user: Option<ChromeUser>,
    csrf: String,
    path: String,
    nav: Vec<NavItem>,
    /// The way back to the home page (工作台), outermost first; the last is this page.
    crumbs: Vec<Crumb>,
}

/// One step of the breadcrumbs: a catalogue key, or `plan` for the page's plan (its title
/// comes from the page's own `plan`).
#[derive(Debug, Serialize)]
struct Crumb {
    href: Option<String>,
    key: &'static str,
}

/// The breadcrumbs of a path: 工作台 › section › (plan) › page.
fn crumbs(path: &str) -> Vec<Crumb> {
    let to = |href: &str, key: &'static str| Crumb {
        href: Some(href.to_string()),
        key,
    };
    let mut out = vec![to("/", "nav.home")];
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let section = |p: &str| -> Option<&'static str> {
        Some(match p {
            "plans" => "nav.plans",
            "rounds" => "nav.rounds",
            "approvals" => "nav.approvals",
            "alerts" => "nav.alerts",
            "surveillance" => "nav.surveillance",
            "exchange" => "nav.exchange",
            "admin" => "nav.admin",
            "public" => "nav.public",
            "account" => "crumb.account",
            "search" => "crumb.search",
            _ => return None,
        })
    };
    let Some(first) = parts.first() else {
        return out;
    };
    let Some(key) = section(first) else {
        return out;
    };
    out.push(to(&format!("/{first}"), key));
    if parts.len() >= 2
        && (*first == "plans" || *first == "public")
        && parts[1].parse::<i64>().is_ok()
    {
        out.push(to(&format!("/{first}/{}", parts[1]), "plan"));
        if let Some(page) = parts.get(2) {
            out.push(to(
                &format!("/{first}/{}/{page}", parts[1]),
                match *page {
                    "dashboard" => "plan.dashboard",
                    "review" => "crumb.review",
                    "indicators" => "crumb.indicator",
                    "departments" => "crumb.departments",
                    "assessment" => "crumb.assessment",
                    "alignment" => "crumb.alignment",
                    "tasks" => "crumb.task",
                    _ => "crumb.page",
                },
            ));
        }
    } else if *first == "rounds" && parts.len() >= 2 {
        out.push(to(
            path,
            if parts.get(2) == Some(&"overview") {
                "round.overview"
            } else {
                "crumb.form"
            },
        ));
    }
    if let Some(last) = out.last_mut() {
        last.href = None;
    }
    out
}

#[derive(Debug, Serialize)]
struct ChromeUser {
    name: String,
    username: String,
    roles: Vec<Role>,
}

#[derive(Debug, Serialize)]
struct NavItem {
    href: &'static str,
    key: &'static str,
    active: bool,
}

fn chrome(auth: &Auth, path: &str) -> Chrome {
    let caps = &auth.caps;
    let mut nav = vec![];
    let mut add = |href: &'static str, key: &'static str| {
        nav.push(NavItem {
            href,
            key,
            active: path == href || (href != "/" && path.starts_with(href)),
        })
    };
    if caps.is_signed_in() {
        add("/", "nav.home");
        add("/plans", "nav.plans");
        add("/rounds", "nav.rounds");
        if caps.reviewer().is_some() {
            add("/approvals", "nav.approvals");
        }
        add("/alerts", "nav.alerts");
        add("/surveillance", "nav.surveillance");
        if caps.mapping_editor().is_some() {
            add("/exchange", "nav.exchange");
        }
        if caps.user_admin().is_some() {
            add("/admin", "nav.admin");
        }
    }
    add("/public", "nav.public");
    Chrome {
        lang: auth.lang.code(),
        other_lang: match auth.lang {
            Lang::Zh => "en",
            Lang::En => "zh-CN",
        },
        user: caps.principal().map(|p| ChromeUser {
            name: p.display_name.clone(),
            username: p.username.clone(),
            roles: caps.roles(),
        }),
        csrf: auth.csrf().to_string(),
        path: path.to_string(),
        nav,
        crumbs: crumbs(path),
    }
}

/// Whether the request came from htmx (and wants a fragment).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// A rendered page, or the fragment of it htmx asked for.
pub struct Page {
    pub template: &'static str,
    pub ctx: serde_json::Value,
}

impl Page {
    pub fn new(template: &'static str, ctx: serde_json::Value) -> Page {
        Page { template, ctx }
    }
}

/// Renders with the chrome and the language; a template error is logged and shown as a
/// plain error page, never a panic.
pub fn render(state: &AppState, auth: &Auth, path: &str, page: Page) -> Response {
    let mut ctx = page.ctx;
    if let serde_json::Value::Object(m) = &mut ctx {
        m.insert("lang".into(), auth.lang.code().into());
        m.insert(
            "chrome".into(),
            serde_json::to_value(chrome(auth, path)).unwrap_or_default(),
        );
    }
    match state.views.render(page.template, &ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(template = page.template, error = %e, "page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>500</title><p>页面出错 / page error</p>"),
            )
                .into_response()
        }
    }
}

/// Why a page cannot be shown, as people see it.
pub struct PageError {
    pub error: ApiError,
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError { error }
    }
}

impl From<healthplan_app::store::StoreError> for PageError {
    fn from(e: healthplan_app::store::StoreError) -> Self {
        PageError { error: e.into() }
    }
}

impl From<healthplan_app::AppError> for PageError {
    fn from(e: healthplan_app::AppError) -> Self {
        PageError { error: e.into() }
    }
}

impl From<healthplan_access::Denied> for PageError {
    fn from(e: healthplan_access::Denied) -> Self {
        PageError { error: e.into() }
    }
}

/// A page-rendering handler's result.
pub type PageResult = Result<Response, PageError>;

/// Renders an error as a page in the caller's language (a sign-in redirect for 401), with
/// a link back to the list the page belongs to.
pub fn error_page(state: &AppState, auth: &Auth, path: &str, e: ApiError) -> Response {
    let back = parent_of(path);
    error_page_back(state, auth, path, e, &back, "uifix.back_up")
}

/// The list a page belongs to: `/plans/999/dashboard` → `/plans`.
fn parent_of(path: &str) -> String {
    let mut parts = path.trim_matches('/').split('/').filter(|p| !p.is_empty());
    match (parts.next(), parts.next()) {
        (Some(first), Some(_)) => format!("/{first}"),
        _ => "/".to_string(),
    }
}

fn error_page_back(
    state: &AppState,
    auth: &Auth,
    path: &str,
    e: ApiError,
    back: &str,
    back_key: &str,
) -> Response {
    if e.status == StatusCode::UNAUTHORIZED && !auth.caps.is_signed_in() {
        let next = urlencode(path);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let message = e.message(auth.lang).to_string();
    let mut r = render(
        state,
        auth,
        path,
        Page::new(
            "error.html",
            serde_json::json!({"status": e.status.as_u16(), "message": message, "code": e.code,
                               "back": (back != "/").then_some(back), "back_key": back_key}),
        ),
    );
    *r.status_mut() = e.status;
    r
}

/// What axum's own refusal of a request's address or form says (`Failed to deserialize
/// query string: as_of: invalid digit found in string`, `Invalid URL: Cannot parse `abc` to
/// a `i64``), as an error naming the parameter and the value sent, in both languages.
fn rejection_error(status: StatusCode, text: &str, query: Option<&str>) -> (ApiError, bool) {
    let number = [
        "digit", "float", "i32", "i64", "u32", "u64", "u8", "f64", "number",
    ]
    .iter()
    .any(|w| text.contains(w));
    let (want_zh, want_en) = if number {
        ("，应为数字", "; a number is expected")
    } else {
        ("", "")
    };
    if let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") {
        let name = rest.split(':').next().unwrap_or("").trim();
        let name = if name.contains(' ') { "" } else { name };
        let value = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let e = if name.is_empty() {
            ApiError::new(
                status,
                "bad_request",
                format!("地址中的参数无效{want_zh}"),
                format!("a parameter of the address is invalid{want_en}"),
            )
        } else {
            ApiError::new(
                status,
                "bad_request",
                format!("参数 {name} 的值“{value}”无效{want_zh}"),
                format!("parameter {name}: “{value}” is not a valid value{want_en}"),
            )
            .field(name)
        };
        return (e, true);
    }
    if let Some(rest) = text.strip_prefix("Invalid URL: ") {
        // `with value `abc`` when the parameter is named, else the first quoted part.
        let quoted: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        let (name, value) = if rest.contains("with value") && quoted.len() >= 2 {
            (Some(quoted[0]), quoted[1])
        } else {
            (None, quoted.first().copied().unwrap_or(""))
        };
        let e = match name {
            Some(n) => ApiError::new(
                status,
                "bad_request",
                format!("地址中的 {n}“{value}”无效{want_zh}"),
                format!("{n} “{value}” in the address is not valid{want_en}"),
            ),
            None => ApiError::new(
                status,
                "bad_request",
                format!("地址中的编号“{value}”无效{want_zh}"),
                format!("“{value}” in the address is not a valid id{want_en}"),
            ),
        };
        return (e, false);
    }
    let detail = text.trim();
    (
        ApiError::new(
            status,
            "bad_request",
            format!("提交的内容无法读取（{detail}）"),
            format!("the request cannot be read ({detail})"),
        ),
        false,
    )
}

/// Axum refuses a bad path or query parameter or form with plain text before a page
/// handler runs; this turns that into an error page in the caller's language.
async fn rejections_as_pages(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let auth = req.extensions().get::<Auth>().cloned();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let Some(auth) = auth else { return res };
    if path.starts_with("/api/") || !res.status().is_client_error() || !plain {
        return res;
    }
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let (e, query_param) =
        rejection_error(status, &String::from_utf8_lossy(&body), query.as_deref());
    if query_param {
        // The same page without the bad parameter.
        error_page_back(&state, &auth, &path, e, &path, "uifix.back_plain")
    } else {
        error_page(&state, &auth, &path, e)
    }
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A small inline message for htmx swaps (errors shown next to the field).
pub fn fragment_error(auth: &Auth, e: &ApiError) -> Response {
    let message = match auth.lang {
        Lang::Zh => &e.zh,
        Lang::En => &e.en,
    };
    let escaped = minijinja::HtmlEscape(message).to_string();
    let mut r = Html(format!("<p class=\"error\" role=\"alert\">{escaped}</p>")).into_response();
    // htmx leaves 4xx responses unswapped unless told; the fragment is the error itself.
    *r.status_mut() = StatusCode::OK;
    r.headers_mut()
        .insert("hx-reswap", header::HeaderValue::from_static("innerHTML"));
    r
}

/// The page routes; each module adds its own.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .merge(assets::router())
        .merge(session::router())
        .merge(home::router())
        .merge(plans::router())
        .merge(review::router())
        .merge(dashboards::router())
        .merge(entry::router())
        .merge(admin::router())
        .merge(alerts::router())
        .merge(surveillance::router())
        .merge(exchange::router())
        .merge(public::router())
        .merge(notifications::router())
        .fallback(not_found)
}

/// The page routes with refusals of their addresses shown as pages.
pub fn router_with_state(state: Arc<AppState>) -> Router<Arc<AppState>> {
    router().layer(axum::middleware::from_fn_with_state(
        state,
        rejections_as_pages,
    ))
}

/// An address nothing answers: an error page in the caller's language (JSON under `/api/`),
/// not an empty body.
async fn not_found(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    auth: Auth,
    uri: axum::http::Uri,
) -> Response {
    let e = ApiError::not_found("该页面", "this page");
    if uri.path().starts_with("/api/") {
        return e.into_response();
    }
    error_page(&state, &auth, uri.path(), e)
}

/// Wraps a page handler: its errors become error pages in the caller's language.
#[macro_export]
macro_rules! page_result {
    ($state:expr, $auth:expr, $path:expr, $body:expr) => {{
        let r: $crate::pages::PageResult = $body;
        match r {
            Ok(resp) => resp,
            Err(e) => $crate::pages::error_page(&$state, &$auth, $path, e.error),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_local_minutes_and_actors_by_name() {
        let shown = when("2026-12-07T07:47:09Z");
        assert_eq!(shown.len(), 16, "{shown}");
        assert!(!shown.contains('T'), "{shown}");
        assert_eq!(when("2026-12-07T15:47:09"), "2026-12-07 15:47");
        let names = HashMap::from([("zhang".to_string(), "张三".to_string())]);
        assert_eq!(person("zhang", &names, Lang::Zh), "张三");
        assert_eq!(person("cli:unknown", &names, Lang::Zh), "命令行导入");
        assert_eq!(person("cli:root", &names, Lang::En), "command-line import");
    }

    #[test]
    fn a_refused_query_parameter_is_named_with_its_value() {
        let (e, q) = rejection_error(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: as_of: invalid digit found in string",
            Some("as_of=abc"),
        );
        assert!(q);
        assert_eq!(e.zh, "参数 as_of 的值“abc”无效，应为数字");
        assert!(e.en.contains("as_of") && e.en.contains("abc"), "{}", e.en);
        let (e, q) = rejection_error(
            StatusCode::BAD_REQUEST,
            "Invalid URL: Cannot parse `abc` to a `i64`",
            None,
        );
        assert!(!q);
        assert!(e.zh.contains("“abc”"), "{}", e.zh);
        assert_eq!(parent_of("/plans/999/dashboard"), "/plans");
        assert_eq!(parent_of("/plans"), "/");
    }

    #[test]
    fn every_template_compiles_and_every_key_is_in_the_catalogues() {
        let views = Views::new();
        for (name, source) in TEMPLATES {
            views
                .env
                .get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            // Every t("…") names a key both catalogues have.
            for part in source.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or("");
                // `t("status." ~ s)` builds the key: the prefix must start some key.
                let built = part[key.len()..]
                    .trim_start_matches('"')
                    .trim_start()
                    .starts_with('~');
                for lang in [Lang::Zh, Lang::En] {
                    let catalogue = i18n::catalogue(lang);
                    let found = if built {
                        catalogue.keys().any(|k| k.starts_with(key))
                    } else {
                        catalogue.contains_key(key)
                    };
                    assert!(found, "{name}: key {key:?} missing in {lang:?}");
                }
            }
        }
    }
}
