//! `healthplan-bench pages`: the server time of every page for every demo role. Each role
//! signs in and crawls the site from its home page (every same-site link a page offers,
//! GET only, a few URLs per page pattern), then fetches each page again `--repeat` times;
//! the table gives p50/p95/max per page pattern and role, cold first fetch included.

use crate::serve::{quantile_ms, sign_in, with_demo};
use anyhow::{Context, Result};
use clap::Args;
use healthplan_app::demo::ACCOUNTS;
use reqwest::Client;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct PagesArgs {
    /// Timed fetches of each page after the crawl's first.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Distinct URLs fetched per page pattern (`/plans/{id}/indicators/{id}?as_of`) and role.
    #[arg(long, default_value_t = 3)]
    pub per_pattern: usize,
    /// At most this many pages per role.
    #[arg(long, default_value_t = 200)]
    pub max_pages: usize,
    /// Roles (demo account names, or `public`); every demo account and `public` by default.
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A PostgreSQL server to run on (a scratch database is created and dropped); the
    /// default is a SQLite file in a temporary directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// One (page pattern, role): its status codes and server times in seconds.
#[derive(Default)]
struct Timings {
    statuses: BTreeSet<u16>,
    urls: BTreeSet<String>,
    times: Vec<f64>,
}

pub async fn run(a: &PagesArgs) -> Result<()> {
    with_demo(a.database_url.as_deref(), |demo| async move {
        let roles: Vec<String> = if a.roles.is_empty() {
            ACCOUNTS
                .iter()
                .map(|a| a.username.to_string())
                .chain(["public".to_string()])
                .collect()
        } else {
            a.roles.clone()
        };
        let mut table: BTreeMap<(String, String), Timings> = BTreeMap::new();
        for role in &roles {
            let client = if role == "public" {
                Client::builder().cookie_store(true).build()?
            } else {
                sign_in(&demo.base, role).await?.0
            };
            let pages = crawl(&client, &demo.base, a, role, &mut table).await?;
            for _ in 0..a.repeat {
                for (pattern, url) in &pages {
                    let (status, secs, _) = fetch(&client, &demo.base, url).await?;
                    let t = table.entry((pattern.clone(), role.clone())).or_default();
                    t.statuses.insert(status);
                    t.times.push(secs);
                }
            }
        }
        report(a, &demo.backend, demo.synthetic_values, &table)
    })
    .await
}

/// GET one path; (status, seconds to the last byte, the body when it is HTML).
async fn fetch(client: &Client, base: &str, path: &str) -> Result<(u16, f64, Option<String>)> {
    let t = Instant::now();
    let r = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .with_context(|| format!("GET {path}"))?;
    let status = r.status().as_u16();
    let html = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    let body = r.bytes().await?;
    let secs = t.elapsed().as_secs_f64();
    Ok((
        status,
        secs,
        html.then(|| String::from_utf8_lossy(&body).into_owned()),
    ))
}

/// Breadth-first from the home page; every page fetched is timed once. Returns the pages
/// kept (HTML answers), with their patterns.
async fn crawl(
    client: &Client,
    base: &str,
    a: &PagesArgs,
    role: &str,
    table: &mut BTreeMap<(String, String), Timings>,
) -> Result<Vec<(String, String)>> {
    let mut queue: VecDeque<String> = ["/", "/plans", "/public"]
        .into_iter()
        .map(String::from)
        .collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut per_pattern: BTreeMap<String, usize> = BTreeMap::new();
    let mut pages = Vec::new();
    while let Some(url) = queue.pop_front() {
        if pages.len() >= a.max_pages {
            break;
        }
        let (status, secs, html) = fetch(client, base, &url).await?;
        let Some(html) = html else { continue };
        let p = pattern(&url);
        let t = table.entry((p.clone(), role.to_string())).or_default();
        t.statuses.insert(status);
        t.urls.insert(url.clone());
        t.times.push(secs);
        pages.push((p, url));
        for link in links(&html) {
            let lp = pattern(&link);
            let n = per_pattern.entry(lp).or_default();
            if *n < a.per_pattern && seen.insert(link.clone()) {
                *n += 1;
                queue.push_back(link);
            }
        }
    }
    Ok(pages)
}

/// Same-site links a page offers that a GET may follow without changing anything or
/// leaving the pages (assets, the API, downloads, the language switch).
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in html.split("href=\"").skip(1) {
        let Some(end) = part.find('"') else { continue };
        let link = part[..end].replace("&amp;", "&");
        let link = link.split('#').next().unwrap_or("").to_string();
        if !link.starts_with('/') || link.starts_with("//") {
            continue;
        }
        let path = link.split('?').next().unwrap_or("");
        let skip = ["/assets/", "/api/", "/lang/", "/logout", "/login"]
            .iter()
            .any(|p| path.starts_with(p))
            || path == "/favicon.ico"
            || [".csv", ".xlsx", ".docx", ".pdf", ".json", ".zip", ".html"]
                .iter()
                .any(|e| path.ends_with(e))
            || path.contains("/report")
            || path.contains("/export")
            || path.contains("/template")
            || path.contains("/evidence");
        if !skip {
            out.push(link);
        }
    }
    out
}

