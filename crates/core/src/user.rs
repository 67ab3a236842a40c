use crate::area::AreaCode;
use crate::error::CoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything, including users and areas.
    Admin,
    /// Committee office: plans, rounds, approval, evaluation, publishing in its subtree.
    Planner,
    /// A department or lower government entering its own data.
    Reporter,
    /// Leaders: read-only dashboards.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Planner, Role::Reporter, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Reporter => "reporter",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Role, CoreError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                CoreError::invalid(
                    "role",
                    format!("unknown role {s:?} (admin, planner, reporter, viewer)"),
                )
            })
    }
}

/// A role held over an area subtree, optionally narrowed to some departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub role: Role,
    pub area: AreaCode,
    /// Empty means every department of the area subtree.
    #[serde(default)]
    pub departments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// A disabled account cannot sign in or use its tokens; its history stays.
    #[serde(default)]
    pub disabled: bool,
}

impl User {
    pub fn new(username: &str, display_name: &str, grants: Vec<Grant>) -> Result<User, CoreError> {
        let u = username.trim();
        let ok = (2..=64).contains(&u.len())
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok {
            return Err(CoreError::invalid(
                "username",
                format!("{u:?}: 2–64 letters, digits, `.`, `_` or `-`"),
            ));
        }
        crate::validate::check_name("display_name", display_name.trim())?;
        for g in &grants {
            if g.departments.iter().any(|d| d.trim().is_empty()) {
                return Err(CoreError::invalid(
                    "departments",
                    format!("user {u}: an empty department name"),
                ));
            }
            for d in &g.departments {
                crate::validate::check_name("departments", d)?;
            }
        }
        Ok(User {
            username: u.into(),
            display_name: display_name.trim().into(),
            grants,
            disabled: false,
        })
    }

    /// Whether any grant has this role.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}
