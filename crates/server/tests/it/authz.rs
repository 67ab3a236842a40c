//! The authorization matrix: every role × every state-changing endpoint → allowed or refused,
//! from one table. Each caller works on its own period so one caller's write never changes
//! what another's request finds.

use crate::common::{element_led_by, plan_id, Caller, TestApp};
use crate::stories;
use healthplan_access::Caps;
use healthplan_core::{AreaCode, DataValue, Period, Value, ValueStatus};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value as Json};

stories!(
    authorization_matrix,
    csrf_and_tokens,
    public_reads_only_what_is_published
);

const WHO: [&str; 7] = [
    "admin",
    "planner",
    "planner-yunfu",
    "reporter-guangming",
    "reporter-yuncheng",
    "viewer",
    "public",
];

/// Expected statuses in the order of [`WHO`].
type Expect = [u16; 7];

struct Case {
    name: &'static str,
    method: Method,
    /// `{p}` is replaced by the caller's own period, `{n}` by its index.
    path: String,
    body: Option<Json>,
    expect: Expect,
}

fn case(
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Json>,
    expect: Expect,
) -> Case {
    Case {
        name,
        method,
        path,
        body,
        expect,
    }
}

/// The caller's own month for a case: no two (case, caller) pairs share a period.
fn period(case: usize, n: usize) -> String {
    format!("{}{:02}", 2031 + n + 10 * (case / 12), case % 12 + 1)
}

fn fill(s: &str, case: usize, n: usize) -> String {
    s.replace("{p}", &period(case, n))
        .replace("{n}", &n.to_string())
}

fn fill_json(v: &Json, case: usize, n: usize) -> Json {
    serde_json::from_str(&fill(&v.to_string(), case, n)).unwrap()
}

/// Index of the review case in the table below.
const APPROVE_CASE: usize = 5;

async fn callers(app: &TestApp) -> Vec<Caller> {
    let mut out = Vec::new();
    for w in WHO {
        out.push(if w == "public" {
            app.public()
        } else {
            app.sign_in(w).await
        });
    }
    out
}

