use crate::Globals;
use anyhow::{anyhow, Context};
use clap::Subcommand;
use healthplan_core::{Area, AreaCode, AreaLevel};
use healthplan_store::ImportCount;
use std::collections::HashMap;
use std::path::PathBuf;

/// The demo's area tree, compiled into the binary.
pub const BUNDLED_AREAS_CSV: &str = include_str!("../data/areas.csv");

#[derive(Subcommand)]
pub enum AreaCmd {
    /// Import areas from a CSV with columns code,name,level,parent_code (all or nothing).
    Import { file: PathBuf },
    /// Print the stored area tree.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: AreaCmd, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        AreaCmd::Import { file } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {name}"))?;
            let text = decode_text(&name, &bytes)?;
            let store = crate::store::open(g).await?;
            let known = store.list_areas().await?;
            let areas = parse_areas_csv(&name, &text, &known)?;
            let n = store
                .import_areas(&crate::store::actor(), &areas)
                .await
                .with_context(|| format!("{name}: nothing was imported"))?;
            crate::store::print(&format!(
                "{name}: {} areas read; {}\nstored in {} ({})\n",
                areas.len(),
                describe(n),
                store.location(),
                store.backend()
            ))
        }
        AreaCmd::List { json } => {
            let store = crate::store::open(g).await?;
            let areas = store.list_areas().await?;
            if json {
                crate::store::print(&(serde_json::to_string_pretty(&areas)? + "\n"))
            } else {
                crate::store::print(&tree(&areas))
            }
        }
    }
}

/// `3 new, 1 changed, 2 unchanged`.
pub fn describe(n: ImportCount) -> String {
    format!(
        "{} new, {} changed, {} unchanged",
        n.inserted, n.updated, n.unchanged
    )
}

/// Text of a CSV as saved by a person: UTF-8 (with or without BOM), or GB18030 — what a
/// Chinese Excel writes by default.
pub fn decode_text(name: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
    if bad {
        return Err(anyhow!("{name}: neither UTF-8 nor GB18030 text"));
    }
    Ok(text.into_owned())
}

/// Reads `code,name,level,parent_code` rows. A parent must be stored already (`known`) or
/// come earlier in the file. `level` may be empty: it then follows from the code.
/// Errors name the file, line and field.
pub fn parse_areas_csv(name: &str, text: &str, known: &[Area]) -> anyhow::Result<Vec<Area>> {
    let (mut rdr, header) = crate::csvin::open(name, text)?;
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let (Some(c_code), Some(c_name)) = (col(&["code"]), col(&["name"])) else {
        return Err(anyhow!(
            "{name} line 1: the header must have the columns code,name,level,parent_code (found {})",
            header.join(",")
        ));
    };
    let c_level = col(&["level"]);
    let c_parent = col(&["parent_code", "parent"]);

    let mut by_code: HashMap<AreaCode, Area> =
        known.iter().map(|a| (a.code.clone(), a.clone())).collect();
    let mut first_line: HashMap<AreaCode, u64> = HashMap::new();
    let mut out = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| crate::csvin::error(name, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let at =
            |field: &str, reason: String| anyhow!("{name} line {line}, field {field}: {reason}");
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
        let areas = parse_areas_csv("areas.csv", BUNDLED_AREAS_CSV, &[]).unwrap();
        assert_eq!(areas.len(), 7);
        let t = tree(&areas);
        assert!(
            t.starts_with("440000 广东省 (province)\n  440300 深圳市 (city)\n    440310 坪山区"),
            "{t}"
        );
        assert!(t.contains("\n    445122 饶平县 (county)\n"), "{t}");
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
        let text = decode_text("a.csv", &gbk).unwrap();
        assert!(text.contains("广东省"));
    }
}
