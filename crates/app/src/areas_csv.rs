//! The area tree as a CSV (`code,name,level,parent_code`), read with errors that name the
//! line and field.

use crate::csv_input;
use crate::AppError;
use healthplan_core::{Area, AreaCode, AreaLevel};
use std::collections::HashMap;

fn input(message: String) -> AppError {
    AppError::Input(message)
}

/// Reads `code,name,level,parent_code` rows. A parent must be stored already (`known`) or
/// come earlier in the file. `level` may be empty: it then follows from the code.
/// Errors name the file, line and field.
pub fn parse_areas_csv(name: &str, text: &str, known: &[Area]) -> Result<Vec<Area>, AppError> {
    let (mut rdr, header) = csv_input::open(name, text)?;
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (Some(c_code), Some(c_name)) = (col(&["code"]), col(&["name"])) else {
        return Err(input(format!(
            "{name} line 1: the header must have the columns code,name,level,parent_code (found {})",
            header.join(",")
        )));
    };
    let c_level = col(&["level"]);
    let c_parent = col(&["parent_code", "parent"]);

    let mut by_code: HashMap<AreaCode, Area> =
        known.iter().map(|a| (a.code.clone(), a.clone())).collect();
    let mut first_line: HashMap<AreaCode, u64> = HashMap::new();
    let mut out = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| csv_input::error(name, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |field: &str, reason: String| {
            input(format!("{name} line {line}, field {field}: {reason}"))
        };
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");

        let code = AreaCode::parse(get(Some(c_code))).map_err(|e| at("code", e.to_string()))?;
        if let Some(first) = first_line.insert(code.clone(), line) {
            return Err(at(
                "code",
                format!("{code} appears twice (first on line {first})"),
            ));
        }
        let level = match get(c_level) {
            "" => AreaLevel::from_code(&code),
            s => s.parse::<AreaLevel>().map_err(|_| {
                at(
                    "level",
                    format!("unknown level {s:?} (province, city, county, town or village)"),
                )
            })?,
        };
        let parent = match get(c_parent) {
            "" => None,
            p => {
                let pc = AreaCode::parse(p).map_err(|e| at("parent_code", e.to_string()))?;
                Some(by_code.get(&pc).ok_or_else(|| {
                    at(
                        "parent_code",
                        format!("unknown parent {pc}: it is not stored and not listed on an earlier line"),
                    )
                })?)
            }
        };
        let area = Area::new(code.clone(), get(Some(c_name)), level, parent).map_err(|e| {
            let field = match &e {
                healthplan_core::CoreError::AreaHierarchy { .. } => "level",
                healthplan_core::CoreError::Invalid { field, .. } if field == "parent_code" => {
                    "parent_code"
                }
                _ => "name",
            };
            at(field, e.to_string())
        })?;
        by_code.insert(code, area.clone());
        out.push(area);
    }
    Ok(out)
}

/// The areas as an indented tree, children under their parent.
pub fn tree(areas: &[Area]) -> String {
    let mut children: HashMap<Option<&AreaCode>, Vec<&Area>> = HashMap::new();
    let codes: std::collections::HashSet<&AreaCode> = areas.iter().map(|a| &a.code).collect();
    for a in areas {
        // An area whose parent is not in the list is shown as a root.
        let parent = a.parent.as_ref().filter(|p| codes.contains(p));
        children.entry(parent).or_default().push(a);
    }
    let mut out = String::new();
    fn walk(
        out: &mut String,
        children: &HashMap<Option<&AreaCode>, Vec<&Area>>,
        key: Option<&AreaCode>,
        depth: usize,
    ) {
        for a in children.get(&key).into_iter().flatten() {
            out.push_str(&format!(
                "{}{} {} ({})\n",
                "  ".repeat(depth),
                a.code,
                a.name,
                a.level
            ));
            walk(out, children, Some(&a.code), depth + 1);
        }
    }
    walk(&mut out, &children, None, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_tree_parses() {
        let areas = parse_areas_csv("areas.csv", crate::demo::BUNDLED_AREAS_CSV, &[]).unwrap();
        assert_eq!(areas.len(), 27);
        let t = tree(&areas);
        assert!(
            t.starts_with("440000 广东省 (province)\n  440300 深圳市 (city)\n    440303 罗湖区"),
            "{t}"
        );
        assert!(t.contains("\n    445122 饶平县 (county)\n"), "{t}");
        assert!(t.contains("\n      440311006 马田街道 (town)\n"), "{t}");
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases = [
            ("code,name,level,parent_code\n440000,广东省,province,\n4403,深圳市,city,440000\n", "line 3, field code"),
            ("code,name,level,parent_code\n440000,广东省,province,\n440300,深圳市,xx,440000\n", "line 3, field level: unknown level \"xx\""),
            ("code,name,level,parent_code\n440300,深圳市,city,440000\n", "line 2, field parent_code: unknown parent 440000"),
            ("code,name,level,parent_code\n440000,广东省,province,\n440300,深圳市,province,440000\n", "line 3, field level"),
            ("code,name,level,parent_code\n440000,广东省,province,\n440000,广东,province,\n", "line 3, field code: 440000 appears twice (first on line 2)"),
            ("code,name,level,parent_code\n440000,广东省,province,\n440300,深圳市\n", "line 3: the row has 2 fields but the header has 4"),
            ("code,name,level,parent_code\n440000, ,province,\n", "line 2, field name"),
            ("id,title\n", "line 1: the header must have"),
        ];
        for (csv, want) in cases {
            let e = parse_areas_csv("areas.csv", csv, &[])
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("areas.csv ") && e.contains(want),
                "{want}\n got: {e}"
            );
        }
    }

    #[test]
    fn level_follows_code_when_blank_and_gbk_is_read() {
        let areas = parse_areas_csv(
            "a.csv",
            "code,name,level,parent_code\n440000,广东省,,\n440300,深圳市,,440000\n",
            &[],
        )
        .unwrap();
        assert_eq!(areas[1].level, AreaLevel::City);
        let (gbk, _, _) = encoding_rs::GB18030.encode("code,name\n440000,广东省\n");
        let text = crate::text::decode_text("a.csv", &gbk).unwrap();
        assert!(text.contains("广东省"));
    }
}
