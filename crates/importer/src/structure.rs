//! Section tree and tasks. Headings are numbered in a fixed family of styles whose nesting
//! order is conventional (第X章 > 第X节 > 一、 > （一） > 1. > （1） > ①); a numbered line with a
//! long body is a task, and so is any paragraph that ends with a list of responsible units.

use crate::table::FoundTable;
use crate::text::{trim_lead, Doc, Line};
use crate::units;
use crate::{Counted, Warning};
use healthplan_core::{PlanDocument, Section, Span, Task};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const CN: &str = "一二三四五六七八九十百零〇";

struct Style {
    rank: u8,
    re: Regex,
}

static STYLES: LazyLock<Vec<Style>> = LazyLock::new(|| {
    let mk = |rank, pat: String| Style {
        rank,
        re: Regex::new(&pat).expect("valid regex"),
    };
    vec![
        mk(0, r"^附件\s*[\d一二三四五六七八九十]*\s*[:：]?".to_string()),
        mk(1, format!(r"^第[{CN}\d]+[章篇]")),
        mk(2, format!(r"^第[{CN}\d]+节")),
        mk(3, format!(r"^[{CN}]+\s*[、．.]")),
        mk(4, format!(r"^[（(]\s*[{CN}]+\s*[）)]")),
        mk(5, r"^\d{1,3}\s*[、.．](?:\s|[^\d])".to_string()),
        mk(6, r"^[（(]\s*\d{1,3}\s*[）)]".to_string()),
        mk(7, r"^[①-⑳]".to_string()),
        mk(8, r"^专栏\s*[\d一二三四五六七八九十]+".to_string()),
    ]
});

/// A numbered label at the start of a line: (rank, label, rest).
fn label_of(text: &str) -> Option<(u8, &str, &str)> {
    let t = trim_lead(text);
    for s in STYLES.iter() {
        if let Some(m) = s.re.find(t) {
            let mut end = m.end();
            // Style 5 peeks one char past the separator.
            if s.rank == 5 {
                end = t[..end]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| matches!(c, '、' | '.' | '．'))
                    .map_or(end, |(i, c)| i + c.len_utf8());
            }
            return Some((s.rank, t[..end].trim(), t[end..].trim()));
        }
    }
    None
}

/// Short enough, and without a sentence inside, to be a heading rather than a paragraph.
fn is_heading_text(rest: &str) -> bool {
    let n = rest.chars().count();
    let body = rest.trim_end_matches(['。', '：', ':']);
    n > 0 && n <= 40 && !body.contains('。') && !body.contains('；')
}

struct Open {
    rank: u8,
    section: Section,
}

fn close_to(stack: &mut Vec<Open>, roots: &mut Vec<Section>, rank: u8) {
    while stack.last().is_some_and(|o| o.rank >= rank) {
        let Some(done) = stack.pop() else { break };
        match stack.last_mut() {
            Some(parent) => parent.section.children.push(done.section),
            None => roots.push(done.section),
        }
    }
}

fn span_of(l: &Line) -> Span {
    let lead = l.text.len() - trim_lead(l.text).len();
    let trail = l.text.trim_end().len();
    Span::new(l.char_at(lead), l.char_at(trail))
}

