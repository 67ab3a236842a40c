//! `healthplan-bench gen` + `run` through the real binary on a tiny province; the
//! checksums it prints are recomputed here independently, straight from the CSV files.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthplan-bench"))
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn int(s: &str) -> i64 {
    s.parse().unwrap()
}

/// (rows, Σsum, Σcount, Σ(sum·k mod M), Σ(count·k mod M)) per (level, period type), by brute force.
fn expected(dir: &Path) -> HashMap<(u64, String), [i128; 5]> {
    let mut levels: HashMap<i64, Vec<Option<i64>>> = HashMap::new();
    for r in rows(&dir.join("areas.csv")) {
        levels.insert(
            int(&r[0]),
            (5..10)
                .map(|i| (!r[i].is_empty()).then(|| int(&r[i])))
                .collect(),
        );
    }
    let mut periods: HashMap<i64, [i64; 3]> = HashMap::new();
    for r in rows(&dir.join("periods.csv")) {
        if r[2] == "month" {
            periods.insert(int(&r[0]), [int(&r[3]), int(&r[4]), int(&r[5])]);
        }
    }
    // (level, period type, element, area, period) → (sum, count)
    type Key = (u64, usize, i64, i64, i64);
    let mut groups: HashMap<Key, (i64, i64)> = HashMap::new();
    for r in rows(&dir.join("datavalues.csv")) {
        let (e, a, p, v) = (int(&r[0]), int(&r[1]), int(&r[2]), int(&r[3]));
        for (li, anc) in levels[&a].iter().enumerate() {
            let Some(anc) = anc else { continue };
            for (pt, pid) in periods[&p].iter().enumerate() {
                let g = groups
                    .entry((li as u64 + 1, pt, e, *anc, *pid))
                    .or_default();
                g.0 += v;
                g.1 += 1;
            }
        }
    }
    let names = ["month", "quarter", "year"];
    let m: i64 = 2_147_483_647;
    let mut out: HashMap<(u64, String), [i128; 5]> = HashMap::new();
    for ((level, pt, e, a, p), (s, c)) in groups {
        let k = ((e * 100_003 + a) * 4099 + p) % 1_000_003 + 1;
        let x = out.entry((level, names[pt].to_string())).or_default();
        x[0] += 1;
        x[1] += s as i128;
        x[2] += c as i128;
        x[3] += ((s * k) % m) as i128;
        x[4] += ((c * k) % m) as i128;
    }
    out
}

#[test]
fn bench_gen_and_run_agree_with_an_independent_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("province");
    let out = bin()
        .args([
            "gen",
            "--leaves",
            "120",
            "--cities",
            "3",
            "--towns-per-county",
            "4",
            "--communities-per-town",
            "5",
            "--elements",
            "4",
            "--months",
            "15",
            "--density",
            "0.5",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["areas.csv", "periods.csv", "elements.csv", "datavalues.csv"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let areas = rows(&dir.join("areas.csv"));
    // 1 province + 3 cities + 6 counties + 24 towns + 120 communities.
    assert_eq!(areas.len(), 1 + 3 + 6 + 24 + 120);
    assert_eq!(areas.iter().filter(|r| r[3] == "5").count(), 120);
    let n_values = rows(&dir.join("datavalues.csv")).len();
    // Density 0.5 of 120 leaves × 4 elements × 15 months = 7200 cells.
    assert!((3000..4200).contains(&n_values), "{n_values}");

    let json = tmp.path().join("run.json");
    let out = bin()
        .args(["run", "--runs", "2", "--updates", "500", "--dir"])
        .arg(&dir)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("full build"), "{stdout}");
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(got["values"], n_values as u64);
    assert_eq!(got["updates"], 500);
    let want = expected(&dir);
    let chk = got["checksums"].as_array().unwrap();
    assert_eq!(chk.len(), 15);
    for c in chk {
        let key = (
            c["level"].as_u64().unwrap(),
            c["ptype"].as_str().unwrap().to_string(),
        );
        let w = want[&key];
        let num = |f: &str| -> i128 {
            match &c[f] {
                serde_json::Value::String(s) => s.parse().unwrap(),
                v => v.as_u64().unwrap() as i128,
            }
        };
        assert_eq!(
            [
                num("rows"),
                num("sum"),
                num("count"),
                num("chk_sum"),
                num("chk_count")
            ],
            w,
            "{key:?}"
        );
    }
}

#[test]
fn bench_refuses_bad_input_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["gen", "--density", "1.5", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--density"));

    let dir = tmp.path().join("p");
    let ok = bin()
        .args([
            "gen",
            "--leaves",
            "20",
            "--cities",
            "1",
            "--towns-per-county",
            "2",
            "--communities-per-town",
            "10",
            "--elements",
            "1",
            "--months",
            "3",
            "--out",
        ])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(ok.success());
    let dv = dir.join("datavalues.csv");
    let mut text = std::fs::read_to_string(&dv).unwrap();
    text.push_str("0,4,1,12x\n");
    let bad_line = text.lines().count();
    std::fs::write(&dv, text).unwrap();
    let out = bin()
        .args(["run", "--runs", "1", "--updates", "1", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("datavalues.csv:{bad_line}")) && err.contains("12x"),
        "{err}"
    );
}
