//! Clean-up: removes `[bookmark: …]` markers left by Word exports and normalises line ends and
//! odd spaces, keeping a map from every clean char back to the source char it came from.

use regex::Regex;
use std::sync::LazyLock;

static BOOKMARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[bookmark:[^\]\n]{0,200}\]").expect("valid regex"));

/// Clean char offset → source char offset. Has one entry more than the clean text has chars,
/// so the end of a span maps too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OffsetMap {
    to_source: Vec<u32>,
}

impl OffsetMap {
    /// The source char offset of clean char offset `i` (clamped to the end).
    pub fn source_offset(&self, i: usize) -> usize {
        match self.to_source.get(i) {
            Some(&o) => o as usize,
            None => self.to_source.last().map_or(0, |&o| o as usize),
        }
    }

    /// Maps a clean `[start, end)` span to the source.
    pub fn source_span(&self, start: usize, end: usize) -> (usize, usize) {
        (self.source_offset(start), self.source_offset(end))
    }

    pub fn len(&self) -> usize {
        self.to_source.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Returns the cleaned text and its offset map.
pub fn clean(source: &str) -> (String, OffsetMap) {
    // Byte ranges to drop entirely.
    let drops: Vec<(usize, usize)> = BOOKMARK
        .find_iter(source)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut out = String::with_capacity(source.len());
    let mut map: Vec<u32> = Vec::with_capacity(source.len() / 2);
    let mut d = 0;
    let mut chars = source.char_indices().enumerate().peekable();
    // Trailing spaces of a line are held back until we know the line goes on.
    let mut pending: Vec<(char, u32)> = Vec::new();
    while let Some((ci, (bi, c))) = chars.next() {
        while d < drops.len() && drops[d].1 <= bi {
            d += 1;
        }
        if d < drops.len() && drops[d].0 <= bi && bi < drops[d].1 {
            continue;
        }
        let ci = ci as u32;
        let c = match c {
            '\r' => {
                if matches!(chars.peek(), Some((_, (_, '\n')))) {
                    continue;
                }
                '\n'
            }
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{2060}' => continue,
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' => ' ',
            '\u{000B}' | '\u{000C}' => '\n',
            c => c,
        };
        if c == ' ' || c == '\u{3000}' {
            pending.push((c, ci));
            continue;
        }
        if c != '\n' {
            for (pc, pi) in pending.drain(..) {
                out.push(pc);
                map.push(pi);
            }
        } else {
            pending.clear();
        }
        out.push(c);
        map.push(ci);
    }
    // Trailing blank lines carry nothing; a .docx and its .txt export differ only there.
    while out.ends_with('\n') {
        out.pop();
        map.pop();
    }
    let end = source.chars().count() as u32;
    map.push(end);
    (out, OffsetMap { to_source: map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bookmarks_and_maps_back() {
        let src = "ab[bookmark: _Toc1]cd  \r\nef";
        let (c, m) = clean(src);
        assert_eq!(c, "abcd\nef");
        assert_eq!(clean("a\n\n").0, "a");
        let chars: Vec<char> = src.chars().collect();
        for (i, ch) in c.chars().enumerate() {
            let o = m.source_offset(i);
            let want = if ch == '\n' { '\r' } else { ch };
            assert!(chars[o] == ch || chars[o] == want, "{i} {ch} {o}");
        }
        assert_eq!(m.source_offset(c.chars().count()), src.chars().count());
    }
}
