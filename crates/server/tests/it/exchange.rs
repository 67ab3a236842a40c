//! DHIS2 exchange over HTTP: the stored mapping table, DHIS2 JSON and ADX out of the demo and
//! into a fresh server with every value compared, refused files that write nothing, skipped
//! bad rows, and who may import and edit the mapping.

use crate::common::{element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use healthplan_core::{Period, Value};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value as Json};

stories!(
    dhis2_json_and_adx_round_trip_into_a_fresh_server,
    an_unmapped_code_is_named_and_nothing_is_written,
    skipping_bad_rows_writes_the_rest,
    a_reporter_imports_only_its_own_areas,
    only_planners_and_admins_edit_the_mapping,
    the_page_edits_the_table_and_imports_files,
);

type Row = (String, String, Period, Value, Option<String>);

/// Every stored value as (element, area, period, value, comment), sorted.
async fn stored(app: &TestApp) -> Vec<Row> {
    let scope = app.app.local_caps("test").reader();
    let mut v: Vec<Row> = app
        .app
        .store()
        .list_data_values(&scope, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.element, d.area.to_string(), d.period, d.value, d.comment))
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    v
}

async fn value_count(app: &TestApp) -> i64 {
    app.app
        .store()
        .row_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t == "data_values")
        .unwrap()
        .1
}

/// A mapping that renames every area (`OU_…`) and every element with its ratio parts
/// (`D_…`), so nothing reaches the other side under its local code by accident.
async fn renaming_table(c: &Caller) -> Json {
    let mut rows = Vec::new();
    for e in c.get_json("/api/v1/elements").await.as_array().unwrap() {
        let code = e["code"].as_str().unwrap();
        for part in ["", ".num", ".den"] {
            rows.push(
                json!({"kind": "element", "local_code": format!("{code}{part}"),
                "dhis2_code": format!("D_{code}{part}")}),
            );
        }
    }
    for a in c.get_json("/api/v1/areas").await.as_array().unwrap() {
        let code = a["code"].as_str().unwrap();
        rows.push(
            json!({"kind": "org_unit", "local_code": code, "dhis2_code": format!("OU_{code}")}),
        );
    }
    Json::Array(rows)
}

async fn put_mapping(c: &Caller, rows: &Json) -> reqwest::Response {
    c.send(Method::PUT, "/api/v1/exchange/mapping", Some(rows.clone()))
        .await
}

