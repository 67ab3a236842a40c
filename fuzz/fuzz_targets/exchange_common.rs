// Shared by the exchange fuzz targets (included with `include!`): rules for a few elements
// of every kind, so inputs reach the value checks and not only "unknown element".

fn rules() -> healthplan_exchange::Checks<'static> {
    use healthplan_core::{ValueRule, ValueType};
    let mut c = healthplan_exchange::Checks::default();
    let ratio = ValueRule::new(ValueType::Number)
        .with_unit("‰")
        .with_ratio(1000.0)
        .expect("a valid factor");
    for (code, rule) in [
        ("HL01", ValueRule::new(ValueType::Number).with_unit("%")),
        ("HL02", ratio),
        ("HL06", ValueRule::new(ValueType::Text)),
        ("HL07", ValueRule::new(ValueType::Boolean)),
    ] {
        c.rules.insert(code.into(), rule);
    }
    c
}
