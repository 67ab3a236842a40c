//! Notifications: a planner returns a value → the reporter's inbox shows it with the
//! comment, an e-mail reaches a test SMTP server, group robots (企业微信, 钉钉 signed) receive
//! their JSON; a webhook that keeps failing is retried to the limit and the admin page shows
//! the error; nobody reads or marks another user's notifications.

use crate::common::{element_led_by, plan_id, TestApp};
use axum::extract::{Query, State};
use axum::http::StatusCode as AxStatus;
use axum::routing::post;
use axum::{Json, Router};
use healthplan_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Deliveries every 50 ms, retries after 20 ms doubling; no periodic alert check, so the
/// outbox holds only what the story causes.
pub fn config() -> ServerConfig {
    ServerConfig {
        alert_interval: None,
        notify_interval: Some(Duration::from_millis(50)),
        notify_retry: healthplan_app::notify::Retry {
            attempts: 5,
            base: Duration::from_millis(20),
        },
        ..ServerConfig::default()
    }
}

crate::on_both!(
    a_returned_value_reaches_inbox_mail_and_robots,
    crate::notifications::config()
);
crate::stories!(deadlines_and_alerts_reach_only_their_areas_and_departments);

/// Kinds and titles of a user's notifications.
async fn inbox_of(c: &crate::common::Caller, kind: &str) -> Vec<Value> {
    let inbox = c.get_json("/api/v1/notifications?limit=1000").await;
    inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

/// A round's deadline near, then past: its reporters are reminded once each time, only for
/// their own areas and departments. Alerts reach the users who handle or view their area,
/// never one outside it.
async fn deadlines_and_alerts_reach_only_their_areas_and_departments(app: &TestApp) {
    let gm = app.sign_in("reporter-guangming").await;
    let yc = app.sign_in("reporter-yuncheng").await;
    let viewer = app.sign_in("viewer").await;
    let rounds = gm.get_json("/api/v1/rounds").await;
    let round = rounds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["open"] == true && r["title"].as_str().unwrap().contains("光明区"))
        .expect("the open round of Guangming's plan")
        .clone();
    let deadline = healthplan_core::Date::parse(round["deadline"].as_str().unwrap()).unwrap();
    let day = |offset: i64| {
        healthplan_core::Date::from_civil(
            deadline
                .civil()
                .checked_add(jiff::Span::new().days(offset))
                .unwrap(),
        )
    };
    assert_eq!(
        app.app.check_deadlines(day(-30)).await.unwrap(),
        0,
        "a month ahead: quiet"
    );
    let near = app.app.check_deadlines(day(-2)).await.unwrap();
    assert!(near > 0, "two days ahead: reminders");
    assert_eq!(
        app.app.check_deadlines(day(-1)).await.unwrap(),
        0,
        "once per event"
    );
    let late = app.app.check_deadlines(day(2)).await.unwrap();
    assert!(late > 0, "past the deadline: reminded again");
    let mine = inbox_of(&gm, "deadline").await;
    let this_round = format!("/rounds/{}", round["id"]);
    assert_eq!(
        mine.iter()
            .filter(|n| n["link"] == this_round.as_str())
            .count(),
        2,
        "near and late, once each: {mine:?}"
    );
    assert!(mine
        .iter()
        .any(|n| n["title_zh"].as_str().unwrap().contains("逾期")));
    // Yuncheng's reporter is not in Guangming's round.
    assert!(inbox_of(&yc, "deadline")
        .await
        .iter()
        .all(|n| n["link"] != this_round.as_str()));
    // A leader is not a reporter: no reminders.
    assert!(inbox_of(&viewer, "deadline").await.is_empty());

    // Alerts: a check raises some; each reaches the viewer of the province, and a reporter
    // only those of alerts they may read.
    let today = app.app.clock().today();
    let raised = app
        .app
        .check_all_alerts(app.app.clock().year(), today, &Default::default())
        .await
        .unwrap();
    // The start-up check may still be recording alongside: wait until both agree.
    eventually("the province's viewer hears of every alert", || async {
        let total = viewer
            .get_json("/api/v1/alerts")
            .await
            .as_array()
            .unwrap()
            .len();
        total > 0 && inbox_of(&viewer, "alert").await.len() == total
    })
    .await;
    let seen = inbox_of(&viewer, "alert").await;
    for a in &raised {
        let link = format!("/alerts#alert-{}", a.id);
        assert!(seen.iter().any(|n| n["link"] == link.as_str()));
    }
    for (who, c) in [("reporter-yuncheng", &yc), ("reporter-guangming", &gm)] {
        let readable: Vec<String> = c
            .get_json("/api/v1/alerts")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("/alerts#alert-{}", a["id"]))
            .collect();
        for n in inbox_of(c, "alert").await {
            assert!(
                readable.contains(&n["link"].as_str().unwrap().to_string()),
                "{who} was told of an alert outside their areas: {n}"
            );
        }
    }
}

