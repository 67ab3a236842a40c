//! One alert per (indicator, area, target) state, on SQLite and (when
//! `HEALTHPLAN_TEST_DATABASE_URL` is set) PostgreSQL: approving a new period that leaves the
//! states as they were raises nothing; one that changes a state raises exactly one alert, and
//! the approval's audit entry says how many.

use super::*;
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, DataElement, DataValue, PlanDocument, ReviewDecision,
    Value, ValueStatus, ValueType,
};
use healthplan_store::{AlertFilter, AuditFilter, Store};

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

const DISTRICT: &str = "440310";
const STREET: &str = "440310001";

fn areas() -> Vec<Area> {
    let sz = Area::new(code("440300"), "深圳市", AreaLevel::City, None).unwrap();
    let ps = Area::new(code(DISTRICT), "坪山区", AreaLevel::County, Some(&sz)).unwrap();
    let st = Area::new(code(STREET), "坪山街道", AreaLevel::Town, Some(&ps)).unwrap();
    vec![sz, ps, st]
}

/// 婴儿死亡率 applies at every level; the count of community health centres only to the
/// district.
const PLAN: &str = r#"{"title":"坪山区健康行动","area":"坪山区","kind":"plan","date":"2021-01-01",
  "sections":[],"tasks":[],"target_statements":[],
  "indicators":[
    {"name":"婴儿死亡率","unit":"‰","direction":"lower","element":"imr",
     "baseline":{"value":3.0,"year":2020,"text":"3.0"},
     "targets":[{"year":2030,"kind":"threshold","cmp":"<=","value":2,"text":"≤2"}]},
    {"name":"社区健康服务中心","unit":"家","direction":"higher","element":"centres",
     "baseline":{"value":10,"year":2020,"text":"10"},
     "targets":[{"year":2030,"kind":"threshold","cmp":">=","value":20,"text":"≥20"}]}]}"#;

fn value(element: &str, area: &str, year: &str, v: f64) -> DataValue {
    DataValue::new(
        element,
        code(area),
        year.parse().unwrap(),
        Value::Number { value: v },
    )
    .unwrap()
}

