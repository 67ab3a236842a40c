use thiserror::Error;

/// Why a series or a setting was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SurveillanceError {
    #[error(
        "序列须从某一天或某一 ISO 周开始 / a series starts at a day or an ISO week, not `{0}`"
    )]
    NotDailyOrWeekly(String),
    #[error("{period}: 病例数须为非负数 / a count must be a non-negative number, got {value}")]
    BadCount { period: String, value: f64 },
    #[error("{period}: 病例数 {value:e} 超过上限 10 亿 / a count of {value:e} is above the maximum of 1e9")]
    TooLarge { period: String, value: f64 },
    #[error("预警设置 {field}: {reason} / detector setting {field}: {reason}")]
    Setting { field: String, reason: String },
}

impl SurveillanceError {
    pub(crate) fn setting(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SurveillanceError::Setting {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
