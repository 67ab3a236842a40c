//! Forms the seeds do not use but plans of the same kind do: a domain column merged down,
//! the city's targets beside the district's, a baseline naming its own year, a header split
//! over lines, percentage points, 〔〕/【】 unit lists, every heading style.

use healthplan_core::{Cmp, Direction, Property, RelativeTo, ResponsibilityMode, TargetKind};
use healthplan_importer::import_bytes;

fn plan() -> healthplan_core::PlanDocument {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/variants.txt");
    import_bytes(&std::fs::read(&p).unwrap(), "variants.txt")
        .unwrap()
        .plan
}

#[test]
fn table_with_domains_references_and_own_baseline_years() {
    let p = plan();
    let names: Vec<&str> = p.indicators.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "人均预期寿命",
            "婴儿死亡率",
            "15岁以上人群吸烟率",
            "居民健康素养水平"
        ]
    );
    let domains: Vec<_> = p.indicators.iter().map(|i| i.domain.as_deref()).collect();
    assert_eq!(
        domains,
        [
            Some("健康水平"),
            Some("健康水平"),
            Some("健康生活"),
            Some("健康生活")
        ]
    );
    let life = &p.indicators[0];
    assert_eq!(life.unit.as_deref(), Some("岁"));
    let b = life.baseline.as_ref().unwrap();
    assert_eq!((b.value, b.year), (Some(81.5), Some(2019)));
    assert_eq!(life.references["city_2030"].value, Some(83.0));
    let infant = &p.indicators[1];
    assert_eq!(infant.direction, Direction::Lower);
    assert_eq!(infant.targets[0].cmp, Some(Cmp::Le));
    assert_eq!(infant.references["city_2030"].value, Some(2.5));
    let smoking = &p.indicators[2];
    assert_eq!(smoking.baseline.as_ref().unwrap().year, Some(2021));
    assert_eq!(smoking.targets[1].cmp, Some(Cmp::Lt));
    let literacy = &p.indicators[3];
    assert_eq!(literacy.property, Some(Property::Binding));
    let t22 = &literacy.targets[0];
    assert_eq!(
        (t22.kind, t22.value),
        (TargetKind::RelativeChange, Some(5.0))
    );
    assert_eq!(t22.relative_to, Some(RelativeTo::Year(2019)));
    assert!(t22.in_percentage_points());
    let t30 = &literacy.targets[1];
    assert_eq!(t30.kind, TargetKind::ReferenceRelative);
    assert_eq!(
        t30.relative_to,
        Some(RelativeTo::Series("national_average".into()))
    );
}

#[test]
fn unit_lists_in_every_bracket() {
    let p = plan();
    let units: Vec<(Vec<String>, ResponsibilityMode)> = p
        .tasks
        .iter()
        .filter_map(|t| t.responsible.clone())
        .map(|r| (r.units, r.mode))
        .collect();
    assert_eq!(units.len(), 4);
    assert_eq!(
        units[0].0,
        [
            "区卫生健康局",
            "区委宣传部（文化广电旅游体育局）",
            "区教育局"
        ]
    );
    assert_eq!(units[0].1, ResponsibilityMode::EachResponsible);
    assert_eq!(units[1].0, ["区卫生健康局", "区市场监管局", "各街道办事处"]);
    assert_eq!(units[2].0, ["区城管局", "区文化广电旅游体育局"]);
    assert_eq!(units[3].0, ["各街道"]);
}

#[test]
fn prose_targets_in_points_relative_and_ranges() {
    let p = plan();
    let st = &p.target_statements;
    let find = |subj: &str| {
        st.iter()
            .find(|s| s.subject == subj)
            .unwrap_or_else(|| panic!("{subj}: {st:#?}"))
    };
    let lit = find("全区居民健康素养水平");
    assert_eq!(
        (lit.kind, lit.value, lit.unit.as_deref()),
        (TargetKind::RelativeChange, Some(10.0), Some("个百分点"))
    );
    assert_eq!(lit.relative_to, Some(RelativeTo::Year(2020)));
    assert_eq!(lit.indicator, Some(3));
    let life = find("人均预期寿命");
    assert_eq!((life.cmp, life.value), (Some(Cmp::Ge), Some(82.0)));
    let ncd = find("重大慢性病过早死亡率");
    assert_eq!(
        (ncd.value, ncd.relative_to.clone()),
        (Some(-30.0), Some(RelativeTo::Year(2015)))
    );
    let path = find("新建健康步道");
    assert_eq!(
        (path.kind, path.value, path.value_hi),
        (TargetKind::Range, Some(5.0), Some(8.0))
    );
    // `15岁以上` is who is counted, not a target.
    assert!(st
        .iter()
        .all(|s| s.unit.as_deref() != Some("岁") || s.value == Some(82.0)));
}

#[test]
fn heading_styles_nest() {
    let p = plan();
    let labels: Vec<&str> = p.sections.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["第一章", "第二章", "附件1："]);
    assert_eq!(p.sections[0].children[0].children[0].label, "专栏1");
    let action = &p.sections[1].children[0].children[0];
    assert_eq!(action.label, "（一）");
    assert_eq!(action.tasks.len(), 4);
}

#[test]
fn header_with_a_group_cell_over_the_target_years() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/grouped_header.txt");
    let plan = import_bytes(&std::fs::read(&p).unwrap(), "grouped_header.txt")
        .unwrap()
        .plan;
    assert_eq!(plan.indicators.len(), 2);
    let life = &plan.indicators[1];
    assert_eq!(life.domain.as_deref(), Some("健康水平"));
    assert_eq!(life.baseline.as_ref().unwrap().year, Some(2020));
    let years: Vec<(i32, Option<f64>)> = life.targets.iter().map(|t| (t.year, t.value)).collect();
    assert_eq!(years, [(2022, Some(79.0)), (2030, Some(80.0))]);
    let r = &plan.target_statements[0];
    assert_eq!(r.kind, TargetKind::ReferenceRelative);
    assert_eq!(
        r.relative_to,
        Some(RelativeTo::Series("national_average".into()))
    );
    assert_eq!(plan.target_statements[1].indicator, Some(1));
}

#[test]
fn rows_written_on_one_line_and_a_bare_baseline_year() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/row_per_line.txt");
    let plan = import_bytes(&std::fs::read(&p).unwrap(), "row_per_line.txt")
        .unwrap()
        .plan;
    assert_eq!(plan.indicators.len(), 2);
    let infant = &plan.indicators[0];
    assert_eq!(infant.baseline.as_ref().unwrap().year, Some(2020));
    assert_eq!(infant.targets.len(), 1);
    assert_eq!(
        (infant.targets[0].year, infant.targets[0].cmp),
        (2025, Some(Cmp::Le))
    );
    assert_eq!(plan.indicators[1].property, Some(Property::Binding));
    assert_eq!(plan.target_statements[0].indicator, Some(0));
}
