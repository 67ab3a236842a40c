//! Daily use: each role's home, search (pinyin initials too) within the caller's scope,
//! filters on alerts and approvals kept in the address, bulk review under the per-value
//! rules, and breadcrumbs back to the home page.

use crate::common::{plan_id, urlencode, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    bulk_review_decides_each_value_under_the_rules,
    search_finds_pinyin_initials_within_the_scope,
    filters_narrow_alerts_and_approvals_and_stay_in_the_address,
    each_role_opens_on_its_own_work,
    every_page_leads_back_home,
);

/// The open round of the Guangming plan and the reporter's plain-number cells in it.
async fn guangming_form(rep: &Caller) -> (i64, String, Vec<Value>) {
    let gm = plan_id(rep, "光明区").await;
    let rounds = rep.get_json("/api/v1/rounds").await;
    let round = rounds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["plan_id"] == gm && r["open"] == true)
        .expect("an open round of the Guangming plan")
        .clone();
    let id = round["id"].as_i64().unwrap();
    let form = rep.get_json(&format!("/api/v1/rounds/{id}/form")).await;
    let rows: Vec<Value> = form["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ratio"] == false && r["area"] == "440311")
        .cloned()
        .collect();
    assert!(rows.len() >= 4, "the reporter has cells to fill: {rows:?}");
    (id, round["period"].as_str().unwrap().to_string(), rows)
}

