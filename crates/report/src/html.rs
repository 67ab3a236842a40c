//! The outline as one self-contained HTML page (`lang="zh-CN"`, charts inline as data URIs,
//! no external file), with print CSS that sets A4 pages and the GB/T 9704 text block.

use crate::doc::{Align, Block, Doc, Figure, Level, Table, SYNTHETIC};
use base64::Engine as _;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --fangsong: "仿宋_GB2312", "仿宋", FangSong, STFangsong, "Noto Serif CJK SC", "Source Han Serif SC", serif;
        --heiti: "黑体", SimHei, "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
        --kaiti: "楷体_GB2312", "楷体", KaiTi, STKaiti, "Noto Serif CJK SC", serif;
        --title: "方正小标宋简体", "华文中宋", STZhongsong, "Noto Serif CJK SC", serif; }
body { font-family: var(--fangsong); font-size: 16pt; line-height: 28.95pt; color: #000;
       max-width: 156mm; margin: 2em auto; padding: 0 1em; }
h1.title, .cover h1 { font-family: var(--title); font-weight: normal; text-align: center;
       font-size: 22pt; line-height: 1.45; margin: 0 0 28.95pt; }
.cover { text-align: center; padding: 30mm 0 20mm; }
.cover h1 { font-size: 26pt; margin-bottom: 12mm; }
.cover .issuer { font-family: var(--kaiti); margin-top: 60mm; }
.synthetic { color: #c00000; font-family: var(--heiti); font-weight: bold; }
.cover .synthetic { text-align: right; }
h2, h3, h4 { font-size: 16pt; font-weight: normal; margin: 0; text-indent: 2em; }
h2 { font-family: var(--heiti); }
h3 { font-family: var(--kaiti); }
h4 { font-family: var(--fangsong); }
p { margin: 0; text-indent: 2em; text-align: justify; }
p.enclosures { margin-top: 1em; padding-left: 5em; text-indent: -3em; }
p.signature { margin-top: 2em; text-align: right; padding-right: 2em; text-indent: 0; }
table { border-collapse: collapse; width: 100%; font-size: 10.5pt; line-height: 1.45;
        margin: 0 0 0.6em; }
caption { font-family: var(--heiti); font-size: 14pt; line-height: 2; caption-side: top; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: middle; }
th { font-family: var(--heiti); font-weight: normal; }
td.c { text-align: center; } td.r { text-align: right; } td.l { text-align: left; }
p.note { text-indent: 0; font-size: 10.5pt; line-height: 1.5; margin-bottom: 1em; }
figure { margin: 1em 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-family: var(--heiti); font-size: 14pt; }
.attachment { break-before: page; page-break-before: always; margin-top: 2em; }
.attachment .label { font-family: var(--heiti); text-indent: 0; }
@page { size: A4; margin: 37mm 26mm 35mm 28mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; }
  .cover { break-after: page; page-break-after: always; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  caption, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
}
"#;

fn align_class(a: Align) -> &'static str {
    match a {
        Align::Left => "l",
        Align::Center => "c",
        Align::Right => "r",
    }
}

fn table(o: &mut String, t: &Table, synthetic: bool) {
    let _ = write!(
        o,
        "<table{}>\n<caption>{}</caption>\n<colgroup>",
        if synthetic {
            r#" data-synthetic="true""#
        } else {
            ""
        },
        escape(&t.caption)
    );
    let total: u32 = t.widths.iter().sum::<u32>().max(1);
    for w in &t.widths {
        let _ = write!(
            o,
            r#"<col style="width:{:.1}%">"#,
            *w as f64 * 100.0 / total as f64
        );
    }
    o.push_str("</colgroup>\n<thead><tr>");
    for h in &t.header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        o.push_str("<tr>");
        for k in 0..t.header.len() {
            let a = t.align.get(k).copied().unwrap_or(Align::Left);
            let _ = write!(
                o,
                r#"<td class="{}">{}</td>"#,
                align_class(a),
                escape(r.get(k).map(String::as_str).unwrap_or(""))
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n");
    if let Some(n) = &t.note {
        let _ = writeln!(o, r#"<p class="note">{}</p>"#, escape(n));
    }
}

fn figure(o: &mut String, f: &Figure) {
    let data = base64::engine::general_purpose::STANDARD.encode(&f.png.bytes);
    let _ = writeln!(
        o,
        r#"<figure><img src="data:image/png;base64,{data}" alt="{}" width="{}" height="{}" style="width:{}mm"><figcaption>{}</figcaption></figure>"#,
        escape(&f.caption),
        f.png.width,
        f.png.height,
        f.width_mm,
        escape(&f.caption)
    );
}

pub fn render(d: &Doc) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let title = d.title.join("");
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    o.push_str("<section class=\"cover\">\n");
    if d.synthetic {
        let _ = writeln!(o, r#"<div class="synthetic">{SYNTHETIC}</div>"#);
    }
    let _ = writeln!(
        o,
        "<h1>{}<br>{}</h1>",
        escape(&d.cover.title),
        escape(&d.cover.subtitle)
    );
    if d.synthetic {
        let _ = writeln!(o, r#"<div class="synthetic">（{SYNTHETIC}）</div>"#);
    }
    if let Some(i) = &d.cover.issuer {
        let _ = writeln!(o, r#"<div class="issuer">{}</div>"#, escape(i));
    }
    if let Some(date) = &d.cover.date {
        let _ = writeln!(o, "<div>{}</div>", escape(date));
    }
    o.push_str("</section>\n<main>\n");
    let _ = writeln!(
        o,
        r#"<h1 class="title">{}</h1>"#,
        d.title
            .iter()
            .map(|l| escape(l))
            .collect::<Vec<_>>()
            .join("<br>")
    );
    for b in &d.blocks {
        match b {
            Block::Heading(level, text) => {
                let tag = match level {
                    Level::One => "h2",
                    Level::Two => "h3",
                    Level::Three => "h4",
                };
                let _ = writeln!(o, "<{tag}>{}</{tag}>", escape(text));
            }
            Block::Para(text) => {
                let _ = writeln!(o, "<p>{}</p>", escape(text));
            }
            Block::Table(t) => table(&mut o, t, d.synthetic),
            Block::Figure(f) => figure(&mut o, f),
            Block::Attachment { label, title } => {
                let _ = writeln!(
                    o,
                    r#"<section class="attachment"><p class="label">{}</p><h1 class="title">{}</h1></section>"#,
                    escape(label),
                    escape(title)
                );
            }
            Block::Enclosures(names) => {
                let lines: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(k, n)| format!("{}.{}", k + 1, escape(n)))
                    .collect();
                let _ = writeln!(
                    o,
                    r#"<p class="enclosures">附件：{}</p>"#,
                    lines.join("<br>")
                );
            }
            Block::Signature { issuer, date } => {
                let lines: Vec<String> = [issuer, date]
                    .into_iter()
                    .flatten()
                    .map(|l| escape(l))
                    .collect();
                let _ = writeln!(o, r#"<p class="signature">{}</p>"#, lines.join("<br>"));
            }
        }
    }
    o.push_str("</main>\n</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("＜25%"), "＜25%");
    }
}
