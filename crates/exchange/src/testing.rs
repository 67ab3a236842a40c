//! Filling cells of an existing .xlsx the way a person in Excel would, without rewriting the
//! rest of the workbook: for tests here and in the CLI's integration tests.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::io::{Cursor, Read, Write};

/// What to put in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill<'a> {
    Number(f64),
    Text(&'a str),
    Blank,
}

/// A copy of `xlsx` with the given cells (`"I6"`) of `sheet` set. The cells must exist in
/// the sheet XML (the template writes every input cell, blank or not).
pub fn fill(xlsx: &[u8], sheet: &str, cells: &[(&str, Fill<'_>)]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).map_err(|e| e.to_string())?;
    let path = sheet_path(&mut zip, sheet)?;
    let mut xml = String::new();
    zip.by_name(&path)
        .map_err(|e| e.to_string())?
        .read_to_string(&mut xml)
        .map_err(|e| e.to_string())?;
    for (cell, fill) in cells {
        xml = set_cell(&xml, cell, *fill)?;
    }
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let f = zip.by_index(i).map_err(|e| e.to_string())?;
        if f.name_raw() == path.as_bytes() {
            let name = path.clone();
            drop(f);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            out.start_file(name, opts).map_err(|e| e.to_string())?;
            out.write_all(xml.as_bytes()).map_err(|e| e.to_string())?;
        } else {
            out.raw_copy_file(f).map_err(|e| e.to_string())?;
        }
    }
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

fn read_entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<String, String> {
    let mut s = String::new();
    zip.by_name(name)
        .map_err(|e| format!("{name}: {e}"))?
        .read_to_string(&mut s)
        .map_err(|e| e.to_string())?;
    Ok(s)
}

/// `xl/worksheets/sheetN.xml` of the sheet named `sheet`, through the workbook's relations.
fn sheet_path(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, sheet: &str) -> Result<String, String> {
    let workbook = read_entry(zip, "xl/workbook.xml")?;
    let rid = find_attr(&workbook, "sheet", ("name", sheet), "r:id")
        .ok_or_else(|| format!("no sheet {sheet}"))?;
    let rels = read_entry(zip, "xl/_rels/workbook.xml.rels")?;
    let target = find_attr(&rels, "Relationship", ("Id", &rid), "Target")
        .ok_or_else(|| format!("no relation {rid}"))?;
    Ok(match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{target}"),
    })
}

/// The `want` attribute of the first `tag` element whose `key` attribute equals the value.
fn find_attr(xml: &str, tag: &str, key: (&str, &str), want: &str) -> Option<String> {
    let mut r = Reader::from_str(xml);
    loop {
        match r.read_event().ok()? {
            Event::Eof => return None,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == tag => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                };
                if attr(key.0).as_deref() == Some(key.1) {
                    return attr(want);
                }
            }
            _ => {}
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Replaces the `<c r="…">` element of `cell`, keeping its style.
fn set_cell(xml: &str, cell: &str, fill: Fill<'_>) -> Result<String, String> {
    let open = format!("<c r=\"{cell}\"");
    let start = xml
        .find(&open)
        .ok_or_else(|| format!("cell {cell} not in the sheet"))?;
    let head_end = start + xml[start..].find('>').ok_or("bad XML")?;
    let self_closing = xml.as_bytes().get(head_end - 1) == Some(&b'/');
    let end = if self_closing {
        head_end + 1
    } else {
        head_end + xml[head_end..].find("</c>").ok_or("bad XML")? + 4
    };
    let head = &xml[start..if self_closing { head_end - 1 } else { head_end }];
    let style = head
        .split_whitespace()
        .find(|a| a.starts_with("s=\""))
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    let new = match fill {
        Fill::Number(x) => format!("<c r=\"{cell}\"{style}><v>{x}</v></c>"),
        Fill::Text(t) => format!(
            "<c r=\"{cell}\"{style} t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
            escape(t)
        ),
        Fill::Blank => format!("<c r=\"{cell}\"{style}/>"),
    };
    Ok(format!("{}{new}{}", &xml[..start], &xml[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_cells_keeping_style() {
        let xml = r#"<row r="6"><c r="I6" s="5"/><c r="J6" s="3"><v>1</v></c></row>"#;
        let x = set_cell(xml, "I6", Fill::Number(2.5)).unwrap();
        assert_eq!(
            x,
            r#"<row r="6"><c r="I6" s="5"><v>2.5</v></c><c r="J6" s="3"><v>1</v></c></row>"#
        );
        let x = set_cell(&x, "J6", Fill::Text("a<b")).unwrap();
        assert!(x.contains(r#"<c r="J6" s="3" t="inlineStr"><is><t xml:space="preserve">a&lt;b</t></is></c></row>"#), "{x}");
        assert!(set_cell(xml, "Z9", Fill::Blank).is_err());
    }
}
