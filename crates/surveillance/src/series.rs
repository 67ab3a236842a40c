//! A count series at a fixed step: one value per day or per ISO week.

use crate::error::SurveillanceError;
use healthplan_core::Period;
use serde::{Deserialize, Serialize};

/// The step of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Day,
    Week,
}

impl Step {
    /// Steps in one 7-day block: 7 days or 1 week.
    pub fn per_week(self) -> usize {
        match self {
            Step::Day => 7,
            Step::Week => 1,
        }
    }

    /// Steps in 52 weeks, the lag that lines a time up with the same time of an earlier year
    /// (same weekday, within a day or two of the same date).
    pub fn per_year(self) -> usize {
        52 * self.per_week()
    }

    /// Days in one step.
    fn days(self) -> i32 {
        match self {
            Step::Day => 1,
            Step::Week => 7,
        }
    }
}

/// The largest count a series may hold: more than any area's cases in a day or a week (about
/// the population of China), and small enough that sums and squares of a baseline stay exact.
pub const MAX_COUNT: f64 = 1e9;

/// Counts at consecutive days or ISO weeks. `NaN` marks a missing value (not reported), which
/// is different from a reported zero. Values are borrowed so a sweep reads straight from the
/// caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Series<'a> {
    pub step: Step,
    /// Day number (days since 1970-01-01) of the first value; for a weekly series, its Monday.
    start: i32,
    pub values: &'a [f64],
}

impl<'a> Series<'a> {
    /// A series whose first value is for `first`: a day (daily series) or an ISO week (weekly).
    pub fn new(first: Period, values: &'a [f64]) -> Result<Series<'a>, SurveillanceError> {
        let step = match first {
            Period::Day(..) => Step::Day,
            Period::Week(..) => Step::Week,
            other => return Err(SurveillanceError::NotDailyOrWeekly(other.to_string())),
        };
        let start = first.day_numbers().start;
        if first.day_numbers().is_empty() {
            return Err(SurveillanceError::NotDailyOrWeekly(first.to_string()));
        }
        if let Some((i, &value)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_nan() || v.is_finite() && **v >= 0.0 && **v <= MAX_COUNT))
        {
            let period = period_at(step, start, i).map_or(format!("#{i}"), |p| p.to_string());
            return Err(if value > MAX_COUNT {
                SurveillanceError::TooLarge { period, value }
            } else {
                SurveillanceError::BadCount { period, value }
            });
        }
        Ok(Series {
            step,
            start,
            values,
        })
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The day or week of index `i` (also past the end, for a value still to come).
    pub fn period(&self, i: usize) -> Option<Period> {
        period_at(self.step, self.start, i)
    }

    /// The index of a day (daily series) or ISO week (weekly series), if it is in the series.
    pub fn index_of(&self, p: Period) -> Option<usize> {
        let ok = matches!(
            (self.step, p),
            (Step::Day, Period::Day(..)) | (Step::Week, Period::Week(..))
        );
        let n = p.day_numbers().start;
        if !ok || p.day_numbers().is_empty() || n < self.start {
            return None;
        }
        let i = ((n - self.start) / self.step.days()) as usize;
        (i < self.values.len()).then_some(i)
    }

    /// The value at `i`, `None` when missing or out of range.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().filter(|v| !v.is_nan())
    }
}

fn period_at(step: Step, start: i32, i: usize) -> Option<Period> {
    let n = start.checked_add(i32::try_from(i).ok()?.checked_mul(step.days())?)?;
    let day = Period::from_day_number(n)?;
    match step {
        Step::Day => Some(day),
        Step::Week => day.iso_week(),
    }
}