/// Builds sections and tasks; indicators and targets are filled in by the caller.
pub fn build(
    doc: &Doc,
    tables: &[FoundTable],
    _warnings: &mut Vec<Warning>,
) -> Result<PlanDocument, Counted> {
    let mut roots: Vec<Section> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut tasks: Vec<Task> = Vec::new();
    let mut loose: Vec<String> = Vec::new();
    // The last plain paragraph and the line of the last task, for unit lists on their own line.
    let mut prev_para: Option<usize> = None;
    let mut last_task_line: Option<usize> = None;
    // Lines taken already, up to this one: the unit list under a `责任单位：` line of its own,
    // or the lines a bracketed list runs on to.
    let mut consumed: Option<usize> = None;
    // The line where the last task's unit list ended, for a `协作单位：` line just below.
    let mut last_list_line: Option<usize> = None;
    let in_table = crate::table::covered(doc, tables);
    let task_tables = crate::table::task_tables(doc);
    for l in &doc.lines {
        if tasks.len() > Counted::Tasks.max() {
            return Err(Counted::Tasks);
        }
        // A task-allocation table: a task per row, in the section it stands in.
        for tt in task_tables.iter().filter(|t| t.first_line == l.no) {
            for row in &tt.rows {
                let id = format!("t{}", tasks.len() + 1);
                tasks.push(Task {
                    id: id.clone(),
                    text: row.text.clone(),
                    span: row.span,
                    responsible: Some(row.responsibility.clone()),
                    targets: Vec::new(),
                    doubts: row.doubts.clone(),
                    extra: BTreeMap::new(),
                });
                match stack.last_mut() {
                    Some(o) => o.section.tasks.push(id),
                    None => loose.push(id),
                }
            }
        }
        if l.is_blank() || in_table[l.no] || consumed.is_some_and(|c| l.no <= c) {
            continue;
        }
        let above = doc.lines[..l.no]
            .iter()
            .rev()
            .find(|p| !p.is_blank())
            .map(|p| p.no);
        // `主要协作单位：B、C` under `牵头单位：A`: the same list goes on.
        if let Some(h) = units::helper_line(l.text).filter(|_| last_list_line == above) {
            if let Some(r) = tasks.last_mut().and_then(|t| {
                t.span = Span::new(t.span.start as usize, span_of(l).end as usize);
                t.responsible.as_mut()
            }) {
                for u in h.responsibility.units {
                    if !r.units.contains(&u) {
                        r.units.push(u);
                    }
                }
                r.raw = format!("{} / {}", r.raw, l.text.trim());
                last_list_line = Some(l.no);
                continue;
            }
        }
        let body = trim_lead(l.text);
        // `责任单位：` alone, the units on the next line: one list, ending there.
        let mut list_end = l;
        let mut found = units::find(l.text);
        if units::is_prefix_only(l.text) {
            if let Some(next) = doc
                .lines
                .get(l.no + 1)
                .filter(|n| !n.is_blank() && !n.is_cell())
            {
                found = units::find(&format!("{}{}", l.text.trim(), next.text.trim()))
                    .map(|f| units::Found { start: 0, ..f });
                if found.is_some() {
                    list_end = next;
                    consumed = Some(next.no);
                }
            }
        }
        // A bracketed list broken over lines (a PDF's text): read it whole.
        if found.is_none() && !l.is_cell() {
            if let Some((f, last)) = list_over_lines(doc, l) {
                found = Some(f);
                list_end = last;
                consumed = Some(last.no);
            }
        }
        let label = label_of(body);
        let is_box = label.is_some_and(|(r, _, _)| r == 8);
        if l.is_cell() && !is_box {
            continue;
        }
        if let Some((rank, lab, rest)) = label {
            let heading = found.is_none() && (rank <= 2 || rank == 8 || is_heading_text(rest));
            if heading {
                close_to(&mut stack, &mut roots, rank);
                stack.push(Open {
                    rank,
                    section: Section {
                        label: lab.to_string(),
                        title: rest.trim_end_matches(['。', '：', ':']).to_string(),
                        span: span_of(l),
                        children: Vec::new(),
                        tasks: Vec::new(),
                        extra: BTreeMap::new(),
                    },
                });
                continue;
            }
        }
        let numbered = label.filter(|(r, _, _)| (3..=7).contains(r));
        if numbered.is_none() && found.is_none() {
            prev_para = Some(l.no);
            continue;
        }
        // A unit list alone on its line belongs to the paragraph just above.
        if let Some(f) = found
            .as_ref()
            .filter(|f| l.text[..f.start].trim().is_empty())
        {
            let above = doc.lines[..l.no]
                .iter()
                .rev()
                .find(|p| !p.is_blank())
                .map(|p| p.no);
            if let Some(t) = tasks
                .last_mut()
                .filter(|t| t.responsible.is_none() && last_task_line == above)
            {
                t.responsible = Some(f.responsibility.clone());
                t.doubts.extend(f.doubts.iter().cloned());
                t.span = Span::new(t.span.start as usize, span_of(list_end).end as usize);
                last_list_line = Some(list_end.no);
                continue;
            }
            if let Some(p) = prev_para.filter(|&p| Some(p) == above) {
                let pl = &doc.lines[p];
                let id = format!("t{}", tasks.len() + 1);
                tasks.push(Task {
                    id: id.clone(),
                    text: trim_lead(pl.text).trim_end().to_string(),
                    span: Span::new(span_of(pl).start as usize, span_of(list_end).end as usize),
                    responsible: Some(f.responsibility.clone()),
                    targets: Vec::new(),
                    doubts: f.doubts.clone(),
                    extra: BTreeMap::new(),
                });
                match stack.last_mut() {
                    Some(o) => o.section.tasks.push(id),
                    None => loose.push(id),
                }
                last_list_line = Some(list_end.no);
                continue;
            }
        }
        // A box (专栏) holds unnumbered items; a numbered task after it is back in the text.
        if numbered.is_some() && stack.last().is_some_and(|o| o.rank == 8) {
            close_to(&mut stack, &mut roots, 8);
        }
        // Task text: the paragraph without its label and without the unit list.
        let lead = l.text.len() - body.len();
        let text_end = found.as_ref().map_or(l.text.trim_end().len(), |f| f.start);
        let mut text = l.text[lead..text_end].trim().to_string();
        if let Some((_, lab, _)) = numbered {
            if let Some(r) = text.strip_prefix(lab) {
                text = r.trim().to_string();
            }
        }
        let id = format!("t{}", tasks.len() + 1);
        let mut extra = BTreeMap::new();
        if let Some((_, lab, _)) = numbered {
            extra.insert(
                "label".to_string(),
                serde_json::Value::String(lab.to_string()),
            );
        }
        last_task_line = Some(l.no);
        let (responsible, doubts) = match found {
            Some(f) => {
                last_list_line = Some(list_end.no);
                (Some(f.responsibility), f.doubts)
            }
            None => (None, Vec::new()),
        };
        tasks.push(Task {
            id: id.clone(),
            text,
            span: Span::new(span_of(l).start as usize, span_of(list_end).end as usize),
            responsible,
            targets: Vec::new(),
            doubts,
            extra,
        });
        match stack.last_mut() {
            Some(o) => o.section.tasks.push(id),
            None => loose.push(id),
        }
    }
    close_to(&mut stack, &mut roots, 0);
    if !loose.is_empty() {
        // Tasks before any heading hang from an unnamed root so each task has a section.
        roots.insert(
            0,
            Section {
                label: String::new(),
                title: String::new(),
                span: Span::UNKNOWN,
                children: Vec::new(),
                tasks: loose,
                extra: BTreeMap::new(),
            },
        );
    }
    if tasks.len() > Counted::Tasks.max() {
        return Err(Counted::Tasks);
    }
    let (title, area) = title_and_area(doc);
    Ok(PlanDocument {
        title,
        area,
        sections: roots,
        tasks,
        target_years: tables
            .iter()
            .flat_map(|t| t.target_years.iter().copied())
            .fold(Vec::new(), |mut v, y| {
                if !v.contains(&y) {
                    v.push(y);
                }
                v
            }),
        ..PlanDocument::default()
    })
}