/// A task of the plan whose units include (or, with `with = false`, do not include) a
/// department of this function.
fn task_of(doc: &Json, function: &str, with: bool) -> String {
    doc["document"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            let units = t["responsible"]["units"].as_array();
            let has = units.is_some_and(|u| {
                u.iter()
                    .any(|x| x.as_str().unwrap_or("").contains(function))
            });
            units.is_some() && has == with
        })
        .unwrap_or_else(|| {
            panic!(
                "no task {} {function}",
                if with { "with" } else { "without" }
            )
        })["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn authorization_matrix(app: &TestApp) {
    let admin = app.sign_in("admin").await;
    let gm = plan_id(&admin, "光明区").await;
    let yf = plan_id(&admin, "云浮").await;
    let gm_health = element_led_by(&admin, gm, "卫生健康").await;
    let yf_health = element_led_by(&admin, yf, "卫生健康").await;
    let yf_edu = element_led_by(&admin, yf, "教育").await;
    let gm_doc = admin.get_json(&format!("/api/v1/plans/{gm}")).await;
    let yf_doc = admin.get_json(&format!("/api/v1/plans/{yf}")).await;
    let edu_task = task_of(&yf_doc, "教育", true);
    let other_task = task_of(&yf_doc, "教育", false);
    let indicator0 = gm_doc["document"]["indicators"][0].clone();

    // A submitted value per caller for the review cases.
    let local = Caps::local(app.app.policy(), "setup");
    let submitted: Vec<DataValue> = (0..WHO.len())
        .map(|n| {
            let mut v = DataValue::new(
                &gm_health,
                AreaCode::parse("440311").unwrap(),
                period(APPROVE_CASE, n).parse::<Period>().unwrap(),
                Value::Number { value: 80.0 },
            )
            .unwrap();
            v.status = ValueStatus::Submitted;
            v
        })
        .collect();
    app.app
        .import_data_values(&local.bulk_writer().unwrap(), &submitted)
        .await
        .unwrap();

    let value = json!({"value": 81.5});
    use Method as M;
    // admin, planner, planner-yunfu, rep-gm, rep-yc, viewer, public
    let cases = vec![
        case(
            "reporter writes its own area and department",
            M::PUT,
            format!("/api/v1/values/{gm_health}/440311/{{p}}"),
            Some(value.clone()),
            [200, 403, 403, 200, 403, 403, 401],
        ),
        case(
            "another area through the URL",
            M::PUT,
            format!("/api/v1/values/{gm_health}/440310/{{p}}"),
            Some(value.clone()),
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "another department's element",
            M::PUT,
            format!("/api/v1/values/{yf_health}/445302/{{p}}"),
            Some(value.clone()),
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "own department's element in Yuncheng",
            M::PUT,
            format!("/api/v1/values/{yf_edu}/445302/{{p}}"),
            Some(json!({"value": 90.0})),
            [200, 403, 403, 403, 200, 403, 401],
        ),
        case(
            "another area through the body",
            M::POST,
            "/api/v1/values".into(),
            Some(
                json!({"values": [{"element": gm_health, "area": "440310", "period": "{p}", "value": 80.0}]}),
            ),
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "approve a submitted value",
            M::POST,
            format!("/api/v1/values/{gm_health}/440311/{{p}}/approve"),
            Some(json!({"version": 1})),
            [200, 200, 403, 403, 403, 403, 401],
        ),
        case(
            "open a round for the Guangming plan",
            M::POST,
            "/api/v1/rounds".into(),
            Some(
                json!({"plan_id": gm, "title": "轮次{n}", "period": "{p}", "deadline": "2040-01-31", "areas": ["440311"]}),
            ),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(
            "open a round for Yunfu's areas",
            M::POST,
            "/api/v1/rounds".into(),
            Some(
                json!({"plan_id": yf, "title": "轮次{n}", "period": "{p}", "deadline": "2040-01-31", "areas": ["445302"]}),
            ),
            [201, 403, 201, 403, 403, 403, 401],
        ),
        // A plan outside a planner's subtree and above it is not even visible: 404.
        case(
            "correct an indicator",
            M::PUT,
            format!("/api/v1/plans/{gm}/indicators/0"),
            Some(indicator0.clone()),
            [204, 204, 404, 403, 403, 403, 401],
        ),
        case(
            "relink an indicator",
            M::PUT,
            format!("/api/v1/plans/{gm}/indicators/0/element"),
            Some(json!({"element": gm_health})),
            [204, 204, 403, 403, 403, 403, 401],
        ),
        case(
            "set where an indicator applies",
            M::PUT,
            format!("/api/v1/plans/{gm}/indicators/0/applies_to"),
            Some(json!({"applies_to": null})),
            [204, 204, 404, 403, 403, 403, 401],
        ),
        case(
            "publish Yunfu's plan",
            M::POST,
            format!("/api/v1/plans/{yf}/publish"),
            Some(json!({"as_of": 2025})),
            [204, 404, 204, 403, 403, 403, 401],
        ),
        case(
            "report progress of a task of one's department",
            M::PUT,
            format!("/api/v1/plans/{yf}/tasks/{edu_task}/progress/445302/{{p}}"),
            Some(json!({"status": "in_progress", "note": "推进中"})),
            [200, 403, 403, 404, 200, 403, 401],
        ),
        case(
            "report progress of another department's task",
            M::PUT,
            format!("/api/v1/plans/{yf}/tasks/{other_task}/progress/445302/{{p}}"),
            Some(json!({"status": "in_progress", "note": "推进中"})),
            [200, 403, 403, 404, 403, 403, 401],
        ),
        case(
            "create an account",
            M::POST,
            "/api/v1/users".into(),
            Some(
                json!({"username": "new-user-{n}", "display_name": "新用户", "password": "Quite-Long-Secret-{n}", "grants": [{"role": "viewer", "area": "440300"}]}),
            ),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "import areas",
            M::POST,
            "/api/v1/areas".into(),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "define a data element",
            M::PUT,
            "/api/v1/elements/X{n}".into(),
            Some(
                json!({"code": "X", "name": "测试", "value_type": "number", "aggregation": "sum"}),
            ),
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            "create a personal token",
            M::POST,
            "/api/v1/me/tokens".into(),
            Some(json!({"name": "t"})),
            [201, 201, 201, 201, 201, 201, 401],
        ),
    ];
    let who = callers(app).await;
    let mut failures = Vec::new();
    assert_eq!(cases[APPROVE_CASE].name, "approve a submitted value");
    for (i, c) in cases.iter().enumerate() {
        for (n, caller) in who.iter().enumerate() {
            let path = fill(&c.path, i, n);
            let mut req = caller.request(c.method.clone(), &path);
            if c.name == "import areas" {
                req = req
                    .header("content-type", "text/csv")
                    .body("code,name,level,parent_code\n440000,广东省,province,\n");
            } else if let Some(b) = &c.body {
                req = req.json(&fill_json(b, i, n));
            }
            let r = req.send().await.unwrap();
            let got = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            if got != c.expect[n] {
                failures.push(format!(
                    "{} — {} {path}: expected {}, got {got}: {text}",
                    c.name, WHO[n], c.expect[n]
                ));
            } else if got >= 400 {
                // Every refusal has the one error shape.
                let e: Json = serde_json::from_str(&text).unwrap_or_default();
                if e["error"]["code"].as_str().is_none() || e["error"]["message"].as_str().is_none()
                {
                    failures.push(format!(
                        "{} — {}: refusal without the error shape: {text}",
                        c.name, WHO[n]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Refused writes left nothing behind: the other area's value was written by admin only.
    let written = admin
        .get_json(&format!("/api/v1/values?element={gm_health}&area=440310"))
        .await;
    let periods: Vec<&str> = written
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, [period(1, 0), period(4, 0)], "only admin's writes");
    // A reporter's own write went in; the same write by a viewer did not.
    let mine = admin
        .get_json(&format!(
            "/api/v1/values?element={gm_health}&area=440311&from={}&to={}",
            period(0, 0),
            period(0, 6)
        ))
        .await;
    let by: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["value"]["period"].as_str().unwrap().ends_with("01"))
        .map(|r| r["updated_by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["admin", "reporter-guangming"]);
    // Reads are filtered too: a reporter lists only its areas' values.
    let seen = who[3].get_json("/api/v1/values").await;
    assert!(seen
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["value"]["area"].as_str().unwrap().starts_with("440311")));
    let refused = who[3]
        .send(
            Method::GET,
            "/api/v1/analytics?element=x&areas=445300&periods=2024",
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn csrf_and_tokens(app: &TestApp) {
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    let body = json!({"status": "confirmed"});
    // The session cookie without the token, and with a forged one, is refused.
    let no_token = planner
        .client
        .post(app.url(&format!("/api/v1/plans/{gm}/status")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let e: Json = no_token.json().await.unwrap();
    assert_eq!(e["error"]["code"], "csrf");
    let forged = planner
        .client
        .post(app.url(&format!("/api/v1/plans/{gm}/status")))
        .header("X-CSRF-Token", "forged-token-of-the-right-length-000000000")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Reading needs no CSRF token.
    assert_eq!(
        planner
            .client
            .get(app.url("/api/v1/plans"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // A token works without CSRF, as its owner, until revoked.
    let t = app.with_token("reporter-guangming").await;
    let me = t.get_json("/api/v1/me").await;
    assert_eq!(
        (me["username"].as_str(), me["via"].as_str()),
        (Some("reporter-guangming"), Some("token"))
    );
    let owner = app.sign_in("reporter-guangming").await;
    let tokens = owner.get_json("/api/v1/me/tokens").await;
    let id = tokens.as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    // Someone else cannot revoke it.
    let other = app.sign_in("viewer").await;
    assert_eq!(
        other
            .send(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner
            .send(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let revoked = t.send(Method::GET, "/api/v1/me", None).await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    let garbage = Caller {
        token: Some("hp_not-a-token".into()),
        ..app.public()
    };
    assert_eq!(
        garbage.send(Method::GET, "/api/v1/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Token use is in the audit log.
    let log = app
        .app
        .store()
        .audit_log(&healthplan_store::AuditFilter {
            entity: Some("auth".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let events: Vec<String> = log
        .iter()
        .filter_map(|e| e.after.as_ref()?["event"].as_str().map(String::from))
        .collect();
    for want in ["sign_in", "token_use", "revoked_token_refused"] {
        assert!(events.iter().any(|e| e == want), "{want} in {events:?}");
    }
}

async fn public_reads_only_what_is_published(app: &TestApp) {
    let public = app.public();
    let planner = app.sign_in("planner").await;
    let gm = plan_id(&planner, "光明区").await;
    for path in [
        "/api/v1/plans",
        "/api/v1/values",
        &format!("/api/v1/plans/{gm}"),
    ] {
        assert_eq!(
            public.send(Method::GET, path, None).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert_eq!(
        public
            .send(Method::GET, &format!("/api/v1/public/plans/{gm}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The demo publishes one other plan; 光明区's is not public until published.
    assert!(!public
        .get_json("/api/v1/public/plans")
        .await
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == gm));
    let r = planner
        .send(
            Method::POST,
            &format!("/api/v1/plans/{gm}/publish"),
            Some(json!({"as_of": 2025})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let published = public.get_json(&format!("/api/v1/public/plans/{gm}")).await;
    assert_eq!(published["as_of"], 2025);
    assert_eq!(published["snapshot"]["synthetic"], true);
    assert!(
        published["snapshot"]["evaluation"]["results"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    // Later edits do not reach the public until published again.
    let doc = planner.get_json(&format!("/api/v1/plans/{gm}")).await;
    let mut ind = doc["document"]["indicators"][0].clone();
    ind["name"] = json!("改名后的指标");
    let r = planner
        .send(
            Method::PUT,
            &format!("/api/v1/plans/{gm}/indicators/0"),
            Some(ind),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let again = public.get_json(&format!("/api/v1/public/plans/{gm}")).await;
    assert_ne!(
        again["snapshot"]["document"]["indicators"][0]["name"],
        "改名后的指标"
    );
}
