//! `data elements/import/query`: values imported through the binary show in the aggregates of
//! every ancestor area and period, on SQLite and PostgreSQL; a bad file changes nothing.

use crate::common::{run_err, run_ok, Backend};
use std::path::{Path, PathBuf};

const AREAS: &str = "code,name,level,parent_code
440000,广东省,province,
440300,深圳市,city,440000
440310,坪山区,county,440300
440311,光明区,county,440300
445100,潮州市,city,440000
445122,饶平县,county,445100
";

const ELEMENTS: &str = "code,name,value_type,aggregation
visits,门诊人次,number,sum
beds,每千人口床位数,number,average
screened,筛查率,number,sum
";

const VALUES: &str = "element,area_code,period,value,numerator,denominator
visits,440310,202401,10,,
visits,440311,202402,5,,
visits,445122,2024Q1,7,,
visits,440310,202307,100,,
beds,440310,2024,4,,
beds,440311,2024,6,,
screened,440310,2024,,30,40
screened,440311,2024,,10,60
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `data query … --json` as (item, area, period) → (value, count).
fn query(b: &Backend, args: &[&str]) -> Vec<(String, String, String, Option<f64>, u64)> {
    let out = run_ok(b.cmd().args(["data", "query", "--json"]).args(args));
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["item"].as_str().unwrap().to_string(),
                r["area"].as_str().unwrap().to_string(),
                r["period"].as_str().unwrap().to_string(),
                r["value"].as_f64(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn imported_values_show_at_every_level_at_once() {
    for b in Backend::all() {
        let dir = b.dir.path();
        run_ok(
            b.cmd()
                .args(["area", "import"])
                .arg(write(dir, "a.csv", AREAS)),
        );
        let values = write(dir, "v.csv", VALUES);
        // Values for undeclared elements are refused: nothing could say how to aggregate them.
        let err = run_err(b.cmd().args(["data", "import"]).arg(&values));
        assert!(
            err.contains("v.csv line 2, field element"),
            "{}: {err}",
            b.name
        );
        let before = b.row_counts();
        run_ok(
            b.cmd()
                .args(["data", "elements"])
                .arg(write(dir, "e.csv", ELEMENTS)),
        );
        let out = run_ok(b.cmd().args(["data", "import"]).arg(&values));
        assert!(out.contains("8 new"), "{}: {out}", b.name);
        assert_ne!(before, b.row_counts());

        let rows = query(
            &b,
            &[
                "--element",
                "visits",
                "--area",
                "440000,440300",
                "--period",
                "2024,2024Q1,202401,2023",
            ],
        );
        let get = |area: &str, period: &str| {
            rows.iter()
                .find(|r| r.1 == area && r.2 == period)
                .map(|r| (r.3, r.4))
                .unwrap_or_else(|| panic!("{area} {period} missing: {rows:?}"))
        };
        assert_eq!(get("440000", "2024"), (Some(22.0), 3), "{}", b.name);
        assert_eq!(get("440000", "2024Q1"), (Some(22.0), 3));
        assert_eq!(get("440000", "202401"), (Some(10.0), 1));
        assert_eq!(get("440300", "2024"), (Some(15.0), 2));
        assert_eq!(get("440000", "2023"), (Some(100.0), 1));

        // Average elements average their raw values; indicators are Σnum/Σden.
        let rows = query(
            &b,
            &[
                "--element",
                "beds",
                "--indicator",
                "screened",
                "--area",
                "440300",
                "--period",
                "2024",
            ],
        );
        assert_eq!(rows[0].3, Some(5.0), "{rows:?}");
        assert_eq!(rows[1].3, Some(40.0 / 100.0), "{rows:?}");

        // Levels: every county under the province, each year of a range.
        let rows = query(
            &b,
            &[
                "--element",
                "visits",
                "--level",
                "3",
                "--under",
                "440000",
                "--years",
                "2023-2024",
            ],
        );
        assert_eq!(rows.len(), 3 * 2, "{rows:?}");
        assert!(rows.contains(&(
            "visits".into(),
            "445122".into(),
            "2024".into(),
            Some(7.0),
            1
        )));

        // A file broken halfway (bad period on its last line) changes nothing.
        let counts = b.row_counts();
        let bad = write(
            dir,
            "bad.csv",
            "element,area_code,period,value\nvisits,440310,202403,1\nvisits,440310,2024Q5,1\n",
        );
        let err = run_err(b.cmd().args(["data", "import"]).arg(&bad));
        assert!(err.contains("bad.csv line 3, field period"), "{err}");
        assert_eq!(counts, b.row_counts());
        let rows = query(
            &b,
            &[
                "--element",
                "visits",
                "--area",
                "440000",
                "--period",
                "2024",
            ],
        );
        assert_eq!((rows[0].3, rows[0].4), (Some(22.0), 3));
    }
}
