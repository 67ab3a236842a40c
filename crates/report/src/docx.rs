//! The outline as a Word document laid out per GB/T 9704-2012 (党政机关公文格式): A4, text
//! block 156 × 225 mm (top 37 mm, left 28 mm), 22 lines of 28 characters; title in 2号
//! 小标宋, headings 一、 in 黑体, （一） in 楷体, 1. in 仿宋; body in 3号仿宋 indented two
//! characters; page numbers `— 1 —` in 4号宋体, odd pages right and even pages left.
//!
//! The line grid is `lines` with the line pitch of 22 lines, and 16 pt text is set 0.25 pt
//! tighter so 28 characters fill a line; a `linesAndChars` grid says the same to Word but
//! LibreOffice spreads the characters over it, and PDF goes through LibreOffice.
//!
//! docx-rs writes the package; what it cannot say is added to its XML parts before packing:
//! repeated table header rows (`w:tblHeader`), fallback names for the Chinese fonts in the
//! font table (`w:altName`), and the document language (zh-CN, so CJK fallback picks
//! Simplified Chinese glyphs).

use crate::doc::{title_lines, width, Align, Block, Doc, Figure, Level, Table, SYNTHETIC};
use crate::ReportError;
use docx_rs::{
    AlignmentType, BreakType, DocGrid, DocGridType, Docx, FieldCharType, Footer, Header, InstrPAGE,
    InstrText, LineSpacing, LineSpacingType, PageMargin, PageNumType, Paragraph, Pic, Run,
    RunFonts, Section, SpecialIndentType, TableAlignmentType, TableCell, TableCellMargins,
    TableLayoutType, TableRow, VAlignType, WidthType,
};

/// Twips per millimetre.
const TWIPS_MM: f64 = 56.692_913;
const EMU_MM: f64 = 36_000.0;

const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
const TOP_MM: f64 = 37.0;
const LEFT_MM: f64 = 28.0;
const TEXT_W_MM: f64 = 156.0;
const TEXT_H_MM: f64 = 225.0;
const LINES: f64 = 22.0;
#[cfg(test)]
const CHARS: f64 = 28.0;

/// Font sizes in half-points: 初号 42 pt … 五号 10.5 pt.
const SIZE_1: usize = 52; // 一号 26 pt
const SIZE_2: usize = 44; // 二号 22 pt
const SIZE_3: usize = 32; // 三号 16 pt
const SIZE_4: usize = 28; // 四号 14 pt
const SIZE_S4: usize = 24; // 小四 12 pt
const SIZE_5: usize = 21; // 五号 10.5 pt

const LATIN: &str = "Times New Roman";

/// Character spacing of 16 pt text, in twentieths of a point: 15.75 pt × 28 = 441 pt fits
/// the 442 pt line.
const TIGHTEN: i32 = -5;

/// The five Chinese typefaces of GB/T 9704, each with the names to try in order: the
/// standard's font, the names Word and Windows know, then free fonts a Linux machine has.
const FACES: [(&str, &[&str], &str); 5] = [
    (
        "方正小标宋简体",
        &[
            "方正小标宋_GBK",
            "华文中宋",
            "STZhongsong",
            "Noto Serif CJK SC",
            "Source Han Serif SC",
        ],
        "roman",
    ),
    (
        "黑体",
        &[
            "SimHei",
            "Noto Sans CJK SC",
            "Source Han Sans SC",
            "WenQuanYi Zen Hei",
        ],
        "modern",
    ),
    (
        "楷体_GB2312",
        &[
            "楷体",
            "KaiTi",
            "STKaiti",
            "AR PL UKai CN",
            "Noto Serif CJK SC",
        ],
        "modern",
    ),
    (
        "仿宋_GB2312",
        &[
            "仿宋",
            "FangSong",
            "STFangsong",
            "Noto Serif CJK SC",
            "Source Han Serif SC",
        ],
        "modern",
    ),
    (
        "宋体",
        &[
            "SimSun",
            "Noto Serif CJK SC",
            "Source Han Serif SC",
            "AR PL UMing CN",
        ],
        "auto",
    ),
];

