//! Finding 3: task progress goes only into a plan the caller reads, for an area in that
//! plan's tree; anything else is 404, as for reads, so refusals reveal no responsibilities.

use crate::common::{plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(progress_only_in_readable_plans);

/// A task of the plan that the reporter's departments answer for, by the department rule
/// alone (which let the write through before the plan's area was checked).
async fn task_for(app: &TestApp, admin: &Caller, reporter: &str, plan: i64, area: &str) -> String {
    let user = app.app.store().user(reporter).await.unwrap().unwrap();
    let writer = app
        .app
        .caps(&user, healthplan_access::Via::Session)
        .progress_writer()
        .unwrap();
    let area = healthplan_core::AreaCode::parse(area).unwrap();
    let doc = admin.get_json(&format!("/api/v1/plans/{plan}")).await;
    doc["document"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .find(|t| writer.check(plan, t, &area).is_ok())
        .unwrap_or_else(|| panic!("plan {plan} has no task for the reporter's departments"))
}

async fn progress_only_in_readable_plans(app: &TestApp) {
    let admin = app.with_token("admin").await;
    let yunfu = plan_id(&admin, "云浮").await;
    let rep = app.sign_in("reporter-guangming").await;
    assert_eq!(
        rep.send(Method::GET, &format!("/api/v1/plans/{yunfu}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "the reporter does not read 云浮's plan"
    );
    let body = json!({"status": "in_progress", "note": "已开展"});
    let put = |plan: i64, task: String, area: &'static str| {
        let path = format!("/api/v1/plans/{plan}/tasks/{task}/progress/{area}/2025");
        let rep = &rep;
        let body = body.clone();
        async move { rep.send(Method::PUT, &path, Some(body)).await }
    };
    let foreign = task_for(app, &admin, "reporter-guangming", yunfu, "440311").await;
    for area in ["440311", "445300"] {
        let r = put(yunfu, foreign.clone(), area).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "云浮 task for {area}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "not_found");
    }
    // A district outside the plan is absent too, even to a reporter responsible for it.
    let yc = app.sign_in("reporter-yuncheng").await;
    let task = task_for(app, &admin, "reporter-yuncheng", yunfu, "445302").await;
    let path = |area: &str| format!("/api/v1/plans/{yunfu}/tasks/{task}/progress/{area}/2025");
    let r = yc
        .send(Method::PUT, &path("445302"), Some(body.clone()))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "its own district in its city's plan"
    );
    let r = yc
        .send(Method::PUT, &path("440311"), Some(body.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nothing reached the store for 云浮's plan.
    let list = admin
        .get_json(&format!("/api/v1/plans/{yunfu}/progress"))
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| !p["area"].as_str().unwrap().starts_with("4403")),
        "{list}"
    );
}
