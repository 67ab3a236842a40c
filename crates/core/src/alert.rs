//! Early-warning alerts (监测预警): raised by re-evaluation, round deadlines and outbreak
//! detectors; handled by the lead department and the planner.

use crate::area::AreaCode;
use crate::error::CoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// A re-evaluation moved an indicator into lagging, off-track or moving-away progress.
    Status,
    /// A binding indicator missed an interim target.
    Interim,
    /// The forecast says the target year will likely be missed.
    Forecast,
    /// A reporting round passed its deadline with forms missing.
    RoundLate,
    /// An outbreak detector signalled on a surveillance series.
    Outbreak,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::Status,
        AlertKind::Interim,
        AlertKind::Forecast,
        AlertKind::RoundLate,
        AlertKind::Outbreak,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Status => "status",
            AlertKind::Interim => "interim",
            AlertKind::Forecast => "forecast",
            AlertKind::RoundLate => "round_late",
            AlertKind::Outbreak => "outbreak",
        }
    }

    pub fn parse(s: &str) -> Result<AlertKind, CoreError> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| CoreError::invalid("kind", format!("unknown alert kind {s:?}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertLevel {
    Info,
    Warning,
    Critical,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warning => "warning",
            AlertLevel::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Result<AlertLevel, CoreError> {
        Ok(match s {
            "info" => AlertLevel::Info,
            "warning" => AlertLevel::Warning,
            "critical" => AlertLevel::Critical,
            _ => {
                return Err(CoreError::invalid(
                    "severity",
                    format!("unknown level {s:?}"),
                ))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertStatus {
    #[default]
    Open,
    Acknowledged,
    Closed,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<AlertStatus, CoreError> {
        Ok(match s {
            "open" => AlertStatus::Open,
            "acknowledged" => AlertStatus::Acknowledged,
            "closed" => AlertStatus::Closed,
            _ => {
                return Err(CoreError::invalid(
                    "status",
                    format!("unknown alert status {s:?}"),
                ))
            }
        })
    }
}

/// What a person does with an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertAction {
    Acknowledge,
    Close,
    Reopen,
}

impl AlertAction {
    /// The status the action leads to from `from`, if it applies.
    pub fn apply(self, from: AlertStatus) -> Option<AlertStatus> {
        use AlertStatus::*;
        match (self, from) {
            (AlertAction::Acknowledge, Open) => Some(Acknowledged),
            (AlertAction::Close, Open | Acknowledged) => Some(Closed),
            (AlertAction::Reopen, Closed | Acknowledged) => Some(Open),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Close => "close",
            AlertAction::Reopen => "reopen",
        }
    }
}

/// What a check found about one subject (an indicator in an area, a round's form…). The store
/// raises an alert when `state` differs from the last state seen for `subject` and `alarming`
/// is set; an unchanged state raises nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: AlertKind,
    pub subject: String,
    pub state: String,
    pub alarming: bool,
    pub level: AlertLevel,
    pub plan_id: Option<i64>,
    pub indicator: Option<usize>,
    pub round_id: Option<i64>,
    pub area: AreaCode,
    pub element: Option<String>,
    pub period: Option<String>,
    /// The lead department it goes to.
    pub department: Option<String>,
    pub title_zh: String,
    pub title_en: String,
    pub message_zh: String,
    pub message_en: String,
    /// Where to look (a page of the product).
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    pub state: String,
    pub level: AlertLevel,
    pub plan_id: Option<i64>,
    pub indicator: Option<i64>,
    pub round_id: Option<i64>,
    pub area: AreaCode,
    pub element: Option<String>,
    pub period: Option<String>,
    pub department: Option<String>,
    pub title_zh: String,
    pub title_en: String,
    pub message_zh: String,
    pub message_en: String,
    pub link: String,
    pub status: AlertStatus,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertComment {
    pub author: String,
    pub at: String,
    pub text: String,
}

/// How often a surveillance series is reported: one count a day or one an ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SeriesStep {
    Day,
    Week,
}

impl SeriesStep {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesStep::Day => "day",
            SeriesStep::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Result<SeriesStep, CoreError> {
        match s {
            "day" => Ok(SeriesStep::Day),
            "week" => Ok(SeriesStep::Week),
            _ => Err(CoreError::invalid(
                "step",
                format!("{s:?}: 须为 day 或 week / must be day or week"),
            )),
        }
    }

    /// Whether a value's period is one count of this series.
    pub fn fits(self, p: crate::Period) -> bool {
        matches!(
            (self, p),
            (SeriesStep::Day, crate::Period::Day(..)) | (SeriesStep::Week, crate::Period::Week(..))
        )
    }
}

/// A data element watched by the outbreak detectors: its counts per area are a surveillance
/// series (dengue cases a day, ILI a week…); `department` answers for its alarms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WatchedSeries {
    pub element: String,
    pub step: SeriesStep,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl WatchedSeries {
    pub fn new(
        element: &str,
        step: SeriesStep,
        department: Option<&str>,
    ) -> Result<WatchedSeries, CoreError> {
        let element = element.trim();
        if element.is_empty() || element.chars().any(char::is_whitespace) {
            return Err(CoreError::invalid(
                "element",
                format!("{element:?}: 须为数据元素代码 / must be a data element code"),
            ));
        }
        let department = department.map(str::trim).filter(|d| !d.is_empty());
        Ok(WatchedSeries {
            element: element.to_string(),
            step,
            department: department.map(String::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_move_status() {
        use AlertStatus::*;
        assert_eq!(AlertAction::Acknowledge.apply(Open), Some(Acknowledged));
        assert_eq!(AlertAction::Close.apply(Acknowledged), Some(Closed));
        assert_eq!(AlertAction::Reopen.apply(Closed), Some(Open));
        assert_eq!(AlertAction::Acknowledge.apply(Closed), None);
        assert_eq!(
            AlertKind::parse("round_late").unwrap(),
            AlertKind::RoundLate
        );
        assert!(AlertKind::parse("x").is_err());
    }
}
