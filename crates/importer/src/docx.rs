//! .docx → text, in memory. Paragraphs become lines; Word tables are written in the same
//! layout the plain-text exports use (each cell on a line led by a tab, further paragraphs of
//! the cell on untabbed lines, a blank line after each row), so one table reader serves both.

use crate::limits::{MAX_DOCX_XML_BYTES, MAX_TEXT_BYTES};
use healthplan_archive::ArchiveError;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Why a .docx gave no text.
#[derive(Debug)]
pub enum DocxError {
    /// Not a readable Word document: the reason.
    Unreadable(String),
    /// Built to expand: the archive's bounds were passed.
    Bomb(ArchiveError),
    /// More text than a plan may hold.
    TooMuchText,
}

pub fn extract_text(bytes: &[u8]) -> Result<String, DocxError> {
    let archive = |e: ArchiveError| {
        if e.is_bomb() {
            DocxError::Bomb(e)
        } else {
            DocxError::Unreadable(e.en())
        }
    };
    let mut zip =
        healthplan_archive::open(bytes, &healthplan_archive::Limits::default()).map_err(archive)?;
    let xml = healthplan_archive::read(&mut zip, "word/document.xml", MAX_DOCX_XML_BYTES)
        .map_err(archive)?;
    render(&xml)
}

/// Refuses text past what a plan may hold, before it is built.
fn within(len: usize) -> Result<(), DocxError> {
    if len > MAX_TEXT_BYTES {
        Err(DocxError::TooMuchText)
    } else {
        Ok(())
    }
}

#[derive(Default)]
struct Cell {
    paragraphs: Vec<String>,
    continues_above: bool,
    /// Grid columns the cell covers (`w:gridSpan`).
    span: usize,
}

#[derive(Default)]
struct Table {
    rows: Vec<Vec<Cell>>,
}

fn local(name: &str) -> &str {
    match name.find(':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Renders document.xml; tables nested in cells are flattened into their cell's paragraphs.
fn render(xml: &[u8]) -> Result<String, DocxError> {
    let xml = std::str::from_utf8(xml)
        .map_err(|e| DocxError::Unreadable(format!("word/document.xml is not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut para: Option<String> = None;
    let mut in_text = false;
    let mut tables: Vec<Table> = Vec::new();
    loop {
        let ev = reader.read_event().map_err(|e| {
            DocxError::Unreadable(format!(
                "word/document.xml at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match ev {
            Event::Start(e) => match local(e.name().as_ref()) {
                "p" => para = Some(String::new()),
                "t" => in_text = true,
                "tbl" => tables.push(Table::default()),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        t.rows.push(Vec::new());
                    }
                }
                "tc" => {
                    if let Some(r) = tables.last_mut().and_then(|t| t.rows.last_mut()) {
                        r.push(Cell::default());
                    }
                }
                "vMerge" => mark_vmerge(&e, &mut tables),
                "gridSpan" => mark_span(&e, &mut tables),
                _ => {}
            },
            Event::Empty(e) => match local(e.name().as_ref()) {
                "tab" => {
                    if let Some(p) = para.as_mut() {
                        p.push('\t');
                    }
                }
                "br" | "cr" => {
                    if let Some(p) = para.as_mut() {
                        p.push('\n');
                    }
                }
                "p" => emit_paragraph(String::new(), &mut tables, &mut out),
                "vMerge" => mark_vmerge(&e, &mut tables),
                "gridSpan" => mark_span(&e, &mut tables),
                _ => {}
            },
            Event::Text(t) if in_text => {
                if let Some(p) = para.as_mut() {
                    p.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text => {
                if let Some(p) = para.as_mut() {
                    p.push_str(&resolve_entity(&r));
                }
            }
            Event::End(e) => match local(e.name().as_ref()) {
                "t" => in_text = false,
                "p" => {
                    let p = para.take().unwrap_or_default();
                    emit_paragraph(p, &mut tables, &mut out);
                    within(out.len())?;
                }
                "tbl" => {
                    if let Some(t) = tables.pop() {
                        let text = render_table(&t)?;
                        within(out.len() + text.len())?;
                        match tables
                            .last_mut()
                            .and_then(|t| t.rows.last_mut())
                            .and_then(|r| r.last_mut())
                        {
                            Some(cell) => cell.paragraphs.extend(text.lines().map(str::to_string)),
                            None => out.push_str(&text),
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn resolve_entity(name: &str) -> String {
    match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()));
            code.and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_default()
        }
    }
}

fn mark_vmerge(e: &quick_xml::events::BytesStart, tables: &mut [Table]) {
    // <w:vMerge/> or val="continue" continues the cell above; val="restart" starts one.
    let restart = e
        .attributes()
        .flatten()
        .any(|a| local(a.key.as_ref()) == "val" && a.value.as_ref() == "restart");
    if !restart {
        if let Some(c) = tables
            .last_mut()
            .and_then(|t| t.rows.last_mut())
            .and_then(|r| r.last_mut())
        {
            c.continues_above = true;
        }
    }
}

fn mark_span(e: &quick_xml::events::BytesStart, tables: &mut [Table]) {
    let span = e
        .attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == "val")
        .and_then(|a| a.value.trim().parse::<usize>().ok());
    if let (Some(span), Some(c)) = (
        span,
        tables
            .last_mut()
            .and_then(|t| t.rows.last_mut())
            .and_then(|r| r.last_mut()),
    ) {
        c.span = span.clamp(1, 64);
    }
}

fn emit_paragraph(p: String, tables: &mut [Table], out: &mut String) {
    match tables
        .last_mut()
        .and_then(|t| t.rows.last_mut())
        .and_then(|r| r.last_mut())
    {
        Some(cell) => cell.paragraphs.push(p),
        None => {
            out.push_str(&p);
            out.push('\n');
        }
    }
}

/// The table in the tab-cell layout; cells merged down repeat their text, so the output is
/// checked against the text bound as it grows.
fn render_table(t: &Table) -> Result<String, DocxError> {
    let mut s = String::new();
    // Text of the cell starting at each grid column in the row above, for merged-down cells.
    let mut above: Vec<(usize, String)> = Vec::new();
    for row in &t.rows {
        let mut here: Vec<(usize, String)> = Vec::new();
        let mut grid = 0;
        for cell in row {
            s.push('\t');
            // A cell merged down repeats the text of the cell it continues.
            let text = if cell.continues_above {
                above
                    .iter()
                    .find(|(g, _)| *g == grid)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default()
            } else {
                cell.paragraphs
                    .join("\n")
                    .trim_end_matches('\n')
                    .to_string()
            };
            s.push_str(&text);
            s.push('\n');
            within(s.len())?;
            here.push((grid, text));
            grid += cell.span.max(1);
        }
        s.push('\n');
        above = here;
    }
    Ok(s)
}
