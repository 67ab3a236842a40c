//! Stories written once and run against every backend: SQLite in a temporary directory
//! always, PostgreSQL in a fresh database when `HEALTHPLAN_TEST_DATABASE_URL` is set.

use crate::testing::{postgres_test_url, TestDatabase};
use crate::{
    AuditAction, AuditFilter, DataValueFilter, ImportCount, Numeric, NumericScan, Store,
    StoreConfig, StoreError,
};
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, DataElement, DataValue, Department, Grant, Period,
    PlanDocument, Role, TaskProgress, TaskStatus, User, Value, ValueStatus, ValueType,
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
                    db.drop().await.unwrap();
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
    users_and_grants,
    task_progress,
    reopening_keeps_data,
    concurrent_writers_cannot_both_win,
    numeric_stream_yields_what_all_data_values_holds,
);

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
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
    store.import_areas("setup", &demo_areas()).await.unwrap();
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
    let n = store.import_areas("planner", &demo_areas()).await.unwrap();
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
    let n = store.import_areas("planner", &demo_areas()).await.unwrap();
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
        .import_areas("planner", &[chaozhou, renamed, orphan])
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
    let n = store.import_areas("planner", &[renamed]).await.unwrap();
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
        .import_areas("planner", &[upside_down])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot sit under 440000"), "{e}");

    // A city cannot turn into a county while it has a county below it.
    let demoted = Area {
        level: AreaLevel::County,
        ..demo_areas()[1].clone()
    };
    assert!(store.import_areas("planner", &[demoted]).await.is_err());

    let d = Department::new("市卫生健康局", code("440300")).unwrap();
    let n = store
        .import_departments("planner", &[d.clone(), d.clone()])
        .await
        .unwrap();
    assert_eq!((n.inserted, n.unchanged), (1, 1));
    let bad = Department::new("市教育局", code("449900")).unwrap();
    assert!(store.import_departments("planner", &[bad]).await.is_err());
    assert_eq!(store.list_departments().await.unwrap(), vec![d]);
}

