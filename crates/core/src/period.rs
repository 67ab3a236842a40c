use crate::error::CoreError;
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::Span;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A reporting period. Ids are strict: `2024`, `2024Q1`, `202403`, ISO week `2024W05`, day
/// `20240203`.
///
/// Two calendars meet here. Days, months, quarters and years are calendar periods (a day rolls
/// into its month, quarter and calendar year). Weeks are ISO 8601 weeks (Monday to Sunday) and
/// belong to an ISO week-numbering year: `Week(2025, 1)` runs from Monday 2024-12-30 to
/// Sunday 2025-01-05. A day also rolls into its ISO week ([`Period::iso_week`]), and a week rolls
/// into the `Year` of its ISO year, so a `Year` aggregated from weekly data is the ISO year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
    Month(i32, u8),
    /// ISO week-numbering year and week 1–53.
    Week(i32, u8),
    /// Calendar year, month 1–12, day of month.
    Day(i32, u8, u8),
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

/// Two ASCII digits (leading zero required) as a number.
fn two_digits(input: &str, digits: &str, what: &str) -> Result<u8, CoreError> {
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(input, format!("the {what} must be two digits")));
    }
    digits
        .parse()
        .map_err(|_| err(input, format!("bad {what}")))
}

/// The calendar date of a day period; `None` when the variant holds no real date.
fn civil(y: i32, m: u8, d: u8) -> Option<Date> {
    let y = i16::try_from(y).ok()?;
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

fn iso_monday(y: i32, w: u8) -> Option<Date> {
    let y = i16::try_from(y).ok()?;
    ISOWeekDate::new(y, i8::try_from(w).ok()?, Weekday::Monday)
        .ok()
        .map(|d| d.date())
}

const EPOCH: Date = Date::constant(1970, 1, 1);

fn day_number_of(d: Date) -> i32 {
    (d.duration_since(EPOCH).as_secs() / 86_400) as i32
}

fn date_of_day_number(n: i32) -> Option<Date> {
    let span = Span::new().try_days(i64::from(n)).ok()?;
    EPOCH.checked_add(span).ok()
}

impl Period {
    /// Whether a year given on its own (an as-of year, a report year, a range bound) is one
    /// the application holds: the one rule every door applies.
    pub fn plausible_year(year: i32) -> bool {
        (MIN_YEAR..=MAX_YEAR).contains(&year)
    }

    /// The variants are public, so a value built directly may be out of range (month 13,
    /// year 2101, 30 February, week 53 of a 52-week year); this re-checks it by the same rules
    /// as parsing.
    pub fn check(self) -> Result<Period, CoreError> {
        self.to_string().parse()
    }

    /// The calendar year, or for a week its ISO week-numbering year.
    pub fn year(&self) -> i32 {
        match *self {
            Period::Year(y)
            | Period::Quarter(y, _)
            | Period::Month(y, _)
            | Period::Week(y, _)
            | Period::Day(y, _, _) => y,
        }
    }

    /// The period one level up the calendar tree (day → month → quarter → year; week → the year
    /// of its ISO year); `None` for a year. A day's other parent is [`Period::iso_week`].
    pub fn parent(&self) -> Option<Period> {
        match *self {
            Period::Year(_) => None,
            Period::Quarter(y, _) | Period::Week(y, _) => Some(Period::Year(y)),
            Period::Month(y, m) => Some(Period::Quarter(y, (m.clamp(1, 12) - 1) / 3 + 1)),
            Period::Day(y, m, _) => Some(Period::Month(y, m)),
        }
    }

    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Year(_) => PeriodKind::Year,
            Period::Quarter(..) => PeriodKind::Quarter,
            Period::Month(..) => PeriodKind::Month,
            Period::Week(..) => PeriodKind::Week,
            Period::Day(..) => PeriodKind::Day,
        }
    }

    /// The ISO week a day belongs to; `None` for other kinds, for an invalid day, and for the
    /// few days whose ISO year lies outside the supported years (1–2 January 1949).
    pub fn iso_week(&self) -> Option<Period> {
        let Period::Day(y, m, d) = *self else {
            return None;
        };
        let iw = civil(y, m, d)?.iso_week_date();
        let (wy, w) = (i32::from(iw.year()), iw.week() as u8);
        (MIN_YEAR..=MAX_YEAR)
            .contains(&wy)
            .then_some(Period::Week(wy, w))
    }

    /// ISO weekday of a day, 1 = Monday … 7 = Sunday; `None` for other kinds.
    pub fn weekday(&self) -> Option<u8> {
        let Period::Day(y, m, d) = *self else {
            return None;
        };
        Some(civil(y, m, d)?.weekday().to_monday_one_offset() as u8)
    }

    /// Day of the calendar year, 1–366, of a day; `None` for other kinds.
    pub fn day_of_year(&self) -> Option<u16> {
        let Period::Day(y, m, d) = *self else {
            return None;
        };
        Some(civil(y, m, d)?.day_of_year() as u16)
    }

    /// Days since 1970-01-01 of a day; `None` for other kinds. Consecutive days have
    /// consecutive numbers, which is what a daily series is indexed by.
    pub fn day_number(&self) -> Option<i32> {
        let Period::Day(y, m, d) = *self else {
            return None;
        };
        civil(y, m, d).map(day_number_of)
    }

    /// The day with this number (days since 1970-01-01), if it lies in the supported years.
    pub fn from_day_number(n: i32) -> Option<Period> {
        let d = date_of_day_number(n)?;
        let y = i32::from(d.year());
        (MIN_YEAR..=MAX_YEAR)
            .contains(&y)
            .then_some(Period::Day(y, d.month() as u8, d.day() as u8))
    }

    /// The day numbers this period spans (a week: its Monday to Sunday); empty for a variant
    /// that is out of range.
    pub fn day_numbers(&self) -> std::ops::Range<i32> {
        let span = |first: Option<Date>, last: Option<Date>| match (first, last) {
            (Some(a), Some(b)) => day_number_of(a)..day_number_of(b) + 1,
            _ => 0..0,
        };
        match *self {
            Period::Year(y) => span(civil(y, 1, 1), civil(y, 12, 31)),
            Period::Quarter(y, q) if (1..=4).contains(&q) => span(
                civil(y, 3 * q - 2, 1),
                civil(y, 3 * q, 1).map(Date::last_of_month),
            ),
            Period::Month(y, m) => {
                let first = civil(y, m, 1);
                span(first, first.map(Date::last_of_month))
            }
            Period::Week(y, w) => {
                let monday = iso_monday(y, w);
                span(
                    monday,
                    monday.and_then(|d| d.checked_add(Span::new().days(6)).ok()),
                )
            }
            Period::Day(y, m, d) => {
                let day = civil(y, m, d);
                span(day, day)
            }
            Period::Quarter(..) => 0..0,
        }
    }

    /// True when a value saved for `inner` counts towards an aggregate for `self`: the same
    /// period, a day within this week (ISO), month, quarter or calendar year, a month or quarter
    /// within this year, or a week of this ISO year. A week is never within a month or a
    /// quarter, and a day rolls into a year through its month, not through its week.
    pub fn contains(&self, inner: &Period) -> bool {
        if self == inner {
            return true;
        }
        match (*self, *inner) {
            (Period::Week(..), Period::Day(..)) => inner.iso_week() == Some(*self),
            (Period::Week(..), _) | (Period::Day(..), _) => false,
            (_, Period::Week(y, _)) => *self == Period::Year(y),
            (_, p) => p.parent().is_some_and(|up| self.contains(&up)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl FromStr for Period {
    type Err = CoreError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if !input.is_ascii() {
            return Err(err(input, "only ASCII digits, `Q` and `W` are allowed"));
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
                let m = two_digits(input, &input[4..], "month")?;
                if !(1..=12).contains(&m) {
                    return Err(err(input, format!("month {m} is outside 01–12")));
                }
                Ok(Period::Month(y, m))
            }
            7 if input.as_bytes()[4] == b'W' => {
                let y = parse_year(input, &input[..4])?;
                let w = two_digits(input, &input[5..], "ISO week")?;
                if !(1..=53).contains(&w) {
                    return Err(err(input, format!("week {w} is outside 01–53")));
                }
                if iso_monday(y, w).is_none() {
                    return Err(err(
                        input,
                        format!("ISO year {y} has 52 weeks, so week 53 does not exist"),
                    ));
                }
                Ok(Period::Week(y, w))
            }
            8 => {
                let y = parse_year(input, &input[..4])?;
                let m = two_digits(input, &input[4..6], "month")?;
                let d = two_digits(input, &input[6..], "day")?;
                if !(1..=12).contains(&m) {
                    return Err(err(input, format!("month {m} is outside 01–12")));
                }
                if civil(y, m, d).is_none() {
                    return Err(err(input, format!("{y:04}-{m:02} has no day {d:02}")));
                }
                Ok(Period::Day(y, m, d))
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
            Period::Week(y, w) => write!(f, "{y:04}W{w:02}"),
            Period::Day(y, m, d) => write!(f, "{y:04}{m:02}{d:02}"),
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
        assert_eq!("2024W05".parse::<Period>().unwrap(), Period::Week(2024, 5));
        assert_eq!(
            "20240203".parse::<Period>().unwrap(),
            Period::Day(2024, 2, 3)
        );
        assert_eq!(
            "20240229".parse::<Period>().unwrap().kind(),
            PeriodKind::Day
        );
        assert_eq!("2020W53".parse::<Period>().unwrap(), Period::Week(2020, 53));
        assert_eq!(
            Period::Day(2024, 2, 3).parent(),
            Some(Period::Month(2024, 2))
        );
        assert_eq!(Period::Week(2025, 1).parent(), Some(Period::Year(2025)));
        assert_eq!(Period::Week(2024, 5).to_string(), "2024W05");
        assert_eq!(Period::Day(2024, 2, 3).to_string(), "20240203");
    }

    #[test]
    fn iso_weeks_cross_calendar_years() {
        // Monday 2024-12-30 starts ISO week 2025W01; 2021-01-03 (a Sunday) is in 2020W53.
        let d = Period::Day(2024, 12, 30);
        assert_eq!(d.iso_week(), Some(Period::Week(2025, 1)));
        assert_eq!(d.year(), 2024);
        assert_eq!(d.weekday(), Some(1));
        assert_eq!(
            Period::Day(2021, 1, 3).iso_week(),
            Some(Period::Week(2020, 53))
        );
        assert_eq!(Period::Day(2021, 1, 3).weekday(), Some(7));
        let w = Period::Week(2025, 1);
        let days = w.day_numbers();
        assert_eq!(days.len(), 7);
        assert_eq!(Period::from_day_number(days.start), Some(d));
        assert!(w.contains(&d));
        assert!(!Period::Year(2025).contains(&d));
        assert!(Period::Year(2024).contains(&d));
        assert!(Period::Year(2025).contains(&w));
        assert!(!Period::Month(2025, 1).contains(&w));
        assert!(Period::Quarter(2024, 4).contains(&d));
        // 1949-01-01 lies in ISO week 1948W53, outside the supported years.
        assert_eq!(Period::Day(1949, 1, 1).iso_week(), None);
        assert_eq!(Period::Day(1970, 1, 1).day_number(), Some(0));
        assert_eq!(Period::Day(2024, 12, 31).day_of_year(), Some(366));
        assert_eq!(Period::Year(2024).day_numbers().len(), 366);
        assert_eq!(Period::Quarter(2023, 1).day_numbers().len(), 90);
        assert_eq!(Period::Month(2024, 2).day_numbers().len(), 29);
        assert_eq!(Period::from_day_number(-1_000_000), None);
    }

    #[test]
    fn check_refuses_out_of_range_variants() {
        assert!(Period::Month(2101, 1).check().is_err());
        assert!(Period::Month(2024, 13).check().is_err());
        assert!(Period::Quarter(2024, 0).check().is_err());
        assert!(Period::Week(2023, 53).check().is_err());
        assert!(Period::Week(2024, 0).check().is_err());
        assert!(Period::Day(2023, 2, 29).check().is_err());
        assert!(Period::Day(2024, 13, 1).check().is_err());
        assert_eq!(Period::Week(2026, 53).check(), Ok(Period::Week(2026, 53)));
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
            "2024W5",
            "2024W54",
            "2024W00",
            "2023W53",
            "2024w05",
            "2024W+5",
            "20240230",
            "20230229",
            "20241301",
            "20240100",
            "2024020３",
            "2024-2-3",
            "21010101",
            "1948W52",
        ] {
            let e = bad.parse::<Period>().unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }

    /// Any period of any kind in the supported years (weeks and days always valid).
    fn any_period() -> impl Strategy<Value = Period> {
        (MIN_YEAR..=MAX_YEAR, 0u8..5, 1u8..=12, 1u8..=53, 1u8..=31).prop_map(|(y, k, m, w, d)| {
            match k {
                0 => Period::Year(y),
                1 => Period::Quarter(y, (m - 1) / 3 + 1),
                2 => Period::Month(y, m),
                3 => {
                    let w = if Period::Week(y, w).check().is_ok() {
                        w
                    } else {
                        52
                    };
                    Period::Week(y, w)
                }
                _ => {
                    let d = if Period::Day(y, m, d).check().is_ok() {
                        d
                    } else {
                        28
                    };
                    Period::Day(y, m, d)
                }
            }
        })
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(p in any_period()) {
            prop_assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
            prop_assert_eq!(p.check(), Ok(p));
            prop_assert_eq!(p.parent().map(|q| q.year()).unwrap_or(p.year()), p.year());
        }

        #[test]
        fn parents_and_weeks_are_coherent(p in any_period()) {
            // Each period's parent chain ends at the year it names, and the parent strictly
            // contains it, both by the containment rule and by the days it spans.
            let mut x = p;
            while let Some(up) = x.parent() {
                prop_assert!(up.contains(&x), "{} ⊄ {}", x, up);
                prop_assert!(up.kind() > x.kind());
                x = up;
            }
            prop_assert_eq!(x, Period::Year(p.year()));
            if let Period::Day(..) = p {
                let n = p.day_number().unwrap();
                prop_assert_eq!(Period::from_day_number(n), Some(p));
                let month = p.parent().unwrap();
                prop_assert!(month.day_numbers().contains(&n));
                if let Some(w) = p.iso_week() {
                    prop_assert!(w.day_numbers().contains(&n));
                    prop_assert!(w.contains(&p));
                    prop_assert_eq!(p.weekday().unwrap() as i32, n - w.day_numbers().start + 1);
                }
                let next = Period::from_day_number(n + 1);
                prop_assert!(next.is_none_or(|q| q.day_number() == Some(n + 1)));
            }
            if let Period::Week(..) = p {
                let days = p.day_numbers();
                prop_assert_eq!(days.len(), 7);
                for n in days {
                    if let Some(d) = Period::from_day_number(n) {
                        prop_assert_eq!(d.iso_week(), Some(p));
                    }
                }
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,9}") {
            let _ = s.parse::<Period>();
        }

        #[test]
        fn digit_strings_parse_or_name_the_input(s in "[0-9QW]{4,9}") {
            match s.parse::<Period>() {
                Ok(p) => prop_assert_eq!(p.to_string(), s),
                Err(e) => prop_assert!(e.to_string().contains(&s)),
            }
        }
    }
}