async fn export(c: &Caller, query: &str) -> Vec<u8> {
    let r = c
        .send(
            Method::GET,
            &format!("/api/v1/exchange/values?{query}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "export {query}");
    r.bytes().await.unwrap().to_vec()
}

async fn import(c: &Caller, query: &str, body: Vec<u8>) -> (StatusCode, Json) {
    let r = c
        .request(Method::POST, &format!("/api/v1/exchange/values?{query}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn dhis2_json_and_adx_round_trip_into_a_fresh_server(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let admin = app.sign_in("admin").await;
    let table = renaming_table(&admin).await;
    let r = put_mapping(&planner, &table).await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = admin.get_json("/api/v1/exchange/mapping").await;
    assert_eq!(
        got.as_array().unwrap().len(),
        table.as_array().unwrap().len()
    );
    let original = stored(app).await;
    assert!(original.len() > 100, "the demo has values");

    for (format, marker) in [("dhis2-json", "\"dataValues\""), ("adx", "<adx")] {
        let file = export(&admin, &format!("format={format}")).await;
        eprintln!("{format}: {} values, {} bytes", original.len(), file.len());
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(text.contains(marker), "{format}");
        assert!(
            text.contains("OU_440300") && text.contains("D_"),
            "{format}: mapped codes"
        );
        assert!(
            !text.contains("\"440300\""),
            "{format}: no local area code leaks"
        );

        let fresh = app.spawn_blank_like().await;
        let fresh_admin = fresh.sign_in("admin").await;
        assert_eq!(value_count(&fresh).await, 0);
        // Without the table the DHIS2 codes are unknown: refused whole, nothing written.
        let (status, body) = import(&fresh_admin, &format!("format={format}"), file.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "rejected");
        assert_eq!(value_count(&fresh).await, 0);

        assert_eq!(
            put_mapping(&fresh_admin, &table).await.status(),
            StatusCode::OK
        );
        let (status, body) = import(&fresh_admin, &format!("format={format}"), file).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["inserted"].as_u64().unwrap() as usize, original.len());
        assert!(body["skipped"].as_array().unwrap().is_empty());
        let back = stored(&fresh).await;
        assert_eq!(back.len(), original.len(), "{format}");
        for (a, b) in original.iter().zip(&back) {
            assert_eq!(a, b, "{format}");
        }
        fresh.stop().await;
    }

    // A plan's export holds only its elements, in its area.
    let gm = plan_id(&admin, "光明区").await;
    let file = export(&admin, &format!("format=dhis2-json&plan={gm}")).await;
    let doc: Json = serde_json::from_slice(&file).unwrap();
    let rows = doc["dataValues"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["orgUnit"].as_str().unwrap().starts_with("OU_440311")));
}

/// A file of two values for the Guangming plan's health element in 2027: one good, one whose
/// second row names `bad_element`.
fn two_values(element: &str, bad_element: &str, second_area: &str) -> Vec<u8> {
    json!({"dataValues": [
        {"dataElement": element, "orgUnit": "440311", "period": "2027", "value": "10"},
        {"dataElement": bad_element, "orgUnit": second_area, "period": "2027", "value": "11"},
    ]})
    .to_string()
    .into_bytes()
}

async fn an_unmapped_code_is_named_and_nothing_is_written(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    // Once the element kind has rows, every element must be mapped.
    let table = json!([{"kind": "element", "local_code": e, "dhis2_code": e}]);
    assert_eq!(put_mapping(&admin, &table).await.status(), StatusCode::OK);
    let before = value_count(app).await;
    for format in ["dhis2-json"] {
        let (status, body) = import(
            &admin,
            &format!("format={format}"),
            two_values(&e, "DE_NOT_THERE", "440311"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err = &body["error"];
        assert_eq!(err["code"], "rejected");
        assert!(
            err["message"].as_str().unwrap().contains("DE_NOT_THERE"),
            "{err}"
        );
        let rows = err["rows"]["errors"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{err}");
        assert_eq!(rows[0]["code"], "unmapped_element");
        assert_eq!(rows[0]["place"], "dataValues[1]");
        assert!(rows[0]["message"]
            .as_str()
            .unwrap()
            .contains("DE_NOT_THERE"));
        assert_eq!(err["rows"]["unmapped"][0]["code"], "DE_NOT_THERE");
    }
    // ADX names it too.
    let adx = format!(
        r#"<adx xmlns="urn:ihe:qrph:adx:2015"><group orgUnit="440311" period="2027-01-01/P1Y">
<dataValue dataElement="{e}" value="10"/><dataValue dataElement="DE_ADX_X" value="3"/></group></adx>"#
    );
    let (status, body) = import(&admin, "format=adx", adx.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DE_ADX_X"),
        "{body}"
    );
    assert_eq!(value_count(app).await, before, "nothing written");
    // English messages on request.
    let r = admin
        .request(Method::POST, "/api/v1/exchange/values?format=dhis2-json")
        .header("Accept-Language", "en")
        .body(two_values(&e, "DE_NOT_THERE", "440311"))
        .send()
        .await
        .unwrap();
    let body: Json = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing imported"),
        "{body}"
    );
    assert!(body["error"]["rows"]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not mapped"));
}

async fn skipping_bad_rows_writes_the_rest(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    let table = json!([{"kind": "element", "local_code": e, "dhis2_code": "HEALTH_1"}]);
    assert_eq!(put_mapping(&admin, &table).await.status(), StatusCode::OK);
    let before = value_count(app).await;
    let (status, body) = import(
        &admin,
        "format=dhis2-json&skip_bad_rows=true",
        two_values("HEALTH_1", "NOPE", "440311"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1);
    let skipped = body["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["code"], "unmapped_element");
    assert!(skipped[0]["en"].as_str().unwrap().contains("NOPE"));
    assert_eq!(value_count(app).await, before + 1);
    let v = admin
        .get_json(&format!("/api/v1/values/{e}/440311/2027"))
        .await;
    assert_eq!(v["value"]["value"], 10.0, "{v}");
}

async fn a_reporter_imports_only_its_own_areas(app: &TestApp) {
    let rep = app.sign_in("reporter-guangming").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = element_led_by(&rep, gm, "卫生健康").await;
    let before = value_count(app).await;
    // The second row is Pingshan's, outside the reporter's district.
    let (status, body) = import(&rep, "format=dhis2-json", two_values(&e, &e, "440310")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let rows = body["error"]["rows"]["errors"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["code"], "not_allowed");
    assert_eq!(rows[0]["place"], "dataValues[1]");
    assert!(rows[0]["message"].as_str().unwrap().contains("440310"));
    assert_eq!(value_count(app).await, before, "nothing written");

    // Its own area only: saved as a draft.
    let own = json!({"dataValues": [
        {"dataElement": e, "orgUnit": "440311", "period": "2027", "value": "12"}]});
    let (status, body) = import(&rep, "format=dhis2-json", own.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1);
    let v = rep
        .get_json(&format!("/api/v1/values/{e}/440311/2027"))
        .await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["value"]["value"], 12.0);

    // Its export holds its areas only; a viewer may export but not import.
    let file = export(&rep, "format=dhis2-json").await;
    let doc: Json = serde_json::from_slice(&file).unwrap();
    assert!(doc["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["orgUnit"].as_str().unwrap().starts_with("440311")));
    let viewer = app.sign_in("viewer").await;
    let (status, _) = import(&viewer, "format=dhis2-json", own.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = app
        .public()
        .send(Method::GET, "/api/v1/exchange/values?format=adx", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn only_planners_and_admins_edit_the_mapping(app: &TestApp) {
    let table = json!([{"kind": "org_unit", "local_code": "440300", "dhis2_code": "OU_SZ"}]);
    for who in ["viewer", "reporter-guangming"] {
        let c = app.sign_in(who).await;
        let r = put_mapping(&c, &table).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
        assert!(c
            .get_json("/api/v1/exchange/mapping")
            .await
            .as_array()
            .unwrap()
            .is_empty());
    }
    let planner = app.sign_in("planner").await;
    assert_eq!(put_mapping(&planner, &table).await.status(), StatusCode::OK);
    // A DHIS2 code mapped twice: refused, naming the row; the table stays.
    let twice = json!([
        {"kind": "org_unit", "local_code": "440300", "dhis2_code": "OU_X"},
        {"kind": "org_unit", "local_code": "440310", "dhis2_code": "OU_X"},
    ]);
    let r = put_mapping(&planner, &twice).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Json = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("第 2 行"),
        "{body}"
    );
    let viewer = app.sign_in("viewer").await;
    let now = viewer.get_json("/api/v1/exchange/mapping").await;
    assert_eq!(
        now,
        json!([{"kind": "org_unit", "local_code": "440300", "dhis2_code": "OU_SZ"}])
    );
    // The export follows the stored table: once org units have rows, an area without one
    // refuses the export, naming it.
    let r = viewer
        .send(
            Method::GET,
            "/api/v1/exchange/values?format=adx&area=440300&from=2024&to=2024",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Json = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("440311"),
        "{body}"
    );
}

async fn the_page_edits_the_table_and_imports_files(app: &TestApp) {
    let viewer = app.sign_in("viewer").await;
    let r = viewer.send(Method::GET, "/exchange", None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let home = viewer
        .send(Method::GET, "/", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !home.contains("href=\"/exchange\""),
        "no menu entry for a viewer"
    );

    let planner = app.sign_in("planner").await;
    let html = planner
        .send(Method::GET, "/exchange", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("DHIS2 数据交换") && html.contains("映射表为空"));
    // One row through the form (the CSRF token as a form field).
    let r = planner
        .request(Method::POST, "/exchange/mapping/row")
        .form(&[
            ("csrf", planner.csrf.clone().unwrap().as_str()),
            ("kind", "org_unit"),
            ("local_code", "440311"),
            ("dhis2_code", "OU_GM"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("映射已保存") && html.contains("OU_GM"),
        "{html:.2000}"
    );
    // A CSV replaces the table; a bad one names its line and changes nothing.
    let upload = |text: &'static str| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(text.as_bytes()).file_name("map.csv"),
        )
    };
    let r = planner
        .request(Method::POST, "/exchange/mapping/upload")
        .multipart(upload(
            "kind,local_code,dhis2_code\norg_unit,440311,A\norg_unit,440310,A\n",
        ))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("line 3"), "{html:.3000}");
    let now = planner.get_json("/api/v1/exchange/mapping").await;
    assert_eq!(now[0]["dhis2_code"], "OU_GM");
    let r = planner
        .request(Method::POST, "/exchange/mapping/upload")
        .multipart(upload(
            "kind,local_code,dhis2_code\norg_unit,440311,OU_GM2\n",
        ))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("映射表已替换"));
    assert_eq!(
        planner.get_json("/api/v1/exchange/mapping").await[0]["dhis2_code"],
        "OU_GM2"
    );
    let csv = planner
        .send(Method::GET, "/exchange/mapping.csv", None)
        .await;
    assert_eq!(
        csv.text().await.unwrap(),
        "kind,local_code,dhis2_code\norg_unit,440311,OU_GM2\n"
    );

    // Planners edit the table but import no values; an admin does, from the same page.
    assert!(html_of(&planner, "/exchange")
        .await
        .contains("导入数据需要填报或管理员权限"));
    let admin = app.sign_in("admin").await;
    assert!(html_of(&admin, "/exchange")
        .await
        .contains("action=\"/exchange/values\""));
    // A values file with an unmapped org unit: the page lists the row, nothing is written.
    let before = value_count(app).await;
    let file = json!({"dataValues": [
        {"dataElement": "X", "orgUnit": "OU_NOWHERE", "period": "2027", "value": "1"}]});
    let form = reqwest::multipart::Form::new()
        .text("format", "dhis2-json")
        .part(
            "file",
            reqwest::multipart::Part::bytes(file.to_string().into_bytes()).file_name("in.json"),
        );
    let html = admin
        .request(Method::POST, "/exchange/values")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("OU_NOWHERE") && html.contains("dataValues[0]"),
        "{html:.3000}"
    );
    assert_eq!(value_count(app).await, before);
}

async fn html_of(c: &Caller, path: &str) -> String {
    let r = c.send(Method::GET, path, None).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}
