//! Finding 12: values of undeclared data elements are refused, and an anonymous write is
//! refused before its body is read.

use crate::common::{element_led_by, plan_id, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(undeclared_elements_and_anonymous_writes);

async fn undeclared_elements_and_anonymous_writes(app: &TestApp) {
    let admin = app.with_token("admin").await;
    for element in ["DE0001'--", "NO_SUCH_ELEMENT"] {
        let path = format!("/api/v1/values/{}/440000/2025", urlencode_path(element));
        let r = admin
            .send(Method::PUT, &path, Some(json!({"value": 1})))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{element}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], "element", "{body}");
        assert_eq!(
            admin.send(Method::GET, &path, None).await.status(),
            StatusCode::NOT_FOUND,
            "nothing stored"
        );
        let r = admin
            .send(
                Method::POST,
                "/api/v1/values",
                Some(json!({"values": [{"element": element, "area": "440000",
                    "period": "2025", "value": 1}]})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{element}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], "values[0].element", "{body}");
    }
    // A declared element still goes in.
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    let r = admin
        .send(
            Method::PUT,
            &format!("/api/v1/values/{e}/440311/2027"),
            Some(json!({"value": 1})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Nobody signed in: 401 whatever the body, never a schema error.
    let public = app.public();
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/values/{e}/440311/2027"),
            "{not json",
        ),
        (Method::POST, "/api/v1/values".to_string(), "[]"),
        (Method::POST, "/api/v1/plans/import".to_string(), "garbage"),
        (Method::POST, "/api/v1/users".to_string(), "{}"),
    ] {
        let r = public
            .request(method.clone(), &path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

fn urlencode_path(s: &str) -> String {
    s.replace('\'', "%27")
}
