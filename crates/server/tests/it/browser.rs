//! The data-collection workflow in a real headless Chromium: a reporter signs in, meets the
//! form's validation, submits; a planner in another browser returns the value with a comment,
//! the reporter corrects it, the planner approves; the dashboard and the indicator page show
//! it; a planner corrects an imported target and the evaluation follows. A PNG of every step
//! goes to `target/browser-artifacts/<backend>/`.

use crate::chrome::{page_text, screenshot, wait_css, wait_text, wait_text_at, Browser};
use crate::common::{account, TestApp};
use crate::stories;
use fantoccini::{Client, Locator};
use std::path::PathBuf;

stories!(
    a_value_goes_from_the_form_to_the_dashboard,
    a_pasted_block_fills_its_columns_and_bars_start_at_zero
);

use healthplan_core::number::num;

/// A string of the Chinese catalogue, so the assertions follow the wording.
pub(crate) fn zh(key: &str) -> String {
    let text = include_str!("../../i18n/zh-CN.toml");
    let table: toml::Table = text.parse().expect("zh-CN.toml");
    let mut v = &toml::Value::Table(table);
    for part in key.split('.') {
        v = v
            .get(part)
            .unwrap_or_else(|| panic!("no key {key} in zh-CN.toml"));
    }
    v.as_str().expect("a string").to_string()
}

pub(crate) struct Steps {
    pub(crate) dir: PathBuf,
    pub(crate) n: usize,
}

impl Steps {
    pub(crate) async fn shot(&mut self, c: &Client, name: &str) {
        self.n += 1;
        screenshot(c, &self.dir.join(format!("{:02}-{name}.png", self.n))).await;
    }
}

