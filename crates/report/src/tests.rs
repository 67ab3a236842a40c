//! The rendered files read back: the DOCX through docx-rs's reader (and its raw XML for the
//! layout), the XLSX through calamine, the PDF through poppler when LibreOffice is present.

use crate::testdata::{raoping, seed};
use crate::{
    content, to_docx, to_html, to_xlsx, Export, ReportInput, ValueKey, ValueMeta, SYNTHETIC,
};
use calamine::{Data, Reader, Xlsx};
use docx_rs::{DocumentChild, TableCellContent, TableChild, TableRowChild};
use healthplan_core::ValueStatus;
use healthplan_eval::target::Status;
use healthplan_eval::IndicatorResult;
use regex::Regex;
use std::collections::BTreeMap;
use std::io::Read;

/// A DOCX body as paragraphs and tables, in order.
#[derive(Debug)]
enum Item {
    Para(String),
    Table(Vec<Vec<String>>),
}

fn items(docx: &[u8]) -> Vec<Item> {
    let d = docx_rs::read_docx(docx).expect("the DOCX reads back");
    let mut out = Vec::new();
    for c in &d.document.children {
        match c {
            DocumentChild::Paragraph(p) => out.push(Item::Para(p.raw_text())),
            DocumentChild::Table(t) => out.push(Item::Table(
                t.rows
                    .iter()
                    .map(|TableChild::TableRow(r)| {
                        r.cells
                            .iter()
                            .map(|TableRowChild::TableCell(c)| {
                                c.children
                                    .iter()
                                    .filter_map(|x| match x {
                                        TableCellContent::Paragraph(p) => Some(p.raw_text()),
                                        _ => None,
                                    })
                                    .collect::<Vec<_>>()
                                    .join("")
                            })
                            .collect()
                    })
                    .collect(),
            )),
            DocumentChild::Section(s) => {
                for c in s.children() {
                    if let docx_rs::SectionChild::Paragraph(p) = c {
                        out.push(Item::Para(p.raw_text()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn part(docx: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn paras(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Para(p) => Some(p.as_str()),
            _ => None,
        })
        .collect()
}

fn tables(items: &[Item]) -> Vec<&Vec<Vec<String>>> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Table(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn own_results(input: &ReportInput) -> Vec<&IndicatorResult> {
    let own = input.own_area().unwrap();
    input
        .evaluation()
        .results
        .iter()
        .filter(|r| r.area == own)
        .collect()
}

fn inputs() -> Vec<ReportInput> {
    vec![raoping(), seed(0), seed(1), seed(2)]
}

#[test]
fn summary_numbers_equal_the_evaluation() {
    let counts_re =
        Regex::new(r"(已达标|进度正常|进度滞后|严重滞后|逆向变化|无数据|无法评估)(\d+)项").unwrap();
    for input in inputs() {
        let docx = to_docx(&input).unwrap();
        let items = items(&docx);
        let ps = paras(&items);
        let own = input.own_area().unwrap();
        let rollup = &input
            .evaluation()
            .rollups
            .areas
            .iter()
            .find(|a| a.area == own)
            .unwrap()
            .total;
        let title = input.title().to_string();
        if rollup.total == 0 {
            assert!(
                ps.iter().any(|p| p.contains("未设置可监测的指标")),
                "{title}"
            );
        } else {
            let s = ps
                .iter()
                .find(|p| p.starts_with("纳入监测的"))
                .unwrap_or_else(|| panic!("{title}: no summary in {ps:#?}"));
            assert!(
                s.starts_with(&format!("纳入监测的{}项指标中", rollup.total)),
                "{s}"
            );
            // The first sentence lists every non-zero status with its count, nothing else.
            let first = s.split('。').next().unwrap();
            let got: BTreeMap<&str, usize> = counts_re
                .captures_iter(first)
                .map(|c| {
                    let zh = c.get(1).unwrap().as_str();
                    let key = Status::ALL.iter().find(|s| s.zh() == zh).unwrap().key();
                    (key, c[2].parse().unwrap())
                })
                .collect();
            let want: BTreeMap<&str, usize> = rollup
                .counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (*k, *n))
                .collect();
            assert_eq!(got, want, "{title}: {s}");
            if let Some(share) = rollup.share_achieved_or_on_track {
                let good = rollup.counts["achieved"] + rollup.counts["on_track"];
                assert!(
                    s.contains(&format!(
                        "达标或进度正常的{good}项，占可评估指标（{}项）的{:.1}%",
                        rollup.assessed,
                        share * 100.0
                    )),
                    "{s}"
                );
            }
            if let Some(ix) = rollup.progress_index {
                assert!(
                    s.contains(&format!("指标进展指数为{}", crate::fmt::num(ix))),
                    "{s}"
                );
            }
            // The lagging indicators named are the worst ones, with their leads.
            let lagging: Vec<&IndicatorResult> = own_results(&input)
                .into_iter()
                .filter(|r| {
                    matches!(
                        r.status,
                        Status::Moderate | Status::Insufficient | Status::MovingAway
                    )
                })
                .collect();
            if !lagging.is_empty() {
                let p = ps
                    .iter()
                    .find(|p| p.starts_with("进度滞后或逆向变化的指标共"))
                    .unwrap();
                assert!(
                    p.starts_with(&format!("进度滞后或逆向变化的指标共{}项", lagging.len())),
                    "{p}"
                );
                let worst = lagging.iter().find(|r| r.status == Status::MovingAway);
                if let Some(w) = worst {
                    assert!(
                        p.contains(&format!("{}（逆向变化，牵头单位：", w.name)),
                        "{p}"
                    );
                }
            }
        }
        // Task totals of the plan's own area.
        let tc: Vec<_> = input
            .evaluation()
            .task_completion
            .iter()
            .flatten()
            .filter(|t| t.area == own)
            .collect();
        if !tc.is_empty() {
            let total: usize = tc.iter().map(|t| t.total).sum();
            let done: usize = tc.iter().map(|t| t.completed).sum();
            let p = ps
                .iter()
                .find(|p| p.starts_with("列入监测的"))
                .unwrap_or_else(|| panic!("{title}: no task summary"));
            assert!(
                p.starts_with(&format!("列入监测的{total}项重点任务中，已完成{done}项")),
                "{p}"
            );
            assert!(
                p.contains(&format!("完成率{:.1}%", done as f64 / total as f64 * 100.0)),
                "{p}"
            );
        }
    }
}

#[test]
fn tables_hold_the_evaluated_values() {
    for input in inputs() {
        let docx = to_docx(&input).unwrap();
        let items = items(&docx);
        let ts = tables(&items);
        let rows: Vec<&Vec<String>> = ts
            .iter()
            .filter(|t| {
                t.first()
                    .is_some_and(|h| h.get(2).map(String::as_str) == Some("基线值"))
            })
            .flat_map(|t| t.iter().skip(1))
            .collect();
        let results = own_results(&input);
        assert_eq!(rows.len(), results.len(), "{}", input.title());
        for r in results {
            let row = rows
                .iter()
                .find(|row| {
                    row[1].trim_start_matches('★').starts_with(&r.name)
                        && row[1].starts_with('★') == r.binding
                })
                .unwrap_or_else(|| panic!("no row for {}", r.name));
            assert_eq!(row[5], r.status_zh, "{}", r.name);
            let h = r.headline();
            match h.and_then(|h| h.latest) {
                Some(p) => {
                    let milestone = h.is_some_and(crate::fmt::is_milestone);
                    assert_eq!(
                        row[3],
                        content::point(p.value, p.year, milestone),
                        "{}",
                        r.name
                    );
                    // The number printed is the number evaluated.
                    if !milestone {
                        let printed: f64 = row[3].split(' ').next().unwrap().parse().unwrap();
                        assert!((printed - p.value).abs() <= 0.005 + p.value.abs() * 1e-9);
                    }
                }
                None => assert_eq!(row[3], "—"),
            }
            if let Some(p) = h.and_then(|h| h.p) {
                assert_eq!(row[6], format!("{:.1}%", p * 100.0));
            }
        }
        // The ranking tables hold the assessment's scores in rank order.
        let a = input.assessment();
        for (who, cards) in [("地区", &a.areas), ("牵头单位", &a.departments)] {
            if cards.is_empty() {
                continue;
            }
            let t = ts
                .iter()
                .find(|t| t[0].get(1).map(String::as_str) == Some(who) && t[0][0] == "名次")
                .unwrap_or_else(|| panic!("no {who} ranking"));
            assert_eq!(t.len() - 1, cards.len());
            for (row, c) in t.iter().skip(1).zip(cards.iter()) {
                assert_eq!(row[0], c.rank.to_string());
                assert_eq!(row[2], crate::fmt::num(c.total));
            }
        }
    }
}

#[test]
fn synthetic_data_are_labelled_on_the_cover_and_every_table() {
    for input in [seed(2), seed(0)] {
        assert!(input.synthetic);
        let docx = to_docx(&input).unwrap();
        let items = items(&docx);
        // The cover: before the body's title.
        let title_at = items
            .iter()
            .position(|i| matches!(i, Item::Para(p) if p.ends_with("年度监测评估报告")))
            .unwrap();
        assert!(items[..title_at]
            .iter()
            .any(|i| matches!(i, Item::Para(p) if p.contains(SYNTHETIC))));
        let mut n = 0;
        for (k, i) in items.iter().enumerate() {
            if let Item::Table(_) = i {
                n += 1;
                match &items[k - 1] {
                    Item::Para(caption) => {
                        assert!(
                            caption.starts_with('表') && caption.contains(SYNTHETIC),
                            "{caption}"
                        )
                    }
                    other => panic!("table without a caption: {other:?}"),
                }
            }
        }
        assert!(n >= 4, "{n} tables");
        // And the page header of every body page.
        let headers: String = (1..=2)
            .map(|k| part(&docx, &format!("word/header{k}.xml")))
            .collect();
        assert_eq!(headers.matches(SYNTHETIC).count(), 2);
        let html = to_html(&input);
        assert_eq!(
            html.matches("<caption>").count(),
            html.matches(&format!("（{SYNTHETIC}）</caption>")).count()
        );
        assert!(html.matches("<table").count() >= 4);
    }
    // Real data carry no label.
    let input = raoping();
    let docx = to_docx(&input).unwrap();
    assert!(!part(&docx, "word/document.xml").contains(SYNTHETIC));
    assert!(!to_html(&input).contains(SYNTHETIC));
}

#[test]
fn the_docx_follows_gb_t_9704() {
    let docx = to_docx(&seed(2)).unwrap();
    let xml = part(&docx, "word/document.xml");
    let attr = |tag: &str| {
        let at = xml.rfind(&format!("<w:{tag} ")).unwrap();
        xml[at..at + xml[at..].find("/>").unwrap()].to_string()
    };
    // A4; margins 37/35/28/26 mm leave the 156 × 225 mm text block.
    assert!(
        attr("pgSz").contains(r#"w:w="11906" w:h="16838""#),
        "{}",
        attr("pgSz")
    );
    let mar = attr("pgMar");
    for want in [
        r#"w:top="2098""#,
        r#"w:bottom="1984""#,
        r#"w:left="1587""#,
        r#"w:right="1474""#,
    ] {
        assert!(mar.contains(want), "{mar}");
    }
    // 22 lines of 28.95 pt; 16 pt text 0.25 pt tighter, so 28 characters fill a line.
    let grid = attr("docGrid");
    assert!(
        grid.contains(r#"w:type="lines""#) && grid.contains(r#"w:linePitch="579""#),
        "{grid}"
    );
    assert!(xml.contains(r#"<w:spacing w:line="579" w:lineRule="exact" />"#));
    assert!(xml.contains(r#"<w:spacing w:val="-5" />"#));
    assert!(part(&docx, "word/styles.xml").contains(r#"w:eastAsia="zh-CN""#));
    // Every table repeats its header row.
    assert_eq!(
        xml.matches("<w:tbl>").count(),
        xml.matches("<w:tblHeader />").count()
    );
    assert!(xml.matches("<w:tbl>").count() >= 4);
    // Body 3号仿宋 (16 pt), headings in 黑体 and 楷体, title in 小标宋.
    assert!(xml.contains(r#"w:eastAsia="仿宋_GB2312""#) && xml.contains(r#"<w:sz w:val="32" />"#));
    assert!(xml.contains(r#"w:eastAsia="黑体""#) && xml.contains(r#"w:eastAsia="方正小标宋简体""#));
    assert!(xml.contains(r#"<w:outlineLvl w:val="0" />"#));
    // Page numbers `— 1 —` in 4号宋体 on odd and even pages, from 1 after the cover.
    assert!(xml.contains(r#"<w:pgNumType w:start="1" />"#));
    let footers: String = (1..=2)
        .map(|k| part(&docx, &format!("word/footer{k}.xml")))
        .collect();
    assert_eq!(footers.matches("PAGE").count(), 2);
    assert!(
        footers.contains("— ")
            && footers.contains(r#"w:eastAsia="宋体""#)
            && footers.contains(r#"<w:sz w:val="28" />"#)
    );
    assert!(part(&docx, "word/settings.xml").contains("evenAndOddHeaders"));
    let fonts = part(&docx, "word/fontTable.xml");
    assert!(
        fonts.contains(r#"<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋" />"#),
        "{fonts}"
    );
}

#[test]
fn html_is_one_printable_file() {
    let html = to_html(&seed(2));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    assert!(html.contains("@media print") && html.contains("@page { size: A4"));
    // Self-contained: every image inline, nothing fetched.
    let imgs = html.matches("<img ").count();
    assert!(imgs >= 2, "{imgs} images");
    assert_eq!(imgs, html.matches(r#"src="data:image/png;base64,"#).count());
    for bad in ["http://", "https://", "<script", "<link"] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert!(html.contains("<thead>"));
    let input = seed(2);
    for p in content::summary(&input) {
        assert!(html.contains(&crate::html::escape(&p)), "{p}");
    }
}

fn sheet(xlsx: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn s(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

fn f(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn values_export_holds_every_value_with_status_and_approver() {
    let mut input = raoping();
    let key = ValueKey {
        indicator: 0,
        area: "饶平县".into(),
        year: 2021,
    };
    input.values.insert(
        key,
        ValueMeta {
            status: Some(ValueStatus::Approved),
            approver: Some("李审核".into()),
            approved_at: Some("2022-01-20".into()),
            comment: None,
        },
    );
    let xlsx = to_xlsx(&input, Export::Values).unwrap();
    let rows = sheet(&xlsx, "数据值");
    assert_eq!(s(&rows[0][2]), "指标");
    let want: Vec<(String, String, i32, f64)> = input
        .evaluation()
        .results
        .iter()
        .flat_map(|r| {
            r.observations
                .iter()
                .map(|p| (r.name.clone(), r.area.clone(), p.year, p.value))
        })
        .collect();
    assert_eq!(rows.len() - 1, want.len());
    for (row, (name, area, year, value)) in rows.iter().skip(1).zip(&want) {
        assert_eq!((s(&row[2]), s(&row[4])), (name.clone(), area.clone()));
        assert_eq!(f(&row[5]) as i32, *year);
        assert_eq!(f(&row[6]), *value);
    }
    let lit = rows
        .iter()
        .find(|r| s(&r[2]) == "居民健康素养水平" && s(&r[4]) == "饶平县")
        .unwrap();
    assert_eq!(
        (s(&lit[8]), s(&lit[9]), s(&lit[10])),
        ("已审核".into(), "李审核".into(), "2022-01-20".into())
    );
}

#[test]
fn evaluation_and_assessment_exports_hold_the_results() {
    for input in [raoping(), seed(2)] {
        let ev = to_xlsx(&input, Export::Evaluation).unwrap();
        let skip = usize::from(input.synthetic);
        let rows = sheet(&ev, "评估结果");
        if input.synthetic {
            assert!(s(&rows[0][0]).starts_with(SYNTHETIC));
        }
        let header = &rows[skip];
        let col = |name: &str| header.iter().position(|h| s(h) == name).unwrap();
        let n_targets: usize = input
            .evaluation()
            .results
            .iter()
            .map(|r| r.targets.len().max(1))
            .sum();
        assert_eq!(rows.len() - 1 - skip, n_targets);
        // Every headline row carries the indicator's status and explanation.
        for r in &input.evaluation().results {
            let row = rows
                .iter()
                .skip(skip + 1)
                .find(|row| {
                    s(&row[col("指标")]) == r.name
                        && s(&row[col("地区")]) == input.area_name(&r.area)
                        && s(&row[col("总体状态")]) == "是"
                })
                .unwrap();
            assert_eq!(s(&row[col("状态")]), r.status_zh);
            assert_eq!(s(&row[col("说明")]), r.explanation_zh);
            if let Some(p) = r.headline().and_then(|h| h.p) {
                assert!((f(&row[col("完成进程p")]) - p).abs() < 1e-12);
            }
        }
        for name in ["方法对照", "趋势预测", "汇总", "任务完成"] {
            assert!(sheet(&ev, name).len() > skip, "{name}");
        }
        let a = to_xlsx(&input, Export::Assessment).unwrap();
        let rows = sheet(&a, "地区排名");
        for (row, c) in rows.iter().skip(skip + 1).zip(&input.assessment().areas) {
            assert_eq!(f(&row[0]) as usize, c.rank);
            assert!((f(&row[2]) - c.total).abs() < 1e-12);
            assert_eq!(s(&row[9]), c.explanation_zh);
        }
        let working = sheet(&a, "计分明细");
        let lines: usize = input
            .assessment()
            .areas
            .iter()
            .chain(&input.assessment().departments)
            .map(|c| c.working.len())
            .sum();
        assert_eq!(working.len() - 1 - skip, lines);
        assert!(sheet(&a, "计分方案").len() > 10);
    }
}

#[test]
fn plans_without_indicators_or_data_still_report() {
    // The Shenzhen seed has tasks and no indicators.
    let input = seed(1);
    assert!(input.plan().indicators.is_empty());
    let items = items(&to_docx(&input).unwrap());
    assert!(paras(&items)
        .iter()
        .any(|p| p.contains("未设置可监测的指标")));
    for e in Export::ALL {
        to_xlsx(&input, e).unwrap();
    }
    // A plan with nothing evaluated at all.
    let plan = healthplan_core::PlanDocument {
        title: "空规划".into(),
        area: "某县".into(),
        ..Default::default()
    };
    let settings = healthplan_eval::Settings::default();
    let ev = healthplan_eval::evaluate(&healthplan_eval::EvaluationInput {
        plan: &plan,
        tree: &Default::default(),
        observations: &Default::default(),
        references: &Default::default(),
        tasks: None,
        as_of: 2024,
        settings: &settings,
    });
    let a = healthplan_eval::assess(&plan, &ev, None, &settings);
    let input = ReportInput::new(plan, ev, a, settings).unwrap();
    assert!(!to_docx(&input).unwrap().is_empty());
    assert!(to_html(&input).contains("空规划"));
}

#[test]
fn mismatched_parts_are_refused() {
    let a = raoping();
    let b = seed(2);
    let e = ReportInput::new(
        b.plan().clone(),
        a.evaluation().clone(),
        a.assessment().clone(),
        a.settings().clone(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("评估结果属于"), "{e}");
}

/// Converts one report to PDF and renders pages to PNG, when LibreOffice is installed.
/// `HEALTHPLAN_REPORT_SAMPLES=DIR` also writes the pages there to look at.
#[test]
fn pdf_pages_render() {
    if !healthplan_office::has_libreoffice() || !healthplan_office::has_poppler() {
        eprintln!("skipped: LibreOffice or poppler is not installed");
        return;
    }
    let mut input = seed(2);
    input.issuer = Some("健康云浮行动推进委员会办公室".into());
    input.date = Some("2025年3月".into());
    let pdf = crate::to_pdf(&input).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text =
        healthplan_office::pdf_to_layout_text(&pdf, "r.pdf", healthplan_office::DEFAULT_TIMEOUT)
            .unwrap();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let dir = std::env::var_os("HEALTHPLAN_REPORT_SAMPLES");
    for page in 1..=pages.len().min(12) as u32 {
        let png = healthplan_office::pdf_page_png(&pdf, "r.pdf", page, 60).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        if let Some(d) = &dir {
            let d = std::path::Path::new(d);
            std::fs::write(d.join(format!("page-{page}.png")), png).unwrap();
            std::fs::write(d.join("report.pdf"), &pdf).unwrap();
            std::fs::write(d.join("report.docx"), crate::to_docx(&input).unwrap()).unwrap();
            std::fs::write(d.join("report.html"), to_html(&input)).unwrap();
            let figures = crate::outline(&input)
                .blocks
                .into_iter()
                .filter_map(|b| match b {
                    crate::doc::Block::Figure(f) => Some(f.png.bytes),
                    _ => None,
                });
            for (k, png) in figures.enumerate() {
                std::fs::write(d.join(format!("chart-{}.png", k + 1)), png).unwrap();
            }
            std::fs::write(d.join("report.txt"), &text).unwrap();
        }
    }
    assert!(pages.len() > 4, "{} pages", pages.len());
    assert!(
        pages[0].contains(SYNTHETIC) && pages[0].contains("年度监测评估报告"),
        "{}",
        pages[0]
    );
    // Page numbers start after the cover.
    assert!(
        pages[1].replace(char::is_whitespace, "").contains("—1—"),
        "{}",
        pages[1]
    );
    assert!(text.replace(char::is_whitespace, "").contains("纳入监测的"));
}
