//! `healthplan report` and `healthplan export` through the binary: the files they write are
//! read back and compared with what `healthplan evaluate --json` and `assess --json` say for
//! the same plan, data and year.

use crate::common::{healthplan, repo_fixture, run_err, run_ok};
use calamine::{Data, Reader, Xlsx};
use regex::Regex;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

fn eval_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/eval_fixtures")
        .join(name)
}

/// The text of every paragraph of a DOCX body (tables' cells included), in order.
fn docx_paragraphs(path: &Path) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    z.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let para = Regex::new(r"(?s)<w:p[ >].*?</w:p>").unwrap();
    let text = Regex::new(r"(?s)<w:t(?: [^>]*)?>(.*?)</w:t>").unwrap();
    para.find_iter(&xml)
        .map(|p| {
            text.captures_iter(p.as_str())
                .map(|c| {
                    c[1].replace("&amp;", "&")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                })
                .collect()
        })
        .collect()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).expect("JSON output")
}

/// The roll-up of the plan's own area in `evaluate --json` output.
fn own_rollup<'a>(ev: &'a Value, own: &str) -> &'a Value {
    let areas = ev["rollups"]["areas"].as_array().unwrap();
    let a = areas
        .iter()
        .find(|a| a["area"] == own)
        .or(areas.first())
        .unwrap();
    &a["total"]
}

const STATUSES: [(&str, &str); 7] = [
    ("achieved", "已达标"),
    ("on_track", "进度正常"),
    ("moderate", "进度滞后"),
    ("insufficient", "严重滞后"),
    ("moving_away", "逆向变化"),
    ("no_data", "无数据"),
    ("not_assessable", "无法评估"),
];

