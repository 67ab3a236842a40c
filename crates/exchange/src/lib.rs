//! Data exchange formats: the XLSX data-collection template per reporter and its re-import,
//! CSV (and the same table as an XLSX sheet), DHIS2 `dataValueSets` JSON and ADX XML through
//! a code mapping table.
//!
//! Every reader turns its bytes into records (element, area, period, raw input, comment, and
//! where each field sits in the file) and hands them to one checker ([`check`]) that applies
//! [`healthplan_core::validate`] and the caller's [`Rules`] (known elements and areas, last
//! period's values, who may write what). A file is all or nothing: one bad row and nothing is
//! returned for writing, unless the caller asks to skip bad rows, which are then listed.
//! No I/O: bytes in, values out.

pub mod adx;
mod check;
mod csv_cells;
mod error;
#[cfg(test)]
mod fixtures;
pub mod mapping;
pub mod period;
pub mod table;
pub mod template;
pub mod testing;
mod xlsx;

pub use check::{Checks, Import, Options, Rules};
pub use error::{ExchangeError, Location, Rejection, RowError};
pub use mapping::{CodeKind, Mapping};
pub use template::{TemplateIds, TemplateRow, TemplateSpec};
pub use xlsx::Limits;

pub mod dhis2;

/// Largest text file (CSV, JSON, XML) a reader accepts.
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;