pub(crate) async fn sign_in(app: &TestApp, c: &Client, username: &str) {
    let acc = account(username);
    c.goto(&app.url("/login")).await.unwrap();
    wait_css(c, "#username")
        .await
        .send_keys(acc.username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(acc.password)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Signed in: the header names the account.
    wait_text(c, "header.top .who", acc.display_name).await;
}

/// Replaces what an input holds.
pub(crate) async fn retype(c: &Client, css: &str, text: &str) {
    let e = wait_css(c, css).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

pub(crate) async fn click(c: &Client, css: &str) {
    wait_css(c, css).await.click().await.unwrap();
}

/// The `s-…` status class of the first element matching `css`.
async fn status_class(c: &Client, css: &str) -> String {
    let class = wait_css(c, css)
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    class
        .split_whitespace()
        .find_map(|k| k.strip_prefix("s-"))
        .unwrap_or_else(|| panic!("{css} has no status class: {class:?}"))
        .to_string()
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

async fn a_value_goes_from_the_form_to_the_dashboard(app: &TestApp) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/browser-artifacts")
        .join(app.backend());
    let _ = std::fs::remove_dir_all(&dir);
    let mut steps = Steps { dir, n: 0 };

    // 1. The reporter signs in through the page and opens the form of its open round.
    let reporter = browser.session("zh-CN").await;
    sign_in(app, &reporter, "reporter-guangming").await;
    steps.shot(&reporter, "signed-in").await;
    reporter.goto(&app.url("/rounds")).await.unwrap();
    let form_link = reporter
        .wait()
        .at_most(crate::chrome::PATIENCE)
        .for_element(Locator::XPath(
            "//tr[td[contains(., '光明区')]]//a[not(contains(@href, 'overview'))]",
        ))
        .await
        .expect("the Guangming round on the rounds page");
    let form_path = form_link.attr("href").await.unwrap().unwrap();
    form_link.click().await.unwrap();
    wait_css(&reporter, "form#entry").await;
    // The first writable single-value row with last year's value to compare with.
    let row = js(
        &reporter,
        "for (const i of document.querySelectorAll('#entry input[name^=\"v.\"]:not([readonly])')) {
           const r = i.closest('tr');
           const last = parseFloat(r.querySelector('td.n').textContent);
           if (!isNaN(last)) return {i: i.getAttribute('data-row'), last: last,
             name: r.querySelector('th').firstChild.textContent.trim()};
         } return null;",
    )
    .await;
    assert!(
        row.is_object(),
        "the reporter's form has a row to fill: {}",
        page_text(&reporter).await
    );
    let i = row["i"].as_str().unwrap().to_string();
    let name = row["name"].as_str().unwrap().to_string();
    let last = row["last"].as_f64().unwrap();
    let input = format!("#v-{i}");
    let messages = format!("#msg-{i}");

    // Something that is not a number: the message appears beside the field as it changes…
    retype(&reporter, &input, "abc").await;
    click(&reporter, &format!("#c-{i}")).await;
    let shown = wait_text(&reporter, &format!("{messages} .error"), "abc").await;
    assert!(shown.contains("不是数字"), "{shown}");
    // …and saving refuses it, keeping what was typed.
    click(&reporter, "button[name=action][value=save]").await;
    wait_css(&reporter, &format!("{messages} [data-code=not_a_number]")).await;
    let alert = wait_css(&reporter, "main p.error[role=alert]")
        .await
        .text()
        .await
        .unwrap();
    assert!(!alert.is_empty());
    assert_eq!(
        wait_css(&reporter, &input)
            .await
            .prop("value")
            .await
            .unwrap(),
        Some("abc".into())
    );
    steps.shot(&reporter, "invalid-value").await;

    // 2. A valid value, submitted.
    let first = num(last * 0.98);
    retype(&reporter, &input, &first).await;
    click(&reporter, "button[name=action][value=submit]").await;
    wait_text(
        &reporter,
        "main p.notice",
        &zh("form.submitted_n").replace("{}", "1"),
    )
    .await;
    wait_css(&reporter, &format!("#row-{i} .wf.w-submitted")).await;
    assert_eq!(
        wait_css(&reporter, &input)
            .await
            .attr("readonly")
            .await
            .unwrap()
            .as_deref(),
        Some("true"),
        "a submitted value cannot be typed over"
    );
    steps.shot(&reporter, "submitted").await;

    // 3. The planner, in a browser of its own, returns it with a reason.
    let planner = browser.session("zh-CN").await;
    sign_in(app, &planner, "planner").await;
    planner.goto(&app.url("/approvals")).await.unwrap();
    let queued = planner
        .wait()
        .at_most(crate::chrome::PATIENCE)
        .for_element(Locator::XPath(&format!(
            "//tr[starts-with(@id, 'ap-') and contains(., '{name}')]"
        )))
        .await
        .expect("the submitted value in the approval queue");
    let row_id = queued.attr("id").await.unwrap().unwrap();
    let queued_text = queued.text().await.unwrap();
    assert!(queued_text.contains(&first), "{queued_text}");
    assert!(queued_text.contains("光明区"), "{queued_text}");
    let reason = "与上年差异较大，请核实后重报";
    retype(&planner, &format!("#{row_id} input[name=comment]"), reason).await;
    click(
        &planner,
        &format!("#{row_id} button[name=decision][value=return]"),
    )
    .await;
    wait_css(&planner, &format!("#{row_id} .wf.w-returned")).await;
    wait_text(&planner, &format!("#{row_id}"), reason).await;
    steps.shot(&planner, "returned").await;

    // The reporter sees why, corrects and submits again.
    reporter.goto(&app.url(&form_path)).await.unwrap();
    let why = wait_text(&reporter, &format!("#row-{i} small.warn"), reason).await;
    assert!(why.contains(&zh("form.returned_because")), "{why}");
    wait_css(&reporter, &format!("#row-{i} .wf.w-returned")).await;
    steps.shot(&reporter, "sees-the-reason").await;
    let corrected = num(last);
    retype(&reporter, &input, &corrected).await;
    retype(&reporter, &format!("#c-{i}"), "已核实更正").await;
    click(&reporter, "button[name=action][value=submit]").await;
    wait_text(
        &reporter,
        "main p.notice",
        &zh("form.submitted_n").replace("{}", "1"),
    )
    .await;
    wait_css(&reporter, &format!("#row-{i} .wf.w-submitted")).await;
    steps.shot(&reporter, "resubmitted").await;

    // The planner approves.
    planner.goto(&app.url("/approvals")).await.unwrap();
    let again = wait_text(&planner, &format!("#{row_id}"), &corrected).await;
    assert!(again.contains("已核实更正"), "{again}");
    click(
        &planner,
        &format!("#{row_id} button[name=decision][value=approve]"),
    )
    .await;
    wait_css(&planner, &format!("#{row_id} .wf.w-approved")).await;
    steps.shot(&planner, "approved").await;

    // 4. The area dashboard, evaluated as of the round's year, shows the value…
    planner.goto(&app.url("/plans")).await.unwrap();
    planner
        .wait()
        .at_most(crate::chrome::PATIENCE)
        .for_element(Locator::XPath("//a[contains(., '光明区')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let plan_path = planner.current_url().await.unwrap().path().to_string();
    assert!(plan_path.starts_with("/plans/"), "{plan_path}");
    click(&planner, &format!("a[href^='{plan_path}/dashboard']")).await;
    let year = form_path_year(&reporter).await;
    retype(&planner, "#as_of", &year).await;
    click(&planner, "#dashboard form button[type=submit]").await;
    // htmx swaps the dashboard in, then pushes the address.
    wait_url(&planner, &format!("as_of={year}")).await;
    // The swapped matrix shows the new year's value in the plan area's column.
    let cell_at =
        format!("//table[contains(@class,'matrix')]//tr[th[contains(., '{name}')]]/td[1]");
    wait_text_at(&planner, Locator::XPath(&cell_at), &corrected).await;
    let cell = planner.find(Locator::XPath(&cell_at)).await.unwrap();
    let cell_text = cell.text().await.unwrap();
    assert!(cell_text.contains(&corrected), "{cell_text}");
    let dashboard_status = cell
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
        .split_whitespace()
        .find_map(|k| k.strip_prefix("s-").map(String::from))
        .expect("a status on the cell");
    steps.shot(&planner, "dashboard").await;

    // …and so does the indicator page: the approved value, its review and its status.
    planner
        .find(Locator::XPath(&format!("{cell_at}/a")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let indicator_url = planner.current_url().await.unwrap().to_string();
    wait_text(&planner, "main h1", &name).await;
    let status_before = status_class(&planner, "header.page-head .chip").await;
    assert_eq!(status_before, dashboard_status, "the same evaluation");
    let history = wait_css(&planner, "#history tbody tr:first-child").await;
    history
        .find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let latest = history.text().await.unwrap();
    assert!(latest.starts_with(&year), "{latest}");
    assert!(latest.contains(&corrected), "{latest}");
    assert!(latest.contains(&zh("workflow.approved")), "{latest}");
    assert!(
        latest.contains(reason),
        "the return is in the audit: {latest}"
    );
    steps.shot(&planner, "indicator").await;

    // 5. The planner corrects the imported target on the review page; the status follows.
    planner.goto(&app.url(&plan_path)).await.unwrap();
    click(&planner, &format!("a[href='{plan_path}/review']")).await;
    let item = planner
        .wait()
        .at_most(crate::chrome::PATIENCE)
        .for_element(Locator::XPath(&format!(
            "//article[contains(@class, 'item') and header/strong[contains(., '{name}')]]"
        )))
        .await
        .expect("the indicator on the review page");
    let item_id = item.attr("id").await.unwrap().unwrap();
    let direction = wait_css(&planner, &format!("#{item_id} select[name=direction]"))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    let value: f64 = corrected.parse().unwrap();
    // A target this year that the value meets, unless it met the old ones already: then
    // one it cannot.
    let meet = status_before != "achieved";
    let goal = match (direction.as_str(), meet) {
        ("lower", true) | ("higher", false) => format!("≥{}", num(value * 2.0 + 1.0)),
        _ => format!("≥{}", num(value / 2.0)),
    };
    let goal = if direction == "lower" {
        goal.replace('≥', "≤")
    } else {
        goal
    };
    assert_ne!(direction, "qualitative", "{name} needs a number target");
    retype(
        &planner,
        &format!("#{item_id} textarea[name=targets]"),
        &format!("{year}: {goal}"),
    )
    .await;
    click(&planner, &format!("#{item_id} button[type=submit]")).await;
    wait_text(&planner, &format!("#{item_id} header"), &zh("review.saved")).await;
    let saved = wait_css(&planner, &format!("#{item_id} textarea[name=targets]"))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(saved.starts_with(&format!("{year}:")), "{saved}");
    steps.shot(&planner, "target-corrected").await;

    planner.goto(&indicator_url).await.unwrap();
    wait_text(&planner, "main h1", &name).await;
    let status_after = status_class(&planner, "header.page-head .chip").await;
    if meet {
        assert_eq!(status_after, "achieved", "was {status_before}");
    } else {
        assert_ne!(status_after, "achieved");
    }
    let targets = page_text(&planner).await;
    assert!(targets.contains(&format!("{year} · ")), "{targets}");
    steps.shot(&planner, "evaluation-changed").await;

    // Sanity of the artifacts: one PNG per step.
    let pngs = std::fs::read_dir(&steps.dir).unwrap().count();
    assert_eq!(pngs, steps.n);
    for c in [reporter, planner] {
        let _ = c.close().await;
    }
}

async fn wait_url(c: &Client, needle: &str) {
    let found = tokio::time::timeout(crate::chrome::PATIENCE, async {
        loop {
            if c.current_url().await.unwrap().as_str().contains(needle) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "the address never had {needle:?}");
}

/// The round's year, as the form page states it.
async fn form_path_year(reporter: &Client) -> String {
    let meta = wait_css(reporter, "header.page-head .meta")
        .await
        .text()
        .await
        .unwrap();
    let after = meta
        .split(&zh("round.period"))
        .nth(1)
        .unwrap_or_else(|| panic!("no period in {meta:?}"));
    after.trim().chars().take(4).collect()
}

/// Pastes `text` into the element `css` as Excel puts a block on the clipboard.
async fn paste(c: &Client, css: &str, text: &str) {
    let script = format!(
        "const el = document.querySelector({css:?}); const dt = new DataTransfer();
         dt.setData('text/plain', {text:?});
         el.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true, cancelable: true}}));
         return true;",
        css = css,
        text = text
    );
    js(c, &script).await;
}

async fn value_of(c: &Client, css: &str) -> String {
    wait_css(c, css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Issue 19: two columns copied from Excel (value, comment) fill both; a block fills every
/// column it covers, row after row. The sub-area bars start their value axis at 0.
async fn a_pasted_block_fills_its_columns_and_bars_start_at_zero(app: &TestApp) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let reporter = browser.session("zh-CN").await;
    sign_in(app, &reporter, "reporter-guangming").await;
    reporter.goto(&app.url("/rounds")).await.unwrap();
    let form_link = reporter
        .wait()
        .at_most(crate::chrome::PATIENCE)
        .for_element(Locator::XPath(
            "//tr[td[contains(., '光明区')]]//a[not(contains(@href, 'overview'))]",
        ))
        .await
        .expect("the Guangming round on the rounds page");
    form_link.click().await.unwrap();
    wait_css(&reporter, "form#entry").await;
    // Two writable single-value rows one after the other.
    let rows = js(
        &reporter,
        "const ok = i => { const r = document.querySelector('#v-' + i); return r && !r.readOnly && !r.disabled; };
         for (const el of document.querySelectorAll('#entry input[name^=\"v.\"]')) {
           const i = +el.getAttribute('data-row');
           if (ok(i) && ok(i + 1)) return i;
         } return null;",
    )
    .await;
    let i = rows.as_i64().expect("two value rows in a row");
    let j = i + 1;

    paste(&reporter, &format!("#v-{i}"), "12.5\t已核实，口径调整").await;
    assert_eq!(value_of(&reporter, &format!("#v-{i}")).await, "12.5");
    assert_eq!(
        value_of(&reporter, &format!("#c-{i}")).await,
        "已核实，口径调整",
        "the second column is the comment"
    );

    paste(&reporter, &format!("#v-{i}"), "7\t甲\r\n8\t乙\r\n").await;
    let got = (
        value_of(&reporter, &format!("#v-{i}")).await,
        value_of(&reporter, &format!("#c-{i}")).await,
        value_of(&reporter, &format!("#v-{j}")).await,
        value_of(&reporter, &format!("#c-{j}")).await,
    );
    assert_eq!(
        got,
        ("7".into(), "甲".into(), "8".into(), "乙".into()),
        "a 2 × 2 block fills both rows' value and comment"
    );

    // An indicator page with sub-area bars: the value axis starts at 0 (or below, for
    // negative values), not near the smallest bar.
    let planner = browser.session("zh-CN").await;
    sign_in(app, &planner, "planner").await;
    let gm = {
        let c = app.sign_in("planner").await;
        crate::common::plan_id(&c, "光明区").await
    };
    let mut checked = false;
    for k in 0..40 {
        planner
            .goto(&app.url(&format!("/plans/{gm}/indicators/{k}?as_of=2025")))
            .await
            .unwrap();
        wait_css(&planner, "main h1").await;
        let extent = js(
            &planner,
            "const el = document.getElementById('bars');
             if (!el || !window.echarts) return null;
             const c = echarts.getInstanceByDom(el);
             if (!c) return null;
             const ext = c.getModel().getComponent('xAxis', 0).axis.scale.getExtent();
             const values = c.getOption().series[0].data.map(d => d.value);
             return {min: ext[0], lowest: Math.min.apply(null, values)};",
        )
        .await;
        if extent.is_null() {
            continue;
        }
        let min = extent["min"].as_f64().unwrap();
        let lowest = extent["lowest"].as_f64().unwrap();
        assert!(
            min <= 0.0_f64.min(lowest),
            "indicator {k}: axis from {min}, lowest bar {lowest}"
        );
        checked = true;
        break;
    }
    assert!(checked, "an indicator page with sub-area bars");
    for c in [reporter, planner] {
        let _ = c.close().await;
    }
}
