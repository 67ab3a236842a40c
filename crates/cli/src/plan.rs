use crate::Globals;
use anyhow::{anyhow, Context};
use clap::Subcommand;
use healthplan_core::{CoreError, PlanDocument, Section};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PlanCmd {
    /// Read a plan document (.txt or .docx) into a structured plan.
    Import(crate::import::ImportArgs),
    /// Store a plan given as interchange JSON (nothing is stored if the file is refused).
    Load { file: PathBuf },
    /// Print a stored plan: an outline, or the interchange JSON with --json.
    Export {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// List stored plans.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: PlanCmd, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        PlanCmd::Import(a) => crate::import::run(a, g).await,
        PlanCmd::Load { file } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {name}"))?;
            let text =
                String::from_utf8(bytes).map_err(|e| anyhow!("{name}: not UTF-8 text ({e})"))?;
            let doc = parse_plan_json(&name, &text)?;
            let store = crate::store::open(g).await?;
            let local = crate::store::Local::of(&store).await?;
            let id = store
                .save_plan(&local.editor()?, &doc, None)
                .await
                .with_context(|| format!("{name}: nothing was stored"))?;
            crate::store::print(&format!(
                "plan {id} loaded from {name}: {} ({}) — {} sections, {} tasks, {} indicators, {} target statements\n",
                doc.title,
                doc.area,
                count_sections(&doc.sections),
                doc.tasks.len(),
                doc.indicators.len(),
                doc.target_statements.len()
            ))
        }
        PlanCmd::Export { id, json } => {
            let store = crate::store::open(g).await?;
            let local = crate::store::Local::of(&store).await?;
            let doc = store.plan(&local.reader(), id).await?;
            if json {
                crate::store::print(&(doc.to_json_pretty() + "\n"))
            } else {
                crate::store::print(&outline(id, &doc))
            }
        }
        PlanCmd::List { json } => {
            let store = crate::store::open(g).await?;
            let local = crate::store::Local::of(&store).await?;
            let plans = store.list_plans(&local.reader()).await?;
            if json {
                return crate::store::print(&(serde_json::to_string_pretty(&plans)? + "\n"));
            }
            if plans.is_empty() {
                return crate::store::print(&format!("no plans stored ({})\n", store.location()));
            }
            let mut out = String::from("id\ttitle\tarea\ttasks\tindicators\tcreated\n");
            for p in plans {
                let area = match &p.area_code {
                    Some(c) => format!("{} {c}", p.area),
                    None => p.area.clone(),
                };
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{} by {}\n",
                    p.id, p.title, area, p.tasks, p.indicators, p.created_at, p.created_by
                ));
            }
            crate::store::print(&out)
        }
    }
}

/// Parses interchange JSON; errors name the file, line, column and (for a document that is
/// well-formed but inconsistent) the field.
pub fn parse_plan_json(name: &str, text: &str) -> anyhow::Result<PlanDocument> {
    // Same as PlanDocument::from_json, plus the path of the value serde refused.
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde_path_to_error::deserialize::<_, PlanDocument>(&mut de)
        .map_err(|e| {
            let path = e.path().to_string();
            let e = e.into_inner();
            let field = if path.is_empty() || path == "." {
                String::new()
            } else {
                format!(", field {path}")
            };
            anyhow!(
                "{name} line {}, column {}{field}: {}",
                e.line(),
                e.column(),
                strip_serde_location(&e.to_string())
            )
        })
        .and_then(|doc| {
            de.end().map_err(|e| {
                anyhow!(
                    "{name} line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    strip_serde_location(&e.to_string())
                )
            })?;
            Ok(doc)
        })?;
    match parsed.validate().map(|()| parsed) {
        Ok(doc) => Ok(doc),
        Err(e) => {
            let (field, reason) = match &e {
                CoreError::Invalid { field, reason } => (field.clone(), reason.clone()),
                other => (String::new(), other.to_string()),
            };
            Err(match json_locate(text, &field) {
                Some((line, column)) => {
                    anyhow!("{name} line {line}, column {column}, field {field}: {reason}")
                }
                None if field.is_empty() => anyhow!("{name}: {reason}"),
                None => anyhow!("{name}, field {field}: {reason}"),
            })
        }
    }
}

