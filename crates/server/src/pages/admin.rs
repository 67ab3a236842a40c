//! Administration: users and grants, the area tree (CSV import, edits), departments, and how
//! data elements aggregate. Administrators only.

use super::{render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_access::password;
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, DataElement, Department, Grant, Role, User,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(admin))
        .route("/admin/users", post(create_user))
        .route("/admin/users/{name}/grants", post(add_grant))
        .route("/admin/users/{name}/grants/{i}/delete", post(remove_grant))
        .route("/admin/users/{name}/enabled", post(set_enabled))
        .route("/admin/users/{name}/password", post(reset_password))
        .route("/admin/areas", post(import_areas))
        .route("/admin/areas/{code}", post(edit_area))
        .route("/admin/departments", post(add_department))
        .route("/admin/departments/merge", post(merge_department))
        .route("/admin/elements/{code}", post(edit_element))
}

async fn admin_page(
    state: &AppState,
    auth: &Auth,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let caps = auth.signed_in()?;
    let users_admin = caps
        .user_admin()
        .ok_or_else(|| ApiError::no_right("管理系统", "administer"))?;
    let store = state.app.store();
    let users = store.list_users(&users_admin).await?;
    let areas = store.list_areas().await?;
    let departments = state.app.department_directory().await?;
    let elements = store.list_data_elements().await?;
    let backup = crate::ops::backup_status(store).await?;
    let depth = |a: &Area| a.level as usize;
    Ok(render(
        state,
        auth,
        "/admin",
        Page::new(
            "admin.html",
            json!({
                "users": users,
                "areas": areas.iter().map(|a| json!({"code": a.code, "name": a.name, "level": a.level, "parent": a.parent, "depth": depth(a)})).collect::<Vec<_>>(),
                "departments": departments,
                "elements": elements,
                // Least right first: a new account starts as a viewer unless the admin picks more.
                "roles": ["viewer", "reporter", "planner", "admin"],
                "area_names": areas.iter().map(|a| (a.code.to_string(), a.name.clone())).collect::<std::collections::BTreeMap<_, _>>(),
                "levels": ["province", "city", "county", "town", "village"],
                "aggregations": ["sum", "average", "weighted", "none"],
                "notice": notice,
                "error": error,
                "backup": backup.last,
                "backup_failure": backup.failure,
            }),
        ),
    ))
}

async fn admin(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/admin",
        admin_page(&state, &auth, None, None).await
    )
}

/// Runs an admin action and shows the admin page with its outcome.
async fn outcome(state: &AppState, auth: &Auth, r: Result<&'static str, ApiError>) -> Response {
    let page = match r {
        Ok(key) => admin_page(state, auth, Some(crate::i18n::t(auth.lang, key)), None).await,
        Err(e) if e.status == axum::http::StatusCode::UNAUTHORIZED => Err(e.into()),
        Err(e)
            if e.status == axum::http::StatusCode::FORBIDDEN
                && auth.caps.user_admin().is_none() =>
        {
            Err(e.into())
        }
        Err(e) => {
            let msg = e.message(auth.lang).to_string();
            admin_page(state, auth, None, Some(msg)).await
        }
    };
    page_result!(state, auth, "/admin", page)
}

fn grant_from(role: &str, area: &str, departments: &str) -> Result<Grant, ApiError> {
    let bad = |f: &str, e: String| ApiError::invalid(f, e.clone(), e);
    Ok(Grant {
        role: Role::parse(role).map_err(|e| bad("role", e.to_string()))?,
        area: AreaCode::parse(area).map_err(|e| bad("area", e.to_string()))?,
        departments: departments
            .split(['、', ',', '，'])
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect(),
    })
}

async fn hashed(pw: &str, username: &str) -> Result<String, ApiError> {
    password::check_policy(pw, username)
        .map_err(|e| ApiError::invalid("password", e.to_string(), e.to_string()))?;
    let pw = pw.to_string();
    healthplan_app::blocking(move || password::hash_password(&pw))
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string(), e.to_string()))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    area: String,
    #[serde(default)]
    departments: String,
}

