//! The rough edges a new user hits (issue 19, "Broken"), each as an HTTP story: a refused
//! decision keeps its row and speaks the page's language, errors are pages naming what was
//! wrong, the approval row keeps last period's value, people by name and times as people
//! write them, the plan page's baselines, a submitted form read-only, publishing asks first,
//! a new account's least right; and the report refuses a year without data (issue 15).

use crate::common::{account, element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use healthplan_core::number::num;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    returning_without_a_comment_keeps_the_row_in_the_page_language,
    errors_are_pages_naming_what_was_wrong,
    the_approval_row_keeps_last_periods_value_and_names_people,
    the_plan_page_shows_the_baselines_the_report_prints,
    a_submitted_row_is_read_only_with_a_banner,
    publishing_asks_for_confirmation,
    a_new_account_defaults_to_the_least_right,
    departments_are_records_with_aliases,
    detector_settings_are_a_form_with_a_field_each,
    the_report_refuses_a_year_without_data
);

/// A string of a catalogue, so the assertions follow the wording.
fn catalogue(lang: &str, key: &str) -> String {
    let text = match lang {
        "en" => include_str!("../../i18n/en.toml"),
        _ => include_str!("../../i18n/zh-CN.toml"),
    };
    let table: toml::Table = text.parse().expect("catalogue");
    let mut v = &toml::Value::Table(table);
    for part in key.split('.') {
        v = v.get(part).unwrap_or_else(|| panic!("no key {key}"));
    }
    v.as_str().expect("a string").to_string()
}

/// The number a stored value shows (a number's value; a ratio's parts are not compared).
fn number(v: &Value) -> Option<f64> {
    v["value"].as_f64().or_else(|| v["value"]["value"].as_f64())
}

