//! Finding 11: every response carries a Content-Security-Policy without `unsafe-inline`
//! (pages hold no inline script, event handler or style attribute), framing is refused,
//! and HSTS is sent when the server is reached over TLS (`--secure-cookies`).

use crate::common::TestApp;
use crate::stories;
use healthplan_server::ServerConfig;
use reqwest::Method;

stories!(pages_run_only_served_scripts);

const PAGES: [&str; 9] = [
    "/login",
    "/",
    "/plans",
    "/admin",
    "/surveillance",
    "/alerts",
    "/exchange",
    "/api/docs/",
    "/api/v1/plans",
];

async fn pages_run_only_served_scripts(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    for path in PAGES {
        let r = admin.request(Method::GET, path).send().await.unwrap();
        let h = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let csp = h("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(h("strict-transport-security"), None, "{path}: no TLS here");
        let html = r.text().await.unwrap();
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap();
            assert!(
                open.contains("src=") || open.contains("application/json"),
                "{path}: inline script <script{open}>"
            );
        }
        let lower = html.to_lowercase();
        for attr in [
            " onclick=",
            " onload=",
            " onchange=",
            " onsubmit=",
            " style=\"",
            "<style",
        ] {
            assert!(!lower.contains(attr), "{path}: {attr}");
        }
    }
    let secure = TestApp::spawn_sqlite(ServerConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let r = secure
        .public()
        .request(Method::GET, "/login")
        .send()
        .await
        .unwrap();
    let hsts = r.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");
    secure.stop().await;
}
