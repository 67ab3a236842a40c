//! Stories written once and run against every backend: SQLite in a temporary directory
//! always, PostgreSQL in a fresh database when `HEALTHPLAN_TEST_DATABASE_URL` is set.

use crate::testing::{postgres_test_url, TestDatabase};
use crate::{
    AuditAction, AuditFilter, DataValueFilter, ImportCount, Numeric, NumericScan, Store,
    StoreConfig, StoreError, ValueKey,
};
use healthplan_access::{
    BulkWriter, Caps, PlanEditor, Policy, ProgressWriter, ReadScope, RegistryAdmin,
    Responsibilities, Reviewer, UserAdmin, ValueWriter,
};
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, DataElement, DataValue, Department, Grant, Period,
    PlanDocument, ReviewDecision, Role, TaskProgress, TaskStatus, User, Value, ValueStatus,
    ValueType,
};
use std::ops::ControlFlow;

const PLAN: &str = include_str!("../../cli/tests/fixtures/plan_yunfu.json");

macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let config = crate::StoreConfig::new(dir.path(), None);
                    let store = crate::Store::open(&config).await.unwrap();
                    super::$name(&store, &config).await;
                    store.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(server) = super::postgres_test_url() else {
                        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
                        return;
                    };
                    let db = super::TestDatabase::create(&server).await.unwrap();
                    let config = crate::StoreConfig::new("unused", Some(db.url.clone()));
                    let store = crate::Store::open(&config).await.unwrap();
                    super::$name(&store, &config).await;
                    store.close().await;
                    db.remove().await.unwrap();
                }
            )*
        }
    };
}

stories!(
    areas_import_all_or_nothing,
    plan_round_trip_and_rows,
    invalid_plan_writes_nothing,
    plan_update_is_audited,
    data_values_are_versioned_and_follow_the_workflow,
    data_value_import_all_or_nothing,
    unreadable_period_is_reported_not_guessed,
    audit_log_is_append_only,
    audit_chain_names_the_first_changed_row,
    users_and_grants,
    task_progress,
    reopening_keeps_data,
    concurrent_writers_cannot_both_win,
    grouped_saves_commit_together_and_fail_alone,
    numeric_stream_yields_what_all_data_values_holds,
    scoped_writes_and_reads,
    sessions_tokens_and_throttling,
    mapping_table_is_one_to_one_and_audited,
    periodic_jobs_are_claimed_once_per_period,
    operations_are_recorded_and_probed,
);

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

/// The command line's capabilities under an actor name; scoped refusals are the access
/// crate's and the server's tests, and `scoped_writes_are_refused` below.
fn caps(actor: &str) -> Caps {
    Caps::local(Policy::new(&[], Responsibilities::default()), actor)
}
fn all() -> ReadScope {
    caps("reader").reader()
}
fn registry(actor: &str) -> RegistryAdmin {
    caps(actor).registry_admin().unwrap()
}
fn editor(actor: &str) -> PlanEditor {
    caps(actor).plan_editor().unwrap()
}
fn writer(actor: &str) -> ValueWriter {
    caps(actor).value_writer().unwrap()
}
fn reviewer(actor: &str) -> Reviewer {
    caps(actor).reviewer().unwrap()
}
fn bulk(actor: &str) -> BulkWriter {
    caps(actor).bulk_writer().unwrap()
}
fn users(actor: &str) -> UserAdmin {
    caps(actor).user_admin().unwrap()
}
fn progress(actor: &str) -> ProgressWriter {
    caps(actor).progress_writer().unwrap()
}

fn demo_areas() -> Vec<Area> {
    let gd = Area::new(code("440000"), "广东省", AreaLevel::Province, None).unwrap();
    let sz = Area::new(code("440300"), "深圳市", AreaLevel::City, Some(&gd)).unwrap();
    let ps = Area::new(code("440310"), "坪山区", AreaLevel::County, Some(&sz)).unwrap();
    let yf = Area::new(code("445300"), "云浮市", AreaLevel::City, Some(&gd)).unwrap();
    vec![gd, sz, ps, yf]
}

async fn counts(store: &Store) -> Vec<(String, i64)> {
    store.row_counts().await.unwrap()
}

async fn with_areas(store: &Store) {
    store
        .import_areas(&registry("setup"), &demo_areas())
        .await
        .unwrap();
}

/// Runs raw SQL on either backend (to tamper with the database as an attacker would).
async fn raw_execute(store: &Store, sql: &'static str) -> Result<u64, sqlx::Error> {
    match store {
        Store::Sqlite(db) => sqlx::query(sql)
            .execute(&db.pool)
            .await
            .map(|r| r.rows_affected()),
        Store::Postgres(db) => sqlx::query(sql)
            .execute(&db.pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

fn number(element: &str, area: &str, period: &str, v: f64) -> DataValue {
    DataValue::new(
        element,
        code(area),
        period.parse().unwrap(),
        Value::Number { value: v },
    )
    .unwrap()
}

async fn areas_import_all_or_nothing(store: &Store, _: &StoreConfig) {
    let n = store
        .import_areas(&registry("planner"), &demo_areas())
        .await
        .unwrap();
    assert_eq!(
        n,
        ImportCount {
            inserted: 4,
            updated: 0,
            unchanged: 0
        }
    );
    let listed = store.list_areas().await.unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[1].name, "深圳市");
    assert_eq!(listed[1].parent, Some(code("440000")));

    // Same again: nothing changes, nothing is audited.
    let before = counts(store).await;
    let n = store
        .import_areas(&registry("planner"), &demo_areas())
        .await
        .unwrap();
    assert_eq!(n.unchanged, 4);
    assert_eq!(counts(store).await, before);

    // A batch whose third area names an unknown parent: the first two must not land.
    let gd = &demo_areas()[0];
    let chaozhou = Area::new(code("445100"), "潮州市", AreaLevel::City, Some(gd)).unwrap();
    let renamed = Area {
        name: "深圳".into(),
        ..demo_areas()[1].clone()
    };
    let orphan = Area {
        code: code("445122"),
        name: "饶平县".into(),
        level: AreaLevel::County,
        parent: Some(code("445199")),
    };
    let e = store
        .import_areas(&registry("planner"), &[chaozhou, renamed, orphan])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("445199"), "{e}");
    assert_eq!(counts(store).await, before);
    assert_eq!(store.list_areas().await.unwrap(), listed);

    // A rename is an audited update with before and after.
    let renamed = Area {
        name: "深圳".into(),
        ..demo_areas()[1].clone()
    };
    let n = store
        .import_areas(&registry("planner"), &[renamed])
        .await
        .unwrap();
    assert_eq!(n.updated, 1);
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("area".into()),
            entity_key: Some("440300".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].action, AuditAction::Update);
    assert_eq!(log[1].before.as_ref().unwrap()["name"], "深圳市");
    assert_eq!(log[1].after.as_ref().unwrap()["name"], "深圳");
    assert_eq!(log[1].actor, "planner");

    // Hand-built areas that break the level rule are refused by the store itself.
    let upside_down = Area {
        code: code("440100"),
        name: "广州市".into(),
        level: AreaLevel::Province,
        parent: Some(code("440000")),
    };
    let e = store
        .import_areas(&registry("planner"), &[upside_down])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot sit under 440000"), "{e}");

    // A city cannot turn into a county while it has a county below it.
    let demoted = Area {
        level: AreaLevel::County,
        ..demo_areas()[1].clone()
    };
    assert!(store
        .import_areas(&registry("planner"), &[demoted])
        .await
        .is_err());

    let d = Department::new("市卫生健康局", code("440300")).unwrap();
    let n = store
        .import_departments(&registry("planner"), &[d.clone(), d.clone()])
        .await
        .unwrap();
    assert_eq!((n.inserted, n.unchanged), (1, 1));
    let bad = Department::new("市教育局", code("449900")).unwrap();
    assert!(store
        .import_departments(&registry("planner"), &[bad])
        .await
        .is_err());
    assert_eq!(store.list_departments().await.unwrap(), vec![d]);
}