/// A unit list that opens a bracket on line `l` and closes it on one of the next few lines
/// (blank lines between, as a PDF's text breaks them): the list read from the lines joined,
/// and the line it ends on.
fn list_over_lines<'a>(doc: &'a Doc, l: &Line) -> Option<(units::Found, &'a Line<'a>)> {
    let open = |t: &str| -> i32 {
        t.chars()
            .map(|c| match c {
                '（' | '(' | '〔' | '【' | '[' => 1,
                '）' | ')' | '〕' | '】' | ']' => -1,
                _ => 0,
            })
            .sum()
    };
    let first = l.text.trim_end();
    let mut depth = open(first);
    if depth <= 0 {
        return None;
    }
    let mut joined = first.to_string();
    for (taken, next) in doc.lines[l.no + 1..]
        .iter()
        .filter(|n| !n.is_blank())
        .enumerate()
    {
        if next.is_cell() || taken == 3 {
            return None;
        }
        joined.push_str(next.text.trim());
        depth += open(next.text);
        if depth <= 0 {
            let f = units::find(&joined).filter(|f| f.start < first.len())?;
            return Some((f, next));
        }
    }
    None
}

static TITLE_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"规划|行动|意见|方案|计划|纲要").expect("valid regex"));
static QUOTED_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"《([^《》]{2,40}(?:规划|行动|方案|计划|纲要)[^《》]{0,6})》").expect("valid regex")
});
static AREA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([\p{Han}]{2,4}?(?:省|自治区|市|区|县|旗))").expect("valid regex")
});
static AREA_IN_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"健康([\p{Han}]{2,3}?)(?:行动|规划|建设)").expect("valid regex"));

