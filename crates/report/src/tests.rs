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
            let status = if r.worsening {
                format!("{}（恶化）", r.status_zh)
            } else {
                r.status_zh.to_string()
            };
            assert_eq!(row[5], status, "{}", r.name);
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
        // The ranking tables hold the ranked cards' scores in rank order, ties marked.
        let a = input.assessment();
        for (who, cards) in [("地区", &a.areas), ("牵头单位", &a.departments)] {
            let ranked: Vec<_> = cards
                .iter()
                .filter(|c| c.rank > 0 || who == "牵头单位")
                .collect();
            if ranked.is_empty() {
                continue;
            }
            let rows: Vec<&Vec<String>> = ts
                .iter()
                .filter(|t| t[0].get(1).map(String::as_str) == Some(who) && t[0][0] == "名次")
                .flat_map(|t| t.iter().skip(1))
                .collect();
            assert_eq!(rows.len(), ranked.len(), "{who}");
            for (row, c) in rows.iter().zip(ranked) {
                let rank = match (c.rank, c.tied) {
                    (0, _) => "—".to_string(),
                    (k, true) => format!("并列{k}"),
                    (k, false) => k.to_string(),
                };
                assert_eq!(row[0], rank);
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
            assert_eq!(s(&row[0]), c.rank_zh);
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
        // Methods are named in Chinese; scores show two decimals, p and shares as percent.
        let methods = sheet(&ev, "方法对照");
        assert!(methods.iter().skip(skip + 1).all(|r| !s(&r[3]).is_ascii()));
        let styles = part(&ev, "xl/styles.xml");
        assert!(styles.contains(r#"formatCode="0.0%""#) && styles.contains(r#"formatCode="0.00""#));
        assert!(part(&a, "xl/styles.xml").contains(r#"formatCode="0.00""#));
        // Tasks in the working are named by their text.
        let tasks: Vec<&str> = input.plan().tasks.iter().map(|t| t.id.as_str()).collect();
        assert!(working.iter().all(|r| !tasks.contains(&s(&r[3]).as_str())));
    }
    // A sheet with nothing to show says why.
    let ev = to_xlsx(&seed(1), Export::Evaluation).unwrap();
    let rows = sheet(&ev, "方法对照");
    assert!(
        rows.iter().any(|r| s(&r[0]).starts_with("（本表无数据：")),
        "{rows:?}"
    );
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
    // No number or year is broken across lines, in the text or any table.
    for input in [input, raoping()] {
        let pdf = crate::to_pdf(&input).unwrap();
        let text =
            healthplan_office::pdf_to_text(&pdf, "r.pdf", healthplan_office::DEFAULT_TIMEOUT)
                .unwrap();
        let split = split_numbers(&text);
        assert!(split.is_empty(), "{}: {split:#?}", input.title());
    }
}

/// Where a number or year is broken across lines in `pdftotext` output: a line ending in
/// part of a number whose next line starts with its digits (`202` / `5`, `≥82.` / `7`).
fn split_numbers(text: &str) -> Vec<String> {
    let ends_in_part = |a: &str| {
        let a = a.trim_end();
        let digits = a.chars().rev().take_while(|c| c.is_ascii_digit()).count();
        let rest = &a[..a.len() - digits];
        match (digits, rest.chars().last()) {
            (1..=3, None) => true,
            (1..=3, Some(c)) => !c.is_ascii_digit() && c != '.',
            (0, Some('.')) => rest[..rest.len() - 1].ends_with(|c: char| c.is_ascii_digit()),
            _ => false,
        }
    };
    let starts_number = |b: &str| {
        b.trim_start()
            .starts_with(|c: char| c.is_ascii_digit() || ".%‰".contains(c))
    };
    let mut out = Vec::new();
    for (k, page) in text.split('\u{c}').enumerate() {
        let lines: Vec<&str> = page.lines().collect();
        for w in lines.windows(2) {
            if ends_in_part(w[0]) && starts_number(w[1]) {
                out.push(format!("page {}: {:?} / {:?}", k + 1, w[0], w[1]));
            }
        }
    }
    out
}

#[test]
fn split_numbers_are_found() {
    let text = "对深圳市 2\n025 年度\n\u{c}最高（10\n0.0%）\n≥82.\n7元\n2025\n年";
    assert_eq!(split_numbers(text).len(), 3, "{:?}", split_numbers(text));
    assert!(split_numbers("2025年\n2026年\n（见表1）\n2.指标").is_empty());
}

/// The body's paragraphs from the first heading to the 附件 list.
fn body(items: &[Item]) -> Vec<&str> {
    let ps = paras(items);
    let start = ps
        .iter()
        .position(|p| *p == "一、总体情况")
        .expect("一、总体情况");
    let end = ps
        .iter()
        .position(|p| p.starts_with("附件："))
        .expect("附件：");
    ps[start..end].to_vec()
}

#[test]
fn the_report_has_four_parts_then_attachments_and_the_issuer() {
    let refs = Regex::new(r"见(表|图)(\d*)").unwrap();
    for mut input in inputs() {
        input.issuer = Some("健康某市行动推进委员会办公室".into());
        input.date = Some("2026年3月".into());
        let title = input.title().to_string();
        let items = items(&to_docx(&input).unwrap());
        let ps = paras(&items);
        let at = |want: &str| {
            ps.iter()
                .position(|p| *p == want)
                .unwrap_or_else(|| panic!("{title}: no {want}"))
        };
        let parts = [
            at("一、总体情况"),
            at("二、主要进展和成效"),
            at("三、存在的问题"),
            at("四、下一步工作建议"),
        ];
        assert!(parts.windows(2).all(|w| w[0] < w[1]), "{title}: {parts:?}");
        // 附件说明, then 落款, then the attachments on their own pages.
        let list = ps.iter().position(|p| p.starts_with("附件：1.")).unwrap();
        // (The cover names the issuer too.)
        let issuer = ps
            .iter()
            .rposition(|p| *p == "健康某市行动推进委员会办公室")
            .unwrap();
        assert!(parts[3] < list && list < issuer && ps[issuer + 1] == "2026年3月");
        let labels: Vec<usize> = ps
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let p = p.trim();
                p.starts_with("附件") && p[6..].parse::<usize>().is_ok()
            })
            .map(|(k, _)| k)
            .collect();
        assert!(
            labels.len() >= 2 && labels[0] > issuer,
            "{title}: {labels:?}"
        );
        let named = ps[list..issuer].iter().filter(|p| !p.is_empty()).count();
        assert_eq!(named, labels.len(), "{title}: every attachment is listed");
        // Every 表/图 reference carries a number that exists.
        let captions: Vec<&str> = ps
            .iter()
            .copied()
            .filter(|p| p.starts_with('表') || p.starts_with('图'))
            .collect();
        for p in &ps {
            for m in refs.captures_iter(p) {
                assert!(
                    !m[2].is_empty(),
                    "{title}: reference without a number in {p}"
                );
                let caption = format!("{}{}　", &m[1], &m[2]);
                assert!(
                    captions.iter().any(|c| c.starts_with(&caption)),
                    "{title}: {caption} is referred to and missing"
                );
            }
        }
        // Problems name each indicator's lead; suggestions are numbered and addressed to them.
        let body = body(&items);
        let suggestions: Vec<&str> = body
            .iter()
            .copied()
            .skip_while(|p| *p != "四、下一步工作建议")
            .skip(1)
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert!(!suggestions.is_empty(), "{title}");
        for (k, s) in suggestions.iter().enumerate() {
            assert!(s.starts_with(&format!("{}.", k + 1)), "{title}: {s}");
        }
        let problems: String = body
            .iter()
            .copied()
            .skip_while(|p| *p != "三、存在的问题")
            .take_while(|p| *p != "四、下一步工作建议")
            .collect();
        for r in own_results(&input) {
            let flagged = matches!(
                r.status,
                Status::Missed
                    | Status::Moderate
                    | Status::Insufficient
                    | Status::MovingAway
                    | Status::NoData
            ) || r.worsening;
            if !flagged {
                continue;
            }
            assert!(problems.contains(&r.name), "{title}: {} not in 三", r.name);
            if let Some(lead) = content::lead_of(input.plan(), r.indicator) {
                assert!(
                    problems.contains(&format!("牵头单位：{lead}")),
                    "{title}: {lead}"
                );
                assert!(
                    suggestions
                        .iter()
                        .any(|s| s.contains(&format!(".{lead}："))),
                    "{title}: no suggestion to {lead}"
                );
            }
        }
        // Achieved indicators are counted under 二 with their numbers.
        let achieved = own_results(&input)
            .iter()
            .filter(|r| r.status == Status::Achieved)
            .count();
        if achieved > 0 {
            assert!(
                body.iter()
                    .any(|p| p.contains(&format!("{achieved}项指标达到规划目标值"))),
                "{title}"
            );
        }
    }
}

#[test]
fn report_years_without_data_or_before_the_baseline_are_refused() {
    let input = seed(2);
    let plan = input.plan().clone();
    let base = plan
        .indicators
        .iter()
        .filter_map(|i| i.baseline.as_ref().and_then(|b| b.year))
        .min()
        .unwrap();
    let with_year = |year: i32| {
        let mut ev = input.evaluation().clone();
        ev.as_of = year;
        let mut a = input.assessment().clone();
        a.as_of = year;
        ReportInput::new(plan.clone(), ev, a, input.settings().clone())
    };
    let e = with_year(base - 1).unwrap_err().to_string();
    assert!(e.contains(&format!("早于规划基线年{base}年")), "{e}");
    let last = input
        .evaluation()
        .results
        .iter()
        .flat_map(|r| r.observations.iter().map(|p| p.year))
        .max()
        .unwrap();
    let e = with_year(last + 1).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}年没有监测数据", last + 1))
            && e.contains("有监测数据的年份：")
            && e.contains(&format!("{last}年")),
        "{e}"
    );
    assert!(with_year(last).is_ok());
}
