//! Writes the importer's own test corpus: every `fixtures/corpus/source/*.plan` becomes a
//! plain-text export (`.txt`, in the tab-cell layout Word's text exports use) and a Word
//! document with real tables (`.docx`, merged cells as Word merges them).
//!
//! `cargo run -p healthplan-importer --example make_corpus` (from the repository root).
//!
//! Source format: one paragraph per line. `[table OPTIONS]` … `[/table]` holds one table row
//! per line, cells separated by ` | `. In a cell, `^` continues the cell above (vertical
//! merge), `<` widens the cell to its left (horizontal merge) and `//` breaks a paragraph.
//! OPTIONS: `center` centres the cell text, `vcenter` centres it vertically, `rowlines` writes
//! each row of the .txt on one line, `widths=a,b,…` gives relative column widths. A line
//! `[noindent]` turns off the two-character first-line indent of body paragraphs and
//! `[justify]` justifies them. Every page has a `— N —` footer.

use healthplan_plangen::render::{parse, to_docx, to_text};
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/corpus");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("source"))
        .expect("fixtures/corpus/source exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "plan"))
        .collect();
    sources.sort();
    for src in sources {
        let text = std::fs::read_to_string(&src).expect("a source is UTF-8 text");
        let (blocks, body) = parse(&text);
        let stem = src.file_stem().and_then(|s| s.to_str()).expect("a name");
        write(
            &root.join(format!("{stem}.txt")),
            to_text(&blocks).as_bytes(),
        );
        write(&root.join(format!("{stem}.docx")), &to_docx(&blocks, body));
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
