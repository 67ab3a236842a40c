//! Helpers for running the real `healthplan` binary in tests.
//!
//! ```ignore
//! for b in Backend::all() {           // SQLite always, PostgreSQL when configured
//!     let out = run_ok(b.cmd().args(["plan", "list"]));
//! }
//! let out = run_ok(healthplan(dir.path()).args(["area", "list"]));   // SQLite only
//! ```
#![allow(dead_code)] // Each test module uses a different subset.

use healthplan_store::testing::{postgres_test_url, TestDatabase};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `healthplan --data-dir <data_dir>` with no database settings inherited from the
/// environment, so the command uses the SQLite file in `data_dir`.
pub fn healthplan(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_healthplan"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("HEALTHPLAN_DATA_DIR")
        .env_remove("HEALTHPLAN_CONFIG")
        .env("HEALTHPLAN_ACTOR", "test")
        .env("NO_COLOR", "1");
    c
}

/// A file in crates/cli/tests/fixtures/.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A file in the repository's fixtures/ (seeds, gold answers, tools).
pub fn repo_fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

/// Runs the command, asserts it succeeded, and returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs the command, asserts it failed cleanly (an error, not a panic), and returns stderr.
pub fn run_err(cmd: &mut Command) -> String {
    let out = output(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(1), "{cmd:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{cmd:?} panicked: {stderr}");
    stderr
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("the healthplan binary runs")
}

/// One database to run a CLI story against: a SQLite file in a temporary data dir, or a
/// fresh PostgreSQL database (dropped when this value is dropped).
pub struct Backend {
    pub name: &'static str,
    /// Data dir (also the SQLite file's home; unused by PostgreSQL except for files).
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg: Option<TestDatabase>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend {
            name: "sqlite",
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: None,
            pg: None,
        }
    }

    /// A fresh database on the server in `HEALTHPLAN_TEST_DATABASE_URL`, if set.
    pub fn postgres() -> Option<Backend> {
        let server = postgres_test_url()?;
        let db = runtime()
            .block_on(TestDatabase::create(&server))
            .expect("create a test database");
        Some(Backend {
            name: "postgres",
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: Some(db.url.clone()),
            pg: Some(db),
        })
    }

    /// SQLite, plus PostgreSQL when configured.
    pub fn all() -> Vec<Backend> {
        let mut v = vec![Backend::sqlite()];
        match Backend::postgres() {
            Some(pg) => v.push(pg),
            None => eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped"),
        }
        v
    }

    /// `healthplan` pointed at this backend.
    pub fn cmd(&self) -> Command {
        let mut c = healthplan(self.dir.path());
        if let Some(url) = &self.database_url {
            c.env("DATABASE_URL", url);
        }
        c
    }

    /// The same database opened in-process, to inspect what the commands did.
    pub fn store(&self) -> (tokio::runtime::Runtime, healthplan_store::Store) {
        let rt = runtime();
        let config = healthplan_store::StoreConfig::new(self.dir.path(), self.database_url.clone());
        let store = rt
            .block_on(healthplan_store::Store::open(&config))
            .expect("open the test database");
        (rt, store)
    }

    /// Row count of every table.
    pub fn row_counts(&self) -> Vec<(String, i64)> {
        let (rt, store) = self.store();
        let counts = rt.block_on(store.row_counts()).expect("row counts");
        rt.block_on(store.close());
        counts
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// What the command line reads: everything in the store.
pub async fn everything(store: &healthplan_store::Store) -> healthplan_access::ReadScope {
    let policy = healthplan_app::load_policy(store).await.expect("policy");
    healthplan_access::Caps::local(policy, "test").reader()
}