/// Best guesses: the first short line that names a plan, and the area it is for.
fn title_and_area(doc: &Doc) -> (String, String) {
    let mut title = doc
        .lines
        .iter()
        .filter(|l| !l.is_blank() && !l.is_cell())
        .take(20)
        .map(|l| l.text.trim())
        .find(|t| t.chars().count() <= 60 && TITLE_WORD.is_match(t) && label_of(t).is_none())
        .unwrap_or_default()
        .to_string();
    // The document naming itself: 制定《…》 / 《…》（以下简称…）.
    static OWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:制定|编制|印发|特制定)《([^《》]{2,40})》|《([^《》]{2,40})》[（(]以下简称")
            .expect("valid regex")
    });
    // A table caption such as `…“十四五”规划指标体系`.
    static CAPTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"([\p{Han}“”\d]{4,30}(?:规划|行动|方案|计划))(?:主要)?指标")
            .expect("valid regex")
    });
    let head: String = doc.text.chars().take(20000).collect();
    if title.is_empty() {
        if let Some(c) = OWN.captures(&head) {
            title = c.get(1).or(c.get(2)).map_or("", |m| m.as_str()).to_string();
        }
    }
    if title.is_empty() {
        if let Some(c) = CAPTION.captures(&head) {
            title = c[1].to_string();
        }
    }
    if title.is_empty() {
        if let Some(c) = QUOTED_TITLE.captures(&head) {
            title = c[1].to_string();
        }
    }
    // Typos in the source leave unbalanced quotes or brackets; drop those.
    let mut title = title.trim().to_string();
    for (o, c) in [('“', '”'), ('（', '）'), ('(', ')')] {
        if title.matches(o).count() != title.matches(c).count() {
            title = title.replace([o, c], "");
        }
    }
    let mut area = AREA
        .captures(&title)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    if area.is_empty() {
        if let Some(c) = AREA_IN_NAME
            .captures(&title)
            .or_else(|| AREA_IN_NAME.captures(&head))
        {
            let name = c[1].to_string();
            // Complete the name with its level when the text writes it (云浮 → 云浮市).
            area = ["市", "区", "县", "省"]
                .iter()
                .map(|l| format!("{name}{l}"))
                .find(|full| doc.text.contains(full.as_str()))
                .unwrap_or(name);
        }
    }
    (title, area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label_of("第一章 发展基础").map(|x| x.0), Some(1));
        assert_eq!(
            label_of("（一）指导思想").map(|x| (x.0, x.1)),
            Some((4, "（一）"))
        );
        assert_eq!(label_of("(三)构建新格局。").map(|x| x.0), Some(4));
        assert_eq!(
            label_of("1.建立完善").map(|x| (x.0, x.1, x.2)),
            Some((5, "1.", "建立完善"))
        );
        assert_eq!(label_of("1、 公共卫生").map(|x| x.0), Some(5));
        assert_eq!(label_of("2.5万人").map(|x| x.0), None);
        assert_eq!(label_of("（2）做好").map(|x| x.0), Some(6));
        assert_eq!(label_of("③做好").map(|x| x.0), Some(7));
        assert_eq!(label_of("专栏1 指标").map(|x| x.0), Some(8));
        assert_eq!(label_of("附件1：名单").map(|x| x.0), Some(0));
    }

    #[test]
    fn unit_list_on_its_own_line_joins_the_paragraph_above() {
        let text = "（一）加强科普\n建设健康科普平台，推动健康知识进社区。\n责任单位：区卫生健康局、区教育局\n1.控烟。全面推进无烟党政机关建设。\n牵头单位：区卫生健康局；配合单位：区市场监管局\n";
        let plan = build(&Doc::new(text), &[], &mut Vec::new()).unwrap();
        assert_eq!(plan.tasks.len(), 2);
        assert_eq!(plan.tasks[0].text, "建设健康科普平台，推动健康知识进社区。");
        let r = plan.tasks[1].responsible.as_ref().unwrap();
        assert_eq!(r.units, ["区卫生健康局", "区市场监管局"]);
        assert_eq!(plan.sections[0].tasks, ["t1", "t2"]);
    }

    #[test]
    fn numbered_tasks_after_a_box_belong_to_the_section() {
        let text = "一、医院建设\n1.推进建设。加快推进医院建设，提升服务能力和水平。\n\t专栏1 重点项目\n某医院项目：建筑面积1万平方米。\n2.加强管理。完善药品管理制度，规范用药行为。\n";
        let plan = build(&Doc::new(text), &[], &mut Vec::new()).unwrap();
        let s = &plan.sections[0];
        assert_eq!(s.tasks, ["t1", "t2"]);
        assert_eq!(s.children[0].label, "专栏1");
        assert!(s.children[0].tasks.is_empty());
    }

    #[test]
    fn tree_and_tasks() {
        let text = "第一章 总则\n一、主要任务\n（一）健康知识\n1.建立完善健康科普专家库。建立健全两级科普专家库，定期更新，扩大覆盖面和影响力。（市卫生健康局、市教育局负责）\n2.评估需求。开展工作。\n二、保障\n";
        let doc = Doc::new(text);
        let plan = build(&doc, &[], &mut Vec::new()).unwrap();
        assert_eq!(plan.sections.len(), 1);
        let ch = &plan.sections[0].children;
        assert_eq!(ch.len(), 2);
        assert_eq!(ch[0].children[0].tasks, ["t1", "t2"]);
        let r = plan.tasks[0].responsible.as_ref().unwrap();
        assert_eq!(r.lead.as_deref(), Some("市卫生健康局"));
        assert!(!plan.tasks[0].text.contains("负责"));
        assert!(plan.tasks[0].text.starts_with("建立完善"));
    }
}