/// One mail as the SMTP server received it.
#[derive(Debug, Clone)]
struct Mail {
    rcpt: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1: no TLS, no AUTH, accepts every message.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 test ESMTP\r\n").await;
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        kept.lock().unwrap().push(Mail {
                            rcpt: std::mem::take(&mut rcpt),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// What the webhook server received: (path, query, JSON body).
type Posts = Arc<Mutex<Vec<(String, HashMap<String, String>, Value)>>>;

/// An HTTP server taking robot posts: `/wecom` and `/ding` answer `{"errcode":0}`, `/fail`
/// always answers 500.
async fn webhook_server() -> (String, Posts) {
    async fn ok(
        State((posts, path)): State<(Posts, &'static str)>,
        Query(q): Query<HashMap<String, String>>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        posts.lock().unwrap().push((path.to_string(), q, body));
        Json(json!({"errcode": 0, "errmsg": "ok"}))
    }
    async fn fail(State(posts): State<Posts>, Json(body): Json<Value>) -> (AxStatus, &'static str) {
        posts
            .lock()
            .unwrap()
            .push(("/fail".into(), HashMap::new(), body));
        (AxStatus::INTERNAL_SERVER_ERROR, "robot down")
    }
    let posts: Posts = Arc::default();
    let app = Router::new()
        .route("/wecom", post(ok).with_state((posts.clone(), "/wecom")))
        .route("/ding", post(ok).with_state((posts.clone(), "/ding")))
        .route("/fail", post(fail).with_state(posts.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, posts)
}

/// Waits (up to a minute, the background job runs every 50 ms) until `f` holds.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

/// The text of a mail's body, whatever transfer encoding lettre chose.
fn mail_text(data: &str) -> String {
    let (head, body) = data.split_once("\n\n").unwrap_or((data, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        use base64::Engine as _;
        let joined: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(joined)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        let soft = body.replace("=\n", "");
        let b = soft.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                if let Ok(x) = u8::from_str_radix(&soft[i + 1..i + 3], 16) {
                    out.push(x);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        body.to_string()
    }
}

async fn a_returned_value_reaches_inbox_mail_and_robots(app: &TestApp) {
    let (smtp_port, mails) = smtp_server().await;
    let (hooks, posts) = webhook_server().await;
    let admin = app.sign_in("admin").await;
    let planner = app.sign_in("planner").await;
    let rep = app.sign_in("reporter-guangming").await;

    // Channels, as the administrator sets them.
    let r = admin
        .send(
            Method::PUT,
            "/api/v1/notifications/settings",
            Some(json!({
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                         "from": "健康办 <noreply@example.gov.cn>"},
                "site_url": "http://jk.example.gov.cn/",
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let secret = "SECtestsecret";
    for (name, path, format, secret) in [
        ("企业微信群", "/wecom?key=abc", "wecom", None),
        ("钉钉群", "/ding?access_token=t", "dingtalk", Some(secret)),
        ("坏掉的机器人", "/fail", "generic", None),
    ] {
        let r = admin
            .send(
                Method::POST,
                "/api/v1/notifications/webhooks",
                Some(json!({"name": name, "url": format!("{hooks}{path}"), "format": format, "secret": secret})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    // Only an administrator configures channels or sees the outbox.
    for path in [
        "/api/v1/notifications/settings",
        "/api/v1/notifications/outbox",
    ] {
        let r = planner.send(Method::GET, path, None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = planner
        .send(
            Method::POST,
            "/api/v1/notifications/webhooks",
            Some(json!({"name": "x", "url": format!("{hooks}/wecom"), "format": "wecom"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The reporter opts in to e-mail; a bad address is refused.
    let r = rep
        .send(
            Method::PUT,
            "/api/v1/notifications/prefs",
            Some(json!({"email": "not an address", "email_opt_in": true})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = rep
        .send(
            Method::PUT,
            "/api/v1/notifications/prefs",
            Some(json!({"email": "gm-health@example.gov.cn", "email_opt_in": true})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    // The reporter submits; the planner hears of it; the planner returns it with a comment.
    let gm = plan_id(&rep, "光明区").await;
    let e = element_led_by(&rep, gm, "卫生健康").await;
    let path = format!("/api/v1/values/{e}/440311/2028");
    let r = rep
        .send(
            Method::PUT,
            &path,
            Some(json!({"value": 5.0, "status": "submitted"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let inbox = planner.get_json("/api/v1/notifications").await;
    assert!(
        inbox["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "submitted" && n["link"] == "/approvals"),
        "the reviewer is told submissions wait: {inbox}"
    );
    let comment = "与上年差异过大，请核实";
    let r = planner
        .send(
            Method::POST,
            &format!("{path}/return"),
            Some(json!({"version": 1, "comment": comment})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The reporter's inbox has it, with the comment, unread.
    let inbox = rep.get_json("/api/v1/notifications").await;
    let returned: Vec<&Value> = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "returned")
        .collect();
    assert_eq!(returned.len(), 1, "{inbox}");
    let note = returned[0].clone();
    assert!(note["body_zh"].as_str().unwrap().contains(comment));
    assert!(note["read_at"].is_null());
    assert!(inbox["unread"].as_i64().unwrap() >= 1);
    let id = note["id"].as_i64().unwrap();
    // The page and the bell say so too.
    let html = rep.html("/notifications").await;
    assert!(html.contains(comment), "the inbox page shows the comment");
    assert!(
        html.contains("全部标为已读"),
        "the page speaks Chinese first"
    );
    let badge = rep.html("/notifications/badge").await;
    assert!(badge.contains("class=\"badge\""), "{badge}");

    // The glossary, in both languages, linked from the dashboard.
    let zh = rep.html("/glossary").await;
    assert!(zh.contains("序时进度") && zh.contains("完成进程") && zh.contains("进度指数"));
    let en = rep
        .request(Method::GET, "/glossary")
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Time elapsed") && en.contains("Progress index"),
        "{en}"
    );
    let dash = rep.html(&format!("/plans/{gm}/dashboard")).await;
    assert!(dash.contains("/glossary#progress_index"));

    // Nobody else reads or marks it: as absent as a notification that does not exist.
    let r = planner
        .send(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let theirs = planner.get_json("/api/v1/notifications").await;
    assert!(theirs["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["id"] != id));
    let other = app.sign_in("reporter-yuncheng").await;
    let r = other
        .send(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .public()
        .send(Method::GET, "/api/v1/notifications", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The e-mail arrives, to the reporter's address, with the comment and the link.
    let returned_mail = |m: &Mail| {
        m.rcpt
            .iter()
            .any(|r| r.contains("gm-health@example.gov.cn"))
            && mail_text(&m.data).contains(comment)
    };
    eventually("the e-mail arrives", || async {
        mails.lock().unwrap().iter().any(returned_mail)
    })
    .await;
    let mail = mails
        .lock()
        .unwrap()
        .iter()
        .find(|m| returned_mail(m))
        .cloned()
        .unwrap();
    let text = mail_text(&mail.data);
    assert!(text.contains(comment), "{}", mail.data);
    assert!(text.contains("http://jk.example.gov.cn/"), "{text}");

    // The robots receive their text message; DingTalk's call is signed.
    eventually("both robots hear of the return", || async {
        let p = posts.lock().unwrap();
        ["/wecom", "/ding"].iter().all(|path| {
            p.iter().any(|(pp, _, b)| {
                pp == path
                    && b["text"]["content"]
                        .as_str()
                        .unwrap_or("")
                        .contains(comment)
            })
        })
    })
    .await;
    {
        let p = posts.lock().unwrap();
        let (_, q, body) = p
            .iter()
            .find(|(pp, _, b)| {
                pp == "/ding"
                    && b["text"]["content"]
                        .as_str()
                        .unwrap_or("")
                        .contains(comment)
            })
            .unwrap();
        assert_eq!(body["msgtype"], "text");
        let ts: i64 = q["timestamp"].parse().unwrap();
        assert_eq!(q["access_token"], "t");
        // The server decoded the query, so compare with the decoded signature.
        let signed = healthplan_notify::dingtalk_sign(secret, ts);
        let decoded: String = form_decode(&signed);
        assert_eq!(q["sign"], decoded);
        let (_, _, wecom) = p
            .iter()
            .find(|(pp, _, b)| {
                pp == "/wecom"
                    && b["text"]["content"]
                        .as_str()
                        .unwrap_or("")
                        .contains(comment)
            })
            .unwrap();
        assert_eq!(wecom["msgtype"], "text");
    }

    // The failing webhook is tried five times, then given up; the admin sees the error.
    eventually("the failing webhook is given up", || async {
        let outbox = admin.get_json("/api/v1/notifications/outbox").await;
        outbox.as_array().unwrap().iter().any(|d| {
            d["channel"] == "webhook"
                && d["subject"].as_str().unwrap_or("").contains("数据被退回")
                && d["status"] == "failed"
                && d["attempts"] == 5
                && d["last_error"].as_str().unwrap_or("").contains("500")
        })
    })
    .await;
    let outbox = admin.get_json("/api/v1/notifications/outbox").await;
    let failed = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "failed" && d["subject"].as_str().unwrap().contains("数据被退回"))
        .unwrap()
        .clone();
    let tries = posts
        .lock()
        .unwrap()
        .iter()
        .filter(|(pp, _, b)| pp == "/fail" && b["title"] == failed["subject"])
        .count();
    assert_eq!(tries, 5, "five attempts reached the failing server");
    // Each attempt is in the audit log.
    let audit = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("notification_delivery".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = failed["id"].as_i64().unwrap().to_string();
    assert_eq!(audit.iter().filter(|a| a.entity_key == key).count(), 5);
    let page = admin.html("/admin/notifications").await;
    assert!(
        page.contains("HTTP 500"),
        "the admin page shows the last error"
    );
    assert!(page.contains("坏掉的机器人"));
    assert!(!page.contains("key=abc"), "a robot's key is not shown");
    let r = planner
        .send(Method::GET, "/admin/notifications", None)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The reporter marks it read, then everything.
    let r = rep
        .send(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let read: Value = r.json().await.unwrap();
    assert!(read["read_at"].is_string());
    let r = rep
        .send(Method::POST, "/api/v1/notifications/read-all", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let inbox = rep.get_json("/api/v1/notifications?unread=true").await;
    assert_eq!(inbox["unread"], 0);
    assert!(inbox["notifications"].as_array().unwrap().is_empty());
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
