//! The life of a plan (draft → confirmed → published) and of a reporting round.

use crate::area::AreaCode;
use crate::error::CoreError;
use crate::period::Period;
use serde::{Deserialize, Serialize};

/// A plan is imported as a draft, confirmed by a planner once its extraction is checked, and
/// published for the public pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanStatus {
    #[default]
    Draft,
    Confirmed,
    Published,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Confirmed => "confirmed",
            PlanStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Result<PlanStatus, CoreError> {
        Ok(match s {
            "draft" => PlanStatus::Draft,
            "confirmed" => PlanStatus::Confirmed,
            "published" => PlanStatus::Published,
            _ => {
                return Err(CoreError::invalid(
                    "status",
                    format!("unknown plan status {s:?} (draft, confirmed, published)"),
                ))
            }
        })
    }

    /// Forward one step at a time; a published plan may be withdrawn to confirmed.
    pub fn can_become(self, next: PlanStatus) -> bool {
        use PlanStatus::*;
        matches!(
            (self, next),
            (Draft, Confirmed)
                | (Confirmed, Published)
                | (Confirmed, Draft)
                | (Published, Confirmed)
        )
    }
}

/// A date as `YYYY-MM-DD`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date(jiff::civil::Date);

impl Date {
    pub fn parse(s: &str) -> Result<Date, CoreError> {
        let bad = || CoreError::invalid("date", format!("{s:?} is not a date like 2025-03-31"));
        if s.len() != 10 {
            return Err(bad());
        }
        s.parse::<jiff::civil::Date>().map(Date).map_err(|_| bad())
    }

    pub fn civil(self) -> jiff::civil::Date {
        self.0
    }

    /// A calendar date (always a valid one).
    pub fn from_civil(d: jiff::civil::Date) -> Date {
        Date(d)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<String> for Date {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Date::parse(&s)
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// A reporting round: who reports what for which period, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Round {
    pub id: i64,
    pub plan_id: i64,
    pub title: String,
    pub period: Period,
    pub deadline: Date,
    /// The areas that report (each reports for itself).
    pub areas: Vec<AreaCode>,
    /// The departments that report; empty means every department responsible for an
    /// indicator of the plan.
    pub departments: Vec<String>,
    pub open: bool,
    pub created_by: String,
    pub created_at: String,
}

/// What a planner fills in to open a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRound {
    pub plan_id: i64,
    pub title: String,
    pub period: Period,
    pub deadline: Date,
    pub areas: Vec<AreaCode>,
    #[serde(default)]
    pub departments: Vec<String>,
}

impl NewRound {
    pub fn validate(&self) -> Result<(), CoreError> {
        self.period.check()?;
        if self.title.trim().is_empty() {
            return Err(CoreError::invalid("title", "a round needs a title"));
        }
        crate::validate::check_name("title", &self.title)?;
        if self.areas.is_empty() {
            return Err(CoreError::invalid(
                "areas",
                "a round needs at least one area",
            ));
        }
        if self.departments.iter().any(|d| d.trim().is_empty()) {
            return Err(CoreError::invalid(
                "departments",
                "an empty department name",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_status_moves_one_step() {
        use PlanStatus::*;
        assert!(Draft.can_become(Confirmed));
        assert!(!Draft.can_become(Published));
        assert!(Published.can_become(Confirmed));
        assert_eq!(PlanStatus::parse("published").unwrap(), Published);
        assert!(PlanStatus::parse("done").is_err());
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(Date::parse("2025-03-31").unwrap().to_string(), "2025-03-31");
        for bad in ["2025-02-30", "2025-3-1", "20250301", "", "2025-03-31T00:00"] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }
}