async fn plan_round_trip_and_rows(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let doc = PlanDocument::from_json(PLAN).unwrap();
    let source = "健康云浮行动2030规划\n一、普及健康生活 …";
    let id = store
        .save_plan(&editor("planner"), &doc, Some(source))
        .await
        .unwrap();
    // Storing links every indicator to a data element, and nothing else changes.
    let stored = store.plan(&all(), id).await.unwrap();
    let mut expected = doc.clone();
    for (e, s) in expected.indicators.iter_mut().zip(&stored.indicators) {
        e.element = s.element.clone();
    }
    assert_eq!(stored, expected);
    let elements = store.list_data_elements().await.unwrap();
    assert_eq!(elements.len(), 6, "one element per distinct indicator");
    for ind in &stored.indicators {
        let el = elements
            .iter()
            .find(|e| Some(&e.code) == ind.element.as_ref())
            .unwrap();
        assert_eq!((&el.name, &el.unit), (&ind.name, &ind.unit));
    }
    assert_eq!(
        store.plan_source_text(&all(), id).await.unwrap().as_deref(),
        Some(source)
    );

    let plans = store.list_plans(&all()).await.unwrap();
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert_eq!((p.id, p.tasks, p.indicators), (id, 4, 6));
    assert_eq!(
        p.area_code,
        Some(code("445300")),
        "云浮市 resolves to its code"
    );
    assert!(p.has_source_text);
    assert_eq!(p.kind.as_deref(), Some("healthy_city"));

    let indicators = store.plan_indicators(&all(), id).await.unwrap();
    assert_eq!(indicators.len(), 6);
    assert_eq!(indicators[1].index, 1);
    assert_eq!(indicators[1].indicator, stored.indicators[1]);
    assert_ne!(indicators[0].id, indicators[1].id);
    let tasks = store.plan_tasks(&all(), id).await.unwrap();
    assert_eq!(tasks[2].section.as_deref(), Some("（二） 实施合理膳食行动"));
    assert_eq!(tasks[3].task, doc.tasks[3]);

    // A document that carries its links is stored exactly as given.
    let linked = store
        .save_plan(&editor("planner"), &stored, None)
        .await
        .unwrap();
    assert_eq!(
        store.plan(&all(), linked).await.unwrap().to_json_pretty(),
        stored.to_json_pretty()
    );
    // A second plan naming the same indicators shares their elements.
    let id2 = store
        .save_plan(&editor("planner"), &doc, None)
        .await
        .unwrap();
    assert_eq!(store.plan(&all(), id2).await.unwrap(), stored);
    assert_eq!(store.list_data_elements().await.unwrap().len(), 6);
    assert_ne!(id, id2);
    assert_eq!(store.plan_source_text(&all(), id2).await.unwrap(), None);
    assert!(matches!(
        store.plan(&all(), id2 + 100).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));

    let log = store
        .audit_log(&AuditFilter {
            entity: Some("plan".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 3, "three plans stored");
    assert_eq!(log[0].action, AuditAction::Insert);
    assert_eq!(log[0].entity_key, id.to_string());
    assert_eq!(log[0].before, None);
    assert_eq!(
        log[0].after.as_ref().unwrap()["title"],
        "健康云浮行动2030规划"
    );
}

async fn invalid_plan_writes_nothing(store: &Store, _: &StoreConfig) {
    let before = counts(store).await;
    let mut doc = PlanDocument::from_json(PLAN).unwrap();
    doc.tasks[0].targets.push(99);
    let e = store
        .save_plan(&editor("planner"), &doc, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("tasks[0].targets"), "{e}");
    assert!(store.save_plan(&editor(""), &doc, None).await.is_err());
    assert_eq!(counts(store).await, before);
}

async fn plan_update_is_audited(store: &Store, _: &StoreConfig) {
    let doc = PlanDocument::from_json(PLAN).unwrap();
    let id = store
        .save_plan(&editor("importer"), &doc, None)
        .await
        .unwrap();
    let mut fixed = doc.clone();
    fixed.indicators[0].name = "居民健康素养水平（%）".into();
    fixed.tasks.pop();
    fixed.sections[1].tasks.clear();
    store
        .update_plan(&editor("reviewer"), id, &fixed)
        .await
        .unwrap();
    let stored = store.plan(&all(), id).await.unwrap();
    assert_eq!(stored.tasks, fixed.tasks);
    assert_eq!(stored.indicators[0].name, "居民健康素养水平（%）");
    assert_eq!(store.plan_tasks(&all(), id).await.unwrap().len(), 3);
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("plan".into()),
            entity_key: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].action, AuditAction::Update);
    assert_eq!(log[1].actor, "reviewer");
    assert_eq!(
        log[1].before.as_ref().unwrap()["indicators"][0]["name"],
        "居民健康素养水平"
    );
    assert_eq!(
        log[1].after.as_ref().unwrap()["indicators"][0]["name"],
        "居民健康素养水平（%）"
    );
    assert!(store
        .update_plan(&editor("reviewer"), id + 1, &fixed)
        .await
        .is_err());
}

