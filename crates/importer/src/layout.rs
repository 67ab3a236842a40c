//! Page-layout text (a PDF read by `pdftotext -layout`, best with `-fixed` so that a word's
//! column is its position on the page) → the tab-cell layout the table reader and the rest of
//! the importer read. Paragraphs broken at line ends are joined again; page numbers go; a run of
//! lines with wide gaps is a table, whose columns are found from where the text sits on the
//! page and whose rows start at their serial numbers (or at a line that fills most columns).
//! Cell text wrapped over several lines is joined; one phrase across several columns stays one
//! cell, as a merged cell does in the other formats.

use regex::Regex;
use std::sync::LazyLock;

/// A run of text on one line: words separated by at most one space.
#[derive(Debug, Clone)]
struct Chunk {
    /// Column (char index) of the first char.
    start: usize,
    text: String,
}

impl Chunk {
    /// Width in half-width units: Han and full-width chars count two.
    fn width(&self) -> usize {
        display_width(&self.text)
    }
}

fn display_width(s: &str) -> usize {
    s.chars().map(|c| if wide(c) { 2 } else { 1 }).sum()
}

fn wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
        || matches!(
            c,
            '—' | '…' | '“' | '”' | '‘' | '’' | '‰' | '≥' | '≤' | '、'
        )
}

#[derive(Debug, Clone)]
struct LLine {
    chunks: Vec<Chunk>,
}

impl LLine {
    fn start(&self) -> usize {
        self.chunks.first().map_or(0, |c| c.start)
    }

    fn is_blank(&self) -> bool {
        self.chunks.is_empty()
    }

    /// All the text, chunks joined by a space.
    fn text(&self) -> String {
        let parts: Vec<&str> = self.chunks.iter().map(|c| c.text.as_str()).collect();
        parts.join(" ")
    }

    /// Width in half-width units without the spaces a PDF adds where fonts change.
    fn width(&self) -> usize {
        display_width(&tidy_spaces(&self.text()))
    }
}

/// Splits a line into chunks at gaps of two spaces or more.
fn chunks_of(line: &str) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    let mut spaces = 0usize;
    for (i, c) in line.chars().enumerate() {
        if c == ' ' || c == '\u{3000}' || c == '\t' {
            spaces += 1;
            continue;
        }
        match out.last_mut() {
            Some(ch) if spaces == 1 => {
                ch.text.push(' ');
                ch.text.push(c);
            }
            Some(ch) if spaces == 0 => ch.text.push(c),
            _ => out.push(Chunk {
                start: i,
                text: c.to_string(),
            }),
        }
        spaces = 0;
    }
    out
}

static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[-—－–]\s*\d{1,4}\s*[-—－–]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")
        .expect("valid regex")
});
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:第[一二三四五六七八九十百零〇\d]+[章节篇部分]|[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、]\D|[①-⑳]|专栏|附件|附表|表\s*\d)")
        .expect("valid regex")
});

/// Lines of the text with the page numbers at page ends removed; pages run on.
fn page_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for page in text.split('\u{c}') {
        let mut lines: Vec<&str> = page.lines().collect();
        // A page number sits alone among the last (or first) lines of a page.
        let filled: Vec<usize> = (0..lines.len())
            .filter(|&i| !lines[i].trim().is_empty())
            .collect();
        let ends: Vec<usize> = filled
            .iter()
            .rev()
            .take(2)
            .chain(filled.iter().take(1))
            .copied()
            .collect();
        for i in ends {
            if PAGE_NUMBER.is_match(lines[i]) {
                lines[i] = "";
            }
        }
        out.extend(lines.iter().map(|l| l.trim_end().to_string()));
    }
    out
}

