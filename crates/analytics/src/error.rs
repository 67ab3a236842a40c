use thiserror::Error;

/// Why the analytics engine refused a tree, a value or a query.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalyticsError {
    #[error("area {0} appears twice in the area tree")]
    DuplicateArea(String),
    #[error("area {child} names parent {parent}, which is not in the area tree")]
    MissingParent { child: String, parent: String },
    #[error("areas {0} form a cycle (each is its own ancestor)")]
    Cycle(String),
    #[error("area tree deeper than {0} levels")]
    TooDeep(usize),
    #[error("unknown area {0}")]
    UnknownArea(String),
    #[error("unknown data element {0}")]
    UnknownElement(String),
    #[error("unknown indicator {0}")]
    UnknownIndicator(String),
    #[error("data element {0} is defined twice")]
    DuplicateElement(String),
    #[error("indicator {code}: {reason}")]
    BadIndicator { code: String, reason: String },
    #[error("value {value} for {element} / {area} / {period} is not a finite number")]
    NotFinite {
        element: String,
        area: String,
        period: String,
        value: f64,
    },
    #[error("period {0} is outside the years the engine holds ({min}–{max})", min = healthplan_core::period::MIN_YEAR, max = healthplan_core::period::MAX_YEAR)]
    PeriodOutOfRange(String),
    #[error("level {level} is not below area {under} (level {under_level})")]
    BadLevel {
        level: u8,
        under: String,
        under_level: u8,
    },
    #[error("period range {from}–{to} is empty or reversed")]
    BadPeriodRange { from: i32, to: i32 },
}
