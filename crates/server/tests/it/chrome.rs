//! Headless Chromium driven through chromedriver (WebDriver, with fantoccini), shared by the
//! browser story and the screenshot example. One chromedriver per `Browser`, on a free port;
//! each `session()` is a separate browser profile with its own cookies.
#![allow(dead_code)] // The story and the screenshot example use different parts.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Map, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long to wait for something to appear; a bound against hanging, not a measurement.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct Browser {
    driver: Child,
    url: String,
    chromium: PathBuf,
}

/// A program on `PATH` (or the path an environment variable names).
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    // Port 0 gives a free port; chromedriver binds it right after we let it go.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

impl Browser {
    /// Starts chromedriver, or says why it cannot. Without chromedriver or Chromium this
    /// panics, unless `HEALTHPLAN_SKIP_BROWSER=1` asks to skip (then `None`).
    pub async fn start() -> Option<Browser> {
        let driver = program("HEALTHPLAN_CHROMEDRIVER", &["chromedriver"]);
        let chromium = program(
            "HEALTHPLAN_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            if std::env::var("HEALTHPLAN_SKIP_BROWSER").is_ok_and(|v| v == "1") {
                eprintln!("chromedriver or chromium missing: browser test skipped (HEALTHPLAN_SKIP_BROWSER=1)");
                return None;
            }
            panic!(
                "the browser tests need chromedriver and chromium on PATH (Debian: apt-get install \
                 chromium chromium-driver), or HEALTHPLAN_CHROMEDRIVER / HEALTHPLAN_CHROMIUM naming \
                 them; set HEALTHPLAN_SKIP_BROWSER=1 to skip them"
            );
        };
        let port = free_port();
        // Its own process group, so that dropping the `Browser` ends every Chromium process
        // it started, even when a failing test never closed its sessions.
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let browser = Browser {
            driver: child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
        };
        // Ready when it answers; bounded so a broken driver fails the test.
        let ready = tokio::time::timeout(PATIENCE, async {
            loop {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(ready.is_ok(), "chromedriver did not start on port {port}");
        Some(browser)
    }

    /// A new browser window with its own profile, cookies and language.
    pub async fn session(&self, accept_language: &str) -> Client {
        let mut caps = Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1366,900",
                         "--hide-scrollbars", "--disable-breakpad", "--disable-crash-reporter",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", format!("--lang={accept_language}")],
                "prefs": {"intl.accept_languages": accept_language},
            }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let mut last = None;
        // A fresh chromedriver can refuse its very first session while it settles.
        for _ in 0..3 {
            match builder.connect(&self.url).await {
                Ok(c) => return c,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("no browser session: {:?}", last);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Waits for an element matching `css`.
pub async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

/// Waits until the text of `css` contains `needle`, and returns that text.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    wait_text_at(c, Locator::Css(css), needle).await
}

/// Waits until the text of what `at` finds contains `needle`, and returns that text.
pub async fn wait_text_at(c: &Client, at: Locator<'_>, needle: &str) -> String {
    let mut seen = String::new();
    let done = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(e) = c.find(at).await {
                seen = e.text().await.unwrap_or_default();
                if seen.contains(needle) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        done.is_ok(),
        "{at:?} never showed {needle:?}; it showed {seen:?}"
    );
    seen
}

/// The visible text of the whole page.
pub async fn page_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("body text")
}

/// Saves a PNG of the whole page (the window is stretched to the page's height for it).
pub async fn screenshot(c: &Client, file: &Path) {
    let height = c
        .execute(
            "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);",
            vec![],
        )
        .await
        .ok()
        .and_then(|v: Value| v.as_u64())
        .unwrap_or(900)
        .clamp(900, 12000);
    let _ = c.execute("window.scrollTo(0, 0);", vec![]).await;
    let (w, h) = c.get_window_size().await.unwrap_or((1366, 900));
    let _ = c.set_window_size(w as u32, height as u32 + 100).await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = c.set_window_size(w as u32, h as u32).await;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).expect("screenshot folder");
    }
    std::fs::write(file, png).expect("write screenshot");
}
