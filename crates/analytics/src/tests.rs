//! Engine semantics on a hand-made tree, and a property test comparing incremental updates with
//! a rebuild from scratch and with a brute-force computation.

use crate::*;
use healthplan_core::{Aggregation, AreaCode, Period, PeriodKind};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn c(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

/// Province 440000 → cities 440100, 440300 → 440300 has counties 440301, 440302.
fn small() -> Engine {
    let t = AreaTree::new([
        (c("440000"), None),
        (c("440100"), Some(c("440000"))),
        (c("440300"), Some(c("440000"))),
        (c("440301"), Some(c("440300"))),
        (c("440302"), Some(c("440300"))),
    ])
    .unwrap();
    let mut e = Engine::new(t);
    e.add_element("births", Aggregation::Sum).unwrap();
    e.add_element("beds", Aggregation::Average).unwrap();
    e.add_element("target", Aggregation::None).unwrap();
    e.add_element("deaths", Aggregation::Sum).unwrap();
    e.define_indicator("mortality", &["deaths"], &["births"], 1000.0)
        .unwrap();
    e
}

fn put(e: &mut Engine, el: &str, a: &str, p: &str, v: Option<f64>) {
    let id = e.element(el).unwrap();
    let a = e.tree().id(&c(a)).unwrap();
    e.set(id, a, p.parse().unwrap(), v).unwrap();
}

fn row(e: &Engine, item: Item, a: &str, p: &str) -> Row {
    let a = e.tree().id(&c(a)).unwrap();
    e.value(&item, a, p.parse().unwrap()).unwrap()
}

#[test]
fn sums_roll_up_areas_and_periods_on_every_write() {
    let mut e = small();
    put(&mut e, "births", "440301", "202401", Some(10.0));
    put(&mut e, "births", "440302", "202405", Some(5.0));
    put(&mut e, "births", "440100", "202402", Some(7.0));
    let b = Item::Element("births".into());
    let r = row(&e, b.clone(), "440000", "2024");
    assert_eq!((r.value, r.count), (Some(22.0), 3));
    assert_eq!(row(&e, b.clone(), "440300", "2024Q1").value, Some(10.0));
    assert_eq!(row(&e, b.clone(), "440300", "2024Q2").value, Some(5.0));
    assert_eq!(row(&e, b.clone(), "440000", "202401").value, Some(10.0));
    assert_eq!(row(&e, b.clone(), "440000", "2023").value, None);
    // Update then delete.
    put(&mut e, "births", "440301", "202401", Some(1.0));
    assert_eq!(row(&e, b.clone(), "440000", "2024").value, Some(13.0));
    put(&mut e, "births", "440301", "202401", None);
    let r = row(&e, b.clone(), "440000", "2024");
    assert_eq!((r.value, r.count), (Some(12.0), 2));
    put(&mut e, "births", "440302", "202405", None);
    put(&mut e, "births", "440100", "202402", None);
    let r = row(&e, b, "440000", "2024");
    assert_eq!((r.value, r.count), (None, 0));
}

#[test]
fn values_at_inner_areas_and_whole_years_count_too() {
    let mut e = small();
    put(&mut e, "births", "440300", "2024", Some(100.0));
    put(&mut e, "births", "440301", "2024Q3", Some(4.0));
    put(&mut e, "births", "440301", "202407", Some(1.0));
    let b = Item::Element("births".into());
    assert_eq!(row(&e, b.clone(), "440000", "2024").value, Some(105.0));
    assert_eq!(row(&e, b.clone(), "440301", "2024").value, Some(5.0));
    assert_eq!(row(&e, b.clone(), "440301", "2024Q3").count, 2);
    assert_eq!(row(&e, b.clone(), "440300", "2024Q3").value, Some(5.0));
    assert_eq!(row(&e, b, "440000", "202407").value, Some(1.0));
}

#[test]
fn average_none_and_indicators() {
    let mut e = small();
    put(&mut e, "beds", "440301", "2024", Some(4.0));
    put(&mut e, "beds", "440302", "2024", Some(8.0));
    put(&mut e, "target", "440300", "2024", Some(95.0));
    put(&mut e, "deaths", "440301", "2024", Some(3.0));
    put(&mut e, "births", "440301", "2024", Some(600.0));
    put(&mut e, "births", "440302", "2024", Some(400.0));
    assert_eq!(
        row(&e, Item::Element("beds".into()), "440300", "2024").value,
        Some(6.0)
    );
    // `none` aggregates nothing: only the value entered at that very area and period.
    assert_eq!(
        row(&e, Item::Element("target".into()), "440300", "2024").value,
        Some(95.0)
    );
    assert_eq!(
        row(&e, Item::Element("target".into()), "440000", "2024").value,
        None
    );
    let r = row(&e, Item::Indicator("mortality".into()), "440000", "2024");
    assert_eq!(r.numerator, Some(3.0));
    assert_eq!(r.denominator, Some(1000.0));
    assert_eq!(r.value, Some(3.0));
    assert_eq!(r.count, 3);
    let r = row(&e, Item::Indicator("mortality".into()), "440100", "2024");
    assert_eq!((r.value, r.count), (None, 0));
}

#[test]
fn query_shapes_and_errors() {
    let mut e = small();
    put(&mut e, "births", "440301", "202001", Some(1.0));
    put(&mut e, "births", "440302", "202501", Some(2.0));
    let q = Query {
        items: vec![Item::Element("births".into())],
        areas: AreaSel::LevelUnder {
            level: 3,
            under: c("440000"),
        },
        periods: PeriodSel::EachYear {
            from: 2020,
            to: 2025,
        },
    };
    let rows = e.query(&q).unwrap();
    assert_eq!(rows.len(), 2 * 6);
    assert_eq!(rows[0].value, Some(1.0));
    assert_eq!(rows[6 + 5].value, Some(2.0));
    let mut bad = q.clone();
    bad.items = vec![Item::Element("nope".into())];
    assert!(e.query(&bad).unwrap_err().to_string().contains("nope"));
    let mut bad = q.clone();
    bad.periods = PeriodSel::EachYear {
        from: 2025,
        to: 2020,
    };
    assert!(e.query(&bad).is_err());
    let id = e.element("births").unwrap();
    let a = e.tree().id(&c("440000")).unwrap();
    assert!(e.set(id, a, Period::Year(3000), Some(1.0)).is_err());
    assert!(e.set(id, a, Period::Year(2024), Some(f64::NAN)).is_err());
    assert!(e
        .define_indicator("x", &["births"], &["nope"], 1.0)
        .is_err());
}

#[test]
fn days_roll_into_weeks_months_and_years_and_weeks_into_iso_years() {
    let mut e = small();
    // Monday 2024-12-30 and Tuesday 2024-12-31 are in ISO week 2025W01.
    put(&mut e, "births", "440301", "20241230", Some(2.0));
    put(&mut e, "births", "440302", "20241231", Some(3.0));
    put(&mut e, "births", "440301", "20250101", Some(4.0));
    put(&mut e, "births", "440300", "20241231", Some(1.0));
    put(&mut e, "births", "440301", "2025W01", Some(10.0));
    put(&mut e, "births", "440100", "202412", Some(100.0));
    let b = Item::Element("births".into());
    let v = |e: &Engine, a: &str, p: &str| row(e, b.clone(), a, p).value;
    assert_eq!(v(&e, "440300", "2025W01"), Some(20.0));
    assert_eq!(v(&e, "440301", "2025W01"), Some(16.0));
    assert_eq!(v(&e, "440000", "20241231"), Some(4.0));
    assert_eq!(v(&e, "440300", "202412"), Some(6.0));
    assert_eq!(v(&e, "440000", "2024Q4"), Some(106.0));
    assert_eq!(v(&e, "440000", "2024"), Some(106.0));
    // The ISO year 2025 counts the raw week value and the day of 2025 (through its month).
    assert_eq!(v(&e, "440000", "2025"), Some(14.0));
    assert_eq!(v(&e, "440000", "2025W02"), None);
    let (births, a) = (
        e.element("births").unwrap(),
        e.tree().id(&c("440300")).unwrap(),
    );
    let mut days = Vec::new();
    let start = Period::Day(2024, 12, 29).day_number().unwrap();
    e.day_series(births, a, start..start + 4, &mut days);
    assert_eq!(days, vec![(0.0, 0), (2.0, 1), (4.0, 2), (4.0, 1)]);
    let mut weeks = Vec::new();
    e.week_series(births, a, Period::Week(2024, 52), 2, &mut weeks);
    assert_eq!(weeks, vec![(0.0, 0), (20.0, 5)]);
    // Deleting restores the empty state exactly.
    put(&mut e, "births", "440301", "20241230", None);
    put(&mut e, "births", "440302", "20241231", None);
    put(&mut e, "births", "440301", "20250101", None);
    put(&mut e, "births", "440300", "20241231", None);
    put(&mut e, "births", "440301", "2025W01", None);
    assert_eq!(v(&e, "440000", "2025"), None);
    assert_eq!(row(&e, b.clone(), "440000", "2024").count, 1);
    assert!(e
        .set(births, a, Period::Day(2023, 2, 29), Some(1.0))
        .is_err());
    assert!(e.set(births, a, Period::Week(2023, 53), Some(1.0)).is_err());
}

// ---- property test ----

const YEARS: [i32; 2] = [2023, 2024];

/// Months, quarters and years of 2023–2024, the ISO year 2025, and days and weeks around the
/// year boundaries and the leap day, where the calendars disagree.
fn all_periods() -> Vec<Period> {
    let mut v = vec![Period::Year(2025)];
    for y in YEARS {
        v.push(Period::Year(y));
        for q in 1..=4 {
            v.push(Period::Quarter(y, q));
        }
        for m in 1..=12 {
            v.push(Period::Month(y, m));
        }
    }
    for (from, len) in [
        ((2023, 12, 25), 15),
        ((2024, 2, 27), 5),
        ((2024, 12, 28), 4),
    ] {
        let n = Period::Day(from.0, from.1, from.2).day_number().unwrap();
        v.extend((n..n + len).filter_map(Period::from_day_number));
    }
    for (y, w) in [
        (2023, 1),
        (2023, 52),
        (2024, 1),
        (2024, 2),
        (2024, 9),
        (2024, 52),
        (2025, 1),
    ] {
        v.push(Period::Week(y, w));
    }
    v
}

fn within(p: Period, outer: Period) -> bool {
    outer.contains(&p)
}

#[derive(Debug, Clone)]
struct Op {
    element: usize,
    area: usize,
    period: usize,
    value: Option<i32>,
}

fn tree_and_ops() -> impl Strategy<Value = (Vec<Option<usize>>, Vec<Op>)> {
    (1usize..14).prop_flat_map(|n| {
        // Node i's parent is any earlier node; node 0 (and sometimes others) are roots.
        let parents = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(None).boxed()
                } else {
                    prop_oneof![1 => Just(None), 6 => (0..i).prop_map(Some)].boxed()
                }
            })
            .collect::<Vec<_>>();
        let np = all_periods().len();
        let op = (
            0usize..3,
            0..n,
            0..np,
            prop::option::weighted(0.75, -50i32..1000),
        )
            .prop_map(|(element, area, period, value)| Op {
                element,
                area,
                period,
                value,
            });
        (parents, prop::collection::vec(op, 0..120))
    })
}

