//! Crafted documents that would make the importer build far more than a plan holds are
//! refused with the limit named, never cut short and accepted: a .docx whose text is packed
//! past the archive's expansion ratio, one whose merged cells multiply a small XML into more
//! text than a plan may have, and floods of target statements, tasks and indicators.

use healthplan_importer::{import_bytes, limits, Counted, ImportError};

/// A .docx whose `word/document.xml` has `body` inside `<w:body>`.
fn docx(body: &str) -> Vec<u8> {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    healthplan_archive::zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", xml.as_bytes()),
    ])
}

/// A distinct name without digits for indicator `i`.
fn name(i: usize) -> String {
    let c = |k: usize| char::from_u32(0x4E00 + (k % 2000) as u32).unwrap_or('甲');
    format!("{}{}比例", c(i), c(i / 2000 + 7))
}

fn para(text: &str) -> String {
    format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
}

#[test]
fn a_docx_packed_past_the_expansion_ratio_is_refused() {
    // 12 MiB of text in one run packs to a few kilobytes.
    let bytes = docx(&para(&"健".repeat(4 * 1024 * 1024)));
    assert!(bytes.len() < 200 * 1024, "{} bytes", bytes.len());
    let e = import_bytes(&bytes, "bomb.docx").unwrap_err();
    assert!(matches!(e, ImportError::Bomb { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("bomb.docx") && msg.contains("word/document.xml") && msg.contains("压缩比"),
        "{msg}"
    );
}

#[test]
fn merged_cells_that_multiply_the_text_are_refused() {
    // One 200 KB cell merged down over 100 rows: a small XML, 20 MB of text.
    let big = "健".repeat(200 * 1024 / 3);
    let mut rows = format!(
        "<w:tr><w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>{}</w:tc><w:tc>{}</w:tc></w:tr>",
        para(&big),
        para("1")
    );
    for i in 0..100 {
        rows.push_str(&format!(
            "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc>{}</w:tc></w:tr>",
            para(&i.to_string())
        ));
    }
    let bytes = docx(&format!("<w:tbl>{rows}</w:tbl>"));
    let e = import_bytes(&bytes, "merged.docx").unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::TooMuch {
                what: Counted::TextBytes,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("merged.docx") && msg.contains(&limits::MAX_TEXT_BYTES.to_string()),
        "{msg}"
    );
    // The same text as a .txt is refused by the same bound.
    let txt = big.repeat(101);
    let e = import_bytes(txt.as_bytes(), "long.txt").unwrap_err();
    assert!(matches!(e, ImportError::TooMuch { .. }), "{e}");
}

#[test]
fn a_flood_of_target_statements_is_refused() {
    // One short sentence per line, each a target: a 75 KB-class document.
    let n = limits::MAX_TARGET_STATEMENTS + 1;
    let body: String = (0..n)
        .map(|i| para(&format!("到2025年，{}不低于{}%。", name(i), i % 90 + 1)))
        .collect();
    let bytes = docx(&body);
    let e = import_bytes(&bytes, "flood.docx").unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::TooMuch {
                what: Counted::TargetStatements,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("flood.docx") && msg.contains("5000 target statements"),
        "{msg}"
    );
    // One sentence pairing every year with every value floods as well.
    let years: Vec<String> = (2021..2100).map(|y| format!("{y}年")).collect();
    let values: Vec<String> = (0..100).map(|v| format!("{}不低于{v}%", name(v))).collect();
    let line = format!("到{}，{}。", years.join("和"), values.join("，"));
    let e = import_bytes(line.as_bytes(), "one.txt").unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::TooMuch {
                what: Counted::TargetStatements,
                ..
            }
        ),
        "{e}"
    );
    // Just under the limit imports.
    let ok: String = (0..100)
        .map(|i| format!("到2025年，{}不低于{}%。\n", name(i), i % 90 + 1))
        .collect();
    let imp = import_bytes(ok.as_bytes(), "ok.txt").unwrap();
    assert_eq!(imp.plan.target_statements.len(), 100);
}

#[test]
fn floods_of_tasks_and_indicators_are_refused() {
    let tasks: String = (0..=limits::MAX_TASKS)
        .map(|i| format!("{}.加强健康教育工作。（市卫生健康局负责）\n", i % 900 + 1))
        .collect();
    let e = import_bytes(tasks.as_bytes(), "tasks.txt").unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::TooMuch {
                what: Counted::Tasks,
                ..
            }
        ),
        "{e}"
    );
    let mut table = String::from("\t序号\n\t指标名称\n\t2025年目标值\n\n");
    for i in 0..=limits::MAX_INDICATORS {
        table.push_str(&format!("\t{}\n\t指标{i}（%）\n\t≥80\n\n", i % 900 + 1));
    }
    let e = import_bytes(table.as_bytes(), "table.txt").unwrap_err();
    assert!(
        matches!(
            e,
            ImportError::TooMuch {
                what: Counted::Indicators,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("2000 indicators"), "{e}");
}
