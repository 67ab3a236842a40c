//! Periods between healthplan and DHIS2 / ADX.
//!
//! | healthplan | DHIS2 id | ADX (ISO 8601 start/duration) |
//! | --- | --- | --- |
//! | `2024` | `2024` | `2024-01-01/P1Y` |
//! | `2024Q2` | `2024Q2` | `2024-04-01/P3M` |
//! | `202403` | `202403` | `2024-03-01/P1M` |
//! | `2024W05` | `2024W5` | `2024-01-29/P7D` (the week's Monday) |
//! | `20240203` | `20240203` | `2024-02-03/P1D` |

use healthplan_core::Period;

/// A refusal in both languages.
pub type Reason = (String, String);

fn reason(zh: String, en: String) -> Reason {
    (zh, en)
}

/// The DHIS2 period id.
pub fn to_dhis2(p: Period) -> String {
    match p {
        // DHIS2 writes years, quarters and months exactly as healthplan does.
        Period::Year(_) | Period::Quarter(..) | Period::Month(..) | Period::Day(..) => {
            p.to_string()
        }
        // DHIS2 writes the week number without a leading zero.
        Period::Week(y, w) => format!("{y:04}W{w}"),
    }
}

/// A DHIS2 period id as a healthplan period.
pub fn from_dhis2(s: &str) -> Result<Period, Reason> {
    let s = s.trim();
    if let Ok(p) = s.parse::<Period>() {
        return Ok(p);
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    // `2024W5`: DHIS2's week id without the leading zero.
    if let (Some(y), Some(rest)) = (s.get(..4), s.get(4..)) {
        if digits(y) && rest.len() == 2 && rest.starts_with('W') && digits(&rest[1..]) {
            if let Ok(p) = format!("{y}W0{}", &rest[1..]).parse::<Period>() {
                return Ok(p);
            }
        }
    }
    Err(reason(
        format!("不支持的 DHIS2 报告期“{s}”（应为 2024、2024Q1、202403、2024W5 或 20240203）"),
        format!(
            "unsupported DHIS2 period {s:?} (expected 2024, 2024Q1, 202403, 2024W5 or 20240203)"
        ),
    ))
}

/// The ADX period: the first day and an ISO 8601 duration.
pub fn to_adx(p: Period) -> String {
    match p {
        Period::Year(y) => format!("{y:04}-01-01/P1Y"),
        Period::Quarter(y, q) => format!("{y:04}-{:02}-01/P3M", (q - 1) * 3 + 1),
        Period::Month(y, m) => format!("{y:04}-{m:02}-01/P1M"),
        Period::Day(y, m, d) => format!("{y:04}-{m:02}-{d:02}/P1D"),
        Period::Week(..) => match Period::from_day_number(p.day_numbers().start) {
            Some(Period::Day(y, m, d)) => format!("{y:04}-{m:02}-{d:02}/P7D"),
            _ => p.to_string(),
        },
    }
}

/// An ADX period as a healthplan period. The start must be where the period starts (a year
/// on 1 January, a quarter on the first of January, April, July or October).
pub fn from_adx(s: &str) -> Result<Period, Reason> {
    let s = s.trim();
    let bad = || {
        reason(
            format!("ADX 报告期“{s}”无效（应为 2024-01-01/P1Y、2024-04-01/P3M 或 2024-03-01/P1M）"),
            format!(
                "bad ADX period {s:?} (expected 2024-01-01/P1Y, 2024-04-01/P3M or 2024-03-01/P1M)"
            ),
        )
    };
    let (date, duration) = s.split_once('/').ok_or_else(bad)?;
    let (y, m, d) = ymd(date).ok_or_else(bad)?;
    let p = match duration {
        "P1Y" | "P12M" if (m, d) == (1, 1) => Period::Year(y),
        "P3M" if d == 1 && (m - 1) % 3 == 0 => Period::Quarter(y, (m - 1) / 3 + 1),
        "P1M" if d == 1 => Period::Month(y, m),
        "P7D" | "P1W" => {
            let day = Period::Day(y, m, d);
            match (day.check().ok().and_then(|p| p.weekday()), day.iso_week()) {
                (Some(1), Some(w)) => w,
                _ => {
                    return Err(reason(
                        format!("周报告期“{s}”应从星期一开始"),
                        format!("weekly period {s:?} must start on a Monday"),
                    ))
                }
            }
        }
        "P1D" => Period::Day(y, m, d),
        _ => return Err(bad()),
    };
    p.check()
        .map_err(|e| reason(format!("报告期“{s}”超出范围"), e.to_string()))
}

/// `YYYY-MM-DD` as numbers, digits checked; the day is only range-checked (1–31), which is
/// all the first-of-period rule above needs.
fn ymd(date: &str) -> Option<(i32, u8, u8)> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = date.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y as i32, m as u8, d as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn converts_each_kind_both_ways() {
        for (p, dhis2, adx) in [
            (Period::Year(2024), "2024", "2024-01-01/P1Y"),
            (Period::Quarter(2024, 2), "2024Q2", "2024-04-01/P3M"),
            (Period::Quarter(2024, 4), "2024Q4", "2024-10-01/P3M"),
            (Period::Month(2024, 3), "202403", "2024-03-01/P1M"),
            (Period::Month(2023, 12), "202312", "2023-12-01/P1M"),
            (Period::Week(2024, 5), "2024W5", "2024-01-29/P7D"),
            (Period::Week(2020, 53), "2020W53", "2020-12-28/P7D"),
            (Period::Day(2024, 2, 29), "20240229", "2024-02-29/P1D"),
        ] {
            assert_eq!(to_dhis2(p), dhis2);
            assert_eq!(from_dhis2(dhis2), Ok(p));
            assert_eq!(to_adx(p), adx);
            assert_eq!(from_adx(adx), Ok(p));
        }
        assert_eq!(from_adx("2024-01-01/P12M"), Ok(Period::Year(2024)));
    }

    #[test]
    fn refuses_with_reasons() {
        for (s, want) in [
            ("2024W54", "不支持的 DHIS2 报告期"),
            ("20240230", "不支持的 DHIS2 报告期"),
            ("2024BiW1", "不支持的 DHIS2 报告期"),
            ("2024April", "不支持的 DHIS2 报告期"),
        ] {
            assert!(from_dhis2(s).unwrap_err().0.contains(want), "{s}");
        }
        for (s, want) in [
            ("2024-01-30/P7D", "星期一"),
            ("2024-02-01/P3M", "无效"),
            ("2024-03-02/P1M", "无效"),
            ("2024-02-01/P1Y", "无效"),
            ("2024-13-01/P1M", "无效"),
            ("2024/P1Y", "无效"),
            ("1800-01-01/P1Y", "超出范围"),
            ("", "无效"),
        ] {
            assert!(
                from_adx(s).unwrap_err().0.contains(want),
                "{s}: {:?}",
                from_adx(s)
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = from_dhis2(&s);
            let _ = from_adx(&s);
        }
    }
}
