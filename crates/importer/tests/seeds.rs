//! The bundled seed plans through the importer: the same plan from UTF-8 text, GB18030 text
//! and a Word document built from it; bad input never panics.

use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow};
use healthplan_core::{Cmp, Direction, ResponsibilityMode, TargetKind};
use healthplan_importer::{import_bytes, table, text::Doc, ImportError};
use std::path::PathBuf;

fn seed(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/seeds")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const SEEDS: [&str; 3] = [
    "001_1089f704d02fb494.txt",
    "002_7e66034cdb9a4942.txt",
    "004_761ed102bf2849c9.txt",
];

#[test]
fn seeds_give_the_expected_shape() {
    // (indicators, tasks with units, each_responsible, target statements)
    let want = [(15, 0, 0, 22), (0, 19, 0, 3), (34, 121, 38, 78)];
    for (name, want) in SEEDS.iter().zip(want) {
        let imp = import_bytes(&seed(name), name).unwrap();
        let p = &imp.plan;
        let with_units: Vec<_> = p
            .tasks
            .iter()
            .filter_map(|t| t.responsible.as_ref())
            .collect();
        let each = with_units
            .iter()
            .filter(|r| r.mode == ResponsibilityMode::EachResponsible)
            .count();
        let got = (
            p.indicators.len(),
            with_units.len(),
            each,
            p.target_statements.len(),
        );
        assert_eq!(got, want, "{name}");
        assert!(!p.sections.is_empty(), "{name}");
        // Every span points into the cleaned text, and maps back into the source.
        let chars: Vec<char> = imp.text.chars().collect();
        for t in &p.tasks {
            let (s, e) = (t.span.start as usize, t.span.end as usize);
            assert!(s < e && e <= chars.len(), "{name} {}", t.id);
            let para: String = chars[s..e].iter().collect();
            assert!(
                para.contains(t.text.chars().take(10).collect::<String>().as_str()),
                "{name} {}",
                t.id
            );
            let (a, b) = imp.offsets.source_span(s, e);
            assert!(a < b && b <= imp.source.chars().count());
        }
        for st in &p.target_statements {
            let text: String = chars[st.span.start as usize..st.span.end as usize]
                .iter()
                .collect();
            assert_eq!(text, st.sentence, "{name}");
        }
        assert!(!imp.text.contains("[bookmark:"));
    }
}

