//! Upgrades: a database written by an earlier release (its SQL dump under
//! `tests/fixtures/upgrade/<version>/`, made by that release's binary with
//! `make-fixture.sh`, with rows in every table) is migrated by this build on SQLite and
//! PostgreSQL: every table keeps its row count, no migration is left pending, the audit
//! chain still verifies and every stored value still reads back. Keep one fixture per
//! release: at each release, run `make-fixture.sh` with the released binary and commit its
//! output.

use healthplan_store::testing::{postgres_test_url, TestDatabase};
use healthplan_store::{Store, StoreConfig};
use sqlx::{AssertSqlSafe, Connection};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn releases() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no upgrade fixture under {}",
        root.display()
    );
    dirs
}

async fn sqlite_counts(conn: &mut sqlx::SqliteConnection) -> BTreeMap<String, i64> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        // Names come from the database's own catalogue.
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM \"{t}\"")))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        out.insert(t, n);
    }
    out
}

async fn pg_counts(conn: &mut sqlx::PgConnection) -> BTreeMap<String, i64> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::TEXT FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
           AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM public.\"{t}\""
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        out.insert(t, n);
    }
    out
}

/// What must hold after the upgrade, whatever the backend.
async fn check_upgraded(store: &Store, release: &str, before: &BTreeMap<String, i64>) {
    assert!(
        before.values().all(|&n| n > 0),
        "{release}: the fixture must hold rows in every table: {before:?}"
    );
    let state = store.migration_state().await.unwrap();
    assert!(
        state.pending.is_empty(),
        "{release}: pending {:?}",
        state.pending
    );
    let audit = store.verify_audit().await.unwrap();
    assert_eq!(audit.first_broken, None, "{release}: audit chain broken");
    assert!(audit.rows > 0);
    // Every stored value still decodes (the engine's start-up read).
    let mut numeric = 0i64;
    let scan = store
        .for_each_numeric_value(&mut |_| {
            numeric += 1;
            std::ops::ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(
        numeric + scan.text as i64,
        before["data_values"],
        "{release}"
    );
}

#[tokio::test]
async fn sqlite_databases_of_earlier_releases_upgrade() {
    for dir in releases() {
        let release = dir.file_name().unwrap().to_string_lossy().to_string();
        let dump = std::fs::read_to_string(dir.join("sqlite.sql")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("healthplan.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(dump))
            .execute(&mut conn)
            .await
            .unwrap();
        let before = sqlite_counts(&mut conn).await;
        conn.close().await.unwrap();

        let store = Store::open_sqlite(&path).await.unwrap();
        check_upgraded(&store, &release, &before).await;
        store.close().await;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let after = sqlite_counts(&mut conn).await;
        for (t, n) in &before {
            assert_eq!(
                after.get(t),
                Some(n),
                "{release}: table {t} changed its row count"
            );
        }
    }
}

#[tokio::test]
async fn postgres_databases_of_earlier_releases_upgrade() {
    let Some(server) = postgres_test_url() else {
        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    for dir in releases() {
        let release = dir.file_name().unwrap().to_string_lossy().to_string();
        let dump = std::fs::read_to_string(dir.join("postgres.sql")).unwrap();
        let db = TestDatabase::create(&server).await.unwrap();
        // Its own connection: the dump empties the search path for the session.
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(dump))
            .execute(&mut conn)
            .await
            .unwrap();
        let before = pg_counts(&mut conn).await;
        conn.close().await.unwrap();

        let store = Store::open(&StoreConfig::new(".", Some(db.url.clone())))
            .await
            .unwrap();
        check_upgraded(&store, &release, &before).await;
        store.close().await;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let after = pg_counts(&mut conn).await;
        conn.close().await.unwrap();
        for (t, n) in &before {
            assert_eq!(
                after.get(t),
                Some(n),
                "{release}: table {t} changed its row count"
            );
        }
        db.remove().await.unwrap();
    }
}
