//! Domain types of healthplan. No I/O: every type validates on construction, so a value that
//! exists is a valid one.

pub mod area;
pub mod data;
pub mod error;
pub mod indicator;
pub mod period;
pub mod plan;
pub mod target;
pub mod user;

pub use area::{Area, AreaCode, AreaLevel, Department};
pub use data::{DataElement, DataValue, TaskProgress, TaskStatus, Value, ValueStatus, ValueType};
pub use error::CoreError;
pub use indicator::{Aggregation, Baseline, Direction, Formula, Indicator, Property};
pub use period::{Period, PeriodKind};
pub use plan::{
    Doubt, PlanDocument, PlanJsonError, Responsibility, ResponsibilityMode, Section, Span,
    TargetStatement, Task,
};
pub use target::{Cmp, RelativeTo, Target, TargetKind, PERCENTAGE_POINTS};
pub use user::{Grant, Role, User};
