//! Types the store hands out besides the core domain types.

use healthplan_core::{AreaCode, DataValue, Indicator, Period, PlanStatus, Task, ValueStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCount {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// One line of `plan list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanSummary {
    pub id: i64,
    pub title: String,
    pub area: String,
    pub area_code: Option<AreaCode>,
    pub kind: Option<String>,
    pub tasks: i64,
    pub indicators: i64,
    pub has_source_text: bool,
    pub status: PlanStatus,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    /// Bumped by every write of the document; an edit names the version it was made on.
    pub version: i64,
}

/// What the public sees of a published plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Publication {
    pub plan_id: i64,
    pub as_of: i32,
    pub published_at: String,
    pub published_by: String,
    pub snapshot: Json,
}

/// A plan's indicator as a row: `id` is what data entry and APIs reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanIndicator {
    pub id: i64,
    pub plan_id: i64,
    /// Position in the document's `indicators` array.
    pub index: usize,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub indicator: Indicator,
}

/// A plan's task as a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanTask {
    pub id: i64,
    pub plan_id: i64,
    pub index: usize,
    /// Label and title of the section holding the task, e.g. `（一） 实施健康知识普及行动`.
    pub section: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub task: Task,
}

/// Which stored value: (element, area, period).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueKey {
    pub element: String,
    pub area: AreaCode,
    pub period: Period,
}

impl ValueKey {
    pub fn new(element: &str, area: AreaCode, period: Period) -> ValueKey {
        ValueKey {
            element: element.to_string(),
            area,
            period,
        }
    }

    pub fn of(v: &DataValue) -> ValueKey {
        ValueKey::new(&v.element, v.area.clone(), v.period)
    }
}

impl std::fmt::Display for ValueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&data_value_key(&self.element, &self.area, self.period))
    }
}

/// Periods from `from` to `to` (inclusive, either open): a period is in the range when it
/// lies wholly inside it, so the range 2023–2024 holds `2023`, `2024Q2` and `202312`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodRange {
    pub from: Option<Period>,
    pub to: Option<Period>,
}

impl PeriodRange {
    pub fn contains(&self, p: Period) -> bool {
        let days = p.day_numbers();
        self.from
            .is_none_or(|f| days.start >= f.day_numbers().start)
            && self.to.is_none_or(|t| days.end <= t.day_numbers().end)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataValueFilter {
    pub element: Option<String>,
    /// Any of these elements (with `element`, either).
    pub elements: Vec<String>,
    pub area: Option<AreaCode>,
    /// The area and everything below it.
    pub under: Option<AreaCode>,
    pub period: Option<Period>,
    pub range: PeriodRange,
    pub status: Option<ValueStatus>,
    /// Only demonstration values (`Some(true)`) or only real ones (`Some(false)`).
    pub synthetic: Option<bool>,
}

/// A stored value with who changed and who reviewed it last.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueRecord {
    pub value: DataValue,
    pub updated_by: String,
    pub updated_at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
}

/// Which element leads and which task units are written in the stored plans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsibilityRows {
    /// (element code, lead department of an indicator linked to it)
    pub elements: Vec<(String, String)>,
    /// (plan id, task id, responsible units)
    pub tasks: Vec<(i64, String, Vec<String>)>,
}

/// A signed-in session as stored (the id itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub csrf: String,
    pub created_at: String,
    pub last_seen_at: String,
}

/// A personal API token (the secret itself is shown once and stored only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Failed sign-ins under one key (`user:NAME` or `addr:IP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub key: String,
    pub failures: i64,
    pub last_failure_at: String,
}

/// Which task report: (plan, task, area, period).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskKey {
    pub plan_id: i64,
    pub task_id: String,
    pub area: AreaCode,
    pub period: Period,
}

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.plan_id, self.task_id, self.area, self.period
        )
    }
}

/// An evidence file to store with a task report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceMeta {
    pub id: i64,
    pub plan_id: i64,
    pub task_id: String,
    pub area: AreaCode,
    pub period: Period,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditAction {
    Insert,
    Update,
    Delete,
}

impl AuditAction {
    /// An insert, or an update of what `before` was.
    pub fn upsert<T>(before: Option<T>) -> AuditAction {
        if before.is_some() {
            AuditAction::Update
        } else {
            AuditAction::Insert
        }
    }

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    pub status: Option<healthplan_core::AlertStatus>,
    pub kind: Option<healthplan_core::AlertKind>,
    pub plan_id: Option<i64>,
    pub limit: Option<i64>,
}

/// What a row of the DHIS2 code mapping table maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    Element,
    OrgUnit,
    Period,
}

impl MappingKind {
    pub const ALL: [MappingKind; 3] = [
        MappingKind::Element,
        MappingKind::OrgUnit,
        MappingKind::Period,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MappingKind::Element => "element",
            MappingKind::OrgUnit => "org_unit",
            MappingKind::Period => "period",
        }
    }

    pub fn parse(s: &str) -> Option<MappingKind> {
        MappingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One row of the DHIS2 code mapping table: a local code and the DHIS2 code it is exchanged
/// as, one to one per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingRow {
    pub kind: MappingKind,
    pub local_code: String,
    pub dhis2_code: String,
}

impl MappingRow {
    pub fn new(kind: MappingKind, local_code: &str, dhis2_code: &str) -> MappingRow {
        MappingRow {
            kind,
            local_code: local_code.trim().to_string(),
            dhis2_code: dhis2_code.trim().to_string(),
        }
    }

    /// `element:DE1`, the row's key in the audit log.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.local_code)
    }
}

/// What replacing the mapping table did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingCount {
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// Which migrations a database has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub applied: usize,
    /// Versions this binary would apply.
    pub pending: Vec<i64>,
}

/// The connection pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

/// What walking the audit log's hash chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditCheck {
    /// Rows read.
    pub rows: u64,
    /// Rows written before the chain began (no hash).
    pub unchained: u64,
    /// The first row whose hash does not follow from its content and the row before: it or
    /// the row before it was changed, or a row between was removed.
    pub first_broken: Option<i64>,
}

/// A user's previous look at the home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HomeVisit {
    /// The newest audit row then: what changed since has a larger id.
    pub audit_id: i64,
    /// UTC, RFC 3339.
    pub at: String,
}
