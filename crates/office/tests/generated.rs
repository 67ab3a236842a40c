//! The generated corpus: plans composed at random from the layouts Chinese plans use
//! (`healthplan-plangen`), each written as .txt, as .docx with real merged cells and, with
//! LibreOffice and poppler installed, as a PDF LibreOffice prints from the .docx; every one is
//! imported the way the CLI and server import files (`import_plan_file`) and scored against the
//! answers written from the same choices with `fixtures/tools/score_import.py`'s rules. Every
//! part of every document must score 1.000.
//!
//! The seed changes per run and is printed; `HEALTHPLAN_GEN_SEED=…` repeats a run,
//! `HEALTHPLAN_GEN_DOCS` sets how many documents (default 300) and `HEALTHPLAN_GEN_PDF` how many
//! of them also go through PDF (default all). Each failure met is kept in [`REGRESSIONS`].

use healthplan_office::{convert, convert_many, has_libreoffice, has_poppler, import_plan_file};
use healthplan_plangen::{generate, gold_files, Generated};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// PDF is read from where text sits on the page, and not every layout is recovered there yet
/// (names merged down in two parts, `每千常住人口` | `执业（助理）医师数`, are not split; lists
/// and cells broken across pages): PDF documents are held to these mean scores per part
/// (tables, units, targets) rather than to 1.000 each. Text and Word documents must score
/// 1.000 on every part.
const PDF_FLOOR: [f64; 3] = [0.65, 0.9, 0.95];

/// (seed, index) of generated documents that once failed; they run on every test run (as .txt
/// and .docx). Met while the generator and importer were built: domain rows of empty cells,
/// names in two parts, task tables, header sub-rows in .txt, paired subjects, split tables,
/// baseline years in cells, whole numbers read as serials, labelled lines ending in a bracket.
const REGRESSIONS: &[(u64, usize)] = &[
    (1, 1),
    (1, 3),
    (1, 5),
    (1, 6),
    (1, 9),
    (1, 16),
    (1, 20),
    (1, 24),
    (1, 26),
    (2, 11),
    (2, 20),
    (2, 24),
    (3, 12),
    (3, 20),
    (3, 25),
    (3, 35),
    (3, 55),
    (3, 69),
    (3, 73),
    (3, 92),
    (4, 129),
    (6, 183),
];

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    match std::env::var("HEALTHPLAN_GEN_SEED") {
        Ok(s) => s
            .trim_start_matches("0x")
            .parse::<u64>()
            .or_else(|_| u64::from_str_radix(s.trim_start_matches("0x"), 16))
            .expect("HEALTHPLAN_GEN_SEED is a number"),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            t ^ (std::process::id() as u64) << 32
        }
    }
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// One scored import.
struct Score {
    file: String,
    doc: String,
    parts: [Option<f64>; 3],
    report: String,
}

