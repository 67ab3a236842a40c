//! Plan edits carry versions like values: the API answers with the plan's version as `ETag`
//! and takes `If-Match`; the review page sends the version it showed. An edit made on a stale
//! version is refused with 409 and the current version, and changes nothing.

use crate::browser::zh;
use crate::common::{plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

stories!(
    a_stale_plan_edit_is_refused_over_the_api,
    a_stale_plan_edit_is_refused_on_the_review_page
);

fn tag(r: &Response) -> i64 {
    r.headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap()
}

async fn plan(c: &Caller, id: i64) -> (i64, Value) {
    let r = c
        .request(Method::GET, &format!("/api/v1/plans/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let version = tag(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["summary"]["version"], version);
    (version, body["document"].clone())
}

async fn a_stale_plan_edit_is_refused_over_the_api(app: &TestApp) {
    let first = app.sign_in("planner").await;
    let second = app.sign_in("planner").await;
    let gm = plan_id(&first, "光明区").await;
    let updates_before = plan_updates(app, gm).await;
    // Both reviewers load the plan at the same version.
    let (v0, doc) = plan(&first, gm).await;
    // The first corrects indicator 0's lead department.
    let mut ind0 = doc["indicators"][0].clone();
    ind0["lead"] = json!("光明区疾病预防控制中心");
    let r = first
        .request(Method::PUT, &format!("/api/v1/plans/{gm}/indicators/0"))
        .header("If-Match", format!("\"{v0}\""))
        .json(&ind0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    assert_eq!(tag(&r), v0 + 1);
    // The second, still on v0, is refused with the version to reload at.
    let applies = format!("/api/v1/plans/{gm}/indicators/1/applies_to");
    let stale = second
        .request(Method::PUT, &applies)
        .header("If-Match", format!("\"{v0}\""))
        .json(&json!({"applies_to": "plan_area"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(body["error"]["current"]["version"], v0 + 1);
    // Nothing of it was stored, and the first edit stands.
    let (v1, now) = plan(&first, gm).await;
    assert_eq!(v1, v0 + 1);
    assert_eq!(
        now["indicators"][1]["applies_to"],
        doc["indicators"][1]["applies_to"]
    );
    assert_eq!(now["indicators"][0]["lead"], "光明区疾病预防控制中心");
    // After reloading, the second edit goes through on the current version.
    let r = second
        .request(Method::PUT, &applies)
        .header("If-Match", format!("\"{v1}\""))
        .json(&json!({"applies_to": "plan_area"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(tag(&r), v1 + 1);
    // Without If-Match an edit applies to the latest document: the others' edits stay.
    let mut task = doc["tasks"][0].clone();
    task["text"] = json!("加强健康知识普及，提升全区居民健康素养。");
    let task_path = format!("/api/v1/plans/{gm}/tasks/{}", task["id"].as_str().unwrap());
    let r = second.send(Method::PUT, &task_path, Some(task)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (v3, now) = plan(&first, gm).await;
    assert_eq!(v3, v1 + 2);
    assert_eq!(now["indicators"][0]["lead"], "光明区疾病预防控制中心");
    assert_eq!(now["indicators"][1]["applies_to"], "plan_area");
    assert_eq!(
        now["tasks"][0]["text"],
        "加强健康知识普及，提升全区居民健康素养。"
    );
    // A whole-document replacement on a stale version is refused too.
    let r = first
        .request(Method::PUT, &format!("/api/v1/plans/{gm}"))
        .header("If-Match", format!("\"{v0}\""))
        .header("Content-Type", "application/json")
        .body(doc.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(plan(&first, gm).await.1, now, "nothing changed");
    // A reporter may not edit at any version; a malformed If-Match is the caller's error.
    let reporter = app.sign_in("reporter-guangming").await;
    let r = reporter
        .request(Method::PUT, &applies)
        .header("If-Match", format!("\"{v3}\""))
        .json(&json!({"applies_to": null}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    let r = first
        .request(Method::PUT, &applies)
        .header("If-Match", "yesterday")
        .json(&json!({"applies_to": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(plan(&first, gm).await.0, v3);
    // Each stored edit is one audited update of the plan; the refused ones left no trace.
    assert_eq!(plan_updates(app, gm).await - updates_before, 3);
}

/// How many audited updates the plan has had.
async fn plan_updates(app: &TestApp, id: i64) -> usize {
    app.app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("plan".into()),
            entity_key: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == healthplan_store::AuditAction::Update)
        .count()
}

/// The version the review page shows (`#plan-version`).
fn page_version(html: &str) -> i64 {
    let at = html
        .find("id=\"plan-version\" value=\"")
        .expect("the page's plan version")
        + "id=\"plan-version\" value=\"".len();
    html[at..].split('"').next().unwrap().parse().unwrap()
}

async fn a_stale_plan_edit_is_refused_on_the_review_page(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let other = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let review = format!("/plans/{gm}/review");
    let html = planner.html(&review).await;
    let v = page_version(&html);
    assert!(html.contains(&format!("name=\"version\" value=\"{v}\"")));
    let (_, doc) = plan(&planner, gm).await;
    let task = doc["tasks"][0]["id"].as_str().unwrap().to_string();
    let edit_task = |version: i64| {
        let planner = &planner;
        let path = format!("/plans/{gm}/review/tasks/{task}");
        async move {
            planner
                .request(Method::POST, &path)
                .header("HX-Request", "true")
                .form(&[
                    ("text", "组织医务人员进社区开展健康讲座。"),
                    ("units", "光明区卫生健康局、光明区教育局"),
                    ("version", &version.to_string()),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // Someone else saves an edit while the page is open.
    let mut ind0 = doc["indicators"][0].clone();
    ind0["lead"] = json!("光明区疾病预防控制中心");
    let r = other
        .request(Method::PUT, &format!("/api/v1/plans/{gm}/indicators/0"))
        .header("If-Match", format!("\"{v}\""))
        .json(&ind0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The page's edit, made on the old version, says so and stores nothing.
    let answer = edit_task(v).await;
    assert!(answer.contains(&zh("prose.stale")), "{answer}");
    let (_, now) = plan(&planner, gm).await;
    assert_eq!(now["tasks"][0]["text"], doc["tasks"][0]["text"]);
    // Reloaded, the edit is stored and the page learns the new version.
    let v1 = page_version(&planner.html(&review).await);
    assert_eq!(v1, v + 1);
    let answer = edit_task(v1).await;
    assert!(answer.contains(&zh("review.saved")), "{answer}");
    assert!(
        answer.contains(&format!("id=\"plan-version\" value=\"{}\"", v1 + 1)),
        "{answer}"
    );
    let (v2, now) = plan(&planner, gm).await;
    assert_eq!(v2, v1 + 1);
    assert_eq!(now["tasks"][0]["text"], "组织医务人员进社区开展健康讲座。");
    assert_eq!(now["indicators"][0]["lead"], "光明区疾病预防控制中心");
    // A whole-page form (removing an indicator) on a stale version: refused, nothing removed.
    let last = now["indicators"].as_array().unwrap().len() - 1;
    let r = planner
        .request(
            Method::POST,
            &format!("/plans/{gm}/review/indicators/{last}/delete"),
        )
        .form(&[("version", v.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains(&zh("prose.stale")));
    assert_eq!(plan(&planner, gm).await.1, now);
    // An indicator edit on the page stores and hands the page the version after it.
    let r = planner
        .request(Method::POST, &format!("/plans/{gm}/review/indicators/0"))
        .header("HX-Request", "true")
        .form(&[
            ("name", now["indicators"][0]["name"].as_str().unwrap()),
            ("lead", "光明区卫生健康局"),
            ("version", &v2.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        r.contains(&format!("id=\"plan-version\" value=\"{}\"", v2 + 1)),
        "{r}"
    );
    // A reporter's page edit is refused whatever the version.
    let reporter = app.sign_in("reporter-guangming").await;
    let r = reporter
        .request(Method::POST, &format!("/plans/{gm}/review/tasks/{task}"))
        .header("HX-Request", "true")
        .form(&[("text", "x"), ("version", &(v2 + 1).to_string())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(r.contains("role=\"alert\""), "{r}");
    assert_eq!(plan(&planner, gm).await.0, v2 + 1);
}
