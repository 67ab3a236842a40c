//! Concurrency, the locked approved value, freshness of aggregates, and user text coming
//! back inert.

use crate::common::{element_led_by, plan_id, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    two_writers_one_version_one_winner,
    approved_values_stay_locked,
    a_write_shows_in_the_province_aggregate_at_once,
    plan_text_comes_back_inert,
    unknown_addresses_answer_in_kind,
    a_planner_sets_where_an_indicator_applies
);

/// `applies_to` over the API and on the review page: stored with the plan, audited, and the
/// evaluation judges sub-areas only on indicators that apply to them.
async fn a_planner_sets_where_an_indicator_applies(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let streets_judged = |ev: &Value, index: u64| -> usize {
        ev["evaluation"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["indicator"] == index && r["area"] != ev["evaluation"]["plan_area"])
            .count()
    };
    let doc = planner.get_json(&format!("/api/v1/plans/{gm}")).await;
    let doc = if doc.get("document").is_some() {
        doc["document"].clone()
    } else {
        doc
    };
    let indicators = doc["indicators"].as_array().unwrap();
    // A rate the streets report on: judged for them by default.
    let ev = planner
        .get_json(&format!("/api/v1/plans/{gm}/evaluation?as_of=2025"))
        .await;
    let k = (0..indicators.len() as u64)
        .find(|&k| streets_judged(&ev, k) > 0)
        .expect("an indicator judged for the streets");
    let path = format!("/api/v1/plans/{gm}/indicators/{k}/applies_to");
    let r = planner
        .send(Method::PUT, &path, Some(json!({"applies_to": "plan_area"})))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let doc = planner.get_json(&format!("/api/v1/plans/{gm}")).await;
    let doc = if doc.get("document").is_some() {
        doc["document"].clone()
    } else {
        doc
    };
    assert_eq!(doc["indicators"][k as usize]["applies_to"], "plan_area");
    let ev = planner
        .get_json(&format!("/api/v1/plans/{gm}/evaluation?as_of=2025"))
        .await;
    assert_eq!(streets_judged(&ev, k), 0);
    let r = ev["evaluation"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == k)
        .unwrap()
        .clone();
    assert_eq!(r["applies_to"], "plan_area");
    // A bad value is refused and changes nothing.
    let r = planner
        .send(Method::PUT, &path, Some(json!({"applies_to": "streets"})))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The review page offers the choice, with the default named; back to the default there.
    let html = planner.html(&format!("/plans/{gm}/review")).await;
    assert!(
        html.contains("name=\"applies_to\""),
        "the review form has the field"
    );
    let r = planner
        .send(Method::PUT, &path, Some(json!({"applies_to": null})))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let ev = planner
        .get_json(&format!("/api/v1/plans/{gm}/evaluation?as_of=2025"))
        .await;
    assert!(streets_judged(&ev, k) > 0);
}

