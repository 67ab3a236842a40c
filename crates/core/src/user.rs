use crate::area::AreaCode;
use crate::error::CoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Committee office: plans, users, rounds, approval.
    Planner,
    /// A department or lower government entering its own data.
    Reporter,
    /// Leaders: read-only dashboards.
    Viewer,
}

/// A role held over an area subtree, optionally narrowed to some departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub area: AreaCode,
    /// Empty means every department of the area subtree.
    pub departments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
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
        Ok(User {
            username: u.into(),
            display_name: display_name.trim().into(),
            grants,
        })
    }
}
