//! In-memory analytics: data values aggregated over the area tree and the month → quarter → year
//! tree, updated on every write (no nightly rebuild). No I/O.
//!
//! Areas and elements are interned to dense indexes; areas sit in pre-order so one backward pass
//! rolls children into parents. See [`Engine`] for the memory layout.

mod engine;
pub mod error;
pub mod query;
pub mod tree;

pub use engine::{slot_chain, Cell, ElementId, Engine, IndicatorDef, SLOTS};
pub use error::AnalyticsError;
pub use query::{AreaSel, Item, PeriodSel, Query, Row};
pub use tree::{AreaId, AreaTree};

#[cfg(test)]
mod tests;

/// The counts of a `day_series`/`week_series` read, NaN where nothing was reported: the form
/// the outbreak detectors take.
pub fn counts_or_nan(cells: &[(f64, u32)], out: &mut Vec<f64>) {
    out.clear();
    out.extend(
        cells
            .iter()
            .map(|&(s, c)| if c == 0 { f64::NAN } else { s }),
    );
}
