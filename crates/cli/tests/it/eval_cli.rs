//! End-to-end tests of `healthplan evaluate | assess | align` on real files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/eval_fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("hp-eval-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str], data_dir: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthplan"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let d = TempDir::new("ok");
    let o = run(args, &d.path("data"));
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn ok_json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

fn close(v: &Value, want: f64, tol: f64) -> bool {
    (v.as_f64().unwrap() - want).abs() <= tol
}

#[test]
fn evaluate_reproduces_the_worked_case() {
    let (plan, data) = (
        fixture("worked_case_plan.json"),
        fixture("worked_case_values.csv"),
    );
    let v = ok_json(&[
        "evaluate", "--plan", &plan, "--data", &data, "--as-of", "2021", "--json",
    ]);
    assert_eq!(v["as_of"], 2021);
    let r = &v["results"][0];
    assert_eq!(r["status"], "on_track");
    assert_eq!(r["summary_zh"], "2022年目标：已达标；2030年目标：进度正常");
    let t2030 = &r["targets"][1];
    assert!(close(&t2030["p"], 0.70923, 5e-5));
    assert!(close(&t2030["s"], 0.30769, 5e-5));
    assert!(close(&t2030["r"], 2.305, 5e-3));
    let eurostat = t2030["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "eurostat")
        .unwrap();
    assert!(close(&eurostat["values"]["cagr_actual"], 0.15688, 5e-6));
    assert!(close(&eurostat["values"]["cagr_required"], 0.05934, 5e-6));
    assert!(close(&eurostat["ratio"], 2.644, 5e-4));
    assert_eq!(eurostat["category"], "significant_progress");
    assert_eq!(r["targets"][0]["status"], "achieved");

    let table = ok(&[
        "evaluate", "--plan", &plan, "--data", &data, "--as-of", "2021",
    ]);
    assert!(
        table.contains("2021年值25.4%，较基线14.18%（2017年）提高11.22个百分点"),
        "{table}"
    );
    assert!(table.contains("进度正常") && table.contains("2.30"));
    let sdsn = ok(&[
        "evaluate", "--plan", &plan, "--data", &data, "--as-of", "2021", "--method", "sdsn",
    ]);
    assert!(sdsn.contains("按期推进"), "{sdsn}");
    for (method, label) in [
        ("default", "进度正常"),
        ("eurostat", "显著进展"),
        ("unsd2022", "显著进展"),
        ("unsd2023", "有望实现"),
        ("escap", "保持"),
    ] {
        let t = ok(&[
            "evaluate", "--plan", &plan, "--data", &data, "--as-of", "2021", "--method", method,
        ]);
        assert!(t.contains(label), "{method}: {t}");
        assert!(t.contains(&format!("方法：{method}")));
    }
}

#[test]
fn evaluate_with_reference_series_and_tasks() {
    let v = ok_json(&[
        "evaluate",
        "--plan",
        &fixture("raoping_style.json"),
        "--data",
        &fixture("raoping_values.csv"),
        "--reference",
        &fixture("raoping_reference.csv"),
        "--tasks",
        &fixture("raoping_tasks.csv"),
        "--as-of",
        "2021",
        "--json",
    ]);
    let pa = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"] == "饶平县" && r["code"] == "PA")
        .unwrap();
    assert_eq!(pa["status"], "on_track");
    assert_eq!(pa["targets"][0]["goal"], 36.0);
    let county = v["rollups"]["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == "饶平县")
        .unwrap();
    assert_eq!(county["total"]["counts"]["achieved"], 1);
    assert_eq!(county["total"]["share_achieved_or_on_track"], 0.5);
    assert_eq!(county["total"]["binding"].as_array().unwrap().len(), 4);
    assert!(v["task_completion"].as_array().unwrap().len() >= 4);
    assert_eq!(v["rejected_rows"].as_array().unwrap().len(), 0);

    // Without the reference file the same target says which value is missing.
    let v = ok_json(&[
        "evaluate",
        "--plan",
        &fixture("raoping_style.json"),
        "--data",
        &fixture("raoping_values.csv"),
        "--as-of",
        "2021",
        "--json",
    ]);
    let pa = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"] == "饶平县" && r["code"] == "PA")
        .unwrap();
    assert_eq!(pa["status"], "not_assessable");
    assert!(pa["targets"][0]["reason_en"]
        .as_str()
        .unwrap()
        .contains("national_average"));
}

#[test]
fn bad_rows_are_reported_one_by_one_and_nothing_is_evaluated() {
    let d = TempDir::new("bad");
    let args = [
        "evaluate",
        "--plan",
        &fixture("raoping_style.json"),
        "--data",
        &fixture("bad_values.csv"),
        "--as-of",
        "2021",
        "--json",
    ];
    let o = run(&args, &d.path("data"));
    assert!(!o.status.success());
    assert!(o.stdout.is_empty(), "something was evaluated");
    let err = String::from_utf8(o.stderr).unwrap();
    for needle in [
        "bad_values.csv: line 3, column `indicator`: unknown indicator \"不存在的指标\"",
        "line 4, column `year`: duplicate row",
        "line 5, column `value`: \"abc\" is not a number",
        "line 6, column `year`: 2045 is outside the plan's years 2017–2030",
        "4 bad row(s); nothing was evaluated",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    let mut partial = args.to_vec();
    partial.push("--allow-partial");
    let v = ok_json(&partial);
    assert_eq!(v["rejected_rows"].as_array().unwrap().len(), 4);
    assert_eq!(v["rejected_rows"][2]["line"], 5);
    let lit = &v["results"].as_array().unwrap()[0];
    assert_eq!(lit["observations"].as_array().unwrap().len(), 1);
}

#[test]
fn missing_and_malformed_files_are_named() {
    let d = TempDir::new("missing");
    std::fs::write(d.path("plan.json"), "{\n  \"indicators\": [1]\n}").unwrap();
    std::fs::write(d.path("bad.toml"), "[status]\non_track = 0.1\n").unwrap();
    let cases: [(Vec<String>, &str); 4] = [
        (
            vec![
                "--plan".into(),
                fixture("raoping_style.json"),
                "--data".into(),
                d.path("nope.csv"),
            ],
            "nope.csv",
        ),
        (
            vec![
                "--plan".into(),
                d.path("plan.json"),
                "--data".into(),
                fixture("raoping_values.csv"),
            ],
            "plan.json: line 2",
        ),
        (
            vec![
                "--plan".into(),
                "not-a-plan".into(),
                "--data".into(),
                fixture("raoping_values.csv"),
            ],
            "not-a-plan: no such file, and not a plan id",
        ),
        (
            vec![
                "--plan".into(),
                fixture("raoping_style.json"),
                "--data".into(),
                fixture("raoping_values.csv"),
                "--scheme".into(),
                d.path("bad.toml"),
            ],
            "bad.toml: settings: status: need on_track > moderate",
        ),
    ];
    for (args, needle) in cases {
        let mut full: Vec<&str> = vec!["evaluate", "--as-of", "2021"];
        full.extend(args.iter().map(String::as_str));
        let o = run(&full, &d.path("data"));
        assert!(!o.status.success(), "{full:?}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.contains(needle), "{needle:?} not in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn assess_ranks_with_the_working_and_honours_the_scheme() {
    let base = [
        "assess",
        "--plan",
        &fixture("raoping_style.json"),
        "--data",
        &fixture("raoping_values.csv"),
        "--reference",
        &fixture("raoping_reference.csv"),
        "--tasks",
        &fixture("raoping_tasks.csv"),
        "--as-of",
        "2021",
    ];
    let mut j = base.to_vec();
    j.push("--json");
    let v = ok_json(&j);
    let top = &v["areas"][0];
    // The plan's own area is not ranked against its town (rank 0).
    assert_eq!(
        (top["rank"].as_i64(), top["name"].as_str()),
        (Some(0), Some("饶平县"))
    );
    assert!(close(&top["total"], 75.75, 1e-9));
    assert_eq!(top["working"].as_array().unwrap().len(), 7);
    // The town answers only for the task it reports on: 5.25 + 30 × 0.4.
    assert!(close(&v["areas"][1]["total"], 17.25, 1e-9));
    assert_eq!(v["areas"][1]["rank"], 1);
    assert_eq!(v["departments"][0]["name"], "县卫生健康局");
    assert!(close(&v["departments"][1]["percent"], 80.0, 1e-9));

    let scheme = fixture("scheme.toml");
    let mut s = j.clone();
    s.extend(["--scheme", scheme.as_str()]);
    let v = ok_json(&s);
    let top = &v["areas"][0];
    assert!(close(&top["indicator_part"]["points"], 54.0, 1e-9), "{top}");
    assert!(close(&top["total"], 78.0, 1e-9));
    assert_eq!(v["scheme"]["task_points"], 40.0);

    let table = ok(&base);
    assert!(
        table.contains("各地区排名")
            && table.contains("建立健康科普专家库：严重滞后，17.5 × 0.3 = 5.25分"),
        "{table}"
    );
    assert!(table.contains("该部门没有牵头的约束性指标"));
}

/// The gold table of one seed document, written as a plan file.
fn gold_plan(dir: &TempDir, prefix: &str) -> String {
    let gold =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/gold/indicator_tables.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(gold).unwrap()).unwrap();
    let t = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["doc"].as_str().unwrap().starts_with(prefix))
        .unwrap();
    let plan = serde_json::json!({"title": t["caption"], "indicators": t["indicators"]});
    let path = dir.path(&format!("gold_{prefix}.json"));
    std::fs::write(&path, plan.to_string()).unwrap();
    path
}

#[test]
fn align_gold_tables_and_reference_columns() {
    let d = TempDir::new("align");
    let (child, parent) = (gold_plan(&d, "001"), gold_plan(&d, "004"));
    let v = ok_json(&["align", "--child", &child, "--parent", &parent, "--json"]);
    let lines = v["parent"]["lines"].as_array().unwrap();
    let find = |name: &str| lines.iter().find(|l| l["indicator"] == name).unwrap();
    assert_eq!(find("婴儿死亡率")["result"], "stricter");
    assert_eq!(find("婴儿死亡率")["parent_year"], 2030);
    assert_eq!(find("高血压规范管理率")["result"], "weaker");
    assert_eq!(find("人均期望寿命")["result"], "not_comparable");
    assert!(v["parent"]["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "每万人口拥有全科医生数"));

    let v = ok_json(&["align", "--child", &fixture("raoping_style.json"), "--json"]);
    assert!(v["parent"].is_null());
    let c = &v["references"]["counts"];
    assert_eq!(
        (
            c["stricter"].as_i64(),
            c["equal"].as_i64(),
            c["weaker"].as_i64(),
            c["not_comparable"].as_i64()
        ),
        (Some(2), Some(3), Some(3), Some(2))
    );
    let table = ok(&["align", "--child", &fixture("raoping_style.json")]);
    assert!(
        table.contains("绝对数或金额（万人）在不同层级之间不可比"),
        "{table}"
    );
}

#[test]
fn plans_by_id_from_the_store() {
    // SQLite always, PostgreSQL too when HEALTHPLAN_TEST_DATABASE_URL is set.
    for b in crate::common::Backend::all() {
        let ok_in = |args: &[&str]| {
            let o = b.cmd().args(args).output().unwrap();
            assert!(
                o.status.success(),
                "{} {args:?}: {}",
                b.name,
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8(o.stdout).unwrap()
        };
        let out = ok_in(&["plan", "load", &fixture("raoping_style.json")]);
        let id = out
            .split_whitespace()
            .nth(1)
            .expect("plan load prints `plan <id> loaded …`")
            .to_string();
        let v: Value = serde_json::from_str(&ok_in(&[
            "evaluate",
            "--plan",
            &id,
            "--data",
            &fixture("raoping_values.csv"),
            "--as-of",
            "2021",
            "--json",
        ]))
        .unwrap();
        assert_eq!(
            v["plan"], "健康饶平行动（测试用，饶平式对照列）",
            "{}",
            b.name
        );
        let v: Value = serde_json::from_str(&ok_in(&["align", "--child", &id, "--json"])).unwrap();
        assert_eq!(v["references"]["lines"].as_array().unwrap().len(), 10);

        // With the area registry in the store, an area may be given by code or by name.
        ok_in(&["area", "import", &fixture("areas.csv")]);
        let v: Value = serde_json::from_str(&ok_in(&[
            "evaluate",
            "--plan",
            &id,
            "--data",
            &fixture("values_by_code.csv"),
            "--as-of",
            "2021",
            "--json",
        ]))
        .unwrap();
        assert_eq!(v["areas"], serde_json::json!(["饶平县"]), "{}", b.name);
        assert_eq!(v["results"][0]["status"], "on_track");
        assert_eq!(v["results"][1]["status"], "achieved");
    }
}
