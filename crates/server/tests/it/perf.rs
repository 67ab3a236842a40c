//! Speed without staleness: evaluations are cached, and a change to what they read shows at
//! once; assets are compressed and cached for a year under content-hashed names.

use crate::common::{element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(
    the_dashboard_shows_an_approval_at_once,
    assets_are_compressed_and_immutable
);

/// What the dashboard cell of `index` × `area` shows.
async fn cell(c: &Caller, plan: i64, index: usize, area: &str, as_of: i32) -> String {
    let html = c
        .html(&format!("/plans/{plan}/dashboard?as_of={as_of}"))
        .await;
    let anchor = format!("/plans/{plan}/indicators/{index}?area={area}&as_of={as_of}\"");
    let at = html
        .find(&anchor)
        .unwrap_or_else(|| panic!("no cell {index} × {area} in the dashboard"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].to_string()
}

async fn version(c: &Caller, path: &str) -> i64 {
    let v: Value = c.get_json(path).await;
    v["version"].as_i64().unwrap()
}

async fn the_dashboard_shows_an_approval_at_once(app: &TestApp) {
    const YEAR: i32 = healthplan_app::demo::LAST_YEAR;
    let rep = app.sign_in("reporter-guangming").await;
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&rep, "光明区").await;
    let e = element_led_by(&rep, gm, "卫生健康").await;
    let doc = planner.get_json(&format!("/api/v1/plans/{gm}")).await;
    let index = doc["document"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|i| i["element"] == e.as_str())
        .unwrap();
    let path = format!("/api/v1/values/{e}/440311/{YEAR}");
    let stored: Value = planner.get_json(&path).await;
    assert_eq!(stored["status"], "approved", "the demo approved {path}");
    let old = stored["value"]["value"].as_f64().unwrap();
    let shown = cell(&planner, gm, index, "440311", YEAR).await;
    assert_eq!(
        shown,
        healthplan_core::number::num(old),
        "before any change"
    );
    // Twice: the second answer comes from the cache and must be the same.
    assert_eq!(cell(&planner, gm, index, "440311", YEAR).await, shown);

    // Reopened, the value no longer counts.
    let v = version(&planner, &path).await;
    let r = planner
        .send(
            Method::POST,
            &format!("{path}/reopen"),
            Some(json!({"version": v, "comment": "请复核"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new = if old < 50.0 { old + 3.21 } else { old - 3.21 };
    let new_text = healthplan_core::number::num(new);
    let r = rep
        .request(Method::PUT, &path)
        .header("If-Match", format!("\"{}\"", version(&rep, &path).await))
        .json(&json!({"value": new, "status": "submitted", "comment": "已复核更正"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Submitted is not approved: the evaluation does not read it yet.
    assert_ne!(cell(&planner, gm, index, "440311", YEAR).await, new_text);
    let v = version(&planner, &path).await;
    let r = planner
        .send(
            Method::POST,
            &format!("{path}/approve"),
            Some(json!({"version": v})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The very next request shows it: the approval invalidated the cached evaluation.
    assert_eq!(cell(&planner, gm, index, "440311", YEAR).await, new_text);
    // And through the API's evaluation too.
    let ev = planner
        .get_json(&format!("/api/v1/plans/{gm}/evaluation?as_of={YEAR}"))
        .await;
    let text = ev.to_string();
    assert!(
        text.contains(&format!("{new}")),
        "the API evaluation shows {new}"
    );
}

/// Pages link assets by content-hashed names; those answer compressed (brotli or gzip, as
/// accepted) and cacheable for a year; the plain name still answers, briefly cached.
async fn assets_are_compressed_and_immutable(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let html = planner.html(&format!("/plans/{gm}/indicators/0")).await;
    let src = html
        .split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|s| s.starts_with("/assets/echarts.min."))
        .expect("the indicator page loads ECharts by a hashed name")
        .to_string();
    assert_ne!(src, "/assets/echarts.min.js");
    let client = reqwest::Client::new();
    let plain = client
        .get(app.url("/assets/echarts.min.js"))
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(!plain.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let raw_len = plain.bytes().await.unwrap().len();
    for (accept, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let r = client
            .get(app.url(&src))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], coding, "{accept}");
        let cc = r.headers()["cache-control"].to_str().unwrap().to_string();
        assert!(
            cc.contains("immutable") && cc.contains("max-age=31536000"),
            "{cc}"
        );
        assert_eq!(r.headers()["vary"], "accept-encoding");
        let body = r.bytes().await.unwrap();
        assert!(
            body.len() * 3 < raw_len,
            "{coding}: {} of {raw_len} bytes",
            body.len()
        );
        if coding == "gzip" {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out.len(), raw_len, "gzip gives back the file");
        }
    }
    // A name that was never the file's content is not found.
    let stale = client
        .get(app.url("/assets/echarts.min.000000000000.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
}
