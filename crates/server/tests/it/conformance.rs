//! What schemathesis (`.ci/schemathesis.sh`) found against the OpenAPI document, kept as
//! stories: every error is an `ErrorBody` in JSON, every `$ref` resolves, an administrator's
//! token cannot lock its own account out, NUL never reaches a store (PostgreSQL refuses it),
//! and numbers in a plan document read back from PostgreSQL's jsonb as they were written.

use crate::common::{plan_id, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    malformed_bodies_get_json_errors,
    every_openapi_reference_resolves,
    an_administrator_cannot_lock_themselves_out,
    nul_characters_are_refused_not_stored,
    extreme_numbers_in_a_plan_read_back_unchanged
);

/// A 400 in the API's error shape, not axum's plain-text rejection.
async fn assert_json_error(r: reqwest::Response, what: &str) {
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{what}: {ct}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
}

async fn malformed_bodies_get_json_errors(app: &TestApp) {
    let admin = app.with_token("admin").await;
    // Bodies read as text (plan JSON, area CSV) that are not UTF-8.
    let not_utf8: &[u8] = &[0xff, 0xfe, 0x69];
    for (method, path, ct) in [
        (Method::POST, "/api/v1/plans", "application/json"),
        (Method::PUT, "/api/v1/plans/1", "application/json"),
        (Method::POST, "/api/v1/areas", "text/csv"),
    ] {
        let r = admin
            .request(method.clone(), path)
            .header("content-type", ct)
            .body(not_utf8.to_vec())
            .send()
            .await
            .unwrap();
        assert_json_error(r, &format!("{method} {path} with a non-UTF-8 body")).await;
    }
    // Uploads that are not multipart/form-data at all.
    for path in [
        "/api/v1/plans/import",
        "/api/v1/rounds/1/template",
        "/api/v1/plans/1/tasks/t1/progress/440000/2025/evidence",
    ] {
        let r = admin.request(Method::POST, path).send().await.unwrap();
        assert_json_error(r, &format!("POST {path} without a form")).await;
        let r = admin
            .request(Method::POST, path)
            .header("content-type", "multipart/form-data")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_json_error(r, &format!("POST {path} without a boundary")).await;
    }
}

/// Collects every `$ref` in the document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

async fn every_openapi_reference_resolves(app: &TestApp) {
    let doc = app.public().get_json("/api/openapi.json").await;
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolvable {r}");
    }
    // The two query enums that used to dangle, now described in place.
    let export = &doc["paths"]["/api/v1/plans/{id}/xlsx"]["get"]["parameters"];
    let what = export
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "what")
        .unwrap();
    assert_eq!(
        what["schema"]["enum"],
        json!(["values", "evaluation", "assessment"])
    );
}

async fn an_administrator_cannot_lock_themselves_out(app: &TestApp) {
    let admin = app.with_token("admin").await;
    let me = admin.get_json("/api/v1/users/admin").await;
    let edit = |disabled: bool, grants: Value| json!({"display_name": me["display_name"], "grants": grants, "disabled": disabled});
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/users/admin",
            Some(edit(true, me["grants"].clone())),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "disabled", "{body}");
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/users/admin",
            Some(edit(
                false,
                json!([{"role": "viewer", "area": "440000", "departments": []}]),
            )),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "grants", "{body}");
    // Nothing changed: the token still manages users.
    let after = admin.get_json("/api/v1/users/admin").await;
    assert_eq!(after["disabled"], false);
    assert_eq!(after["grants"], me["grants"]);
    // Other accounts can still be disabled, and edits of one's own name still work.
    let viewer = admin.get_json("/api/v1/users/viewer").await;
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/users/viewer",
            Some(json!({"display_name": viewer["display_name"], "grants": viewer["grants"], "disabled": true})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/users/admin",
            Some(json!({"display_name": "管理员", "grants": me["grants"], "disabled": false})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn nul_characters_are_refused_not_stored(app: &TestApp) {
    let admin = app.with_token("admin").await;
    // In a JSON string: a new account's display name.
    let r = admin
        .send(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "nul-user", "display_name": "a\u{0}b",
                "password": "Long-Enough-Passw0rd", "grants": []})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "body", "{body}");
    let r = admin
        .send(Method::GET, "/api/v1/users/nul-user", None)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "nothing was stored");
    // In a JSON key of a plan document (kept as an extra field).
    let r = admin
        .request(Method::POST, "/api/v1/plans")
        .header("content-type", "application/json")
        .body(r#"{"title": "t", "area": "广东省", "x\u0000": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // In CSV text.
    let r = admin
        .request(Method::POST, "/api/v1/areas")
        .header("content-type", "text/csv")
        .body("code,name,level,parent_code\n440312,新\0区,county,440300\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // In a path or a query parameter.
    for path in [
        "/api/v1/values/DE%00/440000/2025",
        "/api/v1/values/DE0001/440000%00/2025/history",
        "/api/v1/values?element=DE%00",
    ] {
        let r = admin.send(Method::GET, path, None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{path}: {body}");
    }
    // A literal backslash-u in text is not a NUL.
    let r = admin
        .send(
            Method::POST,
            "/api/v1/departments",
            Some(json!([{"area": "440300", "name": "科\\u0000室"}])),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
}

async fn extreme_numbers_in_a_plan_read_back_unchanged(app: &TestApp) {
    let admin = app.with_token("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let path = format!("/api/v1/plans/{gm}");
    let mut doc = admin.get_json(&path).await["document"].clone();
    // PostgreSQL's jsonb prints 1.7976931348623157e308 as 309 digits; read back, it must
    // still be the largest f64, not an error.
    let numbers = json!([
        f64::MAX,
        -1.6486101291195435e81,
        -1.1822937127953498e-153,
        5e-324
    ]);
    doc["numbers"] = numbers.clone();
    let r = admin.send(Method::PUT, &path, Some(doc)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let back = admin.get_json(&path).await;
    assert_eq!(back["document"]["numbers"], numbers);
    let list = admin.get_json("/api/v1/plans").await;
    assert!(list.as_array().unwrap().iter().any(|p| p["id"] == gm));
}
