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

/// Renders an error as a page in the caller's language (a sign-in redirect for 401).
pub fn error_page(state: &AppState, auth: &Auth, path: &str, e: ApiError) -> Response {
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
            serde_json::json!({"status": e.status.as_u16(), "message": message, "code": e.code}),
        ),
    );
    *r.status_mut() = e.status;
    r
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
        .merge(plans::router())
        .merge(review::router())
        .merge(dashboards::router())
        .merge(entry::router())
        .merge(admin::router())
        .merge(alerts::router())
        .merge(surveillance::router())
        .merge(exchange::router())
        .merge(public::router())
        .fallback(not_found)
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
