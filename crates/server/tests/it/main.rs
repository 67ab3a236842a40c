//! End-to-end stories: the real server on port 0 with a fresh database (SQLite always,
//! PostgreSQL when `HEALTHPLAN_TEST_DATABASE_URL` is set), driven over HTTP.

mod authz;
mod browser;
mod chrome;
mod cluster;
mod common;
mod conformance;
mod daily;
mod doors;
mod escaping;
mod exchange;
mod flows;
mod notifications;
mod ops;
mod perf;
mod phone;
mod plan_edits;
mod proposals;
mod prose_browser;
mod security;
mod sessions;
mod surveillance;
mod ui_fixes;