async fn plan_round_trip_and_rows(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let doc = PlanDocument::from_json(PLAN).unwrap();
    let source = "健康云浮行动2030规划\n一、普及健康生活 …";
    let id = store
        .save_plan("planner", &doc, Some(source))
        .await
        .unwrap();
    assert_eq!(store.plan(id).await.unwrap(), doc);
    assert_eq!(
        store.plan(id).await.unwrap().to_json_pretty(),
        doc.to_json_pretty()
    );
    assert_eq!(
        store.plan_source_text(id).await.unwrap().as_deref(),
        Some(source)
    );

    let plans = store.list_plans().await.unwrap();
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

    let indicators = store.plan_indicators(id).await.unwrap();
    assert_eq!(indicators.len(), 6);
    assert_eq!(indicators[1].index, 1);
    assert_eq!(indicators[1].indicator, doc.indicators[1]);
    assert_ne!(indicators[0].id, indicators[1].id);
    let tasks = store.plan_tasks(id).await.unwrap();
    assert_eq!(tasks[2].section.as_deref(), Some("（二） 实施合理膳食行动"));
    assert_eq!(tasks[3].task, doc.tasks[3]);

    // A second plan without source text gets its own id.
    let id2 = store.save_plan("planner", &doc, None).await.unwrap();
    assert_ne!(id, id2);
    assert_eq!(store.plan_source_text(id2).await.unwrap(), None);
    assert!(matches!(
        store.plan(id2 + 100).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));

    let log = store
        .audit_log(&AuditFilter {
            entity: Some("plan".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
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
    let e = store.save_plan("planner", &doc, None).await.unwrap_err();
    assert!(e.to_string().contains("tasks[0].targets"), "{e}");
    assert!(store.save_plan("", &doc, None).await.is_err());
    assert_eq!(counts(store).await, before);
}

async fn plan_update_is_audited(store: &Store, _: &StoreConfig) {
    let doc = PlanDocument::from_json(PLAN).unwrap();
    let id = store.save_plan("importer", &doc, None).await.unwrap();
    let mut fixed = doc.clone();
    fixed.indicators[0].name = "居民健康素养水平（%）".into();
    fixed.tasks.pop();
    fixed.sections[1].tasks.clear();
    store.update_plan("reviewer", id, &fixed).await.unwrap();
    assert_eq!(store.plan(id).await.unwrap(), fixed);
    assert_eq!(store.plan_tasks(id).await.unwrap().len(), 3);
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
    assert!(store.update_plan("reviewer", id + 1, &fixed).await.is_err());
}

async fn data_values_are_versioned_and_follow_the_workflow(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let v = number("HL01", "440310", "2024", 25.4);
    let stored = store.put_data_value("reporter", &v, None).await.unwrap();
    assert_eq!(stored.version, 1);

    // A second "new" write of the same key is a conflict, not an overwrite.
    let e = store.put_data_value("other", &v, None).await.unwrap_err();
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
        .put_data_value("reporter", &edit, Some(1))
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    // A stale writer that still holds version 1 is refused.
    let e = store
        .put_data_value("other", &edit, Some(1))
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
        .put_data_value("planner", &approve, Some(2))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Workflow { .. }), "{e}");

    let mut submit = edited.clone();
    submit.status = ValueStatus::Submitted;
    let submitted = store
        .put_data_value("reporter", &submit, Some(2))
        .await
        .unwrap();
    approve.comment = Some("核对无误".into());
    let approved = store
        .put_data_value("planner", &approve, Some(submitted.version))
        .await
        .unwrap();
    assert_eq!(approved.version, 4);
    assert_eq!(approved.status, ValueStatus::Approved);
    let mut reopen = approved.clone();
    reopen.status = ValueStatus::Draft;
    assert!(store
        .put_data_value("reporter", &reopen, Some(4))
        .await
        .is_err());

    // Values for unknown areas are refused with the area named.
    let e = store
        .put_data_value("reporter", &number("HL01", "449999", "2024", 1.0), None)
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
        store.put_data_value("reporter", v, None).await.unwrap();
    }
    let all = store.all_data_values().await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], approved);
    assert!(all.contains(&ratio) && all.contains(&text) && all.contains(&yes));
    let only = store
        .list_data_values(&DataValueFilter {
            area: Some(code("440300")),
            period: Some(Period::Quarter(2024, 1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only, vec![ratio.clone()]);

    // Delete needs the current version too.
    let e = store
        .delete_data_value(
            "planner",
            "HL02",
            &code("440300"),
            Period::Quarter(2024, 1),
            7,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::VersionConflict { .. }), "{e}");
    store
        .delete_data_value(
            "planner",
            "HL02",
            &code("440300"),
            Period::Quarter(2024, 1),
            1,
        )
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
    store.put_data_elements("planner", &both).await.unwrap();
    // Declaring the same again changes nothing.
    store.put_data_elements("planner", &both).await.unwrap();
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
    let n = store.import_data_values("loader", &good).await.unwrap();
    assert_eq!(n.inserted, 5);
    let before = counts(store).await;
    let snapshot = store.all_data_values().await.unwrap();

    // Third row has an unknown area: the updates before it must roll back.
    let mut broken = good.clone();
    broken[0].value = Value::Number { value: 99.0 };
    broken[1].value = Value::Number { value: 98.0 };
    broken[2] = number("HL01", "449999", "2021", 1.0);
    let e = store
        .import_data_values("loader", &broken)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("449999"), "{e}");
    assert_eq!(counts(store).await, before);
    assert_eq!(store.all_data_values().await.unwrap(), snapshot);

    // The same key twice in one batch is refused rather than silently last-wins.
    let twice = vec![good[0].clone(), good[0].clone()];
    let e = store
        .import_data_values("loader", &twice)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
    assert_eq!(counts(store).await, before);

    // The same file twice changes nothing; a changed value bumps its version.
    let n = store.import_data_values("loader", &good).await.unwrap();
    assert_eq!(n.unchanged, 5);
    let mut changed = good.clone();
    changed[4].value = Value::Number { value: 30.5 };
    changed[4].status = ValueStatus::Approved;
    let n = store.import_data_values("loader", &changed).await.unwrap();
    assert_eq!((n.updated, n.unchanged), (1, 4));
    let last = store
        .list_data_values(&DataValueFilter {
            period: Some(Period::Year(2023)),
            ..Default::default()
        })
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
    };
    let before = counts(store).await;
    assert!(store
        .put_data_value("tester", &out_of_range, None)
        .await
        .is_err());
    let e = store
        .import_data_values("tester", std::slice::from_ref(&out_of_range))
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
    let e = store.all_data_values().await.unwrap_err();
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

