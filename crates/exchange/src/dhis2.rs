//! DHIS2 `dataValueSets` JSON, and the code and value mapping both DHIS2 formats (this and
//! [`crate::adx`]) share.
//!
//! Values are exchanged with code id schemes (`dataElementIdScheme=CODE`,
//! `orgUnitIdScheme=CODE`): data elements and org units by the codes of the [`Mapping`],
//! periods converted by [`crate::period`]. A ratio (numerator and denominator) goes out as two
//! data values, of the elements mapped as `X.num` and `X.den`, and comes back as one ratio;
//! the comment travels on the numerator. Booleans are `true`/`false`, text as written.
//! Category and attribute option combos other than `default` are refused: healthplan has no
//! disaggregations.

use crate::check::{check, Blank, Cell, Options, Parsed, Places, RawInput, Record, Rules};
use crate::error::{ExchangeError, Location, RowError};
use crate::mapping::{CodeKind, Mapping, DEN_SUFFIX, NUM_SUFFIX};
use crate::period::{self, Reason};
use crate::table::number_text;
use crate::{Import, MAX_TEXT_BYTES};
use healthplan_core::{AreaCode, DataValue, Period, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// One value going out, in DHIS2 codes.
pub(crate) struct OutValue {
    pub data_element: String,
    pub org_unit: String,
    pub period: String,
    pub value: OutRaw,
    pub comment: Option<String>,
}

pub(crate) enum OutRaw {
    Number(f64),
    Bool(bool),
    Text(String),
}

impl OutRaw {
    /// As DHIS2 writes values: numbers shortest-exact, booleans `true`/`false`.
    pub fn dhis2_text(&self) -> String {
        match self {
            OutRaw::Number(x) => number_text(*x),
            OutRaw::Bool(b) => b.to_string(),
            OutRaw::Text(s) => s.clone(),
        }
    }
}

/// The values in DHIS2 codes; every code without a mapping is listed, and then nothing is
/// returned.
pub(crate) fn outgoing(
    values: &[DataValue],
    map: &Mapping,
    period_text: fn(Period) -> String,
) -> Result<Vec<OutValue>, ExchangeError> {
    let mut missing = BTreeSet::new();
    let mut out = Vec::with_capacity(values.len());
    let mut code = |kind: CodeKind, local: &str| {
        map.to_dhis2(kind, local).unwrap_or_else(|| {
            missing.insert((kind.label().to_string(), local.to_string()));
            String::new()
        })
    };
    for v in values {
        let org_unit = code(CodeKind::OrgUnit, v.area.as_str());
        let period = map
            .to_dhis2(CodeKind::Period, &v.period.to_string())
            .unwrap_or_else(|| period_text(v.period));
        let comment = v.comment.clone();
        let mut push = |element: &str, value: OutRaw, comment: Option<String>| {
            out.push(OutValue {
                data_element: code(CodeKind::Element, element),
                org_unit: org_unit.clone(),
                period: period.clone(),
                value,
                comment,
            })
        };
        match &v.value {
            Value::Number { value } => push(&v.element, OutRaw::Number(*value), comment),
            Value::Boolean { value } => push(&v.element, OutRaw::Bool(*value), comment),
            Value::Text { value } => push(&v.element, OutRaw::Text(value.clone()), comment),
            Value::Ratio {
                numerator,
                denominator,
            } => {
                push(
                    &format!("{}{NUM_SUFFIX}", v.element),
                    OutRaw::Number(*numerator),
                    comment,
                );
                push(
                    &format!("{}{DEN_SUFFIX}", v.element),
                    OutRaw::Number(*denominator),
                    None,
                );
            }
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(ExchangeError::Unmapped(missing.into_iter().collect()))
    }
}

/// One value coming in, in DHIS2 codes, with where it sits.
pub(crate) struct InValue {
    pub at: Location,
    pub at_value: Location,
    pub at_comment: Location,
    pub data_element: Option<String>,
    pub org_unit: Option<String>,
    pub period: Option<String>,
    pub value: Cell,
    pub comment: Option<String>,
    /// Category / attribute option combos (or ADX dimension attributes) given.
    pub disaggregation: Vec<String>,
    pub deleted: bool,
}

/// The default category option combo, by name, code and the UID DHIS2 gives it everywhere.
fn is_default_combo(c: &str) -> bool {
    matches!(c.trim(), "" | "default" | "HllvX50cXC0")
}

/// One half of a ratio, waiting for the other.
struct Part {
    value: Cell,
    at_value: Location,
    comment: Option<String>,
}

#[derive(Default)]
struct Halves {
    at: Option<Location>,
    num: Option<Part>,
    den: Option<Part>,
}

/// Maps codes and periods back and pairs ratio halves; rows that cannot be read become
/// errors with their place.
pub(crate) fn incoming(
    rows: Vec<InValue>,
    map: &Mapping,
    parse_period: fn(&str) -> Result<Period, Reason>,
) -> Parsed {
    let mut parsed = Parsed::default();
    // Records and ratio halves in file order.
    enum Slot {
        Done(Box<Record>),
        Ratio(String, AreaCode, Period),
    }
    let mut slots: Vec<Slot> = Vec::new();
    let mut halves: HashMap<(String, AreaCode, Period), Halves> = HashMap::new();
    for row in rows {
        let err = |code: &str, zh: String, en: String| RowError::new(row.at.clone(), code, zh, en);
        if row.deleted {
            parsed.notes.push(err(
                "deleted",
                "DHIS2 中已删除的值，未导入".into(),
                "a value deleted in DHIS2, not imported".into(),
            ));
            continue;
        }
        if let Some(d) = row.disaggregation.iter().find(|d| !is_default_combo(d)) {
            parsed.errors.push(err(
                "unsupported",
                format!("不支持分类拆分的数据（{d}），只接受 default 分类组合"),
                format!("disaggregated data ({d}) is not supported; only the default combination"),
            ));
            continue;
        }
        let (Some(de), Some(ou), Some(pe)) = (&row.data_element, &row.org_unit, &row.period) else {
            let missing: Vec<&str> = [
                ("dataElement", row.data_element.is_none()),
                ("orgUnit", row.org_unit.is_none()),
                ("period", row.period.is_none()),
            ]
            .into_iter()
            .filter_map(|(n, m)| m.then_some(n))
            .collect();
            parsed.errors.push(err(
                "incomplete",
                format!("缺少 {}", missing.join("、")),
                format!("missing {}", missing.join(", ")),
            ));
            continue;
        };
        let element = map.to_local(CodeKind::Element, de);
        if element.is_none() {
            parsed
                .unmapped
                .insert((CodeKind::Element.label().into(), de.clone()));
            parsed.errors.push(err(
                "unmapped_element",
                format!("DHIS2 数据元素“{de}”没有映射"),
                format!("DHIS2 data element {de:?} is not mapped"),
            ));
        }
        let area = match map.to_local(CodeKind::OrgUnit, ou) {
            None => {
                parsed
                    .unmapped
                    .insert((CodeKind::OrgUnit.label().into(), ou.clone()));
                parsed.errors.push(err(
                    "unmapped_org_unit",
                    format!("DHIS2 组织机构“{ou}”没有映射"),
                    format!("DHIS2 org unit {ou:?} is not mapped"),
                ));
                None
            }
            Some(local) => match AreaCode::parse(&local) {
                Ok(a) => Some(a),
                Err(_) => {
                    parsed.errors.push(err(
                        "bad_area",
                        format!("组织机构“{ou}”对应的地区代码“{local}”无效（应为 6、9 或 12 位数字）"),
                        format!("org unit {ou:?} maps to {local:?}, not an area code (6, 9 or 12 digits)"),
                    ));
                    None
                }
            },
        };
        let period = match map.to_local(CodeKind::Period, pe) {
            Some(local) => local
                .parse::<Period>()
                .map_err(|e| (format!("映射后的报告期“{local}”无效"), e.to_string())),
            None => parse_period(pe),
        };
        let period = match period {
            Ok(p) => Some(p),
            Err((zh, en)) => {
                parsed.errors.push(err("bad_period", zh, en));
                None
            }
        };
        let (Some(element), Some(area), Some(period)) = (element, area, period) else {
            continue;
        };
        let ratio_part = element
            .strip_suffix(NUM_SUFFIX)
            .map(|b| (b, true))
            .or_else(|| element.strip_suffix(DEN_SUFFIX).map(|b| (b, false)));
        match ratio_part {
            Some((base, is_num)) => {
                let key = (base.to_string(), area.clone(), period);
                let h = halves.entry(key).or_default();
                if h.at.is_none() {
                    h.at = Some(row.at.clone());
                    slots.push(Slot::Ratio(base.to_string(), area, period));
                }
                let slot = if is_num { &mut h.num } else { &mut h.den };
                if slot.is_some() {
                    parsed.errors.push(err(
                        "duplicate",
                        format!("{element} 在同一地区和报告期出现了两次"),
                        format!("{element} appears twice for the same area and period"),
                    ));
                    continue;
                }
                *slot = Some(Part {
                    value: row.value,
                    at_value: row.at_value,
                    comment: row.comment,
                });
            }
            None => slots.push(Slot::Done(Box::new(Record {
                element,
                area,
                period,
                input: RawInput::Single(row.value),
                comment: row.comment,
                status: None,
                at: Places {
                    row: row.at.clone(),
                    value: row.at_value.clone(),
                    numerator: row.at_value.clone(),
                    denominator: row.at_value,
                    comment: row.at_comment,
                },
            }))),
        }
    }
    for slot in slots {
        let record = match slot {
            Slot::Done(r) => *r,
            Slot::Ratio(base, area, period) => {
                let Some(h) = halves.remove(&(base.clone(), area.clone(), period)) else {
                    continue;
                };
                let at = h.at.unwrap_or(Location::Path {
                    path: String::new(),
                });
                match (h.num, h.den) {
                    (Some(n), Some(d)) => Record {
                        element: base,
                        area,
                        period,
                        input: RawInput::Ratio(n.value, d.value),
                        comment: n.comment.or(d.comment),
                        status: None,
                        at: Places {
                            row: at,
                            value: n.at_value.clone(),
                            comment: n.at_value.clone(),
                            numerator: n.at_value,
                            denominator: d.at_value,
                        },
                    },
                    (n, _) => {
                        let (has, lacks) = if n.is_some() {
                            (NUM_SUFFIX, DEN_SUFFIX)
                        } else {
                            (DEN_SUFFIX, NUM_SUFFIX)
                        };
                        parsed.errors.push(RowError::new(
                            at,
                            "incomplete_ratio",
                            format!(
                                "{base} 只有 {base}{has}，缺少 {base}{lacks}（{area}，{period}）"
                            ),
                            format!(
                                "{base} has {base}{has} but no {base}{lacks} ({area}, {period})"
                            ),
                        ));
                        continue;
                    }
                }
            }
        };
        parsed.records.push(record);
    }
    parsed
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attribute_option_combo: Option<String>,
    #[serde(default)]
    data_values: Vec<JsonValue>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonValue {
    #[serde(default)]
    data_element: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    org_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category_option_combo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attribute_option_combo: Option<String>,
    /// DHIS2 writes a string; numbers and booleans are accepted too.
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

/// The values as a DHIS2 `dataValueSets` JSON document.
pub fn write_json(
    values: &[DataValue],
    map: &Mapping,
    data_set: Option<&str>,
) -> Result<String, ExchangeError> {
    let rows = outgoing(values, map, period::to_dhis2)?;
    let set = JsonSet {
        data_set: data_set.map(str::to_string),
        period: None,
        org_unit: None,
        attribute_option_combo: None,
        data_values: rows
            .into_iter()
            .map(|r| JsonValue {
                data_element: Some(r.data_element),
                period: Some(r.period),
                org_unit: Some(r.org_unit),
                category_option_combo: None,
                attribute_option_combo: None,
                value: Some(serde_json::Value::String(r.value.dhis2_text())),
                comment: r.comment,
                deleted: false,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&set)
        .map_err(|e| ExchangeError::malformed("", e.to_string(), e.to_string()))
}

/// Reads a DHIS2 `dataValueSets` JSON document and checks every value.
pub fn read_json(
    bytes: &[u8],
    map: &Mapping,
    rules: &dyn Rules,
    opts: Options,
) -> Result<Import, ExchangeError> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(ExchangeError::TooLarge {
            size: bytes.len(),
            limit: MAX_TEXT_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let set: JsonSet = serde_json::from_slice(bytes).map_err(|e| {
        ExchangeError::malformed(
            format!("line {}, column {}", e.line(), e.column()),
            format!("不是有效的 dataValueSets JSON（{e}）"),
            format!("not a valid dataValueSets JSON document ({e})"),
        )
    })?;
    let rows = set
        .data_values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let path = |f: &str| Location::Path {
                path: format!("dataValues[{i}]{f}"),
            };
            let value = match v.value {
                None | Some(serde_json::Value::Null) => Cell::Empty,
                Some(serde_json::Value::String(s)) => Cell::text(&s),
                Some(serde_json::Value::Number(n)) => Cell::Text(n.to_string()),
                Some(serde_json::Value::Bool(b)) => Cell::Bool(b),
                Some(other) => Cell::Text(other.to_string()),
            };
            InValue {
                at: path(""),
                at_value: path(".value"),
                at_comment: path(".comment"),
                data_element: v.data_element,
                org_unit: v.org_unit.or_else(|| set.org_unit.clone()),
                period: v.period.or_else(|| set.period.clone()),
                value,
                comment: v.comment,
                disaggregation: [
                    v.category_option_combo,
                    v.attribute_option_combo
                        .or_else(|| set.attribute_option_combo.clone()),
                ]
                .into_iter()
                .flatten()
                .collect(),
                deleted: v.deleted,
            }
        })
        .collect();
    check(
        incoming(rows, map, period::from_dhis2),
        rules,
        opts,
        Blank::Refuse,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{checks, sample};

    fn mapping() -> Mapping {
        Mapping::from_csv(
            "kind,local_code,dhis2_code
element,HL01,DE_LIT
element,HL02.num,DE_INF_DEATHS
element,HL02.den,DE_LIVE_BIRTHS
element,HL06,DE_MECH
element,HL07,DE_DONE
element,visits,DE_VISITS
org_unit,440300,OU_SZ
org_unit,440310,OU_PS
org_unit,445122,OU_RP
",
        )
        .unwrap()
    }

    #[test]
    fn json_round_trip_loses_nothing() {
        for map in [mapping(), Mapping::new()] {
            let json = write_json(&sample(), &map, Some("DS_HEALTHY")).unwrap();
            let back = read_json(json.as_bytes(), &map, &checks(), Options::default()).unwrap();
            assert_eq!(back.values, sample());
            assert!(back.skipped.is_empty());
        }
        let json = write_json(&sample(), &mapping(), None).unwrap();
        assert!(
            json.contains("\"dataElement\": \"DE_INF_DEATHS\""),
            "{json}"
        );
        assert!(json.contains("\"value\": \"1201\""), "{json}");
    }

    #[test]
    fn unmapped_codes_are_named_on_the_way_out_and_in() {
        let mut map = mapping();
        map = Mapping::from_csv(&map.to_csv().replace("element,visits,DE_VISITS\n", "")).unwrap();
        let e = write_json(&sample(), &map, None).unwrap_err().to_string();
        assert!(e.contains("数据元素 data element visits"), "{e}");
        let json = r#"{"dataValues":[
            {"dataElement":"DE_LIT","period":"2024","orgUnit":"OU_SZ","value":"25"},
            {"dataElement":"DE_NEW","period":"2024","orgUnit":"OU_XX","value":"1"},
            {"dataElement":"DE_LIT","period":"2024BiW1","orgUnit":"OU_PS","value":"1"}]}"#;
        let e = read_json(json.as_bytes(), &map, &checks(), Options::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("未映射的代码 / unmapped codes: 数据元素 data element DE_NEW, 组织机构 org unit OU_XX"), "{text}");
        assert!(
            text.contains("dataValues[1]: DHIS2 数据元素“DE_NEW”没有映射"),
            "{text}"
        );
        assert!(
            text.contains("dataValues[2]: 不支持的 DHIS2 报告期“2024BiW1”"),
            "{text}"
        );
        let skipped = read_json(
            json.as_bytes(),
            &map,
            &checks(),
            Options {
                skip_bad_rows: true,
            },
        )
        .unwrap();
        assert_eq!(skipped.values.len(), 1);
        // Three refused fields in two rows.
        assert_eq!(skipped.skipped.len(), 3);
    }

    #[test]
    fn reads_dhis2_shapes() {
        let json = r#"{"dataSet":"x","period":"2024","orgUnit":"OU_SZ","dataValues":[
            {"dataElement":"DE_LIT","value":25,"categoryOptionCombo":"HllvX50cXC0","storedBy":"admin","followup":false},
            {"dataElement":"DE_INF_DEATHS","value":"3","comment":"c"},
            {"dataElement":"DE_LIVE_BIRTHS","value":"1000"},
            {"dataElement":"DE_DONE","value":"true","deleted":true}]}"#;
        let got = read_json(json.as_bytes(), &mapping(), &checks(), Options::default()).unwrap();
        assert_eq!(got.values.len(), 2);
        assert_eq!(
            got.values[1].value,
            Value::Ratio {
                numerator: 3.0,
                denominator: 1000.0
            }
        );
        assert_eq!(got.values[1].comment.as_deref(), Some("c"));
        assert_eq!(got.warnings[0].code, "deleted");
        for (json, want) in [
            (
                r#"{"dataValues":[{"dataElement":"DE_LIT","period":"2024","orgUnit":"OU_SZ","value":"25","categoryOptionCombo":"MALE"}]}"#,
                "dataValues[0]: 不支持分类拆分的数据（MALE）",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_INF_DEATHS","period":"2024","orgUnit":"OU_SZ","value":"3"}]}"#,
                "dataValues[0]: HL02 只有 HL02.num，缺少 HL02.den",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_INF_DEATHS","period":"2024","orgUnit":"OU_SZ","value":"3"},{"dataElement":"DE_LIVE_BIRTHS","period":"2024","orgUnit":"OU_SZ","value":"2"}]}"#,
                "dataValues[0].value: 分子（3）大于分母（2）",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_LIT","orgUnit":"OU_SZ","value":"x"}]}"#,
                "dataValues[0]: 缺少 period",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_LIT","period":"2024","orgUnit":"OU_SZ","value":"x"}]}"#,
                "dataValues[0].value: 不是数字：“x”",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_LIT","period":"2024","orgUnit":"OU_SZ","value":"101"}]}"#,
                "dataValues[0].value: 超出取值范围 0–100",
            ),
            (
                r#"{"dataValues":[{"dataElement":"DE_LIT","period":"2024","orgUnit":"OU_SZ"}]}"#,
                "dataValues[0].value: 未填写",
            ),
            (r#"{"dataValues": [1, 2]}"#, "line 1, column"),
            (
                "not json",
                "line 1, column 2: 不是有效的 dataValueSets JSON",
            ),
        ] {
            let e = read_json(json.as_bytes(), &mapping(), &checks(), Options::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{want}\n got {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = read_json(s.as_bytes(), &mapping(), &checks(), Options::default());
            let wrapped = format!("{{\"dataValues\":[{{\"dataElement\":\"DE_LIT\",\"period\":\"2024\",\"orgUnit\":\"OU_SZ\",\"value\":{s}}}]}}");
            let _ = read_json(wrapped.as_bytes(), &mapping(), &checks(), Options::default());
            let _ = Mapping::from_csv(&s);
        }
    }
}
