//! Lines a data row's cells up with the header's columns by content. Merged cells make rows
//! shorter than the header (a domain cell merged down is absent below its first row; one target
//! cell spans several years) and stray cells make them longer; the best monotone assignment of
//! cells to columns is found by dynamic programming over how well each cell fits each column.

use super::cells::{feature, Feature};
use super::header::Col;

/// Where each column's text came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    /// Per column: the index of its cell, if any.
    pub cell_of: Vec<Option<usize>>,
    /// Cells no column took.
    pub dropped: Vec<usize>,
    /// Columns that share the cell of the column before (a merged cell).
    pub spanned: Vec<usize>,
    /// Columns that got no cell.
    pub skipped: Vec<usize>,
}

/// How well a cell of content `f` fits a column of kind `c`.
fn fit(c: &Col, f: Feature) -> f64 {
    use Feature::*;
    match c {
        Col::Serial => match f {
            Serial => 3.0,
            Empty => 0.0,
            Number => -1.0,
            _ => -3.0,
        },
        Col::Name => match f {
            LongText => 2.5,
            ShortText => 1.5,
            TargetWords | Org => 0.0,
            Empty | Dash => -3.0,
            _ => -2.0,
        },
        Col::Domain => match f {
            ShortText => 2.0,
            Empty => 0.0,
            LongText | TargetWords => 0.0,
            Dash | Org => -1.0,
            _ => -2.5,
        },
        Col::Unit => match f {
            Unit => 3.0,
            Empty => 0.0,
            Dash => 0.5,
            ShortText | LongText => -1.0,
            _ => -2.5,
        },
        Col::Baseline(_) | Col::BaselineYear => match f {
            NumberWithYear => 3.0,
            Number => 2.0,
            // A small whole number (`5`, `13`) is a value as often as a serial number.
            Serial | Dash => 1.0,
            Empty | Compared | TargetWords | LongText => 0.0,
            ShortText | Change => -0.5,
            _ => -2.5,
        },
        Col::Target(_) | Col::Reference(..) | Col::Year(_) | Col::TargetGroup => match f {
            Compared | Change => 2.5,
            TargetWords => 2.0,
            Number => 1.5,
            Dash => 1.0,
            // A small whole number (`91`, `6`) is a value as often as a serial number.
            Serial => 1.2,
            Empty | ShortText | LongText | NumberWithYear => 0.0,
            _ => -2.5,
        },
        Col::Property => match f {
            Property => 4.0,
            Empty => 0.0,
            Dash => -0.5,
            _ => -3.0,
        },
        Col::Lead => match f {
            Org => 3.0,
            Empty | Dash => 0.0,
            LongText | ShortText => 0.5,
            _ => -2.5,
        },
        Col::Remark => match f {
            Empty | Dash => 0.0,
            LongText | ShortText | TargetWords | Org => 1.0,
            Property | Serial | Unit => -1.5,
            // A remark is words; a value there belongs to a column before it.
            Number | Compared | Change | NumberWithYear => -1.0,
        },
        Col::Other => match f {
            Property | Serial => -1.0,
            _ => 0.0,
        },
    }
}

/// What it costs to leave a column without a cell.
fn skip_cost(c: &Col) -> f64 {
    match c {
        // A domain merged down leaves its column out of the rows below.
        Col::Domain => 0.3,
        Col::Remark | Col::Other => 0.6,
        Col::Unit | Col::Lead | Col::BaselineYear => 1.2,
        Col::Name => 6.0,
        _ => 1.6,
    }
}

/// What it costs to let column `c` share the cell of column `prev` (a merged cell).
fn span_cost(prev: &Col, c: &Col) -> Option<f64> {
    let target = |c: &Col| matches!(c, Col::Target(_) | Col::Year(_) | Col::TargetGroup);
    let reference = |c: &Col| matches!(c, Col::Reference(..));
    match (prev, c) {
        (a, b) if target(a) && target(b) => Some(0.4),
        (a, b) if reference(a) && reference(b) => Some(0.4),
        (a, b) if (target(a) || reference(a)) && (target(b) || reference(b)) => Some(0.8),
        (Col::Baseline(_), b) if target(b) => Some(2.0),
        _ => None,
    }
}

/// Cells beyond the header cost this much each to leave unread.
const DROP_COST: f64 = 2.5;

