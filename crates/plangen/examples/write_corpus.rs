//! Writes a generated corpus to a directory, to read or to import by hand:
//! `cargo run -p healthplan-plangen --example write_corpus -- SEED COUNT DIR`
//! gives `DIR/NAME.txt`, `DIR/NAME.docx`, `DIR/choices.txt` and `DIR/gold/*.json`.

use healthplan_plangen::{generate, gold_files};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, count, dir] = args.as_slice() else {
        eprintln!("usage: write_corpus SEED COUNT DIR");
        std::process::exit(2);
    };
    let seed: u64 = seed.parse().expect("SEED is a number");
    let count: usize = count.parse().expect("COUNT is a number");
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(dir.join("gold")).expect("the directory can be made");
    let docs: Vec<_> = (0..count).map(|i| generate(seed, i)).collect();
    let mut choices = String::new();
    for g in &docs {
        let stem = g.name.trim_end_matches(".txt");
        std::fs::write(dir.join(&g.name), g.text()).expect("write .txt");
        std::fs::write(dir.join(format!("{stem}.docx")), g.docx()).expect("write .docx");
        choices.push_str(&format!("{} {}\n", g.name, g.choices.join(" ")));
    }
    std::fs::write(dir.join("choices.txt"), choices).expect("write choices");
    for (name, text) in gold_files(&docs) {
        std::fs::write(dir.join("gold").join(name), text).expect("write gold");
    }
    println!("wrote {count} documents to {}", dir.display());
}
