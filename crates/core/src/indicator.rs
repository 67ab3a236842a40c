use crate::error::CoreError;
use crate::plan::{Doubt, Span};
use crate::target::Target;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
    Qualitative,
}

/// 预期性 / 约束性 / 倡导性.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    Expected,
    Binding,
    Advocacy,
}

/// How raw values combine up the area and period trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Aggregation {
    #[default]
    Sum,
    Average,
    /// Average weighted by the denominator (i.e. Σnum/Σden for a formula indicator).
    Weighted,
    None,
}

/// Where an indicator is judged (spec §2): only in the plan's own area, or there and in
/// every sub-area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AppliesTo {
    PlanArea,
    AllLevels,
}

impl AppliesTo {
    pub fn key(self) -> &'static str {
        match self {
            AppliesTo::PlanArea => "plan_area",
            AppliesTo::AllLevels => "all_levels",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            AppliesTo::PlanArea => "仅规划所在地区",
            AppliesTo::AllLevels => "各级地区",
        }
    }

    /// The default of spec §2: rates, shares, ratios and per-capita figures apply at every
    /// level; counts, totals, money and targets naming the whole area (全区/全市/全县) only to
    /// the plan's own area.
    pub fn default_for(name: &str, unit: Option<&str>, target_texts: &[&str]) -> AppliesTo {
        let unit = unit.map(str::trim).unwrap_or("");
        const RATE_UNITS: [&str; 6] = ["%", "％", "‰", "岁", "1/10万", "/10万"];
        // 每 (每千人口, 每家机构服务人口) makes a ratio whatever the unit.
        const RATE_WORDS: [&str; 7] = ["每", "人均", "率", "比例", "比重", "占比", "千人"];
        let per = unit.contains('/') || unit.contains('每');
        if RATE_UNITS.iter().any(|u| unit.contains(u))
            || per
            || RATE_WORDS.iter().any(|w| name.contains(w))
        {
            return AppliesTo::AllLevels;
        }
        const COUNT_UNITS: [&str; 14] = [
            "个", "家", "所", "人", "万人", "万元", "亿元", "元", "张", "名", "支", "座", "处",
            "项",
        ];
        const WHOLE_AREA: [&str; 4] = ["全区", "全市", "全县", "全省"];
        if COUNT_UNITS.contains(&unit)
            || target_texts
                .iter()
                .chain(std::iter::once(&name))
                .any(|t| WHOLE_AREA.iter().any(|w| t.contains(w)))
        {
            return AppliesTo::PlanArea;
        }
        AppliesTo::AllLevels
    }
}

/// DHIS2-style indicator formula: `factor × Σnumerator / Σdenominator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Formula {
    pub numerator: String,
    pub denominator: Option<String>,
    pub factor: f64,
}

