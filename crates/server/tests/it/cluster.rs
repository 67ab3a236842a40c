//! Two server processes on one PostgreSQL database behind a load balancer: a value written
//! through one shows in the other's aggregates within the bound, a session made on one works
//! (with its CSRF token) on the other, sign-in throttling counts failures made at either, and
//! the periodic alert check runs once for both. PostgreSQL only: one process serves SQLite.

use crate::common::TestApp;
use healthplan_server::ServerConfig;
use healthplan_store::AlertFilter;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long a change may take to show through the other process. Notifications apply a
/// value within milliseconds (`healthplan-bench cluster` measures it); a registry change makes
/// the other process reload its engine, which takes seconds in a debug build on a loaded
/// machine. A liveness bound, not a timing assertion.
const BOUND: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database() {
    let config = || ServerConfig {
        free_sign_in_failures: 3,
        ..Default::default()
    };
    let Some(a) = TestApp::spawn_postgres(config()).await else {
        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
        return;
    };
    let b = a.spawn_peer(config()).await.unwrap();
    writes_travel_both_ways(&a, &b).await;
    sessions_and_csrf_cross_over(&a, &b).await;
    throttling_counts_at_both(&a, &b).await;
    the_alert_check_runs_once(&a, &b).await;
    b.stop().await;
    a.stop().await;
}

/// Reads `q` through `c` until `done` holds, failing after [`BOUND`].
async fn until(c: &crate::common::Caller, q: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let r = c.send(Method::GET, q, None).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status == StatusCode::OK && done(&v) {
            return v;
        }
        assert!(
            start.elapsed() < BOUND,
            "{q} still {status} {v} after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn writes_travel_both_ways(a: &TestApp, b: &TestApp) {
    let admin_a = a.sign_in("admin").await;
    let admin_b = b.via(&admin_a);
    let e = "births";
    let r = admin_a
        .send(Method::PUT, "/api/v1/elements/births", Some(json!({"code": e, "name": "活产数", "value_type": "number", "aggregation": "sum", "unit": "人"})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let q = format!("/api/v1/analytics?element={e}&areas=440000&periods=2029");
    // The new element reaches B's engine through the feed's reload marker.
    until(&admin_b, &q, |v| v[0]["count"] == 0).await;

    // Through A, seen through B.
    let r = admin_a
        .send(
            Method::PUT,
            &format!("/api/v1/values/{e}/440311001/2029"),
            Some(json!({"value": 3.0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v = until(&admin_b, &q, |v| v[0]["count"] == 1).await;
    assert_eq!(v[0]["value"], 3.0);

    // Through B (A's session and CSRF token), seen through A.
    let r = admin_b
        .send(
            Method::PUT,
            &format!("/api/v1/values/{e}/440311002/2029"),
            Some(json!({"value": 4.0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v = until(&admin_a, &q, |v| v[0]["count"] == 2).await;
    assert_eq!(v[0]["value"], 7.0);
    assert_eq!(admin_b.get_json(&q).await[0]["value"], 7.0);

    // A delete through A leaves B's aggregate too.
    let stored = admin_b
        .get_json(&format!("/api/v1/values/{e}/440311001/2029"))
        .await;
    let version = stored["version"].as_i64().unwrap();
    let r = admin_a
        .request(
            Method::DELETE,
            &format!("/api/v1/values/{e}/440311001/2029"),
        )
        .header("If-Match", format!("\"{version}\""))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{} {:?}",
        r.status(),
        r.text().await
    );
    let v = until(&admin_b, &q, |v| v[0]["count"] == 1).await;
    assert_eq!(v[0]["value"], 4.0);
}

async fn sessions_and_csrf_cross_over(a: &TestApp, b: &TestApp) {
    let reporter_a = a.sign_in("admin").await;
    let reporter_b = b.via(&reporter_a);
    let me: Value = reporter_b.get_json("/api/v1/me").await;
    assert_eq!(me["username"], "admin");
    // A write through B without the CSRF token is refused there as it is on A.
    let mut bare = b.via(&reporter_a);
    bare.csrf = None;
    let r = bare
        .send(
            Method::PUT,
            "/api/v1/values/births/440311003/2029",
            Some(json!({"value": 1.0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong token too.
    let mut forged = b.via(&reporter_a);
    forged.csrf = Some("forged".into());
    let r = forged
        .send(
            Method::PUT,
            "/api/v1/values/births/440311003/2029",
            Some(json!({"value": 1.0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Signing out through B ends the session on A.
    let r = reporter_b
        .send(Method::DELETE, "/api/v1/session", None)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = reporter_a.send(Method::GET, "/api/v1/me", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn throttling_counts_at_both(a: &TestApp, b: &TestApp) {
    let c = reqwest::Client::new();
    let attempt = |app: &TestApp, pw: &str| {
        c.post(app.url("/api/v1/session"))
            .json(&json!({"username": "planner", "password": pw}))
            .send()
    };
    // The free failures, spread over both servers.
    for app in [a, b, a] {
        let r = attempt(app, "wrong-password").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Now either server makes even the right password wait.
    let right = crate::common::account("planner").password;
    for app in [b, a] {
        let r = attempt(app, right).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

async fn the_alert_check_runs_once(a: &TestApp, b: &TestApp) {
    // Both servers started their periodic check (every 10 minutes by default); one claimed
    // this period's run, so a third claimant now is refused.
    let every = ServerConfig::default().alert_interval.unwrap();
    assert!(!a.app.store().claim_job("alerts", every).await.unwrap());
    // Every alert raised is there once, however many servers run checks.
    let scope = a.app.local_caps("test").reader();
    let alerts = b
        .app
        .store()
        .list_alerts(&scope, &AlertFilter::default())
        .await
        .unwrap();
    let mut subjects = HashSet::new();
    for al in &alerts {
        let subject = format!(
            "{:?}/{}/{:?}/{:?}/{:?}/{}/{:?}/{:?}",
            al.kind,
            al.state,
            al.plan_id,
            al.indicator,
            al.round_id,
            al.area,
            al.element,
            al.period
        );
        assert!(subjects.insert(subject.clone()), "raised twice: {subject}");
    }
}
