//! `healthplan bench api`: a few timed HTTP round trips on each backend. No timing is
//! asserted; the figures must be there and every read-back must have seen its write.

use crate::common::{run_ok, Backend};
use serde_json::Value;

#[test]
fn bench_api_reports_latencies_and_checks_read_your_writes() {
    for b in Backend::all() {
        let json = b.dir.path().join("bench-api.json");
        let out = run_ok(
            b.cmd()
                .args([
                    "bench",
                    "api",
                    "--iterations",
                    "4",
                    "--warmup",
                    "1",
                    "--json",
                ])
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