/// The typefaces a document names.
#[derive(Debug, Clone, PartialEq)]
pub struct Fonts {
    pub title: String,
    pub heiti: String,
    pub kaiti: String,
    pub fangsong: String,
    pub songti: String,
    /// Whether the font table lists the fallback names (for the standard's fonts).
    fallbacks: bool,
}

impl Fonts {
    /// The standard's fonts, with fallback names in the font table: the file to hand out.
    pub fn standard() -> Fonts {
        Fonts {
            title: FACES[0].0.into(),
            heiti: FACES[1].0.into(),
            kaiti: FACES[2].0.into(),
            fangsong: FACES[3].0.into(),
            songti: FACES[4].0.into(),
            fallbacks: true,
        }
    }

    /// For each typeface the first of its names among `installed` (font family names), else
    /// the standard's name: the file LibreOffice converts on this machine, so the PDF shows
    /// a serif 仿宋 stand-in rather than the machine's default sans-serif.
    pub fn installed(installed: &[String]) -> Fonts {
        let pick = |k: usize| {
            let (name, alts, _) = FACES[k];
            std::iter::once(name)
                .chain(alts.iter().copied())
                .find(|n| installed.iter().any(|i| i == n))
                .unwrap_or(name)
                .to_string()
        };
        Fonts {
            title: pick(0),
            heiti: pick(1),
            kaiti: pick(2),
            fangsong: pick(3),
            songti: pick(4),
            fallbacks: false,
        }
    }
}

/// Full-width characters a line of text at `size` (half-points) holds.
fn line_chars(size: usize) -> f64 {
    (TEXT_W_MM / 25.4 * 72.0 / (size as f64 / 2.0)).floor()
}

/// `n` characters of 3号 text, in twips.
fn chars_3(n: f64) -> i32 {
    (n * (SIZE_3 as f64 * 10.0 + TIGHTEN as f64)).round() as i32
}

fn twips(mm: f64) -> i32 {
    (mm * TWIPS_MM).round() as i32
}

/// The line pitch of 22 lines in 225 mm, in twips (579; rounded down so 22 lines fit).
fn line_pitch() -> i32 {
    (TEXT_H_MM / LINES * TWIPS_MM).floor() as i32
}

/// Exactly one grid line (28.95 pt), as GB/T 9704 sets body text.
fn on_grid() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(line_pitch())
}

fn compact(line: i32) -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(line)
}

fn first_line_indent(p: Paragraph, size: usize) -> Paragraph {
    // Two characters of the paragraph's size (size is in half-points; 20 twips a point).
    p.indent(
        None,
        Some(SpecialIndentType::FirstLine(size as i32 * 20 + 2 * TIGHTEN)),
        None,
        None,
    )
}

fn run_fonts(east_asia: &str) -> RunFonts {
    // The hint makes quotation marks and dashes take the Chinese font, as Chinese text sets them.
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN)
        .hi_ansi(LATIN)
        .cs(LATIN)
        .hint("eastAsia")
}

fn run(text: &str, font: &str, size: usize) -> Run {
    let r = Run::new().add_text(text).fonts(run_fonts(font)).size(size);
    if size == SIZE_3 {
        r.character_spacing(TIGHTEN)
    } else {
        r
    }
}

/// Lays the outline out with one set of typefaces.
struct Layout<'a> {
    f: &'a Fonts,
}

