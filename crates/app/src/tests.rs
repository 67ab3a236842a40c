//! Values saved through the app show in aggregates at once, on SQLite and (when
//! `HEALTHPLAN_TEST_DATABASE_URL` is set) on PostgreSQL.

use super::*;
use healthplan_analytics::{AreaSel, Item, PeriodSel};
use healthplan_core::{Area, AreaLevel, DataElement, ValueType};
use healthplan_store::testing::{postgres_test_url, TestDatabase};

pub(crate) fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

pub(crate) fn areas() -> Vec<Area> {
    let gd = Area::new(code("440000"), "广东省", AreaLevel::Province, None).unwrap();
    let sz = Area::new(code("440300"), "深圳市", AreaLevel::City, Some(&gd)).unwrap();
    let ps = Area::new(code("440310"), "坪山区", AreaLevel::County, Some(&sz)).unwrap();
    let town = Area::new(code("440310001"), "坪山街道", AreaLevel::Town, Some(&ps)).unwrap();
    let vil = Area::new(
        code("440310001001"),
        "六和社区",
        AreaLevel::Village,
        Some(&town),
    )
    .unwrap();
    let yf = Area::new(code("445300"), "云浮市", AreaLevel::City, Some(&gd)).unwrap();
    vec![gd, sz, ps, town, vil, yf]
}

pub(crate) fn number(element: &str, area: &str, period: &str, v: f64) -> DataValue {
    DataValue::new(
        element,
        code(area),
        period.parse().unwrap(),
        Value::Number { value: v },
    )
    .unwrap()
}

pub(crate) fn province(app: &App, item: Item, period: &str) -> (Option<f64>, u64) {
    let rows = app
        .query(&Query {
            items: vec![item],
            areas: AreaSel::List(vec![code("440000")]),
            periods: PeriodSel::List(vec![period.parse().unwrap()]),
        })
        .unwrap();
    (rows[0].value, rows[0].count)
}

pub(crate) fn births() -> Item {
    Item::Element("births".into())
}

async fn story(store: Store) {
    let setup = healthplan_access::Caps::local(load_policy(&store).await.unwrap(), "setup");
    store
        .import_areas(&setup.registry_admin().unwrap(), &areas())
        .await
        .unwrap();
    let el = DataElement::new("births", "活产数", ValueType::Number, Aggregation::Sum).unwrap();
    store
        .put_data_elements(&setup.registry_admin().unwrap(), &[el])
        .await
        .unwrap();
    // Stored before start-up: the engine must load it.
    store
        .import_data_values(
            &setup.bulk_writer().unwrap(),
            &[number("births", "440310001001", "202401", 5.0)],
        )
        .await
        .unwrap();

    let app = App::open(store.clone()).await.unwrap();
    let reporter = app.local_caps("reporter").value_writer().unwrap();
    assert_eq!(app.load_report().values, 1);
    assert_eq!(province(&app, births(), "2024"), (Some(5.0), 1));

    // Saved at a city: the province's year, quarter and month show it before anything else.
    let saved = app
        .put_data_value(&reporter, &number("births", "445300", "202402", 7.0), None)
        .await
        .unwrap();
    assert_eq!(province(&app, births(), "2024"), (Some(12.0), 2));
    assert_eq!(province(&app, births(), "2024Q1"), (Some(12.0), 2));
    assert_eq!(province(&app, births(), "202402"), (Some(7.0), 1));

    // Update with the version read.
    let updated = app
        .put_data_value(
            &reporter,
            &number("births", "445300", "202402", 10.0),
            Some(saved.version),
        )
        .await
        .unwrap();
    assert_eq!(province(&app, births(), "2024"), (Some(15.0), 2));

    // A stale version is refused by the store and the aggregates stay as they were.
    let stale = app
        .put_data_value(
            &reporter,
            &number("births", "445300", "202402", 99.0),
            Some(saved.version),
        )
        .await;
    assert!(matches!(stale, Err(AppError::Store(_))), "{stale:?}");
    assert_eq!(province(&app, births(), "2024"), (Some(15.0), 2));

    // A ratio value (numerator + denominator) of an undeclared element: the indicator under
    // its code is Σnumerator / Σdenominator at every level.
    for (area, n, d) in [("440310001001", 30.0, 100.0), ("445300", 10.0, 300.0)] {
        let v = DataValue::new(
            "screened",
            code(area),
            Period::Year(2024),
            Value::Ratio {
                numerator: n,
                denominator: d,
            },
        )
        .unwrap();
        app.put_data_value(&reporter, &v, None).await.unwrap();
    }
    let rows = app
        .query(&Query {
            items: vec![Item::Indicator("screened".into())],
            areas: AreaSel::LevelUnder {
                level: 1,
                under: code("440000"),
            },
            periods: PeriodSel::EachYear {
                from: 2024,
                to: 2024,
            },
        })
        .unwrap();
    assert_eq!(rows[0].numerator, Some(40.0));
    assert_eq!(rows[0].denominator, Some(400.0));
    assert_eq!(rows[0].value, Some(0.1));

    // Delete.
    app.delete_data_value(
        &reporter,
        &ValueKey::new("births", code("445300"), "202402".parse().unwrap()),
        updated.version,
    )
    .await
    .unwrap();
    assert_eq!(province(&app, births(), "2024"), (Some(5.0), 1));
    assert_eq!(province(&app, births(), "202402"), (None, 0));

    // A committed value the engine cannot hold (its quotient overflows) is still a committed
    // write: the answer is the stored value, and the engine is rebuilt without it.
    let huge = DataValue::new(
        "screened",
        code("440310"),
        Period::Year(2023),
        Value::Ratio {
            numerator: 1e308,
            denominator: 1e-300,
        },
    )
    .unwrap();
    let stored = app.put_data_value(&reporter, &huge, None).await;
    assert!(stored.is_ok(), "{stored:?}");
    assert_eq!(app.load_report().skipped_unusable, 1);
    assert_eq!(province(&app, births(), "2024"), (Some(5.0), 1));

    // A fresh start-up from the store agrees with the incrementally updated engine.
    let fresh = App::open(store.clone()).await.unwrap();
    assert_eq!(fresh.load_report().skipped_unusable, 1);
    let q = Query {
        items: vec![births(), Item::Indicator("screened".into())],
        areas: AreaSel::List(areas().into_iter().map(|a| a.code).collect()),
        periods: PeriodSel::EachMonth {
            from: 2024,
            to: 2024,
        },
    };
    assert_eq!(app.query(&q).unwrap(), fresh.query(&q).unwrap());
    let q = Query {
        periods: PeriodSel::EachYear {
            from: 2023,
            to: 2025,
        },
        ..q
    };
    assert_eq!(app.query(&q).unwrap(), fresh.query(&q).unwrap());
    store.close().await;
}

