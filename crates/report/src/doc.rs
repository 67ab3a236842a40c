//! The report as a format-neutral outline: cover, headings, paragraphs, tables and figures.
//! `content` fills it from the data; `docx` and `html` only lay it out, so the two formats
//! always say the same thing.

use crate::charts::Png;

/// The label every table and the cover carry when the data are synthetic.
pub const SYNTHETIC: &str = "演示数据";

/// Figures span the text block's width (156 mm) less a margin.
pub const FIGURE_MM: f64 = 150.0;

/// Heading levels of GB/T 9704: 一、 （一） 1. （1）.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    One,
    Two,
    Three,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// A table column: header, relative width, alignment of its cells.
pub type Col<'a> = (&'a str, u32, Align);

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `表1　…（演示数据）`.
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Relative column widths.
    pub widths: Vec<u32>,
    pub align: Vec<Align>,
    /// Printed under the table.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// `图1　…`.
    pub caption: String,
    pub png: Png,
    /// Printed width in millimetres (the height keeps the aspect ratio).
    pub width_mm: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The heading text with its number (`一、总体情况`).
    Heading(Level, String),
    Para(String),
    Table(Table),
    Figure(Figure),
    /// A new page with the attachment label (`附件1`) and the attachment's title.
    Attachment {
        label: String,
        title: String,
    },
    /// The line after the body naming the attachments (`附件：1.主要指标监测情况表`).
    Enclosures(Vec<String>),
    /// Below the body: the issuing office and the date (落款).
    Signature {
        issuer: Option<String>,
        date: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    pub title: String,
    pub subtitle: String,
    pub issuer: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub cover: Cover,
    /// The title over the body (the plan title and the report's name, on two lines).
    pub title: Vec<String>,
    pub synthetic: bool,
    pub blocks: Vec<Block>,
}

const NUMERALS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// 1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (headings never reach 100).
pub fn chinese_number(n: usize) -> String {
    let digit = |d: usize| NUMERALS.get(d).copied().unwrap_or("");
    match n {
        0..=9 => digit(n).to_string(),
        10..=19 => format!("十{}", if n == 10 { "" } else { digit(n % 10) }),
        20..=99 => format!(
            "{}十{}",
            digit(n / 10),
            if n.is_multiple_of(10) {
                ""
            } else {
                digit(n % 10)
            }
        ),
        _ => n.to_string(),
    }
}

/// Builds the block list, numbering headings, tables and figures as it goes.
#[derive(Debug, Default)]
pub struct Builder {
    pub blocks: Vec<Block>,
    synthetic: bool,
    h: [usize; 3],
    tables: usize,
    figures: usize,
    attachments: usize,
}

impl Builder {
    pub fn new(synthetic: bool) -> Builder {
        Builder {
            synthetic,
            ..Builder::default()
        }
    }

    pub fn heading(&mut self, level: Level, text: &str) {
        let label = match level {
            Level::One => {
                self.h = [self.h[0] + 1, 0, 0];
                format!("{}、", chinese_number(self.h[0]))
            }
            Level::Two => {
                self.h[1] += 1;
                self.h[2] = 0;
                format!("（{}）", chinese_number(self.h[1]))
            }
            Level::Three => {
                self.h[2] += 1;
                format!("{}.", self.h[2])
            }
        };
        self.blocks
            .push(Block::Heading(level, format!("{label}{text}")));
    }

    pub fn para(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !text.trim().is_empty() {
            self.blocks.push(Block::Para(text));
        }
    }

    fn label(&self, text: &str) -> String {
        if self.synthetic {
            format!("{text}（{SYNTHETIC}）")
        } else {
            text.to_string()
        }
    }

    /// Adds a table of columns (header, relative width, alignment); the caption is numbered
    /// and, for synthetic data, labelled.
    pub fn table(
        &mut self,
        title: &str,
        cols: &[Col],
        rows: Vec<Vec<String>>,
        note: Option<String>,
    ) {
        self.tables += 1;
        let caption = self.label(&format!("表{}　{title}", self.tables));
        self.blocks.push(Block::Table(Table {
            caption,
            header: cols.iter().map(|c| c.0.to_string()).collect(),
            rows,
            widths: cols.iter().map(|c| c.1).collect(),
            align: cols.iter().map(|c| c.2).collect(),
            note,
        }));
    }

    /// The number the next table will carry, for the sentence that refers to it.
    pub fn next_table(&self) -> usize {
        self.tables + 1
    }

    /// The number the next figure will carry.
    pub fn next_figure(&self) -> usize {
        self.figures + 1
    }

    /// Adds a chart; one that could not be drawn is replaced by a line saying so, and the
    /// report goes on.
    pub fn chart(&mut self, title: &str, png: Result<Png, crate::ReportError>) {
        match png {
            Ok(png) => self.figure(title, png, FIGURE_MM),
            Err(e) => self.para(format!("（{title}未能生成：{e}）")),
        }
    }

    pub fn figure(&mut self, title: &str, png: Png, width_mm: f64) {
        self.figures += 1;
        let caption = self.label(&format!("图{}　{title}", self.figures));
        self.blocks.push(Block::Figure(Figure {
            caption,
            png,
            width_mm,
        }));
    }

    /// Starts an attachment (附件1, 附件2, …): headings restart at 一、, tables and figures
    /// continue.
    pub fn attachment(&mut self, title: &str) {
        self.h = [0, 0, 0];
        self.attachments += 1;
        self.blocks.push(Block::Attachment {
            label: format!("附件{}", self.attachments),
            title: title.into(),
        });
    }
}

