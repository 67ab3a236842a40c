//! Markup typed into plan text, comments and unit names comes back inert on every page that
//! shows it: escaped, never as a tag.

use crate::common::{plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(user_text_renders_inert_on_every_page);

const EVIL: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;";
const IMG_ESCAPED: &str = "&lt;img src=x onerror=alert(1)&gt;";

async fn ok(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// GETs a page (as htmx when `htmx`) and says what is wrong with it, if anything: the user
/// text must be there, escaped, and never as markup.
async fn inert(c: &Caller, path: &str, htmx: bool) -> Option<String> {
    let mut r = c.request(Method::GET, path);
    if htmx {
        r = r.header("HX-Request", "true");
    }
    let r = r.send().await.unwrap();
    if r.status() != StatusCode::OK {
        return Some(format!("{path}: {}", r.status()));
    }
    let html = r.text().await.unwrap();
    shown_inert(path, &html)
}

async fn user_text_renders_inert_on_every_page(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let reporter = app.sign_in("reporter-guangming").await;
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&planner, "光明区").await;
    let area = "440311";

    // Plan text: the title, an indicator's name and unit, a task's text and its units.
    let mut doc = planner.get_json(&format!("/api/v1/plans/{gm}")).await["document"].clone();
    let k = doc["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|i| {
            i["element"].is_string() && i["lead"].as_str().is_some_and(|l| l.contains("卫生健康"))
        })
        .expect("an indicator the reporter reports");
    let element = doc["indicators"][k]["element"]
        .as_str()
        .unwrap()
        .to_string();
    let title = format!("{}{EVIL}", doc["title"].as_str().unwrap());
    doc["title"] = title.into();
    let name = format!("{}{EVIL}", doc["indicators"][k]["name"].as_str().unwrap());
    doc["indicators"][k]["name"] = name.into();
    doc["indicators"][k]["unit"] = EVIL.into();
    let task = doc["tasks"][0]["id"].as_str().unwrap().to_string();
    doc["tasks"][0]["text"] = EVIL.into();
    doc["tasks"][0]["responsible"] = json!({
        "raw": format!("区卫生健康局、{EVIL}"),
        "units": ["区卫生健康局", EVIL],
        "lead": "区卫生健康局",
        "mode": doc["tasks"][0]["responsible"]["mode"].as_str().unwrap_or("lead_first"),
    });
    ok(
        planner
            .request(Method::PUT, &format!("/api/v1/plans/{gm}"))
            .body(doc.to_string())
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap(),
        "the plan with markup",
    )
    .await;

    // The data element's name and unit.
    let elements = admin.get_json("/api/v1/elements").await;
    let mut el = elements
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == element.as_str())
        .unwrap()
        .clone();
    el["name"] = format!("{}{EVIL}", el["name"].as_str().unwrap()).into();
    el["unit"] = EVIL.into();
    ok(
        admin
            .send(
                Method::PUT,
                &format!("/api/v1/elements/{element}"),
                Some(el),
            )
            .await,
        "the element",
    )
    .await;

    // A department named with markup.
    ok(
        admin
            .request(Method::POST, "/admin/departments")
            .form(&[("name", EVIL), ("area", area)])
            .send()
            .await
            .unwrap(),
        "the department",
    )
    .await;

    // Comments: a reporter's on a value and a task report, the planner's on returning them.
    let rounds = reporter.get_json("/api/v1/rounds").await;
    let round = rounds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["plan_id"] == gm && r["open"] == true)
        .expect("the open round")
        .clone();
    let (round_id, period) = (round["id"].as_i64().unwrap(), round["period"].clone());
    let period = period
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| period.to_string());
    let value = format!("/api/v1/values/{element}/{area}/{period}");
    ok(
        reporter
            .send(
                Method::PUT,
                &value,
                Some(json!({"value": 5.0, "status": "submitted", "comment": EVIL})),
            )
            .await,
        "the value",
    )
    .await;
    ok(
        planner
            .send(
                Method::POST,
                &format!("{value}/return"),
                Some(json!({"version": 1, "comment": EVIL})),
            )
            .await,
        "returning the value",
    )
    .await;
    let progress = format!("/api/v1/plans/{gm}/tasks/{task}/progress/{area}/{period}");
    ok(
        reporter
            .send(
                Method::PUT,
                &progress,
                Some(json!({"status": "in_progress", "note": EVIL, "workflow": "submitted"})),
            )
            .await,
        "the task report",
    )
    .await;
    ok(
        planner
            .send(
                Method::POST,
                &format!("{progress}/return"),
                Some(json!({"version": 1, "comment": EVIL})),
            )
            .await,
        "returning the task report",
    )
    .await;

    // Published, so the public pages show it too.
    let plans = planner.get_json("/api/v1/plans").await;
    let status = plans
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == gm)
        .unwrap()["status"]
        .clone();
    if status == "draft" {
        ok(
            planner
                .send(
                    Method::POST,
                    &format!("/api/v1/plans/{gm}/status"),
                    Some(json!({"status": "confirmed"})),
                )
                .await,
            "confirming",
        )
        .await;
    }
    ok(
        planner
            .send(
                Method::POST,
                &format!("/api/v1/plans/{gm}/publish"),
                Some(json!({"as_of": 2025})),
            )
            .await,
        "publishing",
    )
    .await;

    let unit = crate::common::urlencode(EVIL);
    let mut wrong = Vec::new();
    for path in [
        "/".to_string(),
        "/plans".into(),
        format!("/plans/{gm}"),
        format!("/plans/{gm}/review"),
        format!("/plans/{gm}/dashboard"),
        format!("/plans/{gm}/indicators/{k}"),
        format!("/plans/{gm}/departments"),
        format!("/plans/{gm}/departments?name={unit}"),
        format!("/plans/{gm}/assessment"),
        format!("/plans/{gm}/alignment"),
        format!("/plans/{gm}/tasks/{task}/progress?area={area}&period={period}"),
        "/approvals?status=returned".into(),
        format!("/rounds/{round_id}/overview"),
    ] {
        wrong.extend(inert(&planner, &path, false).await);
    }
    for path in [format!("/plans/{gm}"), format!("/plans/{gm}/dashboard")] {
        wrong.extend(inert(&planner, &path, true).await);
    }
    for path in ["/".to_string(), format!("/rounds/{round_id}")] {
        wrong.extend(inert(&reporter, &path, false).await);
    }
    wrong.extend(inert(&admin, "/admin", false).await);
    let public = app.public();
    for path in ["/public".to_string(), format!("/public/plans/{gm}")] {
        wrong.extend(inert(&public, &path, false).await);
    }

    // What htmx swaps in and what a refused form shows again: the typed text comes back too.
    let typed = [("v.0", EVIL), ("c.0", EVIL)];
    let check = reporter
        .request(Method::POST, &format!("/rounds/{round_id}/check"))
        .form(&typed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The message quotes the typed text, shortened.
    if check.contains("<script") || !check.contains("&lt;script&gt;") {
        wrong.push(format!("/rounds/{round_id}/check answers {check:?}"));
    }
    let saved = reporter
        .request(Method::POST, &format!("/rounds/{round_id}/save"))
        .form(&typed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    wrong.extend(shown_inert(&format!("/rounds/{round_id}/save"), &saved));
    let item = planner
        .request(Method::POST, &format!("/plans/{gm}/review/indicators/{k}"))
        .header("HX-Request", "true")
        .form(&[
            ("name", format!("{EVIL}2").as_str()),
            ("unit", EVIL),
            ("lead", EVIL),
            ("element", element.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    wrong.extend(shown_inert("the review item after an edit", &item));
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn shown_inert(what: &str, html: &str) -> Option<String> {
    for raw in ["<script>alert", "<img src=x", "\"><img", EVIL] {
        if html.contains(raw) {
            return Some(format!("{what} shows {raw:?} as markup"));
        }
    }
    (!(html.contains(SCRIPT_ESCAPED) && html.contains(IMG_ESCAPED)))
        .then(|| format!("{what} does not show the text"))
}