/// Removes the spaces a PDF puts where the font changes between Han and Latin text
/// (`2025 年` → `2025年`), and between Han characters.
pub fn tidy_spaces(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' && i > 0 && i + 1 < chars.len() {
            let (a, b) = (chars[i - 1], chars[i + 1]);
            if (wide(a) || wide(b)) && a != ' ' && b != ' ' {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Converts page-layout text to the tab-cell layout.
pub fn to_cell_layout(text: &str) -> String {
    let lines: Vec<LLine> = page_lines(text)
        .iter()
        .map(|l| LLine {
            chunks: chunks_of(l),
        })
        .collect();
    let margin = body_margin(&lines);
    let full = full_width(&lines, margin);
    let blocks = table_blocks(&lines, margin);
    let mut out = String::new();
    let mut para = String::new();
    let mut prev: Option<&LLine> = None;
    let mut i = 0;
    let flush = |para: &mut String, out: &mut String| {
        if !para.is_empty() {
            out.push_str(&tidy_spaces(para.trim()));
            out.push('\n');
            para.clear();
        }
    };
    while i < lines.len() {
        if let Some(&(a, b)) = blocks.iter().find(|(a, _)| *a == i) {
            flush(&mut para, &mut out);
            out.push_str(&render_table(&lines[a..b]));
            prev = None;
            i = b;
            continue;
        }
        let l = &lines[i];
        i += 1;
        if l.is_blank() {
            continue;
        }
        let joins = prev.is_some_and(|p| continues(p, l, margin, full));
        if !joins {
            flush(&mut para, &mut out);
        }
        para.push_str(&l.text());
        prev = Some(l);
    }
    flush(&mut para, &mut out);
    out
}

/// The column where body text lines start: the leftmost start shared by several long
/// single-chunk lines (first lines of paragraphs are indented to the right of it).
fn body_margin(lines: &[LLine]) -> usize {
    let mut counts: std::collections::BTreeMap<usize, usize> = Default::default();
    for l in lines
        .iter()
        .filter(|l| l.chunks.len() == 1 && l.width() >= 20)
    {
        *counts.entry(l.start()).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    counts
        .iter()
        .find(|&(_, &n)| n * 5 >= most && n >= 2)
        .or_else(|| counts.iter().max_by_key(|&(_, n)| *n))
        .map_or(0, |(s, _)| *s)
}

/// The width of a full body line (half-width units): the widest line of body text.
fn full_width(lines: &[LLine], margin: usize) -> usize {
    lines
        .iter()
        .filter(|l| l.chunks.len() <= 2 && l.start() + 12 >= margin && !l.is_blank())
        .map(LLine::width)
        .max()
        .unwrap_or(0)
}

/// Whether `l` goes on with the paragraph that `p` ends.
fn continues(p: &LLine, l: &LLine, margin: usize, full: usize) -> bool {
    let text = l.text();
    // A line indented past the margin starts a paragraph, as does a numbered heading.
    if l.start() > margin + 1 || HEADING.is_match(&text) {
        return false;
    }
    // The line above ran to the right margin (within two characters; an indented first line
    // is two characters shorter), or stopped mid-sentence well past the middle.
    let indent = if p.start() > margin + 1 { 4 } else { 0 };
    let width = p.width() + indent;
    let mid_sentence = !p.text().ends_with([
        '。', '！', '？', '；', '：', ':', '）', ')', '】', '〕', ']', '”',
    ]);
    full > 0 && (width + 4 >= full || mid_sentence && width * 10 >= full * 7)
}

/// Line ranges `[a, b)` of the tables: runs of lines with wide gaps between their chunks.
fn table_blocks(lines: &[LLine], margin: usize) -> Vec<(usize, usize)> {
    let multi = |l: &LLine| l.chunks.len() >= 2;
    // Where paragraphs start: the margin and the first-line indent.
    let para_starts: Vec<usize> = lines
        .iter()
        .filter(|l| l.chunks.len() == 1 && l.width() >= 40)
        .map(LLine::start)
        .collect();
    let at_para_start = |s: usize| para_starts.iter().any(|&p| p.abs_diff(s) <= 1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].chunks.len() < 3 {
            i += 1;
            continue;
        }
        let a = i;
        let mut b = i + 1;
        let mut j = i + 1;
        while j < lines.len() {
            let l = &lines[j];
            if multi(l) {
                b = j + 1;
            } else if !l.is_blank() {
                // A lone chunk inside a table: a cell's wrapped text. Body text starts at the
                // margin and runs wide; a heading ends the table.
                let heading = HEADING.is_match(&l.text());
                let body = l.start() <= margin + 1 && (l.width() >= 24 || heading);
                let more = lines[j + 1..]
                    .iter()
                    .filter(|n| !n.is_blank())
                    .take(3)
                    .any(multi);
                // After the last row only what is narrow enough for a cell still belongs.
                if body || !more && (heading || l.width() > 32 || at_para_start(l.start())) {
                    break;
                }
                b = j + 1;
            }
            j += 1;
        }
        let rows = lines[a..b].iter().filter(|l| l.chunks.len() >= 3).count();
        if rows >= 2 {
            // The header may begin above, on lines of fewer chunks (`基线值  目标值`).
            let mut a = a;
            let floor = out.last().map_or(0, |&(_, e)| e);
            while a > floor {
                let p = &lines[a - 1];
                let short = p.chunks.len() == 1
                    && p.width() <= 12
                    && !at_para_start(p.start())
                    && !HEADING.is_match(&p.text());
                // A caption (`表1  …主要指标`) spread over the width is no header row.
                if !(multi(p) || short) || HEADING.is_match(&p.text()) {
                    break;
                }
                a -= 1;
            }
            out.push((a, b));
        }
        i = b.max(a + 1);
    }
    out
}

/// Whether a chunk holds a value, a serial number or a property: a data row, not the header.
fn data_like(t: &str) -> bool {
    let t = tidy_spaces(t);
    !crate::table::is_header_text(&t.replace(' ', ""))
}

fn is_serial(t: &str) -> bool {
    let t = t.trim().trim_end_matches(['.', '、', '．']);
    !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_digit())
}

/// A column: from its left edge to the next column's.
#[derive(Debug, Clone, Copy)]
struct Column {
    left: usize,
    right: usize,
}

/// Renders one table block in the tab-cell layout.
fn render_table(lines: &[LLine]) -> String {
    let Some(first_data) = lines
        .iter()
        .position(|l| l.chunks.iter().any(|c| data_like(&c.text)))
    else {
        return String::new();
    };
    // Rows start where a serial number stands among the first chunks, else where a line fills
    // most columns.
    let serial_rows = lines[first_data..]
        .iter()
        .filter(|l| l.chunks.iter().take(2).any(|c| is_serial(&c.text)))
        .count();
    let data = &lines[first_data..];
    let widest = data.iter().map(|l| l.chunks.len()).max().unwrap_or(0);
    let starts_row = |l: &LLine| {
        if serial_rows >= 2 {
            l.chunks.len() >= 2 && l.chunks.iter().take(2).any(|c| is_serial(&c.text))
        } else {
            l.chunks.len() * 2 > widest
        }
    };
    let ratio = width_ratio(lines);
    // Gutters from short reaches, so an overestimated width cannot close one.
    let cols = columns(data, &starts_row, ratio * 0.6);
    if cols.len() < 2 {
        return String::new();
    }
    // Which columns each chunk covers.
    let place = |c: &Chunk| -> (usize, usize) {
        let a = c.start as f64;
        let b = a + (c.width() as f64 * ratio).max(1.0);
        let overlaps: Vec<usize> = (0..cols.len())
            .filter(|&k| {
                let (l, r) = (cols[k].left as f64, cols[k].right as f64);
                let o = b.min(r) - a.max(l);
                o > 0.0 && (o >= (r - l) * 0.45 || o >= (b - a) * 0.5)
            })
            .collect();
        let home = (0..cols.len())
            .rev()
            .find(|&k| cols[k].left <= c.start)
            .unwrap_or(0);
        match (overlaps.first(), overlaps.last()) {
            (Some(&x), Some(&y)) => (x, y),
            _ => (home, home),
        }
    };
    let mut out = String::new();
    // The header: every column's words top to bottom, a phrase over several columns (`目标值`)
    // heading each of them.
    let mut head = vec![String::new(); cols.len()];
    for l in &lines[..first_data] {
        for c in &l.chunks {
            let (x, y) = place(c);
            for h in head.iter_mut().take(y + 1).skip(x) {
                h.push_str(&c.text);
            }
        }
    }
    if head.iter().any(|h| !h.is_empty()) {
        for h in &head {
            out.push('\t');
            out.push_str(&tidy_spaces(h).replace(' ', ""));
            out.push('\n');
        }
        out.push('\n');
    }
    // Data rows: each column's fragments joined; a span across columns kept as one cell.
    struct Row {
        cells: Vec<String>,
        /// For each column, the last column of the span it starts (itself when none).
        span_end: Vec<usize>,
        /// Whether the column's last fragment ran to the column's right edge.
        wrapped: Vec<bool>,
        /// The first and last line of each column's text.
        lines: Vec<Option<(usize, usize)>>,
    }
    // Which row each line's text belongs to. Cells are top-aligned unless a row's serial line
    // lacks the name that the lines just above and below it share: then the cells are centred
    // vertically, and a line between two rows goes to the nearer.
    let name_col = (0..cols.len())
        .find(|&k| crate::table::is_name_header(&head[k]))
        .unwrap_or(0);
    let placed: Vec<Vec<(usize, usize)>> = data
        .iter()
        .map(|l| l.chunks.iter().map(&place).collect())
        .collect();
    let has_col = |j: usize, k: usize| placed[j].iter().any(|&(x, y)| x <= k && k <= y);
    let starts: Vec<usize> = (0..data.len()).filter(|&j| starts_row(&data[j])).collect();
    let centred = starts.iter().any(|&s| {
        s > 0
            && s + 1 < data.len()
            && !has_col(s, name_col)
            && !starts.contains(&(s - 1))
            && !starts.contains(&(s + 1))
            && has_col(s - 1, name_col)
            && has_col(s + 1, name_col)
    });
    let row_of = |j: usize| -> usize {
        let next = starts.partition_point(|&s| s <= j);
        match (next.checked_sub(1), starts.get(next)) {
            (None, _) => 0,
            (Some(a), None) => a,
            (Some(a), Some(&b)) if centred => {
                let (up, down) = (j - starts[a], b - j);
                let lacking = placed[j].iter().any(|&(x, _)| !has_col(b, x));
                if down < up || (down == up && lacking) {
                    a + 1
                } else {
                    a
                }
            }
            (Some(a), Some(_)) => a,
        }
    };
    let n_rows = starts.len().max(1);
    let mut rows: Vec<Row> = (0..n_rows)
        .map(|_| Row {
            cells: vec![String::new(); cols.len()],
            span_end: (0..cols.len()).collect(),
            wrapped: vec![false; cols.len()],
            lines: vec![None; cols.len()],
        })
        .collect();
    // The first line of each row's text per column: a centred cell reaches as far below its
    // serial line as above it, so its lower lines stay with it even when nearer the next row.
    let mut top: Vec<Vec<Option<usize>>> = vec![vec![None; cols.len()]; n_rows];
    for (j, l) in data.iter().enumerate() {
        let line_row = row_of(j);
        for (c, &(px, py)) in l.chunks.iter().zip(&placed[j]) {
            let r = match line_row.checked_sub(1) {
                // Only a line placed above its row's serial line, after the previous row's.
                Some(a)
                    if centred
                        && starts.get(a).is_some_and(|&s| s < j)
                        && starts.get(line_row).is_some_and(|&b| b > j) =>
                {
                    let s = starts[a];
                    let b = starts[line_row];
                    // After a page break, text that the next row's cell does not reach to is
                    // the rest of a row split across the pages.
                    let split = data[s + 1..j].iter().any(LLine::is_blank)
                        && !(b + 1..=(2 * b - j).min(data.len() - 1)).all(|i| has_col(i, px));
                    match top.get(a).and_then(|t| t[px]) {
                        Some(t) if s - t.min(s) >= j - s => a,
                        _ if split => a,
                        _ => line_row,
                    }
                }
                _ => line_row,
            };
            let Some(row) = rows.get_mut(r) else {
                continue;
            };
            top[r][px] = top[r][px].or(Some(j));
            let (mut x, mut y) = (px, py);
            // Wrapped text under a phrase that spans columns belongs to that phrase.
            if let Some(k) = (0..x).find(|&k| row.span_end[k] >= x && row.cells[x].is_empty()) {
                y = y.max(row.span_end[k]);
                x = k;
            }
            if !row.cells[x].is_empty() {
                row.cells[x].push(' ');
            }
            row.cells[x].push_str(&c.text);
            if y > x {
                row.span_end[x] = y;
            }
            let end = c.start as f64 + c.width() as f64 * ratio;
            row.wrapped[x] = end + ratio * 2.5 >= cols[y].right as f64;
            row.lines[x] = Some(row.lines[x].map_or((j, j), |(a, _)| (a, j)));
        }
    }
    // Text of a cell merged down over several rows wraps onto the lines of the rows below:
    // in a column most rows leave empty, a fragment that ran to the edge goes on below.
    for (k, head_text) in head.iter().enumerate() {
        let empty = rows.iter().filter(|r| r.cells[k].is_empty()).count();
        if empty * 3 < rows.len() {
            continue;
        }
        // A domain's words on the very next line go on; other words only when they wrapped.
        let domain = crate::table::is_domain_header(head_text);
        for r in 1..rows.len() {
            let (done, rest) = rows.split_at_mut(r);
            let (above, here) = (&mut done[r - 1], &mut rest[0]);
            let next_line = match (above.lines[k], here.lines[k]) {
                // Centred cells interleave their lines with the next row's.
                (Some((_, e)), Some((s, _))) => s == e + 1 || centred && s == e + 2,
                _ => false,
            };
            if next_line && (above.wrapped[k] || domain) {
                let moved = std::mem::take(&mut here.cells[k]);
                above.cells[k].push_str(&moved);
                above.wrapped[k] = here.wrapped[k];
                here.wrapped[k] = false;
                above.lines[k] = match (above.lines[k], here.lines[k].take()) {
                    (Some((a, _)), Some((_, e))) => Some((a, e)),
                    (l, _) => l,
                };
            }
        }
    }
    // Centred, a domain merged down sits in the middle of its rows: the rows above it that
    // show none are its own (the reader carries it to the rows below).
    if centred {
        for k in (0..cols.len()).filter(|&k| crate::table::is_domain_header(&head[k])) {
            let filled: Vec<usize> = (0..rows.len())
                .filter(|&r| !rows[r].cells[k].is_empty())
                .collect();
            let mut prev: Option<usize> = None;
            for &r in &filled {
                let from = prev.map_or(0, |p| p + (r - p) / 2 + 1);
                let text = rows[r].cells[k].clone();
                for row in rows.iter_mut().take(r).skip(from) {
                    row.cells[k] = text.clone();
                }
                prev = Some(r);
            }
        }
    }
    for row in &rows {
        let mut k = 0;
        while k < cols.len() {
            out.push('\t');
            out.push_str(&tidy_spaces(&row.cells[k]));
            out.push('\n');
            let end = row.span_end[k];
            // A span covers the columns after it unless they have text of their own.
            k = if end > k && row.cells[k + 1..=end].iter().all(String::is_empty) {
                end + 1
            } else {
                k + 1
            };
        }
        out.push('\n');
    }
    out
}

/// Columns per half-width unit of text: how far a chunk reaches on the page. Bounded by the
/// tightest pair of neighbouring chunks, which cannot overlap.
fn width_ratio(lines: &[LLine]) -> f64 {
    let mut best = f64::INFINITY;
    for l in lines {
        for w in l.chunks.windows(2) {
            let wd = w[0].width();
            if wd >= 4 {
                let r = (w[1].start - w[0].start) as f64 / wd as f64;
                best = best.min(r);
            }
        }
    }
    if best.is_finite() {
        best.clamp(0.5, 4.0)
    } else {
        1.0
    }
}

/// Columns of a table from where the text of the rows' first lines sits: the page positions
/// covered by few chunks are the gutters between columns.
fn columns(data: &[LLine], starts_row: &dyn Fn(&LLine) -> bool, ratio: f64) -> Vec<Column> {
    let firsts: Vec<&LLine> = data.iter().filter(|l| starts_row(l)).collect();
    let use_lines: Vec<&LLine> = if firsts.len() >= 2 {
        firsts
    } else {
        data.iter().collect()
    };
    let width = use_lines
        .iter()
        .flat_map(|l| l.chunks.iter())
        .map(|c| c.start + (c.width() as f64 * ratio).ceil() as usize + 1)
        .max()
        .unwrap_or(0);
    let mut cover = vec![0usize; width + 1];
    for l in &use_lines {
        for c in &l.chunks {
            let a = c.start;
            let b = (c.start + (c.width() as f64 * ratio).ceil() as usize).min(width);
            for x in cover.iter_mut().take(b).skip(a) {
                *x += 1;
            }
        }
    }
    let mut cols: Vec<Column> = Vec::new();
    let mut x = 0;
    while x < cover.len() {
        if cover[x] == 0 {
            x += 1;
            continue;
        }
        let a = x;
        while x < cover.len() && cover[x] > 0 {
            x += 1;
        }
        split_at_valleys(&cover, a, x, &mut cols);
    }
    // Each column reaches to the next one's left edge.
    for k in 0..cols.len() {
        let next = cols.get(k + 1).map_or(usize::MAX / 2, |c| c.left);
        cols[k].right = next;
    }
    if let Some(c) = cols.first_mut() {
        c.left = 0;
    }
    cols
}

/// Columns in `[a, b)` of the cover: a phrase across two columns (a merged cell) in a few rows
/// bridges the gutter between them, which stays a valley between two well-covered parts.
fn split_at_valleys(cover: &[usize], a: usize, b: usize, cols: &mut Vec<Column>) {
    let peak_left = |x: usize| cover[a..x].iter().copied().max().unwrap_or(0);
    let peak_right = |x: usize| cover[x + 1..b].iter().copied().max().unwrap_or(0);
    let valley = (a + 1..b.saturating_sub(1))
        .filter(|&x| {
            let side = peak_left(x).min(peak_right(x));
            side >= 3 && cover[x] * 3 <= side
        })
        .min_by_key(|&x| cover[x]);
    match valley {
        Some(v) => {
            // The whole low stretch around the valley is gutter.
            let low = cover[v];
            let mut l = v;
            while l > a && cover[l - 1] <= low {
                l -= 1;
            }
            let mut r = v + 1;
            while r < b && cover[r] <= low {
                r += 1;
            }
            split_at_valleys(cover, a, l, cols);
            split_at_valleys(cover, r, b, cols);
        }
        None if b > a => cols.push(Column { left: a, right: b }),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_at_wide_gaps() {
        let c = chunks_of("  1    居民健康素养水平（%）     25.3  比 2020");
        let t: Vec<&str> = c.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(t, ["1", "居民健康素养水平（%）", "25.3", "比 2020"]);
        assert_eq!(c[0].start, 2);
        assert_eq!(tidy_spaces("到 2025 年，居民 健康"), "到2025年，居民健康");
        assert_eq!(tidy_spaces("COVID 19"), "COVID 19");
    }

    #[test]
    fn paragraphs_join_and_page_numbers_go() {
        let text = "    第一段很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长\n很长很长的结尾。\n    第二段。\n\n                 —1—\n\u{c}    一、标题\n";
        let out = to_cell_layout(text);
        assert_eq!(
            out,
            "第一段很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长的结尾。\n第二段。\n一、标题\n"
        );
    }

    /// A table as `pdftotext -layout -fixed 3` prints a LibreOffice PDF: centred wrapped
    /// cells, a domain merged down and wrapped over the rows, a two-line lead department.
    #[test]
    fn a_table_becomes_cells() {
        let text = "\
            二、主要指标
       类别          序       指标名称                                            2020 年         2025 年          2030 年          属性           牵头部门
                   号
       健康          1       人均预期寿命（岁）                                       79.2           ≥80             ≥81             预期           市卫生健康
       水平                                                                                                                 性            委
                   2       婴儿死亡率（‰）                                        3.6            ≤3.3            ≤3              预期           市卫生健康
                                                                                                                          性            委
                   3       5 岁以下儿童死亡率（‰）                                   4.9            ≤4.5            ≤4              预期           市卫生健康
                                                                                                                          性            委
       健康          4       居民健康素养水平（%）                                     21.6           ≥28             ≥35             约束           市卫生健康
            三、主要任务
";
        let out = to_cell_layout(text);
        assert!(
            out.starts_with("二、主要指标\n\t类别\n\t序号\n\t指标名称\n\t2020年\n\t2025年\n\t2030年\n\t属性\n\t牵头部门\n\n"),
            "{out}"
        );
        assert!(
            out.contains("\t健康水平\n\t1\n\t人均预期寿命（岁）\n\t79.2\n\t≥80\n\t≥81\n\t预期性\n\t市卫生健康委\n\n"),
            "{out}"
        );
        assert!(out.contains("\t\n\t2\n\t婴儿死亡率（‰）\n"), "{out}");
        assert!(out.ends_with("三、主要任务\n"), "{out}");
    }
}
