use crate::area::AreaCode;
use crate::error::CoreError;
use crate::indicator::Aggregation;
use crate::period::Period;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ValueType {
    Number,
    Boolean,
    Text,
}

/// A raw quantity collected from reporters (DHIS2 "data element").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataElement {
    pub code: String,
    pub name: String,
    pub value_type: ValueType,
    pub aggregation: Aggregation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl DataElement {
    pub fn new(
        code: &str,
        name: &str,
        value_type: ValueType,
        aggregation: Aggregation,
    ) -> Result<Self, CoreError> {
        let code = code.trim();
        if code.is_empty() || code.chars().any(char::is_whitespace) {
            return Err(CoreError::invalid(
                "data element code",
                format!("{code:?} must be non-empty without spaces"),
            ));
        }
        if name.trim().is_empty() {
            return Err(CoreError::invalid(
                "data element name",
                format!("element {code} has an empty name"),
            ));
        }
        crate::validate::check_name("data element name", name.trim())?;
        Ok(DataElement {
            code: code.into(),
            name: name.trim().into(),
            value_type,
            aggregation,
            unit: None,
        })
    }

    pub fn with_unit(mut self, unit: Option<&str>) -> DataElement {
        self.unit = unit
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ValueStatus {
    #[default]
    Draft,
    Submitted,
    Approved,
    Returned,
}

impl ValueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueStatus::Draft => "draft",
            ValueStatus::Submitted => "submitted",
            ValueStatus::Approved => "approved",
            ValueStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        Ok(match s {
            "draft" => ValueStatus::Draft,
            "submitted" => ValueStatus::Submitted,
            "approved" => ValueStatus::Approved,
            "returned" => ValueStatus::Returned,
            _ => {
                return Err(CoreError::invalid(
                    "status",
                    format!("unknown status {s:?}"),
                ))
            }
        })
    }

    /// What a reporter's save may do: a new, draft or returned value becomes draft or
    /// submitted. Submitted values wait for review and approved ones are locked.
    pub fn can_become(self, next: ValueStatus) -> bool {
        use ValueStatus::*;
        matches!(
            (self, next),
            (Draft | Returned, Draft) | (Draft | Returned, Submitted)
        )
    }

    /// What a reviewer's decision does to a value in this status; `None` when the decision
    /// does not apply (only submitted values are approved or returned, only approved ones
    /// reopened).
    pub fn review(self, decision: ReviewDecision) -> Option<ValueStatus> {
        use ValueStatus::*;
        match (self, decision) {
            (Submitted, ReviewDecision::Approve) => Some(Approved),
            (Submitted, ReviewDecision::Return) => Some(Returned),
            (Approved, ReviewDecision::Reopen) => Some(Returned),
            _ => None,
        }
    }
}

/// A reviewer's decision on a submitted (or approved) value or task report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReviewDecision {
    Approve,
    /// Back to the reporter with a comment.
    Return,
    /// Unlocks an approved value: it goes back to the reporter as returned, with a comment.
    Reopen,
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Approve => "approve",
            ReviewDecision::Return => "return",
            ReviewDecision::Reopen => "reopen",
        }
    }

    /// Returning and reopening must say why.
    pub fn needs_comment(self) -> bool {
        !matches!(self, ReviewDecision::Approve)
    }
}

/// The content of one reported value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Value {
    Number {
        value: f64,
    },
    /// Numerator and denominator reported separately (a rate's parts).
    Ratio {
        numerator: f64,
        denominator: f64,
    },
    Boolean {
        value: bool,
    },
    Text {
        value: String,
    },
}

/// One reported value for (data element or indicator, area, period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataValue {
    pub element: String,
    pub area: AreaCode,
    pub period: Period,
    pub value: Value,
    pub status: ValueStatus,
    /// Bumped on every change; writers send the version they read (optimistic locking).
    pub version: i64,
    /// The reporter's note (also the confirmation of a large jump from last period).
    pub comment: Option<String>,
    /// Why a reviewer returned or reopened the value.
    #[serde(default)]
    pub review_comment: Option<String>,
    /// Generated demonstration data (演示数据), never real monitoring data.
    #[serde(default)]
    pub synthetic: bool,
}

