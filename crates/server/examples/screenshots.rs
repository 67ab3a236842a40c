//! A PNG of every page, in Chinese and in English, from a fresh demo database:
//!
//!     cargo run -p healthplan-server --example screenshots -- --out target/screenshots
//!
//! Serves the demo on a free port of 127.0.0.1 and drives headless Chromium through
//! chromedriver (Debian: `apt-get install chromium chromium-driver`).

#[path = "../tests/it/chrome.rs"]
mod chrome;

use chrome::{screenshot, wait_css, Browser};
use fantoccini::{Client, Locator};
use healthplan_app::demo::{self, ACCOUNTS};
use healthplan_app::App;
use healthplan_server::ServerConfig;
use healthplan_store::{Store, StoreConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut out = PathBuf::from("target/screenshots");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = PathBuf::from(args.next().expect("--out DIR")),
            _ => {
                eprintln!("usage: screenshots [--out DIR]");
                std::process::exit(2);
            }
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = Store::open(&StoreConfig::new(dir.path(), None))
        .await
        .expect("database");
    let app = Arc::new(App::open(store).await.expect("app"));
    demo::setup(&app, "screenshots").await.expect("demo set-up");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(healthplan_server::serve(
        app,
        ServerConfig::default(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let browser = Browser::start()
        .await
        .expect("chromedriver and chromium (HEALTHPLAN_SKIP_BROWSER is set)");
    let mut count = 0;
    for lang in ["zh-CN", "en"] {
        count += pages(&browser, &base, lang, &out.join(lang)).await;
    }
    let _ = stop.send(());
    let _ = server.await;
    println!("{count} screenshots in {}", out.display());
}

async fn sign_in(c: &Client, base: &str, username: &str) {
    let acc = ACCOUNTS
        .iter()
        .find(|a| a.username == username)
        .expect("a demo account");
    c.goto(&format!("{base}/login"))
        .await
        .expect("sign-in page");
    wait_css(c, "#username")
        .await
        .send_keys(acc.username)
        .await
        .expect("type");
    wait_css(c, "#password")
        .await
        .send_keys(acc.password)
        .await
        .expect("type");
    wait_css(c, "form[action='/login'] button[type=submit]")
        .await
        .click()
        .await
        .expect("sign in");
    wait_css(c, "header.top .who a[href='/account']").await;
}

/// The first link on the current page whose href starts with `prefix` and whose text
/// contains `word`.
async fn link(c: &Client, prefix: &str, word: &str) -> String {
    let script = "for (const a of document.querySelectorAll('a[href]')) {
        const h = a.getAttribute('href');
        if (h.startsWith(arguments[0]) && a.textContent.includes(arguments[1])) return h;
      } return null;";
    let v = c
        .execute(script, vec![prefix.into(), word.into()])
        .await
        .expect("script");
    v.as_str()
        .unwrap_or_else(|| panic!("no link {prefix}… with {word:?}"))
        .to_string()
}

struct Shots<'a> {
    base: &'a str,
    out: &'a Path,
    n: usize,
}

impl Shots<'_> {
    async fn page(&mut self, c: &Client, path: &str, name: &str) {
        c.goto(&format!("{}{path}", self.base))
            .await
            .expect("open page");
        wait_css(c, "main").await;
        // Let the charts draw (they animate in).
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        self.n += 1;
        let file = self.out.join(format!("{:02}-{name}.png", self.n));
        screenshot(c, &file).await;
        println!("{}  {path}", file.display());
    }
}

async fn pages(browser: &Browser, base: &str, lang: &str, out: &Path) -> usize {
    let mut s = Shots { base, out, n: 0 };
    let _ = std::fs::remove_dir_all(out);

    let planner = browser.session(lang).await;
    sign_in(&planner, base, "planner").await;
    s.page(&planner, "/", "home-planner").await;
    s.page(&planner, "/plans", "plans").await;
    let gm = link(&planner, "/plans/", "光明区").await;
    let sz = link(&planner, "/plans/", "深圳").await;
    s.page(&planner, &gm, "plan").await;
    s.page(&planner, &format!("{gm}/review"), "import-review")
        .await;
    s.page(&planner, &format!("{sz}/dashboard"), "dashboard-city")
        .await;
    s.page(&planner, &format!("{gm}/dashboard"), "dashboard-district")
        .await;
    s.page(&planner, &format!("{sz}/indicators/0"), "indicator")
        .await;
    s.page(&planner, &format!("{gm}/departments"), "departments")
        .await;
    let department = link(&planner, &format!("{gm}/departments?name="), "").await;
    s.page(&planner, &department, "department").await;
    s.page(&planner, &format!("{sz}/assessment"), "assessment")
        .await;
    s.page(&planner, &format!("{gm}/alignment"), "alignment")
        .await;
    planner.goto(&format!("{base}{gm}")).await.expect("plan");
    let progress = link(&planner, &format!("{gm}/tasks/"), "").await;
    s.page(&planner, &progress, "task-progress").await;
    s.page(&planner, "/rounds", "rounds").await;
    let overview = link(&planner, "/rounds/", "").await;
    let overview = if overview.ends_with("/overview") {
        overview
    } else {
        format!("{overview}/overview")
    };
    s.page(&planner, &overview, "round-overview").await;
    s.page(&planner, "/approvals", "approvals").await;
    s.page(&planner, "/alerts", "alerts").await;
    s.page(&planner, "/surveillance", "surveillance").await;
    s.page(&planner, "/exchange", "exchange").await;
    s.page(&planner, "/account", "account").await;
    s.page(&planner, "/no-such-page", "not-found").await;
    // Publish the district plan (once) so the public pages have something to show.
    planner
        .goto(&format!("{base}{gm}/review"))
        .await
        .expect("review");
    if let Ok(b) = planner
        .find(Locator::Css("button[name=status][value=published]"))
        .await
    {
        b.click().await.expect("publish");
        wait_css(&planner, "main p.notice").await;
    }
    let _ = planner.close().await;

    let public = browser.session(lang).await;
    s.page(&public, "/login", "sign-in").await;
    s.page(&public, "/public", "public-plans").await;
    let published = link(&public, "/public/plans/", "").await;
    s.page(&public, &published, "public-plan").await;
    let _ = public.close().await;

    let reporter = browser.session(lang).await;
    sign_in(&reporter, base, "reporter-guangming").await;
    s.page(&reporter, "/", "home-reporter").await;
    reporter
        .goto(&format!("{base}/rounds"))
        .await
        .expect("rounds");
    wait_css(&reporter, "main").await;
    let form = reporter
        .find(Locator::XPath(
            "//tr[td[contains(., '光明区')]]//a[not(contains(@href, 'overview'))]",
        ))
        .await
        .expect("the reporter's round")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    s.page(&reporter, &form, "reporter-form").await;
    let _ = reporter.close().await;

    let admin = browser.session(lang).await;
    sign_in(&admin, base, "admin").await;
    s.page(&admin, "/admin", "admin").await;
    let _ = admin.close().await;
    s.n
}