/// Runs a story on a fresh SQLite database.
pub(crate) async fn on_sqlite<F: std::future::Future<Output = ()>>(story: impl FnOnce(Store) -> F) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("hp.db")).await.unwrap();
    story(store).await;
}

/// Runs a story on a fresh PostgreSQL database, when one is configured.
pub(crate) async fn on_postgres<F: std::future::Future<Output = ()>>(
    story: impl FnOnce(Store) -> F,
) {
    let Some(server) = postgres_test_url() else {
        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let db = TestDatabase::create(&server).await.unwrap();
    let store = Store::open(&healthplan_store::StoreConfig::new(
        ".",
        Some(db.url.clone()),
    ))
    .await
    .unwrap();
    story(store).await;
    db.remove().await.unwrap();
}

#[tokio::test]
async fn sqlite_values_appear_in_aggregates_at_once() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_values_appear_in_aggregates_at_once() {
    on_postgres(story).await;
}

/// Saves from many callers at once (group commit): each answered with its own version after
/// its commit, a stale one refused alone, the aggregates and the audit log holding exactly
/// what was answered.
async fn concurrent_saves(store: Store) {
    let setup = healthplan_access::Caps::local(load_policy(&store).await.unwrap(), "setup");
    store
        .import_areas(&setup.registry_admin().unwrap(), &areas())
        .await
        .unwrap();
    let el = DataElement::new("births", "活产数", ValueType::Number, Aggregation::Sum).unwrap();
    store
        .put_data_elements(&setup.registry_admin().unwrap(), &[el])
        .await
        .unwrap();
    let app = Arc::new(App::open(store.clone()).await.unwrap());
    let mut tasks = Vec::new();
    for i in 1..=16u32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let w = app.local_caps(&format!("r{i}")).value_writer().unwrap();
            let mut version = None;
            let mut last = 0.0;
            for round in 1..=5u32 {
                last = f64::from(i * 10 + round);
                let v = number("births", "440310001001", &format!("202301{i:02}"), last);
                let saved = app
                    .put_data_values(&w, &[(v, version)])
                    .await
                    .unwrap()
                    .remove(0);
                assert_eq!(saved.version, i64::from(round));
                version = Some(saved.version);
            }
            last
        }));
    }
    // A stale version, sent while the others commit: refused alone.
    let w = app.local_caps("late").value_writer().unwrap();
    let stale = number("births", "440310001001", "20230101", 1.0);
    let refused = app.put_data_values(&w, &[(stale, Some(99))]).await;
    assert!(
        matches!(
            refused,
            Err(AppError::Store(StoreError::VersionConflict { .. }))
        ),
        "{refused:?}"
    );
    let mut sum = 0.0;
    for t in tasks {
        sum += t.await.unwrap();
    }
    assert_eq!(province(&app, births(), "2023"), (Some(sum), 16));
    let log = app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("data_value".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 16 * 5);
    assert!(app
        .store()
        .verify_audit()
        .await
        .unwrap()
        .first_broken
        .is_none());
    // A rebuild from the store agrees with the engine kept up to date write by write.
    app.reload().await.unwrap();
    assert_eq!(province(&app, births(), "2023"), (Some(sum), 16));
}

#[tokio::test]
async fn sqlite_concurrent_saves_share_commits() {
    on_sqlite(concurrent_saves).await;
}

#[tokio::test]
async fn postgres_concurrent_saves_share_commits() {
    on_postgres(concurrent_saves).await;
}
