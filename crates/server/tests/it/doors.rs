//! Every door into a flow gives the same result: the API, the pages and the files apply the
//! same value rules, versions and rights (issue 22's stories).

use crate::common::{plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// No periodic alert check: the stories say which checks run, and with whose rights.
stories!(
    config = healthplan_server::ServerConfig {
        alert_interval: None,
        ..Default::default()
    };
    the_api_applies_the_value_rules,
    a_stale_template_never_overwrites_newer_values,
    alert_checks_run_with_the_callers_rights,
    the_server_imports_plans_in_every_format,
    pages_print_numbers_as_the_evaluation_does
);

/// The element of a plan indicator in percent led by a department with this function.
async fn percent_element(c: &Caller, plan: i64, function: &str) -> String {
    let doc = c.get_json(&format!("/api/v1/plans/{plan}")).await;
    doc["document"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["unit"] == "%"
                && i["formula"].is_null()
                && i["lead"].as_str().is_some_and(|l| l.contains(function))
        })
        .unwrap_or_else(|| panic!("plan {plan} has no indicator in % led by {function}"))["element"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn the_api_applies_the_value_rules(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = percent_element(&rep, gm, "卫生健康").await;
    // A percentage above 100 is refused by the form; the API refuses it the same way.
    let path = format!("/api/v1/values/{e}/440311/2030");
    let r = rep
        .send(Method::PUT, &path, Some(json!({"value": 150.0})))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "value", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("100"),
        "{body}"
    );
    assert_eq!(
        rep.send(Method::GET, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    // A batch with one such value writes nothing and names the value.
    let r = rep
        .send(
            Method::POST,
            "/api/v1/values",
            Some(json!({"values": [
                {"element": e, "area": "440311", "period": "2031", "value": 50.0},
                {"element": e, "area": "440311", "period": "2030", "value": 150.0},
            ]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "values[1].value", "{body}");
    let first = format!("/api/v1/values/{e}/440311/2031");
    assert_eq!(
        rep.send(Method::GET, &first, None).await.status(),
        StatusCode::NOT_FOUND
    );
    // Within the rule the value is stored.
    let r = rep
        .send(Method::PUT, &path, Some(json!({"value": 60.0})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// An open round with a plain number cell in the reporter's form: (round, row index, row).
async fn number_cell(rep: &Caller) -> (i64, usize, Value) {
    for round in rep.get_json("/api/v1/rounds").await.as_array().unwrap() {
        if round["open"] != true {
            continue;
        }
        let id = round["id"].as_i64().unwrap();
        let form = rep.get_json(&format!("/api/v1/rounds/{id}/form")).await;
        let rows = form["rows"].as_array().unwrap();
        if let Some(i) = rows.iter().position(|r| r["ratio"] == false) {
            return (id, i, rows[i].clone());
        }
    }
    panic!("no open round with a number cell for this reporter");
}

async fn a_stale_template_never_overwrites_newer_values(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let (round, i, row) = number_cell(&rep).await;
    let form = rep.get_json(&format!("/api/v1/rounds/{round}/form")).await;
    let period = form["round"]["period"].as_str().unwrap().to_string();
    let (element, area) = (
        row["element"].as_str().unwrap(),
        row["area"].as_str().unwrap(),
    );
    let path = format!("/api/v1/values/{element}/{area}/{period}");
    let value = row["last"].as_f64().unwrap_or(1.0);
    let put = |version: Option<i64>, comment: &str| {
        let mut body = json!({"value": value, "comment": comment});
        if let Some(v) = version {
            body["version"] = json!(v);
        }
        rep.send(Method::PUT, &path, Some(body))
    };
    // A draft exists, then the template is downloaded with it.
    let first = row["current"]["version"].as_i64();
    assert_eq!(put(first, "初稿").await.status(), StatusCode::OK);
    let r = rep
        .send(
            Method::GET,
            &format!("/api/v1/rounds/{round}/template"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let template = r.bytes().await.unwrap().to_vec();
    // The draft is saved again in the form meanwhile.
    let now: Value = rep.get_json(&path).await;
    let r = put(now["version"].as_i64(), "修订稿").await;
    assert_eq!(r.status(), StatusCode::OK);
    let newer: Value = r.json().await.unwrap();
    // The old template comes back: its cell is refused by name and nothing is written.
    let cell = format!("I{}", 6 + i);
    let filled = healthplan_exchange::testing::fill(
        &template,
        healthplan_exchange::template::SHEET,
        &[(
            cell.as_str(),
            healthplan_exchange::testing::Fill::Number(value),
        )],
    )
    .unwrap();
    let part = reqwest::multipart::Part::bytes(filled).file_name("template.xlsx");
    let r = rep
        .request(Method::POST, &format!("/api/v1/rounds/{round}/template"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    let errors = body["error"]["rows"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["code"], "stale", "{body}");
    assert_eq!(errors[0]["place"], format!("填报表!{cell}"), "{body}");
    let stored = rep.get_json(&path).await;
    assert_eq!(stored["version"], newer["version"]);
    assert_eq!(stored["comment"], "修订稿");
    // A template downloaded now goes in.
    let fresh = rep
        .send(
            Method::GET,
            &format!("/api/v1/rounds/{round}/template"),
            None,
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let part = reqwest::multipart::Part::bytes(fresh).file_name("template.xlsx");
    let r = rep
        .request(Method::POST, &format!("/api/v1/rounds/{round}/template"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The late-round alerts about a round, as an administrator sees them.
async fn round_alerts(admin: &Caller, round: i64) -> usize {
    admin
        .get_json("/api/v1/alerts?kind=round_late")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["round_id"] == round)
        .count()
}

async fn alert_checks_run_with_the_callers_rights(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let yunfu = app.sign_in("planner-yunfu").await;
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&planner, "光明区").await;
    // A Shenzhen round already past its deadline, nothing reported.
    let r = planner
        .send(
            Method::POST,
            "/api/v1/rounds",
            Some(json!({"plan_id": gm, "title": "逾期轮次", "period": "2019",
                "deadline": "2020-01-31", "areas": ["440311"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Yunfu's planner checks: nothing of Shenzhen's is judged or raised.
    let r = yunfu
        .send(Method::POST, "/api/v1/alerts/check", Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(round_alerts(&admin, round).await, 0);
    // Nor may it check Shenzhen's plan by name.
    let r = yunfu
        .send(
            Method::POST,
            "/api/v1/alerts/check",
            Some(json!({"plan_id": gm})),
        )
        .await;
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    assert_eq!(round_alerts(&admin, round).await, 0);
    // Shenzhen's planner raises it.
    let r = planner
        .send(Method::POST, "/api/v1/alerts/check", Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(round_alerts(&admin, round).await > 0);
}

/// The plan's title as the importer reads it from each format the CLI reads (the plan names
/// no area of the demo's, so the administrator imports it).
async fn the_server_imports_plans_in_every_format(app: &TestApp) {
    let planner = app.sign_in("admin").await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/corpus");
    let docx = std::fs::read(format!("{dir}/c01_qinghe.docx")).unwrap();
    let txt = std::fs::read(format!("{dir}/c01_qinghe.txt")).unwrap();
    let converted = |to: &'static str| {
        let docx = docx.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                healthplan_office::convert(
                    &docx,
                    "c01_qinghe.docx",
                    to,
                    std::time::Duration::from_secs(120),
                )
            })
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("LibreOffice cannot write .{to}: {e}"))
        }
    };
    let files = [
        ("c01_qinghe.txt", txt),
        ("c01_qinghe.docx", docx.clone()),
        ("c01_qinghe.doc", converted("doc").await),
        ("c01_qinghe.pdf", converted("pdf").await),
    ];
    let mut titles = Vec::new();
    for (name, bytes) in files {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
        let r = planner
            .request(Method::POST, "/api/v1/plans/import")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        assert!(body["indicators"].as_u64().unwrap() > 0, "{name}: {body}");
        titles.push(body["title"].as_str().unwrap().to_string());
    }
    titles.dedup();
    assert_eq!(titles.len(), 1, "{titles:?}");
}

/// A small value reads the same on the approval page as in the evaluation's explanations.
async fn pages_print_numbers_as_the_evaluation_does(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = percent_element(&rep, gm, "卫生健康").await;
    let r = rep
        .send(
            Method::PUT,
            &format!("/api/v1/values/{e}/440311/2030"),
            Some(json!({"value": 0.004, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = planner.html("/approvals").await;
    assert!(page.contains(">0.004<"), "0.004 is not printed as 0.004");
}
