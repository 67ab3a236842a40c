//! Engine semantics on a hand-made tree, and a property test comparing incremental updates with
//! a rebuild from scratch and with a brute-force computation.

use crate::*;
use healthplan_core::{Aggregation, AreaCode, Period};
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

// ---- property test ----

const YEARS: [i32; 2] = [2023, 2024];

fn all_periods() -> Vec<Period> {
    let mut v = Vec::new();
    for y in YEARS {
        v.push(Period::Year(y));
        for q in 1..=4 {
            v.push(Period::Quarter(y, q));
        }
        for m in 1..=12 {
            v.push(Period::Month(y, m));
        }
    }
    v
}

fn within(p: Period, outer: Period) -> bool {
    let mut x = Some(p);
    while let Some(q) = x {
        if q == outer {
            return true;
        }
        x = q.parent();
    }
    false
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
            // Mostly months (the raw layer), sometimes quarters/years.
            prop_oneof![3 => 0..np, 1 => 0..np],
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
                want += periods.iter().filter(|&&p| inc.cell(ElementId(el), a, p).count > 0).count();
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
        ];
        for level in 1..=6u8 {
            shapes.push((AreaSel::LevelUnder { level, under: root.clone() }, PeriodSel::EachQuarter { from: 2023, to: 2024 }));
            shapes.push((AreaSel::LevelUnder { level, under: root.clone() }, PeriodSel::EachMonth { from: 2024, to: 2024 }));
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
