//! Numbers and values as the report prints them.

use healthplan_eval::target::{milestone_label, Condition, TargetAssessment};

pub use healthplan_core::number::{num, pct, with_unit};

/// An observed value as a cell: `实现` for a milestone, else the number.
pub fn value(x: f64, milestone: bool) -> String {
    if milestone {
        milestone_label(x).to_string()
    } else {
        num(x)
    }
}

pub fn is_milestone(t: &TargetAssessment) -> bool {
    t.condition == Some(Condition::Milestone)
}

/// The target as resolved (`≥30`), else as written.
pub fn target(t: &TargetAssessment) -> String {
    match t.condition {
        Some(Condition::Milestone) => "实现".into(),
        Some(c) => c.describe(None),
        None if t.text.trim().is_empty() => "—".into(),
        None => t.text.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(value(0.5, true), "基本实现");
    }
}