async fn data_values_are_versioned_and_follow_the_workflow(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let v = number("HL01", "440310", "2024", 25.4);
    let stored = store
        .put_data_value(&writer("reporter"), &v, None)
        .await
        .unwrap();
    assert_eq!(stored.version, 1);

    // A second "new" write of the same key is a conflict, not an overwrite.
    let e = store
        .put_data_value(&writer("other"), &v, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::VersionConflict {
                stored: Some(1),
                ..
            }
        ),
        "{e}"
    );

    let mut edit = stored.clone();
    edit.value = Value::Number { value: 26.0 };
    let edited = store
        .put_data_value(&writer("reporter"), &edit, Some(1))
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    // A stale writer that still holds version 1 is refused.
    let e = store
        .put_data_value(&writer("other"), &edit, Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::VersionConflict {
                stored: Some(2),
                ..
            }
        ),
        "{e}"
    );

    // draft → approved skips review: refused.
    let mut approve = edited.clone();
    approve.status = ValueStatus::Approved;
    let e = store
        .put_data_value(&writer("planner"), &approve, Some(2))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Workflow { .. }), "{e}");

    let mut submit = edited.clone();
    submit.status = ValueStatus::Submitted;
    let submitted = store
        .put_data_value(&writer("reporter"), &submit, Some(2))
        .await
        .unwrap();
    // Submitted values wait for review: the reporter cannot change them meanwhile.
    let e = store
        .put_data_value(&writer("reporter"), &submit, Some(3))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Workflow { .. }), "{e}");
    let key = crate::ValueKey::of(&submitted);
    // Returning needs a reason.
    let e = store
        .review_data_value(
            &reviewer("planner"),
            &key,
            3,
            ReviewDecision::Return,
            Some(" "),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("comment"), "{e}");
    let approved = store
        .review_data_value(
            &reviewer("planner"),
            &key,
            submitted.version,
            ReviewDecision::Approve,
            Some("核对无误"),
        )
        .await
        .unwrap();
    assert_eq!(approved.version, 4);
    assert_eq!(approved.status, ValueStatus::Approved);
    assert_eq!(approved.value, Value::Number { value: 26.0 });
    // Approved values are locked for the reporter until a reviewer reopens them.
    let mut reopen = approved.clone();
    reopen.status = ValueStatus::Draft;
    let e = store
        .put_data_value(&writer("reporter"), &reopen, Some(4))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Workflow {
                from: "approved",
                ..
            }
        ),
        "{e}"
    );
    let e = store
        .review_data_value(&reviewer("planner"), &key, 4, ReviewDecision::Approve, None)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Workflow { .. }), "{e}");

    // Values for unknown areas are refused with the area named.
    let e = store
        .put_data_value(
            &writer("reporter"),
            &number("HL01", "449999", "2024", 1.0),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("449999"), "{e}");

    let ratio = DataValue::new(
        "HL02",
        code("440300"),
        Period::Quarter(2024, 1),
        Value::Ratio {
            numerator: 3.0,
            denominator: 1200.0,
        },
    )
    .unwrap();
    let text = DataValue::new(
        "HL06",
        code("440300"),
        Period::Month(2024, 3),
        Value::Text {
            value: "已建立".into(),
        },
    )
    .unwrap();
    let yes = DataValue::new(
        "HL06b",
        code("440300"),
        Period::Year(2023),
        Value::Boolean { value: true },
    )
    .unwrap();
    for v in [&ratio, &text, &yes] {
        store
            .put_data_value(&writer("reporter"), v, None)
            .await
            .unwrap();
    }
    let every = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap();
    assert_eq!(every.len(), 4);
    assert_eq!(every[0], approved);
    assert!(every.contains(&ratio) && every.contains(&text) && every.contains(&yes));
    let only = store
        .list_data_values(
            &all(),
            &DataValueFilter {
                area: Some(code("440300")),
                period: Some(Period::Quarter(2024, 1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(only, vec![ratio.clone()]);

    // Delete needs the current version too, and never removes approved values.
    let ratio_key = crate::ValueKey::new("HL02", code("440300"), Period::Quarter(2024, 1));
    let e = store
        .delete_data_value(&writer("reporter"), &ratio_key, 7)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::VersionConflict { .. }), "{e}");
    let e = store
        .delete_data_value(&writer("reporter"), &key, 4)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Workflow { .. }), "{e}");
    store
        .delete_data_value(&writer("reporter"), &ratio_key, 1)
        .await
        .unwrap();

    let log = store
        .audit_log(&AuditFilter {
            entity: Some("data_value".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action).collect();
    use AuditAction::*;
    assert_eq!(
        actions,
        [Insert, Update, Update, Update, Insert, Insert, Insert, Delete]
    );
    assert_eq!(log[1].before.as_ref().unwrap()["value"]["value"], 25.4);
    assert_eq!(log[1].after.as_ref().unwrap()["value"]["value"], 26.0);
    assert_eq!(log[3].after.as_ref().unwrap()["status"], "approved");
    assert_eq!(log[3].after.as_ref().unwrap()["review_comment"], "核对无误");
    assert_eq!(log[3].actor, "planner");
    assert_eq!(log[7].after, None);
    assert_eq!(
        log[7].before.as_ref().unwrap()["value"]["denominator"],
        1200.0
    );
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));

    let element =
        DataElement::new("live_births", "活产数", ValueType::Number, Aggregation::Sum).unwrap();
    let deaths = DataElement::new(
        "infant_deaths",
        "婴儿死亡数",
        ValueType::Number,
        Aggregation::Sum,
    )
    .unwrap();
    let both = [element.clone(), deaths.clone()];
    store
        .put_data_elements(&registry("planner"), &both)
        .await
        .unwrap();
    // Declaring the same again changes nothing.
    store
        .put_data_elements(&registry("planner"), &both)
        .await
        .unwrap();
    assert_eq!(
        store.list_data_elements().await.unwrap(),
        vec![deaths, element]
    );
}

