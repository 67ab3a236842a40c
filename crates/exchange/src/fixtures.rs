//! Rules and values shared by the unit tests of the readers.

use crate::Checks;
use healthplan_core::{AreaCode, DataValue, Value, ValueRule, ValueType};

pub(crate) fn checks() -> Checks<'static> {
    let mut c = Checks::default();
    for (code, rule) in [
        ("HL01", ValueRule::new(ValueType::Number).with_unit("%")),
        (
            "HL02",
            ValueRule::new(ValueType::Number)
                .with_unit("‰")
                .with_ratio(1000.0)
                .unwrap(),
        ),
        ("HL06", ValueRule::new(ValueType::Text)),
        ("HL07", ValueRule::new(ValueType::Boolean)),
        (
            "visits",
            ValueRule::new(ValueType::Number).with_unit("人次"),
        ),
    ] {
        c.rules.insert(code.into(), rule);
    }
    c
}

fn dv(element: &str, area: &str, period: &str, value: Value, comment: Option<&str>) -> DataValue {
    let mut v = DataValue::new(
        element,
        AreaCode::parse(area).unwrap(),
        period.parse().unwrap(),
        value,
    )
    .unwrap();
    v.comment = comment.map(str::to_string);
    v
}

/// Every kind of value, awkward numbers and text included.
pub(crate) fn sample() -> Vec<DataValue> {
    vec![
        dv(
            "HL01",
            "440300",
            "2024",
            Value::Number { value: 25.4 },
            Some("含流动人口"),
        ),
        dv(
            "HL01",
            "440310",
            "2023",
            Value::Number { value: 0.1 + 0.2 },
            None,
        ),
        dv(
            "HL02",
            "440300",
            "2024",
            Value::Ratio {
                numerator: 3.0,
                denominator: 1201.0,
            },
            Some("分子含外地户籍"),
        ),
        dv(
            "HL02",
            "440310",
            "2024Q2",
            Value::Ratio {
                numerator: 0.0,
                denominator: 7.0,
            },
            None,
        ),
        dv(
            "HL06",
            "440300",
            "202403",
            Value::Text {
                value: "已建立 <联席会议> & \"制度\"\r\n第二行".into(),
            },
            Some("备注\n两行"),
        ),
        dv(
            "HL07",
            "440300",
            "2024",
            Value::Boolean { value: true },
            None,
        ),
        dv(
            "HL07",
            "440310",
            "2024",
            Value::Boolean { value: false },
            None,
        ),
        dv(
            "visits",
            "445122",
            "202401",
            Value::Number { value: 1234567.0 },
            None,
        ),
    ]
}
