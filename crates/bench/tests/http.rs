//! `healthplan-bench pages` and `load` on a tiny budget, on each backend: the tables must be
//! there, every figure ordered; no timing is asserted.

use healthplan_store::testing::postgres_test_url;
use serde_json::Value;
use std::process::Command;

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("healthplan-bench runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// (name, PostgreSQL server) of each backend configured.
fn backends() -> Vec<(&'static str, Option<String>)> {
    let mut v = vec![("sqlite", None)];
    match postgres_test_url() {
        Some(server) => v.push(("postgres", Some(server))),
        None => eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped"),
    }
    v
}

fn bench(server: &Option<String>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_healthplan-bench"));
    cmd.env_remove("DATABASE_URL");
    if let Some(s) = server {
        cmd.env("DATABASE_URL", s);
    }
    cmd
}

#[test]
fn bench_pages_times_every_page_a_role_reaches() {
    let dir = tempfile::tempdir().unwrap();
    for (name, server) in backends() {
        let json = dir.path().join(format!("pages-{name}.json"));
        let out = run_ok(
            bench(&server)
                .args([
                    "pages",
                    "--repeat",
                    "1",
                    "--max-pages",
                    "12",
                    "--per-pattern",
                    "1",
                    "--roles",
                    "planner,public",
                    "--json",
                ])
                .arg(&json),
        );
        assert!(out.contains("slowest p95"), "{name}: {out}");
        let j: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let rows = j["rows"].as_array().unwrap();
        for role in ["planner", "public"] {
            assert!(rows.iter().any(|r| r["role"] == role), "{name}: {role}");
        }
        // The planner's crawl reaches a plan's pages, not only the home page.
        assert!(
            rows.iter()
                .any(|r| r["role"] == "planner" && r["page"] == "/plans/{id}"),
            "{name}: {out}"
        );
        for r in rows {
            let f = |k: &str| r[k].as_f64().unwrap();
            assert!(r["n"].as_u64().unwrap() >= 2, "{r}");
            assert!(
                f("p50_ms") > 0.0 && f("p50_ms") <= f("p95_ms") && f("p95_ms") <= f("max_ms"),
                "{r}"
            );
        }
    }
}

#[test]
fn bench_load_reports_each_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    for (name, server) in backends() {
        let json = dir.path().join(format!("load-{name}.json"));
        let out = run_ok(
            bench(&server)
                .args([
                    "load",
                    "--seconds",
                    "1",
                    "--warmup",
                    "0",
                    "--readers",
                    "2",
                    "--rate",
                    "10",
                    "--writers",
                    "1",
                    "--json",
                ])
                .arg(&json),
        );
        let j: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let read = &j["GET /plans/1/dashboard?as_of=2025"];
        let write = &j["PUT /api/v1/values/{element}/{area}/{period}"];
        for (e, what) in [(read, "dashboard"), (write, "PUT")] {
            assert!(
                e["ok"].as_u64().unwrap() > 0,
                "{name}: no {what} answered\n{out}"
            );
            assert_eq!(e["errors"], 0, "{name}: {what} errors\n{out}");
            assert!(e["p50_ms"].as_f64() <= e["p99_ms"].as_f64(), "{name}: {e}");
        }
        assert!(j["rss_mib"]["peak"].as_f64().unwrap() > 0.0, "{name}");
    }
}