async fn data_value_import_all_or_nothing(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let good: Vec<DataValue> = (2019..=2023)
        .map(|y| number("HL01", "440310", &y.to_string(), 20.0 + f64::from(y - 2019)))
        .collect();
    let n = store
        .import_data_values(&bulk("loader"), &good)
        .await
        .unwrap();
    assert_eq!(n.inserted, 5);
    let before = counts(store).await;
    let snapshot = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap();

    // Third row has an unknown area: the updates before it must roll back.
    let mut broken = good.clone();
    broken[0].value = Value::Number { value: 99.0 };
    broken[1].value = Value::Number { value: 98.0 };
    broken[2] = number("HL01", "449999", "2021", 1.0);
    let e = store
        .import_data_values(&bulk("loader"), &broken)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("449999"), "{e}");
    assert_eq!(counts(store).await, before);
    assert_eq!(
        store
            .list_data_values(&all(), &DataValueFilter::default())
            .await
            .unwrap(),
        snapshot
    );

    // The same key twice in one batch is refused rather than silently last-wins.
    let twice = vec![good[0].clone(), good[0].clone()];
    let e = store
        .import_data_values(&bulk("loader"), &twice)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
    assert_eq!(counts(store).await, before);

    // The same file twice changes nothing; a changed value bumps its version.
    let n = store
        .import_data_values(&bulk("loader"), &good)
        .await
        .unwrap();
    assert_eq!(n.unchanged, 5);
    let mut changed = good.clone();
    changed[4].value = Value::Number { value: 30.5 };
    changed[4].status = ValueStatus::Approved;
    let n = store
        .import_data_values(&bulk("loader"), &changed)
        .await
        .unwrap();
    assert_eq!((n.updated, n.unchanged), (1, 4));
    let last = store
        .list_data_values(
            &all(),
            &DataValueFilter {
                period: Some(Period::Year(2023)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(last[0].version, 2);
    assert_eq!(last[0].status, ValueStatus::Approved);

    let log = store
        .audit_log(&AuditFilter {
            entity: Some("data_value".into()),
            entity_key: Some("HL01/440310/2023".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].action, log[1].action),
        (AuditAction::Insert, AuditAction::Update)
    );
    assert_eq!(log[0].actor, "loader");
    assert_eq!(log[0].after.as_ref().unwrap()["value"]["value"], 24.0);
    assert_eq!(log[1].before.as_ref().unwrap()["value"]["value"], 24.0);
    assert_eq!(log[1].after.as_ref().unwrap()["value"]["value"], 30.5);
    assert_eq!(log[1].after.as_ref().unwrap()["version"], 2);
}

async fn unreadable_period_is_reported_not_guessed(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    // A period built directly from the public variants is re-checked before any write.
    let area = AreaCode::parse("440310").unwrap();
    let out_of_range = DataValue {
        element: "HL01".into(),
        area,
        period: Period::Month(2101, 1),
        value: Value::Number { value: 1.0 },
        status: ValueStatus::Draft,
        version: 1,
        comment: None,
        review_comment: None,
        synthetic: false,
    };
    let before = counts(store).await;
    assert!(store
        .put_data_value(&writer("tester"), &out_of_range, None)
        .await
        .is_err());
    let e = store
        .import_data_values(&bulk("tester"), std::slice::from_ref(&out_of_range))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("210101"), "{e}");
    assert_eq!(before, counts(store).await);
    // A period that no code path can write (core refuses 2024Q5) ...
    let e = "2024Q5".parse::<Period>().unwrap_err();
    assert!(e.to_string().contains("2024Q5"), "{e}");
    // ... smuggled in by hand is reported with the row, not silently skipped.
    raw_execute(
        store,
        "INSERT INTO data_values (element, area_code, period, value_type, num_value, status,
             version, updated_by, updated_at)
         VALUES ('HL01', '440310', '2024Q5', 'number', 1.5, 'draft', 1, 'x', 'x')",
    )
    .await
    .unwrap();
    let e = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("HL01/440310/2024Q5") && msg.contains("quarter"),
        "{msg}"
    );
    let e = store
        .for_each_numeric_value(&mut |_| ControlFlow::Continue(()))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("HL01/440310/2024Q5"), "{e}");
}