/// The best alignment of `cells` (texts) with `cols`.
pub fn align(cols: &[Col], cells: &[String]) -> Aligned {
    let m = cols.len();
    let n = cells.len();
    let feats: Vec<Feature> = cells.iter().map(|t| feature(t)).collect();
    // best[i][j][s]: columns < i placed, cells < j used; s = 1 when column i-1 took cell j-1.
    const NONE: f64 = f64::NEG_INFINITY;
    #[derive(Clone, Copy)]
    enum Step {
        Start,
        Take,
        Span,
        Skip,
        Drop,
    }
    let idx = |i: usize, j: usize, s: usize| (i * (n + 1) + j) * 2 + s;
    let mut best = vec![NONE; (m + 1) * (n + 1) * 2];
    let mut how = vec![(Step::Start, 0usize); (m + 1) * (n + 1) * 2];
    best[idx(0, 0, 0)] = 0.0;
    for i in 0..=m {
        for j in 0..=n {
            for s in 0..2 {
                let here = best[idx(i, j, s)];
                if here == NONE {
                    continue;
                }
                let mut relax = |ni: usize, nj: usize, ns: usize, v: f64, step: Step| {
                    let k = idx(ni, nj, ns);
                    if v > best[k] + 1e-12 {
                        best[k] = v;
                        how[k] = (step, s);
                    }
                };
                if i < m && j < n {
                    relax(i + 1, j + 1, 1, here + fit(&cols[i], feats[j]), Step::Take);
                }
                if i < m && s == 1 && i > 0 && j > 0 {
                    if let Some(cost) = span_cost(&cols[i - 1], &cols[i]) {
                        let f = feats[j - 1];
                        // Only a value that is the same for each column is merged across.
                        if !matches!(f, Feature::Empty) {
                            relax(i + 1, j, 1, here + fit(&cols[i], f) - cost, Step::Span);
                        }
                    }
                }
                if i < m {
                    relax(i + 1, j, 0, here - skip_cost(&cols[i]), Step::Skip);
                }
                if j < n {
                    // An empty cell beyond the header costs nothing to leave.
                    let cost = if feats[j] == Feature::Empty {
                        0.0
                    } else {
                        DROP_COST
                    };
                    relax(i, j + 1, 0, here - cost, Step::Drop);
                }
            }
        }
    }
    let end = if best[idx(m, n, 1)] > best[idx(m, n, 0)] {
        1
    } else {
        0
    };
    let mut out = Aligned {
        cell_of: vec![None; m],
        dropped: Vec::new(),
        spanned: Vec::new(),
        skipped: Vec::new(),
    };
    let (mut i, mut j, mut s) = (m, n, end);
    while i > 0 || j > 0 {
        let (step, prev_s) = how[idx(i, j, s)];
        match step {
            Step::Take => {
                out.cell_of[i - 1] = Some(j - 1);
                i -= 1;
                j -= 1;
            }
            Step::Span => {
                out.cell_of[i - 1] = j.checked_sub(1);
                out.spanned.push(i - 1);
                i -= 1;
            }
            Step::Skip => {
                out.skipped.push(i - 1);
                i -= 1;
            }
            Step::Drop => {
                if feats[j - 1] != Feature::Empty {
                    out.dropped.push(j - 1);
                }
                j -= 1;
            }
            Step::Start => break,
        }
        s = prev_s;
    }
    out.dropped.reverse();
    out.spanned.reverse();
    out.skipped.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(s: &str) -> Vec<String> {
        s.split('|').map(|t| t.trim().to_string()).collect()
    }

    fn cols() -> Vec<Col> {
        vec![
            Col::Domain,
            Col::Serial,
            Col::Name,
            Col::Baseline(Some(2022)),
            Col::Target(2025),
            Col::Target(2030),
            Col::Property,
        ]
    }

    #[test]
    fn a_full_row_lines_up_one_to_one() {
        let a = align(
            &cols(),
            &cells("健康水平|1|人均预期寿命（岁）|78.6|≥79.5|≥80.5|预期性"),
        );
        assert_eq!(a.cell_of, (0..7).map(Some).collect::<Vec<_>>());
        assert!(a.dropped.is_empty() && a.spanned.is_empty() && a.skipped.is_empty());
    }

    #[test]
    fn a_domain_merged_down_and_a_target_across_years() {
        let a = align(
            &cols(),
            &cells("6|15岁以上人群吸烟率（%）|24.6|持续下降|预期性"),
        );
        assert_eq!(a.skipped, [0]);
        assert_eq!(a.spanned, [5]);
        assert_eq!(a.cell_of[5], Some(3));
        assert_eq!(a.cell_of[6], Some(4));
    }

    #[test]
    fn the_property_between_the_targets_and_a_missing_last_cell() {
        let cols = vec![
            Col::Serial,
            Col::Name,
            Col::Baseline(None),
            Col::Target(2025),
            Col::Property,
            Col::Target(2030),
        ];
        let a = align(
            &cols,
            &cells("6|院前急救平均反应时间（分钟）|14.2（2022年）|≤12|预期性"),
        );
        assert_eq!(
            a.cell_of,
            [Some(0), Some(1), Some(2), Some(3), Some(4), None]
        );
        assert_eq!(a.skipped, [5]);
        let a = align(
            &cols,
            &cells("7|每万人口全科医生数|人|3.2（2022年）|≥4|约束性|≥5"),
        );
        assert_eq!(a.dropped, [2]);
        assert_eq!(a.cell_of[2], Some(3));
        assert_eq!(a.cell_of[5], Some(6));
    }
}