/// serde_json ends its messages with ` at line L column C`, which we already print.
fn strip_serde_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// Where (1-based line and column) the value at `path` — `tasks[0].targets` — starts in a
/// JSON text, or where its nearest enclosing value starts. The text is already known to be
/// valid JSON.
pub fn json_locate(text: &str, path: &str) -> Option<(usize, usize)> {
    enum Frame {
        Obj {
            prefix: String,
            key: String,
            want_key: bool,
        },
        Arr {
            prefix: String,
            index: usize,
        },
    }
    fn here(stack: &[Frame]) -> String {
        match stack.last() {
            None => String::new(),
            Some(Frame::Obj { prefix, key, .. }) if prefix.is_empty() => key.clone(),
            Some(Frame::Obj { prefix, key, .. }) => format!("{prefix}.{key}"),
            Some(Frame::Arr { prefix, index }) => format!("{prefix}[{index}]"),
        }
    }
    let mut found: HashMap<String, (usize, usize)> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut line, mut col) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut record = |stack: &[Frame], pos| {
        found.entry(here(stack)).or_insert(pos);
    };
    while let Some(c) = chars.next() {
        col += 1;
        let pos = (line, col);
        match c {
            '\n' => {
                line += 1;
                col = 0;
            }
            '{' | '[' => {
                record(&stack, pos);
                let prefix = here(&stack);
                stack.push(if c == '{' {
                    Frame::Obj {
                        prefix,
                        key: String::new(),
                        want_key: true,
                    }
                } else {
                    Frame::Arr { prefix, index: 0 }
                });
            }
            '}' | ']' => {
                stack.pop();
            }
            ':' => {
                if let Some(Frame::Obj { want_key, .. }) = stack.last_mut() {
                    *want_key = false;
                }
            }
            ',' => match stack.last_mut() {
                Some(Frame::Obj { want_key, .. }) => *want_key = true,
                Some(Frame::Arr { index, .. }) => *index += 1,
                None => {}
            },
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    col += 1;
                    match c {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                col += 1;
                                s.push(e);
                            }
                        }
                        '"' => break,
                        _ => s.push(c),
                    }
                }
                match stack.last_mut() {
                    Some(Frame::Obj {
                        key,
                        want_key: true,
                        ..
                    }) => *key = s,
                    _ => record(&stack, pos),
                }
            }
            c if c.is_whitespace() => {}
            _ => {
                record(&stack, pos);
                while let Some(&n) = chars.peek() {
                    if n == ',' || n == '}' || n == ']' || n.is_whitespace() {
                        break;
                    }
                    chars.next();
                    col += 1;
                }
            }
        }
    }
    let mut p = path.to_string();
    loop {
        if let Some(&pos) = found.get(&p) {
            return Some(pos);
        }
        let cut = p.rfind(['.', '['])?;
        p.truncate(cut);
    }
}

fn count_sections(sections: &[Section]) -> usize {
    sections
        .iter()
        .map(|s| 1 + count_sections(&s.children))
        .sum()
}

/// A readable outline of a stored plan.
fn outline(id: i64, doc: &PlanDocument) -> String {
    let mut out = format!("plan {id}: {}\narea: {}\n", doc.title, doc.area);
    fn walk(out: &mut String, sections: &[Section], depth: usize) {
        for s in sections {
            let tasks = if s.tasks.is_empty() {
                String::new()
            } else {
                format!("  [{} tasks]", s.tasks.len())
            };
            out.push_str(&format!(
                "{}{}{}{tasks}\n",
                "  ".repeat(depth + 1),
                s.label,
                s.title
            ));
            walk(out, &s.children, depth + 1);
        }
    }
    out.push_str("sections:\n");
    walk(&mut out, &doc.sections, 0);
    out.push_str(&format!("indicators ({}):\n", doc.indicators.len()));
    for ind in &doc.indicators {
        let targets: Vec<String> = ind
            .targets
            .iter()
            .map(|t| format!("{}: {}", t.year, t.text))
            .collect();
        out.push_str(&format!(
            "  {}{}  {}\n",
            ind.name,
            ind.unit
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
            targets.join("; ")
        ));
    }
    out.push_str(&format!(
        "tasks: {}, target statements: {}\n",
        doc.tasks.len(),
        doc.target_statements.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_fields_by_path() {
        let text = "{\n  \"tasks\": [\n    {\"id\": \"t1\"},\n    {\"id\": \"t2\",\n     \"targets\": [7]}\n  ],\n  \"a\\\"b\": 1\n}";
        assert_eq!(json_locate(text, "tasks[1].targets"), Some((5, 17)));
        assert_eq!(json_locate(text, "tasks[1].targets[0]"), Some((5, 18)));
        assert_eq!(json_locate(text, "tasks[0].id"), Some((3, 12)));
        // Unknown leaf: nearest enclosing value.
        assert_eq!(json_locate(text, "tasks[1].lead"), Some((4, 5)));
        assert_eq!(json_locate(text, "a\"b"), Some((7, 11)));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let good = include_str!("../tests/fixtures/plan_yunfu.json");
        assert!(parse_plan_json("p.json", good).is_ok());
        let bad = good.replacen("\"targets\": [0, 1]", "\"targets\": [0, 9]", 1);
        let e = parse_plan_json("p.json", &bad).unwrap_err().to_string();
        assert!(
            e.starts_with("p.json line 22, column 17, field tasks[0].targets:"),
            "{e}"
        );
        let mut n = good.len() / 2;
        while !good.is_char_boundary(n) {
            n -= 1;
        }
        let cut = &good[..n];
        let e = parse_plan_json("p.json", cut).unwrap_err().to_string();
        assert!(e.starts_with("p.json line ") && e.contains("EOF"), "{e}");
        assert!(!e.contains(" at line "), "{e}");
        let bad = good.replacen(
            "\"value\": 8, \"value_hi\": 12",
            "\"value\": 18, \"value_hi\": 12",
            1,
        );
        let e = parse_plan_json("p.json", &bad).unwrap_err().to_string();
        assert!(
            e.starts_with("p.json line 55, column 6, field indicators[2].targets")
                && e.ends_with("range low 18 is above high 12"),
            "{e}"
        );
        let bad = good.replacen("\"direction\": \"lower\"", "\"direction\": \"down\"", 1);
        let e = parse_plan_json("p.json", &bad).unwrap_err().to_string();
        assert!(
            e.contains("field indicators[1].direction: unknown variant `down`"),
            "{e}"
        );
        let e = parse_plan_json("p.json", &format!("{good} x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("trailing characters"), "{e}");
    }
}