fn code_of(i: usize) -> AreaCode {
    AreaCode::parse(&format!("44{:010}", i + 1)).unwrap()
}

fn engine_for(parents: &[Option<usize>]) -> Engine {
    // Shuffle input order (reverse) so the tree must sort itself into pre-order.
    let t = AreaTree::new(
        parents
            .iter()
            .enumerate()
            .rev()
            .map(|(i, p)| (code_of(i), p.map(code_of))),
    )
    .unwrap();
    let mut e = Engine::new(t);
    e.add_element("a", Aggregation::Sum).unwrap();
    e.add_element("b", Aggregation::Average).unwrap();
    e.add_element("c", Aggregation::None).unwrap();
    e.define_indicator("ratio", &["a", "c"], &["b"], 100.0)
        .unwrap();
    e.define_indicator("total", &["a"], &[], 2.0).unwrap();
    e
}

fn ancestors_or_self(parents: &[Option<usize>], mut i: usize, anc: usize) -> bool {
    loop {
        if i == anc {
            return true;
        }
        match parents[i] {
            Some(p) => i = p,
            None => return false,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn incremental_equals_rebuild_equals_brute_force((parents, ops) in tree_and_ops()) {
        let periods = all_periods();
        let mut inc = engine_for(&parents);
        let mut model: BTreeMap<(usize, usize, usize), f64> = BTreeMap::new();
        for op in &ops {
            let e = ElementId(op.element as u32);
            let a = inc.tree().id(&code_of(op.area)).unwrap();
            let v = op.value.map(f64::from);
            let old = inc.set(e, a, periods[op.period], v).unwrap();
            let key = (op.element, op.area, op.period);
            let mold = match v { Some(v) => model.insert(key, v), None => model.remove(&key) };
            prop_assert_eq!(old, mold);
        }
        let mut fresh = engine_for(&parents);
        for (&(el, area, p), &v) in &model {
            let a = fresh.tree().id(&code_of(area)).unwrap();
            fresh.load(ElementId(el as u32), a, periods[p], v).unwrap();
        }
        fresh.build();
        let n = parents.len();
        for el in 0..3 {
            for area in 0..n {
                for &p in &periods {
                    let mut want = Cell::default();
                    for (&(me, ma, mp), &v) in &model {
                        if me == el && ancestors_or_self(&parents, ma, area) && within(periods[mp], p) {
                            want.sum += v;
                            want.count += 1;
                        }
                    }
                    let a = inc.tree().id(&code_of(area)).unwrap();
                    let e = ElementId(el as u32);
                    prop_assert_eq!(inc.cell(e, a, p), want, "incremental {} {} {}", el, area, p);
                    let a2 = fresh.tree().id(&code_of(area)).unwrap();
                    prop_assert_eq!(fresh.cell(e, a2, p), want, "rebuild {} {} {}", el, area, p);
                }
            }
        }
        // Series reads agree with cell reads.
        let days: Vec<Period> = periods.iter().copied().filter(|p| p.kind() == PeriodKind::Day).collect();
        let weeks: Vec<Period> = periods.iter().copied().filter(|p| p.kind() == PeriodKind::Week).collect();
        for el in 0..3u32 {
            for area in 0..n {
                let a = inc.tree().id(&code_of(area)).unwrap();
                let e = ElementId(el);
                for &d in &days {
                    let k = d.day_number().unwrap();
                    let mut out = Vec::new();
                    inc.day_series(e, a, k..k + 1, &mut out);
                    let c = inc.cell(e, a, d);
                    prop_assert_eq!(out, vec![(c.sum, c.count as u32)]);
                }
                for &w in &weeks {
                    let mut out = Vec::new();
                    fresh.week_series(e, fresh.tree().id(&code_of(area)).unwrap(), w, 1, &mut out);
                    let c = inc.cell(e, a, w);
                    prop_assert_eq!(out, vec![(c.sum, c.count as u32)]);
                }
            }
        }
        // The bulk visitor yields exactly the non-empty cells, with the same aggregates.
        for el in 0..3u32 {
            let mut seen = 0usize;
            inc.for_each_cell(ElementId(el), |a, y, slot, cell| {
                seen += 1;
                assert_eq!(cell, inc.cell(ElementId(el), a, engine::slot_period(y, slot)));
                assert!(cell.count > 0);
            });
            let mut want = 0usize;
            for area in 0..n {
                let a = inc.tree().id(&code_of(area)).unwrap();
                want += periods
                    .iter()
                    .filter(|p| matches!(p.kind(), PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year))
                    .filter(|&&p| inc.cell(ElementId(el), a, p).count > 0)
                    .count();
            }
            prop_assert_eq!(seen, want);
        }
        // Every query shape answers the same on both engines.
        let items = vec![
            Item::Element("a".into()), Item::Element("b".into()), Item::Element("c".into()),
            Item::Indicator("ratio".into()), Item::Indicator("total".into()),
        ];
        let root = code_of(0);
        let mut shapes = vec![
            (AreaSel::List((0..n).map(code_of).collect()), PeriodSel::List(periods.clone())),
            (AreaSel::List(vec![root.clone()]), PeriodSel::EachYear { from: 2023, to: 2024 }),
            (AreaSel::List(vec![root.clone()]), PeriodSel::EachDay { from: 2024, to: 2024 }),
        ];
        for level in 1..=6u8 {
            shapes.push((AreaSel::LevelUnder { level, under: root.clone() }, PeriodSel::EachQuarter { from: 2023, to: 2024 }));
            shapes.push((AreaSel::LevelUnder { level, under: root.clone() }, PeriodSel::EachMonth { from: 2024, to: 2024 }));
            shapes.push((AreaSel::LevelUnder { level, under: root.clone() }, PeriodSel::EachWeek { from: 2024, to: 2025 }));
        }
        for (areas, periods) in shapes {
            let q = Query { items: items.clone(), areas, periods };
            let (a, b) = (inc.query(&q).unwrap(), fresh.query(&q).unwrap());
            prop_assert_eq!(&a, &b);
            // LevelUnder returns exactly the areas at that depth below the root.
            if let AreaSel::LevelUnder { level, .. } = &q.areas {
                for r in &a {
                    let id = inc.tree().id(&r.area).unwrap();
                    prop_assert_eq!(inc.tree().level(id), *level);
                }
            }
        }
    }
}
