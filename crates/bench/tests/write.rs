//! `healthplan-bench write`: a short run on each backend. No timing is asserted; every write
//! must have been acknowledged with its version and the figures must be there.

use healthplan_store::testing::postgres_test_url;
use serde_json::Value;
use std::process::Command;

#[test]
fn bench_write_reports_throughput_of_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", None)];
    match postgres_test_url() {
        Some(server) => backends.push(("postgres", Some(server))),
        None => eprintln!("HEALTHPLAN_TEST_DATABASE_URL not set: PostgreSQL half skipped"),
    }
    for (name, server) in backends {
        let json = dir.path().join(format!("bench-write-{name}.json"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_healthplan-bench"));
        cmd.env_remove("DATABASE_URL");
        if let Some(server) = &server {
            cmd.env("DATABASE_URL", server);
        }
        cmd.args(["write", "--clients", "1,3", "--seconds", "0.5"])
            .args(["--batch-size", "40", "--batches", "2", "--json"])
            .arg(&json);
        let out = cmd.output().expect("healthplan-bench runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("PUT x1") && stdout.contains("PUT x3"),
            "{name}: {stdout}"
        );
        let j: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(j["backend"], name);
        for c in [1, 3] {
            let p = &j[format!("put_{c}")];
            assert_eq!(p["clients"], c, "{name}: {j}");
            assert!(p["writes"].as_u64().unwrap() >= c, "{name}: {j}");
            assert!(p["p50_ms"].as_f64().unwrap() > 0.0, "{name}: {j}");
        }
        assert_eq!(j["batch"]["size"], 40);
        assert_eq!(j["batch"]["batches"], 2);
        assert!(j["batch"]["values_per_s"].as_f64().unwrap() > 0.0);
    }
}
