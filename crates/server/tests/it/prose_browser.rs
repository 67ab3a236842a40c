//! The review page's proposal panel in a real headless Chromium: a planner sees each
//! indicator proposed from the prose beside its sentences, accepts one, edits one and
//! accepts it, merges one into an indicator and rejects one; the API and the audit trail
//! record the same decisions. PNGs go to `target/browser-artifacts/<backend>-prose/`.

use crate::browser::{click, retype, sign_in, zh, Steps};
use crate::chrome::{wait_css, wait_text, Browser};
use crate::common::TestApp;
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

stories!(a_planner_decides_proposals_on_the_review_page);

const PLAN: &str = include_str!("../../../../fixtures/corpus/c09_heshan.txt");

async fn a_planner_decides_proposals_on_the_review_page(app: &TestApp) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/browser-artifacts")
        .join(format!("{}-prose", app.backend()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut steps = Steps { dir, n: 0 };
    let api = app.sign_in("planner").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(PLAN.replace("禾山", "光明").into_bytes())
            .file_name("guangming.txt"),
    );
    let r = api
        .request(Method::POST, "/api/v1/plans/import")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let audited = || async {
        app.app
            .store()
            .audit_log(&healthplan_store::AuditFilter {
                entity: Some("plan".into()),
                entity_key: Some(id.to_string()),
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    };
    let audit_before = audited().await;

    // The panel shows each proposal beside the sentences it came from.
    let c = browser.session("zh-CN").await;
    sign_in(app, &c, "planner").await;
    c.goto(&app.url(&format!("/plans/{id}/review")))
        .await
        .unwrap();
    wait_text(&c, "#proposals h2", &zh("prose.proposals")).await;
    let first = wait_text(&c, "#proposal-0", "人均预期寿命").await;
    assert!(
        first.contains("到2025年和2030年，全区人均预期寿命分别达到80.8岁和81.5岁"),
        "{first}"
    );
    wait_text(&c, "#proposal-2", "婴儿死亡率控制在2.5‰以内").await;
    assert_eq!(
        wait_css(&c, "#pd-2 option[selected]")
            .await
            .attr("value")
            .await
            .unwrap()
            .as_deref(),
        Some("lower"),
        "a mortality rate is better lower"
    );
    steps.shot(&c, "proposals").await;

    // Accept the first as proposed: it becomes indicator 1.
    click(&c, "#proposal-0 button[name=choice][value=accept]").await;
    wait_text(&c, "main p.notice", &zh("prose.accepted")).await;
    wait_text(&c, "#proposal-0 header", &zh("prose.decision.accepted")).await;
    wait_text(&c, "#ind-0 header", "人均预期寿命").await;
    steps.shot(&c, "accepted").await;

    // Edit the infant mortality proposal's name, then accept it.
    retype(&c, "#pn-2", "婴儿死亡率（全区）").await;
    click(&c, "#proposal-2 button[name=choice][value=edit]").await;
    wait_text(&c, "main p.notice", &zh("prose.edited")).await;
    wait_text(&c, "#ind-1 header", "婴儿死亡率（全区）").await;

    // Merge the maternal mortality proposal into the first indicator (pick it), reject the
    // theme parks.
    let merge = wait_css(&c, "#pm-3").await;
    merge.select_by_value("0").await.unwrap();
    click(&c, "#proposal-3 button[name=choice][value=merge]").await;
    wait_text(&c, "main p.notice", &zh("prose.merged")).await;
    click(&c, "#proposal-6 button[name=choice][value=reject]").await;
    wait_text(&c, "main p.notice", &zh("prose.rejected")).await;
    wait_text(&c, "#proposal-6 header", &zh("prose.decision.rejected")).await;
    steps.shot(&c, "decided").await;

    // The API sees the same decisions; each was one audited plan edit.
    let doc = api.get_json(&format!("/api/v1/plans/{id}")).await["document"].clone();
    let decisions: Vec<Value> = doc["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["decision"].clone())
        .collect();
    assert_eq!(decisions[0], "accepted");
    assert_eq!(decisions[2], "edited");
    assert_eq!(decisions[3], "merged");
    assert_eq!(decisions[6], "rejected");
    assert!(decisions[1].is_null());
    let names: Vec<&str> = doc["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["人均预期寿命", "婴儿死亡率（全区）"]);
    assert_eq!(doc["indicators"][1]["direction"], "lower");
    assert_eq!(audited().await - audit_before, 4);

    // A reporter gets no panel and cannot decide.
    let reporter = app.sign_in("reporter-guangming").await;
    let r = reporter
        .request(Method::POST, &format!("/plans/{id}/review/proposals/1"))
        .form(&[("choice", "accept")])
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    let doc = api.get_json(&format!("/api/v1/plans/{id}")).await["document"].clone();
    assert!(doc["proposals"][1]["decision"].is_null());
}