impl Layout<'_> {
    fn body(&self, text: &str) -> Paragraph {
        first_line_indent(
            Paragraph::new()
                .add_run(run(text, &self.f.fangsong, SIZE_3))
                .align(AlignmentType::Both)
                .line_spacing(on_grid()),
            SIZE_3,
        )
    }

    fn blank(&self) -> Paragraph {
        Paragraph::new()
            .add_run(run("", &self.f.fangsong, SIZE_3))
            .line_spacing(on_grid())
    }

    fn heading(&self, level: Level, text: &str) -> Paragraph {
        let (font, outline) = match level {
            Level::One => (&self.f.heiti, 0),
            Level::Two => (&self.f.kaiti, 1),
            Level::Three => (&self.f.fangsong, 2),
        };
        first_line_indent(
            Paragraph::new()
                .add_run(run(text, font, SIZE_3))
                .line_spacing(on_grid())
                .outline_lvl(outline)
                .keep_next(true),
            SIZE_3,
        )
    }

    fn title_line(&self, text: &str, size: usize) -> Paragraph {
        Paragraph::new()
            .add_run(run(text, &self.f.title, size))
            .align(AlignmentType::Center)
            .line_spacing(compact(size as i32 * 16))
    }

    fn centered(&self, text: &str, font: &str) -> Paragraph {
        Paragraph::new()
            .add_run(run(text, font, SIZE_3))
            .align(AlignmentType::Center)
            .line_spacing(on_grid())
    }

    fn cell(&self, text: &str, width: usize, align: Align, header: bool) -> TableCell {
        let jc = match align {
            Align::Left => AlignmentType::Left,
            Align::Center => AlignmentType::Center,
            Align::Right => AlignmentType::Right,
        };
        let (font, jc) = if header {
            (&self.f.heiti, AlignmentType::Center)
        } else {
            (&self.f.fangsong, jc)
        };
        // Lines in a cell are kept apart by the text, not by the page grid.
        let p = Paragraph::new()
            .add_run(run(text, font, SIZE_5))
            .align(jc)
            .snap_to_grid(false)
            .line_spacing(compact(300));
        TableCell::new()
            .add_paragraph(p)
            .width(width, WidthType::Dxa)
            .vertical_align(VAlignType::Center)
    }

    fn caption(&self, text: &str, keep_next: bool) -> Paragraph {
        Paragraph::new()
            .add_run(run(text, &self.f.heiti, SIZE_4))
            .align(AlignmentType::Center)
            .snap_to_grid(false)
            .line_spacing(compact(480))
            .keep_next(keep_next)
    }

    fn note(&self, text: &str) -> Paragraph {
        Paragraph::new()
            .add_run(run(text, &self.f.fangsong, SIZE_5))
            .align(AlignmentType::Both)
            .snap_to_grid(false)
            .line_spacing(compact(300))
    }

    fn table(&self, t: &Table) -> docx_rs::Table {
        let total: u32 = t.widths.iter().sum::<u32>().max(1);
        let width = twips(TEXT_W_MM) as usize;
        let cols: Vec<usize> = t
            .widths
            .iter()
            .map(|w| (*w as usize * width) / total as usize)
            .collect();
        let col = |k: usize| cols.get(k).copied().unwrap_or(0);
        let align = |k: usize| t.align.get(k).copied().unwrap_or(Align::Left);
        let header = TableRow::new(
            t.header
                .iter()
                .enumerate()
                .map(|(k, h)| self.cell(h, col(k), Align::Center, true))
                .collect(),
        )
        .cant_split();
        let mut rows = vec![header];
        for r in &t.rows {
            rows.push(
                TableRow::new(
                    (0..t.header.len())
                        .map(|k| {
                            let text = r.get(k).map(String::as_str).unwrap_or("");
                            self.cell(text, col(k), align(k), false)
                        })
                        .collect(),
                )
                .cant_split(),
            );
        }
        docx_rs::Table::new(rows)
            .set_grid(cols)
            .width(width, WidthType::Dxa)
            .layout(TableLayoutType::Fixed)
            .align(TableAlignmentType::Center)
            .margins(TableCellMargins::new().margin(30, 50, 30, 50))
    }

    /// `— 1 —` in 4号宋体, one character in from the outer edge; the number is a field
    /// whose runs carry the font and size themselves, like the dashes.
    fn page_number(&self, odd: bool) -> Footer {
        let dash = |t: &str| run(t, &self.f.songti, SIZE_4);
        let field = |r: Run| r.fonts(run_fonts(&self.f.songti)).size(SIZE_4);
        let indent = SIZE_4 as i32 * 10;
        let p = Paragraph::new()
            .add_run(dash("— "))
            .add_run(field(
                Run::new()
                    .add_field_char(FieldCharType::Begin, false)
                    .add_instr_text(InstrText::PAGE(InstrPAGE::new())),
            ))
            .add_run(field(
                Run::new().add_field_char(FieldCharType::Separate, false),
            ))
            .add_run(field(Run::new().add_text("1")))
            .add_run(field(Run::new().add_field_char(FieldCharType::End, false)))
            .add_run(dash(" —"))
            .fonts(run_fonts(&self.f.songti))
            .size(SIZE_4);
        let p = if odd {
            p.align(AlignmentType::Right)
                .indent(None, None, Some(indent), None)
        } else {
            p.align(AlignmentType::Left)
                .indent(Some(indent), None, None, None)
        };
        Footer::new().add_paragraph(p)
    }

    /// 附件说明: `附件：1.…` two characters in, later names under the first.
    fn enclosures(&self, names: &[String]) -> Vec<Paragraph> {
        names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let text = if k == 0 {
                    format!("附件：{}.{name}", k + 1)
                } else {
                    format!("{}.{name}", k + 1)
                };
                let p = Paragraph::new()
                    .add_run(run(&text, &self.f.fangsong, SIZE_3))
                    .line_spacing(on_grid());
                if k == 0 {
                    first_line_indent(p, SIZE_3)
                } else {
                    p.indent(Some(chars_3(5.0)), None, None, None)
                }
            })
            .collect()
    }

    /// 落款: the office two characters in from the right, the date under it starting two
    /// characters further right.
    fn signature(&self, issuer: Option<&str>, date: Option<&str>) -> Vec<Paragraph> {
        let line = |text: &str, right: f64| {
            Paragraph::new()
                .add_run(run(text, &self.f.fangsong, SIZE_3))
                .align(AlignmentType::Right)
                .indent(None, None, Some(chars_3(right)), None)
                .line_spacing(on_grid())
        };
        let mut out = vec![self.blank(), self.blank()];
        if let Some(i) = issuer {
            out.push(line(i, 2.0));
        }
        if let Some(d) = date {
            let right = match issuer {
                Some(i) => (width(i) - width(d)).max(2.0),
                None => 4.0,
            };
            out.push(line(d, right));
        }
        out
    }

    fn synthetic_header(&self) -> Header {
        Header::new().add_paragraph(
            Paragraph::new()
                .add_run(run(SYNTHETIC, &self.f.heiti, SIZE_S4).color("C00000"))
                .align(AlignmentType::Right),
        )
    }

    fn cover(&self, d: &Doc) -> Section {
        let mut s = Section::new()
            .page_size(docx_rs::PageSize::new().size(PAGE_W, PAGE_H))
            .page_margin(page_margin())
            .doc_grid(doc_grid());
        s = s.add_paragraph(if d.synthetic {
            Paragraph::new()
                .add_run(run(SYNTHETIC, &self.f.heiti, SIZE_3).color("C00000").bold())
                .align(AlignmentType::Right)
                .line_spacing(on_grid())
        } else {
            self.blank()
        });
        for _ in 0..5 {
            s = s.add_paragraph(self.blank());
        }
        for t in [&d.cover.title, &d.cover.subtitle] {
            for line in title_lines(t, line_chars(SIZE_1)) {
                s = s.add_paragraph(self.title_line(&line, SIZE_1));
            }
        }
        if d.synthetic {
            s = s
                .add_paragraph(self.blank())
                .add_paragraph(self.centered(&format!("（{SYNTHETIC}）"), &self.f.kaiti));
        }
        for _ in 0..8 {
            s = s.add_paragraph(self.blank());
        }
        if let Some(i) = &d.cover.issuer {
            s = s.add_paragraph(self.centered(i, &self.f.kaiti));
        }
        if let Some(date) = &d.cover.date {
            s = s.add_paragraph(self.centered(date, &self.f.fangsong));
        }
        s
    }

    fn document(&self, d: &Doc) -> Docx {
        let mut docx = Docx::new()
            .page_size(PAGE_W, PAGE_H)
            .page_margin(page_margin())
            .default_size(SIZE_3)
            .default_fonts(run_fonts(&self.f.fangsong))
            .add_section(self.cover(d))
            .footer(self.page_number(true))
            .even_footer(self.page_number(false))
            .page_num_type(PageNumType::new().start(1));
        docx.document = docx.document.doc_grid(doc_grid());
        if d.synthetic {
            docx = docx
                .header(self.synthetic_header())
                .even_header(self.synthetic_header());
        }
        let lines = d
            .title
            .iter()
            .flat_map(|t| title_lines(t, line_chars(SIZE_2)));
        for (k, line) in lines.enumerate() {
            let p = self.title_line(&line, SIZE_2);
            docx = docx.add_paragraph(if k == 0 { p.page_break_before(true) } else { p });
        }
        docx = docx.add_paragraph(self.blank());
        for b in &d.blocks {
            docx = match b {
                Block::Heading(level, text) => docx.add_paragraph(self.heading(*level, text)),
                Block::Para(text) => docx.add_paragraph(self.body(text)),
                Block::Table(t) => {
                    let mut x = docx
                        .add_paragraph(self.caption(&t.caption, true))
                        .add_table(self.table(t));
                    if let Some(n) = &t.note {
                        x = x.add_paragraph(self.note(n));
                    }
                    x.add_paragraph(self.blank())
                }
                Block::Figure(f) => docx
                    .add_paragraph(figure(f))
                    .add_paragraph(self.caption(&f.caption, false))
                    .add_paragraph(self.blank()),
                Block::Attachment { label, title } => {
                    let head = docx
                        .add_paragraph(
                            Paragraph::new()
                                .add_run(Run::new().add_break(BreakType::Page))
                                .add_run(run(label, &self.f.heiti, SIZE_3))
                                .line_spacing(on_grid()),
                        )
                        .add_paragraph(self.blank());
                    let lines = title_lines(title, line_chars(SIZE_2));
                    add_all(head, lines.iter().map(|l| self.title_line(l, SIZE_2)))
                        .add_paragraph(self.blank())
                }
                Block::Enclosures(names) => {
                    add_all(docx.add_paragraph(self.blank()), self.enclosures(names))
                }
                Block::Signature { issuer, date } => {
                    add_all(docx, self.signature(issuer.as_deref(), date.as_deref()))
                }
            };
        }
        docx
    }
}