async fn create_user(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<NewUserForm>,
) -> Response {
    let r = async {
        let admin = crate::api::user_admin(&auth)?;
        let user = User::new(
            &f.username,
            &f.display_name,
            vec![grant_from(&f.role, &f.area, &f.departments)?],
        )
        .map_err(|e| ApiError::invalid("username", e.to_string(), e.to_string()))?;
        let hash = hashed(&f.password, &user.username).await?;
        state
            .app
            .store()
            .create_user(&admin, &user, Some(&hash))
            .await?;
        Ok("admin.user_created")
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn with_user(
    state: &AppState,
    auth: &Auth,
    name: &str,
    change: impl FnOnce(&mut User) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let admin = crate::api::user_admin(auth)?;
    let mut u = state
        .app
        .store()
        .user(name)
        .await?
        .ok_or_else(|| ApiError::not_found("用户", "user"))?;
    change(&mut u)?;
    state.app.store().update_user(&admin, &u).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct GrantForm {
    role: String,
    area: String,
    #[serde(default)]
    departments: String,
}

async fn add_grant(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(name): Path<String>,
    Form(f): Form<GrantForm>,
) -> Response {
    let r = async {
        let g = grant_from(&f.role, &f.area, &f.departments)?;
        with_user(&state, &auth, &name, |u| {
            u.grants.push(g);
            Ok(())
        })
        .await?;
        Ok("admin.grant_added")
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn remove_grant(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((name, i)): Path<(String, usize)>,
) -> Response {
    let r = async {
        with_user(&state, &auth, &name, |u| {
            if i >= u.grants.len() {
                return Err(ApiError::not_found("授权", "grant"));
            }
            u.grants.remove(i);
            Ok(())
        })
        .await?;
        Ok("admin.grant_removed")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

async fn set_enabled(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(name): Path<String>,
    Form(f): Form<EnabledForm>,
) -> Response {
    let r = async {
        with_user(&state, &auth, &name, |u| {
            u.disabled = f.enabled != "true";
            Ok(())
        })
        .await?;
        Ok("admin.user_changed")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

async fn reset_password(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(name): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let r = async {
        let admin = crate::api::user_admin(&auth)?;
        let hash = hashed(&f.password, &name).await?;
        state
            .app
            .store()
            .reset_password(&admin, &name, &hash)
            .await?;
        Ok("admin.password_reset")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct AreasForm {
    csv: String,
}

async fn import_areas(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<AreasForm>,
) -> Response {
    let r = async {
        let admin = auth
            .signed_in()?
            .registry_admin()
            .ok_or_else(|| ApiError::no_right("修改行政区划", "change the area tree"))?;
        let known = state.app.store().list_areas().await?;
        let areas = healthplan_app::areas_csv::parse_areas_csv("areas.csv", &f.csv, &known)?;
        state.app.import_areas(&admin, &areas).await?;
        Ok("admin.areas_imported")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct AreaForm {
    name: String,
    level: String,
    #[serde(default)]
    parent_code: String,
}

async fn edit_area(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(code): Path<String>,
    Form(f): Form<AreaForm>,
) -> Response {
    let r = async {
        let admin = auth
            .signed_in()?
            .registry_admin()
            .ok_or_else(|| ApiError::no_right("修改行政区划", "change the area tree"))?;
        let bad = |field: &str, e: String| ApiError::invalid(field, e.clone(), e);
        let code = AreaCode::parse(&code).map_err(|e| bad("code", e.to_string()))?;
        let level: AreaLevel = f
            .level
            .parse()
            .map_err(|e: healthplan_core::CoreError| bad("level", e.to_string()))?;
        let known = state.app.store().list_areas().await?;
        let parent = match f.parent_code.trim() {
            "" => None,
            p => {
                let p = AreaCode::parse(p).map_err(|e| bad("parent_code", e.to_string()))?;
                Some(
                    known
                        .iter()
                        .find(|a| a.code == p)
                        .cloned()
                        .ok_or_else(|| bad("parent_code", format!("{p} ?")))?,
                )
            }
        };
        let area = Area::new(code, &f.name, level, parent.as_ref())
            .map_err(|e| bad("level", e.to_string()))?;
        state.app.import_areas(&admin, &[area]).await?;
        Ok("admin.area_saved")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct DepartmentForm {
    name: String,
    area: String,
}

async fn add_department(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<DepartmentForm>,
) -> Response {
    let r = async {
        let admin = auth
            .signed_in()?
            .registry_admin()
            .ok_or_else(|| ApiError::no_right("管理部门", "manage departments"))?;
        let bad = |field: &str, e: String| ApiError::invalid(field, e.clone(), e);
        let d = Department::new(
            &f.name,
            AreaCode::parse(&f.area).map_err(|e| bad("area", e.to_string()))?,
        )
        .map_err(|e| bad("name", e.to_string()))?;
        state.app.store().import_departments(&admin, &[d]).await?;
        Ok("admin.department_added")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct MergeForm {
    variant: String,
    department: String,
}

/// Merges a variant spelling into a department: it becomes an alias the policy, the forms
/// and later imports resolve.
async fn merge_department(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<MergeForm>,
) -> Response {
    let r = async {
        let admin = auth
            .signed_in()?
            .registry_admin()
            .ok_or_else(|| ApiError::no_right("管理部门", "manage departments"))?;
        state
            .app
            .merge_department(&admin, &f.variant, &f.department)
            .await?;
        Ok("uifix.department_merged")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct ElementForm {
    aggregation: String,
}

async fn edit_element(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(code): Path<String>,
    Form(f): Form<ElementForm>,
) -> Response {
    let r = async {
        let admin = auth
            .signed_in()?
            .registry_admin()
            .ok_or_else(|| ApiError::no_right("定义数据元", "define data elements"))?;
        let mut el: DataElement = state
            .app
            .store()
            .list_data_elements()
            .await?
            .into_iter()
            .find(|e| e.code == code)
            .ok_or_else(|| ApiError::not_found("数据元", "data element"))?;
        el.aggregation = match f.aggregation.as_str() {
            "sum" => Aggregation::Sum,
            "average" => Aggregation::Average,
            "weighted" => Aggregation::Weighted,
            _ => Aggregation::None,
        };
        state.app.store().put_data_elements(&admin, &[el]).await?;
        state.app.reload().await?;
        Ok("admin.element_saved")
    }
    .await;
    outcome(&state, &auth, r).await
}