async fn audit_log_is_append_only(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!(log.len(), 4);
    let e = raw_execute(store, "UPDATE audit_log SET actor = 'someone else'")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = raw_execute(store, "DELETE FROM audit_log")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    // An insert naming an existing id, in every form each backend has.
    let first = "(1, 'now', 'someone else', 'area', 'x', 'insert')";
    let columns = "audit_log (id, at, actor, entity, entity_key, action)";
    let mut rewrites = vec![
        format!("INSERT INTO {columns} VALUES {first}"),
        format!("INSERT INTO {columns} VALUES {first} ON CONFLICT (id) DO UPDATE SET actor = 'x'"),
        format!("INSERT INTO {columns} VALUES {first} ON CONFLICT (id) DO NOTHING"),
    ];
    if matches!(store, Store::Sqlite(_)) {
        rewrites.push(format!("INSERT OR REPLACE INTO {columns} VALUES {first}"));
        rewrites.push(format!("REPLACE INTO {columns} VALUES {first}"));
    }
    for sql in rewrites {
        let sql: &'static str = Box::leak(sql.into_boxed_str());
        let refused = match raw_execute(store, sql).await {
            Err(_) => true,
            Ok(rows) => rows == 0,
        };
        assert!(refused, "{sql}");
    }
    assert_eq!(store.audit_log(&AuditFilter::default()).await.unwrap(), log);
    let page = store
        .audit_log(&AuditFilter {
            after_id: Some(log[1].id),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page, vec![log[2].clone()]);
}

async fn audit_chain_names_the_first_changed_row(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    let intact = store.verify_audit().await.unwrap();
    assert_eq!(intact.rows, log.len() as u64);
    assert_eq!((intact.unchained, intact.first_broken), (0, None));
    // The database owner can always lift the trigger; the chain still tells.
    let lift = match store {
        Store::Sqlite(_) => "DROP TRIGGER audit_log_no_update",
        Store::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    };
    raw_execute(store, lift).await.unwrap();
    let edit = format!(
        "UPDATE audit_log SET actor = 'someone else' WHERE id = {}",
        log[2].id
    );
    let edit: &'static str = Box::leak(edit.into_boxed_str());
    assert_eq!(raw_execute(store, edit).await.unwrap(), 1);
    let broken = store.verify_audit().await.unwrap();
    assert_eq!(broken.first_broken, Some(log[2].id), "{broken:?}");
}

async fn users_and_grants(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let grants = vec![Grant {
        role: Role::Reporter,
        area: code("440310"),
        departments: vec!["区卫生健康局".into()],
    }];
    let u = User::new("pingshan.wsj", "坪山区卫健局填报员", grants).unwrap();
    store
        .create_user(&users("admin"), &u, Some("$argon2id$v=19$fake"))
        .await
        .unwrap();
    assert_eq!(store.user("pingshan.wsj").await.unwrap(), Some(u.clone()));
    assert_eq!(
        store
            .user_password_hash("pingshan.wsj")
            .await
            .unwrap()
            .as_deref(),
        Some("$argon2id$v=19$fake")
    );
    let e = store
        .create_user(&users("admin"), &u, None)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AlreadyExists { .. }), "{e}");

    // A grant on an unknown area refuses the whole user.
    let before = counts(store).await;
    let bad = User::new(
        "ghost",
        "无",
        vec![Grant {
            role: Role::Viewer,
            area: code("449999"),
            departments: vec![],
        }],
    )
    .unwrap();
    assert!(store
        .create_user(&users("admin"), &bad, None)
        .await
        .is_err());
    assert_eq!(counts(store).await, before);

    let mut promoted = u.clone();
    promoted.grants.push(Grant {
        role: Role::Viewer,
        area: code("440300"),
        departments: vec![],
    });
    store.update_user(&users("admin"), &promoted).await.unwrap();
    assert_eq!(
        store.list_users(&users("admin")).await.unwrap(),
        vec![promoted.clone()]
    );

    let log = store
        .audit_log(&AuditFilter {
            entity: Some("user".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].after.as_ref().unwrap()["has_password"], true);
    assert_eq!(log[1].action, AuditAction::Update);
    assert_eq!(
        log[1].before.as_ref().unwrap()["grants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        log[1].after.as_ref().unwrap()["grants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let all = serde_json::to_string(&log).unwrap();
    assert!(
        !all.contains("argon2"),
        "password hashes never reach the log"
    );
}

async fn task_progress(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let doc = PlanDocument::from_json(PLAN).unwrap();
    let id = store
        .save_plan(&editor("planner"), &doc, None)
        .await
        .unwrap();
    let mut p = TaskProgress {
        plan_id: id,
        task_id: "t1".into(),
        area: code("445300"),
        period: Period::Year(2024),
        status: TaskStatus::InProgress,
        note: "专家库已组建".into(),
        workflow: ValueStatus::Draft,
        version: 1,
        review_comment: None,
    };
    let w = progress("reporter");
    let first = store.put_task_progress(&w, &p, None).await.unwrap();
    assert_eq!(first.version, 1);
    p.status = TaskStatus::Completed;
    p.workflow = ValueStatus::Submitted;
    // A stale version is refused like a data value's.
    assert!(matches!(
        store.put_task_progress(&w, &p, None).await,
        Err(StoreError::VersionConflict { .. })
    ));
    let submitted = store.put_task_progress(&w, &p, Some(1)).await.unwrap();
    assert_eq!(
        store.list_task_progress(&all(), id).await.unwrap(),
        vec![submitted.clone()]
    );
    let key = crate::TaskKey {
        plan_id: id,
        task_id: "t1".into(),
        area: code("445300"),
        period: Period::Year(2024),
    };
    let returned = store
        .review_task_progress(
            &reviewer("planner"),
            &key,
            2,
            ReviewDecision::Return,
            Some("请补充证明材料"),
        )
        .await
        .unwrap();
    assert_eq!(returned.workflow, ValueStatus::Returned);
    assert_eq!(returned.review_comment.as_deref(), Some("请补充证明材料"));
    let file = crate::EvidenceFile {
        file_name: "会议纪要.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4 minutes".to_vec(),
    };
    let ev = store.add_evidence(&w, &key, &file).await.unwrap();
    let listed = store.list_evidence(&all(), &key).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, 16);
    let (meta, bytes) = store.evidence(&all(), ev).await.unwrap();
    assert_eq!(
        (meta.file_name.as_str(), bytes),
        ("会议纪要.pdf", file.bytes.clone())
    );
    let resubmitted = store.put_task_progress(&w, &p, Some(3)).await.unwrap();
    let approved = store
        .review_task_progress(
            &reviewer("planner"),
            &key,
            resubmitted.version,
            ReviewDecision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(approved.workflow, ValueStatus::Approved);
    // Approved reports are locked.
    assert!(matches!(
        store
            .put_task_progress(&w, &p, Some(approved.version))
            .await,
        Err(StoreError::Workflow { .. })
    ));
    let unknown = TaskProgress {
        task_id: "t99".into(),
        ..p.clone()
    };
    assert!(matches!(
        store.put_task_progress(&w, &unknown, None).await,
        Err(StoreError::NotFound { .. })
    ));
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("task_progress".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 5);
    assert_eq!(log[1].before.as_ref().unwrap()["status"], "in_progress");
    assert_eq!(log[1].after.as_ref().unwrap()["status"], "completed");
    assert_eq!(log[4].actor, "planner");
}

async fn reopening_keeps_data(store: &Store, config: &StoreConfig) {
    with_areas(store).await;
    let again = Store::open(config).await.unwrap();
    assert_eq!(again.list_areas().await.unwrap().len(), 4);
    again.close().await;
}

async fn concurrent_writers_cannot_both_win(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    // Two reporters create the same value at once: exactly one insert lands.
    let v = number("HL01", "440300", "2024", 1.0);
    let (wa, wb) = (writer("a"), writer("b"));
    let (a, b) = tokio::join!(
        store.put_data_value(&wa, &v, None),
        store.put_data_value(&wb, &v, None)
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(
        matches!(loser, Err(StoreError::VersionConflict { .. })),
        "{loser:?}"
    );

    // Two editors both holding version 1: one update, one conflict, version 2 stored.
    let mut x = v.clone();
    x.value = Value::Number { value: 2.0 };
    let mut y = v.clone();
    y.value = Value::Number { value: 3.0 };
    let (a, b) = tokio::join!(
        store.put_data_value(&wa, &x, Some(1)),
        store.put_data_value(&wb, &y, Some(1))
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let winner = a.as_ref().or(b.as_ref()).unwrap().clone();
    let stored = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap();
    assert_eq!(stored, vec![winner.clone()]);
    assert_eq!(winner.version, 2);
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("data_value".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "only the winners are audited");
}

/// Group commit: several callers' saves in one transaction; each caller's values all or
/// nothing, a refused caller failing alone, the audit rows chained in order.
async fn grouped_saves_commit_together_and_fail_alone(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let (a, b, c, d, e) = (
        writer("a"),
        writer("b"),
        writer("c"),
        writer("d"),
        writer("e"),
    );
    let first = [(number("HL01", "440300", "2024", 1.0), None)];
    // A version for a value that does not exist: refused.
    let stale = [(number("HL01", "440310", "2024", 2.0), Some(5))];
    let batch = [
        (number("HL02", "440300", "2024", 3.0), None),
        (number("HL02", "440310", "2024", 4.0), None),
        (number("HL02", "445300", "2024", 5.0), None),
    ];
    // The same new cell as `a` in the same group: `a`'s insert is seen, so a conflict.
    let again = [(number("HL01", "440300", "2024", 6.0), None)];
    // An area that is not stored: refused by name, after others wrote in the transaction.
    let unknown = [
        (number("HL03", "440300", "2024", 7.0), None),
        (number("HL03", "110000", "2024", 8.0), None),
    ];
    // The same cell twice in one caller's values: saved one after the other.
    let twice = [
        (number("HL04", "440300", "2024", 9.0), None),
        (number("HL04", "440300", "2024", 10.0), Some(1)),
    ];
    let out = store
        .put_data_value_groups(&[
            (&a, &first[..]),
            (&b, &stale[..]),
            (&c, &batch[..]),
            (&d, &again[..]),
            (&e, &unknown[..]),
            (&a, &twice[..]),
        ])
        .await;
    assert_eq!(out.len(), 6);
    assert_eq!(out[0].as_ref().unwrap()[0].version, 1);
    assert!(
        matches!(out[1], Err(StoreError::VersionConflict { .. })),
        "{:?}",
        out[1]
    );
    assert_eq!(out[2].as_ref().unwrap().len(), 3);
    assert!(
        matches!(out[3], Err(StoreError::VersionConflict { .. })),
        "{:?}",
        out[3]
    );
    let err = out[4].as_ref().unwrap_err().to_string();
    assert!(err.contains("110000"), "{err}");
    let versions: Vec<i64> = out[5].as_ref().unwrap().iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2]);

    let stored = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap();
    let cells: Vec<String> = stored
        .iter()
        .map(|v| format!("{}/{}={:?}", v.element, v.area, v.value))
        .collect();
    assert_eq!(stored.len(), 5, "{cells:?}");
    assert!(!stored.iter().any(|v| v.element == "HL03"), "{cells:?}");
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("data_value".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actors: Vec<&str> = log.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(
        actors,
        ["a", "c", "c", "c", "a", "a"],
        "only what committed, in order"
    );
    assert_eq!(log[5].after.as_ref().unwrap()["version"], 2);
    let check = store.verify_audit().await.unwrap();
    assert!(check.first_broken.is_none(), "{check:?}");
    assert!(store.integrity_check().await.unwrap().is_empty());

    // Keyed reads: exactly the cells asked for that exist, within the scope.
    let keys = [
        ValueKey::new("HL02", code("440310"), "2024".parse().unwrap()),
        ValueKey::new("HL02", code("440000"), "2024".parse().unwrap()),
    ];
    let got = store.data_values_at(&all(), &keys).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, Value::Number { value: 4.0 });
}

/// Collects what the streaming read hands out, as `DataValue`s to compare with the full read.
async fn stream_all(store: &Store) -> (Vec<(String, AreaCode, Period, Value)>, NumericScan) {
    let mut out = Vec::new();
    let scan = store
        .for_each_numeric_value(&mut |v| {
            let value = match v.value {
                Numeric::Number(value) => Value::Number { value },
                Numeric::Ratio {
                    numerator,
                    denominator,
                } => Value::Ratio {
                    numerator,
                    denominator,
                },
                Numeric::Boolean(value) => Value::Boolean { value },
            };
            out.push((v.element.to_string(), v.area.clone(), v.period, value));
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    out.sort_by(|a, b| {
        (&a.0, a.1.as_str(), a.2.to_string()).cmp(&(&b.0, b.1.as_str(), b.2.to_string()))
    });
    (out, scan)
}

async fn numeric_stream_yields_what_all_data_values_holds(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    assert_eq!(stream_all(store).await.1, NumericScan::default());
    // More values than one page of the streaming read, of every value type, with element
    // and area strings repeated (the decoder caches them) and updates (ids not in key order).
    let areas = ["440000", "440300", "440310", "445300"];
    let mut values = Vec::new();
    for i in 0..20_100usize {
        let area = code(areas[i % 4]);
        let month = i / 4 % 1200;
        let period = Period::Month(2000 + (month / 12) as i32, (month % 12) as u8 + 1);
        let block = i / 4800;
        let (element, value) = match i % 7 {
            0 => (
                "R",
                Value::Ratio {
                    numerator: i as f64,
                    denominator: 1.0 + (i % 13) as f64,
                },
            ),
            1 => ("B", Value::Boolean { value: i % 2 == 0 }),
            2 => (
                "T",
                Value::Text {
                    value: format!("说明{i}"),
                },
            ),
            k => (
                ["N1", "N2", "N3", "N4"][k - 3],
                Value::Number {
                    value: i as f64 * 0.5,
                },
            ),
        };
        let element = format!("{element}{block}");
        values.push(DataValue::new(&element, area, period, value).unwrap());
    }
    store
        .import_data_values(&bulk("loader"), &values)
        .await
        .unwrap();
    // Rewrite a value stored early so the row order by id differs from the key order.
    let mut again = values[3].clone();
    again.value = Value::Number { value: -1.25 };
    store
        .import_data_values(&bulk("loader"), &[again])
        .await
        .unwrap();

    let all = store
        .list_data_values(&all(), &DataValueFilter::default())
        .await
        .unwrap();
    let mut expected: Vec<_> = all
        .iter()
        .filter(|v| !matches!(v.value, Value::Text { .. }))
        .map(|v| (v.element.clone(), v.area.clone(), v.period, v.value.clone()))
        .collect();
    expected.sort_by(|a, b| {
        (&a.0, a.1.as_str(), a.2.to_string()).cmp(&(&b.0, b.1.as_str(), b.2.to_string()))
    });
    let texts = all.len() - expected.len();
    assert!(
        texts > 2000 && expected.len() > 17_000,
        "{texts} {}",
        expected.len()
    );
    assert!(expected
        .iter()
        .any(|v| v.3 == Value::Number { value: -1.25 }));

    let (streamed, scan) = stream_all(store).await;
    assert_eq!(
        scan,
        NumericScan {
            numeric: expected.len(),
            text: texts
        }
    );
    assert_eq!(streamed, expected);

    // Break stops the scan at once.
    let mut seen = 0;
    let scan = store
        .for_each_numeric_value(&mut |_| {
            seen += 1;
            if seen == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .unwrap();
    assert_eq!((seen, scan.numeric), (3, 3));
}

/// The store is shared by request handlers: it and its futures must be Send + Sync.
#[allow(dead_code)]
fn store_futures_are_send(store: &Store) {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Store>();
    send(&store.list_data_values(&all(), &DataValueFilter::default()));
    send(&store.for_each_numeric_value(&mut |_| ControlFlow::Continue(())));
    send(&store.put_data_value(&writer("x"), &number("e", "440300", "2024", 1.0), None));
}

#[tokio::test]
async fn sqlite_file_uses_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path().join("new/dir"), None))
        .await
        .unwrap();
    assert!(dir.path().join("new/dir/healthplan.db").is_file());
    let Store::Sqlite(db) = &store else {
        panic!("expected SQLite")
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    // FULL: a commit is on disk before it is acknowledged (NORMAL in WAL may lose the last
    // ones on a power cut).
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(sync, 2);
    let e = Store::open(&StoreConfig::new(dir.path(), Some("mysql://h/db".into())))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::UnsupportedUrl(_)), "{e}");
    store.close().await;
}

/// The store checks every row against the capability it is handed, and filters reads.
async fn scoped_writes_and_reads(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let mut doc = PlanDocument::from_json(PLAN).unwrap();
    doc.indicators[0].lead = Some("市卫生健康局".into());
    doc.indicators[1].lead = Some("市教育局".into());
    let plan = store.save_plan(&editor("admin"), &doc, None).await.unwrap();
    let stored = store.plan(&all(), plan).await.unwrap();
    let (e0, e1) = (
        stored.indicators[0].element.clone().unwrap(),
        stored.indicators[1].element.clone().unwrap(),
    );
    let rows = store.responsibilities().await.unwrap();
    let mut r = Responsibilities::default();
    for (e, d) in &rows.elements {
        r.add_element(e, d);
    }
    assert_eq!(rows.elements.len(), 2);
    let policy = Policy::new(&store.list_areas().await.unwrap(), r);
    let grant = |role, area: &str, departments: &[&str]| {
        let u = User::new(
            "someone",
            "某人",
            vec![Grant {
                role,
                area: code(area),
                departments: departments.iter().map(|d| d.to_string()).collect(),
            }],
        )
        .unwrap();
        policy.caps(&u, healthplan_access::Via::Session)
    };
    let reporter = grant(Role::Reporter, "440300", &["区卫生健康局"]);
    let w = reporter.value_writer().unwrap();
    let before = counts(store).await;
    for (element, area) in [
        (&e0, "445300"),
        (&e1, "440310"),
        (&"HL99".to_string(), "440310"),
    ] {
        let e = store
            .put_data_value(&w, &number(element, area, "2024", 1.0), None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Forbidden(_)),
            "{element} {area}: {e}"
        );
    }
    assert_eq!(counts(store).await, before, "refusals write nothing");
    let mine = store
        .put_data_value(&w, &number(&e0, "440310", "2024", 1.0), None)
        .await
        .unwrap();
    // The city's planner reviews inside its subtree only.
    let sz_planner = grant(Role::Planner, "440300", &[]);
    let yf_planner = grant(Role::Planner, "445300", &[]);
    let key = crate::ValueKey::of(&mine);
    let e = store
        .review_data_value(
            &yf_planner.reviewer().unwrap(),
            &key,
            1,
            ReviewDecision::Return,
            Some("x"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e}");
    // Plans: Yunfu's plan is outside Shenzhen's planner's subtree.
    let e = store
        .update_plan(&sz_planner.plan_editor().unwrap(), plan, &stored)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e}");
    store
        .update_plan(&yf_planner.plan_editor().unwrap(), plan, &stored)
        .await
        .unwrap();
    // Reads are filtered: Shenzhen's viewer sees its values, not Yunfu's plan.
    store
        .import_data_values(&bulk("admin"), &[number(&e0, "445300", "2024", 2.0)])
        .await
        .unwrap();
    let viewer = grant(Role::Viewer, "440300", &[]).reader();
    let seen = store
        .list_data_values(&viewer, &DataValueFilter::default())
        .await
        .unwrap();
    assert_eq!(seen, vec![mine.clone()]);
    assert!(store.list_plans(&viewer).await.unwrap().is_empty());
    assert!(matches!(
        store.plan(&viewer, plan).await,
        Err(StoreError::NotFound { .. })
    ));
    let yf_viewer = grant(Role::Viewer, "445300", &[]).reader();
    assert_eq!(store.list_plans(&yf_viewer).await.unwrap().len(), 1);
    // The public reads nothing of a draft plan, and published plans only as publications.
    let public = policy.public().reader();
    assert!(store.list_plans(&public).await.unwrap().is_empty());
    let e = store
        .publish_plan(
            &editor("admin"),
            plan,
            2024,
            &serde_json::json!({"title": "x"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Workflow { .. }),
        "a draft is confirmed first: {e}"
    );
    assert_eq!(store.publication(plan).await.unwrap(), None);
    store
        .set_plan_status(
            &editor("admin"),
            plan,
            healthplan_core::PlanStatus::Confirmed,
        )
        .await
        .unwrap();
    store
        .publish_plan(
            &editor("admin"),
            plan,
            2024,
            &serde_json::json!({"title": "x"}),
        )
        .await
        .unwrap();
    assert_eq!(store.list_plans(&public).await.unwrap().len(), 1);
    assert!(store.plan(&public, plan).await.is_err());
    let publication = store.publication(plan).await.unwrap().unwrap();
    assert_eq!(
        (publication.as_of, publication.snapshot["title"].as_str()),
        (2024, Some("x"))
    );
    assert!(store
        .list_data_values(&public, &DataValueFilter::default())
        .await
        .unwrap()
        .is_empty());
    // Relinking an indicator is the plan editor's, and audited.
    store
        .link_indicator(&editor("admin"), plan, 1, &e0)
        .await
        .unwrap();
    assert_eq!(
        store.plan(&all(), plan).await.unwrap().indicators[1].element,
        Some(e0.clone())
    );
    assert!(matches!(
        store
            .link_indicator(&editor("admin"), plan, 1, "NOPE")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    // Rounds: opened by a planner for areas in its subtree.
    let round = healthplan_core::NewRound {
        plan_id: plan,
        title: "2024年度监测".into(),
        period: Period::Year(2024),
        deadline: healthplan_core::Date::parse("2025-03-31").unwrap(),
        areas: vec![code("445300")],
        departments: vec!["市卫生健康局".into()],
    };
    let e = store
        .open_round(&sz_planner.round_manager().unwrap(), &round)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e}");
    let opened = store
        .open_round(&yf_planner.round_manager().unwrap(), &round)
        .await
        .unwrap();
    assert!(opened.open);
    assert_eq!(
        store.list_rounds(&yf_viewer).await.unwrap(),
        vec![opened.clone()]
    );
    assert!(store.list_rounds(&viewer).await.unwrap().is_empty());
    store
        .close_round(&yf_planner.round_manager().unwrap(), opened.id)
        .await
        .unwrap();
    assert!(!store.round(&all(), opened.id).await.unwrap().open);
}

async fn sessions_tokens_and_throttling(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let u = User::new("alice", "Alice", Vec::new()).unwrap();
    store
        .create_user(&users("admin"), &u, Some("$argon2id$fake"))
        .await
        .unwrap();
    store
        .create_session("alice", "hash1", "csrf1", "127.0.0.1")
        .await
        .unwrap();
    let s = store.session("hash1").await.unwrap().unwrap();
    assert_eq!((s.username.as_str(), s.csrf.as_str()), ("alice", "csrf1"));
    store.touch_session("hash1").await.unwrap();
    assert!(store.session("hash1").await.unwrap().unwrap().last_seen_at >= s.last_seen_at);
    store.end_session("hash1", "sign_out").await.unwrap();
    assert_eq!(store.session("hash1").await.unwrap(), None);

    let policy = Policy::new(&[], Responsibilities::default());
    let me = policy
        .caps(&u, healthplan_access::Via::Session)
        .self_service()
        .unwrap();
    let t = store.create_token(&me, "脚本", "thash").await.unwrap();
    assert_eq!(
        store.use_token("thash", "c").await.unwrap().unwrap().id,
        t.id
    );
    assert_eq!(store.use_token("other", "c").await.unwrap(), None);
    store.revoke_token(&me, t.id).await.unwrap();
    assert!(store
        .use_token("thash", "c")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(
        store.revoke_token(&me, t.id).await.is_err(),
        "already revoked"
    );

    let keys = vec!["user:alice".to_string(), "addr:10.0.0.1".to_string()];
    for _ in 0..3 {
        store
            .record_sign_in_failure(&keys, "alice", "10.0.0.1", "bad password")
            .await
            .unwrap();
    }
    let f = store.sign_in_failures(&keys).await.unwrap();
    assert_eq!(f.iter().map(|t| t.failures).collect::<Vec<_>>(), [3, 3]);
    store.clear_sign_in_failures(&keys[..1]).await.unwrap();
    assert_eq!(store.sign_in_failures(&keys).await.unwrap().len(), 1);

    // A disabled account loses its sessions; the password hash never enters the log.
    store
        .create_session("alice", "hash2", "csrf2", "127.0.0.1")
        .await
        .unwrap();
    let mut off = u.clone();
    off.disabled = true;
    store.update_user(&users("admin"), &off).await.unwrap();
    assert_eq!(store.session("hash2").await.unwrap(), None);
    assert!(store.user("alice").await.unwrap().unwrap().disabled);
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("auth".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let events: Vec<&str> = log
        .iter()
        .filter_map(|e| e.after.as_ref()?["event"].as_str())
        .collect();
    assert_eq!(
        events,
        [
            "sign_in",
            "sign_out",
            "token_use",
            "revoked_token_refused",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in"
        ]
    );
    let everything = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert!(everything
        .iter()
        .all(|e| !format!("{:?}{:?}", e.before, e.after).contains("argon2")));
}

async fn mapping_table_is_one_to_one_and_audited(store: &Store, _: &StoreConfig) {
    use crate::{MappingKind as K, MappingRow as R};
    let by = caps("planner-1").mapping_editor().unwrap();
    assert!(store.list_mapping().await.unwrap().is_empty());
    let rows = vec![
        R::new(K::Period, "2024", "2024"),
        R::new(K::Element, "DE1", " fbfJHSPpUQD "),
        R::new(K::OrgUnit, "440300", "ImspTQPwCqd"),
        R::new(K::Element, "DE2", "cYeuwXTCPkU"),
    ];
    let n = store.replace_mapping(&by, &rows).await.unwrap();
    assert_eq!(
        (n.inserted, n.updated, n.deleted, n.unchanged),
        (4, 0, 0, 0)
    );
    let listed = store.list_mapping().await.unwrap();
    let keys: Vec<(K, &str, &str)> = listed
        .iter()
        .map(|r| (r.kind, r.local_code.as_str(), r.dhis2_code.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (K::Element, "DE1", "fbfJHSPpUQD"),
            (K::Element, "DE2", "cYeuwXTCPkU"),
            (K::OrgUnit, "440300", "ImspTQPwCqd"),
            (K::Period, "2024", "2024"),
        ],
        "trimmed, ordered by kind then code"
    );

    // A DHIS2 code mapped twice in one kind: refused whole, naming the row.
    let before = counts(store).await;
    let bad = vec![
        R::new(K::Element, "DE1", "X1"),
        R::new(K::Element, "DE3", "X1"),
    ];
    let e = store.replace_mapping(&by, &bad).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("row 2") && m.contains("X1")),
        "{e}"
    );
    let twice = vec![
        R::new(K::Element, "DE1", "A"),
        R::new(K::Element, "DE1", "B"),
    ];
    let e = store.replace_mapping(&by, &twice).await.unwrap_err();
    assert!(e.to_string().contains("row 2"), "{e}");
    let empty = vec![R::new(K::OrgUnit, " ", "B")];
    assert!(store
        .replace_mapping(&by, &empty)
        .await
        .unwrap_err()
        .to_string()
        .contains("row 1"));
    assert_eq!(counts(store).await, before, "nothing written");
    // The same DHIS2 code in another kind is fine.
    store
        .put_mapping_row(&by, &R::new(K::OrgUnit, "440000", "fbfJHSPpUQD"))
        .await
        .unwrap();
    // One row: taken DHIS2 code refused, change and delete audited.
    let e = store
        .put_mapping_row(&by, &R::new(K::Element, "DE9", "cYeuwXTCPkU"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("DE2"), "{e}");
    store
        .put_mapping_row(&by, &R::new(K::Element, "DE2", "NEW"))
        .await
        .unwrap();
    store
        .delete_mapping_row(&by, K::Period, "2024")
        .await
        .unwrap();
    assert!(matches!(
        store.delete_mapping_row(&by, K::Period, "2024").await,
        Err(StoreError::NotFound { .. })
    ));

    // Replacing: a DHIS2 code may move to another local code in one go.
    let moved = vec![
        R::new(K::Element, "DE1", "NEW"),
        R::new(K::Element, "DE2", "fbfJHSPpUQD"),
        R::new(K::OrgUnit, "440300", "ImspTQPwCqd"),
    ];
    let n = store.replace_mapping(&by, &moved).await.unwrap();
    assert_eq!(
        (n.inserted, n.updated, n.deleted, n.unchanged),
        (0, 2, 1, 1)
    );
    assert_eq!(store.list_mapping().await.unwrap(), {
        let mut m = moved.clone();
        m.sort_by_key(|r| (r.kind, r.local_code.clone()));
        m
    });
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("exchange_mapping".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<(AuditAction, &str)> = log
        .iter()
        .map(|e| (e.action, e.entity_key.as_str()))
        .collect();
    assert_eq!(actions.len(), 4 + 1 + 1 + 1 + 3, "{actions:?}");
    assert!(log.iter().all(|e| e.actor == "planner-1"));
    assert!(actions.contains(&(AuditAction::Delete, "period:2024")));
    assert!(actions.contains(&(AuditAction::Delete, "org_unit:440000")));
    let de2 = log.iter().rfind(|e| e.entity_key == "element:DE2").unwrap();
    assert_eq!(de2.action, AuditAction::Update);
    assert_eq!(de2.before.as_ref().unwrap()["dhis2_code"], "NEW");
    assert_eq!(de2.after.as_ref().unwrap()["dhis2_code"], "fbfJHSPpUQD");
}

async fn periodic_jobs_are_claimed_once_per_period(store: &Store, _: &StoreConfig) {
    let day = std::time::Duration::from_secs(86_400);
    // Two processes ticking together: one claim wins.
    let (a, b) = tokio::join!(
        store.claim_job("backup", day),
        store.claim_job("backup", day)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    assert!(!store.claim_job("backup", day).await.unwrap());
    // Another job has its own period; a due one is claimed again.
    assert!(store.claim_job("alerts", day).await.unwrap());
    assert!(store
        .claim_job("backup", std::time::Duration::ZERO)
        .await
        .unwrap());
}

async fn operations_are_recorded_and_probed(store: &Store, _: &StoreConfig) {
    store.ping().await.unwrap();
    let m = store.migration_state().await.unwrap();
    assert!(m.applied >= 6 && m.pending.is_empty(), "{m:?}");
    assert!(store.pool_state().await.unwrap().size >= 1);
    assert_eq!(
        store.last_operation(crate::BACKUP_ENTITY).await.unwrap(),
        None
    );
    for file in ["a.zip", "b.zip"] {
        store
            .record_operation(
                "cli:ops",
                crate::BACKUP_ENTITY,
                file,
                &serde_json::json!({"bytes": 1}),
            )
            .await
            .unwrap();
    }
    let last = store
        .last_operation(crate::BACKUP_ENTITY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (last.entity_key.as_str(), last.actor.as_str()),
        ("b.zip", "cli:ops")
    );
    assert!(store
        .record_operation(" ", "backup", "c.zip", &serde_json::json!({}))
        .await
        .is_err());
}