fn add_all(docx: Docx, ps: impl IntoIterator<Item = Paragraph>) -> Docx {
    ps.into_iter().fold(docx, Docx::add_paragraph)
}

fn figure(f: &Figure) -> Paragraph {
    let w = (f.width_mm * EMU_MM) as u32;
    let h = (f.width_mm * f.png.height as f64 / f.png.width.max(1) as f64 * EMU_MM) as u32;
    let pic = Pic::new_with_dimensions(f.png.bytes.clone(), f.png.width, f.png.height).size(w, h);
    Paragraph::new()
        .add_run(Run::new().add_image(pic))
        .align(AlignmentType::Center)
        .snap_to_grid(false)
        .keep_next(true)
}

fn page_margin() -> PageMargin {
    let bottom = 297.0 - TOP_MM - TEXT_H_MM;
    let right = 210.0 - LEFT_MM - TEXT_W_MM;
    PageMargin::new()
        .top(twips(TOP_MM))
        .bottom(twips(bottom))
        .left(twips(LEFT_MM))
        .right(twips(right))
        .header(twips(15.0))
        // The page number sits about 7 mm under the text block.
        .footer(twips(bottom - 7.0 - 5.0))
        .gutter(0)
}

/// 22 lines a page.
fn doc_grid() -> DocGrid {
    DocGrid::new()
        .grid_type(DocGridType::Lines)
        .line_pitch(line_pitch() as usize)
}

