//! End-to-end tests of the `healthplan` binary, compiled as one test binary.

mod common;
mod data_cli;
mod eval_cli;
mod exchange_cli;
mod import_cli;
mod ops_cli;
mod report_cli;
mod store_cli;
