//! One story file per finding of the black-box security test (issue 16).

mod csv_formulas;
mod four_eyes;
mod headers;
mod imports;
mod progress_scope;
mod redirect;
mod sign_in;
mod text_rules;
mod undeclared;
