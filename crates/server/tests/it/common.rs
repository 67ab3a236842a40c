//! `spawn_app`: a fresh database with the demo set up, served on 127.0.0.1:0.
#![allow(dead_code)] // Each story uses a different part.

use healthplan_app::demo::{self, DemoAccount, ACCOUNTS};
use healthplan_app::App;
use healthplan_server::ServerConfig;
use healthplan_store::testing::{postgres_test_url, TestDatabase};
use healthplan_store::{Store, StoreConfig};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// Generates one test per backend for each story `async fn name(app: &TestApp)`, served
/// with the default configuration or the one given (`stories!(config = …; a, b)`).
#[macro_export]
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        $crate::stories!(config = Default::default(); $($name),*);
    };
    (config = $config:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::spawn_sqlite($config).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::common::TestApp::spawn_postgres($config).await else {
                        eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
                        return;
                    };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

/// One test per backend of the story `async fn $name(app: &TestApp)` served with `$config`.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $config:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn_sqlite($config).await;
                super::$name(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::spawn_postgres($config).await else {
                    eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL story skipped");
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn_sqlite(config: ServerConfig) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::new(dir.path(), None))
            .await
            .unwrap();
        let mut t = TestApp::spawn(store, config).await;
        t._dir = Some(dir);
        t
    }

    pub async fn spawn_postgres(config: ServerConfig) -> Option<TestApp> {
        let server = postgres_test_url()?;
        let db = TestDatabase::create(&server).await.unwrap();
        let store = Store::open(&StoreConfig::new("unused", Some(db.url.clone())))
            .await
            .unwrap();
        let mut t = TestApp::spawn(store, config).await;
        t.pg = Some(db);
        Some(t)
    }

    async fn spawn(store: Store, config: ServerConfig) -> TestApp {
        let app = Arc::new(App::open(store).await.unwrap());
        demo::setup(&app, "test-setup").await.unwrap();
        TestApp::serve(app, config).await
    }

    /// A second server on the same backend with the demo's area tree, data elements and
    /// admin account but no plans and no values: where an exported file is imported.
    pub async fn spawn_blank_like(&self) -> TestApp {
        let (store, dir, pg) = if self.pg.is_some() {
            let db = TestDatabase::create(&postgres_test_url().unwrap())
                .await
                .unwrap();
            let store = Store::open(&StoreConfig::new("unused", Some(db.url.clone())))
                .await
                .unwrap();
            (store, None, Some(db))
        } else {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&StoreConfig::new(dir.path(), None))
                .await
                .unwrap();
            (store, Some(dir), None)
        };
        let app = Arc::new(App::open(store).await.unwrap());
        let caps = app.local_caps("test-setup");
        let areas =
            healthplan_app::areas_csv::parse_areas_csv("areas.csv", demo::BUNDLED_AREAS_CSV, &[])
                .unwrap();
        app.import_areas(&caps.registry_admin().unwrap(), &areas)
            .await
            .unwrap();
        let caps = app.local_caps("test-setup");
        let elements = self.app.store().list_data_elements().await.unwrap();
        app.store()
            .put_data_elements(&caps.registry_admin().unwrap(), &elements)
            .await
            .unwrap();
        app.reload().await.unwrap();
        let admin = account("admin");
        let user = healthplan_core::User::new(
            admin.username,
            admin.display_name,
            vec![healthplan_core::Grant {
                role: admin.role,
                area: healthplan_core::AreaCode::parse(admin.area).unwrap(),
                departments: Vec::new(),
            }],
        )
        .unwrap();
        let hash = healthplan_access::password::hash_password(admin.password).unwrap();
        app.store()
            .create_user(&caps.user_admin().unwrap(), &user, Some(&hash))
            .await
            .unwrap();
        let mut t = TestApp::serve(app, ServerConfig::default()).await;
        t._dir = dir;
        t.pg = pg;
        t
    }

    async fn serve(app: Arc<App>, config: ServerConfig) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        let task = tokio::spawn(async move {
            healthplan_server::serve(served, config, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            base,
            app,
            stop: Some(tx),
            task: Some(task),
            _dir: None,
            pg: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Some(db) = self.pg.take() {
            db.remove().await.unwrap();
        }
    }

    /// `sqlite` or `postgres`, for naming test artifacts.
    pub fn backend(&self) -> &'static str {
        if self.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client that keeps cookies.
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).build().unwrap()
    }

    /// Signs in a demo account; the client keeps the cookie.
    pub async fn sign_in(&self, username: &str) -> Caller {
        let acc = account(username);
        let client = self.client();
        let r = client
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": acc.username, "password": acc.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "sign-in of {username}");
        let me: Value = r.json().await.unwrap();
        Caller {
            base: self.base.clone(),
            client,
            csrf: me["csrf_token"].as_str().map(String::from),
            token: None,
        }
    }

    /// A caller with no session and no token.
    pub fn public(&self) -> Caller {
        Caller {
            base: self.base.clone(),
            client: self.client(),
            csrf: None,
            token: None,
        }
    }

    /// A caller using a fresh personal API token of a demo account.
    pub async fn with_token(&self, username: &str) -> Caller {
        let s = self.sign_in(username).await;
        let r = s
            .send(
                Method::POST,
                "/api/v1/me/tokens",
                Some(json!({"name": "test"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.unwrap();
        Caller {
            base: self.base.clone(),
            client: self.client(),
            csrf: None,
            token: body["secret"].as_str().map(String::from),
        }
    }
}

pub fn account(username: &str) -> DemoAccount {
    ACCOUNTS
        .iter()
        .copied()
        .find(|a| a.username == username)
        .unwrap_or_else(|| panic!("no demo account {username}"))
}

/// Someone calling the API: a session (with its CSRF token), a token, or nobody.
pub struct Caller {
    pub base: String,
    pub client: Client,
    pub csrf: Option<String>,
    pub token: Option<String>,
}

impl Caller {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.csrf {
            r = r.header("X-CSRF-Token", c);
        }
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut r = self.request(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    /// A page's HTML, whatever its status.
    pub async fn html(&self, path: &str) -> String {
        let r = self.request(Method::GET, path).send().await.unwrap();
        r.text().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.send(Method::GET, path, None).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }
}

/// A plan's id by a word of its title.
pub async fn plan_id(c: &Caller, word: &str) -> i64 {
    let plans = c.get_json("/api/v1/plans").await;
    plans
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"].as_str().unwrap().contains(word))
        .unwrap_or_else(|| panic!("no plan with {word}"))["id"]
        .as_i64()
        .unwrap()
}

/// The element of the first indicator of a plan led by a department with this function.
pub async fn element_led_by(c: &Caller, plan: i64, function: &str) -> String {
    let doc = c.get_json(&format!("/api/v1/plans/{plan}")).await;
    doc["document"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["lead"].as_str().is_some_and(|l| l.contains(function)))
        .unwrap_or_else(|| panic!("plan {plan} has no indicator led by {function}"))["element"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A query-string value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    /// A second server process's worth (its own store pool, engine and server) on the same
    /// PostgreSQL database as `self`; `None` on SQLite, which one process serves. The
    /// database stays `self`'s to drop.
    pub async fn spawn_peer(&self, config: ServerConfig) -> Option<TestApp> {
        let url = self.pg.as_ref()?.url.clone();
        let store = Store::open(&StoreConfig::new("unused", Some(url)))
            .await
            .unwrap();
        let app = Arc::new(App::open(store).await.unwrap());
        Some(TestApp::serve(app, config).await)
    }

    /// The same caller (cookies, CSRF token or API token) talking to another server.
    pub fn via(&self, c: &Caller) -> Caller {
        Caller {
            base: self.base.clone(),
            client: c.client.clone(),
            csrf: c.csrf.clone(),
            token: c.token.clone(),
        }
    }
}
