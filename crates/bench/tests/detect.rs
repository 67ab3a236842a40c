//! `healthplan-bench detect` through the real binary on a tiny city: the scores are well
//! formed, every detector is scored, and the fixed seed makes the run reproducible.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthplan-bench"))
}

fn detect(dir: &std::path::Path, name: &str) -> serde_json::Value {
    let json = dir.join(name);
    let out = bin()
        .args([
            "detect",
            "--communities",
            "30",
            "--diseases",
            "3",
            "--years",
            "4",
            "--seed",
            "7",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("full sweep") && stdout.contains("moving_percentile"),
        "{stdout}"
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn bench_detect_scores_every_detector_reproducibly() {
    let tmp = tempfile::tempdir().unwrap();
    let a = detect(tmp.path(), "a.json");
    assert_eq!(a["series"], 90);
    assert_eq!(a["days"], 209 * 7);
    let rows = a["detectors"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["detector"].as_str().unwrap())
        .collect();
    for m in [
        "ears_c1",
        "ears_c2",
        "ears_c3",
        "cusum",
        "moving_percentile",
        "farrington",
        "fixed_threshold",
    ] {
        assert!(names.contains(&m), "{m} missing from {names:?}");
    }
    for r in rows {
        let (outbreaks, detected) = (
            r["outbreaks"].as_u64().unwrap(),
            r["detected"].as_u64().unwrap(),
        );
        let sens = r["sensitivity"].as_f64().unwrap();
        assert!(detected <= outbreaks && (0.0..=1.0).contains(&sens), "{r}");
        assert!(
            r["false_alerts_per_area_year"].as_f64().unwrap() >= 0.0,
            "{r}"
        );
        if detected > 0 {
            assert!(r["median_delay_days"].as_f64().unwrap() >= 0.0, "{r}");
        }
    }
    // Same seed, same outbreaks and alarms (timings aside).
    let b = detect(tmp.path(), "b.json");
    assert_eq!(a["detectors"], b["detectors"]);
    assert_eq!(a["arrival_alerts"], b["arrival_alerts"]);
}

#[test]
fn bench_detect_refuses_a_city_without_common_diseases() {
    let out = bin()
        .args(["detect", "--communities", "5", "--diseases", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--diseases") && !err.contains("panicked"),
        "{err}"
    );
}