#[test]
fn table_quirks_of_the_yunfu_plan() {
    let name = SEEDS[2];
    let p = import_bytes(&seed(name), name).unwrap().plan;
    let by = |n: &str| {
        p.indicators
            .iter()
            .find(|i| i.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    // A merged cell gives both target years the same qualitative target.
    let life = by("人均预期寿命");
    assert_eq!(life.unit.as_deref(), Some("岁"));
    assert_eq!(life.targets.len(), 2);
    assert!(life
        .targets
        .iter()
        .all(|t| t.kind == TargetKind::Qualitative));
    // A bare 6 for a mortality rate is a ceiling even above the baseline.
    let infant = by("婴儿死亡率");
    assert_eq!(infant.direction, Direction::Lower);
    assert_eq!(infant.targets[0].cmp, Some(Cmp::Le));
    assert_eq!(infant.baseline.as_ref().unwrap().year, Some(2020));
    assert_eq!(by("孕产妇死亡率").unit.as_deref(), Some("1/10万"));
    assert_eq!(
        by("每千常住人口执业（助理）医师数").unit.as_deref(),
        Some("人")
    );
    // One row, two indicators.
    let village = by("村卫生室提供中医非药物疗法的比例");
    assert_eq!(village.targets[1].value, Some(80.0));
    assert_eq!(
        by("建立医疗机构和医务人员开展健康教育和健康促进的绩效考核机制").direction,
        Direction::Qualitative
    );
}

#[test]
fn gb18030_gives_the_same_plan() {
    for name in SEEDS {
        let utf8 = seed(name);
        let text = String::from_utf8(utf8.clone()).unwrap();
        let (gbk, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        assert_ne!(gbk.as_ref(), utf8.as_slice());
        let a = import_bytes(&utf8, name).unwrap();
        let b = import_bytes(&gbk, name).unwrap();
        assert_eq!(b.encoding, "gb18030");
        assert_eq!(a.plan, b.plan, "{name}");
        assert_eq!(a.text, b.text);
    }
}

/// Writes the cleaned seed as a Word document: one paragraph per line, and each indicator
/// table as a real Word table (a merged cell spans the columns it covers).
fn seed_as_docx(text: &str) -> Vec<u8> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let doc = Doc::new(body);
    let regions = table::regions(&doc);
    let mut docx = Docx::new();
    let mut i = 0;
    let lines: Vec<&str> = body.split('\n').collect();
    while i < lines.len() {
        if let Some(r) = regions.iter().find(|r| r.first_line == i) {
            let width = r.rows.iter().map(Vec::len).max().unwrap_or(0);
            let rows = r
                .rows
                .iter()
                .map(|row| {
                    let short = width - row.len();
                    let cells = row
                        .iter()
                        .enumerate()
                        .map(|(k, c)| {
                            let mut cell = TableCell::new();
                            for para in c.text.split('\n') {
                                cell = cell.add_paragraph(
                                    Paragraph::new().add_run(Run::new().add_text(para)),
                                );
                            }
                            if short > 0 && row.len() >= 2 && k == row.len() - 2 {
                                cell = cell.grid_span(short + 1);
                            }
                            cell
                        })
                        .collect();
                    TableRow::new(cells)
                })
                .collect();
            docx = docx.add_table(Table::new(rows));
            i = r.last_line + 1;
            // The table layout ends each row with a blank line.
            if lines.get(i).is_some_and(|l| l.trim().is_empty()) {
                i += 1;
            }
            continue;
        }
        let line = lines[i];
        let mut run = Run::new();
        match line.strip_prefix('\t') {
            Some(rest) => run = run.add_tab().add_text(rest),
            None => run = run.add_text(line),
        }
        docx = docx.add_paragraph(Paragraph::new().add_run(run));
        i += 1;
    }
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build().pack(&mut out).unwrap();
    out.into_inner()
}

#[test]
fn docx_with_real_tables_gives_the_same_plan() {
    for name in SEEDS {
        let txt = import_bytes(&seed(name), name).unwrap();
        let bytes = seed_as_docx(&txt.text);
        let docx_name = name.replace(".txt", ".docx");
        let d = import_bytes(&bytes, &docx_name).unwrap();
        assert_eq!(d.encoding, "docx");
        assert_eq!(d.text, txt.text, "{name}: text differs");
        assert_eq!(d.plan, txt.plan, "{name}");
    }
}

#[test]
fn bad_input_is_an_error_naming_the_file() {
    let e = import_bytes(b"", "empty.txt").unwrap_err();
    assert!(matches!(e, ImportError::Empty { .. }));
    assert!(e.to_string().contains("empty.txt"));
    let e = import_bytes(b" \n\t\n", "blank.txt").unwrap_err();
    assert!(matches!(e, ImportError::Empty { .. }));
    let e = import_bytes(&[0u8, 1, 2, 3, 0xff, 0xfe, 0x80, 0x00], "noise.bin").unwrap_err();
    assert!(e.to_string().contains("noise.bin"), "{e}");
    let e = import_bytes(b"PK\x03\x04garbage", "broken.docx").unwrap_err();
    assert!(matches!(e, ImportError::Docx { .. }), "{e}");
    assert!(e.to_string().contains("broken.docx"));
    let e = import_bytes(&[0xD0, 0xCF, 0x11, 0xE0, 1, 2], "old.doc").unwrap_err();
    assert!(e.to_string().contains(".docx"), "{e}");
}

#[test]
fn a_document_without_table_or_units_is_still_a_plan() {
    let text = "健康某某行动方案\n一、总体要求\n到2025年，居民健康素养水平不低于30%。\n";
    let imp = import_bytes(text.as_bytes(), "plain.txt").unwrap();
    let codes: Vec<&str> = imp.plan.doubts.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["no_indicator_table", "no_responsible_units"]);
    let p = imp.plan;
    assert!(p.indicators.is_empty());
    assert_eq!(p.target_statements.len(), 1);
    assert_eq!(p.sections.len(), 1);
}

#[test]
fn megabytes_of_plan_import_and_past_the_limits_are_refused() {
    let one = seed(SEEDS[2]);
    let repeat = |n: usize| {
        let mut big = Vec::with_capacity(n * (one.len() + 1));
        for _ in 0..n {
            big.extend_from_slice(&one);
            big.push(b'\n');
        }
        big
    };
    // Twenty-five copies (about 4 MB) stay within what one plan may hold.
    let imp = import_bytes(&repeat(25), "big.txt").unwrap();
    assert_eq!(imp.plan.indicators.len(), 34 * 25);
    assert_eq!(imp.plan.target_statements.len(), 78 * 25);
    // Ten megabytes of them hold more than a plan may: refused with the limit named.
    let copies = 10 * 1024 * 1024 / (one.len() + 1) + 1;
    let e = import_bytes(&repeat(copies), "huge.txt").unwrap_err();
    assert!(
        matches!(e, healthplan_importer::ImportError::TooMuch { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("huge.txt"), "{e}");
}
