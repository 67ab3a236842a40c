//! What operations probe and scrape: `/healthz`, `/readyz`, `/metrics` behind its token, and
//! the request id every answer carries.

use crate::common::TestApp;
use crate::on_both;
use reqwest::{Method, StatusCode};

const TOKEN: &str = "scrape-secret-0123456789";

on_both!(
    probes_answer_without_sign_in,
    healthplan_server::ServerConfig::default()
);
on_both!(
    metrics_need_the_token_and_count_requests,
    healthplan_server::ServerConfig {
        metrics_token: Some(crate::ops::TOKEN.into()),
        ..Default::default()
    }
);

async fn probes_answer_without_sign_in(app: &TestApp) {
    let c = app.public();
    let r = c.send(Method::GET, "/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok\n");

    let r = c.send(Method::GET, "/readyz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    assert!(
        body["migrations"]["applied"].as_u64().unwrap() >= 5,
        "{body}"
    );
    assert_eq!(
        body["migrations"]["pending"],
        serde_json::json!([]),
        "{body}"
    );
    assert!(body["engine"]["elements"].as_u64().unwrap() > 0, "{body}");

    // Off unless a token is configured.
    let r = c.send(Method::GET, "/metrics", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Every answer names its request; a proxy's id is kept.
    let id = r.headers().get("x-request-id").expect("a request id");
    assert!(!id.to_str().unwrap().is_empty());
    let r = c
        .request(Method::GET, "/healthz")
        .header("x-request-id", "from-the-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "from-the-proxy-42");
}

async fn metrics_need_the_token_and_count_requests(app: &TestApp) {
    let c = app.public();
    assert_eq!(
        c.send(Method::GET, "/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A signed-in administrator is not enough: scrapers hold the token.
    let admin = app.sign_in("admin").await;
    assert_eq!(
        admin.send(Method::GET, "/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = c
        .request(Method::GET, "/metrics")
        .bearer_auth("scrape-secret-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    for _ in 0..3 {
        admin.get_json("/api/v1/plans").await;
    }
    // A refused import counts as one.
    let r = admin
        .request(Method::POST, "/api/v1/exchange/values?format=csv")
        .body("not,a,data,file\n")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    let r = c
        .request(Method::GET, "/metrics")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    let sample = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        sample(
            r#"healthplan_http_requests_total{method="GET",route="/api/v1/plans",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            r#"healthplan_http_request_duration_seconds_count{method="GET",route="/api/v1/plans"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(r#"healthplan_imports_total{kind="values",outcome="refused"}"#),
        1.0
    );
    assert!(sample("healthplan_db_pool_connections ") >= 1.0);
    assert!(sample("healthplan_engine_elements ") >= 1.0);
    assert!(sample("healthplan_engine_bytes ") > 0.0);
    assert!(sample("healthplan_alerts_raised ") >= 0.0);
    // No backup yet.
    assert_eq!(sample("healthplan_backup_age_seconds "), -1.0);
}

on_both!(
    the_admin_page_shows_the_last_backup,
    healthplan_server::ServerConfig::default()
);

async fn the_admin_page_shows_the_last_backup(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    assert!(admin.html("/admin").await.contains("尚未备份"));
    let store = app.app.store();
    let ok = serde_json::json!({"bytes": 1234});
    store
        .record_operation("test", "backup", "/var/backups/healthplan-1.zip", &ok)
        .await
        .unwrap();
    let page = admin.html("/admin").await;
    assert!(page.contains("healthplan-1.zip"), "{page}");
    assert!(!page.contains("最近一次备份失败"));
    let failed = serde_json::json!({"error": "disk full"});
    store
        .record_operation(
            "test",
            "backup_failure",
            "/var/backups/healthplan-2.zip",
            &failed,
        )
        .await
        .unwrap();
    let page = admin.html("/admin").await;
    assert!(
        page.contains("最近一次备份失败") && page.contains("disk full"),
        "{page}"
    );
    // Only administrators see it.
    let reporter = app.sign_in("planner").await;
    assert!(!reporter.html("/admin").await.contains("healthplan-1.zip"));
}