/// Submits `n` values of the form (last year's value, so no jump warning); their keys.
async fn submit(rep: &Caller, period: &str, rows: &[Value]) -> Vec<String> {
    let mut keys = Vec::new();
    for r in rows {
        let e = r["element"].as_str().unwrap();
        let value = r["last"].as_f64().unwrap_or(1.0);
        let path = format!("/api/v1/values/{e}/440311/{period}");
        let res = rep
            .send(
                Method::PUT,
                &path,
                Some(json!({"value": value, "status": "submitted", "comment": "已核实"})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "submit {path}");
        keys.push(path);
    }
    keys
}

async fn status_of(c: &Caller, path: &str) -> (String, i64) {
    let v = c.get_json(path).await;
    (
        v["status"].as_str().unwrap().to_string(),
        v["version"].as_i64().unwrap(),
    )
}

/// A page's HTML with the escapes of `/` and `&` undone, to look for addresses in it.
async fn fetch(c: &Caller, path: &str) -> String {
    c.html(path)
        .await
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

fn selection(path: &str, version: i64) -> Value {
    // /api/v1/values/{element}/{area}/{period}
    let p: Vec<&str> = path
        .trim_start_matches("/api/v1/values/")
        .split('/')
        .collect();
    json!({"element": p[0], "area": p[1], "period": p[2], "version": version})
}

async fn bulk_review_decides_each_value_under_the_rules(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let (round, period, rows) = guangming_form(&rep).await;
    let keys = submit(&rep, &period, &rows[..3]).await;

    // A reporter may not review; a return needs a comment; nothing changed by either.
    let r = rep
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "approve", "round": round, "area": "440311"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = planner
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "return", "round": round, "area": "440311"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for k in &keys {
        assert_eq!(status_of(&rep, k).await.0, "submitted");
    }

    // Another city's planner: the form is not theirs to see, and a chosen value is refused
    // and left as it was.
    let yunfu = app.sign_in("planner-yunfu").await;
    let r = yunfu
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "approve", "round": round, "area": "440311"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, v0) = status_of(&rep, &keys[0]).await;
    let r = yunfu
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "approve", "values": [selection(&keys[0], v0)]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["done"].as_array().unwrap().len(), 0);
    assert_eq!(body["refused"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(status_of(&rep, &keys[0]).await.0, "submitted");

    // Four eyes, per value: the administrator submits one value and cannot approve it in a
    // bulk action, while the reporter's values in the same selection pass.
    let admin = app.sign_in("admin").await;
    let own = submit(&admin, &period, &rows[3..4]).await;
    let mut sel = Vec::new();
    for k in keys.iter().take(2).chain(own.iter()) {
        sel.push(selection(k, status_of(&rep, k).await.1));
    }
    let r = admin
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "approve", "values": sel})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["done"].as_array().unwrap().len(), 2, "{body}");
    let refused = body["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{body}");
    assert!(refused[0]["key"]
        .as_str()
        .unwrap()
        .contains(rows[3]["element"].as_str().unwrap()));
    assert_eq!(refused[0]["error"]["error"]["code"], "forbidden");
    assert_eq!(status_of(&rep, &own[0]).await.0, "submitted");
    for k in keys.iter().take(2) {
        assert_eq!(status_of(&rep, k).await.0, "approved");
    }

    // The whole form: what is still submitted in 440311 for the round, the admin's own
    // value refused (four eyes), the third reporter value approved by the planner.
    let r = planner
        .send(
            Method::POST,
            "/api/v1/values/bulk-review",
            Some(json!({"decision": "return", "round": round, "area": "440311", "comment": "请补充数据来源"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let done: Vec<&str> = body["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["element"].as_str().unwrap())
        .collect();
    assert_eq!(
        done.len(),
        2,
        "the reporter's third value and the admin's: {body}"
    );
    assert!(body["refused"].as_array().unwrap().is_empty(), "{body}");
    let (s, _) = status_of(&rep, &keys[2]).await;
    assert_eq!(s, "returned");
    let v = rep.get_json(&keys[2]).await;
    assert_eq!(v["review_comment"], "请补充数据来源");

    // One audit entry per value decided: the history of each approved value has exactly one
    // entry moving it to approved.
    for k in keys.iter().take(2) {
        let h = rep.get_json(&format!("{k}/history")).await;
        let approvals = h
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["after"]["status"] == "approved")
            .count();
        assert_eq!(approvals, 1, "{k}: {h}");
    }

    // The page: ticked rows approved through the form, then the result page.
    let (_, v) = status_of(&rep, &keys[2]).await;
    let fixed = rep
        .request(Method::PUT, &keys[2])
        .header("If-Match", format!("\"{v}\""))
        .json(&json!({"value": rows[2]["last"].as_f64().unwrap_or(1.0), "status": "submitted", "comment": "已补充"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), StatusCode::OK);
    let queue = fetch(&planner, "/approvals?area=440311").await;
    assert!(queue.contains("name=\"sel\""), "rows can be ticked");
    let (_, v) = status_of(&rep, &keys[2]).await;
    let sel = selection(&keys[2], v);
    let value = format!(
        "{}|{}|{}|{}",
        sel["element"].as_str().unwrap(),
        sel["area"].as_str().unwrap(),
        sel["period"].as_str().unwrap(),
        v
    );
    let page = planner
        .request(Method::POST, "/approvals/bulk")
        .form(&[
            ("decision", "approve"),
            ("sel", value.as_str()),
            ("back", "/approvals?area=440311"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("已通过 1 条数据"), "{html}");
    assert_eq!(status_of(&rep, &keys[2]).await.0, "approved");
}

async fn search_finds_pinyin_initials_within_the_scope(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let hits = planner.get_json("/api/v1/search?q=ylws").await;
    let hits = hits.as_array().unwrap();
    assert!(
        hits.iter()
            .any(|h| h["title"].as_str().unwrap().contains("医疗卫生")),
        "ylws finds 医疗卫生: {hits:?}"
    );
    let chinese = planner
        .get_json(&format!("/api/v1/search?q={}", urlencode("光明")))
        .await;
    assert!(
        chinese
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "area" && h["title"] == "光明区"),
        "{chinese}"
    );
    // The same words from another city's accounts find nothing of Shenzhen's.
    for who in ["planner-yunfu", "reporter-yuncheng"] {
        let c = app.sign_in(who).await;
        let hits = c
            .get_json(&format!("/api/v1/search?q={}", urlencode("光明区")))
            .await;
        assert_eq!(hits, json!([]), "{who} sees nothing of Guangming");
        let hits = c.get_json("/api/v1/search?q=gmq").await;
        assert!(
            hits.as_array().unwrap().iter().all(|h| !h["context"]
                .as_str()
                .unwrap()
                .contains("深圳")
                && !h["title"].as_str().unwrap().contains("光明区")),
            "{who}: {hits}"
        );
    }
    let shenzhen_plan = planner
        .get_json(&format!("/api/v1/search?q={}", urlencode("深圳")))
        .await;
    assert!(!shenzhen_plan.as_array().unwrap().is_empty());
    let yunfu = app.sign_in("reporter-yuncheng").await;
    let theirs = yunfu
        .get_json(&format!("/api/v1/search?q={}", urlencode("云城")))
        .await;
    assert!(!theirs.as_array().unwrap().is_empty(), "own area found");
    // Signed out: no search.
    let r = app
        .public()
        .send(Method::GET, "/api/v1/search?q=ylws", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The page: a box in the top bar on every page, results linked.
    let home = fetch(&planner, "/").await;
    assert!(home.contains("action=\"/search\""));
    let page = fetch(&planner, "/search?q=ylws").await;
    assert!(page.contains("医疗卫生"), "{page}");
    assert!(page.contains("href=\"/plans/"));
    let none = fetch(&planner, "/search?q=zzzzqqqq").await;
    assert!(none.contains("没有找到相关内容"));
}

/// Articles of the alerts page by severity class.
fn alert_levels(html: &str) -> Vec<String> {
    html.split("<article class=\"card alert lv-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

async fn filters_narrow_alerts_and_approvals_and_stay_in_the_address(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let r = planner
        .send(Method::POST, "/api/v1/alerts/check", Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The API's list (every status) is the truth the page's filters are checked against.
    let alerts: Value = planner.get_json("/api/v1/alerts").await;
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty(), "the check raised alerts on the demo");
    // Codes below a city share its first four digits; below a district, its six.
    let within = |a: &Value, prefix: &str| a["area"].as_str().unwrap().starts_with(prefix);
    for (area, prefix) in [("440300", "4403"), ("440311", "440311")] {
        let all = alert_levels(
            &fetch(
                &planner,
                &format!("/alerts?status=all&per_page=100&area={area}"),
            )
            .await,
        );
        let expected = alerts.iter().filter(|a| within(a, prefix)).count();
        assert_eq!(all.len(), expected.min(100), "{area}");
        for level in ["info", "warning", "critical"] {
            let page = fetch(
                &planner,
                &format!("/alerts?status=all&per_page=100&area={area}&level={level}"),
            )
            .await;
            let got = alert_levels(&page);
            assert!(got.iter().all(|l| l == level), "{level}: {got:?}");
            let expected = alerts
                .iter()
                .filter(|a| within(a, prefix) && a["level"] == level)
                .count();
            assert_eq!(got.len(), expected.min(100), "{area} {level}");
            // The choice stays in the form and in the status tabs' links.
            assert!(page.contains(&format!("<option value=\"{level}\" selected>")));
            assert!(page.contains(&format!("status=open&area={area}&level={level}")));
        }
    }
    // A malformed filter is ignored, not an error.
    let r = planner
        .request(Method::GET, "/alerts?level=bogus&plan=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Approvals: the reporter's submissions show under its area, not another's, and under
    // the round and the lead department.
    let rep = app.sign_in("reporter-guangming").await;
    let (round, period, rows) = guangming_form(&rep).await;
    submit(&rep, &period, &rows[..2]).await;
    let name = rows[0]["name"].as_str().unwrap();
    let mine = fetch(&planner, "/approvals?area=440311").await;
    assert!(mine.contains(name), "{name} in the queue of 440311");
    let other = fetch(&planner, "/approvals?area=440306").await;
    assert!(!other.contains(name));
    let by_round = fetch(&planner, &format!("/approvals?round={round}&area=440311")).await;
    assert!(by_round.contains(name));
    assert!(by_round.contains("整表通过"), "a whole form can be decided");
    let lead = rows[0]["lead"].as_str().unwrap_or("区卫生健康局");
    let by_dept = fetch(
        &planner,
        &format!("/approvals?department={}", urlencode(lead)),
    )
    .await;
    assert!(by_dept.contains(name), "{lead}");
    let by_other = fetch(
        &planner,
        &format!("/approvals?department={}", urlencode("区教育局")),
    )
    .await;
    assert!(!by_other.contains(name));
    // Tabs keep the filters.
    let tabs = by_round.split("<nav class=\"tabs\"").nth(1).unwrap();
    let tabs = tabs.split("</nav>").next().unwrap();
    assert!(
        tabs.contains(&format!("status=returned&round={round}&area=440311")),
        "tabs keep filters: {tabs}"
    );
}

async fn each_role_opens_on_its_own_work(app: &TestApp) {
    let viewer = app.sign_in("viewer").await;
    let first = fetch(&viewer, "/").await;
    assert!(
        first.contains("id=\"home-status-data\""),
        "the leader's chart"
    );
    assert!(first.contains("指标进展"));
    assert!(first.contains("最需关注的指标"));
    assert!(
        !first.contains("自上次访问以来"),
        "no changes on a first visit"
    );
    assert!(
        !first.contains("id=\"h-due\""),
        "a viewer has nothing to fill"
    );

    let rep = app.sign_in("reporter-guangming").await;
    let page = fetch(&rep, "/").await;
    assert!(page.contains("id=\"h-due\""));
    let (round, period, rows) = guangming_form(&rep).await;
    assert!(page.contains(&format!("href=\"/rounds/{round}\"")));
    assert!(
        !page.contains("id=\"h-kpi\""),
        "a reporter's home is its work"
    );
    let keys = submit(&rep, &period, &rows[..2]).await;

    let planner = app.sign_in("planner").await;
    let home = fetch(&planner, "/").await;
    assert!(
        home.contains(&format!("/approvals?area=440311&period={period}")),
        "the queue by area"
    );
    assert!(home.contains("id=\"h-late\""));
    let (_, v) = status_of(&rep, &keys[0]).await;
    let r = planner
        .send(
            Method::POST,
            &format!("{}/return", keys[0]),
            Some(json!({"version": v, "comment": "口径不一致，请核实"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, v) = status_of(&rep, &keys[1]).await;
    let r = planner
        .send(
            Method::POST,
            &format!("{}/approve", keys[1]),
            Some(json!({"version": v})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let page = fetch(&rep, "/").await;
    assert!(
        page.contains("口径不一致，请核实"),
        "the returned value and why"
    );
    assert!(
        page.contains(&format!("/rounds/{round}#row-")),
        "linked to the form's row"
    );

    let again = fetch(&viewer, "/").await;
    assert!(again.contains("自上次访问以来"));
    assert!(
        again.contains("<span class=\"big\">1</span> 条数据通过"),
        "one approval since"
    );
    assert!(
        again.contains("<span class=\"big\">1</span> 条数据退回"),
        "one return since"
    );

    // Server time of each home, printed for the notes (debug build; not asserted).
    for (who, c) in [
        ("viewer", &viewer),
        ("reporter", &rep),
        ("planner", &planner),
    ] {
        let t = std::time::Instant::now();
        let r = c.request(Method::GET, "/").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        eprintln!("home of {who} ({}): {:?}", app.backend(), t.elapsed());
    }
    // A deadline passed: the planner sees the round late, the reporter sees it overdue.
    // Sessions idle out when the clock jumps; personal tokens do not.
    let planner = app.with_token("planner").await;
    let rep = app.with_token("reporter-guangming").await;
    app.app
        .clock()
        .advance(std::time::Duration::from_secs(86_400 * 100));
    let home = fetch(&planner, "/").await;
    let late = home.split("id=\"h-late\"").nth(1).unwrap_or(&home);
    assert!(
        late.contains(&format!("href=\"/rounds/{round}/overview\"")),
        "late round listed: {}",
        &late[..late.len().min(3000)]
    );
    let page = fetch(&rep, "/").await;
    assert!(page.contains("已逾期"));
}

async fn every_page_leads_back_home(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let rounds = planner.get_json("/api/v1/rounds").await;
    let round = rounds[0]["id"].as_i64().unwrap();
    for path in [
        "/plans".to_string(),
        format!("/plans/{gm}"),
        format!("/plans/{gm}/dashboard"),
        format!("/plans/{gm}/indicators/0"),
        "/rounds".to_string(),
        format!("/rounds/{round}/overview"),
        "/approvals".to_string(),
        "/alerts".to_string(),
        "/surveillance".to_string(),
        "/search?q=ylws".to_string(),
        "/account".to_string(),
    ] {
        let html = fetch(&planner, &path).await;
        let crumbs = html
            .split("<nav class=\"crumbs\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{path}: no breadcrumbs"));
        let crumbs = crumbs.split("</nav>").next().unwrap();
        assert!(
            crumbs.contains("<a href=\"/\">工作台</a>"),
            "{path}: {crumbs}"
        );
        assert!(crumbs.contains("aria-current=\"page\""), "{path}: {crumbs}");
    }
    let html = fetch(&planner, &format!("/plans/{gm}/dashboard")).await;
    let crumbs = html.split("<nav class=\"crumbs\"").nth(1).unwrap();
    assert!(
        crumbs.contains(&format!("<a href=\"/plans/{gm}\">")),
        "the plan, by title"
    );
    assert!(crumbs.split("</nav>").next().unwrap().contains("光明"));
}
