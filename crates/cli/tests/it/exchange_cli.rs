//! `data template / import / export` in the exchange formats, through the binary, on SQLite
//! and PostgreSQL: a template written, filled as a person would, re-imported; bad uploads
//! get cell-level errors and change nothing; DHIS2 JSON, ADX, CSV and XLSX round trips into
//! an empty database lose nothing.

use crate::common::{fixture, run_err, run_ok, Backend};
use calamine::{Data, Reader};
use healthplan_core::{DataValue, Period, Value};
use healthplan_exchange::testing::{fill, Fill};
use std::io::Write;
use std::path::{Path, PathBuf};

const AREAS: &str = "code,name,level,parent_code
440000,广东省,province,
445300,云浮市,city,440000
445302,云城区,county,445300
445303,云安区,county,445300
";

const ELEMENTS: &str = "code,name,value_type,aggregation
HL01,居民健康素养水平,number,average
HL02,婴儿死亡率,number,weighted
HL03,孕产妇死亡率,number,weighted
HL06,建立健康科普专家库,boolean,none
";

const MAPPING: &str = "kind,local_code,dhis2_code
element,HL01,DE_LIT
element,HL02.num,DE_INF_DEATHS
element,HL02.den,DE_LIVE_BIRTHS
element,HL03,DE_MMR
element,HL06,DE_EXPERTS
org_unit,445300,OU_YF
org_unit,445302,OU_YC
org_unit,445303,OU_YA
";

/// Values of every kind, several period kinds, comments with quotes and line breaks.
const VALUES: &str = "element,area_code,period,value,numerator,denominator,status,comment
HL01,445302,2023,20,,,approved,
HL01,445300,2024,25.4,,,submitted,\"含流动人口, \"\"抽样\"\"\"
HL01,445303,2024Q2,0.30000000000000004,,,,
HL02,445302,2024,,3,1201,,\"两行
备注\"
HL02,445303,202403,,0,17,,
HL03,445300,2024,12.5,,,,
HL06,445300,2024,true,,,,
HL06,445302,2024,false,,,,已立项
";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Areas, elements, and the Yunfu plan with codes on two more indicators; returns the plan id.
fn setup(b: &Backend) -> i64 {
    let dir = b.dir.path();
    run_ok(
        b.cmd()
            .args(["area", "import"])
            .arg(write(dir, "a.csv", AREAS)),
    );
    run_ok(
        b.cmd()
            .args(["data", "elements"])
            .arg(write(dir, "e.csv", ELEMENTS)),
    );
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("plan_yunfu.json")).unwrap())
            .unwrap();
    plan["indicators"][2]["code"] = "HL03".into();
    plan["indicators"][5]["code"] = "HL06".into();
    let path = write(dir, "plan.json", plan.to_string());
    let out = run_ok(b.cmd().args(["plan", "load"]).arg(path));
    out.strip_prefix("plan ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no plan id in {out:?}"))
}

type Row = (String, String, Period, Value, Option<String>);

/// Every stored value as (element, area, period, value, comment), sorted.
fn stored(b: &Backend) -> Vec<Row> {
    let (rt, store) = b.store();
    let mut v: Vec<Row> = rt
        .block_on(async {
            let scope = crate::common::everything(&store).await;
            store.list_data_values(&scope, &Default::default()).await
        })
        .unwrap()
        .into_iter()
        .map(|d: DataValue| (d.element, d.area.to_string(), d.period, d.value, d.comment))
        .collect();
    rt.block_on(store.close());
    v.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    v
}

/// A fresh, empty database of the same kind.
fn fresh_like(b: &Backend) -> Backend {
    match b.database_url {
        Some(_) => Backend::postgres().expect("PostgreSQL configured"),
        None => Backend::sqlite(),
    }
}

