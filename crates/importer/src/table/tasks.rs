//! Task-allocation tables (重点任务分工表: 序号 | 重点任务 | 牵头单位 | 配合单位): each row is a
//! task with its lead and assisting units. A lead merged down over several rows is repeated
//! (.docx), left empty, or absent from the rows below (.txt); `—` says no unit assists.

use super::{cells::is_dash, regions, Cell};
use crate::text::Doc;
use crate::units;
use healthplan_core::{Doubt, Responsibility, Span};

/// A row of a task-allocation table.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub text: String,
    pub span: Span,
    pub responsibility: Responsibility,
    pub doubts: Vec<Doubt>,
}

/// A task-allocation table: its first line and its rows.
#[derive(Debug, Clone)]
pub struct TaskTable {
    pub first_line: usize,
    pub last_line: usize,
    pub rows: Vec<TaskRow>,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Task,
    Lead,
    Helpers,
    Other,
}

fn role(h: &str) -> Role {
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    if has(&["配合", "参与", "协办", "协助", "协同"]) {
        Role::Helpers
    } else if has(&[
        "牵头",
        "责任单位",
        "责任部门",
        "主责",
        "负责单位",
        "负责部门",
    ]) {
        Role::Lead
    } else if has(&["任务", "工作内容", "工作措施", "事项", "举措"]) && !has(&["序号"])
    {
        Role::Task
    } else {
        Role::Other
    }
}

/// Every task-allocation table of the document.
pub fn task_tables(doc: &Doc) -> Vec<TaskTable> {
    regions(doc)
        .into_iter()
        .filter_map(|r| {
            let (head, body) = r.rows.split_first()?;
            let roles: Vec<Role> = head.iter().map(|c| role(&c.flat())).collect();
            let task = roles.iter().position(|x| *x == Role::Task)?;
            let lead = roles.iter().position(|x| *x == Role::Lead)?;
            let rows = read_rows(body, &roles, task, lead);
            (!rows.is_empty()).then_some(TaskTable {
                first_line: r.first_line,
                last_line: r.last_line,
                rows,
            })
        })
        .collect()
}

fn read_rows(body: &[Vec<Cell>], roles: &[Role], task: usize, lead: usize) -> Vec<TaskRow> {
    let helpers = roles.iter().position(|x| *x == Role::Helpers);
    let mut out = Vec::new();
    let mut lead_above: Option<String> = None;
    for row in body {
        // A lead merged away from the .txt leaves the row one cell short: the lead's.
        let at = |col: usize| -> Option<&Cell> {
            if row.len() + 1 == roles.len() && col >= lead {
                if col == lead {
                    None
                } else {
                    row.get(col - 1)
                }
            } else {
                row.get(col)
            }
        };
        if row.len() != roles.len() && row.len() + 1 != roles.len() {
            continue;
        }
        let Some(text_cell) = at(task) else { continue };
        let text = text_cell.text.replace('\n', "");
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let mut doubts = Vec::new();
        let lead_text = match at(lead).map(|c| c.flat()).filter(|t| !t.is_empty()) {
            Some(t) => t,
            None => match &lead_above {
                Some(t) => {
                    doubts.extend(
                        Doubt::new(
                            "cell_span_guessed",
                            &format!("「牵头单位」为空，按上一行的「{t}」读取（合并单元格）"),
                        )
                        .ok(),
                    );
                    t.clone()
                }
                None => continue,
            },
        };
        if is_dash(&lead_text) {
            continue;
        }
        lead_above = Some(lead_text.clone());
        let helper_text = helpers
            .and_then(at)
            .map(|c| c.flat())
            .filter(|t| !is_dash(t));
        let raw = match &helper_text {
            Some(h) => format!("{lead_text}；{h}"),
            None => lead_text.clone(),
        };
        let Some(found) = units::from_table(&raw) else {
            continue;
        };
        doubts.extend(found.1);
        let first = row.first().map_or(0, |c| c.start);
        let last = row.last().map_or(first, |c| c.end);
        out.push(TaskRow {
            text: text.to_string(),
            span: Span::new(first, last),
            responsibility: found.0,
            doubts,
        });
    }
    out
}
