//! Areas, departments, data elements and users.

use super::{area_param, CommonErrors, Json, Path, Text};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use healthplan_access::password;
use healthplan_app::store::ImportCount;
use healthplan_core::{Area, AreaLevel, DataElement, Department, Grant, Role, User};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_areas, import_areas))
        .routes(routes!(put_area))
        .routes(routes!(list_departments, add_departments))
        .routes(routes!(list_elements))
        .routes(routes!(put_element))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_password))
        .routes(routes!(get_four_eyes, put_four_eyes))
}

/// The area tree (public), ordered by code.
#[utoipa::path(get, path = "/api/v1/areas", tag = "registry", security(()),
    responses((status = 200, body = Vec<Area>), CommonErrors))]
async fn list_areas(State(state): State<Arc<AppState>>) -> Result<Json<Vec<Area>>, ApiError> {
    Ok(Json(state.app.store().list_areas().await?))
}

/// Imports areas from CSV text (`code,name,level,parent_code`), all or nothing; errors name
/// the line and field. Administrators only.
#[utoipa::path(post, path = "/api/v1/areas", tag = "registry",
    request_body(content = String, content_type = "text/csv",
        example = "code,name,level,parent_code\n440312,新区,county,440300\n"),
    responses((status = 200, body = ImportCount), CommonErrors))]
async fn import_areas(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Text(body): Text,
) -> Result<Json<ImportCount>, ApiError> {
    let admin = auth
        .signed_in()?
        .registry_admin()
        .ok_or_else(|| ApiError::no_right("修改行政区划", "change the area tree"))?;
    let known = state.app.store().list_areas().await?;
    let areas = healthplan_app::areas_csv::parse_areas_csv("areas.csv", &body, &known)?;
    Ok(Json(state.app.import_areas(&admin, &areas).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AreaEdit {
    pub name: String,
    /// `province`, `city`, `county`, `town` or `village`; from the code when absent.
    pub level: Option<AreaLevel>,
    pub parent_code: Option<String>,
}

/// Adds or edits one area. Administrators only.
#[utoipa::path(put, path = "/api/v1/areas/{code}", tag = "registry",
    params(("code" = String, Path, description = "GB/T 2260 area code")),
    request_body = AreaEdit,
    responses((status = 200, body = ImportCount), CommonErrors))]
async fn put_area(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(code): Path<String>,
    Json(body): Json<AreaEdit>,
) -> Result<Json<ImportCount>, ApiError> {
    let admin = auth
        .signed_in()?
        .registry_admin()
        .ok_or_else(|| ApiError::no_right("修改行政区划", "change the area tree"))?;
    let code = area_param("code", &code)?;
    let known = state.app.store().list_areas().await?;
    let parent = match &body.parent_code {
        Some(p) if !p.trim().is_empty() => {
            let p = area_param("parent_code", p)?;
            Some(known.iter().find(|a| a.code == p).cloned().ok_or_else(|| {
                ApiError::invalid(
                    "parent_code",
                    format!("上级区划 {p} 不存在"),
                    format!("parent {p} is not a known area"),
                )
            })?)
        }
        _ => None,
    };
    let level = body.level.unwrap_or_else(|| AreaLevel::from_code(&code));
    let area = Area::new(code, &body.name, level, parent.as_ref())
        .map_err(|e| ApiError::invalid("level", e.to_string(), e.to_string()))?;
    Ok(Json(state.app.import_areas(&admin, &[area]).await?))
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "registry",
    responses((status = 200, body = Vec<Department>), CommonErrors))]
async fn list_departments(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<Department>>, ApiError> {
    auth.signed_in()?;
    Ok(Json(state.app.store().list_departments().await?))
}

/// Adds departments (those already there are left). Administrators only.
#[utoipa::path(post, path = "/api/v1/departments", tag = "registry",
    request_body = Vec<Department>,
    responses((status = 200, body = ImportCount), CommonErrors))]
async fn add_departments(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<Vec<Department>>,
) -> Result<Json<ImportCount>, ApiError> {
    let admin = auth
        .signed_in()?
        .registry_admin()
        .ok_or_else(|| ApiError::no_right("管理部门", "manage departments"))?;
    let checked = body
        .iter()
        .map(|d| Department::new(&d.name, d.area.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid("name", e.to_string(), e.to_string()))?;
    Ok(Json(
        state
            .app
            .store()
            .import_departments(&admin, &checked)
            .await?,
    ))
}

/// Every data element: code, name, unit, value type and how it aggregates.
#[utoipa::path(get, path = "/api/v1/elements", tag = "registry",
    responses((status = 200, body = Vec<DataElement>), CommonErrors))]
async fn list_elements(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<DataElement>>, ApiError> {
    auth.signed_in()?;
    Ok(Json(state.app.store().list_data_elements().await?))
}

/// Declares or redefines a data element. Administrators only (elements are shared by every
/// plan and area).
#[utoipa::path(put, path = "/api/v1/elements/{code}", tag = "registry",
    params(("code" = String, Path, description = "Element code")),
    request_body = DataElement,
    responses((status = 200, body = DataElement), CommonErrors))]
