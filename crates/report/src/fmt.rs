//! Numbers and values as the report prints them.

use healthplan_eval::target::{milestone_label, Condition, TargetAssessment};

/// At most two decimals (four below 0.1), no trailing zeros; the same reading as the
/// evaluation's explanations so the report and `healthplan evaluate` print the same digits.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let d = if x != 0.0 && x.abs() < 0.1 { 4 } else { 2 };
    let s = format!("{x:.d$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// A share 0–1 as a percentage with one decimal: 0.70792 → `70.8%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A value with its unit; in a rate unit such as `1/10万` the value replaces the 1.
pub fn with_unit(x: f64, unit: Option<&str>) -> String {
    let unit = unit.unwrap_or("");
    let unit = match unit.strip_prefix('1') {
        Some(rest) if rest.starts_with('/') => rest,
        _ => unit,
    };
    format!("{}{unit}", num(x))
}

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
        assert_eq!(num(25.4 - 14.18), "11.22");
        assert_eq!(num(30.0), "30");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(pct(0.70793), "70.8%");
        assert_eq!(with_unit(12.0, Some("1/10万")), "12/10万");
        assert_eq!(value(0.5, true), "基本实现");
    }
}