async fn two_writers_one_version_one_winner(app: &TestApp) {
    let a = app.sign_in("reporter-guangming").await;
    let b = app.sign_in("reporter-guangming").await;
    let gm = plan_id(&a, "光明区").await;
    let e = element_led_by(&a, gm, "卫生健康").await;
    let path = format!("/api/v1/values/{e}/440311/2027");
    let first = a
        .send(Method::PUT, &path, Some(json!({"value": 10.0})))
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["etag"], "\"1\"");
    // Both hold version 1.
    let (ra, rb) = tokio::join!(
        a.request(Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"value": 11.0}))
            .send(),
        b.request(Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"value": 12.0}))
            .send()
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let statuses = [ra.status(), rb.status()];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let (winner, loser) = if ra.status() == StatusCode::OK {
        (ra, rb)
    } else {
        (rb, ra)
    };
    let won: Value = winner.json().await.unwrap();
    let lost: Value = loser.json().await.unwrap();
    assert_eq!(lost["error"]["code"], "version_conflict");
    assert_eq!(lost["error"]["current"]["version"], 2);
    assert_eq!(
        lost["error"]["current"]["value"], won["value"],
        "the loser sees the winner's value"
    );
    // Without a version an existing value is a conflict too.
    let blind = a
        .send(Method::PUT, &path, Some(json!({"value": 13.0})))
        .await;
    assert_eq!(blind.status(), StatusCode::CONFLICT);
    // DELETE needs the version.
    let del = a.send(Method::DELETE, &path, None).await;
    assert_eq!(del.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn approved_values_stay_locked(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = element_led_by(&rep, gm, "卫生健康").await;
    let path = format!("/api/v1/values/{e}/440311/2028");
    let r = rep
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 5.0, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ret = planner
        .send(
            Method::POST,
            &format!("{path}/return"),
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(
        ret.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "returning needs a reason"
    );
    let ret = planner
        .send(
            Method::POST,
            &format!("{path}/return"),
            Some(json!({"version": 1, "comment": "与上年差异过大，请核实"})),
        )
        .await;
    assert_eq!(ret.status(), StatusCode::OK);
    let v: Value = rep.get_json(&path).await;
    assert_eq!(
        (v["status"].as_str(), v["review_comment"].as_str()),
        (Some("returned"), Some("与上年差异过大，请核实"))
    );
    let fixed = rep
        .request(Method::PUT, &path)
        .header("If-Match", "\"2\"")
        .json(&json!({"value": 5.5, "status": "submitted", "comment": "已核实更正"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), StatusCode::OK);
    let ok = planner
        .send(
            Method::POST,
            &format!("{path}/approve"),
            Some(json!({"version": 3})),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let locked = rep
        .request(Method::PUT, &path)
        .header("If-Match", "\"4\"")
        .json(&json!({"value": 6.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), StatusCode::CONFLICT);
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], "locked");
    assert_eq!(body["error"]["current"]["status"], "approved");
    // Reopening is the planner's and is audited; then the reporter may correct it.
    assert_eq!(
        rep.send(
            Method::POST,
            &format!("{path}/reopen"),
            Some(json!({"version": 4, "comment": "x"}))
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let reopened = planner
        .send(
            Method::POST,
            &format!("{path}/reopen"),
            Some(json!({"version": 4, "comment": "统计口径调整，重新填报"})),
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::OK);
    let again = rep
        .request(Method::PUT, &path)
        .header("If-Match", "\"5\"")
        .json(&json!({"value": 6.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let history = rep.get_json(&format!("{path}/history")).await;
    let actors: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["actor"].as_str().unwrap())
        // The approval's alert check records its outcome as the system.
        .filter(|a| *a != "system")
        .collect();
    assert_eq!(
        actors,
        [
            "reporter-guangming",
            "planner",
            "reporter-guangming",
            "planner",
            "planner",
            "reporter-guangming"
        ]
    );
}

async fn a_write_shows_in_the_province_aggregate_at_once(app: &TestApp) {
    let rep = app.with_token("admin").await;
    let admin = app.sign_in("admin").await;
    // A count that adds up the area tree.
    let e = "births";
    let r = admin
        .send(Method::PUT, "/api/v1/elements/births", Some(json!({"code": e, "name": "活产数", "value_type": "number", "aggregation": "sum", "unit": "人"})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let q = format!("/api/v1/analytics?element={e}&areas=440000&periods=2029");
    let before = admin.get_json(&q).await;
    assert_eq!(before[0]["count"], 0);
    for (k, v) in [(1, 3.0), (2, 4.0)] {
        let street = format!("44031100{k}");
        let r = rep
            .send(
                Method::PUT,
                &format!("/api/v1/values/{e}/{street}/2029"),
                Some(json!({"value": v})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let after = admin.get_json(&q).await;
        assert_eq!(after[0]["count"], k, "visible in the very next request");
        assert_eq!(after[0]["value"], if k == 1 { 3.0 } else { 7.0 });
    }
}

async fn plan_text_comes_back_inert(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let task = json!({"id": "t1", "text": evil, "responsible": null});
    let r = planner
        .send(
            Method::PUT,
            &format!("/api/v1/plans/{gm}/tasks/t1"),
            Some(task),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = planner
        .send(Method::GET, &format!("/api/v1/plans/{gm}"), None)
        .await;
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let doc: Value = r.json().await.unwrap();
    let t = doc["document"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "t1")
        .unwrap();
    assert_eq!(t["text"], evil, "JSON carries the text as data");
    // The pages showing it: `escaping::user_text_renders_inert_on_every_page`.
}

async fn unknown_addresses_answer_in_kind(app: &TestApp) {
    let c = app.sign_in("planner").await;
    let page = c.send(Method::GET, "/no-such-page", None).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<main"), "a whole page: {html}");
    assert!(html.contains("未找到"), "{html}");
    let api = c.send(Method::GET, "/api/v1/no-such-thing", None).await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}
