//! Phone-sized pages in a real headless Chromium: at 390 × 844 the home of each role, the
//! reporter's form and the alerts page fit the width (no sideways scrolling). A PNG of each
//! home at desktop and phone size goes to `target/browser-artifacts/daily/<backend>/`.

use crate::chrome::{screenshot, wait_css, wait_text, Browser};
use crate::common::{account, TestApp};
use crate::stories;
use fantoccini::{Client, Locator};
use reqwest::Method;
use std::path::PathBuf;

stories!(pages_fit_a_phone);

async fn sign_in(app: &TestApp, c: &Client, username: &str) {
    let acc = account(username);
    c.goto(&app.url("/login")).await.unwrap();
    wait_css(c, "#username")
        .await
        .send_keys(acc.username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(acc.password)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "header.top .who", acc.display_name).await;
}

/// (scrollWidth, innerWidth) of the page now shown.
async fn widths(c: &Client) -> (u64, u64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

/// Opens `path` and checks that nothing sticks out sideways; names what does when it fails.
async fn fits(app: &TestApp, c: &Client, path: &str, ready: &str) {
    c.goto(&app.url(path)).await.unwrap();
    wait_css(c, ready).await;
    let (scroll, inner) = widths(c).await;
    if scroll > inner {
        let wide = c
            .execute(
                "const w = window.innerWidth; return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.getBoundingClientRect().right > w + 1)
                   .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .unwrap();
        panic!("{path}: scrollWidth {scroll} > innerWidth {inner}; too wide: {wide}");
    }
}

async fn pages_fit_a_phone(app: &TestApp) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/browser-artifacts/daily")
        .join(app.backend());
    let _ = std::fs::remove_dir_all(&dir);
    // Something to show: alerts raised, a value returned to the reporter.
    let planner = app.sign_in("planner").await;
    let r = planner
        .send(
            Method::POST,
            "/api/v1/alerts/check",
            Some(serde_json::json!({})),
        )
        .await;
    assert!(r.status().is_success());

    for (who, extra) in [
        ("reporter-guangming", vec!["/rounds"]),
        ("planner", vec!["/alerts", "/approvals"]),
        ("viewer", vec!["/alerts"]),
    ] {
        let c = browser.session("zh-CN").await;
        sign_in(app, &c, who).await;
        c.set_window_size(1366, 900).await.unwrap();
        c.goto(&app.url("/")).await.unwrap();
        wait_css(&c, "main h1").await;
        screenshot(&c, &dir.join(format!("home-{who}.png"))).await;

        c.set_window_size(390, 844).await.unwrap();
        let (_, inner) = widths(&c).await;
        assert!(
            (370..=400).contains(&inner),
            "the window is phone-sized: innerWidth {inner}"
        );
        fits(app, &c, "/", "main h1").await;
        screenshot(&c, &dir.join(format!("home-{who}-phone.png"))).await;
        for path in extra {
            fits(app, &c, path, "main h1").await;
        }
        if who == "reporter-guangming" {
            // The form of the open round, from the home.
            c.goto(&app.url("/")).await.unwrap();
            wait_css(&c, "main h1").await;
            let link = c
                .find(Locator::Css("article.due a"))
                .await
                .expect("a form to fill on the reporter's home");
            let href = link.attr("href").await.unwrap().unwrap();
            fits(app, &c, &href, "form#entry").await;
            screenshot(&c, &dir.join("form-phone.png")).await;
        }
        if who == "planner" {
            fits(app, &c, "/alerts", "main h1").await;
            screenshot(&c, &dir.join("alerts-phone.png")).await;
        }
        c.close().await.unwrap();
    }
}
