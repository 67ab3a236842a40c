//! A plan document as blocks (paragraphs and tables whose cells may be merged down or across),
//! written as the plain-text export (`.txt`, the tab-cell layout of Word's text exports) and as
//! a Word document with real tables and merges (`.docx`). The importer's corpus
//! (`examples/make_corpus`) and the generator both write through here.
//!
//! A table row is a list of cell texts: `^` continues the cell above (vertical merge), `<`
//! widens the cell to its left (horizontal merge) and `//` breaks a paragraph inside a cell.

use docx_rs::{
    AlignmentType, Docx, Footer, PageMargin, PageNum, Paragraph, Run, RunFonts, SpecialIndentType,
    Table, TableCell, TableRow, VAlignType, VMergeType, WidthType,
};

/// Usable text width of an A4 page with 2.5 cm margins, in twips.
const TEXT_WIDTH: usize = 9000;

#[derive(Debug, Default, Clone)]
pub struct TableSpec {
    pub center: bool,
    pub vcenter: bool,
    /// Each row of the .txt on one line, cells between tabs.
    pub rowlines: bool,
    /// In the .txt, a merged-away cell is written empty (as some exporters do) instead of left
    /// out.
    pub empty_merged: bool,
    /// Relative column widths.
    pub widths: Vec<usize>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub enum Block {
    Para(String),
    Table(TableSpec),
}

/// How body paragraphs are set.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub indent: bool,
    pub justify: bool,
}

impl Default for Body {
    fn default() -> Self {
        Body {
            indent: true,
            justify: false,
        }
    }
}

pub fn parse(source: &str) -> (Vec<Block>, Body) {
    let mut blocks = Vec::new();
    let mut table: Option<TableSpec> = None;
    let mut body = Body {
        indent: true,
        justify: false,
    };
    for line in source.lines() {
        if line == "[noindent]" {
            body.indent = false;
        } else if line == "[justify]" {
            body.justify = true;
        } else if let Some(opts) = line.strip_prefix("[table") {
            let mut t = TableSpec::default();
            for o in opts.trim_end_matches(']').split_whitespace() {
                match o {
                    "center" => t.center = true,
                    "vcenter" => t.vcenter = true,
                    "rowlines" => t.rowlines = true,
                    w if w.starts_with("widths=") => {
                        t.widths = w["widths=".len()..]
                            .split(',')
                            .map(|n| n.parse().expect("a width is a number"))
                            .collect();
                    }
                    other => panic!("unknown table option {other}"),
                }
            }
            table = Some(t);
        } else if line == "[/table]" {
            blocks.push(Block::Table(table.take().expect("[/table] closes a table")));
        } else if let Some(t) = table.as_mut() {
            t.rows
                .push(line.split(" | ").map(|c| c.trim().to_string()).collect());
        } else {
            blocks.push(Block::Para(line.to_string()));
        }
    }
    assert!(table.is_none(), "a table is not closed");
    (blocks, body)
}

/// The .txt: each cell on a line led by a tab, a cell's further paragraphs on their own lines,
/// a blank line after each row; merged-away cells are not written.
pub fn to_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Para(p) => {
                out.push_str(p);
                out.push('\n');
            }
            Block::Table(t) => {
                for row in &t.rows {
                    let cells: Vec<String> = row
                        .iter()
                        .filter(|c| t.empty_merged && *c == "^" || (*c != "^" && *c != "<"))
                        .map(|c| {
                            if c == "^" {
                                String::new()
                            } else {
                                c.replace("//", "\n")
                            }
                        })
                        .collect();
                    if t.rowlines {
                        for c in &cells {
                            out.push('\t');
                            out.push_str(&c.replace('\n', ""));
                        }
                        out.push('\n');
                    } else {
                        for c in &cells {
                            out.push('\t');
                            out.push_str(c);
                            out.push('\n');
                        }
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

fn run(text: &str) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("宋体"))
        .size(21)
}

pub fn to_docx(blocks: &[Block], body: Body) -> Vec<u8> {
    let mut docx = Docx::new().page_size(11906, 16838).page_margin(
        PageMargin::new()
            .top(1440)
            .bottom(1440)
            .left(1417)
            .right(1417),
    );
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(run("— "))
            .add_page_num(PageNum::new())
            .add_run(run(" —")),
    );
    docx = docx.footer(footer);
    for (i, b) in blocks.iter().enumerate() {
        match b {
            // The title is centred; body paragraphs are indented by two characters.
            Block::Para(p) if i == 0 => {
                docx = docx.add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_run(run(p).size(32)),
                )
            }
            Block::Para(p) => {
                let mut para = Paragraph::new().add_run(run(p));
                if body.indent {
                    para = para.indent(None, Some(SpecialIndentType::FirstLine(420)), None, None);
                }
                if body.justify {
                    para = para.align(AlignmentType::Both);
                }
                docx = docx.add_paragraph(para)
            }
            Block::Table(t) => docx = docx.add_table(word_table(t)),
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .expect("a document in memory packs");
    out.into_inner()
}

fn word_table(t: &TableSpec) -> Table {
    let columns = t.rows.iter().map(Vec::len).max().unwrap_or(0);
    let weights: Vec<usize> = (0..columns)
        .map(|i| t.widths.get(i).copied().unwrap_or(10))
        .collect();
    let total: usize = weights.iter().sum::<usize>().max(1);
    let grid: Vec<usize> = weights.iter().map(|w| w * TEXT_WIDTH / total).collect();
    let rows = t
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let mut cells: Vec<TableCell> = Vec::new();
            let mut spans: Vec<usize> = Vec::new();
            let mut widths: Vec<usize> = Vec::new();
            for (k, c) in row.iter().enumerate() {
                let w = grid.get(k).copied().unwrap_or(0);
                if c == "<" {
                    if let (Some(s), Some(wd)) = (spans.last_mut(), widths.last_mut()) {
                        *s += 1;
                        *wd += w;
                    }
                    continue;
                }
                let below = t.rows.get(r + 1).and_then(|n| n.get(k));
                let mut cell = TableCell::new();
                if t.vcenter {
                    cell = cell.vertical_align(VAlignType::Center);
                }
                if c == "^" {
                    cell = cell
                        .vertical_merge(VMergeType::Continue)
                        .add_paragraph(Paragraph::new());
                } else {
                    if below.is_some_and(|b| b == "^") {
                        cell = cell.vertical_merge(VMergeType::Restart);
                    }
                    for para in c.split("//") {
                        let mut p = Paragraph::new().add_run(run(para));
                        if t.center {
                            p = p.align(AlignmentType::Center);
                        }
                        cell = cell.add_paragraph(p);
                    }
                }
                cells.push(cell);
                spans.push(1);
                widths.push(w);
            }
            let cells = cells
                .into_iter()
                .zip(spans.iter().zip(&widths))
                .map(|(c, (&s, &w))| {
                    let c = c.width(w, WidthType::Dxa);
                    if s > 1 {
                        c.grid_span(s)
                    } else {
                        c
                    }
                })
                .collect();
            TableRow::new(cells)
        })
        .collect();
    Table::new(rows).set_grid(grid)
}
