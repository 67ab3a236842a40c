//! `healthplan plan import` run as a user would: every seed scored against the hand-made gold
//! answers with the project's scorer, `--store` then `plan list` / `plan export`, bad files.

use crate::common::{healthplan, repo_fixture, run_err, run_ok, Backend};
use healthplan_core::PlanDocument;
use std::collections::HashMap;
use std::process::Command;

/// (seed, has an indicator table, has responsible units)
const SEEDS: [(&str, bool, bool); 3] = [
    ("001_1089f704d02fb494.txt", true, false),
    ("002_7e66034cdb9a4942.txt", false, true),
    ("004_761ed102bf2849c9.txt", true, true),
];

/// Runs fixtures/tools/score_import.py and returns its `score:` line as a map.
fn score(plan_json: &std::path::Path, seed: &str) -> (HashMap<String, String>, String) {
    let out = Command::new("python3")
        .arg(repo_fixture("tools/score_import.py"))
        .arg(plan_json)
        .arg(seed)
        .output()
        .expect("python3 runs the scorer");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scorer failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("score: "))
        .unwrap_or_else(|| panic!("no score line in {text}"));
    let map = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (map, text)
}

#[test]
fn every_seed_scores_full_marks_against_the_gold_answers() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, table, units) in SEEDS {
        let json = run_ok(
            healthplan(dir.path())
                .args(["plan", "import"])
                .arg(repo_fixture(&format!("seeds/{seed}")))
                .arg("--json"),
        );
        let doc = PlanDocument::from_json(&json).expect("the printed JSON is a valid plan");
        assert!(!doc.tasks.is_empty(), "{seed}");
        let path = dir.path().join(seed.replace(".txt", ".json"));
        std::fs::write(&path, &json).unwrap();
        let (s, report) = score(&path, seed);
        let want = |has: bool| if has { "1.000" } else { "-" };
        assert_eq!(s["tables"], want(table), "{seed}\n{report}");
        assert_eq!(s["units"], want(units), "{seed}\n{report}");
        let targets: f64 = s["targets"].parse().expect("a targets score");
        assert!(targets >= 0.95, "{seed}: targets={targets}\n{report}");
    }
}

#[test]
fn import_store_then_list_and_export() {
    for b in Backend::all() {
        let seed = repo_fixture("seeds/004_761ed102bf2849c9.txt");
        let printed = run_ok(b.cmd().args(["plan", "import"]).arg(&seed).arg("--json"));
        let imported = PlanDocument::from_json(&printed).unwrap();
        let out = run_ok(b.cmd().args(["plan", "import"]).arg(&seed).arg("--store"));
        let id: i64 = out
            .lines()
            .find_map(|l| l.strip_prefix("plan "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: no plan id in {out}", b.name));
        let list = run_ok(b.cmd().args(["plan", "list"]));
        assert!(list.contains("健康云浮行动2030"), "{}: {list}", b.name);
        let exported = run_ok(b.cmd().args(["plan", "export", &id.to_string(), "--json"]));
        let exported = PlanDocument::from_json(&exported).unwrap();
        assert_eq!(exported.title, imported.title, "{}", b.name);
        assert_eq!(exported.tasks, imported.tasks, "{}", b.name);
        assert_eq!(
            exported.indicators.len(),
            imported.indicators.len(),
            "{}",
            b.name
        );
        assert_eq!(
            exported.target_statements, imported.target_statements,
            "{}",
            b.name
        );
        // The source text is kept, and the spans point into it.
        let (rt, store) = b.store();
        let text = rt
            .block_on(async {
                let scope = crate::common::everything(&store).await;
                store.plan_source_text(&scope, id).await
            })
            .unwrap()
            .expect("source text stored");
        let chars: Vec<char> = text.chars().collect();
        let st = &exported.target_statements[0];
        let quoted: String = chars[st.span.start as usize..st.span.end as usize]
            .iter()
            .collect();
        assert_eq!(quoted, st.sentence, "{}", b.name);
        rt.block_on(store.close());
    }
}

#[test]
fn json_and_store_together_keep_stdout_pure_json() {
    let b = Backend::sqlite();
    let out = run_ok(
        b.cmd()
            .args(["plan", "import"])
            .arg(repo_fixture("seeds/002_7e66034cdb9a4942.txt"))
            .args(["--json", "--store"]),
    );
    PlanDocument::from_json(&out).expect("stdout is the plan JSON only");
    assert!(run_ok(b.cmd().args(["plan", "list"])).contains("深圳"));
}

#[test]
fn summary_without_json_names_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        healthplan(dir.path())
            .args(["plan", "import"])
            .arg(repo_fixture("seeds/001_1089f704d02fb494.txt")),
    );
    assert!(out.contains("15 indicators"), "{out}");
    assert!(out.contains("22 target statements"), "{out}");
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let err = run_err(healthplan(dir.path()).args(["plan", "import"]).arg(&empty));
    assert!(err.contains("empty.txt") && err.contains("empty"), "{err}");

    let noise = dir.path().join("noise.txt");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&noise, bytes).unwrap();
    let err = run_err(healthplan(dir.path()).args(["plan", "import"]).arg(&noise));
    assert!(err.contains("noise.txt"), "{err}");

    let docx = dir.path().join("broken.docx");
    std::fs::write(&docx, b"PK\x03\x04not really a zip").unwrap();
    let err = run_err(healthplan(dir.path()).args(["plan", "import"]).arg(&docx));
    assert!(err.contains("broken.docx") && err.contains("docx"), "{err}");

    let missing = dir.path().join("missing.txt");
    let err = run_err(
        healthplan(dir.path())
            .args(["plan", "import"])
            .arg(&missing),
    );
    assert!(err.contains("missing.txt"), "{err}");

    // Nothing was stored by the failed imports.
    let list = run_ok(healthplan(dir.path()).args(["plan", "list"]));
    assert!(list.contains("no plans"), "{list}");
}

#[test]
fn gbk_file_imports_like_the_utf8_one() {
    let dir = tempfile::tempdir().unwrap();
    let src = repo_fixture("seeds/002_7e66034cdb9a4942.txt");
    // GBK has no no-break space and no bullet; a real GBK export writes a space and a ·.
    let text = std::fs::read_to_string(&src)
        .unwrap()
        .replace('\u{a0}', " ")
        .replace('\u{2022}', "\u{b7}");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let utf8_path = dir.path().join("002_utf8.txt");
    std::fs::write(&utf8_path, &text).unwrap();
    let gbk_path = dir.path().join("002_gbk.txt");
    std::fs::write(&gbk_path, &gbk).unwrap();
    let a = run_ok(
        healthplan(dir.path())
            .args(["plan", "import"])
            .arg(&utf8_path)
            .arg("--json"),
    );
    let b = run_ok(
        healthplan(dir.path())
            .args(["plan", "import"])
            .arg(&gbk_path)
            .arg("--json"),
    );
    assert_eq!(a, b);
}
