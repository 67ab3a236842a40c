use thiserror::Error;

/// Why a domain value was refused. Messages name the offending field and value.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error("invalid period `{input}`: {reason} (expected `2024`, `2024Q1`, `202403`, ISO week `2024W05` or day `20240203`)")]
    Period { input: String, reason: String },
    #[error("invalid area code `{0}`: expected 6, 9 or 12 digits (GB/T 2260 and its town/village extensions)")]
    AreaCode(String),
    #[error("invalid area level `{0}`: expected province, city, county, town or village")]
    AreaLevel(String),
    #[error("area {child}: level {child_level} must be below its parent {parent}'s level {parent_level}")]
    AreaHierarchy {
        child: String,
        child_level: String,
        parent: String,
        parent_level: String,
    },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
