//! Types the store hands out besides the core domain types.

use healthplan_core::{AreaCode, Indicator, Period, Task};
use serde::Serialize;
use serde_json::Value as Json;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCount {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// One line of `plan list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    pub id: i64,
    pub title: String,
    pub area: String,
    pub area_code: Option<AreaCode>,
    pub kind: Option<String>,
    pub tasks: i64,
    pub indicators: i64,
    pub has_source_text: bool,
    pub created_at: String,
    pub created_by: String,
}

/// A plan's indicator as a row: `id` is what data entry and APIs reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanIndicator {
    pub id: i64,
    pub plan_id: i64,
    /// Position in the document's `indicators` array.
    pub index: usize,
    pub indicator: Indicator,
}

/// A plan's task as a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanTask {
    pub id: i64,
    pub plan_id: i64,
    pub index: usize,
    /// Label and title of the section holding the task, e.g. `（一） 实施健康知识普及行动`.
    pub section: Option<String>,
    pub task: Task,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataValueFilter {
    pub element: Option<String>,
    pub area: Option<AreaCode>,
    pub period: Option<Period>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Insert,
    Update,
    Delete,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Insert => "insert",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        Some(match s {
            "insert" => AuditAction::Insert,
            "update" => AuditAction::Update,
            "delete" => AuditAction::Delete,
            _ => return None,
        })
    }
}

/// One append-only audit row: who changed what, when, from what to what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    /// `area`, `department`, `plan`, `data_element`, `data_value`, `task_progress`, `user`.
    pub entity: String,
    pub entity_key: String,
    pub action: AuditAction,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub actor: Option<String>,
    /// Only entries with an id above this (for paging or "since").
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
}

/// The audit key of a data value.
pub(crate) fn data_value_key(element: &str, area: &AreaCode, period: Period) -> String {
    format!("{element}/{area}/{period}")
}

/// The number a stored value carries for the analytics engine (text values carry none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numeric {
    Number(f64),
    Ratio { numerator: f64, denominator: f64 },
    Boolean(bool),
}

/// One stored number-bearing value as [`crate::Store::for_each_numeric_value`] hands it out.
/// Element and area borrow from the reader's per-distinct-string caches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericValue<'a> {
    pub element: &'a str,
    pub area: &'a AreaCode,
    pub period: Period,
    pub value: Numeric,
}

/// What a [`crate::Store::for_each_numeric_value`] scan saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumericScan {
    /// Values handed to the callback.
    pub numeric: usize,
    /// Text values, which carry no number and are not handed out.
    pub text: usize,
}