async fn users_and_grants(store: &Store, _: &StoreConfig) {
    with_areas(store).await;
    let grants = vec![Grant {
        role: Role::Reporter,
        area: code("440310"),
        departments: vec!["区卫生健康局".into()],
    }];
    let u = User::new("pingshan.wsj", "坪山区卫健局填报员", grants).unwrap();
    store
        .create_user("admin", &u, Some("$argon2id$v=19$fake"))
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
    let e = store.create_user("admin", &u, None).await.unwrap_err();
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
    assert!(store.create_user("admin", &bad, None).await.is_err());
    assert_eq!(counts(store).await, before);

    let mut promoted = u.clone();
    promoted.grants.push(Grant {
        role: Role::Viewer,
        area: code("440300"),
        departments: vec![],
    });
    store.update_user("admin", &promoted).await.unwrap();
    assert_eq!(store.list_users().await.unwrap(), vec![promoted.clone()]);

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
    let id = store.save_plan("planner", &doc, None).await.unwrap();
    let mut p = TaskProgress {
        plan_id: id,
        task_id: "t1".into(),
        area: code("445300"),
        period: Period::Year(2024),
        status: TaskStatus::InProgress,
        note: "专家库已组建".into(),
    };
    store.put_task_progress("reporter", &p).await.unwrap();
    p.status = TaskStatus::Completed;
    store.put_task_progress("reporter", &p).await.unwrap();
    assert_eq!(store.list_task_progress(id).await.unwrap(), vec![p.clone()]);
    let unknown = TaskProgress {
        task_id: "t99".into(),
        ..p.clone()
    };
    assert!(matches!(
        store.put_task_progress("reporter", &unknown).await,
        Err(StoreError::NotFound { .. })
    ));
    let log = store
        .audit_log(&AuditFilter {
            entity: Some("task_progress".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].before.as_ref().unwrap()["status"], "in_progress");
    assert_eq!(log[1].after.as_ref().unwrap()["status"], "completed");
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
    let (a, b) = tokio::join!(
        store.put_data_value("a", &v, None),
        store.put_data_value("b", &v, None)
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
        store.put_data_value("a", &x, Some(1)),
        store.put_data_value("b", &y, Some(1))
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let winner = a.as_ref().or(b.as_ref()).unwrap().clone();
    let stored = store.all_data_values().await.unwrap();
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
    store.import_data_values("loader", &values).await.unwrap();
    // Rewrite a value stored early so the row order by id differs from the key order.
    let mut again = values[3].clone();
    again.value = Value::Number { value: -1.25 };
    store.import_data_values("loader", &[again]).await.unwrap();

    let all = store.all_data_values().await.unwrap();
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
    send(&store.all_data_values());
    send(&store.for_each_numeric_value(&mut |_| ControlFlow::Continue(())));
    send(&store.put_data_value("x", &number("e", "440300", "2024", 1.0), None));
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
    let e = Store::open(&StoreConfig::new(dir.path(), Some("mysql://h/db".into())))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::UnsupportedUrl(_)), "{e}");
    store.close().await;
}