/// The A1 reference of `col` in the form row for (element, area).
fn cell(template: &[u8], element: &str, area: &str, col: &str) -> String {
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template)).unwrap();
    let range = wb.worksheet_range("填报表").unwrap();
    let text = |r: u32, c: u32| match range.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        _ => String::new(),
    };
    let row = (0..=range.end().unwrap().0)
        .find(|&r| text(r, 0) == area && text(r, 3) == element)
        .unwrap_or_else(|| panic!("no row for {element} {area}"));
    format!("{col}{}", row + 1)
}

#[test]
fn template_round_trip_with_cell_errors_that_change_nothing() {
    for b in Backend::all() {
        let dir = b.dir.path();
        let plan = setup(&b).to_string();
        run_ok(b.cmd().args(["data", "import"]).arg(write(
            dir,
            "prev.csv",
            "element,area_code,period,value\nHL01,445302,2023,20\n",
        )));
        let t = dir.join("t.xlsx");
        let out = run_ok(
            b.cmd()
                .args([
                    "data", "template", "--plan", &plan, "--area", "445300", "--period", "2024",
                    "--out",
                ])
                .arg(&t),
        );
        assert!(
            out.contains("template for round plan")
                && out.contains("(18 rows: 6 indicators × 3 areas)"),
            "{out}"
        );
        let template = std::fs::read(&t).unwrap();
        let c = |element: &str, area: &str, col: &str| cell(&template, element, area, col);

        // Bad uploads: each names its cell, and nothing changes.
        let before = b.row_counts();
        // (cells to fill as (element, area, column, content), the cell and message of the error)
        type Cells<'a> = Vec<(&'a str, &'a str, &'a str, Fill<'a>)>;
        let bad: Vec<(Cells, (&str, &str, &str), &str)> = vec![
            (
                vec![("HL01", "445300", "I", Fill::Number(120.0))],
                ("HL01", "445300", "I"),
                "超出取值范围 0–100 / out of range 0–100",
            ),
            (
                vec![("HL03", "445303", "I", Fill::Text("很多"))],
                ("HL03", "445303", "I"),
                "不是数字：“很多”",
            ),
            (
                vec![
                    ("HL02", "445302", "J", Fill::Number(9.0)),
                    ("HL02", "445302", "K", Fill::Number(8.0)),
                ],
                ("HL02", "445302", "J"),
                "分子（9）大于分母（8）",
            ),
            (
                vec![("HL01", "445302", "I", Fill::Number(35.0))],
                ("HL01", "445302", "I"),
                "与上期（20）相比变化 75%，超过 50%，请核实并在备注中说明",
            ),
            (
                vec![("HL06", "445300", "I", Fill::Text("大概"))],
                ("HL06", "445300", "I"),
                "应填“是”或“否”",
            ),
        ];
        for (cells, (e, a, col), message) in bad {
            let mut refs: Vec<(String, Fill)> = cells
                .iter()
                .map(|(e, a, col, f)| (c(e, a, col), *f))
                .collect();
            refs.push((c("HL01", "445303", "I"), Fill::Number(30.0)));
            let cells: Vec<(&str, Fill)> = refs.iter().map(|(r, f)| (r.as_str(), *f)).collect();
            let path = write(dir, "bad.xlsx", fill(&template, "填报表", &cells).unwrap());
            let err = run_err(b.cmd().args(["data", "import"]).arg(&path));
            let want = format!("bad.xlsx 填报表!{}: {message}", c(e, a, col));
            assert!(err.contains(&want), "{}: {want}\n got {err}", b.name);
            assert!(err.contains("1 处错误，未导入任何数据"), "{err}");
            assert_eq!(b.row_counts(), before, "{}", b.name);
        }

        // Not a workbook, an oversized one, a zip bomb: refused before anything is read.
        for (name, bytes, want) in [
            (
                "csv.xlsx",
                b"element,area_code\n".to_vec(),
                "不是 xlsx 文件",
            ),
            ("big.xlsx", vec![b'P'; 21 * 1024 * 1024], "文件过大"),
            ("bomb.xlsx", zip_bomb(), "疑似压缩炸弹"),
        ] {
            let err = run_err(
                b.cmd()
                    .args(["data", "import"])
                    .arg(write(dir, name, bytes)),
            );
            assert!(err.contains(want), "{name}: {err}");
            assert_eq!(b.row_counts(), before);
        }

        // A template re-labelled for another area than the one it was made for.
        let t2 = dir.join("t2.xlsx");
        run_ok(
            b.cmd()
                .args([
                    "data", "template", "--plan", &plan, "--area", "445302", "--period", "2024",
                    "--out",
                ])
                .arg(&t2),
        );
        let small = std::fs::read(&t2).unwrap();
        let area_cell = cell(&small, "HL01", "445302", "A");
        let row: u32 = area_cell[1..].parse().unwrap();
        let forged = fill(
            &small,
            "填报表",
            &[
                (&area_cell, Fill::Text("445303")),
                (&format!("I{row}"), Fill::Number(30.0)),
            ],
        )
        .unwrap();
        let forged = fill(&forged, "_ids", &[("C8", Fill::Text("445303"))]).unwrap();
        let err = run_err(
            b.cmd()
                .args(["data", "import"])
                .arg(write(dir, "forged.xlsx", forged)),
        );
        assert!(
            err.contains(&format!(
                "forged.xlsx 填报表!{area_cell}: 该行（445303 HL01）不在本次填报范围内"
            )),
            "{err}"
        );
        assert_eq!(b.row_counts(), before);

        // A good fill: every kind of value, the jump explained in the comment.
        let cells = [
            (c("HL01", "445300", "I"), Fill::Number(25.4)),
            (c("HL01", "445302", "I"), Fill::Number(35.0)),
            (c("HL01", "445302", "L"), Fill::Text("扩大了监测样本")),
            (c("HL02", "445302", "J"), Fill::Number(3.0)),
            (c("HL02", "445302", "K"), Fill::Number(1200.0)),
            (c("HL03", "445303", "I"), Fill::Text("12.5")),
            (c("HL06", "445300", "I"), Fill::Text("是")),
        ];
        let cells: Vec<(&str, Fill)> = cells.iter().map(|(c, f)| (c.as_str(), *f)).collect();
        let good = write(dir, "good.xlsx", fill(&template, "填报表", &cells).unwrap());
        let out = run_ok(b.cmd().args(["data", "import"]).arg(&good));
        assert!(
            out.contains("good.xlsx: 5 values; 5 new"),
            "{}: {out}",
            b.name
        );
        let y2024 = |e: &str, a: &str| {
            stored(&b)
                .into_iter()
                .find(|r| r.0 == e && r.1 == a && r.2 == Period::Year(2024))
                .map(|r| (r.3, r.4))
                .unwrap_or_else(|| panic!("{e} {a} missing"))
        };
        assert_eq!(
            y2024("HL01", "445300"),
            (Value::Number { value: 25.4 }, None)
        );
        assert_eq!(
            y2024("HL01", "445302"),
            (Value::Number { value: 35.0 }, Some("扩大了监测样本".into()))
        );
        assert_eq!(
            y2024("HL02", "445302").0,
            Value::Ratio {
                numerator: 3.0,
                denominator: 1200.0
            }
        );
        assert_eq!(y2024("HL03", "445303").0, Value::Number { value: 12.5 });
        assert_eq!(y2024("HL06", "445300").0, Value::Boolean { value: true });
        // The aggregates moved with the import: the city's infant mortality is Σnum/Σden.
        let q = run_ok(b.cmd().args([
            "data",
            "query",
            "--json",
            "--indicator",
            "HL02",
            "--area",
            "445300",
            "--period",
            "2024",
        ]));
        let rows: serde_json::Value = serde_json::from_str(&q).unwrap();
        assert_eq!(rows[0]["value"].as_f64(), Some(3.0 / 1200.0), "{q}");

        // A new template carries what was entered, and reads back to the same values.
        let again = dir.join("again.xlsx");
        run_ok(
            b.cmd()
                .args([
                    "data", "template", "--plan", &plan, "--area", "445300", "--period", "2024",
                    "--out",
                ])
                .arg(&again),
        );
        let out = run_ok(b.cmd().args(["data", "import"]).arg(&again));
        assert!(
            out.contains("again.xlsx: 5 values; 0 new, 0 changed, 5 unchanged"),
            "{out}"
        );
    }
}

