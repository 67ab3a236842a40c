//! Findings 7 and 9: text is bounded per field (comments 2,000 characters, names 200) and
//! control characters such as NUL are refused, by every way in: the API, CSV and DHIS2-JSON
//! files, and page forms. Nothing is stored and nothing answers 500.

use crate::common::{element_led_by, plan_id, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    long_comments_and_names_are_refused,
    nul_is_refused_by_files_and_forms
);

async fn long_comments_and_names_are_refused(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = element_led_by(&rep, gm, "卫生健康").await;
    let path = format!("/api/v1/values/{e}/440311/2027");
    for n in [2_001, 200_000] {
        let r = rep
            .send(
                Method::PUT,
                &path,
                Some(json!({"value": 12, "comment": "注".repeat(n)})),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{n} characters"
        );
        let body: Value = r.json().await.unwrap();
        assert!(body.to_string().contains("2000"), "{body}");
    }
    assert_eq!(
        rep.send(Method::GET, &path, None).await.status(),
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
    let r = rep
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 12, "comment": "注".repeat(2_000)})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "2,000 characters fit");

    // A batch names the row.
    let r = rep
        .send(
            Method::POST,
            "/api/v1/values",
            Some(
                json!({"values": [{"element": e, "area": "440311", "period": "2028",
                "value": 3, "comment": "x".repeat(2_001)}]}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Names: 200 characters.
    let admin = app.with_token("admin").await;
    let r = admin
        .send(
            Method::POST,
            "/api/v1/departments",
            Some(json!([{"area": "440300", "name": "科".repeat(201)}])),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .send(
            Method::POST,
            "/api/v1/users",
            Some(
                json!({"username": "long-name", "display_name": "名".repeat(201),
                "password": "Long-Enough-Passw0rd", "grants": []}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .send(
            Method::POST,
            "/api/v1/users",
            Some(
                json!({"username": "long-name", "display_name": "名".repeat(200),
                "password": "Long-Enough-Passw0rd", "grants": []}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn nul_is_refused_by_files_and_forms(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    let count = || async {
        app.app
            .store()
            .row_counts()
            .await
            .unwrap()
            .into_iter()
            .find(|(t, _)| t == "data_values")
            .unwrap()
            .1
    };
    let before = count().await;
    let csv = format!(
        "element,area,period,value,numerator,denominator,status,comment\n\
         {e},440311,2027,12,,,draft,a\0b\n"
    );
    let json = json!({"dataValues": [{"dataElement": e, "orgUnit": "440311",
        "period": "2027", "value": "12", "comment": "a\u{0}b"}]})
    .to_string();
    for (format, body) in [("csv", csv), ("dhis2-json", json)] {
        let table = json!([{"kind": "element", "local_code": e, "dhis2_code": e}]);
        let _ = admin
            .send(Method::PUT, "/api/v1/exchange/mapping", Some(table))
            .await;
        let r = admin
            .request(
                Method::POST,
                &format!("/api/v1/exchange/values?format={format}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{format}: {body}");
        assert!(
            body.to_string().contains("control_character"),
            "{format}: {body}"
        );
    }
    assert_eq!(count().await, before, "nothing stored");

    // A page form: a new account whose name holds a NUL.
    let r = admin
        .request(Method::POST, "/admin/users")
        .form(&[
            ("username", "nul-form"),
            ("display_name", "a\u{0}b"),
            ("password", "Long-Enough-Passw0rd"),
            ("role", "viewer"),
            ("area", "440300"),
        ])
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_server_error(), "{}", r.status());
    assert!(app.app.store().user("nul-form").await.unwrap().is_none());
}
