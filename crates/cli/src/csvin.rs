//! CSV reading shared with the server: one header convention and one error wording.

pub use healthplan_app::csv_input::{error, open};