/// A workbook-shaped zip whose sheet unpacks to 64 MiB of zeros.
fn zip_bomb() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("xl/workbook.xml", opts).unwrap();
    w.write_all(b"<workbook/>").unwrap();
    w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        w.write_all(&zeros).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn dhis2_adx_csv_and_xlsx_round_trips_into_an_empty_database_lose_nothing() {
    for source in Backend::all() {
        let dir = source.dir.path();
        setup(&source);
        run_ok(
            source
                .cmd()
                .args(["data", "import"])
                .arg(write(dir, "v.csv", VALUES)),
        );
        let want = stored(&source);
        assert_eq!(want.len(), 8);
        let mapping = write(dir, "mapping.csv", MAPPING);
        for (format, file, with_mapping) in [
            ("dhis2-json", "out.json", true),
            ("adx", "out.xml", true),
            ("dhis2-json", "plain.json", false),
            ("csv", "out.csv", false),
            ("xlsx", "out.xlsx", false),
        ] {
            let out = dir.join(file);
            let mut export = source.cmd();
            export
                .args(["data", "export", "--format", format, "--out"])
                .arg(&out);
            if with_mapping {
                export
                    .arg("--mapping")
                    .arg(&mapping)
                    .args(["--data-set", "DS_HEALTHY"]);
            }
            assert!(run_ok(&mut export).contains("8 values written"));
            let target = fresh_like(&source);
            setup(&target);
            let mut import = target.cmd();
            import.args(["data", "import"]).arg(&out);
            if with_mapping {
                import.arg("--mapping").arg(&mapping);
            }
            let msg = run_ok(&mut import);
            assert!(msg.contains("8 values; 8 new"), "{format}: {msg}");
            assert_eq!(stored(&target), want, "{} {format}", source.name);
        }
        let json = std::fs::read_to_string(dir.join("out.json")).unwrap();
        assert!(
            json.contains("\"dataElement\": \"DE_INF_DEATHS\"")
                && json.contains("\"orgUnit\": \"OU_YC\""),
            "{json}"
        );
        let xml = std::fs::read_to_string(dir.join("out.xml")).unwrap();
        assert!(
            xml.contains(
                "<group orgUnit=\"OU_YA\" period=\"2024-04-01/P3M\" dataSet=\"DS_HEALTHY\">"
            ),
            "{xml}"
        );
    }
}