/// How wide a text sets, in full-width characters: Latin letters, digits and ASCII
/// punctuation take half.
pub fn width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum()
}

/// Where a title may break: between words, never inside brackets, quotation marks or a
/// number. A break goes before an opening mark, after a closing mark or list comma, and
/// after the words that end a phrase in plan titles.
fn title_breaks(chars: &[char]) -> Vec<usize> {
    const AFTER_WORDS: [&str; 9] = [
        "人民政府",
        "办公室",
        "委员会",
        "关于",
        "印发",
        "行动",
        "规划",
        "方案",
        "的",
    ];
    let opening = |c: char| matches!(c, '（' | '(' | '《' | '“' | '「');
    let closing = |c: char| matches!(c, '）' | ')' | '》' | '”' | '」');
    let mut out = Vec::new();
    let mut depth = 0i32;
    for k in 1..chars.len() {
        let (a, b) = (chars[k - 1], chars[k]);
        if opening(a) {
            depth += 1;
        } else if closing(a) {
            depth -= 1;
        }
        // Marks and particles that never start a line.
        if depth != 0 || closing(b) || matches!(b, '、' | '，' | '的' | '年') {
            continue;
        }
        let head: String = chars[..k].iter().collect();
        let numeric = |c: char| c.is_ascii_digit() || c == '.';
        let breaks = opening(b)
            || closing(a)
            || matches!(a, '、' | '，')
            || AFTER_WORDS.iter().any(|w| head.ends_with(w))
            || b.is_ascii_digit() && !numeric(a);
        if breaks && !(numeric(a) && numeric(b)) {
            out.push(k);
        }
    }
    out
}

/// A title as lines of at most `max` full-width characters, broken only between words and
/// as evenly as the breaks allow; a phrase longer than a line stays whole on its own line.
pub fn title_lines(text: &str, max: f64) -> Vec<String> {
    let chars: Vec<char> = text.trim().chars().collect();
    let line = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    if width(&line(0, chars.len())) <= max {
        return vec![line(0, chars.len())];
    }
    let mut cuts = vec![0];
    cuts.extend(title_breaks(&chars));
    cuts.push(chars.len());
    // Fewest lines, then the least squared slack: best[j] is the best way to set up to cut j.
    let n = cuts.len();
    let mut best: Vec<Option<(usize, f64, usize)>> = vec![None; n];
    best[0] = Some((0, 0.0, 0));
    for j in 1..n {
        for i in 0..j {
            let Some((lines, cost, _)) = best[i] else {
                continue;
            };
            let w = width(&line(cuts[i], cuts[j]));
            // An over-long phrase is allowed only as a line of its own.
            let over = w > max && j != i + 1;
            if over {
                continue;
            }
            let slack = (max - w).max(0.0);
            let cand = (lines + 1, cost + slack * slack, i);
            if best[j].is_none_or(|(l, c, _)| (cand.0, cand.1) < (l, c)) {
                best[j] = Some(cand);
            }
        }
    }
    let mut out = Vec::new();
    let mut j = n - 1;
    while j > 0 {
        let Some((_, _, i)) = best[j] else { break };
        out.push(line(cuts[i], cuts[j]));
        j = i;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        let got: Vec<String> = [1, 9, 10, 11, 20, 21, 99, 100]
            .iter()
            .map(|n| chinese_number(*n))
            .collect();
        assert_eq!(
            got,
            ["一", "九", "十", "十一", "二十", "二十一", "九十九", "100"]
        );
    }

    #[test]
    fn titles_break_between_words() {
        let t = "深圳市人民政府关于打造健康中国“深圳样板”的实施意见";
        let lines = title_lines(t, 20.0);
        assert_eq!(
            lines,
            ["深圳市人民政府关于打造健康中国", "“深圳样板”的实施意见"]
        );
        assert_eq!(title_lines("光明区卫生健康“十四五”规划", 20.0).len(), 1);
        let t = "“健康云浮行动2030”规划2025年度监测评估报告";
        let lines = title_lines(t, 17.0);
        assert_eq!(lines.concat(), t);
        assert!(lines.iter().all(|l| width(l) <= 17.0), "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with(|c: char| c.is_ascii_digit()) || l.starts_with("2025")),
            "{lines:?}"
        );
        // No break inside quotation marks or numbers, even when a phrase overflows.
        for l in title_lines("“一二三四五六七八九十一二三四五六七八九十一二”规划", 10.0)
        {
            assert!(l.matches('“').count() == l.matches('”').count(), "{l}");
        }
    }

    #[test]
    fn headings_number_per_level() {
        let mut b = Builder::new(true);
        b.heading(Level::One, "总体情况");
        b.heading(Level::Two, "健康生活");
        b.heading(Level::Two, "健康服务");
        b.heading(Level::Three, "细项");
        b.heading(Level::One, "任务");
        b.heading(Level::Two, "甲");
        b.table("指标", &[("a", 1, Align::Left)], vec![], None);
        let texts: Vec<String> = b
            .blocks
            .iter()
            .map(|x| match x {
                Block::Heading(_, t) => t.clone(),
                Block::Table(t) => t.caption.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "一、总体情况",
                "（一）健康生活",
                "（二）健康服务",
                "1.细项",
                "二、任务",
                "（一）甲",
                "表1　指标（演示数据）"
            ]
        );
    }
}