/// A URL's page pattern: numeric path segments become `{id}`, the query keeps its keys.
fn pattern(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut p: String = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    if p.is_empty() {
        p = "/".into();
    }
    let keys: BTreeSet<&str> = query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .filter(|k| !k.is_empty())
        .collect();
    if !keys.is_empty() {
        p += "?";
        p += &keys.into_iter().collect::<Vec<_>>().join("&");
    }
    p
}

fn report(
    a: &PagesArgs,
    backend: &str,
    synthetic: usize,
    table: &BTreeMap<(String, String), Timings>,
) -> Result<()> {
    let mut out = format!(
        "{backend}: demo database with {synthetic} synthetic values; {} page × role rows, {} timed fetches (cold first fetch included)\n",
        table.len(),
        table.values().map(|t| t.times.len()).sum::<usize>()
    );
    out += &format!(
        "{:<48} {:<20} {:>4} {:>8} {:>9} {:>9} {:>9}\n",
        "page", "role", "urls", "status", "p50 ms", "p95 ms", "max ms"
    );
    let mut rows = Vec::new();
    let mut worst: Option<(f64, String, String)> = None;
    for ((page, role), t) in table {
        let mut s = t.times.clone();
        s.sort_by(f64::total_cmp);
        let (p50, p95, max) = (
            quantile_ms(&s, 0.5),
            quantile_ms(&s, 0.95),
            quantile_ms(&s, 1.0),
        );
        let status = t
            .statuses
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join("/");
        out += &format!(
            "{page:<48} {role:<20} {:>4} {status:>8} {p50:>9.1} {p95:>9.1} {max:>9.1}\n",
            t.urls.len()
        );
        if worst.as_ref().is_none_or(|w| p95 > w.0) {
            worst = Some((p95, page.clone(), role.clone()));
        }
        rows.push(
            json!({"page": page, "role": role, "urls": t.urls, "statuses": t.statuses,
            "n": s.len(), "p50_ms": p50, "p95_ms": p95, "max_ms": max}),
        );
    }
    if let Some((p95, page, role)) = &worst {
        out += &format!("slowest p95: {p95:.1} ms ({page} as {role})\n");
    }
    crate::print(&out)?;
    if let Some(p) = &a.json {
        let j = json!({"backend": backend, "repeat": a.repeat, "rows": rows,
            "worst_p95_ms": worst.as_ref().map(|w| w.0)});
        std::fs::write(p, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_hide_ids_and_query_values() {
        assert_eq!(pattern("/"), "/");
        assert_eq!(
            pattern("/plans/12/indicators/3?as_of=2025&area=440300"),
            "/plans/{id}/indicators/{id}?area&as_of"
        );
        assert_eq!(pattern("/approvals?status=approved"), "/approvals?status");
    }

    #[test]
    fn links_keep_pages_only() {
        let html = r#"<a href="/plans/1?as_of=2025&amp;area=4403#x">p</a>
            <a href="/assets/app.css">a</a><a href="https://x.example/">x</a>
            <a href="/lang/en?next=/">en</a><a href="/api/v1/plans">api</a>
            <a href="/plans/1/report.docx">r</a><a href="//evil">e</a>"#;
        assert_eq!(links(html), vec!["/plans/1?as_of=2025&area=4403"]);
    }
}