/// Checks the summary paragraph against a roll-up: the total and every non-zero count.
fn assert_summary_matches(paras: &[String], rollup: &Value, what: &str) {
    let total = rollup["total"].as_u64().unwrap();
    if total == 0 {
        assert!(
            paras.iter().any(|p| p.contains("未设置可监测的指标")),
            "{what}"
        );
        return;
    }
    let s = paras
        .iter()
        .find(|p| p.starts_with("纳入监测的"))
        .unwrap_or_else(|| panic!("{what}: no summary"));
    let first = s.split('。').next().unwrap();
    assert!(
        first.starts_with(&format!("纳入监测的{total}项指标中")),
        "{what}: {s}"
    );
    let count =
        Regex::new(r"(已达标|进度正常|进度滞后|严重滞后|逆向变化|无数据|无法评估)(\d+)项").unwrap();
    let mut said: Vec<(String, u64)> = count
        .captures_iter(first)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    said.sort();
    let mut want: Vec<(String, u64)> = STATUSES
        .iter()
        .map(|(k, zh)| (zh.to_string(), rollup["counts"][k].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    want.sort();
    assert_eq!(said, want, "{what}: {s}");
    if let Some(share) = rollup["share_achieved_or_on_track"].as_f64() {
        assert!(
            s.contains(&format!(
                "占可评估指标（{}项）的{:.1}%",
                rollup["assessed"],
                share * 100.0
            )),
            "{what}: {s}"
        );
    }
}

#[test]
fn report_summary_equals_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "--plan",
        &eval_fixture("raoping_style.json").display().to_string(),
        "--data",
        &eval_fixture("raoping_values.csv").display().to_string(),
        "--reference",
        &eval_fixture("raoping_reference.csv").display().to_string(),
        "--tasks",
        &eval_fixture("raoping_tasks.csv").display().to_string(),
    ]
    .map(String::from);
    let ev = json(&run_ok(
        healthplan(dir.path())
            .arg("evaluate")
            .args(&files)
            .args(["--as-of", "2021", "--json"]),
    ));
    let out = dir.path().join("年报.docx");
    let printed = run_ok(
        healthplan(dir.path())
            .arg("report")
            .args(&files)
            .args(["--year", "2021", "--out"])
            .arg(&out),
    );
    assert!(printed.contains("wrote"), "{printed}");
    let paras = docx_paragraphs(&out);
    assert_summary_matches(&paras, own_rollup(&ev, "饶平县"), "raoping");
    // The task sentence counts the county's tasks as evaluate does.
    let tc: Vec<&Value> = ev["task_completion"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["area"] == "饶平县")
        .collect();
    let total: u64 = tc.iter().map(|t| t["total"].as_u64().unwrap()).sum();
    let done: u64 = tc.iter().map(|t| t["completed"].as_u64().unwrap()).sum();
    assert!(
        paras
            .iter()
            .any(|p| p.starts_with(&format!("列入监测的{total}项重点任务中，已完成{done}项"))),
        "{paras:#?}"
    );
    // The assessment table holds assess's totals in its ranking order.
    let a = json(&run_ok(
        healthplan(dir.path())
            .arg("assess")
            .args(&files)
            .args(["--as-of", "2021", "--json"]),
    ));
    // (The plan's own area is not ranked against its sub-areas: a sentence says so.)
    for card in a["areas"].as_array().unwrap() {
        if card["rank"] == 0 {
            let name = card["name"].as_str().unwrap();
            assert!(
                paras
                    .iter()
                    .any(|p| p.contains(name) && p.contains("不参与排名")),
                "{name}"
            );
            continue;
        }
        let total = card["total"].as_f64().unwrap();
        let printed = format!("{}", (total * 100.0).round() / 100.0);
        assert!(paras.iter().any(|p| p == &printed), "no cell {printed}");
    }
    // Not synthetic: no label anywhere.
    assert!(!paras.iter().any(|p| p.contains("演示数据")));

    // HTML from the same inputs is one self-contained file.
    let html = dir.path().join("r.html");
    run_ok(
        healthplan(dir.path())
            .arg("report")
            .args(&files)
            .args(["--year", "2021", "--format", "html", "--out"])
            .arg(&html),
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains(r#"<html lang="zh-CN">"#) && html.contains("data:image/png;base64,"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

/// Observations for every indicator of a plan JSON from its baseline towards its last
/// numeric target, at paces from ahead of schedule to going backwards, for the plan's area
/// and two others; with task statuses. Returns (values.csv, tasks.csv).
fn demo_data(plan: &Value, year: i32) -> (String, String) {
    let own = plan["area"].as_str().unwrap_or("本级").to_string();
    let areas = [own.as_str(), "演示甲区", "演示乙区"];
    let paces = [1.5, 1.05, 0.8, 0.4, -0.3];
    let mut values = String::from("indicator,area,year,value\n");
    for (i, ind) in plan["indicators"].as_array().unwrap().iter().enumerate() {
        let targets = ind["targets"].as_array().unwrap();
        let Some(last) = targets.iter().max_by_key(|t| t["year"].as_i64()) else {
            continue;
        };
        let (Some(goal), Some(ty)) = (last["value"].as_f64(), last["year"].as_i64()) else {
            continue;
        };
        if last["kind"] != "threshold" {
            continue;
        }
        let lower = ind["direction"] == "lower";
        let (b, t0) = match (
            ind["baseline"]["value"].as_f64(),
            ind["baseline"]["year"].as_i64(),
        ) {
            (Some(b), Some(t0)) => (b, t0),
            _ => (if lower { goal * 1.2 } else { goal * 0.8 }, ty - 6),
        };
        if ty <= t0 {
            continue;
        }
        let name = ind["name"].as_str().unwrap().to_string();
        let key = ind["code"]
            .as_str()
            .map(String::from)
            .unwrap_or(name)
            .replace('"', "\"\"");
        for (k, area) in areas.iter().enumerate() {
            let pace = paces[(i + k) % paces.len()];
            for y in (t0 + 1) as i32..=year.min(ty as i32) {
                let s = (y as f64 - t0 as f64) / (ty - t0) as f64;
                let v = b + (goal - b) * s * pace;
                values += &format!("\"{key}\",{area},{y},{:.2}\n", v.max(0.0));
            }
        }
    }
    let statuses = [
        "completed",
        "in_progress",
        "delayed",
        "not_started",
        "in_progress",
    ];
    let mut tasks = String::from("task,area,status\n");
    for (n, t) in plan["tasks"].as_array().unwrap().iter().enumerate() {
        for (k, area) in areas.iter().enumerate() {
            if (n + k) % 6 != 5 {
                tasks += &format!(
                    "{},{area},{}\n",
                    t["id"].as_str().unwrap(),
                    statuses[(n + 2 * k) % statuses.len()]
                );
            }
        }
    }
    (values, tasks)
}

/// The issue's done-when: for each bundled plan with demo data the DOCX report's summary
/// equals `evaluate`'s numbers, and LibreOffice (when installed) converts it.
#[test]
fn every_seed_plan_reports_with_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [
        "001_1089f704d02fb494.txt",
        "002_7e66034cdb9a4942.txt",
        "004_761ed102bf2849c9.txt",
    ] {
        let plan_json = run_ok(
            healthplan(dir.path())
                .args(["plan", "import"])
                .arg(repo_fixture(&format!("seeds/{seed}")))
                .arg("--json"),
        );
        let plan: Value = json(&plan_json);
        let (values, tasks) = demo_data(&plan, 2024);
        let p = |n: &str| dir.path().join(format!("{seed}.{n}"));
        std::fs::write(p("plan.json"), &plan_json).unwrap();
        std::fs::write(p("values.csv"), values).unwrap();
        std::fs::write(p("tasks.csv"), tasks).unwrap();
        let files: Vec<String> = [
            "--plan".into(),
            p("plan.json").display().to_string(),
            "--data".into(),
            p("values.csv").display().to_string(),
            "--tasks".into(),
            p("tasks.csv").display().to_string(),
        ]
        .to_vec();
        let ev = json(&run_ok(
            healthplan(dir.path())
                .arg("evaluate")
                .args(&files)
                .args(["--as-of", "2024", "--json"]),
        ));
        run_ok(
            healthplan(dir.path())
                .arg("report")
                .args(&files)
                .args(["--year", "2024", "--synthetic", "--format", "docx", "--out"])
                .arg(p("docx")),
        );
        let paras = docx_paragraphs(&p("docx"));
        let own = plan["area"].as_str().unwrap();
        assert_summary_matches(&paras, own_rollup(&ev, own), seed);
        // Demo data are labelled on the cover and on every table's caption.
        let captions: Vec<&String> = paras.iter().filter(|p| p.starts_with('表')).collect();
        assert!(!captions.is_empty());
        assert!(
            captions.iter().all(|c| c.ends_with("（演示数据）")),
            "{captions:?}"
        );
        assert!(paras.iter().take(12).any(|p| p == "演示数据"));

        if healthplan_office::has_libreoffice() && healthplan_office::has_poppler() {
            let docx = std::fs::read(p("docx")).unwrap();
            let pdf = healthplan_office::convert(
                &docx,
                "r.docx",
                "pdf",
                healthplan_office::DEFAULT_TIMEOUT,
            )
            .expect("LibreOffice converts the report");
            let text = healthplan_office::pdf_to_layout_text(
                &pdf,
                "r.pdf",
                healthplan_office::DEFAULT_TIMEOUT,
            )
            .unwrap()
            .replace(char::is_whitespace, "");
            assert!(
                text.contains("年度监测评估报告") && text.contains("演示数据"),
                "{seed}"
            );
        } else {
            eprintln!("LibreOffice not installed: conversion of {seed} not checked");
        }
    }
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let r = wb.worksheet_range(name).unwrap();
    r.rows().map(|r| r.to_vec()).collect()
}

fn cell(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

#[test]
fn exports_carry_status_approver_and_the_working() {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.csv");
    std::fs::write(
        &values,
        "indicator,area,year,value,status,approver\nLIT,饶平县,2021,25.4,approved,李审核\nIMR,饶平县,2021,3.0,已报送,\n产前筛查率,饶平县,2021,81,,\n",
    )
    .unwrap();
    let plan = eval_fixture("raoping_style.json").display().to_string();
    let base = |what: &str, out: &Path| {
        let mut c = healthplan(dir.path());
        c.args(["export", "--plan", &plan, "--data"])
            .arg(&values)
            .args(["--tasks"])
            .arg(eval_fixture("raoping_tasks.csv"))
            .args(["--year", "2021", "--what", what, "--out"])
            .arg(out);
        c
    };
    let v = dir.path().join("values.xlsx");
    run_ok(&mut base("values", &v));
    let rows = sheet(&v, "数据值");
    let lit = rows
        .iter()
        .find(|r| cell(&r[2]) == "居民健康素养水平")
        .unwrap();
    assert_eq!(
        (cell(&lit[6]), cell(&lit[8]), cell(&lit[9])),
        ("25.4".into(), "已审核".into(), "李审核".into())
    );
    let imr = rows.iter().find(|r| cell(&r[2]) == "婴儿死亡率").unwrap();
    assert_eq!(
        (cell(&imr[8]), cell(&imr[9])),
        ("已报送".into(), String::new())
    );

    let a = dir.path().join("assessment.xlsx");
    run_ok(&mut base("assessment", &a));
    let working = sheet(&a, "计分明细");
    assert!(
        working.iter().any(|r| cell(&r[9]).contains("× ")),
        "{working:?}"
    );
    let e = dir.path().join("evaluation.xlsx");
    run_ok(&mut base("evaluation", &e));
    assert!(sheet(&e, "评估结果").len() > 8);

    // A bad workflow status names the file, line and column.
    std::fs::write(
        &values,
        "indicator,area,year,value,status\nLIT,饶平县,2021,25.4,maybe\n",
    )
    .unwrap();
    let err = run_err(&mut base("values", &v));
    assert!(
        err.contains("line 2, column `status`") && err.contains("maybe"),
        "{err}"
    );
}

#[test]
fn report_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let plan = eval_fixture("raoping_style.json");
    let data = eval_fixture("raoping_values.csv");
    let args = |out: &str| {
        let mut c = healthplan(dir.path());
        c.args(["report", "--plan"])
            .arg(&plan)
            .arg("--data")
            .arg(&data)
            .args(["--year", "2021", "--out"])
            .arg(dir.path().join(out));
        c
    };
    let err = run_err(&mut args("report.txt"));
    assert!(err.contains("--format docx|html|pdf"), "{err}");
    // Without LibreOffice on PATH, PDF names the package and nothing is written.
    let err = run_err(args("report.pdf").env("PATH", dir.path()));
    assert!(
        err.contains("libreoffice-writer-nogui") && err.contains("docx"),
        "{err}"
    );
    assert!(!dir.path().join("report.pdf").exists());
    let err = run_err(
        healthplan(dir.path())
            .args(["report", "--plan"])
            .arg(&plan)
            .arg("--data")
            .arg(&data)
            .args(["--year", "3000", "--out"])
            .arg(dir.path().join("r.docx")),
    );
    assert!(err.contains("not a plausible year"), "{err}");
    // A year without observations, and one before the baseline, are refused with the
    // years that have data; nothing is written.
    let year = |y: &str| {
        run_err(
            healthplan(dir.path())
                .args(["report", "--plan"])
                .arg(&plan)
                .arg("--data")
                .arg(&data)
                .args(["--year", y, "--out"])
                .arg(dir.path().join("r.docx")),
        )
    };
    let err = year("2019");
    assert!(
        err.contains("2019年没有监测数据") && err.contains("有监测数据的年份：2017年"),
        "{err}"
    );
    let err = year("2016");
    assert!(err.contains("早于规划基线年2017年"), "{err}");
    assert!(!dir.path().join("r.docx").exists());
}
