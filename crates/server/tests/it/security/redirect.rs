//! Finding 2: `next=` after sign-in and after the language switch stays on this site.

use crate::common::{account, urlencode, TestApp};
use crate::stories;
use reqwest::{redirect, Client, StatusCode};

stories!(next_stays_on_this_site);

fn no_follow() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The sign-in form's CSRF token (its cookie stays in the client).
pub async fn login_token(app: &TestApp, c: &Client) -> String {
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn next_stays_on_this_site(app: &TestApp) {
    let cases = [
        ("/%09/evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%0d%0aSet-Cookie:%20x=1", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("/plans\u{7f}", "/"),
        ("/plans/1?as_of=2025", "/plans/1?as_of=2025"),
        ("/计划", "/计划"),
    ];
    let c = no_follow();
    for (next, expected) in cases {
        // `%09` in the raw query is the tab itself once decoded; the others go encoded.
        let q = if next.contains('%') {
            next.to_string()
        } else {
            urlencode(next)
        };
        let r = c
            .get(app.url(&format!("/lang/en?next={q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "/lang/en?next={q}");
        assert_eq!(
            r.headers()["location"].as_bytes(),
            expected.as_bytes(),
            "/lang/en?next={q}"
        );

        let a = account("viewer");
        let c = no_follow();
        let token = login_token(app, &c).await;
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", a.username),
                ("password", a.password),
                ("next", &urlencode_form_raw(next)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "sign-in with next={next:?}"
        );
        assert_eq!(
            r.headers()["location"].as_bytes(),
            expected.as_bytes(),
            "sign-in with next={next:?}"
        );
    }
}

/// A `next` written as in a query string, decoded as the form field would carry it.
fn urlencode_form_raw(next: &str) -> String {
    form_urlencoded::parse(format!("n={}", next.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
