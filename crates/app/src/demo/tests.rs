//! The demo set-up on a real database: every plan shows every status, and a second run adds
//! nothing.

use super::*;
use healthplan_store::testing::{postgres_test_url, TestDatabase};
use healthplan_store::{Store, StoreConfig};

async fn story(store: Store) {
    let app = App::open(store.clone()).await.unwrap();
    let report = setup(&app, "test").await.unwrap();
    assert_eq!(report.plans.len(), 3);
    assert!(
        report.synthetic_values > 1000,
        "{}",
        report.synthetic_values
    );
    let caps = app.local_caps("test");
    let settings = Settings::default();
    for (id, title) in &report.plans {
        let run = app
            .evaluate_plan(&caps.reader(), *id, LAST_YEAR, &settings)
            .await
            .unwrap();
        assert!(run.synthetic, "{title}: demo values are marked synthetic");
        let count = |f: &dyn Fn(Status) -> bool| {
            run.evaluation
                .results
                .iter()
                .filter(|r| f(r.status))
                .count()
        };
        for (name, f) in [
            (
                "achieved",
                &(|s| s == Status::Achieved) as &dyn Fn(Status) -> bool,
            ),
            ("on track", &|s| s == Status::OnTrack),
            ("lagging", &|s| s == Status::Moderate),
            ("off track", &|s| {
                matches!(s, Status::Insufficient | Status::MovingAway)
            }),
        ] {
            assert!(count(f) > 0, "{title}: no indicator is {name}");
        }
        assert!(
            run.evaluation.areas.len() > 1,
            "{title}: sub-areas evaluated"
        );
        // Task completion comes from the approved demo task reports.
        let completion = run.evaluation.task_completion.as_ref().unwrap();
        assert!(completion.iter().any(|c| c.completed > 0), "{title}");
    }
    // Accounts for every role, able to sign in with the printed password.
    for a in ACCOUNTS {
        let hash = app
            .store()
            .user_password_hash(a.username)
            .await
            .unwrap()
            .unwrap();
        assert!(healthplan_access::password::verify_password(
            a.password, &hash
        ));
    }
    assert!(!app
        .store()
        .list_rounds(&caps.reader())
        .await
        .unwrap()
        .is_empty());
    let before = app.store().row_counts().await.unwrap();
    let again = setup(&app, "test").await.unwrap();
    assert_eq!(again.synthetic_values, 0);
    let after = app.store().row_counts().await.unwrap();
    let without_audit = |c: &[(String, i64)]| {
        c.iter()
            .filter(|(t, _)| t != "audit_log")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(without_audit(&after), without_audit(&before));
}

#[tokio::test]
async fn demo_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path(), None))
        .await
        .unwrap();
    story(store).await;
}

#[tokio::test]
async fn demo_on_postgres() {
    let Some(server) = postgres_test_url() else {
        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
        return;
    };
    let db = TestDatabase::create(&server).await.unwrap();
    let store = Store::open(&StoreConfig::new("unused", Some(db.url.clone())))
        .await
        .unwrap();
    story(store.clone()).await;
    store.close().await;
    db.drop().await.unwrap();
}

#[test]
fn generation_is_deterministic() {
    let imported = healthplan_importer::import_text(BUNDLED_PLANS[2].1, "p.txt").unwrap();
    let mut doc = imported.plan;
    prepare_plan(&mut doc, AreaLevel::City).unwrap();
    for (k, ind) in doc.indicators.iter_mut().enumerate() {
        ind.element = Some(format!("E{k}"));
        assert!(ind.lead_department().is_some_and(|l| l.starts_with('市')));
    }
    let root = AreaCode::parse("445300").unwrap();
    let areas = [root.clone(), AreaCode::parse("445302").unwrap()];
    let s = Settings::default();
    let a = synthetic_values(&doc, &root, &areas, 7, &s);
    let b = synthetic_values(&doc, &root, &areas, 7, &s);
    assert_eq!(a, b);
    assert_eq!(a.len(), doc.indicators.len() * 2 * 6);
    assert!(a
        .iter()
        .all(|v| v.synthetic && v.status == ValueStatus::Approved));
}
