//! Prints the tab-cell layout the importer reads from a PDF's page-layout text
//! (`pdftotext -layout -fixed 3 plan.pdf - | cargo run -p healthplan-importer --example
//! layout_cells`), to see how a table's columns and rows were recovered.

use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .expect("page-layout text on stdin");
    print!("{}", healthplan_importer::layout::to_cell_layout(&text));
}
