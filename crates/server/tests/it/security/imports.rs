//! Finding 1, the server's half: a .docx bomb is refused (never cut short and stored) without
//! the server's memory growing by 512 MB, and imports beyond the configured number at once
//! wait their turn (503 with `Retry-After`).

use crate::common::TestApp;
use crate::stories;
use healthplan_server::ServerConfig;
use reqwest::{multipart, Method, StatusCode};
use serde_json::Value;

stories!(a_docx_bomb_is_refused_in_bounded_memory);

fn document_xml(text_bytes: usize) -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>"#,
    );
    xml.push_str(&"健康".repeat(text_bytes / 6));
    xml.push_str("</w:t></w:r></w:p></w:body></w:document>");
    xml.into_bytes()
}

fn form(bytes: Vec<u8>) -> multipart::Form {
    multipart::Form::new().part(
        "file",
        multipart::Part::bytes(bytes).file_name("健康行动.docx"),
    )
}

/// (current, peak) resident set of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn a_docx_bomb_is_refused_in_bounded_memory(app: &TestApp) {
    let admin = app.with_token("admin").await;
    let plans = admin
        .get_json("/api/v1/plans")
        .await
        .as_array()
        .unwrap()
        .len();
    let bomb = healthplan_archive::zip_of(&[
        ("[Content_Types].xml", b"<Types/>".as_slice()),
        ("word/document.xml", &document_xml(48 << 20)),
    ]);
    let (rest, _) = rss_kib();
    let r = admin
        .request(Method::POST, "/api/v1/plans/import")
        .multipart(form(bomb.clone()))
        .send()
        .await
        .unwrap();
    let (_, peak) = rss_kib();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Reported, not asserted: other stories run in this process at the same time, so its
    // high-water mark is not this upload's alone.
    eprintln!(
        "docx bomb of {} KiB: peak RSS {} MiB over {} MiB at rest",
        bomb.len() >> 10,
        peak.saturating_sub(rest) >> 10,
        rest >> 10
    );
    assert_eq!(
        admin
            .get_json("/api/v1/plans")
            .await
            .as_array()
            .unwrap()
            .len(),
        plans,
        "nothing stored"
    );

    // No slot free: the upload is turned away before it is read.
    let busy = TestApp::spawn_sqlite(ServerConfig {
        max_concurrent_imports: 0,
        ..Default::default()
    })
    .await;
    let admin = busy.with_token("admin").await;
    let r = admin
        .request(Method::POST, "/api/v1/plans/import")
        .multipart(form(bomb))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    busy.stop().await;
}
