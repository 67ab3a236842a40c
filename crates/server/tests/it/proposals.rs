//! A plan whose targets are only in the prose: imported over the API, its proposed
//! indicators are accepted, edited, merged or rejected, and the accepted ones are monitored:
//! a round collects them, a reporter enters a value, a second person approves it, and the
//! evaluation and the annual report judge it.

use crate::common::TestApp;
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(a_prose_only_plan_becomes_monitored_indicators);

const PLAN: &str = include_str!("../../../../fixtures/corpus/c09_heshan.txt");

async fn a_prose_only_plan_becomes_monitored_indicators(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    // The invented district becomes the planner's own, so the plan is in scope.
    let text = PLAN.replace("禾山", "光明");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(text.into_bytes()).file_name("guangming.txt"),
    );
    let r = planner
        .request(Method::POST, "/api/v1/plans/import")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let imported: Value = r.json().await.unwrap();
    assert_eq!(imported["indicators"], 0);
    assert_eq!(imported["target_statements"], 14);
    assert_eq!(imported["proposals"], 9);
    let id = imported["id"].as_i64().unwrap();
    let doc = planner.get_json(&format!("/api/v1/plans/{id}")).await["document"].clone();
    let proposals = doc["proposals"].as_array().unwrap().clone();
    let name = |k: usize| {
        proposals[k]["indicator"]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(name(0), "人均预期寿命");
    assert_eq!(proposals[0]["indicator"]["source"], "statement");
    assert_eq!(proposals[2]["indicator"]["direction"], "lower");
    let decide = |k: usize, body: Value| {
        let planner = &planner;
        async move {
            planner
                .send(
                    Method::POST,
                    &format!("/api/v1/plans/{id}/proposals/{k}"),
                    Some(body),
                )
                .await
        }
    };
    // A reporter may not decide; nothing changes.
    let reporter = app.sign_in("reporter-guangming").await;
    let r = reporter
        .send(
            Method::POST,
            &format!("/api/v1/plans/{id}/proposals/0"),
            Some(json!({"choice": "accept"})),
        )
        .await;
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    // Accept 0 and 1 as they are, edit 2, merge 3 into 1, reject 6; accept the rest.
    let r = decide(0, json!({"choice": "accept"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["indicator"], 0);
    assert_eq!(
        decide(1, json!({"choice": "accept"})).await.status(),
        StatusCode::OK
    );
    let mut edited = proposals[2]["indicator"].clone();
    edited["lead"] = json!("光明区卫生健康局");
    let r = decide(2, json!({"choice": "edit", "indicator": edited})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = decide(3, json!({"choice": "merge", "into": 1})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["indicator"], 1);
    let r = decide(6, json!({"choice": "reject"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["indicator"], Value::Null);
    // A decision is made once; an edit without the indicator is refused.
    assert_eq!(
        decide(6, json!({"choice": "accept"})).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        decide(4, json!({"choice": "edit"})).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for k in [4, 5, 7, 8] {
        assert_eq!(
            decide(k, json!({"choice": "accept"})).await.status(),
            StatusCode::OK
        );
    }
    let doc = planner.get_json(&format!("/api/v1/plans/{id}")).await["document"].clone();
    let decisions: Vec<&str> = doc["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "accepted", "accepted", "edited", "merged", "accepted", "accepted", "rejected",
            "accepted", "accepted"
        ]
    );
    let indicators = doc["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), 7);
    assert_eq!(indicators[2]["lead"], "光明区卫生健康局");
    assert_eq!(
        indicators[2]["doubts"],
        Value::Null,
        "the doubts are settled"
    );
    // Accepted indicators are plan rows like a table's, linked to data elements.
    let rows = planner
        .get_json(&format!("/api/v1/plans/{id}/indicators"))
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(
        rows.iter().all(|r| r["indicator"]["element"].is_string()),
        "{rows:#?}"
    );
    // Statements of a rejected proposal stay unlinked; the others point at their indicator.
    let statements = doc["target_statements"].as_array().unwrap();
    let rejected = doc["proposals"][6]["statements"][0].as_u64().unwrap() as usize;
    assert_eq!(statements[rejected]["indicator"], Value::Null);
    assert_eq!(
        statements
            .iter()
            .filter(|s| s["indicator"].is_u64())
            .count(),
        13
    );
    collected_approved_evaluated_reported(app, &planner, id, &rows[2]).await;
}

/// The second half: the edited proposal (婴儿死亡率, lower is better, ≤2.5‰ by 2025) goes
/// through a round, a reporter's value, a second person's approval, the evaluation and the
/// report like any table indicator.
async fn collected_approved_evaluated_reported(
    app: &TestApp,
    planner: &crate::common::Caller,
    id: i64,
    row: &Value,
) {
    let indicator = &row["indicator"];
    assert_eq!(indicator["name"], "婴儿死亡率");
    assert_eq!(indicator["direction"], "lower");
    let element = indicator["element"].as_str().unwrap().to_string();
    let r = planner
        .send(
            Method::POST,
            &format!("/api/v1/plans/{id}/status"),
            Some(json!({"status": "confirmed"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let r = planner
        .send(
            Method::POST,
            "/api/v1/rounds",
            Some(
                json!({"plan_id": id, "title": "2026年度监测", "period": "2026",
                "deadline": "2040-01-31", "areas": ["440311"]}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // The reporter's form of the round asks for the accepted indicator.
    let reporter = app.sign_in("reporter-guangming").await;
    let form = reporter
        .get_json(&format!("/api/v1/rounds/{round}/form"))
        .await;
    assert!(
        form.to_string().contains(&element),
        "the round's form asks for {element}: {form}"
    );
    // A value the rules refuse for a ‰ is not stored; a plausible one is submitted.
    // The element is shared with the demo plan's 婴儿死亡率, which has values up to 2025.
    let path = format!("/api/v1/values/{element}/440311/2026");
    let r = reporter
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": -1.0, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reporter
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 2.3, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let version = r.json::<Value>().await.unwrap()["version"]
        .as_i64()
        .unwrap();
    // The reporter may not approve its own value; the planner (a second person) does.
    let r = reporter
        .send(
            Method::POST,
            &format!("{path}/approve"),
            Some(json!({ "version": version })),
        )
        .await;
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::CONFLICT),
        "{}",
        r.status()
    );
    let r = planner
        .send(
            Method::POST,
            &format!("{path}/approve"),
            Some(json!({ "version": version })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Evaluated: 2.3‰ in 2026 against targets of at most 2.5‰ (2025) and 2‰ (2030).
    let ev = planner
        .get_json(&format!("/api/v1/plans/{id}/evaluation?as_of=2026"))
        .await;
    let index = row["index"].as_u64().unwrap_or(2);
    let result = ev["evaluation"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == index && r["area"] == ev["evaluation"]["plan_area"])
        .unwrap_or_else(|| panic!("the indicator is evaluated: {ev}"))
        .clone();
    assert!(
        result["observations"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": 2.3, "year": 2026})),
        "judged on the approved value: {result}"
    );
    let status = result["status"].as_str().unwrap_or_default();
    assert!(
        !status.is_empty() && status != "no_data",
        "a status: {result}"
    );
    // The annual report names it with its value.
    let r = planner
        .request(
            Method::GET,
            &format!("/api/v1/plans/{id}/report?year=2026&format=docx"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let docx = r.bytes().await.unwrap();
    let text = healthplan_app::importer::docx::extract_text(&docx).unwrap();
    assert!(text.contains("婴儿死亡率"), "{text}");
    assert!(text.contains("2.3"), "{text}");
}
