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
    /// A new page with the attachment label (`附件`) and the attachment's title.
    Attachment {
        label: String,
        title: String,
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

    /// Starts an attachment (附件): headings restart at 一、, tables and figures continue.
    pub fn attachment(&mut self, title: &str) {
        self.h = [0, 0, 0];
        self.blocks.push(Block::Attachment {
            label: "附件".into(),
            title: title.into(),
        });
    }
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
