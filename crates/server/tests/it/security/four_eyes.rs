//! Finding 4: an account that can enter and review does not approve its own submission,
//! whether it signs in or uses a token; an administrator may relax the rule for the
//! instance, and that change is audited.

use crate::common::{element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(nobody_approves_their_own_submission);

async fn submit(c: &Caller, path: &str) -> i64 {
    let r = c
        .send(
            Method::PUT,
            path,
            Some(json!({"value": 7, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let v: Value = r.json().await.unwrap();
    v["version"].as_i64().unwrap()
}

async fn approve(c: &Caller, path: &str, version: i64) -> StatusCode {
    c.send(
        Method::POST,
        &format!("{path}/approve"),
        Some(json!({"version": version})),
    )
    .await
    .status()
}

async fn nobody_approves_their_own_submission(app: &TestApp) {
    let token = app.with_token("admin").await;
    let session = app.sign_in("admin").await;
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&token, "光明区").await;
    let e = element_led_by(&token, gm, "卫生健康").await;
    let first = format!("/api/v1/values/{e}/440311/2027");
    let version = submit(&token, &first).await;
    for me in [&token, &session] {
        assert_eq!(approve(me, &first, version).await, StatusCode::FORBIDDEN);
    }
    assert_eq!(approve(&planner, &first, version).await, StatusCode::OK);

    // Only an administrator relaxes the rule, and the change is in the audit log.
    let off = json!({"required": false});
    let r = planner
        .send(Method::PUT, "/api/v1/settings/four-eyes", Some(off.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let second = format!("/api/v1/values/{e}/440311/2028");
    let version = submit(&token, &second).await;
    let r = session
        .send(Method::PUT, "/api/v1/settings/four-eyes", Some(off))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        token.get_json("/api/v1/settings/four-eyes").await["required"],
        false
    );
    assert_eq!(approve(&session, &second, version).await, StatusCode::OK);
    let changes = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("setting".into()),
            entity_key: Some("four_eyes".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].actor, "admin");
    assert_eq!(changes[0].after.as_ref().unwrap()["required"], false);
}
