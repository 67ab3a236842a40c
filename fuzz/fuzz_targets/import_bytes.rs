//! Any bytes, as a .txt and as a .docx: an import returns a plan or an error, never panics,
//! and a plan it returns always validates and keeps its spans inside the cleaned text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz.txt", "fuzz.docx"] {
        if let Ok(imp) = healthplan_importer::import_bytes(data, name) {
            imp.plan.validate().expect("an imported plan validates");
            let n = imp.text.chars().count() as i64;
            assert!(imp.plan.tasks.iter().all(|t| t.span.end <= n));
            assert!(imp.plan.target_statements.iter().all(|t| t.span.end <= n));
        }
    }
});
