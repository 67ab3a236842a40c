//! The entry points behind .pdf and .docx, fed with plan-shaped input: the bytes as page
//! layout text (what `pdftotext -layout` prints), and as a Word document whose body the bytes
//! describe (a line `|a|^|<|` is a table row: `^` continues the cell above, `<` is an empty
//! cell two grid columns wide). An import returns a plan or an error, never panics, and a plan
//! it returns validates with its spans inside the cleaned text. `seeds/import_formats` holds
//! starting inputs: `cargo fuzz run import_formats corpus/import_formats seeds/import_formats`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;

fn check(imp: &healthplan_importer::Imported) {
    imp.plan.validate().expect("an imported plan validates");
    let n = imp.text.chars().count() as i64;
    assert!(imp.plan.tasks.iter().all(|t| t.span.end <= n));
    assert!(imp.plan.target_statements.iter().all(|t| t.span.end <= n));
    assert!(imp.plan.indicators.iter().all(|t| t.span.end <= n));
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A document.xml whose paragraphs and tables the text describes.
fn document_xml(text: &str) -> String {
    let mut body = String::new();
    let mut in_table = false;
    for line in text.lines() {
        if let Some(row) = line.strip_prefix('|') {
            if !in_table {
                body.push_str("<w:tbl>");
                in_table = true;
            }
            body.push_str("<w:tr>");
            for cell in row.split('|') {
                match cell {
                    "^" => body.push_str(
                        "<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>",
                    ),
                    "<" => body.push_str(
                        "<w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr><w:p/></w:tc>",
                    ),
                    c => {
                        body.push_str("<w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>");
                        for para in c.split("//") {
                            body.push_str(&format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", escape(para)));
                        }
                        body.push_str("</w:tc>");
                    }
                }
            }
            body.push_str("</w:tr>");
        } else {
            if in_table {
                body.push_str("</w:tbl>");
                in_table = false;
            }
            body.push_str(&format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", escape(line)));
        }
    }
    if in_table {
        body.push_str("</w:tbl>");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    )
}

fn docx(xml: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored);
    zip.start_file("word/document.xml", opts).expect("in memory");
    zip.write_all(xml.as_bytes()).expect("in memory");
    zip.finish().expect("in memory").into_inner()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(imp) = healthplan_importer::import_layout_text(&text, "fuzz.pdf") {
        check(&imp);
    }
    let _ = healthplan_importer::layout::to_cell_layout(&text);
    if let Ok(imp) = healthplan_importer::import_bytes(&docx(&document_xml(&text)), "fuzz.docx") {
        check(&imp);
    }
});