/// A value of the reporter's submitted for review for 2026, equal to its 2025 value (no jump
/// to explain); returns the element, the 2025 value and the stored version.
async fn submit_2026(rep: &Caller) -> (String, f64, i64) {
    let gm = plan_id(rep, "光明区").await;
    let e = element_led_by(rep, gm, "卫生健康").await;
    let last = rep
        .get_json(&format!("/api/v1/values/{e}/440311/2025"))
        .await;
    let last = number(&last).expect("a number for 2025");
    let r = rep
        .send(
            Method::PUT,
            &format!("/api/v1/values/{e}/440311/2026"),
            Some(json!({"value": last, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    (e, last, v["version"].as_i64().unwrap())
}

/// Posts a decision as the approvals page's htmx form does.
async fn decide(
    c: &Caller,
    lang: &str,
    e: &str,
    version: i64,
    decision: &str,
    comment: &str,
) -> String {
    let version = version.to_string();
    let r = c
        .request(Method::POST, "/approvals/decide")
        .header("hx-request", "true")
        .header("accept-language", lang)
        .form(&[
            ("element", e),
            ("area", "440311"),
            ("period", "2026"),
            ("version", version.as_str()),
            ("decision", decision),
            ("comment", comment),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

async fn returning_without_a_comment_keeps_the_row_in_the_page_language(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let (e, _, version) = submit_2026(&rep).await;
    let row_id = format!("id=\"ap-{e}-440311-2026\"");

    let zh = decide(&planner, "zh-CN", &e, version, "return", "").await;
    assert!(zh.contains(&row_id), "the row stays: {zh}");
    assert!(zh.contains("退回或重新开放需填写意见"), "{zh}");
    assert!(!zh.contains("a comment is required"), "Chinese only: {zh}");
    assert!(zh.contains("role=\"alert\""), "shown as an error: {zh}");

    let en = decide(&planner, "en", &e, version, "return", "").await;
    assert!(en.contains(&row_id), "the row stays: {en}");
    assert!(en.contains("a comment is required"), "{en}");
    assert!(
        !en.contains("退回或重新开放需填写意见"),
        "English only: {en}"
    );

    // Nothing changed: still waiting, and a comment makes the return go through.
    let v = rep
        .get_json(&format!("/api/v1/values/{e}/440311/2026"))
        .await;
    assert_eq!(v["status"], "submitted");
    let done = decide(&planner, "zh-CN", &e, version, "return", "请核实").await;
    assert!(
        done.contains(&row_id) && !done.contains("role=\"alert\""),
        "{done}"
    );
    let v = rep
        .get_json(&format!("/api/v1/values/{e}/440311/2026"))
        .await;
    assert_eq!(v["status"], "returned");
}

/// A page's status, content type and body, in a language.
async fn page(c: &Caller, path: &str, lang: &str) -> (StatusCode, String, String) {
    let r = c
        .request(Method::GET, path)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    // Attributes are escaped (`/` as `&#x2f;`); compare as the browser reads them.
    let html = r.text().await.unwrap().replace("&#x2f;", "/");
    (status, kind, html)
}

async fn errors_are_pages_naming_what_was_wrong(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;

    // A bad query parameter: named with its value, a link to the page without it.
    let path = format!("/plans/{gm}/dashboard");
    let (status, kind, html) = page(&planner, &format!("{path}?as_of=abc"), "zh-CN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(html.contains("<main"), "a whole page: {html}");
    assert!(html.contains("as_of") && html.contains("abc"), "{html}");
    assert!(!html.contains("Failed to deserialize"), "{html}");
    assert!(
        html.contains(&format!("href=\"{path}\"")),
        "a link back: {html}"
    );
    let (_, _, en) = page(&planner, &format!("{path}?as_of=abc"), "en").await;
    assert!(en.contains("as_of") && en.contains("abc"), "{en}");
    assert!(!en.contains("参数"), "English only: {en}");

    // A missing plan or round: said in words, with a link to the list.
    let (status, kind, html) = page(&planner, "/plans/999", "zh-CN").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(kind.starts_with("text/html"));
    assert!(html.contains("计划 999 不存在"), "{html}");
    assert!(!html.contains("未找到 plan"), "{html}");
    assert!(html.contains("href=\"/plans\""), "{html}");
    let (_, _, en) = page(&planner, "/plans/999", "en").await;
    assert!(en.contains("plan 999 not found"), "{en}");
    assert!(!en.contains("不存在"), "{en}");
    let (status, _, html) = page(&planner, "/rounds/999", "zh-CN").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("填报轮次 999 不存在"), "{html}");
    assert!(html.contains("href=\"/rounds\""), "{html}");
    // Not a number where an id belongs.
    let (status, kind, html) = page(&planner, "/plans/abc", "zh-CN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(html.contains("“abc”"), "{html}");

    // The API keeps its JSON errors.
    let r = planner.send(Method::GET, "/api/v1/plans/999", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let r = planner
        .send(
            Method::GET,
            &format!("/api/v1/plans/{gm}/evaluation?as_of=abc"),
            None,
        )
        .await;
    assert!(r.status().is_client_error());
    assert!(!r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

async fn the_approval_row_keeps_last_periods_value_and_names_people(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let (e, last, version) = submit_2026(&rep).await;
    let who = account("reporter-guangming");

    // In the queue: the reporter by name, the time as people write it.
    let html = planner.html("/approvals").await;
    let start = html
        .find(&format!("id=\"ap-{e}-440311-2026\""))
        .expect("the row in the queue");
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    assert!(row.contains(who.display_name), "{row}");
    assert!(!row.contains(&format!(">{}<", who.username)), "{row}");
    let time = row
        .split("<small class=\"muted\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("a time under the name");
    let shape: String = time
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99 99:99", "{time}");

    // After the decision the row still shows last period's value.
    let shown = format!("<td class=\"n muted\">{}</td>", num(last));
    assert!(row.contains(&shown), "before: {row}");
    let after = decide(&planner, "zh-CN", &e, version, "approve", "").await;
    assert!(after.contains(&shown), "after the decision: {after}");
    assert!(after.contains(who.display_name), "{after}");
}

async fn the_plan_page_shows_the_baselines_the_report_prints(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let ev = planner
        .get_json(&format!("/api/v1/plans/{gm}/evaluation?as_of=2025"))
        .await;
    let plan_area = ev["evaluation"]["plan_area"].clone();
    let html = planner.html(&format!("/plans/{gm}?as_of=2025")).await;
    let cells: Vec<&str> = html
        .split("<td class=\"baseline\">")
        .skip(1)
        .map(|s| s.split("</td>").next().unwrap())
        .collect();
    let mut checked = 0;
    for r in ev["evaluation"]["results"].as_array().unwrap() {
        if r["area"] != plan_area {
            continue;
        }
        let headline = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .max_by_key(|t| t["year"].as_i64());
        let Some(b) = headline.and_then(|h| h["baseline"].as_object()) else {
            continue;
        };
        let i = r["indicator"].as_u64().unwrap() as usize;
        let cell = cells[i];
        assert!(
            cell.contains(&num(b["value"].as_f64().unwrap()))
                && cell.contains(&b["year"].to_string()),
            "indicator {i}: {cell} vs {b:?}"
        );
        checked += 1;
    }
    assert!(checked > 0, "some indicator has a baseline");
}

async fn a_submitted_row_is_read_only_with_a_banner(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let rounds = rep.get_json("/api/v1/rounds").await;
    let gm = plan_id(&rep, "光明区").await;
    let round = rounds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["plan_id"] == gm && r["period"] == "2026")
        .expect("the open 2026 round of 光明区's plan")["id"]
        .as_i64()
        .unwrap();
    let form = format!("/rounds/{round}");
    let before = rep.html(&form).await;
    assert!(before.contains("id=\"entry\""), "{before}");
    assert!(!before.contains("class=\"locked "), "nothing submitted yet");
    assert!(!before.contains(&catalogue("zh", "uifix.form_some_locked")));

    submit_2026(&rep).await;
    let after = rep.html(&form).await;
    assert!(
        after.contains(&catalogue("zh", "uifix.form_some_locked")),
        "a banner says what is read-only: {after}"
    );
    let locked = after
        .split("<tr id=\"row-")
        .skip(1)
        .filter(|r| r.contains("class=\"locked"))
        .collect::<Vec<_>>();
    assert_eq!(locked.len(), 1, "the submitted row");
    assert!(
        locked[0]
            .split("<input")
            .skip(1)
            .all(|i| i.contains("disabled")),
        "every input of it disabled: {}",
        locked[0]
    );
}

async fn publishing_asks_for_confirmation(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let public = app.public();
    let public_path = format!("/api/v1/public/plans/{gm}");
    assert_eq!(
        public.send(Method::GET, &public_path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let post = |confirm: Option<&'static str>| {
        let mut form = vec![("status", "published"), ("as_of", "2025")];
        if let Some(c) = confirm {
            form.push(("confirm", c));
        }
        planner
            .request(Method::POST, &format!("/plans/{gm}/review/status"))
            .form(&form)
            .send()
    };
    let asked = post(None).await.unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    let html = asked.text().await.unwrap();
    assert!(html.contains("id=\"confirm-publish\""), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\""), "{html}");
    assert_eq!(
        public.send(Method::GET, &public_path, None).await.status(),
        StatusCode::NOT_FOUND,
        "not published before the confirmation"
    );
    let done = post(Some("yes")).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(!done
        .text()
        .await
        .unwrap()
        .contains("id=\"confirm-publish\""));
    assert_eq!(
        public.send(Method::GET, &public_path, None).await.status(),
        StatusCode::OK
    );
}

async fn a_new_account_defaults_to_the_least_right(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let html = admin.html("/admin").await;
    let select = html
        .split("<select id=\"nr\" name=\"role\">")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("the new user's role");
    let chosen = select
        .split("<option")
        .skip(1)
        .find(|o| o.contains("selected"))
        .or_else(|| select.split("<option").nth(1))
        .unwrap();
    assert!(chosen.contains("value=\"viewer\""), "{select}");
    // Grants read by area name, not code.
    assert!(html.contains("光明区"), "{html}");
}

async fn the_report_refuses_a_year_without_data(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    for year in [1900, 2026] {
        let r = planner
            .send(
                Method::GET,
                &format!("/api/v1/plans/{gm}/report?year={year}&format=html"),
                None,
            )
            .await;
        assert!(r.status().is_client_error(), "year {year}: {}", r.status());
        let body: Value = r.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&year.to_string()), "{message}");
    }
    let ok = planner
        .send(
            Method::GET,
            &format!("/api/v1/plans/{gm}/report?year=2025&format=html"),
            None,
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

/// A caller signed in as an account made in the story.
async fn sign_in_as(app: &TestApp, username: &str, password: &str) -> Caller {
    let client = app.client();
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.unwrap();
    Caller {
        base: app.base.clone(),
        client,
        csrf: me["csrf_token"].as_str().map(String::from),
        token: None,
    }
}

/// The departments the plans name are listed; a variant spelling merged into a department
/// (by an admin only) is that department for a grant naming it.
async fn departments_are_records_with_aliases(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    let doc = admin.get_json(&format!("/api/v1/plans/{gm}")).await;
    let lead = doc["document"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["element"] == e.as_str())
        .unwrap()["lead"]
        .as_str()
        .unwrap()
        .to_string();
    let list = |html: &str| {
        html.split("id=\"department-list\"")
            .nth(1)
            .and_then(|s| s.split("</table>").next())
            .expect("the department list")
            .to_string()
    };
    let html = admin.html("/admin").await;
    assert!(list(&html).contains(&lead), "the plans' {lead}: {html}");

    // An account whose grant names the department by another spelling.
    let variant = "光明区卫健局";
    let password = "Guangming-variant-2026";
    let r = admin
        .send(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "variant-reporter", "display_name": "别名填报员", "password": password,
                        "grants": [{"role": "reporter", "area": "440311", "departments": [variant]}]})),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let rep = sign_in_as(app, "variant-reporter", password).await;
    let path = format!("/api/v1/values/{e}/440311/2027");
    let put = |c: &Caller| {
        c.request(Method::PUT, &path)
            .json(&json!({"value": 1.0}))
            .send()
    };
    assert_eq!(put(&rep).await.unwrap().status(), StatusCode::FORBIDDEN);

    // Only an admin merges.
    let merge = |c: &Caller| {
        c.request(Method::POST, "/admin/departments/merge")
            .form(&[("variant", variant), ("department", lead.as_str())])
            .send()
    };
    let refused = merge(&app.sign_in("planner").await).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(put(&rep).await.unwrap().status(), StatusCode::FORBIDDEN);
    let done = merge(&admin).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.unwrap();
    assert!(
        html.contains(&catalogue("zh", "uifix.department_merged")),
        "{html}"
    );
    let row = list(&html)
        .split("<tr>")
        .find(|r| r.contains(variant))
        .expect("the variant listed")
        .to_string();
    assert!(row.contains(&lead), "listed under {lead}: {row}");
    assert_eq!(put(&rep).await.unwrap().status(), StatusCode::OK);
}

/// An attribute's value in one tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    tag.split(&format!(" {name}=\"")).nth(1)?.split('"').next()
}

/// The detector form's fields as a browser posts them: every number, checked switches.
fn detector_fields(html: &str) -> Vec<(String, String)> {
    let form = html
        .split("id=\"detector-form\"")
        .nth(1)
        .and_then(|s| s.split("</form>").next())
        .expect("the detector form");
    let mut out = vec![];
    for tag in form.split("<input").skip(1) {
        let tag = tag.split('>').next().unwrap();
        let Some(name) = attr(tag, "name").filter(|n| n.starts_with("s.")) else {
            continue;
        };
        if attr(tag, "type") == Some("checkbox") && !tag.contains(" checked") {
            continue;
        }
        out.push((
            name.to_string(),
            attr(tag, "value").unwrap_or("").to_string(),
        ));
    }
    out
}

async fn detector_settings_are_a_form_with_a_field_each(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let html = admin.html("/surveillance").await;
    let fields = detector_fields(&html);
    assert!(fields.len() > 5, "a field per setting: {fields:?}");
    // The TOML stays, as the advanced view.
    assert!(html.contains("id=\"s-toml\""), "{html}");
    // A decimal field to change.
    let (name, value) = fields
        .iter()
        .find(|(n, v)| n.ends_with(".threshold") && v.parse::<f64>().is_ok())
        .cloned()
        .expect("a threshold");
    let post = |c: &Caller, fields: Vec<(String, String)>| {
        c.request(Method::POST, "/surveillance/settings/form")
            .form(&fields)
            .send()
    };
    let with = |v: &str| {
        fields
            .iter()
            .map(|(n, x)| {
                (
                    n.clone(),
                    if *n == name { v.to_string() } else { x.clone() },
                )
            })
            .collect::<Vec<_>>()
    };
    // Not a number: refused, naming the field; nothing changes.
    let r = post(&admin, with("abc")).await.unwrap();
    let page = r.text().await.unwrap();
    let path = name.trim_start_matches("s.");
    assert!(page.contains(path) && page.contains("abc"), "{page}");
    assert_eq!(detector_fields(&admin.html("/surveillance").await), fields);
    // Someone else: refused.
    let planner = app.sign_in("planner").await;
    let r = post(&planner, with("9")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A new value: saved, and shown in the form and the TOML.
    let new = format!("{}", value.parse::<f64>().unwrap() + 0.5);
    let r = post(&admin, with(&new)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after = detector_fields(&r.text().await.unwrap());
    let expected = with(&new);
    assert_eq!(after, expected);
}
