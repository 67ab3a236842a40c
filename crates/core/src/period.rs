use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A reporting period. Ids are strict: `2024`, `2024Q1`, `202403`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
    Month(i32, u8),
}

/// Years a plan can plausibly talk about; keeps typos like `20224` out.
pub const MIN_YEAR: i32 = 1949;
pub const MAX_YEAR: i32 = 2100;

fn err(input: &str, reason: impl Into<String>) -> CoreError {
    CoreError::Period {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn parse_year(input: &str, digits: &str) -> Result<i32, CoreError> {
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(input, "the year must be four digits"));
    }
    let y: i32 = digits.parse().map_err(|_| err(input, "bad year"))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(err(
            input,
            format!("year {y} is outside {MIN_YEAR}–{MAX_YEAR}"),
        ));
    }
    Ok(y)
}

impl Period {
    /// The variants are public, so a value built directly may be out of range (month 13,
    /// year 2101); this re-checks it by the same rules as parsing.
    pub fn check(self) -> Result<Period, CoreError> {
        self.to_string().parse()
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }

    /// The period one level up the tree (month → quarter → year); `None` for a year.
    pub fn parent(&self) -> Option<Period> {
        match *self {
            Period::Year(_) => None,
            Period::Quarter(y, _) => Some(Period::Year(y)),
            Period::Month(y, m) => Some(Period::Quarter(y, (m - 1) / 3 + 1)),
        }
    }

    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Year(_) => PeriodKind::Year,
            Period::Quarter(..) => PeriodKind::Quarter,
            Period::Month(..) => PeriodKind::Month,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl FromStr for Period {
    type Err = CoreError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if !input.is_ascii() {
            return Err(err(input, "only ASCII digits and `Q` are allowed"));
        }
        match input.len() {
            4 => Ok(Period::Year(parse_year(input, input)?)),
            6 if input.as_bytes()[4] == b'Q' => {
                let y = parse_year(input, &input[..4])?;
                match &input[5..] {
                    q @ ("1" | "2" | "3" | "4") => Ok(Period::Quarter(y, q.parse().unwrap_or(1))),
                    _ => Err(err(input, "the quarter must be Q1–Q4")),
                }
            }
            6 => {
                let y = parse_year(input, &input[..4])?;
                let m = &input[4..];
                if !m.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(input, "the month must be two digits"));
                }
                let m: u8 = m.parse().map_err(|_| err(input, "bad month"))?;
                if !(1..=12).contains(&m) {
                    return Err(err(input, format!("month {m} is outside 01–12")));
                }
                Ok(Period::Month(y, m))
            }
            _ => Err(err(input, "wrong length")),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Quarter(y, q) => write!(f, "{y:04}Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}{m:02}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!("2024".parse::<Period>().unwrap(), Period::Year(2024));
        assert_eq!(
            "2024Q1".parse::<Period>().unwrap(),
            Period::Quarter(2024, 1)
        );
        assert_eq!("202403".parse::<Period>().unwrap(), Period::Month(2024, 3));
        assert_eq!(
            Period::Month(2024, 11).parent(),
            Some(Period::Quarter(2024, 4))
        );
        assert_eq!(Period::Quarter(2024, 4).parent(), Some(Period::Year(2024)));
    }

    #[test]
    fn check_refuses_out_of_range_variants() {
        assert!(Period::Month(2101, 1).check().is_err());
        assert!(Period::Month(2024, 13).check().is_err());
        assert!(Period::Quarter(2024, 0).check().is_err());
        assert_eq!(
            Period::Quarter(2024, 2).check(),
            Ok(Period::Quarter(2024, 2))
        );
    }

    #[test]
    fn refuses_malformed_ids_with_reason() {
        for bad in [
            "",
            "24",
            "2024Q5",
            "2024Q0",
            "202413",
            "202400",
            "2024-03",
            "2024q1",
            "２０２４",
            "20241",
            "1800",
            "2024M03",
        ] {
            let e = bad.parse::<Period>().unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(y in MIN_YEAR..=MAX_YEAR, k in 0u8..3, n in 1u8..=12) {
            let p = match k { 0 => Period::Year(y), 1 => Period::Quarter(y, (n - 1) / 3 + 1), _ => Period::Month(y, n) };
            prop_assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
        }

        #[test]
        fn never_panics(s in "\\PC{0,8}") {
            let _ = s.parse::<Period>();
        }
    }
}