impl DataValue {
    pub fn new(
        element: &str,
        area: AreaCode,
        period: Period,
        value: Value,
    ) -> Result<Self, CoreError> {
        if element.trim().is_empty() {
            return Err(CoreError::invalid("element", "empty data element code"));
        }
        let period = period.check()?;
        match &value {
            Value::Number { value } if !value.is_finite() => {
                return Err(CoreError::invalid(
                    "value",
                    format!("{value} is not a finite number"),
                ));
            }
            Value::Ratio {
                numerator,
                denominator,
            } => {
                if !numerator.is_finite() || !denominator.is_finite() {
                    return Err(CoreError::invalid(
                        "value",
                        "numerator and denominator must be finite",
                    ));
                }
                if *denominator <= 0.0 {
                    return Err(CoreError::invalid(
                        "denominator",
                        format!("{denominator} must be positive"),
                    ));
                }
                if *numerator < 0.0 {
                    return Err(CoreError::invalid(
                        "numerator",
                        format!("{numerator} must not be negative"),
                    ));
                }
            }
            Value::Text { value } => crate::validate::check_note("value", value)?,
            _ => {}
        }
        Ok(DataValue {
            element: element.trim().into(),
            area,
            period,
            value,
            status: ValueStatus::Draft,
            version: 1,
            comment: None,
            review_comment: None,
            synthetic: false,
        })
    }

    /// The notes are set after construction, so whoever stores a value checks them too.
    pub fn check_notes(&self) -> Result<(), CoreError> {
        for (field, note) in [
            ("comment", &self.comment),
            ("review_comment", &self.review_comment),
        ] {
            if let Some(n) = note {
                crate::validate::check_note(field, n)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Completed,
    Delayed,
}

/// A reporter's progress note on one task for one area and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskProgress {
    pub plan_id: i64,
    pub task_id: String,
    pub area: AreaCode,
    pub period: Period,
    pub status: TaskStatus,
    pub note: String,
    /// Where the report is in the same draft → submitted → approved | returned workflow as
    /// data values.
    #[serde(default)]
    pub workflow: ValueStatus,
    /// Bumped on every change (optimistic locking, as for data values).
    #[serde(default = "first_version")]
    pub version: i64,
    #[serde(default)]
    pub review_comment: Option<String>,
}

fn first_version() -> i64 {
    1
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::NotStarted,
        TaskStatus::InProgress,
        TaskStatus::Completed,
        TaskStatus::Delayed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Delayed => "delayed",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_impossible_values() {
        let a = AreaCode::parse("440300").unwrap();
        let p = Period::Year(2024);
        assert!(DataValue::new("x", a.clone(), p, Value::Number { value: f64::NAN }).is_err());
        assert!(DataValue::new(
            "x",
            a.clone(),
            p,
            Value::Ratio {
                numerator: 1.0,
                denominator: 0.0
            }
        )
        .is_err());
        assert!(DataValue::new("", a.clone(), p, Value::Number { value: 1.0 }).is_err());
        assert!(DataValue::new(
            "x",
            a.clone(),
            Period::Month(2101, 1),
            Value::Number { value: 1.0 }
        )
        .is_err());
        assert!(DataValue::new(
            "x",
            a,
            p,
            Value::Ratio {
                numerator: 3.0,
                denominator: 4.0
            }
        )
        .is_ok());
        assert!(ValueStatus::Returned.can_become(ValueStatus::Submitted));
        assert!(!ValueStatus::Draft.can_become(ValueStatus::Approved));
        assert!(!ValueStatus::Submitted.can_become(ValueStatus::Draft));
        assert!(!ValueStatus::Approved.can_become(ValueStatus::Draft));
        use ReviewDecision::*;
        assert_eq!(
            ValueStatus::Submitted.review(Approve),
            Some(ValueStatus::Approved)
        );
        assert_eq!(
            ValueStatus::Approved.review(Reopen),
            Some(ValueStatus::Returned)
        );
        assert_eq!(ValueStatus::Draft.review(Approve), None);
        assert_eq!(ValueStatus::Approved.review(Return), None);
    }
}