impl Formula {
    pub fn new(
        numerator: &str,
        denominator: Option<&str>,
        factor: f64,
    ) -> Result<Formula, CoreError> {
        if numerator.trim().is_empty() {
            return Err(CoreError::invalid(
                "formula.numerator",
                "empty data element",
            ));
        }
        if denominator.is_some_and(|d| d.trim().is_empty()) {
            return Err(CoreError::invalid(
                "formula.denominator",
                "empty data element",
            ));
        }
        if !factor.is_finite() || factor == 0.0 {
            return Err(CoreError::invalid(
                "formula.factor",
                format!("{factor} is not a usable factor"),
            ));
        }
        Ok(Formula {
            numerator: numerator.trim().to_string(),
            denominator: denominator.map(|d| d.trim().to_string()),
            factor,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub value: Option<f64>,
    pub year: Option<i32>,
    #[serde(default)]
    pub text: String,
}

/// Where an indicator came from: a row of the plan's indicator table, or targets written in
/// the prose (`到2025年，全区居民健康素养水平不低于…`). A document without the field is a table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    #[default]
    Table,
    Statement,
}

/// A monitored indicator of a plan, as in the interchange JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
    pub direction: Direction,
    #[serde(default)]
    pub property: Option<Property>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub baseline: Option<Baseline>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub references: BTreeMap<String, Target>,
    #[serde(default)]
    pub span: Span,
    #[serde(default)]
    pub source: Source,
    /// Stable code for data entry and APIs; optional in documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The data element whose values measure this indicator. Elements are shared across
    /// plans, so a city's and its districts' plans compare and roll up through one element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<Formula>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<Aggregation>,
    /// Lead department (牵头单位) of the indicator, from the table's lead column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    /// Where the indicator is judged; `None` takes the default from its unit and wording
    /// (`Indicator::applies_to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// Reasons to check this indicator; empty when the importer was sure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doubts: Vec<Doubt>,
    /// Fields this version does not know, kept so a load/export round trip loses nothing.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An indicator or element name for matching: no spaces, ASCII brackets and commas,
/// lower case (`健康素养水平（%）` and `健康素养水平 (%)` match).
pub fn normalise_name(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '，' => ',',
            '、' => ',',
            '％' => '%',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key under which a plan's indicator finds the data element that measures it: the
/// normalised name and unit.
pub fn element_match_key(name: &str, unit: Option<&str>) -> String {
    format!(
        "{}|{}",
        normalise_name(name),
        normalise_name(unit.unwrap_or(""))
    )
}

impl Indicator {
    /// An indicator with its name, direction and origin and nothing else yet (no unit,
    /// baseline, targets, links or doubts): every door that makes one (the table reader, the
    /// promotion of prose targets, the review page's "add") starts here and fills in the
    /// rest, so a new field gets its default in one place. Check it with [`Indicator::validate`].
    pub fn new(name: impl Into<String>, direction: Direction, source: Source) -> Indicator {
        Indicator {
            name: name.into(),
            unit: None,
            direction,
            property: None,
            domain: None,
            baseline: None,
            targets: Vec::new(),
            references: BTreeMap::new(),
            span: Span::UNKNOWN,
            source,
            code: None,
            element: None,
            formula: None,
            aggregation: None,
            lead: None,
            applies_to: None,
            doubts: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Where the indicator is judged: as the planner set it, else the default of spec §2.
    pub fn applies_to(&self) -> AppliesTo {
        self.applies_to.unwrap_or_else(|| self.default_applies_to())
    }

    /// What `applies_to` is when the planner has not set it.
    pub fn default_applies_to(&self) -> AppliesTo {
        let texts: Vec<&str> = self.targets.iter().map(|t| t.text.as_str()).collect();
        AppliesTo::default_for(&self.name, self.unit.as_deref(), &texts)
    }

    /// The lead department (牵头单位) when the plan names one: the `lead` field, or an older
    /// document's `"lead"` kept among the unknown fields.
    pub fn lead_department(&self) -> Option<&str> {
        self.lead
            .as_deref()
            .or_else(|| self.extra.get("lead").and_then(|v| v.as_str()))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub fn validate(&self, at: &str) -> Result<(), CoreError> {
        if self.name.trim().is_empty() {
            return Err(CoreError::invalid(
                format!("{at}.name"),
                "empty indicator name",
            ));
        }
        if let Some(b) = &self.baseline {
            if b.value.is_some_and(|v| !v.is_finite()) {
                return Err(CoreError::invalid(
                    format!("{at}.baseline"),
                    "not a finite number",
                ));
            }
        }
        if self
            .element
            .as_deref()
            .is_some_and(|e| e.trim().is_empty() || e.chars().any(char::is_whitespace))
        {
            return Err(CoreError::invalid(
                format!("{at}.element"),
                "a data element code is non-empty and has no spaces",
            ));
        }
        if self.lead.as_ref().is_some_and(|l| l.trim().is_empty()) {
            return Err(CoreError::invalid(
                format!("{at}.lead"),
                "empty lead department",
            ));
        }
        if let Some(f) = &self.formula {
            Formula::new(&f.numerator, f.denominator.as_deref(), f.factor)
                .map_err(|e| CoreError::invalid(format!("{at}.formula"), e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod applies_to_tests {
    use super::AppliesTo::{self, AllLevels, PlanArea};

    #[test]
    fn defaults_follow_unit_and_wording() {
        let cases: [(&str, Option<&str>, &[&str], AppliesTo); 10] = [
            ("婴儿死亡率", Some("‰"), &[], AllLevels),
            ("居民健康素养水平", Some("%"), &[], AllLevels),
            ("每千常住人口执业（助理）医师数", Some("人"), &[], AllLevels),
            ("人均预期寿命", Some("岁"), &[], AllLevels),
            ("甲类传染病发病率", Some("1/10万"), &[], AllLevels),
            ("社区健康服务中心数量", Some("家"), &[], PlanArea),
            ("每家社区健康服务机构服务人口", Some("万人"), &[], AllLevels),
            ("卫生健康投入", Some("亿元"), &[], PlanArea),
            ("健康促进医院", None, &["全区≥18家"], PlanArea),
            ("健康知识知晓", None, &[], AllLevels),
        ];
        for (name, unit, texts, want) in cases {
            assert_eq!(AppliesTo::default_for(name, unit, texts), want, "{name}");
        }
    }

    #[test]
    fn a_planners_choice_wins_and_round_trips() {
        let mut ind: super::Indicator = serde_json::from_str(
            r#"{"name":"医院数","unit":"家","direction":"higher","applies_to":"all_levels"}"#,
        )
        .unwrap();
        assert_eq!(ind.applies_to(), AllLevels);
        let back = serde_json::to_value(&ind).unwrap();
        assert_eq!(back["applies_to"], "all_levels");
        ind.applies_to = None;
        assert_eq!(ind.applies_to(), PlanArea);
        assert!(serde_json::to_value(&ind)
            .unwrap()
            .get("applies_to")
            .is_none());
    }
}
