//! Findings 5 and 6: the sign-in form always checks its CSRF token, and a good sign-in clears
//! only its own account's failures, not the address's.

use super::redirect::login_token;
use crate::common::{account, TestApp};
use crate::stories;
use reqwest::{redirect, Client, StatusCode};
use serde_json::json;

stories!(
    sign_in_form_checks_csrf_always,
    good_sign_in_keeps_address_count
);

fn no_follow() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn session_set(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().is_ok_and(|c| c.starts_with("hp_session=")))
}

async fn sign_in_form_checks_csrf_always(app: &TestApp) {
    let a = account("viewer");
    // A form posted from another site: no sign-in cookie, with or without a field.
    for field in [None, Some("forged"), Some("")] {
        let c = no_follow();
        let mut form = vec![("username", a.username), ("password", a.password)];
        if let Some(f) = field {
            form.push(("csrf", f));
        }
        let r = c.post(app.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "csrf field {field:?}");
        assert!(!session_set(&r), "no session without the token");
    }
    // With the form's cookie, a missing or wrong field is refused as well.
    let c = no_follow();
    let token = login_token(app, &c).await;
    for wrong in [None, Some("forged")] {
        let mut form = vec![("username", a.username), ("password", a.password)];
        if let Some(f) = wrong {
            form.push(("csrf", f));
        }
        let r = c.post(app.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "csrf field {wrong:?}");
    }
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", a.username),
            ("password", a.password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(session_set(&r));
}

async fn good_sign_in_keeps_address_count(app: &TestApp) {
    let c = Client::new();
    let attempt = |username: String, password: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let own = account("viewer");
    let mut statuses = Vec::new();
    // Guesses at twenty accounts, with the attacker's own good sign-in after every fourth.
    for i in 0..20 {
        statuses.push(attempt(format!("guess-{i}"), "password-guess").await);
        if i % 4 == 3 {
            statuses.push(attempt(own.username.into(), own.password).await);
        }
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "the address is throttled: {statuses:?}"
    );
    // What the good sign-ins cleared is the account's own count only.
    let left = app
        .app
        .store()
        .sign_in_failures(&[
            format!("user:{}", own.username),
            "addr:127.0.0.1".to_string(),
        ])
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].key, "addr:127.0.0.1");
    assert!(left[0].failures >= 5, "{left:?}");
}