async fn put_element(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(code): Path<String>,
    Json(body): Json<DataElement>,
) -> Result<Json<DataElement>, ApiError> {
    let admin = auth
        .signed_in()?
        .registry_admin()
        .ok_or_else(|| ApiError::no_right("定义数据元", "define data elements"))?;
    let el = DataElement::new(&code, &body.name, body.value_type, body.aggregation)
        .map_err(|e| ApiError::invalid("code", e.to_string(), e.to_string()))?
        .with_unit(body.unit.as_deref());
    state
        .app
        .store()
        .put_data_elements(&admin, std::slice::from_ref(&el))
        .await?;
    // Aggregation rules live in the engine too.
    state.app.reload().await?;
    Ok(Json(el))
}

/// Every account. Administrators only.
#[utoipa::path(get, path = "/api/v1/users", tag = "registry",
    responses((status = 200, body = Vec<User>), CommonErrors))]
async fn list_users(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<User>>, ApiError> {
    let admin = user_admin(&auth)?;
    Ok(Json(state.app.store().list_users(&admin).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// At least 10 characters, not a common password, not containing the user name.
    pub password: String,
    pub grants: Vec<Grant>,
}

async fn hashed(pw: &str, username: &str) -> Result<String, ApiError> {
    password::check_policy(pw, username)
        .map_err(|e| ApiError::invalid("password", e.to_string(), e.to_string()))?;
    let pw = pw.to_string();
    healthplan_app::blocking(move || password::hash_password(&pw))
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string(), e.to_string()))
}

/// Creates an account with its grants. Administrators only.
#[utoipa::path(post, path = "/api/v1/users", tag = "registry",
    request_body = NewUser,
    responses((status = 201, body = User), CommonErrors))]
async fn create_user(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let admin = user_admin(&auth)?;
    let user = User::new(&body.username, &body.display_name, body.grants)
        .map_err(|e| ApiError::invalid("username", e.to_string(), e.to_string()))?;
    let hash = hashed(&body.password, &user.username).await?;
    state
        .app
        .store()
        .create_user(&admin, &user, Some(&hash))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "registry",
    params(("username" = String, Path)),
    responses((status = 200, body = User), CommonErrors))]
async fn get_user(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    user_admin(&auth)?;
    state
        .app
        .store()
        .user(&username)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("用户", "user"))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserEdit {
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// A disabled account cannot sign in, and its sessions end.
    #[serde(default)]
    pub disabled: bool,
}

/// Changes an account's name, grants or disabled flag. Administrators only.
#[utoipa::path(put, path = "/api/v1/users/{username}", tag = "registry",
    params(("username" = String, Path)),
    request_body = UserEdit,
    responses((status = 200, body = User), CommonErrors))]
async fn update_user(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(username): Path<String>,
    Json(body): Json<UserEdit>,
) -> Result<Json<User>, ApiError> {
    let caps = auth.signed_in()?;
    let admin = caps
        .user_admin()
        .ok_or_else(|| ApiError::no_right("管理用户", "manage users"))?;
    // An administrator cannot lock themselves out; another administrator can.
    if caps
        .principal()
        .is_some_and(|p| p.username == username.trim())
    {
        if body.disabled {
            return Err(ApiError::invalid(
                "disabled",
                "不能停用自己的账号",
                "you cannot disable your own account",
            ));
        }
        if !body.grants.iter().any(|g| g.role == Role::Admin) {
            return Err(ApiError::invalid(
                "grants",
                "不能取消自己的管理员权限",
                "you cannot remove your own administrator grant",
            ));
        }
    }
    let mut user = User::new(&username, &body.display_name, body.grants)
        .map_err(|e| ApiError::invalid("grants", e.to_string(), e.to_string()))?;
    user.disabled = body.disabled;
    state.app.store().update_user(&admin, &user).await?;
    Ok(Json(user))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordReset {
    pub password: String,
}

/// Sets a new password for an account (its sessions end). Administrators only.
#[utoipa::path(post, path = "/api/v1/users/{username}/password", tag = "registry",
    params(("username" = String, Path)),
    request_body = PasswordReset,
    responses((status = 204, description = "Changed"), CommonErrors))]
async fn reset_password(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(username): Path<String>,
    Json(body): Json<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    let admin = user_admin(&auth)?;
    let hash = hashed(&body.password, &username).await?;
    state
        .app
        .store()
        .reset_password(&admin, &username, &hash)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, serde::Serialize, ToSchema)]
pub struct FourEyes {
    /// Whether an approver must be someone other than the last submitter.
    pub required: bool,
}

/// The four-eyes rule: on unless an administrator turned it off.
#[utoipa::path(get, path = "/api/v1/settings/four-eyes", tag = "registry",
    responses((status = 200, body = FourEyes), CommonErrors))]
async fn get_four_eyes(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<FourEyes>, ApiError> {
    auth.signed_in()?;
    let required = state.app.store().four_eyes().await?;
    Ok(Json(FourEyes { required }))
}

/// Turns the four-eyes rule on or off for the instance (administrators; audited).
#[utoipa::path(put, path = "/api/v1/settings/four-eyes", tag = "registry",
    request_body = FourEyes,
    responses((status = 200, body = FourEyes), CommonErrors))]
async fn put_four_eyes(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<FourEyes>,
) -> Result<Json<FourEyes>, ApiError> {
    let admin = user_admin(&auth)?;
    state
        .app
        .store()
        .set_four_eyes(&admin, body.required)
        .await?;
    Ok(Json(body))
}

/// The right to manage accounts (an administrator's), for the API and the admin pages.
pub(crate) fn user_admin(auth: &Auth) -> Result<healthplan_access::UserAdmin, ApiError> {
    auth.signed_in()?
        .user_admin()
        .ok_or_else(|| ApiError::no_right("管理用户", "manage users"))
}