#[test]
fn unmapped_codes_are_named_and_change_nothing_unless_skipped() {
    let b = Backend::sqlite();
    let dir = b.dir.path();
    setup(&b);
    run_ok(
        b.cmd()
            .args(["data", "import"])
            .arg(write(dir, "v.csv", VALUES)),
    );
    let partial = write(
        dir,
        "partial.csv",
        MAPPING.replace("org_unit,445303,OU_YA\n", ""),
    );
    let err = run_err(
        b.cmd()
            .args(["data", "export", "--format", "adx", "--mapping"])
            .arg(&partial)
            .arg("--out")
            .arg(dir.join("x.xml")),
    );
    assert!(
        err.contains("以下代码没有映射，未导出任何数据")
            && err.contains("组织机构 org unit 445303"),
        "{err}"
    );
    assert!(!dir.join("x.xml").exists());

    let json = r#"{"dataValues":[
        {"dataElement":"DE_LIT","period":"2025","orgUnit":"OU_YF","value":"26"},
        {"dataElement":"DE_NEW","period":"2025","orgUnit":"OU_YF","value":"1"},
        {"dataElement":"DE_LIT","period":"2025","orgUnit":"OU_YA","value":"27"}]}"#;
    let file = write(dir, "in.json", json);
    let before = b.row_counts();
    let err = run_err(
        b.cmd()
            .args(["data", "import", "--mapping"])
            .arg(&partial)
            .arg(&file),
    );
    assert!(
        err.contains(
            "未映射的代码 / unmapped codes: 数据元素 data element DE_NEW, 组织机构 org unit OU_YA"
        ),
        "{err}"
    );
    assert!(
        err.contains("in.json dataValues[1]: DHIS2 数据元素“DE_NEW”没有映射"),
        "{err}"
    );
    assert_eq!(b.row_counts(), before);
    let out = healthplan_output(
        b.cmd()
            .args(["data", "import", "--skip-bad-rows", "--mapping"])
            .arg(&partial)
            .arg(&file),
    );
    assert!(out.0.contains("in.json: 1 values; 1 new"), "{out:?}");
    assert!(
        out.1
            .contains("in.json dataValues[2]: DHIS2 组织机构“OU_YA”没有映射"),
        "{out:?}"
    );
    assert!(out.1.contains("2 处错误，所在行已跳过"), "{out:?}");
}

