//! Finding 8: a comment that a spreadsheet would run as a formula is written to every CSV
//! with a leading `'`, and reading the file back gives the comment as entered.

use crate::common::{element_led_by, plan_id, TestApp};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

stories!(csv_cells_never_start_a_formula);

const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
];

async fn csv_cells_never_start_a_formula(app: &TestApp) {
    let admin = app.with_token("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let e = element_led_by(&admin, gm, "卫生健康").await;
    for (i, f) in FORMULAS.iter().enumerate() {
        let r = admin
            .send(
                Method::PUT,
                &format!("/api/v1/values/{e}/440311/{}", 2030 + i),
                Some(json!({"value": 5, "comment": f})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{f:?}");
    }
    let r = admin
        .send(
            Method::GET,
            &format!("/api/v1/exchange/values?format=csv&element={e}&from=2030&to=2035"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let mut comments = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            let number = cell.parse::<f64>().is_ok();
            assert!(
                number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {text}"
            );
        }
        assert_eq!(&rec[3], "5", "numbers stay numbers");
        comments.push(rec[7].to_string());
    }
    assert_eq!(comments.len(), FORMULAS.len(), "{text}");
    for f in FORMULAS {
        // Comments are stored trimmed, so a leading tab or CR is gone before any export.
        let f = f.trim();
        assert!(comments.contains(&format!("'{f}")), "{f:?} in {comments:?}");
    }

    // The quote is taken off on the way back in.
    let blank = app.spawn_blank_like().await;
    let other = blank.with_token("admin").await;
    let r = other
        .request(Method::POST, "/api/v1/exchange/values?format=csv")
        .body(text.clone())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    for (i, f) in FORMULAS.iter().enumerate() {
        let v = other
            .get_json(&format!("/api/v1/values/{e}/440311/{}", 2030 + i))
            .await;
        assert_eq!(v["comment"].as_str(), Some(f.trim()), "{v}");
    }
    blank.stop().await;
}
