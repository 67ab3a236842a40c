//! The cleaned text as lines with char offsets, shared by the extractors.

/// One line of the cleaned text.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// 0-based line number.
    pub no: usize,
    pub text: &'a str,
    /// Char offset of the line's first char in the cleaned text.
    pub start: usize,
}

impl Line<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.chars().count()
    }

    /// Starts with a tab: a cell of a table in the text layout.
    pub fn is_cell(&self) -> bool {
        self.text.starts_with('\t')
    }

    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// Char offset (in the whole text) of byte offset `b` within the line.
    pub fn char_at(&self, b: usize) -> usize {
        self.start + self.text[..b.min(self.text.len())].chars().count()
    }
}

pub struct Doc<'a> {
    pub text: &'a str,
    pub lines: Vec<Line<'a>>,
}

impl<'a> Doc<'a> {
    pub fn new(text: &'a str) -> Doc<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        for (no, l) in text.split('\n').enumerate() {
            lines.push(Line { no, text: l, start });
            start += l.chars().count() + 1;
        }
        Doc { text, lines }
    }
}

/// Leading ASCII and full-width whitespace removed.
pub fn trim_lead(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
}
