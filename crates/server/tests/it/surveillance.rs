//! Early warning end to end: a count written over HTTP runs the outbreak detectors, and the
//! alert shows on the alerts page, through the API and on the surveillance board, to those
//! who may see it; a re-evaluation after an approval raises a plan alert once.

use crate::common::{element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    a_count_over_http_raises_an_outbreak_alert,
    surveillance_configuration_is_for_admins,
    an_approval_raises_a_status_alert_once,
    the_alerts_page_pages
);

const STREET: &str = "440311002";

/// The day `n` days after `day` (YYYYMMDD), as the API spells it.
fn day_after(day: &str, n: i64) -> String {
    let d: jiff::civil::Date = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..])
        .parse()
        .unwrap();
    let d = d.checked_add(jiff::Span::new().days(n)).unwrap();
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

async fn outbreak_alerts(c: &Caller, element: &str) -> Vec<Value> {
    let all = c.get_json("/api/v1/alerts?kind=outbreak&status=open").await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["element"] == element)
        .cloned()
        .collect()
}

async fn a_count_over_http_raises_an_outbreak_alert(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    // A new watched element with a flat history: every detector's verdict is certain.
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/elements/test_cases",
            Some(json!({"code": "test_cases", "name": "测试病例数", "value_type": "number", "aggregation": "sum"})),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/surveillance/series/test_cases",
            Some(json!({"step": "day", "department": "卫生健康局"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let board = admin.get_json("/api/v1/surveillance/board").await;
    let today = board["until"].as_str().unwrap().to_string();
    let history: Vec<Value> = (1..=40)
        .map(|k| json!({"element": "test_cases", "area": STREET, "period": day_after(&today, -k), "value": 2.0}))
        .collect();
    let r = admin
        .send(
            Method::POST,
            "/api/v1/values",
            Some(json!({"values": history})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert!(outbreak_alerts(&admin, "test_cases").await.is_empty());

    // The street's health bureau reports today's count: far above the flat history.
    let reporter = app.sign_in("reporter-guangming").await;
    let path = format!("/api/v1/values/test_cases/{STREET}/{today}");
    let r = reporter
        // The jump from the flat history needs the reporter's word, as on the form.
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 30.0, "comment": "聚集性病例"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let raised = outbreak_alerts(&reporter, "test_cases").await;
    let areas: Vec<&str> = raised.iter().map(|a| a["area"].as_str().unwrap()).collect();
    // The street, and every area above it whose sum jumped the same way.
    assert!(areas.contains(&STREET), "{raised:#?}");
    assert!(areas.contains(&"440311"), "{areas:?}");
    let street = raised.iter().find(|a| a["area"] == STREET).unwrap();
    assert_eq!(street["period"], today);
    assert_eq!(street["department"], "卫生健康局");
    assert!(
        street["message_zh"].as_str().unwrap().contains("EARS C1"),
        "{street}"
    );
    assert!(street["link"]
        .as_str()
        .unwrap()
        .starts_with("/surveillance?area="));
    let id = street["id"].as_i64().unwrap();

    // On the alerts page, in the reporter's language.
    let page = reporter.html("/alerts?kind=outbreak").await;
    assert!(
        page.contains("测试病例数"),
        "alerts page lacks the outbreak"
    );
    assert!(page.contains(&format!("id=\"alert-{id}\"")));
    // On the board, marked as in alarm.
    let board = reporter
        .get_json("/api/v1/surveillance/board?area=440311&weeks=4")
        .await;
    let row = board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"] == STREET)
        .unwrap();
    let series = row["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["element"] == "test_cases")
        .unwrap();
    assert_eq!(series["alarm"], true);
    let html = reporter.html("/surveillance?area=440311").await;
    assert!(html.contains("公明街道") && html.contains("spark-cell alarm"));

    // Someone in another city sees nothing of it.
    let yuncheng = app.sign_in("reporter-yuncheng").await;
    let r = yuncheng
        .send(Method::GET, &format!("/api/v1/alerts/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(outbreak_alerts(&yuncheng, "test_cases").await.is_empty());
    let r = yuncheng
        .send(Method::GET, "/api/v1/surveillance/board?area=440311", None)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The province's viewer sees it but may not handle it.
    // (the city's and the province's too, which the district's reporter does not see).
    let viewer = app.sign_in("viewer").await;
    let seen = outbreak_alerts(&viewer, "test_cases").await;
    let mut seen_areas: Vec<&str> = seen.iter().map(|a| a["area"].as_str().unwrap()).collect();
    seen_areas.sort();
    assert_eq!(
        seen_areas,
        ["440000", "440300", "440311", STREET],
        "{seen:#?}"
    );
    assert_eq!(raised.len(), 2, "{raised:#?}");
    let r = viewer
        .send(
            Method::POST,
            &format!("/api/v1/alerts/{id}"),
            Some(json!({"action": "acknowledge"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nobody signed in sees the board.
    let r = app
        .public()
        .send(Method::GET, "/api/v1/surveillance/board", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The same count again changes no state: no second alert.
    let r = reporter
        .request(Method::PUT, &path)
        .header("If-Match", "\"1\"")
        .json(&json!({"value": 31.0, "comment": "聚集性病例"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        outbreak_alerts(&admin, "test_cases").await.len(),
        seen.len()
    );
    // A correction back to the usual count quiets the series; a new surge alarms again.
    for (v, version) in [(2.0, 2), (40.0, 3)] {
        let r = reporter
            .request(Method::PUT, &path)
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"value": v, "comment": "已核实"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let after = outbreak_alerts(&admin, "test_cases").await;
    assert_eq!(
        after.iter().filter(|a| a["area"] == STREET).count(),
        2,
        "{after:#?}"
    );
    // The bureau acknowledges it: audited like any change.
    let r = reporter
        .send(
            Method::POST,
            &format!("/api/v1/alerts/{id}"),
            Some(json!({"action": "acknowledge", "comment": "已派员核实"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let audit = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("alert".into()),
            entity_key: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.actor == "reporter-guangming"
            && format!("{:?}", e.after).contains("acknowledged")),
        "{audit:?}"
    );
}

async fn surveillance_configuration_is_for_admins(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let r = planner
        .send(
            Method::PUT,
            "/api/v1/surveillance/series/hfmd_cases",
            Some(json!({"step": "week"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = planner
        .send(
            Method::PUT,
            "/api/v1/surveillance/settings",
            Some(json!({"toml": ""})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Everyone signed in reads what is watched and how.
    let series = planner.get_json("/api/v1/surveillance/series").await;
    assert!(series.to_string().contains("dengue_cases"));
    let admin = app.sign_in("admin").await;
    let settings = admin.get_json("/api/v1/surveillance/settings").await;
    assert_eq!(settings["custom"], false);
    let toml = settings["toml"].as_str().unwrap();
    // A bad value is named, and nothing changes.
    let bad = toml.replacen("percentile = 80.0", "percentile = 99.0", 1);
    assert_ne!(bad, toml, "the defaults name the moving percentile");
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/surveillance/settings",
            Some(json!({"toml": bad})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("percentile"),
        "{body}"
    );
    assert_eq!(
        admin.get_json("/api/v1/surveillance/settings").await["custom"],
        false
    );
    let good = toml.replacen("percentile = 80.0", "percentile = 90.0", 1);
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/surveillance/settings",
            Some(json!({"toml": good})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let now = admin.get_json("/api/v1/surveillance/settings").await;
    assert_eq!(now["custom"], true);
    assert!(now["toml"].as_str().unwrap().contains("percentile = 90.0"));
    // Watching an element that is not summed up the tree is refused with the reason.
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/surveillance/series/no_such_element",
            Some(json!({"step": "day"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .send(
            Method::DELETE,
            "/api/v1/surveillance/series/ili_cases",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let series = admin.get_json("/api/v1/surveillance/series").await;
    assert!(!series.to_string().contains("ili_cases"));
}

async fn an_approval_raises_a_status_alert_once(app: &TestApp) {
    let reporter = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&reporter, "光明区").await;
    let e = element_led_by(&reporter, gm, "卫生健康").await;
    let of_plan = |all: &Value| -> Vec<Value> {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["plan_id"] == gm)
            .cloned()
            .collect()
    };
    let before = of_plan(&planner.get_json("/api/v1/alerts").await).len();
    let path = format!("/api/v1/values/{e}/440311/2026");
    let r = reporter
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 10.0, "status": "submitted", "comment": "口径调整"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = planner
        .send(
            Method::POST,
            &format!("{path}/approve"),
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // The check runs off the request; its outcome is written to the value's audit log.
    let mut ids: Option<Vec<i64>> = None;
    for _ in 0..100 {
        let log = planner.get_json(&format!("{path}/history")).await;
        ids = log.as_array().unwrap().iter().rev().find_map(|e| {
            e["after"]["alert_ids"]
                .as_array()
                .map(|a| a.iter().map(|i| i.as_i64().unwrap()).collect::<Vec<_>>())
        });
        if ids.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let ids = ids.expect("the approval's alert check is in the value's audit log");
    // The periodic check may raise the plan's other alerts meanwhile; these are the approval's.
    let all = of_plan(&planner.get_json("/api/v1/alerts").await);
    assert!(all.len() >= before + ids.len());
    let mine: Vec<&Value> = all
        .iter()
        .filter(|a| ids.contains(&a["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(mine.len(), ids.len());
    for a in all
        .iter()
        .filter(|a| ids.contains(&a["id"].as_i64().unwrap()))
    {
        assert!(
            a["link"]
                .as_str()
                .unwrap()
                .starts_with(&format!("/plans/{gm}/indicators/")),
            "{a}"
        );
        assert!(!a["message_zh"].as_str().unwrap().is_empty());
    }
    // Running the check again raises nothing new for these subjects: no state changed.
    let r = planner
        .send(
            Method::POST,
            "/api/v1/alerts/check",
            Some(json!({"plan_id": gm, "as_of": 2026})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    for a in of_plan(&again) {
        assert!(
            !mine
                .iter()
                .any(|m| m["link"] == a["link"] && m["area"] == a["area"]),
            "{a}"
        );
    }
}

/// The ids of the alerts a page of `/alerts` shows.
async fn page_ids(c: &crate::common::Caller, path: &str) -> (Vec<String>, String) {
    let html = c.html(path).await;
    let ids = html
        .split("id=\"alert-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect();
    (ids, html)
}

async fn the_alerts_page_pages(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let (first, html) = page_ids(&admin, "/alerts?status=all&per_page=10").await;
    assert_eq!(first.len(), 10);
    assert!(html.contains("page=2"), "a link to the next page");
    let (second, html) = page_ids(&admin, "/alerts?status=all&per_page=10&page=2").await;
    assert!(!second.is_empty() && second.len() <= 10);
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "pages do not repeat"
    );
    assert!(html.contains("page=1"), "a link back");
    // Past the end: an empty page, not an error.
    let r = admin
        .request(Method::GET, "/alerts?status=all&page=999")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
