//! ADX (IHE Aggregate Data Exchange) XML, as DHIS2 reads and writes it:
//!
//! ```xml
//! <adx xmlns="urn:ihe:qrph:adx:2015">
//!   <group orgUnit="OU_SZ" period="2024-01-01/P1Y" dataSet="DS">
//!     <dataValue dataElement="DE_LIT" value="25.4"><annotation>comment</annotation></dataValue>
//!     <dataValue dataElement="DE_MECH">text value</dataValue>
//!   </group>
//! </adx>
//! ```
//!
//! Codes map through the same [`Mapping`] as DHIS2 JSON, periods are ISO 8601
//! start/duration ([`crate::period::to_adx`]). Numbers go in the `value` attribute, booleans
//! as `1`/`0` (ADX values are numeric), text values as the element's content, comments in
//! `<annotation>`. Extra attributes on a group or data value are ADX disaggregations and are
//! refused, like non-default category option combos in JSON.

use crate::check::{check, Blank, Cell, Options, Rules};
use crate::dhis2::{incoming, outgoing, InValue, OutRaw};
use crate::error::{ExchangeError, Location};
use crate::mapping::Mapping;
use crate::period;
use crate::table::number_text;
use crate::{Import, MAX_TEXT_BYTES};
use healthplan_core::DataValue;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use std::collections::HashMap;

pub const NAMESPACE: &str = "urn:ihe:qrph:adx:2015";

/// Text content: `&`, `<`, `>`, and carriage returns (which XML readers would fold into
/// line feeds).
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Attribute values: also quotes and the whitespace readers would normalise to spaces.
fn escape_attr(s: &str) -> String {
    escape_text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\t', "&#9;")
}

/// The values as an ADX document, one group per org unit and period in first-seen order.
pub fn write_adx(
    values: &[DataValue],
    map: &Mapping,
    data_set: Option<&str>,
) -> Result<String, ExchangeError> {
    let rows = outgoing(values, map, period::to_adx)?;
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: HashMap<(String, String), Vec<String>> = HashMap::new();
    for r in rows {
        let key = (r.org_unit.clone(), r.period.clone());
        let mut el = format!(
            "<dataValue dataElement=\"{}\"",
            escape_attr(&r.data_element)
        );
        let content = match &r.value {
            OutRaw::Number(x) => {
                el += &format!(" value=\"{}\"", number_text(*x));
                String::new()
            }
            OutRaw::Bool(b) => {
                el += &format!(" value=\"{}\"", u8::from(*b));
                String::new()
            }
            OutRaw::Text(t) => escape_text(t),
        };
        let annotation = r
            .comment
            .as_deref()
            .map(|c| format!("<annotation>{}</annotation>", escape_text(c)))
            .unwrap_or_default();
        if content.is_empty() && annotation.is_empty() {
            el += "/>";
        } else {
            el += &format!(">{content}{annotation}</dataValue>");
        }
        groups
            .entry(key.clone())
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(el);
    }
    let mut out =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<adx xmlns=\"{NAMESPACE}\">\n");
    let ds = data_set
        .map(|d| format!(" dataSet=\"{}\"", escape_attr(d)))
        .unwrap_or_default();
    for key in order {
        let (ou, pe) = &key;
        out += &format!(
            "  <group orgUnit=\"{}\" period=\"{}\"{ds}>\n",
            escape_attr(ou),
            escape_attr(pe)
        );
        for el in groups.remove(&key).unwrap_or_default() {
            out += &format!("    {el}\n");
        }
        out += "  </group>\n";
    }
    out += "</adx>\n";
    Ok(out)
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Attributes as (name, value); namespace declarations and prefixed attributes are left out.
fn attributes(e: &BytesStart<'_>, at: &str) -> Result<Vec<(String, String)>, ExchangeError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| {
            ExchangeError::malformed(
                at,
                format!("属性有误（{err}）"),
                format!("bad attribute ({err})"),
            )
        })?;
        let key = a.key.as_ref().to_string();
        if key.starts_with("xmlns") || key.contains(':') {
            continue;
        }
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| {
            ExchangeError::malformed(
                at,
                format!("属性 {key} 有误（{err}）"),
                format!("bad attribute {key} ({err})"),
            )
        })?;
        out.push((key, value.into_owned()));
    }
    Ok(out)
}

struct Group {
    org_unit: Option<String>,
    period: Option<String>,
    dims: Vec<String>,
}

struct Open {
    line: u64,
    data_element: Option<String>,
    value: Option<String>,
    dims: Vec<String>,
    text: String,
    annotation: Option<String>,
    in_annotation: bool,
}

