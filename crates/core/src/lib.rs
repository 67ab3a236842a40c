//! Domain types of healthplan. No I/O: every type validates on construction, so a value that
//! exists is a valid one.

pub mod alert;
pub mod area;
pub mod data;
pub mod error;
pub mod indicator;
pub mod number;
#[cfg(feature = "openapi")]
mod openapi;
pub mod period;
pub mod plan;
pub mod target;
pub mod user;
pub mod validate;
pub mod workflow;

pub use alert::{
    Alert, AlertAction, AlertComment, AlertKind, AlertLevel, AlertStatus, Finding, SeriesStep,
    WatchedSeries,
};
pub use area::{Area, AreaCode, AreaLevel, Department};
pub use data::{
    DataElement, DataValue, ReviewDecision, TaskProgress, TaskStatus, Value, ValueStatus, ValueType,
};
pub use error::CoreError;
pub use indicator::{
    element_match_key, normalise_name, Aggregation, AppliesTo, Baseline, Direction, Formula,
    Indicator, Property, Source,
};
pub use period::{Period, PeriodKind};
pub use plan::{
    Decision, Doubt, PlanDocument, PlanJsonError, Proposal, Responsibility, ResponsibilityMode,
    Section, Span, TargetStatement, Task,
};
pub use target::{Cmp, RelativeTo, Target, TargetKind, PERCENTAGE_POINTS};
pub use user::{Grant, Role, User};
pub use validate::{Checked, Input, Issue, IssueCode, Raw, Severity, ValueRule};
pub use workflow::{Date, NewRound, PlanStatus, Round};
