//! Any bytes as a filled template: refused or read, never a panic. Half the inputs are a
//! real template with the fuzz bytes written over part of it, so the zip and XML layers are
//! reached, not only the "not a zip" check.
#![no_main]

use healthplan_core::{AreaCode, Period, Value, ValueRule, ValueType};
use healthplan_exchange::template::{read_template, template_ids, write_template};
use healthplan_exchange::{Limits, TemplateRow, TemplateSpec};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn spec() -> TemplateSpec {
    let row = |area: &str, element: &str, rule: ValueRule| TemplateRow {
        area: AreaCode::parse(area).expect("area"),
        area_name: area.into(),
        indicator: element.into(),
        element: element.into(),
        name: element.into(),
        rule,
        previous: Some(Value::Number { value: 20.0 }),
        current: None,
        comment: None,
    };
    TemplateSpec {
        round: "r".into(),
        plan_title: "p".into(),
        period: Period::Year(2024),
        deadline: None,
        reporter: "x".into(),
        rows: vec![
            row("440310", "HL01", ValueRule::new(ValueType::Number).with_unit("%")),
            row(
                "440310",
                "HL02",
                ValueRule::new(ValueType::Number).with_ratio(1000.0).expect("factor"),
            ),
            row("440310", "HL07", ValueRule::new(ValueType::Boolean)),
        ],
    }
}

fn template() -> &'static (TemplateSpec, Vec<u8>) {
    static T: OnceLock<(TemplateSpec, Vec<u8>)> = OnceLock::new();
    T.get_or_init(|| {
        let s = spec();
        let bytes = write_template(&s).expect("template");
        (s, bytes)
    })
}

fuzz_target!(|data: &[u8]| {
    let (spec, base) = template();
    let all = |_: &str, _: &AreaCode| true;
    let limits = Limits::default();
    let _ = template_ids(data, &limits);
    let _ = read_template(data, spec, &all, &limits);
    if let Some((&at, patch)) = data.split_first() {
        let mut bytes = base.clone();
        let start = (usize::from(at) * bytes.len() / 256).min(bytes.len());
        for (i, b) in patch.iter().enumerate() {
            if let Some(x) = bytes.get_mut(start + i) {
                *x = *b;
            }
        }
        if let Ok(import) = read_template(&bytes, spec, &all, &limits) {
            assert!(import.values.len() <= spec.rows.len());
        }
    }
});