fn close(open: Open, group: &Group) -> InValue {
    let at = |field: &str| Location::Line {
        line: open.line,
        field: field.into(),
    };
    let value = match open.value {
        Some(v) => Cell::text(&v),
        None => Cell::text(&open.text),
    };
    InValue {
        at: at("dataValue"),
        at_value: at("value"),
        at_comment: at("annotation"),
        data_element: open.data_element,
        org_unit: group.org_unit.clone(),
        period: group.period.clone(),
        value,
        comment: open.annotation.filter(|a| !a.trim().is_empty()),
        disaggregation: group.dims.iter().chain(&open.dims).cloned().collect(),
        deleted: false,
    }
}

/// Reads an ADX document and checks every value.
pub fn read_adx(
    bytes: &[u8],
    map: &Mapping,
    rules: &dyn Rules,
    opts: Options,
) -> Result<Import, ExchangeError> {
    let rows = parse(bytes)?;
    check(
        incoming(rows, map, period::from_adx),
        rules,
        opts,
        Blank::Refuse,
    )
}

fn parse(bytes: &[u8]) -> Result<Vec<InValue>, ExchangeError> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(ExchangeError::TooLarge {
            size: bytes.len(),
            limit: MAX_TEXT_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ExchangeError::malformed(
            format!("byte {}", e.valid_up_to()),
            "ADX 文件须为 UTF-8 编码",
            "an ADX file must be UTF-8",
        )
    })?;
    let mut reader = Reader::from_str(text);
    let (mut line, mut counted) = (1u64, 0usize);
    let mut rows = Vec::new();
    let mut root_seen = false;
    let mut group: Option<Group> = None;
    let mut open: Option<Open> = None;
    loop {
        let pos = usize::try_from(reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(text.len());
        if pos > counted {
            line += text.as_bytes()[counted..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted = pos;
        }
        let at = format!("line {line}");
        let event = reader.read_event().map_err(|e| {
            ExchangeError::malformed(
                &at,
                format!("XML 格式错误（{e}）"),
                format!("malformed XML ({e})"),
            )
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if !root_seen => {
                let name = local(e.name().as_ref()).to_string();
                if name != "adx" {
                    return Err(ExchangeError::malformed(
                        at,
                        format!("根元素是 <{name}>，不是 <adx>：这不是 ADX 文档"),
                        format!("the root element is <{name}>, not <adx>: not an ADX document"),
                    ));
                }
                root_seen = true;
            }
            ref ev @ (Event::Start(ref e) | Event::Empty(ref e)) => {
                let empty = matches!(ev, Event::Empty(_));
                match local(e.name().as_ref()) {
                    "group" if open.is_none() => {
                        let mut g = Group {
                            org_unit: None,
                            period: None,
                            dims: Vec::new(),
                        };
                        for (k, v) in attributes(e, &at)? {
                            match k.as_str() {
                                "orgUnit" => g.org_unit = Some(v),
                                "period" => g.period = Some(v),
                                "dataSet" | "completeDate" => {}
                                _ => g.dims.push(format!("{k}={v}")),
                            }
                        }
                        group = (!empty).then_some(g);
                    }
                    "dataValue" => {
                        let Some(g) = &group else {
                            return Err(ExchangeError::malformed(
                                at,
                                "<dataValue> 须在 <group> 之内",
                                "<dataValue> must be inside a <group>",
                            ));
                        };
                        let mut o = Open {
                            line,
                            data_element: None,
                            value: None,
                            dims: Vec::new(),
                            text: String::new(),
                            annotation: None,
                            in_annotation: false,
                        };
                        for (k, v) in attributes(e, &at)? {
                            match k.as_str() {
                                "dataElement" => o.data_element = Some(v),
                                "value" => o.value = Some(v),
                                _ => o.dims.push(format!("{k}={v}")),
                            }
                        }
                        if empty {
                            rows.push(close(o, g));
                        } else {
                            open = Some(o);
                        }
                    }
                    "annotation" if !empty => {
                        if let Some(o) = open.as_mut() {
                            o.in_annotation = true;
                            o.annotation.get_or_insert_with(String::new);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => push_text(&mut open, &t.xml10_content()),
            Event::CData(t) => push_text(&mut open, &t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.to_string();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_string)
                            .ok_or_else(|| {
                                ExchangeError::malformed(
                                    &at,
                                    format!("未知的实体 &{name};"),
                                    format!("unknown entity &{name};"),
                                )
                            })?
                    }
                };
                push_text(&mut open, &resolved);
            }
            Event::End(e) => match local(e.name().as_ref()) {
                "annotation" => {
                    if let Some(o) = open.as_mut() {
                        o.in_annotation = false;
                    }
                }
                "dataValue" => {
                    if let (Some(o), Some(g)) = (open.take(), &group) {
                        rows.push(close(o, g));
                    }
                }
                "group" => group = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(ExchangeError::malformed(
            "line 1",
            "文件里没有 <adx> 根元素",
            "no <adx> root element",
        ));
    }
    Ok(rows)
}

fn push_text(open: &mut Option<Open>, s: &str) {
    if let Some(o) = open.as_mut() {
        match (o.in_annotation, o.annotation.as_mut()) {
            (true, Some(a)) => a.push_str(s),
            _ => o.text.push_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{checks, sample};
    use proptest::prelude::*;

    /// The error reading `bytes` without a mapping.
    fn refusal(bytes: &[u8]) -> String {
        read_adx(bytes, &Mapping::new(), &checks(), Options::default())
            .unwrap_err()
            .to_string()
    }

    fn mapping() -> Mapping {
        Mapping::from_csv("kind,local_code,dhis2_code\norg_unit,440300,OU_SZ\n").unwrap()
    }

    #[test]
    fn adx_round_trip_loses_nothing() {
        // Org units mapped, elements passed through (no element rows).
        let mut map = mapping();
        map.insert(crate::CodeKind::OrgUnit, "440310", "OU_PS")
            .unwrap();
        map.insert(crate::CodeKind::OrgUnit, "445122", "OU_RP")
            .unwrap();
        let xml = write_adx(&sample(), &map, Some("DS")).unwrap();
        assert!(
            xml.contains("<group orgUnit=\"OU_SZ\" period=\"2024-01-01/P1Y\" dataSet=\"DS\">"),
            "{xml}"
        );
        assert!(xml.contains("<dataValue dataElement=\"HL02.num\" value=\"3\"><annotation>分子含外地户籍</annotation></dataValue>"), "{xml}");
        assert!(xml.contains("period=\"2024-04-01/P3M\""), "{xml}");
        let mut back = read_adx(xml.as_bytes(), &map, &checks(), Options::default())
            .unwrap()
            .values;
        // Grouping by org unit and period reorders; every value comes back.
        let key = |v: &DataValue| (v.element.clone(), v.area.clone(), v.period);
        back.sort_by_key(key);
        let mut want = sample();
        want.sort_by_key(key);
        assert_eq!(back, want);
    }

    #[test]
    fn refuses_with_lines() {
        let head = "<?xml version=\"1.0\"?>\n<adx xmlns=\"urn:ihe:qrph:adx:2015\">\n<group orgUnit=\"440300\" period=\"2024-01-01/P1Y\">\n";
        for (body, want) in [
            (
                "<dataValue dataElement=\"HL01\" value=\"101\"/>",
                "line 4, field value: 超出取值范围 0–100",
            ),
            (
                "<dataValue dataElement=\"HL01\" value=\"x\"/>",
                "line 4, field value: 不是数字：“x”",
            ),
            (
                "<dataValue dataElement=\"HL01\" SEX=\"F\" value=\"1\"/>",
                "line 4, field dataValue: 不支持分类拆分的数据（SEX=F）",
            ),
            (
                "\n\n<dataValue dataElement=\"NOPE\" value=\"1\"/>",
                "line 6, field dataValue: 未知的数据元素“NOPE”",
            ),
            (
                "<dataValue dataElement=\"HL01\" value=\"1\">",
                "XML 格式错误",
            ),
            (
                "<dataValue dataElement=\"HL06\">a &bogus; b</dataValue>",
                "未知的实体 &bogus;",
            ),
        ] {
            let xml = format!("{head}{body}\n</group>\n</adx>\n");
            let e = refusal(xml.as_bytes());
            assert!(e.contains(want), "{want}\n got {e}");
        }
        let e = refusal(b"<dataValueSet xmlns=\"http://dhis2.org/schema/dxf/2.0\"/>");
        assert!(e.contains("根元素是 <dataValueSet>，不是 <adx>"), "{e}");
        let e = refusal(b"");
        assert!(e.contains("没有 <adx> 根元素"), "{e}");
        let e = refusal(&[0xff, 0xfe]);
        assert!(e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn reads_weeks_and_days() {
        let xml = |period: &str| {
            format!("<adx><group orgUnit=\"440300\" period=\"{period}\"><dataValue dataElement=\"visits\" value=\"3\"/></group></adx>")
        };
        for (period, want) in [
            ("2024-01-29/P7D", "2024W05"),
            ("2024-02-03/P1D", "20240203"),
        ] {
            let read = read_adx(
                xml(period).as_bytes(),
                &Mapping::new(),
                &checks(),
                Options::default(),
            )
            .unwrap();
            assert_eq!(read.values[0].period.to_string(), want);
        }
        let e = refusal(xml("2024-01-30/P7D").as_bytes());
        assert!(e.contains("应从星期一开始"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = read_adx(s.as_bytes(), &Mapping::new(), &checks(), Options::default());
            let wrapped = format!("<adx><group orgUnit=\"440300\" period=\"2024-01-01/P1Y\">{s}</group></adx>");
            let _ = read_adx(wrapped.as_bytes(), &Mapping::new(), &checks(), Options::default());
        }
    }
}
