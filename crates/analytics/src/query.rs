//! Queries: (data elements or indicators) × (areas) × (periods).

use crate::engine::{Cell, Engine};
use crate::error::AnalyticsError;
use crate::tree::AreaId;
use healthplan_core::{Aggregation, AreaCode, Period};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Element(String),
    Indicator(String),
}

/// Which areas.
#[derive(Debug, Clone, PartialEq)]
pub enum AreaSel {
    List(Vec<AreaCode>),
    /// Every area at tree level `level` (root = 1) in `under`'s subtree.
    LevelUnder {
        level: u8,
        under: AreaCode,
    },
}

/// Which periods.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodSel {
    List(Vec<Period>),
    /// Each year `from..=to`.
    EachYear {
        from: i32,
        to: i32,
    },
    /// Each quarter of the years `from..=to`.
    EachQuarter {
        from: i32,
        to: i32,
    },
    /// Each month of the years `from..=to`.
    EachMonth {
        from: i32,
        to: i32,
    },
    /// Each ISO week of the ISO years `from..=to` (52 or 53 a year).
    EachWeek {
        from: i32,
        to: i32,
    },
    /// Each day of the calendar years `from..=to`.
    EachDay {
        from: i32,
        to: i32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub items: Vec<Item>,
    pub areas: AreaSel,
    pub periods: PeriodSel,
}

/// One answer. `value` is `None` when there is no data (or a zero denominator).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub item: Item,
    pub area: AreaCode,
    pub period: Period,
    pub value: Option<f64>,
    /// Raw values that contributed (numerator and denominator values for an indicator).
    pub count: u64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

impl PeriodSel {
    pub fn periods(&self) -> Result<Vec<Period>, AnalyticsError> {
        let range = |from: i32, to: i32| {
            if from > to {
                Err(AnalyticsError::BadPeriodRange { from, to })
            } else {
                Ok(from..=to)
            }
        };
        Ok(match self {
            PeriodSel::List(v) => v.clone(),
            PeriodSel::EachYear { from, to } => range(*from, *to)?.map(Period::Year).collect(),
            PeriodSel::EachQuarter { from, to } => range(*from, *to)?
                .flat_map(|y| (1..=4).map(move |q| Period::Quarter(y, q)))
                .collect(),
            PeriodSel::EachMonth { from, to } => range(*from, *to)?
                .flat_map(|y| (1..=12).map(move |m| Period::Month(y, m)))
                .collect(),
            PeriodSel::EachWeek { from, to } => range(*from, *to)?
                .flat_map(|y| {
                    (1..=53)
                        .map(move |w| Period::Week(y, w))
                        .filter(|p| !p.day_numbers().is_empty())
                })
                .collect(),
            PeriodSel::EachDay { from, to } => {
                let (from, to) = (Period::Year(*from), Period::Year(*to));
                let days = from.day_numbers().start..to.day_numbers().end;
                if from > to {
                    return Err(AnalyticsError::BadPeriodRange {
                        from: from.year(),
                        to: to.year(),
                    });
                }
                days.filter_map(Period::from_day_number).collect()
            }
        })
    }
}

impl Engine {
    /// Resolves an area selection to area ids, in pre-order for `LevelUnder`.
    pub fn areas(&self, sel: &AreaSel) -> Result<Vec<AreaId>, AnalyticsError> {
        match sel {
            AreaSel::List(v) => v.iter().map(|c| self.tree().id(c)).collect(),
            AreaSel::LevelUnder { level, under } => {
                self.tree().at_level_under(*level, self.tree().id(under)?)
            }
        }
    }

    /// Answers a query: one row per item × area × period, in that nesting order.
    pub fn query(&self, q: &Query) -> Result<Vec<Row>, AnalyticsError> {
        let areas = self.areas(&q.areas)?;
        let periods = q.periods.periods()?;
        let mut rows = Vec::with_capacity(q.items.len() * areas.len() * periods.len());
        for item in &q.items {
            // Resolve once so an unknown code fails before any work.
            match item {
                Item::Element(c) => {
                    self.element(c)?;
                }
                Item::Indicator(c) => {
                    self.indicator(c)?;
                }
            }
            for &a in &areas {
                for &p in &periods {
                    rows.push(self.value(item, a, p)?);
                }
            }
        }
        Ok(rows)
    }

    /// The value of one item at one area and period.
    pub fn value(&self, item: &Item, a: AreaId, p: Period) -> Result<Row, AnalyticsError> {
        let area = self.tree().code(a).clone();
        match item {
            Item::Element(code) => {
                let e = self.element(code)?;
                let (value, count) = match self.aggregation(e) {
                    Aggregation::None => match self.raw(e, a, p) {
                        Some(v) => (Some(v), 1),
                        None => (None, 0),
                    },
                    agg => {
                        let Cell { sum, count } = self.cell(e, a, p);
                        let v = match agg {
                            _ if count == 0 => None,
                            Aggregation::Average => Some(sum / count as f64),
                            // `weighted` takes its weights from an indicator's denominator, so
                            // a lone element sums.
                            _ => Some(sum),
                        };
                        (v, count)
                    }
                };
                Ok(Row {
                    item: item.clone(),
                    area,
                    period: p,
                    value,
                    count,
                    numerator: None,
                    denominator: None,
                })
            }
            Item::Indicator(code) => {
                let def = self.indicator(code)?;
                let total = |ids: &[crate::ElementId]| {
                    ids.iter().fold(Cell::default(), |acc, &e| {
                        let c = self.cell(e, a, p);
                        Cell {
                            sum: acc.sum + c.sum,
                            count: acc.count + c.count,
                        }
                    })
                };
                let num = total(&def.numerator);
                let den = total(&def.denominator);
                let numerator = (num.count > 0).then_some(num.sum);
                let (denominator, value) = if def.denominator.is_empty() {
                    (None, numerator.map(|n| def.factor * n))
                } else {
                    let d = (den.count > 0).then_some(den.sum);
                    let v = match (numerator, d) {
                        (Some(n), Some(d)) if d != 0.0 => Some(def.factor * n / d),
                        _ => None,
                    };
                    (d, v)
                };
                Ok(Row {
                    item: item.clone(),
                    area,
                    period: p,
                    value,
                    count: num.count + den.count,
                    numerator,
                    denominator,
                })
            }
        }
    }
}
