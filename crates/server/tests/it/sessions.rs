//! Sessions: a new id at every sign-in, sign-out, idle expiry, throttling, cookie flags.

use crate::common::TestApp;
use healthplan_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

use crate::on_both;

on_both!(
    sign_in_out_and_fixation,
    healthplan_server::ServerConfig::default()
);
on_both!(
    idle_sessions_end,
    healthplan_server::ServerConfig {
        idle_timeout: std::time::Duration::from_secs(1),
        ..Default::default()
    }
);
on_both!(
    failed_sign_ins_are_throttled,
    healthplan_server::ServerConfig {
        free_sign_in_failures: 3,
        ..Default::default()
    }
);
on_both!(
    cookies_are_secure_behind_tls,
    healthplan_server::ServerConfig {
        trust_proxy: true,
        ..Default::default()
    }
);

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hp_session="))
        .map(String::from)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap_or("")
        .trim_start_matches("hp_session=")
        .to_string()
}

async fn sign_in_raw(app: &TestApp, client: &reqwest::Client, user: &str) -> reqwest::Response {
    let a = crate::common::account(user);
    client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": a.username, "password": a.password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in_out_and_fixation(app: &TestApp) {
    let plain = reqwest::Client::new();
    let first = sign_in_raw(app, &plain, "viewer").await;
    let c1 = session_cookie(&first).unwrap();
    assert!(
        c1.contains("HttpOnly") && c1.contains("SameSite=Lax"),
        "{c1}"
    );
    assert!(!c1.contains("Secure"), "no TLS here: {c1}");
    let second = sign_in_raw(app, &plain, "viewer").await;
    let c2 = session_cookie(&second).unwrap();
    let csrf2: serde_json::Value = second.json().await.unwrap();
    let csrf2 = csrf2["csrf_token"].as_str().unwrap().to_string();
    assert_ne!(
        cookie_value(&c1),
        cookie_value(&c2),
        "a new id at every sign-in"
    );
    let me = |id: String| {
        let plain = plain.clone();
        let url = app.url("/api/v1/me");
        async move {
            plain
                .get(url)
                .header("cookie", format!("hp_session={id}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(cookie_value(&c1)).await, StatusCode::OK);
    // An id the server never issued is nobody.
    assert_eq!(
        me("made-up-session-id".into()).await,
        StatusCode::UNAUTHORIZED
    );
    // Signing in from a session replaces it: the old id ends.
    let replaced = plain
        .post(app.url("/api/v1/session"))
        .header("cookie", format!("hp_session={}", cookie_value(&c2)))
        .header("x-csrf-token", csrf2)
        .json(&json!({"username": "viewer", "password": crate::common::account("viewer").password}))
        .send()
        .await
        .unwrap();
    let c3 = session_cookie(&replaced).unwrap();
    assert_eq!(me(cookie_value(&c2)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(cookie_value(&c3)).await, StatusCode::OK);

    let s = app.sign_in("viewer").await;
    assert_eq!(
        s.send(Method::GET, "/api/v1/me", None).await.status(),
        StatusCode::OK
    );
    let out = s.send(Method::DELETE, "/api/v1/session", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.send(Method::GET, "/api/v1/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A disabled account's sessions end at once.
    let r = app.sign_in("reporter-yuncheng").await;
    let admin = app.sign_in("admin").await;
    let mut u = admin.get_json("/api/v1/users/reporter-yuncheng").await;
    u["disabled"] = json!(true);
    let put = admin
        .send(Method::PUT, "/api/v1/users/reporter-yuncheng", Some(u))
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(
        r.send(Method::GET, "/api/v1/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_raw(app, &plain, "reporter-yuncheng").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn idle_sessions_end(app: &TestApp) {
    let s = app.sign_in("planner").await;
    assert_eq!(
        s.send(Method::GET, "/api/v1/me", None).await.status(),
        StatusCode::OK
    );
    app.app.clock().advance(Duration::from_secs(3));
    let r = s.send(Method::GET, "/api/v1/me", None).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "idle for longer than the timeout"
    );
    let log = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("auth".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(log.iter().any(|e| e
        .after
        .as_ref()
        .is_some_and(|a| a["event"] == "session_expired")));
}

async fn failed_sign_ins_are_throttled(app: &TestApp) {
    let c = reqwest::Client::new();
    let attempt = |pw: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .json(&json!({"username": "planner", "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("wrong-password-1").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Past the free failures even the right password waits, and is told how long.
    let right = crate::common::account("planner").password;
    let r = attempt(right).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "throttled");
    // The wait grows with every further failure; after it, the right password works.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        attempt("wrong-password-2").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = attempt(right).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    assert_eq!(attempt(right).await.status(), StatusCode::OK);
    let failures = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("auth".into()),
            entity_key: Some("planner".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.after
                .as_ref()
                .is_some_and(|a| a["event"] == "sign_in_failed")
        })
        .count();
    assert_eq!(failures, 4);
}

async fn cookies_are_secure_behind_tls(app: &TestApp) {
    let c = reqwest::Client::new();
    let a = crate::common::account("viewer");
    let r = c
        .post(app.url("/api/v1/session"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": a.username, "password": a.password}))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&r).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let _ = ServerConfig::default();
}
