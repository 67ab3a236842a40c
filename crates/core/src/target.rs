use crate::error::CoreError;
use crate::period::{MAX_YEAR, MIN_YEAR};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Comparator of a threshold target, as written in the interchange JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "=")]
    Eq,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
            Cmp::Le => "<=",
            Cmp::Lt => "<",
            Cmp::Eq => "=",
        }
    }

    /// Whether `y cmp v` holds. Equality uses a relative tolerance so 0.1+0.2 meets 0.3.
    pub fn holds(self, y: f64, v: f64) -> bool {
        let eq = (y - v).abs() <= 1e-9 * v.abs().max(1.0);
        match self {
            Cmp::Ge => y > v || eq,
            Cmp::Gt => y > v && !eq,
            Cmp::Le => y < v || eq,
            Cmp::Lt => y < v && !eq,
            Cmp::Eq => eq,
        }
    }

    pub fn is_upper_bound(self) -> bool {
        matches!(self, Cmp::Le | Cmp::Lt)
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Threshold,
    Range,
    RelativeChange,
    ReferenceRelative,
    Milestone,
    Qualitative,
}

/// What a relative target is measured against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelativeTo {
    Baseline,
    Year(i32),
    /// A named reference series: `national_average`, `province_average`, …
    Series(String),
}

impl Serialize for RelativeTo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RelativeTo::Baseline => s.serialize_str("baseline"),
            RelativeTo::Year(y) => s.serialize_i32(*y),
            RelativeTo::Series(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for RelativeTo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Year(i64),
            Name(String),
        }
        match Repr::deserialize(d)? {
            Repr::Year(y) if (MIN_YEAR as i64..=MAX_YEAR as i64).contains(&y) => {
                Ok(RelativeTo::Year(y as i32))
            }
            Repr::Year(y) => Err(serde::de::Error::custom(format!(
                "relative_to year {y} is outside {MIN_YEAR}–{MAX_YEAR}"
            ))),
            Repr::Name(n) if n == "baseline" => Ok(RelativeTo::Baseline),
            Repr::Name(n) => match n.parse::<i32>() {
                Ok(y) if (MIN_YEAR..=MAX_YEAR).contains(&y) => Ok(RelativeTo::Year(y)),
                _ if n.trim().is_empty() => {
                    Err(serde::de::Error::custom("relative_to is an empty string"))
                }
                _ => Ok(RelativeTo::Series(n)),
            },
        }
    }
}

/// The unit string meaning "an additive change in percentage points".
pub const PERCENTAGE_POINTS: &str = "个百分点";

/// A target for one year. Built through [`Target::new`] or deserialisation, both of which
/// check that the fields fit the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TargetRepr")]
pub struct Target {
    pub year: i32,
    pub kind: TargetKind,
    pub cmp: Option<Cmp>,
    pub value: Option<f64>,
    pub value_hi: Option<f64>,
    pub unit: Option<String>,
    pub relative_to: Option<RelativeTo>,
    pub text: String,
}

#[derive(Deserialize)]
struct TargetRepr {
    year: i32,
    kind: TargetKind,
    #[serde(default)]
    cmp: Option<Cmp>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    value_hi: Option<f64>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    relative_to: Option<RelativeTo>,
    #[serde(default)]
    text: Option<String>,
}

impl TryFrom<TargetRepr> for Target {
    type Error = CoreError;
    fn try_from(r: TargetRepr) -> Result<Self, Self::Error> {
        Target::new(Target {
            year: r.year,
            kind: r.kind,
            cmp: r.cmp,
            value: r.value,
            value_hi: r.value_hi,
            unit: r.unit,
            relative_to: r.relative_to,
            text: r.text.unwrap_or_default(),
        })
    }
}

impl Target {
    /// Validates that the fields fit the kind; returns the target unchanged when they do.
    pub fn new(t: Target) -> Result<Target, CoreError> {
        let bad = |reason: String| {
            Err(CoreError::invalid(
                format!("target {} {:?}", t.year, t.text),
                reason,
            ))
        };
        if !(MIN_YEAR..=MAX_YEAR).contains(&t.year) {
            return bad(format!("year {} is outside {MIN_YEAR}–{MAX_YEAR}", t.year));
        }
        for v in [t.value, t.value_hi].into_iter().flatten() {
            if !v.is_finite() {
                return bad("values must be finite numbers".into());
            }
        }
        match t.kind {
            TargetKind::Threshold => {
                if t.cmp.is_none() || t.value.is_none() {
                    return bad("a threshold needs `cmp` and `value`".into());
                }
            }
            TargetKind::Range => match (t.value, t.value_hi) {
                (Some(lo), Some(hi)) if lo <= hi => {}
                (Some(lo), Some(hi)) => return bad(format!("range low {lo} is above high {hi}")),
                _ => return bad("a range needs `value` and `value_hi`".into()),
            },
            TargetKind::RelativeChange => {
                if t.value.is_none() {
                    return bad("a relative change needs `value` (signed percent or points)".into());
                }
            }
            TargetKind::ReferenceRelative => {
                if t.value.is_none() || t.relative_to.is_none() {
                    return bad(
                        "a reference-relative target needs `value` and `relative_to`".into(),
                    );
                }
            }
            TargetKind::Milestone | TargetKind::Qualitative => {}
        }
        Ok(t)
    }

    pub fn threshold(
        year: i32,
        cmp: Cmp,
        value: f64,
        unit: Option<&str>,
        text: &str,
    ) -> Result<Target, CoreError> {
        Target::new(Target {
            year,
            kind: TargetKind::Threshold,
            cmp: Some(cmp),
            value: Some(value),
            value_hi: None,
            unit: unit.map(str::to_string),
            relative_to: None,
            text: text.to_string(),
        })
    }

    pub fn in_percentage_points(&self) -> bool {
        self.unit.as_deref() == Some(PERCENTAGE_POINTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec_shapes() {
        let t: Target = serde_json::from_str(r#"{"year":2030,"kind":"threshold","cmp":"<=","value":4,"value_hi":null,"unit":"‰","relative_to":null,"text":"4"}"#).unwrap();
        assert_eq!(t.cmp, Some(Cmp::Le));
        let t: Target = serde_json::from_str(r#"{"year":2030,"kind":"relative_change","value":-20,"relative_to":2015,"text":"比2015年降低20%"}"#).unwrap();
        assert_eq!(t.relative_to, Some(RelativeTo::Year(2015)));
        let t: Target = serde_json::from_str(r#"{"year":2030,"kind":"reference_relative","cmp":">=","value":5,"unit":"个百分点","relative_to":"national_average","text":""}"#).unwrap();
        assert!(t.in_percentage_points());
        assert_eq!(
            serde_json::to_value(&t).unwrap()["relative_to"],
            "national_average"
        );
    }

    #[test]
    fn refuses_inconsistent_targets() {
        for bad in [
            r#"{"year":2030,"kind":"threshold","value":4}"#,
            r#"{"year":2030,"kind":"range","value":8,"value_hi":5}"#,
            r#"{"year":2030,"kind":"relative_change"}"#,
            r#"{"year":3030,"kind":"milestone"}"#,
            r#"{"year":2030,"kind":"reference_relative","value":5}"#,
        ] {
            assert!(serde_json::from_str::<Target>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparators_hold() {
        assert!(Cmp::Ge.holds(30.0, 30.0));
        assert!(!Cmp::Gt.holds(30.0, 30.0));
        assert!(Cmp::Le.holds(0.1 + 0.2, 0.3));
        assert!(Cmp::Lt.holds(2.9, 3.0));
    }
}
