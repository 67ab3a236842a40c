//! Storage-backed commands run as a user would: `plan load/export/list`, `area import/list`,
//! `demo`, against SQLite and (when configured) PostgreSQL.

use crate::common::{fixture, healthplan, run_err, run_ok, Backend};
use healthplan_core::PlanDocument;
use healthplan_store::{AuditAction, AuditFilter};
use std::path::Path;

const AREAS: &str = "code,name,level,parent_code
440000,广东省,province,
440300,深圳市,city,440000
440310,坪山区,county,440300
440311,光明区,county,440300
445300,云浮市,city,440000
";

fn plan_id(stdout: &str) -> i64 {
    stdout
        .strip_prefix("plan ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no plan id in {stdout:?}"))
}

/// The first half of a text, cut at a character boundary.
fn halfway(text: &str) -> &str {
    let mut n = text.len() / 2;
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    &text[..n]
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn plan_load_then_export_gives_back_the_same_document() {
    let source = std::fs::read_to_string(fixture("plan_yunfu.json")).unwrap();
    let expected = PlanDocument::from_json(&source).unwrap().to_json_pretty() + "\n";
    for b in Backend::all() {
        let out = run_ok(
            b.cmd()
                .args(["plan", "load"])
                .arg(fixture("plan_yunfu.json")),
        );
        assert!(
            out.contains("4 sections, 4 tasks, 6 indicators, 3 target statements"),
            "{out}"
        );
        let id = plan_id(&out);
        let exported = run_ok(b.cmd().args(["plan", "export", &id.to_string(), "--json"]));
        // Saving links every indicator to a data element (its code, or a new DE… element);
        // apart from the links the document comes back as loaded.
        let mut unlinked: serde_json::Value = serde_json::from_str(&exported).unwrap();
        for ind in unlinked["indicators"].as_array_mut().unwrap() {
            let element = ind["element"].as_str().unwrap().to_string();
            match ind["code"].as_str() {
                Some(code) => assert_eq!(element, code),
                None => assert!(element.starts_with("DE"), "{element}"),
            }
            ind.as_object_mut().unwrap().remove("element");
        }
        assert_eq!(
            PlanDocument::from_json(&unlinked.to_string())
                .unwrap()
                .to_json_pretty()
                + "\n",
            expected,
            "{}",
            b.name
        );
        // Unknown fields (importer_version, source_row, a section's note) survive too.
        let v: serde_json::Value = serde_json::from_str(&exported).unwrap();
        assert_eq!(v["importer_version"], "test-fixture-1");
        assert_eq!(v["indicators"][0]["source_row"], 3);
        assert_eq!(
            v["sections"][0]["children"][1]["note"],
            "kept as an unknown field"
        );

        // Export → load → export is byte-identical.
        let again = write(b.dir.path(), "exported.json", &exported);
        let id2 = plan_id(&run_ok(b.cmd().args(["plan", "load"]).arg(&again)));
        assert_ne!(id, id2);
        let exported2 = run_ok(b.cmd().args(["plan", "export", &id2.to_string(), "--json"]));
        assert_eq!(exported2, exported, "{}", b.name);

        let list = run_ok(b.cmd().args(["plan", "list"]));
        assert_eq!(list.matches("健康云浮行动2030规划").count(), 2, "{list}");
        let outline = run_ok(b.cmd().args(["plan", "export", &id.to_string()]));
        assert!(outline.contains("婴儿死亡率 (‰)  2030: 6"), "{outline}");
        let e = run_err(b.cmd().args(["plan", "export", "999"]));
        assert!(e.contains("plan 999 not found"), "{e}");

        // Both loads are in the audit log, by the CLI's actor, with the document after.
        let (rt, store) = b.store();
        let log = rt
            .block_on(store.audit_log(&AuditFilter {
                entity: Some("plan".into()),
                ..Default::default()
            }))
            .unwrap();
        assert_eq!(log.len(), 2, "{}", b.name);
        assert_eq!(log[0].actor, "cli:test");
        assert_eq!(log[0].action, AuditAction::Insert);
        assert_eq!(
            log[0].after.as_ref().unwrap()["indicators"][1]["name"],
            "婴儿死亡率"
        );
        rt.block_on(store.close());
    }
}

#[test]
fn a_broken_plan_json_is_refused_with_its_location_and_writes_nothing() {
    let good = std::fs::read_to_string(fixture("plan_yunfu.json")).unwrap();
    for b in Backend::all() {
        run_ok(
            b.cmd()
                .args(["plan", "load"])
                .arg(fixture("plan_yunfu.json")),
        );
        let before = b.row_counts();

        // Cut halfway through.
        let half = halfway(&good);
        let last_line = half.lines().count();
        let half = write(b.dir.path(), "half.json", half);
        let e = run_err(b.cmd().args(["plan", "load"]).arg(&half));
        assert!(
            e.contains(&format!("half.json line {last_line}, column ")),
            "{e}"
        );
        assert!(e.contains("EOF while parsing"), "{e}");

        // Well-formed, but a task points at a target statement that does not exist.
        let dangling = good.replacen("\"targets\": [0, 1]", "\"targets\": [0, 9]", 1);
        let dangling = write(b.dir.path(), "dangling.json", &dangling);
        let e = run_err(b.cmd().args(["plan", "load"]).arg(&dangling));
        assert!(
            e.contains("dangling.json line 22, column 17, field tasks[0].targets: index 9"),
            "{e}"
        );

        // A target that does not fit its kind (a range whose low end is above its high end).
        let bad_range = good.replacen(
            "\"value\": 8, \"value_hi\": 12",
            "\"value\": 18, \"value_hi\": 12",
            1,
        );
        let bad_range = write(b.dir.path(), "range.json", &bad_range);
        let e = run_err(b.cmd().args(["plan", "load"]).arg(&bad_range));
        assert!(
            e.contains("range.json line 55, column 6, field indicators[2].targets"),
            "{e}"
        );
        assert!(e.contains("range low 18 is above high 12"), "{e}");

        // A target year outside any plausible period.
        let bad_year = good.replacen(
            "{\"year\": 2022, \"kind\": \"milestone\"",
            "{\"year\": 3022, \"kind\": \"milestone\"",
            1,
        );
        let bad_year = write(b.dir.path(), "year.json", &bad_year);
        let e = run_err(b.cmd().args(["plan", "load"]).arg(&bad_year));
        assert!(e.contains("year.json line 74, column "), "{e}");
        assert!(e.contains("field indicators[5].targets"), "{e}");
        assert!(e.contains("year 3022 is outside 1949–2100"), "{e}");

        assert_eq!(b.row_counts(), before, "{}", b.name);
    }
}

#[test]
fn area_import_builds_the_tree() {
    for b in Backend::all() {
        let csv = write(b.dir.path(), "areas.csv", AREAS);
        let out = run_ok(b.cmd().args(["area", "import"]).arg(&csv));
        assert!(
            out.contains("5 areas read; 5 new, 0 changed, 0 unchanged"),
            "{out}"
        );
        let tree = run_ok(b.cmd().args(["area", "list"]));
        assert_eq!(
            tree,
            "440000 广东省 (province)\n  440300 深圳市 (city)\n    440310 坪山区 (county)\n    \
             440311 光明区 (county)\n  445300 云浮市 (city)\n"
        );
        // Again, with a rename and a new town under 坪山区 (level taken from the code).
        let more =
            AREAS.replace("光明区,county", "光明新区,county") + "440310001,坑梓街道,,440310\n";
        let csv = write(b.dir.path(), "areas2.csv", &more);
        let out = run_ok(b.cmd().args(["area", "import"]).arg(&csv));
        assert!(out.contains("1 new, 1 changed, 4 unchanged"), "{out}");
        let json = run_ok(b.cmd().args(["area", "list", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let town = v
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "440310001")
            .unwrap();
        assert_eq!(town["level"], "town");
        assert_eq!(town["parent"], "440310");

        let (rt, store) = b.store();
        let log = rt
            .block_on(store.audit_log(&AuditFilter {
                entity: Some("area".into()),
                entity_key: Some("440311".into()),
                ..Default::default()
            }))
            .unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[1].before.as_ref().unwrap()["name"], "光明区");
        assert_eq!(log[1].after.as_ref().unwrap()["name"], "光明新区");
        rt.block_on(store.close());
    }
}

#[test]
fn a_broken_area_csv_is_refused_with_line_and_field_and_writes_nothing() {
    for b in Backend::all() {
        let csv = write(b.dir.path(), "areas.csv", AREAS);
        run_ok(b.cmd().args(["area", "import"]).arg(&csv));
        let before = b.row_counts();
        let tree = run_ok(b.cmd().args(["area", "list"]));

        // Four good new rows, then a broken one on line 6, then more good ones.
        let cases = [
            ("440300", "xx", "line 6, field level: unknown level \"xx\""),
            (
                "440399",
                "county",
                "line 6, field parent_code: unknown parent 440399",
            ),
            ("440300", "province", "line 6, field level"),
        ];
        for (parent, level, want) in cases {
            let broken = format!(
                "code,name,level,parent_code\n445100,潮州市,city,440000\n445122,饶平县,county,445100\n\
                 440100,广州市,city,440000\n440306,宝安区,county,440300\n\
                 440307,龙岗区,{level},{parent}\n440308,盐田区,county,440300\n"
            );
            let path = write(b.dir.path(), "broken.csv", &broken);
            let e = run_err(b.cmd().args(["area", "import"]).arg(&path));
            assert!(e.contains(&format!("broken.csv {want}")), "{want}\n{e}");
            assert_eq!(b.row_counts(), before, "{}: {want}", b.name);
        }
        let short = write(
            b.dir.path(),
            "short.csv",
            "code,name,level,parent_code\n445100,潮州市,city,440000\n445122,饶平县\n",
        );
        let e = run_err(b.cmd().args(["area", "import"]).arg(&short));
        assert!(
            e.contains("short.csv line 3: the row has 2 fields but the header has 4"),
            "{e}"
        );
        let e = run_err(b.cmd().args(["area", "import", "no-such-file.csv"]));
        assert!(e.contains("cannot read no-such-file.csv"), "{e}");

        assert_eq!(b.row_counts(), before, "{}", b.name);
        assert_eq!(run_ok(b.cmd().args(["area", "list"])), tree);
    }
}

#[test]
fn demo_creates_the_data_dir_and_loads_the_bundled_areas_and_plans() {
    let cwd = tempfile::tempdir().unwrap();
    let demo = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_healthplan"));
        c.current_dir(cwd.path())
            .env_remove("DATABASE_URL")
            .env_remove("HEALTHPLAN_DATA_DIR")
            .args(["demo", "--setup-only"]);
        c
    };
    let out = run_ok(&mut demo());
    assert!(cwd.path().join("healthplan-data/healthplan.db").is_file());
    assert!(out.contains("(created)"), "{out}");
    assert!(out.contains("27 new"), "{out}");
    for line in [
        "440000 广东省 (province)",
        "  440300 深圳市 (city)",
        "    440310 坪山区 (county)",
        "    440311 光明区 (county)",
        "  445100 潮州市 (city)",
        "    445122 饶平县 (county)",
        "  445300 云浮市 (city)",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} missing:\n{out}");
    }
    assert!(out.contains("plans stored: 3"), "{out}");
    let again = run_ok(&mut demo());
    assert!(again.contains("0 new, 0 changed, 27 unchanged"), "{again}");
    assert!(again.contains("plans stored: 3"), "{again}");
    let data = cwd.path().join("healthplan-data");
    let list = run_ok(healthplan(&data).args(["area", "list"]));
    assert_eq!(list.lines().count(), 27);
    // The bundled plans are linked to their areas and keep their tasks and indicators.
    let plans = run_ok(healthplan(&data).args(["plan", "list"]));
    // Task counts at least the gold's responsibility assignments (001 has none in the gold).
    for (area, min_tasks) in [
        ("光明区 440311", 1),
        ("深圳市 440300", 19),
        ("云浮市 445300", 121),
    ] {
        let row = plans
            .lines()
            .find(|l| l.contains(area))
            .unwrap_or_else(|| panic!("{area} missing:\n{plans}"));
        let tasks: i64 = row
            .split('\t')
            .nth(3)
            .and_then(|c| c.parse().ok())
            .unwrap_or(-1);
        assert!(tasks >= min_tasks, "{row}");
    }

    // DATABASE_URL wins over the data dir: nothing is created there.
    if let Some(pg) = Backend::postgres() {
        let out = run_ok(pg.cmd().args(["demo", "--setup-only"]));
        assert!(out.contains("postgres database"), "{out}");
        assert!(!out.contains("password"), "{out}");
        assert!(!pg.dir.path().join("healthplan.db").exists());
        assert_eq!(run_ok(pg.cmd().args(["area", "list"])).lines().count(), 27);
    }
}

