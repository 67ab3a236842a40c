//! Numbers as people read them, the same wherever they are printed: the pages, the
//! evaluation's explanations, the report, the surveillance signals and the value checks.

/// At most two decimals (four below 0.1, so 0.004 stays 0.004), no trailing zeros; `—` for
/// a missing number, `∞` for an unbounded one.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "—".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
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

/// A value with its unit (`25.4%`, `80.6岁`). In a rate unit such as `1/10万` the value takes
/// the place of the 1: `12/10万`, not `121/10万`.
pub fn with_unit(x: f64, unit: Option<&str>) -> String {
    let unit = unit.unwrap_or("");
    let unit = match unit.strip_prefix('1') {
        Some(rest) if rest.starts_with('/') => rest,
        _ => unit,
    };
    format!("{}{unit}", num(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(25.4 - 14.18), "11.22");
        assert_eq!(num(30.0), "30");
        assert_eq!(num(82.456), "82.46");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(0.004), "0.004");
        assert_eq!(num(-0.0001), "-0.0001");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(num(f64::INFINITY), "∞");
        assert_eq!(pct(0.70793), "70.8%");
        assert_eq!(with_unit(12.0, Some("1/10万")), "12/10万");
        assert_eq!(with_unit(25.4, Some("%")), "25.4%");
    }
}
