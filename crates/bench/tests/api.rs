//! `healthplan-bench api`: a few timed HTTP round trips on each backend. No timing is
//! asserted; the figures must be there and every read-back must have seen its write.

use healthplan_store::testing::postgres_test_url;
use serde_json::Value;
use std::process::Command;

/// Runs the benchmark binary, asserting it succeeded; its stdout.
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

struct Backend {
    name: &'static str,
    /// The PostgreSQL server the benchmark makes its scratch database on.
    server: Option<String>,
}

fn backends() -> Vec<Backend> {
    let mut v = vec![Backend {
        name: "sqlite",
        server: None,
    }];
    match postgres_test_url() {
        Some(server) => v.push(Backend {
            name: "postgres",
            server: Some(server),
        }),
        None => eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped"),
    }
    v
}

#[test]
fn bench_api_reports_latencies_and_checks_read_your_writes() {
    let dir = tempfile::tempdir().unwrap();
    for b in backends() {
        let json = dir.path().join(format!("bench-api-{}.json", b.name));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_healthplan-bench"));
        cmd.env_remove("DATABASE_URL");
        if let Some(server) = &b.server {
            cmd.env("DATABASE_URL", server);
        }
        let out = run_ok(
            cmd.args(["api", "--iterations", "4", "--warmup", "1", "--json"])
                .arg(&json),
        );
        assert!(
            out.contains("4 PUT + read-back pairs") && out.contains("read-your-writes: ok"),
            "{}: {out}",
            b.name
        );
        for row in ["PUT", "read", "pair"] {
            let line = out
                .lines()
                .find(|l| l.split_whitespace().next() == Some(row))
                .unwrap_or_else(|| panic!("{}: no {row} row in {out}", b.name));
            let figures: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().expect("a figure"))
                .collect();
            assert_eq!(figures.len(), 4, "{}: {line}", b.name);
            assert!(figures.iter().all(|f| *f > 0.0), "{}: {line}", b.name);
            // p50 ≤ p95 ≤ p99 ≤ max
            assert!(
                figures.windows(2).all(|w| w[0] <= w[1]),
                "{}: {line}",
                b.name
            );
        }
        let j: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(j["iterations"], 4, "{}", b.name);
        assert_eq!(j["read_your_writes"], true, "{}", b.name);
        assert_eq!(j["backend"], b.name);
        // A pair takes at least as long as its PUT.
        assert!(j["pair"]["max_ms"].as_f64() >= j["PUT"]["max_ms"].as_f64());
    }
}
