//! Evaluation of a Healthy-X plan (spec/evaluation.md): target resolution, the default
//! "time-proportional progress" status and the international methods beside it, forecasts,
//! roll-ups, the assessment (考核) and the alignment of a child plan with its parent.
//!
//! Pure: every function takes values and returns values. CSV and TOML arrive as text.

pub mod align;
pub mod assess;
pub mod data;
pub mod evaluate;
mod fmt;
pub mod settings;
pub mod stats;
pub mod target;

pub use align::{align, align_references, Alignment, AlignmentLine, AlignmentReport};
pub use assess::{assess, Assessment, ScoreCard, WorkingLine};
pub use data::{
    parse_references, parse_tasks, parse_values, Observations, References, RowError, TaskStatuses,
};
pub use evaluate::{evaluate, AreaTree, EvaluationInput, IndicatorResult, PlanEvaluation, Rollup};
pub use settings::Settings;
pub use target::{
    assess_target, BaselineSource, Condition, Context, Forecast, MethodResult, Status,
    TargetAssessment,
};

/// Why an evaluation could not start. Row-level problems are [`RowError`]s instead.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EvalError {
    #[error("settings: {0}")]
    Settings(String),
    #[error("{0}")]
    Input(String),
}
