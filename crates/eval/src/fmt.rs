//! Number and unit formatting for explanations.

pub use healthplan_core::number::{num, pct, with_unit};

/// The unit of a difference: percentage points for a percentage.
pub fn diff_unit_zh(unit: Option<&str>) -> String {
    match unit {
        Some("%") | Some("％") => "个百分点".into(),
        Some("‰") => "个千分点".into(),
        Some(u) => u.into(),
        None => String::new(),
    }
}

pub fn diff_unit_en(unit: Option<&str>) -> String {
    match unit {
        Some("%") | Some("％") => " percentage points".into(),
        Some("‰") => " per-mille points".into(),
        Some(u) => format!(" {u}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(diff_unit_zh(Some("%")), "个百分点");
    }
}