/// Scores every plan JSON in `files` against the gold in `gold` with one scorer process.
fn score_all(gold: &Path, files: &[PathBuf]) -> Vec<Score> {
    let mut out = Vec::new();
    for chunk in files.chunks(400) {
        let o = Command::new("python3")
            .arg(repo("fixtures/tools/score_many.py"))
            .arg("--gold")
            .arg(gold)
            .args(chunk)
            .output()
            .expect("python3 runs the scorer");
        assert!(
            o.status.success(),
            "scorer failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("one JSON per line");
            let part = |k: &str| v[k].as_f64();
            out.push(Score {
                file: v["file"].as_str().unwrap_or_default().to_string(),
                doc: v["doc"].as_str().unwrap_or_default().to_string(),
                parts: [part("tables"), part("units"), part("targets")],
                report: v["report"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

/// Imports each document in every format, scores it, and returns the failures as messages.
fn run(docs: &[(u64, usize, Generated)], pdf: usize) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&gold).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let generated: Vec<Generated> = docs.iter().map(|d| d.2.clone()).collect();
    for (name, text) in gold_files(&generated) {
        std::fs::write(gold.join(name), text).unwrap();
    }
    let stem = |g: &Generated| g.name.trim_end_matches(".txt").to_string();
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for g in &generated {
        inputs.push((format!("{}.txt", stem(g)), g.text().into_bytes()));
        inputs.push((format!("{}.docx", stem(g)), g.docx()));
    }
    let mut notes = Vec::new();
    if pdf > 0 && has_libreoffice() && has_poppler() {
        let docx: Vec<(String, Vec<u8>)> = inputs
            .iter()
            .filter(|(n, _)| n.ends_with(".docx"))
            .take(pdf)
            .cloned()
            .collect();
        let pdfs = convert_many(&docx, "pdf", Duration::from_secs(1800))
            .expect("LibreOffice converts the batch");
        for ((name, bytes), r) in docx.iter().zip(pdfs) {
            // LibreOffice now and then skips a document of a long batch; one more try alone.
            let pdf = r
                .or_else(|_| convert(bytes, name, "pdf", Duration::from_secs(300)))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            inputs.push((name.replace(".docx", ".pdf"), pdf));
        }
    } else {
        notes.push("PDF part skipped: LibreOffice or poppler is not installed".to_string());
    }
    // Imported on two threads, as the machine has two cores.
    let results: Vec<Result<PathBuf, String>> = std::thread::scope(|scope| {
        let halves: Vec<_> = inputs
            .chunks(inputs.len().div_ceil(2).max(1))
            .map(|part| {
                let out = &out;
                scope.spawn(move || {
                    part.iter()
                        .map(|(name, bytes)| {
                            let imp = import_plan_file(bytes, name)
                                .map_err(|e| format!("{name}: import failed: {e}"))?;
                            let path = out.join(format!("{name}.json"));
                            std::fs::write(&path, imp.plan.to_json_pretty()).unwrap();
                            Ok(path)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("an import thread finishes"))
            .collect()
    });
    let mut files = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(path) => files.push(path),
            Err(e) => failures.push(e),
        }
    }
    let scores = score_all(&gold, &files);
    assert_eq!(scores.len(), files.len());
    let choices = |doc: &str| {
        docs.iter()
            .find(|d| d.2.name == doc)
            .map(|d| format!("seed {} index {}: {}", d.0, d.1, d.2.choices.join(" ")))
            .unwrap_or_default()
    };
    // Per format: documents at 1.000, documents, and per part the sum and count of scores.
    type Tally = (usize, usize, [(f64, usize); 3]);
    let mut per_format: std::collections::BTreeMap<String, Tally> = Default::default();
    for s in &scores {
        let fmt = s.file.rsplit('.').nth(1).unwrap_or("?").to_string();
        let perfect = s.parts.iter().all(|p| p.is_none_or(|v| v >= 1.0 - 1e-9));
        let e = per_format.entry(fmt.clone()).or_default();
        e.0 += perfect as usize;
        e.1 += 1;
        for (k, p) in s.parts.iter().enumerate() {
            if let Some(v) = p {
                e.2[k].0 += v;
                e.2[k].1 += 1;
            }
        }
        // PDF is held to the floors of `PDF_FLOOR` on average, not per document.
        if !perfect && fmt != "pdf" {
            failures.push(format!(
                "{}: tables={:?} units={:?} targets={:?}\n  {}\n{}",
                Path::new(&s.file).file_name().unwrap().to_string_lossy(),
                s.parts[0],
                s.parts[1],
                s.parts[2],
                choices(&s.doc),
                s.report
                    .lines()
                    .filter(|l| l.starts_with("  "))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    for (fmt, (ok, all, parts)) in &per_format {
        let mean = |k: usize| {
            let (sum, n): (f64, usize) = parts[k];
            if n == 0 {
                "-".to_string()
            } else {
                format!("{:.3}", sum / n as f64)
            }
        };
        notes.push(format!(
            "{fmt}: {ok}/{all} documents at 1.000; mean tables {} units {} targets {}",
            mean(0),
            mean(1),
            mean(2)
        ));
        if fmt == "pdf" {
            for (k, part) in ["tables", "units", "targets"].iter().enumerate() {
                let (sum, n) = parts[k];
                let mean = if n == 0 { 1.0 } else { sum / n as f64 };
                if mean < PDF_FLOOR[k] {
                    failures.push(format!(
                        "pdf: mean {part} score {mean:.3} is below {}",
                        PDF_FLOOR[k]
                    ));
                }
            }
        }
    }
    (failures, notes)
}

#[test]
fn every_generated_document_scores_full_marks_in_every_format() {
    let seed = seed();
    let n = env_or("HEALTHPLAN_GEN_DOCS", 300);
    let pdf = env_or("HEALTHPLAN_GEN_PDF", n.min(100));
    eprintln!(
        "generated corpus: seed {seed} ({n} documents; HEALTHPLAN_GEN_SEED={seed} repeats it)"
    );
    let mut docs: Vec<(u64, usize, Generated)> =
        (0..n).map(|i| (seed, i, generate(seed, i))).collect();
    docs.extend(REGRESSIONS.iter().map(|&(s, i)| (s, i, generate(s, i))));
    let (failures, notes) = run(&docs, pdf + REGRESSIONS.len());
    eprintln!("{}", notes.join("\n"));
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of the imports fell short:\n{}",
        failures.len(),
        failures
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