/// A reporter submits, a reviewer approves, the approval's check runs.
async fn approve(app: &App, element: &str, area: &str, year: &str, v: f64) -> Vec<Alert> {
    let caps = app.local_caps("test");
    let mut d = value(element, area, year, v);
    d.status = ValueStatus::Submitted;
    let stored = app
        .put_data_value(&caps.value_writer().unwrap(), &d, None)
        .await
        .unwrap();
    let key = ValueKey::of(&stored);
    let approved = app
        .review_data_value(
            // Four eyes: someone other than the submitter approves.
            &app.local_caps("reviewer").reviewer().unwrap(),
            &key,
            stored.version,
            ReviewDecision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(approved.status, ValueStatus::Approved);
    app.check_after_approval(&key, &Settings::default())
        .await
        .unwrap()
}

/// The count the approval's audit entry carries.
async fn audited_count(app: &App, element: &str, area: &str, year: &str) -> u64 {
    let key = ValueKey::new(element, code(area), year.parse().unwrap());
    let log = app
        .store()
        .audit_log(&AuditFilter {
            entity: Some("data_value".into()),
            entity_key: Some(key.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let entry = log
        .iter()
        .rev()
        .find_map(|e| e.after.as_ref().and_then(|a| a.get("alerts_raised")))
        .expect("the approval's check is in the value's audit log");
    entry.as_u64().unwrap()
}

async fn story(store: Store) {
    let app = App::open(store.clone()).await.unwrap();
    let caps = app.local_caps("test");
    app.import_areas(&caps.registry_admin().unwrap(), &areas())
        .await
        .unwrap();
    let elements = [
        DataElement::new("imr", "婴儿死亡率", ValueType::Number, Aggregation::Average).unwrap(),
        DataElement::new(
            "centres",
            "社区健康服务中心",
            ValueType::Number,
            Aggregation::Sum,
        )
        .unwrap(),
    ];
    app.store()
        .put_data_elements(&caps.registry_admin().unwrap(), &elements)
        .await
        .unwrap();
    let plan = PlanDocument::from_json(PLAN).unwrap();
    let plan_id = app
        .save_plan(&caps.plan_editor().unwrap(), &plan, None)
        .await
        .unwrap();
    let mut history = Vec::new();
    for (e, area, y, v) in [
        ("imr", DISTRICT, "2020", 3.0),
        ("imr", DISTRICT, "2025", 2.9),
        ("imr", STREET, "2020", 3.0),
        ("imr", STREET, "2025", 2.95),
        ("centres", DISTRICT, "2020", 10.0),
        ("centres", DISTRICT, "2025", 12.0),
        ("centres", STREET, "2025", 1.0),
    ] {
        let mut d = value(e, area, y, v);
        d.status = ValueStatus::Approved;
        history.push(d);
    }
    app.import_data_values(&caps.bulk_writer().unwrap(), &history)
        .await
        .unwrap();

    // 2025: the district lags on both (r = 0.2 and 0.4), the street on infant mortality;
    // the district's count of centres is never judged for the street.
    let settings = Settings::default();
    let first = app
        .check_plan_alerts(plan_id, 2025, &settings)
        .await
        .unwrap();
    let mut got: Vec<(String, i64, String)> = first
        .iter()
        .map(|a| (a.area.to_string(), a.indicator.unwrap(), a.state.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (DISTRICT.to_string(), 0, "insufficient".to_string()),
            (DISTRICT.to_string(), 1, "insufficient".to_string()),
            (STREET.to_string(), 0, "insufficient".to_string()),
        ]
    );
    assert!(first
        .iter()
        .all(|a| a.title_zh.contains("2030年目标严重滞后")));
    // The same check again: nothing changed, nothing raised.
    assert!(app
        .check_plan_alerts(plan_id, 2025, &settings)
        .await
        .unwrap()
        .is_empty());

    // 2026 for the district, still insufficient (r = 0.2): no new alert, and the street,
    // with no 2026 value, says nothing.
    let raised = approve(&app, "imr", DISTRICT, "2026", 2.88).await;
    assert!(raised.is_empty(), "{raised:#?}");
    assert_eq!(audited_count(&app, "imr", DISTRICT, "2026").await, 0);

    // 2026 for the street moves it to moderate (r = 0.83): exactly one alert.
    let raised = approve(&app, "imr", STREET, "2026", 2.5).await;
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(
        (raised[0].area.as_str(), raised[0].state.as_str()),
        (STREET, "moderate")
    );
    assert_eq!(raised[0].period.as_deref(), Some("2026"));
    assert_eq!(audited_count(&app, "imr", STREET, "2026").await, 1);

    // The periodic check judges the latest year with data, so it never flips states back.
    let today = healthplan_core::Date::parse("2027-01-10").unwrap();
    assert!(app
        .check_all_alerts(2027, today, &settings)
        .await
        .unwrap()
        .is_empty());

    // Worsening raises its own alert: the district's rate rises 10 % over the year before.
    let raised = approve(&app, "imr", DISTRICT, "2027", 3.2).await;
    let states: Vec<&str> = raised.iter().map(|a| a.state.as_str()).collect();
    assert!(states.contains(&"worsening"), "{raised:#?}");
    assert_eq!(
        audited_count(&app, "imr", DISTRICT, "2027").await,
        raised.len() as u64
    );

    let all = app
        .store()
        .list_alerts(&caps.reader(), &AlertFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3 + 1 + raised.len());
    store.close().await;
}

#[tokio::test]
async fn sqlite_one_alert_per_state() {
    crate::tests::on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_one_alert_per_state() {
    crate::tests::on_postgres(story).await;
}