/// Marks the first row of every table as a header row repeated on each page.
fn repeat_header_rows(document: &str) -> String {
    let mut out = String::with_capacity(document.len() + 1024);
    let mut rest = document;
    while let Some(k) = rest.find("<w:tbl>") {
        let (head, tail) = rest.split_at(k);
        out.push_str(head);
        // The first row's properties follow the table's first `<w:tr>`.
        match tail.find("<w:trPr>") {
            Some(j) if tail[..j].matches("<w:tr>").count() == 1 => {
                let at = j + "<w:trPr>".len();
                out.push_str(&tail[..at]);
                out.push_str("<w:tblHeader />");
                rest = &tail[at..];
            }
            _ => {
                out.push_str("<w:tbl>");
                rest = &tail["<w:tbl>".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Adds the standard's Chinese fonts with their first fallback names to the font table.
fn add_font_fallbacks(font_table: &str) -> String {
    let fonts: String = FACES
        .iter()
        .map(|(name, alts, family)| {
            let alt = alts.first().copied().unwrap_or(name);
            format!(
                r#"<w:font w:name="{name}"><w:altName w:val="{alt}" /><w:charset w:val="86" /><w:family w:val="{family}" /><w:pitch w:val="variable" /></w:font>"#
            )
        })
        .collect();
    match font_table.rfind("</w:fonts>") {
        Some(k) => format!("{}{fonts}{}", &font_table[..k], &font_table[k..]),
        None => font_table.to_string(),
    }
}

/// Declares Simplified Chinese as the East Asian language of every run (`w:lang` goes last
/// among the default run properties, as the schema orders them). Digits and Latin text stay
/// English: set as Chinese, LibreOffice breaks a line inside `2025` or `82.7`.
fn set_language(styles: &str) -> String {
    styles.replacen(
        "</w:rPr></w:rPrDefault>",
        r#"<w:lang w:val="en-US" w:eastAsia="zh-CN" /></w:rPr></w:rPrDefault>"#,
        1,
    )
}

fn docx_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Docx(e.to_string())
}

fn utf8(bytes: &mut Vec<u8>) -> Result<String, ReportError> {
    String::from_utf8(std::mem::take(bytes)).map_err(docx_err)
}

pub fn render(d: &Doc, fonts: &Fonts) -> Result<Vec<u8>, ReportError> {
    let mut xml = Layout { f: fonts }.document(d).build();
    xml.document = repeat_header_rows(&utf8(&mut xml.document)?).into_bytes();
    if fonts.fallbacks {
        xml.font_table = add_font_fallbacks(&utf8(&mut xml.font_table)?).into_bytes();
    }
    xml.styles = set_language(&utf8(&mut xml.styles)?).into_bytes();
    let mut out = std::io::Cursor::new(Vec::new());
    xml.pack(&mut out).map_err(docx_err)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rows_are_marked_once_per_table() {
        let xml = "<w:body><w:tbl><w:tblPr /><w:tr><w:trPr><w:cantSplit /></w:trPr></w:tr><w:tr><w:trPr></w:trPr></w:tr></w:tbl><w:p /><w:tbl><w:tr><w:trPr></w:trPr></w:tr></w:tbl></w:body>";
        let got = repeat_header_rows(xml);
        assert_eq!(got.matches("<w:tblHeader />").count(), 2, "{got}");
        assert!(got.contains("<w:tr><w:trPr><w:tblHeader /><w:cantSplit />"));
        // A table whose first row has no property element is left alone.
        assert_eq!(
            repeat_header_rows("<w:tbl><w:tr></w:tr></w:tbl>"),
            "<w:tbl><w:tr></w:tr></w:tbl>"
        );
    }

    #[test]
    fn the_grid_is_22_lines_of_28_characters() {
        assert_eq!(line_pitch(), 579);
        let block = PAGE_H as i32 - twips(TOP_MM) - twips(297.0 - TOP_MM - TEXT_H_MM);
        assert!(22 * line_pitch() <= block && 23 * line_pitch() > block);
        // 28 tightened 16 pt characters fit the 156 mm line, 29 do not.
        let line_pt = TEXT_W_MM / 25.4 * 72.0;
        let char_pt = 16.0 + TIGHTEN as f64 / 20.0;
        assert!(CHARS * char_pt <= line_pt && (CHARS + 1.0) * char_pt > line_pt);
    }

    #[test]
    fn installed_fonts_stand_in_for_missing_ones() {
        let f = Fonts::installed(&[
            "Noto Serif CJK SC".into(),
            "Noto Sans CJK SC".into(),
            "楷体".into(),
        ]);
        assert_eq!(
            (
                f.title.as_str(),
                f.heiti.as_str(),
                f.kaiti.as_str(),
                f.fangsong.as_str()
            ),
            (
                "Noto Serif CJK SC",
                "Noto Sans CJK SC",
                "楷体",
                "Noto Serif CJK SC"
            )
        );
        assert_eq!(Fonts::installed(&[]).fangsong, "仿宋_GB2312");
        assert_eq!(Fonts::standard().kaiti, "楷体_GB2312");
    }
}
