//! The importer's own corpus (`fixtures/corpus`): invented plans in every table and unit
//! layout, each as a text export and as a Word document with real tables. The two give the
//! same plan; the guesses the layouts force are flagged as doubts. (The scores against the
//! hand-made gold answers are checked through the binary, in the CLI tests.)

use healthplan_core::{Cmp, Direction, Indicator, PlanDocument, Property, TargetKind};
use healthplan_importer::import_bytes;
use std::path::PathBuf;

const DOCS: [&str; 8] = [
    "c01_qinghe",
    "c02_lanwan",
    "c03_songling",
    "c04_luchuan",
    "c05_taoxi",
    "c06_fengqiao",
    "c07_yunlan",
    "c08_bailu",
];

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/corpus")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn plan(name: &str) -> PlanDocument {
    import_bytes(&corpus(name), name).unwrap().plan
}

fn by<'a>(p: &'a PlanDocument, name: &str) -> &'a Indicator {
    p.indicators
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no indicator {name}"))
}

fn codes(doubts: &[healthplan_core::Doubt]) -> Vec<&str> {
    doubts.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn text_export_and_word_document_give_the_same_plan() {
    for doc in DOCS {
        let txt = plan(&format!("{doc}.txt"));
        let docx = plan(&format!("{doc}.docx"));
        let strip = |p: &PlanDocument| {
            let mut p = p.clone();
            for i in &mut p.indicators {
                i.span = Default::default();
            }
            for t in &mut p.tasks {
                t.span = Default::default();
            }
            for s in &mut p.target_statements {
                s.span = Default::default();
            }
            p.sections.clear();
            p
        };
        let (a, b) = (strip(&txt), strip(&docx));
        assert_eq!(a.indicators, b.indicators, "{doc}");
        assert_eq!(a.tasks, b.tasks, "{doc}");
        assert_eq!(a.target_statements, b.target_statements, "{doc}");
    }
}

#[test]
fn merged_domain_wrapped_name_and_targets_across_years() {
    let p = plan("c01_qinghe.docx");
    assert_eq!(p.indicators.len(), 11);
    let life = by(&p, "人均预期寿命");
    assert_eq!(life.baseline.as_ref().and_then(|b| b.year), Some(2022));
    assert_eq!(life.property, Some(Property::Expected));
    assert_eq!(by(&p, "婴儿死亡率").domain.as_deref(), Some("健康水平"));
    let smoking = by(&p, "15岁以上人群吸烟率");
    let years: Vec<(i32, TargetKind)> = smoking.targets.iter().map(|t| (t.year, t.kind)).collect();
    assert_eq!(
        years,
        [
            (2025, TargetKind::Qualitative),
            (2030, TargetKind::Qualitative)
        ]
    );
    // The name continued in a row of its own is joined, and says so.
    let fit = by(&p, "城乡居民达到《国民体质测定标准》合格以上的人数比例");
    assert_eq!(fit.unit.as_deref(), Some("%"));
    assert_eq!(codes(&fit.doubts), ["name_joined"]);
    let vaccine = by(&p, "以乡镇为单位适龄儿童免疫规划疫苗接种率");
    assert!(vaccine
        .targets
        .iter()
        .all(|t| t.cmp == Some(Cmp::Ge) && t.value == Some(95.0)));
}

#[test]
fn a_bare_year_column_of_current_values_is_the_baseline() {
    // The plan is dated 2023: its 2022年 column is history.
    let p = plan("c02_lanwan.txt");
    let beds = by(&p, "每千人口医疗卫生机构床位数");
    let b = beds.baseline.as_ref().unwrap();
    assert_eq!((b.value, b.year), (Some(4.2), Some(2022)));
    assert_eq!(beds.targets.len(), 2);
    assert!(beds.doubts.iter().all(|d| d.code != "header_guessed"));
    assert_eq!(
        by(&p, "个人卫生支出占卫生总费用的比重").lead.as_deref(),
        Some("区医保局")
    );
    // No date, no period: the cells decide, and every indicator says it was a guess.
    let p = plan("c07_yunlan.txt");
    let life = by(&p, "人均预期寿命");
    assert_eq!(life.baseline.as_ref().and_then(|b| b.year), Some(2020));
    assert_eq!(life.targets[0].year, 2025);
    assert!(p
        .indicators
        .iter()
        .all(|i| i.doubts.iter().any(|d| d.code == "header_guessed")));
    // A lead cell listing two departments: the first leads.
    let clinics = by(&p, "职业病诊断机构县（市、区）覆盖率");
    assert_eq!(clinics.lead.as_deref(), Some("市卫生健康委"));
    // `逐步降低` says which way a name the word lists do not know should go.
    assert_eq!(by(&p, "人均每日食盐摄入量").direction, Direction::Lower);
}

#[test]
fn group_header_over_target_years_and_a_reference_column() {
    let p = plan("c03_songling.docx");
    let lit = by(&p, "居民健康素养水平");
    assert_eq!(lit.baseline.as_ref().and_then(|b| b.year), Some(2021));
    let years: Vec<i32> = lit.targets.iter().map(|t| t.year).collect();
    assert_eq!(years, [2025, 2030]);
    assert_eq!(lit.references["national_2030"].value, Some(30.0));
    let library = by(&p, "建立健康科普专家库和资源库");
    assert_eq!(library.direction, Direction::Qualitative);
    assert!(library
        .targets
        .iter()
        .all(|t| t.kind == TargetKind::Milestone));
    assert_eq!(
        by(&p, "二级以上医院提供线上服务比例").extra["remark"],
        "新增指标"
    );
}

#[test]
fn rows_longer_or_shorter_than_the_header_are_aligned_and_flagged() {
    let p = plan("c04_luchuan.txt");
    let ems = by(&p, "院前急救平均反应时间");
    assert_eq!(ems.targets.len(), 1);
    assert_eq!(ems.property, Some(Property::Expected));
    // `≤12` tells the direction a name alone does not.
    assert_eq!(ems.direction, Direction::Lower);
    assert_eq!(codes(&ems.doubts), ["row_realigned"]);
    let gp = by(&p, "每万人口全科医生数");
    assert_eq!(gp.unit.as_deref(), Some("人"));
    assert_eq!(gp.targets[1].value, Some(5.0));
    assert_eq!(codes(&gp.doubts), ["row_realigned"]);
    // The property between the target columns, baselines with their own years.
    let infant = by(&p, "婴儿死亡率");
    assert_eq!(infant.baseline.as_ref().and_then(|b| b.year), Some(2021));
    assert_eq!(infant.targets[1].year, 2030);
    assert!(infant.doubts.is_empty());
}

#[test]
fn domain_rows_and_a_cell_across_target_and_reference_columns() {
    let p = plan("c05_taoxi.docx");
    assert_eq!(by(&p, "县域内住院率").domain.as_deref(), Some("健康服务"));
    let myopia = by(&p, "儿童青少年总体近视率");
    assert_eq!(myopia.targets[0].kind, TargetKind::Qualitative);
    assert_eq!(myopia.references.len(), 2);
    // The note under the table gives the baseline year.
    assert_eq!(
        by(&p, "婴儿死亡率").baseline.as_ref().and_then(|b| b.year),
        Some(2020)
    );
}

#[test]
fn unit_lists_in_every_form() {
    let p = plan("c02_lanwan.txt");
    let lists: Vec<Vec<String>> = p
        .tasks
        .iter()
        .filter_map(|t| t.responsible.as_ref().map(|r| r.units.clone()))
        .collect();
    assert_eq!(lists.len(), 5);
    assert_eq!(lists[0], ["区卫生健康局", "区发展改革局", "区财政局"]);
    assert_eq!(lists[4], ["区生态环境局", "区水务局", "各街道"]);
    let guessed = p
        .tasks
        .iter()
        .find(|t| {
            t.responsible
                .as_ref()
                .is_some_and(|r| r.units[0] == "区卫生健康局")
        })
        .unwrap();
    assert_eq!(codes(&guessed.doubts), ["units_guessed"]);
    // `责任单位：` on a line of its own, the units on the next.
    let p = plan("c04_luchuan.docx");
    let t = p
        .tasks
        .iter()
        .find(|t| t.text.starts_with("加强健康科普宣传"))
        .unwrap();
    assert_eq!(
        t.responsible.as_ref().unwrap().units,
        ["区委宣传部（区委网信办）", "区融媒体中心", "区卫生健康局"]
    );
}

#[test]
fn a_plan_without_table_or_units_says_so() {
    let p = plan("c06_fengqiao.txt");
    assert_eq!(
        codes(&p.doubts),
        ["no_indicator_table", "no_responsible_units"]
    );
    assert_eq!(p.target_statements.len(), 7);
    let text = "某某工作要点\n一、总体要求\n加强组织领导，落实工作责任。\n";
    let p = import_bytes(text.as_bytes(), "bare.txt").unwrap().plan;
    assert_eq!(
        codes(&p.doubts),
        ["no_indicator_table", "no_responsible_units", "no_targets"]
    );
}