#[test]
fn data_dir_comes_from_the_flag_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("from-env");
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_healthplan"));
    c.env_remove("DATABASE_URL")
        .env("HEALTHPLAN_DATA_DIR", &from_env)
        .args(["plan", "list"]);
    let out = run_ok(&mut c);
    assert!(out.contains("no plans stored"), "{out}");
    assert!(from_env.join("healthplan.db").is_file());

    let from_flag = dir.path().join("from-flag");
    run_ok(
        healthplan(&from_flag)
            .args(["plan", "load"])
            .arg(fixture("plan_yunfu.json")),
    );
    assert!(from_flag.join("healthplan.db").is_file());
    let list = run_ok(healthplan(&from_flag).args(["plan", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v[0]["title"], "健康云浮行动2030规划");
    assert_eq!(v[0]["created_by"], "cli:test");

    // An unknown scheme is refused, not silently replaced by SQLite.
    let e = run_err(
        healthplan(&from_flag)
            .env("DATABASE_URL", "mysql://x@y/z")
            .args(["plan", "list"]),
    );
    assert!(e.contains("unsupported DATABASE_URL"), "{e}");
}

#[test]
fn audit_verify_names_a_row_edited_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "areas.csv", AREAS);
    run_ok(healthplan(dir.path()).args(["area", "import"]).arg(&csv));
    let out = run_ok(healthplan(dir.path()).args(["audit", "verify"]));
    assert!(out.contains("audit log intact: 5 rows chained"), "{out}");
    // The file's owner lifts the trigger and rewrites the third row, as anyone with the
    // file can; the chain still names it.
    let db = dir.path().join("healthplan.db");
    let edit = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg(
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET actor = 'someone else' \
             WHERE id = (SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 2);",
        )
        .status()
        .expect("sqlite3 (Debian package sqlite3) edits the file");
    assert!(edit.success());
    let err = run_err(healthplan(dir.path()).args(["audit", "verify"]));
    assert!(
        err.contains("audit log row 3 breaks the hash chain"),
        "{err}"
    );
}