fn healthplan_output(cmd: &mut std::process::Command) -> (String, String) {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn the_stored_mapping_table_is_used_unless_a_file_is_given() {
    for source in Backend::all() {
        let dir = source.dir.path();
        setup(&source);
        run_ok(
            source
                .cmd()
                .args(["data", "import"])
                .arg(write(dir, "v.csv", VALUES)),
        );
        let want = stored(&source);
        assert_eq!(
            run_ok(source.cmd().args(["data", "mapping", "list"])),
            "kind,local_code,dhis2_code\n",
            "empty at first"
        );
        // A table mapping a DHIS2 code twice changes nothing and names the line.
        let bad = write(
            dir,
            "bad.csv",
            format!("{MAPPING}element,HL99,DE_LIT\n").as_str(),
        );
        let err = run_err(source.cmd().args(["data", "mapping", "load"]).arg(&bad));
        assert!(err.contains("line 10") && err.contains("DE_LIT"), "{err}");
        let mapping = write(dir, "mapping.csv", MAPPING);
        let out = run_ok(source.cmd().args(["data", "mapping", "load"]).arg(&mapping));
        assert!(out.contains("8 rows; 8 new"), "{out}");
        let listed = run_ok(source.cmd().args(["data", "mapping", "list"]));
        assert!(
            listed.contains("element,HL02.num,DE_INF_DEATHS\n")
                && listed.contains("org_unit,445303,OU_YA\n"),
            "{listed}"
        );
        let out = dir.join("stored.json");
        run_ok(
            source
                .cmd()
                .args(["data", "export", "--format", "dhis2-json", "--out"])
                .arg(&out),
        );
        let json = std::fs::read_to_string(&out).unwrap();
        assert!(json.contains("\"orgUnit\": \"OU_YC\""), "{json}");
        // A target with the same stored table reads it back; a file overrides the table.
        let target = fresh_like(&source);
        setup(&target);
        run_ok(target.cmd().args(["data", "mapping", "load"]).arg(&mapping));
        let msg = run_ok(target.cmd().args(["data", "import"]).arg(&out));
        assert!(msg.contains("8 values; 8 new"), "{msg}");
        assert_eq!(stored(&target), want, "{}", source.name);
        let other = write(
            dir,
            "other.csv",
            MAPPING.replace("OU_YC", "OU_CHANGED").as_str(),
        );
        let err = run_err(
            target
                .cmd()
                .args(["data", "import", "--mapping"])
                .arg(&other)
                .arg(&out),
        );
        assert!(
            err.contains("OU_YC"),
            "the file's table, not the stored one: {err}"
        );
    }
}
